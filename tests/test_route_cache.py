"""The route cache: ``Handle.route_list(cache=True)``, ``route_flush(cache=True)``
and ``rawns route show|flush cache``, against ``ip`` line for line and key for key.

The exceptions are real: A -- R -- B, with a smaller MTU on R--B; A sends a
large UDP datagram to B in each family (IPv4 with IP_PMTUDISC_DO), R answers
Frag Needed / Packet Too Big, and A keeps an exception route with ``mtu 1300``.
Clock readings (``expires``, ``age``) tick between the two tools' runs and are
compared within a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import hypothesis.strategies as st
import pytest
from hypothesis import given

from rawns import Handle
from rawns.netlink import decode, encode, requests
from rawns.netlink.constants import AF, RTM_F
from conftest import _remove_netns_with_prefix, run_ip

SLACK = 3  # seconds the kernel's clocks may move between two runs

_SEND = """
import socket, time
for family, dst in ((socket.AF_INET, "10.2.0.1"), (socket.AF_INET6, "fd02::1")):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
    for _ in range(3):
        try:
            s.sendto(b"x" * 1400, (dst, 9))
        except OSError:  # EMSGSIZE once the exception is known
            pass
        time.sleep(0.1)
"""


def _exceptions(a: str) -> None:
    """Make A learn the path MTU towards B in both families (and wait until
    ip sees both exceptions)."""
    for _ in range(20):
        subprocess.run(["ip", "netns", "exec", a, sys.executable, "-c", _SEND], check=True)
        four = run_ip("-n", a, "route", "show", "cache").stdout
        six = run_ip("-n", a, "-6", "route", "show", "cache").stdout
        if "mtu 1300" in four and "mtu 1300" in six:
            return
        time.sleep(0.2)
    raise AssertionError("no PMTU exceptions appeared in A")


@pytest.fixture(scope="module")
def path():
    """The namespaces A, R, B; yields A's name."""
    prefix = f"rnst{os.getpid()}xcache-"
    a, r, b = prefix + "a", prefix + "r", prefix + "b"
    try:
        for name in (a, r, b):
            run_ip("netns", "add", name)
            run_ip("-n", name, "link", "set", "lo", "up")
        run_ip("-n", a, "link", "add", "a0", "type", "veth", "peer", "name", "r0", "netns", r)
        run_ip("-n", b, "link", "add", "b0", "type", "veth", "peer", "name", "r1", "netns", r)
        for name, dev, v4, v6, mtu in ((a, "a0", "10.1.0.1/24", "fd01::1/64", "1500"),
                                       (r, "r0", "10.1.0.2/24", "fd01::2/64", "1500"),
                                       (r, "r1", "10.2.0.2/24", "fd02::2/64", "1300"),
                                       (b, "b0", "10.2.0.1/24", "fd02::1/64", "1300")):
            run_ip("-n", name, "addr", "add", v4, "dev", dev)
            run_ip("-n", name, "addr", "add", v6, "dev", dev, "nodad")
            run_ip("-n", name, "link", "set", dev, "up", "mtu", mtu)
        for name, v4, v6 in ((a, "10.1.0.2", "fd01::2"), (b, "10.2.0.2", "fd02::2")):
            run_ip("-n", name, "route", "add", "default", "via", v4)
            run_ip("-n", name, "-6", "route", "add", "default", "via", v6)
        run_ip("netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1",
               "net.ipv6.conf.all.forwarding=1")
        _exceptions(a)
        yield a
    finally:
        _remove_netns_with_prefix(prefix)


def _rawns(ns: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rawns", "-n", ns, *args],
                          capture_output=True, text=True)


_TIMES = re.compile(r"(expires )(-?\d+)(sec)|(age )(\d+)(sec)")


def _masked(text: str) -> tuple[str, list[int]]:
    numbers: list[int] = []

    def take(match: re.Match) -> str:
        if match.group(1):
            numbers.append(int(match.group(2)))
            return "expires #sec"
        numbers.append(int(match.group(5)))
        return "age #sec"

    return _TIMES.sub(take, text), numbers


def _same_text(ours: str, theirs: str) -> None:
    mine, my_numbers = _masked(ours)
    expected, numbers = _masked(theirs)
    assert mine == expected, (ours, theirs)
    assert len(my_numbers) == len(numbers)
    assert all(abs(x - y) <= SLACK for x, y in zip(my_numbers, numbers)), (ours, theirs)


def _same_json(ours: object, theirs: object) -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), (ours, theirs)
        for key, value in theirs.items():
            if key in ("expires", "age"):
                assert abs(ours[key] - value) <= SLACK
            else:
                _same_json(ours[key], value)
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
        for mine, expected in zip(ours, theirs):
            _same_json(mine, expected)
    else:
        assert ours == theirs


# -- the request -------------------------------------------------------------------------

@given(family=st.sampled_from([AF.AF_UNSPEC, AF.AF_INET, AF.AF_INET6]),
       table=st.one_of(st.none(), st.integers(1, 2**32 - 1)),
       oif=st.one_of(st.none(), st.integers(1, 2**31 - 1)), cloned=st.booleans())
def test_dump_request_carries_rtm_f_cloned(family, table, oif, cloned) -> None:
    message = requests.route_dump(family=family, table=table, oif=oif, cloned=cloned)
    (decoded,) = decode(encode(message.with_seq(3, pid=0)))
    assert decoded == message.with_seq(3, pid=0)
    assert decoded.header.flags == (RTM_F.RTM_F_CLONED if cloned else 0)
    # everything else strict checking looks at stays zero
    header = decoded.header
    assert (header.dst_len, header.src_len, header.tos, header.scope, header.protocol,
            header.type) == (0, 0, 0, 0, 0, 0)


def test_delete_request_of_an_exception() -> None:
    import ipaddress
    message = requests.route_del_exact(family=AF.AF_INET6, table=254,
                                       dst=ipaddress.ip_network("fd02::1/128"),
                                       gateway="fd01::2", oif=2, metric=1024, cloned=True)
    (decoded,) = decode(encode(message.with_seq(4, pid=0)))
    assert decoded.header.flags == RTM_F.RTM_F_CLONED
    assert decoded.get("RTA_DST") == ipaddress.ip_address("fd02::1")
    plain = requests.route_del_exact(family=AF.AF_INET6, table=254,
                                     dst=ipaddress.ip_network("fd02::1/128"))
    assert plain.header.flags == 0


# -- the API -------------------------------------------------------------------------------

def test_route_list_cache(path) -> None:
    with Handle(path) as handle:
        cached = handle.route_list(table=None, cache=True)
        fib = handle.route_list(table=None)
        six = handle.route_list(family=6, cache=True, root="fd02::/64", dev="a0")
        none = handle.route_list(family=6, cache=True, root="fd03::/64")
    by_family = {r.family: r for r in cached}
    assert sorted(by_family) == [AF.AF_INET, AF.AF_INET6] and len(cached) == 2
    for route, dst, gateway in ((by_family[AF.AF_INET], "10.2.0.1/32", "10.1.0.2"),
                                (by_family[AF.AF_INET6], "fd02::1/128", "fd01::2")):
        assert route.cloned and str(route.dst) == dst and str(route.gateway) == gateway
        assert route.metric_value("mtu") == 1300
        assert route.expires is not None and 0 < route.expires <= 600
    assert fib and not any(r.cloned for r in fib)  # the FIB dump holds no exception
    assert [str(r.dst) for r in six] == ["fd02::1/128"] and none == []


def test_route_list_cache_json_equals_ip(path) -> None:
    with Handle(path) as handle:
        names = {link.index: link.name for link in handle.link_list()}
        for family in (4, 6):
            ours = [r.to_json(names) for r in handle.route_list(family=family, cache=True)]
            theirs = json.loads(run_ip("-n", path, f"-{family}", "-j", "route", "show",
                                       "cache").stdout)
            _same_json(ours, theirs)


def test_flush_cache_ipv4_takes_no_selectors(path) -> None:
    with Handle(path) as handle:
        with pytest.raises(ValueError, match="IPv4 route cache"):
            handle.route_flush(family=4, cache=True, dev="a0")
        with pytest.raises(ValueError):
            handle.route_flush(cache=True, root="10.0.0.0/8")


# -- the command line, with ip as the oracle ----------------------------------------------

SHOW = [
    ("route", "show", "cache"),
    ("-6", "route", "show", "cache"),
    ("route", "show", "table", "all", "cache"),
    ("route", "show", "table", "cache"),
    ("route", "list", "cached"),
    ("route", "show", "cloned"),
    ("-d", "route", "show", "cache"),
    ("-s", "route", "show", "cache"),
    ("-d", "-s", "-6", "route", "show", "cache"),
    ("-o", "-6", "route", "show", "cache"),
    ("route", "show", "cache", "10.2.0.1"),
    ("route", "show", "cache", "10.2.0.0/24"),
    ("route", "show", "cache", "root", "10.2.0.0/16"),
    ("route", "show", "cache", "match", "10.2.0.1"),
    ("route", "show", "cache", "dev", "a0"),
    ("route", "show", "cache", "via", "10.1.0.2"),
    ("route", "show", "cache", "default"),
    ("route", "show", "cache", "table", "local"),
    ("-6", "route", "show", "cache", "dev", "a0"),
    ("-6", "route", "show", "cache", "via", "fd01::2"),
    ("-6", "route", "show", "cache", "metric", "1024"),
    ("-6", "route", "show", "cache", "proto", "boot"),
    ("-6", "route", "show", "cache", "proto", "kernel"),
    ("-6", "route", "show", "cache", "fd02::/64"),
    ("-6", "route", "show", "cache", "root", "fd02::/64"),
]


@pytest.mark.parametrize("args", SHOW, ids=" ".join)
def test_show_cache_text_and_json(path, args) -> None:
    theirs = run_ip("-n", path, *args)
    ours = _rawns(path, *args)
    assert ours.returncode == 0 and ours.stderr == "", ours.stderr
    _same_text(ours.stdout, theirs.stdout)
    theirs_json = run_ip("-n", path, "-j", *args)
    ours_json = _rawns(path, "-j", *args)
    assert ours_json.returncode == 0, ours_json.stderr
    _same_json(json.loads(ours_json.stdout), json.loads(theirs_json.stdout))


def test_plain_show_leaves_the_cache_out(path) -> None:
    for args in (("route", "show"), ("-6", "route", "show"), ("route", "show", "table", "all")):
        ours = _rawns(path, *args)
        assert ours.stdout == run_ip("-n", path, *args).stdout
        assert "mtu 1300" not in ours.stdout


def test_flush_cache_as_ip(path) -> None:
    """rawns flushes what ip then no longer shows (and the other way round),
    printing what ip prints with -s."""
    _exceptions(path)
    ours = _rawns(path, "-s", "-6", "route", "flush", "cache", "dev", "a0")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == "\n*** Round 1, deleting 1 entries ***\n" \
                          "*** Flush is complete after 1 round ***\n"
    assert run_ip("-n", path, "-6", "route", "show", "cache").stdout == ""
    assert "mtu 1300" in run_ip("-n", path, "route", "show", "cache").stdout  # IPv4 kept
    again = _rawns(path, "-s", "-6", "route", "flush", "cache")
    assert again.stdout == run_ip("-n", path, "-s", "-6", "route", "flush", "cache").stdout \
        == "Nothing to flush.\n"
    ours = _rawns(path, "-s", "route", "flush", "cache")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == "*** IPv4 routing cache is flushed.\n"
    assert run_ip("-n", path, "route", "show", "cache").stdout == ""
    _exceptions(path)
    theirs = run_ip("-n", path, "-s", "route", "flush", "cache").stdout
    assert theirs == "*** IPv4 routing cache is flushed.\n"
    assert _rawns(path, "route", "show", "cache").stdout == ""
    run_ip("-n", path, "-6", "route", "flush", "cache")
    assert _rawns(path, "-6", "route", "show", "cache").stdout == ""
    # selectors that pick nothing remove nothing
    _exceptions(path)
    assert _rawns(path, "-6", "route", "flush", "cache", "dev", "lo").returncode == 0
    assert "mtu 1300" in run_ip("-n", path, "-6", "route", "show", "cache").stdout
    _exceptions(path)  # leave both for tests that may run after
