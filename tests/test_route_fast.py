"""The lean ``route show`` (``rawns.route_fast``) prints what the reference path prints, or steps aside.

- Its literals (the request, the table names, show_fast's protocol numbers
  and name tables) are the protocol package's and ``convert``'s.
- On a namespace of common-shape routes (main, other tables, local, IPv6),
  every listing it takes (text, ``-j``, ``-d``, ``-o``, ``-4``/``-6``,
  ``table all|N|local``) is taken lean, and is byte for byte what the
  reference path and ``ip`` print.
- On a table with routes of no common shape it raises ``Slow`` (the
  command line then prints through the reference path, as ip does).
- On hypothesis-made dumps (clean, odd and hostile bytes and headers), it
  prints what the reference reader makes of them, or raises ``Slow``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_ip
from rawns import convert, route_fast, show_fast
from rawns.cli import main
from rawns.link_fast import Slow
from rawns.netlink import encode, frames, requests
from test_show_fast import NAMES, OPTIONS, model_print, route_messages


def _refuse(data, frame):
    raise Slow


# --- literals ----------------------------------------------------------------------------

def test_literals_are_the_tables() -> None:
    from rawns.netlink.attrs import NLA_HEADER
    from rawns.netlink.constants import RTA, RTM
    from rawns.netlink.structs import RtMsg

    assert show_fast.RTM_NEWROUTE == int(RTM.RTM_NEWROUTE)
    assert show_fast.RTMSG.format == RtMsg.STRUCT.format
    assert show_fast.NLA_HEADER.format == NLA_HEADER.format
    for name, table in (("SCOPE_NAMES", convert.SCOPE_NAMES),
                        ("PROTOCOL_NAMES", convert.PROTOCOL_NAMES),
                        ("TABLE_NAMES", convert.TABLE_NAMES),
                        ("ROUTE_TYPE_NAMES", convert.ROUTE_TYPE_NAMES),
                        ("IPV6_PREF_NAMES", convert.IPV6_PREF_NAMES)):
        assert getattr(show_fast, name) == table, name
    assert {kind: getattr(show_fast, f"_{kind}") for kind in (
        "DST", "OIF", "GATEWAY", "PRIORITY", "PREFSRC", "CACHEINFO", "TABLE", "PREF")} == {
        kind: int(getattr(RTA, f"RTA_{kind}")) for kind in (
            "DST", "OIF", "GATEWAY", "PRIORITY", "PREFSRC", "CACHEINFO", "TABLE", "PREF")}


@pytest.mark.parametrize("family", [0, 2, 10])
@pytest.mark.parametrize("table", [None, 1, 100, 253, 254, 255, 256, 999, 2**32 - 1])
def test_request_is_the_reference(family, table) -> None:
    reference = replace(requests.route_dump(family=family, table=table), seq=7)
    assert route_fast.route_dump_request(7, family, table) == encode(reference)


@given(st.sampled_from(["all", "main", "local", "default", "0", "1", "100", "007", "4294967295",
                        "4294967296", "-1", "+5", " 5", "٣", "mian", ""]) | st.text(max_size=6))
def test_table_words_are_read_as_the_reference_reads_them(word) -> None:
    try:
        number = route_fast.table_of(word)
    except Slow:
        return  # the reference has the last word
    if word == "all":
        assert number is None
    else:
        assert number == convert.table_number(word)
        assert 0 < number < 2**32


# --- hypothesis: dumps, clean and hostile --------------------------------------------------

DONE = struct.pack("=IHHIIi", 20, 3, 2, 1, 0, 0)


@st.composite
def dumps(draw):
    """A dump's datagrams: route messages (seq 1, port 0), a NLMSG_DONE
    (or not), and now and then a header or an ending that is not plain."""
    messages = draw(st.lists(route_messages(), min_size=0, max_size=6))
    end = draw(st.sampled_from([DONE, DONE, DONE, b"",
                                struct.pack("=IHHIIi", 20, 3, 2, 1, 0, -2),  # an error
                                struct.pack("=IHHIIi", 20, 2, 0, 1, 0, -22),
                                struct.pack("=IHHIIi", 20, 3, 0x12, 1, 0, 0),  # interrupted
                                struct.pack("=IHHIIi", 24, 3, 2, 1, 0, 0) + bytes(4)]))
    data = b"".join(messages) + end
    if draw(st.integers(0, 7)) == 0 and len(data) >= 16:  # a header field changed
        at = draw(st.sampled_from([4, 6, 8, 12]))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    cut = draw(st.integers(0, len(messages)))
    first = len(b"".join(messages[:cut]))
    return [data[:first], data[first:]] if cut and draw(st.booleans()) else [data]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dumps(), st.sampled_from(OPTIONS))
def test_lean_reading_is_the_references_or_slow(datagrams, options) -> None:
    printer = show_fast.RoutePrinter(NAMES, fallback=_refuse, **options)
    out: list[str] = []
    try:
        done = route_fast.read_routes(datagrams, 1, 0, printer, out)
    except Slow:
        return  # the reference path prints it, or fails as it does
    # Again with the same printer: the shapes met are now inlined in its loop.
    again: list[str] = []
    assert route_fast.read_routes(datagrams, 1, 0, printer, again) == done
    assert again == out
    expected = []
    ended = False
    for data in datagrams:
        for frame in frames(data):  # DecodeError: a frame the lean path took is broken
            assert not ended
            if frame[2] == 3:
                assert data[frame[0] + 16:frame[1]] == bytes(4)  # a plain NLMSG_DONE
                ended = True
                continue
            assert frame[2] == show_fast.RTM_NEWROUTE and frame[4] == 1 and frame[5] == 0
            assert not frame[3] & 0x10
            line = model_print(data, frame, NAMES, **options)  # DecodeError: not vouched
            if line is not None:
                expected.append(line)
    assert out == expected
    assert done == ended


def test_a_clean_dump_is_read_lean() -> None:
    body = struct.pack("=BBBBBBBBI", 2, 24, 0, 0, 254, 3, 0, 1, 0) + b"".join(
        struct.pack("=HH", 4 + len(value), kind) + value for kind, value in (
            (15, struct.pack("=I", 254)), (1, bytes([10, 0, 0, 0])), (5, bytes([10, 1, 0, 2])),
            (4, struct.pack("=I", 2))))
    message = struct.pack("=IHHII", 16 + len(body), 24, 2, 1, 0) + body
    out: list[str] = []
    printer = show_fast.RoutePrinter(NAMES, as_json=False, show_table=False, details=False,
                                     oneline=False, table=254, family=2, fallback=_refuse)
    assert route_fast.read_routes([message * 3, DONE], 1, 0, printer, out)
    assert out == ["10.0.0.0/24 via 10.1.0.2 dev a0 "] * 3
    with pytest.raises(Slow):  # the answer of another request
        route_fast.read_routes([message], 2, 0, printer, [])


# --- the kernel's routes -----------------------------------------------------------------

def _wire(ns: str) -> None:
    """Routes of common shapes only: what the lean path prints itself."""
    commands = ["link add a0 type veth peer name a1", "link set a0 up", "link set a1 up",
                "link set lo up", "addr add 10.1.0.1/24 dev a0", "addr add 10.2.0.1/24 dev a1",
                "addr add fd01::1/64 dev a0 nodad"]
    for i in range(240):
        net = f"10.{100 + i // 200}.{i % 200}.0/24"
        commands.append([
            f"route add {net} via 10.1.0.2 metric {i % 7}",
            f"route add {net} dev a1 proto static scope link",
            f"route add blackhole {net}",
            f"route add {net} via 10.1.0.2 src 10.1.0.1 proto 99",
            f"route add unreachable {net} metric 3",
            f"route add {net} via 10.2.0.2 table {100 + i // 13 % 3}",
            f"route add prohibit {net} table 300",
            f"-6 route add fd10:{i:x}::/64 via fd01::2 metric {i}",
            f"-6 route add fd11:{i:x}::/64 dev a1 pref high",
            f"route add throw {net} table 4000000000",
            f"route add 10.{150 + i // 200}.{i % 200}.0/24 dev é0",
            f"route add 10.{160 + i // 200}.{i % 200}.0/24 dev we\"ird",
            f"-6 route add fd20:{i:x}::/64 via fd01::2 table {(100, 300, 4000000000)[i % 3]}",
        ][i % 13])
    run_ip("-n", ns, "link", "add", 'we"ird', "type", "veth", "peer", "name", "é0")
    commands[4:4] = ['link set we"ird up', "link set é0 up"]
    for command in commands:
        run_ip("-n", ns, *command.split())


@pytest.fixture(scope="module")
def lean_ns():
    from conftest import module_netns
    with module_netns("routefast", _wire) as name:
        yield name


LISTINGS = [[], ["table", "all"], ["table", "100"], ["table", "local"], ["table", "300"],
            ["table", "4000000000"], ["table", "main"]]
FLAGS = [[], ["-j"], ["-d"], ["-o"], ["-6"], ["-4"], ["-j", "-d"], ["-6", "-j"], ["-4", "-o"]]


def rawns_cli(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


def lean(ns: str, flags: list[str], listing: list[str]) -> str:
    family = 4 if "-4" in flags else 6 if "-6" in flags else None
    table = listing[1] if listing else "main"
    return route_fast.show_routes(ns, table=table,
                                  family=family or (None if table == "all" else 4),
                                  as_json="-j" in flags, details="-d" in flags,
                                  oneline="-o" in flags)


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("listing", LISTINGS)
def test_lean_listings_are_the_references_and_ips(lean_ns, flags, listing, monkeypatch) -> None:
    args = [*flags, "route", "show", *listing]
    for _ in range(5):  # until the kernel stops adding (IPv6 link-local addresses)
        before = run_ip("-n", lean_ns, *args).stdout
        printed = lean(lean_ns, flags, listing)  # Slow here: the lean path was not taken
        through_cli = rawns_cli("-n", lean_ns, *args)
        with monkeypatch.context() as patch:
            patch.setattr(route_fast, "show_routes", lambda *a, **k: (_ for _ in ()).throw(Slow))
            reference = rawns_cli("-n", lean_ns, *args)
        after = run_ip("-n", lean_ns, *args).stdout
        if before == after:
            break
        time.sleep(0.5)
    assert printed == through_cli == reference
    if "-j" in flags:
        # ip writes a non-ASCII name as UTF-8, rawns' -j (the reference's
        # show.json_text, json.dumps) as \u escapes: the same JSON value.
        assert json.loads(printed) == json.loads(after)
        assert printed == "".join(c if c.isascii() else json.dumps(c)[1:-1] for c in after)
    else:
        assert printed == after
    assert len(printed) > 100


def test_uncommon_routes_leave_it_to_the_reference(ns) -> None:
    name = ns()
    for command in ("link add a0 type veth peer name a1", "link set a0 up", "link set a1 up",
                    "addr add 10.1.0.1/24 dev a0", "addr add 10.2.0.1/24 dev a1",
                    "route add 10.9.0.0/24 via 10.1.0.2",
                    "route add 10.8.0.0/24 nexthop via 10.1.0.2 nexthop via 10.2.0.2",
                    "route add 10.7.0.0/24 via 10.1.0.2 mtu 1400"):
        run_ip("-n", name, *command.split())
    with pytest.raises(Slow):
        route_fast.show_routes(name, family=4)
    for args in (["route", "show"], ["-j", "route", "show"], ["route", "show", "table", "all"]):
        assert rawns_cli("-n", name, *args) == run_ip("-n", name, *args).stdout
    assert route_fast.show_routes(name, table="local", family=4)  # common shapes there


def test_what_the_lean_path_refuses_the_reference_says(ns) -> None:
    with pytest.raises(Slow):
        route_fast.show_routes(f"rnst{os.getpid()}-absent", family=4)
    with pytest.raises(Slow):
        route_fast.show_routes(ns(), table="mian", family=4)
    with pytest.raises(Slow):
        route_fast.show_routes(ns(), table="all", family=5)
    with pytest.raises(Slow):  # the kernel's ENOENT: the reference says it
        route_fast.show_routes(ns(), table="100", family=4)
    name = ns()
    assert route_fast.show_routes(name, family=4) == ""
    assert route_fast.show_routes(name, family=4, as_json=True) == "[]\n"


@given(st.binary(max_size=40) | st.builds(
    lambda mtype, seq, error, tail: struct.pack("=IHHIIi", 20 + len(tail), mtype, 2, seq, 0,
                                                error) + tail,
    st.sampled_from([2, 3, 24]), st.sampled_from([2, 3]), st.sampled_from([-2, 0, -22, 2]),
    st.sampled_from([b"", bytes(16), bytes(3)])))
def test_no_table_is_only_the_kernels_enoent(data) -> None:
    if route_fast.no_table(data, 2, 0):
        framed = frames(data)  # DecodeError: a broken message taken for ENOENT
        assert len(framed) == 1 and framed[0][2] in (2, 3) and framed[0][4] == 2
        assert struct.unpack_from("=i", data, 16)[0] == -2
