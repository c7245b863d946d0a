"""rawns.batch_plan: what a Batch sends where and when, checked without root or kernel."""

from __future__ import annotations

from collections import Counter
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rawns.batch import Batch
from rawns.batch_plan import (
    BULK_REQUESTS, AddrAdd, BridgeAdd, LinkSet, MacvlanAdd, NetnsAdd, Op, Plan, Round,
    RouteAdd, Stage, Step, VethAdd, VxlanAdd, check, plan,
)
from rawns.netlink import requests
from rawns.netlink.constants import RT_TABLE

FRESH, CREATIONS, REST = Round.FRESH, Round.CREATIONS, Round.REST


def pod(i: int, host: str = "host") -> list[Op]:
    """One pod as README's example describes it."""
    name = f"p{i}"
    return [NetnsAdd(name=name),
            VethAdd(name=f"vh{i}", peer="eth0", netns=host, peer_netns=name),
            AddrAdd(dev="eth0", address=f"10.0.0.{i + 2}/16", netns=name),
            LinkSet(dev="lo", up=True, netns=name),
            RouteAdd(dst="default", gateway="10.0.0.1", netns=name)]


def ops_of(steps: list[Step]) -> list[Op]:
    return [step.op for step in steps]


def test_a_pod_is_made_from_inside_and_its_host_end_comes_up_after():
    ops = pod(0)
    veth, addr, lo, route = ops[1:]
    the_plan = plan(ops, first_index=5)
    assert the_plan.namespaces == ("p0",)
    fresh, creations, rest = the_plan.rounds
    assert list(fresh) == ["p0"] and the_plan.together == ("p0",) and the_plan.alone == ()
    # links made, then set, then addressed; the route once eth0 is up (below)
    assert ops_of(fresh["p0"]) == [veth, lo, addr]
    made = fresh["p0"][0]
    assert (made.swapped, made.index, made.peer_index, made.carries, made.far_netns,
            made.undo, made.near_later) == (True, 5, 0, True, "host", False, True)
    # eth0 is made down: it comes up after the host end (Plan.then)
    assert made.message(fd=9) == requests.veth_add("eth0", "vh0", peer_netns_fd=9, up=False,
                                                   index=5)
    assert fresh["p0"][1].message() == requests.link_set(index=1, up=True)
    assert fresh["p0"][2].message() == requests.addr_add(5, "10.0.0.2/16")
    assert creations == {} and rest == {}
    # the host end is brought up from the host, by name, right after the
    # pod's requests made it (still in round FRESH), while eth0 is down
    (up,) = the_plan.after["p0"]
    assert up.op == LinkSet(dev="vh0", netns="host", up=True) and up.netns == "host"
    assert up.message() == requests.link_set(ifname="vh0", up=True)
    # then eth0 comes up, by index, and the route that needs it is added
    eth0_up, routed = the_plan.then["p0"]
    assert eth0_up.op == LinkSet(dev="eth0", netns="p0", up=True) and eth0_up.netns == "p0"
    assert eth0_up.message() == requests.link_set(index=5, up=True)
    assert routed.op is route and routed.message() == requests.route_add(
        "default", gateway="10.0.0.1", table=RT_TABLE.RT_TABLE_MAIN)
    assert [step for _, step in the_plan.steps()] == [*fresh["p0"], up, eth0_up, routed]
    # undone from the pod's side on failure
    assert the_plan.crossing == (("p0", "eth0"),)


def test_every_fresh_namespace_numbers_its_links_from_first_index():
    ops = pod(0) + pod(1) + [BridgeAdd(name="br0", netns="p1"),
                             LinkSet(dev="eth0", master="br0", netns="p1")]
    fresh = plan(ops, first_index=3).rounds[FRESH]
    assert [s.index for s in fresh["p0"] if s.op.stage is Stage.LINK_ADD] == [3]
    assert [s.index for s in fresh["p1"] if s.op.stage is Stage.LINK_ADD] == [3, 4]
    (enslave,) = [s for s in fresh["p1"] if isinstance(s.op, LinkSet) and s.op.master]
    assert enslave.op == LinkSet(dev="eth0", master="br0", netns="p1")
    assert enslave.message() == requests.link_set(index=3, master=4)


def test_a_veth_between_fresh_namespaces_is_made_from_the_first_and_its_far_end_set_after():
    ops: list[Op] = [NetnsAdd(name="b"), NetnsAdd(name="a"),
                     BridgeAdd(name="brb", netns="b"),
                     VethAdd(name="va", peer="vb", netns="a", peer_netns="b"),
                     AddrAdd(dev="vb", address="10.5.0.2/24", netns="b"),
                     LinkSet(dev="vb", master="brb", netns="b"),
                     AddrAdd(dev="va", address="10.5.0.1/24", netns="a")]
    the_plan = plan(ops, first_index=2)
    fresh, creations, rest = the_plan.rounds
    # b is written to first: the veth is made from there, va placed in a
    veth = fresh["b"][1]
    assert (veth.op, veth.swapped, veth.index, veth.peer_index, veth.far_netns) == (
        ops[3], True, 3, 2, "a")
    assert ops_of(fresh["b"]) == [ops[2], ops[3], ops[5], ops[4]]
    assert fresh["b"][2].message() == requests.link_set(index=3, master=2)
    # a's turn comes after b's: its end is there, brought up and addressed by index
    assert ops_of(fresh["a"]) == [LinkSet(dev="va", netns="a", up=True), ops[6]]
    assert fresh["a"][1].message() == requests.addr_add(2, "10.5.0.1/24")
    assert the_plan.segments() == [(False, ("b", "a"))]
    assert rest == {} and creations == {} and the_plan.crossing == ()


def test_what_a_later_round_makes_in_a_fresh_namespace_is_named_there_in_round_rest():
    ops: list[Op] = [NetnsAdd(name="a"),
                     MacvlanAdd(name="mv", parent="eth0", netns="a", parent_netns="host"),
                     AddrAdd(dev="mv", address="10.5.0.1/24", netns="a"),
                     LinkSet(dev="lo", up=True, netns="a")]
    the_plan = plan(ops, first_index=2)
    fresh, creations, rest = the_plan.rounds
    assert ops_of(fresh["a"]) == [ops[3]]
    (made,) = creations["host"]
    assert (made.lookup, made.index, made.far_netns, made.undo) == (("eth0",), 2, "a", False)
    assert ops_of(rest["a"]) == [ops[2]] and rest["a"][0].lookup == ()
    assert rest["a"][0].message() == requests.addr_add(2, "10.5.0.1/24")
    assert the_plan.crossing == (("a", "mv"),)


def test_existing_namespaces_make_links_in_round_creations_and_look_indexes_up():
    ops: list[Op] = [BridgeAdd(name="br0", netns="a"),
                     VethAdd(name="va", peer="vb", netns="a", peer_netns="b"),
                     LinkSet(dev="va", master="br0", netns="a"),
                     AddrAdd(dev="vb", address="192.168.50.2/24", netns="b"),
                     RouteAdd(dst="10.50.0.0/16", gateway="192.168.50.1", netns="b")]
    the_plan = plan(ops)
    fresh, creations, rest = the_plan.rounds
    assert fresh == {} and the_plan.namespaces == ()
    assert ops_of(creations["a"]) == ops[:2]
    assert all(s.index == 0 and s.undo for s in creations["a"])   # the kernel numbers them
    assert creations["a"][1].message(fd=4) == requests.veth_add("va", "vb", peer_netns_fd=4,
                                                                up=True)
    assert creations["a"][1].op.undo(creations["a"][1]) == requests.link_del(ifname="va")
    assert list(rest) == ["a", "b"]
    enslave, = rest["a"]
    assert enslave.lookup == ("br0",) and not enslave.undo
    assert enslave.with_links({"br0": 7}).message() == requests.link_set(ifname="va",
                                                                          master=7)
    up, addr, route = rest["b"]
    assert up.op == LinkSet(dev="vb", netns="b", up=True) and up.lookup == ()
    assert addr.lookup == ("vb",) and addr.undo
    found = addr.with_links({"vb": 9})
    assert found.op.undo(found) == requests.addr_del(9, "192.168.50.2/24")
    assert route.lookup == () and route.undo
    assert route.op.undo(route) == requests.route_del("10.50.0.0/16", gateway="192.168.50.1")


def test_a_namespace_with_many_requests_gets_a_socket_of_its_own():
    ops: list[Op] = [NetnsAdd(name="big"), NetnsAdd(name="small"),
                     BridgeAdd(name="br0", netns="big"), BridgeAdd(name="br0", netns="small")]
    ops += [AddrAdd(dev="br0", address=f"10.8.{k // 250}.{k % 250 + 1}/16", netns="big")
            for k in range(BULK_REQUESTS)]
    ops += [AddrAdd(dev="br0", address=f"10.9.0.{k + 1}/16", netns="small")
            for k in range(BULK_REQUESTS - 1)]
    the_plan = plan(ops)
    assert len(the_plan.rounds[FRESH]["big"]) == BULK_REQUESTS + 1
    assert len(the_plan.rounds[FRESH]["small"]) == BULK_REQUESTS
    assert the_plan.alone == ("big",) and the_plan.together == ("small",)
    order = [step.netns for _, step in the_plan.steps()]
    assert order == ["big"] * (BULK_REQUESTS + 1) + ["small"] * BULK_REQUESTS


def test_a_veth_inside_one_fresh_namespace_lets_the_kernel_number_its_peer():
    ops: list[Op] = [NetnsAdd(name="p"),
                     VethAdd(name="x", peer="y", netns="p", peer_netns="p"),
                     AddrAdd(dev="y", address="10.0.0.1/24", netns="p"),
                     LinkSet(dev="y", mtu=1400, netns="p")]
    fresh, _, rest = plan(ops, first_index=2).rounds
    veth, up, mtu = fresh["p"]
    assert (veth.index, veth.peer_index, veth.carries) == (2, 0, False)
    assert veth.message() == requests.veth_add("x", "y", up=True, index=2)
    # by name, at once
    assert up.message() == requests.link_set(ifname="y", up=True)
    assert mtu.message() == requests.link_set(ifname="y", mtu=1400)
    (addr,) = rest["p"]
    assert addr.lookup == ("y",)


def test_each_end_keeps_its_own_mac_when_a_veth_is_made_from_its_peers_side():
    host_mac, pod_mac = "02:00:00:00:00:01", "02:00:00:00:00:02"
    ops = [NetnsAdd(name="p0"),
           VethAdd(name="vh0", peer="eth0", netns="host", peer_netns="p0", mtu=9500,
                   address=host_mac, peer_address=pod_mac)]
    fresh, _, _ = plan(ops, first_index=5).rounds
    made = fresh["p0"][0]
    assert made.swapped
    assert made.message(fd=9) == requests.veth_add(  # (up after vh0: Plan.then)
        "eth0", "vh0", peer_netns_fd=9, up=False, index=5, mtu=9500,
        address=pod_mac, peer_address=host_mac)
    # not swapped: as described
    fresh, _, _ = plan([NetnsAdd(name="a"), NetnsAdd(name="b"),
                        VethAdd(name="x", peer="y", netns="a", peer_netns="b",
                                address=host_mac, peer_address=pod_mac)], first_index=2).rounds
    assert fresh["a"][0].message(fd=3) == requests.veth_add(
        "x", "y", peer_netns_fd=3, up=True, index=2, peer_index=2,
        address=host_mac, peer_address=pod_mac)


def test_a_bad_mac_or_mtu_is_refused_when_described():
    batch = Batch()
    for bad in (dict(address="02:00:00:00:00"), dict(peer_address="zz:00:00:00:00:01"),
                dict(mtu=-1)):
        with pytest.raises(ValueError):
            batch.veth("a", "b", **bad)
    assert batch.ops == ()


def test_batch_describes_operations_and_refuses_bad_input_without_the_kernel():
    batch = Batch()
    batch.netns_add("p0")
    batch.veth("vh0", "eth0", netns="host", peer_netns="p0", peer_up=False, mtu=9000)
    batch.bridge("br0", netns="p0", up=False)
    batch.addr_add("eth0", "10.0.0.2/16", netns="p0")
    batch.link_set("eth0", master="br0", netns="p0")
    batch.route_add("10.1.0.0/16", dev="eth0", metric=5, table="main", netns="p0")
    batch.route_add("default", gateway="10.0.0.1", table=100, netns="p0")
    assert batch.ops == (
        NetnsAdd(name="p0"),
        VethAdd(name="vh0", peer="eth0", netns="host", peer_netns="p0", peer_up=False,
                mtu=9000),
        BridgeAdd(name="br0", netns="p0", up=False),
        AddrAdd(dev="eth0", address="10.0.0.2/16", netns="p0"),
        LinkSet(dev="eth0", master="br0", netns="p0"),
        RouteAdd(dst="10.1.0.0/16", dev="eth0", metric=5, netns="p0"),
        RouteAdd(dst="default", gateway="10.0.0.1", table=100, netns="p0"))
    for bad in (lambda: batch.route_add("default", table="nosuchtable"),
                lambda: batch.route_add("10.0.0.1/16"),
                lambda: batch.route_add("default", gateway="10.0.0"),
                lambda: batch.addr_add("eth0", "10.0.0.300/24"),
                lambda: batch.link_set("x" * 16),
                lambda: batch.bridge("a/b"),
                lambda: batch.netns_add("..")):
        with pytest.raises(ValueError):
            bad()
    assert len(batch.ops) == 7
    twice = Batch()
    twice.netns_add("p0")
    twice.netns_add("p0")
    with pytest.raises(ValueError):
        twice.commit()   # refused before anything is made


# -- properties -------------------------------------------------------------------------

FRESH_NAMES = ("f0", "f1")
SPACES = st.sampled_from(FRESH_NAMES + ("e0", "e1", None))
MADE = st.sampled_from(("a", "b", "c"))          # names links are made with
NAMED = st.sampled_from(("a", "b", "c", "lo"))   # names requests use
OPS = st.one_of(
    st.builds(VethAdd, name=MADE, peer=MADE, netns=SPACES, peer_netns=SPACES,
              up=st.booleans(), peer_up=st.booleans()),
    st.builds(BridgeAdd, name=MADE, netns=SPACES, up=st.booleans()),
    st.builds(MacvlanAdd, name=MADE, parent=NAMED, netns=SPACES, parent_netns=SPACES,
              mode=st.sampled_from(("bridge", "vepa")), up=st.booleans()),
    st.builds(VxlanAdd, name=MADE, vni=st.integers(0, 99), netns=SPACES,
              parent_netns=SPACES, remote=st.none() | st.just("192.0.2.1"),
              port=st.none() | st.just(14789), dev=st.none() | NAMED, up=st.booleans()),
    st.builds(LinkSet, dev=NAMED, netns=SPACES, up=st.none() | st.booleans(),
              master=st.none() | NAMED),
    st.builds(AddrAdd, dev=NAMED, address=st.just("10.0.0.1/24"), netns=SPACES),
    st.builds(RouteAdd, dst=st.sampled_from(("default", "10.1.0.0/16")), netns=SPACES,
              gateway=st.none() | st.just("10.0.0.254"), dev=st.none() | NAMED),
)


def links_named(op: Op) -> tuple[str, ...]:
    if isinstance(op, LinkSet):
        return (op.dev,) if op.master is None else (op.dev, op.master)
    if isinstance(op, (AddrAdd, RouteAdd)):
        return () if op.dev is None else (op.dev,)
    if isinstance(op, (MacvlanAdd, VxlanAdd)):
        return () if op.lower is None else (op.lower,)
    return ()


def links_made(step: Step) -> list[tuple[Optional[str], str, int]]:
    """(namespace, name, chosen index) of each link ``step`` makes."""
    if isinstance(step.op, VethAdd):
        near, far = step.op.ends(step.swapped)
        return [(step.netns, near, step.index), (step.far_netns, far, step.peer_index)]
    if isinstance(step.op, (BridgeAdd, MacvlanAdd, VxlanAdd)):
        return [(step.home, step.op.name, step.index)]
    return []


@settings(max_examples=400, deadline=None)
@given(ops=st.lists(OPS, max_size=25), first_index=st.integers(2, 40))
def test_every_plan_keeps_the_rules(ops: list[Op], first_index: int) -> None:
    described = [NetnsAdd(name=n) for n in FRESH_NAMES] + ops
    try:
        check(described)
    except ValueError:
        # only a macvlan or vxlan on a link the batch makes in an existing
        # namespace, or on another macvlan or vxlan of the batch
        placed = [op for op in ops if isinstance(op, (MacvlanAdd, VxlanAdd))]
        assert any(op.lower is not None for op in placed)
        return
    the_plan = plan(described, first_index=first_index)
    fresh, creations, rest = the_plan.rounds
    steps = the_plan.steps()
    where = {id(step): (number, step.netns, i) for number, by_netns in
             zip(Round, the_plan.rounds) for steps_ in by_netns.values()
             for i, step in enumerate(steps_)}
    # a far end brought up right after its maker's requests: as if it came
    # last among them (it is sent in its own namespace, which exists)
    for maker, after in the_plan.after.items():
        assert maker in fresh
        for j, step in enumerate(after):
            assert isinstance(step.op, LinkSet) and step.netns not in FRESH_NAMES
            assert step.netns is not None and not step.lookup
            where[id(step)] = (Round.FRESH, maker, len(fresh[maker]) + j)
    # and what its maker sends once they are up: as if it came after them
    for maker, then in the_plan.then.items():
        assert maker in the_plan.after
        stages = [step.op.stage for step in then]
        assert stages == sorted(stages)
        for j, step in enumerate(then):
            assert step.netns == maker and not step.lookup
            assert isinstance(step.op, LinkSet) or step.op.stage is Stage.ROUTE
            where[id(step)] = (Round.FRESH, maker,
                               len(fresh[maker]) + len(the_plan.after[maker]) + j)
    assert len(where) == len(steps) == (sum(len(s) for r in the_plan.rounds for s in r.values())
                                        + sum(len(s) for s in the_plan.after.values())
                                        + sum(len(s) for s in the_plan.then.values()))
    assert the_plan.namespaces == FRESH_NAMES

    # Every operation once; beside them, one LinkSet per veth end that comes up
    # from afar, and one per near end made down to come up after it.
    counts = Counter(id(step.op) for _, step in steps)
    assert all(counts[id(op)] == 1 for op in ops)
    extra = Counter((s.op.dev, s.netns) for _, s in steps if id(s.op) not in map(id, ops))
    far_ups = Counter()
    for _, step in steps:
        if isinstance(step.op, VethAdd) and (step.op.up if step.swapped else step.op.peer_up):
            far_ups[(step.op.ends(step.swapped)[1], step.far_netns)] += 1
        if isinstance(step.op, VethAdd) and step.near_later:
            assert step.op.peer_up if step.swapped else step.op.up
            far_ups[(step.op.ends(step.swapped)[0], step.netns)] += 1
    assert extra == far_ups
    # A veth end whose far end Plan.after brings up comes up only after it,
    # and so do its maker's routes.
    for maker, after in the_plan.after.items():
        far_ends = {(up.netns, up.op.dev) for up in after}
        veths = [step for step in fresh[maker] if isinstance(step.op, VethAdd)
                 and step.carries and (step.far_netns, step.op.ends(step.swapped)[1]) in far_ends]
        near = {step.op.ends(step.swapped)[0] for step in veths}
        for step in veths:
            assert step.message(fd=3).header.flags & 1 == 0  # made down
        for step in fresh[maker]:
            assert step.op.stage is not Stage.ROUTE or not near
            assert not (isinstance(step.op, LinkSet) and step.op.up and step.op.dev in near)

    # Rounds hold what they should.
    assert set(fresh) <= set(FRESH_NAMES)
    # (a macvlan or vxlan on a link another namespace makes in round FRESH waits for it)
    assert all(isinstance(s.op, (MacvlanAdd, VxlanAdd))
               for n in set(creations) & set(FRESH_NAMES) for s in creations[n])
    assert all(s.op.stage is Stage.LINK_ADD for v in creations.values() for s in v)
    assert all(s.op.stage is not Stage.LINK_ADD for v in rest.values() for s in v)
    assert all(not s.lookup for v in fresh.values() for s in v)
    assert set(the_plan.together) | set(the_plan.alone) == set(fresh)
    assert all(len(fresh[n]) <= BULK_REQUESTS and len(the_plan.then.get(n, ())) <= BULK_REQUESTS
               for n in the_plan.together)
    for by_netns in the_plan.rounds:
        for steps_ in by_netns.values():
            stages = [s.op.stage for s in steps_]
            assert stages == sorted(stages)

    # A link is named only after the request that makes it: in an earlier round,
    # earlier on the same socket, or in round FRESH by a namespace written to
    # before (round FRESH goes through them in the order they were described).
    rank = {name: i for i, name in enumerate(the_plan.namespaces)}
    order = [name for _, names in the_plan.segments() for name in names]
    assert order == [name for name in FRESH_NAMES if name in fresh]
    makers: dict[tuple[Optional[str], str], list[Step]] = {}
    for _, step in steps:
        for netns, name, _ in links_made(step):
            makers.setdefault((netns, name), []).append(step)
    for _, step in steps:
        for name in links_named(step.op):
            for maker in makers.get((step.netns, name), []):
                index = step.links.get(name)
                if maker is step or (index and index not in (
                        i for n, m, i in links_made(maker) if (n, m) == (step.netns, name))):
                    continue  # the same name made twice there: the kernel refuses one
                r1, n1, i1 = where[id(maker)]
                r2, n2, i2 = where[id(step)]
                if name in step.lookup:  # looked up before its round is sent
                    assert r1 < r2, (maker, step)
                assert r1 < r2 or (r1 == r2 and n1 == n2 and i1 < i2) or (
                    r1 == r2 == FRESH and n1 != n2 and rank[n1] < rank[n2]), (maker, step)

    # Indexes: chosen only in fresh namespaces, distinct there, from first_index;
    # a request names a link by the index chosen for it (a name made twice in a
    # namespace, which the kernel refuses, by one of them).
    chosen: dict[Optional[str], dict[str, set[int]]] = {
        n: {"lo": {1}} for n in FRESH_NAMES}
    for _, step in steps:
        if step.op.stage is Stage.LINK_ADD:
            assert (step.index != 0) == (step.home in FRESH_NAMES)
            assert step.peer_index == 0 or step.index != 0
            for netns, name, index in links_made(step):
                if index:
                    assert netns in FRESH_NAMES and index >= first_index
                    assert all(index not in known for known in chosen[netns].values())
                    chosen[netns].setdefault(name, set()).add(index)
    for _, step in steps:
        for name, index in step.links.items():
            assert index in chosen[step.netns][name]
        assert not set(step.lookup) & set(step.links)

    # What is undone, and what is deleted from the fresh side.
    for _, step in steps:
        assert step.undo == (step.home not in FRESH_NAMES and not isinstance(step.op, LinkSet))
    assert sorted(the_plan.crossing) == sorted(
        [(step.netns, step.op.ends(step.swapped)[0]) for _, step in steps
         if isinstance(step.op, VethAdd) and step.netns in FRESH_NAMES
         and step.far_netns not in FRESH_NAMES]
        + [(step.far_netns, step.op.name) for _, step in steps
           if isinstance(step.op, (MacvlanAdd, VxlanAdd)) and step.carries
           and step.far_netns in FRESH_NAMES and step.netns not in FRESH_NAMES])
    # A macvlan or vxlan is sent from its parent's namespace, placed where asked.
    for _, step in steps:
        if isinstance(step.op, (MacvlanAdd, VxlanAdd)):
            assert step.netns == step.op.parent_netns and step.home == step.op.netns
            assert step.carries == (step.op.netns != step.op.parent_netns)

    # Every request can be built once its look-ups are answered.
    for _, step in steps:
        ready = step.with_links({name: 77 for name in step.lookup}) if step.lookup else step
        assert ready.message(fd=3 if step.carries else None).type is not None


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(OPS, max_size=25))
def test_the_plan_is_a_function_of_the_operations(ops: list[Op]) -> None:
    described = [NetnsAdd(name=n) for n in FRESH_NAMES] + ops
    first, second = plan(described, first_index=4), plan(list(described), first_index=4)
    assert isinstance(first, Plan) and first == second


def test_a_pod_whose_routes_wait_for_its_veth_goes_alone_when_they_are_many():
    # Plan.then takes the routes out of round FRESH's steps; a namespace
    # whose then holds more than one C loop's entry may is sent alone.
    routes = [RouteAdd(dst=f"10.{i >> 8}.{i & 255}.0/24", dev="eth0", netns="p0")
              for i in range(BULK_REQUESTS + 10)]
    ops = [NetnsAdd(name="p0"),
           VethAdd(name="vh0", peer="eth0", netns="host", peer_netns="p0"), *routes]
    the_plan = plan(ops, first_index=2)
    fresh = the_plan.rounds[FRESH]
    assert ops_of(fresh["p0"]) == [ops[1]]
    up, *routed = the_plan.then["p0"]
    assert up.op == LinkSet(dev="eth0", netns="p0", up=True) and ops_of(routed) == routes
    assert the_plan.alone == ("p0",) and the_plan.together == ()
