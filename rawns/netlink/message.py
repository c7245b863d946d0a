# Invariants:
# - decode() accepts any bytes and either returns messages or raises
#   DecodeError with the byte offset of the problem; it never reads outside
#   the nlmsg_len of the message it is in, and every loop step advances.
# - encode(decode(b)) == b for what the kernel sends: exact attribute types,
#   raw bytes for what the tables cannot read, each message padded to 4
#   bytes with zeros (padding is ignored when read).
# - Messages are frozen, keyword-only dataclasses.
# - This is the reference decoder: plain code.  rawns.netlink.fast has the
#   same decode, decode_frame and header_and_values, faster, held equal to
#   these by tests; rawns.netlink exports the fast ones.
# - Standard library and rawns.errors only.
"""Netlink messages: the framing of ``nlmsghdr`` and each type's body, both ways.

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

import struct

from rawns.errors import DecodeError, EncodeError
from rawns.records import record, replace

from .attrs import AttrAccess, AttrList, AttrTable, Ctx, TraceEntry, align4, decode_attrs, \
    encode_attrs_into
from .constants import NLM_F, NLMSG, NLMSGERR_ATTR, message_type, nlm_flag_names
from .structs import CStruct, NlMsgErr, NlMsgHdr
from .tables import FAMILIES, NLMSGERR

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Iterable

__all__ = ["Message", "Frame", "decode", "encode", "encode_stamped", "frames",
           "decode_frame", "header_and_values", "is_plain_done", "fixed_header",
           "type_name", "NLMSGHDR", "ERROR_CODE"]

NLMSGHDR = NlMsgHdr.STRUCT
"""``struct nlmsghdr``: nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid."""
ERROR_CODE = struct.Struct("=i")
"""The int that starts the body of NLMSG_ERROR and NLMSG_DONE: 0 or -errno."""

_ERROR = int(NLMSG.NLMSG_ERROR)
_DONE = int(NLMSG.NLMSG_DONE)
_CAPPED = int(NLM_F.NLM_F_CAPPED)
_ACK_TLVS = int(NLM_F.NLM_F_ACK_TLVS)
_EMPTY = AttrList()


@record
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
            return replace(self, seq=seq)
        return replace(self, seq=seq, pid=pid)

    @property
    def type_name(self) -> str:
        """``"RTM_NEWLINK"``, ``"NLMSG_ERROR"``... or the number as text."""
        return getattr(message_type(self.type), "name", str(self.type))

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

    @property
    def echoed_request(self) -> Message | None:
        """For an NLMSG_ERROR whose body echoes the request (not NLM_F_CAPPED):
        that request, decoded; else None (also when it does not decode)."""
        header = self.header
        if not isinstance(header, NlMsgErr) or not header.request_payload:
            return None
        request = replace(header.request, length=16 + len(header.request_payload))
        try:
            decoded = decode(request.pack() + header.request_payload)
        except (DecodeError, EncodeError):
            return None
        return decoded[0] if len(decoded) == 1 else None

    def to_dict(self) -> dict[str, Any]:
        """A plain-data view (names as keys) for printing and tests."""
        header = self.header.to_dict() if hasattr(self.header, "to_dict") else self.header
        result = {"type": self.type_name, "flags": self.flag_names, "seq": self.seq,
                  "pid": self.pid, "header": header, "attrs": self.attrs.to_dict()}
        if self.payload:
            result["payload"] = self.payload
        return result


def type_name(mtype: int) -> str:
    """``"RTM_NEWLINK"`` for 16...; ``"message type 99"`` when unknown (for errors)."""
    return getattr(message_type(mtype), "name", f"message type {mtype}")


# -- decoding -----------------------------------------------------------------------

Frame = tuple[int, int, int, int, int, int]
"""Where one message lies in a buffer and its nlmsghdr, by position:
``(start, end, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid)``, ``end``
being ``start + nlmsg_len``.  Plain tuples: a dump has thousands."""


def frames(buf: bytes) -> list[Frame]:
    """Where each message of ``buf`` lies, and its nlmsghdr: one :data:`Frame`
    per message.  Raises DecodeError if the framing is broken anywhere;
    bodies are not read (see :func:`decode_frame` and :func:`header_and_values`)."""
    out: list[Frame] = []
    pos = 0
    end = len(buf)
    while pos < end:
        if end - pos < 16:
            raise DecodeError(f"{end - pos} stray byte(s) where a 16-byte nlmsghdr "
                              f"should start", pos)
        length, mtype, flags, seq, pid = NLMSGHDR.unpack_from(buf, pos)
        if length < 16:
            raise DecodeError(f"nlmsg_len {length} is shorter than the 16-byte nlmsghdr", pos)
        if pos + length > end:
            raise DecodeError(f"nlmsg_len {length} runs past the end of the buffer "
                              f"({end - pos} bytes left)", pos)
        out.append((pos, pos + length, mtype, flags, seq, pid))
        pos += align4(length)
    return out


def decode(data: bytes | bytearray | memoryview,
           trace: list[TraceEntry] | None = None) -> list[Message]:
    """Decode every netlink message in ``data`` (what one recv returned).

    Raises DecodeError (a ValueError, with ``.offset``) for malformed input,
    and nothing else.  Payloads that the tables cannot read are kept as raw
    bytes rather than rejected, so that ``encode`` gives the bytes back.
    With ``trace`` (a list), every message, header and attribute read is
    recorded there too, in wire order: what :mod:`explain` renders.
    """
    buf = bytes(data)
    messages: list[Message] = []
    for frame in frames(buf):
        if trace is not None:
            pos, end, mtype, flags, seq, pid = frame
            entry = TraceEntry("message", 0, pos, end - pos, mtype)
            entry.value = (flags, seq, pid)
            entry.raw = buf[pos:pos + 16]
            trace.append(entry)
        messages.append(decode_frame(buf, frame, trace))
    return messages


def decode_frame(buf: bytes, frame: Frame, trace: list[TraceEntry] | None = None) -> Message:
    """The Message of one frame of ``buf`` (see :func:`frames`)."""
    pos, end, mtype, flags, seq, pid = frame
    body = pos + 16
    family = FAMILIES.get(mtype)
    header: Any = None
    attrs = _EMPTY
    payload = b""
    if family is not None:
        header, start = fixed_header(buf, body, end, mtype, family.header)
        _trace_header(trace, body, family.header.SIZE, family.header.C_NAME, header, buf)
        attrs = decode_attrs(buf, start, end, family.table, Ctx(header.family, 1, trace))
    elif mtype == _ERROR:
        header, echoed = _error_header(buf, body, end, flags)
        _trace_header(trace, body, echoed - body, "nlmsgerr", header, buf)
        attrs = _extack(buf, align4(echoed), end, flags, trace)
    elif mtype == _DONE and end - body >= 4:
        header = ERROR_CODE.unpack_from(buf, body)[0]
        _trace_header(trace, body, 4, "int error", header, buf)
        attrs = _extack(buf, body + 4, end, flags, trace)
    elif mtype == _DONE and end != body:
        raise DecodeError(f"NLMSG_DONE body of {end - body} bytes: expected an int error", body)
    else:
        payload = buf[body:end]
        if trace is not None and payload:
            entry = TraceEntry("payload", 1, body, end - body)
            entry.raw = payload
            trace.append(entry)
    return Message(type=message_type(mtype), flags=flags, seq=seq, pid=pid, header=header,
                   attrs=attrs, payload=payload)


def is_plain_done(buf: bytes, frame: Frame) -> bool:
    """Whether a frame is the usual end of a dump: NLMSG_DONE with error 0 and
    no extended ack, so that there is nothing in it to decode."""
    pos, end, mtype, flags = frame[0], frame[1], frame[2], frame[3]
    return (mtype == _DONE and end - pos == 20 and not flags & _ACK_TLVS
            and ERROR_CODE.unpack_from(buf, pos + 16)[0] == 0)


def header_and_values(buf: bytes, frame: Frame) -> tuple[Any, dict[str, Any]]:
    """The fixed header and the attribute values by kernel name (the first of
    a repeated one) of one frame whose type has a table (RTM_NEWADDR...).

    What a reader of many objects wants: the same tables as :func:`decode`,
    and no Message to build (rawns.netlink.fast makes no Attr object either).
    Raises DecodeError for a type without a table or a malformed body.
    """
    pos, end, mtype = frame[0], frame[1], frame[2]
    family = FAMILIES.get(mtype)
    if family is None:
        raise DecodeError(f"{type_name(mtype)} has no attribute table", pos)
    header, start = fixed_header(buf, pos + 16, end, mtype, family.header)
    values: dict[str, Any] = {}
    for attr in decode_attrs(buf, start, end, family.table, Ctx(header.family, 1)):
        if attr.name is not None and attr.name not in values:
            values[attr.name] = attr.value
    return header, values


def fixed_header(buf: bytes, body: int, end: int, mtype: int, header_class: type[CStruct]
                 ) -> tuple[Any, int]:
    """The fixed header at ``body`` and where the attributes after it start;
    DecodeError if the body is shorter than the header."""
    size = header_class.SIZE
    if end - body < size:
        raise DecodeError(f"{type_name(mtype)} body of {end - body} bytes is shorter "
                          f"than its {header_class.C_NAME} ({size} bytes)", body)
    return header_class.unpack_from(buf, body), min(body + align4(size), end)


def _trace_header(trace: list[TraceEntry] | None, offset: int, size: int, name: str,
                  value: Any, buf: bytes) -> None:
    if trace is not None:
        entry = TraceEntry("header", 1, offset, size, name=name)
        entry.value = value
        entry.raw = buf[offset:offset + size]
        trace.append(entry)


def _error_header(buf: bytes, body: int, end: int, flags: int) -> tuple[NlMsgErr, int]:
    """The NlMsgErr at ``body`` and where the echoed request ends."""
    if end - body < 20:
        raise DecodeError(f"NLMSG_ERROR body of {end - body} bytes is shorter than "
                          f"struct nlmsgerr (20 bytes)", body)
    error = ERROR_CODE.unpack_from(buf, body)[0]
    request = NlMsgHdr.unpack_from(buf, body + 4)
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
    return NlMsgErr(error=error, request=request, request_payload=payload), echoed


def _extack(buf: bytes, start: int, end: int, flags: int,
            trace: list[TraceEntry] | None) -> AttrList:
    """The extended-ack attributes after an error or done, if NLM_F_ACK_TLVS."""
    if flags & _ACK_TLVS:
        return decode_attrs(buf, min(start, end), end, NLMSGERR, Ctx(0, 1, trace))
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
    if isinstance(messages, Message):
        messages = [messages]
    out = bytearray()
    for message in messages:
        _check_message(message)
        encode_into(out, message, message.flags, message.seq, message.pid)
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
        encode_into(out, message, flags, seq, pid)
    return bytes(out)


def _check_message(message: Any) -> None:
    if not isinstance(message, Message):
        raise EncodeError(f"expected a Message, got {type(message).__name__}")


def encode_into(out: bytearray, message: Message, flags: int, seq: int, pid: int) -> None:
    """Append one message, with these nlmsghdr fields, padded to 4 bytes.

    The nlmsghdr is written last, like libmnl's nlmsg_len: room for it
    first, then the body, then the header with the length now known.
    """
    start = len(out)
    out += bytes(16)
    _encode_body(out, message)
    length = len(out) - start
    try:
        NLMSGHDR.pack_into(out, start, length, message.type, flags, seq, pid)
    except struct.error as err:
        raise EncodeError(f"nlmsghdr of {message.type_name}: {err}") from err
    out += bytes(align4(length) - length)


def _encode_body(out: bytearray, message: Message) -> None:
    mtype = message.type
    family = FAMILIES.get(mtype)
    header = message.header
    if family is not None:
        if not isinstance(header, family.header):
            raise EncodeError(f"{message.type_name} needs a {family.header.__name__} "
                              f"header, got {header!r}")
        out += header.pack()
        if message.attrs:
            _encode_attrs(out, message.attrs, family.table, Ctx(message.header.family))
        return
    if mtype == _ERROR:
        if not isinstance(header, NlMsgErr):
            raise EncodeError(f"NLMSG_ERROR needs an NlMsgErr header, got {header!r}")
        try:
            out += ERROR_CODE.pack(header.error)
        except struct.error as err:
            raise EncodeError(f"NLMSG_ERROR error {header.error}: {err}") from err
        out += header.request.pack()
        out += header.request_payload
        _encode_attrs(out, message.attrs, NLMSGERR, Ctx())
        return
    if mtype == _DONE and header is not None:
        try:
            out += ERROR_CODE.pack(header)
        except (struct.error, TypeError) as err:
            raise EncodeError(f"NLMSG_DONE error {header!r}: {err}") from err
        _encode_attrs(out, message.attrs, NLMSGERR, Ctx())
        return
    if message.attrs:
        raise EncodeError(f"{message.type_name} has no attribute table: put its body "
                          f"in payload")
    out += message.payload


def _encode_attrs(out: bytearray, attrs: AttrList, table: AttrTable, ctx: Ctx) -> None:
    """Pad what is written so far to 4 bytes, then append the attributes."""
    out += bytes(align4(len(out)) - len(out))
    encode_attrs_into(out, attrs, table, ctx)
