"""The syscalls rawns makes through its C extension, each failure a KernelError naming it.

1:1 wrappers (unshare, setns, mount...) and the C loops that must run at
kernel speed (``add_many``, ``delete_many``, ``open_many``, ``exchange_many``),
whose failing step comes back as a member of a C enum, named here.

Invariants:
- No other module imports ``rawns._native``; no ``ffi`` object leaves here.
- Every wrapper either succeeds or raises a ``KernelError`` naming the syscall
  and the object it acted on; C returns raw values, Python names them.
- Nothing here decides policy (names, paths, rollback): callers do.
"""

from __future__ import annotations

import errno
import os
from _thread import allocate_lock

from rawns.errors import (
    PRIVILEGE_HINT, ExtensionMissingError, KernelError, ThreadStrandedError, kernel_error,
)

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    import socket
    import threading
    from collections.abc import Sequence
    from typing import Any

try:
    from rawns._native import ffi, lib
except ModuleNotFoundError as err:  # not ImportError: a broken build should say why itself
    if err.name != "rawns._native":
        raise
    raise ExtensionMissingError(os.path.dirname(os.path.abspath(__file__))) from err

__all__ = [
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWUSER",
    "MS_BIND",
    "MS_REC",
    "MS_SHARED",
    "MS_SLAVE",
    "MS_PRIVATE",
    "MNT_DETACH",
    "UMOUNT_NOFOLLOW",
    "NS_GET_NSTYPE",
    "SIOCGSKNS",
    "Tally",
    "ADD_CREATE_FILE",
    "ADD_UNSHARE",
    "ADD_BIND",
    "ADD_CHECK_HOME",
    "DELETE_UMOUNT",
    "DELETE_UNLINK",
    "CANNOT_RETURN",
    "has_sys_admin",
    "stranded",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "Progress",
    "add_many",
    "delete_many",
    "open_many",
    "socket_in",
    "open_in",
    "tun_set_iff",
    "tun_get_iff",
    "ioctl_int",
    "TUNSETPERSIST",
    "TUNSETOWNER",
    "TUNSETGROUP",
    "IFF_TUN",
    "IFF_TAP",
    "IFF_NO_PI",
    "IFF_ONE_QUEUE",
    "IFF_VNET_HDR",
    "IFF_MULTI_QUEUE",
    "recv_many",
    "exchange_many",
    "EXCHANGE_FATAL_STEPS",
    "INBOX_BYTES",
    "INBOX_DATAGRAMS",
]

CLONE_NEWNET: int = lib.CLONE_NEWNET
CLONE_NEWNS: int = lib.CLONE_NEWNS
CLONE_NEWUSER: int = lib.CLONE_NEWUSER
MS_BIND: int = lib.MS_BIND
MS_REC: int = lib.MS_REC
MS_SHARED: int = lib.MS_SHARED
MS_SLAVE: int = lib.MS_SLAVE
MS_PRIVATE: int = lib.MS_PRIVATE
MNT_DETACH: int = lib.MNT_DETACH
UMOUNT_NOFOLLOW: int = lib.UMOUNT_NOFOLLOW
NS_GET_NSTYPE: int = lib.NS_GET_NSTYPE
#: ioctl(2) on a socket: a new O_CLOEXEC fd to the network namespace it belongs to.
SIOCGSKNS: int = lib.SIOCGSKNS


def _fail(syscall: str, subject: str | None = None) -> KernelError:
    return kernel_error(ffi.errno, syscall=syscall, subject=subject)


def unshare(flags: int) -> None:
    """unshare(2) for the calling thread."""
    if lib.rawns_unshare(flags) < 0:
        raise _fail("unshare")


def setns(fd: int, nstype: int, *, subject: str | None = None) -> None:
    """setns(2): move the calling thread into the namespace behind ``fd``."""
    if lib.rawns_setns(fd, nstype) < 0:
        raise _fail("setns", subject)


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    """mount(2)."""
    rc = lib.rawns_mount(
        _cstr(source), os.fsencode(target), _cstr(fstype), flags, _cstr(data)
    )
    if rc < 0:
        raise _fail("mount", repr(target))


def umount2(target: str, flags: int) -> None:
    """umount2(2)."""
    if lib.rawns_umount2(os.fsencode(target), flags) < 0:
        raise _fail("umount2", repr(target))


def _cstr(value: str | None) -> Any:  # a char * for cffi
    return ffi.NULL if value is None else os.fsencode(value)


class Tally:
    """Progress of one bulk loop, kept in C memory by the loop itself.

    It stays exact even when a KeyboardInterrupt lands between the C call
    returning and the caller's next statement, which is what rollback needs.
    """

    __slots__ = ("_c",)

    def __init__(self) -> None:
        self._c: Any = ffi.new("struct rawns_tally *")

    @property
    def done(self) -> int:
        """Items fully finished by the last loop."""
        done: int = self._c.done
        return done

    @property
    def failed_step(self) -> int:
        """0, or the step at which item ``done`` failed."""
        step: int = self._c.failed_step
        return step

    @property
    def stranded(self) -> bool:
        """Whether the loop could not move the thread back home."""
        return bool(self._c.stranded)


class Progress:
    """How far a C loop running in another thread has got, for a thread that
    watches it (``add_many``, ``ExchangeStream``): C memory the loop writes
    through atomics, and a futex wait on it that needs no interpreter lock."""

    __slots__ = ("_c",)

    def __init__(self) -> None:
        self._c: Any = ffi.new("struct rawns_progress *")

    def wait(self, target: int) -> int:
        """Wait until ``target`` items are done, or the loop is over (then
        fewer); returns how many are. A signal's handler runs meanwhile (its
        exception, KeyboardInterrupt, ends the wait)."""
        while True:
            # returns once satisfied, on a signal, or after 20 ms at most:
            # a handler (Ctrl-C) runs between two calls
            done: int = lib.rawns_progress_wait(self._c, target)
            if done >= target:
                return done
            if self._c.finished:  # done is final once finished is set
                final: int = self._c.done
                return final

    @property
    def done(self) -> int:
        """Items done so far (final once ``finished``)."""
        done: int = self._c.done
        return done

    @property
    def finished(self) -> bool:
        """Whether the loop is over: its tally and error are final."""
        return bool(self._c.finished)

    def stop(self) -> None:
        """Let the loop start no further item."""
        self._c.stop = 1


#: The hint of a refused check that a thread could come back before it leaves.
CANNOT_RETURN = (f"{PRIVILEGE_HINT}, also over the caller's own netns to come back to it, "
                 f"which a user namespace that does not own it lacks; nothing was made")


_CAP_SYS_ADMIN = 21


def has_sys_admin() -> bool:
    """Whether the calling thread has CAP_SYS_ADMIN in its user namespace
    (its effective set, from ``/proc/thread-self/status``)."""
    try:
        with open("/proc/thread-self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> _CAP_SYS_ADMIN & 1)
    except OSError:
        pass
    return False


def _cannot_return(errno_value: int, subject: str | None) -> KernelError:
    """The refusal of the check that a thread could come back: for a caller
    with CAP_SYS_ADMIN, it means its user namespace does not own its netns."""
    err = kernel_error(errno_value, syscall="setns", subject=subject)
    if errno_value == errno.EPERM and has_sys_admin():
        err.hint = CANNOT_RETURN
    return err


def stranded(errno_value: int) -> ThreadStrandedError:
    """The error of a thread left outside its own namespace (see
    ``ThreadStrandedError``), caused by the KernelError of the setns."""
    cause = kernel_error(errno_value, syscall="setns", subject="the thread's own netns")
    err = ThreadStrandedError(f"this thread could not return to its own network namespace "
                              f"and is left in another one ({cause})")
    err.__cause__ = cause
    return err


# Each C loop reports the step it failed at as a member of its own enum
# (csrc/rawns.h), named RAWNS_<LOOP>_<STEP>; here each is named by its syscall.

#: Steps of one creation in ``add_many``, as the C loop reports them.
ADD_CREATE_FILE: int = lib.RAWNS_ADD_CREATE_FILE
ADD_UNSHARE: int = lib.RAWNS_ADD_UNSHARE
ADD_BIND: int = lib.RAWNS_ADD_BIND
ADD_CHECK_HOME: int = lib.RAWNS_ADD_CHECK_HOME
_ADD_STEP_SYSCALL = {ADD_CREATE_FILE: "open", ADD_UNSHARE: "unshare", ADD_BIND: "mount",
                     lib.RAWNS_ADD_OPEN_HOME: "open", ADD_CHECK_HOME: "setns"}
#: Steps of one deletion in ``delete_many``, as the C loop reports them.
DELETE_UMOUNT: int = lib.RAWNS_DELETE_UMOUNT
DELETE_UNLINK: int = lib.RAWNS_DELETE_UNLINK
_DELETE_STEP_SYSCALL = {DELETE_UMOUNT: "umount2", DELETE_UNLINK: "unlink"}
_OPEN_STEP_SYSCALL = {lib.RAWNS_OPEN_UNSHARE: "unshare", lib.RAWNS_OPEN_FD: "open",
                      lib.RAWNS_OPEN_OPEN_HOME: "open", lib.RAWNS_OPEN_CHECK_HOME: "setns"}


def _joined(paths: Sequence[bytes]) -> bytes:
    return b"\0".join(paths) + b"\0"


def _subject(path: bytes) -> str:
    return f"netns {os.fsdecode(os.path.basename(path))!r}"


def add_many(paths: Sequence[bytes], tally: Tally, progress: Progress | None = None) -> None:
    """Create a namespace bind-mounted at each path, in one C loop; the
    calling thread is home again when it returns.

    Raises before anything is made if the thread could not come back from
    another namespace; on failure, the KernelError of item ``tally.done`` at
    ``tally.failed_step``; ThreadStrandedError if it could not go home. With
    a ``progress``, another thread may watch each namespace being made, and
    stop the loop before the next one (then it returns early, without error).
    """
    watch = ffi.NULL if progress is None else progress._c
    if lib.rawns_netns_add_many(_joined(paths), len(paths), tally._c, watch) < 0:
        err = ffi.errno
        if tally.stranded:
            raise stranded(err)
        if tally.failed_step == ADD_CHECK_HOME:
            raise _cannot_return(err, _subject(paths[0]))
        raise kernel_error(err, syscall=_ADD_STEP_SYSCALL.get(tally.failed_step),
                           subject=_subject(paths[tally.done]))


def delete_many(paths: Sequence[bytes], tally: Tally, hold: int = 0) -> None:
    """Detach and unlink each path (never following a symlink), in one C loop.

    With ``hold`` > 0 the loop keeps up to that many of the namespaces open
    (one fd each) until it ends, so that the kernel dismantles them after the
    loop, in one batch, instead of during it; every fd is closed before this
    returns. On failure raises the KernelError of item ``tally.done`` at
    ``tally.failed_step`` (``DELETE_UMOUNT`` or ``DELETE_UNLINK``).
    """
    held = ffi.new("int[]", hold) if hold > 0 else ffi.NULL
    if lib.rawns_netns_delete_many(_joined(paths), len(paths), held, max(hold, 0),
                                   tally._c) < 0:
        err = ffi.errno
        raise kernel_error(err, syscall=_DELETE_STEP_SYSCALL.get(tally.failed_step),
                           subject=_subject(paths[tally.done]))


def open_many(count: int, tally: Tally) -> list[int]:
    """Create ``count`` anonymous namespaces; returns an O_CLOEXEC fd to each.
    The calling thread is home again when it returns.

    On failure raises a KernelError (or ThreadStrandedError) carrying the
    fds already made in ``.fds``.
    """
    fds = ffi.new("int[]", count)
    if lib.rawns_netns_open_many(fds, count, tally._c) < 0:
        errno_value = ffi.errno
        err: Exception
        if tally.stranded:
            err = stranded(errno_value)
        elif tally.failed_step == lib.RAWNS_OPEN_CHECK_HOME:
            err = _cannot_return(errno_value, "anonymous netns")
        else:
            err = kernel_error(errno_value, syscall=_OPEN_STEP_SYSCALL.get(tally.failed_step))
        setattr(err, "fds", list(fds[0:tally.done]))  # for the caller to close
        raise err
    return list(fds)


_SOCKET_STEPS = {  # step of rawns_socket_in -> (syscall, subject)
    lib.RAWNS_SOCKET_OPEN_HOME: ("open", "the thread's own netns"),
    lib.RAWNS_SOCKET_ENTER: ("setns", "the socket's netns"),
    lib.RAWNS_SOCKET_CREATE: ("socket", None),
    lib.RAWNS_SOCKET_CHECK_HOME: ("setns", "the thread's own netns"),  # _cannot_return
    lib.RAWNS_SOCKET_RETURN: ("setns", "the thread's own netns"),  # stranded
    lib.RAWNS_SOCKET_OPTION: ("setsockopt", None),
    lib.RAWNS_SOCKET_BIND: ("bind", None),
    lib.RAWNS_SOCKET_NAME: ("getsockname", None),
}


def socket_in(netns_fd: int | None, family: int, type: int, proto: int = 0) -> socket.socket:
    """A socket created inside the network namespace behind ``netns_fd``
    (None: the calling thread's own), with SOCK_CLOEXEC.

    A socket belongs for life to the namespace it was created in, so the
    calling thread steps in just for ``socket()`` and back out, all in one C
    call; no other thread is ever moved. (DESIGN.md prefers a short-lived
    helper thread; two setns calls cost microseconds where a thread costs
    tens, and bulk plumbing opens one socket per namespace.)
    """
    import socket  # here: namespaces alone (rawns netns ...) need no socket module

    fd = socket_fd_in(netns_fd, family, type, proto)
    try:
        return socket.socket(family, type | socket.SOCK_CLOEXEC, proto, fileno=fd)
    except BaseException:  # e.g. KeyboardInterrupt right after the C call
        os.close(fd)
        raise


def socket_fd_in(netns_fd: int | None, family: int, type: int, proto: int = 0) -> int:
    """:func:`socket_in`, as the bare fd: for a caller that wraps it in
    ``_socket.socket`` (``RouteSocket``), and so never imports the ``socket``
    module (selectors, enum...: ~5 ms of start-up)."""
    from _socket import SOCK_CLOEXEC

    if netns_fd is None:
        return _socket_fd(family, type | SOCK_CLOEXEC, proto)
    type |= SOCK_CLOEXEC
    failed_step = ffi.new("int *")
    fd: int = lib.rawns_socket_in(netns_fd, family, type, proto, failed_step)
    if fd < 0:
        raise _socket_failure(failed_step[0], ffi.errno)
    return fd


def netlink_socket_in(netns_fd: int | None, protocol: int,
                      options: tuple[tuple[int, int, int], ...] = ()) -> tuple[int, int]:
    """A bound netlink socket of ``protocol`` (``socket_fd_in``'s, inside
    the namespace behind ``netns_fd``, or where the thread is if None) with
    each of ``options`` (``(level, option, value)``) set, in one C call:
    its fd (O_CLOEXEC; the caller closes it) and its port id. Raises
    KernelError naming the failed syscall; nothing is left open then."""
    failed_step = ffi.new("int *")
    port_id = ffi.new("unsigned int *")
    fd: int = lib.rawns_netlink_socket_in(-1 if netns_fd is None else netns_fd, protocol,
                                          _sockopts(options), len(options), port_id,
                                          failed_step)
    if fd < 0:
        raise _socket_failure(failed_step[0], ffi.errno)
    return fd, int(port_id[0])


def _socket_failure(step: int, err: int) -> Exception:
    """The error of a socket made inside a namespace that failed at ``step``."""
    if step == lib.RAWNS_SOCKET_RETURN:
        return stranded(err)
    if step == lib.RAWNS_SOCKET_CHECK_HOME:
        return _cannot_return(err, None)
    syscall, subject = _SOCKET_STEPS.get(step, ("socket", None))
    return kernel_error(err, syscall=syscall, subject=subject)


def _socket_fd(family: int, type: int, proto: int) -> int:
    from _socket import socket

    try:
        fd: int = socket(family, type, proto).detach()
    except OSError as err:
        raise kernel_error(err.errno or errno.EIO, syscall="socket") from err
    return fd


_OPEN_IN_STEPS = {  # step of rawns_open_in -> (syscall, subject)
    lib.RAWNS_OPEN_IN_OPEN_HOME: ("open", "the thread's own netns"),
    lib.RAWNS_OPEN_IN_ENTER: ("setns", "the file's netns"),
    lib.RAWNS_OPEN_IN_OPEN: ("open", None),
    lib.RAWNS_OPEN_IN_RETURN: ("setns", "the thread's own netns (the thread could not "
                               "return to it)"),
}


def open_in(netns_fd: int | None, path: str, flags: int) -> int:
    """``os.open(path, flags | O_CLOEXEC)`` inside the network namespace behind
    ``netns_fd`` (None: the caller's own), the calling thread stepping in for
    the open() alone, as ``socket_in`` does. For files whose objects belong
    to the namespace they are opened in (/dev/net/tun)."""
    flags |= os.O_CLOEXEC
    if netns_fd is None:
        try:
            return os.open(path, flags)
        except OSError as err:
            raise kernel_error(err.errno or errno.EIO, syscall="open", subject=path) from err
    failed_step = ffi.new("int *")
    fd = lib.rawns_open_in(netns_fd, path.encode(), flags, failed_step)
    if fd < 0:
        syscall, subject = _OPEN_IN_STEPS.get(failed_step[0], ("open", None))
        raise kernel_error(ffi.errno, syscall=syscall, subject=subject or path)
    return int(fd)


TUNSETPERSIST: int = lib.TUNSETPERSIST
TUNSETOWNER: int = lib.TUNSETOWNER
TUNSETGROUP: int = lib.TUNSETGROUP
IFF_TUN: int = lib.IFF_TUN
IFF_TAP: int = lib.IFF_TAP
IFF_NO_PI: int = lib.IFF_NO_PI
IFF_ONE_QUEUE: int = lib.IFF_ONE_QUEUE
IFF_VNET_HDR: int = lib.IFF_VNET_HDR
IFF_MULTI_QUEUE: int = lib.IFF_MULTI_QUEUE


def tun_set_iff(fd: int, name: str, flags: int) -> str:
    """ioctl(TUNSETIFF): attach the /dev/net/tun ``fd`` to the device ``name``
    (made if missing) with IFF_* ``flags``; returns the device's name."""
    out = ffi.new("char[]", lib.IFNAMSIZ)
    if lib.rawns_tun_set_iff(fd, name.encode(), flags, out) < 0:
        raise kernel_error(ffi.errno, syscall="ioctl(TUNSETIFF)", subject=f"tun {name!r}")
    return str(ffi.string(out).decode())


def tun_get_iff(fd: int) -> tuple[str, int]:
    """ioctl(TUNGETIFF): the name and IFF_* flags of the device ``fd`` is attached to."""
    out = ffi.new("char[]", lib.IFNAMSIZ)
    flags = ffi.new("int *")
    if lib.rawns_tun_get_iff(fd, out, flags) < 0:
        raise kernel_error(ffi.errno, syscall="ioctl(TUNGETIFF)")
    return str(ffi.string(out).decode()), int(flags[0])


def ioctl_int(fd: int, request: int, arg: int, *, subject: str | None = None) -> None:
    """ioctl(fd, request, arg) with an integer argument (TUNSETPERSIST, TUNSETOWNER...)."""
    if lib.rawns_ioctl_ulong(fd, request, arg) < 0:
        name = {TUNSETPERSIST: "TUNSETPERSIST", TUNSETOWNER: "TUNSETOWNER",
                TUNSETGROUP: "TUNSETGROUP"}.get(request, hex(request))
        raise kernel_error(ffi.errno, syscall=f"ioctl({name})", subject=subject)


_RECV_SLOT = 128 * 1024  # larger than any netlink datagram the kernel builds
_RECV_SLOTS = 8
_receivers: threading.local | None = None  # made on first use: namespaces alone need no threading
_receivers_lock = allocate_lock()


def _thread_local() -> threading.local:
    """Where each thread keeps its receive buffers."""
    global _receivers
    if _receivers is None:
        from _thread import _local  # threading.local, without threading's import

        with _receivers_lock:
            if _receivers is None:
                _receivers = _local()
    return _receivers


def _receive_slots() -> tuple[Any, Any, Any]:
    """This thread's recvmmsg slots, their lengths and a flag (made once:
    zeroing 1 MiB costs)."""
    mine = _receivers if _receivers is not None else _thread_local()
    slots = getattr(mine, "slots", None)
    if slots is None:
        slots = mine.slots = (ffi.new("char[]", _RECV_SLOT * _RECV_SLOTS),
                                    ffi.new("unsigned int[]", _RECV_SLOTS),
                                    ffi.new("int *"))
    return slots


def recv_many(fd: int) -> list[bytes]:
    """Every datagram queued on socket ``fd`` (at least one: waits for it),
    up to 8, in one recvmmsg(2). Raises KernelError; EMSGSIZE if one did
    not fit its 128 KiB slot."""
    buf, lengths, truncated = _receive_slots()
    count = lib.rawns_recv_many(fd, buf, _RECV_SLOT, _RECV_SLOTS, lengths, truncated)
    if count < 0:
        raise kernel_error(ffi.errno, syscall="recvmmsg")
    if truncated[0]:
        raise kernel_error(errno.EMSGSIZE, syscall="recvmmsg",
                           subject="a netlink datagram larger than 128 KiB")
    return [ffi.buffer(buf + i * _RECV_SLOT, lengths[i])[:] for i in range(count)]


_EXCHANGE_STEPS = {  # step of rawns_exchange_many -> (syscall, subject or None: the namespace)
    lib.RAWNS_EXCHANGE_OPEN_HOME: ("open", "the thread's own netns"),
    lib.RAWNS_EXCHANGE_OPEN: ("open", None),
    lib.RAWNS_EXCHANGE_ENTER: ("setns", None),
    lib.RAWNS_EXCHANGE_SOCKET: ("socket", None),
    lib.RAWNS_EXCHANGE_SOCKOPT: ("setsockopt", None),
    lib.RAWNS_EXCHANGE_SEND: ("sendmsg", None),
    lib.RAWNS_EXCHANGE_RECV: ("recvmmsg", None),
    lib.RAWNS_EXCHANGE_CHECK_HOME: ("setns", "the thread's own netns"),  # _cannot_return
    lib.RAWNS_EXCHANGE_RETURN: ("setns", "the thread's own netns"),  # stranded
}
#: Steps of ``exchange_many`` whose failure ends the whole loop: the thread's
#: own namespace could not be opened, or could not be returned to (then the
#: error is a ThreadStrandedError), or the thread could not leave it, having
#: no right to come back.
EXCHANGE_FATAL_STEPS = frozenset({lib.RAWNS_EXCHANGE_OPEN_HOME, lib.RAWNS_EXCHANGE_RETURN,
                                  lib.RAWNS_EXCHANGE_CHECK_HOME})
#: What one exchange_many call may read, all namespaces together.
INBOX_BYTES = 1 << 20
#: How many datagrams one exchange_many call may read.
INBOX_DATAGRAMS = 4096


def _inbox() -> tuple[Any, Any, Any, Any]:
    """This thread's inbox for exchange_many (made once, like the slots it uses)."""
    mine = _receivers if _receivers is not None else _thread_local()
    inbox = getattr(mine, "inbox", None)
    if inbox is None:
        scratch = _receive_slots()[0]
        out = ffi.new("char[]", INBOX_BYTES)
        lengths = ffi.new("unsigned int[]", INBOX_DATAGRAMS)
        c = ffi.new("struct rawns_inbox *")
        c.scratch, c.slot_size, c.slots = scratch, _RECV_SLOT, _RECV_SLOTS
        c.out, c.size = out, INBOX_BYTES
        c.lengths, c.max_lengths = lengths, INBOX_DATAGRAMS
        inbox = mine.inbox = (c, out, lengths, scratch)  # the struct keeps none alive
    return inbox


# A dict, not functools.lru_cache: functools (with collections) costs ~5 ms of the
# start-up of every command that loads this module.
_SOCKOPTS: dict[tuple[tuple[int, int, int], ...], Any] = {}


def _sockopts(options: tuple[tuple[int, int, int], ...]) -> Any:
    """``options`` as the C array ``exchange_many`` takes (made once per tuple;
    at most 8 are kept)."""
    made = _SOCKOPTS.get(options)
    if made is None:
        if len(_SOCKOPTS) >= 8:
            _SOCKOPTS.clear()
        made = _SOCKOPTS[options] = ffi.new("struct rawns_sockopt[]",
                                            [list(option) for option in options])
    return made


def exchange_many(paths: Sequence[bytes], protocol: int, datagrams: Sequence[Sequence[bytes]],
                  tally: Tally, *, nofollow: bool = False,
                  options: tuple[tuple[int, int, int], ...] = ()
                  ) -> list[list[bytes] | None]:
    """Send ``datagrams[i]`` on a netlink socket of ``protocol`` opened inside
    namespace ``paths[i]`` (the path opened with O_NOFOLLOW if ``nofollow``;
    each of ``options``, ``(level, option, value)``, set on it by
    setsockopt(2), in order), one datagram at a time, each followed
    by every datagram the kernel queued in answer; one C loop, the calling
    thread home again when it returns.

    Returns, for each of the first ``tally.done`` namespaces (all of them, or
    fewer when the answers filled this thread's inbox of ``INBOX_BYTES``:
    call again for the rest; the first of them was sent its datagrams but
    its answers were dropped, which only requests that may be repeated, such
    as dumps, can afford), the datagrams it answered with, in order, or None
    when they did not fit even an empty inbox. Nothing here reads inside a datagram: the caller checks that each
    answer is whole. On failure raises the KernelError of namespace
    ``tally.done`` (the answers before it are lost).
    """
    c, out, lengths, _ = _inbox()
    c.used = 0
    c.count = 0
    answers = ffi.new("struct rawns_answer[]", len(paths))
    flat = [datagram for own in datagrams for datagram in own]
    sizes = ffi.new("unsigned int[]", [len(datagram) for datagram in flat])
    counts = ffi.new("unsigned int[]", [len(own) for own in datagrams])
    open_flags = os.O_NOFOLLOW if nofollow else 0
    sockopts = _sockopts(options)
    if lib.rawns_exchange_many(_joined(paths), len(paths), open_flags, protocol, sockopts,
                               len(options), b"".join(flat), sizes, counts, c, answers,
                               tally._c, ffi.NULL) < 0:
        raise _exchange_error(ffi.errno, paths, tally)
    data = ffi.buffer(out, c.used)[:]
    read: list[list[bytes] | None] = []
    start = position = 0
    for number in range(tally.done):
        answer = answers[number]
        if answer.overflowed:
            read.append(None)
            continue
        own = []
        for _ in range(answer.datagrams):
            end = start + lengths[position]
            own.append(data[start:end])
            start = end
            position += 1
        read.append(own)
    return read


def _exchange_error(err: int, paths: Sequence[bytes], tally: Tally) -> Exception:
    """The error of an exchange_many loop that failed with ``err``."""
    if tally.stranded:
        return stranded(err)
    if tally.failed_step == lib.RAWNS_EXCHANGE_CHECK_HOME:
        return _cannot_return(err, _subject(paths[0]))
    syscall, subject = _EXCHANGE_STEPS.get(tally.failed_step, ("setns", None))
    return kernel_error(err, syscall=syscall, subject=subject or _subject(paths[tally.done]))


_uncleared: Any = None  # ffi.new_allocator(should_clear_after_alloc=False), made on first use


class ExchangeStream:
    """``exchange_many`` of the same ``datagrams`` in every namespace of
    ``paths``, run by one thread (``run``) while another takes each
    namespace's answer as soon as it is whole (``wait``, ``answer``): the
    reader needs no interpreter lock from the loop, which runs in C from the
    first namespace to the last.

    ``run`` stops early (``stopped_at``) when the answers fill the stream's
    inbox, when the reader has called ``stop``, or at the first namespace
    that fails (``error``); the caller starts another stream for the rest.
    Its buffers are its own, so the reader may take answers from this one
    while another thread's ``exchange_many`` runs.
    """

    __slots__ = ("paths", "tally", "error", "_progress", "_args", "_inbox", "_out",
                 "_lengths", "_answers", "_taken", "_start", "_position", "_scratch")

    def __init__(self, paths: Sequence[bytes], protocol: int, datagrams: Sequence[bytes],
                 *, nofollow: bool = False, options: tuple[tuple[int, int, int], ...] = (),
                 inbox_bytes: int = INBOX_BYTES, inbox_datagrams: int = INBOX_DATAGRAMS
                 ) -> None:
        global _uncleared
        if _uncleared is None:  # the loop writes what it uses: zeroing megabytes is waste
            _uncleared = ffi.new_allocator(should_clear_after_alloc=False)
        if ffi.sizeof("struct rawns_answer") != 8:  # answers() reads them as int pairs
            raise AssertionError("struct rawns_answer is not two 32-bit ints")
        count = len(paths)
        self.paths = paths
        self.tally = Tally()
        self.error: Exception | None = None
        self._progress = Progress()
        scratch = _uncleared("char[]", _RECV_SLOT * _RECV_SLOTS)
        self._out = _uncleared("char[]", inbox_bytes)
        self._lengths = _uncleared("unsigned int[]", inbox_datagrams)
        inbox = self._inbox = ffi.new("struct rawns_inbox *")
        inbox.scratch, inbox.slot_size, inbox.slots = scratch, _RECV_SLOT, _RECV_SLOTS
        inbox.out, inbox.size = self._out, inbox_bytes
        inbox.lengths, inbox.max_lengths = self._lengths, inbox_datagrams
        self._answers = ffi.new("struct rawns_answer[]", count)
        self._scratch = scratch  # the inbox struct does not keep it alive
        sizes = ffi.new("unsigned int[]", [len(datagram) for datagram in datagrams] * count)
        counts = ffi.new("unsigned int[]", [len(datagrams)] * count)
        # Everything the loop reads, kept alive (here) while it runs.
        self._args = (_joined(paths), count, os.O_NOFOLLOW if nofollow else 0, protocol,
                      _sockopts(options), len(options), b"".join(datagrams) * count, sizes,
                      counts, inbox, self._answers, self.tally._c, self._progress._c)
        self._taken = 0     # the reader's place: namespaces,
        self._start = 0     # ... bytes of the inbox
        self._position = 0  # ... and datagrams

    def run(self) -> None:
        """The C loop (in the thread that is not the reader); sets ``error``
        to the KernelError of namespace ``stopped_at`` if it failed there."""
        if lib.rawns_exchange_many(*self._args) < 0:
            self.error = _exchange_error(ffi.errno, self.paths, self.tally)

    def wait(self, target: int) -> int:
        """Wait until ``target`` namespaces are answered, or the loop is over
        (then fewer); returns how many are."""
        return self._progress.wait(target)

    @property
    def stopped_at(self) -> int:
        """Once the loop is over: how many namespaces it answered."""
        return self._progress.done

    def stop(self) -> None:
        """Let the loop start no further namespace."""
        self._progress.stop()

    def answers(self, ready: int) -> list[list[bytes] | None]:
        """The datagrams of each namespace answered since the last call, up
        to namespace ``ready`` (as ``wait`` returned it), in order; None for
        one whose answer did not fit the inbox. Their bytes and lengths are
        copied out of C memory in one go each, then cut here."""
        taken, start, position = self._taken, self._start, self._position
        if ready <= taken:
            return []
        # struct rawns_answer is two 32-bit ints (checked in __init__):
        # (datagrams, overflowed) per namespace.
        pairs = ffi.unpack(ffi.cast("unsigned int *", self._answers + taken),
                           2 * (ready - taken))
        counts = pairs[0::2]
        total = sum(counts)
        lengths = ffi.unpack(self._lengths + position, total)
        size = sum(lengths)
        data = ffi.unpack(self._out + start, size)
        made: list[list[bytes] | None] = []
        at = index = 0
        for count, overflowed in zip(counts, pairs[1::2]):
            if overflowed:
                made.append(None)  # its datagrams are not in the inbox (count is 0)
                continue
            own = []
            for length in lengths[index:index + count]:
                own.append(data[at:at + length])
                at += length
            index += count
            made.append(own)
        self._taken, self._start, self._position = ready, start + size, position + total
        return made

