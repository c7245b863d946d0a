"""The plan of a ``Batch``: which request goes to which namespace in which round (pure).

A batch is a list of operations, one small frozen dataclass each (``NetnsAdd``,
``VethAdd``, ``BridgeAdd``, ``MacvlanAdd``, ``VxlanAdd``, ``LinkSet``, ``AddrAdd``,
``RouteAdd``); each builds
its request(s) with ``rawns.netlink.requests``. ``plan(ops, first_index=...)``
says where and when each request is sent, and the runner (``rawns.batch``)
only executes that:

    round FRESH      the requests of the namespaces the batch made, sent from
                     inside them, namespace after namespace in the order they
                     were described: one C loop writes them (``together``); a
                     namespace with more than BULK_REQUESTS requests gets a
                     socket of its own (``alone``), in its turn; the far ends
                     their veths make in existing named namespaces are
                     brought up there right after them (``after``), and
                     then their near ends (``then``)
    round CREATIONS  links made from namespaces that already existed
    round REST       everything else, in existing namespaces, and what in a
                     fresh namespace had to wait for another one's requests

Invariants:
- Pure: no I/O, no kernel, no clock; the same operations and facts give the
  same plan. The one fact from the kernel is ``first_index``, where free
  ifindexes start in a fresh namespace.
- Within a namespace and round, requests go in the order one would type them
  (``Stage``): links made, then set, then addressed, then routed (a route needs
  its device up and its gateway reachable); operations of one stage keep
  the order they were described in.
- A link made in a fresh namespace gets its ifindex from the plan, so later
  requests there name it without a look-up; a veth with one end in a fresh
  namespace and the other in an existing one is made from the fresh side.
- A request that names a link made by another namespace's requests (the far
  end of a veth, a macvlan or vxlan placed there) comes after them: in round
  FRESH when both namespaces are fresh and the maker's turn comes first (a
  veth between two fresh namespaces is made from the one described first,
  so its far end is brought up and addressed in the same round), else in
  round REST; it never races its creation. A link
  whose index the plan cannot know (in an existing namespace, or numbered by
  the kernel) is named by the index the runner looks up (``Step.lookup``)
  just before round REST, or by name where the kernel takes one (``LinkSet``).
- Every operation of the batch appears exactly once in the plan (a
  ``NetnsAdd`` in ``Plan.namespaces``), plus, for each veth whose far end
  comes up, one ``LinkSet`` sent from the far end's namespace (in
  ``Plan.after`` when that namespace exists, is named and no other operation
  makes a link of that name there; else in a later round). A veth end whose
  far end ``Plan.after`` brings up comes up after it (``Plan.then``): if it
  was to come up as it is made, it is made down, and one more ``LinkSet``
  brings it up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rawns.model import IPInterface, IPNetwork
from rawns.netlink import Message, requests
from rawns.netlink.constants import RT_TABLE
from rawns.netlink.requests import AddressLike
from rawns.records import field, record, replace

TYPE_CHECKING = False  # typing's, without importing typing or enum (-batch start-up)
if TYPE_CHECKING:
    from enum import IntEnum
    from typing import ClassVar, Optional, Union
else:
    from rawns.netlink.names import KernelEnum as IntEnum

__all__ = [
    "NetnsAdd", "VethAdd", "BridgeAdd", "MacvlanAdd", "VxlanAdd", "LinkSet", "AddrAdd", "RouteAdd", "Op",
    "Stage", "Round", "Step", "Plan", "plan", "check", "namespaces",
    "BULK_REQUESTS", "LOOPBACK_INDEX",
]

#: The ifindex of ``lo``, fixed by the kernel in every namespace.
LOOPBACK_INDEX = 1
#: Beyond this many requests a fresh namespace gets a socket of its own: the C
#: loop of ``fanout.send_chunks`` must hold all of a namespace's answers at once.
BULK_REQUESTS = 256


class Stage(IntEnum):
    """The order of requests within a namespace and round, as one would type them."""

    LINK_ADD = 0
    LINK_SET = 1
    ADDR = 2
    ROUTE = 3


class Round(IntEnum):
    """The rounds of a plan, in the order they are sent."""

    FRESH = 0       # inside the namespaces the batch made
    CREATIONS = 1   # links made from existing namespaces
    REST = 2        # the rest, and what waited for another namespace's requests


# -- the operations -------------------------------------------------------------------

@record
class NetnsAdd:
    """A named namespace, like ``ip netns add NAME``."""

    name: str


@record
class VethAdd:
    """A veth pair: ``name`` in ``netns``, ``peer`` made directly in
    ``peer_netns`` (None: the caller's namespace), each end up if asked,
    with the MAC addresses ``address`` and ``peer_address`` if given.
    Like ``ip -n NETNS link add NAME [address MAC] type veth peer name PEER
    [address MAC] netns PEER_NETNS``."""

    name: str
    peer: str
    netns: Optional[str] = None
    peer_netns: Optional[str] = None
    up: bool = True
    peer_up: bool = True
    mtu: Optional[int] = None
    address: Optional[str] = None
    peer_address: Optional[str] = None

    stage: ClassVar[Stage] = Stage.LINK_ADD

    @property
    def subject(self) -> str:
        return f"link {self.name!r}"

    def ends(self, swapped: bool) -> tuple[str, str]:
        """(the end made by the request, its peer): swapped, the request is
        sent from ``peer_netns`` and ``peer`` is the end it makes."""
        return (self.peer, self.name) if swapped else (self.name, self.peer)

    def request(self, step: Step, fd: Optional[int] = None) -> Message:
        """The RTM_NEWLINK, carrying ``fd``, the far end's namespace (None:
        the far end is made where the request is sent)."""
        near, far = self.ends(step.swapped)
        if step.swapped:
            address, peer_address = self.peer_address, self.address
        else:
            address, peer_address = self.address, self.peer_address
        up = (self.peer_up if step.swapped else self.up) and not step.near_later
        return requests.veth_add(near, far, peer_netns_fd=fd, mtu=self.mtu,
                                 address=address, peer_address=peer_address, up=up,
                                 index=step.index, peer_index=step.peer_index)

    def undo(self, step: Step) -> Message:
        """Deleting the end it made (its peer goes with it)."""
        return requests.link_del(ifname=self.ends(step.swapped)[0])


@record
class BridgeAdd:
    """A bridge, like ``ip -n NETNS link add NAME type bridge``."""

    name: str
    netns: Optional[str] = None
    up: bool = True

    stage: ClassVar[Stage] = Stage.LINK_ADD

    @property
    def subject(self) -> str:
        return f"link {self.name!r}"

    def request(self, step: Step, fd: Optional[int] = None) -> Message:
        return requests.link_add(self.name, "bridge", up=self.up, index=step.index)

    def undo(self, step: Step) -> Message:
        return requests.link_del(ifname=self.name)


@record
class MacvlanAdd:
    """A macvlan on ``parent``, a link of ``parent_netns`` (None: the
    caller's namespace), made there and placed in ``netns``. Like ``ip -n
    PARENT_NETNS link add NAME link PARENT [mtu N] [address MAC] netns NETNS
    type macvlan mode MODE``; up as it is made if ``up``."""

    name: str
    parent: str
    netns: Optional[str] = None
    parent_netns: Optional[str] = None
    mode: str = "bridge"
    up: bool = True
    mtu: Optional[int] = None
    address: Optional[str] = None

    stage: ClassVar[Stage] = Stage.LINK_ADD

    @property
    def subject(self) -> str:
        return f"link {self.name!r}"

    @property
    def lower(self) -> Optional[str]:
        """The link of ``parent_netns`` it names by index."""
        return self.parent

    def request(self, step: Step, fd: Optional[int] = None) -> Message:
        return requests.macvlan_add(self.name, step.links[self.parent], mode=self.mode,
                                    mtu=self.mtu, address=self.address, netns_fd=fd,
                                    up=self.up, index=step.index)

    def undo(self, step: Step) -> Message:
        """Deleting it where it was placed (``Step.home``)."""
        return requests.link_del(ifname=self.name)


@record
class VxlanAdd:
    """A VXLAN device ``name`` with id ``vni``, made in ``parent_netns``
    (None: the caller's namespace; its UDP sockets live there) and placed in
    ``netns``; ``remote`` the far tunnel end, ``port`` its UDP port (None:
    the kernel's 8472), ``dev`` the link of ``parent_netns`` it sends
    through. Like ``ip -n PARENT_NETNS link add NAME [mtu N] [address MAC]
    netns NETNS type vxlan id VNI remote ADDR dstport PORT [dev DEV]``; up as
    it is made if ``up``."""

    name: str
    vni: int
    netns: Optional[str] = None
    parent_netns: Optional[str] = None
    remote: Optional[AddressLike] = None
    port: Optional[int] = None
    dev: Optional[str] = None
    up: bool = True
    mtu: Optional[int] = None
    address: Optional[str] = None

    stage: ClassVar[Stage] = Stage.LINK_ADD

    @property
    def subject(self) -> str:
        return f"link {self.name!r}"

    @property
    def lower(self) -> Optional[str]:
        """The link of ``parent_netns`` it names by index, if any."""
        return self.dev

    def request(self, step: Step, fd: Optional[int] = None) -> Message:
        dev = None if self.dev is None else step.links[self.dev]
        return requests.vxlan_add(self.name, self.vni, remote=self.remote, port=self.port,
                                  dev=dev, mtu=self.mtu, address=self.address, netns_fd=fd,
                                  up=self.up, index=step.index)

    def undo(self, step: Step) -> Message:
        """Deleting it where it was placed (``Step.home``)."""
        return requests.link_del(ifname=self.name)


@record
class LinkSet:
    """A change of a link, like ``ip -n NETNS link set DEV [up|down] [mtu N]
    [master BR]``; what is None is left alone. Not undone."""

    dev: str
    netns: Optional[str] = None
    up: Optional[bool] = None
    mtu: Optional[int] = None
    master: Optional[str] = None

    stage: ClassVar[Stage] = Stage.LINK_SET

    @property
    def subject(self) -> str:
        return f"link {self.dev!r}"

    def undo(self, step: Step) -> None:
        """A change is not undone."""
        return None

    def request(self, step: Step, fd: Optional[int] = None) -> Message:
        """By index where it is known, else by name (the kernel finds it)."""
        index = step.links.get(self.dev)
        master = None if self.master is None else step.links[self.master]
        if index:
            return requests.link_set(index=index, up=self.up, mtu=self.mtu, master=master)
        return requests.link_set(ifname=self.dev, up=self.up, mtu=self.mtu, master=master)


@record
class AddrAdd:
    """An address on ``dev``, like ``ip -n NETNS addr add ADDRESS dev DEV``."""

    dev: str
    address: Union[str, IPInterface]
    netns: Optional[str] = None

    stage: ClassVar[Stage] = Stage.ADDR

    @property
    def subject(self) -> str:
        return f"address {self.address} on link {self.dev!r}"

    def request(self, step: Step, fd: Optional[int] = None) -> Message:
        return requests.addr_add(step.links[self.dev], self.address)

    def undo(self, step: Step) -> Message:
        return requests.addr_del(step.links[self.dev], self.address)


@record
class RouteAdd:
    """A route, like ``ip -n NETNS route add DST [via GW] [dev DEV] [metric N]
    [table T]``; ``dst`` is ``"default"`` or a network."""

    dst: Union[str, IPNetwork]
    netns: Optional[str] = None
    gateway: Optional[AddressLike] = None
    dev: Optional[str] = None
    metric: Optional[int] = None
    table: int = RT_TABLE.RT_TABLE_MAIN

    stage: ClassVar[Stage] = Stage.ROUTE

    @property
    def subject(self) -> str:
        return f"route {self.dst}"

    def request(self, step: Step, fd: Optional[int] = None) -> Message:
        return requests.route_add(self.dst, gateway=self.gateway, oif=self._oif(step),
                                  priority=self.metric, table=self.table)

    def undo(self, step: Step) -> Message:
        return requests.route_del(self.dst, gateway=self.gateway, oif=self._oif(step),
                                  priority=self.metric, table=self.table)

    def _oif(self, step: Step) -> Optional[int]:
        return None if self.dev is None else step.links[self.dev]


#: An operation of a batch.
Op = NetnsAdd | VethAdd | BridgeAdd | MacvlanAdd | VxlanAdd | LinkSet | AddrAdd | RouteAdd
#: An operation that sends a request (all but NetnsAdd).
Sent = VethAdd | BridgeAdd | MacvlanAdd | VxlanAdd | LinkSet | AddrAdd | RouteAdd
#: The operations that make a link in one namespace and place it in another.
Placed = (MacvlanAdd, VxlanAdd)

# -- the plan ---------------------------------------------------------------------------

@record(frozen=False)
class Step:
    """One request of a plan: ``op`` sent from namespace ``netns``.

    ``links`` are the ifindexes of the links it names, by name, as far as the
    plan knows them; ``lookup`` the names whose ifindexes the runner must
    find in ``netns`` first (then ``with_links``). For a link it makes:
    ``index`` (and a veth's ``peer_index``) asked of the kernel, 0 for the
    kernel's choice; ``swapped`` when a veth is made from its peer's side;
    ``carries`` when the request carries the fd of ``far_netns``, where the
    veth's other end goes (or the macvlan or vxlan itself); ``near_later``
    when a veth's near end is made down, to come up in ``Plan.then``. ``undo``: what
    it made lives in an existing namespace (``home``), so it is removed on
    failure with ``op.undo(step)`` sent there (a namespace the batch made
    goes with everything in it).

    Plain data, not frozen: a plan of 500 pods holds some 3000 steps, and a
    frozen ``__init__`` costs three times as much. Nothing changes a step
    once planned (``with_links`` makes another).
    """

    op: Sent
    netns: Optional[str]
    links: Mapping[str, int] = field(default_factory=dict)
    lookup: tuple[str, ...] = ()
    index: int = 0
    peer_index: int = 0
    swapped: bool = False
    carries: bool = False
    far_netns: Optional[str] = None
    undo: bool = False
    near_later: bool = False

    @property
    def home(self) -> Optional[str]:
        """The namespace what it made lives in (and its undo is sent to):
        ``far_netns`` for a link placed there as it was made, else ``netns``."""
        return self.far_netns if self.carries and isinstance(self.op, Placed) else self.netns

    def message(self, fd: Optional[int] = None) -> Message:
        """The request, carrying ``fd`` if ``carries``; every name in
        ``lookup`` must have been found (``with_links``)."""
        return self.op.request(self, fd)

    def with_links(self, found: Mapping[str, int]) -> Step:
        """This step with the ifindexes of ``lookup`` found."""
        return replace(self, links={**self.links, **found}, lookup=())


#: One round: each namespace's requests, in sending order (namespaces too).
Requests = Mapping[str | None, Sequence[Step]]


@record
class Plan:
    """What a batch sends: ``namespaces`` are made first (one C loop), then
    the three ``rounds`` (see ``Round``) are sent in turn.

    ``together``: the namespaces of round FRESH whose requests one C loop
    sends; the others of that round (``alone``) each go first, on a socket
    of their own. ``crossing``: (fresh namespace, link) for each veth made
    from a fresh namespace into an existing one, and each macvlan or vxlan
    placed in a fresh namespace from an existing one; on failure it is
    deleted from the fresh side, whether or not its ack was read (the
    namespace's deletion would remove it too, but later, in the kernel's
    cleanup work, while it still holds its peer, its MAC on its parent or
    its VNI and port in the existing namespace).

    ``after``: for a fresh namespace of round FRESH, the far ends of its
    veths to bring up in existing named namespaces (each step is sent in its
    own ``netns``), by name, as soon as its requests are answered: still in
    round FRESH, so that the later rounds do not wait for them.

    ``then``: for such a namespace, what it sends once those far ends are up:
    bringing up the near ends (made down), and its routes, which may need
    them up. A veth end that comes up while its peer is up gets its carrier
    at once, and the kernel then syncs that namespace's whole IPv6 routing
    table on the request's path, holding the rtnl lock: a walk that grows
    with the veths in a host. Up while its peer is down, it waits for the
    carrier, which the kernel's link watcher handles later, in batches.
    """

    namespaces: tuple[str, ...]
    rounds: tuple[Requests, Requests, Requests]
    together: tuple[str, ...]
    alone: tuple[str, ...]
    crossing: tuple[tuple[str, str], ...]
    after: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)
    then: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)

    def segments(self) -> list[tuple[bool, tuple[str, ...]]]:
        """Round FRESH in sending order, the order the namespaces were
        described in: (alone, names), each namespace ``alone`` by itself,
        the others in runs of consecutive ones. The order matters: a
        namespace's requests may name the end of a veth that the requests of
        one before it make."""
        out: list[tuple[bool, tuple[str, ...]]] = []
        alone, fresh = set(self.alone), self.rounds[0]
        run: list[str] = []
        for name in self.namespaces:
            if name not in fresh:
                continue
            if name in alone:
                if run:
                    out.append((False, tuple(run)))
                    run = []
                out.append((True, (name,)))
            else:
                run.append(name)
        if run:
            out.append((False, tuple(run)))
        return out

    def steps(self) -> list[tuple[Round, Step]]:
        """Every request with its round, in sending order (``segments`` in
        round FRESH, each segment's ``then`` after all of its namespaces)."""
        fresh, creations, rest = self.rounds
        order = []
        for _, names in self.segments():
            order += [(Round.FRESH, steps) for name in names
                      for steps in (fresh[name], self.after.get(name, ()))]
            order += [(Round.FRESH, self.then.get(name, ())) for name in names]
        order += [(Round.CREATIONS, steps) for steps in creations.values()]
        order += [(Round.REST, steps) for steps in rest.values()]
        return [(number, step) for number, steps in order for step in steps]


def check(ops: Sequence[Op]) -> None:
    """ValueError for what no plan can send in order: a macvlan or vxlan
    whose parent link is made by the same batch in a namespace it did not
    make (its index is looked up before the round that makes it), or by a
    macvlan or vxlan of the batch (made by another namespace's request in
    the same round)."""
    if not any(isinstance(op, Placed) and op.lower is not None for op in ops):
        return
    fresh = set(namespaces(ops))
    made: dict[tuple[Optional[str], str], list[Sent]] = {}
    for op in ops:
        if isinstance(op, VethAdd):
            made.setdefault((op.netns, op.name), []).append(op)
            made.setdefault((op.peer_netns, op.peer), []).append(op)
        elif isinstance(op, (BridgeAdd, MacvlanAdd, VxlanAdd)):
            made.setdefault((op.netns, op.name), []).append(op)
    for op in ops:
        if not isinstance(op, Placed) or op.lower is None:
            continue
        makers = made.get((op.parent_netns, op.lower), [])
        if not makers or (op.parent_netns in fresh
                          and not any(isinstance(maker, Placed) for maker in makers)):
            continue
        where = "the caller's netns" if op.parent_netns is None else \
            f"netns {op.parent_netns!r}"
        raise ValueError(f"link {op.name!r}: its parent {op.lower!r} in {where} is made by "
                         f"the same batch; make it in an earlier one")


def namespaces(ops: Sequence[Op]) -> list[str]:
    """The namespaces ``ops`` make, in order."""
    return [op.name for op in ops if isinstance(op, NetnsAdd)]


def plan(ops: Sequence[Op], *, first_index: int = LOOPBACK_INDEX + 1) -> Plan:
    """The plan of ``ops``. ``first_index``: the first ifindex free in a
    namespace the batch makes (a fresh namespace holds only what the kernel
    makes in every new one: lo, and fallback tunnel devices when their
    modules are loaded)."""
    return _Planner(ops, first_index).plan()


@record(frozen=False, kw_only=False, slots=False)
class _Space:
    """What the planner knows of one namespace."""

    fresh: bool                                  # made by this batch
    indexes: dict[str, int] = field(default_factory=dict)
    next_index: int = 0
    # links made here by a request sent from another namespace (a veth's far
    # end, a macvlan or vxlan placed here) -> the fresh namespace whose
    # round-FRESH requests make it (None: made in a later round); what names
    # them comes after that namespace's turn in round FRESH, else in round REST
    foreign: dict[str, Optional[str]] = field(default_factory=dict)


class _Planner:
    """One planning: what is known of each namespace as operations are placed."""

    def __init__(self, ops: Sequence[Op], first_index: int) -> None:
        self.namespaces = namespaces(ops)
        self.ops: list[Sent] = [op for op in ops if not isinstance(op, NetnsAdd)]
        self.spaces: dict[Optional[str], _Space] = {
            name: _Space(True, {"lo": LOOPBACK_INDEX}, first_index) for name in self.namespaces}
        self.crossing: list[tuple[str, str]] = []
        # the order round FRESH sends the fresh namespaces' requests in
        self.rank = {name: i for i, name in enumerate(self.namespaces)}
        # far ends of veths made in round FRESH, to bring up from their side
        self.far_ups: list[Sent] = []
        # the veth step of each of those far ends, by the id of its LinkSet
        self.far_up_veths: dict[int, Step] = {}
        # those brought up in an existing named namespace right after their
        # maker's requests (Plan.after), by maker
        self.after: dict[str, list[Step]] = {}
        # how many operations make a link of each name in each namespace
        self.makers: dict[tuple[Optional[str], str], int] = {}
        for op in self.ops:
            made: list[tuple[Optional[str], str]] = []
            if isinstance(op, VethAdd):
                made = [(op.netns, op.name), (op.peer_netns, op.peer)]
            elif isinstance(op, (BridgeAdd, MacvlanAdd, VxlanAdd)):
                made = [(op.netns, op.name)]
            for key in made:
                self.makers[key] = self.makers.get(key, 0) + 1
        # a macvlan or vxlan is made by its parent's namespace, maybe in a
        # later round (its parent's index unknown yet, even in its own
        # namespace): what its target names of it waits until it is made
        for op in self.ops:
            if isinstance(op, Placed):
                self._space(op.netns).foreign[op.name] = None

    def _space(self, name: Optional[str]) -> _Space:
        """What is known of namespace ``name``; one not made by the batch
        is known when first named."""
        space = self.spaces.get(name)
        if space is None:
            space = self.spaces[name] = _Space(False)
        return space

    def plan(self) -> Plan:
        fresh, later = self._round(self.ops, Round.FRESH)
        creations, ups = self._round([op for op in later if op.stage is Stage.LINK_ADD],
                                     Round.CREATIONS)
        rest, _ = self._round([op for op in later if op.stage is not Stage.LINK_ADD] + ups,
                              Round.REST)
        then = {maker: self._then(maker, fresh, steps) for maker, steps in self.after.items()}
        # (every namespace of round FRESH has a name: the batch made it)
        together = tuple(name for name, steps in fresh.items() if name is not None
                         and max(len(steps), len(then.get(name, ()))) <= BULK_REQUESTS)
        alone = tuple(name for name, steps in fresh.items() if name is not None
                      and max(len(steps), len(then.get(name, ()))) > BULK_REQUESTS)
        return Plan(namespaces=tuple(self.namespaces), rounds=(fresh, creations, rest),
                    together=together, alone=alone, crossing=tuple(self.crossing),
                    after={maker: tuple(steps) for maker, steps in self.after.items()},
                    then={maker: steps for maker, steps in then.items() if steps})

    def _then(self, maker: str, fresh: dict[Optional[str], list[Step]],
              after: list[Step]) -> tuple[Step, ...]:
        """``Plan.then`` of ``maker``, taken out of its round-FRESH steps: the
        near ends of the veths whose far ends ``after`` brings up come up
        only then (those made up are made down instead), and so do its
        routes."""
        veths = [veth for veth in (self.far_up_veths.get(id(up.op)) for up in after)
                 if veth is not None]
        if not veths:
            return ()
        near = set()
        ups = []
        for veth in veths:
            assert isinstance(veth.op, VethAdd)
            name = veth.op.ends(veth.swapped)[0]
            near.add(name)
            if veth.op.peer_up if veth.swapped else veth.op.up:
                veth.near_later = True
                ups.append(Step(op=LinkSet(dev=name, netns=maker, up=True), netns=maker,
                                links={name: veth.index}))
        mine = fresh[maker]
        moved = [step for step in mine if step.op.stage is Stage.ROUTE or (
            isinstance(step.op, LinkSet) and step.op.up and step.op.dev in near)]
        gone = {id(step) for step in moved}
        fresh[maker] = [step for step in mine if id(step) not in gone]
        return tuple(sorted(ups + moved, key=lambda step: step.op.stage))

    def _round(self, ops: list[Sent], number: Round
               ) -> tuple[dict[Optional[str], list[Step]], list[Sent]]:
        """The steps of round ``number`` by namespace, and the operations
        left for a later round (in round FRESH: those of existing namespaces,
        and those that name a link another namespace's requests make or
        whose index is not known yet; also the far ends of veths to bring up)."""
        later: list[Sent] = []
        by_netns: dict[Optional[str], list[Step]] = {}
        ordered = sorted(ops, key=_stage)
        made = [op for op in ordered if op.stage is Stage.LINK_ADD]
        for pass_ops in (made, None):
            if pass_ops is None:  # then the rest, the far ends to bring up first
                pass_ops = sorted(self.far_ups + [op for op in ordered
                                                  if op.stage is not Stage.LINK_ADD],
                                  key=_stage)
                self.far_ups = []
            for op in pass_ops:
                where, swapped = self._origin(op)
                space = self._space(where)
                if number is Round.FRESH and not space.fresh:
                    maker = self._early_maker(op, where)
                    if maker is None:
                        later.append(op)
                    else:
                        self.after.setdefault(maker, []).append(Step(op=op, netns=where))
                    continue
                step = self._step(op, where, space, swapped, number, later)
                if step is None:
                    later.append(op)
                else:
                    by_netns.setdefault(where, []).append(step)
        return by_netns, later

    def _origin(self, op: Sent) -> tuple[Optional[str], bool]:
        """Where ``op`` is sent from, and for a veth whether its ends swap:
        a veth with one end in a fresh namespace is made from that side, so
        that its index there can be chosen; one between two fresh
        namespaces from the one round FRESH writes to first, so that the
        other can name its end in the same round. A macvlan or vxlan is
        made from its parent's namespace."""
        if isinstance(op, Placed):
            return op.parent_netns, False
        if isinstance(op, VethAdd) and self._space(op.peer_netns).fresh:
            if not self._space(op.netns).fresh:
                return op.peer_netns, True
            if self.rank.get(op.peer_netns or "", -1) < self.rank.get(op.netns or "", -1):
                return op.peer_netns, True
        return op.netns, False

    def _early_maker(self, op: Sent, where: Optional[str]) -> Optional[str]:
        """For the far end of a veth made in round FRESH, brought up in the
        existing named namespace ``where`` (by name, nothing looked up): the
        fresh namespace whose requests make it (``Plan.after``). Else None."""
        if id(op) not in self.far_up_veths or where is None or "/" in where:
            return None
        assert isinstance(op, LinkSet)  # far ends are brought up by a LinkSet
        if self.makers.get((where, op.dev), 0) != 1:
            return None  # another makes that name there too (one fails): not before it
        return self._space(where).foreign.get(op.dev)

    def _ready(self, space: _Space, where: Optional[str], name: Optional[str]) -> bool:
        """Whether a request of round FRESH sent from ``where`` may name link
        ``name``: not made by another namespace's requests, or by those of
        a fresh namespace round FRESH writes to before ``where``."""
        if name not in space.foreign:
            return True
        maker = space.foreign[name]
        return maker is not None and where is not None and self.rank[maker] < self.rank[where]

    def _take_index(self, where: Optional[str], name: str) -> int:
        """The ifindex to ask for a link made in ``where``: the next free one
        in a fresh namespace, else 0 (the kernel chooses)."""
        space = self._space(where)
        if not space.fresh:
            return 0
        index = space.next_index
        space.next_index += 1
        space.indexes[name] = index
        return index

    def _step(self, op: Sent, where: Optional[str], space: _Space, swapped: bool,
              number: Round, later: list[Sent]) -> Optional[Step]:
        """The step of ``op`` sent from ``where`` in round ``number``; None
        while it must wait for a later round."""
        if isinstance(op, VethAdd):
            return self._veth(op, where, swapped, later)
        if isinstance(op, BridgeAdd):
            return Step(op=op, netns=where, index=self._take_index(where, op.name),
                        undo=not space.fresh)
        if isinstance(op, Placed):
            return self._placed(op, where, space, number)
        # A request names at most two links: one the kernel also finds by name
        # (a LinkSet's dev), and one it needs by index (master, or dev).
        if isinstance(op, LinkSet):
            by_name, by_index = op.dev, op.master
        else:
            by_name, by_index = None, op.dev
        fresh_round = number is Round.FRESH
        if fresh_round and not (self._ready(space, where, by_name)
                                and self._ready(space, where, by_index)):
            return None  # its link comes with another namespace's later requests
        indexes = space.indexes
        links = {}
        if by_name in indexes:
            links[by_name] = indexes[by_name]
        lookup: tuple[str, ...] = ()
        if by_index is not None:
            index = indexes.get(by_index)
            if index is not None:
                links[by_index] = index
            elif fresh_round:
                return None  # numbered by the kernel: looked up in round REST
            else:
                lookup = (by_index,)
        return Step(op=op, netns=where, links=links, lookup=lookup,
                    undo=not space.fresh and not isinstance(op, LinkSet))

    def _placed(self, op: Union[MacvlanAdd, VxlanAdd], where: Optional[str], space: _Space,
                number: Round) -> Optional[Step]:
        """A macvlan or vxlan, sent from its parent's namespace ``where`` and
        placed in ``op.netns``; None while its parent link's index must wait."""
        lower = op.lower
        links: dict[str, int] = {}
        lookup: tuple[str, ...] = ()
        if lower is not None:
            fresh_round = number is Round.FRESH
            index = (space.indexes.get(lower) if not fresh_round
                     or self._ready(space, where, lower) else None)
            if index is not None:
                links[lower] = index
            elif fresh_round:
                return None  # made by another namespace, or numbered by the kernel
            else:
                lookup = (lower,)
        target = op.netns
        placed = target != where
        target_space = self._space(target)
        if not placed:
            # made here, before what this namespace's requests name of it
            target_space.foreign.pop(op.name, None)
        else:
            target_space.foreign[op.name] = where if number is Round.FRESH else None
            if target_space.fresh and not space.fresh:
                assert target is not None  # fresh: made by the batch, so named
                self.crossing.append((target, op.name))
        return Step(op=op, netns=where, links=links, lookup=lookup,
                    index=self._take_index(target, op.name), carries=placed,
                    far_netns=target if placed else None, undo=not target_space.fresh)

    def _veth(self, op: VethAdd, where: Optional[str], swapped: bool,
              later: list[Sent]) -> Step:
        near, far = op.ends(swapped)
        far_netns = op.netns if swapped else op.peer_netns
        index = self._take_index(where, near)
        # The kernel honours the peer's index only along with the first one's.
        peer_index = self._take_index(far_netns, far) if index and far_netns != where else 0
        fresh = self._space(where).fresh
        in_fresh_round = fresh and where is not None
        if far_netns != where:
            self._space(far_netns).foreign[far] = where if in_fresh_round else None
        step = Step(op=op, netns=where, index=index, peer_index=peer_index, swapped=swapped,
                    carries=far_netns != where, far_netns=far_netns, undo=not fresh)
        if op.up if swapped else op.peer_up:
            # a peer cannot come up as it is made: it is brought up from its
            # side, in this round if it is round FRESH (after its maker)
            up = LinkSet(dev=far, netns=far_netns, up=True)
            if in_fresh_round:
                self.far_ups.append(up)
                self.far_up_veths[id(up)] = step
            else:
                later.append(up)
        if fresh and where is not None and not self._space(far_netns).fresh:
            self.crossing.append((where, near))
        return step


def _stage(op: Sent) -> Stage:
    """The sort key of round placement (sorted() keeps the order within a stage)."""
    return op.stage
