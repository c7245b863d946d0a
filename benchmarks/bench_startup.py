#!/usr/bin/env python3
# Invariants:
# - Measures start-up the way a user meets it: fresh processes of an installed
#   rawns (a venv's `python` and its `rawns` console script), wall time per
#   run, every peer interleaved with the others (forward, then backward: A B B A)
#   so that load on a shared machine hits all of them alike.
# - Prints ratios to `python -c pass` of the same interpreter, measured in the
#   same rounds, and the targets next to them; it never fails on a
#   timing.  Absolute milliseconds are printed for reference only.
# - Creates one namespace "rnsboot-<pid>" (with a veth pair) for the commands
#   to read (up, with an address: a main table for `route show`), and one more
#   per `netns add` round; all are removed in a finally.
"""Benchmark: how long rawns takes to start, per command, against `python -c pass`.

    python3 benchmarks/bench_startup.py --venv after=/tmp/venv-new [--venv before=/tmp/venv-old]
        [--runs 30] [--demo-runs 10] [--importtime 10]

Each VENV is a virtual environment with rawns installed (``pip install
dist/rawns-*.whl``); its ``bin/python`` and ``bin/rawns`` are run.  Without
``--venv`` the interpreter running this script is measured, with the ``rawns``
script beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]

# (row label, argv after the interpreter or the console script, which of the two)
COMMANDS: list[tuple[str, list[str], str]] = [
    ("python -c pass", ["-c", "pass"], "python"),
    ("python -c 'import rawns'", ["-c", "import rawns"], "python"),
    ("rawns -V", ["-V"], "script"),
    ("rawns -n NS link show", ["-n", "{ns}", "link", "show"], "script"),
    ("rawns link show", ["link", "show"], "script"),
    ("rawns netns list", ["netns", "list"], "script"),
    ("rawns netns add X", ["netns", "add", "{ns}-x"], "script"),
    ("rawns netns del X", ["netns", "del", "{ns}-x"], "script"),
    ("rawns -n NS route show", ["-n", "{ns}", "route", "show"], "script"),
]
DEMO = ("python -m rawns demo", ["-m", "rawns", "demo"], "python")


def environment() -> dict[str, str]:
    """The caller's environment, but writing bytecode: a run that compiles
    every module it imports measures the compiler, not the start-up."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def argv_of(venv: Path, command: tuple[str, list[str], str], ns: str) -> list[str]:
    _, args, runner = command
    program = venv / "bin" / ("python" if runner == "python" else "rawns")
    return [str(program), *(arg.replace("{ns}", ns) for arg in args)]


def run_once(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env, cwd=cwd)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): "
                         f"{result.stderr.decode(errors='replace').strip()}")
    return elapsed


def interleaved(peers: list[tuple[str, list[str]]], runs: int, env: dict[str, str],
                cwd: str) -> dict[str, list[float]]:
    """Wall seconds of each peer, ``runs`` times, in A B .. B A order.

    A peer whose label ends in "add X" runs together with the next ("del X"),
    always in that order, so that each round adds and deletes its namespace.
    """
    steps: list[list[tuple[str, list[str]]]] = []
    for label, argv in peers:
        if steps and steps[-1][-1][0].endswith("add X"):
            steps[-1].append((label, argv))
        else:
            steps.append([(label, argv)])
    times: dict[str, list[float]] = {label: [] for label, _ in peers}
    for step in steps:  # warm the page cache and write any missing bytecode
        for _, argv in step:
            run_once(argv, env, cwd)
    for round_ in range(runs):
        for step in steps if round_ % 2 == 0 else steps[::-1]:
            for label, argv in step:
                times[label].append(run_once(argv, env, cwd))
    return times


def import_profile(argv: list[str], env: dict[str, str], cwd: str, repeat: int
                   ) -> tuple[int, int, list[tuple[int, str]]]:
    """``-X importtime`` of one command, the minimum of each module's self time
    over ``repeat`` runs: (all imports µs, rawns' own µs, the ten costliest)."""
    best: dict[str, int] = {}
    env = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
    for _ in range(repeat):
        err = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=env, cwd=cwd, text=True).stderr
        for line in err.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, _, name = line[len("import time:"):].split("|")
            module = name.strip()
            best[module] = min(int(own), best.get(module, 1 << 62))
    total = sum(best.values())
    ours = sum(us for module, us in best.items() if module.split(".")[0] == "rawns")
    top = sorted(((us, module) for module, us in best.items()), reverse=True)[:10]
    return total, ours, top


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", action="append", default=[], metavar="LABEL=DIR",
                        help="a venv with rawns installed (repeat to compare)")
    parser.add_argument("--runs", type=int, default=30, help="runs of each command")
    parser.add_argument("--demo-runs", type=int, default=10, help="runs of the demo")
    parser.add_argument("--importtime", type=int, default=10, metavar="N",
                        help="runs of each -X importtime profile (0: none)")
    args = parser.parse_args(argv)
    venvs = [(label, Path(path)) for label, _, path in
             (spec.partition("=") for spec in args.venv)]
    if not venvs:
        venvs = [("this", Path(sys.executable).parent.parent)]
    if os.geteuid() != 0:
        raise SystemExit("needs root: the commands read and make namespaces")

    ns = f"rnsboot-{os.getpid()}"
    env = environment()
    cwd = tempfile.mkdtemp(prefix="rnsboot-")  # no checkout here to shadow the install
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "add", "veth0", "type", "veth", "peer",
                        "name", "veth1"], check=True)
        # a main table for route show: an address's prefix route
        for words in (["link", "set", "veth0", "up"], ["link", "set", "veth1", "up"],
                      ["addr", "add", "10.0.0.1/24", "dev", "veth0"]):
            subprocess.run(["ip", "-n", ns, *words], check=True)
        peers = [(f"{label}: {command[0]}", argv_of(venv, command, ns))
                 for label, venv in venvs for command in COMMANDS]
        count = len(os.listdir("/run/netns"))
        print(f"{args.runs} runs of each, interleaved; {count} namespaces in /run/netns "
              f"(netns list asks each one's id)\n")
        times = interleaved(peers, args.runs, env, cwd)
        demo = interleaved([(f"{label}: {DEMO[0]}", argv_of(venv, DEMO, ns))
                            for label, venv in venvs], args.demo_runs, env, cwd)
        # Profiled while the namespace exists: after, `-n NS` would fail, and an
        # error path is no measure of the command's imports.
        profiles = []
        for label, venv in venvs:
            for command in (COMMANDS[1], COMMANDS[3], COMMANDS[5]) if args.importtime else ():
                total, ours, top = import_profile(argv_of(venv, command, ns), env, cwd,
                                                  args.importtime)
                profiles.append(f"{label}: {command[0]}: all imports {total / 1000:.1f} ms, "
                                f"rawns' own {ours / 1000:.1f} ms; costliest: "
                                + ", ".join(f"{module} {us / 1000:.1f}"
                                            for us, module in top[:6]))
    finally:
        for name in (ns, f"{ns}-x"):
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
    report(venvs, times, demo)
    if profiles:
        print(f"\n-X importtime (min self time of each module over {args.importtime} runs)")
        print("\n".join(profiles))
    return 0


def report(venvs: list[tuple[str, Path]], times: dict[str, list[float]],
           demo: dict[str, list[float]]) -> None:
    print("| command | " + " | ".join(f"{label}: median ms | ratio to pass"
                                       for label, _ in venvs) + " | target |")
    print("|---|" + "---|---|" * len(venvs) + "---|")
    for command in COMMANDS:
        cells = []
        verdicts = []
        limit_text = ""
        for label, _ in venvs:
            base = statistics.median(times[f"{label}: {COMMANDS[0][0]}"])
            median = statistics.median(times[f"{label}: {command[0]}"])
            cells.append(f"{median * 1000:.1f} | {median / base:.2f}")
            if command[0] == COMMANDS[1][0]:
                limit_text = "≤ 1.30× pass"
                verdicts.append(f"{label} {'met' if median <= 1.3 * base else 'missed'}")
            elif command[2] == "script" and command[1][0] != "-V":
                limit = 2 * base + 0.005
                limit_text = "≤ 2×pass + 5 ms"
                verdicts.append(f"{label} {'met' if median <= limit else 'missed'} "
                                f"({limit * 1000:.1f} ms)")
        target = f"{limit_text}: {', '.join(verdicts)}" if verdicts else ""
        print(f"| {command[0]} | " + " | ".join(cells) + f" | {target} |")
    for label, _ in venvs:
        median = statistics.median(demo[f"{label}: {DEMO[0]}"])
        print(f"| {DEMO[0]} ({label}) | {median * 1000:.0f} ms total | | ≤ 500 ms "
              f"({'met' if median <= 0.5 else 'missed'}) |")


if __name__ == "__main__":
    sys.exit(main())
