"""``Handle``: rtnetlink operations inside one network namespace.

Invariants:
- One NETLINK_ROUTE socket per handle, bound for life to the namespace the
  handle was made for; no thread of the caller is left in another namespace.
  What else works in that namespace (a monitor, ``link_wait``) opens its
  socket in the namespace of the handle's own socket (SIOCGSKNS), never by
  the name, pid or fd the handle was made with, which may since mean another.
- Every method is one ``ip`` verb (named in its docstring), builds its request
  with ``rawns.netlink.requests`` and returns ``rawns.model`` objects, never
  wire structs or bytes.
- Every kernel refusal is a ``KernelError`` naming the object and carrying the
  kernel's extack text; bad arguments are ValueError before anything is sent.
- Thread-safe: the socket serialises exchanges.
"""

from __future__ import annotations

import errno
import os
import select
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional, TypeVar, Union

from rawns import convert
from rawns import netns as netns_module
from rawns.errors import EventsLostError, KernelError, kernel_error
from rawns.model import Address, IPInterface, IPNetwork, Link, Neighbour, Route
from rawns import netlink
from rawns.netlink import Frame, Message, requests
from rawns.netlink.constants import (
    IFA_F, NETNSA_NSID_NOT_ASSIGNED, RT_SCOPE, RT_TABLE, RTM, RTN, RTNLGRP, RTPROT,
)
from rawns.netlink.requests import AddressLike
from rawns.nlsock import RouteSocket

__all__ = ["Handle", "Device", "Event", "Resync", "Monitor", "MONITOR_GROUPS"]

#: A network device given by name (``"veth0"``) or ifindex (``3``).
Device = Union[str, int]
#: A namespace: name, path or fd (see ``rawns.netns.open_fd``).
NetnsTarget = netns_module.NetnsTarget
#: An address with its prefix length: ``"10.0.0.1/24"`` or an ipaddress interface.
InterfaceLike = Union[str, IPInterface]
#: A route's destination: ``"default"``, ``"10.0.0.0/24"`` or an ipaddress network.
NetworkLike = Union[str, IPNetwork]

_Object = Union[Link, Address, Route, Neighbour]
_T = TypeVar("_T")
_Self = TypeVar("_Self", bound="_OnOneSocket")

#: Multicast groups for each object kind ``Monitor`` can watch.
MONITOR_GROUPS: dict[str, tuple[int, ...]] = {
    "link": (RTNLGRP.RTNLGRP_LINK,),
    "addr": (RTNLGRP.RTNLGRP_IPV4_IFADDR, RTNLGRP.RTNLGRP_IPV6_IFADDR),
    "route": (RTNLGRP.RTNLGRP_IPV4_ROUTE, RTNLGRP.RTNLGRP_IPV6_ROUTE),
    "neigh": (RTNLGRP.RTNLGRP_NEIGH,),
}


@contextmanager
def _netns_fd(target: NetnsTarget | None, pid: int | None = None) -> Iterator[int | None]:
    """An fd to ``target`` for the duration of a block (None: own namespace)."""
    if target is None and pid is None:
        yield None
        return
    fd = netns_module.open_fd(target, pid=pid)
    try:
        yield fd
    finally:
        os.close(fd)


def _route_socket(target: NetnsTarget | None, pid: int | None = None,
                  groups: Sequence[int] = ()) -> RouteSocket:
    """A socket bound to ``target`` (None: the caller's own namespace); a
    refusal names the namespace. Only event sockets get the large receive
    buffer: requests go in slices whose answers fit the default one."""
    large_buffer = bool(groups)
    if target is None and pid is None:
        return RouteSocket(None, groups=groups, large_buffer=large_buffer)
    fd = netns_module.open_fd(target, pid=pid)
    try:
        return RouteSocket(fd, groups=groups, large_buffer=large_buffer)
    except KernelError as err:
        err.subject = netns_module.describe(target, pid)
        raise
    finally:
        os.close(fd)


def _sibling(sock: RouteSocket, own: bool, groups: Sequence[int] = ()) -> RouteSocket:
    """Another socket in the namespace of ``sock``: the very namespace, found
    from the socket itself (SIOCGSKNS), not from the name, pid or fd it was
    opened with, which may since mean another. ``own``: ``sock`` was opened
    in the caller's own namespace, where, without CAP_NET_ADMIN (needed to
    ask), a socket is opened without moving."""
    try:
        fd = sock.netns_fd()
    except PermissionError:
        if not own:
            raise
        return RouteSocket(None, groups=groups, large_buffer=bool(groups))
    try:
        return RouteSocket(fd, groups=groups, large_buffer=bool(groups))
    finally:
        os.close(fd)


def _subject_dev(dev: Device) -> str:
    return f"link {dev!r}" if isinstance(dev, str) else f"link index {dev}"


class _OnOneSocket:
    """What Handle and Monitor share: one RouteSocket, closed with them."""

    _sock: RouteSocket

    @property
    def trace(self) -> Optional[Callable[[str, bytes], None]]:
        """Called with ("send"|"recv", bytes) for every datagram, if set."""
        return self._sock.trace

    @trace.setter
    def trace(self, callback: Optional[Callable[[str, bytes], None]]) -> None:
        self._sock.trace = callback

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Handle(_OnOneSocket):
    """rtnetlink operations in one network namespace, like ``ip -n NS ...``.

    ``netns`` is a name, path or fd (see ``rawns.netns.open_fd``), ``pid=``
    the namespace of a process, neither the caller's own. Use as a context
    manager, or call ``close()``.

    >>> with Handle("blue") as h:                          # doctest: +SKIP
    ...     h.link_add_veth("veth0", "eth0", peer_netns="red")
    ...     h.addr_add("veth0", "192.168.10.1/24")
    ...     h.link_set("veth0", up=True)
    """

    def __init__(self, netns: NetnsTarget | None = None, *, pid: int | None = None) -> None:
        self.netns = netns
        self.pid = pid
        self._sock = _route_socket(netns, pid)

    def __repr__(self) -> str:
        if self.pid is not None:
            return f"Handle(pid={self.pid!r})"
        return f"Handle(netns={self.netns!r})"

    @property
    def _own(self) -> bool:
        """Opened in the caller's own namespace (no target, no pid)."""
        return self.netns is None and self.pid is None

    @classmethod
    def _on(cls, sock: RouteSocket) -> Handle:
        """A Handle on ``sock`` (it closes it), in whatever namespace that is."""
        handle = cls.__new__(cls)
        handle.netns = None
        handle.pid = None
        handle._sock = sock
        return handle

    # -- plumbing ------------------------------------------------------------------

    def _call(self, request: Message, subject: str) -> list[Message]:
        return self._sock.call(request, subject)

    def _dump(self, request: Message, subject: str | None = None) -> list[Message]:
        return self._sock.dump(request, subject)

    def _objects(self, request: Message,
                 read: Callable[[bytes, Frame], Optional[_T]]) -> list[_T]:
        """The model objects ``read`` (a ``convert.read_*``) makes of a dump's
        replies, straight from their bytes; replies it skips are left out."""
        return [obj for obj in self._sock.dump(request, reader=read) if obj is not None]

    def index_of(self, dev: Device) -> int:
        """The ifindex of ``dev`` (a name or an index, which is returned as is).

        Raises FileNotFoundError when no link has that name.
        """
        if isinstance(dev, int) and not isinstance(dev, bool):
            return dev
        index: int = self._link_message(dev).header.index
        return index

    def _link_message(self, dev: Device) -> Message:
        request = (requests.link_get(index=dev) if isinstance(dev, int)
                   else requests.link_get(ifname=dev))
        replies = self._call(request, _subject_dev(dev))
        for reply in replies:
            if reply.type == RTM.RTM_NEWLINK:
                return reply
        raise KernelError(errno.ENODEV, subject=_subject_dev(dev), msg_type="RTM_GETLINK")

    # -- links -----------------------------------------------------------------------

    def link_list(self, *, kind: str | None = None, master: Device | None = None) -> list[Link]:
        """All links, in ifindex order. Equals ``ip link show [type KIND] [master M]``."""
        master_index = None if master is None else self.index_of(master)
        return self._objects(requests.link_dump(kind=kind, master=master_index),
                             convert.read_link)

    def link_get(self, dev: Device) -> Link:
        """One link. Equals ``ip link show DEV``; FileNotFoundError if missing."""
        return convert.link_from_message(self._link_message(dev))

    def link_add_veth(self, name: str, peer: str, *, peer_netns: NetnsTarget | None = None,
                      peer_pid: int | None = None, mtu: int | None = None,
                      address: str | None = None, peer_address: str | None = None,
                      up: bool = False, index: int = 0, peer_index: int = 0) -> None:
        """Create a veth pair; the peer is created directly inside ``peer_netns``
        (or the namespace of ``peer_pid``) in the same RTM_NEWLINK, so there
        is never a moment where it sits in the wrong namespace.

        ``up`` brings ``name`` up as it is made (the peer must be brought up
        from its own namespace). ``index``/``peer_index`` ask for ifindexes
        (the kernel honours ``peer_index`` only together with ``index``).
        Equals ``ip link add NAME [index I] type veth peer name PEER
        [index J] netns NS``.
        """
        with _netns_fd(peer_netns, peer_pid) as fd:
            self._call(requests.veth_add(name, peer, peer_netns_fd=fd, mtu=mtu,
                                         address=address, peer_address=peer_address,
                                         up=up, index=index, peer_index=peer_index),
                       f"link {name!r}")

    def link_add_bridge(self, name: str, *, stp: bool | None = None, mtu: int | None = None,
                        address: str | None = None, up: bool = False) -> None:
        """Create a bridge. Equals ``ip link add NAME type bridge [stp_state 1]``."""
        self._call(requests.bridge_add(name, stp=stp, mtu=mtu, address=address, up=up),
                   f"link {name!r}")

    def link_add_vxlan(self, name: str, vni: int, *, remote: AddressLike | None = None,
                       group: AddressLike | None = None, local: AddressLike | None = None,
                       port: int | None = None, dev: Device | None = None,
                       ttl: int | None = None, learning: bool | None = None,
                       mtu: int | None = None, up: bool = False) -> None:
        """Create a VXLAN device. Equals ``ip link add NAME type vxlan id VNI
        [remote ADDR | group ADDR dev DEV] [local ADDR] [dstport PORT]``."""
        dev_index = None if dev is None else self.index_of(dev)
        self._call(requests.vxlan_add(name, vni, remote=remote, group=group, local=local,
                                      port=port, dev=dev_index, ttl=ttl, learning=learning,
                                      mtu=mtu, up=up),
                   f"link {name!r}")

    def link_set(self, dev: Device, *, up: bool | None = None, mtu: int | None = None,
                 name: str | None = None, address: str | None = None,
                 master: Device | None = None, nomaster: bool = False,
                 netns: NetnsTarget | None = None, netns_pid: int | None = None,
                 alias: str | None = None, txqlen: int | None = None,
                 hairpin: bool | None = None) -> None:
        """Change a link. Equals ``ip link set DEV [up|down] [mtu N] [name NEW]
        [address MAC] [master BR | nomaster] [netns NS] [alias A] [txqlen N]``;
        ``hairpin`` is ``ip link set DEV type bridge_slave hairpin on|off``: the
        link must already be a bridge port (the kernel reads the port's
        settings with its current master, so enslave it in an earlier call).

        Only what is given changes. ``netns`` moves the link to another
        namespace (where it is then reached with a Handle of that namespace).
        """
        if master is not None and nomaster:
            raise ValueError("give master or nomaster, not both")
        master_index = 0 if nomaster else (None if master is None else self.index_of(master))
        # IFLA_IFNAME either names the link to change or its new name, not
        # both: a rename needs the index.
        if name is not None or isinstance(dev, int):
            by: dict[str, Any] = {"index": self.index_of(dev)}
        else:
            by = {"ifname": dev}
        with _netns_fd(netns, netns_pid) as fd:
            self._call(requests.link_set(**by, new_name=name, up=up, mtu=mtu, address=address,
                                         master=master_index, alias=alias, txqlen=txqlen,
                                         netns_fd=fd, hairpin=hairpin),
                       _subject_dev(dev))

    def link_wait(self, dev: Device, *, running: bool = True, timeout: float = 5.0) -> Link:
        """Wait until ``dev`` is ready to carry traffic (``running=False``:
        until it no longer is), and return it.

        Ready is RUNNING (IFF_RUNNING): up, with a carrier, its operational
        state up; a veth once both ends are up. It comes a little after
        ``link_set(up=True)`` returns, when the kernel's link watch has run
        (a few milliseconds, at most about a second): until then the link's
        queue drops what is sent (the first ARP request of a ping, whose
        first echo is then lost). Watches the link's events (one more
        socket, in this handle's namespace), so it returns as soon as the
        kernel says so. Raises FileNotFoundError if ``dev`` does not exist
        or is deleted meanwhile, TimeoutError (a KernelError, ETIMEDOUT)
        naming it after ``timeout`` seconds. ``ip`` has no equal; ``ip
        monitor link`` shows the change it waits for.
        """
        deadline = time.monotonic() + timeout
        with _sibling(self._sock, self._own, MONITOR_GROUPS["link"]) as watch:
            link = self.link_get(dev)  # after subscribing: no change can slip between
            while ("RUNNING" in link.flags) != running:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([watch], [], [], left)[0]:
                    err = kernel_error(errno.ETIMEDOUT, subject=_subject_dev(dev))
                    err.hint = (f"{'still not' if running else 'still'} running "
                                f"after {timeout:g} s")
                    raise err
                for message in _received(watch):
                    if message.header.index != link.index:
                        continue
                    if message.type == RTM.RTM_DELLINK:
                        gone = kernel_error(errno.ENODEV, subject=_subject_dev(dev))
                        gone.hint = "deleted while waited for"
                        raise gone
                    if message.type == RTM.RTM_NEWLINK:
                        link = convert.link_from_message(message)
        return link

    def link_delete(self, dev: Device) -> None:
        """Delete a link (a veth's peer goes with it). Equals ``ip link del DEV``."""
        by = {"index": dev} if isinstance(dev, int) else {"ifname": dev}
        self._call(requests.link_del(**by), _subject_dev(dev))

    # -- addresses -------------------------------------------------------------------

    def addr_list(self, dev: Device | None = None, *, family: int | str | None = None
                  ) -> list[Address]:
        """Addresses, of one device or all. Equals ``ip [-4|-6] addr show [dev DEV]``."""
        index = 0 if dev is None else self.index_of(dev)
        addresses = self._objects(requests.addr_dump(family=convert.family_number(family),
                                                     index=index), convert.read_address)
        return [a for a in addresses if index == 0 or a.index == index]

    def addr_add(self, dev: Device, address: InterfaceLike, *,
                 broadcast: AddressLike | bool | None = None, label: str | None = None,
                 scope: int | str | None = None, peer: AddressLike | None = None,
                 nodad: bool = False, replace: bool = False) -> None:
        """Add an address (``"192.168.10.1/24"``, ``"fd00::1/64"``). Equals
        ``ip addr add ADDR/PLEN dev DEV [broadcast B|+] [label L] [scope S]
        [peer P] [nodad]``; ``replace=True`` is ``ip addr replace``."""
        index = self.index_of(dev)
        flags = int(IFA_F.IFA_F_NODAD) if nodad else 0
        scope_number = (RT_SCOPE.RT_SCOPE_UNIVERSE if scope is None
                        else convert.scope_number(scope))
        self._call(requests.addr_add(index, address, peer=peer, broadcast=broadcast,
                                     label=label, scope=scope_number, flags=flags,
                                     replace=replace),
                   f"address {address} on {_subject_dev(dev)}")

    def addr_delete(self, dev: Device, address: InterfaceLike) -> None:
        """Remove an address. Equals ``ip addr del ADDR/PLEN dev DEV``."""
        index = self.index_of(dev)
        self._call(requests.addr_del(index, address),
                   f"address {address} on {_subject_dev(dev)}")

    # -- routes --------------------------------------------------------------------------

    def route_list(self, *, table: int | str | None = "main", family: int | str | None = None,
                   dev: Device | None = None) -> list[Route]:
        """Routes of one table (``table=None``: all tables). Equals
        ``ip [-4|-6] route show [table T|all] [dev DEV]``."""
        table_number = None if table in (None, "all") else convert.table_number(table)
        oif = None if dev is None else self.index_of(dev)
        family_number = convert.family_number(family)
        try:
            routes = self._objects(requests.route_dump(family=family_number,
                                                       table=table_number, oif=oif),
                                   convert.read_route)
        except FileNotFoundError:
            # A namespace's main table exists only once it holds a route; ip shows
            # it empty, and refuses (as this does) only a table asked for by name.
            if table_number != RT_TABLE.RT_TABLE_MAIN:
                raise
            return []
        # The kernel may ignore filters it does not know for a family: apply them here too.
        return [r for r in routes
                if (table_number is None or r.table == table_number)
                and (oif is None or r.oif == oif)
                and (family_number == 0 or r.family == family_number)]

    def _route_request(self, dst: NetworkLike, replace: bool, *, gateway: AddressLike | None,
                       dev: Device | None, metric: int | None, table: int | str | None,
                       scope: int | str | None, protocol: int | str | None,
                       prefsrc: AddressLike | None, type: int | str | None) -> Message:
        return requests.route_add(
            dst, gateway=gateway, oif=None if dev is None else self.index_of(dev),
            table=RT_TABLE.RT_TABLE_MAIN if table is None else convert.table_number(table),
            priority=metric,
            protocol=(RTPROT.RTPROT_BOOT if protocol is None
                      else convert.protocol_number(protocol)),
            scope=None if scope is None else convert.scope_number(scope),
            prefsrc=prefsrc,
            type=RTN.RTN_UNICAST if type is None else convert.route_type_number(type),
            replace=replace)

    def route_add(self, dst: NetworkLike, *, gateway: AddressLike | None = None,
                  dev: Device | None = None, metric: int | None = None,
                  table: int | str | None = None, scope: int | str | None = None,
                  protocol: int | str | None = None, prefsrc: AddressLike | None = None,
                  type: int | str | None = None) -> None:
        """Add a route; ``dst`` is ``"default"`` or a network. Equals ``ip route
        add DST [via GW] [dev DEV] [metric N] [table T] [scope S] [proto P]
        [src PREFSRC]``."""
        self._call(self._route_request(dst, False, gateway=gateway, dev=dev, metric=metric,
                                       table=table, scope=scope, protocol=protocol,
                                       prefsrc=prefsrc, type=type),
                   f"route {dst}")

    def route_replace(self, dst: NetworkLike, *, gateway: AddressLike | None = None,
                      dev: Device | None = None, metric: int | None = None,
                      table: int | str | None = None, scope: int | str | None = None,
                      protocol: int | str | None = None, prefsrc: AddressLike | None = None,
                      type: int | str | None = None) -> None:
        """Add or replace a route. Equals ``ip route replace ...``."""
        self._call(self._route_request(dst, True, gateway=gateway, dev=dev, metric=metric,
                                       table=table, scope=scope, protocol=protocol,
                                       prefsrc=prefsrc, type=type),
                   f"route {dst}")

    def route_delete(self, dst: NetworkLike, *, gateway: AddressLike | None = None,
                     dev: Device | None = None, metric: int | None = None,
                     table: int | str | None = None) -> None:
        """Remove a route. Equals ``ip route del DST [via GW] [dev DEV] [metric N]
        [table T]``."""
        self._call(requests.route_del(
            dst, gateway=gateway, oif=None if dev is None else self.index_of(dev),
            table=RT_TABLE.RT_TABLE_MAIN if table is None else convert.table_number(table),
            priority=metric),
            f"route {dst}")

    # -- neighbours ------------------------------------------------------------------------

    def neigh_list(self, dev: Device | None = None, *, family: int | str | None = None
                   ) -> list[Neighbour]:
        """The ARP/NDP table. Equals ``ip [-4|-6] neigh show [dev DEV]``."""
        index = None if dev is None else self.index_of(dev)
        return self._objects(requests.neigh_dump(family=convert.family_number(family),
                                                 index=index), convert.read_neighbour)

    def neigh_add(self, dev: Device, dst: AddressLike, lladdr: str, *,
                  state: int | str = "permanent") -> None:
        """Add a neighbour entry. Equals ``ip neigh add DST lladdr MAC dev DEV
        nud STATE``."""
        self._neigh_new(dev, dst, lladdr, state, replace=False)

    def neigh_replace(self, dev: Device, dst: AddressLike, lladdr: str, *,
                      state: int | str = "permanent") -> None:
        """Add or update a neighbour entry. Equals ``ip neigh replace ...``."""
        self._neigh_new(dev, dst, lladdr, state, replace=True)

    def _neigh_new(self, dev: Device, dst: AddressLike, lladdr: str, state: int | str,
                   replace: bool) -> None:
        index = self.index_of(dev)
        self._call(requests.neigh_add(index, dst, lladdr, state=convert.nud_number(state),
                                      replace=replace),
                   f"neighbour {dst} on {_subject_dev(dev)}")

    def neigh_delete(self, dev: Device, dst: AddressLike) -> None:
        """Remove a neighbour entry. Equals ``ip neigh del DST dev DEV``."""
        index = self.index_of(dev)
        self._call(requests.neigh_del(index, dst), f"neighbour {dst} on {_subject_dev(dev)}")

    # -- namespace ids -------------------------------------------------------------------

    def nsid_get(self, netns: NetnsTarget | None = None, *, pid: int | None = None
                 ) -> int | None:
        """The id this namespace gives another one (by name, path, fd or
        ``pid``), or None if it has none. This is the number veth links show
        as ``link_netnsid``."""
        if netns is None and pid is None:
            raise ValueError("nsid_get needs the other namespace (netns= or pid=)")
        with _netns_fd(netns, pid) as fd:
            replies = self._call(requests.nsid_get(fd=fd), f"nsid of netns {netns!r}")
        for reply in replies:
            if reply.type == RTM.RTM_NEWNSID:
                nsid: int = reply.get("NETNSA_NSID", NETNSA_NSID_NOT_ASSIGNED)
                return None if nsid < 0 else nsid  # NETNSA_NSID_NOT_ASSIGNED
        return None

    def nsid_set(self, netns: NetnsTarget, nsid: int = NETNSA_NSID_NOT_ASSIGNED) -> None:
        """Give another namespace an id here (NETNSA_NSID_NOT_ASSIGNED, -1: the
        kernel chooses). Equals ``ip netns set NAME NSID`` run in this namespace."""
        with _netns_fd(netns) as fd:
            self._call(requests.nsid_new(nsid, fd=fd), f"nsid of netns {netns!r}")

    def nsid_list(self) -> list[int]:
        """The ids this namespace has assigned. Equals ``ip netns list-id``."""
        messages = self._dump(requests.nsid_dump())
        return sorted(m.get("NETNSA_NSID") for m in messages
                      if m.type == RTM.RTM_NEWNSID and m.get("NETNSA_NSID") is not None)

    # -- events ------------------------------------------------------------------------

    def monitor(self, kinds: Sequence[str] = ("link", "addr", "route", "neigh")) -> "Monitor":
        """A Monitor of this namespace's changes. Equals ``ip monitor [KINDS]``.

        It watches the namespace this handle is bound to, whatever its name,
        pid or fd means by now (see ``Monitor``)."""
        groups = _monitor_groups(kinds)
        return Monitor._on(_sibling(self._sock, self._own, groups), kinds, self._own)


@dataclass(frozen=True, kw_only=True)
class Event:
    """One change: ``action`` is "new" or "del", ``obj`` a model object."""

    action: str
    kind: str
    obj: _Object
    message: Message


# message type -> (action, kind, what makes its object)
_EVENT_KINDS: dict[int, tuple[str, str, Callable[[Message], _Object]]] = {
    RTM.RTM_NEWLINK: ("new", "link", convert.link_from_message),
    RTM.RTM_DELLINK: ("del", "link", convert.link_from_message),
    RTM.RTM_NEWADDR: ("new", "addr", convert.address_from_message),
    RTM.RTM_DELADDR: ("del", "addr", convert.address_from_message),
    RTM.RTM_NEWROUTE: ("new", "route", convert.route_from_message),
    RTM.RTM_DELROUTE: ("del", "route", convert.route_from_message),
    RTM.RTM_NEWNEIGH: ("new", "neigh", convert.neighbour_from_message),
    RTM.RTM_DELNEIGH: ("del", "neigh", convert.neighbour_from_message),
}


def _monitor_groups(kinds: Sequence[str]) -> list[int]:
    unknown = [k for k in kinds if k not in MONITOR_GROUPS]
    if unknown or not kinds:
        raise ValueError(f"unknown monitor kind(s) {unknown or kinds!r}; expected some of "
                         f"{', '.join(MONITOR_GROUPS)}")
    return [g for kind in kinds for g in MONITOR_GROUPS[kind]]


def _received(sock: RouteSocket) -> list[Message]:
    """The messages of what is waiting on ``sock`` (one read)."""
    return [message for data in sock.receive() for message in netlink.decode(data)]


@dataclass(frozen=True, kw_only=True)
class Resync:
    """The current state of what a ``Monitor`` watches (the kinds it was
    not asked for are empty), dumped when ``Monitor.resynced`` starts
    (``overrun`` False) or after events were lost (``overrun`` True).

    A consumer that keeps a view of the namespace replaces it with this,
    then applies the events that follow in order: some of them may have
    happened before the dump and repeat what it shows; applied in order,
    they leave the view right.
    """

    overrun: bool
    links: tuple[Link, ...] = ()
    addresses: tuple[Address, ...] = ()
    routes: tuple[Route, ...] = ()
    neighbours: tuple[Neighbour, ...] = ()


class Monitor(_OnOneSocket):
    """Iterate over decoded change events of a namespace, as ``ip monitor``.

    Joins the multicast groups of ``kinds`` ("link", "addr", "route",
    "neigh") at creation, so nothing after that is missed. ``netns`` and
    ``pid`` are as for ``Handle``; ``Handle.monitor`` watches the handle's
    own namespace. Close it (or use it as a context manager) to stop.

    Overrun: the kernel queues events on the monitor's socket (4 MiB) and,
    when they come faster than they are read and it is full, drops them:
    the next read raises ``EventsLostError`` (a KernelError, ENOBUFS) and
    the iterator ends. The monitor is still good: iterating it again yields
    the events still queued, but the kernel goes on dropping new ones
    (without saying so again) until the queue has been read empty; after
    that, events flow again (``rawns monitor`` prints the loss, as ``ip
    monitor`` does, and goes on). What was lost is unknown: to know the
    state again, ``discard_queued()`` then dump (``Handle``'s list methods),
    or iterate ``resynced()``, which does so and answers a loss with a
    ``Resync``, the current state.
    """

    def __init__(self, netns: NetnsTarget | None = None,
                 kinds: Sequence[str] = ("link", "addr", "route", "neigh"), *,
                 pid: int | None = None) -> None:
        self.kinds = tuple(kinds)
        self._own = netns is None and pid is None
        self._sock = _route_socket(netns, pid, groups=_monitor_groups(kinds))

    @classmethod
    def _on(cls, sock: RouteSocket, kinds: Sequence[str], own: bool) -> Monitor:
        """A Monitor of ``kinds`` on ``sock``, a socket that joined their groups."""
        monitor = cls.__new__(cls)
        monitor.kinds = tuple(kinds)
        monitor._own = own
        monitor._sock = sock
        return monitor

    def __iter__(self) -> Iterator[Event]:
        for message in self._sock.events():
            known = _EVENT_KINDS.get(message.type)
            if known is None:
                continue
            action, kind, build = known
            yield Event(action=action, kind=kind, obj=build(message), message=message)

    def discard_queued(self) -> int:
        """Drop the events waiting to be read (without waiting for more);
        returns how many datagrams. After a loss, this ends the kernel's
        dropping of new events (see the class docstring)."""
        return self._sock.discard_queued()

    def resynced(self, *, existing: bool = True) -> Iterator[Event | Resync]:
        """The events, as iterating the monitor gives them, but a loss of
        events (overrun) is answered by a ``Resync`` instead of raising: the
        events still queued are dropped (they are older than what follows),
        then the current state of the kinds watched is dumped. With
        ``existing``, the first item is a ``Resync`` of the state as it is
        when iteration starts (as vishvananda/netlink's ListExisting). The
        dumps go through a second socket in the same namespace."""
        with Handle._on(_sibling(self._sock, self._own)) as handle:
            if existing:
                yield self._dump(handle, overrun=False)
            while True:
                try:
                    yield from self
                except EventsLostError:
                    self.discard_queued()
                    yield self._dump(handle, overrun=True)

    def _dump(self, handle: Handle, *, overrun: bool) -> Resync:
        kinds = self.kinds
        return Resync(
            overrun=overrun,
            links=tuple(handle.link_list()) if "link" in kinds else (),
            addresses=tuple(handle.addr_list()) if "addr" in kinds else (),
            routes=tuple(handle.route_list(table=None)) if "route" in kinds else (),
            neighbours=tuple(handle.neigh_list()) if "neigh" in kinds else ())
