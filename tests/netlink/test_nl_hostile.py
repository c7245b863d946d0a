"""Hostile bytes: decode raises only DecodeError, explain never raises.

Random buffers, every truncation of every golden buffer, and every length
field (nlmsg_len, nla_len at every nesting level, rtnexthop len, the echoed
request's nlmsg_len) set to lying values.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawns.errors import DecodeError
from rawns.netlink import decode, decode_frame, encode, explain, frames, header_and_values, \
    is_plain_done
from rawns.netlink.attrs import MAX_DEPTH, walk_attrs
from rawns.netlink.message import decode as reference_decode
from rawns.netlink.tables import FAMILIES

DATA = Path(__file__).parent / "data"
GOLDEN = {path.stem: path.read_bytes() for path in sorted(DATA.glob("*.bin"))}


def survives(data: bytes, with_explain: bool = True) -> None:
    """decode either works (and then re-encodes) or raises DecodeError; explain works;
    the traced walk explain uses comes to the same messages, or the same error."""
    try:
        messages = decode(data)
    except DecodeError as err:
        assert 0 <= err.offset <= len(data)
        outcome = ("error", err.offset, str(err))
    else:
        encode(messages)  # whatever decoded must encode again
        outcome = ("messages", messages)
        the_same_frame_by_frame(data, messages)
    try:
        traced = ("messages", reference_decode(bytes(data), []))
    except DecodeError as err:
        traced = ("error", err.offset, str(err))
    assert traced == outcome
    if with_explain:
        assert isinstance(explain(data), str)


def the_same_frame_by_frame(data: bytes, messages: list) -> None:
    """frames/decode_frame give decode's messages; header_and_values their
    headers and, by name, the values of their first named attributes; what
    is_plain_done accepts is an NLMSG_DONE of 0 without an extended ack."""
    found = frames(data)
    assert [decode_frame(data, frame) for frame in found] == messages
    for frame, message in zip(found, messages):
        if is_plain_done(data, frame):
            assert (message.type, message.error, message.attrs) == (3, 0, ())
        if message.type not in FAMILIES:
            continue
        first: dict = {}
        for attr in message.attrs:
            if attr.name is not None:
                first.setdefault(attr.name, attr.value)
        assert header_and_values(data, frame) == (message.header, first)


def split_messages(data: bytes) -> list[bytes]:
    parts = []
    pos = 0
    while pos < len(data):
        length = struct.unpack_from("=I", data, pos)[0]
        parts.append(data[pos:pos + length])
        pos += (length + 3) & ~3
    return parts


def length_fields(data: bytes) -> list[tuple[int, str]]:
    """(offset, struct format) of every length field in a well-formed buffer."""
    fields: list[tuple[int, str]] = []
    pos = 0
    while pos + 16 <= len(data):
        length, mtype, flags = struct.unpack_from("=IHH", data, pos)
        fields.append((pos, "=I"))
        body = pos + 16
        family = FAMILIES.get(mtype)
        if family is not None:
            start = body + ((family.header.SIZE + 3) & ~3)
            _attr_fields(data, start, pos + length, fields, 0)
        elif mtype == 2 and length >= 36:
            fields.append((body + 4, "=I"))
            echoed = struct.unpack_from("=I", data, body + 4)[0]
            after = body + 20 + (0 if flags & 0x100 else echoed - 16)
            if flags & 0x200:
                _attr_fields(data, (after + 3) & ~3, pos + length, fields, 0)
        pos += (length + 3) & ~3
    return fields


def _attr_fields(data: bytes, start: int, end: int, fields: list, depth: int) -> None:
    try:
        attrs = list(walk_attrs(data, start, end))
    except DecodeError:
        return
    for offset, nla_len, _ in attrs:
        fields.append((offset, "=H"))
        if nla_len > 8 and depth < 6:
            # Might be nested (or a nested ifinfomsg): try both readings.
            _attr_fields(data, offset + 4, offset + nla_len, fields, depth + 1)
            _attr_fields(data, offset + 20, offset + nla_len, fields, depth + 1)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_truncation(name: str) -> None:
    # Cutting a buffer inside message k leaves messages 0..k-1 intact, so
    # cutting each message at every offset covers every cut of the buffer.
    for part in split_messages(GOLDEN[name]):
        for cut in range(len(part)):
            survives(part[:cut], with_explain=cut % 7 == 0)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_lying_lengths_at_every_level(name: str) -> None:
    for data in split_messages(GOLDEN[name]):  # messages are independent
        _lie_in(data)


def _lie_in(data: bytes) -> None:
    fields = length_fields(data)
    assert fields
    for offset, fmt in fields:
        size = struct.calcsize(fmt)
        original = struct.unpack_from(fmt, data, offset)[0]
        top = (1 << (8 * size)) - 1
        for value in {0, 1, 3, 4, 5, original - 1, original + 1, original + 4, top}:
            if 0 <= value <= top:
                mutated = bytearray(data)
                struct.pack_into(fmt, mutated, offset, value)
                survives(bytes(mutated), with_explain=value in (1, original + 4))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    survives(data)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(GOLDEN)), st.data())
def test_random_byte_flips_in_golden(name: str, draw) -> None:
    data = bytearray(GOLDEN[name])
    for _ in range(draw.draw(st.integers(1, 8))):
        index = draw.draw(st.integers(0, len(data) - 1))
        data[index] = draw.draw(st.integers(0, 255))
    survives(bytes(data))


def test_deep_nesting_is_capped() -> None:
    # IFLA_LINKINFO > IFLA_INFO_DATA(veth) > VETH_INFO_PEER > ifinfomsg > IFLA_LINKINFO ...
    def peer(level: int) -> bytes:
        inner = b""
        if level:
            nested = _attr(2, _attr(1, bytes(16) + peer(level - 1)))
            inner = _attr(18, _attr(1, b"veth\0") + nested)
        return inner

    body = bytes(16) + peer(MAX_DEPTH * 2)
    data = struct.pack("=IHHII", 16 + len(body), 16, 0, 0, 0) + body
    with pytest.raises(DecodeError, match="nested deeper"):
        decode(data)
    assert "decoding stopped" in explain(data)


def test_huge_claims_do_not_allocate() -> None:
    header = struct.pack("=IHHII", 0xFFFFFFFF, 16, 0, 0, 0)
    with pytest.raises(DecodeError):
        decode(header + bytes(16))


def _attr(nla_type: int, payload: bytes) -> bytes:
    return struct.pack("=HH", 4 + len(payload), nla_type) + payload + b"\0" * (-len(payload) & 3)
