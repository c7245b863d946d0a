# Invariants:
# - A codec turns one attribute payload into a Python value and back; it has
#   no idea which attribute it serves (tables decide that).
# - decode(buf, start, end, ctx, siblings) reads only buf[start:end].  It
#   raises Unfit when the payload has an unexpected shape (the walker then
#   keeps the bytes), DecodeError only for broken framing inside nested
#   payloads, and returns Keep(value, raw) when value would not re-encode to
#   exactly these bytes.
# - encode(value, ctx, siblings) returns the payload bytes or raises
#   EncodeError (a ValueError); decode(encode(v)) == v for every valid v.
# - render(value) is the short text the explain view shows.
# - Standard library and rawns.errors only.
"""Codecs: how each kind of attribute payload reads and writes.

Scalars (u8 ... u64, s32, be16, be32, the variable ``uint``), strings
(NUL-terminated), raw bytes, flags (empty payload), IP addresses (fixed or
chosen by the fixed header's family), link-layer addresses as
``"aa:bb:cc:dd:ee:ff"``, C structs, nested attribute tables, a fixed header
followed by attributes (VETH_INFO_PEER), tables chosen by a sibling
(IFLA_INFO_DATA by IFLA_INFO_KIND) and the RTA_MULTIPATH array.
"""

from __future__ import annotations

import ipaddress
import struct

from rawns.errors import DecodeError, EncodeError

from .attrs import Attr, AttrList, AttrTable, Ctx, Keep, TraceEntry, Unfit, align4, \
    decode_attrs, encode_attrs, encode_attrs_into
from .constants import ADDRESS_SIZE_BY_FAMILY, AF, NLA_TYPE_MASK, RTNH_F, KernelEnum, \
    KernelFlag, as_flag, as_member, enum_name, enum_text, flag_text
from .structs import CStruct, RtNextHop

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Callable, Sequence

__all__ = [
    "Codec", "Int", "UInt", "String", "Bytes", "Flag", "HwAddr", "IPAddr", "Struct",
    "Nested", "NestedMessage", "ByKind", "Multipath", "BridgeId", "PortRange", "Via",
    "U8", "U16", "U32", "U64", "S8", "S16", "S32", "S64", "BE16", "BE32", "UINT",
    "STRING", "BYTES", "FLAG", "HWADDR", "IPV4", "IPV6", "IP_BY_FAMILY",
    "render_value", "parse_hwaddr", "address_from_bytes",
]

_IPV4 = ipaddress.IPv4Address
_IPV6 = ipaddress.IPv6Address



def _ip_value(value: Any, wants: str) -> Any:
    """An ``ipaddress`` address from one or its text; EncodeError otherwise."""
    if isinstance(value, str):
        try:
            value = ipaddress.ip_address(value)
        except ValueError as err:
            raise EncodeError(str(err)) from err
    if not isinstance(value, (_IPV4, _IPV6)):
        raise EncodeError(f"{wants}, got {value!r}")
    return value


class Codec:
    """Base class; see the module comment for the contract."""

    kind = "bytes"
    sets_nested_flag = False  # whether make_attr sets NLA_F_NESTED in the type

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        return buf[start:end]

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise EncodeError(f"{self.kind} wants bytes, got {type(value).__name__}")

    def render(self, value: Any) -> str:
        return render_value(value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}>"


class Int(Codec):
    """A fixed-size integer; optionally read as a kernel enum or flag class."""

    def __init__(self, fmt: str, kind: str,
                 names: type[KernelEnum] | type[KernelFlag] | None = None) -> None:
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size
        self.kind = kind if names is None else f"{kind} {names.__name__}"
        self.names = names

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        if end - start != self.size:
            raise Unfit(f"{self.kind} needs {self.size} bytes, payload has {end - start}")
        value = self.struct.unpack_from(buf, start)[0]
        return value if self.names is None else as_member(self.names, value)

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EncodeError(f"{self.kind} wants an int, got {value!r}")
        try:
            return self.struct.pack(value)
        except struct.error as err:
            raise EncodeError(f"{value} out of range for {self.kind}") from err

    def render(self, value: Any) -> str:
        if self.names is not None and isinstance(value, int):
            if issubclass(self.names, KernelFlag):
                return flag_text(self.names, value)
            return enum_text(self.names, value)
        return render_value(value)


class UInt(Codec):
    """The kernel's variable ``uint``/``sint``: 4 bytes, or 8 when it does not fit."""

    kind = "uint"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        size = end - start
        if size == 4:
            return struct.unpack_from("=I", buf, start)[0]
        if size == 8:
            value = struct.unpack_from("=Q", buf, start)[0]
            return value if value > 0xFFFFFFFF else Keep(value, buf[start:end])
        raise Unfit(f"uint needs 4 or 8 bytes, payload has {size}")

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
            raise EncodeError(f"uint wants an int in [0, 2**64), got {value!r}")
        return struct.pack("=I" if value <= 0xFFFFFFFF else "=Q", value)


class String(Codec):
    """A NUL-terminated string (``nla_put_string``), decoded UTF-8.

    Bytes that are not UTF-8 survive as surrogate escapes.  A payload with no
    NUL, or with bytes after the first NUL, keeps its exact bytes (Keep).
    ``max_length`` bounds the encoded length without the NUL (IFNAMSIZ - 1).
    """

    kind = "string"

    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max_length

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        nul = buf.find(b"\0", start, end)
        if nul == end - 1:
            return buf[start:nul].decode("utf-8", "surrogateescape")
        if nul < 0:
            return Keep(buf[start:end].decode("utf-8", "surrogateescape"), buf[start:end])
        return Keep(buf[start:nul].decode("utf-8", "surrogateescape"), buf[start:end])

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if not isinstance(value, str):
            raise EncodeError(f"string wants str, got {type(value).__name__}")
        try:
            data = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as err:
            raise EncodeError(f"{value!r} cannot be encoded: {err}") from err
        if b"\0" in data:
            raise EncodeError(f"{value!r} contains a NUL byte")
        if self.max_length is not None and len(data) > self.max_length:
            raise EncodeError(f"{value!r} is {len(data)} bytes long, more than "
                              f"{self.max_length}")
        return data + b"\0"

    def render(self, value: Any) -> str:
        return repr(value)


class Bytes(Codec):
    """An opaque payload, kept as bytes."""

    kind = "bytes"


class Flag(Codec):
    """A flag attribute: present means True, the payload is empty."""

    kind = "flag"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        if end != start:
            raise Unfit(f"a flag has no payload, this one has {end - start} bytes")
        return True

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if value is not True:
            raise EncodeError(f"a flag attribute's value is True (omit it for False), "
                              f"got {value!r}")
        return b""


def parse_hwaddr(text: str) -> bytes:
    """``"aa:bb:cc:dd:ee:ff"`` (any number of octets, 2 hex digits each) -> bytes."""
    if not isinstance(text, str):
        raise EncodeError(f"a link-layer address is a string like 'aa:bb:cc:dd:ee:ff', "
                          f"got {text!r}")
    if text == "":
        return b""
    parts = text.split(":")
    if not all(len(part) == 2 for part in parts):
        raise EncodeError(f"{text!r} is not a link-layer address like 'aa:bb:cc:dd:ee:ff'")
    try:
        return bytes(int(part, 16) for part in parts)
    except ValueError as err:
        raise EncodeError(f"{text!r} is not a link-layer address: {err}") from err


class HwAddr(Codec):
    """A link-layer address as lowercase ``"aa:bb:cc:dd:ee:ff"`` (any length)."""

    kind = "lladdr"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        return buf[start:end].hex(":")

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        return parse_hwaddr(value)

    def render(self, value: Any) -> str:
        return value or "''"


class IPAddr(Codec):
    """An IPv4 or IPv6 address as an ``ipaddress`` object.

    ``version`` 4 or 6 fixes the size; None reads the family of the nearest
    fixed header (AF_INET -> 4 bytes, AF_INET6 -> 16).  Other families
    (AF_MPLS, AF_BRIDGE...) keep the bytes.
    """

    def __init__(self, version: int | None = None) -> None:
        self.version = version
        self.kind = f"ipv{version}" if version else "ip (by family)"
        self.size = {4: 4, 6: 16}.get(version or 0)  # None: by the family

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        size = self.size or ADDRESS_SIZE_BY_FAMILY.get(ctx.family)
        if size is None:
            raise Unfit(f"family {enum_name(AF, ctx.family)} has no address codec")
        if end - start != size:
            raise Unfit(f"{end - start} bytes is not an address of {self.kind}")
        return address_from_bytes(buf[start:end])

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        value = _ip_value(value, "wants an IP address")
        want = self.version or {4: 4, 16: 6}.get(ADDRESS_SIZE_BY_FAMILY.get(ctx.family, 0))
        if want is not None and value.version != want:
            raise EncodeError(f"{value} is not an IPv{want} address")
        packed: bytes = value.packed
        return packed

    def render(self, value: Any) -> str:
        return str(value)


def address_from_bytes(packed: bytes) -> _IPV4 | _IPV6:
    """The IPv4Address (4 bytes) or IPv6Address (16 bytes) of ``packed``."""
    return _IPV4(packed) if len(packed) == 4 else _IPV6(packed)


class Struct(Codec):
    """A C struct payload decoded to its dataclass (see :mod:`structs`).

    A payload longer than the struct (a newer kernel added fields) decodes
    the known part; one shorter but at least ``min_size`` is zero-filled.
    Either way the exact bytes are kept for re-encoding.
    """

    def __init__(self, cls: type[CStruct], min_size: int | None = None) -> None:
        self.cls = cls
        self.size = cls.SIZE
        self.min_size = cls.SIZE if min_size is None else min_size
        self.kind = f"struct {cls.C_NAME}"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        size = end - start
        if size == self.size:
            return self.cls.unpack_from(buf, start)
        if size < self.min_size:
            raise Unfit(f"{self.kind} needs {self.size} bytes, payload has {size}")
        padded = (buf[start:end] + bytes(self.size))[:self.size]
        return Keep(self.cls.unpack_from(padded, 0), buf[start:end])

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if not isinstance(value, self.cls):
            raise EncodeError(f"{self.kind} wants {self.cls.__name__}, got {value!r}")
        return value.pack()

    def render(self, value: Any) -> str:
        if not isinstance(value, CStruct):
            return render_value(value)
        items = value.to_dict()
        shown = {k: v for k, v in items.items() if v}
        text = " ".join(f"{k}={v}" for k, v in shown.items())
        hidden = len(items) - len(shown)
        if hidden:
            text += f"{' ' if text else ''}({hidden} fields are 0)"
        return text


class _LazyTable:
    """For codecs whose table may be given as a zero-argument callable, for
    tables defined later (nested ones refer to each other): called once, on
    first use."""

    _table: AttrTable | Callable[[], AttrTable]

    @property
    def table(self) -> AttrTable:
        if callable(self._table):
            self._table = self._table()
        return self._table


class Nested(_LazyTable, Codec):
    """A payload that is itself a list of attributes, read with ``table``.

    ``table`` may be a zero-argument callable, for tables defined later.
    """

    sets_nested_flag = True

    def __init__(self, table: AttrTable | Callable[[], AttrTable]) -> None:
        self._table = table

    @property
    def kind(self) -> str:  # type: ignore[override]  # a class attribute elsewhere
        return f"nested {self.table.name}"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        return decode_attrs(buf, start, end, self.table, ctx.nested())

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if not isinstance(value, (list, tuple)):
            raise EncodeError(f"nested {self.table.name} wants a list of Attr, got {value!r}")
        return encode_attrs(value, self.table, ctx)

    def render(self, value: Any) -> str:
        return f"{len(value)} attribute(s)" if isinstance(value, tuple) else render_value(value)


class NestedMessage(_LazyTable, Codec):
    """A fixed header then attributes, like a message body (VETH_INFO_PEER)."""

    def __init__(self, header: type[CStruct], table: AttrTable | Callable[[], AttrTable],
                 make: Callable[..., Any]) -> None:
        self.header = header
        self._table = table
        self._make = make  # builds the value: make(header=..., attrs=...)
        self.kind = f"{header.C_NAME} + attributes"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        size = self.header.SIZE
        if end - start < size:
            raise Unfit(f"shorter than its {self.header.C_NAME} ({size} bytes)")
        header = self.header.unpack_from(buf, start)
        inner = ctx.nested(getattr(header, "family", ctx.family))
        if inner.trace is not None:
            entry = TraceEntry("header", inner.depth, start, size, name=self.header.C_NAME)
            entry.value = header
            entry.raw = buf[start:start + size]
            inner.trace.append(entry)
        attrs_start = start + align4(size)
        attrs = decode_attrs(buf, min(attrs_start, end), end, self.table, inner)
        return self._make(header=header, attrs=attrs)

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        header = getattr(value, "header", None)
        attrs = getattr(value, "attrs", None)
        if not isinstance(header, self.header) or attrs is None:
            raise EncodeError(f"wants a NestedMessage with a {self.header.__name__} header, "
                              f"got {value!r}")
        out = bytearray(header.pack())
        out += bytes(align4(len(out)) - len(out))
        encode_attrs_into(out, attrs, self.table, Ctx(getattr(header, "family", ctx.family)))
        return bytes(out)

    def render(self, value: Any) -> str:
        return f"{self.header.C_NAME} + {len(getattr(value, 'attrs', ()))} attribute(s)"


class ByKind(Codec):
    """A nested table chosen by the string value of an earlier sibling.

    IFLA_INFO_DATA reads with the table of its IFLA_INFO_KIND ('veth',
    'bridge', 'vxlan'); a kind without a table keeps the bytes.
    """

    sets_nested_flag = True

    def __init__(self, selector: int, tables: dict[str, Codec], what: str) -> None:
        self.selector = selector
        self.tables = tables
        self.kind = f"{what} (by kind)"

    def choose(self, siblings: Sequence[Attr]) -> Codec | None:
        """The codec of the kind named by the selector sibling, if it has one."""
        for item in siblings:
            if item.type & NLA_TYPE_MASK == self.selector:
                return self.tables.get(item.value) if isinstance(item.value, str) else None
        return None

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        codec = self.choose(siblings)
        if codec is None:
            raise Unfit("no table for this kind")
        return codec.decode(buf, start, end, ctx, siblings)

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        codec = self.choose(siblings)
        if codec is None:
            if siblings or not isinstance(value, (list, tuple)):
                raise EncodeError("no table for this kind: give the data as bytes, "
                                  "after the kind attribute")
            return b""  # checked alone by make_attr; the real encode has siblings
        return codec.encode(value, ctx, siblings)

    def render(self, value: Any) -> str:
        return f"{len(value)} attribute(s)" if isinstance(value, tuple) else render_value(value)


class Multipath(_LazyTable, Codec):
    """RTA_MULTIPATH: an array of ``struct rtnexthop``, each with RTA_* attributes."""

    kind = "rtnexthop array"

    def __init__(self, table: Callable[[], AttrTable]) -> None:
        self._table = table

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        hops = []
        pos = start
        inner = ctx.nested()
        unpack = RtNextHop.STRUCT.unpack_from
        while pos < end:
            if end - pos < 8:
                raise DecodeError(f"{end - pos} stray byte(s) where an 8-byte rtnexthop "
                                  f"should start", pos)
            length, flags, hops_count, ifindex = unpack(buf, pos)
            if length < 8 or pos + length > end:
                raise DecodeError(f"rtnexthop length {length} is below 8 or runs past its "
                                  f"attribute ({end - pos} bytes left)", pos)
            if inner.trace is not None:
                entry = TraceEntry("header", inner.depth, pos, 8, name="rtnexthop")
                entry.value = RtNextHop(flags=flags, hops=hops_count, ifindex=ifindex)
                entry.raw = buf[pos:pos + 8]
                inner.trace.append(entry)
            attrs = decode_attrs(buf, pos + 8, pos + length, self.table, inner)
            hops.append(RtNextHop(flags=as_flag(RTNH_F, flags), hops=hops_count,
                                  ifindex=ifindex, attrs=attrs))
            pos += align4(length)
        return tuple(hops)

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        out = bytearray()
        for hop in value:
            if not isinstance(hop, RtNextHop):
                raise EncodeError(f"RTA_MULTIPATH wants RtNextHop items, got {hop!r}")
            attrs = encode_attrs(hop.attrs, self.table, ctx)
            try:
                out += RtNextHop.STRUCT.pack(8 + len(attrs), hop.flags, hop.hops, hop.ifindex)
            except struct.error as err:
                raise EncodeError(f"bad rtnexthop {hop!r}: {err}") from err
            out += attrs
        return bytes(out)

    def render(self, value: Any) -> str:
        return f"{len(value)} next hop(s)" if isinstance(value, tuple) else render_value(value)


class BridgeId(Codec):
    """``struct ifla_bridge_id``: 2 priority bytes then a MAC -> ``"8000.aa:bb:..."``."""

    kind = "struct ifla_bridge_id"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        if end - start != 8:
            raise Unfit(f"ifla_bridge_id needs 8 bytes, payload has {end - start}")
        return f"{buf[start:start + 2].hex()}.{buf[start + 2:end].hex(':')}"

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        if not isinstance(value, str) or value.count(".") != 1:
            raise EncodeError(f"a bridge id looks like '8000.aa:bb:cc:dd:ee:ff', got {value!r}")
        priority, mac = value.split(".")
        try:
            prio = bytes.fromhex(priority)
        except ValueError as err:
            raise EncodeError(f"bad bridge priority in {value!r}") from err
        address = parse_hwaddr(mac)
        if len(prio) != 2 or len(address) != 6:
            raise EncodeError(f"a bridge id looks like '8000.aa:bb:cc:dd:ee:ff', got {value!r}")
        return prio + address


class PortRange(Codec):
    """``struct ifla_vxlan_port_range``: two big-endian ports -> ``(low, high)``."""

    kind = "struct ifla_vxlan_port_range"
    _STRUCT = struct.Struct("!HH")

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        if end - start != 4:
            raise Unfit(f"a port range needs 4 bytes, payload has {end - start}")
        return self._STRUCT.unpack_from(buf, start)

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        try:
            low, high = value
            return self._STRUCT.pack(low, high)
        except (struct.error, TypeError, ValueError) as err:
            raise EncodeError(f"a port range is (low, high), got {value!r}") from err


class Via(Codec):
    """``struct rtvia`` (RTA_VIA): a family then an address -> ipaddress object."""

    kind = "struct rtvia"

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx, siblings: Sequence[Attr]) -> Any:
        if end - start < 2:
            raise Unfit("rtvia needs at least 2 bytes")
        family = struct.unpack_from("=H", buf, start)[0]
        size = end - start - 2
        if family == AF.AF_INET and size == 4:
            return _IPV4(buf[start + 2:end])
        if family == AF.AF_INET6 and size == 16:
            return _IPV6(buf[start + 2:end])
        raise Unfit(f"rtvia of family {family} with {size} address bytes")

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes:
        value = _ip_value(value, "RTA_VIA wants an IP address")
        family = AF.AF_INET if value.version == 4 else AF.AF_INET6
        packed: bytes = value.packed
        return struct.pack("=H", family) + packed


def render_value(value: Any) -> str:
    """Short text for any decoded value."""
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value)} byte(s)"
    if isinstance(value, KernelFlag):
        return flag_text(type(value), value)
    if isinstance(value, KernelEnum):
        return f"{value.name} ({int(value)})"
    if isinstance(value, AttrList):
        return f"{len(value)} attribute(s)"
    return str(value)


U8 = Int("=B", "u8")
U16 = Int("=H", "u16")
U32 = Int("=I", "u32")
U64 = Int("=Q", "u64")
S8 = Int("=b", "s8")
S16 = Int("=h", "s16")
S32 = Int("=i", "s32")
S64 = Int("=q", "s64")
BE16 = Int("!H", "be16")
BE32 = Int("!I", "be32")
UINT = UInt()
STRING = String()
BYTES = Bytes()
FLAG = Flag()
HWADDR = HwAddr()
IPV4 = IPAddr(4)
IPV6 = IPAddr(6)
IP_BY_FAMILY = IPAddr(None)
