"""``python -m rawns demo``: it runs, explains, and leaves nothing behind
(also when interrupted); ``--keep`` leaves exactly its two namespaces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from rawns import netlink
from rawns.demo import summarize
from conftest import run_ip

RUN_DIR = "/run/netns"


def root_links() -> str:
    return run_ip("-br", "link").stdout


def named() -> set[str]:
    try:
        return set(os.listdir(RUN_DIR))
    except FileNotFoundError:
        return set()


def demo_names(pid: int) -> set[str]:
    return {n for n in named() if n.startswith(f"rawns-demo-{pid}-")}


def remove(names) -> None:
    for name in names:
        run_ip("netns", "delete", name, check=False)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@needs_root
def test_demo_runs_explains_and_cleans_up():
    links_before = root_links()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "demo"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - started
        assert proc.returncode == 0, err
        assert err == ""
        for text in ("[1] Create two network namespaces", "[3] Join them with a veth pair",
                     "ip netns add rawns-demo-", "-> RTM_NEWLINK  REQUEST|ACK|EXCL|CREATE",
                     'VETH_INFO_PEER={IFLA_IFNAME="veth-blue" IFLA_NET_NS_FD=',
                     "<- NLMSG_ERROR error=0: ack", "-> RTM_NEWADDR", "IFA_LOCAL=192.168.10.1",
                     "flags UP change UP", "3/3 replies", "<- NLMSG_DONE",
                     "192.168.10.0/24 dev veth-red proto kernel scope link src 192.168.10.1",
                     "192.168.10.2 dev veth-red lladdr ", "veth-blue@if2:",
                     "deleted rawns-demo-"):
            assert text in out, text
        assert elapsed < 15
    finally:
        proc.kill()
        leftovers = demo_names(proc.pid)  # only this run's: other demos may be running
        remove(leftovers)
    assert not leftovers
    assert root_links() == links_before


@needs_root
def test_demo_verbose_shows_the_full_explain_view():
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "demo", "--verbose"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "@16 ifinfomsg (16 bytes)" in out
        assert "IFLA_NET_NS_FD (28) u32" in out
        assert "error = 0 (success: this is an ack)" in out
        assert "nlmsg_flags = NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE (0x605)" in out
        assert "ifi_type   = 0 (not given: the kernel sets the link-layer type)" in out
    finally:
        proc.kill()
        remove(demo_names(proc.pid))


@needs_root
def test_demo_keep_leaves_its_namespaces_and_says_how_to_explore():
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "demo", "--keep"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        kept = demo_names(proc.pid)
    try:
        assert proc.returncode == 0, err
        assert kept == {f"rawns-demo-{proc.pid}-red", f"rawns-demo-{proc.pid}-blue"}
        assert f"rawns -n rawns-demo-{proc.pid}-red link show" in out
        assert f"rawns netns delete rawns-demo-{proc.pid}-blue" in out
        shown = run_ip("-n", f"rawns-demo-{proc.pid}-red", "-br", "addr").stdout
        assert "veth-red@" in shown and "192.168.10.1/24" in shown
    finally:
        remove(kept)


@needs_root
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_interrupted_removes_everything(sig):
    links_before = root_links()
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "demo", "--delay", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        deadline = time.monotonic() + 20
        while "[3]" not in seen and time.monotonic() < deadline:  # mid-way, veth made
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        assert "[3]" in seen
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        leftovers = demo_names(proc.pid)
        remove(leftovers)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert "Cleaning up" in out and f"deleted rawns-demo-{proc.pid}-blue" in out
    assert not leftovers
    assert root_links() == links_before


@needs_root
def test_demo_cleans_up_when_its_reader_goes_away():
    # rawns demo | head -5: the reader closes the pipe; the demo's next line
    # fails (BrokenPipeError), and its cleanup must not depend on printing.
    links_before = root_links()
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "demo", "--delay", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(5):
            proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        leftovers = demo_names(proc.pid)
        remove(leftovers)
    assert not leftovers
    assert "Traceback" not in err
    assert proc.returncode == 0  # as any command whose reader went away
    assert root_links() == links_before


@needs_root
def test_sigterm_while_the_demo_is_blocked_writing_cleans_up_first():
    # rawns demo | less, the reader not reading: the demo blocks on a write.
    # SIGTERM (timeout, docker stop) must remove the namespaces although
    # nothing can be printed; a second signal then ends it at once.
    import fcntl

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, 1031, 4096)  # F_SETPIPE_SZ: a small pipe fills early
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "demo"], stdout=write_end,
                            stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    try:
        deadline = time.monotonic() + 20
        while len(demo_names(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(demo_names(proc.pid)) == 2
        time.sleep(0.5)  # blocked on a write by now (the pipe holds 4 KiB)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while demo_names(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not demo_names(proc.pid)  # removed, while still blocked
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert proc.returncode == 130
        assert "Traceback" not in proc.stderr.read()
    finally:
        os.close(read_end)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        remove(demo_names(proc.pid))


DEMO_SIGNALLED_WHILE_CLEANING = """
import os, signal, sys
from rawns import netns
from rawns.cli import main

real_delete, real_delete_many = netns.delete, netns.delete_many

def delete(name):  # a signal lands before each deletion
    os.kill(os.getpid(), signal.{sig})
    real_delete(name)

def delete_many(names, **options):
    os.kill(os.getpid(), signal.{sig})
    real_delete_many(names, **options)

netns.delete, netns.delete_many = delete, delete_many
sys.exit(main(["demo"]))
"""


@needs_root
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_during_the_demos_cleanup_does_not_cut_it_short(sig):
    proc = subprocess.Popen([sys.executable, "-c", DEMO_SIGNALLED_WHILE_CLEANING.format(sig=sig)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        leftovers = demo_names(proc.pid)
        remove(leftovers)
    assert not leftovers
    assert "could not delete" not in err
    assert proc.returncode == 130, err  # the signal is not lost: it ends the demo after
    assert "Traceback" not in err
    assert f"deleted rawns-demo-{proc.pid}-red" in out
    assert f"deleted rawns-demo-{proc.pid}-blue" in out


def test_demo_help_and_bad_option():
    proc = subprocess.run([sys.executable, "-m", "rawns", "demo", "--help"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "--keep" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "rawns", "demo", "--frob"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr == "rawns: demo: unknown option '--frob' (try 'rawns demo --help')\n"


# --- the one-line summary, from bytes alone ----------------------------------------------

def test_summarize_requests_acks_and_errors():
    request = netlink.requests.link_get(ifname="lo").with_seq(7, pid=0)
    [message] = netlink.decode(netlink.encode(request))
    assert summarize(message, sent=True) == '-> RTM_GETLINK  REQUEST  IFLA_IFNAME="lo"'
    veth = netlink.requests.veth_add("a0", "b0", peer_netns_fd=5).with_seq(1, pid=0)
    [message] = netlink.decode(netlink.encode(veth))
    line = summarize(message, sent=True)
    assert line.startswith("-> RTM_NEWLINK  REQUEST|ACK|EXCL|CREATE  IFLA_IFNAME=\"a0\"")
    assert 'VETH_INFO_PEER={IFLA_IFNAME="b0" IFLA_NET_NS_FD=5}' in line
    data = os.path.join(os.path.dirname(__file__), "netlink", "data")
    with open(os.path.join(data, "ack_ifb.bin"), "rb") as f:
        [ack] = netlink.decode(f.read())
    assert summarize(ack, sent=False).startswith("<- NLMSG_ERROR error=0: ack")
    with open(os.path.join(data, "error_veth_exists.bin"), "rb") as f:
        [error] = netlink.decode(f.read())
    text = summarize(error, sent=False)
    assert text.startswith("<- NLMSG_ERROR error=-17: File exists")
