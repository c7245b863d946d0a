# Invariants:
# - Every function here returns exactly what its namesake in the reference
#   returns (message.decode, message.decode_frame, message.header_and_values,
#   attrs.decode_attrs, CStruct.unpack_from), or raises the same DecodeError;
#   tests/netlink/test_nl_fast_paths.py holds them equal on every golden
#   capture and on hypothesis-made hostile bytes.  Read the reference first.
# - The tricks, all of them here: constructors generated with exec (they
#   store the fields of a frozen dataclass without its __init__), struct
#   decoders generated the same way, the attribute walk with the usual
#   payloads of five codec types read inline, and bounded caches (values
#   read from tables, ipaddress objects by their bytes).  Caches are filled
#   on first use, never at import, and none grows past its bound.
# - No process-wide state is touched (the garbage collector included).
# - Standard library and rawns.errors only.
"""The fast paths of the codec: the reference decoder's results, sooner.

Decoding a dump makes one object per attribute, tens of thousands of them;
the reference spends most of its time in calls that a specialised loop can
skip: a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per
field), ``codec.decode`` for a payload that is just a u32, a dict per
struct.  :func:`decode`, :func:`decode_frame` and :func:`header_and_values`
do the same work as :mod:`message`'s without those costs, and
:mod:`rawns.netlink` exports them.  :func:`fast_constructor` is also used by
other modules that build many frozen objects.
"""

from __future__ import annotations

import ipaddress
import struct

from rawns.errors import DecodeError, EncodeError
from rawns.records import fields

from .attrs import NLA_HEADER, Attr, AttrList, AttrTable, Ctx, Keep, Unfit, read_attr_header
from .codecs import Bytes, ByKind, HwAddr, Int, IPAddr, Nested, NestedMessage, String, Struct
from .constants import (
    ADDRESS_SIZE_BY_FAMILY, NLA_TYPE_MASK, NLM_F, NLMSG, KernelFlag, as_flag, enum_members,
    flag_cache, message_type,
)
from .message import ERROR_CODE, NLMSGHDR, Frame, Message, type_name
from .message import frames as reference_frames
from .message import decode_frame as reference_decode_frame
from .message import encode_into as reference_encode_into
from .structs import CStruct, NlMsgErr, NlMsgHdr
from .structs import NestedMessage as NestedMessageValue
from .tables import FAMILIES, NLMSGERR
from .tables import attr_spec
from .tables import make_attr as reference_make_attr

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

__all__ = ["fast_constructor", "struct_decoder", "new_message", "new_attr", "decode",
           "decode_frame", "header_and_values", "decode_attrs", "make_attr", "encode", "frames",
           "encode_stamped"]


# -- generated constructors -------------------------------------------------------

def fast_constructor(cls: type, keywords: bool = False) -> Any:
    """Return ``make(*values)`` building a frozen slotted dataclass fast.

    The generated ``__init__`` of a frozen dataclass goes through
    ``object.__setattr__`` per field, several times slower than storing into
    the slots directly.  The decoder makes one object per attribute, so it
    uses this; values are passed in field order and are not validated.
    ``keywords=True`` makes ``make(*, field=value, ...)`` instead, every
    field a required keyword.
    """
    names = [spec.name for spec in fields(cls)]
    # A frozen class refuses ``obj.name = value``.  Its twin (same bases,
    # same slots, so the same memory layout, but object's own __setattr__,
    # also over a frozen base's) takes the stores at full speed; then the
    # object becomes a ``cls`` by assigning __class__, which Python allows
    # between identical layouts.
    twin = type(f"_{cls.__name__}Fields", cls.__bases__,
                {"__slots__": getattr(cls, "__slots__"), "__setattr__": object.__setattr__})
    namespace = {"new": object.__new__, "cls": cls, "twin": twin}
    values = names if keywords else [f"v{index}" for index in range(len(names))]
    arguments = ("*, " if keywords and names else "") + ", ".join(values)
    # Straight-line code (one store per field, no loop), generated once per class.
    body = "".join(f"    obj.{name} = {value}\n" for name, value in zip(names, values))
    source = (f"def make({arguments}):\n    obj = new(twin)\n{body}"
              f"    obj.__class__ = cls\n    return obj\n")
    exec(compile(source, f"<fast constructor of {cls.__name__}>", "exec"), namespace)
    return namespace["make"]


new_message: Callable[..., Message] = fast_constructor(Message)
"""``new_message(type, flags, seq, pid, header, attrs, payload)``: a Message."""
new_attr: Callable[..., Attr] = fast_constructor(Attr)
"""``new_attr(type, value, name, raw)``: an Attr."""
_new_nlmsgerr: Callable[..., NlMsgErr] = fast_constructor(NlMsgErr)  # (error, request, payload)

_STRUCT_DECODERS: dict[type, Callable[[bytes, int], Any]] = {}


def struct_decoder(cls: type[CStruct]) -> Callable[[bytes, int], Any]:
    """``decode(buf, offset)``: ``cls.unpack_from``, generated as straight-line code.

    Fields with a kind are looked up in its dict of members (an unknown enum
    value stays a plain int) or in its bounded cache of flag values (filled
    by ``as_flag`` on a miss): the same results as ``as_member``, without a
    call per field.  Made on first use, once per class.
    """
    decoder = _STRUCT_DECODERS.get(cls)
    if decoder is not None:
        return decoder
    namespace: dict[str, Any] = {"make": fast_constructor(cls),
                                 "unpack": cls.STRUCT.unpack_from, "as_flag": as_flag}
    values = [f"v{index}" for index in range(len(cls.FIELD_NAMES))]
    lines = [f"    {', '.join(values)}, = unpack(buf, offset)"]
    for index, kind in enumerate(cls.KINDS):
        if kind is None:
            continue
        v = values[index]
        if issubclass(kind, KernelFlag):
            namespace[f"kind{index}"] = kind
            namespace[f"cache{index}"] = flag_cache(kind)
            lines.append(f"    {v} = cache{index}[{v}] if {v} in cache{index} "
                         f"else as_flag(kind{index}, {v})")
        else:
            namespace[f"members{index}"] = enum_members(kind)
            lines.append(f"    {v} = members{index}.get({v}, {v})")
    source = ("def decode(buf, offset):\n" + "\n".join(lines)
              + f"\n    return make({', '.join(values)})\n")
    exec(compile(source, f"<decoder of {cls.__name__}>", "exec"), namespace)
    made: Callable[[bytes, int], Any] = namespace["decode"]
    _STRUCT_DECODERS[cls] = made
    return made


# -- caches -----------------------------------------------------------------------

# Dumps repeat addresses (IFA_ADDRESS is IFA_LOCAL; gateways, neighbours),
# and ipaddress objects are immutable: reuse them, keyed by their bytes.
_ADDRESSES: dict[bytes, Any] = {}
_ADDRESS_CACHE_LIMIT = 4096  # cleared when full: hostile input cannot grow it


def _address(packed: bytes) -> Any:
    """``codecs.address_from_bytes``, reusing the objects already made."""
    address = _ADDRESSES.get(packed)
    if address is None:
        address = (ipaddress.IPv4Address(packed) if len(packed) == 4
                   else ipaddress.IPv6Address(packed))
        if len(_ADDRESSES) >= _ADDRESS_CACHE_LIMIT:
            _ADDRESSES.clear()
        _ADDRESSES[packed] = address
    return address


# -- the walk, with the usual payloads read inline ---------------------------------

# How the walk reads a codec's usual payload without calling codec.decode
# (the walk's largest cost).  Anything unusual (another size, a value not
# in the lookup, a string with bytes after its NUL) still goes to decode,
# which has the last word.
_INT = 1      # read(buf, offset)[0] when the payload is `size` bytes
_NAMED = 2    # the same, then lookup[value] (enum or flag member) if present
_BYTES = 3    # the payload itself (a Bytes codec)
_STRUCT = 4   # read(buf, offset) when the payload is `size` bytes
_ADDRESS = 5  # lookup[payload] or _address(payload), for `size` bytes (0: the
              # size of the enclosing header's family: ADDRESS_SIZE_BY_FAMILY)
_STRING = 6   # the UTF-8 text before the NUL that ends the payload
_HWADDR = 7   # the payload as "aa:bb:..." (a HwAddr codec)
_NESTED = 8   # this walk, one level down, in the Nested codec's table
_BY_KIND = 9  # the codec chosen by a sibling: _NESTED if it is Nested, else decode
_CALL = 10    # call codec.decode

# Kinds whose Attr depends on the attribute's bytes alone (not on the family
# or a sibling): a dump repeats many of them (IFLA_MTU 1500, IFLA_TXQLEN
# 1000, IFLA_INET6_CONF, the IFA_CACHEINFO of addresses made together...),
# and Attr objects and their values are immutable, so within one call
# (one decode of a whole buffer) the walk reuses the Attr it made for the
# same bytes in the same table.  Besides the work, that saves the garbage
# collector from tracking tens of thousands of objects in a big dump.
# Nothing is kept between calls.
_LAST_REUSED = _STRUCT  # kinds up to this one are reused (_INT ... _STRUCT)
Reuse = dict[AttrTable, dict[bytes, Attr]]  # per table: attribute bytes -> Attr

if TYPE_CHECKING:
    Step = tuple[str, Any, int, Any, int, Any]  # (name, codec, kind, read, size, lookup)
_PLANS: dict[AttrTable, dict[int, Step]] = {}


def _step(name: str, codec: Any) -> Step:
    """What the walk does for one attribute number of a table."""
    if isinstance(codec, Int):
        unpack = codec.struct.unpack_from
        if codec.names is None:
            return name, codec, _INT, unpack, codec.size, None
        lookup = (flag_cache(codec.names) if issubclass(codec.names, KernelFlag)
                  else enum_members(codec.names))
        return name, codec, _NAMED, unpack, codec.size, lookup
    if isinstance(codec, IPAddr):
        return name, codec, _ADDRESS, None, codec.size or 0, _ADDRESSES
    if isinstance(codec, Struct):
        return name, codec, _STRUCT, struct_decoder(codec.cls), codec.size, None
    if isinstance(codec, String):
        return name, codec, _STRING, None, -1, None
    if isinstance(codec, Nested):
        return name, codec, _NESTED, None, -1, None
    if isinstance(codec, ByKind):
        return name, codec, _BY_KIND, None, -1, None
    if type(codec) is Bytes:
        return name, codec, _BYTES, None, -1, None
    if type(codec) is HwAddr:
        return name, codec, _HWADDR, None, -1, None
    return name, codec, _CALL, None, -1, None


def _plan(table: AttrTable) -> dict[int, Step]:
    """The steps of ``table``, made on its first walk (tables never change)."""
    plan = _PLANS.get(table)
    if plan is None:
        plan = _PLANS[table] = {number: _step(name, codec)
                                for number, (name, codec) in table.specs.items()}
    return plan


_SLOW = object()  # the inline read did not apply: ask the codec
_unpack_nla_header = NLA_HEADER.unpack_from


def _walk(buf: bytes, start: int, end: int, table: AttrTable, ctx: Ctx, out: list[Attr],
          values: dict[str, Any] | None, reuse: Reuse | None) -> None:
    """attrs.decode_attrs without a trace: appends Attr objects to ``out``, or
    with ``values`` stores each named value there instead (``out`` stays empty).
    With ``reuse``, Attr objects already made for the same bytes are reused."""
    plan = _plan(table)
    seen = None if reuse is None else reuse.get(table)
    if seen is None and reuse is not None:
        seen = reuse[table] = {}
    family_size = ADDRESS_SIZE_BY_FAMILY.get(ctx.family, -1)
    append = out.append
    unpack_header = _unpack_nla_header
    make_attr = new_attr
    pos = start
    while pos < end:
        if end - pos < 4:
            read_attr_header(buf, pos, end)  # raises the precise DecodeError
        nla_len, nla_type = unpack_header(buf, pos)
        payload_end = pos + nla_len
        if nla_len < 4 or payload_end > end:
            read_attr_header(buf, pos, end)
        step = plan.get(nla_type & NLA_TYPE_MASK)
        raw = None
        key = None
        value: Any
        if step is None:
            name = None
            value = buf[pos + 4:payload_end]
        else:
            name, codec, kind, read, size, lookup = step
            if kind <= _LAST_REUSED and seen is not None:
                key = buf[pos:payload_end]
                attr = seen.get(key)
                if attr is not None:
                    if values is None:
                        append(attr)
                    elif name not in values:
                        values[name] = attr.value
                    pos = (payload_end + 3) & ~3
                    continue
            length = nla_len - 4
            value = _SLOW
            if kind == _BYTES:
                value = buf[pos + 4:payload_end]
            elif kind == _INT:
                if length == size:
                    value = read(buf, pos + 4)[0]
            elif kind == _NAMED:
                if length == size:
                    value = lookup.get(read(buf, pos + 4)[0], _SLOW)
            elif kind == _ADDRESS:
                if length == (size or family_size):
                    packed = buf[pos + 4:payload_end]
                    value = lookup.get(packed)
                    if value is None:
                        value = _address(packed)
            elif kind == _STRUCT:
                if length == size:
                    value = read(buf, pos + 4)
            elif kind == _STRING:
                if buf.find(b"\0", pos + 4, payload_end) == payload_end - 1:
                    value = buf[pos + 4:payload_end - 1].decode("utf-8", "surrogateescape")
            elif kind == _HWADDR:
                value = buf[pos + 4:payload_end].hex(":")
            elif kind == _NESTED or kind == _BY_KIND:
                nested = codec if kind == _NESTED else codec.choose(out)
                if isinstance(nested, Nested):
                    inner: list[Attr] = []
                    _walk(buf, pos + 4, payload_end, nested.table, ctx.nested(), inner, None,
                          reuse)
                    value = AttrList(inner)
            if value is _SLOW:
                try:
                    value = codec.decode(buf, pos + 4, payload_end, ctx, out)
                except Unfit:
                    value = buf[pos + 4:payload_end]
                else:
                    if value.__class__ is Keep:
                        raw = value.raw
                        value = value.value
        if values is None:
            attr = make_attr(nla_type, value, name, raw)
            if key is not None and seen is not None:
                seen[key] = attr
            append(attr)
        elif name is not None and name not in values:
            values[name] = value
        pos = (payload_end + 3) & ~3  # attrs.align4, inline


def decode_attrs(buf: bytes, start: int, end: int, table: AttrTable, ctx: Ctx) -> AttrList:
    """:func:`attrs.decode_attrs` without a trace (``ctx.trace`` must be None)."""
    out: list[Attr] = []
    _walk(buf, start, end, table, ctx, out, None, None)
    return AttrList(out)


# -- messages -----------------------------------------------------------------------

_ERROR = int(NLMSG.NLMSG_ERROR)
_CAPPED = int(NLM_F.NLM_F_CAPPED)
_ACK_TLVS = int(NLM_F.NLM_F_ACK_TLVS)
_EMPTY = AttrList()

# The context of a message's top-level attributes, by the family of its
# header: contexts are never changed, so one per family serves every message.
_CONTEXTS: dict[int, Ctx] = {}
_MESSAGE_TYPES = {number: message_type(number) for number in FAMILIES}  # message_type, inline


def _context(family: int) -> Ctx:
    ctx = _CONTEXTS.get(family)
    if ctx is None:
        ctx = Ctx(family, 1)
        if len(_CONTEXTS) < 256:  # the family is one byte
            _CONTEXTS[family] = ctx
    return ctx


_unpack_nlmsghdr = NLMSGHDR.unpack_from


def frames(buf: bytes) -> list[Frame]:
    """:func:`message.frames`, faster (the alignment inline, no call per message)."""
    out: list[Frame] = []
    append = out.append
    pos = 0
    end = len(buf)
    while pos < end:
        if end - pos < 16:
            return reference_frames(buf)  # raises the reference's DecodeError
        length, mtype, flags, seq, pid = _unpack_nlmsghdr(buf, pos)
        if length < 16 or pos + length > end:
            return reference_frames(buf)
        append((pos, pos + length, mtype, flags, seq, pid))
        pos += (length + 3) & ~3
    return out


def decode(data: bytes | bytearray | memoryview) -> list[Message]:
    """:func:`message.decode`, faster (no trace)."""
    buf = data if isinstance(data, bytes) else bytes(data)
    reuse: Reuse = {}  # one for the whole buffer: a dump's messages share much
    return [_decode_frame(buf, frame, reuse) for frame in frames(buf)]


def decode_frame(buf: bytes, frame: Frame) -> Message:
    """:func:`message.decode_frame`, faster (one message: nothing to reuse)."""
    return _decode_frame(buf, frame, None)


def _decode_frame(buf: bytes, frame: Frame, reuse: Reuse | None) -> Message:
    pos, end, mtype, flags, seq, pid = frame
    family = FAMILIES.get(mtype)
    if family is not None:
        header, start = _fixed_header(buf, pos + 16, end, mtype, family.header)
        ctx = _CONTEXTS.get(header.family) or _context(header.family)
        out: list[Attr] = []
        _walk(buf, start, end, family.table, ctx, out, None, reuse)
        return new_message(_MESSAGE_TYPES.get(mtype, mtype), flags, seq, pid, header,
                           AttrList(out), b"")
    if mtype == _ERROR:
        return _decode_error(buf, pos + 16, end, flags, seq, pid)
    return reference_decode_frame(buf, frame)  # NLMSG_DONE, types without a table: rare


def header_and_values(buf: bytes, frame: Frame) -> tuple[Any, dict[str, Any]]:
    """:func:`message.header_and_values`, faster: no Attr object is made."""
    pos, end, mtype = frame[0], frame[1], frame[2]
    family = FAMILIES.get(mtype)
    if family is None:
        raise DecodeError(f"{type_name(mtype)} has no attribute table", pos)
    header, start = _fixed_header(buf, pos + 16, end, mtype, family.header)
    values: dict[str, Any] = {}
    _walk(buf, start, end, family.table, _context(header.family), [], values, None)
    return header, values


def _fixed_header(buf: bytes, body: int, end: int, mtype: int, header_class: type[CStruct]
                  ) -> tuple[Any, int]:
    """:func:`message.fixed_header`, with the generated struct decoder."""
    size = header_class.SIZE
    if end - body < size:
        raise DecodeError(f"{type_name(mtype)} body of {end - body} bytes is shorter "
                          f"than its {header_class.C_NAME} ({size} bytes)", body)
    start = body + ((size + 3) & ~3)
    return struct_decoder(header_class)(buf, body), start if start < end else end


def _decode_error(buf: bytes, body: int, end: int, flags: int, seq: int, pid: int) -> Message:
    """An NLMSG_ERROR (every ack is one), as message.decode_frame reads it."""
    if end - body < 20:
        raise DecodeError(f"NLMSG_ERROR body of {end - body} bytes is shorter than "
                          f"struct nlmsgerr (20 bytes)", body)
    error = ERROR_CODE.unpack_from(buf, body)[0]
    request = struct_decoder(NlMsgHdr)(buf, body + 4)
    echoed = body + 20
    payload = b""
    if not flags & _CAPPED:
        if request.length < 16:
            raise DecodeError(f"echoed request's nlmsg_len {request.length} is shorter "
                              f"than its 16-byte nlmsghdr", body + 4)
        payload_end = echoed + request.length - 16
        if payload_end > end:
            raise DecodeError(f"echoed request's nlmsg_len {request.length} runs past "
                              f"the NLMSG_ERROR ({end - body - 4} bytes left)", body + 4)
        payload = buf[echoed:payload_end]
        echoed = payload_end
    attrs = _EMPTY
    start = (echoed + 3) & ~3
    if flags & _ACK_TLVS:
        attrs = decode_attrs(buf, start if start < end else end, end, NLMSGERR, Ctx(0, 1))
    elif start < end:
        raise DecodeError(f"{end - start} byte(s) after the body, but NLM_F_ACK_TLVS "
                          f"is not set", start)
    return new_message(message_type(_ERROR), flags, seq, pid,
                       _new_nlmsgerr(error, request, payload), attrs, b"")


# -- building and encoding requests ---------------------------------------------------

_CHECK_CTX = Ctx()  # a value is checked alone: no family, no siblings


def make_attr(key: Any, value: Any) -> Attr:
    """:func:`tables.make_attr`, building the Attr with the fast constructor.

    The same steps; any error is left to the reference, which raises it.
    """
    value_class = value.__class__
    if value_class is list or value_class is AttrList:
        items = AttrList(value)
        for item in items:
            if item.__class__ is not Attr:
                return reference_make_attr(key, value)
        nla_type, name, _ = attr_spec(key)
        return new_attr(nla_type, items, name, None)
    if isinstance(value, (list, AttrList)):
        return reference_make_attr(key, value)  # subclasses: the long way
    nla_type, name, codec = attr_spec(key)
    try:
        codec.encode(value, _CHECK_CTX, ())
    except EncodeError:
        return reference_make_attr(key, value)  # raises the reference's error
    return new_attr(nla_type, value, name, None)


def encode(messages: Message | Iterable[Message]) -> bytes:
    """:func:`message.encode`, faster."""
    if isinstance(messages, Message):
        messages = [messages]
    out = bytearray()
    for message in messages:
        _check_message(message)
        _encode_message(out, message, message.flags, message.seq, message.pid)
    return bytes(out)


def encode_stamped(messages: Iterable[Message], stamps: Iterable[tuple[int, int, int]]) -> bytes:
    """:func:`message.encode_stamped`, faster."""
    out = bytearray()
    for message, (flags, seq, pid) in zip(messages, stamps, strict=True):
        _check_message(message)
        _encode_message(out, message, flags, seq, pid)
    return bytes(out)


def _check_message(message: Any) -> None:
    if message.__class__ is not Message and not isinstance(message, Message):
        raise EncodeError(f"expected a Message, got {type(message).__name__}")


class _Unusual(Exception):
    """Raised inside the fast encoder for anything it does not do itself:
    the message is then encoded again by the reference, which has the last
    word (and the exact EncodeError)."""


_PADDING = (b"", b"\0\0\0", b"\0\0", b"\0")  # indexed by length & 3: align4, inline
_HEADER_ROOM = bytes(16)
_pack_nlmsghdr_into = NLMSGHDR.pack_into
_pack_nla_header = NLA_HEADER.pack
_PACKERS: dict[type, Callable[[Any], bytes]] = {}


def _packer(cls: type[CStruct]) -> Callable[[Any], bytes]:
    """``header.pack()`` without the generic field loop, made once per class."""
    packer = _PACKERS.get(cls)
    if packer is None:
        reads = ", ".join(f"obj.{name}" for name in cls.FIELD_NAMES)
        namespace: dict[str, Any] = {"pack": cls.STRUCT.pack}
        exec(compile(f"def pack_fields(obj):\n    return pack({reads})\n",
                     f"<packer of {cls.__name__}>", "exec"), namespace)
        packer = namespace["pack_fields"]
        _PACKERS[cls] = packer
    return packer


def _encode_message(out: bytearray, message: Message, flags: int, seq: int, pid: int) -> None:
    """Append one message as message.encode_into does; the reference does
    anything unusual (and reports every error)."""
    start = len(out)
    family = FAMILIES.get(message.type) if message.__class__ is Message else None
    header: Any = message.header
    if family is not None and header.__class__ is family.header:
        try:
            out += _HEADER_ROOM
            out += _packer(family.header)(header)
            if message.attrs:
                out += _PADDING[len(out) & 3]
                family_number = header.family  # type: ignore[attr-defined]  # all have one
                _encode_attrs(out, message.attrs, family.table, family_number)
            length = len(out) - start
            _pack_nlmsghdr_into(out, start, length, message.type, flags, seq, pid)
            out += _PADDING[length & 3]
            return
        except (_Unusual, struct.error, TypeError, OverflowError):
            del out[start:]
    reference_encode_into(out, message, flags, seq, pid)


_IPV4 = ipaddress.IPv4Address
_IPV6 = ipaddress.IPv6Address
_VERSION_BY_SIZE = {4: 4, 16: 6}


def _encode_attrs(out: bytearray, attrs: Any, table: AttrTable, family: int) -> None:
    """attrs.encode_attrs_into for the usual values of five codec types."""
    plan = _plan(table)
    for index, item in enumerate(attrs):
        if item.__class__ is not Attr or item.raw is not None:
            raise _Unusual
        nla_type = item.type
        value = item.value
        step = plan.get(nla_type & NLA_TYPE_MASK)
        if step is None:
            raise _Unusual
        codec = step[1]
        codec_class = codec.__class__
        value_class = value.__class__
        if value_class is bytes:
            payload = value
        elif codec_class is Int:
            if value_class is bool or not isinstance(value, int):
                raise _Unusual
            payload = codec.struct.pack(value)
        elif codec_class is IPAddr:
            if value_class is not _IPV4 and value_class is not _IPV6:
                raise _Unusual
            want = codec.version or _VERSION_BY_SIZE.get(ADDRESS_SIZE_BY_FAMILY.get(family, 0))
            if want is not None and value.version != want:
                raise _Unusual
            payload = value.packed
        elif codec_class is String:
            if value_class is not str or not value.isascii() or "\0" in value:
                raise _Unusual
            if codec.max_length is not None and len(value) > codec.max_length:
                raise _Unusual
            payload = value.encode() + b"\0"
        elif codec_class is Nested or codec_class is ByKind:
            if codec_class is ByKind:
                codec = codec.choose(attrs[:index])
                if codec.__class__ is not Nested:
                    raise _Unusual
            if value_class is not AttrList:
                raise _Unusual
            nest = len(out)
            out += _pack_nla_header(0, nla_type)  # like libmnl's mnl_attr_nest_start
            _encode_attrs(out, value, codec.table, family)
            length = len(out) - nest
            NLA_HEADER.pack_into(out, nest, length, nla_type)  # ...and _nest_end
            out += _PADDING[length & 3]
            continue
        elif codec_class is NestedMessage:
            header: Any = value.header if value_class is NestedMessageValue else None
            if header.__class__ is not codec.header or value.attrs.__class__ is not AttrList:
                raise _Unusual
            nest = len(out)
            out += _pack_nla_header(0, nla_type)
            out += _packer(codec.header)(header)
            out += _PADDING[len(out) & 3]
            _encode_attrs(out, value.attrs, codec.table, getattr(header, "family", family))
            length = len(out) - nest
            NLA_HEADER.pack_into(out, nest, length, nla_type)
            out += _PADDING[length & 3]
            continue
        else:
            raise _Unusual
        length = 4 + len(payload)
        out += _pack_nla_header(length, nla_type)
        out += payload
        out += _PADDING[length & 3]
