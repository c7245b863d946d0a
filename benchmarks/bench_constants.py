"""What rawns' kernel constants cost to build: the enum module's IntEnum/IntFlag
against rawns' light KernelEnum/KernelFlag, from the same member lists.

Each run is a fresh process that imports ``rawns.netlink`` (untimed), then
runs the class statements of every class of ``rawns.netlink.constants.ENUMS``
again, made from its member list (aliases included, in order), on one base or
the other, and reports the time of that alone: what a command pays for the
constants' classes at start-up (the enum module's own import, 2-3 ms, is not
counted: the rest of rawns.netlink has loaded it).  The peers run
interleaved (A B B A) and the result is the ratio of their medians.

    python benchmarks/bench_constants.py --runs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CHILD = r"""
import sys, time
from rawns.netlink.constants import ENUMS, KernelEnum, KernelFlag
# class statements, as constants.py is written
source = "".join(
    f"class {cls.__name__}({'Flag' if issubclass(cls, KernelFlag) else 'Enum'}):\n"
    + "".join(f"    {name} = {int(member)}\n" for name, member in cls.__members__.items())
    for cls in ENUMS)
code = compile(source, "constants", "exec")
if sys.argv[1] == "enum":
    import enum
    bases = {"Enum": enum.IntEnum, "Flag": enum.IntFlag}
else:
    bases = {"Enum": KernelEnum, "Flag": KernelFlag}
start = time.perf_counter()
exec(code, {"__name__": "constants", **bases})
print(time.perf_counter() - start, len(ENUMS), sum(len(cls.__members__) for cls in ENUMS))
"""

PEERS = ("enum", "light")


def run(peer: str) -> tuple[float, int, int]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as an installed package has it
    out = subprocess.run([sys.executable, "-c", CHILD, peer], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="fresh processes per peer")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {peer: [] for peer in PEERS}
    classes = members = 0
    for index in range(args.runs):
        for peer in PEERS if index % 2 == 0 else PEERS[::-1]:
            seconds, classes, members = run(peer)
            times[peer].append(seconds)
    print(f"{classes} classes, {members} members, {args.runs} fresh processes per peer, "
          f"load average {os.getloadavg()[0]:.2f}")
    for peer in PEERS:
        values = times[peer]
        print(f"  {peer:6} median {statistics.median(values) * 1e3:6.2f} ms  "
              f"min {min(values) * 1e3:6.2f} ms")
    ratio = statistics.median(times["enum"]) / statistics.median(times["light"])
    print(f"  enum / light: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
