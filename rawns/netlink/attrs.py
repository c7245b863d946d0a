# Invariants:
# - This is the only module that walks or writes attribute (TLV) framing.
#   Every read is bounds-checked against the end of the enclosing container;
#   a framing problem raises DecodeError with the absolute byte offset, never
#   struct.error or IndexError.  Each loop step advances at least 4 bytes, so
#   walking always terminates; nesting is capped at MAX_DEPTH.
# - Attributes keep their exact wire type (NLA_F_NESTED / NLA_F_NET_BYTEORDER
#   bits included); the bits are masked only to look the number up.
# - What the table cannot read stays raw bytes: unknown numbers, payloads that
#   do not fit their codec.  ``encode`` writes raw bytes back verbatim, which
#   is what makes ``encode(decode(b)) == b`` hold.
# - Padding is written as zeros and ignored when read (the kernel zeroes it).
# - This is the reference: plain code, no caches.  rawns.netlink.fast reads
#   the same tables faster and is held equal to it by tests.
# - Standard library and rawns.errors only.
"""Netlink attributes: the TLV primitives, the attribute types and the one walk.

An attribute on the wire (netlink.h, ``struct nlattr``)::

     0                   1                   2                   3
    +-------------------------------+-------------------------------+
    |           nla_len             |N|B|         nla_type          |
    +-------------------------------+-------------------------------+
    |   payload: nla_len - 4 bytes ...                              |
    +---------------------------------------------------------------+
    |   zero padding up to the next multiple of 4 (not in nla_len)  |
    +---------------------------------------------------------------+

    N = NLA_F_NESTED (0x8000): the payload is itself a list of attributes
    B = NLA_F_NET_BYTEORDER (0x4000): the payload is big-endian

The primitives, like libmnl's: :func:`align4` rounds a length up to the
next multiple of 4, :func:`put_attr` appends one attribute, and
:func:`walk_attrs` yields ``(offset, length, type)`` with bounds checks.
Everything else is built from them: :func:`decode_attrs` walks a container
and asks the table's codec for each value; :func:`encode_attrs_into` asks
the codecs for payloads and puts each attribute.  Codecs live in
:mod:`rawns.netlink.codecs`, tables in :mod:`rawns.netlink.tables`.
"""

from __future__ import annotations

import struct

from rawns.errors import DecodeError, EncodeError
from rawns.records import field, record

from .constants import NLA_F_NESTED, NLA_TYPE_MASK

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Iterator, Protocol, Sequence
else:
    Protocol = object  # AttrCodec is a Protocol for type checkers only

__all__ = [
    "Attr", "AttrList", "AttrAccess", "AttrTable", "AttrCodec", "Ctx", "Keep", "Unfit",
    "TraceEntry", "MAX_DEPTH", "NLA_HEADER", "align4", "put_attr", "walk_attrs", "read_attr_header",
    "decode_attrs", "encode_attrs", "encode_attrs_into", "attr_payload",
]

MAX_DEPTH = 16
"""Deepest nesting the decoder follows (rtnetlink itself uses at most ~5)."""

NLA_HEADER = struct.Struct("=HH")
"""``struct nlattr``: nla_len, nla_type."""


# -- primitives ---------------------------------------------------------------

def align4(length: int) -> int:
    """Round ``length`` up to a multiple of 4 (NLA_ALIGN / NLMSG_ALIGN)."""
    return (length + 3) & ~3


def put_attr(out: bytearray, nla_type: int, payload: bytes) -> None:
    """Append one attribute (header, payload, zero padding) to ``out``."""
    length = 4 + len(payload)
    if length > 0xFFFF:
        raise EncodeError(f"attribute type {nla_type}: payload of {len(payload)} bytes "
                          f"does not fit the 16-bit nla_len")
    if not 0 <= nla_type <= 0xFFFF:
        raise EncodeError(f"attribute type {nla_type} does not fit 16 bits")
    out += NLA_HEADER.pack(length, nla_type)
    out += payload
    out += bytes(align4(length) - length)


def read_attr_header(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """``(nla_len, nla_type)`` of the attribute at ``pos``, checked against ``end``.

    DecodeError (with the absolute offset) when fewer than 4 bytes are left,
    when the length is below 4, or when it runs past ``end``.
    """
    if end - pos < 4:
        raise DecodeError(f"{end - pos} stray byte(s) where a 4-byte attribute "
                          f"header should start", pos)
    nla_len, nla_type = NLA_HEADER.unpack_from(buf, pos)
    if nla_len < 4:
        raise DecodeError(f"attribute length {nla_len} is shorter than its "
                          f"4-byte header", pos)
    if pos + nla_len > end:
        raise DecodeError(f"attribute length {nla_len} runs past the end of its "
                          f"container ({end - pos} bytes left)", pos)
    return nla_len, nla_type


def walk_attrs(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Yield ``(offset, nla_len, nla_type)`` for each attribute in ``buf[start:end]``.

    Raises DecodeError (see :func:`read_attr_header`); stray bytes (1..3)
    after the last attribute are an error too.
    """
    pos = start
    while pos < end:
        nla_len, nla_type = read_attr_header(buf, pos, end)
        yield pos, nla_len, nla_type
        pos += align4(nla_len)


# -- what codecs return and receive ------------------------------------------------

class Unfit(Exception):
    """Raised by a codec whose payload it cannot read; the walker keeps bytes.

    Not a DecodeError: the framing is fine, only the content is unexpected
    (a newer kernel may well have widened a field).
    """


class Keep:
    """A decoded value together with the exact payload it came from.

    Codecs return this (rarely) when re-encoding the value would not give the
    same bytes: a string with no NUL or garbage after it, a struct longer or
    shorter than the one we know.  The walker unpacks it into ``Attr.raw``.
    """

    __slots__ = ("value", "raw")

    def __init__(self, value: Any, raw: bytes) -> None:
        self.value = value
        self.raw = raw


class TraceEntry:
    """One line of the explain view, filled while decoding (see Ctx.trace)."""

    __slots__ = ("kind", "depth", "offset", "length", "nla_type", "name", "codec",
                 "value", "raw", "note")

    def __init__(self, kind: str, depth: int, offset: int, length: int,
                 nla_type: int = 0, name: str | None = None, codec: Any = None) -> None:
        self.kind = kind
        self.depth = depth
        self.offset = offset
        self.length = length
        self.nla_type = nla_type
        self.name = name
        self.codec = codec
        self.value: Any = None
        self.raw: bytes = b""
        self.note = ""


class Ctx:
    """What a codec may need besides its own bytes.

    ``family`` is the address family of the nearest fixed header (it decides
    how IFA_ADDRESS, RTA_DST... read); ``depth`` counts nesting; ``trace`` is
    None when decoding, or a list that :mod:`explain` fills with one entry per
    header and attribute, in wire order.
    """

    __slots__ = ("family", "depth", "trace")

    def __init__(self, family: int = 0, depth: int = 0,
                 trace: list[TraceEntry] | None = None) -> None:
        self.family = family
        self.depth = depth
        self.trace = trace

    def nested(self, family: int | None = None) -> Ctx:
        """The context one level deeper; DecodeError past MAX_DEPTH."""
        if self.depth >= MAX_DEPTH:
            raise DecodeError(f"attributes nested deeper than {MAX_DEPTH} levels", 0)
        return Ctx(self.family if family is None else family, self.depth + 1, self.trace)


class AttrCodec(Protocol):
    """What the walk and the encoder ask of a codec (see :mod:`codecs`)."""

    @property
    def kind(self) -> str: ...  # "u32", "string"... for explain

    @property
    def sets_nested_flag(self) -> bool: ...  # NLA_F_NESTED goes in the type

    def decode(self, buf: bytes, start: int, end: int, ctx: Ctx,
               siblings: Sequence[Attr]) -> Any: ...

    def encode(self, value: Any, ctx: Ctx, siblings: Sequence[Attr]) -> bytes: ...


# -- attributes -------------------------------------------------------------------

class AttrAccess:
    """Lookup helpers shared by messages, attribute lists and nested messages.

    Keys are kernel names (``"IFLA_IFNAME"``) or numbers (``IFLA.IFLA_IFNAME``,
    ``3``).  Lookups are linear scans: attribute lists are short and a scan
    costs less than building a dict per message.
    """

    __slots__ = ()

    def _attr_list(self) -> AttrList:
        raise NotImplementedError

    def attr(self, key: str | int) -> Attr | None:
        """The first attribute matching ``key``, or None."""
        return self._attr_list().attr(key)

    def get(self, key: str | int, default: Any = None) -> Any:
        """The decoded value of the first attribute matching ``key``, or ``default``."""
        return self._attr_list().get(key, default)

    def get_all(self, key: str | int) -> list[Any]:
        """The decoded values of every attribute matching ``key``, in order."""
        return self._attr_list().get_all(key)

    def get_path(self, *keys: str | int, default: Any = None) -> Any:
        """Follow nested attributes: ``get_path("IFLA_LINKINFO", "IFLA_INFO_KIND")``."""
        return self._attr_list().get_path(*keys, default=default)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, (str, int)):
            return False
        return self._attr_list().attr(key) is not None


class AttrList(tuple["Attr", ...], AttrAccess):
    """An ordered, immutable sequence of :class:`Attr` (a type may repeat)."""

    __slots__ = ()

    def _attr_list(self) -> AttrList:
        return self

    def attr(self, key: str | int) -> Attr | None:
        if isinstance(key, str):
            for item in self:
                if item.name == key:
                    return item
        else:
            for item in self:
                if item.type & NLA_TYPE_MASK == key:
                    return item
        return None

    def get(self, key: str | int, default: Any = None) -> Any:
        found = self.attr(key)
        return default if found is None else found.value

    def get_all(self, key: str | int) -> list[Any]:
        if isinstance(key, str):
            return [item.value for item in self if item.name == key]
        return [item.value for item in self if item.type & NLA_TYPE_MASK == key]

    def get_path(self, *keys: str | int, default: Any = None) -> Any:
        node: Any = self
        for key in keys:
            if not isinstance(node, AttrAccess):
                return default
            found = node.attr(key)
            if found is None:
                return default
            node = found.value
        return node

    def to_dict(self) -> dict[str, Any]:
        """``{name: value}``; nested lists become dicts, repeated names lists.

        Unknown attributes appear as ``"<number>"``.  Meant for printing and
        tests: it loses order and exact bytes.
        """
        grouped: dict[str, list[Any]] = {}
        for item in self:
            key = item.name or str(item.type & NLA_TYPE_MASK)
            value = item.value
            if hasattr(value, "to_dict"):
                value = value.to_dict()
            grouped.setdefault(key, []).append(value)
        return {key: values[0] if len(values) == 1 else values
                for key, values in grouped.items()}

    def __repr__(self) -> str:
        return f"AttrList({list(self)!r})"


@record
class Attr:
    """One attribute.

    ``type`` is the 16-bit type exactly as on the wire, flag bits included;
    ``number`` is it with the flags masked.  ``name`` is the kernel name when
    the table knows the number.  ``value`` is the decoded value: an int, str,
    ipaddress object, MAC string, enum, struct dataclass, :class:`AttrList` for
    nested attributes... or ``bytes`` for unknown numbers and payloads the
    codec could not read.  ``raw`` holds the original payload only when
    ``value`` would not re-encode to it; ``encode`` uses it while ``value`` is
    unchanged.  To build one from a kernel name and a value, checked against
    the tables, use :func:`rawns.netlink.tables.make_attr`.
    """

    type: int
    value: Any
    name: str | None = None
    raw: bytes | None = field(default=None, repr=False)

    @property
    def number(self) -> int:
        """The attribute number, NLA_F_NESTED / NLA_F_NET_BYTEORDER masked."""
        return self.type & NLA_TYPE_MASK

    @property
    def nested_flag(self) -> bool:
        """Whether the sender set NLA_F_NESTED."""
        return bool(self.type & NLA_F_NESTED)


class AttrTable:
    """The attributes of one kind of container: ``number -> (name, codec)``.

    Built by :mod:`tables`; read by the walk, the encoder and explain.
    """

    __slots__ = ("name", "enum", "specs")

    def __init__(self, name: str, enum: Any, specs: dict[int, tuple[str, AttrCodec]]) -> None:
        self.name = name
        self.enum = enum  # the constants class naming the numbers, or None
        self.specs = specs  # {number: (kernel name, codec)}

    def __repr__(self) -> str:
        return f"<AttrTable {self.name}: {len(self.specs)} attributes>"


# -- the walk ---------------------------------------------------------------------

def decode_attrs(buf: bytes, start: int, end: int, table: AttrTable, ctx: Ctx) -> AttrList:
    """Decode the attributes in ``buf[start:end]`` with ``table``.

    This is the one walk every container goes through.  For each attribute,
    the table gives its name and codec; the codec is called as
    ``codec.decode(buf, payload_start, payload_end, ctx, siblings)``, where
    ``siblings`` are the attributes decoded so far at this level (how
    IFLA_INFO_DATA learns IFLA_INFO_KIND).  A number the table does not know,
    or a payload its codec finds Unfit, stays bytes.

    When ``ctx.trace`` is a list, each attribute also appends a
    :class:`TraceEntry` to it, before its nested attributes do: the explain
    view is this very walk, recorded.
    """
    out: list[Attr] = []
    for pos, nla_len, nla_type in walk_attrs(buf, start, end):
        payload_start, payload_end = pos + 4, pos + nla_len
        spec = table.specs.get(nla_type & NLA_TYPE_MASK)
        entry = None
        if ctx.trace is not None:
            entry = TraceEntry("attr", ctx.depth, pos, nla_len, nla_type,
                               spec[0] if spec else None, spec[1] if spec else None)
            entry.raw = buf[payload_start:payload_end]
            ctx.trace.append(entry)
        name: str | None = None
        raw: bytes | None = None
        if spec is None:
            value: Any = buf[payload_start:payload_end]
        else:
            name, codec = spec
            try:
                value = codec.decode(buf, payload_start, payload_end, ctx, out)
            except Unfit as why:
                value = buf[payload_start:payload_end]
                if entry is not None:
                    entry.note = f"kept as bytes: {why}"
            else:
                if isinstance(value, Keep):
                    value, raw = value.value, value.raw
                    if entry is not None:
                        entry.note = "not canonical: the exact bytes are kept for re-encoding"
        if entry is not None:
            entry.value = value
        out.append(Attr(type=nla_type, value=value, name=name, raw=raw))
    return AttrList(out)


# -- encoding ---------------------------------------------------------------------

def encode_attrs(attrs: Sequence[Attr], table: AttrTable, ctx: Ctx) -> bytes:
    """Encode ``attrs`` (Attr objects) with ``table``; the inverse of decode_attrs."""
    out = bytearray()
    encode_attrs_into(out, attrs, table, ctx)
    return bytes(out)


def encode_attrs_into(out: bytearray, attrs: Sequence[Attr], table: AttrTable,
                      ctx: Ctx) -> None:
    """:func:`encode_attrs`, appending to ``out``: one :func:`put_attr` each."""
    for index, item in enumerate(attrs):
        if not isinstance(item, Attr):
            raise EncodeError(f"expected Attr, got {type(item).__name__}")
        if not 0 <= item.type <= 0xFFFF:
            raise EncodeError(f"attribute type {item.type} does not fit 16 bits")
        put_attr(out, item.type, attr_payload(item, attrs, index, table, ctx))


def attr_payload(item: Attr, attrs: Sequence[Attr], index: int, table: AttrTable,
                 ctx: Ctx) -> bytes:
    """The payload of ``attrs[index]`` (``item``): its bytes verbatim, its kept
    ``raw`` while ``value`` still reads from it, or what its codec writes."""
    value = item.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)  # raw bytes are always written verbatim
    spec = table.specs.get(item.type & NLA_TYPE_MASK)
    if spec is None:
        raise EncodeError(f"attribute type {item.type} is unknown to table "
                          f"{table.name}: give its value as bytes")
    name, codec = spec
    siblings = attrs[:index]
    if item.raw is not None:
        try:
            same = codec.decode(item.raw, 0, len(item.raw), ctx, siblings)
        except Exception:  # noqa: BLE001 - any doubt: encode the value
            same = None
        if isinstance(same, Keep):
            same = same.value
        if same == value:
            return item.raw
    try:
        return codec.encode(value, ctx, siblings)
    except EncodeError as err:
        raise EncodeError(f"{name}: {err}") from err
