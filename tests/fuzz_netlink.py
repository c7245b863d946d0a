"""A mutation fuzzer for every parser of netlink bytes in rawns.

Feeds mutated kernel captures (tests/netlink/data/*.bin, also wrapped as pcap,
pcapng and hex text) and random bytes to
``rawns.netlink.decode``, ``rawns.netlink.explain``, the capture reader
(``rawns.netlink.capture.read_capture``), the socket layer's
``Conversation.receive_data``, the model converters and the readers
(``convert.read_*``), and fails on any
exception other than DecodeError (explain must not raise at all), or on an
input that takes too long.

    python tests/fuzz_netlink.py --count 1000000 [--seed 1]

tests/test_fuzz.py runs a short pass of it in the suite.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
from pathlib import Path

from rawns import convert, fanout, netlink
from rawns.netlink import DecodeError, Message, RTM, requests
from rawns.netlink.capture import read_capture
from rawns.netlink.explain import hex_lines
from rawns.netlink.conversation import NEED_DATA, Conversation

DATA = Path(__file__).parent / "netlink" / "data"
_CONVERTERS = {
    RTM.RTM_NEWLINK: convert.link_from_message,
    RTM.RTM_NEWADDR: convert.address_from_message,
    RTM.RTM_NEWROUTE: convert.route_from_message,
    RTM.RTM_NEWNEIGH: convert.neighbour_from_message,
}
_READERS = (convert.read_link, convert.read_address, convert.read_route,
            convert.read_neighbour)
# seconds no single input may take: a guard against a parser that blows up
# (quadratic, looping), set far above any machine's load or GC pause (an
# input takes ~50 ms; 0.5 s once failed under a loaded two-core run)
_SLOW = 5.0
# The conversation read_many forks for each namespace: two dumps with readers.
_BULK = Conversation()
_BULK.send([requests.addr_dump(), requests.neigh_dump()],
           [convert.read_address, convert.read_neighbour])


def corpus() -> list[bytes]:
    captures = [path.read_bytes() for path in sorted(DATA.glob("*.bin"))]
    return captures + wrapped(captures[:3])


def wrapped(datagrams: list[bytes]) -> list[bytes]:
    """The same datagrams as rawns explain also reads them: a pcap file, a
    pcapng file (NETLINK link type, 16-byte cooked header) and a --trace."""
    frames = [struct.pack("!HHH8sH", 6, 824, 0, bytes(8), 0) + d for d in datagrams]
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 253) + b"".join(
        struct.pack("<IIII", 0, 0, len(f), len(f)) + f for f in frames)

    def block(kind: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    pcapng = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    pcapng += block(1, struct.pack("<HHI", 253, 0, 0))
    pcapng += b"".join(block(6, struct.pack("<IIIII", 0, 0, 0, len(f), len(f)) + f)
                       for f in frames)
    trace = "".join(f">>> sent {len(d)} bytes\n" + "\n".join(hex_lines(d)) + "\n(view)\n"
                    for d in datagrams)
    return [pcap, pcapng, trace.encode()]


def mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if not data or choice < 0.1:
            data += rng.randbytes(rng.randint(1, 64))
        elif choice < 0.35:  # flip bytes
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.6:  # a lying 16-bit length or type at a 4-byte boundary
            pos = rng.randrange(0, max(1, len(data) - 1), 2)
            value = rng.choice([0, 1, 3, 4, 5, 8, 0xFFFF, rng.randrange(65536)])
            data[pos:pos + 2] = struct.pack("=H", value)
        elif choice < 0.75:  # a lying 32-bit nlmsg_len
            pos = rng.randrange(0, max(1, len(data) - 3), 4)
            data[pos:pos + 4] = struct.pack("=I", rng.choice([0, 15, 16, 17, len(data) + 4,
                                                              rng.randrange(1 << 32)]))
        elif choice < 0.9:  # truncate
            del data[rng.randrange(len(data)):]
        else:  # splice two places together
            a, b = sorted(rng.randrange(len(data) + 1) for _ in range(2))
            data[a:b] = data[b:][:b - a]
    return bytes(data)


def check(data: bytes) -> None:
    started = time.perf_counter()
    try:
        messages = netlink.decode(data)
    except DecodeError:
        messages = []
    for message in messages:
        build = _CONVERTERS.get(message.type)
        if build is not None:
            try:
                build(message)
            except ValueError:
                pass  # a clear refusal (DecodeError is one); anything else fails
        netlink.encode(message)  # what decodes re-encodes (the round trip)
    try:
        frames = netlink.frames(data)
    except DecodeError:
        frames = []
    for frame in frames:
        for read in _READERS:  # what Handle's list methods read replies with
            try:
                read(data, frame)
            except ValueError:
                pass
    netlink.explain(data)
    try:
        for datagram in read_capture(data):
            netlink.explain(datagram.data)
    except DecodeError:
        pass
    conversation = Conversation(port_id=0)
    conversation.send([Message(type=RTM.RTM_GETLINK, flags=0x300,
                               header=netlink.IfInfoMsg())], [convert.read_link])
    try:
        conversation.receive_data(data)
    except DecodeError:
        pass
    while conversation.next_event() is not NEED_DATA:
        pass
    try:  # what read_many does with one namespace's answers
        whole = fanout._whole_dumps(_BULK, [data])
    except DecodeError:
        whole = DecodeError
    try:  # its one-pass reading of the usual answers, which must agree
        plain = _BULK.plain_dumps([data])
    except DecodeError:
        plain = DecodeError
    if plain is not None and plain != whole:
        raise AssertionError("plain_dumps read what the conversation did not")
    if time.perf_counter() - started > _SLOW:
        raise AssertionError(f"input of {len(data)} bytes took too long")


def run(count: int, seed: int, report_every: int = 0) -> int:
    rng = random.Random(seed)
    seeds = corpus()
    for i in range(count):
        if rng.random() < 0.1:
            data = rng.randbytes(rng.randint(0, 200))
        else:
            data = mutate(rng, rng.choice(seeds))
        try:
            check(data)
        except Exception:
            sys.stderr.write(f"input {i} (seed {seed}) failed: {data.hex()}\n")
            raise
        if report_every and (i + 1) % report_every == 0:
            sys.stderr.write(f"{i + 1} inputs\n")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    run(args.count, args.seed, report_every=100_000)
    print(f"{args.count} inputs, no failure, {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
