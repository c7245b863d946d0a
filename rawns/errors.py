"""The exceptions rawns raises, importable by every layer.

Invariants:
- This module imports nothing of rawns, so the sans-IO codec can depend on it.
- Every error a kernel call produces is a ``KernelError`` that is *also* the
  builtin ``OSError`` subclass its errno maps to (``FileExistsError``,
  ``FileNotFoundError``, ``PermissionError`` ...), so callers can write
  ``except FileExistsError`` without knowing rawns' own classes.
"""

from __future__ import annotations

import errno as _errno
import os

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "RawnsError",
    "DecodeError",
    "EncodeError",
    "KernelError",
    "ExtensionMissingError",
    "ThreadStrandedError",
    "EventsLostError",
    "kernel_error",
    "PRIVILEGE_HINT",
]

PRIVILEGE_HINT = "needs root or CAP_SYS_ADMIN/CAP_NET_ADMIN"


class RawnsError(Exception):
    """Base class of every exception rawns raises on purpose."""


class DecodeError(RawnsError, ValueError):
    """Bytes that are not a well-formed netlink message.

    ``offset`` is the byte offset, within the buffer given to the decoder,
    where the problem was found.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.reason = message
        self.offset = offset


class EncodeError(RawnsError, ValueError):
    """A message or attribute that cannot be built (bad value, too large...)."""


class KernelError(RawnsError, OSError):
    """The kernel refused a syscall or a netlink request.

    Besides ``errno`` and ``strerror`` it records where the error came from:
    ``syscall`` (e.g. ``"setns"``) or ``msg_type`` (e.g. ``"RTM_NEWLINK"``),
    ``subject`` (the object acted on, e.g. ``"link 'veth0'"``) and ``extack``
    (the kernel's own explanation from an extended ack, if it gave one).
    """

    def __init__(
        self,
        errno: int,
        *,
        subject: str | None = None,
        syscall: str | None = None,
        msg_type: str | None = None,
        extack: str | None = None,
        hint: str | None = None,
    ) -> None:
        strerror = os.strerror(errno)
        super().__init__(errno, strerror)
        self.subject = subject
        self.syscall = syscall
        self.msg_type = msg_type
        self.extack = extack
        self.hint = hint

    def __str__(self) -> str:
        text = f"[Errno {self.errno}] {self.strerror}"
        if self.subject:
            text = f"{self.subject}: {text}"
        details = []
        if self.extack:
            details.append(f"kernel: {self.extack}")
        origin = self.syscall or self.msg_type
        if origin:
            details.append(f"from {origin}")
        if self.hint:
            details.append(self.hint)
        if details:
            text += " (" + "; ".join(details) + ")"
        return text

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # keep pickling (multiprocessing) working
        return (
            _rebuild,
            (type(self), self.errno, self.subject, self.syscall, self.msg_type,
             self.extack, self.hint),
        )


class ExtensionMissingError(RawnsError, ImportError):
    """rawns' compiled extension (``rawns._native``) is not where rawns was imported from.

    Only the parts that make syscalls need it; ``rawns.netlink`` works without.
    The message says which directory was searched and how to fix it: build
    the extension in place in a source tree, or reinstall a broken install.
    """

    def __init__(self, package_dir: str) -> None:
        project = os.path.dirname(package_dir)
        if os.path.exists(os.path.join(project, "setup.py")):
            # The usual cause: `pip install .` then running from the checkout,
            # whose rawns/ comes first on sys.path and shadows the installed one.
            fix = (f"{package_dir} is a source tree (imported before any installed rawns); "
                   f"build the extension there with `python setup.py build_ext --inplace` "
                   f"(or `pip install -e .`), or run from outside {project} to use the "
                   f"installed rawns")
        else:
            fix = ("this installation is incomplete; reinstall rawns "
                   "(`pip install --force-reinstall rawns`, which needs a C compiler "
                   "and the Python headers when it builds from the sdist)")
        super().__init__(f"rawns' C extension rawns._native is not built in {package_dir}: "
                         f"{fix}", name="rawns._native")
        self.package_dir = package_dir

class EventsLostError(KernelError):
    """Change events were lost (ENOBUFS): the kernel had more to send than the
    monitor's receive buffer could hold while nobody read it, and dropped
    them. The socket itself is fine: reading on gives the events that came
    after the loss."""


class ThreadStrandedError(RawnsError, RuntimeError):
    """The calling thread could not return to its own network namespace: it is
    left in another one, and whatever it does next (sockets, links,
    ``/proc/thread-self``) happens there.

    rawns checks that a thread can come back before it moves it, so this
    means that something changed in between (another thread dropped the
    process's privileges, the kernel ran out of memory). Not an OSError on
    purpose: no handler of ordinary refusals may take it for one and carry
    on. Stop using the thread: let it end, or end the process. Its
    ``__cause__`` is the KernelError of the setns(2) that failed.
    """


def _rebuild(cls: type[KernelError], errno: int, subject: str | None, syscall: str | None,
             msg_type: str | None, extack: str | None, hint: str | None) -> KernelError:
    return cls(errno, subject=subject, syscall=syscall, msg_type=msg_type,
               extack=extack, hint=hint)


def _subclass(name: str, builtin: type[OSError]) -> type[KernelError]:
    return type(name, (KernelError, builtin), {"__module__": __name__})


KernelFileExistsError = _subclass("KernelFileExistsError", FileExistsError)
KernelFileNotFoundError = _subclass("KernelFileNotFoundError", FileNotFoundError)
KernelPermissionError = _subclass("KernelPermissionError", PermissionError)
KernelProcessLookupError = _subclass("KernelProcessLookupError", ProcessLookupError)
KernelInterruptedError = _subclass("KernelInterruptedError", InterruptedError)
KernelBlockingIOError = _subclass("KernelBlockingIOError", BlockingIOError)
KernelIsADirectoryError = _subclass("KernelIsADirectoryError", IsADirectoryError)
KernelNotADirectoryError = _subclass("KernelNotADirectoryError", NotADirectoryError)
KernelTimeoutError = _subclass("KernelTimeoutError", TimeoutError)

_BY_ERRNO: dict[int, type[KernelError]] = {
    _errno.EEXIST: KernelFileExistsError,
    _errno.ENOENT: KernelFileNotFoundError,
    _errno.ENODEV: KernelFileNotFoundError,
    _errno.EPERM: KernelPermissionError,
    _errno.EACCES: KernelPermissionError,
    _errno.ESRCH: KernelProcessLookupError,
    _errno.EINTR: KernelInterruptedError,
    _errno.EAGAIN: KernelBlockingIOError,
    _errno.EISDIR: KernelIsADirectoryError,
    _errno.ENOTDIR: KernelNotADirectoryError,
    _errno.ETIMEDOUT: KernelTimeoutError,
}

__all__ += [cls.__name__ for cls in set(_BY_ERRNO.values())]


def kernel_error(
    errno: int,
    *,
    subject: str | None = None,
    syscall: str | None = None,
    msg_type: str | None = None,
    extack: str | None = None,
) -> KernelError:
    """Build the ``KernelError`` subclass that matches ``errno``.

    EPERM and EACCES get a hint that privileges are missing.
    """
    cls = _BY_ERRNO.get(errno, KernelError)
    hint = PRIVILEGE_HINT if cls is KernelPermissionError else None
    return cls(errno, subject=subject, syscall=syscall, msg_type=msg_type,
               extack=extack, hint=hint)
