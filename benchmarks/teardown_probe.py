#!/usr/bin/env python3
"""What decides the speed of a delete loop: one factor varied at a time (issue 18).

    python benchmarks/teardown_probe.py -n 1000,5000 --runs 2      (as root; --help)

Each variant creates N named namespaces and deletes them; only the delete loop
is timed. ``c`` is ``benchmarks/c/delete_probe.c`` deleting as
``benchmarks/c/ref.c`` does; ``c-hold`` the same holding every namespace open
(O_PATH) until the loop ends, so that the kernel's cleanup cannot run beside
it; ``c-threads`` with 4 idle threads in the process; ``c-phases`` with every
umount first and every unlink after; ``rawns`` is ``netns.delete_many`` and
``rawns-loop`` a ``netns.delete`` loop, each in a fresh Python process. The
variants run in rotated A B B A order, in a private mount namespace with
/run/netns on a tmpfs, the kernel left to free the previous run's namespaces
before each; every line printed carries the load average.

Invariants: rawns through its public API only; everything made carries the
prefix ``rnsprobe<pid>-`` and is removed in a ``finally``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rawns, not an installed one

from harness.kernel import enter_private_tmpfs, netns_objects, sweep, \
    wait_for_kernel  # noqa: E402
from harness.report import order  # noqa: E402

__all__ = ["main", "VARIANTS"]

#: variant -> extra arguments of delete_probe (None: a rawns worker)
VARIANTS: dict[str, list[str] | None] = {
    "c": [], "c-hold": ["hold"], "c-threads": ["threads=4"], "c-phases": ["phases"],
    "rawns": None, "rawns-loop": None}
_ENV_PRIVATE = "RAWNS_BENCH_PRIVATE_MNTNS"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="teardown_probe.py",
        description="Time N named-namespace deletions, varying one factor at a time (holding "
        "the namespaces, threads, order; C against rawns). Needs root.")
    p.add_argument("-n", default="1000,5000", help="comma-separated N (default 1000,5000)")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma-separated, of: {', '.join(VARIANTS)}")
    p.add_argument("--runs", type=int, default=2, help="runs of each variant (default 2)")
    p.add_argument("--json", metavar="FILE", type=Path, help="also write every run here")
    p.add_argument("--_worker", dest="worker", nargs=3, help=argparse.SUPPRESS)
    return p


def _build() -> str:
    source = HERE / "c" / "delete_probe.c"
    out = HERE / "bin" / "delete_probe"
    out.parent.mkdir(exist_ok=True)
    if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            raise SystemExit("teardown_probe: needs a C compiler (cc)")
        subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-pthread", "-o", str(out),
                        str(source)], check=True)
    return str(out)


def _sched() -> tuple[float, float, int, int]:
    with open("/proc/thread-self/schedstat") as f:
        run, wait = (int(v) / 1e3 for v in f.read().split()[:2])
    counts = {}
    with open("/proc/self/status") as f:
        for line in f:
            if "ctxt_switches" in line:
                key, value = line.split(":")
                counts[key] = int(value)
    return run, wait, counts["voluntary_ctxt_switches"], counts["nonvoluntary_ctxt_switches"]


def _worker(variant: str, prefix: str, n: int) -> dict[str, Any]:
    """A rawns variant, in this (fresh) process: the same figures as the C probe's."""
    from rawns import netns

    names = [f"{prefix}{i}" for i in range(n)]
    t0 = time.perf_counter()
    netns.add_many(names)
    create = time.perf_counter() - t0
    s0 = _sched()
    t0 = time.perf_counter()
    if variant == "rawns":
        netns.delete_many(names)
    else:
        for name in names:
            netns.delete(name)
    delete = time.perf_counter() - t0
    s1 = _sched()
    return {"create_us": create * 1e6 / n, "delete_us": delete * 1e6 / n,
            "run_us": (s1[0] - s0[0]) / n, "runq_wait_us": (s1[1] - s0[1]) / n,
            "voluntary": s1[2] - s0[2], "involuntary": s1[3] - s0[3]}


def _run(variant: str, prefix: str, n: int, probe: str) -> dict[str, Any]:
    extra = VARIANTS[variant]
    argv = ([probe, prefix, str(n), *extra] if extra is not None else
            [sys.executable, str(Path(__file__).resolve()), "--_worker", variant, prefix, str(n)])
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.worker:
        variant, prefix, n = args.worker
        print(json.dumps(_worker(variant, prefix, int(n))))
        return 0
    sizes = [int(v) for v in args.n.split(",") if v.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        print(f"teardown_probe: unknown variant(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("teardown_probe: needs root", file=sys.stderr)
        return 2
    if os.environ.get(_ENV_PRIVATE) != "tmpfs":
        env = dict(os.environ, **{_ENV_PRIVATE: "tmpfs"})
        return subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv],
                              env=env).returncode
    enter_private_tmpfs()
    probe = _build()
    prefix = f"rnsprobe{os.getpid()}-"
    runs: list[dict[str, Any]] = []
    try:
        for n in sizes:
            baseline = None
            for run in range(args.runs):
                for variant in order(variants, run):
                    sweep(prefix)
                    target = None if baseline is None else baseline + 8 + n // 100
                    state = wait_for_kernel(target=target, timeout=180)
                    baseline = state["netns_objects"]
                    load = os.getloadavg()[0]
                    try:
                        result = _run(variant, prefix, n, probe)
                    finally:
                        sweep(prefix)
                    result.update(variant=variant, n=n, run=run, load=load,
                                  waited_s=round(state["waited"], 2))
                    runs.append(result)
                    shown = {k: (round(v, 1) if isinstance(v, float) else v)
                             for k, v in result.items() if k not in ("variant", "n", "run")}
                    print(f"N={n} {variant:<10} {json.dumps(shown)}", flush=True)
    except KeyboardInterrupt:
        return 130
    finally:
        sweep(prefix)
    print(f"\nmedian delete us/ns (min-max), load average {min(r['load'] for r in runs):.1f}-"
          f"{max(r['load'] for r in runs):.1f}; struct net at the end: {netns_objects()}")
    for n in sizes:
        for variant in variants:
            values = [r["delete_us"] for r in runs if r["n"] == n and r["variant"] == variant]
            if values:
                print(f"N={n:<6} {variant:<10} {statistics.median(values):8.1f} "
                      f"({min(values):.1f}-{max(values):.1f})")
    if args.json:
        args.json.write_text(json.dumps({"argv": sys.argv, "runs": runs}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
