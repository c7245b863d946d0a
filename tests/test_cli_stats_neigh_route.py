"""``-s`` (and ``-s -s``) for ``neigh`` and ``route``, against ``ip`` line for
line and key for key.

The kernel's ages tick while the two tools run one after the other, so the
numbers that count seconds (a neighbour's ``used A/B/C``, a route's
``expires`` and ``age``) are compared within a few seconds; every other byte
is compared as is. A route lookup's ``age`` is that of whichever per-CPU
cached route the lookup met (0, not printed, for a fresh one), so it is
left out of both sides and checked on its own.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
import time

import pytest

from rawns import netns
from rawns.model import Neighbour, Route
from rawns import show
from conftest import _remove_netns_with_prefix, run_ip

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

SLACK = 3  # seconds the kernel's clocks may move between the two runs


@pytest.fixture(scope="module")
def lan():
    """Two namespaces on a veth pair; in ``a``: a neighbour resolved by a
    ping in each family (reachable for an hour), one permanent, one stale
    router, one noarp; IPv6 routes that expire."""
    prefix = f"rnst{os.getpid()}xstats-"
    a, b = prefix + "a", prefix + "b"
    try:
        run_ip("netns", "add", a)
        run_ip("netns", "add", b)
        run_ip("-n", a, "link", "add", "v1", "type", "veth", "peer", "name", "v2", "netns", b)
        for name, dev in ((a, "v1"), (b, "v2")):
            for family in ("ipv4", "ipv6"):
                netns.sysctl(name, f"net.{family}.neigh.{dev}.base_reachable_time_ms",
                             3600000)
            # no link-local addresses: no router solicitations nor other
            # traffic of their own that would add entries between two runs
            netns.sysctl(name, f"net.ipv6.conf.{dev}.addr_gen_mode", 1)
            netns.sysctl(name, "net.ipv6.conf.all.accept_dad", 0)
            netns.sysctl(name, "net.ipv6.conf.default.accept_dad", 0)
        for name, dev, v4, v6 in ((a, "v1", "10.9.0.1/24", "fd00::1/64"),
                                  (b, "v2", "10.9.0.2/24", "fd00::2/64")):
            run_ip("-n", name, "addr", "add", v4, "dev", dev)
            run_ip("-n", name, "addr", "add", v6, "dev", dev, "nodad")
            run_ip("-n", name, "link", "set", dev, "up")
            run_ip("-n", name, "link", "set", "lo", "up")
        _carrier(a, "v1")
        _carrier(b, "v2")
        for target in ("10.9.0.2", "fd00::2"):  # exit status 0: a reply came
            subprocess.run([sys.executable, "-m", "rawns", "-n", a, "ping", "-c", "3", "-i",
                            "0.2", "-W", "5", target], check=True, capture_output=True)
        run_ip("-n", a, "neigh", "add", "10.9.0.7", "lladdr", "02:00:00:00:00:07", "dev",
               "v1")
        run_ip("-n", a, "neigh", "add", "10.9.0.10", "lladdr", "02:00:00:00:00:0a", "dev",
               "v1", "router", "nud", "stale")
        run_ip("-n", a, "neigh", "add", "10.9.0.8", "lladdr", "02:00:00:00:00:08", "dev",
               "v1", "nud", "noarp")
        run_ip("-n", a, "neigh", "add", "fd00::9", "lladdr", "02:00:00:00:00:09", "dev",
               "v1", "nud", "permanent")
        run_ip("-n", a, "-6", "route", "add", "fd01::/64", "dev", "v1", "expires", "3000")
        run_ip("-n", a, "-6", "route", "add", "fd02::/64", "via", "fd00::2", "metric", "5",
               "expires", "2000")
        yield a
    finally:
        _remove_netns_with_prefix(prefix)


def _carrier(ns: str, dev: str) -> None:
    """Wait until ``dev`` is up with its carrier (a moment after both ends are)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if json.loads(run_ip("-n", ns, "-j", "link", "show", dev).stdout)[0].get(
                "operstate") == "UP":
            return
        time.sleep(0.05)
    raise AssertionError(f"{dev} in {ns} has no carrier")


_TIMES = re.compile(r"(used )(\d+)/(\d+)/(\d+)|(expires )(-?\d+)(sec)|(age )(\d+)(sec )")


def _masked(text: str) -> tuple[str, list[int], int]:
    """``text`` with its clock readings taken out: the text, the readings
    that must agree within SLACK, and how many lookup ages there were."""
    numbers: list[int] = []
    ages = 0

    def take(match: re.Match[str]) -> str:
        nonlocal ages
        if match.group(1):
            numbers.extend(int(match.group(i)) for i in (2, 3, 4))
            return "used #/#/#"
        if match.group(5):
            numbers.append(int(match.group(6)))
            return "expires #sec"
        ages += 1
        return ""

    return _TIMES.sub(take, text), numbers, ages


def _same_text(ours: str, theirs: str) -> None:
    mine, my_numbers, my_ages = _masked(ours)
    expected, numbers, ages = _masked(theirs)
    assert mine == expected
    assert len(my_numbers) == len(numbers)
    assert all(abs(x - y) <= SLACK for x, y in zip(my_numbers, numbers)), (ours, theirs)


_CLOCK_KEYS = ("used", "confirmed", "updated", "expires")


def _same_json(ours: object, theirs: object) -> None:
    """Equal, but the clock readings within SLACK and a lookup's age any number."""
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for mine, expected in zip(ours, theirs):
            _same_json(mine, expected)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict)
        assert isinstance(ours.get("age", 1), int) and ours.get("age", 1) > 0
        assert [k for k in ours if k != "age"] == [k for k in theirs if k != "age"], (
            ours, theirs)
        for key, expected in theirs.items():
            if key in _CLOCK_KEYS and isinstance(expected, int):
                assert abs(ours[key] - expected) <= SLACK, (key, ours, theirs)
            elif key != "age":
                _same_json(ours[key], expected)
    else:
        assert ours == theirs


def _rawns(ns: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "rawns", "-n", ns, *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


TEXT = [
    ["-s", "neigh"],
    ["-s", "-s", "neigh"],
    ["-s", "-4", "neigh"],
    ["-s", "-6", "neigh"],
    ["-s", "neigh", "show", "nud", "all"],
    ["-s", "neigh", "show", "dev", "v1"],
    ["-s", "neigh", "show", "nud", "permanent"],
    ["neigh"],
    ["-s", "route"],
    ["-s", "-6", "route"],
    ["-s", "-s", "-6", "route"],
    ["-s", "route", "show", "table", "all"],
    ["-s", "-6", "route", "show", "table", "all"],
    ["-s", "-d", "-6", "route"],
    ["-s", "-o", "-6", "route"],
    ["-s", "route", "get", "10.9.0.2"],
    ["-s", "-s", "route", "get", "10.9.0.2"],
    ["-s", "route", "get", "fd00::2"],
    ["-s", "route", "get", "fd01::5"],
    ["-6", "route"],
]


@pytest.mark.parametrize("args", TEXT, ids=" ".join)
def test_text_as_ip(lan, args):
    theirs = run_ip("-n", lan, *args).stdout
    ours = _rawns(lan, *args)
    assert theirs.strip()
    _same_text(ours, theirs)


@pytest.mark.parametrize("args", [a for a in TEXT if "-o" not in a], ids=" ".join)
def test_json_as_ip(lan, args):
    theirs = json.loads(run_ip("-n", lan, "-j", *args).stdout)
    ours = json.loads(_rawns(lan, "-j", *args))
    _same_json(ours, theirs)


def test_pretty_json_as_ip(lan):
    theirs = run_ip("-n", lan, "-j", "-p", "-s", "neigh", "show", "nud", "permanent").stdout
    ours = _rawns(lan, "-j", "-p", "-s", "neigh", "show", "nud", "permanent")
    assert re.sub(r"\d+", "#", ours) == re.sub(r"\d+", "#", theirs)  # the layout
    _same_json(json.loads(ours), json.loads(theirs))  # the values


def test_the_stats_are_the_kernels_not_made_up(lan):
    """The figures come from the messages: a neighbour resolved by a ping was
    probed and is referenced; the permanent one was never probed."""
    data = {entry["dst"]: entry for entry in json.loads(_rawns(lan, "-j", "-s", "neigh"))}
    assert data["10.9.0.2"]["probes"] >= 1
    assert data["10.9.0.7"]["probes"] == 0
    assert "refcnt" not in data["10.9.0.7"]
    routes = json.loads(_rawns(lan, "-j", "-6", "route"))
    expiring = {r["dst"]: r["expires"] for r in routes if "expires" in r}
    assert 2900 < expiring["fd01::/64"] <= 3000 and 1900 < expiring["fd02::/64"] <= 2000


def test_lines_from_the_model_without_a_kernel():
    entry = Neighbour(index=2, dst=ipaddress.ip_address("10.0.0.9"), lladdr="02:00:00:00:00:09",
                      state=frozenset({"REACHABLE"}), flags=frozenset({"router"}),
                      used=1, confirmed=2, updated=3, refcnt=1, probes=4)
    assert show.neigh_line(entry.to_json({2: "x0"}, stats=True)) == (
        "10.0.0.9 dev x0 lladdr 02:00:00:00:00:09 router  ref 1 used 1/2/3probes 4 REACHABLE ")
    assert show.neigh_line(entry.to_json({2: "x0"})) == (
        "10.0.0.9 dev x0 lladdr 02:00:00:00:00:09 router REACHABLE ")
    route = Route(dst=ipaddress.ip_network("fd00::2/128"), family=10, oif=2, metric=256,
                  pref="medium", expires=-1, users=2, used=0, age=9)
    assert show.route_lines(route.to_json({2: "x0"}, stats=True)) == [
        "fd00::2 dev x0 metric 256 expires -1sec users 2 age 9sec pref medium"]
    assert show.route_lines(route.to_json({2: "x0"})) == [
        "fd00::2 dev x0 metric 256 expires -1sec pref medium"]
