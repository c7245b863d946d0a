"""The shortcuts give the very results of the long way.

- rawns.netlink.fast decodes, frame by frame and by values too, exactly as
  the reference (rawns.netlink.message), or fails with the same DecodeError:
  on every golden capture and on hostile bytes.
- Its encoder writes the reference's bytes, or raises its EncodeError; its
  make_attr builds the reference's attributes.
- ``encode_stamped`` equals ``encode`` of copies with the stamped nlmsghdr fields.
"""

from __future__ import annotations

import dataclasses
import gc
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rawns.netlink import Attr, AttrList, DecodeError, EncodeError, Message, decode, encode, \
    encode_stamped
from rawns.netlink import fast, requests
from rawns.netlink import message as reference
from rawns.netlink.constants import AF, IFA, IFLA, IFLA_INFO, RTM
from rawns.netlink import structs
from rawns.netlink.structs import IfAddrMsg, IfInfoMsg
from rawns.netlink.tables import TABLES, make_attr

from test_nl_hostile import GOLDEN, split_messages
from test_nl_roundtrip import SETTINGS, messages

STRUCTS = sorted((cls for cls in vars(structs).values()
                  if isinstance(cls, type) and issubclass(cls, structs.CStruct)
                  and "STRUCT" in vars(cls)), key=lambda cls: cls.__name__)
ATTR_NAMES = {name for table in TABLES if table.enum is not None
              for name in table.enum.__members__}

u32 = st.integers(0, 2**32 - 1)
u16 = st.integers(0, 2**16 - 1)


@SETTINGS
@given(st.lists(st.tuples(messages(), u16, u32, u32), min_size=1, max_size=4))
def test_encode_stamped_equals_encode_of_copies(items) -> None:
    batch = [message for message, *_ in items]
    stamps = [(flags, seq, pid) for _, flags, seq, pid in items]
    copies = [dataclasses.replace(m, flags=f, seq=s, pid=p)
              for m, (f, s, p) in zip(batch, stamps)]
    assert encode_stamped(batch, stamps) == encode(copies)


def test_encode_stamped_checks_its_input() -> None:
    message = requests.link_get(index=1)
    with pytest.raises(EncodeError):
        encode_stamped([object()], [(1, 1, 1)])  # type: ignore[list-item]
    with pytest.raises(EncodeError):
        encode_stamped([message], [(1, 2**32, 1)])  # seq does not fit
    with pytest.raises(ValueError):
        encode_stamped([message, message], [(1, 1, 1)])  # one stamp per message


def test_an_attribute_is_encoded_by_the_table_of_its_message() -> None:
    # IFLA_MTU and IFA_LABEL are both 4: in an address message the u32 must
    # be refused by the label's codec.
    mtu = make_attr(IFLA.IFLA_MTU, 1500)
    message = Message(type=RTM.RTM_NEWADDR, header=IfAddrMsg(family=AF.AF_INET),
                      attrs=AttrList([mtu]))
    for encoder in (encode, reference.encode):
        with pytest.raises(EncodeError):
            encoder(message)


def test_family_dependent_addresses_are_checked_at_encode_time() -> None:
    local = make_attr(IFA.IFA_LOCAL, ipaddress.ip_address("fd00::1"))
    message = Message(type=RTM.RTM_NEWADDR, header=IfAddrMsg(family=AF.AF_INET),
                      attrs=AttrList([local]))
    for encoder in (encode, reference.encode):
        with pytest.raises(EncodeError):
            encoder(message)


def test_mutable_values_are_encoded_when_sent() -> None:
    payload = bytearray(b"ab")
    attr = make_attr(IFLA.IFLA_COST, payload)
    payload[:] = b"xyz"
    message = Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(), attrs=AttrList([attr]))
    assert decode(encode(message))[0].get("IFLA_COST") == b"xyz"
    assert encode(message) == reference.encode(message)


def test_replaced_values_are_encoded() -> None:
    attr = make_attr(IFLA.IFLA_MTU, 1500)
    changed = dataclasses.replace(attr, value=9000)
    message = Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(), attrs=AttrList([changed]))
    assert decode(encode(message))[0].get("IFLA_MTU") == 9000
    assert attr == Attr(type=int(IFLA.IFLA_MTU), value=1500, name="IFLA_MTU")


def test_sibling_dependent_data_is_still_checked_when_sent() -> None:
    # IFLA_INFO_DATA of a kind without a table cannot be encoded: make_attr
    # lets it pass (it has no kind to look at), encode reports it.
    info = make_attr(IFLA.IFLA_LINKINFO, [make_attr(IFLA_INFO.IFLA_INFO_KIND, "dummy"),
                                          make_attr(IFLA_INFO.IFLA_INFO_DATA, [])])
    message = Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(), attrs=AttrList([info]))
    for encoder in (encode, reference.encode):
        with pytest.raises(EncodeError):
            encoder(message)


near_ipv4 = st.builds(
    lambda octets, sep, prefix: sep.join(octets) + prefix,
    st.lists(st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "-1", "+1",
                                                                       " 1", "1_0", "", "a"])),
             min_size=3, max_size=5),
    st.sampled_from([".", ".", ".", ":"]),
    st.one_of(st.just(""), st.integers(-1, 40).map(lambda n: f"/{n}"),
              st.sampled_from(["/016", "/255.255.0.0", "/", "/ 8", "/8 "])))


@SETTINGS
@given(near_ipv4)
def test_fast_ipv4_prefix_reads_as_ipaddress_does(text: str) -> None:
    try:
        interface = ipaddress.ip_interface(text)
    except ValueError:
        with pytest.raises(EncodeError):
            requests.addr_add(1, text)
        return
    message = requests.addr_add(1, text)
    assert message.get("IFA_LOCAL") == interface.ip
    assert message.header.prefixlen == interface.network.prefixlen


def reference_check_ifname(name: str) -> bool:
    """dev_valid_name, spelled out as before the fast path was added."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return False
    return (0 < size < 16 and name not in (".", "..") and not any(c in name for c in "/:\0")
            and not any(c.isspace() for c in name))


@SETTINGS
@given(st.text(max_size=18))
def test_check_ifname_accepts_what_the_kernel_does(name: str) -> None:
    if reference_check_ifname(name):
        assert requests.check_ifname(name) == name
    else:
        with pytest.raises(EncodeError):
            requests.check_ifname(name)


def test_fast_builders_equal_the_dataclass_constructors() -> None:
    from rawns.netlink.requests import _link_header, _message
    header = _link_header(7, up=True)
    assert header == IfInfoMsg(family=AF.AF_UNSPEC, index=7, flags=1, change=1)
    attrs = [make_attr(IFLA.IFLA_MTU, 1500)]
    built = _message(RTM.RTM_NEWLINK, 5, header, attrs)
    assert built == Message(type=RTM.RTM_NEWLINK, flags=5, header=header,
                            attrs=AttrList(attrs))
    assert type(built.attrs) is AttrList and built.seq == built.pid == 0


def test_conversation_stamps_like_replace_and_takes_any_iterable() -> None:
    from rawns.netlink.conversation import Conversation
    batch = [requests.link_get(index=1), requests.link_dump(),
             requests.addr_add(2, "10.0.0.9/16")]
    expected = encode([dataclasses.replace(m, seq=5 + i, pid=77,
                                           flags=m.flags | 1 | (0 if m.flags & 0x300 == 0x300
                                                                else 4))
                       for i, m in enumerate(batch)])
    assert Conversation(port_id=77, first_seq=5).send(batch) == expected
    assert Conversation(port_id=77, first_seq=5).send(iter(batch)) == expected


# -- fast decoding equals the reference -------------------------------------------------

def outcome(function, *args):
    """What ``function(*args)`` returns, or the error it raises (DecodeError
    or EncodeError, but whatever the reference raises, the fast path must too)."""
    try:
        return ("value", function(*args))
    except Exception as err:  # noqa: BLE001 - compared, not handled
        return ("error", type(err).__name__, str(err), getattr(err, "offset", None))


def same_decoding(data: bytes) -> None:
    """fast.decode, frames, decode_frame and header_and_values give the reference's
    results on ``data``, or its very error."""
    assert outcome(fast.decode, data) == outcome(reference.decode, data)
    assert outcome(fast.frames, data) == outcome(reference.frames, data)
    try:
        found = reference.frames(data)
    except DecodeError:
        return
    for frame in found:
        assert outcome(fast.decode_frame, data, frame) == \
            outcome(reference.decode_frame, data, frame)
        assert outcome(fast.header_and_values, data, frame) == \
            outcome(reference.header_and_values, data, frame)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_fast_decoding_equals_the_reference_on_golden_captures(name: str) -> None:
    data = GOLDEN[name]
    same_decoding(data)
    assert fast.decode(data) == reference.decode(data)  # and decodes at all
    same_decoding(data)  # again, now that the caches are filled


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_fast_decoding_equals_the_reference_on_every_truncation(name: str) -> None:
    for part in split_messages(GOLDEN[name]):
        for cut in range(0, len(part), 3):
            same_decoding(part[:cut])


@SETTINGS
@given(st.binary(max_size=300))
def test_fast_decoding_equals_the_reference_on_random_bytes(data: bytes) -> None:
    same_decoding(data)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(GOLDEN)), st.data())
def test_fast_decoding_equals_the_reference_on_flipped_bytes(name: str, draw) -> None:
    data = bytearray(GOLDEN[name])
    for _ in range(draw.draw(st.integers(1, 8))):
        index = draw.draw(st.integers(0, len(data) - 1))
        data[index] = draw.draw(st.integers(0, 255))
    same_decoding(bytes(data))


@SETTINGS
@given(messages())
def test_fast_decoding_equals_the_reference_on_generated_messages(message: Message) -> None:
    try:
        data = reference.encode(message)
    except EncodeError:
        return
    same_decoding(data)


def test_reused_attributes_are_right_and_not_kept() -> None:
    # Links with repeated and distinct MTUs in one buffer: every value is the
    # right one, and nothing is kept for the next call.
    data = b"".join(
        reference.encode(Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(index=i + 1),
                                 attrs=AttrList([make_attr(IFLA.IFLA_MTU, 1000 + i % 7),
                                                 make_attr(IFLA.IFLA_GROUP, i)])))
        for i in range(100))
    decoded = fast.decode(data)
    assert decoded == reference.decode(data)
    assert [m.get("IFLA_MTU") for m in decoded] == [1000 + i % 7 for i in range(100)]
    assert decoded[0].attrs[0] is decoded[7].attrs[0]  # the same bytes: one Attr
    assert fast.decode(data)[0].attrs[0] is not decoded[0].attrs[0]  # not kept


@SETTINGS
@given(st.sampled_from(STRUCTS), st.binary(min_size=216, max_size=216), st.integers(0, 8))
def test_generated_struct_decoders_equal_unpack_from(cls, data: bytes, offset: int) -> None:
    assert fast.struct_decoder(cls)(data, offset) == cls.unpack_from(data, offset)


def test_decode_leaves_the_garbage_collector_alone(monkeypatch) -> None:
    def refuse() -> None:
        raise AssertionError("decode switched the garbage collector")
    monkeypatch.setattr(gc, "disable", refuse)
    monkeypatch.setattr(gc, "enable", refuse)
    data = GOLDEN["link_dump"] * 20
    assert len(fast.decode(data)) == len(reference.decode(data))


# -- fast encoding and building equal the reference -------------------------------------

@SETTINGS
@given(messages())
def test_fast_encoding_equals_the_reference(message: Message) -> None:
    assert outcome(fast.encode, message) == outcome(reference.encode, message)
    assert outcome(fast.encode_stamped, [message], [(5, 6, 7)]) == \
        outcome(reference.encode_stamped, [message], [(5, 6, 7)])


hostile_values = st.one_of(
    st.integers(-2**70, 2**70), st.booleans(), st.none(), st.text(max_size=20),
    st.binary(max_size=8), st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1)),
    st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1)), st.just([]),
    st.just(AttrList([Attr(type=3, value="x")])), st.just(object()))


@SETTINGS
@given(messages(), st.data())
def test_fast_encoding_equals_the_reference_on_bad_values(message: Message, draw) -> None:
    attrs = list(message.attrs)
    if attrs:
        index = draw.draw(st.integers(0, len(attrs) - 1))
        attrs[index] = dataclasses.replace(attrs[index], value=draw.draw(hostile_values),
                                           type=draw.draw(st.sampled_from(
                                               [attrs[index].type, 0x10000, -1])))
    bad = dataclasses.replace(message, attrs=AttrList(attrs))
    assert outcome(fast.encode, bad) == outcome(reference.encode, bad)


def test_fast_encoding_checks_its_input_as_the_reference() -> None:
    good = requests.link_get(index=1)
    for batch in ([object()], [good, 3], [dataclasses.replace(good, header=IfAddrMsg())],
                  [dataclasses.replace(good, seq=2**32)],
                  [dataclasses.replace(good, header=IfInfoMsg(index=2**40))]):
        assert outcome(fast.encode, batch) == outcome(reference.encode, batch)
        assert outcome(fast.encode, batch)[0] == "error"


@SETTINGS
@given(st.sampled_from(sorted(ATTR_NAMES)), hostile_values)
def test_fast_make_attr_equals_the_reference(name: str, value) -> None:
    assert outcome(fast.make_attr, name, value) == outcome(make_attr, name, value)


def test_builders_give_what_the_reference_encodes() -> None:
    for message in (requests.veth_add("a0", "b0", peer_netns_fd=5, up=True, mtu=1400),
                    requests.addr_add(3, "10.0.0.1/24", broadcast=True, label="a0:1",
                                      valid_lft=30),
                    requests.route_add("10.1.0.0/16", gateway="10.0.0.2", metrics={"mtu": 1300}),
                    requests.link_set(index=4, up=True, mtu=9000, master=0),
                    requests.bridge_add("br0", stp=True), requests.neigh_add(2, "fd00::1", "02:00:00:00:00:01")):
        assert encode(message) == reference.encode(message)
        assert reference.decode(encode(message.with_seq(3))) == [message.with_seq(3)]
