"""The output modes ``-br``, ``-o``, ``-s`` (``-s -s``) and ``-d`` of ``link`` and
``addr``, compared with ip line for line (text, byte for byte) and key for key
(``-j``, parsed; and for some, byte for byte, ``-j -p`` too).

What moves on its own between two calls is kept still: IPv6 is off where
counters are compared (no router solicitations), the bridge stays down (its
timers do not run), DAD is off (no address is "tentative" for one call only).
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import _remove_netns_with_prefix, run_ip
from rawns import Handle, netns
from rawns.ping import ping
from test_cli_routes import ip, rawns

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def sysctl(ns: str, path: str, value: str) -> None:
    with netns.enter(ns):
        with open(f"/proc/sys/{path}", "w") as f:
            f.write(value)


WIRING = [
    "link add a0 type veth peer name a1", "link set a0 up", "link set a1 up", "link set lo up",
    "addr add 10.1.0.1/24 dev a0", "addr add 10.1.0.7/24 dev a0",  # a secondary
    "addr add 10.2.0.1/24 brd + dev a1 label a1:x", "addr add fd01::1/64 dev a0 nodad",
    "link add br0 type bridge", "link add p0 type veth peer name p1", "link set p0 master br0",
    "link add vx0 type vxlan id 42 remote 10.77.0.2 dstport 4789",
    "link add vx1 type vxlan id 43 local 10.1.0.1 dev a0 nolearning ttl 5 ageing 0",
    "link add vx6 type vxlan id 44 group ff05::7 dev a0 dstport 4789 noudpcsum",
    "link add mv0 link a1 type macvlan mode private",
    "link add mv1 link a1 type macvlan mode vepa",
    "link add mv2 link a1 type macvlan mode bridge",
    "link add mv3 link p1 type macvlan mode passthru nopromisc",
    "tuntap add tp0 mode tap", "tuntap add tn0 mode tun multi_queue user 1000 group 100",
    "link set tn0 alias the-tun",
]

#: ``(options, command)`` pairs run by both, against the namespace above.
COMMANDS = [
    "-br link", "-br addr", "-br -4 addr", "-br -6 addr", "-br link show a0",
    "-o link", "-o addr", "-o -4 addr", "-o -6 addr", "-o link show dev br0",
    "-d link", "-d addr", "-d link show dev br0", "-d link show p0", "-d link show type vxlan",
    "-d link show tn0", "-d addr show dev a1", "-o -d link", "addr", "link",
    "-d link show type macvlan", "-d -4 addr", "-d -6 addr", "-br -d link",
]


@pytest.fixture(scope="module")
def wired():
    prefix = f"rnst{os.getpid()}xout-"
    name, other = prefix + "a", prefix + "b"
    try:
        run_ip("netns", "add", name)
        run_ip("netns", "add", other)
        sysctl(name, "net/ipv6/conf/all/accept_dad", "0")
        sysctl(name, "net/ipv6/conf/default/accept_dad", "0")
        for command in WIRING:
            run_ip("-n", name, *command.split())
        run_ip("-n", name, "link", "add", "q0", "type", "veth", "peer", "name", "q1",
               "netns", other)
        yield name
    finally:
        _remove_netns_with_prefix(prefix)


@pytest.mark.parametrize("command", COMMANDS)
def test_text_is_ips(wired, command) -> None:
    words = command.split()
    assert rawns("-n", wired, *words)[:2] == ip("-n", wired, *words)


@pytest.mark.parametrize("command", [c for c in COMMANDS if "-o" not in c.split()])
def test_json_has_ips_keys_and_values(wired, command) -> None:
    words = command.split()
    status, text, err = rawns("-n", wired, "-j", *words)
    assert status == 0, err
    assert json.loads(text) == json.loads(ip("-n", wired, "-j", *words)[1])


@pytest.mark.parametrize("command", ["-d link", "-d addr", "link show br0", "-d link show p0",
                                     "-br addr"])
def test_json_is_ips_bytes_and_so_is_pretty_json(wired, command) -> None:
    words = command.split()
    for style in (["-j"], ["-j", "-p"]):
        assert rawns("-n", wired, *style, *words)[:2] == ip("-n", wired, *style, *words)


@pytest.fixture
def counting(ns):
    """Two namespaces joined by a veth pair, IPv6 off (no packet of its own),
    a few pings through: counters that are not zero and stand still."""
    a, b = ns(), ns()
    for name in (a, b):
        sysctl(name, "net/ipv6/conf/all/disable_ipv6", "1")
        sysctl(name, "net/ipv6/conf/default/disable_ipv6", "1")
    run_ip("-n", a, "link", "add", "c0", "type", "veth", "peer", "name", "c1", "netns", b)
    run_ip("-n", a, "addr", "add", "10.9.0.1/24", "dev", "c0")
    run_ip("-n", b, "addr", "add", "10.9.0.2/24", "dev", "c1")
    run_ip("-n", a, "link", "set", "c0", "up")
    run_ip("-n", b, "link", "set", "c1", "up")
    echoes = ping("10.9.0.2", netns=a, count=3, interval=0.01, timeout=2)
    assert all(echo.rtt is not None for echo in echoes)
    return a


@pytest.mark.parametrize("command", ["-s link", "-s -s link", "-s link show c0",
                                     "-s -s link show c0", "-o -s link", "-d -s link show c0",
                                     "-s -s -d link", "-s addr", "-s -s addr show c0",
                                     "-s -o addr", "-s -br addr"])
def test_statistics_are_ips(counting, command) -> None:
    words = command.split()
    assert rawns("-n", counting, *words)[:2] == ip("-n", counting, *words)
    if "-o" not in words:
        _, text, _ = rawns("-n", counting, "-j", *words)
        assert json.loads(text) == json.loads(ip("-n", counting, "-j", *words)[1])


def test_the_api_reads_details_and_counters(counting) -> None:
    with Handle(counting) as handle:
        link = handle.link_get("c0", details=True)
        plain = handle.link_get("c0")
    assert link.stats is not None and link.stats.tx_packets >= 3 and link.stats.rx_bytes > 0
    assert link.details is not None and link.details.num_tx_queues and link.details.max_mtu
    assert plain.stats is None and plain.details is None and plain == link
    data = link.to_json(details=True, stats=2)
    assert data["linkinfo"] == {"info_kind": "veth"} and "carrier_changes" in data["stats64"]["tx"]
