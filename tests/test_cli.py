"""The ``rawns`` command line, run for real in a subprocess.

JSON output is compared with ``ip -j`` on the same objects (iproute2 is the
oracle); error cases check the exit status and the one-line message. Every
kernel object lives in namespaces from the ``ns`` fixture.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from rawns import netns
from conftest import _remove_netns_with_prefix, run_ip

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def rawns(*args: str, check: bool = True, timeout: float = 20, **kwargs
          ) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "rawns", *args], capture_output=True,
                            text=True, timeout=timeout, **kwargs)
    assert "Traceback" not in result.stderr, result.stderr
    if check:
        assert result.returncode == 0, (args, result.stderr)
    return result


def ip_json(ns: str, *args: str):
    return json.loads(run_ip("-n", ns, "-j", *args).stdout or "[]")


def rawns_json(ns: str, *args: str):
    return json.loads(rawns("-n", ns, "-j", *args).stdout)


def no_dad(name: str) -> None:
    """Turn IPv6 duplicate address detection off in a namespace, so that
    link-local addresses are not 'tentative' for one call and not the next."""
    with netns.enter(name):
        for conf in ("all", "default"):
            with open(f"/proc/sys/net/ipv6/conf/{conf}/accept_dad", "w") as f:
                f.write("0")


def wait_operstate_up(ns: str, *devs: str) -> None:
    """Carrier and operstate settle asynchronously after 'up'; wait for them."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        states = {e["ifname"]: e["operstate"] for e in ip_json(ns, "link", "show")}
        if all(states.get(dev) == "UP" for dev in devs):
            return
        time.sleep(0.05)
    raise AssertionError(f"links {devs} in {ns} did not come up: {states}")


# --- a topology made half by rawns, half by ip, compared with ip -j ------------------

@pytest.fixture(scope="module")
def topology():
    """Built once for the module (each rawns call costs a Python start)."""
    prefix = f"rnst{os.getpid()}xcli-"
    a, b = prefix + "a", prefix + "b"
    try:
        run_ip("netns", "add", a)
        run_ip("netns", "add", b)
        yield _build(a, b)
    finally:
        _remove_netns_with_prefix(prefix)


def _build(a: str, b: str) -> tuple[str, str]:
    no_dad(a)
    no_dad(b)
    # made by rawns
    rawns("-n", a, "link", "add", "x0", "type", "veth", "peer", "name", "x1", "netns", b)
    rawns("-n", a, "link", "add", "br0", "type", "bridge")
    rawns("-n", a, "link", "add", "vx0", "type", "vxlan", "id", "42", "remote", "192.0.2.9",
          "dstport", "4789")
    rawns("-n", a, "addr", "add", "192.168.10.1/24", "dev", "x0", "broadcast", "+",
          "label", "x0:web")
    rawns("-n", a, "addr", "add", "fd00::1/64", "dev", "x0", "nodad")
    rawns("-n", b, "addr", "add", "192.168.10.2/24", "dev", "x1")
    for ns_name, dev in ((a, "lo"), (a, "x0"), (b, "lo"), (b, "x1")):
        rawns("-n", ns_name, "link", "set", dev, "up")
    rawns("-n", a, "route", "add", "10.9.0.0/16", "via", "192.168.10.2", "metric", "5")
    rawns("-n", a, "route", "add", "default", "via", "192.168.10.254", "proto", "static")
    rawns("-n", a, "route", "add", "10.2.0.0/16", "dev", "x0", "table", "100")
    rawns("-n", a, "neigh", "add", "192.168.10.9", "lladdr", "02:00:00:00:00:09",
          "dev", "x0")
    # made by ip (the oracle), read back by rawns
    run_ip("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    run_ip("-n", a, "link", "set", "v1", "master", "br0")
    run_ip("-n", a, "addr", "add", "172.16.0.1/12", "dev", "v0")
    run_ip("-n", a, "addr", "add", "172.16.0.2/12", "dev", "v0")  # secondary
    run_ip("-n", a, "addr", "add", "10.1.2.3/8", "dev", "v0", "scope", "host")
    run_ip("-n", a, "route", "add", "blackhole", "10.10.0.0/16")
    run_ip("-n", a, "-6", "route", "add", "fd01::/64", "via", "fd00::2", "dev", "x0")
    run_ip("-n", a, "neigh", "add", "fd00::9", "lladdr", "02:00:00:00:00:19", "dev", "x0")
    run_ip("-n", a, "neigh", "add", "192.168.10.8", "lladdr", "02:00:00:00:00:08",
           "dev", "x0", "nud", "noarp")  # ip neigh show hides this one
    wait_operstate_up(a, "x0")
    wait_operstate_up(b, "x1")
    return a, b


#: Fields left out before comparing: none. ``ip -j`` without ``-s``/``-d``
#: prints no statistics or details, and the topology avoids what moves on its
#: own between two calls (IPv6 DAD is off; only permanent neighbours; links
#: are waited for until their operstate settled).
DROPPED: tuple[str, ...] = ()

SHOW_COMMANDS = [
    ("link", "show"),
    ("link", "show", "x0"),
    ("addr", "show"),
    ("-4", "addr", "show"),
    ("-6", "addr", "show"),
    ("addr", "show", "dev", "v0"),
    ("route", "show"),
    ("-6", "route", "show"),
    ("route", "show", "table", "100"),
    ("route", "show", "table", "all"),
    ("neigh", "show"),
    ("neigh", "show", "dev", "x0"),
    ("-4", "neigh", "show"),
    ("netns", "list-id"),
]


def test_json_is_what_ip_prints_for_the_same_objects(topology):
    a, b = topology
    for args in SHOW_COMMANDS:
        ours, theirs = rawns_json(a, *args), ip_json(a, *args)
        assert ours == theirs, args
    assert rawns_json(b, "addr", "show") == ip_json(b, "addr", "show")
    assert rawns_json(b, "link", "show") == ip_json(b, "link", "show")
    # the objects made through the CLI are what was asked for
    x0 = ip_json(a, "addr", "show", "dev", "x0")[0]
    v4 = [i for i in x0["addr_info"] if i["family"] == "inet"][0]
    assert (v4["local"], v4["broadcast"], v4["label"]) == (
        "192.168.10.1", "192.168.10.255", "x0:web")
    assert {"ifname": "x1"}.items() <= ip_json(b, "link", "show", "x1")[0].items()
    assert [r["dst"] for r in ip_json(a, "route", "show", "table", "100")] == ["10.2.0.0/16"]
    assert ip_json(a, "-d", "link", "show", "vx0")[0]["linkinfo"]["info_data"]["id"] == 42
    assert "192.168.10.8" not in {n["dst"] for n in rawns_json(a, "neigh", "show")}
    assert "192.168.10.8" in {n["dst"] for n in rawns_json(a, "neigh", "show", "nud", "all")}


def test_addresses_with_lifetimes_show_as_ip_shows_them(ns):
    a = ns()
    run_ip("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    run_ip("-n", a, "addr", "add", "10.3.0.1/24", "dev", "v0",
           "valid_lft", "1000", "preferred_lft", "500")
    run_ip("-n", a, "addr", "add", "fd03::1/64", "dev", "v0", "nodad",
           "valid_lft", "1000", "preferred_lft", "500")
    run_ip("-n", a, "addr", "add", "10.4.0.1/24", "dev", "v0")

    def shown(addresses):  # the lifetimes count down between the two calls
        return [{k: v for k, v in info.items() if not k.endswith("_life_time")}
                for info in addresses[0]["addr_info"]]

    ours = shown(rawns_json(a, "addr", "show", "dev", "v0"))
    assert ours == shown(ip_json(a, "addr", "show", "dev", "v0"))
    assert [info.get("dynamic") for info in ours] == [True, None, True]


def test_plain_output_reads_like_ip(topology):
    a, _ = topology
    for args in (("link", "show"), ("addr", "show"), ("route", "show"), ("neigh", "show")):
        ours = rawns("-n", a, *args).stdout.splitlines()
        theirs = run_ip("-n", a, *args).stdout.splitlines()
        # ip ends some lines with a space and names the peer namespace; the rest is equal
        assert [line.rstrip() for line in ours] == [line.rstrip() for line in theirs], args


def test_plain_route_show_is_ip_byte_for_byte(ns):
    a = ns()
    no_dad(a)
    for command in (
            "link add r0 type veth peer name r1", "link add r2 type veth peer name r3",
            "addr add 10.1.0.1/24 dev r0", "addr add fd00::1/64 dev r0 nodad",
            "addr add 10.2.0.1/24 dev r2",
            "link set r0 up", "link set r2 up", "link set r3 up", "link set lo up",
            "route add 10.3.0.0/16 via 10.1.0.2", "route add 10.4.0.0/16 dev r0 metric 5",
            "route add default via 10.2.0.3", "route add 10.5.0.0/16 via 10.2.0.9 src 10.2.0.1",
            "route add 10.6.0.0/16 via 10.9.9.9 dev r2 onlink",
            "route add 10.7.0.0/16 dev r2 proto static scope link",
            "route add blackhole 10.8.0.0/16", "route add unreachable 10.9.0.0/16",
            "route add prohibit 10.10.0.0/16", "route add 10.11.0.0/16 dev r0 table 100",
            "-6 route add fd01::/64 via fd00::2", "-6 route add blackhole fd02::/64",
            "-6 route add fd03::/64 dev r0 metric 7"):
        run_ip("-n", a, *command.split())
    wait_operstate_up(a, "r2")
    for args in (("route", "show"), ("route", "show", "table", "all"), ("-6", "route", "show"),
                 ("route", "show", "table", "100"), ("-4", "route", "show", "table", "all")):
        assert rawns("-n", a, *args).stdout == run_ip("-n", a, *args).stdout, args
    assert rawns_json(a, "route", "show") == ip_json(a, "route", "show")  # flags' order


def test_abbreviations_resolve_as_ip_does(topology):
    a, _ = topology
    full = rawns("-n", a, "link", "show").stdout
    assert rawns("-n", a, "l").stdout == full
    assert rawns("-n", a, "l", "s").stdout == full
    assert rawns("-n", a, "li", "ls").stdout == full
    assert rawns("-n", a, "a").stdout == rawns("-n", a, "address", "show").stdout
    assert rawns("-n", a, "r").stdout == rawns("-n", a, "route", "list").stdout
    assert rawns("-n", a, "n").stdout == rawns("-n", a, "neighbour", "show").stdout
    assert rawns("-n", a, "net", "list-id").stdout == rawns("-n", a, "netns", "list-id").stdout


# --- changes made through the CLI ------------------------------------------------------

def test_link_set_and_delete(ns):
    a, b = ns(), ns()
    rawns("-n", a, "link", "add", "v0", "mtu", "1400", "type", "veth", "peer", "v1")
    rawns("-n", a, "link", "add", "br0", "type", "bridge")
    rawns("-n", a, "link", "set", "v0", "master", "br0", "mtu", "1450",
          "address", "02:00:00:00:00:aa", "up")
    v0 = ip_json(a, "link", "show", "v0")[0]
    assert (v0["master"], v0["mtu"], v0["address"]) == ("br0", 1450, "02:00:00:00:00:aa")
    assert "UP" in v0["flags"]
    rawns("-n", a, "link", "set", "dev", "v0", "nomaster", "down")
    v0 = ip_json(a, "link", "show", "v0")[0]
    assert "master" not in v0 and "UP" not in v0["flags"]
    rawns("-n", a, "link", "set", "v0", "name", "renamed")
    rawns("-n", a, "link", "set", "v1", "netns", b)
    assert [e["ifname"] for e in ip_json(b, "link", "show")] == ["lo", "v1"]
    rawns("-n", a, "link", "del", "renamed")
    assert [e["ifname"] for e in ip_json(a, "link", "show")] == ["lo", "br0"]
    assert [e["ifname"] for e in ip_json(b, "link", "show")] == ["lo"]


def test_addr_route_neigh_changes(ns):
    a = ns()
    rawns("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    rawns("-n", a, "addr", "add", "192.168.20.1/24", "dev", "v0")
    for dev in ("v0", "v1"):
        rawns("-n", a, "link", "set", dev, "up")
    rawns("-n", a, "route", "add", "10.1.0.0/16", "via", "192.168.20.2")
    rawns("-n", a, "route", "replace", "10.1.0.0/16", "via", "192.168.20.3")
    assert [r["gateway"] for r in ip_json(a, "route", "show", "10.1.0.0/16")] == [
        "192.168.20.3"]
    rawns("-n", a, "route", "del", "10.1.0.0/16")
    assert ip_json(a, "route", "show", "10.1.0.0/16") == []
    rawns("-n", a, "neigh", "add", "192.168.20.9", "lladdr", "02:00:00:00:00:09",
          "dev", "v0")
    rawns("-n", a, "neigh", "replace", "192.168.20.9", "lladdr", "02:00:00:00:00:99",
          "dev", "v0", "nud", "permanent")
    assert [(e["lladdr"], e["state"]) for e in ip_json(a, "neigh", "show", "192.168.20.9")] \
        == [("02:00:00:00:00:99", ["PERMANENT"])]
    rawns("-n", a, "neigh", "del", "192.168.20.9", "dev", "v0")
    assert ip_json(a, "neigh", "show", "192.168.20.9") == []
    rawns("-n", a, "addr", "del", "192.168.20.1/24", "dev", "v0")
    assert [i for i in ip_json(a, "-4", "addr", "show", "dev", "v0")] == []


def test_netns_commands(prefix, ns):
    name = f"{prefix}cli"
    rawns("netns", "add", name)
    assert name in run_ip("netns", "list").stdout
    listed = rawns("-j", "netns", "list").stdout
    assert {"name": name} in json.loads(listed)
    other = ns()
    rawns("-n", name, "netns", "set", other, "7")
    assert rawns("-n", name, "netns", "list-id").stdout == \
        f"nsid 7 (iproute2 netns name: {other})\n"
    # exec, and identify from outside
    out = rawns("netns", "exec", name, "cat", "/proc/net/dev").stdout
    assert "lo:" in out
    sleeper = subprocess.Popen([sys.executable, "-m", "rawns", "netns", "exec", name,
                                "sleep", "10"])
    try:
        deadline = time.monotonic() + 5
        found = ""
        while time.monotonic() < deadline and name not in found:
            found = rawns("netns", "identify", str(sleeper.pid)).stdout
            time.sleep(0.05)
        assert found.split() == [name]
    finally:
        sleeper.kill()
        sleeper.wait()
    rawns("netns", "del", name)
    assert name not in run_ip("netns", "list").stdout


# --- errors: one line, no traceback, non-zero --------------------------------------------

ERRORS = [
    (["link", "add", "a" * 16, "type", "bridge"], 1, "15 bytes"),
    (["link", "add", "br0", "type", "bridge"], 2, "File exists"),
    (["link", "show", "nope0"], 2, "link 'nope0'"),
    (["link", "del", "nope0"], 2, "No such device"),
    (["addr", "add", "999.1.1.1/24", "dev", "lo"], 1, "999.1.1.1/24"),
    (["addr", "add", "10.0.0.1/24", "dev", "nope0"], 2, "link 'nope0'"),
    (["route", "add", "10.0.0.0/8", "via", "1.2.3.4"], 2, "kernel: Nexthop has invalid gateway"),
    (["neigh", "add", "10.0.0.9", "lladdr", "zz", "dev", "lo"], 1, "'zz'"),
    (["link", "frobnicate"], 1, "unknown link command 'frobnicate'; expected one of"),
    (["frobnicate"], 1, "rawns help"),
    (["link", "add", "x0", "type", "geneve"], 1, "not supported"),
    (["link", "set", "lo", "mtu", "lots"], 1, "not a number"),
]


@pytest.mark.parametrize("args,status,text", ERRORS, ids=lambda v: str(v)[:30])
def test_errors_are_one_line(topology, args, status, text):
    a, _ = topology  # it has a br0; nothing here changes it
    result = rawns("-n", a, *args, check=False)
    assert result.returncode == status, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rawns: "), result.stderr
    assert text in lines[0]
    assert result.stdout == ""


def test_missing_namespace_and_bad_names(prefix):
    result = rawns("-n", f"{prefix}missing", "link", "show", check=False)
    assert result.returncode == 2
    assert result.stderr == (f"rawns: netns '{prefix}missing': [Errno 2] No such file or "
                             "directory (from open)\n")
    for bad in ("a/b", "..", "x" * 256):
        result = rawns("netns", "add", bad, check=False)
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert result.stderr.startswith("rawns: netns add: ")
    result = rawns("netns", "del", f"{prefix}missing", check=False)
    assert result.returncode == 2 and f"netns '{prefix}missing'" in result.stderr


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_without_privileges_says_what_is_needed(topology, prefix):
    a, _ = topology
    drop = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"]
    for args in (["netns", "add", f"{prefix}nopriv"], ["-n", a, "link", "add", "br9",
                                                        "type", "bridge"]):
        result = subprocess.run([*drop, sys.executable, "-m", "rawns", *args],
                                capture_output=True, text=True, timeout=20)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "needs root or CAP_SYS_ADMIN/CAP_NET_ADMIN" in result.stderr
    assert not netns.exists(f"{prefix}nopriv")


def test_help():
    assert "OBJECT :=" in rawns("help").stdout
    assert "OBJECT :=" in rawns("--help").stdout
    for obj in ("link", "addr", "route", "neigh", "netns", "monitor", "ping", "demo"):
        text = rawns(obj, "help").stdout
        assert text.startswith("Usage:") or text.startswith("usage:"), obj
    assert rawns("help", "l").stdout == rawns("link", "help").stdout
    assert rawns("link", "add", "--help").stdout == rawns("link", "help").stdout
    result = rawns(check=False)
    assert result.returncode == 1 and "Usage:" in result.stderr


# --- trace, monitor, ping -----------------------------------------------------------------

def test_trace_shows_every_message(topology):
    a, _ = topology
    result = rawns("-n", a, "--trace", "link", "add", "br7", "type", "bridge")
    rawns("-n", a, "link", "del", "br7")
    err = result.stderr
    assert ">>> sent" in err and "<<< received" in err
    assert "RTM_NEWLINK" in err and "IFLA_IFNAME" in err and "'br7'" in err
    assert "IFLA_INFO_KIND" in err and "NLMSG_ERROR" in err and "this is an ack" in err
    assert result.stdout == ""


def _read_until(proc: subprocess.Popen, text: str, deadline: float, poke) -> str:
    seen = ""
    fd = proc.stdout.fileno()
    while text not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {text!r}; got {seen!r}")
        poke()
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536).decode()
            if not chunk:
                break
            seen += chunk
    return seen


def test_monitor_prints_changes_and_stops_cleanly_on_ctrl_c(ns):
    a = ns()
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "-n", a, "monitor", "link"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    made = []
    try:
        def poke():  # until the monitor is listening, make a link now and then
            if not made or time.monotonic() - made[-1][1] > 0.3:
                made.append((f"m{len(made)}", time.monotonic()))
                run_ip("-n", a, "link", "add", made[-1][0], "type", "bridge")
        seen = _read_until(proc, ": m", time.monotonic() + 10, poke)
        assert "<BROADCAST,MULTICAST>" in seen
        run_ip("-n", a, "link", "del", made[-1][0])
        _read_until(proc, f"Deleted {len(made) + 1}: {made[-1][0]}:", time.monotonic() + 5,
                    lambda: None)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert b"Traceback" not in err


def test_ping(topology):
    a, b = topology
    result = rawns("-n", a, "ping", "-c", "2", "-i", "0.05", "192.168.10.2")
    assert "2 packets transmitted, 2 received, 0% packet loss" in result.stdout
    assert "bytes from 192.168.10.2: icmp_seq=1 ttl=64" in result.stdout
    try:
        result = rawns("-n", a, "ping", "-c", "1", "-W", "0.2", "192.168.10.77", check=False)
        assert result.returncode == 1
        assert "1 packets transmitted, 0 received, 100% packet loss" in result.stdout
    finally:  # the failed ARP left an entry behind
        run_ip("-n", a, "neigh", "del", "192.168.10.77", "dev", "x0", check=False)
    result = rawns("-n", b, "ping", "-c", "1", "10.99.0.1", check=False)  # b: no default route
    assert result.returncode == 2 and "Network is unreachable" in result.stderr
    assert result.stderr.count("\n") == 1
