"""A hypothesis state machine drives random sequences of link, address, route
and neighbour operations (invalid ones included) through rawns, and after
every step compares the kernel's state, read independently with ``ip -j``,
with a model of what should be there."""

from __future__ import annotations

import ipaddress
import json
import os

from hypothesis import settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule,
)

from rawns import Handle, netns
from conftest import run_ip

LINKS = ["b0", "b1", "v0", "v1", "v2", "v3"]
ADDRESSES = ["10.0.0.1/24", "10.0.0.2/24", "10.0.1.1/24", "192.168.5.5/16"]
ROUTES = ["10.9.0.0/16", "10.8.0.0/24", "172.20.0.0/16"]
NEIGHBOURS = ["10.0.0.50", "10.0.0.51", "192.168.5.9"]
MACS = ["02:00:00:00:00:01", "02:00:00:00:00:02"]
_serial = iter(range(1_000_000))


class _Fixed:
    """Stands for ``st.data()`` where a rule calls another with a set value."""

    def __init__(self, value):
        self.value = value

    def draw(self, strategy):
        return self.value


class KernelMatchesModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ns = f"rnsst{os.getpid()}x{next(_serial)}"
        netns.add(self.ns)
        self.handle = Handle(self.ns)
        self.links: dict[str, bool] = {}          # name -> up
        self.peers: dict[str, str] = {}           # veth end -> other end
        self.addrs: set[tuple[str, str]] = set()  # (dev, address)
        self.added: list[tuple[str, str]] = []      # the same, oldest first
        self.routes: set[tuple[str, str]] = set()  # (dev, dst)
        self.neighbours: dict[tuple[str, str], str] = {}  # (dev, ip) -> mac

    def teardown(self) -> None:
        self.handle.close()
        netns.delete(self.ns)

    @initialize(up=st.booleans())
    def start_with_a_bridge(self, up):
        # Most interesting sequences need a link first: start from one.
        self.handle.link_add_bridge("b0", up=up)
        self.links["b0"] = up

    def _dev(self, data) -> str:
        """A link name: usually one that exists, sometimes any (invalid ops)."""
        existing = sorted(self.links)
        choices = st.sampled_from(LINKS)
        if existing:
            choices = st.one_of(st.sampled_from(existing), st.sampled_from(existing), choices)
        return data.draw(choices)

    # -- links -------------------------------------------------------------------

    def _forget_link(self, name: str) -> None:
        self.links.pop(name, None)
        self.addrs = {(d, a) for d, a in self.addrs if d != name}
        self.added = [(d, a) for d, a in self.added if d != name]
        self.routes = {(d, r) for d, r in self.routes if d != name}
        self.neighbours = {k: v for k, v in self.neighbours.items() if k[0] != name}

    @rule(name=st.sampled_from(["b0", "b1"]))
    def add_bridge(self, name):
        if name in self.links:
            try:
                self.handle.link_add_bridge(name)
            except FileExistsError:
                return
            raise AssertionError("duplicate bridge accepted")
        self.handle.link_add_bridge(name)
        self.links[name] = False

    @rule(pair=st.sampled_from([("v0", "v1"), ("v2", "v3"), ("v0", "v2")]))
    def add_veth(self, pair):
        name, peer = pair
        if name in self.links or peer in self.links:
            try:
                self.handle.link_add_veth(name, peer)
            except FileExistsError:
                return
            raise AssertionError("veth with a taken name accepted")
        self.handle.link_add_veth(name, peer)
        self.links[name] = self.links[peer] = False
        self.peers[name], self.peers[peer] = peer, name

    @rule(data=st.data())
    def delete_link(self, data):
        name = self._dev(data)
        if name not in self.links:
            try:
                self.handle.link_delete(name)
            except FileNotFoundError:
                return
            raise AssertionError("deleting a missing link succeeded")
        self.handle.link_delete(name)
        self._forget_link(name)
        peer = self.peers.pop(name, None)
        if peer is not None:
            self.peers.pop(peer, None)
            self._forget_link(peer)

    @rule(data=st.data(), up=st.booleans())
    def set_state(self, data, up):
        name = self._dev(data)
        if name not in self.links:
            try:
                self.handle.link_set(name, up=up)
            except FileNotFoundError:
                return
            raise AssertionError("setting a missing link succeeded")
        self.handle.link_set(name, up=up)
        if self.links[name] and not up:
            # IPv4 drops the device's routes and neighbours when it goes down
            self.routes = {(d, r) for d, r in self.routes if d != name}
            self.neighbours = {k: v for k, v in self.neighbours.items() if k[0] != name}
        self.links[name] = up

    # -- addresses ---------------------------------------------------------------------

    @rule(data=st.data(), address=st.sampled_from(ADDRESSES))
    def add_address(self, data, address):
        dev = self._dev(data)
        if dev not in self.links:
            expected = FileNotFoundError
        elif (dev, address) in self.addrs:
            expected = FileExistsError
        else:
            self.handle.addr_add(dev, address)
            self.addrs.add((dev, address))
            self.added.append((dev, address))
            return
        try:
            self.handle.addr_add(dev, address)
        except expected:
            return
        raise AssertionError(f"expected {expected.__name__}")

    @rule(data=st.data(), address=st.sampled_from(ADDRESSES))
    def delete_address(self, data, address):
        dev = self._dev(data)
        if (dev, address) in self.addrs:
            self.handle.addr_delete(dev, address)
            self._forget_address(dev, address)
            return
        try:
            self.handle.addr_delete(dev, address)
        except OSError:
            return
        raise AssertionError("deleting a missing address succeeded")

    def _forget_address(self, dev: str, address: str) -> None:
        """What the kernel removes with an IPv4 address (devinet.c, fib_frontend.c)."""
        subnet = ipaddress.ip_interface(address).network
        same_subnet = [a for d, a in self.added
                       if d == dev and ipaddress.ip_interface(a).network == subnet]
        gone = {address}
        if same_subnet[0] == address and not self._promotes_secondaries(dev):
            gone.update(same_subnet)  # a primary takes its secondaries with it
        self.addrs -= {(dev, a) for a in gone}
        self.added = [(d, a) for d, a in self.added if d != dev or a not in gone]
        if not any(d == dev for d, _ in self.addrs):
            # The device's last IPv4 address: its routes and ARP entries go too.
            self.routes = {(d, r) for d, r in self.routes if d != dev}
            self.neighbours = {k: v for k, v in self.neighbours.items() if k[0] != dev}

    def _promotes_secondaries(self, dev: str) -> bool:
        setting = run_ip("netns", "exec", self.ns, "cat",
                         f"/proc/sys/net/ipv4/conf/{dev}/promote_secondaries").stdout
        return setting.strip() == "1"

    # -- routes ----------------------------------------------------------------------------

    @rule(data=st.data(), dst=st.sampled_from(ROUTES))
    def add_route(self, data, dst):
        dev = self._dev(data)
        if dev in self.links and self.links[dev] and not any(r == dst for _, r in self.routes):
            self.handle.route_add(dst, dev=dev)
            self.routes.add((dev, dst))
            return
        try:
            self.handle.route_add(dst, dev=dev)
        except OSError:  # no device, device down (ENETDOWN) or route exists
            return
        raise AssertionError(f"route {dst} dev {dev} accepted against the model")

    @precondition(lambda self: any(self.links.values()))
    @rule(data=st.data(), dst=st.sampled_from(ROUTES))
    def add_route_on_an_up_link(self, data, dst):
        dev = data.draw(st.sampled_from(sorted(d for d, up in self.links.items() if up)))
        self.add_route(_Fixed(dev), dst)

    @precondition(lambda self: bool(self.routes))
    @rule(data=st.data())
    def take_a_routed_link_down(self, data):
        dev = data.draw(st.sampled_from(sorted({d for d, _ in self.routes})))
        self.set_state(_Fixed(dev), False)

    @rule(dst=st.sampled_from(ROUTES))
    def delete_route(self, dst):
        present = [(d, r) for d, r in self.routes if r == dst]
        if present:
            self.handle.route_delete(dst)
            self.routes.discard(present[0])
            return
        try:
            self.handle.route_delete(dst)
        except FileNotFoundError:  # ESRCH is a ProcessLookupError: see below
            return
        except ProcessLookupError:
            return
        raise AssertionError("deleting a missing route succeeded")

    # -- neighbours ----------------------------------------------------------------------

    @precondition(lambda self: any(self.links.values()))
    @rule(data=st.data(), ip=st.sampled_from(NEIGHBOURS), mac=st.sampled_from(MACS))
    def replace_neighbour(self, data, ip, mac):
        dev = data.draw(st.sampled_from(sorted(d for d, up in self.links.items() if up)))
        self.handle.neigh_replace(dev, ip, mac)
        self.neighbours[(dev, ip)] = mac

    @rule(data=st.data(), ip=st.sampled_from(NEIGHBOURS))
    def delete_neighbour(self, data, ip):
        dev = self._dev(data)
        if (dev, ip) in self.neighbours:
            self.handle.neigh_delete(dev, ip)
            del self.neighbours[(dev, ip)]
            return
        try:
            self.handle.neigh_delete(dev, ip)
        except OSError:
            return
        raise AssertionError("deleting a missing neighbour succeeded")

    # -- the oracle ---------------------------------------------------------------------------

    def _ip(self, *args):
        return json.loads(run_ip("-n", self.ns, "-j", *args).stdout or "[]")

    @invariant()
    def kernel_matches_model(self):
        links = {e["ifname"]: "UP" in e["flags"] for e in self._ip("link", "show")}
        links.pop("lo")
        assert links == self.links
        addrs = {(e["ifname"], f'{a["local"]}/{a["prefixlen"]}')
                 for e in self._ip("-4", "addr", "show") if e["ifname"] != "lo"
                 for a in e["addr_info"]}
        assert addrs == self.addrs
        routes = {(e["dev"], e["dst"]) for e in self._ip("route", "show")
                  if e.get("protocol", "boot") == "boot"}
        assert routes == self.routes
        neighbours = {(e["dev"], e["dst"]): e["lladdr"]
                      for e in self._ip("-4", "neigh", "show", "nud", "permanent")}
        assert neighbours == self.neighbours
        # and rawns reads the same as ip
        assert {link.name: link.is_up for link in self.handle.link_list()
                if link.name != "lo"} == self.links
        assert {(str(n.dst), n.lladdr) for n in self.handle.neigh_list(family=4)
                if "PERMANENT" in n.state} == {(ip, mac) for (_, ip), mac in
                                               self.neighbours.items()}


KernelMatchesModel.TestCase.settings = settings(
    max_examples=20, stateful_step_count=20, deadline=None, derandomize=False)
test_kernel_matches_model = KernelMatchesModel.TestCase
