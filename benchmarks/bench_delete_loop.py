"""Benchmark: a loop of ``netns.delete`` against ``delete_many`` (issue 18).

Three ways to delete N named namespaces, side by side in one run, A B C C B A,
with the kernel's cleanup of the previous run finished before each:

- ``plain``: ``for name in names: netns.delete(name)``, what a user writes first;
- ``held``: the same loop inside ``with netns.deleting():``;
- ``bulk``: ``netns.delete_many(names)``.

The figures are microseconds per namespace and ratios to ``bulk``. /run/netns
is a tmpfs in a private mount namespace, as on a normal host. Needs root.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from harness.kernel import enter_private_tmpfs, sweep, wait_for_kernel

WAYS = ("plain", "held", "bulk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, nargs="+", default=[1000, 5000],
                        help="namespaces per run (several: one pass each)")
    parser.add_argument("--rounds", type=int, default=2, help="A B C C B A rounds")
    return parser


def _ways(names: Sequence[str]) -> dict[str, Callable[[], None]]:
    from rawns import netns

    def plain() -> None:
        for name in names:
            netns.delete(name)

    def held() -> None:
        with netns.deleting():
            for name in names:
                netns.delete(name)

    return {"plain": plain, "held": held, "bulk": lambda: netns.delete_many(names)}


def measure(n: int, rounds: int) -> dict[str, list[float]]:
    """Microseconds per namespace of each way, one figure per run."""
    from rawns import netns

    prefix = f"rnsdel{os.getpid()}-"
    names = [f"{prefix}{i}" for i in range(n)]
    ways = _ways(names)
    order = [*WAYS, *reversed(WAYS)] * rounds
    figures: dict[str, list[float]] = {way: [] for way in WAYS}
    try:
        for way in order:
            wait_for_kernel(timeout=120)
            netns.add_many(names)
            wait_for_kernel(timeout=120)
            started = time.perf_counter()
            ways[way]()
            figures[way].append((time.perf_counter() - started) * 1e6 / n)
    finally:
        sweep(prefix)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if os.geteuid() != 0:
        print("bench_delete_loop: needs root", file=sys.stderr)
        return 2
    enter_private_tmpfs()
    for n in args.n:
        load = os.getloadavg()[0]
        figures = measure(n, args.rounds)
        bulk = statistics.median(figures["bulk"])
        print(f"N={n}, {args.rounds} rounds, load {load:.2f} -> {os.getloadavg()[0]:.2f}; "
              "us per namespace (median; every run)")
        for way in WAYS:
            median = statistics.median(figures[way])
            runs = ", ".join(f"{value:.0f}" for value in figures[way])
            print(f"  {way:6} {median:7.1f}  {median / bulk:5.2f}x bulk   [{runs}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
