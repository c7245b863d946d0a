# Invariants:
# - explain() never raises for any bytes: it renders what decodes, then one
#   "decoding stopped at byte N: <reason>" line where a DecodeError stopped
#   the decoder.  (Non-bytes arguments are a TypeError, as usual.)
# - It is driven by the same tables and codecs as decode(): the reference
#   decoder (message.decode) records a trace of its one walk (see
#   attrs.Ctx.trace) and this module only formats it; it never parses twice.
# - Offsets are absolute byte offsets in the buffer given to explain().
# - Standard library and rawns.errors only.
"""The annotated, textbook view of netlink bytes.

Each message shows its offset, length, type, flags by name, seq and pid;
then its fixed header field by field; then every attribute with its byte
offset, length, kernel name and number, codec, decoded value and raw bytes,
nested attributes indented under their parent.  The layouts being read::

    nlmsghdr (16 bytes)                    nlattr (4 bytes + payload + pad)
    +-----------------------------+        +--------------+--------------+
    | nlmsg_len              u32  |        | nla_len  u16 | nla_type u16 |
    +--------------+--------------+        +--------------+--------------+
    | nlmsg_type   | nlmsg_flags  |        | payload (nla_len - 4 bytes)  |
    +--------------+--------------+        +-----------------------------+
    | nlmsg_seq              u32  |        | zero padding to 4 bytes      |
    | nlmsg_pid              u32  |        +-----------------------------+
    +-----------------------------+        nla_type bit 15: NLA_F_NESTED
    | family header, attributes...|        nla_type bit 14: NLA_F_NET_BYTEORDER

An example line: ``@32  len 7  IFLA_IFNAME (3) string = 'lo'  | 6c 6f 00``.
"""

from __future__ import annotations

import dataclasses
import errno as _errno
from enum import IntFlag
from typing import Any

from rawns.errors import DecodeError

from .attrs import TraceEntry
from .codecs import Codec, render_value
from .constants import (
    NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, enum_text, flag_text, message_type,
    nlm_flag_names,
)
from .message import decode
from .structs import CStruct, NlMsgErr, RtNextHop

__all__ = ["explain", "hexdump"]

_HEX_LIMIT = 24
_MAX_ECHO_DEPTH = 2


def hexdump(data: bytes, limit: int = _HEX_LIMIT) -> str:
    """``"6c 6f 00"``; beyond ``limit`` bytes, ``"... (+N bytes)"``."""
    shown = data[:limit].hex(" ")
    if len(data) > limit:
        shown += f" ... (+{len(data) - limit} bytes)"
    return shown


def explain(data: bytes | bytearray | memoryview) -> str:
    """Render ``data`` (one or more netlink messages) as annotated text.

    Never raises on malformed bytes: the last line then says where decoding
    stopped and why.  Used by the CLI's ``--trace``.
    """
    return _explain(bytes(data), "", 0)


def _explain(buf: bytes, indent: str, echo_depth: int) -> str:
    trace: list[TraceEntry] = []
    lines: list[str] = []
    stopped: DecodeError | None = None
    try:
        decode(buf, trace)
    except DecodeError as err:
        stopped = err
    if not buf:
        lines.append(f"{indent}(no bytes)")
    message_index = 0
    for entry in trace:
        if entry.kind == "message":
            lines.append(indent + _message_line(entry, message_index))
            message_index += 1
        elif entry.kind == "header":
            lines.extend(indent + line for line in _header_lines(entry, echo_depth))
        elif entry.kind == "payload":
            lines.append(f"{indent}  @{entry.offset} payload, {entry.length} bytes "
                         f"(no table for this type) | {hexdump(entry.raw)}")
        else:
            lines.append(indent + _attr_line(entry))
    if stopped is not None:
        lines.append(f"{indent}decoding stopped at byte {stopped.offset}: {stopped.reason}")
        rest = buf[stopped.offset:]
        if rest:
            lines.append(f"{indent}  bytes from there: {hexdump(rest, 16)}")
    return "\n".join(lines)


def _message_line(entry: TraceEntry, index: int) -> str:
    flags, seq, pid = entry.value
    names = "|".join(nlm_flag_names(entry.nla_type, flags)) or "0"
    type_text = getattr(message_type(entry.nla_type), "name", "unknown type")
    return (f"message {index} @{entry.offset}: {type_text} ({entry.nla_type}), "
            f"{entry.length} bytes, flags {names} ({flags:#x}), seq {seq}, pid {pid}")


def _header_lines(entry: TraceEntry, echo_depth: int) -> list[str]:
    pad = "  " * entry.depth
    value = entry.value
    lines = [f"{pad}@{entry.offset} {entry.name} ({entry.length} bytes) | "
             f"{hexdump(entry.raw, 20)}"]
    if isinstance(value, NlMsgErr):
        lines.append(f"{pad}    error = {_error_text(value.error)}")
        request = value.request
        lines.append(f"{pad}    request nlmsghdr: len {request.length}, "
                     f"{getattr(message_type(request.type), 'name', request.type)}, flags "
                     f"{'|'.join(nlm_flag_names(request.type, request.flags)) or '0'}, "
                     f"seq {request.seq}, pid {request.pid}")
        if value.request_payload:
            lines.append(f"{pad}    echoed request body ({len(value.request_payload)} bytes)"
                         f", decoded:")
            if echo_depth < _MAX_ECHO_DEPTH:
                length = 16 + len(value.request_payload)
                echoed = dataclasses.replace(request, length=length).pack()
                lines.append(_explain(echoed + value.request_payload, pad + "      ",
                                      echo_depth + 1))
        else:
            lines.append(f"{pad}    request body not echoed (NLM_F_CAPPED)")
    elif isinstance(value, (CStruct, RtNextHop)):
        for c_name, field_name, kind in _fields_of(value):
            lines.append(f"{pad}    {c_name} = {_field_text(getattr(value, field_name), kind)}")
    elif isinstance(value, int):
        lines.append(f"{pad}    error = {_error_text(value)}")
    return lines


def _fields_of(value: Any) -> list[tuple[str, str, Any]]:
    names = [name for name in type(value).__dataclass_fields__ if name != "attrs"]
    c_names = getattr(value, "C_FIELDS", names)
    kinds = getattr(value, "KINDS", (None,) * len(names))
    return list(zip(c_names, names, kinds))


def _field_text(value: Any, kind: Any) -> str:
    if kind is not None and isinstance(value, int):
        return flag_text(kind, value) if issubclass(kind, IntFlag) else enum_text(kind, value)
    return render_value(value)


def _error_text(error: int) -> str:
    if error == 0:
        return "0 (success: this is an ack)"
    name = _errno.errorcode.get(-error, "?")
    return f"{error} (-{name})"


def _attr_line(entry: TraceEntry) -> str:
    pad = "  " * entry.depth
    number = entry.nla_type & NLA_TYPE_MASK
    bits = []
    if entry.nla_type & NLA_F_NESTED:
        bits.append("NESTED")
    if entry.nla_type & NLA_F_NET_BYTEORDER:
        bits.append("NET_BYTEORDER")
    type_text = f"{number}{'|' + '|'.join(bits) if bits else ''}"
    name = entry.name or "unknown"
    codec: Codec | None = entry.codec
    kind = codec.kind if codec is not None else "raw"
    if entry.note.startswith("kept as bytes"):
        kind = "raw"
    value = entry.value
    is_container = isinstance(value, tuple) and not entry.note.startswith("kept")
    if codec is not None and not entry.note.startswith("kept as bytes"):
        try:
            text = codec.render(value)
        except Exception:  # noqa: BLE001 - rendering must never stop explain
            text = render_value(value)
    else:
        text = render_value(value)
    line = f"{pad}@{entry.offset:<5} len {entry.length:<4} {name} ({type_text}) {kind}"
    if value is None:
        line += " (not decoded)"
    elif is_container:
        line += f": {text}"
    else:
        line += f" = {text} | {hexdump(entry.raw)}"
    if entry.note:
        line += f"  [{entry.note}]"
    return line
