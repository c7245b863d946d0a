"""rawns.show, without a kernel: objects rendered as ``ip`` prints them.

The JSON of each object is its model's ``to_json()`` (tested against ``ip -j``
in test_handle.py and test_cli.py); here: the composites (a link with its
``addr_info``, ``M-DOWN``, ``-4``/``-6``), the text made from the JSON, and
monitor events. Also ``rawns.netns.nsids``/``nsid_names`` with a stand-in
handle.
"""

from __future__ import annotations

import errno
import ipaddress
import json
from pathlib import Path
from hypothesis import given, strategies as st

from rawns import convert, netns, show
from rawns.errors import KernelError, kernel_error
from rawns.handle import Event
from rawns.model import Address, Link, Neighbour, Route, Seconds
from rawns.netlink import decode
from rawns.netlink.constants import RTM

DATA = Path(__file__).parent / "netlink" / "data"
ORACLE = json.loads((DATA / "ip_oracle.json").read_text())


def golden(name: str, mtype: RTM, convert_one) -> list:
    return [convert_one(m) for m in decode((DATA / f"{name}.bin").read_bytes())
            if m.type == mtype]


def without_lifetimes(value):
    if isinstance(value, dict):
        return {k: without_lifetimes(v) for k, v in value.items()
                if not k.endswith("_life_time")}
    if isinstance(value, list):
        return [without_lifetimes(v) for v in value]
    return value


# --- composites --------------------------------------------------------------------------

def test_addr_json_of_a_captured_dump_is_what_ip_printed() -> None:
    links = golden("link_dump", RTM.RTM_NEWLINK, convert.link_from_message)
    addresses = golden("addr_dump", RTM.RTM_NEWADDR, convert.address_from_message)
    ours = show.addr_json(links, addresses, show.index_names(links), None,
                          show.up_indexes(links))
    # Lifetimes count down between the capture and ip's look; ip also saw a
    # link made after the dump was captured (ifbgold).
    theirs = [entry for entry in ORACLE["addr"] if entry["ifname"] != "ifbgold"]
    assert without_lifetimes(ours) == without_lifetimes(theirs)
    assert any("ifalias" in link.to_json() for link in links)  # left out, as ip does


VETH = Link(index=5, name="va", kind="veth", flags=frozenset({"UP", "LOWER_UP", "BROADCAST",
                                                              "MULTICAST", "RUNNING"}),
            mtu=1400, operstate="UP", address="2e:03:c0:ea:2f:fe",
            broadcast="ff:ff:ff:ff:ff:ff", link=2, link_netnsid=7, txqlen=1000, group=0,
            qdisc="noqueue", alias="golden veth")
MACVLAN = Link(index=6, name="mv0", flags=frozenset({"UP", "RUNNING"}), mtu=1500, link=3,
               address="02:00:00:00:00:06", broadcast="ff:ff:ff:ff:ff:ff")


def test_link_text_names_the_peer_namespace_when_its_name_is_known() -> None:
    data = show.link_json(VETH, {})
    assert show.link_lines(data, {}) == [
        "5: va@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc noqueue state UP "
        "mode DEFAULT group default qlen 1000",
        "    link/ether 2e:03:c0:ea:2f:fe brd ff:ff:ff:ff:ff:ff link-netnsid 7",
        "    alias golden veth",
    ]
    named = show.link_lines(data, {7: "blue"})
    assert named[1].endswith(" link-netns blue")
    assert "mode" not in show.link_lines(show.link_json(VETH, {}, linkmode=False), {})[0]


def test_a_link_whose_lower_link_is_down_is_flagged_m_down() -> None:
    names = {3: "br0", 6: "mv0"}
    assert show.link_json(MACVLAN, names, up={3})["flags"] == ["UP"]
    data = show.link_json(MACVLAN, names, up=set())
    assert data["flags"] == ["UP", "M-DOWN"] and data["link"] == "br0"
    assert show.link_lines(data, {})[0].startswith("6: mv0@br0: <UP,M-DOWN>")
    assert "M-DOWN" not in show.link_json(VETH, {}, up=set())["flags"]  # peer elsewhere


def test_a_lower_link_of_index_0_is_null_in_json_and_none_in_text() -> None:
    peerless = Link(index=2, name="v1", link=0)  # a veth end whose peer is not made yet
    data = show.link_json(peerless, {})
    assert data["link"] is None
    assert show.link_lines(data, {})[0].startswith("2: v1@NONE: <>")


def test_a_family_leaves_out_what_ip_leaves_out() -> None:
    four = show.link_json(VETH, {}, family=4)
    assert not {"link_type", "address", "broadcast"} & four.keys()
    assert show.link_lines(four, {7: "blue"})[0].endswith(" link-netns blue")
    six = show.link_json(MACVLAN, {3: "br0"}, family=6)
    assert list(six) == ["ifindex", "link", "ifname", "flags", "mtu", "operstate"]


def test_addr_json_with_a_family_lists_only_links_holding_one() -> None:
    address = Address(index=6, address=ipaddress.ip_interface("10.0.0.1/24"),
                      label="mv0", flags=frozenset({"permanent"}))
    assert [e["ifname"] for e in show.addr_json([VETH, MACVLAN], [address], {}, None)] == [
        "va", "mv0"]
    [entry] = show.addr_json([VETH, MACVLAN], [address], {}, 4)
    assert entry["addr_info"] == [address.to_json()]
    assert show.link_addr_lines(entry, {}) == [
        "6: mv0@if3: <UP> mtu 1500 state UNKNOWN",
        "    inet 10.0.0.1/24 scope global mv0",
        "       valid_lft forever preferred_lft forever",
    ]


def test_address_lines() -> None:
    peer = Address(index=2, address=ipaddress.ip_interface("10.1.0.1/32"),
                   peer=ipaddress.ip_interface("10.1.0.2/32"), valid_lft=100,
                   preferred_lft=50, flags=frozenset({"nodad"}))
    assert show.addr_lines(peer.to_json(), dev="eth0") == [
        "    inet 10.1.0.1 peer 10.1.0.2/32 scope global dynamic nodad eth0",
        "       valid_lft 100sec preferred_lft 50sec",
    ]
    six = Address(index=2, address=ipaddress.ip_interface("fd00::1/64"), scope="link",
                  flags=frozenset({"permanent"}))
    assert show.addr_lines(six.to_json())[0] == "    inet6 fd00::1/64 scope link "  # ip ends it with a space


# --- routes and neighbours -----------------------------------------------------------------

def test_route_and_neighbour_lines() -> None:
    route = Route(dst=ipaddress.ip_network("10.9.0.0/16"), gateway=ipaddress.ip_address(
        "192.168.10.2"), oif=2, metric=5, protocol="static", table=100,
        flags=frozenset({"onlink"}))
    assert show.route_line(route.to_json({2: "x0"})) == (
        "10.9.0.0/16 via 192.168.10.2 dev x0 table 100 proto static metric 5 onlink ")
    assert show.route_line(Route(dst=None, type="blackhole").to_json()) == (
        "blackhole default ")  # as ip: a space after every word but IPv6's pref
    both = Route(dst=ipaddress.ip_network("10.9.0.0/16"), oif=2,
                 flags=frozenset({"linkdown", "onlink"}))
    assert show.route_line(both.to_json({2: "x0"})) == "10.9.0.0/16 dev x0 onlink linkdown "
    v6 = Route(dst=ipaddress.ip_network("fd00::/64"), oif=2, family=10, metric=256,
               pref="medium", flags=frozenset({"linkdown"}))
    assert show.route_line(v6.to_json({2: "x0"})) == (
        "fd00::/64 dev x0 metric 256 linkdown pref medium")
    neighbour = Neighbour(index=2, dst=ipaddress.ip_address("192.168.10.9"),
                          lladdr="02:00:00:00:00:09", state=frozenset({"PERMANENT"}),
                          flags=frozenset({"router"}))
    assert show.neigh_line(neighbour.to_json({2: "x0"})) == (
        "192.168.10.9 dev x0 lladdr 02:00:00:00:00:09 router PERMANENT ")


def test_visible_neighbours_hide_noarp_unless_asked() -> None:
    def entry(state: set[str], flags: frozenset[str] = frozenset()) -> Neighbour:
        return Neighbour(index=1, dst=ipaddress.ip_address("10.0.0.1"),
                         state=frozenset(state), flags=flags)

    noarp, stale, none = entry({"NOARP"}), entry({"STALE"}), entry(set())
    proxy = entry(set(), frozenset({"proxy"}))
    every = [noarp, stale, none, proxy]
    assert show.visible_neighbours(every) == [stale, proxy]
    assert show.visible_neighbours(every, {"NOARP", "NONE"}) == [noarp, none, proxy]


# --- monitor events and JSON text -------------------------------------------------------------

def test_events_as_ip_monitor_prints_them() -> None:
    gone = Event(action="del", kind="link", obj=MACVLAN, message=None)  # type: ignore[arg-type]
    assert show.event_lines(gone, {3: "br0"}, labels=False)[0].startswith(
        "Deleted 6: mv0@br0: <UP>")
    assert show.event_json(gone, {3: "br0"}) == {
        "event": "del", "object": "link", **show.link_json(MACVLAN, {3: "br0"}),
        "deleted": True}
    address = Address(index=6, address=ipaddress.ip_interface("10.0.0.1/24"),
                      flags=frozenset({"permanent"}))
    new = Event(action="new", kind="addr", obj=address, message=None)  # type: ignore[arg-type]
    assert show.event_lines(new, {6: "mv0"}, labels=True) == [
        "[ADDR]6: mv0    inet 10.0.0.1/24 scope global mv0",
        "       valid_lft forever preferred_lft forever",
    ]
    data = show.event_json(new, {6: "mv0"})
    assert (data["event"], data["ifindex"], data["dev"]) == ("new", 6, "mv0")
    assert "deleted" not in data


def test_json_text_is_ips_bytes() -> None:
    value = [{"ifindex": 1, "flags": ["UP"], "link": None}]
    assert show.json_text(value) == '[{"ifindex":1,"flags":["UP"],"link":null}]'
    # ip -j -p, as iproute2's json_writer lays it out
    assert show.json_text(value, pretty=True) == (
        '[ {\n        "ifindex": 1,\n        "flags": [ "UP" ],\n        "link": null\n    } ]')
    two = [{"a": [], "b": {}, "c": [{"d": 1}, {"d": 2}]}, {"e": "x"}]
    assert show.json_text(two, pretty=True) == (
        '[ {\n        "a": [ ],\n        "b": {},\n        "c": [ {\n                "d": 1\n'
        '            },{\n                "d": 2\n            } ]\n    },{\n'
        '        "e": "x"\n    } ]')
    timers = [{"t": Seconds(0), "u": Seconds(1.5)}]
    assert show.json_text(timers) == '[{"t":0.00,"u":1.50}]'


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=4),
    max_leaves=20)


@given(json_values)
def test_pretty_json_reads_back_as_what_was_written(value) -> None:
    assert json.loads(show.json_text(value, pretty=True)) == value
    assert json.loads(show.json_text(value)) == value


# --- nsid -> name ------------------------------------------------------------------------------

class StandIn:
    """A handle whose namespace gives ids to some names and fails on others."""

    def __init__(self, ids: dict[str, object]) -> None:
        self.ids = ids
        self.asked: list[str] = []

    def nsid_get(self, netns=None, *, pid=None):
        self.asked.append(netns)
        value = self.ids[netns]
        if isinstance(value, BaseException):
            raise value
        return value


def test_nsids_skip_names_without_an_id_or_that_cannot_be_read() -> None:
    handle = StandIn({"a": 3, "b": None, "stale": netns.NotANetnsError("not a netns"),
                      "gone": kernel_error(errno.ENOENT, syscall="open", subject="gone"),
                      "alias": 3, "c": 0})
    names = ["a", "b", "stale", "gone", "alias", "c"]
    assert netns.nsids(handle, names) == {"a": 3, "alias": 3, "c": 0}
    assert handle.asked == names
    assert netns.nsid_names(handle, names) == {3: "alias", 0: "c"}
    assert isinstance(handle.ids["gone"], KernelError)


def test_nsids_ask_every_named_namespace_by_default(monkeypatch) -> None:
    monkeypatch.setattr(netns, "list", lambda: ["x", "y"])
    handle = StandIn({"x": 1, "y": 2})
    assert netns.nsid_names(handle) == {1: "x", 2: "y"}
    assert netns.nsids(StandIn({}), []) == {}
