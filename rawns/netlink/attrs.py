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
# - Standard library and rawns.errors only.
"""Netlink attributes: the TLV primitives and the table-driven walker.

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

The primitives, like libmnl's: :func:`put_attr` appends one attribute,
:func:`start_nest`/:func:`end_nest` wrap attributes written in between, and
:func:`walk_attrs` yields ``(offset, length, type)`` with bounds checks.
:func:`decode_attrs` and :func:`encode_attrs` drive codecs from a table of
``number -> (name, codec)``; codecs live in :mod:`rawns.netlink.codecs`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, NamedTuple, Sequence

from rawns.errors import DecodeError, EncodeError

from .constants import ADDRESS_SIZE_BY_FAMILY, NLA_F_NESTED, NLA_TYPE_MASK

__all__ = [
    "Attr", "AttrList", "AttrAccess", "AttrTable", "Ctx", "Keep", "Unfit",
    "MAX_DEPTH", "align4", "put_attr", "start_nest", "end_nest", "walk_attrs",
    "decode_attrs", "decode_values", "encode_attrs", "encode_attrs_into",
    "fast_constructor", "FastPath", "FAST_NONE", "FAST_INT", "FAST_NAMED", "FAST_ADDRESS",
    "FAST_STRUCT", "FAST_STRING",
]

MAX_DEPTH = 16
"""Deepest nesting the decoder follows (rtnetlink itself uses at most ~5)."""

_NLA_HEADER = struct.Struct("=HH")
_unpack_nla_header = _NLA_HEADER.unpack_from
_MAX_PAYLOAD = 0xFFFF - 4


def align4(length: int) -> int:
    """Round ``length`` up to a multiple of 4 (NLA_ALIGN / NLMSG_ALIGN)."""
    return (length + 3) & ~3


def fast_constructor(cls: type, hidden: bool = False, keywords: bool = False) -> Any:
    """Return ``make(*values)`` building a frozen slotted dataclass fast.

    The generated ``__init__`` of a frozen dataclass goes through
    ``object.__setattr__`` per field, several times slower than storing into
    the slots directly.  The decoder makes one object per attribute, so it
    uses this; values are passed in field order and are not validated.
    Fields that are no __init__ argument (caches) get their default, or
    with ``hidden=True`` are arguments too. ``keywords=True`` makes
    ``make(*, field=value, ...)`` instead, every field a required keyword.
    """
    fields = {spec.name: spec for spec in dataclasses.fields(cls)}  # ClassVars left out
    names = [name for name, spec in fields.items() if spec.init or hidden]
    defaults = {name: spec.default for name, spec in fields.items() if name not in names}
    # A frozen class refuses ``obj.name = value``.  Its twin (same bases,
    # same slots, so the same memory layout, but no frozen __setattr__)
    # takes the stores at full speed; then the object becomes a ``cls`` by
    # assigning __class__, which Python allows between identical layouts.
    twin = type(f"_{cls.__name__}Fields", cls.__bases__, {"__slots__": cls.__slots__})
    namespace = {"new": object.__new__, "cls": cls, "twin": twin}
    namespace.update({f"default_{name}": default for name, default in defaults.items()})
    values = names if keywords else [f"v{index}" for index in range(len(names))]
    arguments = ("*, " if keywords and names else "") + ", ".join(values)
    # Straight-line code (one store per field, no loop), generated once per class.
    body = "".join(f"    obj.{name} = {value}\n" for name, value in zip(names, values))
    body += "".join(f"    obj.{name} = default_{name}\n" for name in defaults)
    source = (f"def make({arguments}):\n    obj = new(twin)\n{body}"
              f"    obj.__class__ = cls\n    return obj\n")
    exec(compile(source, f"<fast constructor of {cls.__name__}>", "exec"), namespace)
    return namespace["make"]


# -- primitives ---------------------------------------------------------------

def put_attr(out: bytearray, nla_type: int, payload: bytes) -> None:
    """Append one attribute (header, payload, zero padding) to ``out``."""
    length = 4 + len(payload)
    if length > 0xFFFF:
        raise EncodeError(f"attribute type {nla_type}: payload of {len(payload)} bytes "
                          f"does not fit the 16-bit nla_len")
    out += _NLA_HEADER.pack(length, nla_type)
    out += payload
    out += b"\0" * (-length & 3)


def start_nest(out: bytearray, nla_type: int) -> int:
    """Open a nested attribute; returns the offset to give to :func:`end_nest`."""
    start = len(out)
    out += _NLA_HEADER.pack(0, nla_type)
    return start


def end_nest(out: bytearray, start: int) -> None:
    """Close the nest opened at ``start``: fill in its length."""
    length = len(out) - start
    if length > 0xFFFF:
        raise EncodeError(f"nested attribute of {length} bytes does not fit nla_len")
    struct.pack_into("=H", out, start, length)


def walk_attrs(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Yield ``(offset, nla_len, nla_type)`` for each attribute in ``buf[start:end]``.

    Raises DecodeError (with the absolute offset) when a header is truncated,
    a length is below 4, or a length runs past ``end``.  Stray bytes (1..3)
    after the last attribute are an error too.
    """
    pos = start
    while pos < end:
        nla_len, nla_type = _read_header(buf, pos, end)
        yield pos, nla_len, nla_type
        pos += (nla_len + 3) & ~3


def _read_header(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    if end - pos < 4:
        raise DecodeError(f"{end - pos} stray byte(s) where a 4-byte attribute "
                          f"header should start", pos)
    nla_len, nla_type = _unpack_nla_header(buf, pos)
    if nla_len < 4:
        raise DecodeError(f"attribute length {nla_len} is shorter than its "
                          f"4-byte header", pos)
    if pos + nla_len > end:
        raise DecodeError(f"attribute length {nla_len} runs past the end of its "
                          f"container ({end - pos} bytes left)", pos)
    return nla_len, nla_type


# -- values ---------------------------------------------------------------------

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
        return self._attr_list().attr(key) is not None  # type: ignore[arg-type]


class AttrList(tuple, AttrAccess):  # type: ignore[misc]
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


@dataclass(frozen=True, kw_only=True, slots=True)
class Attr:
    """One attribute.

    ``type`` is the 16-bit type exactly as on the wire, flag bits included;
    ``number`` is it with the flags masked.  ``name`` is the kernel name when
    the table knows the number.  ``value`` is the decoded value: an int, str,
    ipaddress object, MAC string, enum, struct dataclass, :class:`AttrList` for
    nested attributes... or ``bytes`` for unknown numbers and payloads the
    codec could not read.  ``raw`` holds the original payload only when
    ``value`` would not re-encode to it; ``encode`` uses it while ``value`` is
    unchanged.
    """

    type: int
    value: Any
    name: str | None = None
    raw: bytes | None = field(default=None, repr=False)
    # ``(codec, payload)`` when :meth:`of` already encoded ``value`` and the
    # payload cannot go stale (see _unchanging); encode_attrs writes it as is
    # when the table holds that very codec for this number.  Not an __init__
    # argument, not compared or shown; dataclasses.replace() drops it.
    _encoded: tuple[Any, bytes] | None = field(default=None, init=False, repr=False,
                                               compare=False)

    @property
    def number(self) -> int:
        """The attribute number, NLA_F_NESTED / NLA_F_NET_BYTEORDER masked."""
        return self.type & NLA_TYPE_MASK

    @property
    def nested_flag(self) -> bool:
        """Whether the sender set NLA_F_NESTED."""
        return bool(self.type & NLA_F_NESTED)

    @classmethod
    def of(cls, key: Any, value: Any) -> Attr:
        """Build an attribute from a kernel name or enum member and a value.

        ``Attr.of(IFLA.IFLA_MTU, 1500)`` or ``Attr.of("IFLA_MTU", 1500)``.  The
        value is encoded once to check it (EncodeError if it does not fit);
        nested attributes get NLA_F_NESTED, as strict kernel policies want.
        A list of attributes is accepted for nested ones.
        """
        spec = _SPECS_BY_ENUM.get(key.__class__)  # see tables.attr_spec
        if spec is not None:
            nla_type, name, codec, context_free = spec[key]
        else:
            nla_type, name, codec, context_free = _attr_spec(key)
        if value.__class__ in _IMMUTABLE_CLASSES and cls is Attr:
            # The common case (an int, a str, an address) in short.
            try:
                payload = codec.encode(value, _PLAIN_CTX, ())
            except EncodeError as err:
                raise EncodeError(f"{name}: {err}") from err
            return _new_attr_encoded(nla_type, value, name, None,
                                     (codec, payload) if context_free else None)
        if isinstance(value, list):
            value = AttrList(value)
        payload = None
        if isinstance(value, AttrList) and _all_attrs(value):
            # Attributes nested inside were checked when they were made, so
            # there is nothing to check here.  Encode only if the payload can
            # be kept; a failure (IFLA_INFO_DATA of a kind without a table...)
            # is then left for encode() to report, as it always was.
            if context_free and _unchanging(value):
                try:
                    payload = codec.encode(value, _PLAIN_CTX, ())
                except EncodeError:
                    payload = None
        else:
            try:
                payload = codec.encode(value, _PLAIN_CTX, ())
            except EncodeError as err:
                raise EncodeError(f"{name}: {err}") from err
            if not (context_free and _unchanging(value)):
                payload = None
        if cls is not Attr:
            return cls(type=nla_type, value=value, name=name)
        return _new_attr_encoded(nla_type, value, name, None,
                                 None if payload is None else (codec, payload))


def _all_attrs(items: AttrList) -> bool:
    for item in items:
        if not isinstance(item, Attr):
            return False
    return True


def _attr_spec(key: Any) -> tuple[int, str, Any, bool]:
    """``tables.attr_spec``, imported on first use (tables imports this module)."""
    global _attr_spec
    from .tables import attr_spec
    _attr_spec = attr_spec
    return attr_spec(key)


# What Attr.of needs per enum member, filled by tables (which imports this
# module); the lookup is inlined in Attr.of, which a batch calls ~10 times
# per namespace.
_SPECS_BY_ENUM: dict[type, dict[int, tuple[int, str, Any, bool]]] = {}
_PLAIN_CTX = None  # set below, once Ctx exists: the context Attr.of encodes in

# Values of these types never change, so a payload encoded from one stays right.
_IMMUTABLE = (int, str, bytes, ipaddress.IPv4Address, ipaddress.IPv6Address, type(None))
_IMMUTABLE_CLASSES = frozenset((*_IMMUTABLE, bool))  # the same, checked first and faster
_FROZEN_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _unchanging(value: Any) -> bool:
    """Whether ``value``, and everything in it, is immutable.

    Only then may Attr.of keep the payload it encoded: a bytearray (or a
    list in a struct field) could change between building and sending.
    Attributes made by Attr.of that kept a payload passed this test already.
    """
    if value.__class__ in _IMMUTABLE_CLASSES or isinstance(value, _IMMUTABLE):
        return True
    if isinstance(value, Attr):
        return value._encoded is not None or (_unchanging(value.value)
                                              and _unchanging(value.raw))
    if isinstance(value, tuple):
        for item in value:
            if item.__class__ is Attr and item._encoded is not None:
                continue  # the common case, without a call
            if not _unchanging(item):
                return False
        return True
    cls = value.__class__
    if cls not in _FROZEN_FIELDS:
        _FROZEN_FIELDS[cls] = _frozen_fields(cls)
    names = _FROZEN_FIELDS[cls]
    if names is None:
        return False
    for name in names:
        item = getattr(value, name)
        if not isinstance(item, _IMMUTABLE) and not _unchanging(item):
            return False
    return True


def _frozen_fields(cls: type) -> tuple[str, ...] | None:
    """The field names of a frozen dataclass (structs, NestedMessage), else None."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        return None
    return tuple(spec.name for spec in dataclasses.fields(cls))


_new_attr = fast_constructor(Attr)
_new_attr_encoded = fast_constructor(Attr, hidden=True)  # one more argument: _encoded


# Fast paths: how the walker reads a codec's usual payload inline, where a
# call to codec.decode (the walk's largest cost) would give the same value.
# Anything unusual (another size, a value not in the lookup, a string with
# bytes after its NUL) still goes to decode, which has the last word.
FAST_NONE = 0
FAST_INT = 1      # read(buf, offset)[0] when the payload is `size` bytes
FAST_NAMED = 2    # the same, then lookup[value] (enum or flag member) if present
FAST_ADDRESS = 3  # lookup[payload] or read(payload), for `size` bytes (0: the
                  # size of the enclosing header's family: ADDRESS_SIZE_BY_FAMILY)
FAST_STRUCT = 4   # read(buf, offset) when the payload is `size` bytes
FAST_STRING = 5   # the UTF-8 text before the NUL that ends the payload


class FastPath(NamedTuple):
    """What a codec's ``fast_path()`` returns (see the FAST_* kinds)."""

    kind: int
    read: Any = None
    size: int = -1
    lookup: Any = None


_NO_FAST_PATH = FastPath(FAST_NONE)


class AttrTable:
    """The attributes of one kind of container: ``number -> (name, codec)``.

    ``enum`` is the constants class whose members name the numbers; members
    without a codec are still named (their payload stays bytes).
    """

    __slots__ = ("name", "enum", "_specs", "fast")

    def __init__(self, name: str, enum: Any, codecs: Mapping[Any, Any],
                 default_codec: Any) -> None:
        self.name = name
        self.enum = enum
        specs: dict[int, tuple[str, Any]] = {}
        if enum is not None:
            for member in enum:
                specs[int(member)] = (member.name, default_codec)
        for key, codec in codecs.items():
            number = int(key)
            member_name = specs[number][0] if number in specs else str(key)
            specs[number] = (member_name, codec)
        self.specs = specs

    @property
    def specs(self) -> dict[int, tuple[str, Any]]:
        """``{number: (kernel name, codec)}``."""
        return self._specs

    @specs.setter
    def specs(self, specs: dict[int, tuple[str, Any]]) -> None:
        self._specs = specs
        # What the walker's inner loop reads: the name, the bound decode
        # method and the codec's fast path, flattened into one tuple.
        fast = {}
        for number, (name, codec) in specs.items():
            path = codec.fast_path() if hasattr(codec, "fast_path") else None
            fast[number] = (name, codec.decode, *(path or _NO_FAST_PATH))
        self.fast = fast

    def __repr__(self) -> str:
        return f"<AttrTable {self.name}: {len(self.specs)} attributes>"


class Ctx:
    """What a codec may need besides its own bytes.

    ``family`` is the address family of the nearest fixed header (it decides
    how IFA_ADDRESS, RTA_DST... read); ``depth`` counts nesting; ``trace`` is
    None when decoding, or a list that :mod:`explain` fills with one entry per
    header and attribute, in wire order.
    """

    __slots__ = ("family", "depth", "trace")

    def __init__(self, family: int = 0, depth: int = 0, trace: list | None = None) -> None:
        self.family = family
        self.depth = depth
        self.trace = trace

    def nested(self, family: int | None = None) -> Ctx:
        """The context one level deeper; DecodeError past MAX_DEPTH."""
        if self.depth >= MAX_DEPTH:
            raise DecodeError(f"attributes nested deeper than {MAX_DEPTH} levels", 0)
        return Ctx(self.family if family is None else family, self.depth + 1, self.trace)

    @staticmethod
    def for_encoding(family: int = 0) -> Ctx:
        return Ctx(family)


_PLAIN_CTX = Ctx()  # encoding needs no depth or trace: one context serves every Attr.of


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


def decode_attrs(buf: bytes, start: int, end: int, table: AttrTable, ctx: Ctx) -> AttrList:
    """Decode the attributes in ``buf[start:end]`` with ``table``.

    This is the one walker every container goes through.  A codec is called
    as ``codec.decode(buf, payload_start, payload_end, ctx, siblings)``, where
    ``siblings`` are the attributes decoded so far at this level (how
    IFLA_INFO_DATA learns IFLA_INFO_KIND).

    The loop below is the hottest of a dump; :func:`_decode_attrs_traced`
    is the same walk recording each step for ``explain`` (tests hold the two
    to the same results).
    """
    if ctx.trace is not None:
        return _decode_attrs_traced(buf, start, end, table, ctx)
    out: list[Attr] = []
    _walk(buf, start, end, table, ctx, out, None)
    return AttrList(out)


def decode_values(buf: bytes, start: int, end: int, table: AttrTable,
                  ctx: Ctx) -> dict[str, Any]:
    """The values :func:`decode_attrs` would give, by kernel name, the first
    of a repeated attribute only; unnamed (unknown) attributes are left out.

    For readers of many objects, which want values and not one Attr object
    per attribute.  Codecs are called with no siblings: no table reads one
    at the top level of a message (IFLA_INFO_DATA is nested in IFLA_LINKINFO,
    which is decoded in full).
    """
    values: dict[str, Any] = {}
    _walk(buf, start, end, table, ctx, [], values)
    return values


def _walk(buf: bytes, start: int, end: int, table: AttrTable, ctx: Ctx, out: list[Attr],
          values: dict[str, Any] | None) -> None:
    """The untraced walk: appends Attr objects to ``out``, or with ``values``
    stores each named value there instead (``out`` then stays empty)."""
    fast = table.fast
    family_size = ADDRESS_SIZE_BY_FAMILY.get(ctx.family, -1)
    append = out.append
    unpack_header = _unpack_nla_header
    new_attr = _new_attr
    pos = start
    while pos < end:
        if end - pos < 4:
            _read_header(buf, pos, end)  # raises the precise DecodeError
        nla_len, nla_type = unpack_header(buf, pos)
        payload_end = pos + nla_len
        if nla_len < 4 or payload_end > end:
            _read_header(buf, pos, end)
        spec = fast.get(nla_type & NLA_TYPE_MASK)
        raw = None
        if spec is None:
            name = None
            value = buf[pos + 4:payload_end]
        else:
            name, decode, kind, read, size, lookup = spec
            length = nla_len - 4
            value = _SLOW
            if kind == FAST_INT:
                if length == size:
                    value = read(buf, pos + 4)[0]
            elif kind == FAST_NAMED:
                if length == size:
                    value = lookup.get(read(buf, pos + 4)[0], _SLOW)
            elif kind == FAST_ADDRESS:
                if length == (size or family_size):
                    packed = buf[pos + 4:payload_end]
                    value = lookup.get(packed)
                    if value is None:
                        value = read(packed)
            elif kind == FAST_STRUCT:
                if length == size:
                    value = read(buf, pos + 4)
            elif kind == FAST_STRING:
                if buf.find(b"\0", pos + 4, payload_end) == payload_end - 1:
                    value = buf[pos + 4:payload_end - 1].decode("utf-8", "surrogateescape")
            if value is _SLOW:
                try:
                    value = decode(buf, pos + 4, payload_end, ctx, out)
                except Unfit:
                    value = buf[pos + 4:payload_end]
                else:
                    if value.__class__ is Keep:
                        raw = value.raw
                        value = value.value
        if values is None:
            append(new_attr(nla_type, value, name, raw))
        elif name is not None and name not in values:
            values[name] = value
        pos = (payload_end + 3) & ~3


_SLOW = object()  # the fast path did not apply: ask the codec


def _decode_attrs_traced(buf: bytes, start: int, end: int, table: AttrTable,
                         ctx: Ctx) -> AttrList:
    """:func:`decode_attrs`, appending a TraceEntry per attribute to ``ctx.trace``."""
    trace = ctx.trace
    out: list[Attr] = []
    pos = start
    while pos < end:
        nla_len, nla_type = _read_header(buf, pos, end)
        payload_end = pos + nla_len
        spec = table.specs.get(nla_type & NLA_TYPE_MASK)
        entry = TraceEntry("attr", ctx.depth, pos, nla_len, nla_type,
                           spec[0] if spec else None, spec[1] if spec else None)
        entry.raw = buf[pos + 4:payload_end]
        trace.append(entry)  # type: ignore[union-attr]
        raw = None
        if spec is None:
            name = None
            value = buf[pos + 4:payload_end]
        else:
            name, codec = spec
            try:
                value = codec.decode(buf, pos + 4, payload_end, ctx, out)
            except Unfit as why:
                value = buf[pos + 4:payload_end]
                entry.note = f"kept as bytes: {why}"
            else:
                if value.__class__ is Keep:
                    raw = value.raw
                    value = value.value
                    entry.note = "not canonical: the exact bytes are kept for re-encoding"
        entry.value = value
        out.append(_new_attr(nla_type, value, name, raw))
        pos = (payload_end + 3) & ~3
    return AttrList(out)


def encode_attrs(attrs: Sequence[Attr], table: AttrTable, ctx: Ctx) -> bytes:
    """Encode ``attrs`` (Attr objects) with ``table``; the inverse of decode_attrs."""
    out = bytearray()
    encode_attrs_into(out, attrs, table, ctx)
    return bytes(out)


_PADDING = (b"", b"\0\0\0", b"\0\0", b"\0")  # indexed by length & 3
_pack_nla_header = _NLA_HEADER.pack


def encode_attrs_into(out: bytearray, attrs: Sequence[Attr], table: AttrTable,
                      ctx: Ctx) -> None:
    """:func:`encode_attrs`, appending to ``out`` (what :func:`put_attr` writes)."""
    specs = table.specs
    for index, item in enumerate(attrs):
        if not isinstance(item, Attr):
            raise EncodeError(f"expected Attr, got {type(item).__name__}")
        nla_type = item.type
        if not 0 <= nla_type <= 0xFFFF:
            raise EncodeError(f"attribute type {nla_type} does not fit 16 bits")
        spec = specs.get(nla_type & NLA_TYPE_MASK)
        encoded = item._encoded
        if encoded is not None and spec is not None and encoded[0] is spec[1]:
            payload = encoded[1]  # Attr.of encoded this value with this very codec
        else:
            payload = _encode_payload(item, spec, attrs, index, table, ctx)
        length = 4 + len(payload)
        if length > 0xFFFF:
            raise EncodeError(f"attribute type {nla_type}: payload of {len(payload)} "
                              f"bytes does not fit the 16-bit nla_len")
        out += _pack_nla_header(length, nla_type)
        out += payload
        out += _PADDING[length & 3]


def _encode_payload(item: Attr, spec: tuple[str, Any] | None, attrs: Sequence[Attr],
                    index: int, table: AttrTable, ctx: Ctx) -> bytes:
    """The payload of ``item``: verbatim bytes, its kept ``raw``, or its codec's."""
    value = item.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)  # raw bytes are always written verbatim
    if spec is None:
        raise EncodeError(f"attribute type {item.type} is unknown to table "
                          f"{table.name}: give its value as bytes")
    name, codec = spec
    if item.raw is not None:
        try:
            same = codec.decode(item.raw, 0, len(item.raw), ctx, attrs[:index])
        except Exception:  # noqa: BLE001 - any doubt: encode the value
            same = None
        if same.__class__ is Keep:
            same = same.value
        if same == value:
            return item.raw
    try:
        return codec.encode(value, ctx, attrs[:index])
    except EncodeError as err:
        raise EncodeError(f"{name}: {err}") from err
