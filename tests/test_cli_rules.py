"""``rawns rule`` against ``ip rule``: the same rules made both ways (IPv4 and
IPv6), listed, selected, deleted and flushed, compared line for line (text) and
key for key (``-j``)."""

from __future__ import annotations

import ipaddress
import json
import os

import pytest

from conftest import run_ip
from rawns import Handle
from test_cli_routes import ip, rawns

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

RULES = [
    "rule add from 10.1.0.0/24 table 100 prio 100",
    "rule add to 10.9.0.0/16 lookup 200 pref 200",
    "rule add iif a0 table main prio 300",
    "rule add oif a1 table 100 prio 301",
    "rule add fwmark 0x10/0xff table 100 prio 400",
    "rule add fwmark 5 table 100 prio 401",
    "rule add from all goto 32766 prio 500",
    "rule add not from 10.2.0.0/24 table 100 prio 600",
    "rule add prio 700 blackhole",
    "rule add prio 701 unreachable",
    "rule add prio 702 prohibit",
    "rule add prio 703 from 10.3.0.1 nop",
    "rule add prio 800 from 10.4.0.0/16 to 10.5.0.0/16 iif lo tos 0x10 table 100 "
    "suppress_prefixlength 0",
    "rule add prio 900 table 100 uidrange 100-200 ipproto tcp sport 80 dport 1000-2000 "
    "proto static",
    "rule add prio 1000 table 1000",
    "rule add priority 1001 table 100 realms 5",
    "rule add priority 1002 table 100 realms 3/5 type unreachable",
    "rule add from 10.7.0.0/16",
    "rule add priority 1003 goto 1005",
    "rule add priority 1004 iif nosuchdev lookup 7",
    "-6 rule add from fd00::/64 table 100 prio 100",
    "-6 rule add to fd01::/64 fwmark 7 prio 110 prohibit",
]

LISTINGS = [
    "rule", "rule show", "rule list", "-j rule", "-d rule", "-d -j rule", "-6 rule",
    "-6 -j rule", "-6 -d rule", "rule show from 10.1.0.0/16", "rule show table 100",
    "rule show iif a0", "rule show oif a1", "rule show fwmark 0x10/0xff",
    "rule show priority 700", "rule show not", "rule list to 10.0.0.0/8",
    "rule show proto static", "-6 rule show from fd00::/8", "ru",
]


def _wire(ns: str, run) -> None:
    run("-n", ns, "link", "add", "a0", "type", "veth", "peer", "name", "a1")
    for command in RULES:
        run("-n", ns, *command.split())


def _all_rules(ns: str) -> str:
    return ip("-n", ns, "-d", "rule")[1] + ip("-n", ns, "-6", "-d", "rule")[1]


@pytest.fixture
def pair(ns):
    by_ip, by_rawns = ns(), ns()
    _wire(by_ip, run_ip)

    def run_rawns(*args: str) -> None:
        status, _, err = rawns(*args)
        assert status == 0, (args, err)

    run_ip("-n", by_rawns, "link", "add", "a0", "type", "veth", "peer", "name", "a1")
    for command in RULES:
        run_rawns("-n", by_rawns, *command.split())
    return by_ip, by_rawns


def test_rules_made_by_rawns_are_the_rules_ip_makes(pair) -> None:
    by_ip, by_rawns = pair
    assert "uidrange" in _all_rules(by_ip) and "fd00::/64" in _all_rules(by_ip)
    assert _all_rules(by_rawns) == _all_rules(by_ip)


def test_listings_print_what_ip_prints(pair) -> None:
    by_ip = pair[0]
    for command in LISTINGS:
        words = command.split()
        assert rawns("-n", by_ip, *words)[:2] == ip("-n", by_ip, *words), command
        if "-j" not in words:
            _, text, _ = rawns("-n", by_ip, "-j", *words)
            assert json.loads(text) == json.loads(ip("-n", by_ip, "-j", *words)[1]), command


@pytest.mark.parametrize("selector", [
    "prio 100", "from 10.7.0.0/16", "table 1000", "from 10.1.0.0/24 table 100",
    "fwmark 0x10/0xff", "iif a0", "not from 10.2.0.0/24", "prio 700 blackhole",
])
def test_delete_removes_what_ip_delete_removes(pair, selector) -> None:
    by_ip, by_rawns = pair
    run_ip("-n", by_ip, "rule", "del", *selector.split())
    assert rawns("-n", by_rawns, "rule", "del", *selector.split())[0] == 0
    assert _all_rules(by_rawns) == _all_rules(by_ip)


@pytest.mark.parametrize("selector", ["table 100", "proto static", "", "-6", "iif a0",
                                      "from 10.0.0.0/8"])
def test_flush_removes_what_ip_flush_removes(pair, selector) -> None:
    by_ip, by_rawns = pair
    words = selector.split()
    options = [w for w in words if w.startswith("-")]
    rest = [w for w in words if not w.startswith("-")]
    run_ip("-n", by_ip, *options, "rule", "flush", *rest)
    assert rawns("-n", by_rawns, *options, "rule", "flush", *rest)[0] == 0
    assert _all_rules(by_rawns) == _all_rules(by_ip)


def test_errors_are_one_line(pair) -> None:
    by_rawns = pair[1]
    status, _, err = rawns("-n", by_rawns, "rule", "add", "from", "10.1.0.0/24", "table",
                           "100", "prio", "100")
    assert status == 2 and "File exists" in err and len(err.splitlines()) == 1
    status, _, err = rawns("-n", by_rawns, "rule", "del", "prio", "4242")
    assert status == 2 and "rule 4242" in err and len(err.splitlines()) == 1
    for bad in (("rule", "add", "from", "10.1.0.1/24"), ("rule", "add", "bogus"),
                ("rule", "add", "fwmark", "x"), ("rule", "add", "type", "nosuch"),
                ("rule", "show", "uidrange", "1-2"), ("-6", "rule", "add", "from",
                                                      "10.0.0.0/8")):
        status, out, err = rawns("-n", by_rawns, *bad)
        assert status == 1 and out == "" and len(err.splitlines()) == 1, (bad, err)


def test_the_api_reads_and_removes_rules(ns) -> None:
    name = ns()
    with Handle(name) as handle:
        handle.rule_add(priority=100, src="10.1.0.0/24", table=100)
        handle.rule_add(priority=110, dst="fd00::/64", action="blackhole")
        handle.rule_add(priority=120, fwmark=16, fwmask=255, goto=32766)
        handle.rule_add(priority=130, iif="lo", sport=80, dport=(1000, 2000), ipproto="udp")
        rules = {rule.priority: rule for rule in handle.rule_list()}
        assert rules[100].src == ipaddress.ip_network("10.1.0.0/24") and rules[100].table == 100
        assert rules[110].family == 10 and rules[110].action == "blackhole"
        assert (rules[120].action, rules[120].goto, rules[120].fwmark) == ("goto", 32766, 16)
        assert (rules[130].sport, rules[130].dport, rules[130].ipproto) == (
            (80, 80), (1000, 2000), 17)
        assert [r.priority for r in handle.rule_list(family=6)] == [0, 110, 32766]
        assert [r.priority for r in handle.rule_list(table=100)] == [100]
        handle.rule_delete(priority=100)
        removed = handle.rule_flush(family=4, fwmark=16)
        assert [r.priority for r in removed] == [120]
        assert 100 not in {r.priority for r in handle.rule_list()}
        with pytest.raises(ValueError):
            handle.rule_add(src="10.1.0.0/24", dst="fd00::/64")
        with pytest.raises(ValueError):
            handle.rule_add(action="teleport")
        with pytest.raises(FileNotFoundError):
            handle.rule_delete(priority=4242)
