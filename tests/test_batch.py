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


@pytest.mark.parametrize("count, taken", [(2, 1), (60, 30)])
def test_a_namespace_that_exists_midway_undoes_everything_and_spares_it(prefix, ns, count,
                                                                         taken):
    """Pods are plumbed while later ones are still being made (another
    thread): a name taken midway fails the batch, and all it made goes, the
    links it placed in the host included; nothing is sent to the namespace
    that was there already, even when the making ended (failed) before the
    plumbing began (a few pods, plumbed from the caller's thread)."""
    host = ns()
    run_ip("netns", "add", f"{prefix}p{taken}")  # someone else's
    with pytest.raises(FileExistsError) as info:
        with Batch() as batch:
            describe_pods(batch, prefix, host, count)
    assert f"{prefix}p{taken}" in str(info.value)
    assert pods_of(prefix) == [f"{prefix}p{taken}"]
    assert host_links(host) == ["lo"]
    assert run_ip("-n", f"{prefix}p{taken}", "-j", "link", "show").stdout.count("ifname") == 1


def test_failure_in_a_later_round_undoes_links_in_existing_namespaces(prefix, ns):
    host = ns()
    with pytest.raises(OSError):
        with Batch() as batch:
            describe_pods(batch, prefix, host, 5)
            # fails in the last round, after every veth exists: no such master
            batch.link_set("vh0", master="nosuchbridge", netns=host)
    assert pods_of(prefix) == []
    assert host_links(host) == ["lo"]


@pytest.mark.parametrize("fail_at", [1, 2, 3])  # the dump, before and after the C loop
def test_interrupt_at_any_exchange_undoes_everything(prefix, ns, monkeypatch, fail_at):
    host = ns()
    real = RouteSocket.exchange
    calls = {"n": 0}

    def interrupted(self, requests, *readers):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        return real(self, requests, *readers)

    # A dump is an exchange too, read in one pass when it can be (_dump_once).
    real_dump = RouteSocket._dump_once

    def interrupted_dump(self, request, reader):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        return real_dump(self, request, reader)

    real_many = fanout.send_chunks

    def interrupted_many(chunks, count, **options):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        outcomes = real_many(chunks, count, **options)
        calls["n"] += 1  # as if after the C loop, before its answers are read
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        return outcomes

    monkeypatch.setattr(RouteSocket, "exchange", interrupted)
    monkeypatch.setattr(RouteSocket, "_dump_once", interrupted_dump)
    monkeypatch.setattr(fanout, "send_chunks", interrupted_many)
    home = os.stat("/proc/thread-self/ns/net").st_ino
    with pytest.raises(KeyboardInterrupt):
        with Batch() as batch:
            describe_pods(batch, prefix, host, 6)
    monkeypatch.setattr(RouteSocket, "exchange", real)
    monkeypatch.setattr(RouteSocket, "_dump_once", real_dump)
    monkeypatch.setattr(fanout, "send_chunks", real_many)
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
def test_many_requests_in_one_fresh_namespace(prefix, ns, count):
    """40: several datagrams of one C loop; 300: a socket of its own. Either
    way the far end of its veth in the host comes up right after (Plan.after)."""
    host = ns()
    pod = f"{prefix}p0"
    with Batch() as batch:
        batch.netns_add(pod)
        batch.bridge("br0", netns=pod)
        batch.veth("vh0", "eth0", netns=host, peer_netns=pod)
        for k in range(count):
            batch.addr_add("br0", f"10.8.{k // 250}.{k % 250 + 1}/16", netns=pod)
    shown = json.loads(run_ip("-n", pod, "-j", "-4", "addr", "show", "br0").stdout)
    assert len(shown[0]["addr_info"]) == count
    host_vh = {e["ifname"]: e for e in json.loads(run_ip("-n", host, "-j", "link").stdout)}
    assert "UP" in host_vh["vh0"]["flags"]


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
    in round FRESH, in its namespace's turn after the one that made it: one
    C loop (fanout.request_many) for everything."""
    names = [f"{prefix}l{i}" for i in range(6)]
    calls = []
    real = fanout.send_chunks

    def counted(chunks, count, *args, **kwargs):
        calls.append(count)
        return real(chunks, count, *args, **kwargs)

    monkeypatch.setattr(fanout, "send_chunks", counted)
    with Batch() as batch:
        for name in names:
            batch.netns_add(name)
        for i, (a, b) in enumerate(zip(names, names[1:])):
            batch.veth("east", "west", netns=a, peer_netns=b)
            batch.addr_add("east", f"10.8.{i}.1/24", netns=a)
            batch.addr_add("west", f"10.8.{i}.2/24", netns=b)
    assert calls == [6]
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


# -- macvlan and vxlan: made in their parent's namespace, placed in another -----------

def detailed(where: str, dev: str) -> dict:
    return json.loads(run_ip("-n", where, "-d", "-j", "link", "show", dev).stdout)[0]


def parent_in(host: str) -> None:
    """A veth inside ``host``, both ends up: ``par0`` is a parent for macvlans."""
    run_ip("-n", host, "link", "add", "par0", "type", "veth", "peer", "name", "par1")
    run_ip("-n", host, "link", "set", "par0", "up")
    run_ip("-n", host, "link", "set", "par1", "up")


def test_macvlans_and_a_vxlan_are_placed_in_fresh_namespaces_and_carry_traffic(prefix, ns):
    from rawns.ping import ping

    host, remote = ns(), ns()
    parent_in(host)
    # the underlay: host 192.0.2.1 -- 192.0.2.2 remote, whose vxlan is made by ip
    run_ip("-n", host, "link", "add", "up0", "type", "veth", "peer", "name", "up1",
           "netns", remote)
    run_ip("-n", host, "addr", "add", "192.0.2.1/24", "dev", "up0")
    run_ip("-n", host, "link", "set", "up0", "up")
    run_ip("-n", remote, "addr", "add", "192.0.2.2/24", "dev", "up1")
    run_ip("-n", remote, "link", "set", "up1", "up")
    run_ip("-n", remote, "link", "add", "vx0", "type", "vxlan", "id", "42", "remote",
           "192.0.2.1", "dstport", "14789")
    run_ip("-n", remote, "addr", "add", "10.9.0.2/24", "dev", "vx0")
    run_ip("-n", remote, "link", "set", "vx0", "up")
    a, b = f"{prefix}ma", f"{prefix}mb"
    with Batch() as batch:
        for pod in (a, b):
            batch.netns_add(pod)
            batch.link_set("lo", up=True, netns=pod)
        batch.macvlan("eth1", "par0", netns=a, parent_netns=host,
                      address="02:00:00:00:0c:01")
        batch.macvlan("eth1", "par0", netns=b, parent_netns=host, mode="vepa", mtu=1400)
        batch.addr_add("eth1", "10.8.0.1/24", netns=a)
        batch.addr_add("eth1", "10.8.0.2/24", netns=b)
        batch.vxlan("vx1", 42, netns=a, parent_netns=host, remote="192.0.2.2", port=14789,
                    dev="up0", address="02:00:00:00:0c:02")
        batch.addr_add("vx1", "10.9.0.1/24", netns=a)

    # ip's view: kinds, modes, MACs, MTU, the vxlan's id, remote, port and
    # lower link, each placed from the host (link_netnsid: the host as the pod names it)
    mv_a, mv_b, vx = detailed(a, "eth1"), detailed(b, "eth1"), detailed(a, "vx1")
    host_index = {e["ifname"]: e["ifindex"] for e in
                  json.loads(run_ip("-n", host, "-j", "link", "show").stdout)}
    assert mv_a["linkinfo"]["info_kind"] == "macvlan"
    assert mv_a["linkinfo"]["info_data"]["mode"] == "bridge"
    assert mv_b["linkinfo"]["info_data"]["mode"] == "vepa"
    assert mv_a["link_index"] == mv_b["link_index"] == host_index["par0"]
    assert "link_netnsid" in mv_a and "link_netnsid" in vx
    assert (mv_a["address"], mv_b["mtu"]) == ("02:00:00:00:0c:01", 1400)
    assert "UP" in mv_a["flags"] and "UP" in mv_b["flags"] and "UP" in vx["flags"]
    data = vx["linkinfo"]["info_data"]
    assert (vx["linkinfo"]["info_kind"], data["id"], data["remote"], data["port"]) == (
        "vxlan", 42, "192.0.2.2", 14789)
    # (ip names the vxlan's lower link by its index, resolved where it looks: in the pod)
    in_pod = {e["ifindex"]: e["ifname"] for e in
              json.loads(run_ip("-n", a, "-j", "link", "show").stdout)}
    assert data["link"] == in_pod.get(host_index["up0"], f"if{host_index['up0']}")
    assert vx["address"] == "02:00:00:00:0c:02"
    # nothing of them is left in the host
    assert "eth1" not in host_index and "vx1" not in host_index
    # traffic: between two macvlans of one parent (bridge mode), and through the tunnel
    assert ping("10.8.0.2", netns=a, count=1, timeout=3)
    assert ping("10.9.0.2", netns=a, count=1, timeout=3)


def test_a_macvlan_placed_in_an_existing_namespace_is_undone_on_failure(prefix, ns):
    host, target = ns(), ns()
    parent_in(host)
    with pytest.raises(OSError):
        with Batch() as batch:
            batch.netns_add(f"{prefix}mp")
            batch.macvlan("mv0", "par0", netns=target, parent_netns=host)
            batch.vxlan("vx0", 7, netns=f"{prefix}mp", parent_netns=host, remote="192.0.2.9")
            batch.link_set("mv0", master="nosuchbridge", netns=target)  # fails last
    assert pods_of(prefix) == []
    assert host_links(target) == ["lo"]
    assert sorted(host_links(host)) == ["lo", "par0", "par1"]
    # the vxlan was deleted at once, not by the namespace's cleanup: its VNI is free
    run_ip("-n", host, "link", "add", "vx9", "type", "vxlan", "id", "7", "remote",
           "192.0.2.9", "dstport", "8472")


def test_a_missing_parent_fails_and_leaves_nothing(prefix, ns):
    host = ns()
    with pytest.raises(OSError) as info:
        with Batch() as batch:
            batch.netns_add(f"{prefix}mq")
            batch.macvlan("eth1", "nosuch", netns=f"{prefix}mq", parent_netns=host)
    assert "nosuch" in str(info.value)
    assert pods_of(prefix) == []


def test_a_parent_made_by_the_same_batch_in_an_existing_namespace_is_refused(prefix, ns):
    host = ns()
    batch = Batch()
    batch.netns_add(f"{prefix}mr")
    batch.bridge("br0", netns=host)
    batch.macvlan("eth1", "br0", netns=f"{prefix}mr", parent_netns=host)
    with pytest.raises(ValueError, match="made by the same batch"):
        batch.commit()
    assert pods_of(prefix) == [] and host_links(host) == ["lo"]


def test_macvlan_and_vxlan_input_is_checked_before_the_kernel():
    batch = Batch()
    for call in (lambda: batch.macvlan("eth1", "p", mode="nosuch"),
                 lambda: batch.macvlan("a" * 16, "p"),
                 lambda: batch.macvlan("eth1", "p", address="nonsense"),
                 lambda: batch.vxlan("vx", 1 << 24),
                 lambda: batch.vxlan("vx", 1, remote="239.1.1.1"),
                 lambda: batch.vxlan("vx", 1, remote="nowhere"),
                 lambda: batch.vxlan("vx", 1, port=0)):
        with pytest.raises(ValueError):
            call()
    assert batch.ops == ()


def test_progress_counts_namespaces_then_requests_to_their_totals(prefix, ns):
    host = ns()
    seen: list[tuple[str, int, int]] = []
    with Batch(progress=lambda *args: seen.append(args)) as batch:
        describe_pods(batch, prefix, host, 150)
    phases = [phase for phase, _, _ in seen]
    # Requests are made while later namespaces are still being made: the
    # phases may interleave, but each counts up, and requests finish last.
    assert phases[0] == "namespaces" and phases[-1] == "links"
    # + each far end up, and each near end up once it is (Plan.then)
    for phase, total in [("namespaces", 150), ("links", 150 * 6)]:
        counts = [(done, of) for p, done, of in seen if p == phase]
        assert counts[0] == (0, total) and counts[-1] == (total, total)
        assert [done for done, _ in counts] == sorted(done for done, _ in counts)
        assert len(counts) > 2  # within the phase, not only at its ends
