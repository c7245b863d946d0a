# Invariants:
# - Sans-IO: bytes in, datagrams out; standard library and rawns.errors only.
# - read_capture() takes any bytes and returns one Datagram or more, or raises
#   one DecodeError (naming the line, packet or block, with the byte offset
#   in the input); nothing else.  Every length is checked before it is used,
#   every loop advances, nothing is allocated beyond the input's size.
# - The netlink bytes themselves are not read here: rawns.netlink.explain
#   does that, and never raises.
"""Netlink bytes captured elsewhere: hex text, raw binary, pcap and pcapng.

:func:`read_capture` tells the form by its first bytes:

- **pcap** (magic ``a1b2c3d4``, or ``a1b23c4d`` for nanoseconds, in either
  byte order): a 24-byte file header whose last field is the link type,
  then records of 16 bytes (``ts_sec``, ``ts_frac``, ``incl_len``,
  ``orig_len``) each followed by ``incl_len`` bytes.
- **pcapng** (a Section Header Block, type ``0a0d0d0a``, whose byte-order
  magic ``1a2b3c4d`` says the section's byte order): blocks of ``type``,
  ``total length``, body, ``total length``.  Interface Description Blocks
  (type 1) give each interface's link type and time resolution
  (``if_tsresol``); packets come in Enhanced (6), Simple (3) or obsolete (2)
  Packet Blocks; other blocks are skipped.
- **hex text**, when every byte is printable text: what ``rawns --trace``
  prints (``>>> sent N bytes`` then ``0000: 28 00 ...`` lines, then the
  annotated view, which is skipped), ``xxd``, ``hexdump -C`` (``*`` lines
  expanded), ``tcpdump -X`` / ``-xx`` (a packet per timestamped line), or bare
  hex.  Offsets and ASCII columns are stripped; offsets must follow on.
- **raw binary** otherwise: one datagram.

Only link type NETLINK (LINKTYPE/DLT 253) is read: what ``tcpdump -i nlmon0``
writes.  Each of its packets starts with a 16-byte "cooked" header, the
``LINKTYPE_LINUX_SLL`` layout with its fields big-endian, as libpcap builds
it from the packet socket's ``sockaddr_ll``::

    offset  size  field        for nlmon
    0       2     packet type  PACKET_USER (6): to user space, from the kernel;
                               PACKET_KERNEL (7): to the kernel (linux/if_packet.h)
    2       2     ARPHRD type  ARPHRD_NETLINK (824) (linux/if_arp.h)
    4       2     address len  0
    6       8     address      zeros
    14      2     protocol     the netlink family: 0 for NETLINK_ROUTE

The netlink messages follow, in the byte order of the machine that captured
them.  Hex text and binary may carry the same header (a packet copied out of
Wireshark): it is recognised by its ARPHRD type (no netlink message starts
with those bytes: its nlmsg_len would be near a gigabyte) and taken off.
"""

from __future__ import annotations

import re
import struct

from rawns.errors import DecodeError
from rawns.records import record

from .constants import ARPHRD, NETLINK_ROUTE

__all__ = [
    "Datagram", "read_capture", "read_hex", "read_pcap", "read_pcapng", "strip_cooked",
    "LINKTYPE_NETLINK", "COOKED_HEADER", "PACKET_USER", "PACKET_KERNEL",
]

LINKTYPE_NETLINK = 253
"""Link type of netlink captures (``nlmon`` devices), in pcap and pcapng."""
COOKED_HEADER = struct.Struct("!HHH8sH")
"""The 16 bytes before each captured datagram: packet type, ARPHRD type,
address length, address, protocol (all big-endian)."""
PACKET_USER = 6  # linux/if_packet.h: to user space
PACKET_KERNEL = 7  # linux/if_packet.h: to kernel space

TO_KERNEL = "to the kernel"
TO_USER = "to user space"
_DIRECTIONS = {PACKET_USER: TO_USER, PACKET_KERNEL: TO_KERNEL}
_ARPHRD_NETLINK = int(ARPHRD.ARPHRD_NETLINK)
_LITTLE_HOST = struct.pack("=H", 1) == b"\x01\x00"


@record(slots=False)
class Datagram:
    """One netlink datagram read from a capture.

    ``number`` counts from 1 in the input (packets of other link types
    included); ``source`` is ``"hex"``, ``"binary"``, ``"pcap"`` or
    ``"pcapng"``; ``direction`` is ``"to the kernel"`` or ``"to user space"``
    when the capture says; ``protocol`` is the netlink family from the
    cooked header (0: NETLINK_ROUTE); ``timestamp`` is in seconds since the
    epoch; ``original_length`` is set when the capture kept fewer bytes than
    the datagram had (its snap length); ``note`` says anything else the
    reader should know.
    """

    data: bytes
    number: int
    source: str
    direction: str | None = None
    protocol: int | None = None
    timestamp: float | None = None
    original_length: int | None = None
    note: str = ""


def read_capture(data: bytes | bytearray | memoryview) -> list[Datagram]:
    """The netlink datagrams in ``data``: pcap, pcapng, hex text or raw binary.

    Raises DecodeError (and nothing else) when ``data`` is none of these
    or is broken: one error, saying where.
    """
    buf = bytes(data)
    if not buf:
        raise DecodeError("no input: 0 bytes", 0)
    if len(buf) >= 4:
        if struct.unpack_from("<I", buf)[0] in _PCAP_MAGICS or \
                struct.unpack_from(">I", buf)[0] in _PCAP_MAGICS:
            return read_pcap(buf)
        if struct.unpack_from("<I", buf)[0] == _SHB:
            return read_pcapng(buf)
    text = _as_text(buf)
    if text is not None:
        return read_hex(text)
    direction, protocol, payload = strip_cooked(buf)
    return [Datagram(data=payload, number=1, source="binary", direction=direction,
                     protocol=protocol)]


def strip_cooked(frame: bytes) -> tuple[str | None, int | None, bytes]:
    """``(direction, protocol, netlink bytes)`` of a frame that may start with
    the 16-byte cooked header (recognised by ARPHRD_NETLINK in it)."""
    if len(frame) >= 16 and frame[2:4] == _ARPHRD_NETLINK.to_bytes(2, "big"):
        pkttype, _hatype, _halen, _address, protocol = COOKED_HEADER.unpack_from(frame)
        return _DIRECTIONS.get(pkttype), protocol, frame[16:]
    return None, None, frame


def _as_text(buf: bytes) -> str | None:
    """``buf`` as text if it is printable text (tabs and line ends allowed)."""
    try:
        text = buf.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch not in "\t\n\r\f\v" or ord(ch) == 127 for ch in text):
        return None
    return text


# -- hex text ------------------------------------------------------------------------

_MARKER = re.compile(r"(>>>|<<<)\s+(?:sent|received)\s+(\d+)\s+bytes?\b")
# tcpdump's line before each packet's hex, after its timestamp (-tttt: with a date)
_PACKET_LINE = re.compile(r"(?:\d{4}-\d\d-\d\d\s+)?\d{1,2}:\d\d:\d\d(?:\.\d+)?\s")
_COLON_OFFSET = re.compile(r"(?:0x)?([0-9a-fA-F]{2,16}):\s*")  # xxd, tcpdump, --trace
_HEXDUMP_OFFSET = re.compile(r"([0-9a-fA-F]{7,8})(?:\s\s|$)")  # hexdump -C, and its end
_ASCII_IN_PIPES = re.compile(r"\s*\|.*\|\s*$")
_HEX_TOKEN = re.compile(r"(?:[0-9a-fA-F]{2})+")
_MAX_TEXT_OFFSET = 1 << 32


class _HexDatagram:
    """A datagram being read from hex text."""

    def __init__(self, expected: int | None, direction: str | None, trace: bool) -> None:
        self.data = bytearray()
        self.expected = expected
        self.direction = direction
        self.trace = trace  # from rawns --trace: the annotated view follows the hex
        self.hex_over = False  # the trace's hex is over: skip to the next marker
        self.last_line = b""  # for hexdump's "*" (lines repeated)
        self.repeating = False
        self.style: str | None = None


def read_hex(text: str) -> list[Datagram]:
    """The datagrams in hex text (see the module's documentation for the forms)."""
    datagrams: list[Datagram] = []
    current: _HexDatagram | None = None
    position = 0

    def finish(line_number: int) -> None:
        if current is None:
            return
        if current.expected is not None and current.expected != len(current.data):
            raise DecodeError(f"datagram {len(datagrams) + 1} is announced as "
                              f"{current.expected} bytes, its hex has {len(current.data)} "
                              f"(before line {line_number})", position)
        if current.data or current.expected == 0:
            direction, protocol, payload = strip_cooked(bytes(current.data))
            datagrams.append(Datagram(data=payload, number=len(datagrams) + 1,
                                      source="hex", direction=direction or current.direction,
                                      protocol=protocol))

    number = 0
    for number, raw_line in enumerate(text.splitlines(keepends=True), 1):
        line = raw_line.strip()
        line_start, position = position, position + len(raw_line.encode("utf-8"))
        marker = _MARKER.match(line)
        if marker is not None:
            finish(number)
            current = _HexDatagram(int(marker.group(2)),
                                   TO_KERNEL if marker.group(1) == ">>>" else TO_USER, True)
            continue
        if current is not None and current.hex_over:
            continue
        if not line or line.startswith("#"):
            continue
        if _PACKET_LINE.match(line):
            finish(number)
            current = _HexDatagram(None, None, False)
            continue
        parsed = _hex_line(line, current.style if current is not None else None,
                           len(current.data) if current is not None else 0)
        if parsed is None:
            if current is not None and current.trace and current.data:
                current.hex_over = True
                continue
            raise DecodeError(f"line {number} is neither hex bytes nor a known header: "
                              f"{line[:40]!r}", line_start)
        style, offset, chunk = parsed
        if style == "repeat":
            if current is None or not current.last_line:
                raise DecodeError(f"line {number}: '*' repeats no line", line_start)
            current.repeating = True
            continue
        if current is None or (offset == 0 and current.data and not current.trace):
            finish(number)
            current = _HexDatagram(None, None, False)
        current.style = style or current.style
        if offset is not None:
            _follow_on(current, offset, number, line_start)
        elif current.repeating:
            raise DecodeError(f"line {number}: '*' must be followed by an offset", line_start)
        if chunk:
            current.data += chunk
            current.last_line = chunk
    finish(number + 1)
    if not datagrams:
        raise DecodeError("no hex bytes found", 0)
    return datagrams


def _hex_line(line: str, style: str | None, have: int
              ) -> tuple[str | None, int | None, bytes] | None:
    """``(style, offset or None, bytes)`` of one line of a hex dump, or None if
    it is not one.  The style is "colon" (xxd, tcpdump, --trace), "hexdump"
    (hexdump -C), "repeat" for a ``*`` line, or None for bare hex.  Eight hex
    digits then two spaces are hexdump's offset only where they can be: in a
    hexdump already, or at the offset reached (``have``); else they are bytes."""
    if line == "*":
        return "repeat", None, b""
    offset: int | None = None
    found = _COLON_OFFSET.match(line)
    if found is not None:
        new_style: str | None = "colon"
        offset = int(found.group(1), 16)
        rest = re.split(r"\s{2,}", line[found.end():], maxsplit=1)[0]  # the ASCII column
    else:
        found = _HEXDUMP_OFFSET.match(line)
        ends_dump = found is not None and found.end() == len(line)
        if found is not None and (style == "hexdump" or (
                not ends_dump and int(found.group(1), 16) == have)):
            new_style = "hexdump"
            offset = int(found.group(1), 16)
            rest = _ASCII_IN_PIPES.sub("", line[found.end():])
        else:
            new_style = None
            rest = line
    tokens = rest.split()
    if not all(_HEX_TOKEN.fullmatch(token) for token in tokens):
        return None
    if offset is None and not tokens:
        return None
    return new_style, offset, bytes.fromhex("".join(tokens))


def _follow_on(current: _HexDatagram, offset: int, number: int, line_start: int) -> None:
    """Check that ``offset`` follows the bytes read so far, filling the gap a
    ``*`` line left with copies of the line before it."""
    have = len(current.data)
    if current.repeating:
        current.repeating = False
        gap = offset - have
        size = len(current.last_line)
        if gap < 0 or gap % size or offset > _MAX_TEXT_OFFSET:
            raise DecodeError(f"line {number}: offset {offset:#x} cannot follow a '*' "
                              f"after {have} bytes of {size}-byte lines", line_start)
        current.data += current.last_line * (gap // size)
        return
    if offset != have:
        raise DecodeError(f"line {number}: offset {offset:#x}, but {have} bytes came "
                          f"before it", line_start)


# -- pcap -------------------------------------------------------------------------

_PCAP_MAGICS = {0xA1B2C3D4: 1e-6, 0xA1B23C4D: 1e-9}


def read_pcap(data: bytes) -> list[Datagram]:
    """The datagrams of a pcap file whose link type is NETLINK (253)."""
    if len(data) < 24:
        raise DecodeError(f"pcap file header of {len(data)} bytes: it has 24", 0)
    order = "<" if struct.unpack_from("<I", data)[0] in _PCAP_MAGICS else ">"
    magic, major, minor, _zone, _sigfigs, _snaplen, network = struct.unpack_from(
        order + "IHHiIII", data)
    if magic not in _PCAP_MAGICS:
        raise DecodeError("not a pcap file: unknown magic", 0)
    if major != 2:
        raise DecodeError(f"pcap version {major}.{minor}: only 2.x is known", 4)
    linktype = network & 0x0FFFFFFF  # the top bits say whether frames carry an FCS
    if linktype != LINKTYPE_NETLINK:
        raise DecodeError(f"pcap link type {linktype}, not NETLINK ({LINKTYPE_NETLINK}): "
                          f"capture on an nlmon device", 20)
    resolution = _PCAP_MAGICS[magic]
    note = _byte_order_note(order)
    record = struct.Struct(order + "IIII")
    datagrams: list[Datagram] = []
    pos = 24
    while pos < len(data):
        if len(data) - pos < 16:
            raise DecodeError(f"pcap record {len(datagrams) + 1}: {len(data) - pos} "
                              f"byte(s) where a 16-byte record header should be", pos)
        seconds, fraction, captured, original = record.unpack_from(data, pos)
        if captured > len(data) - pos - 16:
            raise DecodeError(f"pcap record {len(datagrams) + 1}: {captured} bytes "
                              f"captured, {len(data) - pos - 16} left in the file", pos + 8)
        frame = data[pos + 16:pos + 16 + captured]
        where = f"pcap record {len(datagrams) + 1}"
        datagrams.append(_from_frame(frame, len(datagrams) + 1, "pcap", where, pos + 16,
                                     seconds + fraction * resolution, original, note))
        pos += 16 + captured
    if not datagrams:
        raise DecodeError("the pcap file holds no packet", 24)
    return datagrams


def _byte_order_note(order: str) -> str:
    if (order == "<") == _LITTLE_HOST:
        return ""
    return (f"captured on a {'little' if order == '<' else 'big'}-endian machine: its "
            f"netlink fields are in that order, this machine reads them in its own")


def _from_frame(frame: bytes, number: int, source: str, where: str, offset: int,
                timestamp: float | None, original: int, note: str) -> Datagram:
    """The datagram in one NETLINK frame, its cooked header taken off."""
    if len(frame) < 16:
        raise DecodeError(f"{where}: {len(frame)} bytes, shorter than the 16-byte "
                          f"cooked header of a netlink capture", offset)
    pkttype, hatype, _halen, _address, protocol = COOKED_HEADER.unpack_from(frame)
    if hatype != _ARPHRD_NETLINK:
        raise DecodeError(f"{where}: ARPHRD type {hatype} in its cooked header, not "
                          f"ARPHRD_NETLINK ({_ARPHRD_NETLINK})", offset + 2)
    if protocol != NETLINK_ROUTE:
        note = "; ".join(filter(None, [note, f"netlink protocol {protocol}, not "
                                       f"NETLINK_ROUTE (0): rtnetlink's tables do not apply"]))
    return Datagram(data=frame[16:], number=number, source=source,
                    direction=_DIRECTIONS.get(pkttype), protocol=protocol,
                    timestamp=timestamp,
                    original_length=original - 16 if original > len(frame) else None,
                    note=note)


# -- pcapng -------------------------------------------------------------------------

_SHB = 0x0A0D0D0A
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_IDB, _SPB, _OPB, _EPB = 1, 3, 2, 6
_OPT_TSRESOL = 9


@record(frozen=False, kw_only=False, slots=False)
class _Interface:
    linktype: int
    snaplen: int
    resolution: float


def read_pcapng(data: bytes) -> list[Datagram]:
    """The datagrams of a pcapng file, from its NETLINK interfaces."""
    datagrams: list[Datagram] = []
    interfaces: list[_Interface] = []
    other_links: set[int] = set()
    order = "<"
    pos = 0
    packets = 0
    while pos < len(data):
        if len(data) - pos < 12:
            raise DecodeError(f"pcapng: {len(data) - pos} stray byte(s) where a block "
                              f"should start", pos)
        if struct.unpack_from("<I", data, pos)[0] == _SHB:
            order = _section_order(data, pos)
            interfaces = []
        elif pos == 0:
            raise DecodeError("pcapng: the file does not start with a section header", 0)
        block_type, length = struct.unpack_from(order + "II", data, pos)
        if length < 12 or length % 4 or length > len(data) - pos:
            raise DecodeError(f"pcapng block of type {block_type:#x}: total length "
                              f"{length} is below 12, not a multiple of 4, or past the end "
                              f"of the file ({len(data) - pos} bytes left)", pos + 4)
        if struct.unpack_from(order + "I", data, pos + length - 4)[0] != length:
            raise DecodeError(f"pcapng block of type {block_type:#x}: its two total "
                              f"lengths differ", pos + length - 4)
        body, end = pos + 8, pos + length - 4
        if block_type == _IDB:
            interfaces.append(_interface(data, body, end, order))
        elif block_type in (_EPB, _OPB, _SPB):
            packets += 1
            interface, frame, timestamp, original = _packet(
                data, body, end, order, block_type, interfaces, packets)
            if interface.linktype != LINKTYPE_NETLINK:
                other_links.add(interface.linktype)
            else:
                datagrams.append(_from_frame(
                    frame, packets, "pcapng", f"pcapng packet {packets}", body,
                    timestamp, original, _byte_order_note(order)))
        pos += length
    if not datagrams:
        found = (f"only link type(s) {', '.join(map(str, sorted(other_links)))}"
                 if other_links else "no packet")
        raise DecodeError(f"the pcapng file holds {found}, no NETLINK "
                          f"({LINKTYPE_NETLINK}) packet: capture on an nlmon device", 0)
    return datagrams


def _section_order(data: bytes, pos: int) -> str:
    if len(data) - pos < 28:
        raise DecodeError("pcapng section header shorter than 28 bytes", pos)
    for order in "<>":
        if struct.unpack_from(order + "I", data, pos + 8)[0] == _BYTE_ORDER_MAGIC:
            major = struct.unpack_from(order + "H", data, pos + 12)[0]
            if major != 1:
                raise DecodeError(f"pcapng version {major}: only 1.x is known", pos + 12)
            return order
    raise DecodeError("pcapng section header without its byte-order magic 1a2b3c4d", pos + 8)


def _interface(data: bytes, body: int, end: int, order: str) -> _Interface:
    if end - body < 8:
        raise DecodeError("pcapng interface description shorter than 8 bytes", body)
    linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", data, body)
    resolution = 1e-6
    pos = body + 8
    while end - pos >= 4:
        code, size = struct.unpack_from(order + "HH", data, pos)
        if code == 0:
            break
        if size > end - pos - 4:
            raise DecodeError(f"pcapng option {code} of {size} bytes runs past its block",
                              pos)
        if code == _OPT_TSRESOL and size >= 1:
            value = data[pos + 4]
            exponent = value & 0x7F
            resolution = 2.0 ** -exponent if value & 0x80 else 10.0 ** -exponent
        pos += 4 + (size + 3) // 4 * 4
    return _Interface(linktype, snaplen, resolution)


def _packet(data: bytes, body: int, end: int, order: str, block_type: int,
            interfaces: list[_Interface], number: int
            ) -> tuple[_Interface, bytes, float | None, int]:
    """``(interface, frame, timestamp, original length)`` of a packet block."""
    if block_type == _SPB:
        if end - body < 4 or not interfaces:
            raise DecodeError(f"pcapng packet {number}: a simple packet block needs 4 "
                              f"bytes and a first interface", body)
        original = struct.unpack_from(order + "I", data, body)[0]
        interface = interfaces[0]
        captured = min(original, end - body - 4)
        if interface.snaplen:
            captured = min(captured, interface.snaplen)
        return interface, data[body + 4:body + 4 + captured], None, original
    fixed = 20
    if end - body < fixed:
        raise DecodeError(f"pcapng packet {number}: block body of {end - body} bytes, "
                          f"shorter than its {fixed} fixed bytes", body)
    if block_type == _EPB:
        index, high, low, captured, original = struct.unpack_from(order + "IIIII", data, body)
    else:
        index, _drops, high, low, captured, original = struct.unpack_from(
            order + "HHIIII", data, body)
    if index >= len(interfaces):
        raise DecodeError(f"pcapng packet {number}: interface {index} was never described",
                          body)
    if captured > end - body - fixed:
        raise DecodeError(f"pcapng packet {number}: {captured} bytes captured, its block "
                          f"holds {end - body - fixed}", body + 12)
    interface = interfaces[index]
    frame = data[body + fixed:body + fixed + captured]
    return interface, frame, ((high << 32) | low) * interface.resolution, original
