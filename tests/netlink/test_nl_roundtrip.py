"""Hypothesis round trips: random messages of every family survive encode -> decode.

Strategies are derived from the tables themselves (one per codec class), so
every attribute of every table is exercised, nested ones included.
"""

from __future__ import annotations

import ipaddress
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawns.netlink import Message, decode, encode, explain
from rawns.netlink import codecs as c
from rawns.netlink.attrs import Attr, AttrList
from rawns.netlink.constants import AF, NLA_F_NESTED, NLM_F, NLMSG, RTM
from rawns.netlink.structs import IfInfoMsg, NestedMessage, NlMsgErr, NlMsgHdr, RtNextHop
from rawns.netlink.tables import FAMILIES, LINKINFO, NLMSGERR

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ipv4 = st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1))
ipv6 = st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1))


def ints_for(fmt: str) -> st.SearchStrategy[int]:
    code = fmt[-1]
    bits = struct.calcsize("=" + code) * 8
    if code.islower():
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


def text_for(codec: c.String) -> st.SearchStrategy[str]:
    limit = codec.max_length or 40
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                   max_size=limit // 4)


def struct_values(cls) -> st.SearchStrategy:
    codes = [ch for ch in cls.STRUCT.format.lstrip("=") if ch.isalpha() and ch != "x"]
    names = list(cls.__dataclass_fields__)
    return st.tuples(*[ints_for(code) for code in codes]).map(
        lambda values: cls(**dict(zip(names, values))))


def value_for(codec, family: int, depth: int) -> st.SearchStrategy:
    if isinstance(codec, c.Int):
        return ints_for(codec.struct.format)
    if isinstance(codec, c.UInt):
        return st.integers(0, 2**64 - 1)
    if isinstance(codec, c.String):
        return text_for(codec)
    if isinstance(codec, c.Flag):
        return st.just(True)
    if isinstance(codec, c.HwAddr):
        return st.binary(max_size=20).map(lambda b: b.hex(":"))
    if isinstance(codec, c.IPAddr):
        version = codec.version or (4 if family == AF.AF_INET else 6)
        return ipv4 if version == 4 else ipv6
    if isinstance(codec, c.Struct):
        return struct_values(codec.cls)
    if isinstance(codec, c.BridgeId):
        return st.binary(min_size=8, max_size=8).map(lambda b: f"{b[:2].hex()}.{b[2:].hex(':')}")
    if isinstance(codec, c.PortRange):
        return st.tuples(st.integers(0, 65535), st.integers(0, 65535))
    if isinstance(codec, c.Via):
        return st.one_of(ipv4, ipv6)
    if isinstance(codec, c.Nested):
        return attr_lists(codec.table, family, depth + 1)
    if isinstance(codec, c.NestedMessage):
        return st.builds(lambda h, a: NestedMessage(header=h, attrs=a),
                         struct_values(IfInfoMsg), attr_lists(codec.table, 0, depth + 1))
    if isinstance(codec, c.Multipath):
        hop = st.builds(lambda f, h, i, a: RtNextHop(flags=f, hops=h, ifindex=i, attrs=a),
                        st.integers(0, 255), st.integers(0, 255), ints_for("i"),
                        attr_lists(codec.table, family, depth + 1))
        return st.lists(hop, max_size=3).map(tuple)
    return st.binary(max_size=16)  # Bytes, and ByKind without a kind: raw


@st.composite
def attr_lists(draw, table, family: int, depth: int = 0) -> AttrList:
    if depth > 2:
        return AttrList()
    if table is LINKINFO:
        return draw(linkinfo(family, depth))
    numbers = sorted(table.specs)
    chosen = draw(st.lists(st.one_of(st.sampled_from(numbers), st.integers(0, 0x3FFF)),
                           max_size=6))
    attrs = []
    for number in chosen:
        spec = table.specs.get(number)
        if spec is None or isinstance(spec[1], c.ByKind):
            attrs.append(Attr(type=number, value=draw(st.binary(max_size=12)),
                              name=spec[0] if spec else None))
            continue
        name, codec = spec
        flag = NLA_F_NESTED if codec.sets_nested_flag and draw(st.booleans()) else 0
        attrs.append(Attr(type=number | flag, value=draw(value_for(codec, family, depth)),
                          name=name))
    return AttrList(attrs)


@st.composite
def linkinfo(draw, family: int, depth: int) -> AttrList:
    kind = draw(st.sampled_from(["veth", "bridge", "vxlan", "ifb", "macvlan", "vlan", "ipvlan",
                                 "vrf", "bond", "tun"]))
    kind_attr = Attr(type=1, value=kind, name="IFLA_INFO_KIND")
    data_codec = LINKINFO.specs[2][1].tables.get(kind)
    if data_codec is None:
        data = Attr(type=2, value=draw(st.binary(max_size=8)), name="IFLA_INFO_DATA")
    else:
        data = Attr(type=2, value=draw(value_for(data_codec, family, depth)),
                    name="IFLA_INFO_DATA")
    return AttrList([kind_attr, data])


def header_for(family_spec):
    strategy = struct_values(family_spec.header)
    if family_spec.name in ("address", "route", "neighbour", "rule"):
        return st.tuples(strategy, st.sampled_from([AF.AF_INET, AF.AF_INET6])).map(
            lambda pair: type(pair[0])(**{**pair[0].to_dict(), "family": pair[1]}))
    return strategy


@st.composite
def messages(draw) -> Message:
    mtype = draw(st.sampled_from(sorted(FAMILIES)))
    family_spec = FAMILIES[mtype]
    header = draw(header_for(family_spec))
    attrs = draw(attr_lists(family_spec.table, getattr(header, "family", 0)))
    return Message(type=mtype, flags=draw(st.integers(0, 0xFFFF)),
                   seq=draw(st.integers(0, 2**32 - 1)), pid=draw(st.integers(0, 2**32 - 1)),
                   header=header, attrs=attrs)


@SETTINGS
@given(st.lists(messages(), min_size=1, max_size=3))
def test_random_messages_round_trip(batch: list[Message]) -> None:
    data = encode(batch)
    assert decode(data) == batch
    assert encode(decode(data)) == data
    assert "decoding stopped" not in explain(data)


@SETTINGS
@given(st.integers(-4095, 0), messages(), st.booleans(), attr_lists(NLMSGERR, 0))
def test_errors_round_trip(error: int, request: Message, capped: bool, extack) -> None:
    request_bytes = encode(request)
    length = struct.unpack_from("=I", request_bytes)[0]
    echo = NlMsgHdr.unpack_from(request_bytes, 0)
    flags = (NLM_F.NLM_F_CAPPED if capped else 0) | (NLM_F.NLM_F_ACK_TLVS if extack else 0)
    payload = b"" if capped else request_bytes[16:length]
    message = Message(type=NLMSG.NLMSG_ERROR, flags=int(flags), seq=1, pid=2,
                      header=NlMsgErr(error=error, request=echo, request_payload=payload),
                      attrs=extack)
    data = encode(message)
    (decoded,) = decode(data)
    assert decoded == message and encode(decoded) == data
    if not capped:
        assert decoded.echoed_request == request


@SETTINGS
@given(st.integers(-4095, 0), attr_lists(NLMSGERR, 0))
def test_done_round_trip(error: int, extack) -> None:
    flags = int(NLM_F.NLM_F_MULTI | (NLM_F.NLM_F_ACK_TLVS if extack else 0))
    message = Message(type=NLMSG.NLMSG_DONE, flags=flags, header=error, attrs=extack)
    assert decode(encode(message)) == [message]


def test_unknown_message_type_keeps_its_payload() -> None:
    message = Message(type=RTM.RTM_NEWQDISC, flags=2, payload=b"\x01\x02\x03\x04\x05")
    (decoded,) = decode(encode(message))
    assert decoded.payload == b"\x01\x02\x03\x04\x05" and decoded.header is None
