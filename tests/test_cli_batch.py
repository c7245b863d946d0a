"""``rawns -batch FILE|-`` and ``-force``: the same files run by ip and by rawns
leave the same state and report failures at the same lines with ip's exit
status; a W2-shaped file (lines naming namespaces with ``-n``) runs as one
``rawns.Batch``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from hypothesis import given, strategies as st

from conftest import run_ip
from rawns.cli.batch import Line, fast_batch, fast_plan, read_lines
from rawns.cli.grammar import Options
from test_cli_routes import ip, rawns

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root")


def rawns_process(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "rawns", *args], input=stdin,
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def settled(*names: str) -> None:
    """Wait until no link of these namespaces waits for its carrier (that
    settles on its own, a moment after the link and its peer are up)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not any("NO-CARRIER" in ip("-n", name, "link", "show")[1] for name in names):
            return
        time.sleep(0.05)


def state(ns: str) -> list:
    """Links and addresses as ip sees them, without what differs between two
    namespaces made alike (ifindexes, MACs, kernel-made IPv6 addresses)."""
    links = json.loads(ip("-n", ns, "-j", "addr", "show")[1])
    out = []
    for link in links:
        out.append({"ifname": link["ifname"], "flags": link["flags"],
                    "mtu": link.get("mtu"), "master": link.get("master"),
                    "addrs": sorted(f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]
                                    if not a["local"].startswith("fe80"))})
    return sorted(out, key=lambda e: e["ifname"])


# --- parsing (no kernel) -----------------------------------------------------------------

def test_lines_keep_their_numbers_options_and_words() -> None:
    text = ("# a comment\n\nlink show lo\n  -n blue  addr add 10.0.0.1/24 dev eth0 \n"
            "-j -n red link\nlink set \"lo\" up # trailing comment\n-bogus link\n-n\n")
    lines = read_lines(text, Options())
    assert [(line.number, line.words) for line in lines if isinstance(line, Line)] == [
        (3, ["link", "show", "lo"]), (4, ["addr", "add", "10.0.0.1/24", "dev", "eth0"]),
        (5, ["link"]), (6, ["link", "set", "lo", "up"])]
    assert lines[1].options.netns == "blue" and lines[2].options.json  # type: ignore[union-attr]
    errors = [line for line in lines if not isinstance(line, Line)]
    assert [number for number, _ in errors] == [7, 8]


def test_the_command_lines_options_apply_unless_a_line_overrides_them() -> None:
    base = Options()
    base.netns, base.json = "host", True
    (first, second) = read_lines("link\n-n pod link\n", base)
    assert (first.options.netns, first.options.json) == ("host", True)  # type: ignore[union-attr]
    assert second.options.netns == "pod"  # type: ignore[union-attr]


@given(st.text(max_size=300))
def test_any_text_is_lines_or_errors(text: str) -> None:
    for line in read_lines(text, Options()):
        assert isinstance(line, Line) and line.words or isinstance(line, tuple)


W2 = ("netns add {p}p0\n-n {p}host link add vh0 up type veth peer name eth0 netns {p}p0\n"
      "-n {p}p0 addr add 10.0.0.2/16 dev eth0\n-n {p}p0 link set eth0 up\n"
      "-n {p}p0 link set lo up\n"
      "netns add {p}p1\n-n {p}host link add vh1 up type veth peer name eth0 netns {p}p1\n"
      "-n {p}p1 addr add 10.0.0.3/16 dev eth0\n-n {p}p1 link set eth0 up\n"
      "-n {p}p1 link set lo up\n-n {p}host link add br0 type bridge\n"
      "-n {p}host link set vh1 master br0\n")


def test_a_w2_file_is_one_batch_and_what_is_not_is_not() -> None:
    lines = [line for line in read_lines(W2.format(p="x"), Options()) if isinstance(line, Line)]
    batch = fast_plan(lines)
    assert batch is not None and len(batch.ops) == len(lines)
    for text in ("link show\n", "route add default via 10.0.0.1\n",
                 "-n xp0 link set eth0 up\nnetns add xp0\n",  # needs what a later line makes
                 "link set vh0 up\nlink add vh0 type veth peer name x\n",
                 "-j link add a type veth peer name b\n",
                 "addr add 10.0.0.1/24 dev eth0 label eth0:1\n"):
        lines = [line for line in read_lines(text, Options()) if isinstance(line, Line)]
        assert fast_plan(lines) is None, text


def _general(text: str, base: Options) -> object:
    lines = read_lines(text, base)
    if not all(isinstance(line, Line) for line in lines):
        return None
    batch = fast_plan([line for line in lines if isinstance(line, Line)])
    return None if batch is None else batch.ops


def test_the_one_pass_reader_plans_what_the_general_one_plans() -> None:
    """``fast_batch`` (run_batch's first try) gives the Batch that read_lines
    and fast_plan give, or None; where it gives None the general path runs."""
    texts = [W2.format(p="x"), "-n a link add v0 mtu abc type veth peer name v1\n",
             "-n a addr add 10.0.0.1/24\n", "-n a/b link set lo up\n",
             "-n x link set lo up\nnetns add x\n", "-netns y link set lo up\n",
             "--netns y link set lo mtu 1400\n-n y link set lo\n"]
    assert fast_batch(texts[0], Options()) is not None
    for text in texts:
        fast = fast_batch(text, Options())
        assert (None if fast is None else fast.ops) == _general(text, Options()), text
    base = Options()
    base.netns = "host"
    fast = fast_batch("link add a type veth peer name b netns p\n", base)
    assert fast is not None and fast.ops == _general(
        "link add a type veth peer name b netns p\n", base)
    base.json = True
    assert fast_batch("link set lo up\n", base) is None


_WORDS = st.sampled_from(["-n", "p0", "p1", "host", "netns", "add", "link", "addr", "set",
                          "up", "down", "type", "veth", "bridge", "peer", "name", "eth0",
                          "lo", "10.0.0.1/24", "dev", "mtu", "1400", "master", "br0", "-j",
                          "local", "10.0.0.2", "x/y", "7", "change", "l", "a"])


@given(st.lists(st.lists(_WORDS, min_size=1, max_size=9), max_size=6))
def test_the_one_pass_reader_agrees_on_any_lines(lines: list[list[str]]) -> None:
    text = "".join(" ".join(words) + "\n" for words in lines)
    fast = fast_batch(text, Options())
    general = _general(text, Options())
    assert (None if fast is None else fast.ops) == general or (
        fast is None and "-j" in text)  # -j is for the general reader alone


# --- against ip ----------------------------------------------------------------------------

@needs_root
def test_a_w2_file_makes_what_ip_makes(prefix) -> None:
    mine, theirs = prefix + "r", prefix + "i"
    for p in (mine, theirs):
        run_ip("netns", "add", p + "host")
    result = rawns_process("-batch", "-", stdin=W2.format(p=mine))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    # ip: the same lines, each with its -n as ip's own option
    for line in W2.format(p=theirs).splitlines():
        run_ip(*line.split())
    settled(*(p + name for p in (mine, theirs) for name in ("host", "p0", "p1")))
    for name in ("host", "p0", "p1"):
        assert state(mine + name) == state(theirs + name), name
    assert "10.0.0.3/16" in str(state(mine + "p1"))


FILE = """link add a0 type veth peer name a1
# the second one fails: a0 exists
link add a0 type veth peer name a1
addr add 10.0.0.1/24 dev a0

bogus command
link set a0 up
addr add 10.0.0.9/24 dev nosuchdev
link show lo
"""


@needs_root
@pytest.mark.parametrize("force", [False, True])
def test_failures_stop_or_go_on_as_with_ip(ns, tmp_path, force) -> None:
    mine, theirs = ns(), ns()
    path = tmp_path / "commands"
    path.write_text(FILE)
    options = ["-force"] if force else []
    by_ip = subprocess.run(["ip", "-n", theirs, *options, "-batch", str(path)],
                           capture_output=True, text=True)
    by_rawns = rawns_process("-n", mine, *options, "-batch", str(path))
    assert by_rawns.returncode == by_ip.returncode == 1
    assert by_rawns.stdout == by_ip.stdout  # link show lo, with -force
    failed_ip = [line.rsplit(":", 1)[1] for line in by_ip.stderr.splitlines()
                 if line.startswith("Command failed")]
    failed_rawns = [line.split(":")[2] for line in by_rawns.stderr.splitlines()]
    assert failed_rawns == failed_ip == (["3", "6", "8"] if force else ["3"])
    assert all(line.startswith(f"rawns: {path}:") for line in by_rawns.stderr.splitlines())
    assert state(mine) == state(theirs)


@needs_root
def test_show_lines_print_what_ip_prints_and_stdin_is_dash(ns) -> None:
    name = ns()
    run_ip("-n", name, "link", "add", "s0", "type", "veth", "peer", "name", "s1")
    # (addr before link: after a 'link' line ip's later 'addr' lines print the
    # link mode too, a state ip keeps from one batch line to the next.)
    text = "addr show dev s0\nlink show\nlink show s1\nroute show table all\n"
    by_ip = subprocess.run(["ip", "-n", name, "-batch", "-"], input=text,
                           capture_output=True, text=True)
    by_rawns = rawns_process("-n", name, "-batch", "-", stdin=text)
    assert (by_rawns.returncode, by_rawns.stdout) == (0, by_ip.stdout)
    json_line = rawns_process("-n", name, "-batch", "-", stdin="-j link show s1\n")
    assert json.loads(json_line.stdout) == json.loads(ip("-n", name, "-j", "link", "show",
                                                         "s1")[1])


@needs_root
def test_a_failing_batch_leaves_what_the_lines_before_made(prefix) -> None:
    # Fast path first (one Batch); it fails on the taken name, is undone, and the
    # lines then run in order as ip runs them: the first pod stays, the rest is not made.
    run_ip("netns", "add", prefix + "host")
    run_ip("netns", "add", prefix + "p1")  # taken: line 6 fails
    result = rawns_process("-batch", "-", stdin=W2.format(p=prefix))
    assert result.returncode == 1
    assert result.stderr.startswith("rawns: -:6: netns") and "File exists" in result.stderr
    assert "10.0.0.2/16" in str(state(prefix + "p0"))
    assert "vh1" not in ip("-n", prefix + "host", "link", "show")[1]


@needs_root
def test_a_missing_file_is_one_line() -> None:
    result = rawns_process("-batch", "/nonexistent/commands")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "/nonexistent/commands" in result.stderr
    assert rawns("-batch", "f", "link")[0] == 1  # -batch takes no command
