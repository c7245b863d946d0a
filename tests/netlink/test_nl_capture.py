"""Reading captured netlink bytes: hex text (--trace, xxd, hexdump -C, tcpdump -X,
bare), raw binary, pcap and pcapng of link type NETLINK; hostile input is one
DecodeError.  The pcap and pcapng files are written here, from the formats'
published layouts; xxd and hexdump themselves make the dumps they print."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawns.netlink import DecodeError
from rawns.netlink.capture import (
    COOKED_HEADER, LINKTYPE_NETLINK, PACKET_KERNEL, PACKET_USER, Datagram, read_capture,
    read_hex, strip_cooked,
)
from rawns.netlink.explain import explain, hex_lines

DATA = Path(__file__).parent / "data"
GOLDEN = {path.stem: path.read_bytes() for path in sorted(DATA.glob("*.bin"))}
REQUEST = GOLDEN["error_veth_exists"][20:20 + 92]  # the echoed RTM_NEWLINK
ANSWER = GOLDEN["addr_dump"]


def cooked(data: bytes, pkttype: int, protocol: int = 0) -> bytes:
    """The 16 bytes nlmon frames start with (LINKTYPE_LINUX_SLL layout, big-endian)."""
    return COOKED_HEADER.pack(pkttype, 824, 0, bytes(8), protocol) + data


def pcap(frames: list[tuple[bytes, int]], *, order: str = "<", nanos: bool = False,
         linktype: int = LINKTYPE_NETLINK, snaplen: int = 65535,
         cut: int | None = None) -> bytes:
    """A pcap file: 24-byte header (magic, 2.4, zone, sigfigs, snaplen, link
    type), then per frame ts_sec, ts_frac, incl_len, orig_len and the bytes."""
    out = bytearray(struct.pack(order + "IHHiIII", 0xA1B23C4D if nanos else 0xA1B2C3D4,
                                2, 4, 0, 0, snaplen, linktype))
    for index, (frame, pkttype) in enumerate(frames):
        data = cooked(frame, pkttype)
        kept = data if cut is None else data[:cut]
        out += struct.pack(order + "IIII", 1700000000 + index, 250000 if not nanos
                           else 250000000, len(kept), len(data))
        out += kept
    return bytes(out)


def block(order: str, block_type: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def pcapng(order: str, interfaces: list[tuple[int, bytes]],
           packets: list[tuple[int, bytes, int]], simple: bytes | None = None) -> bytes:
    """A pcapng section: SHB (byte-order magic 1a2b3c4d, version 1.0, length
    -1), one IDB per (link type, options), one EPB per (interface, frame,
    timestamp), and a Simple Packet Block if asked."""
    out = block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    for linktype, options in interfaces:
        out += block(order, 1, struct.pack(order + "HHI", linktype, 0, 0) + options)
    for index, frame, stamp in packets:
        out += block(order, 6, struct.pack(order + "IIIII", index, stamp >> 32,
                                           stamp & 0xFFFFFFFF, len(frame), len(frame)) + frame)
    if simple is not None:
        out += block(order, 3, struct.pack(order + "I", len(simple)) + simple)
    return out


# -- pcap and pcapng ---------------------------------------------------------------

@pytest.mark.parametrize("order", "<>")
@pytest.mark.parametrize("nanos", [False, True])
def test_pcap_gives_each_datagram_with_its_direction_and_time(order: str, nanos: bool) -> None:
    datagrams = read_capture(pcap([(REQUEST, PACKET_KERNEL), (ANSWER, PACKET_USER)],
                                  order=order, nanos=nanos))
    assert [d.data for d in datagrams] == [REQUEST, ANSWER]
    assert [d.direction for d in datagrams] == ["to the kernel", "to user space"]
    assert [d.protocol for d in datagrams] == [0, 0]
    assert datagrams[1].timestamp == pytest.approx(1700000001.25)
    assert {d.source for d in datagrams} == {"pcap"}
    assert bool(datagrams[0].note) == (order == ">")  # written on a big-endian machine


def test_pcap_cut_by_its_snap_length_says_so() -> None:
    (datagram,) = read_capture(pcap([(ANSWER, PACKET_USER)], cut=16 + 40))
    assert datagram.data == ANSWER[:40] and datagram.original_length == len(ANSWER)
    assert "decoding stopped" in explain(datagram.data)


def test_pcapng_reads_enhanced_and_simple_blocks_of_netlink_interfaces() -> None:
    netlink_usec = (LINKTYPE_NETLINK, b"")
    ethernet = (1, b"")
    netlink_nsec = (LINKTYPE_NETLINK, option("<", 9, b"\x09") + option("<", 0, b""))
    data = pcapng("<", [netlink_usec, ethernet, netlink_nsec], [
        (0, cooked(REQUEST, PACKET_KERNEL), 1_700_000_000_500_000),
        (1, b"\xff" * 60, 0),
        (2, cooked(ANSWER, PACKET_USER), 1_700_000_000_250_000_000),
    ], simple=cooked(REQUEST, PACKET_KERNEL))
    data += pcapng(">", [netlink_usec], [(0, cooked(ANSWER, PACKET_USER), 0)])
    datagrams = read_capture(data)
    assert [d.data for d in datagrams] == [REQUEST, ANSWER, REQUEST, ANSWER]
    assert [d.number for d in datagrams] == [1, 3, 4, 5]  # packet 2 is ethernet
    assert datagrams[0].timestamp == pytest.approx(1700000000.5)
    assert datagrams[1].timestamp == pytest.approx(1700000000.25)
    assert datagrams[2].timestamp is None and datagrams[2].direction == "to the kernel"
    assert datagrams[3].note  # the second section is big-endian


def test_a_capture_of_another_link_type_is_refused_clearly() -> None:
    with pytest.raises(DecodeError, match=r"link type 1, not NETLINK \(253\)"):
        read_capture(pcap([(REQUEST, 0)], linktype=1))
    with pytest.raises(DecodeError, match="only link type"):
        read_capture(pcapng("<", [(1, b"")], [(0, b"\0" * 20, 0)]))
    with pytest.raises(DecodeError, match="ARPHRD type"):
        read_capture(pcap([])+ struct.pack("<IIII", 0, 0, 20, 20) + bytes(20))


def test_other_netlink_protocols_are_noted() -> None:
    frame = COOKED_HEADER.pack(PACKET_USER, 824, 0, bytes(8), 16) + REQUEST
    data = pcapng("<", [(LINKTYPE_NETLINK, b"")], [(0, frame, 0)])
    (datagram,) = read_capture(data)
    assert datagram.protocol == 16 and "not NETLINK_ROUTE" in datagram.note


# -- raw binary ------------------------------------------------------------------------

def test_binary_is_one_datagram_cooked_header_or_not() -> None:
    assert read_capture(ANSWER) == [Datagram(data=ANSWER, number=1, source="binary")]
    (datagram,) = read_capture(cooked(REQUEST, PACKET_KERNEL))
    assert datagram.data == REQUEST and datagram.direction == "to the kernel"
    assert strip_cooked(REQUEST) == (None, None, REQUEST)


# -- hex text ------------------------------------------------------------------------

def trace_text(*datagrams: tuple[str, bytes]) -> str:
    """What ``rawns --trace`` writes (rawns.cli.session.trace_printer)."""
    out = []
    for direction, data in datagrams:
        arrow = ">>> sent" if direction == "send" else "<<< received"
        out.append(f"{arrow} {len(data)} bytes\n" + "\n".join(hex_lines(data))
                   + f"\n{explain(data)}\n\n")
    return "".join(out)


def test_a_trace_reads_back() -> None:
    datagrams = read_capture(trace_text(("send", REQUEST), ("recv", ANSWER)).encode())
    assert [(d.direction, d.data) for d in datagrams] == [
        ("to the kernel", REQUEST), ("to user space", ANSWER)]


def test_the_cli_trace_printer_writes_what_is_read_back(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    from rawns.cli.session import trace_printer

    trace_printer("send", REQUEST)
    trace_printer("recv", ANSWER)
    text = capsys.readouterr().err
    assert text == trace_text(("send", REQUEST), ("recv", ANSWER))


def test_a_trace_whose_hex_was_cut_is_refused() -> None:
    text = trace_text(("send", REQUEST)).replace("\n0010: ", "\n0010: 00 ", 0)
    lines = text.splitlines()
    del lines[2]  # one line of hex less
    with pytest.raises(DecodeError, match="offset 0x20, but 16 bytes"):
        read_hex("\n".join(lines))


def tool(*args: str, data: bytes) -> str:
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode()


@pytest.mark.parametrize("args", [("xxd",), ("xxd", "-g1"), ("xxd", "-p"), ("xxd", "-c", "7"),
                                  ("hexdump", "-C")])
def test_dumps_of_xxd_and_hexdump_read_back(args: tuple[str, ...]) -> None:
    data = ANSWER + bytes(64) + ANSWER[:30]  # zeros: hexdump prints '*' for repeats
    text = tool(*args, data=data)
    assert [d.data for d in read_capture(text.encode())] == [data]


def test_tcpdump_x_text_gives_one_datagram_per_packet() -> None:
    def packet(data: bytes) -> str:
        rows = []
        for start in range(0, len(data), 16):
            chunk = data[start:start + 16]
            groups = " ".join(chunk[i:i + 2].hex() for i in range(0, len(chunk), 2))
            ascii_text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            rows.append(f"\t0x{start:04x}:  {groups:<40}  {ascii_text}")
        return "\n".join(rows)

    text = (f"12:00:00.000001 NETLINK, length {len(REQUEST) + 16}\n"
            f"{packet(cooked(REQUEST, PACKET_KERNEL))}\n"
            f"12:00:00.000002 NETLINK, length {len(ANSWER)}\n{packet(ANSWER)}\n")
    datagrams = read_capture(text.encode())
    assert [(d.direction, d.data) for d in datagrams] == [("to the kernel", REQUEST),
                                                         (None, ANSWER)]


def test_bare_hex_in_any_spacing() -> None:
    assert read_hex(REQUEST.hex())[0].data == REQUEST
    assert read_hex("# a comment\n" + REQUEST.hex(" ", 4) + "\n\n")[0].data == REQUEST
    assert read_hex(REQUEST[:8].hex() + "  " + REQUEST[8:].hex())[0].data == REQUEST


@pytest.mark.parametrize("text, message", [
    ("", "no input"),
    ("   \n\n", "no hex bytes"),
    ("28 00 0", "line 1 is neither hex"),
    ("hello world", "line 1 is neither hex"),
    ("0000: 28 00\n0004: 00 00", "offset 0x4, but 2 bytes"),
    (">>> sent 8 bytes\n0000: 28 00 00 00\nmessage", "announced as 8 bytes, its hex has 4"),
    ("00000000  28 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |....|\n*\n00000018",
     "cannot follow a '\\*'"),
])
def test_bad_text_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        read_capture(text.encode())


# -- hostile input ----------------------------------------------------------------------

SEEDS = [
    pcap([(REQUEST, PACKET_KERNEL), (ANSWER, PACKET_USER)]),
    pcap([(REQUEST, PACKET_KERNEL)], order=">", nanos=True),
    pcapng("<", [(LINKTYPE_NETLINK, option("<", 9, b"\x86"))],
           [(0, cooked(REQUEST, PACKET_KERNEL), 5)], simple=cooked(ANSWER, PACKET_USER)),
    trace_text(("send", REQUEST), ("recv", ANSWER)).encode(),
    tool("hexdump", "-C", data=ANSWER + bytes(48)).encode(),
    ANSWER,
]


def survives(data: bytes) -> None:
    try:
        datagrams = read_capture(data)
    except DecodeError:
        return
    assert datagrams and all(isinstance(d, Datagram) for d in datagrams)
    for datagram in datagrams:
        explain(datagram.data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_captures_raise_only_decode_error(seed: bytes, data: st.DataObject) -> None:
    buf = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 6))):
        choice = data.draw(st.integers(0, 3))
        pos = data.draw(st.integers(0, max(0, len(buf) - 1)))
        if choice == 0 and buf:
            buf[pos] = data.draw(st.integers(0, 255))
        elif choice == 1:  # a lying 32-bit length, either order
            buf[pos:pos + 4] = struct.pack(data.draw(st.sampled_from("<>")) + "I",
                                           data.draw(st.sampled_from(
                                               [0, 1, 12, 16, 0xFFFFFFFF, len(buf)])))
        elif choice == 2:
            del buf[pos:]
        else:
            buf[pos:pos] = data.draw(st.binary(max_size=8))
    survives(bytes(buf))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    survives(data)
    survives(b"\xd4\xc3\xb2\xa1" + data)
    survives(b"\x0a\x0d\x0d\x0a" + data)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789abcdefx:| *>\n\t.-#", max_size=200))
def test_random_text_raises_only_decode_error(text: str) -> None:
    survives(text.encode())
