"""``ip route show`` (main table, ``table all``, ``table N``) printed straight from the kernel's bytes, for a fast start.

``rawns route show`` of a big table spends its time in start-up (the
protocol package, the converters and the models: ~40 modules) and in the
dump. This module asks for the dump on link_fast's bare socket, names the
devices from link_fast's lean link dump, and prints each reply as it is
read with ``show_fast``'s generated one-pass printers; it imports neither
``rawns.netlink`` nor ``handle``, ``convert``, ``model`` or ``show``.

Invariants:
- The output is byte for byte what the reference path prints
  (``Handle.route_dump`` with ``show_fast.route_printer``, which the model
  path backs); ``tests/test_route_fast.py`` holds them equal on real tables
  and on hypothesis-made hostile dumps.
- Anything unusual raises :class:`Slow` and the caller runs the reference
  path, which has the last word, its errors included: a kernel error, an
  interrupted dump, a message that is not a route or a plain NLMSG_DONE, a
  route of no common shape (next hops, metrics, flags...: the model path
  prints it), a table name that is not a plain number or one of the three
  the reference knows without reading files.
- Opens and closes its own sockets; no state survives a call.
"""

from __future__ import annotations

import struct

from rawns import syscalls
from rawns.link_fast import Slow, socket_in
from rawns.show_fast import RoutePrinter

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Optional

__all__ = ["route_dump_request", "table_of", "read_routes", "no_table", "show_routes", "Slow"]

_RTM_GETROUTE = 26
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_ENOENT = 2
_MAIN = 254
_HDR = struct.Struct("=IHHII")
_S32 = struct.Struct("=i")
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_RTA_TABLE = 15
_AF_INET, _AF_INET6 = 2, 10
_TABLES = {"main": 254, "local": 255, "default": 253}

_GET = struct.Struct("=IHHIIBBBBBBBBI")       # nlmsghdr, rtmsg
_GET_TABLE = struct.Struct("=IHHIIBBBBBBBBIHHI")  # ... and RTA_TABLE


def route_dump_request(seq: int, family: int, table: Optional[int]) -> bytes:
    """``requests.route_dump(family=family, table=table)`` encoded with ``seq``
    (a table above 255 goes in RTA_TABLE, as the reference puts it)."""
    flags = _NLM_F_REQUEST | _NLM_F_DUMP
    if table is None or table < 256:
        return _GET.pack(28, _RTM_GETROUTE, flags, seq, 0, family, 0, 0, 0, table or 0,
                         0, 0, 0, 0)
    return _GET_TABLE.pack(36, _RTM_GETROUTE, flags, seq, 0, family, 0, 0, 0, 0, 0, 0, 0, 0,
                           8, _RTA_TABLE, table)


def table_of(table: str) -> Optional[int]:
    """The number of the ``table`` word of ``route show`` (None: "all"), as
    ``convert.table_number`` reads it; Slow for a word whose reading is not
    this plain (the reference says what is wrong with it)."""
    if table == "all":
        return None
    number = _TABLES.get(table)
    if number is not None:
        return number
    if not (table.isascii() and table.isdigit()) or table != str(int(table)):
        raise Slow
    number = int(table)
    if not 0 < number < 2**32:
        raise Slow
    return number


def read_routes(datagrams: Iterable[bytes], seq: int, port: int, printer: RoutePrinter,
                out: list[str]) -> bool:
    """Append to ``out`` what ``printer`` prints of each route of a dump's
    datagrams (answers to ``seq`` on port ``port``); whether its NLMSG_DONE
    came. Slow for anything but RTM_NEWROUTE replies and a plain NLMSG_DONE."""
    for data in datagrams:
        done = printer.read_datagram(data, seq, port, out)
        if done is None:
            raise Slow
        if done:
            return True
    return False


def no_table(data: bytes, seq: int, port: int) -> bool:
    """Whether ``data`` is a dump's only answer, the kernel's ENOENT (no
    such table: an empty namespace has no main table yet)."""
    if len(data) < 20:
        return False
    length, mtype, _, mseq, mpid = _HDR.unpack_from(data, 0)
    return (mtype in (_NLMSG_ERROR, _NLMSG_DONE) and 20 <= length and (length + 3) & ~3 >= len(data)
            and mseq == seq and mpid == port and _S32.unpack_from(data, 16)[0] == -_ENOENT)


def _refuse(data: bytes, frame: object) -> Optional[str]:
    raise Slow  # a route of no common shape: the model path prints it


def show_routes(netns: Optional[str], *, table: str = "main", family: Optional[int] = None,
                as_json: bool = False, details: bool = False, oneline: bool = False) -> str:
    """What ``rawns [-n NETNS] [-4|-6] [-j] [-d] [-o] route show [table T]``
    prints (``family``: 4, 6 or None: both; the command line passes 4
    without -4/-6 unless ``table all``, as ip). Slow (the caller runs the reference path) for
    anything unusual, a refusal of the kernel's or ours included."""
    number = table_of(table)
    every = number is None
    family_number = {None: 0, 4: _AF_INET, 6: _AF_INET6}.get(family)
    if family_number is None:
        raise Slow
    try:
        sock = socket_in(netns)
        try:
            names = {link["index"]: link["name"] for link in sock.dump_links()}
            printer = RoutePrinter(names, as_json=as_json, show_table=every, details=details,
                                   oneline=oneline, table=number, family=family_number,
                                   fallback=_refuse)
            sock.sock.send(route_dump_request(2, family_number, number))
            fd = sock.sock.fileno()
            printed: list[str] = []
            first = syscalls.recv_many(fd)
            if number == _MAIN and len(first) == 1 and no_table(first[0], 2, sock.port):
                pass  # as the reference: no main table is an empty one
            elif not read_routes(first, 2, sock.port, printer, printed):
                while not read_routes(syscalls.recv_many(fd), 2, sock.port, printer, printed):
                    pass
        finally:
            sock.close()
    except (OSError, ValueError) as err:  # KernelError is an OSError
        raise Slow from err
    if as_json:
        return "[" + ",".join(printed) + "]\n"
    return "\n".join(printed) + "\n" if printed else ""
