"""``ip link show`` and ``ip netns list``'s ids printed straight from the kernel's bytes, for a fast start.

A command that lists links runs once per process, so its cost is its
start-up: importing the protocol package, the converters, the models and
``show`` (~40 modules) costs three times the work itself. This module reads
an RTM_GETLINK dump (and RTM_GETNSID answers) on a bare socket and prints
``ip link show``'s text, ``-j``, ``-br`` and ``-o`` in one pass, with only
the few tables it needs as plain literals; it imports ``struct``, ``_socket``
and what ``rawns.netns`` already loads.

Invariants:
- The output is byte for byte what the reference path prints
  (``Handle.link_list`` -> ``convert.read_link`` -> ``show.link_json`` ->
  ``show.link_lines`` / ``link_brief_*`` / ``json_text``), and the nsids are
  those of ``netns.nsids``; ``tests/test_link_fast.py`` holds them equal on
  real links of every kind the kernel has and on hypothesis-made hostile
  bytes.
- Anything unusual raises :class:`Slow` and the caller runs the reference
  path, which has the last word, its errors included: a kernel error or an
  interrupted dump, a malformed frame anywhere the reference decoder walks
  (``NESTS`` mirrors its tables; a test derives it from them again), an
  attribute the printout reads at an odd size, a device not in the dump.
- Opens and closes its own socket and fds; no state survives a call.
"""

from __future__ import annotations

import os
import struct
from _socket import AF_NETLINK, SOCK_RAW
from _socket import socket as _plain_socket

from rawns import syscalls

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Optional

__all__ = ["Slow", "NESTS", "SOCKET_OPTIONS", "read_link", "read_links", "link_entries", "link_text",
           "json_text", "nsid_request", "read_nsids", "show_links", "nsids",
           "link_dump_request", "nsid_dump_request", "read_nsid_dump", "BareSocket", "socket_in"]


class Slow(Exception):
    """The lean path cannot vouch for this answer: the reference path prints it."""


_NETLINK_ROUTE = 0
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_RTM_NEWLINK = 16
_RTM_GETLINK = 18
_RTM_NEWNSID = 88
_RTM_GETNSID = 90
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_NLM_F_DUMP_INTR = 0x10
_NLA_TYPE_MASK = 0x3FFF
_NETNSA_NSID = 1
_NETNSA_FD = 3

#: nlsock.SOCKET_OPTIONS, as numbers (a test checks them): extended acks, strict checks.
SOCKET_OPTIONS: tuple[tuple[int, int, int], ...] = ((270, 11, 1), (270, 12, 1))

_HDR = struct.Struct("=IHHII")      # nlmsghdr
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg
_NLA = struct.Struct("=HH")
_U32 = struct.Struct("=I")
_S32 = struct.Struct("=i")
_RUN_DIR = "/run/netns/"
_BATCH = 64  # RTM_GETNSID requests per sendmsg: their answers fit the default buffer

#: Where the reference decoder (``netlink.tables``) walks nested attributes:
#: table -> {attribute type: ("N", table) nested, ("K", selector type, {kind:
#: table}) chosen by a sibling string, ("M", header size, table) a header then
#: attributes}. A malformed frame in any of these is its DecodeError.
NESTS: dict[str, dict[int, tuple[Any, ...]]] = {
    "IFLA": {18: ("N", "IFLA_INFO"), 26: ("N", "IFLA_AF_SPEC"), 43: ("N", "IFLA_XDP"),
             52: ("N", "IFLA_PROP_LIST"), 55: ("N", "IFLA_PROTO_DOWN_REASON")},
    "IFLA_INFO": {2: ("K", 1, {"veth": "VETH_INFO", "bridge": "IFLA_BR",
                               "vxlan": "IFLA_VXLAN", "macvlan": "IFLA_MACVLAN",
                               "macvtap": "IFLA_MACVLAN", "vlan": "IFLA_VLAN",
                               "ipvlan": "IFLA_IPVLAN", "ipvtap": "IFLA_IPVLAN",
                               "vrf": "IFLA_VRF", "bond": "IFLA_BOND", "tun": "IFLA_TUN"}),
                  5: ("K", 4, {"bridge": "IFLA_BRPORT"})},
    "VETH_INFO": {1: ("M", 16, "IFLA")},
    "IFLA_AF_SPEC": {2: ("N", "IFLA_INET"), 10: ("N", "IFLA_INET6")},
}
_NO_NESTS: dict[int, tuple[Any, ...]] = {}

# The attributes the printout reads (IFLA_*), first occurrence winning as in
# the reference: the u32s, the strings, the link-layer addresses.
_ADDRESS, _BROADCAST, _IFNAME, _MTU, _LINK, _QDISC = 1, 2, 3, 4, 5, 6
_MASTER, _TXQLEN, _OPERSTATE, _LINKMODE, _IFALIAS, _GROUP, _NETNSID = 10, 13, 16, 17, 20, 27, 37
_READ = frozenset({_ADDRESS, _BROADCAST, _IFNAME, _MTU, _LINK, _QDISC, _MASTER, _TXQLEN,
                   _OPERSTATE, _LINKMODE, _IFALIAS, _GROUP, _NETNSID})

# IFF_* bits in the order ip prints them (model._FLAG_ORDER); RUNNING is not printed.
_IFF_UP, _IFF_RUNNING = 0x1, 0x40
_FLAG_ORDER = (
    (0x8, "LOOPBACK"), (0x2, "BROADCAST"), (0x10, "POINTOPOINT"), (0x1000, "MULTICAST"),
    (0x80, "NOARP"), (0x200, "ALLMULTI"), (0x100, "PROMISC"), (0x400, "MASTER"),
    (0x800, "SLAVE"), (0x4, "DEBUG"), (0x8000, "DYNAMIC"), (0x4000, "AUTOMEDIA"),
    (0x2000, "PORTSEL"), (0x20, "NOTRAILERS"), (0x1, "UP"), (0x10000, "LOWER_UP"),
    (0x20000, "DORMANT"), (0x40000, "ECHO"),
)
_OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
_LINK_TYPES = {1: "ether", 772: "loopback", 65534: "none"}
_IF_LINK_MODE_DORMANT = 1


def _check(buf: bytes, pos: int, end: int, nests: dict[int, tuple[Any, ...]]) -> None:
    """Slow unless the attributes in ``buf[pos:end]`` are framed as the
    reference walk wants, in every nest it descends into."""
    firsts: dict[int, tuple[int, int]] = {}  # each type's first payload, for "K" nests
    while pos < end:
        if end - pos < 4:
            raise Slow
        length, kind = _NLA.unpack_from(buf, pos)
        stop = pos + length
        if length < 4 or stop > end:
            raise Slow
        kind &= _NLA_TYPE_MASK
        if kind not in firsts:
            firsts[kind] = (pos + 4, stop)
        nest = nests.get(kind)
        if nest is not None:
            how = nest[0]
            if how == "N":
                _check(buf, pos + 4, stop, NESTS.get(nest[1], _NO_NESTS))
            elif how == "K":
                span = firsts.get(nest[1])  # the kind: a string, as the reference reads it
                chosen = None if span is None else nest[2].get(_string(buf, *span))
                if chosen is not None:
                    _check(buf, pos + 4, stop, NESTS.get(chosen, _NO_NESTS))
            elif stop - pos - 4 >= nest[1]:  # "M": shorter is kept as bytes
                _check(buf, min(pos + 4 + nest[1], stop), stop,
                       NESTS.get(nest[2], _NO_NESTS))
        pos = (stop + 3) & ~3


def _string(buf: bytes, start: int, stop: int) -> str:
    nul = buf.find(b"\0", start, stop)
    return buf[start:stop if nul < 0 else nul].decode("utf-8", "surrogateescape")


def _u32(buf: bytes, span: Optional[tuple[int, int]]) -> Optional[int]:
    if span is None:
        return None
    if span[1] - span[0] != 4:
        raise Slow  # the reference keeps the bytes, and then fails or prints them
    value: int = _U32.unpack_from(buf, span[0])[0]
    return value


def read_link(buf: bytes, pos: int, end: int) -> dict[str, Any]:
    """The fields of the RTM_NEWLINK message in ``buf[pos:end]`` that
    ``ip link show`` prints, under ``model.Link``'s names; Slow if the
    reference would read it otherwise or refuse it."""
    body = pos + 16
    if end - body < 16:
        raise Slow
    _, link_type, index, flags, _ = _IFINFO.unpack_from(buf, body)
    at = body + 16
    spans: dict[int, tuple[int, int]] = {}
    nests = NESTS["IFLA"]
    while at < end:
        if end - at < 4:
            raise Slow
        length, kind = _NLA.unpack_from(buf, at)
        stop = at + length
        if length < 4 or stop > end:
            raise Slow
        kind &= _NLA_TYPE_MASK
        if kind in nests:
            _check(buf, at + 4, stop, NESTS.get(nests[kind][1], _NO_NESTS))
        elif kind in _READ and kind not in spans:
            spans[kind] = (at + 4, stop)
        at = (stop + 3) & ~3
    get = spans.get
    operstate = 0
    span = get(_OPERSTATE)
    if span is not None:
        if span[1] - span[0] != 1:
            raise Slow
        operstate = buf[span[0]]
    linkmode = "DEFAULT"
    span = get(_LINKMODE)
    if span is not None:
        if span[1] - span[0] != 1:
            raise Slow
        if buf[span[0]] == _IF_LINK_MODE_DORMANT:
            linkmode = "DORMANT"
    netnsid = None
    span = get(_NETNSID)
    if span is not None:
        if span[1] - span[0] != 4:
            raise Slow
        netnsid = _S32.unpack_from(buf, span[0])[0]
    span = get(_IFNAME)
    name = "" if span is None else _string(buf, *span)
    texts = {}
    for kind in (_QDISC, _IFALIAS):
        span = get(kind)
        texts[kind] = None if span is None else _string(buf, *span)
    macs = {}
    for kind in (_ADDRESS, _BROADCAST):
        span = get(kind)
        macs[kind] = None if span is None else buf[span[0]:span[1]].hex(":")
    return {
        "index": index, "name": name, "flags": flags, "mtu": _u32(buf, get(_MTU)),
        "operstate": (_OPERSTATES[operstate] if operstate < len(_OPERSTATES)
                      else str(operstate)),
        "link_type": _LINK_TYPES.get(link_type, str(link_type)),
        "address": macs[_ADDRESS], "broadcast": macs[_BROADCAST],
        "master": _u32(buf, get(_MASTER)), "link": _u32(buf, get(_LINK)),
        "link_netnsid": netnsid, "txqlen": _u32(buf, get(_TXQLEN)),
        "group": _u32(buf, get(_GROUP)), "alias": texts[_IFALIAS] or None,
        "qdisc": texts[_QDISC], "linkmode": linkmode,
    }


def _plain_dump(datagrams: Iterable[bytes], seq: int, port: int, reply_type: int
                ) -> tuple[list[tuple[bytes, int, int]], bool]:
    """The replies (datagram, start, end) of a dump's datagrams (answers to
    ``seq`` on port ``port``), and whether its NLMSG_DONE came. Slow for
    anything but replies of ``reply_type`` and a plain NLMSG_DONE."""
    replies: list[tuple[bytes, int, int]] = []
    for data in datagrams:
        pos, size = 0, len(data)
        while pos < size:
            if size - pos < 16:
                raise Slow
            length, mtype, flags, mseq, mpid = _HDR.unpack_from(data, pos)
            end = pos + length
            if length < 16 or end > size or mseq != seq or mpid != port or (
                    flags & _NLM_F_DUMP_INTR):
                raise Slow
            if mtype == _NLMSG_DONE:
                if end - pos != 20 or _S32.unpack_from(data, pos + 16)[0] != 0 or (
                        (end + 3) & ~3) < size:
                    raise Slow  # an error, extack TLVs or more after it: the reference's
                return replies, True
            if mtype != reply_type:
                raise Slow
            replies.append((data, pos, end))
            pos = (end + 3) & ~3
    return replies, False


def read_links(datagrams: Iterable[bytes], seq: int, port: int) -> tuple[list[dict[str, Any]], bool]:
    """The links of a dump's datagrams (answers to ``seq`` on port ``port``),
    and whether its NLMSG_DONE came. Slow for anything but RTM_NEWLINK
    replies and a plain NLMSG_DONE."""
    replies, done = _plain_dump(datagrams, seq, port, _RTM_NEWLINK)
    return [read_link(data, start, end) for data, start, end in replies], done


def _flags(flags: int) -> list[str]:
    out = ["NO-CARRIER"] if flags & _IFF_UP and not flags & _IFF_RUNNING else []
    return out + [name for bit, name in _FLAG_ORDER if flags & bit]


def link_entries(links: list[dict[str, Any]], *, dev: Optional[str] = None,
                 only_up: bool = False) -> list[dict[str, Any]]:
    """``show.link_json`` of the links ``ip link show [DEV] [up]`` prints
    (Slow if DEV is not one of their names: the kernel also knows altnames)."""
    names = {link["index"]: link["name"] for link in links}
    up = {link["index"] for link in links if link["flags"] & _IFF_UP}
    chosen = links
    if dev is not None:
        chosen = [link for link in links if link["name"] == dev][:1]
        if not chosen:
            raise Slow
    out = []
    for link in chosen:
        if only_up and not link["flags"] & _IFF_UP:
            continue
        entry: dict[str, Any] = {"ifindex": link["index"]}
        peer = link["link"]
        if peer is not None:
            if link["link_netnsid"] is not None:
                entry["link_index"] = peer
            elif peer == 0:
                entry["link"] = None
            else:
                entry["link"] = names.get(peer, f"if{peer}")
        entry["ifname"] = link["name"]
        flags = _flags(link["flags"])
        if entry.get("link") is not None and peer not in up:
            flags.append("M-DOWN")
        entry["flags"] = flags
        if link["mtu"] is not None:
            entry["mtu"] = link["mtu"]
        if link["qdisc"] is not None:
            entry["qdisc"] = link["qdisc"]
        if link["master"] is not None:
            entry["master"] = names.get(link["master"], str(link["master"]))
        entry["operstate"] = link["operstate"]
        entry["linkmode"] = link["linkmode"]
        if link["group"] is not None:
            entry["group"] = "default" if link["group"] == 0 else str(link["group"])
        if link["txqlen"] is not None:
            entry["txqlen"] = link["txqlen"]
        entry["link_type"] = link["link_type"]
        if link["address"] is not None:
            entry["address"] = link["address"]
        if link["broadcast"] is not None:
            entry["broadcast"] = link["broadcast"]
        if link["link_netnsid"] is not None:
            entry["link_netnsid"] = link["link_netnsid"]
        if link["alias"] is not None:
            entry["ifalias"] = link["alias"]
        out.append(entry)
    return out


def _peer_name(data: dict[str, Any]) -> str:
    name = str(data["ifname"])
    if "link" in data:
        name += "@NONE" if data["link"] is None else f"@{data['link']}"
    elif "link_index" in data:
        name += f"@if{data['link_index']}"
    return name


def _lines(data: dict[str, Any], nsids: dict[int, str]) -> list[str]:
    """``show.link_lines`` of an entry without details or statistics."""
    text = f"{data['ifindex']}: {_peer_name(data)}: <{','.join(data['flags'])}>"
    if "mtu" in data:
        text += f" mtu {data['mtu']}"
    if "qdisc" in data:
        text += f" qdisc {data['qdisc']}"
    if "master" in data:
        text += f" master {data['master']}"
    text += f" state {data['operstate']} mode {data['linkmode']}"
    if "group" in data:
        text += f" group {data['group']}"
    if "txqlen" in data:
        text += f" qlen {data['txqlen']}"
    netns = ""
    if "link_netnsid" in data:
        nsid = data["link_netnsid"]
        netns = f" link-netns {nsids[nsid]}" if nsid in nsids else f" link-netnsid {nsid}"
    second = f"    link/{data['link_type']} " + data.get("address", "")
    if "broadcast" in data:
        second += f" brd {data['broadcast']}"
    lines = [text, second + netns]
    if "ifalias" in data:
        lines.append(f"    alias {data['ifalias']}")
    return lines


def _brief(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: data[key] for key in ("link", "link_index") if key in data}
    out["ifname"] = data["ifname"]
    out["operstate"] = data["operstate"]
    if "address" in data:
        out["address"] = data["address"]
    out["flags"] = data["flags"]
    return out


def link_text(entries: list[dict[str, Any]], nsids: dict[int, str], *, as_json: bool = False,
              brief: bool = False, oneline: bool = False) -> str:
    """What ``rawns [-j] [-br] [-o] link show`` prints of ``link_entries``
    (``nsids``: nsid -> name, for text with a peer elsewhere), newlines included."""
    if brief:
        entries = [_brief(entry) for entry in entries]
        if as_json:
            return json_text(entries) + "\n"
        out = []
        for entry in entries:
            text = f"{_peer_name(entry):<16} {entry['operstate']:<14} "
            if "address" in entry:
                text += f"{entry['address']} "
            out.append(text + f"<{','.join(entry['flags'])}> \n")
        return "".join(out)
    if as_json:
        return json_text(entries) + "\n"
    join = "\\".join if oneline else "\n".join
    return "".join(join(_lines(entry, nsids)) + "\n" for entry in entries)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}


def _json_string(text: str) -> str:
    """``json.dumps(text)``: ASCII, with json's escapes."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = []
    for char in text:
        code = ord(char)
        if 0x20 <= code < 0x7F and char not in '"\\':
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}")
    return '"' + "".join(out) + '"'


def json_text(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"))`` of the lists, dicts, str,
    int and None that ``link_entries`` makes (``show.json_text`` without
    timers), without importing json (which imports re)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(key)}:{json_text(item)}"
                              for key, item in value.items()) + "}"
    raise Slow  # nothing link_entries makes


# -- the kernel's side -----------------------------------------------------------------

def link_dump_request(seq: int) -> bytes:
    """``requests.link_dump()`` encoded with ``seq`` (port 0: the kernel's)."""
    return _HDR.pack(32, _RTM_GETLINK, _NLM_F_REQUEST | _NLM_F_DUMP, seq, 0) + bytes(16)


_NSID_REQUEST = struct.Struct("=IHHII4xHHI")  # nlmsghdr, rtgenmsg, NETNSA_FD
# The common answer, in one read: nlmsghdr, rtgenmsg, NETNSA_NSID (s32), 28 bytes.
_NSID_ANSWER = struct.Struct("=IHHII4xHHi")


def nsid_request(seq: int, fd: int) -> bytes:
    """``requests.nsid_get(fd=fd)`` encoded with ``seq``."""
    return _NSID_REQUEST.pack(28, _RTM_GETNSID, _NLM_F_REQUEST, seq, 0, 8, _NETNSA_FD, fd)


def nsid_dump_request(seq: int) -> bytes:
    """``requests.nsid_dump()`` encoded with ``seq``."""
    return _HDR.pack(17, _RTM_GETNSID, _NLM_F_REQUEST | _NLM_F_DUMP, seq, 0) + bytes(4)


def read_nsid_dump(datagrams: Iterable[bytes], seq: int, port: int) -> tuple[bool, bool]:
    """Whether a RTM_GETNSID dump's datagrams hold any id, and whether its
    NLMSG_DONE came. Slow for anything but RTM_NEWNSID and a plain NLMSG_DONE."""
    replies, done = _plain_dump(datagrams, seq, port, _RTM_NEWNSID)
    return bool(replies), done


def read_nsids(datagrams: Iterable[bytes], port: int, asked: dict[int, str],
               found: dict[str, int]) -> None:
    """Record in ``found`` (name -> nsid) the answers to the RTM_GETNSID
    requests ``asked`` (seq -> name), removing each from ``asked``: an
    error or an id of -1 is no id, as ``netns.nsids`` leaves such names out.
    Slow for anything it cannot read as the reference would."""
    for data in datagrams:
        pos, size = 0, len(data)
        while pos < size:
            if size - pos < 16:
                raise Slow
            length, mtype, _, seq, pid = _HDR.unpack_from(data, pos)
            end = pos + length
            if length < 16 or end > size or pid != port or seq not in asked:
                raise Slow
            name = asked.pop(seq)
            if length == 28 and mtype == _RTM_NEWNSID:  # the common answer, in one read
                answer = _NSID_ANSWER.unpack_from(data, pos)
                if answer[5] == 8 and answer[6] & _NLA_TYPE_MASK == _NETNSA_NSID:
                    if answer[7] >= 0:
                        found[name] = answer[7]
                    pos = (end + 3) & ~3
                    continue
            if mtype == _RTM_NEWNSID:
                nsid = None
                at = pos + 20
                if end - pos < 20:
                    raise Slow
                while at < end:
                    if end - at < 4:
                        raise Slow
                    size_, kind = _NLA.unpack_from(data, at)
                    stop = at + size_
                    if size_ < 4 or stop > end:
                        raise Slow
                    if kind & _NLA_TYPE_MASK == _NETNSA_NSID and nsid is None:
                        if size_ != 8:
                            raise Slow
                        nsid = _S32.unpack_from(data, at + 4)[0]
                    at = (stop + 3) & ~3
                if nsid is None:
                    raise Slow  # the reference's default, -1: but say it rarely
                if nsid >= 0:
                    found[name] = nsid
            elif mtype != _NLMSG_ERROR or end - pos < 20 or not _S32.unpack_from(
                    data, pos + 16)[0]:
                raise Slow  # an ack or a stray message: not what a GETNSID gets
            pos = (end + 3) & ~3


class BareSocket:
    """A NETLINK_ROUTE socket in the namespace of ``netns_fd`` (None: ours),
    with rawns' socket options, bound, its port known."""

    def __init__(self, netns_fd: Optional[int]) -> None:
        fd = syscalls.socket_fd_in(netns_fd, AF_NETLINK, SOCK_RAW, _NETLINK_ROUTE)
        try:
            self.sock = _plain_socket(AF_NETLINK, SOCK_RAW, _NETLINK_ROUTE, fileno=fd)
        except BaseException:
            os.close(fd)
            raise
        try:
            for level, option, value in SOCKET_OPTIONS:
                self.sock.setsockopt(level, option, value)
            self.sock.bind((0, 0))
            self.port: int = self.sock.getsockname()[0]
        except BaseException:
            self.sock.close()
            raise

    def dump_links(self) -> list[dict[str, Any]]:
        self.sock.send(link_dump_request(1))
        links = []
        while True:
            more, done = read_links(syscalls.recv_many(self.sock.fileno()), 1, self.port)
            links += more
            if done:
                return links

    def any_nsid(self) -> bool:
        """Whether this namespace has given any other an id: if not, no name
        has one here (RTM_GETNSID by fd only reads, it never assigns)."""
        self.sock.send(nsid_dump_request(1))
        while True:
            some, done = read_nsid_dump(syscalls.recv_many(self.sock.fileno()), 1, self.port)
            if some or done:
                if not done:
                    self.drain_dump(1)
                return some

    def drain_dump(self, seq: int) -> None:
        """Read the rest of dump ``seq`` (its replies are not needed)."""
        while True:
            for data in syscalls.recv_many(self.sock.fileno()):
                pos, size = 0, len(data)
                while pos < size:
                    if size - pos < 16:
                        raise Slow
                    length, mtype, _, mseq, _ = _HDR.unpack_from(data, pos)
                    if length < 16 or mseq != seq:
                        raise Slow
                    if mtype == _NLMSG_DONE or mtype == _NLMSG_ERROR:
                        return
                    pos = (pos + length + 3) & ~3

    def nsids(self, names: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        if not names or not self.any_nsid():
            return found
        seq = 1
        for first in range(0, len(names), _BATCH):
            asked: dict[int, str] = {}
            fds = []
            try:
                request = b""
                for name in names[first:first + _BATCH]:
                    try:
                        fd = os.open(_RUN_DIR + name,
                                     os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
                    except OSError:
                        continue  # as netns.nsids: a name that cannot be opened
                    fds.append(fd)
                    seq += 1
                    asked[seq] = name
                    request += nsid_request(seq, fd)
                if request:
                    self.sock.send(request)
                while asked:
                    read_nsids(syscalls.recv_many(self.sock.fileno()), self.port, asked,
                               found)
            finally:
                for fd in fds:
                    os.close(fd)
        return found

    def close(self) -> None:
        self.sock.close()


def socket_in(netns: Optional[str]) -> BareSocket:
    """A :class:`BareSocket` in the namespace named ``netns`` (None: ours)."""
    if netns is None:
        return BareSocket(None)
    from rawns.netns import open_fd

    fd = open_fd(netns)
    try:
        return BareSocket(fd)
    finally:
        os.close(fd)


def show_links(netns: Optional[str], *, dev: Optional[str] = None, only_up: bool = False,
               as_json: bool = False, brief: bool = False, oneline: bool = False) -> str:
    """What ``rawns [-n NETNS] [-j] [-br] [-o] link show [DEV] [up]`` prints.
    Slow (the caller runs the reference path) for anything unusual, a
    refusal of the kernel's or ours included."""
    try:
        sock = socket_in(netns)
        try:
            entries = link_entries(sock.dump_links(), dev=dev, only_up=only_up)
            ids: dict[int, str] = {}
            if not as_json and not brief and any("link_netnsid" in e for e in entries):
                ids = {nsid: name for name, nsid in sock.nsids(_names()).items()}
        finally:
            sock.close()
    except (OSError, ValueError) as err:  # KernelError is an OSError
        raise Slow from err
    return link_text(entries, ids, as_json=as_json, brief=brief, oneline=oneline)


def _names() -> list[str]:
    """``netns.list()``."""
    try:
        return sorted(os.listdir(_RUN_DIR))
    except FileNotFoundError:
        return []


def nsids(netns: Optional[str], names: list[str]) -> dict[str, int]:
    """``netns.nsids(Handle(netns), names)``: name -> the id the namespace of
    ``netns`` (None: ours) gives it. Slow as ``show_links``."""
    try:
        sock = socket_in(netns)
        try:
            return sock.nsids(names)
        finally:
            sock.close()
    except (OSError, ValueError) as err:
        raise Slow from err
