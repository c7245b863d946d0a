"""``Batch``: wire many namespaces at once, running a plan with few syscalls, all or nothing.

A runtime wiring hundreds of pods describes them first and commits once:

    with rawns.Batch() as batch:
        for i in range(500):
            pod = f"pod{i}"
            batch.netns_add(pod)
            batch.veth(f"vh{i}", "eth0", netns="host", peer_netns=pod)
            batch.addr_add("eth0", f"10.0.{i // 250}.{i % 250 + 1}/16", netns=pod)
            batch.link_set("lo", up=True, netns=pod)

Each call describes one operation (``rawns.batch_plan``); ``commit()`` makes
the namespaces, asks ``batch_plan.plan`` what goes where in which round, and
executes that: this module does the I/O and the undoing, the plan decides.

Invariants:
- Everything is validated (names, addresses, tables) before the kernel is touched.
- Namespaces are made by one C loop (``rawns.netns.Adding``) in a helper
  thread, while the caller plans and encodes what they will be sent (with
  ``threads`` > 1, by ``rawns.netns.add_many``'s workers, first); nothing is
  sent to a namespace before it, and any it places a link end in, exist.
  Each namespace gets one NETLINK_ROUTE socket, and sends its requests in
  as few ``sendmsg`` calls as ordering allows (one per namespace and round,
  16 requests each at most in a namespace it made); every ack is checked.
  The namespaces it made are written to by one more C loop
  (``fanout.send_chunks``), which enters each in turn and is home before
  any Python runs again: the caller's thread never runs Python inside
  another namespace.
- A link created inside a namespace that this batch made is created from
  that side with a chosen ifindex, so later requests there can name it
  without a round trip; the other end goes straight to its namespace
  (IFLA_NET_NS_FD).
- On any failure, KeyboardInterrupt included, everything the batch made is
  removed (links and addresses in existing namespaces, then its namespaces)
  before the exception propagates; the error names the failing operation.
"""

from __future__ import annotations

import errno
import ipaddress
import os
from collections.abc import Callable, Mapping, Sequence

from rawns import netns as netns_module
from rawns.batch_plan import (
    BULK_REQUESTS, LOOPBACK_INDEX, AddrAdd, BridgeAdd, LinkSet, MacvlanAdd, NetnsAdd, Op, Plan,
    Requests, RouteAdd, Step, VethAdd, VxlanAdd, check, namespaces, plan,
)
from rawns.errors import KernelError
from rawns.model import IPInterface, IPNetwork
from rawns.netlink import Message, requests
from rawns.netlink.codecs import parse_hwaddr
from rawns.netlink.constants import RT_TABLE, RTM
from rawns.netlink.requests import AddressLike
from rawns import fanout
from rawns.nlsock import Outcome, RouteSocket

TYPE_CHECKING = False  # typing's, without importing typing (-batch start-up)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

__all__ = ["Batch", "Progress"]

#: In round FRESH, the C loop brings up the far ends the last this many fresh
#: namespaces placed in existing namespaces (Plan.after), then goes on.
_AFTER_EVERY = 16

#: ``progress(phase, done, total)``: see ``Batch``.
Progress = Callable[[str, int, int], None]


class Batch:
    """Describe namespaces, veth pairs, bridges, macvlans, vxlans, addresses,
    link changes and routes;
    ``commit()`` (or leaving the ``with`` block without an exception) makes
    them all, or none.

    With ``threads=1`` (the default) the namespaces are made by one C loop
    in a helper thread while the caller encodes their requests, so the
    kernel's work and Python's overlap on two cores; ``threads`` > 1 makes
    them first, with ``rawns.netns.add_many(threads=...)``.
    ``progress``, if given, is called as ``progress(phase, done, total)``:
    phase ``"namespaces"`` as they are made, and ``"links"`` as requests are
    made (links, addresses, states, routes: ``total`` is all of them). Each
    phase counts up to its total; with ``threads=1`` they interleave (the
    requests of the first namespaces are made while later ones are), with
    ``threads`` > 1 the namespaces come first, reported from add_many's
    worker threads. ``"links"`` ends last.
    """

    def __init__(self, *, threads: int = 1, progress: Optional[Progress] = None) -> None:
        self.threads = threads
        self.progress = progress
        self._ops: list[Op] = []
        self._committed = False
        self._run: Optional[_Run] = None

    @property
    def made(self) -> bool:
        """Whether ``commit()`` made everything (and undid nothing): true from
        its last step on, so that a caller interrupted just after it returned
        knows there is something to remove."""
        return self._run is not None and self._run.complete

    @property
    def ops(self) -> tuple[Op, ...]:
        """The operations described so far, in order (see ``rawns.batch_plan``)."""
        return tuple(self._ops)

    # -- description -----------------------------------------------------------------

    def netns_add(self, name: str) -> None:
        """A named namespace, like ``ip netns add NAME``."""
        netns_module.validate_name(name)
        self._ops.append(NetnsAdd(name=name))

    def veth(self, name: str, peer: str, *, netns: Optional[str] = None,
             peer_netns: Optional[str] = None, up: bool = True, peer_up: bool = True,
             mtu: Optional[int] = None, address: Optional[str] = None,
             peer_address: Optional[str] = None) -> None:
        """A veth pair: ``name`` in ``netns`` and ``peer`` created directly in
        ``peer_netns`` (None: the caller's namespace). Both ends come up unless
        told otherwise; ``address`` and ``peer_address`` are their MAC
        addresses (else the kernel picks random ones). Like ``ip -n NETNS link
        add NAME [mtu N] [address MAC] type veth peer name PEER [address MAC]
        netns PEER_NETNS`` followed by ``link set ... up`` on each end."""
        requests.check_ifname(name)
        requests.check_ifname(peer, "peer name")
        if mtu is not None:
            _check(mtu, _u32, "an MTU (a whole number)")
        for mac in (address, peer_address):
            if mac is not None:
                _check(mac, _mac, "a MAC address like '02:00:00:00:00:01'")
        self._ops.append(VethAdd(name=name, peer=peer, netns=netns, peer_netns=peer_netns,
                                 up=up, peer_up=peer_up, mtu=mtu, address=address,
                                 peer_address=peer_address))

    def bridge(self, name: str, *, netns: Optional[str] = None, up: bool = True) -> None:
        """A bridge, like ``ip -n NETNS link add NAME type bridge``."""
        requests.check_ifname(name)
        self._ops.append(BridgeAdd(name=name, netns=netns, up=up))

    def macvlan(self, name: str, parent: str, *, netns: Optional[str] = None,
                parent_netns: Optional[str] = None, mode: str = "bridge", up: bool = True,
                mtu: Optional[int] = None, address: Optional[str] = None) -> None:
        """A macvlan ``name`` on link ``parent`` of ``parent_netns`` (None:
        the caller's namespace), made there and placed in ``netns`` by the
        same request; up unless told otherwise. Like ``ip -n PARENT_NETNS link
        add NAME link PARENT [mtu N] [address MAC] netns NETNS type macvlan
        mode MODE`` (modes: private, vepa, bridge, passthru, source)."""
        requests.check_ifname(name)
        requests.check_ifname(parent, "parent name")
        if mode not in requests.MACVLAN_MODES:
            raise ValueError(f"{mode!r} is not a macvlan mode: "
                             f"{', '.join(requests.MACVLAN_MODES)}")
        self._check_link(mtu, address)
        self._ops.append(MacvlanAdd(name=name, parent=parent, netns=netns,
                                    parent_netns=parent_netns, mode=mode, up=up, mtu=mtu,
                                    address=address))

    def vxlan(self, name: str, vni: int, *, netns: Optional[str] = None,
              parent_netns: Optional[str] = None, remote: Optional[AddressLike] = None,
              port: Optional[int] = None, dev: Optional[str] = None, up: bool = True,
              mtu: Optional[int] = None, address: Optional[str] = None) -> None:
        """A VXLAN device ``name`` with id ``vni``, made in ``parent_netns``
        (None: the caller's namespace; its UDP sockets live there) and placed
        in ``netns`` by the same request; ``remote`` is the far tunnel end,
        ``port`` its UDP port (None: the kernel's 8472), ``dev`` the link of
        ``parent_netns`` it sends through. Up unless told otherwise. Like
        ``ip -n PARENT_NETNS link add NAME [mtu N] [address MAC] netns NETNS
        type vxlan id VNI remote ADDR dstport PORT [dev DEV]``."""
        requests.check_ifname(name)
        if dev is not None:
            requests.check_ifname(dev, "dev")
        if isinstance(vni, bool) or not isinstance(vni, int) or not 0 <= vni < 1 << 24:
            raise ValueError(f"{vni!r} is not a VNI (a whole number below 2**24)")
        if remote is not None:
            _check(remote, ipaddress.ip_address, "an IP address")
            if ipaddress.ip_address(remote).is_multicast:
                raise ValueError(f"remote {remote} is a multicast address")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                                 or not 0 < port <= 0xFFFF):
            raise ValueError(f"{port!r} is not a UDP port")
        self._check_link(mtu, address)
        self._ops.append(VxlanAdd(name=name, vni=vni, netns=netns, parent_netns=parent_netns,
                                  remote=remote, port=port, dev=dev, up=up, mtu=mtu,
                                  address=address))

    @staticmethod
    def _check_link(mtu: Optional[int], address: Optional[str]) -> None:
        if mtu is not None:
            _check(mtu, _u32, "an MTU (a whole number)")
        if address is not None:
            _check(address, _mac, "a MAC address like '02:00:00:00:00:01'")

    def addr_add(self, dev: str, address: Union[str, IPInterface], *,
                 netns: Optional[str] = None) -> None:
        """An address on ``dev``, like ``ip -n NETNS addr add ADDRESS dev DEV``."""
        requests.check_ifname(dev)
        # requests reads 'a.b.c.d/n' without ipaddress
        _check(address, requests.address_prefix, "an address with a prefix like '10.0.0.1/24'")
        self._ops.append(AddrAdd(dev=dev, address=address, netns=netns))

    def link_set(self, dev: str, *, netns: Optional[str] = None, up: Optional[bool] = None,
                 mtu: Optional[int] = None, master: Optional[str] = None) -> None:
        """Change a link, like ``ip -n NETNS link set DEV [up|down] [mtu N]
        [master BR]``."""
        requests.check_ifname(dev)
        self._ops.append(LinkSet(dev=dev, netns=netns, up=up, mtu=mtu, master=master))

    def route_add(self, dst: Union[str, IPNetwork], *, netns: Optional[str] = None,
                  gateway: Optional[AddressLike] = None, dev: Optional[str] = None,
                  metric: Optional[int] = None, table: Union[int, str, None] = None) -> None:
        """A route, like ``ip -n NETNS route add DST [via GW] [dev DEV]
        [metric N] [table T]``."""
        if dev is not None:
            requests.check_ifname(dev)
        if dst != "default":
            _check(dst, ipaddress.ip_network, "'default' or a network like '10.0.0.0/24'")
        if gateway is not None:
            _check(gateway, ipaddress.ip_address, "an IP address")
        number: int = RT_TABLE.RT_TABLE_MAIN
        if table is not None:
            from rawns import convert  # here: the -batch path loads it only for a route's table

            number = convert.table_number(table)
        self._ops.append(RouteAdd(dst=dst, netns=netns, gateway=gateway, dev=dev,
                                  metric=metric, table=number))

    # -- execution ---------------------------------------------------------------------

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], *_: object) -> None:
        if exc_type is None:
            self.commit()

    def commit(self) -> None:
        """Make everything described, or nothing (see the module docstring)."""
        if self._committed:
            raise RuntimeError("this batch was already committed")
        self._committed = True
        names = namespaces(self._ops)
        if len(set(names)) != len(names):
            raise ValueError("a namespace is added twice in this batch")
        check(self._ops)
        self._run = _Run(self._ops, self.threads, self.progress)
        self._run.execute()


class _Run:
    """One commit of a Batch: its sockets, what it made, and the undoing."""

    def __init__(self, ops: Sequence[Op], threads: int,
                 progress: Optional[Progress] = None) -> None:
        self.ops = ops
        self.threads = threads
        self.progress = progress
        self.sent = 0  # requests written, for progress
        self.total = 0
        self.names = namespaces(ops)
        self.fresh = frozenset(self.names)
        self.created_netns: list[str] = []
        # the namespaces being made while the first ones are plumbed (threads=1)
        self.adding: Optional[netns_module.Adding] = None
        self.position = {name: i for i, name in enumerate(self.names)}
        self.reported = 0  # namespaces made, as progress last said
        # requests that made something in an existing namespace, to undo
        self.made: list[Step] = []
        self.crossing: tuple[tuple[str, str], ...] = ()
        self.sockets: dict[Optional[str], RouteSocket] = {}
        self.fds: dict[Optional[str], int] = {}
        # the ifindexes looked up in each namespace, by name
        self.indexes: dict[Optional[str], dict[str, int]] = {}
        self.complete = False  # everything made, nothing undone

    def execute(self) -> None:
        try:
            first_index = LOOPBACK_INDEX + 1
            if self.names:
                progress = self.progress
                if progress is not None:
                    progress("namespaces", 0, len(self.names))
                if self.threads == 1:
                    # made by a C loop on another thread while this one
                    # plumbs those made already: the kernel's work on two cores
                    self.adding = netns_module.Adding(self.names)
                    self.adding.start()
                    self._made(1)
                else:
                    netns_module.add_many(
                        self.names, threads=self.threads,
                        progress=None if progress is None else
                        lambda done, total: progress("namespaces", done, total))
                    self.created_netns = self.names
                first_index = self._first_free_index(self.names[0])
            the_plan = plan(self.ops, first_index=first_index)
            self.crossing = the_plan.crossing
            if self.progress is not None:
                self.total = (sum(len(steps) for by_netns in the_plan.rounds
                                  for steps in by_netns.values())
                              + sum(len(steps) for steps in the_plan.after.values())
                              + sum(len(steps) for steps in the_plan.then.values()))
                self.progress("links", 0, self.total)
            fresh, creations, rest = the_plan.rounds
            self._send_fresh(fresh, the_plan)
            if self.adding is not None:
                self._made(len(self.names))
                self.adding.finish()
                self.created_netns = self.names
            self._send_each(creations)
            self._send_each(rest)
            if self.progress is not None:  # requests end last (namespaces may have ended later)
                self.progress("links", self.sent, self.total)
            self.complete = True
        except BaseException:
            self.complete = False
            while True:  # to its end, even if another Ctrl-C lands in it
                try:
                    self._undo()
                    break
                except KeyboardInterrupt:
                    continue
            raise
        finally:
            for sock in self.sockets.values():
                sock.close()
            self.sockets.clear()
            for fd in self.fds.values():
                os.close(fd)
            self.fds.clear()

    def _made(self, count: int) -> None:
        """Wait until the first ``count`` namespaces of the batch exist;
        ``progress`` hears of any made since it last did."""
        adding = self.adding
        if adding is None:
            return
        adding.ready(count)
        if self.progress is not None and adding.made != self.reported:
            self.reported = adding.made
            self.progress("namespaces", self.reported, len(self.names))

    def _needs(self, where: str, steps: Sequence[Step], *, itself: bool = True) -> int:
        """How many of the batch's namespaces must exist before ``steps``
        are sent from ``where``, one of them: itself (unless not ``itself``:
        what their messages need), and any it places a link end in (whose fd
        a message carries)."""
        position = self.position
        most = position[where] if itself else -1
        for step in steps:
            if step.carries and step.far_netns in position:
                most = max(most, position[step.far_netns])
        return most + 1

    def _first_free_index(self, name: str) -> int:
        """Where free ifindexes start in the namespaces the batch made.

        A fresh namespace holds only what the kernel makes in every new one
        (lo, and fallback tunnel devices when their modules are loaded): one
        dump of the first tells where free indexes start in all of them.
        """
        replies = self._socket(name).dump(requests.link_dump())
        return 1 + max((m.header.index for m in replies if m.type == RTM.RTM_NEWLINK),
                       default=LOOPBACK_INDEX)

    def _socket(self, name: Optional[str]) -> RouteSocket:
        sock = self.sockets.get(name)
        if sock is None:
            if name is None:
                sock = RouteSocket()
            elif name in self.fresh:
                # a namespace of our own, used for a few requests: no need
                # to check what it is, nor for a large receive buffer
                fd = netns_module.open_fd(name, check=False)
                try:
                    sock = RouteSocket(fd, large_buffer=False)
                finally:
                    os.close(fd)
            else:
                sock = RouteSocket(self._fd(name))
            self.sockets[name] = sock
        return sock

    def _fd(self, name: Optional[str]) -> int:
        """An fd to an existing namespace, opened once per run (the far end
        of hundreds of veth pairs is usually the same namespace)."""
        fd = self.fds.get(name)
        if fd is None:
            fd = self.fds[name] = netns_module.open_fd(name)
        return fd

    def _index(self, where: Optional[str], dev: str) -> int:
        """The ifindex of ``dev`` in ``where``, from one dump of its links."""
        known = self.indexes.setdefault(where, {})
        if dev not in known:
            for message in self._socket(where).dump(requests.link_dump()):
                if message.type == RTM.RTM_NEWLINK:
                    known.setdefault(message.get("IFLA_IFNAME"), message.header.index)
            if dev not in known:
                raise KernelError(errno.ENODEV, subject=f"link {dev!r} in {_where(where)}",
                                  msg_type="RTM_GETLINK")
        return known[dev]

    def _found(self, step: Step) -> Step:
        """``step`` with the ifindexes it must look up found."""
        if not step.lookup:
            return step
        return step.with_links({dev: self._index(step.netns, dev) for dev in step.lookup})

    # Sending ---------------------------------------------------------------------------

    def _send_each(self, by_netns: Requests) -> None:
        """One round in existing namespaces (and what in fresh ones waited):
        every ifindex looked up first, then one exchange per existing
        namespace, and one C loop for the fresh ones (as in round FRESH)."""
        ready = {where: [self._found(step) for step in steps]
                 for where, steps in by_netns.items()}
        together = [where for where, steps in ready.items()
                    if where is not None and where in self.fresh
                    and len(steps) <= BULK_REQUESTS]
        for where, steps in ready.items():
            if where not in together or len(together) == 1:
                self._send(where, steps)
        if len(together) > 1:
            self._send_together(together, ready)

    def _send(self, where: Optional[str], steps: Sequence[Step]) -> None:
        fds: list[int] = []
        try:
            outcomes = self._socket(where).exchange(self._messages(steps, fds))
        finally:
            for fd in fds:
                os.close(fd)
        self._settle(where, steps, outcomes)

    def _send_fresh(self, by_netns: Requests, the_plan: Plan) -> None:
        """The requests of the namespaces this batch made, in the plan's
        order (a namespace's may name a veth end made by one before it): one
        C loop enters each in turn, opens its socket and sends them
        (``fanout.send_chunks``), so the calling thread never runs Python
        inside another namespace. A namespace with too many requests for
        that goes in its turn, on a socket of its own."""
        for alone, names in the_plan.segments():
            if alone:
                (where,) = names
                self._made(self._needs(where, by_netns[where]))
                self._send(where, by_netns[where])
                for far, steps in _by_netns(the_plan.after.get(where, ())).items():
                    self._send(far, steps)
                if where in the_plan.then:
                    self._send(where, the_plan.then[where])
                self.sockets.pop(where).close()
            else:
                self._send_together(names, by_netns, the_plan.after, the_plan.then)

    def _send_together(self, together: Sequence[str], by_netns: Requests,
                       after: Mapping[str, Sequence[Step]] | None = None,
                       then: Mapping[str, Sequence[Step]] | None = None) -> None:
        """The requests of ``together``, namespaces this batch made, by one
        C loop that enters each in turn (``fanout.send_chunks``); the far
        ends their veths placed in existing namespaces (``after``) are
        brought up by the same loop, which enters those too every few
        namespaces, right after their makers; after all of them, it enters
        the makers again for ``then``."""
        entries = self._entries(together, by_netns, after or {}, then or {})
        fds: list[int] = []
        try:
            paths = [os.fsencode(netns_module.path_of(where)) for where, _, _ in entries]
            # made as the chunks are, once the namespaces they carry exist
            messages = (self._messages(steps, fds, self._needs(where, steps, itself=False)
                                       if where in self.position else 0)
                        for where, steps, _ in entries)
            before = None
            adding = self.adding
            if adding is not None:  # (over or not: it may have failed midway)
                needs = [need for _, _, need in entries]
                sent = [0]  # entries the chunks so far hold (chunks come in order)

                def before(chunk: fanout.RequestChunk) -> None:
                    # in send_chunks' helper thread: the kernel makes the
                    # next namespaces while it plumbs these, on two cores
                    start = sent[0]
                    sent[0] += len(chunk.paths)
                    adding.ready(max(needs[start:sent[0]]))

            outcomes = fanout.send_chunks(fanout.request_chunks(paths, messages), len(paths),
                                          nofollow=True, before=before)
        finally:
            for fd in fds:
                os.close(fd)
        failure = None
        for (where, steps, _), own in zip(entries, outcomes):
            try:
                self._settle(where, steps, own)
            except KernelError as err:
                failure = failure or err
        if failure is not None:
            raise failure

    def _entries(self, together: Sequence[str], by_netns: Requests,
                 after: Mapping[str, Sequence[Step]], then: Mapping[str, Sequence[Step]]
                 ) -> list[tuple[str, Sequence[Step], int]]:
        """(namespace, its steps, how many of the batch's namespaces must
        exist before they are sent) for the C loop of ``_send_together``:
        each of ``together``, and after every ``_AFTER_EVERY`` of them the
        far ends to bring up in each existing namespace (named: its path is
        no symlink, which rawns refuses, and the loop would not follow);
        last, what their makers send once those are up (``then``), all of
        them at the end: until a veth's near end comes up its far end has
        no carrier, and the kernel leaves the far namespace's IPv6 routes
        alone, so that every far end is made and brought up while that
        table is small."""
        entries: list[tuple[str, Sequence[Step], int]] = []
        pending: dict[str, list[Step]] = {}
        waiting: list[tuple[str, Sequence[Step], int]] = []  # then's, sent last
        most = 0
        for count, where in enumerate(together, 1):
            need = self._needs(where, by_netns[where])
            entries.append((where, by_netns[where], need))
            most = max(most, need)
            for step in after.get(where, ()):
                assert step.netns is not None  # Plan.after: named namespaces only
                pending.setdefault(step.netns, []).append(step)
            if where in then:
                waiting.append((where, then[where], need))
            if pending and (count % _AFTER_EVERY == 0 or count == len(together) or
                            max(map(len, pending.values())) >= BULK_REQUESTS // 2):
                entries += [(far, steps, most) for far, steps in pending.items()]
                pending = {}
        return entries + waiting

    def _messages(self, steps: Sequence[Step], fds: list[int], needs: int = 0
                  ) -> list[Message]:
        """The messages of ``steps``, once the batch's first ``needs``
        namespaces exist; the fds of fresh namespaces they carry
        are appended to ``fds``, for the caller to close once the kernel has
        read them (so that a batch of any size holds few fds at a time)."""
        self._made(needs)  # (and says how many namespaces exist by now)
        if self.progress is not None:
            # counted as they are made: request_chunks makes them chunk by chunk
            self.sent += len(steps)
            self.progress("links", self.sent, self.total)
        messages = []
        for step in steps:
            fd = None
            if step.carries:
                far = step.far_netns
                if far in self.fresh:
                    fd = netns_module.open_fd(far, check=False)
                    fds.append(fd)
                else:
                    fd = self._fd(far)
            messages.append(step.message(fd))
        return messages

    def _settle(self, where: Optional[str], steps: Sequence[Step],
                outcomes: list[Outcome]) -> None:
        """Remember what ``steps`` made (to undo it); raise their first failure."""
        failure = None
        for step, outcome in zip(steps, outcomes):
            if outcome.error is None:
                if step.undo:
                    self.made.append(step)
            elif failure is None:
                outcome.error.subject = f"{step.op.subject} in {_where(where)}"
                failure = outcome.error
        if failure is not None:
            raise failure

    # Undo ------------------------------------------------------------------------------

    def _undo(self) -> None:
        """Remove what this run made, newest first: in namespaces it did not
        make (deleting a link there also removes its veth peer), then its own
        namespaces. A failure while undoing must not hide the original error.
        Idempotent: an interrupted undo is run again from the start."""
        if self.adding is not None:
            self.adding.stop()  # before anything is removed: then nothing more comes
            self.created_netns = self.names[:self.adding.made]
        by_space: dict[Optional[str], list[Message]] = {}
        for step in reversed(self.made):
            undo = step.op.undo(step)
            if undo is not None:
                by_space.setdefault(step.home, []).append(undo)
        for where, undo_messages in by_space.items():
            try:
                self._socket(where).exchange(undo_messages)
            except Exception:  # noqa: BLE001 - the rest is still undone
                pass
        # A veth that leaves a namespace of ours is deleted from our side,
        # which deletes its far end at once (the namespace's own deletion
        # would too, but later, in the kernel's cleanup work), and so is a
        # macvlan or vxlan placed in one of ours; deleting one that was never
        # made is a harmless ENODEV, and no link of an existing namespace
        # is ever named.
        crossing: dict[str, list[Message]] = {}
        created = set(self.created_netns)
        for where, name in self.crossing:
            if where in created:
                crossing.setdefault(where, []).append(requests.link_del(ifname=name))
        if crossing:
            try:
                fanout.request_many([os.fsencode(netns_module.path_of(w)) for w in crossing],
                                    list(crossing.values()), nofollow=True)
            except Exception:  # noqa: BLE001 - the namespaces are still deleted
                pass
        if self.adding is not None:
            self.adding.undo()  # also a file left by a creation that failed midway
        elif self.created_netns:
            netns_module.delete_many(self.created_netns, missing_ok=True)


def _by_netns(steps: Sequence[Step]) -> dict[Optional[str], list[Step]]:
    """``steps`` by the namespace each is sent in, in order."""
    out: dict[Optional[str], list[Step]] = {}
    for step in steps:
        out.setdefault(step.netns, []).append(step)
    return out


def _check(value: Any, read: Callable[[Any], Any], expected: str) -> None:
    """ValueError naming what was ``expected`` unless ``read`` takes ``value``."""
    try:
        read(value)
    except ValueError as err:
        raise ValueError(f"{value!r} is not {expected}") from err


def _u32(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(value)
    return value


def _mac(value: Any) -> bytes:
    """As the request reads it: six octets (``parse_hwaddr`` reads any number)."""
    packed = parse_hwaddr(value)
    if len(packed) != 6:
        raise ValueError(value)
    return packed


def _where(name: Optional[str]) -> str:
    return "the caller's netns" if name is None else f"netns {name!r}"
