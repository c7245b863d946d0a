"""Measuring one run: each phase's wall clock and CPU, progress, syscall counts.

Invariants:
- Each phase is bracketed by access() on a path that never exists, so that
  a strace of the run can count the syscalls of the phase alone.
- CPU is this process's plus its waited children's (the ``ip`` peers).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MARKER_DIR", "Phases", "sum_phases", "Progress", "count_syscalls"]

MARKER_DIR = "/rnsbench-marker"  # never exists: access() on it marks strace output


def _rusage() -> tuple[float, float]:
    """User and system CPU seconds of this process and its waited children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + kids.ru_utime, own.ru_stime + kids.ru_stime


def _marker(phase: str, edge: str) -> None:
    os.access(f"{MARKER_DIR}/{phase}-{edge}", os.F_OK)


class Phases:
    """Times named phases: wall clock, user and system CPU (self + children)."""

    def __init__(self) -> None:
        self.result: dict[str, dict[str, float]] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        _marker(name, "begin")
        user0, sys0 = _rusage()
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            t1 = time.perf_counter()
            user1, sys1 = _rusage()
            _marker(name, "end")
            self.result[name] = {"wall": t1 - t0, "user": user1 - user0, "sys": sys1 - sys0}

    def add_sum(self, name: str, parts: Sequence[str]) -> None:
        """Record phase ``name`` as the sum of the phases ``parts``."""
        self.result[name] = sum_phases(self.result, parts)


def sum_phases(phases: dict[str, dict[str, float]], names: Sequence[str]) -> dict[str, float]:
    return {key: sum(phases[name][key] for name in names) for key in ("wall", "user", "sys")}


class Progress:
    """Progress of one long run on stderr: at most twice a second on a
    terminal (rewriting one line), every 5 seconds otherwise."""

    def __init__(self, label: str, total: int, enabled: bool = True) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.last = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        every = 0.5 if sys.stderr.isatty() else 5.0  # a log file gets fewer lines
        if now - self.last < every and done < (total or self.total):
            return
        self.last = now
        self.shown = True
        end = "\r" if sys.stderr.isatty() else "\n"
        sys.stderr.write(f"    {self.label}: {done}/{total or self.total}{end}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown and sys.stderr.isatty():
            sys.stderr.write(" " * 60 + "\r")
            sys.stderr.flush()


def count_syscalls(argv: Sequence[str], phases: Sequence[str]) -> dict[str, Counter]:
    """Run ``argv`` under ``strace -f`` and count, per phase, the syscalls made
    between the phase's begin and end markers, by every thread."""
    with tempfile.TemporaryDirectory(prefix="rnsbench-strace") as tmp:
        out = os.path.join(tmp, "trace")
        proc = subprocess.run(["strace", "-f", "-qq", "-o", out, "--", *argv],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"traced run failed: {proc.stderr.strip()[-300:]}")
        counts: dict[str, Counter] = {phase: Counter() for phase in phases}
        current: str | None = None
        call = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)\(")
        with open(out, errors="replace") as f:
            for line in f:
                if MARKER_DIR in line:
                    m = re.search(re.escape(MARKER_DIR) + r"/(\w+)-(begin|end)", line)
                    if m:
                        current = m.group(1) if m.group(2) == "begin" else None
                    continue
                if current is None or current not in counts or "resumed>" in line:
                    continue
                m = call.match(line)
                if m:
                    counts[current][m.group(1)] += 1
        return counts
