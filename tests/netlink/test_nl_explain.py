"""The explain view: every byte named (nlmsghdr included), zeros read as a
request means them, one content as text and as JSON, and each structure and
constant traced to the UAPI header that defines it (checked against
/usr/include)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel_headers import HEADER_DIR, read_constants
from rawns.netlink import Message, encode, requests
from rawns.netlink.constants import AF, ENUMS, NLM_F, RTM
from rawns.netlink.explain import (
    FIELD_MEANINGS, FLAG_MEANINGS, KERNEL_HEADERS, ZERO_IN_REQUEST, annotate, defined_in,
    definitions, explain, hex_lines, render, type_meaning,
)
from rawns.netlink.structs import CStruct, IfAddrMsg, IfInfoMsg, NdMsg, RtGenMsg, RtMsg
from rawns.netlink.tables import FAMILIES, TABLES

DATA = Path(__file__).parent / "data"
GOLDEN = sorted(DATA.glob("*.bin"))
INCLUDE = HEADER_DIR.parent


def records(annotation: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every record of an annotation, echoed requests included."""
    stack = list(annotation["messages"])
    while stack:
        record = stack.pop()
        yield record
        stack.extend(record.get("parts", []))
        if record.get("echoed"):
            stack.extend(record["echoed"]["messages"])


def check_every_byte(data: bytes) -> None:
    """Offsets are absolute and each record's bytes are the buffer's there."""
    for record in records(annotate(data)):
        if record["kind"] == "attribute":
            start = record["offset"] + 4
            assert record["bytes"] == data[start:record["offset"] + record["length"]].hex(" ")
        elif record["kind"] == "struct":
            for field in record["fields"]:
                start = field["offset"]
                assert field["bytes"] == data[start:start + field["size"]].hex(" "), field
        elif record["kind"] == "payload":
            start = record["offset"]
            assert record["bytes"] == data[start:start + record["length"]].hex(" ")


def request(mtype: RTM, header: Any, flags: int = NLM_F.NLM_F_REQUEST) -> bytes:
    return encode(Message(type=mtype, flags=flags, seq=0x01020304, pid=0, header=header))


def test_the_nlmsghdr_is_shown_field_by_field() -> None:
    data = encode(requests.link_get(ifname="lo").with_seq(7, pid=4242))
    message = annotate(data)["messages"][0]
    header = message["parts"][0]
    assert header["name"] == "nlmsghdr" and header["bytes"] == data[:16].hex(" ")
    assert header["header"] == "linux/netlink.h"
    assert [(f["name"], f["offset"], f["size"]) for f in header["fields"]] == [
        ("nlmsg_len", 0, 4), ("nlmsg_type", 4, 2), ("nlmsg_flags", 6, 2),
        ("nlmsg_seq", 8, 4), ("nlmsg_pid", 12, 4)]
    values = {f["name"]: f["value"] for f in header["fields"]}
    assert values == {"nlmsg_len": len(data), "nlmsg_type": 18, "nlmsg_flags": 1,
                      "nlmsg_seq": 7, "nlmsg_pid": 4242}
    assert all(f["meaning"] for f in header["fields"])
    text = explain(data)
    assert "@0 nlmsghdr (16 bytes) | 28 00 00 00 12 00 01 00 07 00 00 00 92 10 00 00" in text
    assert re.search(r"@4 +nlmsg_type += RTM_GETLINK \(18\): ask for a link.* \| 12 00", text)
    assert re.search(r"@12 +nlmsg_pid += 4242 \| 92 10 00 00 +-- port id", text)
    assert "answers carry the port id of the socket that asked" in text


def test_each_flag_is_named_with_its_meaning() -> None:
    data = encode(requests.link_add("v0", "veth").with_seq(1))
    flags = annotate(data)["messages"][0]["parts"][0]["fields"][2]
    assert [f["name"] for f in flags["flags"]] == [
        "NLM_F_REQUEST", "NLM_F_ACK", "NLM_F_EXCL", "NLM_F_CREATE"]
    assert [f["value"] for f in flags["flags"]] == [0x1, 0x4, 0x200, 0x400]
    text = explain(data)
    for flag in flags["flags"]:
        assert f"{flag['name']} ({flag['value']:#x}): {FLAG_MEANINGS[flag['name']]}" in text
    # The same bit is named for what it means in a GET: 0x300 is a dump.
    dump = annotate(encode(requests.addr_dump().with_seq(1)))["messages"][0]
    assert dump["flag_names"] == ["NLM_F_REQUEST", "NLM_F_DUMP"]


def test_every_flag_and_field_has_a_meaning() -> None:
    assert set(FLAG_MEANINGS) == set(NLM_F.__members__)
    for cls in (IfInfoMsg, IfAddrMsg, RtMsg, NdMsg, RtGenMsg):
        for name in cls.C_FIELDS:
            assert FIELD_MEANINGS[name], name
    for mtype in RTM:
        assert type_meaning(mtype).startswith(mtype.name)


# Fields where 0 is a value like any other, in a request too.
ZERO_IS_A_VALUE = {"ifa_scope", "rtm_scope", "rtm_dst_len"}


@pytest.mark.parametrize("mtype, header", [
    (RTM.RTM_NEWLINK, IfInfoMsg()), (RTM.RTM_GETADDR, IfAddrMsg()),
    (RTM.RTM_NEWROUTE, RtMsg()), (RTM.RTM_GETNEIGH, NdMsg()), (RTM.RTM_GETNSID, RtGenMsg()),
], ids=lambda value: getattr(value, "C_NAME", ""))
def test_zeros_in_a_request_read_as_not_given(mtype: RTM, header: CStruct) -> None:
    for name in header.C_FIELDS:
        assert name in ZERO_IN_REQUEST or name in ZERO_IS_A_VALUE, name
    asked = annotate(request(mtype, header))["messages"][0]["parts"][1]
    for field in asked["fields"]:
        if field["name"] in ZERO_IN_REQUEST:
            assert field["text"] == ZERO_IN_REQUEST[field["name"]]
    text = explain(request(mtype, header))
    assert "ARPHRD_NETROM" not in text and "RTPROT_UNSPEC (0)" not in text
    # In an answer from the kernel the same zero is the constant it is.
    answered = annotate(request(mtype, header, flags=0))["messages"][0]["parts"][1]
    texts = {field["name"]: field["text"] for field in answered["fields"]}
    if isinstance(header, IfInfoMsg):
        assert texts["ifi_type"] == "ARPHRD_NETROM (0)"
        assert texts["ifi_flags"] == "0 (no flag set)"


def test_a_nested_header_in_a_request_reads_its_zeros_too() -> None:
    data = encode(requests.veth_add("v0", "p0").with_seq(1))
    text = explain(data)
    assert text.count(ZERO_IN_REQUEST["ifi_type"]) == 2  # the link's and its peer's


def test_an_error_shows_the_echoed_request_at_its_own_offsets() -> None:
    data = (DATA / "error_policy.bin").read_bytes()
    annotation = annotate(data)
    error = annotation["messages"][0]["parts"][1]
    assert error["name"] == "nlmsgerr" and error["fields"][0]["text"] == "-34 (-ERANGE)"
    echoed = error["echoed"]["messages"][0]
    assert echoed["offset"] == 20 and echoed["type_name"] == "RTM_NEWLINK"
    assert echoed["parts"][0]["fields"][0]["offset"] == 20
    check_every_byte(data)
    offs = next(p for p in annotation["messages"][0]["parts"]
                if p.get("name") == "NLMSGERR_ATTR_OFFS")
    assert offs["note"] == f"byte {offs['value']} of the request, @{20 + offs['value']}: IFLA_IFNAME"


def test_a_capped_error_shows_the_request_header_only() -> None:
    data = (DATA / "error_capped.bin").read_bytes()
    error = annotate(data)["messages"][0]["parts"][1]
    assert error["echo"] == "nlmsghdr only (NLM_F_CAPPED)"
    echoed = error["echoed"]["messages"][0]
    assert [part["name"] for part in echoed["parts"]] == ["nlmsghdr"]
    assert "the request, echoed: nlmsghdr only (NLM_F_CAPPED)" in explain(data)


def test_done_says_the_dump_is_complete() -> None:
    data = (DATA / "addr_dump.bin").read_bytes()
    assert "error = 0 (success: the dump is complete)" in explain(data)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_text_and_json_say_the_same(path: Path) -> None:
    data = path.read_bytes()
    annotation = annotate(data)
    assert json.loads(json.dumps(annotation)) == annotation
    assert render(annotation) == explain(data)
    check_every_byte(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(GOLDEN), st.data())
def test_hostile_bytes_annotate_to_json_without_raising(path: Path, data: st.DataObject) -> None:
    buf = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        if not buf:
            break
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(buf)))
    mutated = bytes(buf[:cut])
    annotation = annotate(mutated)
    json.dumps(annotation)
    assert isinstance(render(annotation), str)
    check_every_byte(mutated)


def test_hex_lines_hold_every_byte() -> None:
    data = bytes(range(40))
    lines = hex_lines(data)
    assert lines[0] == "0000: " + data[:16].hex(" ")
    assert lines[2] == "0020: " + data[32:].hex(" ")
    assert bytes.fromhex("".join(line[6:] for line in lines)) == data


# -- where the kernel defines things ---------------------------------------------

def test_every_structure_and_constant_class_has_its_header() -> None:
    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names = {sub.C_NAME for sub in subclasses(CStruct) if hasattr(sub, "C_NAME")}
    names |= {family.header.C_NAME for family in FAMILIES.values()}
    names |= {"nlmsgerr", "rtnexthop", "nlattr"}
    assert not names - set(KERNEL_HEADERS)
    assert not {cls.__name__ for cls in ENUMS} - set(KERNEL_HEADERS)
    for table in TABLES:
        for name, _codec in table.specs.values():
            assert defined_in(name) is not None, name


@pytest.mark.parametrize("name", sorted(KERNEL_HEADERS))
def test_each_header_named_defines_what_it_is_said_to(name: str) -> None:
    header, declaration = KERNEL_HEADERS[name]
    path = INCLUDE / header
    if not path.exists():  # bits/socket.h sits under the multiarch directory
        found = sorted(INCLUDE.glob(f"*/{header}"))
        assert found, f"{header} is not under {INCLUDE}"
        path = found[0]
    text = path.read_text()
    if declaration.startswith("struct "):
        assert re.search(rf"\b{declaration}\s*\{{", text), declaration
        return
    if name == "int":
        assert "NLMSG_DONE" in text
        return
    if declaration.startswith("enum ") and not declaration.startswith("enum {"):
        assert re.search(rf"\b{declaration}\s*\{{", text), declaration
    members = next(cls for cls in ENUMS if cls.__name__ == name).__members__
    if header.startswith("linux/"):
        defined = read_constants(header.removeprefix("linux/"))
        assert set(members) & set(defined), f"no {name} member defined in {header}"
    else:
        assert any(re.search(rf"#define\s+{member}\b", text) for member in members)


def test_definitions_lists_what_a_message_uses_once() -> None:
    data = encode(requests.veth_add("v0", "p0").with_seq(1))
    rows = definitions(annotate(data))
    names = [row[0] for row in rows]
    assert names[:7] == ["RTM_NEWLINK", "NLM_F_REQUEST", "NLM_F_ACK", "NLM_F_EXCL",
                         "NLM_F_CREATE", "nlmsghdr", "ifinfomsg"]
    assert len(names) == len(set(names))
    assert ("IFLA_IFNAME", "linux/if_link.h", "enum { IFLA_* }") in rows
    assert ("VETH_INFO_PEER", "linux/veth.h", "enum { VETH_INFO_* }") in rows
    assert ("NLM_F_EXCL", "linux/netlink.h", "#define NLM_F_*") in rows
    assert defined_in("AF_INET") == KERNEL_HEADERS["AF"]
    assert defined_in("no such thing") is None
