"""rawns.Handle against the real kernel, cross-checked with ``ip -j`` both ways:
what rawns writes, ip reads; what ip writes, rawns reads."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time

import pytest

from rawns import Handle, netns
from rawns.errors import KernelError
from conftest import run_ip


def ip_json(ns: str, *args: str):
    return json.loads(run_ip("-n", ns, "-j", *args).stdout or "[]")


@pytest.fixture
def pair(ns):
    """Two fresh namespaces and a Handle in each."""
    a, b = ns(), ns()
    with Handle(a) as ha, Handle(b) as hb:
        yield a, b, ha, hb


def names_of(handle: Handle) -> dict[int, str]:
    return {link.index: link.name for link in handle.link_list()}


# --- the seed scenario ---------------------------------------------------------------

def test_seed_scenario_veth_addresses_exchange_and_neighbour(pair):
    a, b, ha, hb = pair
    ha.link_add_veth("veth0", "veth1", peer_netns=b)
    ha.addr_add("veth0", "192.168.10.1/24")
    hb.addr_add("veth1", "192.168.10.2/24")
    ha.link_set("veth0", up=True)
    hb.link_set("veth1", up=True)

    # a UDP exchange from inside a to b
    with netns.enter(b):
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with netns.enter(a):
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with server, client:
        server.bind(("192.168.10.2", 9999))
        server.settimeout(5)
        client.sendto(b"hello", ("192.168.10.2", 9999))
        data, source = server.recvfrom(100)
        assert data == b"hello" and source[0] == "192.168.10.1"

    peer_mac = hb.link_get("veth1").address
    neighbours = ha.neigh_list("veth0", family=4)
    assert [(str(n.dst), n.lladdr) for n in neighbours] == [("192.168.10.2", peer_mac)]
    assert neighbours[0].state & {"REACHABLE", "STALE", "DELAY", "PROBE"}
    # ip agrees
    assert {"dst": "192.168.10.2", "lladdr": peer_mac} == {
        k: v for k, v in ip_json(a, "-4", "neigh", "show", "dev", "veth0")[0].items()
        if k in ("dst", "lladdr")}


# --- links ------------------------------------------------------------------------

LINK_KEYS = ("ifindex", "link", "link_index", "ifname", "flags", "mtu", "qdisc", "master",
             "operstate", "linkmode", "group", "txqlen", "link_type", "address",
             "broadcast", "link_netnsid")


def assert_links_match_ip(ns: str, handle: Handle) -> None:
    # Carrier and operstate settle asynchronously (the kernel's linkwatch
    # work runs up to a second later): compare once the two reads agree.
    deadline = time.monotonic() + 3
    while True:
        names = names_of(handle)
        ours = [link.to_json(names) for link in handle.link_list()]
        theirs = [{k: v for k, v in entry.items() if k in LINK_KEYS}
                  for entry in ip_json(ns, "link", "show")]
        if ours == theirs or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert ours == theirs


def test_veth_peer_is_created_inside_the_other_namespace(pair):
    a, b, ha, hb = pair
    ha.link_add_veth("veth0", "eth0", peer_netns=b, mtu=1400)
    assert [entry["ifname"] for entry in ip_json(a, "link", "show")] == ["lo", "veth0"]
    assert [entry["ifname"] for entry in ip_json(b, "link", "show")] == ["lo", "eth0"]
    veth0, eth0 = ha.link_get("veth0"), hb.link_get("eth0")
    assert veth0.kind == eth0.kind == "veth"
    assert veth0.mtu == eth0.mtu == 1400
    assert veth0.link == eth0.index and eth0.link == veth0.index
    assert veth0.link_netnsid is not None
    assert ha.nsid_get(b) == veth0.link_netnsid
    assert_links_match_ip(a, ha)
    assert_links_match_ip(b, hb)


def test_rawns_links_are_read_identically_by_ip(pair):
    a, b, ha, hb = pair
    ha.link_add_veth("v0", "v1")  # both ends here
    ha.link_add_bridge("br0")
    ha.link_add_vxlan("vx0", 42, remote="192.0.2.9", port=4789)
    ha.link_set("v0", master="br0", mtu=1450, address="02:00:00:00:00:aa", up=True)
    ha.link_set("v1", name="v1new", up=True)
    assert_links_match_ip(a, ha)
    detail = ip_json(a, "-d", "link", "show", "vx0")[0]["linkinfo"]
    assert detail["info_kind"] == "vxlan"
    assert detail["info_data"]["id"] == 42 and detail["info_data"]["port"] == 4789
    assert detail["info_data"]["remote"] == "192.0.2.9"
    v0 = ip_json(a, "link", "show", "v0")[0]
    assert v0["master"] == "br0" and v0["address"] == "02:00:00:00:00:aa" and v0["mtu"] == 1450
    ha.link_set("v0", nomaster=True, up=False)
    assert "master" not in ip_json(a, "link", "show", "v0")[0]
    assert "UP" not in ha.link_get("v0").flags


def test_ip_links_are_read_identically_by_rawns(pair):
    a, b, ha, hb = pair
    run_ip("-n", a, "link", "add", "x0", "type", "veth", "peer", "name", "x1", "netns", b)
    run_ip("-n", a, "link", "add", "brx", "type", "bridge")
    run_ip("-n", a, "link", "set", "x0", "master", "brx", "up")
    run_ip("-n", a, "link", "add", "vxx", "type", "vxlan", "id", "7", "remote", "192.0.2.1",
           "dstport", "4789")
    assert_links_match_ip(a, ha)
    assert_links_match_ip(b, hb)
    assert ha.link_get("x0").kind == "veth" and ha.link_get("brx").kind == "bridge"
    assert [link.name for link in ha.link_list(master="brx")] == ["x0"]
    assert [link.name for link in ha.link_list(kind="vxlan")] == ["vxx"]


def test_link_move_to_another_namespace_and_delete(pair):
    a, b, ha, hb = pair
    ha.link_add_veth("m0", "m1")
    ha.link_set("m1", netns=b)
    assert "m1" in [link.name for link in hb.link_list()]
    assert "m1" not in [link.name for link in ha.link_list()]
    ha.link_delete("m0")  # the peer goes with it
    assert [link.name for link in hb.link_list()] == ["lo"]


# --- addresses ------------------------------------------------------------------------

ADDR_KEYS = ("family", "local", "address", "prefixlen", "broadcast", "scope", "label",
             "nodad", "valid_life_time", "preferred_life_time", "secondary")


def addr_info_of(ns: str, dev: str) -> list[dict]:
    [entry] = ip_json(ns, "addr", "show", "dev", dev)
    return [{k: v for k, v in a.items() if k in ADDR_KEYS} for a in entry["addr_info"]
            if a.get("scope") != "link"]


def test_addresses_rawns_writes_ip_reads(pair):
    a, _, ha, _ = pair
    ha.link_add_veth("v0", "v1")
    ha.addr_add("v0", "192.168.10.1/24", broadcast=True, label="v0:web")
    ha.addr_add("v0", "10.1.2.3/8", scope="host")
    ha.addr_add("v0", "fd00::1/64", nodad=True)
    ours = [{k: v for k, v in addr.to_json().items() if k in ADDR_KEYS}
            for addr in ha.addr_list("v0") if addr.scope != "link"]
    assert ours == addr_info_of(a, "v0")
    info = {entry["local"]: entry for entry in addr_info_of(a, "v0")}
    assert info["192.168.10.1"]["broadcast"] == "192.168.10.255"
    assert info["192.168.10.1"]["label"] == "v0:web"
    assert info["10.1.2.3"]["scope"] == "host"
    assert info["fd00::1"]["prefixlen"] == 64
    ha.addr_delete("v0", "10.1.2.3/8")
    assert "10.1.2.3" not in {entry["local"] for entry in addr_info_of(a, "v0")}


def test_addresses_ip_writes_rawns_reads(pair):
    a, _, ha, _ = pair
    run_ip("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    run_ip("-n", a, "addr", "add", "172.16.0.1/12", "brd", "+", "dev", "v0")
    run_ip("-n", a, "addr", "add", "172.16.0.2/12", "dev", "v0")  # secondary
    run_ip("-n", a, "addr", "add", "2001:db8::5/48", "dev", "v0", "nodad")
    ours = [{k: v for k, v in addr.to_json().items() if k in ADDR_KEYS}
            for addr in ha.addr_list("v0") if addr.scope != "link"]
    assert ours == addr_info_of(a, "v0")
    by_address = {str(addr.address): addr for addr in ha.addr_list("v0")}
    assert "secondary" in by_address["172.16.0.2/12"].flags
    assert by_address["2001:db8::5/48"].address == ipaddress.ip_interface("2001:db8::5/48")
    assert [str(x.address) for x in ha.addr_list(family=6) if x.scope == "global"] == [
        "2001:db8::5/48"]


# --- routes ---------------------------------------------------------------------------

def test_routes_rawns_writes_ip_reads(pair):
    a, _, ha, _ = pair
    ha.link_add_veth("v0", "v1")
    ha.addr_add("v0", "192.168.10.1/24")
    ha.addr_add("v0", "fd00::1/64", nodad=True)
    ha.link_set("v0", up=True)
    ha.link_set("v1", up=True)
    ha.route_add("10.1.0.0/16", gateway="192.168.10.2", metric=5)
    ha.route_add("10.2.0.0/16", dev="v0", table=100)
    ha.route_add("default", gateway="192.168.10.254", protocol="static")
    ha.route_add("fd01::/64", gateway="fd00::2", dev="v0")
    ha.route_add("10.3.0.0/16", dev="v0", scope="link", prefsrc="192.168.10.1", table=1000)
    names = names_of(ha)
    for args, kwargs in ((["route", "show"], {"family": 4}),
                         (["route", "show", "table", "100"], {"table": 100}),
                         (["route", "show", "table", "1000"], {"table": 1000}),
                         (["-6", "route", "show"], {"family": 6})):
        ours = [r.to_json(names, show_table=False) for r in ha.route_list(**kwargs)]
        assert ours == ip_json(a, *args), args
    every = [r.to_json(names) for r in ha.route_list(table="all")]
    assert every == ip_json(a, "route", "show", "table", "all")
    ha.route_replace("10.1.0.0/16", gateway="192.168.10.3", metric=5)
    assert [r["gateway"] for r in ip_json(a, "route", "show", "10.1.0.0/16")] == [
        "192.168.10.3"]
    ha.route_delete("10.1.0.0/16", metric=5)
    assert ip_json(a, "route", "show", "10.1.0.0/16") == []
    ha.route_delete("10.2.0.0/16", table=100)
    assert ip_json(a, "route", "show", "table", "100") == []


def test_routes_ip_writes_rawns_reads(pair):
    a, _, ha, _ = pair
    run_ip("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    run_ip("-n", a, "addr", "add", "192.168.20.1/24", "dev", "v0")
    run_ip("-n", a, "link", "set", "v0", "up")
    run_ip("-n", a, "link", "set", "v1", "up")
    run_ip("-n", a, "route", "add", "10.9.0.0/16", "via", "192.168.20.2", "table", "7")
    run_ip("-n", a, "route", "add", "blackhole", "10.10.0.0/16")
    names = names_of(ha)
    assert [r.to_json(names, show_table=False) for r in ha.route_list(table=7)] == ip_json(
        a, "route", "show", "table", "7")
    assert [r.to_json(names) for r in ha.route_list(family=4)] == ip_json(a, "route", "show")
    blackhole = [r for r in ha.route_list(family=4) if r.type == "blackhole"]
    assert blackhole[0].dst == ipaddress.ip_network("10.10.0.0/16")


# --- neighbours -----------------------------------------------------------------------

def test_a_fresh_namespace_has_an_empty_main_table_as_ip_shows_it(ns):
    # The kernel makes a namespace's main table with its first route, and answers a
    # dump of it before that with ENOENT; ip shows it empty, and so does rawns.
    name = ns()
    assert run_ip("-n", name, "route", "show").stdout == ""
    with Handle(name) as handle:
        assert handle.route_list() == []
        assert handle.route_list(family=6) == []
        with pytest.raises(FileNotFoundError):  # as `ip route show table 100`: exit 2
            handle.route_list(table=100, family=4)
    assert run_ip("-n", name, "route", "show", "table", "100", check=False).returncode == 2


def test_neighbours_both_ways(pair):
    a, _, ha, _ = pair
    ha.link_add_veth("v0", "v1")
    ha.neigh_add("v0", "192.168.10.9", "02:00:00:00:00:09")
    ha.neigh_add("v0", "fd00::9", "02:00:00:00:00:19")
    run_ip("-n", a, "neigh", "add", "192.168.10.8", "lladdr", "02:00:00:00:00:08",
           "dev", "v0", "nud", "permanent")
    names = names_of(ha)
    ours = sorted((n.to_json(names) for n in ha.neigh_list("v0")), key=lambda e: e["dst"])
    theirs = sorted(ip_json(a, "neigh", "show", "dev", "v0"), key=lambda e: e["dst"])
    for entry in theirs:
        entry.setdefault("dev", "v0")
    assert ours == theirs
    assert {n.state for n in ha.neigh_list("v0")} == {frozenset({"PERMANENT"})}
    ha.neigh_replace("v0", "192.168.10.9", "02:00:00:00:00:99")
    assert [e["lladdr"] for e in ip_json(a, "neigh", "show", "192.168.10.9")] == [
        "02:00:00:00:00:99"]
    ha.neigh_delete("v0", "192.168.10.9")
    assert ip_json(a, "neigh", "show", "192.168.10.9") == []


# --- nsids ------------------------------------------------------------------------------

def test_nsid_assignment_matches_ip(pair):
    a, b, ha, _ = pair
    assert ha.nsid_get(b) is None
    ha.nsid_set(b, 42)
    assert ha.nsid_get(b) == 42
    listed = ip_json(a, "netns", "list-id")
    assert [entry["nsid"] for entry in listed] == [42]
    assert ha.nsid_list() == [42]
    # a veth peer created afterwards reports that nsid, as ip shows it
    ha.link_add_veth("v0", "v1", peer_netns=b)
    assert ha.link_get("v0").link_netnsid == 42 == ip_json(a, "link", "show", "v0")[0][
        "link_netnsid"]


# --- events -----------------------------------------------------------------------------

def test_monitor_sees_link_and_address_changes(pair):
    a, _, ha, _ = pair
    seen, traced = [], []
    with ha.monitor(["link", "addr"]) as monitor:
        monitor.trace = lambda direction, data: traced.append((direction, data))
        ha.link_add_bridge("brm")
        ha.addr_add("brm", "10.5.5.5/24")
        ha.link_delete("brm")
        for event in monitor:
            seen.append((event.action, event.kind, getattr(event.obj, "name", None)
                         or str(getattr(event.obj, "address", ""))))
            if event.action == "del" and event.kind == "link":
                break
    assert ("new", "link", "brm") in seen
    assert traced and all(direction == "recv" for direction, _ in traced)
    assert ("new", "addr", "10.5.5.5/24") in seen
    assert seen[-1] == ("del", "link", "brm")


# --- errors -------------------------------------------------------------------------------

def test_missing_device_is_file_not_found_naming_it(pair):
    _, _, ha, _ = pair
    with pytest.raises(FileNotFoundError) as info:
        ha.addr_add("nosuchdev", "10.0.0.1/24")
    assert "nosuchdev" in str(info.value)
    with pytest.raises(FileNotFoundError):
        ha.link_delete("nosuchdev")
    with pytest.raises(FileNotFoundError):
        ha.link_get(9999)


def test_missing_namespace_is_file_not_found(prefix):
    with pytest.raises(FileNotFoundError) as info:
        Handle(prefix + "nope")
    assert f"netns '{prefix}nope'" in str(info.value)
    with Handle() as own:
        with pytest.raises(FileNotFoundError):
            own.link_add_veth("rnsx0", "rnsx1", peer_netns=prefix + "nope")
    assert "rnsx0" not in run_ip("-br", "link").stdout


def test_duplicate_name_carries_the_kernels_text(pair):
    _, _, ha, _ = pair
    ha.link_add_vxlan("vx0", 5, remote="192.0.2.1")
    with pytest.raises(FileExistsError) as info:
        ha.link_add_vxlan("vx1", 5, remote="192.0.2.1")
    assert isinstance(info.value, KernelError)
    assert info.value.extack and "VNI" in info.value.extack
    assert "link 'vx1'" in str(info.value) and "VNI" in str(info.value)
    ha.link_add_bridge("dup")
    with pytest.raises(FileExistsError) as info:
        ha.link_add_bridge("dup")
    assert "link 'dup'" in str(info.value)


@pytest.mark.parametrize("bad", ["300.1.1.1/24", "10.0.0.1/33", "nonsense", "10.0.0.1/24/1"])
def test_bad_address_is_a_value_error_before_the_kernel(pair, bad):
    _, _, ha, _ = pair
    ha.link_add_bridge("b0")
    with pytest.raises(ValueError):
        ha.addr_add("b0", bad)


def test_interface_name_too_long_is_a_value_error(pair):
    _, _, ha, _ = pair
    with pytest.raises(ValueError):
        ha.link_add_veth("x" * 16, "peer")
    with pytest.raises(ValueError):
        ha.link_add_bridge("")


def test_kernel_refusal_with_extack(pair):
    _, _, ha, _ = pair
    ha.link_add_veth("v0", "v1")
    with pytest.raises(KernelError) as info:
        ha.link_set("v0", mtu=10)  # below the minimum: the kernel explains
    assert info.value.extack
    assert "link 'v0'" in str(info.value)


# --- threads -------------------------------------------------------------------------------

def test_opening_handles_never_moves_a_callers_thread(ns):
    names = [ns() for _ in range(4)]
    home = os.stat("/proc/thread-self/ns/net").st_ino
    errors = []

    def worker(name):
        try:
            for _ in range(20):
                with Handle(name) as h:
                    assert [link.name for link in h.link_list()] == ["lo"]
                assert os.stat("/proc/thread-self/ns/net").st_ino == home
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert os.stat("/proc/thread-self/ns/net").st_ino == home


def test_one_handle_shared_by_threads(pair):
    _, _, ha, _ = pair
    errors = []

    def worker(i):
        try:
            ha.link_add_bridge(f"tb{i}")
            assert ha.link_get(f"tb{i}").kind == "bridge"
            ha.link_delete(f"tb{i}")
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [link.name for link in ha.link_list()] == ["lo"]


def _socket_without_large_buffer(name: str):
    from rawns.nlsock import RouteSocket

    fd = netns.open_fd(name)
    try:
        return RouteSocket(fd, large_buffer=False)
    finally:
        os.close(fd)


def test_thousands_of_requests_in_one_exchange_are_all_answered(ns):
    # More acks than one receive buffer holds at a time: the socket sends
    # them in slices, and every request still gets its own answer.
    from rawns.netlink import requests

    with _socket_without_large_buffer(ns()) as sock:
        batch = [requests.link_set(index=1, up=bool(i % 2)) for i in range(3000)]
        batch.append(requests.link_set(ifname="nosuchdev", up=True))
        outcomes = sock.exchange(batch)
    assert len(outcomes) == 3001
    assert all(o.error is None for o in outcomes[:3000])
    assert isinstance(outcomes[-1].error, FileNotFoundError)


def test_a_slice_of_big_failing_requests_is_answered_in_full(ns):
    # Each failure echoes its request; 128 echoes of ~860 bytes overflow the
    # default receive buffer, so a socket opened without the large one gets
    # it before such an exchange (the kernel drops what does not fit).
    import dataclasses

    from rawns.netlink import AttrList, make_attr, requests
    from rawns.netlink.constants import IFLA

    with _socket_without_large_buffer(ns()) as sock:
        sock.call(requests.veth_add("dup0", "dup1"))
        taken = requests.veth_add("dup0", "dup1")
        alias = make_attr(IFLA.IFLA_IFALIAS, "a" * 250)
        big = dataclasses.replace(taken, attrs=AttrList([*taken.attrs, alias, alias, alias]))
        outcomes = sock.exchange([big] * 300)
    assert all(isinstance(o.error, FileExistsError) for o in outcomes)


def test_a_macvlan_and_a_vxlan_are_placed_in_another_namespace_as_they_are_made(pair):
    a, b, ha, hb = pair
    ha.link_add_veth("par0", "par1", up=True)
    ha.link_add_macvlan("mv0", "par0", mode="bridge", netns=b, up=True,
                        address="02:00:00:00:0d:01")
    ha.link_add_vxlan("vx0", 9, remote="192.0.2.9", port=14789, dev="par0", netns=b,
                      address="02:00:00:00:0d:02")
    assert {link.name for link in ha.link_list()} == {"lo", "par0", "par1"}
    mv = ip_json(b, "-d", "link", "show", "mv0")[0]
    vx = ip_json(b, "-d", "link", "show", "vx0")[0]
    assert (mv["linkinfo"]["info_kind"], mv["linkinfo"]["info_data"]["mode"]) == (
        "macvlan", "bridge")
    assert mv["link_index"] == ha.index_of("par0") and "UP" in mv["flags"]
    assert mv["link_netnsid"] == hb.nsid_get(a) and mv["address"] == "02:00:00:00:0d:01"
    assert (vx["linkinfo"]["info_data"]["id"], vx["address"]) == (9, "02:00:00:00:0d:02")
    assert vx["link_netnsid"] == hb.nsid_get(a)
    assert_links_match_ip(b, hb)


# --- a dump read in one pass when its first read brings all of it (nlsock._dump_once) ---

def _address_keys(addresses):
    return sorted((a.index, str(a.address), a.label, a.scope) for a in addresses)


def test_a_dump_larger_than_one_read_is_whole(ns):
    """3000 addresses: more datagrams than one recvmmsg takes, so the one-pass
    reading gives up and the conversation reads the rest; ip agrees."""
    name = ns()
    run_ip("-n", name, "link", "add", "va", "type", "veth", "peer", "name", "vb")
    lines = "".join(f"addr add 10.{k // 250}.{k % 250}.1/32 dev va\n" for k in range(3000))
    import subprocess
    subprocess.run(["ip", "-n", name, "-batch", "-"], input=lines, text=True, check=True)
    with Handle(name) as h:
        seen: list[bytes] = []
        h._sock.trace = lambda way, data: seen.append(data) if way == "recv" else None
        listed = h.addr_list()
    assert len(seen) > 8  # more than one recvmmsg's worth
    shown = json.loads(run_ip("-n", name, "-j", "addr", "show").stdout)
    expected = sorted((link["ifindex"], info["local"], info.get("label"), info["scope"])
                      for link in shown for info in link["addr_info"])
    assert len(listed) == len(expected) == 3000  # lo is down: it has none
    assert sorted((a.index, str(a.address.ip), a.label, a.scope) for a in listed) == [
        (index, local, label, scope) for index, local, label, scope in expected]


def test_a_stale_answer_before_a_dump_is_dropped(ns):
    """A reply of another exchange queued before the dump's (here: a link
    request sent behind the conversation's back): the one-pass reading gives
    up, the conversation drops it, and the dump's own answer is what it is."""
    from rawns.netlink import encode, requests

    name = ns()
    run_ip("-n", name, "addr", "add", "10.9.8.7/24", "dev", "lo")
    with Handle(name) as h:
        expected = h.addr_list()
        stale = encode(requests.link_get(ifname="lo").with_seq(0x7FFF0000))
        h._sock._sock.send(stale)
        assert h.addr_list() == expected
        assert h.addr_list() == expected  # and the socket is clean afterwards
