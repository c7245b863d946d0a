"""Network namespaces: add, delete, list, open and enter them, as iproute2's ``ip netns`` does.

Invariants:
- A named namespace is an nsfs bind mount at ``/run/netns/NAME``, exactly as
  ``ip netns add`` makes it; the directory is made a shared mount once per
  process (not once per namespace, which costs more the more exist).
- Names are validated before anything touches the kernel.
- Only the calling thread ever changes namespace (or, with ``threads``, the
  workers of ``add_many``), and it is always moved back to the namespace it
  was in: the C loops go home before they return, ``enter`` in a
  ``finally`` that holds a KeyboardInterrupt until it is done. Before it
  moves, it is checked that it could come back (PermissionError otherwise,
  with nothing made); ThreadStrandedError if the way back fails all the same.
- Workers are waited for through locks they let go, never ``Thread.join``
  (which CPython may let return, when interrupted, while the thread runs).
- Creation is all or nothing: whatever a failed or interrupted call created is
  removed before the exception propagates, even if another KeyboardInterrupt
  lands meanwhile. Every fd is O_CLOEXEC and closed.
"""

from __future__ import annotations

import builtins
import errno
import fcntl
import os
import sys
from _thread import _local, allocate_lock, start_new_thread  # threading's, without it

from rawns import syscalls
from rawns.errors import KernelError, RawnsError, kernel_error

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    import signal as _signal
    import threading
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from contextlib import contextmanager
    from typing import Protocol, overload

    class NsidSource(Protocol):
        """What ``nsids`` asks: ``Handle.nsid_get``, the id a namespace gives another."""

        def nsid_get(self, netns: NetnsTarget | None = None, *, pid: int | None = None
                     ) -> int | None: ...
else:
    # signal.py's functions, built in: no file to import (start-up, and a
    # process that dropped its privileges may not read the library's files)
    import _signal

    def lazy_contextmanager(function: Any) -> Any:
        """contextlib's ``contextmanager``, imported on the first call: few
        commands use one, and contextlib costs ~1.5 ms of every command's
        start-up. ``handle`` takes it from here too."""
        made = []

        def call(*args: Any, **kwargs: Any) -> Any:
            if not made:
                from contextlib import contextmanager as real
                made.append(real(function))
            return made[0](*args, **kwargs)

        call.__name__, call.__qualname__ = function.__name__, function.__qualname__
        call.__doc__, call.__module__ = function.__doc__, function.__module__
        call.__wrapped__ = function
        return call

    contextmanager = lazy_contextmanager


__all__ = [
    "RUN_DIR",
    "NetnsTarget",
    "validate_name",
    "path_of",
    "add",
    "add_many",
    "Adding",
    "delete",
    "delete_many",
    "deleting",
    "list",
    "exists",
    "open_fd",
    "open_many",
    "identify",
    "describe",
    "nsids",
    "nsid_names",
    "enter",
    "visiting",
    "run",
    "execvp",
    "sysctl",
    "sysctl_path",
    "sysctl_name",
    "sysctl_list",
    "SYSCTL_DEPRECATED",
    "pids",
    "attach",
    "tun_processes",
    "run_all",
]

#: Where named namespaces are bind-mounted, as iproute2 does.
RUN_DIR = "/run/netns"
#: Per-namespace configuration overlaid on /etc by ``run``, as ``ip netns exec``.
ETC_DIR = "/etc/netns"

#: A namespace given by name (``"blue"``), path (``"/proc/1/ns/net"`` or a
#: ``PathLike``) or open file descriptor (``int``).
NetnsTarget = str | os.PathLike[str] | int

_THREAD_NETNS = "/proc/thread-self/ns/net"
_MAX_NAME_BYTES = 255
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
_CHUNK = 64  # namespaces per C call: bounds how late Ctrl-C or progress lands

_run_dir_lock = allocate_lock()
_run_dir_ready = False


def validate_name(name: str) -> bytes:
    """Return ``name`` as bytes, or raise ValueError if it is not a valid
    namespace name (empty, ``.``, ``..``, containing ``/`` or NUL, or longer
    than 255 bytes). Nothing that passes can leave ``/run/netns``."""
    if not isinstance(name, str):
        raise TypeError(f"namespace name must be str, not {type(name).__name__}")
    raw = name.encode(_FS_ENCODING, _FS_ERRORS)  # os.fsencode's, without its call
    if not raw:
        raise ValueError("namespace name is empty")
    if raw in (b".", b".."):
        raise ValueError(f"namespace name {name!r} is not allowed")
    if b"/" in raw or b"\0" in raw:
        raise ValueError(f"namespace name {name!r} contains '/' or NUL")
    if len(raw) > _MAX_NAME_BYTES:
        raise ValueError(
            f"namespace name is {len(raw)} bytes long; the limit is {_MAX_NAME_BYTES}")
    return raw


def path_of(name: str) -> str:
    """The mount point of the named namespace ``name`` (validated)."""
    validate_name(name)
    return os.path.join(RUN_DIR, name)


def _subject_of(path: bytes) -> str:
    return f"netns {os.fsdecode(os.path.basename(path))!r}"


_RUN_DIR_SLASH = os.fsencode(RUN_DIR) + b"/"


def _path_bytes(name: str) -> bytes:
    return _RUN_DIR_SLASH + validate_name(name)


def _ensure_run_dir() -> None:
    """Create ``/run/netns`` and make it a shared mount point, once a process.

    Shared, so that mounts made here reach the mount namespaces of programs
    started with ``run`` (and ``ip netns exec``). Non-recursive on purpose: it
    costs the same however many namespaces are mounted below. The flock keeps
    two processes from both bind-mounting the directory on itself.
    """
    global _run_dir_ready
    if _run_dir_ready:
        return
    with _run_dir_lock:
        if _run_dir_ready:
            return
        os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
        dir_fd = os.open(RUN_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(dir_fd, fcntl.LOCK_EX)
            try:
                syscalls.mount("", RUN_DIR, "none", syscalls.MS_SHARED)
            except KernelError as err:
                if err.errno != errno.EINVAL:  # EINVAL: not a mount point yet
                    raise
                syscalls.mount(RUN_DIR, RUN_DIR, "none", syscalls.MS_BIND | syscalls.MS_REC)
                syscalls.mount("", RUN_DIR, "none", syscalls.MS_SHARED)
        finally:
            os.close(dir_fd)  # releases the flock
        _run_dir_ready = True


def _open_thread_netns() -> int:
    return os.open(_THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)


def _open_home(subject: str = "the thread's own netns") -> int:
    """An fd to the calling thread's namespace, once it is known that the
    thread could come back to it: setns(2) into the namespace it is already
    in asks the kernel the same question as the way back will (in a user
    namespace that does not own it, leaving works and returning does not)."""
    home_fd = _open_thread_netns()
    try:
        syscalls.setns(home_fd, syscalls.CLONE_NEWNET, subject=subject)
    except KernelError as err:
        if err.errno == errno.EPERM and syscalls.has_sys_admin():
            err.hint = syscalls.CANNOT_RETURN
        os.close(home_fd)
        raise
    except BaseException:
        os.close(home_fd)
        raise
    return home_fd


def _restore(home_fd: int) -> None:
    """Move the calling thread back into the namespace of ``home_fd`` and close
    it. A KeyboardInterrupt landing meanwhile is held until the thread is
    home, then raised; ThreadStrandedError if the kernel refuses the way back."""
    interrupted = False
    while True:
        try:
            syscalls.setns(home_fd, syscalls.CLONE_NEWNET, subject="the thread's own netns")
            break
        except KeyboardInterrupt:
            interrupted = True
        except KernelError as err:
            os.close(home_fd)
            raise syscalls.stranded(err.errno or errno.EIO) from err
    os.close(home_fd)
    if interrupted:
        raise KeyboardInterrupt


def _undo_surely(undo: Callable[[], None]) -> None:
    """Run ``undo`` (idempotent) to its end, even if KeyboardInterrupt lands
    in it: the caller is already rolling back, and re-raises."""
    while True:
        try:
            undo()
            return
        except KeyboardInterrupt:
            continue


def _chunks(items: Sequence[bytes], size: int) -> Iterator[Sequence[bytes]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def add(name: str) -> None:
    """Create the named network namespace ``name``.

    Equals ``ip netns add NAME``. Works from any thread; the calling thread
    stays in its own namespace. Raises ValueError for a bad name,
    FileExistsError if it exists, PermissionError without CAP_SYS_ADMIN.
    """
    add_many([name])


def add_many(
    names: Iterable[str],
    *,
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Create many named namespaces, at the kernel's speed, all or nothing.

    Every name is validated first; then one C loop per chunk of names does the
    syscalls. If any name fails (exists, limit reached...) or the call is
    interrupted, every namespace this call created is removed before the
    exception propagates; the error names the namespace that failed.

    ``threads`` > 1 spreads the work over that many threads (each binds the
    namespaces it makes from its own ``/proc/thread-self``). ``progress``, if
    given, is called as ``progress(done, total)`` between chunks, from the
    worker threads when ``threads`` > 1.
    """
    if threads < 1:
        raise ValueError("threads must be at least 1")
    paths = _unique_paths(names)
    if not paths:
        return
    _prepare_run_dir(paths[0])
    if threads == 1 or len(paths) < 2:
        _add_serial(paths, progress)
    else:
        _add_threaded(paths, threads, progress)


def _unique_paths(names: Iterable[str]) -> builtins.list[bytes]:
    paths = [_path_bytes(name) for name in names]
    if len(set(paths)) != len(paths):
        raise ValueError("namespace names must be unique")
    return paths


def _prepare_run_dir(first: bytes) -> None:
    """``_ensure_run_dir``, its failure naming the first namespace to make."""
    try:
        _ensure_run_dir()
    except OSError as err:  # name what was being made, and what could not be done
        failure = err if isinstance(err, KernelError) else kernel_error(
            err.errno or errno.EIO, syscall="mkdir")
        failure.subject = _subject_of(first)
        failure.syscall = f"{failure.syscall or 'mount'} of {RUN_DIR}"
        if failure is err:
            raise
        raise failure from err


class Adding:
    """``add_many(names)`` run by one C loop in a helper thread, whose caller
    may use each namespace as soon as it exists: ``ready(k)`` waits until the
    first k do. For a caller that plumbs the first namespaces while the
    kernel makes the next ones on another core (``rawns.Batch``).

    Not all or nothing by itself: the caller ends it either with ``finish()``
    (wait for them all, or raise the loop's error) or, on any failure of its
    own or the loop's, with ``stop()`` then ``undo()`` (which removes every
    namespace it made, as ``add_many`` does when it fails). Its thread moves
    only itself, and is home before the loop ends.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self._worker = _Worker(_unique_paths(names))
        self._progress = syscalls.Progress()
        self._error: BaseException | None = None
        self._started = False

    def __len__(self) -> int:
        return len(self._worker.part)

    @property
    def made(self) -> int:
        """How many of the names exist by now (a prefix of them)."""
        return self._progress.done

    @property
    def over(self) -> bool:
        """Whether the loop has ended (made them all, failed or stopped)."""
        return self._progress.finished

    def start(self) -> None:
        """Start making them (once), in a thread of their own."""
        if self._started:
            raise RuntimeError("this Adding was already started")
        self._started = True
        paths = self._worker.part
        if not paths:
            return
        _prepare_run_dir(paths[0])
        # One C call: the thread is launched or not, whatever lands around it
        # (threading.Thread.start is Python code, and waits in Python). The
        # thread itself says it has entered (_Worker.wait waits only then).
        start_new_thread(self._main, ())

    def _main(self) -> None:
        worker = self._worker
        worker.entered = True  # before the loop reads its stop flag (see stop)
        try:
            worker.work.run(worker.part, None, progress=self._progress)
        except BaseException as err:  # handed to the caller by ready/finish
            self._error = err
        finally:
            worker.finished = True
            worker.done.release()

    def ready(self, count: int) -> None:
        """Wait until the first ``count`` namespaces exist; raise the loop's
        error if it ended before (or RuntimeError if it was stopped)."""
        if not self._started:
            raise RuntimeError("this Adding was not started")
        if self._progress.wait(count) >= count:
            return
        self._worker.wait()  # the loop is over: its thread ends at once
        if self._progress.done >= count:
            return
        if self._error is not None:
            raise self._error
        raise RuntimeError("namespace creation was stopped")

    def finish(self) -> None:
        """Wait until all exist; raise the loop's error if it failed."""
        self.ready(len(self))
        self._worker.wait()

    def stop(self) -> None:
        """Make no further namespace, and wait for the one being made: then
        ``made`` is final. Safe at any time, and through KeyboardInterrupt
        (raised once the thread has finished)."""
        # The flag is set before the worker's ``entered`` is read: a thread
        # that has not entered yet will find it set, and make nothing.
        self._progress.stop()
        if self._worker.wait(through_interrupts=True):
            raise KeyboardInterrupt

    def undo(self) -> None:
        """Remove every namespace made (after ``stop``); idempotent."""
        _undo_surely(self._worker.work.undo)


class _Stop:
    """Tells workers to start no further chunk. A plain attribute, not an
    Event: setting it from a thread that KeyboardInterrupt may hit at any
    bytecode must not be able to leave a lock held."""

    def __init__(self) -> None:
        self.requested = False


class _AddRun:
    """The namespaces one caller or worker has created so far, for rollback.

    The C loop's tally of the chunk in flight is kept (``inflight``) before
    the loop starts, so that ``undo`` knows exactly what exists whatever
    bytecode an interrupt lands on: before the call (the tally says 0),
    during it (the loop runs to its end first) or after it (the tally is
    C memory, written by the loop).
    """

    def __init__(self) -> None:
        self.created: builtins.list[bytes] = []
        self.inflight: tuple[Sequence[bytes], syscalls.Tally] | None = None

    def run(self, paths: Sequence[bytes], report: Callable[[int], None] | None,
            stop: _Stop | None = None, *, progress: syscalls.Progress | None = None
            ) -> None:
        """Make ``paths``, ``_CHUNK`` per C loop; or, watched through
        ``progress``, all in one (which ``progress.stop`` can end early)."""
        for chunk in [paths] if progress is not None else _chunks(paths, _CHUNK):
            if stop is not None and stop.requested:
                return
            tally = syscalls.Tally()
            self.inflight = (chunk, tally)
            syscalls.add_many(chunk, tally, progress)  # the thread is home again after it
            self.created.extend(chunk[:tally.done])
            self.inflight = None
            if report is not None:
                report(len(chunk))

    def undo(self) -> None:
        """Remove what was made (idempotent); the thread must not be inside
        the C loop (a worker has finished)."""
        paths = builtins.list(self.created)
        partial = None
        if self.inflight is not None:
            chunk, tally = self.inflight
            paths += chunk[:tally.done]
            if tally.failed_step in (syscalls.ADD_UNSHARE, syscalls.ADD_BIND):
                partial = chunk[tally.done]  # its file was made, no namespace mounted
        if paths:
            _delete_paths(builtins.list(dict.fromkeys(paths)), missing_ok=True)
        if partial is not None:
            _unlink_quietly(partial)
        self.created = []
        self.inflight = None


def _add_serial(paths: Sequence[bytes], progress: Callable[[int, int], None] | None) -> None:
    work = _AddRun()
    total = len(paths)

    def report(count: int) -> None:
        if progress is not None:
            progress(len(work.created), total)

    try:
        work.run(paths, report if progress is not None else None)
    except BaseException:
        _undo_surely(work.undo)
        raise


class _Worker:
    """One thread making namespaces (of a threaded ``add_many``, or an
    ``Adding``'s), and how the caller learns it
    has finished without ``Thread.join``: in CPython a join interrupted by
    KeyboardInterrupt can mark a thread stopped while it still runs (its
    lock is let go on the way out), and a rollback that trusted it would
    miss what that thread makes afterwards. ``done`` is a plain lock, taken
    here and let go by the worker once ``finished`` is set."""

    def __init__(self, part: Sequence[bytes]) -> None:
        self.part = part
        self.work = _AddRun()
        self.entered = False
        self.finished = False
        self.done = allocate_lock()
        self.done.acquire()

    def wait(self, *, through_interrupts: bool = False) -> bool:
        """Wait until the worker has finished (if it ever entered). With
        ``through_interrupts``, a KeyboardInterrupt landing meanwhile is
        swallowed and the wait goes on (the caller is rolling back already);
        returns whether one did."""
        interrupted = False
        while self.entered and not self.finished:
            try:
                # succeeds only once finished is set; the timeout lets a
                # signal delivered to a worker thread reach this one soon
                self.done.acquire(timeout=0.05)
            except KeyboardInterrupt:
                if not through_interrupts:
                    raise
                interrupted = True
        return interrupted


def _add_threaded(paths: Sequence[bytes], threads: int,
                  progress: Callable[[int, int], None] | None) -> None:
    import threading  # here: one namespace at a time (rawns netns add) starts no thread

    threads = min(threads, len(paths))
    share = -(-len(paths) // threads)
    workers = [_Worker(paths[i * share:(i + 1) * share]) for i in range(threads)]
    errors: builtins.list[BaseException] = []
    stop = _Stop()
    lock = threading.Lock()
    finished = 0

    def report(count: int) -> None:
        nonlocal finished
        with lock:
            finished += count
            done = finished
        if progress is not None:
            progress(done, len(paths))

    def body(worker: _Worker) -> None:
        # ``entered`` before ``stop`` is read, and the caller sets ``stop``
        # before it reads ``entered``: a worker that starts late either is
        # waited for, or sees ``stop`` and makes nothing.
        worker.entered = True
        try:
            if not stop.requested:
                worker.work.run(worker.part, report, stop)
        except BaseException as err:  # handed to the caller's thread below
            errors.append(err)
            stop.requested = True
        finally:
            worker.finished = True
            worker.done.release()

    started: builtins.list[threading.Thread] = []
    try:
        for i, worker in enumerate(workers):
            thread = threading.Thread(target=body, args=(worker,), name=f"rawns-add-{i}",
                                      daemon=True)
            thread.start()
            started.append(thread)
        for worker in workers:
            worker.entered = True  # all started: each one will enter
            worker.wait()
        if errors:
            raise errors[0]
        for thread in started:
            thread.join()  # finished already: only tidies up
    except BaseException:
        stop.requested = True
        for worker in workers:
            worker.wait(through_interrupts=True)
        for worker in workers:
            _undo_surely(worker.work.undo)
        raise


def delete(name: str) -> None:
    """Delete the named namespace ``name``.

    Equals ``ip netns delete NAME``. The namespace itself lives on while a
    process or an fd still holds it. Never follows a symlink planted at the
    name. Raises FileNotFoundError if there is no such namespace.

    Inside a ``deleting()`` block of the calling thread, it holds the
    namespace until the block ends, as ``delete_many`` does during its loop.
    """
    held = getattr(_deleting, "held", None)
    if held is None:
        delete_many([name])
        return
    path = _path_bytes(name)
    if len(held) >= _deleting.budget:
        _release(held)
    try:
        fd: int | None = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        fd = None  # not held; the delete below says what is wrong
    try:
        try:
            syscalls.delete_many((path,), _deleting.tally)
        except KernelError:  # again, the slow way: a stale file, or the error to raise
            _delete_paths([path], missing_ok=False)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    if fd is not None:
        held.append(fd)


#: Per thread: the fds of the namespaces its ``deleting()`` block deleted.
_deleting = _local()


@contextmanager
def deleting() -> Iterator[None]:
    """A loop of ``delete`` calls at ``delete_many``'s speed::

        with netns.deleting():
            for name in names:
                netns.delete(name)

    Each namespace the calling thread deletes in the block is held (an
    O_PATH fd, within the fd limit) until the block ends, whether it ends
    well or not. The kernel then cleans them up together, after the loop,
    instead of beside it, where its cleanup slows every further delete
    several times over (benchmarks/RESULTS.md, "What decides the delete
    loop's speed"). The names are gone at once, as without the block; what
    a namespace held (its end of a veth pair, say) goes when the block ends,
    where without it it goes whenever the kernel's cleanup runs. Other
    threads are not affected; a nested block is part of the outer one.
    """
    if getattr(_deleting, "held", None) is not None:
        yield
        return
    held: builtins.list[int] = []
    _deleting.held = held
    _deleting.budget = max(1, _hold_budget(1 << 20))
    _deleting.tally = syscalls.Tally()
    try:
        yield
    finally:
        del _deleting.held
        _release(held)


def _release(held: builtins.list[int]) -> None:
    for fd in held:
        os.close(fd)
    held.clear()


def delete_many(names: Iterable[str], *, missing_ok: bool = False) -> None:
    """Delete many named namespaces in one C loop.

    Stops at the first one that cannot be removed and raises, naming it
    (the ones before it are gone); with ``missing_ok`` a missing name is
    skipped instead. A stale file that is not a mount (left by a crash) is
    removed too, as ``ip netns delete`` does.

    The loop holds each namespace (an O_PATH fd, as many as the fd limit
    leaves room for) until its end, so that the kernel's cleanup of them
    starts once, after the loop, rather than running beside it and slowing
    every further unmount several times over. Nothing is held once it returns.
    """
    _delete_paths([_path_bytes(name) for name in names], missing_ok=missing_ok)


#: fds left free for the rest of the process while ``delete_many`` holds
#: namespaces (other threads may be opening files meanwhile).
_FD_MARGIN = 256


def _hold_budget(count: int) -> int:
    """How many namespaces one delete loop may hold open: all ``count`` when
    the fd limit leaves room, else what it leaves (the loop then releases
    them in rounds). 0 for a single name: holding it changes nothing."""
    if count < 2:
        return 0
    import resource  # here: `rawns netns del NAME` deletes one and needs none

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc: assume a crowded table rather than fail
        in_use = soft // 2
    return max(0, min(count, soft - in_use - _FD_MARGIN))


def _delete_paths(paths: Sequence[bytes], *, missing_ok: bool) -> None:
    tally = syscalls.Tally()
    hold = _hold_budget(len(paths))
    start = 0
    while start < len(paths):
        try:
            syscalls.delete_many(paths[start:], tally, hold=min(hold, len(paths) - start))
            return
        except KernelError as err:
            failed = paths[start + tally.done]
            if err.errno == errno.ENOENT and missing_ok:
                pass
            elif err.errno == errno.EINVAL and tally.failed_step == syscalls.DELETE_UMOUNT:
                _unlink(failed)  # not a mount point: a stale or planted file
            else:
                raise
            start += tally.done + 1


def _unlink(path: bytes) -> None:
    try:
        os.unlink(path)
    except OSError as err:
        raise kernel_error(err.errno or errno.EIO, syscall="unlink",
                           subject=f"netns {os.fsdecode(os.path.basename(path))!r}") from err


def _unlink_quietly(path: bytes) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def list() -> builtins.list[str]:  # noqa: A001 - mirrors `ip netns list`
    """Names of the named namespaces, sorted. Equals ``ip netns list``."""
    try:
        return sorted(os.listdir(RUN_DIR))
    except FileNotFoundError:
        return []


def exists(name: str) -> bool:
    """Whether ``/run/netns/NAME`` holds a network namespace."""
    try:
        fd = open_fd(name)
    except (FileNotFoundError, NotANetnsError):
        return False
    os.close(fd)
    return True


class NotANetnsError(ValueError):
    """A path that should hold a network namespace holds something else."""


def open_fd(target: NetnsTarget | None = None, *, pid: int | None = None,
            check: bool = True) -> int:
    """Open a new O_CLOEXEC fd to a network namespace; the caller closes it.

    ``target`` is a name (a str without ``/``), a path, or an fd (duplicated);
    ``pid`` names the namespace of that process; neither means the calling
    thread's own. A symlink at a name is not followed, and whatever is opened
    must be a network namespace, or NotANetnsError (a ValueError) is raised.
    ``check=False`` skips that last check (an ioctl), for callers that hand
    the fd straight to setns(2) or IFLA_NET_NS_FD, which refuse anything
    else themselves.
    """
    if pid is not None:
        if target is not None:
            raise ValueError("give either a target or a pid, not both")
        path: str | bytes = f"/proc/{int(pid)}/ns/net"
        flags = os.O_RDONLY | os.O_CLOEXEC
    elif target is None:
        path = _THREAD_NETNS
        flags = os.O_RDONLY | os.O_CLOEXEC
    elif isinstance(target, int):
        if isinstance(target, bool):
            raise TypeError("a namespace fd must be an int, not bool")
        fd = _dup(target)
        _check_netns(fd, f"netns fd {target}")
        return fd
    elif isinstance(target, str) and "/" not in target:
        path = _path_bytes(target)
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
    else:
        path = os.fspath(target)
        flags = os.O_RDONLY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as err:
        subject = _subject(target, pid, path)
        if err.errno == errno.ELOOP:
            raise NotANetnsError(f"{subject} is a symlink, not a network namespace") from err
        raise kernel_error(err.errno or errno.EIO, syscall="open", subject=subject) from err
    if check:
        _check_netns(fd, lambda: _subject(target, pid, path))
    return fd


def _subject(target: NetnsTarget | None, pid: int | None, path: str | bytes) -> str:
    """How ``open_fd``'s errors name what it opened (made only then: the
    text costs as much as the open)."""
    if pid is not None:
        return f"netns of pid {pid}"
    if target is None:
        return "the thread's own netns"
    if isinstance(target, str) and "/" not in target:
        return f"netns {target!r}"
    return f"netns {os.fsdecode(path)!r}"


def _dup(fd: int) -> int:
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 0)
    except OSError as err:
        raise kernel_error(err.errno or errno.EIO, syscall="fcntl",
                           subject=f"netns fd {fd}") from err


def _check_netns(fd: int, subject: str | Callable[[], str]) -> None:
    """Close ``fd`` and raise NotANetnsError naming ``subject`` (or what it
    returns) unless ``fd`` is a network namespace."""
    try:
        nstype = fcntl.ioctl(fd, syscalls.NS_GET_NSTYPE)
    except OSError as err:
        nstype = None
        cause: OSError | None = err
    else:
        cause = None
    if nstype != syscalls.CLONE_NEWNET:
        os.close(fd)
        text = subject if isinstance(subject, str) else subject()
        raise NotANetnsError(f"{text} is not a network namespace") from cause


@contextmanager
def enter(target: NetnsTarget | None = None, *, pid: int | None = None) -> Iterator[None]:
    """Move the calling thread into a network namespace for a ``with`` block.

    Like running code under ``ip netns exec``, but for this thread only: other
    threads stay where they are. The thread's own namespace is restored on
    exit, also on exceptions and KeyboardInterrupt. ``target`` and ``pid`` are
    as in ``open_fd``. A thread that could not come back (no CAP_SYS_ADMIN over
    its own namespace) is refused before it moves: PermissionError.
    """
    home_fd = _open_home(describe(target, pid))
    try:  # from here on the thread goes home, whatever happens (also if it never left)
        target_fd = open_fd(target, pid=pid)
        try:
            syscalls.setns(target_fd, syscalls.CLONE_NEWNET, subject=describe(target, pid))
        finally:
            os.close(target_fd)
        yield
    finally:
        _restore(home_fd)


@contextmanager
def visiting() -> Iterator[Callable[[int], None]]:
    """For work in many namespaces in turn: yields ``go(fd)``, which moves
    the calling thread into the namespace behind ``fd`` with one setns(2);
    the thread is moved back to its own namespace when the block ends, also
    on exceptions and KeyboardInterrupt. Half the setns calls of entering and
    leaving each namespace with ``enter``. Refused before it moves, as
    ``enter``, if the thread could not come back."""
    home_fd = _open_home()

    def go(fd: int) -> None:
        syscalls.setns(fd, syscalls.CLONE_NEWNET, subject=f"netns fd {fd}")

    try:
        yield go
    finally:
        _restore(home_fd)


def describe(target: NetnsTarget | None, pid: int | None = None) -> str:
    """How errors name a namespace target: ``netns 'blue'``, ``netns fd 5``..."""
    if pid is not None:
        return f"netns of pid {pid}"
    if isinstance(target, int):
        return f"netns fd {target}"
    if target is None:
        return "the thread's own netns"
    return f"netns {os.fsdecode(os.fspath(target))!r}"


def identify(target: NetnsTarget | None = None, *, pid: int | None = None
             ) -> builtins.list[str]:
    """Names of the named namespaces that are the namespace of ``target`` /
    ``pid`` (default: the calling thread's). Equals ``ip netns identify PID``."""
    fd = open_fd(target, pid=pid)
    try:
        wanted = os.fstat(fd)
    finally:
        os.close(fd)
    names = []
    for name in list():
        try:
            info = os.stat(os.path.join(RUN_DIR, name), follow_symlinks=False)
        except OSError:
            continue  # vanished meanwhile, or unreadable
        if (info.st_dev, info.st_ino) == (wanted.st_dev, wanted.st_ino):
            names.append(name)
    return names


def open_many(count: int) -> builtins.list[int]:
    """Create ``count`` anonymous network namespaces held only by fd.

    No name and no mount: cheaper than ``add_many``, for runtimes that track
    fds themselves. Returns O_CLOEXEC fds that the caller owns; a namespace
    dies when its last fd is closed and nothing else holds it. All or nothing:
    on failure every fd made is closed. The calling thread is not moved.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    tally = syscalls.Tally()
    try:
        return syscalls.open_many(count, tally)  # the thread is home again after it
    except Exception as err:
        for fd in getattr(err, "fds", ()):
            os.close(fd)
        raise


def _prepare_child(name: str) -> None:
    """In a forked child: enter ``name`` the way ``ip netns exec`` does."""
    fd = open_fd(name)
    syscalls.setns(fd, syscalls.CLONE_NEWNET, subject=f"netns {name!r}")
    os.close(fd)
    # A private view of the mounts, so that /sys and /etc can be replaced
    # without the change reaching the rest of the system.
    syscalls.unshare(syscalls.CLONE_NEWNS)
    syscalls.mount("", "/", "none", syscalls.MS_SLAVE | syscalls.MS_REC)
    # /sys shows the network devices of the namespace that mounted it.
    try:
        syscalls.umount2("/sys", syscalls.MNT_DETACH)
    except KernelError as err:
        if err.errno != errno.EINVAL:
            raise
    syscalls.mount(name, "/sys", "sysfs", 0)
    etc_dir = os.path.join(ETC_DIR, name)
    try:
        entries = os.listdir(etc_dir)
    except FileNotFoundError:
        entries = []
    for entry in entries:
        source = os.path.join(etc_dir, entry)
        target = os.path.join("/etc", entry)
        try:
            syscalls.mount(source, target, "none", syscalls.MS_BIND)
        except KernelError:
            continue  # as ip netns exec: an overlay that cannot be made is skipped


def execvp(name: str, argv: Sequence[str]) -> None:
    """Replace this process with ``argv`` run inside the named namespace.

    Equals ``ip netns exec NAME CMD...``: a fresh mount namespace with /sys
    remounted for the target and ``/etc/netns/NAME/*`` bind-mounted over
    ``/etc``. The process must be single-threaded (unshare of the mount
    namespace requires it). Returns only by raising.
    """
    if not argv:
        raise ValueError("argv must name a program")
    validate_name(name)
    _prepare_child(name)
    os.execvp(argv[0], builtins.list(argv))


def run(name: str, argv: Sequence[str]) -> int:
    """Run ``argv`` inside the named namespace and wait for it, like
    ``ip netns exec NAME CMD...``; returns its exit status (``128+N`` for a
    signal N). This process is not moved.

    If the program cannot be started (no such program, no privileges to
    enter the namespace...), the error is raised here, in the caller, as the
    KernelError the child met, as ``subprocess`` does.
    """
    if not argv:
        raise ValueError("argv must name a program")
    validate_name(name)
    fd = open_fd(name)  # fail here, in the parent, with a clear error
    os.close(fd)
    # The child reports a failure to start through this pipe; a successful
    # exec closes it (O_CLOEXEC) with nothing written.
    report_r, report_w = os.pipe2(os.O_CLOEXEC)
    # A signal handler that raises (Ctrl-C, a face's SIGTERM) must not run
    # inside fork()'s at-fork hooks, where Python drops the exception with a
    # traceback on stderr: the signals wait, blocked, until fork() is over.
    mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, (_signal.SIGINT, _signal.SIGTERM))
    try:
        pid = os.fork()
    except BaseException:
        _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
        os.close(report_r)
        os.close(report_w)
        raise
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(report_r)
            _prepare_child(name)
            _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)  # exec keeps the mask
            os.execvp(argv[0], builtins.list(argv))
        except BaseException as err:
            code = getattr(err, "errno", None) or errno.EIO
            origin = getattr(err, "syscall", None) or "execvp"
            subject = getattr(err, "subject", None) or f"program {argv[0]!r}"
            os.write(report_w, f"{code}\0{origin}\0{subject}".encode(errors="replace"))
        finally:
            os._exit(127)
    os.close(report_w)
    try:
        with os.fdopen(report_r, "rb") as report:
            _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)  # a held signal lands here
            failure = report.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if failure:
        code, origin, subject = failure.decode(errors="replace").split("\0", 2)
        raise kernel_error(int(code), syscall=origin, subject=subject)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def nsids(handle: NsidSource, names: Iterable[str] | None = None) -> dict[str, int]:
    """The ids the namespace of ``handle`` (a ``Handle``) gives the named
    namespaces: name -> nsid, for each of ``names`` (default: every named
    namespace, ``list()``) that has an id there. Names that are not
    namespaces (a stale file) or that cannot be opened are left out. These
    are the ids ``ip -n NS netns list`` prints as ``(id: N)``."""
    found: dict[str, int] = {}
    for name in list() if names is None else names:
        try:
            nsid = handle.nsid_get(name)
        except (RawnsError, OSError, ValueError):
            continue
        if nsid is not None:
            found[name] = nsid
    return found


def nsid_names(handle: NsidSource, names: Iterable[str] | None = None) -> dict[int, str]:
    """nsid -> name, the other way round from ``nsids``: how ip names the
    namespace behind a ``link-netnsid`` (``link-netns NAME``) or an entry of
    ``ip netns list-id``. When two names hold the same namespace, the last
    one in ``names`` (sorted, by default) is kept."""
    return {nsid: name for name, nsid in nsids(handle, names).items()}


#: Where per-namespace sysctls live; files below belong to the namespace of
#: the thread that opens them.
_PROC_SYS = "/proc/sys/"


def sysctl_path(key: str) -> str:
    """The /proc/sys file of the network sysctl ``key``, or ValueError.

    ``key`` is written as sysctl(8) writes it, ``net.ipv4.ip_forward``, or
    with slashes, ``net/ipv4/conf/eth0.5/forwarding``; as with sysctl(8), the
    first separator tells which: in the dotted form a ``/`` stands for a dot
    inside a name (``net.ipv4.conf.eth0/5.forwarding``). Only ``net.*`` keys:
    the others do not belong to a network namespace, and reading them
    "inside" one would silently give the machine's values. No part may be
    empty, ``.`` or ``..``, or hold NUL.
    """
    if not isinstance(key, str):
        raise TypeError(f"sysctl key must be str, not {type(key).__name__}")
    dot, slash = key.find("."), key.find("/")
    if slash != -1 and (dot == -1 or slash < dot):
        parts = key.split("/")
    else:
        parts = [part.replace("/", ".") for part in key.split(".")]
    if parts[0] != "net" or len(parts) < 2:
        raise ValueError(f"sysctl key {key!r} is not a network sysctl (net.*)")
    for part in parts:
        if part in ("", ".", "..") or "\0" in part:
            raise ValueError(f"sysctl key {key!r} has an invalid part {part!r}")
    return _PROC_SYS + "/".join(parts)


def sysctl_name(key: str) -> str:
    """``key`` (either spelling, or its /proc/sys path) as sysctl(8) prints
    it: dotted, a dot inside a name written ``/`` (``net.ipv4.conf.eth0/5.forwarding``).
    ValueError as ``sysctl_path``."""
    path = key if key.startswith(_PROC_SYS) else sysctl_path(key)
    return ".".join(part.replace(".", "/") for part in path[len(_PROC_SYS):].split("/"))


#: What sysctl(8) leaves out of a listing unless given --deprecated (each
#: has a successor in milliseconds), as file names.
SYSCTL_DEPRECATED = frozenset({"base_reachable_time", "retrans_time"})


def sysctl_list(ns: NetnsTarget | None, key: str = "net", *, deprecated: bool = False,
                values: bool = True) -> builtins.list[tuple[str, str]]:
    """``(name, value)`` of every readable network sysctl at or below ``key``
    in the namespace ``ns`` (None: the calling thread's own), as ``ip netns
    exec NS sysctl KEY`` lists them: names as ``sysctl_name`` writes them,
    each directory in byte order of its entries, values as the files hold
    them (without the final newline).

    Below a directory, files that cannot be read are left out as sysctl(8)
    leaves them out: write-only ones (``net.ipv4.route.flush``), those that
    refuse a read (an unset ``stable_secret``: EIO), those that vanish while
    listed, and ``SYSCTL_DEPRECATED`` unless ``deprecated``. When ``key``
    itself is a file, a write-only one gives ``[]`` and a failed read is a
    KernelError. A missing ``key`` is a KernelError (ENOENT) naming it; one
    directory walk per call, on the calling thread, moved into ``ns`` and back.
    ``values=False`` reads no file (each value is ``""``): the names ``sysctl
    -N`` lists, among them those whose read would fail.
    """
    path = _PROC_SYS + "net" if key == "net" else sysctl_path(key)
    subject = f"sysctl {key!r}" + ("" if ns is None else f" in {describe(ns)}")
    if ns is None:
        return _sysctl_walk(path, deprecated, values, subject)
    with enter(ns):
        return _sysctl_walk(path, deprecated, values, subject)


def _sysctl_walk(path: str, deprecated: bool, values: bool,
                 subject: str) -> builtins.list[tuple[str, str]]:
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise kernel_error(err.errno or errno.EIO, syscall="stat", subject=subject) from err
    if mode & 0o170000 != 0o040000:  # not a directory (stat.S_ISDIR, without stat)
        if not mode & 0o400:
            return []
        value = _sysctl_here(path, None, subject) if values else ""
        assert value is not None
        return [(sysctl_name(path), value)]
    found: builtins.list[tuple[str, str]] = []
    _sysctl_directory(path, deprecated, values, subject, found)
    return found


def _sysctl_directory(directory: str, deprecated: bool, values: bool, subject: str,
                      found: builtins.list[tuple[str, str]]) -> None:
    """Append what ``directory`` holds to ``found``: its entries in byte
    order, a subdirectory's contents where its name falls (as sysctl(8))."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return  # vanished while listed (a device went away)
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                _sysctl_directory(entry.path, deprecated, values, subject, found)
                continue
            if not entry.stat().st_mode & 0o400 or (
                    not deprecated and entry.name in SYSCTL_DEPRECATED):
                continue
            value = _sysctl_here(entry.path, None, subject) if values else ""
        except (OSError, KernelError):
            continue
        assert value is not None
        found.append((sysctl_name(entry.path), value))


if not TYPE_CHECKING:
    def overload(function: object) -> object:  # typing's, without importing typing
        return function


@overload
def sysctl(ns: NetnsTarget | None, key: str) -> str: ...
@overload
def sysctl(ns: NetnsTarget | None, key: str, value: str | int) -> None: ...


def sysctl(ns: NetnsTarget | None, key: str, value: str | int | None = None) -> str | None:
    """Read (two arguments) or write (three) the network sysctl ``key`` of
    the namespace ``ns`` (a name, path or fd; None: the calling thread's own).

    ``sysctl(ns, "net.ipv4.ip_forward")`` returns the value as the file
    holds it, without the final newline; ``sysctl(ns,
    "net.ipv4.ip_forward", 1)`` writes it. Equals ``ip netns exec NS sysctl
    [-w] KEY[=VALUE]``, without a fork: the calling thread opens the file
    inside ``ns`` (files under /proc/sys/net belong to the namespace of
    whoever opens them) and is moved back in a ``finally``; no other thread
    moves. A bad key is a ValueError before anything is opened; a missing
    key (no such device) is FileNotFoundError; a value the kernel refuses is
    a KernelError (EINVAL).
    """
    path = sysctl_path(key)
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise TypeError(f"sysctl value must be str or int, not {type(value).__name__}")
        data = str(value).encode()
        if b"\0" in data or b"\n" in data.rstrip(b"\n"):
            raise ValueError(f"sysctl value {value!r} holds NUL or a newline")
    subject = f"sysctl {key!r}" + ("" if ns is None else f" in {describe(ns)}")
    if ns is None:
        return _sysctl_here(path, value, subject)
    with enter(ns):
        return _sysctl_here(path, value, subject)


def _sysctl_here(path: str, value: str | int | None, subject: str) -> str | None:
    step = "open"
    try:
        fd = os.open(path, (os.O_RDONLY if value is None else os.O_WRONLY) | os.O_CLOEXEC)
        try:
            if value is not None:
                step = "write"
                os.write(fd, str(value).encode())
                return None
            step = "read"
            chunks = []
            while chunk := os.read(fd, 4096):
                chunks.append(chunk)
            return b"".join(chunks).decode(errors="replace").rstrip("\n")
        finally:
            os.close(fd)
    except OSError as err:
        raise kernel_error(err.errno or errno.EIO, syscall=step, subject=subject) from err
# --- processes of a namespace, naming a process's namespace ------------------------------

def pids(target: NetnsTarget) -> builtins.list[int]:
    """The ids of the processes whose network namespace is ``target`` (a name,
    path or fd), in /proc order. Equals ``ip netns pids NAME``. Processes
    that end or cannot be inspected while the list is made are left out."""
    fd = open_fd(target)
    try:
        wanted = os.fstat(fd)
    finally:
        os.close(fd)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            info = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue  # gone meanwhile, or not ours to look at
        if (info.st_dev, info.st_ino) == (wanted.st_dev, wanted.st_ino):
            found.append(int(entry))
    return found


def attach(name: str, pid: int) -> None:
    """Name the network namespace of the running process ``pid``: bind-mount
    its /proc/PID/ns/net at /run/netns/NAME. Equals ``ip netns attach NAME
    PID``. FileExistsError if the name is taken, ProcessLookupError-like
    KernelError (ENOENT) if there is no such process; nothing is left behind
    on failure."""
    path = path_of(name)
    if isinstance(pid, bool) or not isinstance(pid, int) or pid < 1:
        raise ValueError(f"pid must be a positive int, not {pid!r}")
    source = f"/proc/{pid}/ns/net"
    fd = open_fd(pid=pid)  # fail early, naming the process, if it has no namespace
    os.close(fd)
    _ensure_run_dir()
    try:
        made = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
                       | os.O_NOFOLLOW, 0)
    except OSError as err:
        raise kernel_error(err.errno or errno.EIO, syscall="open",
                           subject=f"netns {name!r}") from err
    os.close(made)
    try:
        syscalls.mount(source, path, "none", syscalls.MS_BIND)
    except KernelError as err:
        _unlink_quietly(os.fsencode(path))
        err.subject = f"netns {name!r} (of pid {pid})"
        raise
    except BaseException:
        _unlink_quietly(os.fsencode(path))
        raise


def tun_processes(name: str) -> builtins.list[tuple[str, int]]:
    """``(command name, pid)`` of the processes holding the tun/tap device
    ``name`` open (its /proc/PID/fdinfo says ``iff: NAME``), as ``ip -d tuntap
    show`` lists them. fdinfo names the device only, not its namespace."""
    wanted = f"iff:\t{name}\n"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fdinfo")
        except OSError:
            continue
        for fd in fds:
            try:
                with builtins.open(f"/proc/{entry}/fdinfo/{fd}") as info:
                    if wanted not in info.read():
                        continue
                with builtins.open(f"/proc/{entry}/comm") as comm:
                    found.append((comm.read().strip(), int(entry)))
                break
            except OSError:
                continue
    return found


def run_all(argv: Sequence[str], *, before: Callable[[str], None] | None = None,
            failed: Callable[[str, KernelError], None] | None = None
            ) -> dict[str, int]:
    """Run ``argv`` in each named namespace in turn, in directory order as
    ``ip -all netns exec CMD`` does, and return each one's exit status.

    ``before(name)`` is called before each run (ip prints ``netns: NAME``);
    a program that cannot start in one namespace is reported to
    ``failed(name, error)`` (and left out of the result) instead of stopping
    the others, as with ip."""
    try:
        names = os.listdir(RUN_DIR)
    except FileNotFoundError:
        names = []
    statuses = {}
    for name in names:
        if before is not None:
            before(name)
        try:
            statuses[name] = run(name, argv)
        except KernelError as err:
            if failed is None:
                raise
            failed(name, err)
    return statuses
