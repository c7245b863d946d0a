"""Link kinds, tun/tap devices and the netns extras, made by rawns and by ip
with the same words and compared through ip (``-d -j``), plus the kinds this
kernel refuses, which must reach the user as one line naming the kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import run_ip
from rawns import Handle, netns
from test_cli_routes import ip, rawns

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

# Each link's own, random or numbered fields: not comparable across namespaces.
VOLATILE = ("ifindex", "address", "link_index", "link", "bridge_id", "root_id")


def _comparable(entries: list[dict]) -> list[dict]:
    out = []
    for entry in entries:
        entry = {k: v for k, v in entry.items() if k not in VOLATILE}
        info = entry.get("linkinfo", {}).get("info_data")
        if info:
            entry["linkinfo"]["info_data"] = {k: v for k, v in info.items()
                                              if k not in VOLATILE}
        out.append(entry)
    return out


def _links(ns: str) -> list[dict]:
    return _comparable(json.loads(ip("-n", ns, "-d", "-j", "link", "show")[1]))


def _pair(ns, commands: list[str]) -> tuple[str, str]:
    """The same ``link add`` words run by ip in one namespace, by rawns in another."""
    by_ip, by_rawns = ns(), ns()
    for name in (by_ip, by_rawns):
        run_ip("-n", name, "link", "add", "low0", "type", "veth", "peer", "name", "low1")
    for command in commands:
        run_ip("-n", by_ip, *command.split())
        status, _, err = rawns("-n", by_rawns, *command.split())
        assert status == 0, (command, err)
    return by_ip, by_rawns


def test_macvlan_in_each_mode_is_what_ip_makes(ns) -> None:
    commands = [f"link add mv{i} link low0 type macvlan mode {mode}"
                for i, mode in enumerate(("private", "vepa", "bridge", "source"))]
    commands += ["link add mvt0 link low0 type macvtap mode bridge",
                 "link add mv9 link low1 type macvlan mode passthru nopromisc",
                 "link add mv8 link low0 type macvlan bcqueuelen 77"]
    by_ip, by_rawns = _pair(ns, commands)
    assert _links(by_rawns) == _links(by_ip)
    assert "passthru" in ip("-n", by_rawns, "-d", "link", "show", "mv9")[1]


def test_a_veth_peer_placed_by_nsid(ns) -> None:
    here, there = ns(), ns()
    run_ip("-n", here, "netns", "set", there, "7")
    assert rawns("-n", here, "link", "add", "v0", "link-netnsid", "7", "type", "veth",
                 "peer", "name", "v1")[0] == 0
    (peer,) = [e for e in json.loads(ip("-n", there, "-j", "link", "show")[1])
               if e["ifname"] == "v1"]
    (mine,) = [e for e in json.loads(ip("-n", here, "-j", "link", "show")[1])
               if e["ifname"] == "v0"]
    assert mine["link_netnsid"] == 7 and mine["link_index"] == peer["ifindex"]
    with Handle(here) as handle:
        handle.link_add_veth("w0", "w1", peer_netnsid=7)
        with pytest.raises(ValueError):
            handle.link_add_veth("x0", "x1", peer_netnsid=7, peer_netns=there)
        with pytest.raises(OSError):  # no namespace has nsid 99 here
            handle.link_add_veth("y0", "y1", peer_netnsid=99)
    assert "w1" in ip("-n", there, "link", "show")[1]
    assert "y0" not in ip("-n", here, "link", "show")[1]


@pytest.mark.parametrize("command, kind", [
    ("link add d0 type dummy", "dummy"),
    ("link add link lo name v0 type vlan id 5", "vlan"),
    ("link add iv0 link lo type ipvlan mode l3", "ipvlan"),
    ("link add bo0 type bond mode active-backup miimon 100", "bond"),
    ("link add vr0 type vrf table 10", "vrf"),
    ("link add wg0 type wireguard", "wireguard"),
])
def test_a_kind_the_kernel_lacks_is_one_clear_line(ns, command, kind) -> None:
    name = ns()
    expected_status, _ = ip("-n", name, *command.split())
    if expected_status == 0:
        pytest.fail(f"this kernel has {kind}: the refusal cannot be tested here")
    status, out, err = rawns("-n", name, *command.split())
    assert (status, out) == (2, "") and len(err.splitlines()) == 1, err
    assert "Unknown device type" in err and f"no {kind!r} links" in err


# (one_queue is left out: the kernel ignores it since Linux 3.8 and netlink does not
# report it; ip shows it from sysfs, rawns cannot see it.)
TUNTAP = ["tuntap add tp0 mode tap", "tuntap add tn0 mode tun multi_queue user 1000 group 100",
          "tuntap add dev tp1 mode tap vnet_hdr pi", "tuntap add tn1 mode tun"]


def test_tuntap_devices_are_what_ip_makes(ns) -> None:
    by_ip, by_rawns = ns(), ns()
    for command in TUNTAP:
        run_ip("-n", by_ip, *command.split())
        assert rawns("-n", by_rawns, *command.split())[0] == 0, command
    assert _links(by_rawns) == _links(by_ip)
    for listing in (["tuntap", "show"], ["-j", "tuntap", "show"], ["tuntap"]):
        assert rawns("-n", by_rawns, *listing)[:2] == ip("-n", by_ip, *listing), listing
    assert rawns("-n", by_rawns, "tuntap", "del", "tp0", "mode", "tap")[0] == 0
    run_ip("-n", by_ip, "tuntap", "del", "tp0", "mode", "tap")
    assert rawns("-n", by_rawns, "tuntap", "show")[:2] == ip("-n", by_ip, "tuntap", "show")
    # The mode must be the device's, as with ip.
    assert ip("-n", by_ip, "tuntap", "del", "tn0", "mode", "tap")[0] != 0
    status, _, err = rawns("-n", by_rawns, "tuntap", "del", "tn0", "mode", "tap")
    assert status == 2 and "TUNSETIFF" in err and len(err.splitlines()) == 1


def test_tuntap_show_names_the_processes_holding_it(ns) -> None:
    name = ns()
    with Handle(name) as handle:
        assert handle.tuntap_add("tq%d", "tap") == "tq0"
    holder = subprocess.Popen(
        ["ip", "netns", "exec", name, sys.executable, "-c",
         "import fcntl, os, struct, sys, time\n"
         "fd = os.open('/dev/net/tun', os.O_RDWR)\n"
         "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'tq0', 0x0002 | 0x1000))\n"
         "print('ready', flush=True); time.sleep(30)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        pid = holder.pid
        expected = ip("-n", name, "-d", "tuntap", "show")
        assert rawns("-n", name, "-d", "tuntap", "show")[:2] == expected
        assert any(p == (n, pid) or n.startswith("python") for n, p in
                   netns.tun_processes("tq0"))
        data = json.loads(rawns("-n", name, "-d", "-j", "tuntap", "show")[1])
        assert data[0]["processes"] and data[0]["flags"] == ["tap", "persist"]
    finally:
        holder.kill()
        holder.wait()


def test_netns_pids_and_attach_are_ips(ns) -> None:
    name = ns()
    sleeper = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "30"])
    try:
        deadline = time.monotonic() + 5
        while not ip("netns", "pids", name)[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rawns("netns", "pids", name)[:2] == ip("netns", "pids", name)
        assert str(sleeper.pid) in rawns("netns", "pids", name)[1].split()
        alias = name + "-attached"
        assert rawns("netns", "attach", alias, str(sleeper.pid))[0] == 0
        try:
            # ip identify names one of them; both are the sleeper's namespace.
            same = {os.stat(f"/run/netns/{n}").st_ino for n in (name, alias)}
            assert same == {os.stat(f"/proc/{sleeper.pid}/ns/net").st_ino}
            assert sorted(rawns("netns", "identify", str(sleeper.pid))[1].split()) == \
                sorted([name, alias])
            status, _, err = rawns("netns", "attach", alias, str(sleeper.pid))
            assert status == 2 and "File exists" in err
        finally:
            run_ip("netns", "delete", alias)
    finally:
        sleeper.kill()
        sleeper.wait()
    status, _, err = rawns("netns", "attach", name + "-x", "999999999")
    assert status == 2 and "pid 999999999" in err and len(err.splitlines()) == 1
    assert not os.path.exists(f"/run/netns/{name}-x")


ALL_EXEC = """
set -e
mount --make-rprivate /
mount -t tmpfs none /run/netns
ip netns add {prefix}a
ip netns add {prefix}b
echo '== ip'
ip -all netns exec sh -c 'echo hi; exit 3' 2>&1; echo "rc=$?"
ip -all netns exec nosuchprogram 2>&1; echo "rc=$?"
echo '== rawns'
{python} -m rawns -all netns exec sh -c 'echo hi; exit 3' 2>&1; echo "rc=$?"
{python} -m rawns -all netns exec nosuchprogram 2>&1; echo "rc=$?"
ip netns del {prefix}a
ip netns del {prefix}b
"""


def test_all_netns_exec_runs_in_each_namespace_as_ip(prefix) -> None:
    # A private /run/netns in a private mount namespace: -all sees only ours.
    script = ALL_EXEC.format(prefix=prefix, python=sys.executable)
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                            text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr
    by_ip, by_rawns = result.stdout.split("== rawns\n")
    assert by_ip.removeprefix("== ip\n") == by_rawns
    assert by_rawns.count("hi\n") == 2 and "rc=0" in by_rawns
    assert by_rawns.count('exec of "nosuchprogram" failed') == 2
