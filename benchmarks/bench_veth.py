"""Time to create N veth pairs, each with its peer made inside its own
namespace: rawns (one ``Handle.link_add_veth`` call per pair, as a runtime
would make them one at a time, and one ``Batch``) against ``ip -batch`` (one
ip process for all N), in one run, A B B A, waiting for the kernel between runs.

    python benchmarks/bench_veth.py [-n 100] [--rounds 2]

The namespaces (a "host" and N pods) are made before the clock starts and
removed at the end; only the veth creation is timed. Prints the median of the
rounds per peer and the ratio to rawns.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's rawns

from rawns import Batch, Handle, netns  # noqa: E402


def make_spaces(prefix: str, n: int) -> tuple[str, list[str]]:
    host = f"{prefix}host"
    pods = [f"{prefix}p{i}" for i in range(n)]
    netns.add_many([host, *pods])
    return host, pods


def drop_spaces(host: str, pods: list[str]) -> None:
    netns.delete_many([host, *pods], missing_ok=True)


def settle(seconds: float = 2.0) -> None:
    """Let the kernel finish freeing the last run's namespaces."""
    time.sleep(seconds)


def run_rawns_calls(host: str, pods: list[str]) -> float:
    with Handle(host) as handle:
        started = time.perf_counter()
        for i, pod in enumerate(pods):
            handle.link_add_veth(f"vh{i}", "eth0", peer_netns=pod)
        return time.perf_counter() - started


def run_rawns_batch(host: str, pods: list[str]) -> float:
    started = time.perf_counter()
    with Batch() as batch:
        for i, pod in enumerate(pods):
            batch.veth(f"vh{i}", "eth0", netns=host, peer_netns=pod, up=False, peer_up=False)
    return time.perf_counter() - started


def run_ip_batch(host: str, pods: list[str]) -> float:
    script = "".join(f"link add vh{i} type veth peer name eth0 netns {pod}\n"
                     for i, pod in enumerate(pods))
    started = time.perf_counter()
    subprocess.run(["ip", "-n", host, "-batch", "-"], input=script, text=True, check=True)
    return time.perf_counter() - started


PEERS = {"rawns": run_rawns_calls, "rawns-batch": run_rawns_batch, "ip-batch": run_ip_batch}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds")
    args = parser.parse_args(argv)
    prefix = f"rnsbv{os.getpid()}-"
    order = list(PEERS) + list(reversed(PEERS))
    times: dict[str, list[float]] = {peer: [] for peer in PEERS}
    for _ in range(args.rounds):
        for peer in order:
            settle()
            host, pods = make_spaces(prefix, args.n)
            try:
                times[peer].append(PEERS[peer](host, pods))
            finally:
                drop_spaces(host, pods)
            print(f"{peer}: {times[peer][-1] * 1000:.1f} ms", file=sys.stderr)
    base = statistics.median(times["rawns"])
    print(f"N={args.n} veth pairs, peer created inside its own namespace; "
          f"median of {len(times['rawns'])} runs each, A B B A")
    print(f"{'peer':12} {'total ms':>9} {'us/pair':>8} {'ratio':>7}")
    for peer, values in times.items():
        median = statistics.median(values)
        print(f"{peer:12} {median * 1000:9.1f} {median / args.n * 1e6:8.0f} "
              f"{median / base:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
