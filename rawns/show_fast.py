"""Big route tables printed straight from a dump's bytes: ``ip route show``'s text and ``-j`` in one pass.

``ip route show`` of 20,000 routes through the model path makes a ``Route``,
then its ``to_json()`` dict, then the text, for every route: most of the
command's time. :func:`route_printer` returns a reader (as
``Handle.route_dump`` takes) that goes from a reply's bytes to its printed
form directly, with no model object and no dict.

How: the routes of a table come in a few *shapes* (the same attributes, in
the same order, of the same sizes). The first reply of a shape is walked
attribute by attribute; if the shape is a common one, a function is
generated for it (``exec``, on first use, never at import): one
``struct.unpack_from`` reads the whole reply, the attribute headers are
checked against the shape, and one f-string prints it. Replies of that
length are tried against the shapes already made before any walk.

Invariants:
- The output is byte for byte what the model path prints
  (``convert.read_route`` -> ``Route.to_json`` -> ``show.route_lines`` or
  ``show.json_text``); ``tests/test_show_fast.py`` holds the two equal on
  real dumps of varied routes and on hypothesis-made hostile bytes.
- Only common shapes are generated: a route with a destination, gateway,
  device, table, protocol, scope, source, metric and IPv6 preference (and a
  cache info with nothing to print), each attribute once and of its usual
  size, the attributes filling the message exactly. Anything else (next
  hops, metrics, marks, flags, a cached route, an odd length, a repeated or
  unknown attribute, host bits in a prefix, a broken message) is handed to
  the model path, which has the last word, its DecodeError included.
- Bounded: at most ``_SHAPES`` shapes per printer; past that, the model path.
- Pure: bytes in, strings out.
"""

from __future__ import annotations

import struct
from _socket import AF_INET, AF_INET6, inet_ntop  # socket's, without its enum classes

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Optional

    from rawns.netlink import Frame

__all__ = ["route_printer", "RoutePrinter", "ROUTE_TYPE_NAMES", "PROTOCOL_NAMES", "SCOPE_NAMES",
           "TABLE_NAMES", "IPV6_PREF_NAMES", "RTM_NEWROUTE", "RTMSG", "NLA_HEADER"]

# The protocol's numbers and ``convert``'s names as literals: the lean
# ``route show`` (rawns.route_fast) imports neither rawns.netlink nor convert.
# tests/test_show_fast.py checks each against its source.
RTM_NEWROUTE = 24
RTMSG = struct.Struct("=BBBBBBBBI")   # netlink.structs.RtMsg.STRUCT
NLA_HEADER = struct.Struct("=HH")     # netlink.attrs.NLA_HEADER
SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
PROTOCOL_NAMES = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static",
                  8: "gated", 9: "ra", 10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted",
                  14: "xorp", 15: "ntk", 16: "dhcp", 17: "mrouted", 18: "keepalived",
                  42: "babel", 99: "openr", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip",
                  192: "eigrp"}
TABLE_NAMES = {254: "main", 255: "local", 253: "default"}
ROUTE_TYPE_NAMES = {0: "unspec", 1: "unicast", 2: "local", 3: "broadcast", 4: "anycast",
                    5: "multicast", 6: "blackhole", 7: "unreachable", 8: "prohibit",
                    9: "throw", 10: "nat", 11: "xresolve"}
IPV6_PREF_NAMES = {0: "medium", 1: "high", 3: "low"}

_NEWROUTE = RTM_NEWROUTE
_NEWROUTE_TYPE = RTM_NEWROUTE.to_bytes(2, "little")
_NLMSG_DONE = 3
_NLM_F_DUMP_INTR = 0x10
_HDR = struct.Struct("=IHHII")  # nlmsghdr
_RTMSG = RTMSG
_NLA = NLA_HEADER
_SIZES = {int(AF_INET): 4, int(AF_INET6): 16}

# RTA_*
_DST = 1
_OIF = 4
_GATEWAY = 5
_PRIORITY = 6
_PREFSRC = 7
_CACHEINFO = 12
_TABLE = 15
_PREF = 20

#: The attributes a shape may hold: payload size (None: the family's
#: address size) and how the shape's struct reads it (one value each).
_READS: dict[int, tuple[Optional[int], str]] = {
    _TABLE: (4, "I"), _OIF: (4, "I"), _PRIORITY: (4, "I"),
    _DST: (None, "s"), _GATEWAY: (None, "s"), _PREFSRC: (None, "s"),
    _PREF: (1, "B3x"),
    _CACHEINFO: (32, "8xi20x"),  # rta_expires only: a shape prints none (checked)
}

_MAIN = 254       # RT_TABLE_MAIN
_UNICAST = 1      # RTN_UNICAST
_BOOT = 3         # RTPROT_BOOT, which ip does not print
_UNUSUAL_FLAGS = 0x2FF  # RTNH_F_* (printed as flags) and RTM_F_CLONED (a cached route)
_SHAPES = 64      # shapes generated per printer, at most
_PRESCAN_KEYS = 16  # messages walked by a first datagram's prescan, at most
_OCTETS = [str(n) for n in range(256)]
_HOSTS = [(1 << (32 - n)) - 1 for n in range(33)]  # an IPv4 prefix length's host bits

_TEXTS_LIMIT = 4096  # addresses kept as text per listing (gateways and sources repeat)
_PARTS_LIMIT = 1024  # table and device parts kept per listing


class _Parts(dict):  # type: ignore[type-arg]  # dict[Any, str], subclassed for __missing__
    """A cache that ``make`` fills on a miss: ``parts[key]`` is one lookup in
    C when the key is known (``get(key) or make(key)`` would call ``make``
    for every key whose part is empty, as the main table's is)."""

    def __init__(self, make: Callable[[Any], str], limit: int) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, key: Any) -> str:
        text = self.make(key)
        if len(self) >= self.limit:
            self.clear()
        self[key] = text
        return text


def _text(packed: bytes) -> str:
    """The address ``packed`` as ip writes it (inet_ntop; ``model.ip_text``)."""
    return inet_ntop(AF_INET if len(packed) == 4 else AF_INET6, packed)


def _name(table: dict[int, str], number: int) -> str:
    """``convert._lookup``: a number's name, or the number as text."""
    found = table.get(number)
    return str(number) if found is None else found


class _Slow(Exception):
    """The reply is not of a common shape: the model path prints it."""


_MISS = object()   # a generated reader's answer: not my shape
_SLOW = object()   # ... my shape, but a value the model path must print


def _shape(data: bytes, body: int, end: int) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The family and ``(type, nla_len)`` of each attribute of the reply
    whose rtmsg is at ``body``, if it is a common shape; else _Slow."""
    if end - body < 12:
        raise _Slow
    family, _, src_len, tos, _, _, _, _, flags = _RTMSG.unpack_from(data, body)
    size = _SIZES.get(family)
    if size is None or src_len or tos or flags & _UNUSUAL_FLAGS:
        raise _Slow
    attrs = []
    seen = 0
    at = body + 12
    while at < end:
        if end - at < 4:
            raise _Slow
        length, kind = _NLA.unpack_from(data, at)
        stop = at + length
        read = _READS.get(kind)
        if length < 4 or stop > end or read is None or seen >> kind & 1:
            raise _Slow
        if length - 4 != (read[0] or size) or (stop & 3 and stop + (-stop & 3) > end):
            raise _Slow  # an odd size; or the last attribute's padding missing
        seen |= 1 << kind
        attrs.append((kind, length))
        at = (stop + 3) & ~3
    if at != end:
        raise _Slow
    return family, tuple(attrs)


class RoutePrinter:
    """One listing's readers by shape, and the parts of its lines that
    depend on a header field only, made once per value."""

    def __init__(self, names: dict[int, str], *, as_json: bool, show_table: bool,
                 details: bool, oneline: bool, table: Optional[int], family: int,
                 fallback: Optional[Callable[[bytes, Frame], Optional[str]]]) -> None:
        self.names = names
        self.fallback = fallback
        self.as_json = as_json
        self.show_table = show_table
        self.details = details
        self.oneline = oneline
        self.table = table
        self.family = family
        self.by_length: dict[int, list[Callable[[bytes, int], Any]]] = {}
        self.shapes = 0
        self.codes: list[tuple[int, _Code]] = []  # (message length, code) of each shape
        self.count = [0]  # shapes made
        self.loop_count = -1
        self.texts = _Parts(_text, _TEXTS_LIMIT)
        self.devices = _Parts(self.device, _PARTS_LIMIT)
        self.tables = _Parts(self.table_part, _PARTS_LIMIT)
        # Parts by a header byte's value: what the route's type, protocol and
        # scope print ("" when ip leaves them out).
        if as_json:
            self.types = ["" if number == _UNICAST and not details else
                          f'"type":"{_name(ROUTE_TYPE_NAMES, number)}",'
                          for number in range(256)]
            self.protocols = ["" if number == _BOOT and not details else
                              f',"protocol":"{_name(PROTOCOL_NAMES, number)}"'
                              for number in range(256)]
            self.scopes = ["" if number == 0 and not details else
                           f',"scope":"{_name(SCOPE_NAMES, number)}"'
                           for number in range(256)]
            self.prefs = [f',"pref":"{_name(IPV6_PREF_NAMES, number)}"'
                          for number in range(256)]
        else:
            self.types = ["" if number == _UNICAST and not details else
                          f"{_name(ROUTE_TYPE_NAMES, number)} "
                          for number in range(256)]
            self.protocols = ["" if number == _BOOT and not details else
                              f"proto {_name(PROTOCOL_NAMES, number)} "
                              for number in range(256)]
            self.scopes = ["" if number == 0 and not details else
                           f"scope {_name(SCOPE_NAMES, number)} "
                           for number in range(256)]
            self.prefs = [f"pref {_name(IPV6_PREF_NAMES, number)}"
                          for number in range(256)]
        self.loop: Optional[Callable[[bytes, int, int, int, list[str]], int]] = None

    def device(self, oif: int) -> str:
        name = self.names.get(oif, f"if{oif}")
        if self.as_json:
            from rawns.link_fast import json_text  # json.dumps, without json and re

            name = json_text(name)
        return name

    def table_part(self, number: int) -> str:
        if not self.show_table or (number == _MAIN and not self.details):
            return ""
        if self.as_json:
            return f',"table":"{_name(TABLE_NAMES, number)}"'
        return f"table {_name(TABLE_NAMES, number)} "

    def slow(self, data: bytes, frame: Frame) -> Optional[str]:
        if self.fallback is not None:
            return self.fallback(data, frame)
        from rawns import convert, show  # the model path: a route of an uncommon shape

        route = convert.read_route(data, frame)
        if (route is None or (self.table is not None and route.table != self.table)
                or (self.family and route.family != self.family)):
            return None
        entry = route.to_json(self.names, show_table=self.show_table, details=self.details)
        if self.as_json:
            return show.json_text(entry)
        return "\n".join(show.route_lines(entry, locked=route.locked, oneline=self.oneline))

    def read(self, data: bytes, frame: Frame) -> Optional[str]:
        if frame[2] != _NEWROUTE:
            return None
        pos, end = frame[0], frame[1]
        length = end - pos
        readers = self.by_length.get(length)
        if readers is not None:
            for reader in readers:
                line = reader(data, pos + 16)
                if line is not _MISS:
                    return self.slow(data, frame) if line is _SLOW else line
        if self.shapes >= _SHAPES:
            return self.slow(data, frame)
        try:
            family, attrs = _shape(data, pos + 16, end)
        except _Slow:
            return self.slow(data, frame)
        reader = self.generate(family, attrs, length)
        self.by_length.setdefault(length, []).append(reader)
        self.shapes += 1
        line = reader(data, pos + 16)
        return self.slow(data, frame) if line is _SLOW or line is _MISS else line

    def read_datagram(self, data: bytes, seq: int, port: int, out: list[str]
                      ) -> Optional[bool]:
        """Append to ``out`` the lines of the routes in one datagram of a
        dump (answers to ``seq`` on port ``port``), as ``read`` prints them.
        True: it ended with a plain NLMSG_DONE; False: more to come; None:
        it holds what this reader does not vouch for (another message, an
        error, an interrupted dump, a broken or foreign header), and ``out``
        is then incomplete. The lean path's loop: every shape inlined."""
        # Shapes made in this datagram are inlined from the next one on:
        # a loop compiled per new shape would cost more than it saves.
        loop = self.loop
        if loop is None or self.loop_count != self.count[0]:
            if not self.codes:
                self.prescan(data)
            loop = self.make_loop()
        status = loop(data, 0, seq, port, out)
        return None if status == -3 else status == -2

    def generate(self, family: int, attrs: tuple[tuple[int, int], ...], length: int
                 ) -> Callable[[bytes, int], Any]:
        """The reader of one shape: ``read(data, body)`` -> the route's line,
        None (another table or family), _MISS (another shape) or _SLOW;
        the shape is kept for the datagram loop (``make_loop``) too."""
        code = self.shape_code(family, attrs, body=True)
        self.codes.append((length, self.shape_code(family, attrs, body=False)))
        self.count[0] += 1
        lines = [f"    ({code.fields}) = unpack(data, body)",
                 f"    if {' or '.join(code.miss)}:",
                 "        return MISS",
                 f"    if {' or '.join(code.slow)}:",
                 "        return SLOW"]
        lines += ["    " + line for line in code.before]
        if code.keep != "True":
            lines.append(f"    if not ({code.keep}):")
            lines.append("        return None")
        lines.append("    return " + code.line)
        source = "def read(data, body):\n" + "\n".join(lines) + "\n"
        namespace = self.namespace()
        namespace["unpack"] = struct.Struct(code.fmt).unpack_from
        exec(compile(source, f"<route printer of shape {attrs}>", "exec"), namespace)
        made: Callable[[bytes, int], Any] = namespace["read"]
        return made

    def namespace(self) -> dict[str, Any]:
        return {
            "MISS": _MISS, "SLOW": _SLOW, "ntop": inet_ntop, "AF_INET": AF_INET,
            "AF_INET6": AF_INET6, "from_bytes": int.from_bytes, "octets": _OCTETS,
            "hosts": _HOSTS, "lengths4": [f"/{n}" for n in range(32)] + [""],
            "lengths6": [f"/{n}" for n in range(128)] + [""],
            "texts": self.texts, "types": self.types,
            "protocols": self.protocols, "scopes": self.scopes, "prefs": self.prefs,
            "devices": self.devices, "tables": self.tables,
        }

    def shape_code(self, family: int, attrs: tuple[tuple[int, int], ...], *, body: bool
                   ) -> _Code:
        """The pieces of the code that prints a route of one shape, its
        message read from the rtmsg (``body``) or from the nlmsghdr."""
        size = _SIZES[family]
        bits = size * 8
        fmt = "=BBBBBBBBI"
        fields = ["family, dst_len, src_len, tos, rt_table, protocol, scope, rt_type, flags"]
        headers = []
        value: dict[int, str] = {}
        # An IPv4 destination is read as its four bytes, printed from ready
        # strings: twice as fast as inet_ntop, and a table's prefixes are unique.
        v4_dst = family == int(AF_INET) and any(kind == _DST for kind, _ in attrs)
        for index, (kind, length) in enumerate(attrs):
            read = _READS[kind][1]
            # The attribute's header read as one u32: one comparison checks both fields.
            if kind == _DST and v4_dst:
                fmt += "I4B"
                fields.append(f"h{index}, d0, d1, d2, d3")
            else:
                fmt += "I" + (f"{size}s" if read == "s" else read)
                fields.append(f"h{index}, v{index}")
            word = struct.unpack("=I", _NLA.pack(length, kind))[0]
            headers.append(f"h{index} != {word}")
            value[kind] = f"v{index}"
        if not body:  # the nlmsghdr as two u64: (len, type, flags) and (seq, pid)
            fmt = "=QQ" + fmt[1:]
            fields.insert(0, "q1, q2")
        miss = headers + [f"family != {family}"]
        slow = ["src_len", "tos", f"flags & {_UNUSUAL_FLAGS}"]
        if _CACHEINFO in value:
            slow.append(value[_CACHEINFO])  # rta_expires: to print
        before = []
        if v4_dst:
            slow.append("not dst_len or dst_len > 32 or dst_len != 32 and "
                        "(d0 << 24 | d1 << 16 | d2 << 8 | d3) & hosts[dst_len]")
            dst_part = "{octets[d0]}.{octets[d1]}.{octets[d2]}.{octets[d3]}{lengths4[dst_len]}"
        elif _DST in value:
            dst = value[_DST]
            slow.append(f"not dst_len or dst_len > {bits} or (dst_len != {bits} and "
                        f"from_bytes({dst}, 'big') & ((1 << ({bits} - dst_len)) - 1))")
            before.append(f"dst = ntop({'AF_INET' if size == 4 else 'AF_INET6'}, {dst})")
            dst_part = "{dst}{lengths%d[dst_len]}" % (4 if size == 4 else 6)
        else:
            slow.append("dst_len")
            dst_part = "default"
        # Filtered only after the checks: the model path refuses a bad prefix
        # before it filters.
        table = value.get(_TABLE, "rt_table")
        keep = "True"
        if self.family and self.family != family:
            keep = "False"
        elif self.table is not None:
            keep = f"{table} == {self.table}"
        text = "texts[{v}]".format
        parts = []
        if self.as_json:
            parts.append('{{{types[rt_type]}"dst":"%s"' % dst_part)
            if _GATEWAY in value:
                parts.append(',"gateway":"{%s}"' % text(v=value[_GATEWAY]))
            if _OIF in value:
                parts.append(',"dev":{devices[%s]}' % value[_OIF])
            if self.show_table:  # else the part is always empty
                parts.append("{tables[%s]}" % table)
            parts.append("{protocols[protocol]}{scopes[scope]}")
            if _PREFSRC in value:
                parts.append(',"prefsrc":"{%s}"' % text(v=value[_PREFSRC]))
            if _PRIORITY in value:
                parts.append(',"metric":{%s}' % value[_PRIORITY])
            parts.append(',"flags":[]')
            if _PREF in value:
                parts.append("{prefs[%s]}" % value[_PREF])
            parts.append("}}")
        else:
            parts.append("{types[rt_type]}%s " % dst_part)
            if _GATEWAY in value:
                parts.append("via {%s} " % text(v=value[_GATEWAY]))
            if _OIF in value:
                parts.append("dev {devices[%s]} " % value[_OIF])
            if self.show_table:  # else the part is always empty
                parts.append("{tables[%s]}" % table)
            parts.append("{protocols[protocol]}{scopes[scope]}")
            if _PREFSRC in value:
                parts.append("src {%s} " % text(v=value[_PREFSRC]))
            if _PRIORITY in value:
                parts.append("metric {%s} " % value[_PRIORITY])
            if _PREF in value:
                parts.append("{prefs[%s]}" % value[_PREF])
        return _Code(fmt, ", ".join(fields), miss, slow, before, keep,
                     "f" + repr("".join(parts)))

    def make_loop(self) -> Callable[[bytes, int, int, int, list[str]], int]:
        """The datagram loop of the shapes made so far, each inlined, its
        message read with its nlmsghdr in one unpack: ``loop(data, pos, seq,
        port, out)`` -> -1 (the datagram is read), -2 (a plain NLMSG_DONE
        ended it) or -3 (something ``read_datagram`` does not vouch for).
        A message of no inlined shape goes through ``step``."""
        by_length: dict[int, list[tuple[str, _Code]]] = {}
        namespace = self.namespace()
        for number, (length, code) in enumerate(self.codes):
            name = f"unpack{number}"
            namespace[name] = struct.Struct(code.fmt).unpack_from
            by_length.setdefault(length, []).append((name, code))
        by_low: dict[int, list[tuple[int, str, _Code]]] = {}
        for length, codes in by_length.items():
            by_low.setdefault(length & 0xFF, []).extend(
                (length, name, code) for name, code in codes)
        lines = ["def loop(data, pos, seq, port, out):",
                 "    append = out.append",
                 "    size = len(data)",
                 "    ours = seq | port << 32",  # the nlmsghdr's second u64
                 "    while pos < size:",
                 "        low = data[pos]"]  # nlmsg_len's low byte: which shapes to try
        # nlmsghdr's first u64 under this mask: nlmsg_len, nlmsg_type and
        # NLM_F_DUMP_INTR (the other flags vary: NLM_F_MULTI, ..._DUMP_FILTERED).
        mask = 0xFFFFFFFF | 0xFFFF << 32 | _NLM_F_DUMP_INTR << 48
        branch = "if"
        for low, shapes in by_low.items():
            lines.append(f"        {branch} low == {low}:")
            branch = "elif"
            for length, name, code in shapes:
                ok = ([f"q1 & {mask} == {length | _NEWROUTE << 32}", "q2 == ours"]
                      + [f"not {cond}" if " != " not in cond else cond.replace(" != ", " == ")
                         for cond in code.miss]
                      + [f"not ({' or '.join(code.slow)})"])
                lines.append(f"            if size - pos >= {length}:")
                lines.append(f"                ({code.fields}) = {name}(data, pos)")
                lines.append(f"                if {' and '.join(ok)}:")
                indent = "                    "
                lines += [indent + line for line in code.before]
                if code.keep != "False":
                    if code.keep != "True":
                        lines.append(f"{indent}if {code.keep}:")
                        lines.append(f"{indent}    append({code.line})")
                    else:
                        lines.append(f"{indent}append({code.line})")
                lines.append(f"{indent}pos += {(length + 3) & ~3}")
                lines.append(f"{indent}continue")
        lines += ["        pos = step(data, pos, seq, port, out)",
                  "        if pos < 0:",
                  "            return pos",
                  "    return -1"]
        namespace["step"] = self.step
        exec(compile("\n".join(lines) + "\n", "<route printer loop>", "exec"), namespace)
        made: Callable[[bytes, int, int, int, list[str]], int] = namespace["loop"]
        self.loop = made
        self.loop_count = self.count[0]
        return made

    def prescan(self, data: bytes) -> None:
        """Make the shapes of a first datagram's routes before its loop: one
        message of each key (below) is walked, and its
        shape, if common, goes straight into the loop (no reader compiled, no
        route printed the slow way). A message the key misjudges fails its
        branch's checks in the loop and goes through ``step``."""
        seen: set[bytes] = set()
        pos, size = 0, len(data)
        while size - pos >= 32 and self.shapes < _SHAPES and len(seen) < _PRESCAN_KEYS:
            length = int.from_bytes(data[pos:pos + 4], "little")
            if length < 32 or length > size - pos:
                return
            # length, type, family and every 8th byte from the first nla_type
            # on: an IPv4 route's attributes are 8 bytes each, so its types.
            key = data[pos:pos + 6] + data[pos + 16:pos + 17] + data[pos + 30:pos + length:8]
            if key not in seen and data[pos + 4:pos + 6] == _NEWROUTE_TYPE:
                seen.add(key)
                try:
                    family, attrs = _shape(data, pos + 16, pos + length)
                except _Slow:
                    pass
                else:
                    self.codes.append((length, self.shape_code(family, attrs, body=False)))
                    self.count[0] += 1
                    self.shapes += 1
            pos += (length + 3) & ~3

    def step(self, data: bytes, pos: int, seq: int, port: int, out: list[str]) -> int:
        """One message the loop has no shape for: its next position, -2 (a
        plain NLMSG_DONE ended the datagram) or -3 (not vouched for)."""
        size = len(data)
        if size - pos < 16:
            return -3
        length, mtype, flags, mseq, mpid = _HDR.unpack_from(data, pos)
        end = pos + length
        if length < 16 or end > size or mseq != seq or mpid != port or (
                flags & _NLM_F_DUMP_INTR):
            return -3
        if mtype != _NEWROUTE:
            if mtype != _NLMSG_DONE or length != 20 or data[pos + 16:end] != bytes(4) or (
                    (end + 3) & ~3) < size:
                return -3  # an error, extack TLVs or more after it: the reference's
            return -2
        line = self.read(data, (pos, end, mtype, flags, mseq, mpid))
        if line is not None:
            out.append(line)
        after: int = (end + 3) & ~3
        return after


class _Code:
    """The pieces of a shape's printing code (``RoutePrinter.shape_code``):
    the struct format and the names it unpacks to, the conditions of another
    shape (``miss``) and of a route the model path prints (``slow``), the
    statements before the line, the condition of a route of the listing's
    table and family (``keep``), and the line's f-string."""

    __slots__ = ("fmt", "fields", "miss", "slow", "before", "keep", "line")

    def __init__(self, fmt: str, fields: str, miss: list[str], slow: list[str],
                 before: list[str], keep: str, line: str) -> None:
        self.fmt = fmt
        self.fields = fields
        self.miss = miss
        self.slow = slow
        self.before = before
        self.keep = keep
        self.line = line


def route_printer(names: dict[int, str], *, as_json: bool, show_table: bool,
                  details: bool = False, oneline: bool = False,
                  table: Optional[int] = None, family: int = 0,
                  fallback: Optional[Callable[[bytes, Frame], Optional[str]]] = None
                  ) -> Callable[[bytes, Frame], Optional[str]]:
    """A reader for ``Handle.route_dump``: each RTM_NEWROUTE reply of
    ``table`` (None: any) and ``family`` (0: any) as ``ip route show`` prints
    it, without its newline: one ``-j`` object (``as_json``; join them with
    commas inside brackets) or the route's text lines joined with newlines
    (``oneline``: ``ip -o``). ``names`` maps ifindex -> name
    (``show.index_names``); ``show_table`` and ``details`` are
    ``Route.to_json``'s. Other replies, and routes of other tables or
    families, give None. Raises DecodeError for a malformed reply, as
    ``convert.read_route`` does. ``fallback`` (default: the model path)
    is called instead of the model path for a reply of no common shape,
    and its answer taken; it may raise (the lean path's ``Slow``)."""
    return RoutePrinter(names, as_json=as_json, show_table=show_table, details=details,
                    oneline=oneline, table=table, family=family, fallback=fallback).read
