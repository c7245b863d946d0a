#!/usr/bin/env python3
"""Is ``harness.kernel.wait_for_kernel`` the right signal? (see RESULTS.md)

Runs the C reference's W1 (create N, delete N) back to back, in a private
mount namespace with /run/netns on a tmpfs, and before each run either waits
for nothing, waits with ``wait_for_kernel``, waits with it and then 10 s more,
or sleeps 2 s. If the signal is right, the last three give the same create
times and the first is slower. Usage: python benchmarks/settle_check.py [N] [REPS]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rawns, not an installed one

from harness.kernel import enter_private_tmpfs, sweep, wait_for_kernel  # noqa: E402
from harness.peers import build_reference, find_c_source  # noqa: E402

MODES = ("none", "wait_for_kernel", "wait_for_kernel+10s", "sleep 2s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="namespaces per run")
    parser.add_argument("reps", nargs="?", type=int, default=4, help="rounds of the four modes")
    args = parser.parse_args(argv)
    if os.environ.get("RNSBENCH_SETTLE_INNER") != "1":
        env = dict(os.environ, RNSBENCH_SETTLE_INNER="1")
        return subprocess.call([sys.executable, __file__, str(args.n), str(args.reps)],
                               env=env)
    enter_private_tmpfs()
    source = find_c_source()
    ref = build_reference(source) if source is not None else None
    if ref is None:
        print("settle_check: needs a C compiler and benchmarks/c/ref.c", file=sys.stderr)
        return 2
    n = args.n
    prefix = f"rnsbench{os.getpid()}-"
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    baseline = wait_for_kernel()["netns_objects"]
    try:
        for rep in range(args.reps):
            for mode in (MODES if rep % 2 == 0 else MODES[::-1]):
                waited = 0.0
                if mode == "sleep 2s":
                    time.sleep(2)
                elif mode != "none":
                    target = None if baseline is None else baseline + 8 + n // 100
                    waited = wait_for_kernel(target=target)["waited"]
                    if mode.endswith("+10s"):
                        time.sleep(10)
                out = subprocess.run([ref, "w1", prefix, str(n)], capture_output=True,
                                     text=True, check=True).stdout
                us = json.loads(out)["phases"]["create"]["wall"] / n * 1e6
                times[mode].append(us)
                print(f"{mode:<20} waited {waited:5.2f} s  create {us:7.1f} us/ns", flush=True)
    finally:
        sweep(prefix)
    for mode, values in times.items():
        print(f"{mode:<20} median {statistics.median(values):7.1f} us/ns  "
              f"runs {' '.join(f'{v:.0f}' for v in values)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
