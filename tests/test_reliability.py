"""Failure, concurrency and resource limits of the namespace layer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from conftest import own_mounts
from rawns import netns, syscalls
from rawns.errors import KernelError


def test_two_processes_racing_for_the_same_names(prefix):
    names = [f"{prefix}race{i}" for i in range(40)]
    script = textwrap.dedent(f"""
        import sys, time
        from rawns import netns
        names = {names!r}
        made, lost = 0, 0
        for name in names:
            try:
                netns.add(name)
                made += 1
            except FileExistsError:
                lost += 1
        print(made, lost)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(tuple(map(int, out.split())))
    assert sum(made for made, _ in results) == len(names)
    assert all(made + lost == len(names) for made, lost in results)
    # every name is one working namespace, each distinct
    inodes = {os.stat(os.path.join(netns.RUN_DIR, n)).st_ino for n in names}
    assert len(inodes) == len(names)
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f]
    for name in names:
        assert mounts.count(os.path.join(netns.RUN_DIR, name)) == 1
    netns.delete_many(names)


def test_fds_are_not_inherited_by_programs_started_inside(prefix, tmp_path):
    name = prefix + "cloexec"
    netns.add(name)
    out = tmp_path / "fds"

    def fds_of_child() -> set[str]:
        assert netns.run(name, ["sh", "-c", f"ls /proc/self/fd > {out}"]) == 0
        return set(out.read_text().split())

    baseline = fds_of_child()
    held = [netns.open_fd(name), netns.open_fd()]
    held += netns.open_many(2)
    try:
        with netns.enter(name):
            inherited = fds_of_child() - baseline
    finally:
        for fd in held:
            os.close(fd)
    assert not inherited & {str(fd) for fd in held}
    assert not inherited


def test_fd_limit_gives_a_clear_error_and_rolls_back():
    script = textwrap.dedent("""
        import os, resource
        from rawns import netns
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        before = len(os.listdir("/proc/self/fd"))
        try:
            netns.open_many(200)
        except OSError as err:
            print("ERR", err.errno, err)
        print("FDS", len(os.listdir("/proc/self/fd")) - before)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "ERR 24" in result.stdout  # EMFILE
    assert "Too many open files" in result.stdout
    assert "FDS 0" in result.stdout


def test_thousands_of_cycles_keep_fds_and_mounts_flat(prefix):
    def counts():
        return len(os.listdir("/proc/self/fd")), own_mounts(prefix)

    names = [f"{prefix}{i}" for i in range(100)]
    netns.add_many(names)
    netns.delete_many(names)
    before = counts()
    for _ in range(10):
        netns.add_many(names)
        netns.delete_many(names)
        for fd in netns.open_many(100):
            os.close(fd)
    assert counts() == before


def _own_netns_inode() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def test_socket_in_reports_the_failing_step_and_leaves_the_thread_home(prefix, tmp_path):
    home = _own_netns_inode()
    plain = tmp_path / "not-a-namespace"
    plain.write_text("")
    fd = os.open(plain, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with pytest.raises(KernelError) as refused:
            syscalls.socket_in(fd, socket.AF_NETLINK, socket.SOCK_RAW, 0)
    finally:
        os.close(fd)
    assert (refused.value.errno, refused.value.syscall) == (22, "setns")
    assert _own_netns_inode() == home

    name = f"{prefix}sock"
    netns.add(name)
    try:
        fd = netns.open_fd(name)
        try:
            with pytest.raises(KernelError) as refused:  # no such protocol
                syscalls.socket_in(fd, socket.AF_NETLINK, socket.SOCK_RAW, 31)
            assert refused.value.syscall == "socket"
            assert _own_netns_inode() == home
            with syscalls.socket_in(fd, socket.AF_INET, socket.SOCK_DGRAM) as made:
                assert made.family == socket.AF_INET
                assert made.get_inheritable() is False
            assert _own_netns_inode() == home
        finally:
            os.close(fd)
    finally:
        netns.delete(name)
