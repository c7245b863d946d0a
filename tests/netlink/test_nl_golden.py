"""Golden vectors: bytes captured from the kernel by capture_golden.py.

Each buffer must decode, re-encode to the same bytes, render with explain, and
decode to what iproute2 (`ip -j`, saved in data/ip_oracle.json) says about the
same objects.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from rawns.netlink import decode, encode, explain
from rawns.netlink.constants import (
    AF, IF_OPER, IFA_F, NLMSG, NUD, RT_TABLE, RTM, RTPROT, RT_SCOPE,
)
from rawns.netlink.structs import LinkStats64, NlMsgErr

DATA = Path(__file__).parent / "data"
BUFFERS = sorted(DATA.glob("*.bin"))
ORACLE = json.loads((DATA / "ip_oracle.json").read_text())
# The capture creates "ifbgold" (to record an ack) after the dumps and before
# asking `ip`; it is the only object the oracle sees that the dumps do not.
ORACLE["link"] = [entry for entry in ORACLE["link"] if entry["ifname"] != "ifbgold"]


def load(name: str) -> bytes:
    return (DATA / f"{name}.bin").read_bytes()


def replies(name: str, mtype: RTM) -> list:
    return [m for m in decode(load(name)) if m.type == mtype]


@pytest.mark.parametrize("path", BUFFERS, ids=lambda p: p.stem)
def test_round_trip_is_exact(path: Path) -> None:
    data = path.read_bytes()
    assert encode(decode(data)) == data


@pytest.mark.parametrize("path", BUFFERS, ids=lambda p: p.stem)
def test_explain_renders_everything(path: Path) -> None:
    text = explain(path.read_bytes())
    assert "decoding stopped" not in text
    assert text.count("message ") >= len(decode(path.read_bytes()))


def test_dumps_end_with_done() -> None:
    for name in ("link_dump", "addr_dump", "route_dump", "neigh_dump", "nsid_dump"):
        messages = decode(load(name))
        assert messages[-1].type == NLMSG.NLMSG_DONE
        assert messages[-1].error == 0
        assert all(m.flags & 0x2 for m in messages)  # NLM_F_MULTI


def test_links_match_ip() -> None:
    links = {m.get("IFLA_IFNAME"): m for m in replies("link_dump", RTM.RTM_NEWLINK)}
    assert set(links) == {entry["ifname"] for entry in ORACLE["link"]}
    for entry in ORACLE["link"]:
        link = links[entry["ifname"]]
        assert link.header.index == entry["ifindex"]
        assert link.get("IFLA_MTU") == entry["mtu"]
        assert link.get("IFLA_ADDRESS") == entry["address"]
        assert link.get("IFLA_TXQLEN") == entry["txqlen"]
        assert link.get("IFLA_OPERSTATE").name == "IF_OPER_" + entry["operstate"]
        assert link.get("IFLA_QDISC") == entry["qdisc"]
        kind = entry.get("linkinfo", {}).get("info_kind")
        assert link.get_path("IFLA_LINKINFO", "IFLA_INFO_KIND") == kind
        if "master" in entry:
            assert links[entry["master"]].header.index == link.get("IFLA_MASTER")
        if "link_netnsid" in entry:
            assert link.get("IFLA_LINK_NETNSID") == entry["link_netnsid"]
        assert isinstance(link.get("IFLA_STATS64"), LinkStats64)


def test_link_details() -> None:
    links = {m.get("IFLA_IFNAME"): m for m in replies("link_dump", RTM.RTM_NEWLINK)}
    va = links["va"]
    assert va.get("IFLA_IFALIAS") == "golden veth"
    assert va.get("IFLA_OPERSTATE") is IF_OPER.IF_OPER_UP
    assert "IFF_UP" in repr(va.header.flags)
    vxlan = links["vx0"].get_path("IFLA_LINKINFO", "IFLA_INFO_DATA")
    assert vxlan.get("IFLA_VXLAN_ID") == 42
    assert vxlan.get("IFLA_VXLAN_GROUP") == ipaddress.IPv4Address("10.77.0.2")
    assert vxlan.get("IFLA_VXLAN_LOCAL") == ipaddress.IPv4Address("10.77.0.1")
    assert vxlan.get("IFLA_VXLAN_PORT") == 4789
    assert vxlan.get("IFLA_VXLAN_LINK") == va.header.index
    bridge = links["br0"].get_path("IFLA_LINKINFO", "IFLA_INFO_DATA")
    assert bridge.get("IFLA_BR_STP_STATE") == 0
    assert bridge.get("IFLA_BR_GROUP_ADDR") == "01:80:c2:00:00:00"
    assert bridge.get("IFLA_BR_BRIDGE_ID").startswith("8000.")
    port = links["vp1"].get("IFLA_LINKINFO")
    assert port.get("IFLA_INFO_SLAVE_KIND") == "bridge"
    assert port.get_path("IFLA_INFO_SLAVE_DATA", "IFLA_BRPORT_STATE") == 3  # forwarding


def test_link_get_is_one_reply() -> None:
    (message,) = decode(load("link_get_va"))
    assert message.type == RTM.RTM_NEWLINK and message.get("IFLA_IFNAME") == "va"


def test_addresses_match_ip() -> None:
    decoded = {(m.header.index, str(m.get("IFA_ADDRESS")), m.header.prefixlen): m
               for m in replies("addr_dump", RTM.RTM_NEWADDR)}
    expected = 0
    for link in ORACLE["addr"]:
        for info in link["addr_info"]:
            expected += 1
            message = decoded[(link["ifindex"], info["local"], info["prefixlen"])]
            family = AF.AF_INET if info["family"] == "inet" else AF.AF_INET6
            assert message.header.family is family
            assert message.get("IFA_CACHEINFO").valid == info["valid_life_time"]
            if "broadcast" in info:
                assert str(message.get("IFA_BROADCAST")) == info["broadcast"]
            if "label" in info:
                assert message.get("IFA_LABEL") == info["label"]
            if info.get("nodad"):
                assert message.get("IFA_FLAGS") & IFA_F.IFA_F_NODAD
    assert expected == len(decoded)


def test_routes_match_ip() -> None:
    decoded = {}
    for message in replies("route_dump", RTM.RTM_NEWROUTE):
        dst = message.get("RTA_DST")
        length = message.header.dst_len
        text = "default" if dst is None else (f"{dst}/{length}" if length not in (32, 128)
                                              else str(dst))
        decoded[(int(message.get("RTA_TABLE")), message.header.family, text)] = message
    tables = {"main": 254, "local": 255}
    checked = 0
    for entry in ORACLE["route"] + ORACLE["route6"]:
        family = AF.AF_INET6 if ":" in entry["dst"] + entry.get("gateway", "") else AF.AF_INET
        checked += 1
        table = tables.get(entry.get("table", "main"), None) or int(entry["table"])
        message = decoded[(table, family, entry["dst"])]
        if "gateway" in entry:
            assert str(message.get("RTA_GATEWAY")) == entry["gateway"]
        if "metric" in entry:
            assert message.get("RTA_PRIORITY") == entry["metric"]
        if "nexthops" in entry:
            hops = message.get("RTA_MULTIPATH")
            assert [str(h.get("RTA_GATEWAY")) for h in hops] == \
                [h["gateway"] for h in entry["nexthops"]]
            assert [h.hops + 1 for h in hops] == [h["weight"] for h in entry["nexthops"]]
        if "metrics" in entry:
            assert message.get_path("RTA_METRICS", "RTAX_MTU") == entry["metrics"][0]["mtu"]
    assert checked >= 10
    big = decoded[(1000, AF.AF_INET, "10.99.0.0/16")]
    assert big.header.table is RT_TABLE.RT_TABLE_COMPAT  # 1000 does not fit rtm_table
    assert big.header.protocol is RTPROT.RTPROT_STATIC
    assert big.header.scope is RT_SCOPE.RT_SCOPE_LINK


def test_neighbours_match_ip() -> None:
    decoded = {str(m.get("NDA_DST")): m for m in replies("neigh_dump", RTM.RTM_NEWNEIGH)}
    permanent = decoded["10.77.0.9"]
    assert permanent.header.state is NUD.NUD_PERMANENT
    assert permanent.get("NDA_LLADDR") == "02:00:00:00:00:09"
    learned = [e for e in ORACLE["neigh"] if "PERMANENT" not in e["state"]]
    assert learned, "the capture should have learned a neighbour"
    for entry in learned:
        message = decoded[entry["dst"]]
        assert message.get("NDA_LLADDR") == entry["lladdr"]
        assert message.header.state & (NUD.NUD_REACHABLE | NUD.NUD_STALE | NUD.NUD_DELAY)


def test_nsid_matches_ip() -> None:
    (reply,) = replies("nsid_dump", RTM.RTM_NEWNSID)
    assert reply.get("NETNSA_NSID") == ORACLE["nsid"][0]["nsid"]


def test_error_echoes_the_request_with_the_veth_peer() -> None:
    (message,) = decode(load("error_veth_exists"))
    assert message.type == NLMSG.NLMSG_ERROR and message.error == -17
    assert isinstance(message.header, NlMsgErr)
    request = message.echoed_request
    assert request.type == RTM.RTM_NEWLINK and request.get("IFLA_IFNAME") == "vnew"
    peer = request.get_path("IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER")
    assert peer.get("IFLA_IFNAME") == "lo"
    text = explain(load("error_veth_exists"))
    for name in ("NLMSG_ERROR", "EEXIST", "IFLA_IFNAME", "VETH_INFO_PEER", "IFLA_INFO_KIND"):
        assert name in text


def test_error_with_policy_extack() -> None:
    (message,) = decode(load("error_policy"))
    assert message.error == -34
    assert message.extack == "Attribute failed policy validation"
    assert message.extack_offset == 32  # IFLA_IFNAME, right after the ifinfomsg
    assert "NLMSGERR_ATTR_POLICY" in message
    assert "NLMSGERR_ATTR_OFFS" in explain(load("error_policy"))


def test_capped_error_and_ack() -> None:
    (capped,) = decode(load("error_capped"))
    assert capped.error == -95 and capped.extack == "Unknown device type"
    assert capped.header.request_payload == b"" and capped.echoed_request is None
    assert capped.header.request.type == RTM.RTM_NEWLINK
    (ack,) = decode(load("ack_ifb"))
    assert ack.is_ack and ack.error == 0 and ack.extack is None
