#!/usr/bin/env python3
"""How the cost per namespace grows with N: rawns, the C loop and ip -batch (issue 18).

    python benchmarks/bench_scaling.py                 (as root; --help)
    python benchmarks/bench_scaling.py --quick         (N = 100, 300)
    python benchmarks/bench_scaling.py --sizes 1000,3000 --tools rawns,c

For each N (default 100, 300, 1000, 3000, 10000) and each tool, the harness's
W1 (create N named namespaces, then delete them) and W2 (N pods: namespace,
veth with its peer made in the pod, address, links up; then their teardown)
are run in rotated A B B A order, the kernel left to free the previous run's
namespaces before every run. The phases, in microseconds per namespace (or
pod): ``create`` and ``delete`` of W1, ``plumb`` (the whole W2 setup) and
``teardown`` of W2. Tools: ``rawns`` (the bulk API: ``add_many``,
``delete_many``, one ``Batch``), ``rawns-loop`` (one call per object:
``netns.add`` / ``netns.delete`` in a loop; its plumb is the same Batch), ``c``
(``benchmarks/c/ref.c``) and ``ip-batch``.

Writes the JSON of every run and the medians (``--json``) and a plot of
microseconds per namespace against N, log x, one line per tool, one panel per
phase, as SVG and PNG (``--plot``; needs matplotlib, the ``bench`` extra).

Invariants:
- rawns is used through its public API only, through the harness.
- Runs in a private mount namespace with /run/netns on a tmpfs (as
  ``bench.py --mode tmpfs``), and never touches the root network namespace;
  everything it makes carries the prefix ``rnsscale<pid>-`` and is removed in a
  ``finally``.
- A tool that fails or cannot run is reported and left out, never fatal.
- matplotlib is imported only inside :func:`plot`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rawns, not an installed one

from harness.kernel import enter_private_tmpfs, machine, netns_objects, sweep, \
    wait_for_kernel  # noqa: E402
from harness.peers import Context, PeerUnavailable, build_reference, find_c_source, \
    run_peer  # noqa: E402
from harness.report import order  # noqa: E402

__all__ = ["main", "parse_args", "parse_log", "summarize", "plot", "PHASES", "TOOLS", "SIZES",
           "QUICK_SIZES", "PlotUnavailable"]

SIZES = (100, 300, 1000, 3000, 10000)
QUICK_SIZES = (100, 300)
TOOLS = ("rawns", "rawns-loop", "c", "ip-batch")
#: phase shown -> (workload, phase of the harness)
PHASES = {"create": ("W1", "create"), "delete": ("W1", "delete"),
          "plumb": ("W2", "setup"), "teardown": ("W2", "teardown")}
WORKLOADS = ("W1", "W2")
_ENV_PRIVATE = "RAWNS_BENCH_PRIVATE_MNTNS"
_LABELS = {"rawns": "rawns (bulk API)", "rawns-loop": "rawns, one call per object",
           "c": "C loop (ref.c)", "ip-batch": "ip -batch"}


class PlotUnavailable(RuntimeError):
    """The plot needs matplotlib, which is not installed."""


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive: {text!r}")
    return values


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench_scaling.py",
        description="Microseconds per namespace against N for create, plumb (W2 setup), "
        "delete and teardown: rawns, the C loop and ip -batch, A B B A, waiting for the "
        "kernel between runs. Needs root; never touches the root network namespace.")
    p.add_argument("--sizes", type=_int_list, default=None,
                   help=f"comma-separated N (default {','.join(map(str, SIZES))})")
    p.add_argument("--quick", action="store_true",
                   help=f"small N only ({','.join(map(str, QUICK_SIZES))})")
    p.add_argument("--tools", default=",".join(TOOLS),
                   help=f"comma-separated, of: {', '.join(TOOLS)}")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="W1 (create, delete), W2 (plumb, teardown) or both (default)")
    p.add_argument("--runs", type=int, default=2,
                   help="runs of each tool per N, in rotated order (default 2: A B B A)")
    p.add_argument("--json", metavar="FILE", type=Path,
                   default=HERE / "results" / "scaling.json",
                   help="where the figures go (default benchmarks/results/scaling.json)")
    p.add_argument("--plot", metavar="BASE", type=Path, default=HERE / "results" / "scaling",
                   help="BASE.svg and BASE.png (default benchmarks/results/scaling)")
    p.add_argument("--no-plot", action="store_true", help="write the JSON only")
    p.add_argument("--plot-only", metavar="FILE", type=Path, nargs="+",
                   help="no measuring: plot the runs of earlier passes, merged: their --json "
                   "files, or their logs (stderr) for a pass stopped before its end; with "
                   "--json, the merged figures are written there too")
    p.add_argument("--settle-timeout", type=float, default=180.0)
    p.add_argument("--quiet", action="store_true")
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The options, checked: sizes (``--quick`` -> QUICK_SIZES), tools, workloads."""
    parser = _parser()
    args = parser.parse_args(list(argv))
    if args.sizes is None:
        args.sizes = list(QUICK_SIZES if args.quick else SIZES)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in args.tools if t not in TOOLS]
    if unknown or not args.tools:
        parser.error(f"unknown tool(s) {', '.join(unknown) or '(none)'}; known: "
                     f"{', '.join(TOOLS)}")
    args.workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    if not args.workloads or any(w not in WORKLOADS for w in args.workloads):
        parser.error(f"workloads are W1 and/or W2, not {args.workloads}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


# --------------------------------------------------------------- the figures

def summarize(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{phase: {tool: {str(N): {"median_us", "min_us", "max_us", "runs"}}}}``
    from the runs (each ``{"tool", "n", "workload", "phases": {name: {"wall"}}}``),
    microseconds per namespace or pod."""
    walls: dict[str, dict[str, dict[int, list[float]]]] = {}
    for result in results:
        for phase, (workload, name) in PHASES.items():
            if result["workload"] != workload or name not in result["phases"]:
                continue
            per = result["phases"][name]["wall"] * 1e6 / result["n"]
            walls.setdefault(phase, {}).setdefault(result["tool"], {}).setdefault(
                result["n"], []).append(per)
    return {phase: {tool: {str(n): {"median_us": statistics.median(values),
                                    "min_us": min(values), "max_us": max(values),
                                    "runs": len(values)}
                           for n, values in sorted(by_n.items())}
                    for tool, by_n in by_tool.items()}
            for phase, by_tool in walls.items()}


_LOG_LINE = re.compile(r"^N=(\d+) (W[12]) run (\d+) ([\w-]+): (.*) us \(load ([\d.]+), "
                       r"waited ([\d.]+) s\)$")


def parse_log(text: str) -> list[dict[str, Any]]:
    """The runs of a pass from its log (each line ``N=.. W1 run K tool: create
    X, delete Y us (load L, waited W s)``): what a pass stopped before writing
    its JSON leaves. Wall times only (CPU is not in the log)."""
    results = []
    for line in text.splitlines():
        match = _LOG_LINE.match(line.strip())
        if match is None:
            continue
        n, workload, run, tool, figures, load, waited = match.groups()
        phases = {}
        for part in figures.split(", "):
            name, value = part.rsplit(" ", 1)
            phases[name] = {"wall": float(value) * int(n) / 1e6}
        results.append({"tool": tool, "workload": workload, "n": int(n), "run": int(run) - 1,
                        "phases": phases, "waited_s": float(waited),
                        "loadavg": [float(load)], "from_log": True})
    return results


def _merged(paths: Sequence[Path]) -> dict[str, Any]:
    """The runs of earlier passes (JSON files or logs) as one pass's data."""
    results: list[dict[str, Any]] = []
    passes = []
    info: dict[str, Any] = {}
    for path in paths:
        text = path.read_text()
        if path.suffix == ".json":
            data = json.loads(text)
            results += data["results"]
            passes.append({key: data.get(key) for key in ("started", "argv", "loadavg_min_max",
                                                          "seconds", "skipped")})
            info = data.get("machine", {})
        else:
            results += parse_log(text)
            passes.append({"log": path.name})
    loads = [r["loadavg"][0] for r in results if r.get("loadavg")]
    return {"machine": info or machine(), "passes": passes,  # a log's: this machine's
            "runs": max((r["run"] for r in results), default=0) + 1,
            "started": next((p["started"] for p in passes if p.get("started")), ""),
            "loadavg_min_max": [min(loads, default=0), max(loads, default=0)],
            "results": results, "summary": summarize(results)}


def format_table(summary: dict[str, dict[str, dict[str, Any]]]) -> str:
    """One line per phase and tool: the median per N, and the ratio to C."""
    sizes = sorted({int(n) for by_tool in summary.values() for by_n in by_tool.values()
                    for n in by_n})
    lines = [f"{'phase':<9} {'tool':<11} " + " ".join(f"{'N=' + str(n):>14}" for n in sizes)]
    for phase in PHASES:
        for tool, by_n in summary.get(phase, {}).items():
            cells = []
            for n in sizes:
                cell = by_n.get(str(n))
                c_cell = summary[phase].get("c", {}).get(str(n))
                if cell is None:
                    cells.append(f"{'-':>14}")
                    continue
                ratio = (f" {cell['median_us'] / c_cell['median_us']:.2f}x"
                         if c_cell and tool != "c" else "")
                cells.append(f"{cell['median_us']:.1f}{ratio}".rjust(14))
            lines.append(f"{phase:<9} {tool:<11} " + " ".join(cells))
    lines.append("(median microseconds per namespace or pod; Nx: ratio of the median to "
                 "the C loop's, measured in the same pass)")
    return "\n".join(lines)


def plot(summary: dict[str, dict[str, dict[str, Any]]], base: Path,
         title: str = "") -> list[Path]:
    """Draw microseconds per namespace against N (log x and y), one line per tool,
    one panel per phase; write ``base``.svg and ``base``.png and return them.
    Raises PlotUnavailable without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise PlotUnavailable(
            "the plot needs matplotlib, an optional extra of the benchmarks: "
            "pip install matplotlib (or pip install -e '.[bench]')") from err
    phases = [phase for phase in PHASES if summary.get(phase)]
    fig, axes = plt.subplots(1, max(len(phases), 1), figsize=(4.2 * max(len(phases), 1), 4.2),
                             squeeze=False)
    markers = {"rawns": "o", "rawns-loop": "s", "c": "^", "ip-batch": "D"}
    for ax, phase in zip(axes[0], phases):
        for tool, by_n in summary[phase].items():
            ns = sorted(int(n) for n in by_n)
            medians = [by_n[str(n)]["median_us"] for n in ns]
            lows = [by_n[str(n)]["median_us"] - by_n[str(n)]["min_us"] for n in ns]
            highs = [by_n[str(n)]["max_us"] - by_n[str(n)]["median_us"] for n in ns]
            ax.errorbar(ns, medians, yerr=[lows, highs], marker=markers.get(tool, "x"),
                        capsize=3, label=_LABELS.get(tool, tool))
        ax.set_xscale("log")
        ax.set_yscale("log")  # ip -batch's plumb is 10-50x the rest
        ax.set_title(phase)
        ax.set_xlabel("N (namespaces or pods)")
        ax.set_ylabel("µs per namespace" if phase in ("create", "delete") else "µs per pod")
        ax.grid(True, which="both", alpha=0.3)
    if phases:
        axes[0][0].legend(fontsize="small")
    if title:
        fig.suptitle(title, fontsize="small")
    fig.tight_layout()
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".svg", ".png"):
        path = base.with_suffix(suffix)
        fig.savefig(path, dpi=110)
        written.append(path)
    plt.close(fig)
    return written


# ------------------------------------------------------------------ running

def _reexec_private(argv: Sequence[str]) -> int:
    env = dict(os.environ)
    env[_ENV_PRIVATE] = "tmpfs"
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv], env=env)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got it too and cleans up
            continue


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every run; the JSON file is rewritten after each one, so that an
    interrupted pass keeps what it measured."""
    prefix = f"rnsscale{os.getpid()}-"
    host = f"{prefix}host"
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    source = find_c_source()
    ref_binary = build_reference(source, args.quiet) if source is not None else None
    results: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    started = time.time()
    loads = [os.getloadavg()]

    def data() -> dict[str, Any]:
        return {"machine": info, "argv": sys.argv, "sizes": args.sizes,
                "tools": args.tools, "workloads": args.workloads, "runs": args.runs,
                "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started)),
                "seconds": round(time.time() - started, 1),
                "loadavg_min_max": [min(l[0] for l in loads), max(l[0] for l in loads)],
                "mode": "tmpfs: /run/netns is a tmpfs in a private mount namespace",
                "netns_objects_end": netns_objects(), "results": results,
                "skipped": skipped, "summary": summarize(results)}

    info = machine()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    try:
        for n in args.sizes:
            for workload in args.workloads:
                baseline = None
                for run in range(args.runs):
                    for tool in order(args.tools, run):
                        if f"{tool} {workload}" in skipped:
                            continue
                        sweep(prefix)
                        if workload == "W2":
                            from rawns import netns
                            netns.add(host)
                        target = None if baseline is None else baseline + 8 + n // 100
                        state = wait_for_kernel(target=target, timeout=args.settle_timeout)
                        baseline = state["netns_objects"]
                        load = os.getloadavg()
                        ctx = Context(workload, n, prefix, host, 1, ref_binary, False)
                        try:
                            phases = run_peer(tool, ctx)
                        except PeerUnavailable as err:
                            skipped[f"{tool} {workload}"] = str(err)
                            log(f"{tool} {workload}: skipped: {err}")
                            continue
                        except Exception as err:  # reported, never fatal
                            skipped[f"{tool} {workload}"] = f"failed at N={n}: {err}"
                            log(f"{tool} {workload} N={n}: FAILED: {err}")
                            continue
                        finally:
                            sweep(prefix)
                        results.append({"tool": tool, "workload": workload, "n": n,
                                        "run": run, "phases": phases,
                                        "waited_s": state["waited"],
                                        "wait_ended": state["ended"], "loadavg": load})
                        loads.append(load)
                        args.json.write_text(json.dumps(data(), indent=1) + "\n")
                        shown = ", ".join(f"{name} {v['wall'] * 1e6 / n:.1f}"
                                          for name, v in phases.items()
                                          if name in ("create", "delete", "setup",
                                                      "teardown"))
                        log(f"N={n} {workload} run {run + 1} {tool}: {shown} us "
                            f"(load {load[0]:.2f}, waited {state['waited']:.1f} s)")
    finally:
        sweep(prefix)
    return data()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _title(data: dict[str, Any]) -> str:
    info = data.get("machine", {})
    low, high = data.get("loadavg_min_max", [0, 0])
    return (f"{info.get('nproc', '?')} CPUs, Linux {info.get('kernel', '?')}, "
            f"{data.get('started', '')}, load average {low:.1f}-{high:.1f}; median of "
            f"{data.get('runs', '?')} runs (A B B A), bars: min-max")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.plot_only is not None:
        data = _merged(args.plot_only)
        if "--json" in argv:
            args.json.write_text(json.dumps(data, indent=1) + "\n")
            print(f"wrote {args.json}")
        print(format_table(data["summary"]))
        try:
            for path in plot(data["summary"], args.plot, _title(data)):
                print(f"wrote {path}")
        except PlotUnavailable as err:
            print(f"bench_scaling: {err}", file=sys.stderr)
            return 1
        return 0
    if os.geteuid() != 0:
        print("bench_scaling: needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)", file=sys.stderr)
        return 2
    if os.environ.get(_ENV_PRIVATE) != "tmpfs":
        return _reexec_private(argv)
    enter_private_tmpfs()
    signal.signal(signal.SIGTERM, _interrupt)  # cleaned up as for Ctrl-C
    try:
        data = _measure(args)
    except KeyboardInterrupt:
        print("bench_scaling: interrupted (cleaned up)", file=sys.stderr)
        return 130
    args.json.write_text(json.dumps(data, indent=1) + "\n")
    print(format_table(data["summary"]))
    for tool, why in data["skipped"].items():
        print(f"  {tool}: {why}")
    print(f"wrote {args.json}")
    if not args.no_plot:
        try:
            for path in plot(data["summary"], args.plot, _title(data)):
                print(f"wrote {path}")
        except PlotUnavailable as err:
            print(f"bench_scaling: {err}; the JSON is written, plot it later with "
                  f"--plot-only {args.json}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
