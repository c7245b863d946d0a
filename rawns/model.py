"""The user's view of network objects: what ``ip`` shows, not what the wire holds.

Invariants:
- Frozen, keyword-only, slotted dataclasses with plain Python values (``str`` names,
  ``ipaddress`` objects, MACs as ``"aa:bb:cc:dd:ee:ff"``); no bytes, no
  netlink structs, so they compare, hash and print well.
- Each has ``to_json()`` giving the keys and value formats of ``ip -j`` for
  the same object, so scripts written against iproute2 carry over. It is the
  one place those keys are written: :mod:`rawns.show` builds ip's text and
  the composites (a link with its ``addr_info``) from it.
"""

from __future__ import annotations

import ipaddress
from _socket import inet_ntop  # socket's, without its enum classes

from rawns.records import field, record

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

__all__ = ["Link", "LinkDetails", "LinkStatistics", "STAT_COUNTERS", "kind_json", "Seconds",
           "Address", "Route", "NextHop", "Neighbour", "Rule", "ip_protocol_name",
           "ip_protocol_number", "IPAddress", "IPNetwork",
           "IPInterface", "RouteSelector", "RuleSelector", "ip_link_flags", "route_flags",
           "INFINITY_LIFE_TIME"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


#: The lifetime of an address that does not expire (if_addr.h), which ip
#: prints as ``forever`` and ``ip -j`` as this number.
INFINITY_LIFE_TIME = 0xFFFFFFFF


# The kernel's numbers by their kernel names. Not from rawns.netlink.constants:
# the user's types load no protocol code (importing it costs ~100 ms); a test
# holds these equal to AF.AF_INET, AF.AF_INET6 and RT_TABLE.RT_TABLE_MAIN.
_AF_INET, _AF_INET6 = 2, 10  # linux/socket.h; not from socket, which costs ~5 ms to import
_RT_TABLE_MAIN = 254  # linux/rtnetlink.h


_FAMILY_NAMES: dict[int, str] = {_AF_INET: "inet", _AF_INET6: "inet6"}
# The tables ip names (its rt_tables file): RT_TABLE_DEFAULT, _MAIN, _LOCAL.
_TABLE_NAMES = {253: "default", _RT_TABLE_MAIN: "main", 255: "local"}


def ip_text(address: IPAddress) -> str:
    """``address`` as ip writes it, which is glibc's inet_ntop: as ``str``
    does, except an IPv6 address that holds an IPv4 one (``::ffff:10.0.0.1``,
    ``::10.0.0.1``), which ipaddress (before Python 3.13) writes in hex."""
    if address.version == 4:
        return str(address)
    return inet_ntop(_AF_INET6, address.packed)


def net_text(network: IPNetwork) -> str:
    """``network`` as ip writes it: ``ip_text`` of its address, ``/``, its length."""
    return f"{ip_text(network.network_address)}/{network.prefixlen}"


def _family_name(family: int) -> str:
    return _FAMILY_NAMES.get(family, str(family))


@record
class Link:
    """A network interface, as ``ip link show`` lists it."""

    index: int
    name: str
    kind: Optional[str] = None          # "veth", "bridge", "vxlan"... None for plain devices
    flags: frozenset[str] = frozenset()  # {"UP", "BROADCAST", "LOWER_UP", ...}
    mtu: Optional[int] = None
    operstate: str = "UNKNOWN"          # "UP", "DOWN", "LOWERLAYERDOWN"...
    link_type: str = "ether"            # "ether", "loopback", "none"...
    address: Optional[str] = None       # MAC
    broadcast: Optional[str] = None
    master: Optional[int] = None        # ifindex of the bridge it is enslaved to
    link: Optional[int] = None          # ifindex of the parent or veth peer
    link_netnsid: Optional[int] = None  # nsid (seen from here) of the namespace holding `link`
    txqlen: Optional[int] = None
    group: Optional[int] = None
    alias: Optional[str] = None
    qdisc: Optional[str] = None
    linkmode: str = "DEFAULT"
    info_data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Read only when asked for (Handle.link_list(details=True)); they change
    # without the link changing, so they take no part in equality.
    details: Optional[LinkDetails] = field(default=None, compare=False, hash=False)
    stats: Optional[LinkStatistics] = field(default=None, compare=False, hash=False)

    @property
    def is_up(self) -> bool:
        """Administratively up (``ip link set DEV up``)."""
        return "UP" in self.flags

    def to_json(self, names: Optional[dict[int, str]] = None, *,
                linkmode: bool = True, details: bool = False, stats: int = 0
                ) -> dict[str, Any]:
        """The object ``ip -j link show`` prints; ``names`` maps ifindex to
        name, to show ``master`` and ``link`` by name as ip does.
        ``linkmode=False`` leaves out the key ``ip -j addr show`` omits.
        ``details`` adds what ``ip -j -d`` adds and ``stats`` (1 or 2) what
        ``ip -j -s [-s] link`` adds, when the link was read with them."""
        names = names or {}
        out: dict[str, Any] = {"ifindex": self.index}
        if self.link is not None:
            # As ip: the peer's index when it lives in another namespace, else
            # its name here ("if7" when no link here has that index).
            if self.link_netnsid is not None:
                out["link_index"] = self.link
            elif self.link == 0:
                out["link"] = None
            else:
                out["link"] = names.get(self.link, f"if{self.link}")
        out["ifname"] = self.name
        out["flags"] = ip_link_flags(self.flags)
        if self.mtu is not None:
            out["mtu"] = self.mtu
        if self.qdisc is not None:
            out["qdisc"] = self.qdisc
        if self.master is not None:
            out["master"] = names.get(self.master, str(self.master))
        out["operstate"] = self.operstate
        if linkmode:
            out["linkmode"] = self.linkmode
        if self.group is not None:
            out["group"] = "default" if self.group == 0 else str(self.group)
        if self.txqlen is not None:
            out["txqlen"] = self.txqlen
        out["link_type"] = self.link_type
        if self.address is not None:
            out["address"] = self.address
        if self.broadcast is not None:
            out["broadcast"] = self.broadcast
        if self.link_netnsid is not None:
            out["link_netnsid"] = self.link_netnsid
        if details and self.details is not None:
            out.update(self.details.to_json(self.kind, self.info_data, names,
                                            linkmode=linkmode))
        if self.alias is not None:
            out["ifalias"] = self.alias
        if stats and self.stats is not None:
            out["stats64"] = self.stats.to_json(stats)
        return out


# The order in which ip prints interface flags (its print_link_flags).
_FLAG_ORDER = [
    "LOOPBACK", "BROADCAST", "POINTOPOINT", "MULTICAST", "NOARP", "ALLMULTI",
    "PROMISC", "MASTER", "SLAVE", "DEBUG", "DYNAMIC", "AUTOMEDIA", "PORTSEL",
    "NOTRAILERS", "UP", "LOWER_UP", "DORMANT", "ECHO",
]


# The order in which ip prints a route's flags (its print_rt_flags); any other last.
def ip_link_flags(flags: frozenset[str]) -> list[str]:
    """Interface flags as ``ip`` lists them: NO-CARRIER for a link that is up
    without carrier, RUNNING left out, the rest in ip's order."""
    out = ["NO-CARRIER"] if "UP" in flags and "RUNNING" not in flags else []
    return out + [f for f in _FLAG_ORDER if f in flags]


@record
class Address:
    """An IP address on an interface, as ``ip addr show`` lists it."""

    index: int                              # ifindex of the interface
    address: IPInterface                    # e.g. IPv4Interface("192.168.10.1/24")
    scope: str = "global"                   # "global", "link", "host"...
    label: Optional[str] = None
    broadcast: Optional[IPAddress] = None
    peer: Optional[IPInterface] = None      # IFA_ADDRESS when it differs from IFA_LOCAL
    flags: frozenset[str] = frozenset()     # {"permanent", "nodad", ...}
    valid_lft: Optional[int] = None         # seconds; None = forever
    preferred_lft: Optional[int] = None

    @property
    def family(self) -> int:
        """AF_INET or AF_INET6, as a plain int."""
        return _AF_INET if self.address.version == 4 else _AF_INET6

    @property
    def prefixlen(self) -> int:
        return self.address.network.prefixlen

    def to_json(self) -> dict[str, Any]:
        """One element of ``addr_info`` in ``ip -j addr show``."""
        out: dict[str, Any] = {"family": _family_name(self.family),
                               "local": ip_text(self.address.ip)}
        if self.peer is not None:
            out["address"] = ip_text(self.peer.ip)
        out["prefixlen"] = self.prefixlen
        if self.broadcast is not None:
            out["broadcast"] = ip_text(self.broadcast)
        out["scope"] = self.scope
        for flag in ("secondary", "tentative", "deprecated", "nodad", "optimistic",
                     "dadfailed", "noprefixroute", "home"):
            if flag in self.flags:
                out[flag] = True
        if "permanent" not in self.flags:  # as ip: a lifetime was given, in either family
            out["dynamic"] = True
        if self.label is not None:
            out["label"] = self.label
        out["valid_life_time"] = (INFINITY_LIFE_TIME if self.valid_lft is None
                                  else self.valid_lft)
        out["preferred_life_time"] = (INFINITY_LIFE_TIME if self.preferred_lft is None
                                      else self.preferred_lft)
        return out


@record
class NextHop:
    """One path of a multipath route (``nexthop via GW dev DEV weight W``)."""

    gateway: Optional[IPAddress] = None
    oif: Optional[int] = None               # ifindex of the output device
    weight: int = 1                         # 1..256 (rtnh_hops + 1)
    flags: frozenset[str] = frozenset()     # {"onlink", "dead", "linkdown", ...}

    def to_json(self, names: Optional[dict[int, str]] = None) -> dict[str, Any]:
        """One element of ``nexthops`` in ``ip -j route show``."""
        names = names or {}
        out: dict[str, Any] = {}
        if self.gateway is not None:
            out["gateway"] = ip_text(self.gateway)
        if self.oif:
            out["dev"] = names.get(self.oif, f"if{self.oif}")
        out["weight"] = self.weight
        out["flags"] = route_flags(self.flags)
        return out


# The order in which ip prints route and next-hop flags (its print_rt_flags).
_ROUTE_FLAG_ORDER = ["dead", "onlink", "pervasive", "offload", "trap", "notify", "linkdown",
                     "unresolved"]


def route_flags(flags: frozenset[str]) -> list[str]:
    """Route or next-hop flags in the order ip prints them."""
    return [f for f in _ROUTE_FLAG_ORDER if f in flags] + sorted(
        f for f in flags if f not in _ROUTE_FLAG_ORDER)


#: The route metrics (RTAX_*) whose values ip prints in milliseconds, and by what
#: the kernel's number is divided first (rtt in 1/8 ms, rttvar in 1/4 ms).
_MS_METRICS = {"rtt": 8, "rttvar": 4, "rto_min": 1}


@record
class Route:
    """A route, as ``ip route show`` (or ``ip route get``) lists it."""

    dst: Optional[IPNetwork]                # None: default
    family: int = _AF_INET
    gateway: Optional[IPAddress] = None
    oif: Optional[int] = None               # ifindex of the output device
    table: int = _RT_TABLE_MAIN
    protocol: str = "boot"
    scope: str = "global"
    type: str = "unicast"
    prefsrc: Optional[IPAddress] = None
    metric: Optional[int] = None
    flags: frozenset[str] = frozenset()      # {"onlink", "linkdown", ...}
    pref: Optional[str] = None               # IPv6 router preference: "medium"...
    src: Optional[IPNetwork] = None          # source prefix (``from``): RTA_SRC/rtm_src_len
    tos: int = 0
    nexthops: tuple[NextHop, ...] = ()       # multipath: one per path
    metrics: tuple[tuple[str, Union[int, str]], ...] = ()  # (("mtu", 1300), ...) RTAX order
    locked: frozenset[str] = frozenset()     # metrics given with ``lock``
    mark: Optional[int] = None               # ``route get ... mark M``
    uid: Optional[int] = None                # ``route get``: the uid the lookup was for
    iif: Optional[int] = None                # ``route get ... iif DEV``
    cloned: bool = False                     # RTM_F_CLONED: a lookup's result (route get)
    cache: tuple[str, ...] = ()              # its route-cache flags: ("local",)...
    expires: Optional[int] = None            # seconds left (< 0: overdue), for routes that expire
    # RTA_CACHEINFO's use counts, which ``ip -s`` prints where not zero
    users: int = 0                           # rta_clntref: references held
    used: int = 0                            # rta_used
    age: int = 0                             # rta_lastuse: seconds since last used

    def metric_value(self, name: str) -> Union[int, str, None]:
        """The value of one metric (``"mtu"``, ``"advmss"``...), or None."""
        for key, value in self.metrics:
            if key == name:
                return value
        return None

    def to_json(self, names: Optional[dict[int, str]] = None, *,
                show_table: bool = True, details: bool = False,
                hide: frozenset[str] = frozenset(), stats: bool = False) -> dict[str, Any]:
        """One element of ``ip -j route show``: what ip leaves out by default
        (unicast type, main table, boot protocol, global scope) is left out,
        unless ``details`` (``ip -d``); ``stats`` (``ip -s``) adds the use
        counts that are not zero (``users``, ``used``, ``age``). ``show_table=False`` also leaves out
        the table, as ip does when the listing asked for one table; ``hide``
        names the keys a listing filtered on exactly (``dev``, ``protocol``,
        ``scope``, ``gateway``, ``metric``...), which ip does not repeat."""
        names = names or {}
        out: dict[str, Any] = {}
        if self.type != "unicast" or details:
            out["type"] = self.type
        if self.dst is None:
            out["dst"] = "default"
        elif self.dst.prefixlen == self.dst.max_prefixlen:
            out["dst"] = ip_text(self.dst.network_address)
        else:
            out["dst"] = net_text(self.dst)
        if self.src is not None:
            out["from"] = (ip_text(self.src.network_address)
                           if self.src.prefixlen == self.src.max_prefixlen else net_text(self.src))
        if self.tos:
            out["tos"] = _DSFIELDS.get(self.tos, f"0x{self.tos:02x}")
        if self.gateway is not None:
            out["gateway"] = ip_text(self.gateway)
        if self.oif is not None:
            out["dev"] = names.get(self.oif, f"if{self.oif}")
        if show_table and (self.table != _RT_TABLE_MAIN or details):
            out["table"] = _TABLE_NAMES.get(self.table, str(self.table))
        if not self.cloned:
            if self.protocol != "boot" or details:
                out["protocol"] = self.protocol
            if self.scope != "global" or details:
                out["scope"] = self.scope
        if self.prefsrc is not None:
            out["prefsrc"] = ip_text(self.prefsrc)
        if self.metric is not None:
            out["metric"] = self.metric
        out["flags"] = route_flags(self.flags)
        if self.mark:
            out["mark"] = self.mark
        if self.uid is not None:
            out["uid"] = self.uid
        if self.cloned and self.family == _AF_INET:
            out["cache"] = list(self.cache)
        if self.expires is not None:
            out["expires"] = self.expires
        if stats:
            for key, count in (("users", self.users), ("used", self.used), ("age", self.age)):
                if count:
                    out[key] = count
        if self.metrics:
            values: dict[str, Any] = {}
            for name, value in self.metrics:
                if name == "congctl":
                    values["congestion"] = value
                elif name in _MS_METRICS and isinstance(value, int):
                    ms = value // _MS_METRICS[name]
                    values[name] = ms / 1000 if ms >= 1000 else ms
                else:
                    values[name] = value
            out["metrics"] = [values]
        if self.iif is not None:
            out["iif"] = names.get(self.iif, f"if{self.iif}")
        if self.pref is not None:
            out["pref"] = self.pref
        if self.nexthops:
            out["nexthops"] = [hop.to_json(names) for hop in self.nexthops]
        for key in hide:
            out.pop(key, None)
        return out


@record
class Neighbour:
    """An entry of the ARP (IPv4) or NDP (IPv6) table, as ``ip neigh show``."""

    index: int                              # ifindex
    dst: IPAddress
    lladdr: Optional[str] = None            # MAC, None while INCOMPLETE/FAILED
    state: frozenset[str] = frozenset()     # {"REACHABLE"}, {"PERMANENT"}...
    flags: frozenset[str] = frozenset()     # {"router", "proxy", ...}
    # NDA_CACHEINFO and NDA_PROBES, which ``ip -s neigh`` prints: seconds
    # since the entry was used, confirmed and updated (None: not reported),
    # the references held, and the probes sent
    used: Optional[int] = None
    confirmed: Optional[int] = None
    updated: Optional[int] = None
    refcnt: int = 0
    probes: Optional[int] = None

    @property
    def family(self) -> int:
        """AF_INET or AF_INET6, as a plain int."""
        return _AF_INET if self.dst.version == 4 else _AF_INET6

    def to_json(self, names: Optional[dict[int, str]] = None, *,
                stats: bool = False) -> dict[str, Any]:
        """One element of ``ip -j neigh show``; ``stats``: of ``ip -j -s neigh
        show`` (``refcnt`` when not zero, ``used``, ``confirmed``,
        ``updated``, ``probes``)."""
        names = names or {}
        out: dict[str, Any] = {"dst": ip_text(self.dst),
                               "dev": names.get(self.index, str(self.index))}
        if self.lladdr is not None:
            out["lladdr"] = self.lladdr
        for flag, key in (("router", "router"), ("proxy", "proxy"),
                          ("ext_learned", "extern_learn"), ("offloaded", "offload")):
            if flag in self.flags:
                out[key] = None
        if stats:
            if self.refcnt:
                out["refcnt"] = self.refcnt
            if self.used is not None:
                out["used"] = self.used
                out["confirmed"] = self.confirmed
                out["updated"] = self.updated
            if self.probes is not None:
                out["probes"] = self.probes
        if self.state:
            out["state"] = [s for s in _NUD_ORDER if s in self.state] + sorted(
                s for s in self.state if s not in _NUD_ORDER)
        return out


# The order in which ip prints neighbour states (its print_neigh_state).
_NUD_ORDER = ["INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP",
              "PERMANENT"]


#: IP protocol names ip prints for ``ipproto`` (from /etc/protocols); others
#: print as ``ipproto-N``.
_IP_PROTOCOLS = {1: "icmp", 2: "igmp", 4: "ipencap", 6: "tcp", 17: "udp", 41: "ipv6",
                 47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 132: "sctp",
                 136: "udplite"}


def ip_protocol_name(number: int) -> str:
    """``6`` -> ``"tcp"``, as ip names an IP protocol."""
    return _IP_PROTOCOLS.get(number, f"ipproto-{number}")


def ip_protocol_number(name: str) -> int:
    """``"tcp"`` -> 6 (also ``"6"`` and ``"ipproto-6"``); ValueError if unknown."""
    for number, known in _IP_PROTOCOLS.items():
        if known == name:
            return number
    text = name.removeprefix("ipproto-")
    if text.isdigit() and int(text) < 256:
        return int(text)
    raise ValueError(f"unknown IP protocol {name!r}")


@record
class Rule:
    """A policy routing rule, as ``ip rule show`` lists it.

    ``action`` is ``"lookup"`` (in ``table``), ``"goto"`` (the rule of
    priority ``goto``), ``"nop"``, ``"blackhole"``, ``"unreachable"`` or
    ``"prohibit"``. Prefixes are None for "all".
    """

    family: int = _AF_INET
    priority: int = 0
    src: Optional[IPNetwork] = None           # from
    dst: Optional[IPNetwork] = None           # to
    invert: bool = False                      # not
    tos: int = 0
    fwmark: Optional[int] = None
    fwmask: Optional[int] = None
    iif: Optional[str] = None
    oif: Optional[str] = None
    iif_detached: bool = False                # the iif named does not exist (yet)
    oif_detached: bool = False
    table: int = 0
    action: str = "lookup"
    goto: Optional[int] = None
    unresolved: bool = False                  # a goto whose target rule is missing
    suppress_prefixlen: Optional[int] = None
    suppress_ifgroup: Optional[int] = None
    realms: Optional[int] = None              # FRA_FLOW: from << 16 | to
    uid_range: Optional[tuple[int, int]] = None
    ipproto: Optional[int] = None
    sport: Optional[tuple[int, int]] = None
    dport: Optional[tuple[int, int]] = None
    protocol: str = "unspec"
    l3mdev: bool = False

    def to_json(self, *, details: bool = False) -> dict[str, Any]:
        """One element of ``ip -j rule show`` (``details``: ``ip -d -j``)."""
        out: dict[str, Any] = {"priority": self.priority}
        if self.invert:
            out["not"] = None
        for key, prefix in (("src", self.src), ("dst", self.dst)):
            if prefix is not None:
                out[key] = ip_text(prefix.network_address)
                if prefix.prefixlen != prefix.max_prefixlen:
                    out[f"{key}len"] = prefix.prefixlen
            elif key == "src":
                out["src"] = "all"
        if self.tos:
            out["tos"] = _DSFIELDS.get(self.tos, f"0x{self.tos:02x}")
        if self.fwmark is not None or self.fwmask is not None:
            out["fwmark"] = _hex(self.fwmark or 0)
            if self.fwmask is not None and self.fwmask != 0xFFFFFFFF:
                out["fwmask"] = _hex(self.fwmask)
        if self.iif is not None:
            out["iif"] = self.iif
            if self.iif_detached:
                out["iif_detached"] = None
        if self.oif is not None:
            out["oif"] = self.oif
            if self.oif_detached:
                out["oif_detached"] = None
        if self.l3mdev:
            out["l3mdev"] = None
        if self.uid_range is not None:
            out["uid_start"], out["uid_end"] = self.uid_range
        if self.ipproto is not None:
            out["ipproto"] = ip_protocol_name(self.ipproto)
        for key, ports in (("sport", self.sport), ("dport", self.dport)):
            if ports is not None:
                if ports[0] == ports[1]:
                    out[key] = ports[0]
                else:
                    out[f"{key}_start"], out[f"{key}_end"] = ports
        if self.table:
            out["table"] = _TABLE_NAMES.get(self.table, str(self.table))
            if self.suppress_prefixlen is not None and self.suppress_prefixlen != 0xFFFFFFFF:
                out["suppress_prefixlen"] = self.suppress_prefixlen
            if self.suppress_ifgroup is not None and self.suppress_ifgroup != 0xFFFFFFFF:
                out["suppress_ifgroup"] = ("default" if self.suppress_ifgroup == 0
                                           else str(self.suppress_ifgroup))
        if self.realms is not None:
            if self.realms >> 16:
                out["flow_from"] = _realm(self.realms >> 16)
            out["flow_to"] = _realm(self.realms & 0xFFFF)
        if self.action == "goto":
            out["goto"] = self.goto if self.goto is not None else "none"
            if self.unresolved:
                out["unresolved"] = None
        elif self.action == "nop":
            out["nop"] = None
        elif self.action != "lookup":
            out["action"] = self.action
        if self.protocol not in ("unspec", "kernel") or details:
            out["protocol"] = self.protocol
        return out


# DS field names (ip's rt_dsfield file) and realm names (rt_realms): ip prints these.
_DSFIELDS = {0x28: "AF11", 0x30: "AF12", 0x38: "AF13", 0x48: "AF21", 0x50: "AF22",
             0x58: "AF23", 0x68: "AF31", 0x70: "AF32", 0x78: "AF33", 0x88: "AF41",
             0x90: "AF42", 0x98: "AF43", 0x20: "CS1", 0x40: "CS2", 0x60: "CS3", 0x80: "CS4",
             0xA0: "CS5", 0xC0: "CS6", 0xE0: "CS7", 0xB8: "EF"}


def _hex(value: int) -> str:
    return f"{value:#x}" if value else "0"


def _realm(value: int) -> str:
    return "cosmos" if value == 0 else str(value)


def _prefix_bits(network: IPNetwork, length: int) -> int:
    """The first ``length`` bits of ``network``'s address, as an int."""
    shift = network.max_prefixlen - length
    return int(network.network_address) >> shift if length else 0


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    """``inner`` lies inside ``outer`` (same family, longer or equal prefix)."""
    return (inner.version == outer.version and inner.prefixlen >= outer.prefixlen
            and _prefix_bits(inner, outer.prefixlen) == _prefix_bits(outer, outer.prefixlen))


@record
class RouteSelector:
    """Which routes ``ip route show|flush SELECTORS`` means: every field given
    must hold (None or empty: any). ``matches(route)`` decides one route.

    - ``exact``: the route's destination is this prefix (``ip route show
      PREFIX``); ``root``: it lies inside this prefix; ``match``: it contains
      this prefix (the routes a lookup of it could use). A prefix of length 0
      is the default route; ``default_any`` asks for the default route of
      either family.
    - ``gateway``: the route's gateway lies inside this prefix (``via``).
    """

    exact: Optional[IPNetwork] = None
    root: Optional[IPNetwork] = None
    match: Optional[IPNetwork] = None
    default_any: bool = False
    table: Optional[int] = None
    oif: Optional[int] = None
    protocol: Optional[str] = None
    scope: Optional[str] = None
    types: frozenset[str] = frozenset()
    gateway: Optional[IPNetwork] = None
    metric: Optional[int] = None

    def matches(self, route: Route) -> bool:
        """Whether ``route`` is one of the routes selected."""
        dst = route.dst
        if dst is None:
            zero = "0.0.0.0/0" if route.family == _AF_INET else "::/0"
            dst = ipaddress.ip_network(zero)
        if self.default_any and dst.prefixlen != 0:
            return False
        if self.exact is not None and not (
                dst.prefixlen == self.exact.prefixlen and _within(dst, self.exact)):
            return False
        if self.root is not None and not _within(dst, self.root):
            return False
        if self.match is not None and not _within(self.match, dst):
            return False
        if self.table is not None and route.table != self.table:
            return False
        if self.oif is not None and route.oif != self.oif:
            return False
        if self.protocol is not None and route.protocol != self.protocol:
            return False
        if self.scope is not None and route.scope != self.scope:
            return False
        if self.types and route.type not in self.types:
            return False
        if self.metric is not None and (route.metric or 0) != self.metric:
            return False
        if self.gateway is not None:
            gateway = route.gateway
            if gateway is None or gateway.version != self.gateway.version:
                return False
            if not _within(ipaddress.ip_network(gateway), self.gateway):
                return False
        return True


@record
class RuleSelector:
    """Which rules ``ip rule show|flush SELECTORS`` means: every field given must
    hold (None: any). ``src``/``dst``: the rule's prefix lies inside this one;
    ``invert``: only ``not`` rules."""

    src: Optional[IPNetwork] = None
    dst: Optional[IPNetwork] = None
    invert: bool = False
    iif: Optional[str] = None
    oif: Optional[str] = None
    fwmark: Optional[int] = None
    fwmask: Optional[int] = None
    table: Optional[int] = None
    priority: Optional[int] = None
    protocol: Optional[str] = None

    def matches(self, rule: Rule) -> bool:
        """Whether ``rule`` is one of the rules selected."""
        for mine, theirs in ((self.src, rule.src), (self.dst, rule.dst)):
            if mine is None:
                continue
            if theirs is None:
                zero = "0.0.0.0/0" if rule.family == _AF_INET else "::/0"
                theirs = ipaddress.ip_network(zero)
            if not _within(theirs, mine):
                return False
        if self.invert and not rule.invert:
            return False
        checks = ((self.iif, rule.iif), (self.oif, rule.oif), (self.fwmark, rule.fwmark),
                  (self.fwmask, rule.fwmask), (self.table, rule.table),
                  (self.priority, rule.priority), (self.protocol, rule.protocol))
        return all(mine is None or mine == theirs for mine, theirs in checks)


# --- details (ip -d) and statistics (ip -s) of links -----------------------------------

#: The 24 counters of ``struct rtnl_link_stats64`` (and the 25th, newer one), in order.
STAT_COUNTERS = (
    "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
    "rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors",
    "rx_over_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
    "rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
    "tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed",
    "rx_nohandler", "rx_otherhost_dropped",
)


@record
class LinkStatistics:
    """A link's counters (IFLA_STATS64), as ``ip -s link`` shows them."""

    rx_packets: int = 0
    tx_packets: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_errors: int = 0
    tx_errors: int = 0
    rx_dropped: int = 0
    tx_dropped: int = 0
    multicast: int = 0
    collisions: int = 0
    rx_length_errors: int = 0
    rx_over_errors: int = 0
    rx_crc_errors: int = 0
    rx_frame_errors: int = 0
    rx_fifo_errors: int = 0
    rx_missed_errors: int = 0
    tx_aborted_errors: int = 0
    tx_carrier_errors: int = 0
    tx_fifo_errors: int = 0
    tx_heartbeat_errors: int = 0
    tx_window_errors: int = 0
    rx_compressed: int = 0
    tx_compressed: int = 0
    rx_nohandler: int = 0
    rx_otherhost_dropped: int = 0
    carrier_changes: Optional[int] = None   # IFLA_CARRIER_CHANGES

    def to_json(self, level: int = 1) -> dict[str, Any]:
        """``stats64`` of ``ip -j -s link`` (``level=2``: ``-s -s``)."""
        rx: dict[str, Any] = {"bytes": self.rx_bytes, "packets": self.rx_packets,
                              "errors": self.rx_errors, "dropped": self.rx_dropped,
                              "over_errors": self.rx_over_errors,
                              "multicast": self.multicast}
        if self.rx_compressed:
            rx["compressed"] = self.rx_compressed
        if level > 1:
            rx.update(length_errors=self.rx_length_errors, crc_errors=self.rx_crc_errors,
                      frame_errors=self.rx_frame_errors, fifo_errors=self.rx_fifo_errors,
                      missed_errors=self.rx_missed_errors)
            if self.rx_nohandler:
                rx["nohandler"] = self.rx_nohandler
            if self.rx_otherhost_dropped:
                rx["otherhost"] = self.rx_otherhost_dropped
        tx: dict[str, Any] = {"bytes": self.tx_bytes, "packets": self.tx_packets,
                              "errors": self.tx_errors, "dropped": self.tx_dropped,
                              "carrier_errors": self.tx_carrier_errors,
                              "collisions": self.collisions}
        if self.tx_compressed:
            tx["compressed"] = self.tx_compressed
        if level > 1:
            tx.update(aborted_errors=self.tx_aborted_errors, fifo_errors=self.tx_fifo_errors,
                      window_errors=self.tx_window_errors,
                      heartbeat_errors=self.tx_heartbeat_errors)
            if self.carrier_changes is not None:
                tx["carrier_changes"] = self.carrier_changes
        return {"rx": rx, "tx": tx}


@record
class LinkDetails:
    """What ``ip -d link`` adds to a link: queue and offload sizes, the kind's
    data (``Link.info_data``), the data of its port in a master (``slave_data``)."""

    promiscuity: int = 0
    allmulti: Optional[int] = None
    min_mtu: Optional[int] = None
    max_mtu: Optional[int] = None
    num_tx_queues: Optional[int] = None
    num_rx_queues: Optional[int] = None
    gso_max_size: Optional[int] = None
    gso_max_segs: Optional[int] = None
    tso_max_size: Optional[int] = None
    tso_max_segs: Optional[int] = None
    gro_max_size: Optional[int] = None
    addr_gen_mode: Optional[str] = None      # IPv6: "eui64", "none", "stable_secret"...
    slave_kind: Optional[str] = None         # "bridge" for a bridge port
    slave_data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self, kind: Optional[str], info_data: dict[str, Any],
                names: dict[int, str], *, linkmode: bool = True) -> dict[str, Any]:
        """The keys ``ip -j -d`` adds to a link (``linkmode=False``: as in
        ``ip -d addr``, without the IPv6 address generation mode)."""
        out: dict[str, Any] = {"promiscuity": self.promiscuity}
        for key in ("allmulti", "min_mtu", "max_mtu"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if kind is not None or self.slave_kind is not None:
            info: dict[str, Any] = {}
            if kind is not None:
                info["info_kind"] = kind
                data = kind_json(kind, info_data, names)
                if data is not None:
                    info["info_data"] = data
            if self.slave_kind is not None:
                info["info_slave_kind"] = self.slave_kind
                data = kind_json(self.slave_kind + "_slave", self.slave_data, names)
                if data is not None:
                    info["info_slave_data"] = data
            out["linkinfo"] = info
        if linkmode and self.addr_gen_mode is not None:
            out["inet6_addr_gen_mode"] = self.addr_gen_mode
        for key in ("num_tx_queues", "num_rx_queues", "gso_max_size", "gso_max_segs",
                    "tso_max_size", "tso_max_segs", "gro_max_size"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def kind_json(kind: str, data: dict[str, Any], names: dict[int, str]
              ) -> Optional[dict[str, Any]]:
    """``info_data`` of ``ip -j -d link`` for a link of ``kind`` (``"bridge_slave"``
    for a bridge port), from its IFLA_INFO_DATA values by kernel name; None for
    the kinds ip shows no data of (veth, ifb, dummy...)."""
    render = _KIND_JSON.get(kind)
    return None if render is None else render(data, names)


def _bridge_id(value: Any) -> str:
    """``8000.0:1a:2b:...``: ip's spelling of a bridge id (octets without leading 0)."""
    text = str(value)
    priority, _, mac = text.partition(".")
    return priority + "." + ":".join(f"{int(octet, 16):x}" for octet in mac.split(":"))


class Seconds(float):
    """A timer in seconds, which ip prints with two decimals (``0.00``) in text
    and JSON alike; equal to the plain float."""

    __slots__ = ()


def _timer(value: Any) -> float:
    return Seconds(round(int(value) / 100, 2))  # clock ticks (USER_HZ) -> seconds


def _take(data: dict[str, Any], out: dict[str, Any],
          pairs: tuple[tuple[str, str], ...], convert: Any = None) -> None:
    for name, key in pairs:
        if name in data:
            value = data[name]
            out[key] = convert(value) if convert is not None else int(value)


def _bridge_json(data: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    b = "IFLA_BR_"
    _take(data, out, ((b + "FORWARD_DELAY", "forward_delay"), (b + "HELLO_TIME", "hello_time"),
                      (b + "MAX_AGE", "max_age"), (b + "AGEING_TIME", "ageing_time"),
                      (b + "STP_STATE", "stp_state"), (b + "PRIORITY", "priority"),
                      (b + "VLAN_FILTERING", "vlan_filtering")))
    if b + "VLAN_PROTOCOL" in data:
        out["vlan_protocol"] = {0x8100: "802.1Q", 0x88A8: "802.1ad"}.get(
            int(data[b + "VLAN_PROTOCOL"]), f"{int(data[b + 'VLAN_PROTOCOL']):#x}")
    _take(data, out, ((b + "BRIDGE_ID", "bridge_id"), (b + "ROOT_ID", "root_id")), _bridge_id)
    _take(data, out, ((b + "ROOT_PORT", "root_port"), (b + "ROOT_PATH_COST", "root_path_cost"),
                      (b + "TOPOLOGY_CHANGE", "topology_change"),
                      (b + "TOPOLOGY_CHANGE_DETECTED", "topology_change_detected")))
    _take(data, out, ((b + "HELLO_TIMER", "hello_timer"), (b + "TCN_TIMER", "tcn_timer"),
                      (b + "TOPOLOGY_CHANGE_TIMER", "topology_change_timer"),
                      (b + "GC_TIMER", "gc_timer")), _timer)
    _take(data, out, ((b + "VLAN_DEFAULT_PVID", "vlan_default_pvid"),
                      (b + "VLAN_STATS_ENABLED", "vlan_stats_enabled"),
                      (b + "VLAN_STATS_PER_PORT", "vlan_stats_per_port")))
    _take(data, out, ((b + "GROUP_FWD_MASK", "group_fwd_mask"),), lambda v: _hex(int(v)))
    _take(data, out, ((b + "GROUP_ADDR", "group_addr"),), str)
    _take(data, out, ((b + "MCAST_SNOOPING", "mcast_snooping"),))
    boolopt = data.get(b + "MULTI_BOOLOPT")
    if isinstance(boolopt, dict) and "optmask" in boolopt:
        for bit, key in ((0, "no_linklocal_learn"), (1, "mcast_vlan_snooping")):
            if boolopt["optmask"] & (1 << bit):
                out[key] = 1 if boolopt["optval"] & (1 << bit) else 0
    _take(data, out, tuple((b + name, key) for name, key in (
        ("MCAST_ROUTER", "mcast_router"), ("MCAST_QUERY_USE_IFADDR", "mcast_query_use_ifaddr"),
        ("MCAST_QUERIER", "mcast_querier"), ("MCAST_HASH_ELASTICITY", "mcast_hash_elasticity"),
        ("MCAST_HASH_MAX", "mcast_hash_max"), ("MCAST_LAST_MEMBER_CNT", "mcast_last_member_cnt"),
        ("MCAST_STARTUP_QUERY_CNT", "mcast_startup_query_cnt"),
        ("MCAST_LAST_MEMBER_INTVL", "mcast_last_member_intvl"),
        ("MCAST_MEMBERSHIP_INTVL", "mcast_membership_intvl"),
        ("MCAST_QUERIER_INTVL", "mcast_querier_intvl"),
        ("MCAST_QUERY_INTVL", "mcast_query_intvl"),
        ("MCAST_QUERY_RESPONSE_INTVL", "mcast_query_response_intvl"),
        ("MCAST_STARTUP_QUERY_INTVL", "mcast_startup_query_intvl"),
        ("MCAST_STATS_ENABLED", "mcast_stats_enabled"),
        ("MCAST_IGMP_VERSION", "mcast_igmp_version"), ("MCAST_MLD_VERSION", "mcast_mld_version"),
        ("NF_CALL_IPTABLES", "nf_call_iptables"), ("NF_CALL_IP6TABLES", "nf_call_ip6tables"),
        ("NF_CALL_ARPTABLES", "nf_call_arptables"))))
    return out


_PORT_STATES = {0: "disabled", 1: "listening", 2: "learning", 3: "forwarding", 4: "blocking"}


def _bridge_slave_json(data: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    p = "IFLA_BRPORT_"
    if p + "STATE" in data:
        state = int(data[p + "STATE"])
        out["state"] = _PORT_STATES.get(state, str(state))
    _take(data, out, ((p + "PRIORITY", "priority"), (p + "COST", "cost")))
    _take(data, out, ((p + "MODE", "hairpin"), (p + "GUARD", "guard"),
                      (p + "PROTECT", "root_block"), (p + "FAST_LEAVE", "fastleave"),
                      (p + "LEARNING", "learning"), (p + "UNICAST_FLOOD", "flood")), bool)
    _take(data, out, ((p + "ID", "id"), (p + "NO", "no")), lambda v: _hex(int(v)))
    _take(data, out, ((p + "DESIGNATED_PORT", "designated_port"),
                      (p + "DESIGNATED_COST", "designated_cost")))
    _take(data, out, ((p + "BRIDGE_ID", "bridge_id"), (p + "ROOT_ID", "root_id")), _bridge_id)
    _take(data, out, ((p + "HOLD_TIMER", "hold_timer"),
                      (p + "MESSAGE_AGE_TIMER", "message_age_timer"),
                      (p + "FORWARD_DELAY_TIMER", "forward_delay_timer")), _timer)
    _take(data, out, ((p + "TOPOLOGY_CHANGE_ACK", "topology_change_ack"),
                      (p + "CONFIG_PENDING", "config_pending")))
    _take(data, out, ((p + "PROXYARP", "proxy_arp"), (p + "PROXYARP_WIFI", "proxy_arp_wifi")),
          bool)
    _take(data, out, ((p + "MULTICAST_ROUTER", "multicast_router"),))
    _take(data, out, ((p + "MCAST_FLOOD", "mcast_flood"), (p + "BCAST_FLOOD", "bcast_flood"),
                      (p + "MCAST_TO_UCAST", "mcast_to_unicast"),
                      (p + "NEIGH_SUPPRESS", "neigh_suppress")), bool)
    if p + "GROUP_FWD_MASK" in data:
        mask = int(data[p + "GROUP_FWD_MASK"])
        out["group_fwd_mask"] = _hex(mask)
        out["group_fwd_mask_str"] = f"0x{mask:x}"
    _take(data, out, ((p + "VLAN_TUNNEL", "vlan_tunnel"), (p + "ISOLATED", "isolated")), bool)
    if p + "BACKUP_PORT" in data:
        index = int(data[p + "BACKUP_PORT"])
        out["backup_port"] = names.get(index, f"if{index}")
    _take(data, out, ((p + "LOCKED", "locked"),), bool)
    return out


def _vxlan_json(data: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    v = "IFLA_VXLAN_"
    if data.get(v + "COLLECT_METADATA"):
        out["external"] = True
    if data.get(v + "VNIFILTER"):
        out["vnifilter"] = True
    _take(data, out, ((v + "ID", "id"),))
    group = data.get(v + "GROUP")
    group6 = data.get(v + "GROUP6")
    if v + "GROUP" in data:
        if group is not None and int(group):
            out["group" if group.is_multicast else "remote"] = ip_text(group)
    elif group6 is not None and int(group6):
        out["group6" if group6.is_multicast else "remote6"] = ip_text(group6)
    local, local6 = data.get(v + "LOCAL"), data.get(v + "LOCAL6")
    if v + "LOCAL" in data:
        if local is not None and int(local):
            out["local"] = ip_text(local)
    elif local6 is not None and int(local6):
        out["local6"] = ip_text(local6)
    link = data.get(v + "LINK")
    if link:
        out["link"] = names.get(int(link), f"if{int(link)}")
    ports = data.get(v + "PORT_RANGE")
    if ports is not None:
        low, high = ports
        out["port_range"] = {"low": int(low), "high": int(high)}
    _take(data, out, ((v + "PORT", "port"),))
    if v + "LEARNING" in data:
        out["learning"] = bool(data[v + "LEARNING"])
    for name, key in (("PROXY", "proxy"), ("RSC", "rsc"), ("L2MISS", "l2miss"),
                      ("L3MISS", "l3miss")):
        if data.get(v + name):
            out[key] = True
    tos = int(data.get(v + "TOS", 0) or 0)
    if tos:
        out["tos"] = _hex(tos)
    inherit = data.get(v + "TTL_INHERIT")
    if not (inherit and inherit not in (b"\0",)):
        _take(data, out, ((v + "TTL", "ttl"),))
    if v + "DF" in data:
        out["df"] = {0: "unset", 1: "set", 2: "inherit"}.get(int(data[v + "DF"]), "unset")
    label = int(data.get(v + "LABEL", 0) or 0)
    if label:
        out["label"] = _hex(label)
    _take(data, out, ((v + "AGEING", "ageing"),))
    if data.get(v + "LIMIT"):
        out["limit"] = int(data[v + "LIMIT"])
    for name, key in (("UDP_CSUM", "udp_csum"), ("UDP_ZERO_CSUM6_TX", "udp_zero_csum6_tx"),
                      ("UDP_ZERO_CSUM6_RX", "udp_zero_csum6_rx")):
        if v + name in data:
            out[key] = bool(data[v + name])
    for name, key in (("REMCSUM_TX", "remcsum_tx"), ("REMCSUM_RX", "remcsum_rx")):
        if data.get(v + name):
            out[key] = True
    for name, key in (("GBP", "gbp"), ("GPE", "gpe")):
        if v + name in data:
            out[key] = True
    return out


_MACVLAN_MODES = {1: "private", 2: "vepa", 4: "bridge", 8: "passthru", 16: "source"}


def _macvlan_json(data: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = "IFLA_MACVLAN_"
    if m + "MODE" not in data:
        return out
    out["mode"] = _MACVLAN_MODES.get(int(data[m + "MODE"]), "unknown")
    flags = int(data.get(m + "FLAGS", 0) or 0)
    if flags & 1:
        out["nopromisc"] = True
    if flags & 2:
        out["nodst"] = True
    _take(data, out, ((m + "BC_QUEUE_LEN", "bcqueuelen"),
                      (m + "BC_QUEUE_LEN_USED", "usedbcqueuelen")))
    return out


def _tun_json(data: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t = "IFLA_TUN_"
    if t + "TYPE" in data:
        out["type"] = {1: "tun", 2: "tap"}.get(int(data[t + "TYPE"]), "unknown")
    for name, key in (("PI", "pi"), ("VNET_HDR", "vnet_hdr")):
        if t + name in data:
            out[key] = bool(data[t + name])
    if t + "MULTI_QUEUE" in data:
        out["multi_queue"] = bool(data[t + "MULTI_QUEUE"])
        if out["multi_queue"]:
            _take(data, out, ((t + "NUM_QUEUES", "numqueues"),
                              (t + "NUM_DISABLED_QUEUES", "numdisabled")))
    if t + "PERSIST" in data:
        out["persist"] = bool(data[t + "PERSIST"])
    for name, key, lookup in (("OWNER", "user", _user_name), ("GROUP", "group", _group_name)):
        value = data.get(t + name)
        if value is not None and int(value) != 0xFFFFFFFF:
            out[key] = lookup(int(value))
    return out


def _user_name(uid: int) -> str:
    import pwd  # only for tun owners: the user database is not read otherwise

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


_KIND_JSON = {"bridge": _bridge_json, "bridge_slave": _bridge_slave_json,
              "vxlan": _vxlan_json, "macvlan": _macvlan_json, "macvtap": _macvlan_json,
              "tun": _tun_json}
