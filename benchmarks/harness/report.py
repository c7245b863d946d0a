"""The order of the runs and the tables printed at the end.

Invariants: pure functions of the measurements; ratios are to rawns when it
ran (to the C reference otherwise), medians over the runs of one pass.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from harness.workloads import PHASES

__all__ = ["order", "peer_label", "summarize", "format_table", "format_syscalls",
           "format_memory"]


def order(peers: Sequence[str], run: int) -> list[str]:
    """A B C, C B A, B C A, A C B, ...: rotated, every other run reversed."""
    k = run // 2
    base = list(peers[k % len(peers):]) + list(peers[:k % len(peers)])
    return base if run % 2 == 0 else base[::-1]


def peer_label(peer: str, threads: int) -> str:
    return f"rawns-threads={threads}" if peer == "rawns-threads" else peer


def summarize(results: list[dict[str, Any]], workload: str, n: int) -> list[dict[str, Any]]:
    """One row per phase and peer: median, spread and CPU per item, and the
    ratio of the median to rawns' (or C's)."""
    rows: list[dict[str, Any]] = []
    by_peer: dict[str, list[dict]] = {}
    for r in results:
        by_peer.setdefault(r["peer"], []).append(r)
    for phase in PHASES[workload]:
        medians: dict[str, float] = {}
        for peer, runs in by_peer.items():
            walls = [r["phases"][phase]["wall"] * 1e6 / n for r in runs
                     if phase in r.get("phases", {})]
            if not walls:
                continue
            users = [r["phases"][phase]["user"] * 1e6 / n for r in runs if phase in r["phases"]]
            syss = [r["phases"][phase]["sys"] * 1e6 / n for r in runs if phase in r["phases"]]
            cpus = [u + s for u, s in zip(users, syss)]
            medians[peer] = statistics.median(walls)
            rows.append({"phase": phase, "peer": peer, "runs": len(walls),
                         "median_us": statistics.median(walls),
                         "min_us": min(walls), "max_us": max(walls),
                         "cpu_us": statistics.median(cpus),
                         "user_us": statistics.median(users), "sys_us": statistics.median(syss)})
        base = "rawns" if "rawns" in medians else ("c" if "c" in medians else None)
        for row in rows:
            if row["phase"] == phase:
                row["ratio_to"] = base
                row["ratio"] = (row["median_us"] / medians[base]) if base else None
    return rows


def format_table(rows: list[dict[str, Any]], unit: str) -> str:
    lines = [f"{'phase':<13} {'peer':<16} {'runs':>4} {'median us/' + unit:>14} "
             f"{'min-max':>17} {'ratio':>11} {'cpu us':>8} {'user us':>8} {'sys us':>8}"]
    for row in rows:
        ratio = f"{row['ratio']:.2f}x {row['ratio_to']}" if row["ratio"] is not None else "-"
        spread = f"{row['min_us']:.1f}-{row['max_us']:.1f}"
        lines.append(f"{row['phase']:<13} {row['peer']:<16} {row['runs']:>4} "
                     f"{row['median_us']:>14.1f} {spread:>17} {ratio:>11} "
                     f"{row['cpu_us']:>8.1f} {row['user_us']:>8.1f} {row['sys_us']:>8.1f}")
    lines.append(f"(median and min-max of the wall time per {unit} over the runs; cpu = user + "
                 "system CPU per " + unit + ", of the peer's processes, exact; its user/system "
                 "split is sampled at the scheduler tick)")
    return "\n".join(lines)


def format_syscalls(data: dict[str, Any], unit: str) -> str:
    lines = [f"syscalls per {unit} (strace -f, every thread, between the phase's markers; "
             f"includes 2 getrusage per phase)"]
    for label, entry in data.items():
        n = entry["n"]
        for phase, counts in entry["phases"].items():
            total = sum(counts.values()) / n
            top = sorted(counts.items(), key=lambda kv: -kv[1])
            detail = ", ".join(f"{name} {count / n:.2f}" for name, count in top[:9])
            lines.append(f"  {phase:<9} {label:<16} {total:6.2f}  ({detail})")
    return "\n".join(lines)


def format_memory(mem: dict[str, Any]) -> str:
    per = mem["kib_per_netns"]
    return (f"kernel memory per namespace (N={mem['n']} made with rawns.netns.add_many, held; "
            f"/proc/meminfo deltas): {mem['kernel_kib_per_netns']:.1f} KiB kernel "
            f"(Slab {per['Slab']:.1f} of which unreclaimable {per['SUnreclaim']:.1f}, "
            f"Percpu {per['Percpu']:.1f}, Vmalloc {per['VmallocUsed']:.1f}, "
            f"KernelStack {per['KernelStack']:.1f}, PageTables {per['PageTables']:.1f}); "
            f"MemFree fell {per['MemFree']:.1f} KiB/ns; "
            f"struct net objects +{mem['net_namespace_objects']}")
