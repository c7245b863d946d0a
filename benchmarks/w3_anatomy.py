"""Where a W3 pod's time goes: the same pods read six ways, turn by turn.

    python benchmarks/w3_anatomy.py -n 500 --rounds 3     (as root)

The variants, each a whole pass over every pod (wall time per pod, medians):

- ``c``: the C reference's W3 (``benchmarks/c/ref.c``, built on the spot),
  which parses nothing: it counts the messages of both dumps.
- ``io``: Python doing what the C reference does: a socket made inside the
  pod (``rawns.syscalls.socket_in``), the two dump requests (bytes built
  once), read to NLMSG_DONE, messages counted from their headers.
- ``decode``: ``io`` plus ``rawns.netlink.decode`` of every datagram.
- ``rawns``: a ``Handle`` per pod, ``addr_list()`` and ``neigh_list()``
  (what W3 measured until session 2).
- ``lean``: ``io`` plus each reply read straight into a dict of attribute
  values by the same tables (no Attr, Message or event objects) and made into
  model objects: about the leanest a pure-Python reader could be.
- ``bulk``: ``rawns.read_many`` of every pod's addresses and neighbours (what
  W3 measures since session 3): one C loop per chunk of pods, in a helper
  thread, the replies read meanwhile by the caller.

The pods (named as the harness names them, ``rawns.bench.pods``) are made
once by the W2 hook (``rawns.Batch``) in /run/netns as it is, and removed at the end.
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
from collections.abc import Callable

from rawns import Handle, netns, read_many, syscalls
from rawns.bench import build_reference, find_c_source, pods, rawns_w2_setup, \
    wait_for_kernel
from rawns.convert import _ifa_flag_names, _interface, _new_address, _new_neighbour, \
    _ntf_names, _nud_names
from rawns.netlink import decode, encode, requests
from rawns.netlink.constants import ADDRESS_SIZE_BY_FAMILY, NLA_TYPE_MASK, RTM
from rawns.netlink.tables import FAMILIES
from rawns.nlsock import NETLINK_ROUTE

_HEADER = struct.Struct("=IHHII")
_NLA = struct.Struct("=HH")
_DONE = 3
_ADDR, _NEIGH = int(RTM.RTM_NEWADDR), int(RTM.RTM_NEWNEIGH)
_ADDR_DUMP = encode(requests.addr_dump().with_seq(1))
_NEIGH_DUMP = encode(requests.neigh_dump().with_seq(2))


def _datagrams(sock: socket.socket, request: bytes):
    """Send one dump request and yield its datagrams, up to NLMSG_DONE."""
    sock.send(request)
    while True:
        data = sock.recv(65536)
        yield data
        if any(mtype == _DONE for _, _, mtype in _frames(data)):
            return


def _frames(data: bytes):
    """``(offset, nlmsg_len, nlmsg_type)`` of each message in a datagram."""
    pos = 0
    while pos < len(data):
        length, mtype = _HEADER.unpack_from(data, pos)[:2]
        yield pos, length, mtype
        pos += (length + 3) & ~3


def _socket_in(path: str) -> socket.socket:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return syscalls.socket_in(fd, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    finally:
        os.close(fd)


def _count_replies(paths: list[str], count: Callable[[bytes], int]) -> int:
    """Both dumps of every pod, each datagram counted by ``count``."""
    total = 0
    for path in paths:
        with _socket_in(path) as sock:
            for request in (_ADDR_DUMP, _NEIGH_DUMP):
                for data in _datagrams(sock, request):
                    total += count(data)
    return total


def read_io(paths: list[str]) -> int:
    return _count_replies(paths, lambda data: sum(t != _DONE for _, _, t in _frames(data)))


def read_decode(paths: list[str]) -> int:
    return _count_replies(paths, lambda data: sum(m.type != _DONE for m in decode(data)))


def read_rawns(names: list[str]) -> int:
    count = 0
    for name in names:
        with Handle(name) as handle:
            count += len(handle.addr_list()) + len(handle.neigh_list())
    return count


def read_bulk(names: list[str]) -> int:
    return sum(len(s.addresses) + len(s.neighbours)
               for s in read_many(names, ("addr", "neigh")))


def _values(buf: bytes, start: int, end: int, fast: dict, family_size: int) -> dict:
    """The attributes' values by name, the fast paths of the walker only (a
    prototype: what they do not cover is left out)."""
    values: dict = {}
    while start < end:
        nla_len, nla_type = _NLA.unpack_from(buf, start)
        spec = fast.get(nla_type & NLA_TYPE_MASK)
        if spec is not None:
            name, _, kind, read, size, lookup = spec
            if kind == 1 or kind == 2:
                value = read(buf, start + 4)[0]
                if kind == 2:
                    value = lookup.get(value, value)
            elif kind == 3:
                packed = buf[start + 4:start + nla_len]
                value = lookup.get(packed) or read(packed)
            elif kind == 4:
                value = read(buf, start + 4)
            elif kind == 5:
                value = buf[start + 4:start + nla_len - 1].decode()
            else:
                value = None
            values.setdefault(name, value)
        start += (nla_len + 3) & ~3
    return values


def read_lean(paths: list[str]) -> int:
    addr_family, neigh_family = FAMILIES[_ADDR], FAMILIES[_NEIGH]
    objects = []
    for path in paths:
        with _socket_in(path) as sock:
            for request in (_ADDR_DUMP, _NEIGH_DUMP):
                for data in _datagrams(sock, request):
                    for pos, length, mtype in _frames(data):
                        if mtype == _ADDR:
                            header = addr_family.header._DECODE(data, pos + 16)
                            values = _values(data, pos + 24, pos + length, addr_family.table.fast,
                                             ADDRESS_SIZE_BY_FAMILY.get(header.family, -1))
                            own = values.get("IFA_LOCAL") or values["IFA_ADDRESS"]
                            objects.append(_new_address(
                                index=header.index, address=_interface(own, header.prefixlen),
                                scope="global", label=values.get("IFA_LABEL"),
                                broadcast=values.get("IFA_BROADCAST"), peer=None,
                                flags=_ifa_flag_names(values.get("IFA_FLAGS", header.flags)),
                                valid_lft=None, preferred_lft=None))
                        elif mtype == _NEIGH:
                            header = neigh_family.header._DECODE(data, pos + 16)
                            values = _values(data, pos + 28, pos + length,
                                             neigh_family.table.fast,
                                             ADDRESS_SIZE_BY_FAMILY.get(header.family, -1))
                            objects.append(_new_neighbour(
                                index=header.ifindex, dst=values["NDA_DST"],
                                lladdr=values.get("NDA_LLADDR"), state=_nud_names(header.state),
                                flags=_ntf_names(header.flags)))
    return len(objects)


def read_c(binary: str, prefix: str, n: int) -> float:
    out = subprocess.run([binary, "w3", prefix, str(n)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)["phases"]["read"]["wall"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="pods")
    parser.add_argument("--rounds", type=int, default=3, help="passes of each variant")
    args = parser.parse_args()
    prefix = f"rnsanat{os.getpid()}"
    host = f"{prefix}host"
    made = pods(prefix, args.n)
    names = [p.netns for p in made]
    paths = [netns.path_of(name) for name in names]
    source = find_c_source()
    binary = build_reference(source, quiet=True) if source is not None else None
    netns.add(host)
    try:
        rawns_w2_setup(host, made)
        wait_for_kernel()
        time.sleep(2)  # the pods' links settle (IPv6 addresses, neighbours)
        variants = {"io": lambda: read_io(paths), "decode": lambda: read_decode(paths),
                    "rawns": lambda: read_rawns(names), "lean": lambda: read_lean(paths),
                    "bulk": lambda: read_bulk(names)}
        for run in variants.values():
            run()  # warm: imports, caches, the interpreter's specialisation
        walls: dict[str, list[float]] = {name: [] for name in ["c", *variants]}
        for round_ in range(args.rounds):
            order = list(variants.items())
            for name, run in order if round_ % 2 == 0 else reversed(order):
                started = time.perf_counter()
                run()
                walls[name].append(time.perf_counter() - started)
            if binary is not None:
                walls["c"].append(read_c(binary, prefix, args.n))
        counts = {name: run() for name, run in variants.items()}
    finally:
        netns.delete_many(names, missing_ok=True)
        netns.delete(host)
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
    sys.exit(main())
