"""``rawns route`` against ``ip route``: the same routes made both ways, then every
selector, ``route get`` and ``route flush``, compared line for line (text) and
key for key (``-j``).

Namespace A is wired by ip, namespace B by rawns, with the same commands; the
listings of both must be equal (the oracle is ip reading each). Then rawns and
ip list namespace A with the same arguments and must print the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import os

import pytest

from conftest import run_ip
from rawns import Handle
from rawns.cli import main

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def rawns(*args: str) -> tuple[int, str, str]:
    """Run the command line in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


def ip(*args: str) -> tuple[int, str]:
    result = run_ip(*args, check=False)
    return result.returncode, result.stdout


#: The wiring, as ip commands (rawns runs the very same words).
ROUTES = [
    "route add 10.9.0.0/16 via 10.1.0.2 metric 5",
    "route add 10.8.0.0/16 via 10.1.0.2 mtu 1300 advmss 1200 src 10.1.0.1 proto static",
    "route add 10.8.1.0/24 via 10.1.0.2 mtu lock 1300",
    "route add 10.7.0.0/16 via 10.1.0.9 dev a0 onlink",
    "route add 10.6.0.0/16 nexthop via 10.1.0.2 dev a0 weight 1 nexthop via 10.2.0.2 dev a1 "
    "weight 3",
    "route add blackhole 10.5.0.0/16",
    "route add unreachable 10.4.0.0/16",
    "route add prohibit 10.3.0.0/16 metric 7",
    "route add local 10.200.0.0/16 dev a0",
    "route add default via 10.1.0.2",
    "route add 10.10.0.0/16 dev a0 scope link proto 99 table 100",
    "route add throw 10.11.0.0/16 table 100",
    "-6 route add fd00::/64 dev a0 metric 10",
    "-6 route add fd09::/64 nexthop via fd01::2 dev a0 weight 2 nexthop via fd02::2 dev a1",
    "-6 route add fd08::/64 via fd01::2 mtu 1400",
    "-6 route add blackhole fd07::/64",
    "-6 route add fd06::/64 via fd01::2 dev a0 onlink",
    "-6 route add default via fd01::2 metric 99",
]


def _base(ns: str) -> None:
    """Links and addresses (by ip in both namespaces: only routes are compared)."""
    for command in ("link add a0 type veth peer name a1", "link set a0 up",
                    "link set a1 up", "link set lo up", "addr add 10.1.0.1/24 dev a0",
                    "addr add 10.2.0.1/24 dev a1", "addr add fd01::1/64 dev a0 nodad",
                    "addr add fd02::1/64 dev a1 nodad"):
        run_ip("-n", ns, *command.split())


@pytest.fixture(scope="module")
def pair():
    prefix = f"rnst{os.getpid()}xroutes-"
    by_ip, by_rawns = prefix + "ip", prefix + "rawns"
    from conftest import _remove_netns_with_prefix
    try:
        for ns in (by_ip, by_rawns):
            run_ip("netns", "add", ns)
            _base(ns)
        for command in ROUTES:
            run_ip("-n", by_ip, *command.split())
            status, _, err = rawns("-n", by_rawns, *command.split())
            assert status == 0, (command, err)
        yield by_ip, by_rawns
    finally:
        _remove_netns_with_prefix(prefix)


def _without_link_local(text: str) -> str:
    # The kernel's fe80:: addresses differ from namespace to namespace.
    return "\n".join(line for line in text.splitlines() if "fe80::" not in line)


@pytest.mark.parametrize("listing", [
    ("route", "show", "table", "all"),
    ("-6", "route", "show", "table", "all"),
    ("-d", "route", "show", "table", "all"),
])
def test_routes_made_by_rawns_are_the_routes_ip_makes(pair, listing) -> None:
    by_ip, by_rawns = pair
    made_by_ip = ip("-n", by_ip, *listing)[1]
    made_by_rawns = ip("-n", by_rawns, *listing)[1]
    assert "nexthop" in made_by_ip and "mtu" in made_by_ip
    assert _without_link_local(made_by_rawns) == _without_link_local(made_by_ip)


SHOW = [
    "route", "route show", "route list", "route show table all", "route show table 100",
    "route show table local", "route show default", "route show 10.8.0.0/16",
    "route show exact 10.8.0.0/16", "route show to 10.8.0.0/16",
    "route show root 10.8.0.0/15", "route show to root 10.0.0.0/8 proto static",
    "route show match 10.8.1.5", "route show match 10.6.7.8", "route show dev a0",
    "route show dev a1", "route show proto kernel", "route show proto static",
    "route show proto all", "route show scope link", "route show scope all",
    "route show type blackhole", "route show type blackhole type prohibit",
    "route show type unicast", "route show type local table local",
    "route show via 10.1.0.2", "route show via 10.1.0.0/24", "route show via 10.1.0.2 dev a0",
    "route show metric 5", "route show table all default", "route show fd00::/64",
    "-6 route", "-6 route show fd00::/64", "-6 route show root fd00::/8",
    "-6 route show default", "-6 route show dev a0", "-6 route show type blackhole",
    "-6 route show match fd09::1", "-6 route show via fd01::2",
    "-d route", "-d -6 route", "-d route show table all", "-o route", "-o -6 route",
    "route show 10.77.0.0/16",
]


@pytest.mark.parametrize("command", SHOW)
def test_show_prints_what_ip_prints(pair, command) -> None:
    ns = pair[0]
    words = command.split()
    expected = ip("-n", ns, *words)
    got = rawns("-n", ns, *words)
    assert (got[0], _without_link_local(got[1])) == (
        expected[0], _without_link_local(expected[1]))
    if "-o" not in words:
        status, text, _ = rawns("-n", ns, "-j", *words)
        expected_json = json.loads(ip("-n", ns, "-j", *words)[1] or "[]")
        drop = [e for e in expected_json if not e["dst"].startswith("fe80")]
        assert [e for e in json.loads(text) if not e["dst"].startswith("fe80")] == drop


GET = [
    "route get 10.9.1.1", "route get 10.9.1.1 from 10.1.0.1", "route get 10.9.1.1 mark 5",
    "route get 10.9.1.1 mark 33", "route get 10.1.0.1", "route get 127.0.0.1",
    "route get 10.6.1.1 oif a1", "route get 10.2.0.9", "route get 10.10.1.1",
    "route get fd01::2", "-6 route get fd09::1", "route get fd08::1",
    "route get 10.2.0.1 from 10.1.0.5 iif a0", "-o route get 10.1.0.1",
]


@pytest.mark.parametrize("command", GET)
def test_get_prints_what_ip_prints(pair, command) -> None:
    ns = pair[0]
    words = command.split()
    expected = ip("-n", ns, *words)
    got = rawns("-n", ns, *words)
    assert got[:2] == expected
    if "-o" not in words:
        status, text, _ = rawns("-n", ns, "-j", *words)
        assert json.loads(text) == json.loads(ip("-n", ns, "-j", *words)[1])


@pytest.mark.parametrize("address, errno_value", [
    ("10.3.1.1", 13),  # prohibit: EACCES
    ("10.5.1.1", 22),  # blackhole: EINVAL
    ("10.4.1.1", 113),  # unreachable: EHOSTUNREACH
])
def test_get_of_a_refusing_route_fails_as_ip_does(pair, address, errno_value) -> None:
    ns = pair[0]
    assert ip("-n", ns, "route", "get", address)[0] == 2
    status, out, err = rawns("-n", ns, "route", "get", address)
    assert (status, out) == (2, "")
    assert f"[Errno {errno_value}]" in err and len(err.splitlines()) == 1
    assert "root or CAP" not in err
    with Handle(ns) as handle, pytest.raises(OSError) as info:
        handle.route_get(address)
    assert info.value.errno == errno_value


def test_get_returns_the_lookup_result(pair) -> None:
    with Handle(pair[1]) as handle:
        route = handle.route_get("10.9.1.1", source="10.1.0.1", mark=5)
        local = handle.route_get("10.1.0.1")
    assert route.cloned and route.gateway == ipaddress.ip_address("10.1.0.2")
    assert route.dst == ipaddress.ip_network("10.9.1.1/32") and route.mark == 5
    assert route.src == ipaddress.ip_network("10.1.0.1/32")
    assert local.type == "local" and local.cache == ("local",)


def test_route_list_reads_multipath_and_metrics(pair) -> None:
    with Handle(pair[1]) as handle:
        (multipath,) = handle.route_list(dst="10.6.0.0/16")
        (locked,) = handle.route_list(dst="10.8.1.0/24")
        (onlink,) = handle.route_list(dst="10.7.0.0/16")
        names = {link.index: link.name for link in handle.link_list()}
    assert [(str(h.gateway), names[h.oif], h.weight) for h in multipath.nexthops] == [
        ("10.1.0.2", "a0", 1), ("10.2.0.2", "a1", 3)]
    assert locked.metrics == (("mtu", 1300),) and locked.locked == {"mtu"}
    assert onlink.flags == {"onlink"}


def test_flush_removes_what_ip_flush_removes(ns) -> None:
    by_ip, by_rawns = ns(), ns()
    for name in (by_ip, by_rawns):
        _base(name)
        for command in ROUTES:
            run_ip("-n", name, *command.split())
    for selector in ("dev a1", "type blackhole", "table 100", "root 10.8.0.0/15",
                     "proto static", "default"):
        run_ip("-n", by_ip, "route", "flush", *selector.split())
        assert rawns("-n", by_rawns, "route", "flush", *selector.split())[0] == 0
        for listing in (("route", "show", "table", "all"), ("-6", "route", "show")):
            assert _without_link_local(ip("-n", by_rawns, *listing)[1]) == \
                _without_link_local(ip("-n", by_ip, *listing)[1]), selector
    assert rawns("-n", by_rawns, "-6", "route", "flush", "root", "fd00::/8")[0] == 0
    left = ip("-n", by_rawns, "-6", "route")[1].splitlines()
    assert left and not [line for line in left if line.startswith(("fd0", "blackhole fd0"))]
    # Nothing left to flush: silent, or "Nothing to flush." with -s, as ip.
    assert rawns("-n", by_rawns, "route", "flush", "dev", "a1")[:2] == (0, "")
    assert rawns("-n", by_rawns, "-s", "route", "flush", "dev", "a1")[:2] == \
        ip("-n", by_ip, "-s", "route", "flush", "dev", "a1")


def test_flush_returns_the_routes_it_removed(ns) -> None:
    name = ns()
    _base(name)
    with Handle(name) as handle:
        handle.route_add("10.50.0.0/16", type="blackhole")
        handle.route_add("10.51.0.0/16", type="blackhole")
        removed = handle.route_flush(type="blackhole")
        assert sorted(str(r.dst) for r in removed) == ["10.50.0.0/16", "10.51.0.0/16"]
        assert handle.route_list(type="blackhole") == []
        assert handle.route_flush(type="blackhole") == []


def test_flush_without_a_selector_is_refused_as_by_ip(ns) -> None:
    name = ns()
    assert ip("-n", name, "route", "flush")[0] == 1
    status, out, err = rawns("-n", name, "route", "flush")
    assert (status, out) == (1, "") and "requires arguments" in err


@pytest.mark.parametrize("args", [
    ("route", "show", "root"), ("route", "show", "type", "nosuch"),
    ("route", "show", "dev", "a0", "junk", "more"), ("route", "get"),
    ("route", "get", "notanaddress"), ("route", "add", "10.0.0.0/8", "mtu", "lock"),
    ("route", "add", "10.0.0.0/8", "nexthop", "via", "x"),
    ("route", "show", "root", "notaprefix"),
])
def test_bad_selectors_are_one_line_usage_errors(ns, args) -> None:
    status, out, err = rawns("-n", ns(), *args)
    assert status == 1 and out == "" and len(err.splitlines()) == 1, err
