"""Time per ``rawns.netns.add`` (one call per namespace) against ``ip netns
add`` (one process per namespace), in one run, A B B A, waiting between runs.

    python benchmarks/bench_add.py [-n 200]

Measures /run/netns as it is on the machine (see RESULTS.md for the tmpfs
mode of the full harness).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's rawns

from rawns import netns  # noqa: E402


def rawns_add(names: list[str]) -> float:
    started = time.perf_counter()
    for name in names:
        netns.add(name)
    return time.perf_counter() - started


def ip_add(names: list[str]) -> float:
    started = time.perf_counter()
    for name in names:
        subprocess.run(["ip", "netns", "add", name], check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args(argv)
    peers = {"rawns.netns.add": rawns_add, "ip netns add": ip_add}
    times: dict[str, list[float]] = {peer: [] for peer in peers}
    for run, peer in enumerate(["rawns.netns.add", "ip netns add", "ip netns add",
                                "rawns.netns.add"]):
        time.sleep(2)  # let the kernel free the last run's namespaces
        names = [f"rnsadd{os.getpid()}r{run}-{i}" for i in range(args.n)]
        try:
            times[peer].append(peers[peer](names))
        finally:
            netns.delete_many(names, missing_ok=True)
    base = statistics.median(times["rawns.netns.add"])
    for peer, values in times.items():
        median = statistics.median(values)
        print(f"{peer:16} {median / args.n * 1e6:8.0f} us per namespace  "
              f"{median / base:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
