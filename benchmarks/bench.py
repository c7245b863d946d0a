#!/usr/bin/env python3
"""rawns benchmarks (issue 6): rawns against its peers, A B B A, on W1, W2, W3.

    python benchmarks/bench.py --workload W1 -n 1000      (as root; --help)

Runs each peer (:mod:`harness.peers`) on a workload (:mod:`harness.workloads`)
several times and prints a table: median microseconds per namespace (or pod),
spread and the ratio to rawns; plus syscalls, CPU and kernel memory per
namespace, figures that do not depend on a noisy clock. The C reference
``benchmarks/c/ref.c`` is found beside this file and built into
``benchmarks/bin/``. See ``benchmarks/RESULTS.md`` for what it measures and
recorded runs.

Invariants:
- Runs from a source checkout, against the checkout's rawns (put first on
  sys.path), through rawns' public API only. Importable without pyroute2 (a
  peer skipped) and without a compiler (the C peer skipped).
- Nothing is ever made in the machine's root network namespace: the "host"
  of W2 is a namespace named like every other one here, ``rnsbench<pid>-*``.
  Everything with that prefix is removed in a ``finally`` (Ctrl-C and
  SIGTERM too).
- Peers run in rotated A B B A order; before every run the kernel has finished
  freeing the namespaces of the previous one (``wait_for_kernel``).
- A timing never fails anything: a peer that fails is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rawns, not an installed one

from harness.kernel import RUN_DIR, enter_private_tmpfs, fstype_of, machine, \
    measure_memory, netns_objects, sweep, wait_for_kernel  # noqa: E402
from harness.measure import count_syscalls  # noqa: E402
from harness.peers import PEERS, SLOW_PEERS, Context, PeerUnavailable, build_reference, \
    c_argv, find_c_source, run_ip, run_json, run_peer, worker, worker_argv  # noqa: E402
from harness.report import format_memory, format_syscalls, format_table, order, \
    peer_label, summarize  # noqa: E402
from harness.workloads import PHASES, SUB_PHASES, WORKLOADS, pods  # noqa: E402

__all__ = ["main"]

_ENV_PRIVATE = "RAWNS_BENCH_PRIVATE_MNTNS"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench.py", description="rawns benchmarks (issue 6): W1 namespaces, W2 pods, "
        "W3 reading, against a C loop, ip and pyroute2. Needs root. Never touches the root "
        "network namespace.")
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
    p.add_argument("--prefix", help=argparse.SUPPRESS)
    p.add_argument("--host", help=argparse.SUPPRESS)
    p.add_argument("--_worker", dest="worker", help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.worker:
        ctx = Context(args.workload, args.n, args.prefix or "", args.host, args.threads,
                      None, not args.quiet)
        try:
            print(json.dumps(worker(args.worker, ctx)))
        except (PeerUnavailable, NotImplementedError) as err:
            print(f"PeerUnavailable: {err}", file=sys.stderr)
            return 3
        return 0
    if os.geteuid() != 0:
        print("bench: needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)", file=sys.stderr)
        return 2
    if args.mode == "tmpfs" and os.environ.get(_ENV_PRIVATE) != "tmpfs":
        return _reexec_private(argv)
    if args.mode == "tmpfs":
        enter_private_tmpfs()
    return _bench(args, find_c_source())


def _reexec_private(argv: Sequence[str]) -> int:
    """Run this benchmark again in a private mount namespace (tmpfs mode)."""
    env = dict(os.environ)
    env[_ENV_PRIVATE] = "tmpfs"
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv], env=env)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got it too and cleans up
            continue


def _bench(args: argparse.Namespace, c_source: Path | None) -> int:
    prefix = f"rnsbench{os.getpid()}-"
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for peer in peers:
        if peer not in PEERS:
            print(f"bench: unknown peer {peer!r}; known: {', '.join(PEERS)}",
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
            print(f"bench: could not build the C reference: {err}", file=sys.stderr)
    mode_text = ("tmpfs: /run/netns is a tmpfs in a private mount namespace"
                 if args.mode == "tmpfs" else
                 f"disk: /run/netns as it is on this machine ({fstype_of(RUN_DIR)})")
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
            return {"waited": 0.0, "netns_objects": netns_objects(), "ended": "no-wait"}
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
            for peer in order(peers, run):
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
                label = peer_label(peer, args.threads)
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
    print(f"order: rotated A B B A ({', '.join(peer_label(p, args.threads) for p in peers)}); "
          f"waited for the kernel before each run: {'no' if args.no_wait else 'yes'}")
    print()
    print(format_table(rows, unit))
    for peer, why in skipped.items():
        print(f"  {peer_label(peer, args.threads)}: {why}")
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
        run_json([ref_binary, "w2-setup", prefix, str(n), host])
        return
    ps = pods(prefix, n)
    run_ip(["-batch", "-"], "".join(f"netns add {p.netns}\n" for p in ps))
    run_ip(["-n", host, "-batch", "-"],
           "".join(f"link add {p.host_ifname} up type veth peer name {p.ifname}"
                   f" netns {p.netns}\n" for p in ps))
    for p in ps:
        run_ip(["-n", p.netns, "-batch", "-"],
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
            argv = c_argv(ctx)
            phases = [p for p in PHASES[args.workload] if p != "setup"]
        else:
            argv = worker_argv(peer, ctx)
            phases = list(PHASES[args.workload])
        label = peer_label(peer, args.threads)
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


if __name__ == "__main__":
    raise SystemExit(main())
