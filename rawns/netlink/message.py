# Invariants:
# - decode() accepts any bytes and either returns messages or raises
#   DecodeError with the byte offset of the problem; it never reads outside
#   the nlmsg_len of the message it is in, and every loop step advances.
# - encode(decode(b)) == b for what the kernel sends: exact attribute types,
#   raw bytes for what the tables cannot read, each message padded to 4
#   bytes with zeros (padding is ignored when read).
# - Messages are frozen, keyword-only dataclasses; decode builds them with
#   fast constructors, which skip __init__ but store the same fields.
# - Standard library and rawns.errors only.
"""Netlink messages: framing of ``nlmsghdr`` and the body of each type.

A buffer from a netlink socket holds one or more messages, each padded to
a multiple of 4 bytes::

    +----------+----------------+------------+------+----------+----
    | nlmsghdr | family header  | attributes | pad  | nlmsghdr | ...
    | 16 bytes | e.g. ifinfomsg | (TLVs)     | 0..3 |          |
    +----------+----------------+------------+------+----------+----
    |<------------- nlmsg_len --------------->|

The body after ``nlmsghdr`` depends on ``nlmsg_type``: RTM_*LINK carries an
``ifinfomsg`` then IFLA_* attributes, RTM_*ADDR an ``ifaddrmsg`` then IFA_*,
and so on (see :mod:`tables`); NLMSG_ERROR carries ``struct nlmsgerr`` (the
error, the echoed request) then extended-ack attributes; NLMSG_DONE an int.
"""

from __future__ import annotations

import dataclasses
import gc
import struct
from dataclasses import dataclass
from typing import Any, Iterable

from rawns.errors import DecodeError, EncodeError

from .attrs import AttrAccess, AttrList, Ctx, TraceEntry, decode_attrs, decode_values, \
    encode_attrs_into, fast_constructor
from .constants import NLM_F, NLMSG, NLMSGERR_ATTR, enum_name, nlm_flag_names
from .structs import NlMsgErr, NlMsgHdr, message_type
from .tables import FAMILIES, NLMSGERR

__all__ = ["Message", "decode", "encode", "encode_message", "encode_stamped", "frames",
           "decode_frame", "header_and_values", "is_plain_done"]

_NLMSGHDR = struct.Struct("=IHHII")
_unpack_nlmsghdr = _NLMSGHDR.unpack_from
_S32 = struct.Struct("=i")
_ERROR = int(NLMSG.NLMSG_ERROR)
_DONE = int(NLMSG.NLMSG_DONE)
_CAPPED = int(NLM_F.NLM_F_CAPPED)
_ACK_TLVS = int(NLM_F.NLM_F_ACK_TLVS)
_EMPTY = AttrList()


@dataclass(frozen=True, kw_only=True, slots=True)
class Message(AttrAccess):
    """One netlink message.

    ``type`` is the nlmsg_type (an ``RTM``/``NLMSG`` member when known);
    ``flags``, ``seq`` and ``pid`` are the nlmsghdr fields (nlmsg_len is
    computed by :func:`encode`).  ``header`` is the fixed header after the
    nlmsghdr: ``IfInfoMsg``, ``IfAddrMsg``, ``NdMsg``, ``RtMsg``, ``RtGenMsg``;
    an ``NlMsgErr`` for NLMSG_ERROR; the int error for NLMSG_DONE; None for
    types without a table.  ``attrs`` are the attributes (for NLMSG_ERROR and
    NLMSG_DONE: the extended-ack NLMSGERR_ATTR_*).  ``payload`` holds the body
    of types without a table, as bytes.

    Lookups: ``msg.get("IFLA_IFNAME")``, ``msg.get(IFLA.IFLA_MTU, 1500)``,
    ``msg.get_path("IFLA_LINKINFO", "IFLA_INFO_KIND")``, ``msg.attr(...)``.
    """

    type: int
    flags: int = 0
    seq: int = 0
    pid: int = 0
    header: Any = None
    attrs: AttrList = _EMPTY
    payload: bytes = b""

    def _attr_list(self) -> AttrList:
        return self.attrs

    def with_seq(self, seq: int, pid: int | None = None) -> Message:
        """A copy with ``seq`` (and ``pid`` if given) set; for the socket layer."""
        if pid is None:
            return dataclasses.replace(self, seq=seq)
        return dataclasses.replace(self, seq=seq, pid=pid)

    @property
    def type_name(self) -> str:
        """``"RTM_NEWLINK"``, ``"NLMSG_ERROR"``... or the number as text."""
        member = message_type(self.type)
        return getattr(member, "name", str(self.type))

    @property
    def flag_names(self) -> list[str]:
        """The nlmsghdr flags by name, read as this message type means them."""
        return nlm_flag_names(self.type, self.flags)

    @property
    def error(self) -> int | None:
        """For NLMSG_ERROR and NLMSG_DONE: 0 or a negative errno; else None."""
        if isinstance(self.header, NlMsgErr):
            return self.header.error
        if self.type == _DONE and isinstance(self.header, int):
            return self.header
        return None

    @property
    def is_ack(self) -> bool:
        """True for an NLMSG_ERROR whose error is 0 (success)."""
        return isinstance(self.header, NlMsgErr) and self.header.error == 0

    @property
    def extack(self) -> str | None:
        """The kernel's extended-ack message (NLMSGERR_ATTR_MSG), if any."""
        if self.type not in (_ERROR, _DONE):
            return None
        value = self.attrs.get(NLMSGERR_ATTR.NLMSGERR_ATTR_MSG)
        return value if isinstance(value, str) else None

    @property
    def extack_offset(self) -> int | None:
        """NLMSGERR_ATTR_OFFS: the byte offset in the request of the bad attribute."""
        if self.type not in (_ERROR, _DONE):
            return None
        value = self.attrs.get(NLMSGERR_ATTR.NLMSGERR_ATTR_OFFS)
        return value if isinstance(value, int) else None

    def to_dict(self) -> dict[str, Any]:
        """A plain-data view (names as keys) for printing and tests."""
        header = self.header.to_dict() if hasattr(self.header, "to_dict") else self.header
        result = {"type": self.type_name, "flags": self.flag_names, "seq": self.seq,
                  "pid": self.pid, "header": header, "attrs": self.attrs.to_dict()}
        if self.payload:
            result["payload"] = self.payload
        return result


_new_message = fast_constructor(Message)
_new_nlmsgerr = fast_constructor(NlMsgErr)  # (error, request, request_payload): one per ack


def decode(data: bytes | bytearray | memoryview) -> list[Message]:
    """Decode every netlink message in ``data`` (what one recv returned).

    Raises DecodeError (a ValueError, with ``.offset``) for malformed input,
    and nothing else.  Payloads that the tables cannot read are kept as raw
    bytes rather than rejected, so that ``encode`` gives the bytes back.
    """
    buf = data if isinstance(data, bytes) else bytes(data)
    if len(buf) < _GC_PAUSE_MIN or not gc.isenabled():
        return decode_buffer(buf, None)
    # A dump makes tens of thousands of small objects and no reference
    # cycles, while the cyclic collector, triggered every 700 allocations,
    # would traverse ever more of them (half the decoding time of a big link
    # dump).  Pause it meanwhile; it resumes, and may run, right after.
    gc.disable()
    try:
        return decode_buffer(buf, None)
    finally:
        gc.enable()


_GC_PAUSE_MIN = 8192  # bytes: below, decoding is over before a collection matters


def decode_buffer(buf: bytes, trace: list | None) -> list[Message]:
    """:func:`decode` on ``bytes``; ``trace`` (for :mod:`explain`) collects entries."""
    messages: list[Message] = []
    append = messages.append
    for pos, end, mtype, flags, seq, pid in frames(buf):
        if trace is not None:
            entry = TraceEntry("message", 0, pos, end - pos, mtype)
            entry.value = (flags, seq, pid)
            entry.raw = buf[pos:pos + 16]
            trace.append(entry)
        append(_decode_one(buf, pos, end, mtype, flags, seq, pid, trace))
    return messages


Frame = tuple  # (start, end, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid)


def frames(buf: bytes) -> list[Frame]:
    """Where each message of ``buf`` lies, and its nlmsghdr: one
    ``(start, end, type, flags, seq, pid)`` per message, ``end`` being
    ``start + nlmsg_len``. Raises DecodeError if the framing is broken
    anywhere; bodies are not read (see :func:`decode_frame` and
    :func:`header_and_values`)."""
    out: list[Frame] = []
    append = out.append
    pos = 0
    end = len(buf)
    while pos < end:
        if end - pos < 16:
            raise DecodeError(f"{end - pos} stray byte(s) where a 16-byte nlmsghdr "
                              f"should start", pos)
        length, mtype, flags, seq, pid = _unpack_nlmsghdr(buf, pos)
        if length < 16:
            raise DecodeError(f"nlmsg_len {length} is shorter than the 16-byte nlmsghdr", pos)
        if pos + length > end:
            raise DecodeError(f"nlmsg_len {length} runs past the end of the buffer "
                              f"({end - pos} bytes left)", pos)
        append((pos, pos + length, mtype, flags, seq, pid))
        pos += (length + 3) & ~3
    return out


def decode_frame(buf: bytes, frame: Frame) -> Message:
    """The Message of one frame of ``buf`` (see :func:`frames`)."""
    pos, end, mtype, flags, seq, pid = frame
    return _decode_one(buf, pos, end, mtype, flags, seq, pid, None)


def is_plain_done(buf: bytes, frame: Frame) -> bool:
    """Whether a frame is the usual end of a dump: NLMSG_DONE with error 0 and
    no extended ack, so that there is nothing in it to decode."""
    pos, end, mtype, flags = frame[0], frame[1], frame[2], frame[3]
    return (mtype == _DONE and end - pos == 20 and not flags & _ACK_TLVS
            and _S32.unpack_from(buf, pos + 16)[0] == 0)


def header_and_values(buf: bytes, frame: Frame) -> tuple[Any, dict[str, Any]]:
    """The fixed header and the attribute values by kernel name (the first of
    a repeated one) of one frame whose type has a table (RTM_NEWADDR...).

    What a reader of many objects wants: the same tables as :func:`decode`,
    without an Attr or Message object per attribute and message.  Raises
    DecodeError for a type without a table or a malformed body.
    """
    pos, end, mtype = frame[0], frame[1], frame[2]
    family = FAMILIES.get(mtype)
    if family is None:
        raise DecodeError(f"{enum_name_of(mtype)} has no attribute table", pos)
    header, start = _fixed_header(buf, pos + 16, end, mtype, family.header)
    return header, decode_values(buf, start, end, family.table, _context(header.family))


def _fixed_header(buf: bytes, body: int, end: int, mtype: int, header_class: Any
                  ) -> tuple[Any, int]:
    """The fixed header at ``body`` and where the attributes after it start."""
    size = header_class.SIZE
    if end - body < size:
        raise DecodeError(f"{enum_name_of(mtype)} body of {end - body} bytes is shorter "
                          f"than its {header_class.C_NAME} ({size} bytes)", body)
    start = body + ((size + 3) & ~3)
    return header_class._DECODE(buf, body), start if start < end else end


def _context(family: int) -> Ctx:
    """The (unchanging) context of a message's top-level attributes."""
    ctx = _CONTEXTS.get(family)
    if ctx is None:
        ctx = _CONTEXTS[family] = Ctx(family, 1)
    return ctx


def _decode_one(buf: bytes, pos: int, end: int, mtype: int, flags: int, seq: int, pid: int,
                trace: list | None) -> Message:
    body = pos + 16
    family = FAMILIES.get(mtype)
    if family is not None:
        header, start = _fixed_header(buf, body, end, mtype, family.header)
        if trace is None:
            ctx = _context(header.family)
        else:
            _trace_header(trace, body, family.header.SIZE, family.header.C_NAME, header, buf)
            ctx = Ctx(header.family, 1, trace)
        attrs = decode_attrs(buf, start, end, family.table, ctx)
        return _new_message(message_type(mtype), flags, seq, pid, header, attrs, b"")
    if mtype == _ERROR:
        return _decode_error(buf, body, end, mtype, flags, seq, pid, trace)
    if mtype == _DONE and end - body >= 4:
        error = _S32.unpack_from(buf, body)[0]
        if trace is not None:
            _trace_header(trace, body, 4, "int error", error, buf)
        attrs = _decode_extack(buf, body + 4, end, flags, trace)
        return _new_message(message_type(mtype), flags, seq, pid, error, attrs, b"")
    if mtype == _DONE and end != body:
        raise DecodeError(f"NLMSG_DONE body of {end - body} bytes: expected an int error", body)
    if trace is not None and end > body:
        entry = TraceEntry("payload", 1, body, end - body)
        entry.raw = buf[body:end]
        trace.append(entry)
    return _new_message(message_type(mtype), flags, seq, pid, None, _EMPTY, buf[body:end])


# The context of a message's top-level attributes, by the family of its header:
# contexts are never changed, so one per family serves every message.
_CONTEXTS: dict[int, Ctx] = {}


def enum_name_of(mtype: int) -> str:
    return getattr(message_type(mtype), "name", f"message type {mtype}")


def _trace_header(trace: list, offset: int, size: int, name: str, value: Any,
                  buf: bytes) -> None:
    entry = TraceEntry("header", 1, offset, size, name=name)
    entry.value = value
    entry.raw = buf[offset:offset + size]
    trace.append(entry)


def _decode_error(buf: bytes, body: int, end: int, mtype: int, flags: int, seq: int,
                  pid: int, trace: list | None) -> Message:
    if end - body < 20:
        raise DecodeError(f"NLMSG_ERROR body of {end - body} bytes is shorter than "
                          f"struct nlmsgerr (20 bytes)", body)
    error = _S32.unpack_from(buf, body)[0]
    request = NlMsgHdr._DECODE(buf, body + 4)
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
    header = _new_nlmsgerr(error, request, payload)
    if trace is not None:
        _trace_header(trace, body, echoed - body, "nlmsgerr", header, buf)
    attrs = _decode_extack(buf, (echoed + 3) & ~3, end, flags, trace)
    return _new_message(message_type(mtype), flags, seq, pid, header, attrs, b"")


def _decode_extack(buf: bytes, start: int, end: int, flags: int,
                   trace: list | None) -> AttrList:
    if flags & _ACK_TLVS:
        return decode_attrs(buf, start if start < end else end, end, NLMSGERR,
                            Ctx(0, 1, trace))
    if start < end:
        raise DecodeError(f"{end - start} byte(s) after the body, but NLM_F_ACK_TLVS "
                          f"is not set", start)
    return _EMPTY


# -- encoding -----------------------------------------------------------------------

def encode(messages: Message | Iterable[Message]) -> bytes:
    """Encode one message or several into one buffer (each padded to 4 bytes).

    ``nlmsg_len`` is computed; everything else comes from the Message.
    Raises EncodeError (a ValueError) for values that do not fit.
    """
    out = bytearray()
    if isinstance(messages, Message):
        _encode_into(out, messages, messages.flags, messages.seq, messages.pid)
    else:
        for message in messages:
            _check_message(message)
            _encode_into(out, message, message.flags, message.seq, message.pid)
    return bytes(out)


def encode_message(message: Message) -> bytes:
    """Encode one message, padded to a multiple of 4 bytes."""
    _check_message(message)
    out = bytearray()
    _encode_into(out, message, message.flags, message.seq, message.pid)
    return bytes(out)


def encode_stamped(messages: Iterable[Message], stamps: Iterable[tuple[int, int, int]]) -> bytes:
    """Encode ``messages`` with nlmsghdr fields given apart, for the socket layer.

    ``stamps`` holds one ``(flags, seq, pid)`` per message.  The bytes equal
    ``encode([replace(m, flags=f, seq=s, pid=p) ...])`` without building the
    copies.
    """
    out = bytearray()
    for message, (flags, seq, pid) in zip(messages, stamps, strict=True):
        _check_message(message)
        _encode_into(out, message, flags, seq, pid)
    return bytes(out)


def _check_message(message: Any) -> None:
    if not isinstance(message, Message):
        raise EncodeError(f"expected a Message, got {type(message).__name__}")


_HEADER_ROOM = bytes(16)  # nlmsghdr placeholder, filled in once the length is known


def _encode_into(out: bytearray, message: Message, flags: int, seq: int, pid: int) -> None:
    """Append one message, with these nlmsghdr fields, padded to 4 bytes."""
    start = len(out)
    out += _HEADER_ROOM
    _encode_body(out, message)
    length = len(out) - start
    try:
        _NLMSGHDR.pack_into(out, start, length, message.type, flags, seq, pid)
    except struct.error as err:
        raise EncodeError(f"nlmsghdr of {message.type_name}: {err}") from err
    out += _PADDING[length & 3]


_PADDING = (b"", b"\0\0\0", b"\0\0", b"\0")  # indexed by length & 3


def _encode_body(out: bytearray, message: Message) -> None:
    mtype = message.type
    family = FAMILIES.get(mtype)
    if family is not None:
        header = message.header
        if not isinstance(header, family.header):
            raise EncodeError(f"{message.type_name} needs a {family.header.__name__} "
                              f"header, got {header!r}")
        out += header.pack()
        if message.attrs:
            out += _PADDING[len(out) & 3]
            encode_attrs_into(out, message.attrs, family.table, Ctx(header.family))
        return
    if mtype == _ERROR:
        header = message.header
        if not isinstance(header, NlMsgErr):
            raise EncodeError(f"NLMSG_ERROR needs an NlMsgErr header, got {header!r}")
        try:
            out += _S32.pack(header.error)
        except struct.error as err:
            raise EncodeError(f"NLMSG_ERROR error {header.error}: {err}") from err
        out += header.request.pack()
        out += header.request_payload
        out += _PADDING[len(out) & 3]
        encode_attrs_into(out, message.attrs, NLMSGERR, Ctx())
        return
    if mtype == _DONE and message.header is not None:
        try:
            out += _S32.pack(message.header)
        except (struct.error, TypeError) as err:
            raise EncodeError(f"NLMSG_DONE error {message.header!r}: {err}") from err
        encode_attrs_into(out, message.attrs, NLMSGERR, Ctx())
        return
    if message.attrs:
        raise EncodeError(f"{message.type_name} has no attribute table: put its body "
                          f"in payload")
    out += message.payload


def _enum_text(value: int) -> str:
    return enum_name(NLMSG, value)
