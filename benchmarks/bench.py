"""Benchmarks of rawns against its peers (issue 6), usable as a library.

``python benchmarks/bench.py --workload W1 -n 1000`` (or ``main(argv)``) runs
each peer on a workload several times and prints a table: median microseconds
per namespace (or pod), spread and the ratio to rawns; plus syscalls, CPU and
kernel memory per namespace, figures that do not depend on a noisy clock.

Workloads:
- W1: create N named namespaces, then delete them (timed separately).
- W2: N pods: namespace, veth pair (host end ``vh<i>`` up in a "host"
  namespace made by the benchmark, peer ``eth0`` made inside the pod), an
  address on eth0, eth0 and lo up; then teardown.
- W3: read the address list and neighbour table of each of N pods.

Invariants:
- Importable without pyroute2 (a peer that imports it lazily) and without
  the compiled C reference (a peer skipped when there is no compiler).
- Nothing is ever made in the machine's root network namespace: the "host"
  of W2 is a namespace named like every other one here, ``rnsbench<pid>-*``.
  Everything with that prefix is removed in a ``finally`` (Ctrl-C too).
- Peers run in rotated A B B A order; before every run the kernel has finished
  freeing the namespaces of the previous one (``wait_for_kernel``).
- A timing never fails anything: a peer that fails is reported and skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "WORKLOADS",
    "PEERS",
    "Pod",
    "pods",
    "rawns_w2_setup",
    "rawns_w3_read",
    "wait_for_kernel",
    "main",
]

WORKLOADS = ("W1", "W2", "W3")
PEERS = ("rawns", "rawns-threads", "c", "ip-batch", "ip-loop", "pyroute2")
#: Peers that cost milliseconds per namespace: run only up to --slow-max.
SLOW_PEERS = ("ip-loop", "pyroute2")
#: The phases of each workload, in the order of the table.
PHASES = {
    "W1": ("create", "delete"),
    "W2": ("setup", "setup_ns", "setup_veth", "setup_inside", "teardown"),
    "W3": ("read",),
}
#: Phases timed only as parts of another (not every peer splits them).
SUB_PHASES = {"setup_ns", "setup_veth", "setup_inside"}

RUN_DIR = "/run/netns"
MARKER_DIR = "/rnsbench-marker"  # never exists: access() on it marks strace output
_ENV_PRIVATE = "RAWNS_BENCH_PRIVATE_MNTNS"
_SLAB_OBJECTS = "/sys/kernel/slab/net_namespace/objects"


# --------------------------------------------------------------- pods (W2/W3)

@dataclasses.dataclass(frozen=True)
class Pod:
    """One pod of W2/W3, as every peer makes it."""

    netns: str         #: named namespace of the pod, ``<prefix>p<i>``
    host_ifname: str   #: host end of the veth pair, in the host namespace
    ifname: str        #: peer end, made directly inside the pod
    address: str       #: IPv4 address of ``ifname``, unique per pod
    prefixlen: int     #: its prefix length


def pods(prefix: str, n: int) -> list[Pod]:
    """The N pods of a run: ``<prefix>p<i>``, ``vh<i>``, eth0, 10.0.0.(i+2)/16.

    The same numbering as ``benchmarks/c/ref.c``."""
    out = []
    for i in range(n):
        host = 0x0A000000 + 2 + i
        address = ".".join(str((host >> s) & 255) for s in (24, 16, 8, 0))
        out.append(Pod(f"{prefix}p{i}", f"vh{i}", "eth0", address, 16))
    return out


def rawns_w2_setup(host: str, pods: Sequence[Pod]) -> dict[str, float] | None:
    """W2 setup with rawns: one ``rawns.Batch``.

    Contract: the named namespace ``host`` exists (made by the benchmark, empty
    but for lo). Make every pod: its named namespace ``pod.netns``; in
    ``host`` a veth pair named ``pod.host_ifname``, up, whose peer
    ``pod.ifname`` is created directly inside ``pod.netns`` by the same
    RTM_NEWLINK; inside the pod ``pod.address/pod.prefixlen`` on
    ``pod.ifname``, ``pod.ifname`` up and ``lo`` up. Every ack checked; raise
    on failure (the harness removes whatever has the run's prefix). The
    teardown is ``rawns.netns.delete_many`` of the pods' names and needs no
    hook. May return a dict of sub-phase wall seconds (keys ``setup_ns``,
    ``setup_veth``, ``setup_inside``) or None.
    """
    from rawns.batch import Batch

    with Batch() as batch:
        for pod in pods:
            batch.netns_add(pod.netns)
            batch.veth(pod.host_ifname, pod.ifname, netns=host, peer_netns=pod.netns)
            batch.addr_add(pod.ifname, f"{pod.address}/{pod.prefixlen}", netns=pod.netns)
            batch.link_set("lo", up=True, netns=pod.netns)
    return None


def rawns_w3_read(pods: Sequence[Pod]) -> int:
    """W3 with rawns: one ``rawns.read_many`` of every pod's addresses and
    neighbours.

    Contract: every pod exists as ``rawns_w2_setup`` leaves it. For each pod,
    dump its addresses (RTM_GETADDR) and its neighbours (RTM_GETNEIGH) through
    a netlink socket bound to ``pod.netns``, reading each dump to NLMSG_DONE,
    with the calling thread home again before any reply is read. Return the
    total number of addresses and neighbours read (so that nothing can be
    skipped).
    """
    from rawns.snapshot import read_many

    return sum(len(s.addresses) + len(s.neighbours)  # type: ignore[arg-type]
               for s in read_many([pod.netns for pod in pods], ("addr", "neigh")))


# --------------------------------------------------------------- the machine

def _read(path: str, default: str = "") -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _fstype_of(path: str) -> str:
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


# ------------------------------------------------- waiting for the kernel

def _netns_objects() -> int | None:
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
    last = _netns_objects()
    while True:
        now = time.perf_counter()
        objects = _netns_objects()
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


# ---------------------------------------------------------- measuring

def _rusage() -> tuple[float, float]:
    """User and system CPU seconds of this process and its waited children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + kids.ru_utime, own.ru_stime + kids.ru_stime


def _marker(phase: str, edge: str) -> None:
    os.access(f"{MARKER_DIR}/{phase}-{edge}", os.F_OK)


class Phases:
    """Times named phases: wall clock, user and system CPU (self + children).

    Each phase is bracketed by access() on a path that never exists, so that
    a strace of the run can count the syscalls of the phase alone.
    """

    def __init__(self) -> None:
        self.result: dict[str, dict[str, float]] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        _marker(name, "begin")
        user0, sys0 = _rusage()
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            t1 = time.perf_counter()
            user1, sys1 = _rusage()
            _marker(name, "end")
            self.result[name] = {"wall": t1 - t0, "user": user1 - user0, "sys": sys1 - sys0}


class Progress:
    """Progress of one long run on stderr: at most twice a second on a
    terminal (rewriting one line), every 5 seconds otherwise."""

    def __init__(self, label: str, total: int, enabled: bool = True) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.last = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        every = 0.5 if sys.stderr.isatty() else 5.0  # a log file gets fewer lines
        if now - self.last < every and done < (total or self.total):
            return
        self.last = now
        self.shown = True
        end = "\r" if sys.stderr.isatty() else "\n"
        sys.stderr.write(f"    {self.label}: {done}/{total or self.total}{end}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown and sys.stderr.isatty():
            sys.stderr.write(" " * 60 + "\r")
            sys.stderr.flush()


def _names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def sweep(prefix: str) -> int:
    """Remove every named namespace whose name starts with ``prefix``."""
    try:
        names = [name for name in os.listdir(RUN_DIR) if name.startswith(prefix)]
    except FileNotFoundError:
        return 0
    if not names:
        return 0
    from rawns import netns
    for name in names:
        try:
            netns.delete(name)
        except FileNotFoundError:
            pass
        except OSError as err:
            print(f"rawns bench: could not remove {name}: {err}", file=sys.stderr)
    return len(names)


# ------------------------------------------------------------------ peers

class PeerUnavailable(Exception):
    """The peer cannot run here (not installed, not wired yet...)."""


@dataclasses.dataclass
class Context:
    workload: str
    n: int
    prefix: str
    host: str | None
    threads: int
    ref_binary: str | None
    progress: bool


def _run_ip(args: Sequence[str], stdin: str | None = None) -> None:
    proc = subprocess.run(["ip", *args], input=stdin, text=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args[:4])}...: {proc.stderr.strip()[:300]}")


def _worker_argv(peer: str, ctx: Context) -> list[str]:
    argv = [sys.executable, "-m", "rawns.bench", "--_worker", peer,
            "--workload", ctx.workload, "-n", str(ctx.n), "--prefix", ctx.prefix,
            "--threads", str(ctx.threads)]
    if ctx.host:
        argv += ["--host", ctx.host]
    if not ctx.progress:
        argv.append("--quiet")
    return argv


def _run_json(argv: Sequence[str]) -> dict[str, Any]:
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        if lines and lines[-1].startswith("PeerUnavailable: "):
            raise PeerUnavailable(lines[-1].split(": ", 1)[1])
        raise RuntimeError(f"{os.path.basename(argv[0])} failed: " +
                           " | ".join(lines[-3:]))
    sys.stderr.write(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_peer(peer: str, ctx: Context) -> dict[str, dict[str, float]]:
    """One run of ``peer``: returns ``{phase: {"wall", "user", "sys"}}``."""
    if peer in ("rawns", "rawns-threads", "pyroute2"):
        return _run_json(_worker_argv(peer, ctx))["phases"]
    if peer == "c":
        if ctx.ref_binary is None:
            raise PeerUnavailable("no C compiler (cc) or no benchmarks/c/ref.c")
        args = {"W1": ["w1", ctx.prefix, str(ctx.n)],
                "W2": ["w2", ctx.prefix, str(ctx.n), ctx.host or ""],
                "W3": ["w3", ctx.prefix, str(ctx.n)]}[ctx.workload]
        phases = _run_json([ctx.ref_binary, *args])["phases"]
        if ctx.workload == "W2":
            phases["setup"] = _sum_phases(phases, ("setup_ns", "setup_veth", "setup_inside"))
        return phases
    if peer in ("ip-batch", "ip-loop"):
        return _run_ip_peer(peer, ctx)
    raise ValueError(f"unknown peer {peer!r}")


def _sum_phases(phases: dict[str, dict[str, float]], names: Iterable[str]) -> dict[str, float]:
    return {key: sum(phases[name][key] for name in names) for key in ("wall", "user", "sys")}


def _run_ip_peer(peer: str, ctx: Context) -> dict[str, dict[str, float]]:
    """iproute2, timed from here (process start-up included: it is the cost)."""
    timer = Phases()
    progress = Progress(f"{peer} {ctx.workload}", ctx.n, ctx.progress)
    batch = peer == "ip-batch"
    try:
        if ctx.workload == "W1":
            names = _names(ctx.prefix, ctx.n)
            if batch:
                timer.run("create", lambda: _run_ip(
                    ["-batch", "-"], "".join(f"netns add {n}\n" for n in names)))
                timer.run("delete", lambda: _run_ip(
                    ["-batch", "-"], "".join(f"netns delete {n}\n" for n in names)))
            else:
                timer.run("create", lambda: _ip_loop(
                    ([["netns", "add", n]] for n in names), progress))
                timer.run("delete", lambda: _ip_loop(
                    ([["netns", "delete", n]] for n in names), progress))
        elif ctx.workload == "W2":
            assert ctx.host is not None
            ps = pods(ctx.prefix, ctx.n)
            if batch:
                timer.run("setup_ns", lambda: _run_ip(
                    ["-batch", "-"], "".join(f"netns add {p.netns}\n" for p in ps)))
                timer.run("setup_veth", lambda: _run_ip(
                    ["-n", ctx.host, "-batch", "-"],
                    "".join(f"link add {p.host_ifname} up type veth peer name {p.ifname}"
                            f" netns {p.netns}\n" for p in ps)))
                timer.run("setup_inside", lambda: _ip_loop(
                    ([["-n", p.netns, "-batch", "-"],
                      f"addr add {p.address}/{p.prefixlen} dev {p.ifname}\n"
                      f"link set {p.ifname} up\nlink set lo up\n"] for p in ps), progress))
                timer.run("teardown", lambda: _run_ip(
                    ["-batch", "-"], "".join(f"netns delete {p.netns}\n" for p in ps)))
            else:
                timer.run("setup_ns", lambda: _ip_loop(
                    ([["netns", "add", p.netns]] for p in ps), progress))
                timer.run("setup_veth", lambda: _ip_loop(
                    ([["-n", ctx.host, "link", "add", p.host_ifname, "up", "type", "veth",
                       "peer", "name", p.ifname, "netns", p.netns]] for p in ps), progress))
                timer.run("setup_inside", lambda: _ip_loop(
                    (cmd for p in ps for cmd in (
                        [["-n", p.netns, "addr", "add", f"{p.address}/{p.prefixlen}",
                          "dev", p.ifname]],
                        [["-n", p.netns, "link", "set", p.ifname, "up"]],
                        [["-n", p.netns, "link", "set", "lo", "up"]])),
                    progress, per_item=3))
                timer.run("teardown", lambda: _ip_loop(
                    ([["netns", "delete", p.netns]] for p in ps), progress))
            timer.result["setup"] = _sum_phases(
                timer.result, ("setup_ns", "setup_veth", "setup_inside"))
        elif ctx.workload == "W3":
            ps = pods(ctx.prefix, ctx.n)
            if batch:
                timer.run("read", lambda: _ip_loop(
                    ([["-n", p.netns, "-batch", "-"], "addr show\nneigh show\n"] for p in ps),
                    progress))
            else:
                timer.run("read", lambda: _ip_loop(
                    (cmd for p in ps for cmd in ([["-n", p.netns, "addr", "show"]],
                                                 [["-n", p.netns, "neigh", "show"]])),
                    progress, per_item=2))
    finally:
        progress.close()
    return timer.result


def _ip_loop(commands: Iterable[list], progress: Progress, per_item: int = 1) -> None:
    for count, command in enumerate(commands, 1):
        _run_ip(command[0], command[1] if len(command) > 1 else None)
        if count % per_item == 0:
            progress(count // per_item)


# ------------------------------------------------- in-process workers

def _worker(peer: str, ctx: Context) -> dict[str, Any]:
    """Runs one peer in this (fresh) process; the harness reads our JSON."""
    timer = Phases()
    progress = Progress(f"{peer} {ctx.workload}", ctx.n, ctx.progress)
    try:
        if peer in ("rawns", "rawns-threads"):
            _worker_rawns(peer, ctx, timer, progress)
        elif peer == "pyroute2":
            _worker_pyroute2(ctx, timer, progress)
        else:
            raise ValueError(f"no worker for {peer!r}")
    finally:
        progress.close()
        if ctx.workload != "W3":  # W3 reads pods the harness made: leave them
            sweep(ctx.prefix if ctx.workload == "W1" else ctx.prefix + "p")
    return {"peer": peer, "workload": ctx.workload, "n": ctx.n, "phases": timer.result}


def _worker_rawns(peer: str, ctx: Context, timer: Phases, progress: Progress) -> None:
    from rawns import netns
    from rawns import batch, handle, snapshot
    del batch, handle, snapshot  # imported before the clock starts, as for pyroute2
    threads = ctx.threads if peer == "rawns-threads" else 1
    if ctx.workload == "W1":
        names = _names(ctx.prefix, ctx.n)
        timer.run("create", lambda: netns.add_many(
            names, threads=threads, progress=progress if ctx.progress else None))
        timer.run("delete", lambda: netns.delete_many(names))
    elif ctx.workload == "W2":
        if threads != 1:
            raise PeerUnavailable("W2 has no threaded variant")
        ps = pods(ctx.prefix, ctx.n)
        assert ctx.host is not None
        parts = timer.run("setup", lambda: rawns_w2_setup(ctx.host, ps))
        if isinstance(parts, dict):
            for name, wall in parts.items():
                timer.result[name] = {"wall": wall, "user": float("nan"), "sys": float("nan")}
        timer.run("teardown", lambda: netns.delete_many([p.netns for p in ps]))
    elif ctx.workload == "W3":
        if threads != 1:
            raise PeerUnavailable("W3 has no threaded variant")
        ps = pods(ctx.prefix, ctx.n)
        timer.run("read", lambda: rawns_w3_read(ps))


def _worker_pyroute2(ctx: Context, timer: Phases, progress: Progress) -> None:
    try:
        from pyroute2 import IPRoute
        from pyroute2 import netns as p2netns
    except ImportError as err:
        raise PeerUnavailable("pyroute2 is not installed (pip install .[bench])") from err

    def each(items: Sequence[Any], fn: Callable[[Any], Any]) -> None:
        for count, item in enumerate(items, 1):
            fn(item)
            progress(count)

    if ctx.workload == "W1":
        names = _names(ctx.prefix, ctx.n)
        timer.run("create", lambda: each(names, p2netns.create))
        timer.run("delete", lambda: each(names, p2netns.remove))
        return
    ps = pods(ctx.prefix, ctx.n)
    if ctx.workload == "W2":
        def veths() -> None:
            with IPRoute(netns=ctx.host) as host:
                each(ps, lambda p: host.link(
                    "add", ifname=p.host_ifname, kind="veth", state="up",
                    peer={"ifname": p.ifname, "net_ns_fd": p.netns}))

        def inside(p: Pod) -> None:
            with IPRoute(netns=p.netns) as ipr:
                index = ipr.link_lookup(ifname=p.ifname)[0]
                ipr.addr("add", index=index, address=p.address, prefixlen=p.prefixlen)
                ipr.link("set", index=index, state="up")
                ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")

        timer.run("setup_ns", lambda: each([p.netns for p in ps], p2netns.create))
        timer.run("setup_veth", veths)
        timer.run("setup_inside", lambda: each(ps, inside))
        timer.result["setup"] = _sum_phases(
            timer.result, ("setup_ns", "setup_veth", "setup_inside"))
        timer.run("teardown", lambda: each([p.netns for p in ps], p2netns.remove))
    elif ctx.workload == "W3":
        def read(p: Pod) -> None:
            with IPRoute(netns=p.netns) as ipr:
                list(ipr.get_addr())
                list(ipr.get_neighbours())
        timer.run("read", lambda: each(ps, read))


# ------------------------------------------------------- the C reference

def find_c_source() -> Path | None:
    """``benchmarks/c/ref.c`` of a source checkout, if this is one."""
    candidate = Path(__file__).resolve().parent.parent / "benchmarks" / "c" / "ref.c"
    return candidate if candidate.is_file() else None


def build_reference(source: Path, quiet: bool = False) -> str | None:
    """Compile ``ref.c`` with the system compiler into ``benchmarks/bin/``."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    out_dir = source.parent.parent / "bin"
    out_dir.mkdir(exist_ok=True)
    binary = out_dir / "ref"
    if binary.exists() and binary.stat().st_mtime >= source.stat().st_mtime:
        return str(binary)
    cmd = [cc, "-O2", "-Wall", "-Wextra", "-o", str(binary), str(source)]
    if not quiet:
        print("building the C reference:", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)
    return str(binary)


# ---------------------------------------------------- syscall counting

def count_syscalls(argv: Sequence[str], phases: Sequence[str]) -> dict[str, Counter]:
    """Run ``argv`` under ``strace -f`` and count, per phase, the syscalls made
    between the phase's begin and end markers, by every thread."""
    with tempfile.TemporaryDirectory(prefix="rnsbench-strace") as tmp:
        out = os.path.join(tmp, "trace")
        proc = subprocess.run(["strace", "-f", "-qq", "-o", out, "--", *argv],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"traced run failed: {proc.stderr.strip()[-300:]}")
        counts: dict[str, Counter] = {phase: Counter() for phase in phases}
        current: str | None = None
        call = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)\(")
        with open(out, errors="replace") as f:
            for line in f:
                if MARKER_DIR in line:
                    m = re.search(re.escape(MARKER_DIR) + r"/(\w+)-(begin|end)", line)
                    if m:
                        current = m.group(1) if m.group(2) == "begin" else None
                    continue
                if current is None or current not in counts or "resumed>" in line:
                    continue
                m = call.match(line)
                if m:
                    counts[current][m.group(1)] += 1
        return counts


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
    names = _names(prefix, n)
    settle()
    before, objects_before = _meminfo(), _netns_objects()
    try:
        netns.add_many(names)
        time.sleep(1.0)  # let deferred allocations (addrconf, RCU) land
        after, objects_after = _meminfo(), _netns_objects()
    finally:
        sweep(prefix)
    per_ns = {key: (after[key] - before[key]) / n for key in before}
    per_ns["MemFree"] = -per_ns["MemFree"]  # as "used"
    return {"n": n, "kib_per_netns": per_ns,
            "kernel_kib_per_netns": per_ns["Slab"] + per_ns["Percpu"] + per_ns["KernelStack"]
            + per_ns["PageTables"] + per_ns["VmallocUsed"],
            "net_namespace_objects": (objects_after or 0) - (objects_before or 0)}


# ------------------------------------------------------------------ report

def _order(peers: Sequence[str], run: int) -> list[str]:
    """A B C, C B A, B C A, A C B, ...: rotated, every other run reversed."""
    k = run // 2
    base = list(peers[k % len(peers):]) + list(peers[:k % len(peers)])
    return base if run % 2 == 0 else base[::-1]


def summarize(results: list[dict[str, Any]], workload: str, n: int) -> list[dict[str, Any]]:
    rows = []
    by_peer: dict[str, list[dict]] = {}
    for r in results:
        by_peer.setdefault(r["peer"], []).append(r)
    for phase in PHASES[workload]:
        medians: dict[str, float] = {}
        for peer, runs in by_peer.items():
            walls = [r["phases"][phase]["wall"] * 1e6 / n for r in runs
                     if phase in r.get("phases", {})]
            if not walls:
                continue
            users = [r["phases"][phase]["user"] * 1e6 / n for r in runs if phase in r["phases"]]
            syss = [r["phases"][phase]["sys"] * 1e6 / n for r in runs if phase in r["phases"]]
            cpus = [u + s for u, s in zip(users, syss)]
            medians[peer] = statistics.median(walls)
            rows.append({"phase": phase, "peer": peer, "runs": len(walls),
                         "median_us": statistics.median(walls),
                         "min_us": min(walls), "max_us": max(walls),
                         "cpu_us": statistics.median(cpus),
                         "user_us": statistics.median(users), "sys_us": statistics.median(syss)})
        base = "rawns" if "rawns" in medians else ("c" if "c" in medians else None)
        for row in rows:
            if row["phase"] == phase:
                row["ratio_to"] = base
                row["ratio"] = (row["median_us"] / medians[base]) if base else None
    return rows


def format_table(rows: list[dict[str, Any]], unit: str) -> str:
    lines = [f"{'phase':<13} {'peer':<16} {'runs':>4} {'median us/' + unit:>14} "
             f"{'min-max':>17} {'ratio':>11} {'cpu us':>8} {'user us':>8} {'sys us':>8}"]
    for row in rows:
        ratio = f"{row['ratio']:.2f}x {row['ratio_to']}" if row["ratio"] is not None else "-"
        spread = f"{row['min_us']:.1f}-{row['max_us']:.1f}"
        lines.append(f"{row['phase']:<13} {row['peer']:<16} {row['runs']:>4} "
                     f"{row['median_us']:>14.1f} {spread:>17} {ratio:>11} "
                     f"{row['cpu_us']:>8.1f} {row['user_us']:>8.1f} {row['sys_us']:>8.1f}")
    lines.append(f"(median and min-max of the wall time per {unit} over the runs; cpu = user + "
                 "system CPU per " + unit + ", of the peer's processes, exact; its user/system "
                 "split is sampled at the scheduler tick)")
    return "\n".join(lines)


def _peer_label(peer: str, threads: int) -> str:
    return f"rawns-threads={threads}" if peer == "rawns-threads" else peer


# -------------------------------------------------------------- private mounts

def _enter_private_tmpfs() -> None:
    """Become the only process of a new mount namespace where /run/netns is
    a fresh tmpfs (as on a normal host). Needs a single-threaded process:
    call it first thing after exec."""
    from rawns import syscalls
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("the private mount namespace needs a single-threaded process")
    syscalls.unshare(syscalls.CLONE_NEWNS)
    syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)
    os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
    syscalls.mount("tmpfs", RUN_DIR, "tmpfs", 0, "mode=0755")


def _reexec_private(argv: Sequence[str], c_source: Path | None) -> int:
    """Run this benchmark again in a private mount namespace (tmpfs mode)."""
    env = dict(os.environ)
    env[_ENV_PRIVATE] = "tmpfs"
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "rawns.bench", *argv]
    if c_source is not None and "--c-source" not in argv:
        cmd += ["--c-source", str(c_source)]
    child = subprocess.Popen(cmd, env=env)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got it too and cleans up
            continue


# ------------------------------------------------------------------ main

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench", description="rawns benchmarks (issue 6): W1 namespaces, W2 pods, "
        "W3 reading. Needs root. Never touches the root network namespace.")
    p.add_argument("--workload", "-w", choices=WORKLOADS, default="W1", type=str.upper)
    p.add_argument("-n", type=int, default=1000, help="namespaces (W1) or pods (W2, W3)")
    p.add_argument("--runs", type=int, default=3, help="runs of each peer (default 3)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help=f"comma-separated, of: {', '.join(PEERS)}")
    p.add_argument("--threads", type=int, default=2, help="threads of rawns-threads (W1)")
    p.add_argument("--mode", choices=("tmpfs", "disk"), default="tmpfs",
                   help="tmpfs: /run/netns is a tmpfs in a private mount namespace "
                   "(as on a normal host); disk: /run/netns as it is on this machine")
    p.add_argument("--slow-max", type=int, default=1000,
                   help=f"skip {', '.join(SLOW_PEERS)} above this N (default 1000)")
    p.add_argument("--json", metavar="FILE", help="also write every measurement here")
    p.add_argument("--no-syscalls", action="store_true", help="skip the strace pass")
    p.add_argument("--no-memory", action="store_true", help="skip the kernel-memory pass")
    p.add_argument("--no-wait", action="store_true",
                   help="do not wait for the kernel between runs (to see why one should)")
    p.add_argument("--settle-timeout", type=float, default=120.0)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--c-source", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--prefix", help=argparse.SUPPRESS)
    p.add_argument("--host", help=argparse.SUPPRESS)
    p.add_argument("--_worker", dest="worker", help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None, *, c_source: Path | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    ctx = Context(args.workload, args.n, args.prefix or "", args.host, args.threads,
                  None, not args.quiet)
    if args.worker:
        try:
            print(json.dumps(_worker(args.worker, ctx)))
        except (PeerUnavailable, NotImplementedError) as err:
            print(f"PeerUnavailable: {err}", file=sys.stderr)
            return 3
        return 0
    if os.geteuid() != 0:
        print("rawns bench: needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)", file=sys.stderr)
        return 2
    c_source = args.c_source or c_source or find_c_source()
    if args.mode == "tmpfs" and os.environ.get(_ENV_PRIVATE) != "tmpfs":
        return _reexec_private(argv, c_source)
    if args.mode == "tmpfs":
        _enter_private_tmpfs()
    return _bench(args, c_source)


def _bench(args: argparse.Namespace, c_source: Path | None) -> int:
    prefix = f"rnsbench{os.getpid()}-"
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for peer in peers:
        if peer not in PEERS:
            print(f"rawns bench: unknown peer {peer!r}; known: {', '.join(PEERS)}",
                  file=sys.stderr)
            return 2
    skipped: dict[str, str] = {}
    if args.n > args.slow_max:
        for peer in SLOW_PEERS:
            if peer in peers:
                peers.remove(peer)
                skipped[peer] = f"slow: only run up to N={args.slow_max} (--slow-max)"
    if args.workload != "W1" and "rawns-threads" in peers:
        peers.remove("rawns-threads")
    ref_binary = None
    if c_source is not None and ("c" in peers or args.workload == "W3"):
        try:
            ref_binary = build_reference(c_source, args.quiet)
        except subprocess.CalledProcessError as err:
            print(f"rawns bench: could not build the C reference: {err}", file=sys.stderr)
    mode_text = ("tmpfs: /run/netns is a tmpfs in a private mount namespace"
                 if args.mode == "tmpfs" else
                 f"disk: /run/netns as it is on this machine ({_fstype_of(RUN_DIR)})")
    unit = "ns" if args.workload == "W1" else "pod"
    info = machine()
    header = (f"rawns bench {args.workload}, N={args.n}, {args.runs} runs per peer, "
              f"mode {mode_text}\nmachine: {info['nproc']} cpus, {info['cpu']}, "
              f"Linux {info['kernel']}, Python {info['python']}, {info['iproute2']}, "
              f"pyroute2 {info['pyroute2']}")
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    log(header)

    baseline: list[int | None] = [None]  # struct net count when we last settled

    def settle() -> dict[str, Any]:
        if args.no_wait:
            return {"waited": 0.0, "netns_objects": _netns_objects(), "ended": "no-wait"}
        target = None
        if baseline[0] is not None:
            target = baseline[0] + 8 + args.n // 100  # slack: others' churn
        state = wait_for_kernel(target=target, timeout=args.settle_timeout)
        baseline[0] = state["netns_objects"]
        if state["ended"] == "timeout":
            log(f"  warning: the kernel was still freeing namespaces after "
                f"{args.settle_timeout:.0f} s (someone else's?); running anyway")
        return state

    results: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    host = f"{prefix}host"
    stop_signals = _sigterm_as_interrupt()
    try:
        if args.workload == "W3":
            _make_pods_for_w3(prefix, args.n, host, ref_binary, log)
        total = args.runs * len(peers)
        step = 0
        for run in range(args.runs):
            for peer in _order(peers, run):
                step += 1
                if peer in skipped:
                    continue
                if args.workload != "W3":
                    sweep(prefix)
                if args.workload == "W2":
                    from rawns import netns
                    netns.add(host)
                state = settle()
                ctx = Context(args.workload, args.n, prefix, host, args.threads,
                              ref_binary, not args.quiet)
                label = _peer_label(peer, args.threads)
                try:
                    phases = run_peer(peer, ctx)
                except PeerUnavailable as err:
                    skipped[peer] = str(err)
                    log(f"[{step}/{total}] {label}: skipped: {err}")
                    continue
                except Exception as err:  # a peer failing is reported, never fatal
                    skipped[peer] = f"failed: {err}"
                    log(f"[{step}/{total}] {label}: FAILED: {err}")
                    continue
                finally:
                    if args.workload != "W3":
                        sweep(prefix)
                results.append({"peer": label, "run": run, "phases": phases,
                                "waited_s": state["waited"], "wait_ended": state["ended"],
                                "netns_objects_before": state["netns_objects"]})
                shown = ", ".join(f"{name} {v['wall'] * 1e6 / args.n:.1f}"
                                  for name, v in phases.items() if name not in SUB_PHASES)
                log(f"[{step}/{total}] run {run + 1} {label}: {shown} us/{unit} "
                    f"(waited {state['waited']:.2f} s for the kernel: {state['ended']})")
        if not args.no_syscalls and shutil.which("strace"):
            extra["syscalls"] = _syscall_pass(args, peers, skipped, prefix, host, ref_binary,
                                              settle, log)
        if not args.no_memory and args.workload == "W1":
            log("kernel memory: creating N namespaces with rawns and reading /proc/meminfo")
            extra["memory"] = measure_memory(prefix, args.n, settle)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        sweep(prefix)
        signal.signal(signal.SIGTERM, stop_signals)

    rows = summarize(results, args.workload, args.n)
    print(header)
    print(f"order: rotated A B B A ({', '.join(_peer_label(p, args.threads) for p in peers)}); "
          f"waited for the kernel before each run: {'no' if args.no_wait else 'yes'}")
    print()
    print(format_table(rows, unit))
    for peer, why in skipped.items():
        print(f"  {_peer_label(peer, args.threads)}: {why}")
    if "syscalls" in extra:
        print()
        print(format_syscalls(extra["syscalls"], unit))
    if "memory" in extra:
        print()
        print(format_memory(extra["memory"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "mode": args.mode, "mode_text": mode_text,
                       "workload": args.workload, "n": args.n, "runs": args.runs,
                       "argv": sys.argv, "results": results, "summary": rows,
                       "skipped": skipped, **extra}, f, indent=1)
    return 0


def _sigterm_as_interrupt() -> Any:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt
    return signal.signal(signal.SIGTERM, handler)


def _make_pods_for_w3(prefix: str, n: int, host: str, ref_binary: str | None,
                      log: Callable[..., None]) -> None:
    """W3 reads pods made once, before every run, by the fastest peer at hand."""
    from rawns import netns
    netns.add(host)
    log(f"W3: making {n} pods to read")
    if ref_binary is not None:
        _run_json([ref_binary, "w2-setup", prefix, str(n), host])
        return
    ps = pods(prefix, n)
    _run_ip(["-batch", "-"], "".join(f"netns add {p.netns}\n" for p in ps))
    _run_ip(["-n", host, "-batch", "-"],
            "".join(f"link add {p.host_ifname} up type veth peer name {p.ifname}"
                    f" netns {p.netns}\n" for p in ps))
    for p in ps:
        _run_ip(["-n", p.netns, "-batch", "-"],
                f"addr add {p.address}/{p.prefixlen} dev {p.ifname}\n"
                f"link set {p.ifname} up\nlink set lo up\n")


def _syscall_pass(args: argparse.Namespace, peers: Sequence[str], skipped: dict[str, str],
                  prefix: str, host: str, ref_binary: str | None, settle: Callable[[], Any],
                  log: Callable[..., None]) -> dict[str, Any]:
    """One traced run of rawns and the C reference: syscalls per namespace."""
    out: dict[str, Any] = {}
    n = min(args.n, 1000)
    for peer in ("rawns", "rawns-threads", "c"):
        if peer not in peers or peer in skipped:
            continue
        ctx = Context(args.workload, n, prefix, host, args.threads, ref_binary, False)
        if peer == "c":
            if ref_binary is None:
                continue
            argv = {"W1": [ref_binary, "w1", prefix, str(n)],
                    "W2": [ref_binary, "w2", prefix, str(n), host],
                    "W3": [ref_binary, "w3", prefix, str(n)]}[args.workload]
            phases = [p for p in PHASES[args.workload] if p != "setup"]
        else:
            argv = _worker_argv(peer, ctx)
            phases = list(PHASES[args.workload])
        label = _peer_label(peer, args.threads)
        try:
            if args.workload != "W3":
                sweep(prefix)
            if args.workload == "W2":
                from rawns import netns
                if not netns.exists(host):
                    netns.add(host)
            settle()
            log(f"syscalls: tracing {label} (N={n})")
            counts = count_syscalls(argv, phases)
        except Exception as err:  # reported, never fatal
            log(f"syscalls: {label}: {err}")
            continue
        finally:
            if args.workload != "W3":
                sweep(prefix)
        if peer == "c" and args.workload == "W2":
            counts["setup"] = sum((counts[p] for p in SUB_PHASES), Counter())
        out[label] = {"n": n, "phases": {ph: dict(c) for ph, c in counts.items() if c}}
    return out


def format_syscalls(data: dict[str, Any], unit: str) -> str:
    lines = [f"syscalls per {unit} (strace -f, every thread, between the phase's markers; "
             f"includes 2 getrusage per phase)"]
    for label, entry in data.items():
        n = entry["n"]
        for phase, counts in entry["phases"].items():
            total = sum(counts.values()) / n
            top = sorted(counts.items(), key=lambda kv: -kv[1])
            detail = ", ".join(f"{name} {count / n:.2f}" for name, count in top[:9])
            lines.append(f"  {phase:<9} {label:<16} {total:6.2f}  ({detail})")
    return "\n".join(lines)


def format_memory(mem: dict[str, Any]) -> str:
    per = mem["kib_per_netns"]
    return (f"kernel memory per namespace (N={mem['n']} made with rawns.netns.add_many, held; "
            f"/proc/meminfo deltas): {mem['kernel_kib_per_netns']:.1f} KiB kernel "
            f"(Slab {per['Slab']:.1f} of which unreclaimable {per['SUnreclaim']:.1f}, "
            f"Percpu {per['Percpu']:.1f}, Vmalloc {per['VmallocUsed']:.1f}, "
            f"KernelStack {per['KernelStack']:.1f}, PageTables {per['PageTables']:.1f}); "
            f"MemFree fell {per['MemFree']:.1f} KiB/ns; "
            f"struct net objects +{mem['net_namespace_objects']}")


if __name__ == "__main__":
    raise SystemExit(main())
