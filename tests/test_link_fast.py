"""The lean read path (``rawns.link_fast``) prints what the reference path prints.

- On real links of every kind this kernel has (veth with its peer in another
  namespace, bridge and port, vxlan, macvlan, ifb, tun and tap, down and up,
  altnames, aliases, mtu/qlen/group variety), every listing the lean path
  takes (text, ``-j``, ``-br``, ``-br -j``, ``-o``, ``dev X``, ``up``) is byte
  for byte what the command line prints through ``Handle`` -> ``show``, and
  the lean path did print it (it did not fall back).
- ``netns list`` ids are ``netns.nsids``'; a device only an altname names,
  a missing device or namespace fall back to the reference and its error.
- On the golden capture and on hypothesis-made link messages (clean ones,
  odd sizes, broken nests at every depth, hostile bytes), the lean reader
  gives the reference's output or says Slow; it never prints something the
  reference would print otherwise or refuse.
- ``NESTS`` and ``SOCKET_OPTIONS`` are what ``netlink.tables`` and
  ``nlsock`` say; the JSON writer is ``json.dumps``'.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_ip
from rawns import Handle, convert, link_fast, netns, nlsock, show
from rawns.cli import main
from rawns.netlink import frames, tables
from rawns.netlink.codecs import ByKind, Nested, NestedMessage

DATA = Path(__file__).parent / "netlink" / "data"
root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


# --- the oracle ------------------------------------------------------------------------

def reference_text(data: bytes, nsids: dict[int, str], *, as_json: bool, brief: bool,
                   oneline: bool, only_up: bool = False) -> str:
    """What cli/link.py's reference path prints of the dump in ``data``."""
    links = [link for link in (convert.read_link(data, frame) for frame in frames(data))
             if link is not None]
    names = show.index_names(links)
    up = show.up_indexes(links)
    if only_up:
        links = [link for link in links if link.is_up]
    entries = [show.link_json(link, names, up=up, details=False, stats=0) for link in links]
    if brief:
        entries = [show.link_brief_json(entry) for entry in entries]
        if as_json:
            return show.json_text(entries) + "\n"
        return "".join(show.link_brief_line(entry) + "\n" for entry in entries)
    if as_json:
        return show.json_text(entries) + "\n"
    join = "\\".join if oneline else "\n".join
    return "".join(join(show.link_lines(entry, nsids, stats=0)) + "\n" for entry in entries)


def lean_text(data: bytes, nsids: dict[int, str], *, as_json: bool, brief: bool,
              oneline: bool, only_up: bool = False) -> str:
    seq, port = struct.unpack_from("=8xII", data) if len(data) >= 16 else (0, 0)
    links, done = link_fast.read_links([data], seq, port)
    if not done:
        raise link_fast.Slow
    return link_fast.link_text(link_fast.link_entries(links, only_up=only_up), nsids,
                               as_json=as_json, brief=brief, oneline=oneline)


STYLES = [dict(as_json=j, brief=b, oneline=o, only_up=u)
          for j in (False, True) for b in (False, True) for o in (False, True)
          for u in (False, True) if not (j and o)]
NSIDS = {0: "ns-zero", 3: 'we"ird\\name', 7: "é"}


def assert_same_or_slow(data: bytes, style: dict) -> bool:
    """The lean output equals the reference's, or the lean path declined.
    True if it printed."""
    try:
        lean = lean_text(data, NSIDS, **style)
    except link_fast.Slow:
        return False
    assert lean == reference_text(data, NSIDS, **style)
    return True


# --- tables and writers that must agree with the reference's ---------------------------

def derived_nests() -> dict[str, dict[int, tuple]]:
    out = {}
    for table in tables.TABLES:
        nests: dict[int, tuple] = {}
        for number, (_, codec) in table.specs.items():
            if isinstance(codec, Nested):
                nests[int(number)] = ("N", codec.table.name)
            elif isinstance(codec, ByKind):
                nests[int(number)] = ("K", int(codec.selector),
                                      {kind: c.table.name for kind, c in codec.tables.items()})
            elif isinstance(codec, NestedMessage):
                nests[int(number)] = ("M", codec.header.SIZE, codec.table.name)
        out[table.name] = nests
    return out


def test_nests_are_the_tables():
    derived = derived_nests()
    reachable, todo = set(), ["IFLA"]
    while todo:  # the tables a link message can lead to
        name = todo.pop()
        if name in reachable:
            continue
        reachable.add(name)
        for nest in derived[name].values():
            todo += [nest[1]] if nest[0] == "N" else (
                list(nest[2].values()) if nest[0] == "K" else [nest[2]])
    assert {name: derived[name] for name in reachable if derived[name]} == link_fast.NESTS


def test_socket_options_are_nlsocks():
    assert link_fast.SOCKET_OPTIONS == tuple(
        (int(level), int(option), int(value)) for level, option, value in nlsock.SOCKET_OPTIONS)


def test_requests_are_the_references():
    from rawns.netlink import encode, requests

    dump = requests.link_dump()
    assert link_fast.link_dump_request(7) == encode(_stamped(dump, 7))
    get = requests.nsid_get(fd=42)
    assert link_fast.nsid_request(9, 42) == encode(_stamped(get, 9))
    assert link_fast.nsid_dump_request(3) == encode(_stamped(requests.nsid_dump(), 3))


def _stamped(message, seq):
    from dataclasses import replace

    return replace(message, seq=seq)


@given(st.recursive(st.none() | st.integers(-2**70, 2**70) | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12))
def test_json_is_json_dumps(value):
    assert link_fast.json_text(value) == json.dumps(value, separators=(",", ":"))


def test_flag_and_state_names_are_the_references():
    from rawns.netlink.constants import IF_OPER, IFF
    from rawns.model import ip_link_flags

    for bit in range(32):
        flags = 1 << bit
        for extra in (0, 0x1, 0x41, 0x10041):
            value = flags | extra
            names = frozenset(m.name[4:] for m in IFF if int(m) and int(m) & value == int(m)
                              and int(m) & (int(m) - 1) == 0)
            entry = link_fast.link_entries([dict(
                index=1, name="x", flags=value, mtu=None, operstate="UP", link_type="ether",
                address=None, broadcast=None, master=None, link=None, link_netnsid=None,
                txqlen=None, group=None, alias=None, qdisc=None, linkmode="DEFAULT")])[0]
            assert entry["flags"] == ip_link_flags(names), hex(value)
    assert {int(s): s.name[len("IF_OPER_"):] for s in IF_OPER} == dict(
        enumerate(("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT",
                   "UP")))


# --- golden capture ----------------------------------------------------------------------

@pytest.mark.parametrize("style", STYLES, ids=str)
def test_golden_dump(style):
    assert assert_same_or_slow((DATA / "link_dump.bin").read_bytes(), style)


def test_golden_nsid_dump():
    from rawns.netlink import decode

    data = (DATA / "nsid_dump.bin").read_bytes()
    seq, port = struct.unpack_from("=8xII", data)
    some, done = link_fast.read_nsid_dump([data], seq, port)
    assert done and some == any(m.type == 88 for m in decode(data))  # RTM_NEWNSID


# --- hypothesis: link messages, clean and hostile ----------------------------------------

def attr(kind: int, payload: bytes) -> bytes:
    return struct.pack("=HH", 4 + len(payload), kind) + payload + bytes(-len(payload) % 4)


def string(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape") + b"\0"


names = st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1,
                max_size=15)
u32 = st.integers(0, 2**32 - 1).map(lambda v: struct.pack("=I", v))
small = st.integers(0, 8)


def nest(children) -> st.SearchStrategy[bytes]:
    return st.lists(children, max_size=4).map(b"".join)


leaf = st.builds(attr, st.integers(0, 60) | st.sampled_from([0x8000 | 3, 0x8000 | 4]),
                 st.binary(max_size=12))
inner_link = nest(leaf)
peer = st.builds(lambda header, body: attr(1, header + body), st.binary(min_size=0, max_size=20),
                 inner_link)
kind_data = st.sampled_from(["veth", "bridge", "vxlan", "macvlan", "tun", "dummy", "ifb"]).flatmap(
    lambda kind: st.builds(lambda data, slave: attr(1, string(kind)) + attr(0x8000 | 2, data)
                           + slave,
                           nest(leaf | peer) if kind == "veth" else nest(leaf),
                           st.just(b"") | st.builds(lambda d: attr(4, b"bridge\0") + attr(5, d),
                                                    nest(leaf) | st.binary(max_size=9))))
linkinfo = st.builds(lambda body: attr(0x8000 | 18, body), kind_data | st.binary(max_size=16))
af_spec = st.builds(lambda body: attr(0x8000 | 26, body),
                    nest(st.builds(attr, st.sampled_from([2, 10, 7]), nest(leaf)
                                   | st.binary(max_size=10))) | st.binary(max_size=10))
props = st.builds(lambda body: attr(0x8000 | 52, body),
                  nest(st.builds(lambda n: attr(53, string(n)), names)) | st.binary(max_size=6))
clean = st.one_of(
    st.builds(lambda n: attr(3, string(n)), names),
    st.builds(attr, st.sampled_from([4, 5, 10, 13, 27, 37]), u32),
    st.builds(attr, st.sampled_from([16, 17]), st.integers(0, 8).map(lambda v: bytes([v]))),
    st.builds(attr, st.sampled_from([1, 2]), st.binary(max_size=8)),
    st.builds(lambda k, n: attr(k, string(n)), st.sampled_from([6, 20]), names | st.just("")),
    linkinfo, af_spec, props,
)
odd = st.one_of(
    st.builds(attr, st.sampled_from([3, 4, 5, 6, 10, 13, 16, 17, 20, 27, 37]),
              st.binary(max_size=9)),
    st.builds(attr, st.integers(0, 70), st.binary(max_size=9)),
)


@st.composite
def dumps(draw, attrs=clean | odd, hostile=True):
    seq, port = draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1))
    out = b""
    for _ in range(draw(st.integers(0, 4))):
        header = struct.pack("=BxHiII", draw(st.integers(0, 255)),
                             draw(st.sampled_from([1, 772, 65534, 0, 65535])),
                             draw(st.integers(-2, 9)), draw(st.integers(0, 2**32 - 1)), 0)
        body = header + b"".join(draw(st.lists(attrs, max_size=8)))
        out += struct.pack("=IHHII", 16 + len(body), 16, 2, seq, port) + body
    out += struct.pack("=IHHIIi", 20, 3, 2, seq, port, 0)
    if hostile and draw(st.booleans()):
        data = bytearray(out)
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            del data[draw(st.integers(0, len(data))):]
        out = bytes(data)
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dumps(), st.sampled_from(STYLES))
def test_hostile_dumps_print_as_the_reference_or_fall_back(data, style):
    assert_same_or_slow(data, style)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dumps(attrs=clean, hostile=False), st.sampled_from(STYLES))
def test_clean_dumps_print_on_the_lean_path(data, style):
    try:
        lean = lean_text(data, NSIDS, **style)
    except link_fast.Slow:
        # declined only where the reference reads a nest the lean reader
        # cannot vouch for: then the reference must fail on it
        with pytest.raises(Exception):
            reference_text(data, NSIDS, **style)
        return
    assert lean == reference_text(data, NSIDS, **style)


@st.composite
def nsid_answers(draw):
    """One answer to an RTM_GETNSID: an id (or -1), an error, or odd bytes."""
    seq, port = 5, 77
    kind = draw(st.sampled_from(["id", "attrs", "error", "hostile"]))
    if kind == "error":
        body = struct.pack("=i", -draw(st.integers(1, 200))) + struct.pack(
            "=IHHII", 28, 90, 1, seq, 0)
        return struct.pack("=IHHII", 16 + len(body), 2, 0, seq, port) + body
    if kind == "id":
        attrs = attr(1, struct.pack("=i", draw(st.integers(-1, 2**31 - 1))))
    else:
        attrs = b"".join(draw(st.lists(st.builds(attr, st.integers(0, 5) | st.just(0x8001),
                                                 st.binary(max_size=9)), max_size=3)))
    body = bytes(4) + attrs
    data = struct.pack("=IHHII", 16 + len(body), 88, 0, seq, port) + body
    if kind == "hostile":
        data = bytearray(data)
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        data = bytes(data[:draw(st.integers(0, len(data)))])
    return data


@settings(max_examples=300, deadline=None)
@given(nsid_answers())
def test_nsid_answers_read_as_the_reference(data):
    """``read_nsids`` finds the id ``Handle.nsid_get`` would return (None: no
    id, an error or a reply it cannot decode, all of which ``netns.nsids``
    leaves out), or says Slow."""
    from rawns.errors import DecodeError
    from rawns.netlink import decode

    found: dict[str, int] = {}
    asked = {5: "x"}
    try:
        link_fast.read_nsids([data], 77, asked, found)
    except link_fast.Slow:
        return
    if asked:  # no answer in these bytes: the caller reads on
        assert not data and not found
        return
    try:
        messages = decode(data)
    except DecodeError:
        assert found == {}
        return
    answers = [m for m in messages if m.type == 88]
    if answers:
        nsid = answers[0].get("NETNSA_NSID", -1)
        assert found == ({} if nsid < 0 else {"x": nsid})
    else:
        assert messages[0].type == 2 and messages[0].error and found == {}


# --- the real kernel -----------------------------------------------------------------------

def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


def reference_cli(monkeypatch, *args: str) -> tuple[int, str, str]:
    """The command line with the lean path turned off."""
    def slow(*_, **__):
        raise link_fast.Slow

    with monkeypatch.context() as patch:
        patch.setattr(link_fast, "show_links", slow)
        patch.setattr(link_fast, "nsids", slow)
        return cli(*args)


def lean_and_reference(monkeypatch, *args: str) -> tuple[tuple[int, str, str], ...]:
    """The command line's output with the lean path and without it, taken
    again until the lean one does not change around the reference's (other
    processes add and remove namespaces meanwhile)."""
    for _ in range(5):
        lean = cli(*args)
        reference = reference_cli(monkeypatch, *args)
        if lean == cli(*args):
            break
    return lean, reference


@pytest.fixture(scope="module")
def zoo():
    """A namespace with a link of every kind the kernel has, and a second one
    holding veth peers (link-netnsid)."""
    prefix = f"rnst{os.getpid()}xlean-"
    host, other = prefix + "host", prefix + "other"
    commands = [
        "link add a0 type veth peer name a1", "link set a0 up", "link set lo up",
        "link add br0 type bridge", "link add p0 type veth peer name p1",
        "link set p0 master br0", "link set br0 up", "link set p0 up",
        "link add vx0 type vxlan id 42 remote 10.77.0.2 dstport 4789",
        "link add mv0 link a1 type macvlan mode bridge", "link add ifbz type ifb",
        "tuntap add tp0 mode tap", "tuntap add tn0 mode tun", "link set tn0 alias the-tun",
        "link set a1 mtu 1400", "link set ifbz txqueuelen 77", "link set mv0 group 5",
        "link property add dev a0 altname a0-alternative",
        "link add q0 type veth peer name q1 netns " + other,
        "link set q0 up",
    ]
    try:
        run_ip("netns", "add", host)
        run_ip("netns", "add", other)
        run_ip("-n", host, "netns", "set", other, "auto")
        for command in commands:
            run_ip("-n", host, *command.split())
        yield host, other
    finally:
        for name in (host, other):
            run_ip("netns", "del", name, check=False)


LISTINGS = [["link"], ["link", "show"], ["-j", "link", "show"], ["-br", "link"],
            ["-br", "-j", "link"], ["-o", "link"], ["link", "show", "up"],
            ["link", "show", "dev", "br0"], ["link", "show", "q0"], ["-j", "link", "show", "p0"],
            ["-o", "link", "show", "up"], ["-br", "link", "show", "dev", "tn0"]]


@root
@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_real_links_print_as_the_reference(zoo, monkeypatch, args):
    host, _ = zoo
    reference = reference_cli(monkeypatch, "-n", host, *args)
    assert reference[0] == 0, reference
    assert cli("-n", host, *args) == reference
    opts = dict(dev=None, only_up="up" in args, as_json="-j" in args, brief="-br" in args,
                oneline="-o" in args)
    words = [w for w in args[args.index("link") + 1:] if w not in ("show", "up", "dev")]
    if words:
        opts["dev"] = words[0]
    assert link_fast.show_links(host, **opts) == reference[1]  # printed lean, no fallback


@root
def test_the_peer_elsewhere_is_named(zoo):
    host, other = zoo
    text = link_fast.show_links(host)
    assert f"link-netns {other}" in text


@root
@pytest.mark.parametrize("args", [["link", "show", "a0-alternative"],
                                  ["link", "show", "dev", "nosuch0"],
                                  ["link", "show", "type", "veth"], ["-d", "link", "show", "ifbz"],
                                  ["-j", "-p", "link"], ["-s", "link", "show", "ifbz"]])
def test_what_the_lean_path_declines_is_the_references(zoo, monkeypatch, args):
    host, _ = zoo
    lean, reference = lean_and_reference(monkeypatch, "-n", host, *args)
    assert lean == reference
    if args[-1] in ("a0-alternative", "nosuch0"):
        with pytest.raises(link_fast.Slow):
            link_fast.show_links(host, dev=args[-1])


@root
def test_a_missing_namespace_is_the_references_error(monkeypatch, prefix):
    args = ["-n", prefix + "missing", "link", "show"]
    status, out, err = cli(*args)
    assert status == 2 and not out and prefix + "missing" in err
    assert (status, out, err) == reference_cli(monkeypatch, *args)


@root
def test_nsids_are_netns_nsids(zoo, ns, prefix):
    host, other = zoo
    fresh = ns()  # no id in host
    stale = prefix + "stale"  # a file that is no namespace (conftest removes it)
    Path(netns.RUN_DIR, stale).write_text("")
    names = [other, fresh, stale, host, "no-such-namespace-here"]
    with Handle(host) as handle:
        assert link_fast.nsids(host, names) == netns.nsids(handle, names)
    assert other in link_fast.nsids(host, names)
    # fresh has given no id to anyone: the dump says so, and no name is asked
    with Handle(fresh) as handle:
        assert link_fast.nsids(fresh, names) == netns.nsids(handle, names) == {}
    # ids given by the other side too: listing other's links gives host an id
    # there (the kernel assigns one to name q1's peer)
    assert "link-netns" in link_fast.show_links(other)
    with Handle(other) as handle:
        assert link_fast.nsids(other, names) == netns.nsids(handle, names)
        assert host in link_fast.nsids(other, names)


@root
def test_an_nsid_dump_of_many_ids_is_read_whole(ns):
    """More ids than one datagram of the dump holds: the rest of the dump is
    read before the names are asked."""
    names = [ns() for _ in range(40)]
    hub = names[0]
    with Handle(hub) as handle:
        for name in names[1:]:
            handle.nsid_set(name)
        expected = netns.nsids(handle, names)
    assert len(expected) == 39
    assert link_fast.nsids(hub, names) == expected


@root
@pytest.mark.parametrize("args", [["netns", "list"], ["-j", "netns", "list"]], ids=" ".join)
def test_netns_list_is_the_references(zoo, monkeypatch, args):
    host, _ = zoo
    lean, reference = lean_and_reference(monkeypatch, "-n", host, *args)
    assert lean == reference
