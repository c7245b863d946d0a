"""The encoder's shortcuts give the very bytes of the long way.

- ``encode_stamped`` equals ``encode`` of copies with the stamped nlmsghdr fields.
- A payload that ``Attr.of`` kept is trusted only with the same codec, only
  for values that cannot change, never for codecs that read the family or a
  sibling; whatever it keeps, the bytes are those of attributes without it.
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawns.netlink import Attr, AttrList, EncodeError, Message, decode, encode, encode_stamped
from rawns.netlink import requests
from rawns.netlink.constants import AF, IFA, IFLA, IFLA_INFO, RTM
from rawns.netlink.structs import IfAddrMsg, IfInfoMsg, NestedMessage
from rawns.netlink.tables import FAMILIES

from test_nl_roundtrip import SETTINGS, messages, value_for

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


def without_kept_payloads(value):
    """The same value rebuilt with the plain constructor: no kept payloads."""
    if isinstance(value, Attr):
        return Attr(type=value.type, value=without_kept_payloads(value.value),
                    name=value.name, raw=value.raw)
    if isinstance(value, AttrList):
        return AttrList(without_kept_payloads(item) for item in value)
    if isinstance(value, NestedMessage):
        return NestedMessage(header=value.header, attrs=without_kept_payloads(value.attrs))
    return value


@st.composite
def built_with_of(draw) -> Message:
    """A random message whose attributes Attr.of made (so payloads are kept)."""
    message = draw(messages())
    family = getattr(message.header, "family", 0)
    table = FAMILIES[message.type].table
    attrs = []
    for attr in message.attrs:
        spec = table.specs.get(attr.number)
        if spec is None or not spec[1].context_free:
            attrs.append(attr)
            continue
        value = draw(value_for(spec[1], family, 0))
        attrs.append(Attr.of(spec[0], rebuild_with_of(value)))
    return dataclasses.replace(message, attrs=AttrList(attrs))


def rebuild_with_of(value):
    """Nested lists made by Attr.of too, where their names are known."""
    if isinstance(value, AttrList):
        out = []
        for item in value:
            try:
                out.append(Attr.of(item.name, rebuild_with_of(item.value)))
            except EncodeError:
                out.append(item)  # unknown number or a value Attr.of refuses alone
        return AttrList(out)
    return value


@SETTINGS
@given(built_with_of())
def test_kept_payloads_give_the_same_bytes(message: Message) -> None:
    plain = dataclasses.replace(message, attrs=without_kept_payloads(message.attrs))
    data = encode(plain)
    assert encode(message) == data
    assert encode(decode(data)) == data


def test_veth_request_bytes_do_not_depend_on_kept_payloads() -> None:
    message = requests.veth_add("eth0", "vh7", peer_netns_fd=5, up=True, index=2)
    assert message.attrs.attr("IFLA_LINKINFO")._encoded is not None
    plain = dataclasses.replace(message, attrs=without_kept_payloads(message.attrs))
    assert encode(message) == encode(plain)


def test_kept_payload_is_not_trusted_by_another_table() -> None:
    # IFLA_MTU and IFA_LABEL are both 4: in an address message the u32 must
    # be refused by the label's codec, as before payloads were kept.
    mtu = Attr.of(IFLA.IFLA_MTU, 1500)
    message = Message(type=RTM.RTM_NEWADDR, header=IfAddrMsg(family=AF.AF_INET),
                      attrs=AttrList([mtu]))
    with pytest.raises(EncodeError):
        encode(message)


def test_family_dependent_addresses_are_checked_at_encode_time() -> None:
    local = Attr.of(IFA.IFA_LOCAL, ipaddress.ip_address("fd00::1"))
    assert local._encoded is None
    message = Message(type=RTM.RTM_NEWADDR, header=IfAddrMsg(family=AF.AF_INET),
                      attrs=AttrList([local]))
    with pytest.raises(EncodeError):
        encode(message)


def test_mutable_values_are_encoded_when_sent() -> None:
    payload = bytearray(b"ab")
    attr = Attr.of(IFLA.IFLA_COST, payload)
    assert attr._encoded is None
    payload[:] = b"xyz"
    message = Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(), attrs=AttrList([attr]))
    assert decode(encode(message))[0].get("IFLA_COST") == b"xyz"


def test_replace_drops_the_kept_payload() -> None:
    attr = Attr.of(IFLA.IFLA_MTU, 1500)
    assert attr._encoded is not None
    changed = dataclasses.replace(attr, value=9000)
    assert changed._encoded is None
    message = Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(), attrs=AttrList([changed]))
    assert decode(encode(message))[0].get("IFLA_MTU") == 9000
    assert attr == Attr(type=int(IFLA.IFLA_MTU), value=1500, name="IFLA_MTU")


def test_sibling_dependent_data_is_still_checked_when_sent() -> None:
    # IFLA_INFO_DATA of a kind without a table cannot be encoded: Attr.of
    # lets it pass (it has no kind to look at), encode reports it.
    info = Attr.of(IFLA.IFLA_LINKINFO, [Attr.of(IFLA_INFO.IFLA_INFO_KIND, "dummy"),
                                        Attr.of(IFLA_INFO.IFLA_INFO_DATA, [])])
    message = Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(), attrs=AttrList([info]))
    with pytest.raises(EncodeError):
        encode(message)


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
    attrs = [Attr.of(IFLA.IFLA_MTU, 1500)]
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
