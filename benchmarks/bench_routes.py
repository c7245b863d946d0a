#!/usr/bin/env python3
# Invariants:
# - One namespace "rnsroutes<pid>" holds the table (N IPv4 routes of four kinds
#   in main, N/10 more in table 100 and N/10 IPv6 routes); it is removed in a
#   finally, also on Ctrl-C. Nothing else is touched.
# - Whole commands are fresh processes, every peer interleaved with the others
#   (forward, then backward: A B B A), wall time per run; the ratios rawns / ip
#   of the same listing are computed from medians of the same rounds. The
#   in-process figures alternate the one-pass path and the model path the same
#   way. It never fails on a timing.
# - Before timing, each rawns listing is checked byte for byte against ip's.
"""Benchmark: big route tables through the command line, rawns against ip.

    python benchmarks/bench_routes.py [-n 20000] [--rounds 10] [--json FILE]
        [--python V/bin/python]   (as root)

Whole commands (start-up included): ``ip -n NS [-j] route show [table all]``
against ``python -m rawns -n NS ...`` with the same words (this checkout's
rawns, bytecode written), plus two floors measured in the same rounds: ``python
-c pass`` and ``rawns route show table 999`` (a table of one route: the
command's start-up, the link dump and a route dump of one route). In-process: the time of the
one-pass path (``Handle.route_dump`` with ``show_fast.route_printer``, joined
as the command line joins it) against the model path (``route_list``, then
``Route.to_json`` and ``show.route_lines`` / ``show.json_text``), in one
process, on a Handle opened once. ``--python`` runs the whole commands (and
the ``python -c pass`` floor) with another interpreter, e.g. a venv's, whose
start-up is what users meet (a shared interpreter with editable installs and
``.pth`` files in its ``site`` may take three times as long to start); the
checkout's rawns is still the one run (PYTHONPATH).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rawns, not an installed one

from rawns import Handle, show  # noqa: E402
from rawns.show_fast import route_printer  # noqa: E402

__all__ = ["main"]

LISTINGS = [["-j", "route", "show"], ["route", "show"], ["route", "show", "table", "all"],
            ["-j", "route", "show", "table", "all"]]


def build_table(ns: str, n: int) -> None:
    """N routes in main (via a gateway with a metric, on a device with a
    protocol and scope, blackholes, with a source), N/10 in table 100, N/10 IPv6."""
    lines = ["link add a0 type veth peer name a1", "link set a0 up", "link set a1 up",
             "link set lo up", "addr add 10.1.0.1/24 dev a0", "addr add 10.2.0.1/24 dev a1",
             "addr add fd01::1/64 dev a0 nodad",
             "route add 13.0.0.0/24 via 10.1.0.2 table 999"]  # the floor's one route
    for i in range(n):
        net = f"11.{i // 65536}.{i // 256 % 256}.{i % 256}/32"
        lines.append([f"route add {net} via 10.1.0.2 metric {i % 7}",
                      f"route add {net} dev a1 proto static scope link",
                      f"route add blackhole {net}",
                      f"route add {net} via 10.1.0.2 src 10.1.0.1"][i % 4])
    for i in range(n // 10):
        lines.append(f"route add 12.{i // 256 % 256}.{i % 256}.0/24 via 10.2.0.2 table 100")
        lines.append(f"route add fd10:{i:x}::/64 via fd01::2 metric {i % 5}")
    script = "".join(line + "\n" for line in lines)
    subprocess.run(["ip", "-n", ns, "-batch", "-"], input=script, text=True, check=True)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure start-up, not the compiler
    env["PYTHONPATH"] = str(HERE.parent)
    return env


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def interleaved(peers: dict[str, list[str]], rounds: int, env: dict[str, str]
                ) -> dict[str, list[float]]:
    walls: dict[str, list[float]] = {name: [] for name in peers}
    for argv in peers.values():
        run_once(argv, env)  # warm: bytecode, page cache
    for round_ in range(rounds):
        order = list(peers.items())
        for name, argv in order if round_ % 2 == 0 else reversed(order):
            walls[name].append(run_once(argv, env))
    return walls


def in_process(ns: str, rounds: int) -> dict[str, list[float]]:
    """The listing's work in this process: one pass against the model path."""
    handle = Handle(ns)
    names = show.index_names(handle.link_list())

    def one_pass(as_json: bool, every: bool) -> Callable[[], str]:
        def run() -> str:
            printer = route_printer(names, as_json=as_json, show_table=every,
                                    table=None if every else 254, family=0 if every else 2)
            lines = handle.route_dump(printer, table="all" if every else "main",
                                      family=None if every else 4)
            return "[" + ",".join(lines) + "]\n" if as_json else "\n".join(lines) + "\n"
        return run

    def model(as_json: bool, every: bool) -> Callable[[], str]:
        def run() -> str:
            routes = handle.route_list(table="all" if every else "main",
                                       family=None if every else 4)
            entries = [r.to_json(names, show_table=every) for r in routes]
            if as_json:
                return show.json_text(entries) + "\n"
            return "".join(line + "\n" for route, entry in zip(routes, entries)
                           for line in show.route_lines(entry, locked=route.locked))
        return run

    variants = {}
    for label, as_json, every in (("-j", True, False), ("text", False, False),
                                  ("table all", False, True)):
        fast, slow = one_pass(as_json, every), model(as_json, every)
        assert fast() == slow(), label
        variants[f"one pass, {label}"] = fast
        variants[f"model path, {label}"] = slow
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(rounds):
        order = list(variants.items())
        for name, run in order if round_ % 2 == 0 else reversed(order):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    handle.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="routes in the main table")
    parser.add_argument("--rounds", type=int, default=10, help="runs of each peer")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter of the whole commands (default: this one)")
    args = parser.parse_args(argv)
    ns = f"rnsroutes{os.getpid()}"
    env = environment()
    python = args.python
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        build_table(ns, args.n)
        peers: dict[str, list[str]] = {"python -c pass": [python, "-c", "pass"],
                                       "rawns, 1-route table": [python, "-m", "rawns", "-n", ns,
                                                              "route", "show", "table", "999"]}
        for words in LISTINGS:
            label = " ".join(words)
            peers[f"ip {label}"] = ["ip", "-n", ns, *words]
            peers[f"rawns {label}"] = [python, "-m", "rawns", "-n", ns, *words]
            for _ in range(10):  # until the kernel stops adding (IPv6 link-local addresses)
                before = subprocess.run(peers[f"ip {label}"], capture_output=True,
                                        check=True).stdout
                ours = subprocess.run(peers[f"rawns {label}"], capture_output=True, env=env,
                                      check=True).stdout
                theirs = subprocess.run(peers[f"ip {label}"], capture_output=True,
                                        check=True).stdout
                if before == theirs:
                    break
                time.sleep(0.5)
            lines = ours.count(b"\n")
            print(f"{label}: {lines} lines, {len(ours)} bytes, "
                  f"{'byte-identical to ip' if ours == theirs else 'DIFFERENT from ip'}")
        load = os.getloadavg()
        walls = interleaved(peers, args.rounds, env)
        inproc = in_process(ns, args.rounds)
        load_after = os.getloadavg()
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=False)
    ms = {name: statistics.median(values) * 1e3 for name, values in walls.items()}
    print(f"\ninterpreter {python}")
    print(f"{args.n} routes in main, {args.rounds} rounds A B B A; load average "
          f"{load[0]:.2f} before, {load_after[0]:.2f} after; medians in ms")
    print(f"  {'python -c pass':32s} {ms['python -c pass']:8.1f}")
    print(f"  {'rawns, 1-route table':32s} {ms['rawns, 1-route table']:8.1f}")
    for words in LISTINGS:
        label = " ".join(words)
        ours, theirs = ms[f"rawns {label}"], ms[f"ip {label}"]
        print(f"  {label:32s} ip {theirs:7.1f}  rawns {ours:7.1f}  rawns/ip {ours / theirs:5.2f}"
              f"  (rawns minus its 1-route run: {ours - ms['rawns, 1-route table']:6.1f})")
    inms = {name: statistics.median(values) * 1e3 for name, values in inproc.items()}
    print("  in process (Handle open):")
    for label in ("-j", "text", "table all"):
        fast, slow = inms[f"one pass, {label}"], inms[f"model path, {label}"]
        print(f"    {label:10s} one pass {fast:7.1f}  model path {slow:7.1f}  "
              f"model/one pass {slow / fast:5.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"n": args.n, "rounds": args.rounds, "load": [load, load_after],
             "commands": walls, "in_process": inproc}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
