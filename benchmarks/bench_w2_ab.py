"""W2 setup of several rawns checkouts (and the C loop) side by side: which change made Batch faster.

``bench.py`` compares rawns with other tools; this compares rawns with
itself. Each peer is a checkout (its directory, with the extension built in
place) or ``C`` (``benchmarks/bin/ref w2-setup``, built by ``bench.py``).
Every run is a fresh process that makes a "host" namespace and N pods with
``harness.workloads.rawns_w2_setup`` (the same code for every checkout:
this one's harness, the checkout's rawns), times the setup alone, and
removes it all. Runs are interleaved, A B C then C B A, in a private tmpfs
``/run/netns``, after the kernel has freed the last run's namespaces.

On a machine this noisy (one run can take twice another), only the ratio to
the first peer, taken round by round and averaged geometrically, says much;
the medians are printed beside it.

    python benchmarks/bench_w2_ab.py -n 500 --rounds 8 old=/tmp/base new=. C=C
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

from harness.kernel import enter_private_tmpfs, netns_objects, wait_for_kernel  # noqa: E402

HOST = "abhost"
PREFIX = "ab"  # pods abp0, abp1... as ref.c names them

CHILD = """
import sys, time
sys.path.insert(0, {benchmarks!r})
from harness.workloads import pods, rawns_w2_setup
import rawns.batch  # imported before the clock starts, as bench.py does
ps = pods({prefix!r}, {n})
started = time.perf_counter()
rawns_w2_setup({host!r}, ps)
print(1e6 * (time.perf_counter() - started) / len(ps))
"""

CLEANUP = """
from rawns import netns
netns.delete_many([n for n in netns.list() if n.startswith({pods!r})], missing_ok=True)
netns.delete({host!r})
"""


def run_once(spec: str, n: int) -> float:
    """One W2 setup by ``spec`` (a checkout's directory, or C): us per pod."""
    here = str(BENCHMARKS.parent)
    subprocess.run(["ip", "netns", "add", HOST], check=True)
    try:
        if spec == "C":
            out = subprocess.run([str(BENCHMARKS / "bin" / "ref"), "w2-setup", PREFIX, str(n),
                                  HOST], capture_output=True, text=True, check=True)
            phases = json.loads(out.stdout)["phases"]
            return 1e6 * sum(phases[k]["wall"] for k in
                             ("setup_ns", "setup_veth", "setup_inside")) / n
        child = CHILD.format(benchmarks=str(BENCHMARKS), prefix=PREFIX, n=n, host=HOST)
        out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(spec).resolve())},
                             cwd="/tmp")
        if out.returncode:
            raise RuntimeError(f"{spec}: {out.stderr.strip()[-400:]}")
        return float(out.stdout)
    finally:
        subprocess.run([sys.executable, "-c", CLEANUP.format(pods=PREFIX + "p", host=HOST)],
                       env={**os.environ, "PYTHONPATH": here}, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peers", nargs="+", metavar="NAME=DIR|C",
                        help="a checkout to time (its directory), or C for the C loop")
    parser.add_argument("-n", type=int, default=500, help="pods (default 500)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds (default 6)")
    args = parser.parse_args(argv)
    peers = dict(spec.split("=", 1) for spec in args.peers)
    if os.geteuid() != 0:
        parser.error("needs root")
    if "C" in peers.values() and not (BENCHMARKS / "bin" / "ref").exists():
        parser.error("no benchmarks/bin/ref: run bench.py -w W2 once to build it")
    enter_private_tmpfs()
    base = netns_objects()
    times: dict[str, list[float]] = {name: [] for name in peers}
    order = list(peers)
    for number in range(args.rounds):
        for name in order if number % 2 == 0 else order[::-1]:
            wait_for_kernel(target=None if base is None else base + 8)
            time.sleep(0.5)
            times[name].append(run_once(peers[name], args.n))
    first = order[0]
    print(f"W2 setup, N={args.n}, {args.rounds} rounds, us per pod")
    for name, runs in times.items():
        ratios = [a / b for a, b in zip(runs, times[first])]
        mean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"{name:10s} median {statistics.median(runs):7.0f}   geo-mean ratio to {first}: "
              f"{mean:.3f}   runs " + " ".join(f"{x:.0f}" for x in runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
