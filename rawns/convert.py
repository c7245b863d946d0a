"""The kernel's terms into the user's: replies into ``rawns.model`` objects, names into numbers.

Invariants:
- Pure functions, no I/O: ``*_from_message`` over decoded
  ``rawns.netlink.Message`` objects, and readers ``read_*`` over one reply's
  bytes (read by the same tables with ``netlink.header_and_values``); both
  build the same object, or raise DecodeError and nothing else.
- Names follow iproute2's spelling (``global``/``link`` scopes, ``kernel``/
  ``boot`` protocols, ``PERMANENT``/``REACHABLE`` states), so what rawns shows
  reads like ``ip`` and what a user types for ``ip`` works here.
"""

from __future__ import annotations

import ipaddress

from rawns.errors import DecodeError
from rawns.model import (
    STAT_COUNTERS, Address, Link, LinkDetails, LinkStatistics, Neighbour, NextHop, Route, Rule,
)
from rawns.netlink import Frame, Message, header_and_values
from rawns.netlink.fast import fast_constructor
from rawns.netlink.constants import (
    AF, ARPHRD, FIB_RULE, FR_ACT, IF_LINK_MODE, IF_OPER, IFA_F, IFF, NTF, NUD, RT_SCOPE, RT_TABLE, RTAX, RTM,
    RTM_F, RTN, RTNH_F, RTPROT,
)

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Optional, TypeVar

__all__ = [
    "link_from_message",
    "address_from_message",
    "route_from_message",
    "neighbour_from_message",
    "read_link",
    "read_link_details",
    "read_address",
    "read_route",
    "read_neighbour",
    "rule_from_message",
    "read_rule",
    "RULE_ACTION_NUMBERS",
    "scope_number",
    "protocol_number",
    "route_type_number",
    "table_number",
    "nud_number",
    "SCOPE_NAMES",
    "PROTOCOL_NAMES",
    "TABLE_NAMES",
    "METRIC_NAMES",
    "ROUTE_TYPE_NAMES",
    "IPV6_PREF_NAMES",
    "address_flag_names",
    "nud_state_names",
    "neighbour_flag_names",
    "USER_HZ",
]

if TYPE_CHECKING:
    T = TypeVar("T")
FOREVER = 0xFFFFFFFF  # INFINITY_LIFE_TIME (include/net/addrconf.h): no expiry

SCOPE_NAMES = {int(RT_SCOPE.RT_SCOPE_UNIVERSE): "global", int(RT_SCOPE.RT_SCOPE_SITE): "site",
               int(RT_SCOPE.RT_SCOPE_LINK): "link", int(RT_SCOPE.RT_SCOPE_HOST): "host",
               int(RT_SCOPE.RT_SCOPE_NOWHERE): "nowhere"}
PROTOCOL_NAMES = {int(p): p.name[len("RTPROT_"):].lower() for p in RTPROT}
PROTOCOL_NAMES[int(RTPROT.RTPROT_UNSPEC)] = "unspec"
TABLE_NAMES = {int(RT_TABLE.RT_TABLE_MAIN): "main", int(RT_TABLE.RT_TABLE_LOCAL): "local",
               int(RT_TABLE.RT_TABLE_DEFAULT): "default"}
_ROUTE_TYPES = {int(t): t.name[len("RTN_"):].lower() for t in RTN}
_LINK_TYPES = {int(ARPHRD.ARPHRD_ETHER): "ether", int(ARPHRD.ARPHRD_LOOPBACK): "loopback",
               int(ARPHRD.ARPHRD_NONE): "none"}
# RTA_PREF: ICMPV6_ROUTER_PREF_MEDIUM, _HIGH and _LOW (linux/icmpv6.h), which
# rawns.netlink.constants does not name yet
_IPV6_PREF = {0: "medium", 1: "high", 3: "low"}
_DORMANT = int(IF_LINK_MODE.IF_LINK_MODE_DORMANT)
#: Route types (RTN_*) and IPv6 route preferences (RTA_PREF) by number, as ip names them.
ROUTE_TYPE_NAMES = _ROUTE_TYPES
IPV6_PREF_NAMES = _IPV6_PREF


def _flag_table(flag_enum: Any, prefix: str, lower: bool = False) -> tuple[tuple[int, str], ...]:
    """(bit, name) for each single-bit member, computed once: walking an
    enum per message would cost more than decoding the message."""
    table = []
    for member in flag_enum:
        value = int(member.value)
        if value and value & (value - 1) == 0:
            name = member.name[len(prefix):]
            table.append((value, name.lower() if lower else name))
    return tuple(table)


class _FlagNames:
    """The names of the bits set in a flags value, as a frozenset; made once
    per distinct value, since a dump repeats a handful of them."""

    _LIMIT = 1024  # distinct values kept; then forgotten, so input cannot grow it

    def __init__(self, flag_enum: Any, prefix: str, lower: bool = False) -> None:
        self._bits = _flag_table(flag_enum, prefix, lower)
        self._known: dict[int, frozenset[str]] = {}

    def __call__(self, value: int) -> frozenset[str]:
        names = self._known.get(value)
        if names is None:
            value = int(value)  # an IntFlag's own & is slow
            names = frozenset([name for bit, name in self._bits if value & bit])
            if len(self._known) >= self._LIMIT:
                self._known.clear()
            self._known[value] = names
        return names


_OPERSTATES = {int(s): s.name[len("IF_OPER_"):] for s in IF_OPER}
_iff_names = _FlagNames(IFF, "IFF_")
_ifa_flag_names = _FlagNames(IFA_F, "IFA_F_", lower=True)
_rtnh_flag_names = _FlagNames(RTNH_F, "RTNH_F_", lower=True)
_nud_names = _FlagNames(NUD, "NUD_")
_ntf_names = _FlagNames(NTF, "NTF_", lower=True)
#: The names of the bits set in an address's flags (IFA_F_*), a neighbour's
#: state (NUD_*) and its flags (NTF_*), as frozensets: what the models hold.
address_flag_names: Callable[[int], frozenset[str]] = _ifa_flag_names
nud_state_names: Callable[[int], frozenset[str]] = _nud_names
neighbour_flag_names: Callable[[int], frozenset[str]] = _ntf_names

_INTERFACE_CLASSES = {4: ipaddress.IPv4Interface, 6: ipaddress.IPv6Interface}
_INTERFACES: dict[int, tuple[Any, Any]] = {}
_INTERFACES_LIMIT = 4096


def _interface(address: Any, prefixlen: int) -> Any:
    """``address/prefixlen`` as an IPv4Interface or IPv6Interface. They are
    immutable and a namespace's addresses repeat from dump to dump, so they
    are kept (building one costs more than the rest of its Address). Keyed by
    the address object's identity, which the codec's own cache keeps stable
    (hashing an ipaddress object runs Python code); the entry holds the
    object, so its id cannot be reused while the entry lives."""
    key = id(address) << 8 | prefixlen  # an int: no tuple for the collector to track
    known = _INTERFACES.get(key)
    if known is not None and known[0] is address:
        return known[1]
    interface = _INTERFACE_CLASSES[address.version]((int(address), prefixlen))
    if len(_INTERFACES) >= _INTERFACES_LIMIT:
        _INTERFACES.clear()
    _INTERFACES[key] = (address, interface)
    return interface


# Model objects made without the frozen __init__; every field a required keyword,
# so that a converter cannot forget one.
_new_link: Callable[..., Link] = fast_constructor(Link, keywords=True)
_new_address: Callable[..., Address] = fast_constructor(Address, keywords=True)
_new_route: Callable[..., Route] = fast_constructor(Route, keywords=True)
_new_neighbour: Callable[..., Neighbour] = fast_constructor(Neighbour, keywords=True)


def _lookup(names: dict[int, str], value: int) -> str:
    return names.get(int(value), str(int(value)))


def _reverse(names: dict[int, str], value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        for number, name in names.items():
            if name == value:
                return number
        if value.isdigit():
            return int(value)
    raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(names.values())}")


def scope_number(value: Any) -> int:
    """``"link"`` -> RT_SCOPE_LINK; ints pass through."""
    return _reverse(SCOPE_NAMES, value, "scope")


def protocol_number(value: Any) -> int:
    """``"static"`` -> RTPROT_STATIC; ints pass through."""
    return _reverse(PROTOCOL_NAMES, value, "protocol")


def route_type_number(value: Any) -> int:
    """``"blackhole"`` -> RTN_BLACKHOLE; ints pass through."""
    return _reverse(_ROUTE_TYPES, value, "route type")


def table_number(value: Any) -> int:
    """``"main"`` -> RT_TABLE_MAIN, ``"100"`` -> 100; ints pass through."""
    return _reverse(TABLE_NAMES, value, "table")


def nud_number(value: Any) -> int:
    """``"permanent"`` -> NUD_PERMANENT; ints pass through."""
    if isinstance(value, str):
        member = NUD.__members__.get("NUD_" + value.upper())
        if member is not None:
            return int(member)
    return _reverse({}, value, "neighbour state (nud)")


# --- messages and replies to objects ---------------------------------------------

def _checked(build: Callable[[Any, dict[str, Any]], T], header: Any,
             attrs: dict[str, Any], mtype: Any) -> T:
    """``build(header, attrs)``, raising DecodeError and nothing else for a
    message of type ``mtype`` that decoded but does not hold what its type
    promises (a missing or malformed attribute): replies and events are
    parsed input too."""
    try:
        return build(header, attrs)
    except _INVALID as err:
        raise _invalid(mtype, err) from err


# What a converter raises for a message that lacks what its type promises.
_INVALID = (TypeError, AttributeError, KeyError, ValueError, OverflowError)


def _invalid(mtype: Any, err: Exception) -> DecodeError:
    what = getattr(mtype, "name", f"message type {mtype}")
    return DecodeError(f"{what} does not describe a valid object: {err}", 0)


def _reader(mtype: RTM, build: Callable[[Any, dict[str, Any]], T],
            needs: Optional[str] = None) -> Callable[[bytes, Frame], Optional[T]]:
    """A reader for ``RouteSocket.dump`` (see ``Conversation.send``): the
    object ``build`` makes of each reply of type ``mtype``, read straight
    from its bytes by the tables (no Message, no Attr objects); None for a
    reply of another type, or without the attribute ``needs``."""
    number = int(mtype)

    def read(data: bytes, frame: Frame) -> Optional[T]:
        if frame[2] != number:
            return None
        header, attrs = header_and_values(data, frame)
        if needs is not None and needs not in attrs:
            return None
        try:  # _checked, inline: a reader runs once per object of a dump
            return build(header, attrs)
        except _INVALID as err:
            raise _invalid(mtype, err) from err

    return read


def _values(attrs: Any) -> dict[str, Any]:
    """The attributes' values by kernel name, first occurrence winning (as
    ``AttrList.get``): one pass, where each ``get`` would scan the list."""
    values: dict[str, Any] = {}
    for attr in reversed(attrs):
        if attr.name is not None:
            values[attr.name] = attr.value
    return values


# --- links -----------------------------------------------------------------------

def link_from_message(message: Message, *, details: bool = False) -> Link:
    """A ``Link`` from an RTM_NEWLINK message; ``details`` also reads its
    ``details`` and ``stats`` (what ``ip -d -s link`` adds)."""
    return _checked(_link_full if details else _link, message.header,
                    _values(message.attrs), message.type)


def _link_full(header: Any, attrs: dict[str, Any]) -> Link:
    return _link(header, attrs, full=True)


_ADDR_GEN_MODES = {0: "eui64", 1: "none", 2: "stable_secret", 3: "random"}


def _link_details(attrs: dict[str, Any]) -> LinkDetails:
    linkinfo = attrs.get("IFLA_LINKINFO")
    slave_kind = slave_data = None
    if linkinfo is not None:
        slave_kind = linkinfo.get("IFLA_INFO_SLAVE_KIND")
        slave_data = linkinfo.get("IFLA_INFO_SLAVE_DATA")
    mode = None
    spec = attrs.get("IFLA_AF_SPEC")
    inet6 = None if spec is None else spec.get("AF_INET6")
    if inet6 is not None and hasattr(inet6, "get"):
        number = inet6.get("IFLA_INET6_ADDR_GEN_MODE")
        if number is not None:
            mode = _ADDR_GEN_MODES.get(int(number), str(int(number)))
    return LinkDetails(
        promiscuity=int(attrs.get("IFLA_PROMISCUITY", 0)),
        allmulti=attrs.get("IFLA_ALLMULTI"),
        min_mtu=attrs.get("IFLA_MIN_MTU"),
        max_mtu=attrs.get("IFLA_MAX_MTU"),
        num_tx_queues=attrs.get("IFLA_NUM_TX_QUEUES"),
        num_rx_queues=attrs.get("IFLA_NUM_RX_QUEUES"),
        gso_max_size=attrs.get("IFLA_GSO_MAX_SIZE"),
        gso_max_segs=attrs.get("IFLA_GSO_MAX_SEGS"),
        tso_max_size=attrs.get("IFLA_TSO_MAX_SIZE"),
        tso_max_segs=attrs.get("IFLA_TSO_MAX_SEGS"),
        gro_max_size=attrs.get("IFLA_GRO_MAX_SIZE"),
        addr_gen_mode=mode,
        slave_kind=slave_kind,
        slave_data=_plain(slave_data),
    )


def _link_stats(attrs: dict[str, Any]) -> Optional[LinkStatistics]:
    counters = attrs.get("IFLA_STATS64")
    if counters is None:
        counters = attrs.get("IFLA_STATS")
    if counters is None:
        return None
    values = {name: int(getattr(counters, name, 0)) for name in STAT_COUNTERS}
    return LinkStatistics(**values, carrier_changes=attrs.get("IFLA_CARRIER_CHANGES"))


def _link(header: Any, attrs: dict[str, Any], full: bool = False) -> Link:
    linkinfo = attrs.get("IFLA_LINKINFO")
    kind = info_data = None
    if linkinfo is not None:
        kind = linkinfo.get("IFLA_INFO_KIND")
        info_data = linkinfo.get("IFLA_INFO_DATA")
    operstate = int(attrs.get("IFLA_OPERSTATE", 0))
    name = attrs.get("IFLA_IFNAME", "")
    if not isinstance(name, str):
        raise ValueError(f"IFLA_IFNAME is {name!r}, not a name")
    return _new_link(
        index=header.index,
        name=name,
        kind=kind,
        flags=_iff_names(header.flags),
        mtu=attrs.get("IFLA_MTU"),
        operstate=_OPERSTATES.get(operstate, str(operstate)),
        link_type=_LINK_TYPES.get(int(header.type), str(int(header.type))),
        address=attrs.get("IFLA_ADDRESS"),
        broadcast=attrs.get("IFLA_BROADCAST"),
        master=attrs.get("IFLA_MASTER"),
        link=attrs.get("IFLA_LINK"),
        link_netnsid=attrs.get("IFLA_LINK_NETNSID"),
        txqlen=attrs.get("IFLA_TXQLEN"),
        group=attrs.get("IFLA_GROUP"),
        alias=attrs.get("IFLA_IFALIAS") or None,
        qdisc=attrs.get("IFLA_QDISC"),
        linkmode="DORMANT" if attrs.get("IFLA_LINKMODE") == _DORMANT else "DEFAULT",
        info_data=_plain(info_data),
        details=_link_details(attrs) if full else None,
        stats=_link_stats(attrs) if full else None,
    )


def _plain(info_data: Any) -> dict[str, Any]:
    if info_data is None or not hasattr(info_data, "to_dict"):
        return {}
    values: dict[str, Any] = info_data.to_dict()
    return values


# --- addresses -------------------------------------------------------------------

def address_from_message(message: Message) -> Address:
    """An ``Address`` from an RTM_NEWADDR message."""
    return _checked(_address, message.header, _values(message.attrs), message.type)


def _address(header: Any, attrs: dict[str, Any]) -> Address:
    local = attrs.get("IFA_LOCAL")
    remote = attrs.get("IFA_ADDRESS")
    own = local if local is not None else remote
    if own is None:
        raise ValueError("no IFA_LOCAL or IFA_ADDRESS")
    prefix = header.prefixlen
    peer = None
    if local is not None and remote is not None and remote != local:
        peer = _interface(remote, prefix)
    flags = attrs.get("IFA_FLAGS")
    if flags is None:
        flags = header.flags
    cache = attrs.get("IFA_CACHEINFO")
    valid = preferred = None
    if cache is not None:
        valid = None if cache.valid == FOREVER else cache.valid
        preferred = None if cache.prefered == FOREVER else cache.prefered
    scope = SCOPE_NAMES.get(header.scope)
    return _new_address(
        index=header.index,
        address=_interface(own, prefix),
        scope=_lookup(SCOPE_NAMES, header.scope) if scope is None else scope,
        label=attrs.get("IFA_LABEL"),
        broadcast=attrs.get("IFA_BROADCAST"),
        peer=peer,
        flags=_ifa_flag_names(flags),
        valid_lft=valid,
        preferred_lft=preferred,
    )


# --- routes ----------------------------------------------------------------------

def route_from_message(message: Message) -> Route:
    """A ``Route`` from an RTM_NEWROUTE message."""
    return _checked(_route, message.header, _values(message.attrs), message.type)


#: The attributes a Route takes as numbers or addresses: a payload of the
#: wrong size stays bytes in the decode (explain shows it), and makes no Route.
_ROUTE_TYPED = ("RTA_DST", "RTA_SRC", "RTA_GATEWAY", "RTA_PREFSRC", "RTA_OIF", "RTA_IIF",
                "RTA_PRIORITY", "RTA_TABLE", "RTA_PREF", "RTA_MARK", "RTA_UID",
                "RTA_CACHEINFO")


def _route(header: Any, attrs: dict[str, Any]) -> Route:
    for name in _ROUTE_TYPED:
        value = attrs.get(name)
        if value.__class__ is bytes:
            raise TypeError(f"{name} of {len(value)} bytes does not fit its type")
    family = int(header.family)
    dst = attrs.get("RTA_DST")
    network = None
    if dst is not None or header.dst_len:
        if dst is None:
            dst = ipaddress.ip_address(0) if family == AF.AF_INET else ipaddress.IPv6Address(0)
        network = ipaddress.ip_network(f"{dst}/{header.dst_len}", strict=False)
    src = attrs.get("RTA_SRC")
    source = None
    if src is not None:
        source = ipaddress.ip_network(f"{src}/{header.src_len}", strict=False)
    table = attrs.get("RTA_TABLE", header.table)
    pref = attrs.get("RTA_PREF")
    flags = int(header.flags)
    cloned = bool(flags & _RTM_F_CLONED)
    multipath = attrs.get("RTA_MULTIPATH")
    metrics = attrs.get("RTA_METRICS")
    cacheinfo = attrs.get("RTA_CACHEINFO")
    return _new_route(
        dst=network,
        family=family,
        gateway=attrs.get("RTA_GATEWAY"),
        oif=attrs.get("RTA_OIF"),
        table=int(table),
        protocol=_lookup(PROTOCOL_NAMES, header.protocol),
        scope=_lookup(SCOPE_NAMES, header.scope),
        type=_lookup(_ROUTE_TYPES, header.type),
        prefsrc=attrs.get("RTA_PREFSRC"),
        metric=attrs.get("RTA_PRIORITY"),
        flags=_rtnh_flag_names(flags & 0xFF),
        pref=None if pref is None else _IPV6_PREF.get(int(pref), str(int(pref))),
        src=source,
        tos=int(header.tos),
        nexthops=() if multipath is None else tuple(_nexthop(hop) for hop in multipath),
        metrics=() if metrics is None else _metrics(metrics),
        locked=frozenset() if metrics is None else _locked(metrics),
        mark=attrs.get("RTA_MARK"),
        uid=attrs.get("RTA_UID"),
        iif=attrs.get("RTA_IIF"),
        cloned=cloned,
        cache=_cache_flags(flags) if cloned else (),
        expires=_seconds(cacheinfo.expires) if cacheinfo is not None else None,
        users=0 if cacheinfo is None else cacheinfo.clntref,
        used=0 if cacheinfo is None else cacheinfo.used,
        age=0 if cacheinfo is None else cacheinfo.lastuse // USER_HZ,
    )


_RTM_F_CLONED = int(RTM_F.RTM_F_CLONED)
USER_HZ = 100  # the unit of rta_expires: clock ticks (USER_HZ), as ip reads them


def _seconds(ticks: int) -> Optional[int]:
    """rta_expires in seconds as ip prints it (C's division: towards zero, so
    that -150 ticks, a route past its time, is -1), or None when it is 0."""
    if not ticks:
        return None
    return ticks // USER_HZ if ticks > 0 else -(-ticks // USER_HZ)
# ip's names of the route metrics (its mx_names), by RTAX number.
METRIC_NAMES = {int(m): m.name[len("RTAX_"):].lower() for m in RTAX
                if m not in (RTAX.RTAX_UNSPEC, RTAX.RTAX_LOCK)}
METRIC_NAMES[int(RTAX.RTAX_CC_ALGO)] = "congctl"
_METRIC_BY_NAME = {f"RTAX_{m.name[len('RTAX_'):]}": METRIC_NAMES[int(m)] for m in RTAX
                   if int(m) in METRIC_NAMES}
_NO_HOPLIMIT = 0xFFFFFFFF  # a hoplimit of -1: the default, which ip does not print
# The route-cache flags (linux/in_route.h RTCF_*) of a cloned IPv4 route, in the
# order and spelling ip prints them.
_RTCF = ((0x80000000, "local"), (0x40000000, "reject"), (0x20000000, "mc"),
         (0x10000000, "brd"), (0x08000000, "dst-nat"), (0x00800000, "src-nat"),
         (0x00400000, "masq"), (0x04000000, "dst-direct"), (0x00040000, "redirected"),
         (0x01000000, "redirect"), (0x00200000, "fastroute"), (0x00010000, "notify"),
         (0x00080000, "proxy"))


def _nexthop(hop: Any) -> NextHop:
    gateway = None
    for attr in hop.attrs:
        if attr.name == "RTA_GATEWAY":
            gateway = attr.value
    return NextHop(gateway=gateway, oif=int(hop.ifindex) or None, weight=int(hop.hops) + 1,
                   flags=_rtnh_flag_names(int(hop.flags)))


def _metrics(metrics: Any) -> tuple[tuple[str, int | str], ...]:
    values: dict[int, tuple[str, int | str]] = {}
    for attr in metrics:
        name = _METRIC_BY_NAME.get(attr.name or "")
        if name is None or (name == "hoplimit" and attr.value == _NO_HOPLIMIT):
            continue
        value = attr.value if isinstance(attr.value, str) else int(attr.value)
        values[attr.type & 0x3FFF] = (name, value)
    return tuple(values[number] for number in sorted(values))


def _locked(metrics: Any) -> frozenset[str]:
    for attr in metrics:
        if attr.name == "RTAX_LOCK":
            mask = int(attr.value)
            return frozenset(name for number, name in METRIC_NAMES.items()
                             if mask & (1 << number))
    return frozenset()


def _cache_flags(flags: int) -> tuple[str, ...]:
    names = [name for bit, name in _RTCF if flags & bit]
    rest = flags & ~0xFFFF & ~sum(bit for bit, _ in _RTCF)
    if rest:
        names.append(f"{rest:x}")
    return tuple(names)


# --- neighbours --------------------------------------------------------------------

def neighbour_from_message(message: Message) -> Neighbour:
    """A ``Neighbour`` from an RTM_NEWNEIGH message."""
    return _checked(_neighbour, message.header, _values(message.attrs), message.type)


def _neighbour(header: Any, attrs: dict[str, Any]) -> Neighbour:
    dst = attrs.get("NDA_DST")
    if not isinstance(dst, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        raise ValueError(f"NDA_DST is {dst!r}, not an IP address")
    cacheinfo = attrs.get("NDA_CACHEINFO")
    probes = attrs.get("NDA_PROBES")
    return _new_neighbour(
        index=header.ifindex,
        dst=dst,
        lladdr=attrs.get("NDA_LLADDR"),
        state=_nud_names(header.state),
        flags=_ntf_names(header.flags),
        used=None if cacheinfo is None else cacheinfo.used // USER_HZ,
        confirmed=None if cacheinfo is None else cacheinfo.confirmed // USER_HZ,
        updated=None if cacheinfo is None else cacheinfo.updated // USER_HZ,
        refcnt=0 if cacheinfo is None else cacheinfo.refcnt,
        probes=None if probes is None else int(probes),
    )


# --- rules -------------------------------------------------------------------------

def rule_from_message(message: Message) -> Rule:
    """A ``Rule`` from an RTM_NEWRULE message."""
    return _checked(_rule, message.header, _values(message.attrs), message.type)


_RULE_ACTIONS = {int(FR_ACT.FR_ACT_TO_TBL): "lookup", int(FR_ACT.FR_ACT_GOTO): "goto",
                 int(FR_ACT.FR_ACT_NOP): "nop", int(FR_ACT.FR_ACT_BLACKHOLE): "blackhole",
                 int(FR_ACT.FR_ACT_UNREACHABLE): "unreachable",
                 int(FR_ACT.FR_ACT_PROHIBIT): "prohibit"}
RULE_ACTION_NUMBERS = {name: number for number, name in _RULE_ACTIONS.items()}
_INVERT = int(FIB_RULE.FIB_RULE_INVERT)
_UNRESOLVED = int(FIB_RULE.FIB_RULE_UNRESOLVED)
_IIF_DETACHED = int(FIB_RULE.FIB_RULE_IIF_DETACHED)
_OIF_DETACHED = int(FIB_RULE.FIB_RULE_OIF_DETACHED)


def _rule_prefix(address: Any, length: int, family: int) -> Any:
    if address is None and not length:
        return None
    if address is None:
        address = ipaddress.ip_address(0) if family == AF.AF_INET else ipaddress.IPv6Address(0)
    return ipaddress.ip_network(f"{address}/{length}", strict=False)


def _ports(value: Any) -> Optional[tuple[int, int]]:
    return None if value is None else (int(value.start), int(value.end))


def _rule(header: Any, attrs: dict[str, Any]) -> Rule:
    family = int(header.family)
    flags = int(header.flags)
    action = int(header.action)
    uid = attrs.get("FRA_UID_RANGE")
    protocol = attrs.get("FRA_PROTOCOL")
    return _new_rule(
        family=family,
        priority=attrs.get("FRA_PRIORITY", 0),
        src=_rule_prefix(attrs.get("FRA_SRC"), header.src_len, family),
        dst=_rule_prefix(attrs.get("FRA_DST"), header.dst_len, family),
        invert=bool(flags & _INVERT),
        tos=int(header.tos),
        fwmark=attrs.get("FRA_FWMARK"),
        fwmask=attrs.get("FRA_FWMASK"),
        iif=attrs.get("FRA_IIFNAME"),
        oif=attrs.get("FRA_OIFNAME"),
        iif_detached=bool(flags & _IIF_DETACHED),
        oif_detached=bool(flags & _OIF_DETACHED),
        table=int(attrs.get("FRA_TABLE", header.table)),
        action=_RULE_ACTIONS.get(action, str(action)),
        goto=attrs.get("FRA_GOTO"),
        unresolved=bool(flags & _UNRESOLVED),
        suppress_prefixlen=attrs.get("FRA_SUPPRESS_PREFIXLEN"),
        suppress_ifgroup=attrs.get("FRA_SUPPRESS_IFGROUP"),
        realms=attrs.get("FRA_FLOW"),
        uid_range=None if uid is None else (int(uid.start), int(uid.end)),
        ipproto=attrs.get("FRA_IP_PROTO"),
        sport=_ports(attrs.get("FRA_SPORT_RANGE")),
        dport=_ports(attrs.get("FRA_DPORT_RANGE")),
        protocol="unspec" if protocol is None else _lookup(PROTOCOL_NAMES, protocol),
        l3mdev=bool(attrs.get("FRA_L3MDEV")),
    )


_new_rule: Callable[..., Rule] = fast_constructor(Rule, keywords=True)

read_link = _reader(RTM.RTM_NEWLINK, _link)
read_link_details = _reader(RTM.RTM_NEWLINK, _link_full)
read_address = _reader(RTM.RTM_NEWADDR, _address)
read_route = _reader(RTM.RTM_NEWROUTE, _route)
read_rule = _reader(RTM.RTM_NEWRULE, _rule)
# An entry without a destination (the kernel lists some, e.g. for AF_BRIDGE)
# is no neighbour to ``ip neigh``, which skips it too.
read_neighbour = _reader(RTM.RTM_NEWNEIGH, _neighbour, needs="NDA_DST")


def family_number(value: Optional[int | str]) -> int:
    """4 / 6 / "inet" / "inet6" / AF_* -> AF_INET / AF_INET6; None -> AF_UNSPEC."""
    if value in (None, 0):
        return int(AF.AF_UNSPEC)
    if value in (4, "4", "inet", int(AF.AF_INET)):
        return int(AF.AF_INET)
    if value in (6, "6", "inet6", int(AF.AF_INET6)):
        return int(AF.AF_INET6)
    raise ValueError(f"unknown address family {value!r}; expected 4 or 6")
