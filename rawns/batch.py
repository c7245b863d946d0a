"""``Batch``: wire many namespaces at once, with few syscalls, all or nothing.

A runtime wiring hundreds of pods describes them first and commits once:

    with rawns.Batch() as batch:
        for i in range(500):
            pod = f"pod{i}"
            batch.netns_add(pod)
            batch.veth(f"vh{i}", "eth0", netns="host", peer_netns=pod)
            batch.addr_add("eth0", f"10.0.{i // 250}.{i % 250 + 1}/16", netns=pod)
            batch.link_set("lo", up=True, netns=pod)

Invariants:
- Everything is validated (names, addresses) before the kernel is touched.
- Namespaces are made by one C loop (``rawns.netns.add_many``); each namespace
  gets one NETLINK_ROUTE socket, and sends its requests in as few
  ``sendmsg`` calls as ordering allows (one per namespace and round, 16
  requests each at most in a namespace it made); every ack is checked. The
  namespaces it made are written to by one more C loop
  (``fanout.request_many``), which enters each in turn and is home before
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
import functools
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from rawns import convert
from rawns import netns as netns_module
from rawns.errors import KernelError
from rawns.netlink import Message, requests
from rawns.netlink.constants import RTM
from rawns import fanout
from rawns.nlsock import Outcome, RouteSocket

__all__ = ["Batch"]

_LOOPBACK_INDEX = 1  # fixed by the kernel for every namespace


@dataclass
class _Op:
    """One requested operation, in the namespace ``netns`` (None: own)."""

    kind: str            # "veth", "bridge", "addr", "link_set", "route"
    netns: Optional[str]
    args: dict[str, Any]
    subject: str


@dataclass
class _Space:
    """What the batch knows of one namespace."""

    name: Optional[str]
    fresh: bool                                   # made by this batch
    indexes: dict[str, int] = field(default_factory=dict)
    next_index: int = 0
    # links made here by a request sent from another namespace (a veth's far
    # end): what names them waits for the round after every creation
    foreign: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Made:
    """Something made in a namespace this batch did not make, and how to
    build the request that removes it again (only if it comes to that). In a
    namespace the batch made, deleting the namespace removes everything."""

    where: Optional[str]
    undo: Callable[[], Message]


class Batch:
    """Describe namespaces, veth pairs, addresses, link changes and routes;
    ``commit()`` (or leaving the ``with`` block without an exception) makes
    them all, or none.

    ``threads`` is passed to ``rawns.netns.add_many`` for the namespaces.
    """

    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads
        self._new_netns: list[str] = []
        self._ops: list[_Op] = []
        self._committed = False

    # -- description -----------------------------------------------------------------

    def netns_add(self, name: str) -> None:
        """A named namespace, like ``ip netns add NAME``."""
        netns_module.validate_name(name)
        self._new_netns.append(name)

    def veth(self, name: str, peer: str, *, netns: Optional[str] = None,
             peer_netns: Optional[str] = None, up: bool = True, peer_up: bool = True,
             mtu: Optional[int] = None) -> None:
        """A veth pair: ``name`` in ``netns`` and ``peer`` created directly in
        ``peer_netns`` (None: the caller's namespace). Both ends come up unless
        told otherwise. Like ``ip -n NETNS link add NAME type veth peer name
        PEER netns PEER_NETNS`` followed by ``link set ... up`` on each end."""
        requests.check_ifname(name)
        requests.check_ifname(peer, "peer name")
        self._ops.append(_Op("veth", netns, dict(name=name, peer=peer, peer_netns=peer_netns,
                                                 up=up, peer_up=peer_up, mtu=mtu),
                             f"link {name!r}"))

    def bridge(self, name: str, *, netns: Optional[str] = None, up: bool = True) -> None:
        """A bridge, like ``ip -n NETNS link add NAME type bridge``."""
        requests.check_ifname(name)
        self._ops.append(_Op("bridge", netns, dict(name=name, up=up), f"link {name!r}"))

    def addr_add(self, dev: str, address: Any, *, netns: Optional[str] = None) -> None:
        """An address on ``dev``, like ``ip -n NETNS addr add ADDRESS dev DEV``."""
        requests.check_ifname(dev)
        # requests reads 'a.b.c.d/n' without ipaddress
        _check(address, requests.address_prefix, "an address with a prefix like '10.0.0.1/24'")
        self._ops.append(_Op("addr", netns, dict(dev=dev, address=address),
                             f"address {address} on link {dev!r}"))

    def link_set(self, dev: str, *, netns: Optional[str] = None, up: Optional[bool] = None,
                 mtu: Optional[int] = None, master: Optional[str] = None) -> None:
        """Change a link, like ``ip -n NETNS link set DEV [up|down] [mtu N]
        [master BR]``."""
        requests.check_ifname(dev)
        self._ops.append(_Op("link_set", netns, dict(dev=dev, up=up, mtu=mtu, master=master),
                             f"link {dev!r}"))

    def route_add(self, dst: Any, *, netns: Optional[str] = None, gateway: Any = None,
                  dev: Optional[str] = None, metric: Optional[int] = None,
                  table: Any = None) -> None:
        """A route, like ``ip -n NETNS route add DST [via GW] [dev DEV]
        [metric N] [table T]``."""
        if dev is not None:
            requests.check_ifname(dev)
        if dst != "default":
            _check(dst, ipaddress.ip_network, "'default' or a network like '10.0.0.0/24'")
        if gateway is not None:
            _check(gateway, ipaddress.ip_address, "an IP address")
        self._ops.append(_Op("route", netns, dict(dst=dst, gateway=gateway, dev=dev,
                                                   metric=metric, table=table),
                             f"route {dst}"))

    # -- execution ---------------------------------------------------------------------

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()

    def commit(self) -> None:
        """Make everything described, or nothing (see the module docstring)."""
        if self._committed:
            raise RuntimeError("this batch was already committed")
        self._committed = True
        if len(set(self._new_netns)) != len(self._new_netns):
            raise ValueError("a namespace is added twice in this batch")
        _Run(self).execute()


class _Run:
    """One commit of a Batch: its sockets, what it made, and the undoing."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        fresh = set(batch._new_netns)
        self.spaces: dict[Optional[str], _Space] = {
            name: _Space(name, True, {"lo": _LOOPBACK_INDEX}) for name in batch._new_netns}
        for op in batch._ops:
            for name in (op.netns, op.args.get("peer_netns")):
                self.spaces.setdefault(name, _Space(name, name in fresh))
        self.ops = list(batch._ops)
        self.created_netns: list[str] = []
        self.made: list[_Made] = []
        # veths sent from a namespace this batch made to an existing one
        self.crossing: list[tuple[str, str]] = []
        self.sockets: dict[Optional[str], RouteSocket] = {}
        self.fds: dict[Optional[str], int] = {}

    def execute(self) -> None:
        try:
            if self.batch._new_netns:
                netns_module.add_many(self.batch._new_netns, threads=self.batch.threads)
                self.created_netns = list(self.batch._new_netns)
            self._plan_indexes()
            later = self._round(self.ops, fresh_only=True)
            # Links first everywhere, so that every other request finds them.
            ups = self._round([op for op in later if op.kind in _CREATIONS], fresh_only=False)
            self._round([op for op in later if op.kind not in _CREATIONS] + ups,
                        fresh_only=False)
        except BaseException:
            self._undo()
            raise
        finally:
            for sock in self.sockets.values():
                sock.close()
            self.sockets.clear()
            for fd in self.fds.values():
                os.close(fd)
            self.fds.clear()

    def _plan_indexes(self) -> None:
        """Choose where the ifindexes of links made in fresh namespaces start.

        A fresh namespace holds only what the kernel makes in every new one
        (lo, and fallback tunnel devices when their modules are loaded): one
        dump of the first tells where free indexes start in all of them.
        """
        fresh = [s for s in self.spaces.values() if s.fresh]
        if not fresh:
            return
        replies = self._socket(fresh[0].name).dump(requests.link_dump())
        highest = max((m.header.index for m in replies if m.type == RTM.RTM_NEWLINK),
                      default=_LOOPBACK_INDEX)
        for space in fresh:
            space.next_index = highest + 1

    def _socket(self, name: Optional[str]) -> RouteSocket:
        sock = self.sockets.get(name)
        if sock is None:
            if name is None:
                sock = RouteSocket()
            elif self.spaces[name].fresh:
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

    def _origin(self, op: _Op) -> tuple[Optional[str], bool]:
        """Where ``op`` is sent from, and for a veth whether its ends swap:
        a veth with one end in a fresh namespace is made from that side, so
        that its index there can be chosen."""
        if op.kind == "veth":
            peer_ns = op.args["peer_netns"]
            if not self.spaces[op.netns].fresh and self.spaces[peer_ns].fresh:
                return peer_ns, True
        return op.netns, False

    def _round(self, ops: list[_Op], *, fresh_only: bool) -> list[_Op]:
        """Send ``ops``: per namespace, one sendmsg, in their order. With
        ``fresh_only``, ops that belong to existing namespaces or name a link
        whose index is not known yet are returned for a later round."""
        later: list[_Op] = []
        by_space: dict[Optional[str], list[_Request]] = {}
        # As one would type them: links made, then set up, then addressed,
        # then routed (a route needs its device up and its gateway reachable).
        for op in sorted(ops, key=lambda op: _STAGES[op.kind]):
            where, swapped = self._origin(op)
            if fresh_only and not self.spaces[where].fresh:
                later.append(op)
                continue
            request = self._build(op, where, swapped, resolve=not fresh_only, later=later)
            if request is None:
                later.append(op)
            else:
                by_space.setdefault(where, []).append(request)
        if fresh_only:
            self._send_fresh(by_space)
        else:
            for where, batch in by_space.items():
                self._send(where, batch)
        return later

    # Messages ---------------------------------------------------------------------------

    def _index(self, where: Optional[str], dev: str, resolve: bool) -> Optional[int]:
        space = self.spaces[where]
        if dev not in space.indexes and resolve:
            for message in self._socket(where).dump(requests.link_dump()):
                if message.type == RTM.RTM_NEWLINK:
                    space.indexes.setdefault(message.get("IFLA_IFNAME"), message.header.index)
            if dev not in space.indexes:
                raise KernelError(errno.ENODEV, subject=f"link {dev!r} in {_where(where)}",
                                  msg_type="RTM_GETLINK")
        return space.indexes.get(dev)

    def _take_index(self, where: Optional[str], dev: str) -> int:
        space = self.spaces[where]
        if not space.fresh:
            return 0  # the kernel chooses
        index = space.next_index
        space.next_index += 1
        space.indexes[dev] = index
        return index

    def _build(self, op: _Op, where: Optional[str], swapped: bool, *, resolve: bool,
               later: list[_Op]) -> Optional["_Request"]:
        """The request for ``op`` sent from ``where`` and what undoes it; None
        while it names a link whose index is not known."""
        args = op.args
        if op.kind == "veth":
            return self._build_veth(op, where, swapped, later)
        if op.kind == "bridge":
            index = self._take_index(where, args["name"])
            message = requests.link_add(args["name"], "bridge", up=args["up"], index=index)
            return _Request(op, message, self._undo_link(where, args["name"]))
        if not resolve and {args.get("dev"), args.get("master")} & self.spaces[where].foreign:
            return None  # its link comes with another namespace's requests
        if op.kind == "link_set":
            master = None
            if args["master"] is not None:
                master = self._index(where, args["master"], resolve)
                if master is None:
                    return None
            index = self._index(where, args["dev"], False)
            by: dict[str, Any] = {"index": index} if index else {"ifname": args["dev"]}
            message = requests.link_set(**by, up=args["up"], mtu=args["mtu"], master=master)
            return _Request(op, message, None)
        if op.kind == "addr":
            index = self._index(where, args["dev"], resolve)
            if index is None:
                return None
            undo = None if self.spaces[where].fresh else _Made(
                where, functools.partial(requests.addr_del, index, args["address"]))
            return _Request(op, requests.addr_add(index, args["address"]), undo)
        if op.kind == "route":
            oif = None
            if args["dev"] is not None:
                oif = self._index(where, args["dev"], resolve)
                if oif is None:
                    return None
            table = 254 if args["table"] is None else convert.table_number(args["table"])
            route = dict(gateway=args["gateway"], oif=oif, priority=args["metric"], table=table)
            undo = None if self.spaces[where].fresh else _Made(
                where, functools.partial(requests.route_del, args["dst"], **route))
            return _Request(op, requests.route_add(args["dst"], **route), undo)
        raise AssertionError(f"unknown operation {op.kind}")

    def _build_veth(self, op: _Op, where: Optional[str], swapped: bool,
                    later: list[_Op]) -> "_Request":
        args = op.args
        near, far = (args["peer"], args["name"]) if swapped else (args["name"], args["peer"])
        near_up, far_up = ((args["peer_up"], args["up"]) if swapped
                           else (args["up"], args["peer_up"]))
        far_ns = op.netns if swapped else args["peer_netns"]
        index = self._take_index(where, near)
        # The kernel honours the peer's index only along with the first one's.
        peer_index = self._take_index(far_ns, far) if index and far_ns != where else 0
        if far_ns != where:
            self.spaces[far_ns].foreign.add(far)

        def build(fd: Optional[int]) -> Message:
            return requests.veth_add(near, far, peer_netns_fd=fd, mtu=args["mtu"], up=near_up,
                                     index=index, peer_index=peer_index)

        if far_up:  # a peer cannot come up as it is made: do it from its side
            later.append(_Op("link_set", far_ns, dict(dev=far, up=True, mtu=None, master=None),
                             op.subject))
        if self.spaces[where].fresh and not self.spaces[far_ns].fresh:
            # Undone from the fresh side, whether or not its ack was read:
            # see _undo.
            self.crossing.append((where, near))
            undo = None
        else:
            undo = self._undo_link(where, near) or self._undo_link(far_ns, far)
        return _Request(op, build, undo, far_ns if far_ns != where else _OWN)

    def _undo_link(self, where: Optional[str], name: str) -> Optional[_Made]:
        if self.spaces[where].fresh:
            return None
        return _Made(where, functools.partial(requests.link_del, ifname=name))

    def _send(self, where: Optional[str], batch: list["_Request"]) -> None:
        fds: list[int] = []
        try:
            outcomes = self._socket(where).exchange(self._messages(batch, fds))
        finally:
            for fd in fds:
                os.close(fd)
        self._settle(where, batch, outcomes)

    def _send_fresh(self, by_space: dict[Optional[str], list["_Request"]]) -> None:
        """The requests of the namespaces this batch made, all at once: one C
        loop enters each in turn, opens its socket and sends them
        (``fanout.request_many``), so the calling thread never runs Python
        inside another namespace. A namespace with too many requests for
        that goes on a socket of its own."""
        bulk = [(where, batch) for where, batch in by_space.items()
                if len(batch) <= _BULK_REQUESTS]
        for where, batch in by_space.items():
            if len(batch) > _BULK_REQUESTS:
                self._send(where, batch)
                self.sockets.pop(where).close()
        if not bulk:
            return
        fds: list[int] = []
        try:
            paths = [os.fsencode(netns_module.path_of(where)) for where, _ in bulk]  # type: ignore[arg-type]
            # made as request_many takes them: while a C loop writes a chunk
            messages = (self._messages(batch, fds) for _, batch in bulk)
            outcomes = fanout.request_many(paths, messages, nofollow=True)
        finally:
            for fd in fds:
                os.close(fd)
        failure = None
        for (where, batch), own in zip(bulk, outcomes):
            try:
                self._settle(where, batch, own)
            except KernelError as err:
                failure = failure or err
        if failure is not None:
            raise failure

    def _messages(self, batch: list["_Request"], fds: list[int]) -> list[Message]:
        """The messages of ``batch``; the fds of fresh namespaces they carry
        are appended to ``fds``, for the caller to close once the kernel has
        read them (so that a batch of any size holds few fds at a time)."""
        messages = []
        for request in batch:
            if isinstance(request.message, Message):
                messages.append(request.message)
                continue
            fd = None
            if request.fd_netns is not _OWN:
                space = self.spaces[request.fd_netns]
                if space.fresh:
                    fd = netns_module.open_fd(request.fd_netns, check=False)
                    fds.append(fd)
                else:
                    fd = self._fd(request.fd_netns)
            messages.append(request.message(fd))
        return messages

    def _settle(self, where: Optional[str], batch: list["_Request"],
                outcomes: list[Outcome]) -> None:
        """Remember what ``batch`` made (to undo it); raise its first failure."""
        failure = None
        for request, outcome in zip(batch, outcomes):
            if outcome.error is None:
                if request.undo is not None:
                    self.made.append(request.undo)
            elif failure is None:
                outcome.error.subject = f"{request.op.subject} in {_where(where)}"
                failure = outcome.error
        if failure is not None:
            raise failure

    # Undo ------------------------------------------------------------------------------

    def _undo(self) -> None:
        """Remove what this run made, newest first: in namespaces it did not
        make (deleting a link there also removes its veth peer), then its own
        namespaces. A failure while undoing must not hide the original error."""
        by_space: dict[Optional[str], list[Message]] = {}
        for made in reversed(self.made):
            by_space.setdefault(made.where, []).append(made.undo())
        for where, undo in by_space.items():
            try:
                self._socket(where).exchange(undo)
            except Exception:  # noqa: BLE001 - the rest is still undone
                pass
        # A veth that leaves a namespace of ours is deleted from our side,
        # which deletes its far end at once (the namespace's own deletion
        # would too, but later, in the kernel's cleanup work); deleting one
        # that was never made is a harmless ENODEV, and no other link of the
        # existing namespace is ever named.
        crossing: dict[str, list[Message]] = {}
        for where, name in self.crossing:
            if where in self.created_netns:
                crossing.setdefault(where, []).append(requests.link_del(ifname=name))
        if crossing:
            try:
                fanout.request_many([os.fsencode(netns_module.path_of(w)) for w in crossing],
                                    list(crossing.values()), nofollow=True)
            except Exception:  # noqa: BLE001 - the namespaces are still deleted
                pass
        if self.created_netns:
            netns_module.delete_many(self.created_netns, missing_ok=True)


_OWN = object()  # a request that carries no namespace fd


@dataclass
class _Request:
    """A request to send: its message, or a function making it from the fd
    of the namespace ``fd_netns`` it must carry (None: the caller's own)."""

    op: _Op
    message: Union[Message, Callable[[Optional[int]], Message]]
    undo: Optional[_Made]
    fd_netns: Any = _OWN


_CREATIONS = ("veth", "bridge")
_BULK_REQUESTS = 256  # per fresh namespace, beyond which it gets a socket of its own
_STAGES = {"veth": 0, "bridge": 0, "link_set": 1, "addr": 2, "route": 3}


def _check(value: Any, read: Callable[[Any], Any], expected: str) -> None:
    """ValueError naming what was ``expected`` unless ``read`` takes ``value``."""
    try:
        read(value)
    except ValueError as err:
        raise ValueError(f"{value!r} is not {expected}") from err


def _where(name: Optional[str]) -> str:
    return "the caller's netns" if name is None else f"netns {name!r}"
