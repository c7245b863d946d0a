"""The peers: who runs each workload, and how one run of each is timed.

- ``rawns`` / ``rawns-threads``: rawns' public API, in a fresh Python process
  (``bench.py --_worker``), timed around the calls (imports excluded).
- ``rawns-loop``: the same, one call per object as a user writes first:
  ``netns.add`` / ``netns.delete`` in a loop (W2: the Batch setup of ``rawns``,
  its teardown a ``netns.delete`` loop).
- ``c``: ``benchmarks/c/ref.c``, the same syscalls as rawns in a plain C loop,
  compiled here into ``benchmarks/bin/``; it times itself.
- ``ip-batch`` / ``ip-loop``: iproute2, one ``ip -batch`` or one ``ip`` per
  command, timed from here (process start-up included: it is the cost).
- ``pyroute2``: in a fresh Python process, like rawns.

Invariants: a run returns ``{phase: {"wall", "user", "sys"}}`` in seconds or
raises (PeerUnavailable when the peer cannot run here); a worker removes what
it made under the run's prefix before it exits (W3 pods excepted: the runner
made them).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from harness.kernel import sweep
from harness.measure import Phases, Progress, sum_phases
from harness.workloads import SUB_PHASES, Pod, names, pods, rawns_w2_setup, rawns_w3_read

__all__ = [
    "PEERS",
    "SLOW_PEERS",
    "PeerUnavailable",
    "Context",
    "run_peer",
    "run_ip",
    "run_json",
    "worker",
    "worker_argv",
    "c_argv",
    "find_c_source",
    "build_reference",
]

PEERS = ("rawns", "rawns-threads", "rawns-loop", "c", "ip-batch", "ip-loop", "pyroute2")
#: Peers that cost milliseconds per namespace: run only up to --slow-max.
SLOW_PEERS = ("ip-loop", "pyroute2")

BENCHMARKS = Path(__file__).resolve().parent.parent
BENCH_SCRIPT = BENCHMARKS / "bench.py"


class PeerUnavailable(Exception):
    """The peer cannot run here (not installed, no compiler...)."""


@dataclasses.dataclass
class Context:
    workload: str
    n: int
    prefix: str
    host: str | None
    threads: int
    ref_binary: str | None
    progress: bool


def run_peer(peer: str, ctx: Context) -> dict[str, dict[str, float]]:
    """One run of ``peer``: returns ``{phase: {"wall", "user", "sys"}}``."""
    if peer in ("rawns", "rawns-threads", "rawns-loop", "pyroute2"):
        return run_json(worker_argv(peer, ctx))["phases"]
    if peer == "c":
        if ctx.ref_binary is None:
            raise PeerUnavailable("no C compiler (cc) or no benchmarks/c/ref.c")
        phases = run_json(c_argv(ctx))["phases"]
        if ctx.workload == "W2":
            phases["setup"] = sum_phases(phases, SUB_PHASES)
        return phases
    if peer in ("ip-batch", "ip-loop"):
        return _run_ip_peer(peer, ctx)
    raise ValueError(f"unknown peer {peer!r}")


# ------------------------------------------------------- the C reference

def find_c_source() -> Path | None:
    """``benchmarks/c/ref.c``, beside this harness."""
    candidate = BENCHMARKS / "c" / "ref.c"
    return candidate if candidate.is_file() else None


def build_reference(source: Path, quiet: bool = False) -> str | None:
    """Compile ``ref.c`` with the system compiler into ``benchmarks/bin/``
    (gitignored); None without a compiler. Rebuilt only when the source is newer."""
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


def c_argv(ctx: Context) -> list[str]:
    """The command line of the C reference for ``ctx``'s workload."""
    assert ctx.ref_binary is not None
    return {"W1": [ctx.ref_binary, "w1", ctx.prefix, str(ctx.n)],
            "W2": [ctx.ref_binary, "w2", ctx.prefix, str(ctx.n), ctx.host or ""],
            "W3": [ctx.ref_binary, "w3", ctx.prefix, str(ctx.n)]}[ctx.workload]


# ------------------------------------------------------------ processes

def run_json(argv: Sequence[str]) -> dict[str, Any]:
    """Run ``argv``, pass its stderr on, return the JSON of its last line."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        if lines and lines[-1].startswith("PeerUnavailable: "):
            raise PeerUnavailable(lines[-1].split(": ", 1)[1])
        raise RuntimeError(f"{os.path.basename(argv[0])} failed: " +
                           " | ".join(lines[-3:]))
    sys.stderr.write(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def worker_argv(peer: str, ctx: Context) -> list[str]:
    """The command line of a worker process that runs ``peer`` once."""
    argv = [sys.executable, str(BENCH_SCRIPT), "--_worker", peer,
            "--workload", ctx.workload, "-n", str(ctx.n), "--prefix", ctx.prefix,
            "--threads", str(ctx.threads)]
    if ctx.host:
        argv += ["--host", ctx.host]
    if not ctx.progress:
        argv.append("--quiet")
    return argv


# ------------------------------------------------------------------- ip

def run_ip(args: Sequence[str], stdin: str | None = None) -> None:
    proc = subprocess.run(["ip", *args], input=stdin, text=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args[:4])}...: {proc.stderr.strip()[:300]}")


def _ip_loop(commands: Iterable[list], progress: Progress, per_item: int = 1) -> None:
    for count, command in enumerate(commands, 1):
        run_ip(command[0], command[1] if len(command) > 1 else None)
        if count % per_item == 0:
            progress(count // per_item)


def _run_ip_peer(peer: str, ctx: Context) -> dict[str, dict[str, float]]:
    timer = Phases()
    progress = Progress(f"{peer} {ctx.workload}", ctx.n, ctx.progress)
    batch = peer == "ip-batch"
    try:
        if ctx.workload == "W1":
            ns = names(ctx.prefix, ctx.n)
            if batch:
                timer.run("create", lambda: run_ip(
                    ["-batch", "-"], "".join(f"netns add {n}\n" for n in ns)))
                timer.run("delete", lambda: run_ip(
                    ["-batch", "-"], "".join(f"netns delete {n}\n" for n in ns)))
            else:
                timer.run("create", lambda: _ip_loop(
                    ([["netns", "add", n]] for n in ns), progress))
                timer.run("delete", lambda: _ip_loop(
                    ([["netns", "delete", n]] for n in ns), progress))
        elif ctx.workload == "W2":
            host = ctx.host
            assert host is not None
            ps = pods(ctx.prefix, ctx.n)
            if batch:
                timer.run("setup_ns", lambda: run_ip(
                    ["-batch", "-"], "".join(f"netns add {p.netns}\n" for p in ps)))
                timer.run("setup_veth", lambda: run_ip(
                    ["-n", host, "-batch", "-"],
                    "".join(f"link add {p.host_ifname} up type veth peer name {p.ifname}"
                            f" netns {p.netns}\n" for p in ps)))
                timer.run("setup_inside", lambda: _ip_loop(
                    ([["-n", p.netns, "-batch", "-"],
                      f"addr add {p.address}/{p.prefixlen} dev {p.ifname}\n"
                      f"link set {p.ifname} up\nlink set lo up\n"] for p in ps), progress))
                timer.run("teardown", lambda: run_ip(
                    ["-batch", "-"], "".join(f"netns delete {p.netns}\n" for p in ps)))
            else:
                timer.run("setup_ns", lambda: _ip_loop(
                    ([["netns", "add", p.netns]] for p in ps), progress))
                timer.run("setup_veth", lambda: _ip_loop(
                    ([["-n", host, "link", "add", p.host_ifname, "up", "type", "veth",
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
            timer.add_sum("setup", SUB_PHASES)
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


# ------------------------------------------------- in-process workers

def worker(peer: str, ctx: Context) -> dict[str, Any]:
    """Runs one peer in this (fresh) process; the runner reads our JSON."""
    timer = Phases()
    progress = Progress(f"{peer} {ctx.workload}", ctx.n, ctx.progress)
    try:
        if peer in ("rawns", "rawns-threads"):
            _worker_rawns(peer, ctx, timer, progress)
        elif peer == "rawns-loop":
            _worker_rawns_loop(ctx, timer)
        elif peer == "pyroute2":
            _worker_pyroute2(ctx, timer, progress)
        else:
            raise ValueError(f"no worker for {peer!r}")
    finally:
        progress.close()
        if ctx.workload != "W3":  # W3 reads pods the runner made: leave them
            sweep(ctx.prefix if ctx.workload == "W1" else ctx.prefix + "p")
    return {"peer": peer, "workload": ctx.workload, "n": ctx.n, "phases": timer.result}


def _worker_rawns(peer: str, ctx: Context, timer: Phases, progress: Progress) -> None:
    import rawns
    from rawns import netns

    # imported before the clock starts, as for pyroute2 (the names load lazily)
    rawns.Batch, rawns.Handle, rawns.read_many  # noqa: B018
    threads = ctx.threads if peer == "rawns-threads" else 1
    if ctx.workload == "W1":
        ns = names(ctx.prefix, ctx.n)
        timer.run("create", lambda: netns.add_many(
            ns, threads=threads, progress=progress if ctx.progress else None))
        timer.run("delete", lambda: netns.delete_many(ns))
    elif ctx.workload == "W2":
        if threads != 1:
            raise PeerUnavailable("W2 has no threaded variant")
        ps = pods(ctx.prefix, ctx.n)
        host = ctx.host
        assert host is not None
        parts = timer.run("setup", lambda: rawns_w2_setup(host, ps))
        if isinstance(parts, dict):
            for name, wall in parts.items():
                timer.result[name] = {"wall": wall, "user": float("nan"), "sys": float("nan")}
        timer.run("teardown", lambda: netns.delete_many([p.netns for p in ps]))
    elif ctx.workload == "W3":
        if threads != 1:
            raise PeerUnavailable("W3 has no threaded variant")
        ps = pods(ctx.prefix, ctx.n)
        timer.run("read", lambda: rawns_w3_read(ps))


def _worker_rawns_loop(ctx: Context, timer: Phases) -> None:
    import rawns
    from rawns import netns

    rawns.Batch  # noqa: B018 - imported before the clock starts

    def each(fn: Callable[[str], None], items: Sequence[str]) -> None:
        for item in items:
            fn(item)

    if ctx.workload == "W1":
        ns = names(ctx.prefix, ctx.n)
        timer.run("create", lambda: each(netns.add, ns))
        timer.run("delete", lambda: each(netns.delete, ns))
    elif ctx.workload == "W2":
        ps = pods(ctx.prefix, ctx.n)
        host = ctx.host
        assert host is not None
        timer.run("setup", lambda: rawns_w2_setup(host, ps))
        timer.run("teardown", lambda: each(netns.delete, [p.netns for p in ps]))
    else:
        raise PeerUnavailable(f"{ctx.workload} has no one-call-per-object variant here")


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
        ns = names(ctx.prefix, ctx.n)
        timer.run("create", lambda: each(ns, p2netns.create))
        timer.run("delete", lambda: each(ns, p2netns.remove))
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
        timer.add_sum("setup", SUB_PHASES)
        timer.run("teardown", lambda: each([p.netns for p in ps], p2netns.remove))
    elif ctx.workload == "W3":
        def read(p: Pod) -> None:
            with IPRoute(netns=p.netns) as ipr:
                list(ipr.get_addr())
                list(ipr.get_neighbours())
        timer.run("read", lambda: each(ps, read))
