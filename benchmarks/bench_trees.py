"""Start-up of two source trees of rawns side by side: wall and CPU time of fresh
processes, and ``-X importtime`` per module.

For comparing a branch with main during development (bench_startup.py measures
installed wheels, as users meet them).  Every peer runs in the same rounds,
interleaved (A B .. B A); ratios are to ``python -c pass`` of the same rounds.
Processes run with ``-S`` and site-packages on PYTHONPATH (for cffi): this
machine's site (.pth files of the sandbox and of the editable install) costs
15-60 ms by itself and would drown the difference.  Bytecode is cached.

    python benchmarks/bench_trees.py --tree main=/work/main --tree branch=. --runs 30 \\
        --importtime 20
"""

from __future__ import annotations

import argparse
import os
import site
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "import rawns.netlink": ["-c", "import rawns.netlink"],
    "rawns link show": ["-m", "rawns", "link", "show"],
}


def _env(tree: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    packages = site.getsitepackages()[0]
    env["PYTHONPATH"] = f"{tree}:{packages}" if tree else packages
    return env


def _run(tree: str | None, args: list[str]) -> tuple[float, float]:
    """(wall, user + sys) seconds of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-S", *args], env=_env(tree), cwd=tree or "/",
                            stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status:
        raise SystemExit(f"{args} in {tree} failed ({status})")
    return wall, usage.ru_utime + usage.ru_stime


def wall_and_cpu(trees: dict[str, str], runs: int) -> None:
    peers = [("python -c pass", None, ["-c", "pass"])]
    peers += [(f"{what} [{name}]", tree, args) for what, args in STATEMENTS.items()
              for name, tree in trees.items()]
    wall: dict[str, list[float]] = {label: [] for label, _, _ in peers}
    cpu: dict[str, list[float]] = {label: [] for label, _, _ in peers}
    for index in range(runs):
        for label, tree, args in peers if index % 2 == 0 else peers[::-1]:
            seconds, used = _run(tree, args)
            wall[label].append(seconds)
            cpu[label].append(used)
    base_wall = statistics.median(wall["python -c pass"])
    base_cpu = statistics.median(cpu["python -c pass"])
    print(f"{runs} runs each, load average {os.getloadavg()[0]:.2f}")
    print(f"{'':34} {'wall median':>22} | {'cpu (user+sys) median':>22}")
    for label, _, _ in peers:
        w, c = statistics.median(wall[label]), statistics.median(cpu[label])
        print(f"{label:34} {w * 1e3:7.1f} ms {w / base_wall:5.2f}x pass | "
              f"{c * 1e3:7.1f} ms {c / base_cpu:5.2f}x pass")


def importtime(trees: dict[str, str], runs: int, statement: str) -> None:
    best: dict[str, dict[str, int]] = {name: {} for name in trees}
    totals: dict[str, list[int]] = {name: [] for name in trees}
    names = list(trees)
    for index in range(runs):
        for name in names if index % 2 == 0 else names[::-1]:
            err = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", statement],
                                 env=_env(trees[name]), cwd=trees[name], capture_output=True,
                                 text=True, check=True).stderr
            seen: dict[str, int] = {}
            for line in err.splitlines():
                if line.startswith("import time:") and "self [us]" not in line:
                    own, _, module = line[len("import time:"):].split("|")
                    seen[module.strip()] = seen.get(module.strip(), 0) + int(own)
            totals[name].append(sum(seen.values()))
            for module, micros in seen.items():
                best[name][module] = min(best[name].get(module, micros), micros)
    print(f"-X importtime of {statement!r}: the least self time of each module over {runs} "
          f"runs (ms), load average {os.getloadavg()[0]:.2f}")
    print(f"{'module':34}" + "".join(f"{name:>10}" for name in names))
    print(f"{'all imports (least total)':34}"
          + "".join(f"{min(totals[name]) / 1e3:10.2f}" for name in names))
    modules = sorted({m for name in names for m in best[name]},
                     key=lambda m: -max(best[name].get(m, 0) for name in names))
    for module in modules:
        if module.startswith("rawns") or module in ("enum", "typing", "dataclasses"):
            print(f"{module:34}" + "".join(
                f"{best[name][module] / 1e3:10.2f}" if module in best[name] else f"{'-':>10}"
                for name in names))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=DIR",
                        help="a source tree of rawns (its extension built in place)")
    parser.add_argument("--runs", type=int, default=30, help="fresh processes per peer")
    parser.add_argument("--importtime", type=int, default=0, metavar="RUNS",
                        help="also -X importtime, this many runs per tree")
    parser.add_argument("--statement", default="import rawns.netlink.tables",
                        help="what --importtime imports")
    args = parser.parse_args(argv)
    trees = {name: os.path.abspath(path) for name, _, path in
             (tree.partition("=") for tree in args.tree)}
    if args.runs:
        wall_and_cpu(trees, args.runs)
    if args.importtime:
        importtime(trees, args.importtime, args.statement)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
