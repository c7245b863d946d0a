"""The fused readers (``rawns.convert_fast``) make what ``convert``'s readers make.

Model for model (equal objects, the same fields), None for the same replies,
the same DecodeError: on the golden captures, on hypothesis-made replies
(common shapes, odd ones, hostile bytes) and on the kernel's dumps of a
namespace with varied addresses and neighbours.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_ip
from rawns import Handle, convert, convert_fast, read_many
from rawns.netlink import DecodeError, frames
from rawns.netlink.constants import RTM

DATA = Path(__file__).parent / "netlink" / "data"

PAIRS = [(convert.read_address, convert_fast.read_address),
         (convert.read_neighbour, convert_fast.read_neighbour)]


def outcome(read, data, frame):
    try:
        made = read(data, frame)
    except DecodeError as err:
        return ("error", str(err))
    return ("made", made, None if made is None else tuple(
        getattr(made, name) for name in type(made).__slots__))


def assert_same(data: bytes) -> None:
    for frame in frames(data):
        for reference, fused in PAIRS:
            assert outcome(fused, data, frame) == outcome(reference, data, frame)


@pytest.mark.parametrize("name", ["addr_dump", "neigh_dump", "link_dump", "route_dump"])
def test_golden_captures(name) -> None:
    data = (DATA / f"{name}.bin").read_bytes()
    for _ in range(2):  # shapes learnt, then used
        assert_same(data)
    made = [convert_fast.read_address(data, f) or convert_fast.read_neighbour(data, f)
            for f in frames(data)]
    if name in ("addr_dump", "neigh_dump"):
        assert sum(obj is not None for obj in made) >= 8
        kind = (convert_fast._ADDRESSES_KIND if name == "addr_dump"
                else convert_fast._NEIGHBOURS_KIND)
        assert kind.shapes > 0  # read by generated readers, not only by convert's


# --- hypothesis ----------------------------------------------------------------------

def attr(kind: int, value: bytes, pad: bool = True) -> bytes:
    data = struct.pack("=HH", 4 + len(value), kind) + value
    return data + bytes(-len(data) & 3) if pad else data


@st.composite
def replies(draw):
    neighbour = draw(st.booleans())
    family = draw(st.sampled_from([2, 2, 10, 10, 7, 0]))
    size = 16 if family == 10 else 4
    if neighbour:
        mtype = int(RTM.RTM_NEWNEIGH)
        header = struct.pack("=BxxxiHBB", family, draw(st.sampled_from([1, 2, -1, 7])),
                             draw(st.sampled_from([0x80, 0x2, 0x40, 0x0, 0x1234])),
                             draw(st.sampled_from([0, 0x8, 0x80, 0x2])), 1)
        kinds = [1, 1, 1, 2, 2, 3, 4, 12, 14, 15, 40, 0x8001]
    else:
        mtype = int(RTM.RTM_NEWADDR)
        header = struct.pack("=BBBBI", family, draw(st.sampled_from([24, 64, 32, 128, 0, 33,
                                                                     129, 255])),
                             draw(st.sampled_from([0x80, 0, 0x1])),
                             draw(st.sampled_from([0, 253, 254, 200])), draw(st.sampled_from(
                                 [1, 2, 300])))
        kinds = [1, 1, 2, 2, 3, 3, 4, 5, 6, 6, 8, 8, 9, 11, 12, 40, 0x8002]
    body = header
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(kinds))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            value = draw(st.binary(max_size=24))
        elif kind in (1, 2, 4) and kind != 2 or (kind == 2 and not neighbour):
            value = draw(st.sampled_from([bytes(size), bytes([10, 0, 0, 1]) + bytes(size - 4),
                                          bytes(range(1, size + 1))]))
        elif kind == 2 and neighbour:
            value = draw(st.sampled_from([bytes(6), b"\x02\x00\x00\x00\x00\x01", b""]))
        elif kind == 3 and not neighbour:
            value = draw(st.sampled_from([b"a0\0", b"a0:1\0", b"\0", b"ab", b"a\0b\0",
                                          b"\xff\0"]))
        elif kind == 6 and not neighbour:
            value = struct.pack("=IIII", draw(st.sampled_from([0xFFFFFFFF, 30])),
                                draw(st.sampled_from([0xFFFFFFFF, 60])), 5, 6)
        elif kind == 8 and not neighbour:
            value = struct.pack("=I", draw(st.sampled_from([0x80, 0x200, 0x1, 0])))
        else:
            value = draw(st.binary(max_size=20))
        body += attr(kind, value, pad=draw(st.integers(0, 9)) > 0)
    if draw(st.integers(0, 9)) == 0:
        body = body[:draw(st.integers(0, len(body)))]
    data = struct.pack("=IHHII", 16 + len(body), mtype, 2, 1, 0) + body
    data += bytes(-len(data) & 3)
    if draw(st.integers(0, 9)) == 0 and len(data) > 16:
        at = draw(st.integers(16, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    return data


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(replies(), min_size=1, max_size=6))
def test_hypothesis_replies(datagrams) -> None:
    for data in datagrams + datagrams:
        try:
            frames(data)
        except DecodeError:
            continue
        assert_same(data)


def test_shapes_are_bounded() -> None:
    kind = convert_fast._ADDRESSES_KIND
    for count in range(convert_fast._SHAPES + 5):
        label = b"x" * (count % 40 + 1) + b"\0"
        extra = attr(9, bytes(4)) * (count // 40 % 2) + attr(11, b"\x02") * (count // 80 % 2)
        body = struct.pack("=BBBBI", 2, 24, 0x80, 0, 1) + attr(2, bytes([10, 0, 0, 1])) + \
            attr(3, label) + extra + attr(1, bytes([10, 0, 0, count % 200]))
        data = struct.pack("=IHHII", 16 + len(body), int(RTM.RTM_NEWADDR), 2, 1, 0) + body
        assert_same(data)
    assert kind.shapes <= convert_fast._SHAPES


# --- the kernel ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def wired():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    from conftest import _remove_netns_with_prefix
    prefix = f"rnst{os.getpid()}xfused-"
    names = [prefix + "0", prefix + "1"]
    try:
        for name in names:
            run_ip("netns", "add", name)
        commands = [
            "link add a0 type veth peer name a1", "link add br0 type bridge",
            "link set a1 master br0", "link set a0 up", "link set a1 up", "link set br0 up",
            "link set lo up",
            "addr add 10.1.0.1/24 dev a0", "addr add 10.1.0.7/24 dev a0 label a0:x",
            "addr add 10.2.0.1/16 broadcast 10.2.255.255 dev a0",
            "addr add 10.3.0.1 peer 10.3.0.2/32 dev a0",
            "addr add fd01::1/64 dev a0 nodad",
            "addr add fd02::1/64 dev a0 nodad valid_lft 300 preferred_lft 100",
            "addr add 10.9.0.1/24 dev br0 scope link",
            "neigh add 10.1.0.2 lladdr 02:00:00:00:00:02 dev a0",
            "neigh add 10.1.0.3 lladdr 02:00:00:00:00:03 dev a0 nud stale",
            "neigh add fd01::2 lladdr 02:00:00:00:00:04 dev a0 router",
            "neigh add 10.1.0.4 dev a0 nud failed",  # states that stay: two reads agree
        ]
        for command in commands:
            run_ip("-n", names[0], *command.split())
        run_ip("-n", names[1], "link", "set", "lo", "up")
        yield names
    finally:
        _remove_netns_with_prefix(prefix)


def test_kernel_dumps(wired) -> None:
    """What Handle lists (fused readers) is what convert reads of the same bytes."""
    for name in wired:
        with Handle(name) as handle:
            for reference, listing in ((convert.read_address, handle.addr_list),
                                       (convert.read_neighbour, handle.neigh_list)):
                received: list[bytes] = []
                handle.trace = lambda kind, data: received.append(data) if kind == "recv" \
                    else None
                made = listing()
                expected = [obj for data in received for frame in frames(data)
                            if (obj := reference(data, frame)) is not None]
                assert made == expected
                assert [tuple(getattr(m, f) for f in type(m).__slots__) for m in made] == [
                    tuple(getattr(m, f) for f in type(m).__slots__) for m in expected]
                for data in received:
                    assert_same(data)
                if name == wired[0]:
                    assert len(made) >= 5


def test_read_many_equals_handles(wired) -> None:
    # The kernel may add a neighbour between two reads (IPv6 multicast entries
    # come as the links start talking): a difference is read again, not believed.
    for _attempt in range(5):
        snapshots = read_many(wired * 20, ("addr", "neigh"))
        differences = []
        for snapshot in snapshots:
            with Handle(snapshot.netns) as handle:
                assert list(snapshot.addresses) == handle.addr_list()
                if list(snapshot.neighbours) != handle.neigh_list():
                    differences.append(snapshot.netns)
        if not differences:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"read_many's neighbours differ from a Handle's in {differences}")
    first = snapshots[0]
    assert {str(a.address) for a in first.addresses} >= {"10.1.0.1/24", "10.3.0.1/32",
                                                         "fd02::1/64"}
    assert any(a.label == "a0:x" for a in first.addresses)
    assert any(a.peer is not None for a in first.addresses)
    assert any(a.valid_lft is not None for a in first.addresses)
    assert any(n.lladdr is None for n in first.neighbours)
    assert any("router" in n.flags for n in first.neighbours)


# --- interfaces built by copying their network's state --------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([4, 16]), st.integers(0, 2**128 - 1),
                          st.integers(0, 128)), min_size=1, max_size=20))
def test_interfaces_equal_ipaddress_s(entries) -> None:
    """Interfaces copied from their network's (``convert_fast._interface``)
    are what ``ipaddress`` makes, attribute for attribute, whatever the
    cache held before."""
    import ipaddress

    for size, number, prefixlen in entries:
        number %= 2 ** (8 * size)
        prefixlen %= 8 * size + 1
        packed = number.to_bytes(size, "big")
        made = convert_fast._interface(packed, prefixlen)
        cls = ipaddress.IPv4Interface if size == 4 else ipaddress.IPv6Interface
        expected = cls((number, prefixlen))
        assert type(made) is cls and made == expected and hash(made) == hash(expected)
        assert vars(made) == vars(expected) and repr(made) == repr(expected)
        assert (made.ip, made.network, made.netmask, made.hostmask, made.with_prefixlen) == \
            (expected.ip, expected.network, expected.netmask, expected.hostmask,
             expected.with_prefixlen)
        if size == 16:
            assert made.scope_id is None and str(made) == str(expected)
    assert convert_fast._CLONES == {4: True, 16: True} or not any(convert_fast._CLONES.values())


# --- Conversation.plain_dumps: the usual answers in one pass ------------------------

def _bulk_template():
    from rawns.netlink import requests
    from rawns.netlink.conversation import Conversation

    template = Conversation(first_seq=1)
    template.send([requests.addr_dump(), requests.neigh_dump()],
                  [convert_fast.read_address, convert_fast.read_neighbour])
    return template


def _with_header(data: bytes, seq: int, flags: int | None = None) -> bytes:
    length, mtype, old_flags, _, pid = struct.unpack_from("=IHHII", data)
    return struct.pack("=IHHII", length, mtype, old_flags if flags is None else flags,
                       seq, pid) + data[16:]


def _done(seq: int, error: int = 0, flags: int = 2, length: int = 20) -> bytes:
    body = struct.pack("=i", error) + bytes(length - 20)
    return struct.pack("=IHHII", length, 3, flags, seq, 0) + body


@st.composite
def dump_answers(draw):
    """Two dumps' answers as the kernel sends them (replies, a plain
    NLMSG_DONE each, split into datagrams anywhere), often spoilt: a reply
    numbered for the other dump or none, an interrupted flag, an error, a
    DONE that is not plain, a message of netlink's own, one too many or
    missing."""
    template = _bulk_template()
    seqs = [1, 2]  # as _bulk_template's conversation numbers its dumps
    messages = []
    for seq in seqs:
        for reply in draw(st.lists(replies(), max_size=4)):
            if len(reply) >= 16:
                messages.append(_with_header(reply, seq))
        messages.append(_done(seq))
    spoil = draw(st.integers(0, 9))
    if spoil and messages:
        at = draw(st.integers(0, len(messages) - 1))
        kind = draw(st.integers(0, 6))
        if kind == 0:
            messages[at] = _with_header(messages[at], draw(st.sampled_from(
                [seqs[0], seqs[1], 0, 999])))
        elif kind == 1:
            messages[at] = _with_header(messages[at], struct.unpack_from("=I", messages[at], 8)[0],
                                        flags=0x10 | 2)
        elif kind == 2:
            messages.insert(at, _done(seqs[0], error=draw(st.sampled_from([-1, -16]))))
        elif kind == 3:
            messages.insert(at, _done(draw(st.sampled_from(seqs)), length=24))
        elif kind == 4:
            messages.insert(at, struct.pack("=IHHII", 16, 1, 0, seqs[0], 0))  # NLMSG_NOOP
        elif kind == 5:
            del messages[at]
        else:
            messages.append(draw(st.sampled_from(messages)))
    cuts = sorted(draw(st.lists(st.integers(0, len(messages)), max_size=3)))
    bounds = [0, *cuts, len(messages)]
    datagrams = [b"".join(messages[a:b]) for a, b in zip(bounds, bounds[1:])]
    return template, [d for d in datagrams if d]


def _by_fork(template, datagrams):
    from rawns.netlink.conversation import NEED_DATA, DumpDone

    conversation = template.fork()
    for data in datagrams:
        conversation.receive_data(data)
    if conversation.outstanding:
        return None
    replies_by_dump = [[]] * template.outstanding
    while (event := conversation.next_event()) is not NEED_DATA:
        if not isinstance(event, DumpDone) or event.interrupted:
            return None
        replies_by_dump[event.index] = event.replies
    return replies_by_dump


def _result(read):
    try:
        made = read()
    except DecodeError as err:
        return ("error", str(err))
    if made is None:
        return None
    return [[None if o is None else (type(o), tuple(getattr(o, n) for n in type(o).__slots__))
             for o in replies] for replies in made]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dump_answers())
def test_plain_dumps_ends_as_a_fork_does(answers) -> None:
    """Whatever the answers, ``plain_dumps`` returns None or what a fork of
    the conversation fed them ends with (the same models, the same
    DecodeError), and leaves the template as it was."""
    template, datagrams = answers
    before = template.unanswered()
    fast = _result(lambda: template.plain_dumps(datagrams))
    assert template.unanswered() == before
    if fast is not None:
        assert fast == _result(lambda: _by_fork(template, datagrams))


def test_plain_dumps_reads_the_kernel_s_usual_answers(wired) -> None:
    """On namespaces' real answers it does not give up, and reads what the
    fork reads."""
    from rawns import fanout, netns, nlsock, syscalls
    from rawns.netlink import encode, requests

    template = _bulk_template()  # numbers its two dumps 1 and 2
    wire = [encode(requests.addr_dump().with_seq(1)), encode(requests.neigh_dump().with_seq(2))]
    paths = [os.fsencode(netns.path_of(name)) for name in wired]
    for answer in syscalls.exchange_many(paths, 0, [wire] * len(paths), syscalls.Tally(),
                                         options=nlsock.SOCKET_OPTIONS):
        plain = template.plain_dumps(answer)
        assert plain is not None and plain == _by_fork(template, answer)
        assert plain == fanout._whole_dumps(template, answer)
    first = syscalls.exchange_many(paths[:1], 0, [wire], syscalls.Tally(),
                                   options=nlsock.SOCKET_OPTIONS)[0]
    assert len(template.plain_dumps(first)[0]) >= 5  # wired[0]'s addresses
