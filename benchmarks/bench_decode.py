#!/usr/bin/env python3
# Invariants:
# - Measures decode throughput of rawns.netlink against pyroute2's parser on
#   the very same bytes, in the same run, and prints messages/s and ratios.
#   It never fails on a timing; pyroute2 is optional (skipped if absent).
# - The dump is real by default (root): a namespace "rnsbench-<pid>" with
#   N veth pairs and an IPv4 + IPv6 address on each end, made with
#   `ip -batch`, dumped with a plain AF_NETLINK socket, deleted in a finally.
#   Without root, or with --synthetic, it concatenates the golden vectors.
"""Benchmark: decoding big rtnetlink dumps, rawns vs pyroute2.

    python3 benchmarks/bench_decode.py [--pairs 1500] [--synthetic] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's rawns, not an installed one

from rawns.netlink import decode  # noqa: E402

__all__ = ["main"]

GOLDEN = ROOT / "tests" / "netlink" / "data"


def dump_in_namespace(request: bytes) -> bytes:
    """Runs inside the namespace (``ip netns exec``): one dump, raw bytes."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.setsockopt(270, 12, 1)  # NETLINK_GET_STRICT_CHK
    sock.bind((0, 0))
    sock.send(request)
    received = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        received += chunk
        offset = 0
        while offset < len(chunk):
            length, mtype = struct.unpack_from("=IH", chunk, offset)
            if mtype in (2, 3):
                return bytes(received)
            offset += (length + 3) & ~3


def real_dumps(pairs: int) -> dict[str, bytes]:
    namespace = f"rnsbench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".batch") as batch:
            for i in range(pairs):
                a, b = divmod(i, 250)
                batch.write(f"link add bv{i} type veth peer name bw{i}\n")
                batch.write(f"addr add 10.{100 + a}.{b}.1/30 dev bv{i}\n")
                batch.write(f"addr add fd00:{i:x}::1/64 dev bv{i} nodad\n")
            batch.flush()
            subprocess.run(["ip", "-n", namespace, "-batch", batch.name], check=True)
        requests = {
            "links": struct.pack("=IHHII", 32, 18, 0x301, 1, 0) + bytes(16),
            "addresses": struct.pack("=IHHII", 24, 22, 0x301, 2, 0) + bytes(8),
        }
        dumps = {}
        for name, request in requests.items():
            out = subprocess.run(
                ["ip", "netns", "exec", namespace, sys.executable, __file__,
                 "--dump-hex", request.hex()], check=True, capture_output=True, text=True)
            dumps[name] = bytes.fromhex(out.stdout.strip())
        return dumps
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False)


def synthetic_dumps(copies: int) -> dict[str, bytes]:
    def body(name: str) -> bytes:
        data = (GOLDEN / f"{name}.bin").read_bytes()
        return data[:-20]  # drop NLMSG_DONE, added once at the end
    done = (GOLDEN / "link_dump.bin").read_bytes()[-20:]
    return {"links": body("link_dump") * copies + done,
            "addresses": body("addr_dump") * copies + done}


def best_times(functions: list, data: bytes, repeat: int) -> list[float]:
    """The best time of each function on ``data``.

    The functions take turns, run after run, so that a busy machine slows
    them alike and the ratio stays fair.
    """
    best = [float("inf")] * len(functions)
    for _ in range(repeat):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            function(data)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1500, help="veth pairs (2 links each)")
    parser.add_argument("--synthetic", action="store_true",
                        help="concatenate the golden vectors instead of a real dump")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--dump-hex", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump_hex:
        print(dump_in_namespace(bytes.fromhex(args.dump_hex)).hex())
        return 0

    if args.synthetic or os.geteuid() != 0:
        source = "synthetic: golden vectors concatenated"
        dumps = synthetic_dumps(max(1, args.pairs // 3))
    else:
        source = f"real: {args.pairs} veth pairs with IPv4+IPv6 addresses in a fresh namespace"
        dumps = real_dumps(args.pairs)

    try:
        from pyroute2.netlink.rtnl.marshal import MarshalRtnl
    except ImportError:
        MarshalRtnl = None

    print(f"source: {source}")
    for name, data in dumps.items():
        count = len(decode(data))
        functions = [decode]
        if MarshalRtnl is not None:
            marshal = MarshalRtnl()
            functions.append(lambda d: list(marshal.parse(d)))
        ours, *rest = best_times(functions, data, args.repeat)
        line = (f"{name:9s} {count:6d} messages {len(data) / 1e6:6.2f} MB | rawns "
                f"{count / ours:9.0f} msg/s ({ours * 1e3:7.1f} ms)")
        if rest:
            theirs = rest[0]
            line += (f" | pyroute2 {count / theirs:8.0f} msg/s ({theirs * 1e3:7.1f} ms)"
                     f" | ratio {theirs / ours:4.1f}x")
        else:
            line += " | pyroute2 not installed: no comparison"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
