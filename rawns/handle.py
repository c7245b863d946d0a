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
import ipaddress
import os
import select
import time
from _socket import AF_INET, AF_INET6  # not socket: ~5 ms of start-up
from collections.abc import Mapping

from rawns import convert, convert_fast, syscalls
from rawns import netns as netns_module
from rawns.errors import EventsLostError, KernelError, kernel_error
from rawns.model import (
    Address, IPInterface, IPNetwork, Link, Neighbour, NextHop, Route, RouteSelector, Rule,
    RuleSelector, ip_protocol_number,
)
from rawns import netlink
from rawns.netlink import Frame, Message, requests
from rawns.netlink.constants import (
    FR_ACT, IFA_F, NETNSA_NSID_NOT_ASSIGNED, RT_SCOPE, RT_TABLE, RTM, RTN, RTNLGRP, RTPROT,
)
from rawns.netlink.requests import AddressLike
from rawns.nlsock import RouteSocket
from rawns.records import record

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from contextlib import contextmanager
    from typing import Any, Optional, TypeVar, Union
else:
    contextmanager = netns_module.lazy_contextmanager

__all__ = ["Handle", "Device", "Event", "Resync", "Monitor", "MONITOR_GROUPS"]

#: A network device given by name (``"veth0"``) or ifindex (``3``).
Device = str | int
#: A namespace: name, path or fd (see ``rawns.netns.open_fd``).
NetnsTarget = netns_module.NetnsTarget
#: An address with its prefix length: ``"10.0.0.1/24"`` or an ipaddress interface.
InterfaceLike = str | IPInterface
#: A route's destination: ``"default"``, ``"10.0.0.0/24"`` or an ipaddress network.
NetworkLike = str | IPNetwork
#: One path of a multipath route: a ``model.NextHop`` or a mapping with ``gateway``,
#: ``dev`` (name or index), ``weight`` and ``onlink``.
if TYPE_CHECKING:
    NextHopLike = Union[NextHop, Mapping[str, Any]]
    _Object = Union[Link, Address, Route, Neighbour]
    _T = TypeVar("_T")
    _Self = TypeVar("_Self", bound="_OnOneSocket")
else:
    NextHopLike = NextHop | Mapping  # the same at run time, without typing's Any

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


#: The unfiltered dumps, the usual ones, made once: a request is immutable,
#: and building one costs as much as reading a small reply.
_ALL_ADDRESSES = requests.addr_dump()
_ALL_NEIGHBOURS = requests.neigh_dump()

#: ``route_flush`` lists and removes at most this many times (as ip's flush).
_FLUSH_ROUNDS = 10


def _selector_network(value: Any, what: str) -> IPNetwork:
    """A route selector's prefix; host bits may be set (only the prefix counts)."""
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an address or a prefix") from None


# The route types ip puts in the local table when no table is given.
_LOCAL_TABLE_TYPES = frozenset({RTN.RTN_LOCAL, RTN.RTN_BROADCAST, RTN.RTN_NAT, RTN.RTN_ANYCAST})


def _route_table(table: int | str | None, type_number: int) -> int:
    """The table a route goes to: as ip, main unless told, but local for the
    types that belong there (``ip route add local ...``)."""
    if table is not None:
        return convert.table_number(table)
    if type_number in _LOCAL_TABLE_TYPES:
        return int(RT_TABLE.RT_TABLE_LOCAL)
    return int(RT_TABLE.RT_TABLE_MAIN)


def _rule_network(value: Any, what: str) -> IPNetwork:
    """A rule's prefix (an address alone is a host prefix); host bits must be zero."""
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        raise ValueError(f"rule: {what} {value!r} is not a prefix like '10.0.0.0/24' "
                         "(host bits must be zero)") from None


def _rule_subject(fields: dict[str, Any]) -> str:
    """How an error names a rule: its priority, else its prefixes."""
    if fields["priority"] is not None:
        return str(fields["priority"])
    return f"from {fields['src'] or 'all'}" + (f" to {fields['dst']}" if fields["dst"] else "")


def _rule_identity(rule: Rule) -> dict[str, Any]:
    """``requests.rule_del``'s arguments naming exactly ``rule`` (as ip rule flush
    sends each dumped rule back)."""
    return {"family": rule.family, "priority": rule.priority, "src": rule.src,
            "dst": rule.dst, "invert": rule.invert, "tos": rule.tos, "fwmark": rule.fwmark,
            "fwmask": rule.fwmask, "iif": rule.iif, "oif": rule.oif,
            "table": rule.table or None,
            "action": convert.RULE_ACTION_NUMBERS.get(rule.action, 0), "goto": rule.goto,
            "protocol": convert.protocol_number(rule.protocol)}


def _route_text(route: Route) -> str:
    return "default" if route.dst is None else str(route.dst)


def _route_fields(route: Route) -> dict[str, Any]:
    """What identifies ``route`` to RTM_DELROUTE (requests.route_del_exact)."""
    return {"family": route.family, "dst": route.dst, "table": route.table,
            "tos": route.tos, "metric": route.metric,
            "protocol": convert.protocol_number(route.protocol),
            "scope": convert.scope_number(route.scope),
            "type": convert.route_type_number(route.type),
            "oif": route.oif, "gateway": route.gateway,
            "src": route.src}


def _tun_flags(mode: str, *, multi_queue: bool, pi: bool, vnet_hdr: bool,
               one_queue: bool) -> int:
    """TUNSETIFF's IFF_* flags for ``ip tuntap``'s words (no packet info by default)."""
    if mode not in ("tun", "tap"):
        raise ValueError(f"tuntap mode must be 'tun' or 'tap', not {mode!r}")
    flags = syscalls.IFF_TUN if mode == "tun" else syscalls.IFF_TAP
    if not pi:
        flags |= syscalls.IFF_NO_PI
    if multi_queue:
        flags |= syscalls.IFF_MULTI_QUEUE
    if vnet_hdr:
        flags |= syscalls.IFF_VNET_HDR
    if one_queue:
        flags |= syscalls.IFF_ONE_QUEUE
    return flags


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

    def link_list(self, *, kind: str | None = None, master: Device | None = None,
                  details: bool = False) -> list[Link]:
        """All links, in ifindex order. Equals ``ip link show [type KIND] [master M]``;
        ``details=True`` also reads each link's ``details`` and ``stats``
        (``ip -d -s link show``)."""
        master_index = None if master is None else self.index_of(master)
        return self._objects(requests.link_dump(kind=kind, master=master_index),
                             convert.read_link_details if details else convert.read_link)

    def link_get(self, dev: Device, *, details: bool = False) -> Link:
        """One link. Equals ``ip link show DEV``; FileNotFoundError if missing.
        ``details=True``: as for ``link_list``."""
        return convert.link_from_message(self._link_message(dev), details=details)

    def link_add_veth(self, name: str, peer: str, *, peer_netns: NetnsTarget | None = None,
                      peer_pid: int | None = None, peer_netnsid: int | None = None,
                      mtu: int | None = None, address: str | None = None,
                      peer_address: str | None = None, up: bool = False, index: int = 0,
                      peer_index: int = 0) -> None:
        """Create a veth pair; the peer is created directly inside ``peer_netns``
        (or the namespace of ``peer_pid``) in the same RTM_NEWLINK, so there
        is never a moment where it sits in the wrong namespace.

        ``up`` brings ``name`` up as it is made (the peer must be brought up
        from its own namespace). ``index``/``peer_index`` ask for ifindexes
        (the kernel honours ``peer_index`` only together with ``index``).
        ``peer_netnsid`` places the peer by the nsid this namespace gives its
        target (IFLA_LINK_NETNSID), with no fd of the target: equals ``ip link
        add NAME link-netnsid N type veth peer name PEER``.
        Equals ``ip link add NAME [index I] type veth peer name PEER
        [index J] netns NS``.
        """
        if peer_netnsid is not None and (peer_netns is not None or peer_pid is not None):
            raise ValueError("give peer_netnsid or peer_netns/peer_pid, not both")
        with _netns_fd(peer_netns, peer_pid) as fd:
            self._call(requests.veth_add(name, peer, peer_netns_fd=fd, mtu=mtu,
                                         address=address, peer_address=peer_address,
                                         up=up, index=index, peer_index=peer_index,
                                         link_netnsid=peer_netnsid),
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
                       mtu: int | None = None, address: str | None = None,
                       up: bool = False, netns: NetnsTarget | None = None) -> None:
        """Create a VXLAN device. Equals ``ip link add NAME [address MAC] [netns
        NS] type vxlan id VNI [remote ADDR | group ADDR dev DEV] [local ADDR]
        [dstport PORT]``. With ``netns`` it is placed there as it is made; its
        sockets, and ``dev``, stay in this namespace."""
        dev_index = None if dev is None else self.index_of(dev)
        with _netns_fd(netns) as fd:
            self._call(requests.vxlan_add(name, vni, remote=remote, group=group, local=local,
                                          port=port, dev=dev_index, ttl=ttl,
                                          learning=learning, mtu=mtu, address=address,
                                          netns_fd=fd, up=up),
                       f"link {name!r}")

    def _add_link(self, request: Message, name: str, kind: str) -> None:
        """Send a link creation; a kernel without that kind says so in one line."""
        try:
            self._call(request, f"link {name!r}")
        except KernelError as err:
            if err.errno == errno.EOPNOTSUPP and "Unknown device type" in (err.extack or ""):
                err.hint = (f"this kernel has no {kind!r} links: the driver is not "
                            f"built in or its module is not loaded")
            raise

    def link_add(self, name: str, kind: str, *, mtu: int | None = None,
                 address: str | None = None, up: bool = False) -> None:
        """Create a link of a kind that takes no arguments (``dummy``, ``ifb``,
        ``wireguard``...). Equals ``ip link add NAME type KIND``. A kind the
        kernel does not have is refused (EOPNOTSUPP) with a hint naming it."""
        self._add_link(requests.link_add(name, kind, mtu=mtu, address=address, up=up),
                       name, kind)

    def link_add_macvlan(self, name: str, link: Device, *, mode: str = "vepa",
                         nopromisc: bool = False, bcqueuelen: int | None = None,
                         tap: bool = False, mtu: int | None = None,
                         address: str | None = None, up: bool = False,
                         netns: NetnsTarget | None = None) -> None:
        """Create a macvlan (``tap=True``: a macvtap) on ``link``. Equals ``ip
        link add NAME link DEV [netns NS] type macvlan|macvtap mode private|
        vepa|bridge|passthru|source [nopromisc] [bcqueuelen N]``. With
        ``netns`` it is placed there as it is made (``link`` is of this
        namespace)."""
        kind = "macvtap" if tap else "macvlan"
        with _netns_fd(netns) as fd:
            self._add_link(requests.macvlan_add(name, self.index_of(link), mode=mode,
                                                nopromisc=nopromisc, bcqueuelen=bcqueuelen,
                                                kind=kind, mtu=mtu, address=address,
                                                netns_fd=fd, up=up),
                           name, kind)

    def link_add_vlan(self, name: str, link: Device, vid: int, *,
                      protocol: str = "802.1Q", mtu: int | None = None,
                      address: str | None = None, up: bool = False) -> None:
        """Create an 802.1Q VLAN on ``link``. Equals ``ip link add link DEV name
        NAME type vlan id VID [protocol 802.1Q|802.1ad]``."""
        self._add_link(requests.vlan_add(name, self.index_of(link), vid, protocol=protocol,
                                         mtu=mtu, address=address, up=up), name, "vlan")

    def link_add_ipvlan(self, name: str, link: Device, *, mode: str = "l3",
                        flag: str = "bridge", mtu: int | None = None,
                        up: bool = False) -> None:
        """Create an ipvlan on ``link``. Equals ``ip link add NAME link DEV type
        ipvlan mode l2|l3|l3s [bridge|private|vepa]``."""
        self._add_link(requests.ipvlan_add(name, self.index_of(link), mode=mode, flag=flag,
                                           mtu=mtu, up=up), name, "ipvlan")

    def link_add_bond(self, name: str, *, mode: str | None = None, miimon: int | None = None,
                      mtu: int | None = None, address: str | None = None,
                      up: bool = False) -> None:
        """Create a bond. Equals ``ip link add NAME type bond [mode MODE] [miimon MS]``."""
        self._add_link(requests.bond_add(name, mode=mode, miimon=miimon, mtu=mtu,
                                         address=address, up=up), name, "bond")

    def link_add_vrf(self, name: str, table: int | str, *, up: bool = False) -> None:
        """Create a VRF device. Equals ``ip link add NAME type vrf table T``."""
        self._add_link(requests.vrf_add(name, convert.table_number(table), up=up),
                       name, "vrf")

    # -- tun/tap ---------------------------------------------------------------------

    def tuntap_add(self, name: str, mode: str = "tap", *, user: int | None = None,
                   group: int | None = None, multi_queue: bool = False, pi: bool = False,
                   vnet_hdr: bool = False, one_queue: bool = False) -> str:
        """Create a persistent tun or tap device in this namespace through
        /dev/net/tun (TUNSETIFF, TUNSETOWNER/TUNSETGROUP, TUNSETPERSIST), as VM
        runtimes give each VM a tap. Equals ``ip tuntap add NAME mode tun|tap
        [user U] [group G] [multi_queue] [pi] [vnet_hdr] [one_queue]``.
        ``name`` may hold ``%d`` for the kernel to number it; returns the name."""
        flags = _tun_flags(mode, multi_queue=multi_queue, pi=pi, vnet_hdr=vnet_hdr,
                           one_queue=one_queue)
        if name:
            requests.check_ifname(name.replace("%d", "0"))
        # Until TUNSETPERSIST the device lives only as long as the fd: if a step
        # fails (or is interrupted), closing the fd removes it, nothing half-made.
        with self._tun(name) as fd:
            made = syscalls.tun_set_iff(fd, name, flags)
            subject = f"tun {made!r}"
            if user is not None:
                syscalls.ioctl_int(fd, syscalls.TUNSETOWNER, user, subject=subject)
            if group is not None:
                syscalls.ioctl_int(fd, syscalls.TUNSETGROUP, group, subject=subject)
            syscalls.ioctl_int(fd, syscalls.TUNSETPERSIST, 1, subject=subject)
        return made

    def tuntap_delete(self, name: str, mode: str = "tap", *, multi_queue: bool = False,
                      pi: bool = False, vnet_hdr: bool = False, one_queue: bool = False
                      ) -> None:
        """Remove a persistent tun or tap device: attach to it, make it not
        persistent, close. Equals ``ip tuntap del NAME mode tun|tap``; the mode
        (and flags) must be those it was made with (EINVAL otherwise), and a
        device some process still holds goes when that process lets it go."""
        requests.check_ifname(name)
        flags = _tun_flags(mode, multi_queue=multi_queue, pi=pi, vnet_hdr=vnet_hdr,
                           one_queue=one_queue)
        with self._tun(name) as fd:
            syscalls.tun_set_iff(fd, name, flags)
            syscalls.ioctl_int(fd, syscalls.TUNSETPERSIST, 0, subject=f"tun {name!r}")

    def tuntap_list(self) -> list[Link]:
        """The tun and tap devices of this namespace, with their data (owner,
        group, type, flags in ``info_data``). Equals ``ip tuntap show``."""
        return self.link_list(kind="tun", details=True)

    @contextmanager
    def _tun(self, name: str) -> Iterator[int]:
        """/dev/net/tun opened inside this handle's namespace (where the device
        it attaches to lives), closed on leaving."""
        with _netns_fd(self.netns, self.pid) as netns_fd:
            fd = syscalls.open_in(netns_fd, "/dev/net/tun", os.O_RDWR)
        try:
            yield fd
        finally:
            os.close(fd)

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
        if dev is None and family is None:
            return self._objects(_ALL_ADDRESSES, convert_fast.read_address)
        index = 0 if dev is None else self.index_of(dev)
        addresses = self._objects(requests.addr_dump(family=convert.family_number(family),
                                                     index=index), convert_fast.read_address)
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
                   dev: Device | None = None, dst: NetworkLike | None = None,
                   root: NetworkLike | None = None, match: NetworkLike | None = None,
                   protocol: int | str | None = None, scope: int | str | None = None,
                   type: str | Sequence[str] | None = None,
                   gateway: NetworkLike | AddressLike | None = None,
                   metric: int | None = None, cache: bool = False) -> list[Route]:
        """Routes of one table (``table=None``: all tables). Equals
        ``ip [-4|-6] route show [table T|all] [dev DEV] [[exact] PREFIX | root PREFIX
        | match PREFIX] [proto P] [scope S] [type T...] [via PREFIX] [metric N]``.

        ``dst`` is the exact destination (``"default"`` or a prefix), ``root``
        the routes inside a prefix, ``match`` the routes that contain one (those
        a lookup could use); ``gateway`` an address or prefix the gateway lies in.

        ``cache=True`` lists the route cache instead, ``ip route show cache
        ...``: the exception routes the kernel made from traffic (a path MTU
        learnt from ICMP Frag Needed / Packet Too Big, a redirect), each
        ``cloned``, with ``expires`` and its ``mtu``. The dump carries
        RTM_F_CLONED; the kernel (5.3 on) then sends exceptions only, which
        are still checked here by their own RTM_F_CLONED, as ip does.
        """
        table_number = None if table in (None, "all") else convert.table_number(table)
        oif = None if dev is None else self.index_of(dev)
        family_number = convert.family_number(family)
        selector = self._route_selector(family_number, dst=dst, root=root, match=match,
                                        protocol=protocol, scope=scope, type=type,
                                        gateway=gateway, metric=metric)
        try:
            routes = self._objects(requests.route_dump(family=family_number,
                                                       table=table_number, oif=oif,
                                                       cloned=cache),
                                   convert.read_route)
        except FileNotFoundError:
            # A namespace's main table exists only once it holds a route; ip shows
            # it empty, and refuses (as this does) only a table asked for by name.
            if table_number != RT_TABLE.RT_TABLE_MAIN:
                raise
            return []
        # The kernel may ignore filters it does not know for a family: apply them here too.
        return [r for r in routes
                if r.cloned == cache
                and (table_number is None or r.table == table_number)
                and (oif is None or r.oif == oif)
                and (family_number == 0 or r.family == family_number)
                and (selector is None or selector.matches(r))]

    def route_dump(self, reader: Callable[[bytes, Frame], Optional[_T]], *,
                   table: int | str | None = "main", family: int | str | None = None
                   ) -> list[_T]:
        """What ``reader(data, frame)`` makes of each reply of ``route_list``'s
        dump of ``table`` (None or "all": every table) and ``family``, straight
        from the bytes; replies it returns None for are left out. For tools
        that print big tables without a ``Route`` per route
        (``rawns.show_fast.route_printer``); the kernel may send routes of
        other tables or families too, which ``reader`` must skip itself (as
        ``route_list`` does). Errors as ``route_list``'s."""
        table_number = None if table in (None, "all") else convert.table_number(table)
        try:
            return self._objects(requests.route_dump(family=convert.family_number(family),
                                                     table=table_number), reader)
        except FileNotFoundError:
            if table_number != RT_TABLE.RT_TABLE_MAIN:  # as route_list
                raise
            return []

    @staticmethod
    def _route_selector(family: int, *, dst: NetworkLike | None, root: NetworkLike | None,
                        match: NetworkLike | None, protocol: int | str | None,
                        scope: int | str | None, type: str | Sequence[str] | None,
                        gateway: NetworkLike | AddressLike | None,
                        metric: int | None) -> RouteSelector | None:
        """The selector of ``route_list``'s filters (None: there are none);
        ValueError for a bad one."""
        if all(value is None for value in (dst, root, match, protocol, scope, type, gateway,
                                           metric)):
            return None
        default_any = False
        prefixes: dict[str, IPNetwork | None] = {}
        for key, value in (("exact", dst), ("root", root), ("match", match)):
            if value is None:
                prefixes[key] = None
            elif isinstance(value, str) and value in ("default", "all", "any"):
                if family == 0:
                    default_any = True
                    prefixes[key] = None
                else:
                    prefixes[key] = ipaddress.ip_network(
                        "0.0.0.0/0" if family == AF_INET else "::/0")
            else:
                prefixes[key] = _selector_network(value, key)
        types = frozenset([type] if isinstance(type, str) else type or ())
        for name in types:
            convert.route_type_number(name)  # ValueError for an unknown type
        return RouteSelector(
            exact=prefixes["exact"], root=prefixes["root"], match=prefixes["match"],
            default_any=default_any,
            protocol=None if protocol is None else convert.PROTOCOL_NAMES.get(
                convert.protocol_number(protocol), str(protocol)),
            scope=None if scope is None else convert.SCOPE_NAMES.get(
                convert.scope_number(scope), str(scope)),
            types=types,
            gateway=None if gateway is None else _selector_network(gateway, "via"),
            metric=metric)

    def route_flush(self, *, table: int | str | None = "main",
                    family: int | str | None = None, dev: Device | None = None,
                    dst: NetworkLike | None = None, root: NetworkLike | None = None,
                    match: NetworkLike | None = None, protocol: int | str | None = None,
                    scope: int | str | None = None, type: str | Sequence[str] | None = None,
                    gateway: NetworkLike | AddressLike | None = None,
                    metric: int | None = None, cache: bool = False) -> list[Route]:
        """Remove every route ``route_list`` with the same selectors lists, and
        return them. Equals ``ip route flush SELECTORS``. As ip, it lists
        and removes again until nothing is left that matches (removing a
        route may make another appear or vanish); a route that is already
        gone when its turn comes is not an error.

        ``cache=True`` empties the route cache (``ip [-4|-6] route flush cache``;
        ``family=None``: both families). IPv6 exceptions are removed one by one
        as listed (RTM_DELROUTE with RTM_F_CLONED), selectors applying. IPv4
        has no message for that (it would remove the FIB route itself): as ip,
        its cache is flushed whole by writing ``net.ipv4.route.flush`` inside
        the namespace, which makes every IPv4 exception stale at once, so
        selectors with IPv4 are a ValueError. The IPv4 entries returned are
        those listed just before that write."""
        family_number = convert.family_number(family)
        removed: list[Route] = []
        if cache and family_number in (0, AF_INET):
            selectors = (dev, dst, root, match, protocol, scope, type, gateway, metric)
            if any(value is not None for value in selectors) or table not in ("main", None,
                                                                              "all"):
                raise ValueError("route flush cache: the IPv4 route cache is flushed whole; "
                                 "selectors need family 6")
            removed = self.route_list(table=None, family=AF_INET, cache=True)
            self._flush_ipv4_cache()
            if family_number == AF_INET:
                return removed
            family = AF_INET6
        for _ in range(_FLUSH_ROUNDS):
            routes = self.route_list(table=table, family=family, dev=dev, dst=dst, root=root,
                                     match=match, protocol=protocol, scope=scope, type=type,
                                     gateway=gateway, metric=metric, cache=cache)
            if not routes:
                break
            outcomes = self._sock.exchange([requests.route_del_exact(**_route_fields(r),
                                                                     cloned=cache)
                                            for r in routes])
            for route, outcome in zip(routes, outcomes):
                if outcome.error is None:
                    removed.append(route)
                elif outcome.error.errno != errno.ESRCH:
                    outcome.error.subject = f"route {_route_text(route)}"
                    raise outcome.error
        return removed

    def _flush_ipv4_cache(self) -> None:
        """Write -1 to net.ipv4.route.flush in this handle's namespace: the
        one found from the socket (SIOCGSKNS), as ``_sibling`` does."""
        try:
            fd = self._sock.netns_fd()
        except PermissionError:
            if not self._own:
                raise
            netns_module.sysctl(None, "net.ipv4.route.flush", -1)
            return
        try:
            netns_module.sysctl(fd, "net.ipv4.route.flush", -1)
        finally:
            os.close(fd)

    def route_get(self, dst: AddressLike, *, source: AddressLike | None = None,
                  iif: Device | None = None, oif: Device | None = None,
                  mark: int | None = None) -> Route:
        """The route the kernel would use for ``dst``: a lookup, not a dump.
        Equals ``ip route get ADDR [from SRC] [iif DEV] [oif DEV] [mark M]``.
        The result is ``cloned`` (and for IPv4 carries its ``cache`` flags);
        an unreachable destination raises the kernel's refusal (ENETUNREACH,
        EACCES for a prohibit route, EINVAL for a blackhole...)."""
        request = requests.route_get(
            dst, source=source, oif=None if oif is None else self.index_of(oif),
            iif=None if iif is None else self.index_of(iif), mark=mark)
        try:
            replies = self._call(request, f"route to {dst}")
        except KernelError as err:
            if err.errno == errno.EACCES:
                # Not a missing privilege: a 'prohibit' route covers the destination.
                raise KernelError(errno.EACCES, subject=err.subject, msg_type=err.msg_type,
                                  extack=err.extack,
                                  hint="a route of type prohibit covers it") from err
            raise
        for reply in replies:
            if reply.type == RTM.RTM_NEWROUTE:
                return convert.route_from_message(reply)
        raise KernelError(errno.ENOENT, subject=f"route to {dst}", msg_type="RTM_GETROUTE")

    def _route_request(self, dst: NetworkLike, replace: bool, *, gateway: AddressLike | None,
                       dev: Device | None, metric: int | None, table: int | str | None,
                       scope: int | str | None, protocol: int | str | None,
                       prefsrc: AddressLike | None, type: int | str | None,
                       mtu: int | None, advmss: int | None,
                       metrics: Mapping[str, int] | None, locked: Iterable[str],
                       onlink: bool, nexthops: Sequence[NextHopLike] | None) -> Message:
        values = dict(metrics or {})
        type_number = RTN.RTN_UNICAST if type is None else convert.route_type_number(type)
        if mtu is not None:
            values["mtu"] = mtu
        if advmss is not None:
            values["advmss"] = advmss
        return requests.route_add(
            dst, gateway=gateway, oif=None if dev is None else self.index_of(dev),
            table=_route_table(table, type_number), priority=metric,
            protocol=(RTPROT.RTPROT_BOOT if protocol is None
                      else convert.protocol_number(protocol)),
            scope=None if scope is None else convert.scope_number(scope),
            prefsrc=prefsrc, type=type_number, metrics=values or None, locked=locked, onlink=onlink,
            multipath=None if nexthops is None else [self._nexthop(h) for h in nexthops],
            replace=replace)

    def _nexthop(self, hop: NextHop | Mapping[str, Any]) -> Any:
        """One path of a multipath route: a ``model.NextHop`` or a mapping with
        ``gateway``/``via``, ``dev``, ``weight`` and ``onlink``."""
        if isinstance(hop, NextHop):
            return requests.nexthop(gateway=hop.gateway, oif=hop.oif or 0, weight=hop.weight,
                                    onlink="onlink" in hop.flags)
        unknown = set(hop) - {"gateway", "via", "dev", "weight", "onlink"}
        if unknown:
            raise ValueError(f"nexthop: unknown key(s) {', '.join(sorted(unknown))}")
        dev = hop.get("dev")
        return requests.nexthop(gateway=hop.get("gateway", hop.get("via")),
                                oif=0 if dev is None else self.index_of(dev),
                                weight=hop.get("weight", 1), onlink=bool(hop.get("onlink")))

    def route_add(self, dst: NetworkLike, *, gateway: AddressLike | None = None,
                  dev: Device | None = None, metric: int | None = None,
                  table: int | str | None = None, scope: int | str | None = None,
                  protocol: int | str | None = None, prefsrc: AddressLike | None = None,
                  type: int | str | None = None, mtu: int | None = None,
                  advmss: int | None = None, metrics: Mapping[str, int] | None = None,
                  locked: Iterable[str] = (), onlink: bool = False,
                  nexthops: Sequence[NextHopLike] | None = None) -> None:
        """Add a route; ``dst`` is ``"default"`` or a network. Equals ``ip route
        add [TYPE] DST [via GW] [dev DEV] [metric N] [table T] [scope S] [proto P]
        [src PREFSRC] [mtu [lock] M] [advmss N] [onlink] [nexthop via GW dev DEV
        weight W ...]``.

        ``type`` is ``unicast`` (the default), ``blackhole``, ``unreachable``,
        ``prohibit``, ``local``, ``throw``... ``metrics`` maps more RTAX names
        to values (``{"hoplimit": 5}``); ``locked`` names the metrics given
        with ``lock``; ``onlink`` takes the gateway to be on the link even
        without a matching prefix; ``nexthops`` makes a multipath route, of
        ``model.NextHop`` items or mappings with ``gateway``, ``dev``,
        ``weight`` and ``onlink``.
        """
        self._call(self._route_request(dst, False, gateway=gateway, dev=dev, metric=metric,
                                       table=table, scope=scope, protocol=protocol,
                                       prefsrc=prefsrc, type=type, mtu=mtu, advmss=advmss,
                                       metrics=metrics, locked=locked, onlink=onlink,
                                       nexthops=nexthops),
                   f"route {dst}")

    def route_replace(self, dst: NetworkLike, *, gateway: AddressLike | None = None,
                      dev: Device | None = None, metric: int | None = None,
                      table: int | str | None = None, scope: int | str | None = None,
                      protocol: int | str | None = None, prefsrc: AddressLike | None = None,
                      type: int | str | None = None, mtu: int | None = None,
                      advmss: int | None = None, metrics: Mapping[str, int] | None = None,
                      locked: Iterable[str] = (), onlink: bool = False,
                      nexthops: Sequence[NextHopLike] | None = None) -> None:
        """Add or replace a route. Equals ``ip route replace ...``; takes what
        ``route_add`` takes."""
        self._call(self._route_request(dst, True, gateway=gateway, dev=dev, metric=metric,
                                       table=table, scope=scope, protocol=protocol,
                                       prefsrc=prefsrc, type=type, mtu=mtu, advmss=advmss,
                                       metrics=metrics, locked=locked, onlink=onlink,
                                       nexthops=nexthops),
                   f"route {dst}")

    def route_delete(self, dst: NetworkLike, *, gateway: AddressLike | None = None,
                     dev: Device | None = None, metric: int | None = None,
                     table: int | str | None = None, type: int | str | None = None
                     ) -> None:
        """Remove a route. Equals ``ip route del [TYPE] DST [via GW] [dev DEV]
        [metric N] [table T]``."""
        type_number = RTN.RTN_UNSPEC if type is None else convert.route_type_number(type)
        self._call(requests.route_del(
            dst, gateway=gateway, oif=None if dev is None else self.index_of(dev),
            table=_route_table(table, type_number), priority=metric, type=type_number),
            f"route {dst}")

    # -- neighbours ------------------------------------------------------------------------

    def neigh_list(self, dev: Device | None = None, *, family: int | str | None = None
                   ) -> list[Neighbour]:
        """The ARP/NDP table. Equals ``ip [-4|-6] neigh show [dev DEV]``."""
        if dev is None and family is None:
            return self._objects(_ALL_NEIGHBOURS, convert_fast.read_neighbour)
        index = None if dev is None else self.index_of(dev)
        return self._objects(requests.neigh_dump(family=convert.family_number(family),
                                                 index=index), convert_fast.read_neighbour)

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

    # -- policy routing rules -------------------------------------------------------------

    def rule_list(self, *, family: int | str | None = None, src: NetworkLike | None = None,
                  dst: NetworkLike | None = None, invert: bool = False,
                  iif: str | None = None, oif: str | None = None, fwmark: int | None = None,
                  fwmask: int | None = None, table: int | str | None = None,
                  priority: int | None = None, protocol: int | str | None = None
                  ) -> list[Rule]:
        """The policy routing rules, in the order the kernel tries them (IPv4
        then IPv6 when no family is given). Equals ``ip [-4|-6] rule show [not]
        [from PREFIX] [to PREFIX] [iif DEV] [oif DEV] [fwmark M[/MASK]] [table T]
        [priority N] [protocol P]``; ``from``/``to`` select the rules whose
        prefix lies inside the one given."""
        selector = RuleSelector(
            src=None if src is None else _selector_network(src, "from"),
            dst=None if dst is None else _selector_network(dst, "to"),
            invert=invert, iif=iif, oif=oif, fwmark=fwmark, fwmask=fwmask,
            table=None if table is None else convert.table_number(table),
            priority=priority,
            protocol=None if protocol is None else convert.PROTOCOL_NAMES.get(
                convert.protocol_number(protocol), str(protocol)))
        number = convert.family_number(family)
        families = [number] if number else [int(AF_INET), int(AF_INET6)]
        rules: list[Rule] = []
        for each in families:
            rules += self._objects(requests.rule_dump(family=each), convert.read_rule)
        return [rule for rule in rules if rule.family in families and selector.matches(rule)]

    def rule_add(self, *, priority: int | None = None, src: NetworkLike | None = None,
                 dst: NetworkLike | None = None, table: int | str | None = None,
                 action: str = "lookup", goto: int | None = None, invert: bool = False,
                 iif: str | None = None, oif: str | None = None, fwmark: int | None = None,
                 fwmask: int | None = None, tos: int = 0,
                 suppress_prefixlen: int | None = None,
                 suppress_ifgroup: int | None = None, realms: int | None = None,
                 uid_range: tuple[int, int] | None = None,
                 ipproto: int | str | None = None, sport: int | tuple[int, int] | None = None,
                 dport: int | tuple[int, int] | None = None,
                 protocol: int | str | None = None, family: int | str | None = None
                 ) -> None:
        """Add a policy routing rule. Equals ``ip [-6] rule add [not] [from PREFIX]
        [to PREFIX] [iif DEV] [oif DEV] [fwmark M[/MASK]] [tos T] [priority N]
        [lookup TABLE | goto N | nop | blackhole | unreachable | prohibit]
        [suppress_prefixlength N] [uidrange A-B] [ipproto P] [sport|dport P[-Q]]
        [protocol P]``.

        The family follows ``src``/``dst`` (else ``family``, else IPv4); a
        ``lookup`` without a table looks up ``main``, as with ip. Giving
        ``goto`` makes it a goto rule.
        """
        fields = self._rule_fields(
            family, src, dst, table, "goto" if goto is not None else action, goto, invert,
            iif, oif, fwmark, fwmask, tos, suppress_prefixlen, suppress_ifgroup, realms,
            uid_range, ipproto, sport, dport, protocol, priority, adding=True)
        self._call(requests.rule_add(**fields), f"rule {_rule_subject(fields)}")

    def rule_delete(self, *, priority: int | None = None, src: NetworkLike | None = None,
                    dst: NetworkLike | None = None, table: int | str | None = None,
                    action: str | None = None, goto: int | None = None,
                    invert: bool = False, iif: str | None = None, oif: str | None = None,
                    fwmark: int | None = None, fwmask: int | None = None, tos: int = 0,
                    protocol: int | str | None = None, family: int | str | None = None
                    ) -> None:
        """Remove the first rule that has everything given. Equals ``ip rule del
        SELECTOR`` (e.g. ``priority 100``, or ``from 10.0.0.0/8 lookup 100``)."""
        fields = self._rule_fields(
            family, src, dst, table, action, goto, invert, iif, oif, fwmark, fwmask, tos,
            None, None, None, None, None, None, None, protocol, priority, adding=False)
        self._call(requests.rule_del(**fields), f"rule {_rule_subject(fields)}")

    def rule_flush(self, *, family: int | str | None = None, src: NetworkLike | None = None,
                   dst: NetworkLike | None = None, invert: bool = False,
                   iif: str | None = None, oif: str | None = None, fwmark: int | None = None,
                   fwmask: int | None = None, table: int | str | None = None,
                   priority: int | None = None, protocol: int | str | None = None
                   ) -> list[Rule]:
        """Remove every rule ``rule_list`` selects but those of priority 0 (the
        kernel's ``lookup local``, which cannot be removed), and return them.
        Equals ``ip [-6] rule flush [SELECTOR]``: as with ip, this removes the
        ``main`` and ``default`` rules too unless a selector spares them."""
        rules = [rule for rule in self.rule_list(
            family=family, src=src, dst=dst, invert=invert, iif=iif, oif=oif, fwmark=fwmark,
            fwmask=fwmask, table=table, priority=priority, protocol=protocol)
            if rule.priority != 0]
        outcomes = self._sock.exchange([requests.rule_del(**_rule_identity(r)) for r in rules])
        removed = []
        for rule, outcome in zip(rules, outcomes):
            if outcome.error is None:
                removed.append(rule)
            elif outcome.error.errno != errno.ENOENT:
                outcome.error.subject = f"rule {rule.priority}"
                raise outcome.error
        return removed

    @staticmethod
    def _rule_fields(family: int | str | None, src: NetworkLike | None,
                     dst: NetworkLike | None, table: int | str | None, action: str | None,
                     goto: int | None, invert: bool, iif: str | None, oif: str | None,
                     fwmark: int | None, fwmask: int | None, tos: int,
                     suppress_prefixlen: int | None, suppress_ifgroup: int | None,
                     realms: int | None, uid_range: tuple[int, int] | None,
                     ipproto: int | str | None, sport: int | tuple[int, int] | None,
                     dport: int | tuple[int, int] | None, protocol: int | str | None,
                     priority: int | None, *, adding: bool) -> dict[str, Any]:
        """``requests.rule_add``/``rule_del``'s arguments from the user's."""
        prefixes: dict[str, IPNetwork | None] = {}
        for key, value in (("src", src), ("dst", dst)):
            if value is None or (isinstance(value, str) and value in ("all", "default",
                                                                         "any")):
                prefixes[key] = None
            else:
                prefixes[key] = _rule_network(value, "from" if key == "src" else "to")
        number = convert.family_number(family)
        for network in prefixes.values():
            if network is not None:
                version = int(AF_INET if network.version == 4 else AF_INET6)
                if number and number != version:
                    raise ValueError(f"rule: {network} is not of family {family}")
                number = version
        if action is None:
            action_number = int(FR_ACT.FR_ACT_GOTO if goto is not None
                                else FR_ACT.FR_ACT_UNSPEC)
        elif action in convert.RULE_ACTION_NUMBERS:
            action_number = convert.RULE_ACTION_NUMBERS[action]
        elif action == "table":
            action_number = int(FR_ACT.FR_ACT_TO_TBL)
        else:
            raise ValueError(f"unknown rule action {action!r}; expected one of "
                             f"{', '.join(convert.RULE_ACTION_NUMBERS)}")
        table_number = None if table is None else convert.table_number(table)
        if adding and table_number is None and action_number == FR_ACT.FR_ACT_TO_TBL:
            table_number = int(RT_TABLE.RT_TABLE_MAIN)
        if action_number == FR_ACT.FR_ACT_GOTO and goto is None:
            raise ValueError("a goto rule needs the priority to go to (goto=N)")
        return {
            "family": number or int(AF_INET), "priority": priority,
            "src": prefixes["src"], "dst": prefixes["dst"], "invert": invert, "tos": tos,
            "fwmark": fwmark, "fwmask": fwmask, "iif": iif, "oif": oif,
            "table": table_number, "action": action_number, "goto": goto,
            "suppress_prefixlen": suppress_prefixlen, "suppress_ifgroup": suppress_ifgroup,
            "realms": realms, "uid_range": uid_range,
            "ipproto": (ip_protocol_number(ipproto) if isinstance(ipproto, str)
                        else ipproto),
            "sport": (sport, sport) if isinstance(sport, int) else sport,
            "dport": (dport, dport) if isinstance(dport, int) else dport,
            "protocol": None if protocol is None else convert.protocol_number(protocol),
        }

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


@record(slots=False)
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


@record(slots=False)
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
