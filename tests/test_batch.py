"""rawns.Batch: bulk plumbing against the kernel, all or nothing."""

from __future__ import annotations

import json
import os

import pytest

from rawns import Handle, fanout, netns
from rawns.batch import Batch
from rawns.nlsock import RouteSocket
from conftest import run_ip


def pods_of(prefix: str) -> list[str]:
    return [n for n in netns.list() if n.startswith(prefix + "p")]


def describe_pods(batch: Batch, prefix: str, host: str, count: int) -> None:
    for i in range(count):
        pod = f"{prefix}p{i}"
        batch.netns_add(pod)
        batch.veth(f"vh{i}", "eth0", netns=host, peer_netns=pod)
        batch.addr_add("eth0", f"10.7.{i // 250}.{i % 250 + 1}/16", netns=pod)
        batch.link_set("lo", up=True, netns=pod)
        batch.route_add("default", gateway="10.7.255.254", netns=pod)


def host_links(host: str) -> list[str]:
    out = json.loads(run_ip("-n", host, "-j", "link", "show").stdout)
    return [entry["ifname"] for entry in out]


def test_pods_are_wired_as_described(prefix, ns):
    host = ns()
    with Batch() as batch:
        describe_pods(batch, prefix, host, 20)
    assert sorted(pods_of(prefix)) == sorted(f"{prefix}p{i}" for i in range(20))
    assert host_links(host) == ["lo"] + [f"vh{i}" for i in range(20)]
    for i in (0, 7, 19):
        pod = f"{prefix}p{i}"
        links = {e["ifname"]: e for e in json.loads(run_ip("-n", pod, "-j", "link").stdout)}
        assert set(links) == {"lo", "eth0"}
        assert "UP" in links["eth0"]["flags"] and "UP" in links["lo"]["flags"]
        addrs = json.loads(run_ip("-n", pod, "-j", "-4", "addr", "show", "eth0").stdout)
        assert addrs[0]["addr_info"][0]["local"] == f"10.7.0.{i + 1}"
        routes = json.loads(run_ip("-n", pod, "-j", "route", "show", "default").stdout)
        assert routes[0]["gateway"] == "10.7.255.254"
    host_vh = {e["ifname"]: e for e in json.loads(run_ip("-n", host, "-j", "link").stdout)}
    assert all("UP" in host_vh[f"vh{i}"]["flags"] for i in range(20))
    # the pods reach the host end: a real exchange from pod 3
    with Handle(host) as h:
        h.addr_add("vh3", "10.7.255.254/16")
    from rawns.ping import ping
    assert ping("10.7.255.254", netns=f"{prefix}p3", timeout=2)[0].rtt is not None


def test_veth_between_two_existing_namespaces_and_a_bridge(ns):
    a, b = ns(), ns()
    with Batch() as batch:
        batch.bridge("br0", netns=a)
        batch.veth("va", "vb", netns=a, peer_netns=b)
        batch.link_set("va", master="br0", netns=a)
        batch.addr_add("vb", "192.168.50.2/24", netns=b)
        batch.route_add("10.50.0.0/16", gateway="192.168.50.1", netns=b)
    with Handle(a) as ha, Handle(b) as hb:
        assert ha.link_get("va").master == ha.link_get("br0").index
        assert "UP" in hb.link_get("vb").flags
        assert [str(x.address) for x in hb.addr_list("vb", family=4)] == ["192.168.50.2/24"]
        assert [str(r.dst) for r in hb.route_list(family=4) if r.gateway] == ["10.50.0.0/16"]


def test_bad_input_is_refused_before_the_kernel_is_touched(prefix, ns):
    host = ns()
    batch = Batch()
    batch.netns_add(prefix + "p0")
    with pytest.raises(ValueError):
        batch.veth("x" * 16, "eth0", netns=host, peer_netns=prefix + "p0")
    with pytest.raises(ValueError):
        batch.addr_add("eth0", "10.0.0.300/24", netns=prefix + "p0")
    with pytest.raises(ValueError):
        batch.netns_add("a/b")
    assert pods_of(prefix) == []


def test_failure_midway_undoes_everything(prefix, ns):
    host = ns()
    run_ip("-n", host, "link", "add", "vh13", "type", "bridge")  # name taken on purpose
    with pytest.raises(FileExistsError) as info:
        with Batch() as batch:
            describe_pods(batch, prefix, host, 20)
    assert "vh13" in str(info.value) or "eth0" in str(info.value)
    assert pods_of(prefix) == []
    assert host_links(host) == ["lo", "vh13"]


def test_failure_in_a_later_round_undoes_links_in_existing_namespaces(prefix, ns):
    host = ns()
    with pytest.raises(OSError):
        with Batch() as batch:
            describe_pods(batch, prefix, host, 5)
            # fails in the last round, after every veth exists: no such master
            batch.link_set("vh0", master="nosuchbridge", netns=host)
    assert pods_of(prefix) == []
    assert host_links(host) == ["lo"]


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_interrupt_at_any_exchange_undoes_everything(prefix, ns, monkeypatch, fail_at):
    host = ns()
    real = RouteSocket.exchange
    calls = {"n": 0}

    def interrupted(self, requests, *readers):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        return real(self, requests, *readers)

    real_many = fanout.request_many

    def interrupted_many(paths, requests, **options):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        outcomes = real_many(paths, requests, **options)
        calls["n"] += 1  # as if after the C loop, before its answers are read
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        return outcomes

    monkeypatch.setattr(RouteSocket, "exchange", interrupted)
    monkeypatch.setattr(fanout, "request_many", interrupted_many)
    home = os.stat("/proc/thread-self/ns/net").st_ino
    with pytest.raises(KeyboardInterrupt):
        with Batch() as batch:
            describe_pods(batch, prefix, host, 6)
    monkeypatch.setattr(RouteSocket, "exchange", real)
    monkeypatch.setattr(fanout, "request_many", real_many)
    assert pods_of(prefix) == []
    assert host_links(host) == ["lo"]
    assert os.stat("/proc/thread-self/ns/net").st_ino == home


def test_nothing_is_made_when_the_block_raises(prefix, ns):
    host = ns()
    with pytest.raises(RuntimeError):
        with Batch() as batch:
            describe_pods(batch, prefix, host, 3)
            raise RuntimeError("the caller changed its mind")
    assert pods_of(prefix) == []


def test_a_batch_commits_once(ns):
    batch = Batch()
    batch.commit()
    with pytest.raises(RuntimeError):
        batch.commit()


def test_fds_stay_flat(prefix, ns):
    host = ns()
    before = len(os.listdir("/proc/self/fd"))
    for round_ in range(3):
        with Batch() as batch:
            for i in range(10):
                pod = f"{prefix}p{round_}x{i}"
                batch.netns_add(pod)
                batch.veth(f"h{round_}x{i}", "eth0", netns=host, peer_netns=pod)
        netns.delete_many([f"{prefix}p{round_}x{i}" for i in range(10)])
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("count", [40, 300])
def test_many_requests_in_one_fresh_namespace(prefix, count):
    """40: several datagrams of one C loop; 300: a socket of its own."""
    pod = f"{prefix}p0"
    with Batch() as batch:
        batch.netns_add(pod)
        batch.bridge("br0", netns=pod)
        for k in range(count):
            batch.addr_add("br0", f"10.8.{k // 250}.{k % 250 + 1}/16", netns=pod)
    shown = json.loads(run_ip("-n", pod, "-j", "-4", "addr", "show", "br0").stdout)
    assert len(shown[0]["addr_info"]) == count


def test_a_refusal_inside_a_fresh_namespace_carries_the_kernels_text(prefix, ns):
    host = ns()
    with pytest.raises(OSError) as info:
        with Batch() as batch:
            describe_pods(batch, prefix, host, 3)
            batch.route_add("10.9.0.0/24", gateway="192.0.2.1", netns=f"{prefix}p1")
    assert f"{prefix}p1" in str(info.value) and "kernel:" in str(info.value)
    assert pods_of(prefix) == []
    assert host_links(host) == ["lo"]


def test_request_many_checks_every_answer(prefix, ns):
    from rawns.netlink import requests

    names = [ns(), ns()]
    paths = [os.fsencode(netns.path_of(n)) for n in names]
    asked = [[requests.bridge_add("br0"), requests.bridge_add("br0")],
             [requests.link_set(ifname="lo", up=True)]]
    first, second = fanout.request_many(paths, asked)
    assert first[0].error is None and isinstance(first[1].error, FileExistsError)
    assert second[0].error is None
    with pytest.raises(ValueError):
        fanout.request_many(paths[:1], [[requests.link_dump()]])


def test_a_veth_between_two_fresh_namespaces_is_addressed_on_its_far_end(prefix):
    """The far end is made by the near namespace's requests, whichever of the
    two namespaces is written to first: what names it waits for them."""
    a, b = f"{prefix}pa", f"{prefix}pb"
    with Batch() as batch:
        batch.netns_add(b)
        batch.netns_add(a)
        batch.bridge("brb", netns=b)
        batch.bridge("bra", netns=a)
        batch.veth("va", "vb", netns=a, peer_netns=b)
        batch.addr_add("vb", "10.5.0.2/24", netns=b)
        batch.link_set("vb", master="brb", netns=b)
    shown = json.loads(run_ip("-n", b, "-j", "addr", "show", "vb").stdout)
    assert shown[0]["addr_info"][0]["local"] == "10.5.0.2"
    assert shown[0]["master"] == "brb"


def test_veth_ends_get_their_mtu_and_mac_addresses(prefix, ns):
    """Both orders: made from the fresh side (swapped) and between two fresh ones."""
    host = ns()
    pod, other = f"{prefix}pm", f"{prefix}po"
    with Batch() as batch:
        batch.netns_add(pod)
        batch.netns_add(other)
        batch.veth("vm", "eth0", netns=host, peer_netns=pod, mtu=9000,
                   address="02:00:00:00:0a:01", peer_address="02:00:00:00:0a:02")
        batch.veth("e1", "e2", netns=pod, peer_netns=other,
                   address="02:00:00:00:0b:01", peer_address="02:00:00:00:0b:02")

    def shown(where: str, dev: str) -> dict:
        return json.loads(run_ip("-n", where, "-j", "link", "show", dev).stdout)[0]

    assert (shown(host, "vm")["address"], shown(host, "vm")["mtu"]) == ("02:00:00:00:0a:01", 9000)
    assert (shown(pod, "eth0")["address"], shown(pod, "eth0")["mtu"]) == ("02:00:00:00:0a:02", 9000)
    assert shown(pod, "e1")["address"] == "02:00:00:00:0b:01"
    assert shown(other, "e2")["address"] == "02:00:00:00:0b:02"


def test_far_ends_in_many_fresh_namespaces_are_set_by_one_loop(prefix, monkeypatch):
    """A line of fresh namespaces: each far end is brought up and addressed
    in round REST, all of them by one C loop (fanout.request_many)."""
    names = [f"{prefix}l{i}" for i in range(6)]
    calls = []
    real = fanout.request_many

    def counted(paths, *args, **kwargs):
        calls.append(len(paths))
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(fanout, "request_many", counted)
    with Batch() as batch:
        for name in names:
            batch.netns_add(name)
        for i, (a, b) in enumerate(zip(names, names[1:])):
            batch.veth("east", "west", netns=a, peer_netns=b)
            batch.addr_add("east", f"10.8.{i}.1/24", netns=a)
            batch.addr_add("west", f"10.8.{i}.2/24", netns=b)
    # round FRESH (the last namespace has nothing to send then), then round
    # REST: the far ends, each in its namespace
    assert calls == [5, 5]
    for i, name in enumerate(names[1:]):
        west = json.loads(run_ip("-n", name, "-j", "addr", "show", "west").stdout)[0]
        assert "UP" in west["flags"]
        assert [a["local"] for a in west["addr_info"] if a["family"] == "inet"] == \
            [f"10.8.{i}.2"]


def test_a_failure_on_far_ends_of_fresh_namespaces_undoes_everything(prefix, ns):
    host = ns()
    names = [f"{prefix}f{i}" for i in range(3)]
    batch = Batch()
    for name in names:
        batch.netns_add(name)
    for a, b in zip(names, names[1:]):
        batch.veth("east", "west", netns=a, peer_netns=b)
        batch.addr_add("west", "10.9.0.2/24", netns=b)
    batch.addr_add("west", "10.9.0.2/24", netns=names[-1])  # twice: EEXIST in round REST
    batch.veth("vh", "eth9", netns=host, peer_netns=names[0])
    with pytest.raises(FileExistsError) as caught:
        batch.commit()
    assert names[-1] in str(caught.value)
    assert not [n for n in netns.list() if n.startswith(prefix + "f")]
    assert host_links(host) == ["lo"]
