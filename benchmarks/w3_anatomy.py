#!/usr/bin/env python3
"""Where a W3 pod's time goes: the same pods read six ways, turn by turn.

    python benchmarks/w3_anatomy.py -n 500 --rounds 3     (as root)

The variants, each a whole pass over every pod (wall time per pod, medians):

- ``c``: the C reference's W3 (``benchmarks/c/ref.c``, built on the spot),
  which parses nothing: it counts the messages of both dumps.
- ``io``: Python doing what the C reference does, with the same syscalls: the
  thread steps from pod to pod (``rawns.netns.visiting``), opens a netlink
  socket in each, sends the two dump requests (bytes built once), reads them
  to NLMSG_DONE and counts the messages from their headers.
- ``decode``: ``io`` plus ``rawns.netlink.decode`` of every datagram.
- ``rawns``: a ``Handle`` per pod, ``addr_list()`` and ``neigh_list()``
  (what W3 measured until session 2).
- ``readers``: ``io`` plus each reply read straight into a model object by
  the library's readers (``rawns.convert.read_address`` / ``read_neighbour``:
  the tables fill a dict of values, no ``Attr`` or ``Message`` objects), with
  no ``Handle`` and no conversation. (Until session 3 this was ``lean``, a
  hand-written prototype of those readers that reached into the library's
  private converters and table internals; the library's readers replaced it.)
- ``fused``: ``readers`` with the fused readers (``rawns.convert_fast``: one
  generated function per reply shape reads header, attributes and model
  object in one step), which ``Handle`` and ``read_many`` use since session 4.
- ``bulk``: ``rawns.read_many`` of every pod's addresses and neighbours (what
  W3 measures since session 3): one C loop per chunk of pods, in a helper
  thread, the replies read meanwhile by the caller.

The pods (named as the harness names them, ``harness.workloads.pods``) are
made once by the W2 hook (``rawns.Batch``) in /run/netns as it is, and
removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rawns, not an installed one

from harness.kernel import wait_for_kernel  # noqa: E402
from harness.peers import build_reference, find_c_source  # noqa: E402
from harness.workloads import pods, rawns_w2_setup  # noqa: E402
from rawns import Handle, netns, read_many  # noqa: E402
from rawns.netlink import NLMSG, decode, encode, frames, requests  # noqa: E402

# The imports below the top-level API: the readers Handle and read_many used
# until session 4 (the reference), and the fused ones they use now.
from rawns.convert import read_address, read_neighbour  # noqa: E402
from rawns import convert_fast  # noqa: E402

_HEADER = struct.Struct("=IHHII")
_DONE = int(NLMSG.NLMSG_DONE)
_ADDR_DUMP = encode(requests.addr_dump().with_seq(1))
_NEIGH_DUMP = encode(requests.neigh_dump().with_seq(2))


def _datagrams(sock: socket.socket, request: bytes) -> Iterator[bytes]:
    """Send one dump request and yield its datagrams, up to NLMSG_DONE."""
    sock.send(request)
    while True:
        data = sock.recv(65536)
        yield data
        if any(mtype == _DONE for _, _, mtype in _frames(data)):
            return


def _frames(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(offset, nlmsg_len, nlmsg_type)`` of each message in a datagram."""
    pos = 0
    while pos < len(data):
        length, mtype = _HEADER.unpack_from(data, pos)[:2]
        yield pos, length, mtype
        pos += (length + 3) & ~3


def _replies(names: list[str]) -> Iterator[bytes]:
    """Every datagram of both dumps of every pod, as the C reference reads
    them: the thread steps into each pod in turn (open, setns, close), opens
    a socket there, and goes home at the end."""
    with netns.visiting() as go:
        for name in names:
            fd = netns.open_fd(name, check=False)
            try:
                go(fd)
            finally:
                os.close(fd)
            with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               socket.NETLINK_ROUTE) as sock:
                for request in (_ADDR_DUMP, _NEIGH_DUMP):
                    yield from _datagrams(sock, request)


def _count_replies(names: list[str], count: Callable[[bytes], int]) -> int:
    return sum(count(data) for data in _replies(names))


def read_io(names: list[str]) -> int:
    return _count_replies(names, lambda data: sum(t != _DONE for _, _, t in _frames(data)))


def read_decode(names: list[str]) -> int:
    return _count_replies(names, lambda data: sum(m.type != _DONE for m in decode(data)))


def read_rawns(names: list[str]) -> int:
    count = 0
    for name in names:
        with Handle(name) as handle:
            count += len(handle.addr_list()) + len(handle.neigh_list())
    return count


def read_readers(names: list[str]) -> int:
    objects = []
    for data in _replies(names):
        for frame in frames(data):
            obj = read_address(data, frame) or read_neighbour(data, frame)
            if obj is not None:
                objects.append(obj)
    return len(objects)


def read_fused(names: list[str]) -> int:
    objects = []
    for data in _replies(names):
        for frame in frames(data):
            obj = (convert_fast.read_address(data, frame)
                   or convert_fast.read_neighbour(data, frame))
            if obj is not None:
                objects.append(obj)
    return len(objects)


def read_bulk(names: list[str]) -> int:
    return sum(len(s.addresses) + len(s.neighbours)
               for s in read_many(names, ("addr", "neigh")))


def read_c(binary: str, prefix: str, n: int) -> float:
    out = subprocess.run([binary, "w3", prefix, str(n)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)["phases"]["read"]["wall"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="pods")
    parser.add_argument("--rounds", type=int, default=3, help="passes of each variant")
    args = parser.parse_args(argv)
    prefix = f"rnsanat{os.getpid()}"
    host = f"{prefix}host"
    made = pods(prefix, args.n)
    names = [p.netns for p in made]
    source = find_c_source()
    binary = build_reference(source, quiet=True) if source is not None else None
    netns.add(host)
    try:
        rawns_w2_setup(host, made)
        wait_for_kernel()
        time.sleep(2)  # the pods' links settle (IPv6 addresses, neighbours)
        variants = {"io": read_io, "decode": read_decode, "rawns": read_rawns,
                    "readers": read_readers, "fused": read_fused, "bulk": read_bulk}
        for run in variants.values():
            run(names)  # warm: imports, caches, the interpreter's specialisation
        walls: dict[str, list[float]] = {name: [] for name in ["c", *variants]}
        for round_ in range(args.rounds):
            order = list(variants.items())
            for name, run in order if round_ % 2 == 0 else reversed(order):
                started = time.perf_counter()
                run(names)
                walls[name].append(time.perf_counter() - started)
            if binary is not None:
                walls["c"].append(read_c(binary, prefix, args.n))
        counts = {name: run(names) for name, run in variants.items()}
    finally:
        netns.delete_many([*names, host], missing_ok=True)
    base = statistics.median(walls["c"]) if walls["c"] else None
    per_pod = {name: round(count / args.n, 2) for name, count in counts.items()}
    print(f"W3 anatomy, N={args.n}, {args.rounds} rounds (us per pod, medians); "
          f"objects read per pod: {per_pod}")
    for name, values in walls.items():
        if not values:
            continue
        median = statistics.median(values) / args.n * 1e6
        ratio = f"{statistics.median(values) / base:5.2f}x C" if base else ""
        print(f"  {name:8s} {median:8.1f}  {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
