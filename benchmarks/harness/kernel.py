"""The machine under test: what it is, when its kernel is done, what is left.

Invariants:
- Only namespaces whose name starts with a run's prefix are ever removed.
- The private mount namespace (tmpfs mode) is made with the C library's own
  unshare(2) and mount(2) through ctypes, not through rawns: the harness sets
  the stage, rawns only plays on it.
- Nothing here fails a run: a wait that times out is reported, not raised.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "RUN_DIR",
    "sweep",
    "netns_objects",
    "wait_for_kernel",
    "enter_private_tmpfs",
    "measure_memory",
    "machine",
    "fstype_of",
]

RUN_DIR = "/run/netns"
_SLAB_OBJECTS = "/sys/kernel/slab/net_namespace/objects"


def _read(path: str, default: str = "") -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


# --------------------------------------------------------------- leftovers

def sweep(prefix: str) -> int:
    """Remove every named namespace whose name starts with ``prefix``."""
    from rawns import netns

    names = [name for name in netns.list() if name.startswith(prefix)]
    for name in names:
        try:
            netns.delete(name)
        except FileNotFoundError:
            pass
        except OSError as err:
            print(f"bench: could not remove {name}: {err}", file=sys.stderr)
    return len(names)


# ------------------------------------------------- waiting for the kernel

def netns_objects() -> int | None:
    """Allocated ``struct net`` objects (the net_namespace slab cache)."""
    text = _read(_SLAB_OBJECTS)
    if text:
        return int(text.split()[0])
    for line in _read("/proc/slabinfo").splitlines():
        if line.startswith("net_namespace "):
            return int(line.split()[1])
    return None


def _netns_work_running() -> bool:
    """Whether a kworker is executing a work item of the ``netns`` workqueue.

    The kernel shows a kworker's comm as ``kworker/u8:0+netns`` while it runs
    an item of that queue (``-netns`` once idle): that item is cleanup_net(),
    which dismantles every namespace whose last reference went away.
    """
    for path in glob.glob("/proc/[0-9]*/comm"):
        comm = _read(path)
        if comm.startswith("kworker") and "+netns" in comm:
            return True
    return False


def wait_for_kernel(target: int | None = None, timeout: float = 120.0, quiet: float = 0.3,
                    stable: float = 3.0, poll: float = 0.02) -> dict[str, Any]:
    """Wait until the kernel has finished freeing deleted namespaces.

    Deleting a namespace only drops a reference; the kernel dismantles it
    later, in cleanup_net() on the ``netns`` workqueue, in batches; whoever
    runs meanwhile shares the CPU with that work. Measured on 6.18: the
    ``struct net`` objects are freed by a *second*, short work item on the
    same queue, some 0.1-1 s after the dismantling ends (after an RCU grace
    period), so "the queue is idle" alone returns too early. We wait until

    - no kworker has run a ``netns`` item for ``quiet`` seconds, and
    - the count of allocated ``struct net`` is back to ``target`` (what it
      was before the run; the caller adds some slack), or, when others hold
      namespaces meanwhile, has not moved for ``stable`` seconds.

    Returns the seconds waited, the count at the end and how the wait ended;
    gives up after ``timeout`` seconds (reported, never fatal).
    """
    start = time.perf_counter()
    idle_since = unchanged_since = start
    last = netns_objects()
    while True:
        now = time.perf_counter()
        objects = netns_objects()
        if _netns_work_running():
            idle_since = now
        if objects != last:
            unchanged_since = now
            last = objects
        idle = now - idle_since >= quiet
        if idle and (objects is None or (target is not None and objects <= target)):
            return {"waited": now - start, "netns_objects": objects, "ended": "freed"}
        if idle and now - unchanged_since >= (stable if target is not None else quiet):
            return {"waited": now - start, "netns_objects": objects,
                    "ended": "stable" if target is not None else "idle"}
        if now - start >= timeout:
            return {"waited": now - start, "netns_objects": objects, "ended": "timeout"}
        time.sleep(poll)


# -------------------------------------------------------------- private mounts

# <sched.h> and <sys/mount.h>: part of the kernel's ABI.
_CLONE_NEWNS = 0x00020000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18


def _libc_call(name: str, *args: Any) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def enter_private_tmpfs() -> None:
    """Become the only process of a new mount namespace where /run/netns is
    a fresh tmpfs (as on a normal host). Needs a single-threaded process:
    call it first thing after exec."""
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("the private mount namespace needs a single-threaded process")
    _libc_call("unshare", _CLONE_NEWNS)
    _libc_call("mount", None, b"/", None, ctypes.c_ulong(_MS_REC | _MS_PRIVATE), None)
    os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
    _libc_call("mount", b"tmpfs", RUN_DIR.encode(), b"tmpfs", ctypes.c_ulong(0), b"mode=0755")


# ---------------------------------------------------- kernel memory

_MEMINFO_KEYS = ("MemFree", "Slab", "SUnreclaim", "SReclaimable", "Percpu",
                 "KernelStack", "PageTables", "VmallocUsed")


def _meminfo() -> dict[str, int]:
    values = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        if key in _MEMINFO_KEYS:
            values[key] = int(rest.split()[0])
    return values


def measure_memory(prefix: str, n: int, settle: Callable[[], Any]) -> dict[str, Any]:
    """Kernel memory per named namespace: /proc/meminfo before and after
    creating N with rawns.netns.add_many (held while measured)."""
    from rawns import netns
    names = [f"{prefix}{i}" for i in range(n)]
    settle()
    before, objects_before = _meminfo(), netns_objects()
    try:
        netns.add_many(names)
        time.sleep(1.0)  # let deferred allocations (addrconf, RCU) land
        after, objects_after = _meminfo(), netns_objects()
    finally:
        sweep(prefix)
    per_ns = {key: (after[key] - before[key]) / n for key in before}
    per_ns["MemFree"] = -per_ns["MemFree"]  # as "used"
    return {"n": n, "kib_per_netns": per_ns,
            "kernel_kib_per_netns": per_ns["Slab"] + per_ns["Percpu"] + per_ns["KernelStack"]
            + per_ns["PageTables"] + per_ns["VmallocUsed"],
            "net_namespace_objects": (objects_after or 0) - (objects_before or 0)}


# --------------------------------------------------------------- the machine

def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def fstype_of(path: str) -> str:
    """The filesystem type of the mount that holds ``path`` (this mount ns)."""
    best, fstype = "", "?"
    real = os.path.realpath(path)
    for line in _read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        if " - " not in line:
            continue
        mount_point = fields[4].replace("\\040", " ")
        after = line.split(" - ", 1)[1].split()
        if (real == mount_point or real.startswith(mount_point.rstrip("/") + "/")) \
                and len(mount_point) >= len(best):
            best, fstype = mount_point, after[0]
    return fstype


def _tool_version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "not found"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    try:
        from importlib.metadata import version
        pyroute2_version = version("pyroute2")
    except Exception:  # not installed
        pyroute2_version = "not installed"
    mem_kib = 0
    match = re.search(r"MemTotal:\s+(\d+)", _read("/proc/meminfo"))
    if match:
        mem_kib = int(match.group(1))
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "iproute2": _tool_version(["ip", "-V"]),
        "pyroute2": pyroute2_version,
        "cc": _tool_version(["cc", "--version"]),
    }
