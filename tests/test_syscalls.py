"""rawns.syscalls: the C loops' step codes, named once in C and by name in Python."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rawns import syscalls
from rawns._native import ffi, lib

HEADER = Path(__file__).resolve().parent.parent / "csrc" / "rawns.h"
# C loop -> what rawns.syscalls names each of its steps with
NAMED = {
    "add": syscalls._ADD_STEP_SYSCALL,
    "delete": syscalls._DELETE_STEP_SYSCALL,
    "open": syscalls._OPEN_STEP_SYSCALL,
    "socket": syscalls._SOCKET_STEPS,
    "open_in": syscalls._OPEN_IN_STEPS,
    "exchange": syscalls._EXCHANGE_STEPS,
}


@pytest.mark.parametrize("loop", sorted(NAMED))
def test_every_step_of_every_loop_is_an_enum_member_named_in_python(loop: str) -> None:
    members = ffi.typeof(f"enum rawns_{loop}_step").relements
    assert members and all(name.startswith(f"RAWNS_{loop.upper()}_") for name in members)
    assert 0 not in members.values()  # 0: no failure
    assert sorted(members.values()) == sorted(NAMED[loop])


def test_the_loops_report_steps_by_name_never_by_number() -> None:
    source = (HEADER.parent / "rawns.c").read_text()
    assert not re.findall(r"fail\(tally, \d+\)|failed_step = [1-9]|\*step = [1-9]", source)
    header = HEADER.read_text()
    assert set(re.findall(r"enum (rawns_\w+_step)", header)) == \
        {f"rawns_{loop}_step" for loop in NAMED}


def test_python_takes_the_step_values_from_the_extension() -> None:
    assert (syscalls.ADD_CREATE_FILE, syscalls.ADD_UNSHARE, syscalls.ADD_BIND) == \
        (lib.RAWNS_ADD_CREATE_FILE, lib.RAWNS_ADD_UNSHARE, lib.RAWNS_ADD_BIND)
    assert (syscalls.DELETE_UMOUNT, syscalls.DELETE_UNLINK) == \
        (lib.RAWNS_DELETE_UMOUNT, lib.RAWNS_DELETE_UNLINK)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_a_socket_option_the_kernel_refuses_fails_the_exchange_at_its_step(ns) -> None:
    home = os.readlink("/proc/thread-self/ns/net")
    path = os.fsencode(f"/run/netns/{ns()}")
    tally = syscalls.Tally()
    refused = ((270, 0x7FFF, 1),)  # SOL_NETLINK, an option that does not exist
    with pytest.raises(OSError) as caught:
        syscalls.exchange_many([path], 0, [[b""]], tally, options=refused)
    assert caught.value.syscall == "setsockopt"  # type: ignore[attr-defined]
    assert tally.failed_step == lib.RAWNS_EXCHANGE_SOCKOPT and tally.done == 0
    assert os.readlink("/proc/thread-self/ns/net") == home


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_open_in_opens_inside_the_namespace_and_comes_home(ns) -> None:
    home = os.readlink("/proc/thread-self/ns/net")
    name = ns()
    netns_fd = os.open(f"/run/netns/{name}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        fd = syscalls.open_in(netns_fd, "/dev/net/tun", os.O_RDWR)
        try:
            made = syscalls.tun_set_iff(fd, "rtun%d", syscalls.IFF_TAP | syscalls.IFF_NO_PI)
            assert made.startswith("rtun")
            assert syscalls.tun_get_iff(fd)[0] == made
            assert syscalls.tun_get_iff(fd)[1] & syscalls.IFF_TAP
            # The device lives in the namespace the file was opened in, not here.
            assert made not in os.listdir("/sys/class/net")
        finally:
            os.close(fd)
        with pytest.raises(OSError) as caught:
            syscalls.open_in(netns_fd, "/nonexistent/tun", os.O_RDWR)
        assert caught.value.errno == 2 and caught.value.syscall == "open"
    finally:
        os.close(netns_fd)
    assert os.readlink("/proc/thread-self/ns/net") == home
    with pytest.raises(OSError) as caught:
        syscalls.ioctl_int(0x7FFF, syscalls.TUNSETPERSIST, 1)
    assert caught.value.errno == 9  # EBADF, named


# --- netlink_socket_in: a RouteSocket's socket made, set and bound in one call ---------

def _socket_netns(fd: int) -> str:
    import fcntl

    ns_fd = fcntl.ioctl(fd, syscalls.SIOCGSKNS)
    try:
        return os.readlink(f"/proc/self/fd/{ns_fd}")
    finally:
        os.close(ns_fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_netlink_socket_in_is_made_inside_set_and_bound(ns):
    import socket as socket_module

    from rawns import netns
    from rawns.netlink.constants import NETLINK_ROUTE, NETLINK_SOCKOPT, SOL_NETLINK
    from rawns.nlsock import SOCKET_OPTIONS

    name = ns()
    home = os.readlink("/proc/thread-self/ns/net")
    target = netns.open_fd(name)
    try:
        fd, port_id = syscalls.netlink_socket_in(target, NETLINK_ROUTE, SOCKET_OPTIONS)
        expected_ns = f"net:[{os.fstat(target).st_ino}]"
    finally:
        os.close(target)
    sock = socket_module.socket(socket_module.AF_NETLINK, socket_module.SOCK_RAW,
                                NETLINK_ROUTE, fileno=fd)
    try:
        assert os.readlink("/proc/thread-self/ns/net") == home
        assert _socket_netns(fd) == expected_ns != home
        assert sock.getsockname()[0] == port_id != 0
        assert not os.get_inheritable(fd)
        for level, option, value in SOCKET_OPTIONS:
            assert sock.getsockopt(level, option) == value
        assert sock.getsockopt(SOL_NETLINK, int(NETLINK_SOCKOPT.NETLINK_GET_STRICT_CHK)) == 1
    finally:
        sock.close()
    own, own_port = syscalls.netlink_socket_in(None, NETLINK_ROUTE)
    try:
        assert _socket_netns(own) == home and own_port != 0
    finally:
        os.close(own)


def test_netlink_socket_in_names_a_refused_option_and_leaves_nothing_open():
    from rawns.errors import KernelError
    from rawns.netlink.constants import NETLINK_ROUTE

    before = sorted(os.listdir("/proc/self/fd"))
    with pytest.raises(KernelError) as caught:
        syscalls.netlink_socket_in(None, NETLINK_ROUTE, ((270, 0x7FFF, 1),))  # no such option
    assert caught.value.syscall == "setsockopt"
    assert sorted(os.listdir("/proc/self/fd")) == before
