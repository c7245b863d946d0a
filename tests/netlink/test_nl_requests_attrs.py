"""Request builders and the attribute-level policies (raw bytes, flags, padding)."""

from __future__ import annotations

import doctest
import ipaddress
import struct
import subprocess
import sys

import pytest

import rawns.netlink
import rawns.netlink.names
from rawns.errors import EncodeError
from rawns.netlink import Attr, AttrList, Message, decode, encode, explain, make_attr, requests
from rawns.netlink.constants import (
    AF, IFA_F, IFF, IFLA, IFLA_BR, NLM_F, NUD, RT_SCOPE, RT_TABLE, RTA, RTM, RTN,
)
from rawns.netlink.structs import IfInfoMsg


def roundtrip(message: Message) -> Message:
    (decoded,) = decode(encode(message.with_seq(9, pid=0)))
    assert decoded == message.with_seq(9, pid=0)
    return decoded


def test_doctests() -> None:
    for module in (rawns.netlink, requests, rawns.netlink.constants, rawns.netlink.names):
        assert doctest.testmod(module).failed == 0


def test_veth_with_peer_in_another_namespace() -> None:
    msg = roundtrip(requests.veth_add("veth0", "veth1", peer_netns_fd=7, mtu=1400, up=True))
    assert msg.type == RTM.RTM_NEWLINK and msg.seq == 9
    assert msg.flags == NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL
    assert msg.header.flags & IFF.IFF_UP and msg.header.change == IFF.IFF_UP
    assert msg.get("IFLA_IFNAME") == "veth0" and msg.get(IFLA.IFLA_MTU) == 1400
    linkinfo = msg.attr("IFLA_LINKINFO")
    assert linkinfo.nested_flag  # builders set NLA_F_NESTED on real nests
    peer = msg.get_path("IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER")
    assert isinstance(peer.header, IfInfoMsg)
    assert peer.get("IFLA_IFNAME") == "veth1" and peer.get("IFLA_NET_NS_FD") == 7
    assert "VETH_INFO_PEER" in explain(encode(msg))


def test_veth_peer_by_pid_and_bad_names() -> None:
    msg = requests.veth_add("a", "b", peer_netns_pid=1234)
    assert msg.get_path("IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER").get(
        "IFLA_NET_NS_PID") == 1234
    for bad in ("x" * 16, "", "a/b", "a b", "..", "é" * 8, 5):
        with pytest.raises(EncodeError):
            requests.veth_add(bad, "ok")
    assert len(requests.check_ifname("x" * 15)) == 15
    with pytest.raises(ValueError):  # EncodeError is a ValueError
        requests.link_add("ok", "veth", netns_fd=1, netns_pid=1)


def test_bridge_and_vxlan() -> None:
    bridge = roundtrip(requests.bridge_add("br0", stp=True, ageing_time=30000))
    data = bridge.get_path("IFLA_LINKINFO", "IFLA_INFO_DATA")
    assert data.get(IFLA_BR.IFLA_BR_STP_STATE) == 1 and data.get("IFLA_BR_AGEING_TIME") == 30000
    vx = roundtrip(requests.vxlan_add("vx0", 42, remote="10.0.0.2", local="10.0.0.1",
                                      port=4789, dev=3))
    data = vx.get_path("IFLA_LINKINFO", "IFLA_INFO_DATA")
    assert data.get("IFLA_VXLAN_GROUP") == ipaddress.ip_address("10.0.0.2")
    assert data.get("IFLA_VXLAN_PORT") == 4789 and data.get("IFLA_VXLAN_LINK") == 3
    vx6 = requests.vxlan_add("vx6", 1, group="ff05::1", dev=2)
    assert vx6.get_path("IFLA_LINKINFO", "IFLA_INFO_DATA", "IFLA_VXLAN_GROUP6") == \
        ipaddress.ip_address("ff05::1")
    for kwargs in ({"group": "10.0.0.1"}, {"remote": "239.1.1.1"}, {"remote": "nope"},
                   {"remote": "10.0.0.1", "local": "::1"}):
        with pytest.raises(EncodeError):
            requests.vxlan_add("vx0", 1, **kwargs)
    with pytest.raises(EncodeError):
        requests.vxlan_add("vx0", 1 << 24)


def test_link_del_get_set_dump() -> None:
    assert roundtrip(requests.link_del(ifname="veth0")).get("IFLA_IFNAME") == "veth0"
    assert roundtrip(requests.link_del(index=5)).header.index == 5
    get = roundtrip(requests.link_get(index=3))
    assert get.flags == NLM_F.NLM_F_REQUEST and get.header.index == 3
    down = roundtrip(requests.link_set(ifname="eth9", up=False, master=0, new_name="x"))
    assert down.header.change == IFF.IFF_UP and down.header.flags == 0
    assert down.get_all("IFLA_IFNAME") == ["eth9", "x"] and down.get("IFLA_MASTER") == 0
    dump = roundtrip(requests.link_dump(kind="veth", master=4))
    assert dump.flags & NLM_F.NLM_F_DUMP == NLM_F.NLM_F_DUMP
    assert dump.header == IfInfoMsg()  # strict checking: all zero
    assert dump.get_path("IFLA_LINKINFO", "IFLA_INFO_KIND") == "veth"
    with pytest.raises(EncodeError):
        requests.link_del()
    with pytest.raises(EncodeError):
        requests.link_del(index=0)


def test_addresses() -> None:
    v4 = roundtrip(requests.addr_add(3, "10.0.0.1/24", broadcast=True, label="eth0:1",
                                     valid_lft=60, preferred_lft=30))
    assert v4.header.family == AF.AF_INET and v4.header.prefixlen == 24
    assert v4.get("IFA_LOCAL") == v4.get("IFA_ADDRESS") == ipaddress.ip_address("10.0.0.1")
    assert str(v4.get("IFA_BROADCAST")) == "10.0.0.255"
    assert v4.get("IFA_CACHEINFO").valid == 60
    v6 = roundtrip(requests.addr_add(3, "fd00::1/64", flags=IFA_F.IFA_F_NODAD
                                     | IFA_F.IFA_F_NOPREFIXROUTE))
    assert v6.header.family == AF.AF_INET6 and v6.get("IFA_FLAGS") & IFA_F.IFA_F_NOPREFIXROUTE
    assert v6.header.flags == IFA_F.IFA_F_NODAD
    assert roundtrip(requests.addr_del(3, "10.0.0.1/24")).type == RTM.RTM_DELADDR
    dump = roundtrip(requests.addr_dump(family=AF.AF_INET6, index=2))
    assert dump.header.index == 2 and dump.header.prefixlen == 0
    for bad in ("10.0.0.1/33", "nope", "10.0.0.1/24x"):
        with pytest.raises(EncodeError):
            requests.addr_add(3, bad)
    with pytest.raises(EncodeError):
        requests.addr_add(3, "fd00::1/64", broadcast=True)


def test_routes() -> None:
    default = roundtrip(requests.route_add("default", gateway="10.0.0.254", table=100))
    assert default.header.dst_len == 0 and "RTA_DST" not in default
    assert default.header.table == 100 and default.header.scope == RT_SCOPE.RT_SCOPE_UNIVERSE
    big = roundtrip(requests.route_add("10.9.0.0/16", oif=2, table=1000, priority=5,
                                       metrics={"mtu": 1300}, prefsrc="10.0.0.1"))
    assert big.header.table == RT_TABLE.RT_TABLE_UNSPEC and big.get("RTA_TABLE") == 1000
    assert big.header.scope == RT_SCOPE.RT_SCOPE_LINK
    assert big.get_path("RTA_METRICS", "RTAX_MTU") == 1300
    multi = roundtrip(requests.route_add("10.8.0.0/24", multipath=[
        requests.nexthop(gateway="10.0.0.1", oif=2), requests.nexthop(gateway="10.0.0.2",
                                                                      weight=3)]))
    assert [h.hops for h in multi.get("RTA_MULTIPATH")] == [0, 2]
    six = roundtrip(requests.route_add("fd00:1::/64", gateway="fe80::1", oif=2))
    assert six.header.family == AF.AF_INET6
    deleted = roundtrip(requests.route_del("10.9.0.0/16", table=1000))
    assert deleted.header.scope == RT_SCOPE.RT_SCOPE_NOWHERE and deleted.header.protocol == 0
    dump = roundtrip(requests.route_dump(family=AF.AF_INET, table=1000, oif=2))
    assert dump.header.table == 0 and dump.get("RTA_TABLE") == 1000
    get = roundtrip(requests.route_get("10.1.2.3"))
    assert get.header.dst_len == 32
    with pytest.raises(EncodeError):
        requests.route_add("10.0.0.1/24")  # host bits set
    with pytest.raises(EncodeError):
        requests.route_add("10.0.0.0/24", gateway="fe80::1")
    with pytest.raises(EncodeError):
        requests.route_add("10.0.0.0/24", metrics={"nosuch": 1})
    local = requests.route_add("10.0.0.1/32", type=RTN.RTN_LOCAL, oif=1)
    assert local.header.scope == RT_SCOPE.RT_SCOPE_HOST


def test_neighbours_and_nsid() -> None:
    add = roundtrip(requests.neigh_add(2, "10.0.0.9", "02:00:00:00:00:09"))
    assert add.header.state == NUD.NUD_PERMANENT and add.get("NDA_LLADDR") == "02:00:00:00:00:09"
    assert roundtrip(requests.neigh_del(2, "fd00::9")).header.family == AF.AF_INET6
    dump = roundtrip(requests.neigh_dump(index=2))
    assert dump.header.ifindex == 0 and dump.get("NDA_IFINDEX") == 2
    with pytest.raises(EncodeError):
        requests.neigh_add(2, "10.0.0.9", "02:00:00:00:09")
    new = roundtrip(requests.nsid_new(-1, fd=5))
    assert new.get("NETNSA_NSID") == -1 and new.get("NETNSA_FD") == 5
    assert roundtrip(requests.nsid_get(pid=1)).get("NETNSA_PID") == 1
    assert roundtrip(requests.nsid_dump()).header.family == 0
    with pytest.raises(EncodeError):
        requests.nsid_get()


# -- policies -------------------------------------------------------------------------

def _message(attrs: bytes) -> bytes:
    body = struct.pack("=BxHiII", 0, 0, 1, 0, 0) + attrs
    return struct.pack("=IHHII", 16 + len(body), 16, 0, 0, 0) + body


def _attr(nla_type: int, payload: bytes, pad: bytes | None = None) -> bytes:
    pad = b"\0" * (-len(payload) & 3) if pad is None else pad
    return struct.pack("=HH", 4 + len(payload), nla_type) + payload + pad


def test_non_canonical_strings_keep_their_bytes() -> None:
    for payload in (b"eth0", b"eth0\0junk", b"eth0\0\0\0\0"):
        data = _message(_attr(3, payload))
        (msg,) = decode(data)
        assert msg.get("IFLA_IFNAME") == "eth0" and msg.attr("IFLA_IFNAME").raw == payload
        assert encode([msg]) == data
    # Changing the value drops the kept bytes: the new value is encoded.
    (msg,) = decode(_message(_attr(3, b"eth0\0junk")))
    import dataclasses
    renamed = dataclasses.replace(msg, attrs=AttrList(
        [dataclasses.replace(msg.attrs[0], value="eth1")]))
    assert decode(encode(renamed))[0].attr("IFLA_IFNAME").raw is None


def test_unknown_numbers_and_flag_bits_are_kept() -> None:
    data = _message(_attr(0x3FF0, b"\x01\x02\x03") + _attr(18 | 0x8000, _attr(1, b"veth\0"))
                    + _attr(4 | 0x4000, b"\x00\x00\x05\xdc"))
    (msg,) = decode(data)
    unknown = msg.attrs[0]
    assert unknown.name is None and unknown.value == b"\x01\x02\x03" and unknown.number == 0x3FF0
    assert msg.attr("IFLA_LINKINFO").nested_flag
    assert msg.attr(IFLA.IFLA_MTU).type == 4 | 0x4000
    assert encode([msg]) == data


def test_payloads_that_do_not_fit_stay_bytes() -> None:
    data = _message(_attr(4, b"\x01\x02\x03") + _attr(23, bytes(10)))
    (msg,) = decode(data)
    assert msg.get("IFLA_MTU") == b"\x01\x02\x03" and msg.get("IFLA_STATS64") == bytes(10)
    assert encode([msg]) == data
    assert "kept as bytes" in explain(data)


def test_older_shorter_stats64_decodes_and_keeps_bytes() -> None:
    payload = struct.pack("=24Q", *range(24))
    (msg,) = decode(_message(_attr(23, payload)))
    stats = msg.get("IFLA_STATS64")
    assert stats.rx_packets == 0 and stats.rx_nohandler == 23 and stats.rx_otherhost_dropped == 0
    assert encode([msg]) == _message(_attr(23, payload))


def test_padding_policy_nonzero_padding_is_read_and_rewritten_as_zero() -> None:
    data = _message(_attr(3, b"lo\0", pad=b"\xff"))
    (msg,) = decode(data)
    assert msg.get("IFLA_IFNAME") == "lo"
    assert encode([msg]) == _message(_attr(3, b"lo\0"))


def test_make_attr_validates() -> None:
    assert make_attr("IFLA_MTU", 1500) == Attr(type=4, value=1500, name="IFLA_MTU")
    for key, value in (("IFLA_MTU", -1), ("IFLA_MTU", 2**32), ("IFLA_IFNAME", "x" * 16),
                       ("IFLA_ADDRESS", "zz"), ("NOPE", 1), (RTA.RTA_DST, "10.0.0.300")):
        with pytest.raises(EncodeError):
            make_attr(key, value)


def test_attribute_specs_by_name_and_by_member_agree() -> None:
    from rawns.netlink.tables import TABLES, attr_spec
    checked = 0
    for table in TABLES:
        if table.enum is None:
            continue
        for name, member in table.enum.__members__.items():
            nla_type, spec_name, codec = attr_spec(member)
            assert attr_spec(name) == (nla_type, spec_name, codec), name
            assert nla_type & 0x3FFF == int(member) and table.specs[int(member)][1] is codec
            checked += 1
    assert checked > 400
    with pytest.raises(EncodeError):
        attr_spec(AF.AF_INET)  # a constants class that names no attributes
    with pytest.raises(EncodeError):
        attr_spec(4)


def test_make_attr_indexes_only_the_tables_it_is_asked_about() -> None:
    code = ("from rawns.netlink import tables\n"
            "from rawns.netlink.constants import IFLA\n"
            "assert not tables._SPECS_BY_ENUM\n"
            "tables.make_attr(IFLA.IFLA_MTU, 1500)\n"
            "assert [c.__name__ for c in tables._SPECS_BY_ENUM] == ['IFLA']\n"
            "tables.make_attr('IFA_LABEL', 'x')\n"
            "assert len(tables._SPECS_BY_ENUM) == len(tables._HOMES)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_accessors() -> None:
    (msg,) = decode(encode(requests.veth_add("v0", "v1")))
    assert msg.get("IFLA_NOPE", 7) == 7 and msg.get(9999) is None
    assert msg.get_path("IFLA_LINKINFO", "IFLA_INFO_KIND") == "veth"
    assert msg.get_path("IFLA_LINKINFO", "IFLA_NOPE", "X", default=0) == 0
    assert "IFLA_LINKINFO" in msg and IFLA.IFLA_LINKINFO in msg
    as_dict = msg.to_dict()
    assert as_dict["type"] == "RTM_NEWLINK"
    assert as_dict["attrs"]["IFLA_LINKINFO"]["IFLA_INFO_KIND"] == "veth"
    assert msg.type_name == "RTM_NEWLINK" and "NLM_F_CREATE" in msg.flag_names


def test_encode_rejects_bad_messages() -> None:
    with pytest.raises(EncodeError):
        encode([Message(type=RTM.RTM_NEWLINK, header=None)])
    with pytest.raises(EncodeError):
        encode([Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(), seq=-1)])
    with pytest.raises(EncodeError):
        encode([Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(),
                        attrs=AttrList([Attr(type=4, value="x")]))])
    with pytest.raises(EncodeError):
        encode([Message(type=RTM.RTM_NEWLINK, header=IfInfoMsg(),
                        attrs=AttrList([Attr(type=3, value=b"x" * 70000)]))])
