"""User-space CPU that rawns itself adds per namespace in add_many and
delete_many: the same calls with the C loops replaced by stubs that do no
syscall, so that only Python's share is timed (deterministic enough to quote,
unlike wall time on a shared machine).

    python benchmarks/python_overhead.py
"""

from __future__ import annotations

import time

from rawns import netns, syscalls


class _NoSyscalls:
    """The compiled library, but the bulk loops report success at once."""

    def __init__(self, real) -> None:
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def rawns_netns_add_many(self, paths, count, tally):
        tally.done = count
        return 0

    def rawns_netns_delete_many(self, paths, count, tally):
        tally.done = count
        return 0


def best_of(runs: int, call) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    real = syscalls.lib
    syscalls.lib = _NoSyscalls(real)
    netns._run_dir_ready = True  # the stubs create nothing to prepare for
    try:
        for n in (500, 5000):
            names = [f"overhead{i}" for i in range(n)]
            add = best_of(5, lambda: netns.add_many(names))
            delete = best_of(5, lambda: netns.delete_many(names))
            print(f"N={n}: add_many {add / n * 1e6:.2f} us/ns, "
                  f"delete_many {delete / n * 1e6:.2f} us/ns of Python")
    finally:
        syscalls.lib = real
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
