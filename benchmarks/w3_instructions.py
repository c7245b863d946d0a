#!/usr/bin/env python3
# Invariants:
# - Counts, does not time: user-space instructions (valgrind's callgrind, every
#   thread, PYTHONHASHSEED=0) of reading N pods' addresses and neighbours, per
#   pod, as the difference between 3 passes and 1 (start-up, imports and the
#   first pass's code generation cancel out). The same on a loaded machine.
# - The pods ("rnsw3i<pid>p<i>", made by the W2 hook in /run/netns as it is) are
#   removed in a finally; the counted runs only read them.
"""W3's reading, counted in instructions: deterministic where wall time is not.

    python benchmarks/w3_instructions.py -n 100 [--tree OTHER_CHECKOUT ...]   (as root)

Variants: ``bulk`` (``rawns.read_many(names, ("addr", "neigh"))``, 16 pods per
call, so that it runs on one thread) and
``handle`` (a ``Handle`` per pod, ``addr_list()`` and ``neigh_list()``). Each
``--tree`` is another checkout (with its built extension) whose rawns is
counted on the same pods: e.g. an export of an older commit, to compare.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

__all__ = ["main"]

VARIANTS = ("bulk", "handle")


def worker(variant: str, passes: int, names: list[str]) -> None:
    """Runs under callgrind, with the tree to count first on sys.path."""
    from rawns import Handle, read_many

    def bulk() -> None:
        # 16 at a time: read_many then stays on the calling thread (beyond 16 a
        # helper thread runs the C loops, and the instructions the two threads
        # spend waiting for each other under callgrind vary from run to run).
        for start in range(0, len(names), 16):
            read_many(names[start:start + 16], ("addr", "neigh"))

    def handle() -> None:
        for name in names:
            with Handle(name) as opened:
                opened.addr_list()
                opened.neigh_list()

    run = bulk if variant == "bulk" else handle
    run()  # code generated, caches warm: not counted (1 pass is subtracted)
    for _ in range(passes):
        run()


def count(tree: Path, variant: str, passes: int, names: list[str]) -> int:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         str(Path(__file__).resolve()), "--_worker", variant, str(passes), *names],
        capture_output=True, text=True, env=env, cwd="/")
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed: {result.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--_worker"]:
        worker(args_list[1], int(args_list[2]), args_list[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="pods")
    parser.add_argument("--tree", action="append", default=[],
                        help="another checkout to count (repeatable)")
    args = parser.parse_args(args_list)
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(1, str(HERE))
    from harness.kernel import wait_for_kernel
    from harness.workloads import pods, rawns_w2_setup
    from rawns import netns

    prefix = f"rnsw3i{os.getpid()}"
    host = f"{prefix}host"
    made = pods(prefix, args.n)
    names = [pod.netns for pod in made]
    trees = [HERE.parent, *(Path(tree).resolve() for tree in args.tree)]
    netns.add(host)
    try:
        rawns_w2_setup(host, made)
        wait_for_kernel()
        time.sleep(2)  # the pods' links settle (IPv6 addresses, neighbours)
        print(f"W3 reading of {args.n} pods, user-space instructions per pod "
              f"(3 passes minus 1, callgrind):")
        for tree in trees:
            for variant in VARIANTS:
                one = count(tree, variant, 1, names)
                three = count(tree, variant, 3, names)
                print(f"  {str(tree):40s} {variant:7s} {(three - one) / (2 * args.n):10.0f}")
    finally:
        netns.delete_many([*names, host], missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
