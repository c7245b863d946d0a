"""Routes printed in one pass (``rawns.show_fast``) are what the model path prints.

- On a namespace of a few hundred routes of varied kinds (types, tables,
  protocols, scopes, sources, metrics, next hops, IPv6 preferences, flags),
  every listing the command line prints in one pass (text, ``-j``, ``-d``,
  ``-o``, ``table all``, ``-4``/``-6``) is byte for byte what the model path
  (``Route`` -> ``to_json`` -> ``show``) prints, and what ``ip`` prints.
- On hypothesis-made route messages (common shapes, odd ones, hostile bytes),
  the printer gives the model path's string, or raises its DecodeError.
"""

from __future__ import annotations

import contextlib
import io
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_ip
from rawns import Handle, convert, show
from rawns.cli import main
from rawns.netlink import DecodeError, frames
from rawns.netlink.constants import RTM
from rawns.show_fast import route_printer

NAMES = {1: "lo", 2: "a0", 3: 'we"ird\\', 7: "é0"}


def model_print(data: bytes, frame, names, *, as_json, show_table, details=False,
                oneline=False, table=None, family=0):
    """What the model path prints of one reply: the oracle of the printer."""
    route = convert.read_route(data, frame)
    if route is None or (table is not None and route.table != table) or (
            family and route.family != family):
        return None
    entry = route.to_json(names, show_table=show_table, details=details)
    if as_json:
        return show.json_text(entry)
    return "\n".join(show.route_lines(entry, locked=route.locked, oneline=oneline))


def outcome(call):
    try:
        return ("printed", call())
    except Exception as err:  # DecodeError; the model path's own failures too
        return ("error", type(err), str(err))


OPTIONS = [dict(as_json=j, show_table=t, details=d, oneline=o, table=tb, family=f)
           for j in (False, True) for t, tb in ((False, 254), (True, None), (False, 100))
           for d in (False, True) for o in (False, True) for f in (0, 2, 10)
           if not (j and o)]


# --- hypothesis: messages of common and odd shapes -----------------------------------

RTA_KINDS = [1, 4, 5, 6, 7, 12, 15, 20]  # DST OIF GATEWAY PRIORITY PREFSRC CACHEINFO TABLE PREF
ODD_KINDS = [2, 3, 8, 9, 16, 25, 0, 31, 99, 0x8009]


def payload():
    return st.one_of(
        st.sampled_from([4, 16, 1, 32, 0, 8]).flatmap(
            lambda n: st.binary(min_size=n, max_size=n)),
        st.binary(max_size=40))


@st.composite
def route_messages(draw):
    family = draw(st.sampled_from([2, 2, 10, 10, 0, 7]))
    size = 16 if family == 10 else 4
    dst_len = draw(st.sampled_from([0, 8, 24, size * 8, 64, 200]) | st.integers(0, 255))
    header = struct.pack(
        "=BBBBBBBBI", family, dst_len,
        draw(st.sampled_from([0, 0, 0, 8])), draw(st.sampled_from([0, 0, 0, 4])),
        draw(st.sampled_from([254, 255, 100, 0, 252])), draw(st.sampled_from([3, 2, 4, 16, 99])),
        draw(st.sampled_from([0, 253, 254, 200])), draw(st.integers(0, 12)),
        draw(st.sampled_from([0, 0, 0, 0x200, 0x10, 0x4, 0x100, 0x1000])))
    attrs = b""
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(RTA_KINDS + RTA_KINDS + ODD_KINDS))
        if kind in (1, 5, 7) and draw(st.booleans()):
            value = draw(st.binary(min_size=size, max_size=size))
            if kind == 1 and dst_len < size * 8 and draw(st.booleans()):
                bits = min(dst_len, size * 8)
                number = int.from_bytes(value, "big") >> (size * 8 - bits) << (size * 8 - bits)
                value = number.to_bytes(size, "big")
        elif kind in (4, 6, 15) and draw(st.booleans()):
            value = struct.pack("=I", draw(st.sampled_from([1, 2, 3, 7, 9, 254, 1000])))
        elif kind == 12 and draw(st.booleans()):
            value = struct.pack("=IIiIIIII", 0, 0, draw(st.sampled_from([0, 0, 50, 300, -5])),
                                0, 0, 0, 0, 0)
        elif kind == 20 and draw(st.booleans()):
            value = bytes([draw(st.sampled_from([0, 1, 3, 2, 200]))])
        else:
            value = draw(payload())
        attr = struct.pack("=HH", 4 + len(value), kind) + value
        if draw(st.integers(0, 9)) or len(attrs) == 0:
            attr += bytes(-len(attr) & 3)
        attrs += attr
    body = header + attrs
    if draw(st.integers(0, 9)) == 0:
        body = body[:draw(st.integers(0, len(body)))]
    message = struct.pack("=IHHII", 16 + len(body), int(RTM.RTM_NEWROUTE), 2, 1, 0) + body
    message += bytes(-len(message) & 3)
    if draw(st.integers(0, 9)) == 0 and len(message) > 16:  # one byte changed
        at = draw(st.integers(16, len(message) - 1))
        message = message[:at] + bytes([draw(st.integers(0, 255))]) + message[at + 1:]
    return message


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(route_messages(), min_size=1, max_size=6), st.sampled_from(OPTIONS))
def test_the_printer_prints_what_the_model_path_prints(messages, options) -> None:
    printer = route_printer(NAMES, **options)  # one printer: its shapes are reused
    for data in messages + messages:
        try:
            framed = frames(data)
        except DecodeError:
            continue
        for frame in framed:
            assert outcome(lambda: printer(data, frame)) == outcome(
                lambda: model_print(data, frame, NAMES, **options))


def test_other_replies_are_skipped() -> None:
    done = struct.pack("=IHHIIi", 20, 3, 2, 1, 0, 0)
    link = struct.pack("=IHHII", 32, int(RTM.RTM_NEWLINK), 2, 1, 0) + bytes(16)
    printer = route_printer({}, as_json=True, show_table=True)
    for data in (done, link):
        assert printer(data, frames(data)[0]) is None


def test_shapes_are_bounded() -> None:
    """Past its bound, a printer makes no new shape (the model path prints)."""
    import itertools

    from rawns import show_fast

    attrs = {15: struct.pack("=I", 100), 1: bytes([10, 0, 0, 0]), 6: struct.pack("=I", 5),
             4: struct.pack("=I", 2), 5: bytes([10, 1, 0, 2])}
    printer = route_printer(NAMES, as_json=False, show_table=True)
    header = struct.pack("=BBBBBBBBI", 2, 24, 0, 0, 254, 3, 0, 1, 0)
    for order in itertools.permutations(attrs):  # 120 shapes
        body = header + b"".join(struct.pack("=HH", 4 + len(attrs[kind]), kind) + attrs[kind]
                                 for kind in order)
        data = struct.pack("=IHHII", 16 + len(body), int(RTM.RTM_NEWROUTE), 2, 1, 0) + body
        frame = frames(data)[0]
        assert printer(data, frame) == model_print(data, frame, NAMES, as_json=False,
                                                   show_table=True)
        assert printer(data, frame) == "10.0.0.0/24 via 10.1.0.2 dev a0 table 100 metric 5 "
    owner = printer.__self__  # type: ignore[attr-defined]
    assert owner.shapes == show_fast._SHAPES


# --- the kernel's routes ---------------------------------------------------------------

def _wire(ns: str) -> None:
    commands = ["link add a0 type veth peer name a1", "link add c0 type veth peer name c1",
                "link set a0 up", "link set a1 up", "link set c0 up", "link set lo up",
                "addr add 10.1.0.1/24 dev a0", "addr add 10.2.0.1/24 dev a1",
                "addr add 10.3.0.1/24 dev c0", "addr add fd01::1/64 dev a0 nodad",
                "-6 addr add fd02::1/64 dev a1 nodad"]
    for i in range(300):
        a, b = divmod(i, 200)
        net = f"10.{100 + a}.{b}.0/24"
        kind = i % 15
        commands.append({
            0: f"route add {net} via 10.1.0.2 metric {i % 7}",
            1: f"route add {net} dev a1 proto static scope link",
            2: f"route add {net} via 10.2.0.2 table {100 + (i // 15) % 3}",
            3: f"route add blackhole {net}",
            4: f"route add {net} via 10.1.0.2 src 10.1.0.1 proto 99",
            5: f"route add unreachable {net} metric 3",
            6: f"route add prohibit {net} table 100",
            7: f"route add {net} via 10.1.0.2 mtu 1400",
            8: f"route add {net} nexthop via 10.1.0.2 dev a0 nexthop via 10.2.0.2 dev a1",
            9: f"route add {net} dev c0",  # c1 is down: linkdown
            10: f"route add local 10.{100 + a}.{b}.7 dev a0",
            11: f"-6 route add fd10:{i:x}::/64 via fd01::2 metric {i}",
            12: f"-6 route add fd11:{i:x}::/64 dev a1 pref high",
            13: f"-6 route add blackhole fd12:{i:x}::/64 table 100",
            14: f"route add throw {net} table 101",
        }[kind])
    commands.append("route add 10.200.0.0/16 via 10.9.9.9 dev a0 onlink")
    commands.append("-6 route add ::ffff:10.0.0.0/104 via fd01::2")
    for command in commands:
        run_ip("-n", ns, *command.split())


@pytest.fixture(scope="module")
def routes_ns():
    from conftest import module_netns
    with module_netns("showfast", _wire) as name:
        yield name


LISTINGS = [[], ["table", "all"], ["table", "100"], ["table", "local"]]
FLAGS = [[], ["-j"], ["-d"], ["-o"], ["-6"], ["-4"], ["-j", "-d"], ["-6", "-j"]]


def rawns_cli(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("listing", LISTINGS)
def test_one_pass_listings_are_what_ip_prints(routes_ns, flags, listing) -> None:
    args = [*flags, "route", "show", *listing]
    for _ in range(5):  # until the kernel stops adding (IPv6 link-local addresses)
        before = run_ip("-n", routes_ns, *args).stdout
        printed = rawns_cli("-n", routes_ns, *args)
        after = run_ip("-n", routes_ns, *args).stdout
        if before == after:
            break
        time.sleep(0.5)
    assert printed == after
    assert len(printed) > 200


@pytest.mark.parametrize("options", [o for o in OPTIONS if o["table"] != 100])
def test_one_pass_is_the_model_path_on_the_kernels_routes(routes_ns, options) -> None:
    table = "all" if options["table"] is None else "main"
    with Handle(routes_ns) as handle:
        names = show.index_names(handle.link_list())
        replies: list[tuple[bytes, tuple]] = []

        def keep(data: bytes, frame):
            replies.append((data, frame))
            return None

        handle.route_dump(keep, table=table, family=options["family"] or None)
        printed = handle.route_dump(route_printer(names, **options), table=table,
                                    family=options["family"] or None)
    expected = [model_print(data, frame, names, **options) for data, frame in replies]
    assert printed == [line for line in expected if line is not None]
    assert len(printed) > 20
    if not options["as_json"] and options["table"] is None and not options["family"]:
        text = "\n".join(printed)
        for word in ("nexthop", "linkdown", "onlink", "mtu", "pref high", "blackhole",
                     "table 100", "proto openr", "::ffff:10.0.0.0/104"):
            assert word in text, word


def test_route_dump_of_an_empty_main_table(ns) -> None:
    name = ns()
    with Handle(name) as handle:
        assert handle.route_dump(route_printer({}, as_json=False, show_table=False)) == []
    assert rawns_cli("-n", name, "-j", "route", "show") == "[]\n"
    assert rawns_cli("-n", name, "route", "show") == ""
