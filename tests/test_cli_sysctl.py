"""``rawns -n NS sysctl ...`` against sysctl(8) itself, run inside the same
namespace with ``ip netns exec NS sysctl ...``: stdout byte for byte, stderr
line for line (``sysctl:`` written ``rawns:``), and the exit status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from rawns import netns
from rawns.cli.grammar import ShowHelp, UsageError
from rawns.cli.sysctl import parse
from conftest import _remove_netns_with_prefix, run_ip

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
ENV = {**os.environ, "LC_ALL": "C"}  # sysctl(8) sorts a listing by the locale's order


def sysctl(name: str, *args: str) -> tuple[str, str, int]:
    result = subprocess.run(["ip", "netns", "exec", name, "sysctl", *args],
                            capture_output=True, text=True, env=ENV, timeout=20)
    errors = "".join("rawns: " + line.removeprefix("sysctl: ")
                     for line in result.stderr.splitlines(keepends=True))
    return result.stdout, errors, result.returncode


def rawns(name: str | None, *args: str) -> tuple[str, str, int]:
    where = [] if name is None else ["-n", name]
    result = subprocess.run([sys.executable, "-m", "rawns", *where, "sysctl", *args],
                            capture_output=True, text=True, env=ENV, timeout=20)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout, result.stderr, result.returncode


@pytest.fixture(scope="module")
def pod():
    """One namespace for the module, with a link whose name holds a dot."""
    prefix = f"rnst{os.getpid()}xsysctl-"
    name = prefix + "a"
    try:
        run_ip("netns", "add", name)
        run_ip("-n", name, "link", "add", "v0.5", "type", "veth", "peer", "name", "p0")
        yield name
    finally:
        _remove_netns_with_prefix(prefix)


# Each case leaves what it wrote as the next expects: the same value is
# written by both tools, sysctl first.
CASES = [
    ["net.ipv4.ip_forward"],
    ["net.ipv4.ip_forward=1"],
    ["-w", "net.ipv4.ip_forward=0"],
    ["-n", "net.ipv4.ip_forward", "net.core.somaxconn"],
    ["-N", "net.ipv4.conf.lo"],
    ["-N", "net.ipv6.conf"],  # names of files whose read fails (stable_secret) too
    ["-N", "net.ipv6.conf.lo.stable_secret"],
    ["net.ipv4.conf.lo"],
    ["net"],
    ["--deprecated", "net.ipv4.neigh.lo"],
    ["net.ipv4.neigh.lo.retrans_time"],
    ["net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports"],
    ["-b", "net.ipv4.tcp_rmem", "net.ipv4.ip_forward"],
    ["-r", "ip_f", "net.ipv4"],
    ["net/ipv4/conf/v0.5/forwarding"],
    ["net.ipv4.conf.v0/5.forwarding=1"],
    ["net.ipv4.conf.v0/5.forwarding"],
    ["-q", "net.ipv4.conf.all.arp_notify=1"],
    ["-N", "net.ipv4.conf.all.arp_notify=0"],
    ["net.ipv4.ip_forward=1", "-n", "net.core.somaxconn"],
    ["net.ipv4.ip_forward = 0"],
    ["-nw", "net.ipv4.ip_forward=0"],
    # failures: messages and statuses (reads add up, writes or together)
    ["net.nosuch"],
    ["net.a", "net.b", "net.c"],
    ["net.a=1", "net.b=2"],
    ["-e", "net.nosuch", "net.ipv4.ip_forward"],
    ["-e", "net.nosuch=1"],
    ["net.ipv4.conf.all.forwarding=abc"],
    ["net.ipv4.ip_forward="],
    ["-w", "net.ipv4.ip_forward=0", "net.ipv4.conf.all.forwarding"],
    ["net.ipv4.ip_forward=0", "="],
    ["=1"],
    ["", ""],
    ["net.ipv4.conf=1"],
    ["net.ipv4.route.flush"],
    ["net.ipv6.conf.lo.stable_secret"],
    ["-w", "net.ipv6.conf.p0.stable_secret=::1"],
    ["net.ipv6.conf.p0.stable_secret"],
]


@needs_root
@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_as_sysctl_prints_it(pod, args):
    expected = sysctl(pod, *args)
    assert rawns(pod, *args) == expected


@needs_root
@pytest.mark.parametrize("flags", [["-a"], ["-a", "-N"], ["-A", "-n"]])
def test_all_is_the_net_part_of_sysctl_a(pod, flags):
    out, err, status = rawns(pod, *flags)
    full, _, _ = sysctl(pod, "-a", "-N")
    names = [line for line in full.splitlines(keepends=True) if line.startswith("net.")]
    if flags == ["-a", "-N"]:
        assert out == "".join(names)
    else:
        full, _, _ = sysctl(pod, *flags)
        everything = full.splitlines(keepends=True)
        if "-n" in flags:  # values alone: those of the net.* keys, found by name
            listed, _, _ = sysctl(pod, "net")
            assert out == "".join(line.split(" = ", 1)[1] for line in
                                  listed.splitlines(keepends=True))
        else:
            assert out == "".join(line for line in everything if line.startswith("net."))
    assert (err, status) == ("", 0)
    assert out.count("\n") > 100


@needs_root
def test_writes_land_in_the_namespace_only(pod, ns):
    other = ns()
    rawns(pod, "net.ipv4.conf.all.log_martians=1")
    assert sysctl(pod, "-n", "net.ipv4.conf.all.log_martians")[0] == "1\n"
    assert sysctl(other, "-n", "net.ipv4.conf.all.log_martians")[0] == "0\n"
    assert netns.sysctl(None, "net.ipv4.conf.all.log_martians") == \
        sysctl_here("net.ipv4.conf.all.log_martians")
    rawns(pod, "net.ipv4.conf.all.log_martians=0")


def sysctl_here(key: str) -> str:
    return subprocess.run(["sysctl", "-n", key], capture_output=True, text=True,
                          check=True).stdout.strip()


@needs_root
def test_json_is_one_object_of_what_was_read_and_written(pod):
    result = subprocess.run([sys.executable, "-m", "rawns", "-n", pod, "-j", "sysctl",
                             "net.ipv4.conf.lo", "net.ipv4.ip_forward=0"],
                            capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    listed, _, _ = sysctl(pod, "net.ipv4.conf.lo")
    expected = dict(line.split(" = ", 1) for line in listed.splitlines())
    assert data == {**expected, "net.ipv4.ip_forward": "0"}
    result = subprocess.run([sys.executable, "-m", "rawns", "-n", pod, "-j", "-p", "sysctl",
                             "net.ipv4.ip_forward"], capture_output=True, text=True)
    assert result.stdout == '{\n    "net.ipv4.ip_forward": "0"\n}\n'


@needs_root
def test_missing_namespace_is_one_error_of_the_command():
    out, err, status = rawns(f"rnst{os.getpid()}-no-such", "net.ipv4.ip_forward")
    assert (out, status) == ("", 2)
    assert err.count("\n") == 1 and err.startswith("rawns: ") and "no-such" in err


@pytest.mark.parametrize("args", [["kernel.hostname"], ["vm.swappiness=1"]])
def test_only_network_keys(args):
    out, err, status = rawns(None, *args)
    assert (out, status) == ("", 1)
    assert err == f"rawns: sysctl key {args[0].split('=')[0]!r} is not a network sysctl " \
                  "(net.*)\n"


@pytest.mark.parametrize("args", [[], ["-w"], ["-p"], ["-p", "/etc/sysctl.conf"], ["-Z"],
                                  ["--bogus"], ["-r"]])
def test_usage_errors_are_one_line_and_status_1(args):
    out, err, status = rawns(None, *args)
    assert (out, status) == ("", 1)
    assert err.count("\n") == 1 and err.startswith("rawns: sysctl: ")


@pytest.mark.parametrize("args", [["help"], ["-h"], ["--help"], ["-d"]])
def test_help(args):
    out, err, status = rawns(None, *args)
    assert (err, status) == ("", 0)
    assert out.startswith("Usage: rawns [-n NS] [-j [-p]] sysctl")


_OPTION = st.sampled_from(["-a", "-n", "-N", "-b", "-e", "-q", "-w", "-nw", "-Nq", "-x",
                           "--values", "--names", "--deprecated", "--", "-r", "-rx",
                           "--pattern=a", "-p", "-Z", "-h", "help"])
_KEY = st.text(alphabet=st.sampled_from(list("net.ipv4/=_ x-")), max_size=12)


@given(st.lists(_OPTION | _KEY, max_size=8))
def test_parse_takes_options_anywhere_and_keeps_the_keys_in_order(args):
    try:
        flags, keys = parse(list(args))
    except (UsageError, ShowHelp):
        return
    expected: list[str] = []
    write = False
    words = iter(args)
    for arg in words:
        if arg == "--":
            expected += list(words)
            break
        if arg == "-r":
            next(words)  # its pattern
        elif arg.startswith("-") and arg != "-":
            write = write or arg in ("-w", "-nw")
        else:
            expected.append(arg)
    assert keys == expected
    assert flags.write == write


@given(st.text(alphabet=st.sampled_from(list("net./ipv4_0-")), max_size=30))
def test_the_printed_name_reads_back_as_the_same_file(key):
    try:
        path = netns.sysctl_path(key)
    except ValueError:
        return
    name = netns.sysctl_name(key)
    assert netns.sysctl_path(name) == path
    assert netns.sysctl_name(path) == name
    assert "/" not in name.split(".")[0]


@needs_root
def test_batch_lines_write_each_namespace_and_errors_name_the_line(pod, ns, tmp_path):
    other = ns()
    script = tmp_path / "sysctl.batch"
    script.write_text(f"-n {pod} sysctl -q net.ipv4.conf.all.arp_announce=2\n"
                      f"-n {other} sysctl net.ipv4.conf.all.arp_announce=1 net.nosuch\n"
                      f"-n {pod} sysctl -n net.ipv4.conf.all.arp_announce\n")
    result = subprocess.run([sys.executable, "-m", "rawns", "-force", "-batch", str(script)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == "net.ipv4.conf.all.arp_announce = 1\n2\n"
    assert result.stderr == (f"rawns: {script}:2: cannot stat /proc/sys/net/nosuch: "
                             "No such file or directory\n")
    assert sysctl(other, "-n", "net.ipv4.conf.all.arp_announce")[0] == "1\n"
    rawns(pod, "-q", "net.ipv4.conf.all.arp_announce=0")
