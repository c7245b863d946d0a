"""rawns.netns.sysctl: network sysctls of a namespace, read and written without a fork.

The oracle is sysctl(8) run under ``ip netns exec``.
"""

from __future__ import annotations

import errno
import os
import subprocess
import threading

import pytest
from hypothesis import given, strategies as st

from rawns import netns
from rawns.errors import KernelError
from conftest import RUN_DIR, run_ip


def oracle(name: str, key: str) -> str:
    return subprocess.run(["ip", "netns", "exec", name, "sysctl", "-n", key],
                          capture_output=True, text=True, check=True).stdout.strip()


def thread_netns() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def test_read_equals_sysctl_8(ns):
    name = ns()
    for key in ("net.ipv4.ip_forward", "net.ipv4.conf.lo.forwarding",
                "net.ipv6.conf.all.forwarding", "net.ipv4.ip_local_port_range",
                "net.core.somaxconn"):
        assert netns.sysctl(name, key) == oracle(name, key)


def test_write_lands_in_that_namespace_only(ns):
    home = thread_netns()
    mine = netns.sysctl(None, "net.ipv4.ip_forward")
    red, blue = ns(), ns()
    netns.sysctl(red, "net.ipv4.ip_forward", 1)
    assert oracle(red, "net.ipv4.ip_forward") == "1"
    assert oracle(blue, "net.ipv4.ip_forward") == "0"
    assert netns.sysctl(None, "net.ipv4.ip_forward") == mine
    netns.sysctl(red, "net.ipv4.ip_forward", "0\n")
    assert oracle(red, "net.ipv4.ip_forward") == "0"
    assert thread_netns() == home


def test_namespace_by_path_and_fd(ns):
    name = ns()
    netns.sysctl(os.path.join(RUN_DIR, name), "net.ipv4.conf.all.arp_notify", 1)
    fd = netns.open_fd(name)
    try:
        assert netns.sysctl(fd, "net.ipv4.conf.all.arp_notify") == "1"
    finally:
        os.close(fd)
    assert oracle(name, "net.ipv4.conf.all.arp_notify") == "1"


def test_slash_form_reaches_an_interface_with_a_dot(ns):
    name = ns()
    run_ip("-n", name, "link", "add", "v0.5", "type", "veth", "peer", "name", "p0")
    netns.sysctl(name, "net/ipv6/conf/v0.5/accept_ra", 0)
    assert netns.sysctl(name, "net/ipv6/conf/v0.5/accept_ra") == "0"
    assert netns.sysctl(name, "net/ipv6/conf/p0/accept_ra") != "0"


def test_only_the_calling_thread_moves_and_it_comes_back(ns):
    name = ns()
    home = thread_netns()
    stop = threading.Event()
    seen: set[int] = set()

    def watch() -> None:
        while not stop.is_set():
            seen.add(thread_netns())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(200):
            netns.sysctl(name, "net.ipv4.conf.all.forwarding")
    finally:
        stop.set()
        watcher.join()
    assert seen == {home}
    assert thread_netns() == home


def test_failures_name_the_key_and_restore_the_thread(ns):
    name = ns()
    home = thread_netns()
    with pytest.raises(FileNotFoundError) as missing:
        netns.sysctl(name, "net.ipv4.conf.nosuchdev.forwarding")
    assert "net.ipv4.conf.nosuchdev.forwarding" in str(missing.value)
    assert name in str(missing.value)
    with pytest.raises(KernelError) as refused:
        netns.sysctl(name, "net.ipv4.ip_forward", "yes")
    assert refused.value.errno == errno.EINVAL
    assert "write" in str(refused.value)
    with pytest.raises(FileNotFoundError):
        netns.sysctl("rawns-no-such-netns-" + str(os.getpid()), "net.ipv4.ip_forward")
    assert thread_netns() == home


@pytest.mark.parametrize("key", ["net..ipv4", "net/ipv4/../../kernel/hostname", "net",
                                 "kernel.hostname", "vm.swappiness", "net.ipv4.\0x",
                                 "net/./ipv4/ip_forward", "/net/ipv4/ip_forward",
                                 "net.ipv4.ip_forward.", ""])
def test_bad_keys_are_value_errors_before_anything_is_opened(key):
    # The namespace does not exist: a ValueError shows nothing was opened.
    with pytest.raises(ValueError):
        netns.sysctl("rawns-no-such-netns", key)
    with pytest.raises(ValueError):
        netns.sysctl(None, key, 1)


def test_bad_values_are_refused_before_anything_is_opened():
    with pytest.raises(TypeError):
        netns.sysctl("rawns-no-such-netns", "net.ipv4.ip_forward", True)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        netns.sysctl("rawns-no-such-netns", "net.ipv4.ip_forward", 1.5)  # type: ignore[call-overload]
    with pytest.raises(ValueError):
        netns.sysctl("rawns-no-such-netns", "net.ipv4.ip_forward", "1\n0")


@given(st.text(alphabet=st.sampled_from(list("net./ipv4.\0x_-")) | st.characters(),
               max_size=40))
def test_any_key_is_a_path_below_proc_sys_net_or_a_value_error(key):
    try:
        path = netns.sysctl_path(key)
    except ValueError:
        return
    assert path.startswith("/proc/sys/net/")
    parts = path.removeprefix("/proc/sys/").split("/")
    assert all(part not in ("", ".", "..") and "\0" not in part for part in parts)
    assert os.path.normpath(path) == path
