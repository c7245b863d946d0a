# Invariants:
# - Every builder returns a Message with seq=0 and pid=0; the socket layer
#   sets them as it encodes (encode_stamped, or Message.with_seq).
# - Builders take plain Python values (ints, interface names, ipaddress
#   objects or their text, MAC text) and raise EncodeError (a ValueError)
#   for bad ones before anything could reach the kernel.
# - Requests that change state carry NLM_F_REQUEST|NLM_F_ACK, so that every
#   one gets an answer.  GETs of one object are built with NLM_F_REQUEST
#   alone (their answer is the object), but rawns.nlsock's Conversation adds
#   NLM_F_ACK to every request that is not a dump when it sends it, so on
#   the wire they end in an ack too.  Dumps carry NLM_F_DUMP and a fully
#   zeroed fixed header apart from the filters, as NETLINK_GET_STRICT_CHK
#   requires.
# - Each docstring names the iproute2 command the request equals.
# - Standard library and rawns.errors only.
"""Request builders: the messages the operations layer sends.

    >>> from rawns.netlink import requests, encode
    >>> msg = requests.veth_add("veth0", "veth1", peer_netns_fd=5)
    >>> msg.get_path("IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER").get("IFLA_IFNAME")
    'veth1'
    >>> len(encode(msg.with_seq(1)))
    104
"""

from __future__ import annotations

import ipaddress

from rawns.errors import EncodeError

from .attrs import Attr, AttrList
from .codecs import parse_hwaddr
from .constants import (
    AF, FIB_RULE, FR_ACT, FRA, IFA, IFA_F, IFF, IFLA, IFLA_BOND, IFLA_BR, IFLA_BRPORT, IFLA_INFO,
    IFLA_IPVLAN, IFLA_MACVLAN, IFLA_VLAN, IFLA_VRF, IFLA_VXLAN, NDA, NETNSA, NLM_F,
    NTF, NUD, RT_SCOPE, RT_TABLE, RTA, RTAX, RTM, RTM_F, RTN, RTNH_F, RTPROT, VETH_INFO, IFNAMSIZ,
)
from .message import Message
from .fast import fast_constructor, make_attr, new_message
from .structs import (
    FibRuleHdr, FibRulePortRange, FibRuleUidRange, IfaCacheinfo, IfAddrMsg, IfInfoMsg, NdMsg,
    NestedMessage, RtGenMsg, RtMsg, RtNextHop,
)

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Mapping, Sequence, Union

__all__ = [
    "link_add", "veth_add", "bridge_add", "vxlan_add", "macvlan_add", "vlan_add", "ipvlan_add",
    "bond_add", "vrf_add", "MACVLAN_MODES", "IPVLAN_MODES", "IPVLAN_FLAGS", "VLAN_PROTOCOLS",
    "BOND_MODES", "link_del", "link_get",
    "link_set", "link_dump",
    "addr_add", "addr_del", "addr_dump",
    "route_add", "route_del", "route_del_exact", "route_get", "route_dump", "nexthop",
    "neigh_add", "neigh_del", "neigh_dump",
    "rule_add", "rule_del", "rule_dump",
    "nsid_new", "nsid_get", "nsid_dump",
    "check_ifname", "address_prefix",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressLike = str | IPAddress

_REQUEST = int(NLM_F.NLM_F_REQUEST)
_CHANGE = int(NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK)
_CREATE = int(NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL)
_REPLACE = int(NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | NLM_F.NLM_F_CREATE
               | NLM_F.NLM_F_REPLACE)
_DUMP = int(NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_DUMP)
# Members read once: an enum attribute lookup costs more than a global's.
_AF_UNSPEC, _AF_INET, _AF_INET6 = AF.AF_UNSPEC, AF.AF_INET, AF.AF_INET6
_IFF_UP = int(IFF.IFF_UP)
# A batch builds thousands of requests: the few objects built in every one
# come from rawns.netlink.fast's constructors (equal objects, built without
# the frozen dataclass's __init__), and make_attr is fast's (tables.make_attr,
# equal results).
_new_ifinfomsg: Callable[..., IfInfoMsg] = fast_constructor(IfInfoMsg)
# ... called as _new_ifinfomsg(family, type, index, flags, change)


# -- value checks -----------------------------------------------------------------

def check_ifname(name: Any, what: str = "interface name") -> str:
    """Return ``name`` if the kernel would accept it (dev_valid_name), else EncodeError.

    1 to 15 bytes (IFNAMSIZ - 1) of UTF-8, not ``.`` or ``..``, without ``/``,
    ``:``, NUL or whitespace.
    """
    if not isinstance(name, str):
        raise EncodeError(f"{what} must be a str, got {name!r}")
    if name.isascii() and name.isalnum() and len(name) < IFNAMSIZ:
        return name  # the usual 'eth0', 'vh7': nothing below can object to it
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError as err:
        raise EncodeError(f"{what} {name!r} is not valid text") from err
    if not 0 < size < IFNAMSIZ:
        raise EncodeError(f"{what} {name!r} must be 1 to {IFNAMSIZ - 1} bytes, not {size}")
    if name in (".", "..") or any(c in name for c in "/:\0") or any(c.isspace() for c in name):
        raise EncodeError(f"{what} {name!r} may not be '.', '..' or contain '/', ':', "
                          f"NUL or whitespace")
    return name


def _label(label: Any) -> str:
    """An address label: like an interface name, but ``eth0:1`` (the old
    alias syntax) is the usual form, so ``:`` is allowed."""
    if not isinstance(label, str):
        return check_ifname(label, "label")  # raises: not a str
    check_ifname(label.replace(":", "_"), "label")
    return label


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EncodeError(f"{what} must be an int in [{low}, {high}], got {value!r}")
    return int(value)


def _u32(value: Any, what: str) -> int:
    return _int(value, what, 0, 0xFFFFFFFF)


def _ifindex(value: Any, what: str = "interface index") -> int:
    return _int(value, what, 1, 0x7FFFFFFF)


def _fd(value: Any, what: str) -> int:
    return _int(value, what, 0, 0x7FFFFFFF)


def _mac(value: Any, what: str = "MAC address") -> str:
    packed = parse_hwaddr(value)
    if len(packed) != 6:
        raise EncodeError(f"{what} {value!r} must have 6 octets like 'aa:bb:cc:dd:ee:ff'")
    return packed.hex(":")


def _ip(value: Any, what: str = "address") -> IPAddress:
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    try:
        return ipaddress.ip_address(value)
    except ValueError as err:
        raise EncodeError(f"{what} {value!r} is not an IP address") from err


def address_prefix(value: Any) -> tuple[IPAddress, int]:
    """``(address, prefix length)`` of ``"10.0.0.1/24"`` or an ipaddress object;
    EncodeError (a ValueError) for anything else."""
    if isinstance(value, str):
        fast = _parse_ipv4_prefix(value)
        if fast is not None:
            return fast
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        interface = value
    else:
        try:
            interface = ipaddress.ip_interface(value)
        except ValueError as err:
            raise EncodeError(f"{value!r} is not an address with a prefix like "
                              f"'10.0.0.1/24'") from err
    return interface.ip, interface.network.prefixlen


def _parse_ipv4_prefix(text: str) -> tuple[ipaddress.IPv4Address, int] | None:
    """``"10.0.0.9/16"`` (or ``"10.0.0.9"``, a /32) read directly.

    ``ipaddress.ip_interface`` takes ~20 us for it, most of a request's
    cost.  Only the canonical spelling is read here (decimal octets without
    leading zeros, a decimal prefix length); None for any other text, which
    ip_interface then reads, or rejects, exactly as before.
    """
    address, slash, prefix = text.partition("/")
    octets = address.split(".")
    if len(octets) != 4:
        return None
    number = 0
    try:
        for octet in octets:
            value = int(octet)
            if not 0 <= value <= 255 or str(value) != octet:
                return None
            number = number << 8 | value
        prefixlen = int(prefix) if slash else 32
    except ValueError:
        return None
    if not 0 <= prefixlen <= 32 or (slash and str(prefixlen) != prefix):
        return None
    return ipaddress.IPv4Address(number), prefixlen


def _family_of(address: IPAddress | ipaddress.IPv4Network | ipaddress.IPv6Network) -> AF:
    return _AF_INET if address.version == 4 else _AF_INET6


def _same_family(family: int, value: Any, what: str) -> None:
    if value is not None and _family_of(value) != family:
        raise EncodeError(f"{what} {value} is not of family {AF(family).name}")


def _message(mtype: int, flags: int, header: Any, attrs: Sequence[Attr] = ()) -> Message:
    """``Message(type=mtype, flags=flags, header=header, attrs=AttrList(attrs))``;
    seq and pid stay 0 for the socket layer."""
    return new_message(mtype, flags, 0, 0, header, AttrList(attrs), b"")


def _attrs(*pairs: tuple[Any, Any]) -> AttrList:
    """Attributes for the (key, value) pairs whose value is not None."""
    return AttrList(make_attr(key, value) for key, value in pairs if value is not None)


# -- links ------------------------------------------------------------------------------

def _link_header(index: int = 0, up: bool | None = None) -> IfInfoMsg:
    flags = change = 0
    if up is not None:
        change = _IFF_UP
        flags = _IFF_UP if up else 0
    # IfInfoMsg(family=AF_UNSPEC, index=index, flags=flags, change=change)
    return _new_ifinfomsg(_AF_UNSPEC, 0, index, flags, change)


def _link_attrs(*, ifname: str | None = None, mtu: int | None = None,
                address: str | None = None, txqlen: int | None = None,
                master: int | None = None, group: int | None = None,
                netns_fd: int | None = None, netns_pid: int | None = None,
                link: int | None = None, alias: str | None = None) -> list[Attr]:
    if netns_fd is not None and netns_pid is not None:
        raise EncodeError("give netns_fd or netns_pid, not both")
    # One test per argument rather than a table of pairs: this runs for
    # every link a batch creates, and most arguments are None.
    attrs = []
    if ifname is not None:
        attrs.append(make_attr(IFLA.IFLA_IFNAME, check_ifname(ifname)))
    if mtu is not None:
        attrs.append(make_attr(IFLA.IFLA_MTU, _u32(mtu, "mtu")))
    if address is not None:
        attrs.append(make_attr(IFLA.IFLA_ADDRESS, _mac(address)))
    if txqlen is not None:
        attrs.append(make_attr(IFLA.IFLA_TXQLEN, _u32(txqlen, "txqlen")))
    if master is not None:
        attrs.append(make_attr(IFLA.IFLA_MASTER, _u32(master, "master index")))
    if group is not None:
        attrs.append(make_attr(IFLA.IFLA_GROUP, _u32(group, "group")))
    if link is not None:
        attrs.append(make_attr(IFLA.IFLA_LINK, _ifindex(link, "link index")))
    if alias is not None:
        attrs.append(make_attr(IFLA.IFLA_IFALIAS, alias))
    if netns_fd is not None:
        attrs.append(make_attr(IFLA.IFLA_NET_NS_FD, _fd(netns_fd, "netns_fd")))
    if netns_pid is not None:
        attrs.append(make_attr(IFLA.IFLA_NET_NS_PID, _u32(netns_pid, "netns_pid")))
    return attrs


def link_add(ifname: str, kind: str, *, info_data: Sequence[Attr] | None = None,
             mtu: int | None = None, address: str | None = None, txqlen: int | None = None,
             master: int | None = None, group: int | None = None,
             netns_fd: int | None = None, netns_pid: int | None = None,
             link: int | None = None, up: bool = False, index: int = 0) -> Message:
    """RTM_NEWLINK creating a link: ``ip link add NAME [...] type KIND``.

    ``info_data`` are the kind's own attributes (IFLA_INFO_DATA), e.g. built
    with ``make_attr(IFLA_BR.IFLA_BR_STP_STATE, 1)``.  ``netns_fd``/``netns_pid``
    create the link directly in another namespace; ``master`` enslaves it
    (ifindex); ``up`` sets IFF_UP at creation.  Fails with EEXIST if a link
    of that name exists (NLM_F_EXCL).  ``index`` asks for that ifindex
    (0: the kernel picks one; EBUSY if it is taken).
    """
    if not isinstance(kind, str) or not kind:
        raise EncodeError(f"link kind must be a non-empty str, got {kind!r}")
    linkinfo = [make_attr(IFLA_INFO.IFLA_INFO_KIND, kind)]
    if info_data is not None:
        linkinfo.append(make_attr(IFLA_INFO.IFLA_INFO_DATA, list(info_data)))
    attrs = _link_attrs(ifname=ifname, mtu=mtu, address=address, txqlen=txqlen,
                        master=master, group=group, netns_fd=netns_fd,
                        netns_pid=netns_pid, link=link)
    attrs.append(make_attr(IFLA.IFLA_LINKINFO, linkinfo))
    header = _link_header(0 if index == 0 else _ifindex(index), up=True if up else None)
    return _message(RTM.RTM_NEWLINK, _CREATE, header, attrs)


def veth_add(ifname: str, peer: str, *, peer_netns_fd: int | None = None,
             peer_netns_pid: int | None = None, netns_fd: int | None = None,
             netns_pid: int | None = None, mtu: int | None = None,
             address: str | None = None, peer_address: str | None = None,
             master: int | None = None, up: bool = False, index: int = 0,
             peer_index: int = 0, link_netnsid: int | None = None) -> Message:
    """RTM_NEWLINK for a veth pair: ``ip link add A type veth peer name B netns NS``.

    VETH_INFO_PEER carries the peer as a nested ``ifinfomsg`` with its own
    IFLA_IFNAME and, to create it straight in another namespace,
    IFLA_NET_NS_FD (``peer_netns_fd``) or IFLA_NET_NS_PID (``peer_netns_pid``).
    ``mtu`` applies to both ends.  ``up`` brings the first end up as it is
    made; the peer cannot be (the kernel configures it before the first end
    exists, and opening a veth without its peer fails with ENOTCONN).  The
    kernel honours ``peer_index`` only when ``index`` is given too.
    ``link_netnsid`` (IFLA_LINK_NETNSID, beside the name, as ``ip link add A
    link-netnsid N type veth peer name B`` sends it) makes the peer in the
    namespace that nsid N names here: no fd of it is needed.
    """
    peer_attrs = _link_attrs(ifname=peer, mtu=mtu, address=peer_address,
                             netns_fd=peer_netns_fd, netns_pid=peer_netns_pid)
    peer_header = _link_header(0 if peer_index == 0 else _ifindex(peer_index, "peer index"))
    peer_message = NestedMessage(header=peer_header, attrs=AttrList(peer_attrs))
    message = link_add(ifname, "veth",
                       info_data=[make_attr(VETH_INFO.VETH_INFO_PEER, peer_message)],
                       mtu=mtu, address=address, master=master, netns_fd=netns_fd,
                       netns_pid=netns_pid, up=up, index=index)
    if link_netnsid is not None:
        nsid = make_attr(IFLA.IFLA_LINK_NETNSID, _int(link_netnsid, "link_netnsid", 0,
                                                      0x7FFFFFFF))
        message = _message(RTM.RTM_NEWLINK, _CREATE, message.header,
                           [nsid, *message.attrs])
    return message


def bridge_add(ifname: str, *, stp: bool | None = None, vlan_filtering: bool | None = None,
               ageing_time: int | None = None, forward_delay: int | None = None,
               priority: int | None = None, mtu: int | None = None,
               address: str | None = None, netns_fd: int | None = None,
               up: bool = False) -> Message:
    """RTM_NEWLINK for a bridge: ``ip link add NAME type bridge [stp_state 1 ...]``.

    ``ageing_time`` and ``forward_delay`` are in the kernel's unit, hundredths
    of a second (``ip`` multiplies its seconds by 100).
    """
    data = _attrs(
        (IFLA_BR.IFLA_BR_STP_STATE, None if stp is None else int(bool(stp))),
        (IFLA_BR.IFLA_BR_VLAN_FILTERING, None if vlan_filtering is None
         else int(bool(vlan_filtering))),
        (IFLA_BR.IFLA_BR_AGEING_TIME, None if ageing_time is None
         else _u32(ageing_time, "ageing_time")),
        (IFLA_BR.IFLA_BR_FORWARD_DELAY, None if forward_delay is None
         else _u32(forward_delay, "forward_delay")),
        (IFLA_BR.IFLA_BR_PRIORITY, None if priority is None
         else _int(priority, "priority", 0, 0xFFFF)),
    )
    return link_add(ifname, "bridge", info_data=list(data) or None, mtu=mtu,
                    address=address, netns_fd=netns_fd, up=up)


def vxlan_add(ifname: str, vni: int, *, remote: AddressLike | None = None,
              group: AddressLike | None = None, local: AddressLike | None = None,
              port: int | None = None, dev: int | None = None, ttl: int | None = None,
              learning: bool | None = None, mtu: int | None = None,
              address: str | None = None, netns_fd: int | None = None,
              up: bool = False, index: int = 0) -> Message:
    """RTM_NEWLINK for VXLAN: ``ip link add NAME type vxlan id VNI [remote|group
    ADDR] [local ADDR] [dstport PORT] [dev IFINDEX]``.

    With ``netns_fd`` it is placed in that namespace as it is made (its
    sockets stay in the sender's); ``index`` asks for that ifindex there.

    IPv4 addresses go in IFLA_VXLAN_GROUP/LOCAL, IPv6 in GROUP6/LOCAL6.
    ``group`` must be multicast (and usually wants ``dev``), ``remote`` not.
    Without ``port`` the kernel uses its default (8472); IANA's is 4789.
    """
    _int(vni, "vni", 0, (1 << 24) - 1)
    if remote is not None and group is not None:
        raise EncodeError("give remote or group, not both")
    pairs: list[tuple[Any, Any]] = [(IFLA_VXLAN.IFLA_VXLAN_ID, vni)]
    peer = None
    if remote is not None:
        peer = _ip(remote, "remote")
        if peer.is_multicast:
            raise EncodeError(f"remote {peer} is multicast: use group=")
    if group is not None:
        peer = _ip(group, "group")
        if not peer.is_multicast:
            raise EncodeError(f"group {peer} is not a multicast address")
    if peer is not None:
        pairs.append((IFLA_VXLAN.IFLA_VXLAN_GROUP if peer.version == 4
                      else IFLA_VXLAN.IFLA_VXLAN_GROUP6, peer))
    if local is not None:
        local_ip = _ip(local, "local")
        if peer is not None and local_ip.version != peer.version:
            raise EncodeError(f"local {local_ip} and {peer} are not of the same family")
        pairs.append((IFLA_VXLAN.IFLA_VXLAN_LOCAL if local_ip.version == 4
                      else IFLA_VXLAN.IFLA_VXLAN_LOCAL6, local_ip))
    if dev is not None:
        pairs.append((IFLA_VXLAN.IFLA_VXLAN_LINK, _ifindex(dev, "dev")))
    if ttl is not None:
        pairs.append((IFLA_VXLAN.IFLA_VXLAN_TTL, _int(ttl, "ttl", 0, 255)))
    if learning is not None:
        pairs.append((IFLA_VXLAN.IFLA_VXLAN_LEARNING, int(bool(learning))))
    if port is not None:
        pairs.append((IFLA_VXLAN.IFLA_VXLAN_PORT, _int(port, "port", 0, 0xFFFF)))
    return link_add(ifname, "vxlan", info_data=list(_attrs(*pairs)), mtu=mtu,
                    address=address, netns_fd=netns_fd, up=up, index=index)


#: macvlan modes (IFLA_MACVLAN_MODE) by the name ip gives them.
MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}
#: ipvlan modes (IFLA_IPVLAN_MODE) and flags (IFLA_IPVLAN_FLAGS) by ip's names.
IPVLAN_MODES = {"l2": 0, "l3": 1, "l3s": 2}
IPVLAN_FLAGS = {"bridge": 0, "private": 1, "vepa": 2}
#: VLAN protocols (IFLA_VLAN_PROTOCOL, an ethertype) by ip's names.
VLAN_PROTOCOLS = {"802.1Q": 0x8100, "802.1ad": 0x88A8}
#: bonding modes (IFLA_BOND_MODE) by ip's names.
BOND_MODES = {"balance-rr": 0, "active-backup": 1, "balance-xor": 2, "broadcast": 3,
              "802.3ad": 4, "balance-tlb": 5, "balance-alb": 6}


def _choice(table: Mapping[str, int], value: Any, what: str) -> int:
    if isinstance(value, str):
        if value not in table:
            raise EncodeError(f"unknown {what} {value!r}; expected one of {', '.join(table)}")
        return table[value]
    number = _int(value, what, 0, 0xFFFFFFFF)
    if number not in table.values():
        raise EncodeError(f"unknown {what} {value!r}")
    return number


def macvlan_add(ifname: str, link: int, *, mode: str | int = "vepa", nopromisc: bool = False,
                bcqueuelen: int | None = None, kind: str = "macvlan", mtu: int | None = None,
                address: str | None = None, netns_fd: int | None = None,
                up: bool = False, index: int = 0) -> Message:
    """RTM_NEWLINK for a macvlan (or ``kind="macvtap"``) on the link ``link``
    (ifindex in the sender's namespace): ``ip link add NAME link DEV type
    macvlan mode MODE [nopromisc] [bcqueuelen N]``.  Modes: private, vepa
    (the kernel's default), bridge, passthru (``nopromisc`` only there),
    source. With ``netns_fd`` it is placed in that namespace as it is made;
    ``index`` asks for that ifindex there."""
    if kind not in ("macvlan", "macvtap"):
        raise EncodeError(f"macvlan kind must be 'macvlan' or 'macvtap', not {kind!r}")
    number = _choice(MACVLAN_MODES, mode, "macvlan mode")
    if nopromisc and number != MACVLAN_MODES["passthru"]:
        raise EncodeError("nopromisc is for macvlan mode passthru only")
    data = [make_attr(IFLA_MACVLAN.IFLA_MACVLAN_MODE, number)]
    if nopromisc:
        data.append(make_attr(IFLA_MACVLAN.IFLA_MACVLAN_FLAGS, 1))  # MACVLAN_FLAG_NOPROMISC
    if bcqueuelen is not None:
        data.append(make_attr(IFLA_MACVLAN.IFLA_MACVLAN_BC_QUEUE_LEN,
                              _u32(bcqueuelen, "bcqueuelen")))
    return link_add(ifname, kind, info_data=data, link=link, mtu=mtu, address=address,
                    netns_fd=netns_fd, up=up, index=index)


def vlan_add(ifname: str, link: int, vid: int, *, protocol: str | int = "802.1Q",
             mtu: int | None = None, address: str | None = None,
             up: bool = False) -> Message:
    """RTM_NEWLINK for an 802.1Q VLAN on ``link``: ``ip link add link DEV name
    NAME type vlan id VID [protocol 802.1Q|802.1ad]`` (the protocol is sent
    only for 802.1ad, as ip does)."""
    data = [make_attr(IFLA_VLAN.IFLA_VLAN_ID, _int(vid, "vlan id", 0, 4094))]
    ethertype = _choice(VLAN_PROTOCOLS, protocol, "vlan protocol")
    if ethertype != VLAN_PROTOCOLS["802.1Q"]:
        data.append(make_attr(IFLA_VLAN.IFLA_VLAN_PROTOCOL, ethertype))
    return link_add(ifname, "vlan", info_data=data, link=link, mtu=mtu, address=address,
                    up=up)


def ipvlan_add(ifname: str, link: int, *, mode: str | int = "l3",
               flag: str | int = "bridge", mtu: int | None = None,
               up: bool = False) -> Message:
    """RTM_NEWLINK for an ipvlan on ``link``: ``ip link add NAME link DEV type
    ipvlan mode l2|l3|l3s [bridge|private|vepa]``."""
    data = [make_attr(IFLA_IPVLAN.IFLA_IPVLAN_MODE, _choice(IPVLAN_MODES, mode, "ipvlan mode")),
            make_attr(IFLA_IPVLAN.IFLA_IPVLAN_FLAGS, _choice(IPVLAN_FLAGS, flag, "ipvlan flag"))]
    return link_add(ifname, "ipvlan", info_data=data, link=link, mtu=mtu, up=up)


def bond_add(ifname: str, *, mode: str | int | None = None, miimon: int | None = None,
             mtu: int | None = None, address: str | None = None,
             up: bool = False) -> Message:
    """RTM_NEWLINK for a bond: ``ip link add NAME type bond [mode MODE] [miimon MS]``."""
    data = []
    if mode is not None:
        data.append(make_attr(IFLA_BOND.IFLA_BOND_MODE, _choice(BOND_MODES, mode, "bond mode")))
    if miimon is not None:
        data.append(make_attr(IFLA_BOND.IFLA_BOND_MIIMON, _u32(miimon, "miimon")))
    return link_add(ifname, "bond", info_data=data or None, mtu=mtu, address=address, up=up)


def vrf_add(ifname: str, table: int, *, up: bool = False) -> Message:
    """RTM_NEWLINK for a VRF device: ``ip link add NAME type vrf table T``."""
    return link_add(ifname, "vrf", info_data=[make_attr(IFLA_VRF.IFLA_VRF_TABLE,
                                                        _u32(table, "vrf table"))], up=up)


def _index_or_name(index: int | None, ifname: str | None) -> tuple[int, list[Attr]]:
    if (index is None) == (ifname is None):
        raise EncodeError("give exactly one of index or ifname")
    if index is not None:
        return _ifindex(index), []
    return 0, [make_attr(IFLA.IFLA_IFNAME, check_ifname(ifname))]


def link_del(*, index: int | None = None, ifname: str | None = None) -> Message:
    """RTM_DELLINK: ``ip link del NAME`` (by index or by name)."""
    number, attrs = _index_or_name(index, ifname)
    return _message(RTM.RTM_DELLINK, _CHANGE, _link_header(number), attrs)


def link_get(*, index: int | None = None, ifname: str | None = None,
             ext_mask: int | None = None) -> Message:
    """RTM_GETLINK for one link: ``ip link show NAME``; the reply is one RTM_NEWLINK.

    ``ext_mask`` (RTEXT_FILTER_*) asks for extras or, with
    RTEXT_FILTER_SKIP_STATS, leaves the counters out.
    """
    number, attrs = _index_or_name(index, ifname)
    if ext_mask is not None:
        attrs.append(make_attr(IFLA.IFLA_EXT_MASK, _u32(ext_mask, "ext_mask")))
    return _message(RTM.RTM_GETLINK, _REQUEST, _link_header(number), attrs)


def link_set(*, index: int | None = None, ifname: str | None = None,
             new_name: str | None = None, up: bool | None = None, mtu: int | None = None,
             address: str | None = None, master: int | None = None,
             txqlen: int | None = None, group: int | None = None,
             alias: str | None = None, netns_fd: int | None = None,
             netns_pid: int | None = None, hairpin: bool | None = None) -> Message:
    """RTM_NEWLINK changing a link: ``ip link set NAME [up|down] [mtu N] [master M]
    [netns NS] [name NEW] ...``.

    ``master=0`` detaches from the master (``nomaster``).  Only what is given
    changes; ``up=None`` leaves the state alone.  ``hairpin`` sets a bridge
    port's hairpin mode (IFLA_BRPORT_MODE in the port's IFLA_INFO_SLAVE_DATA):
    ``ip link set NAME type bridge_slave hairpin on|off``; the kernel refuses
    it (EOPNOTSUPP) unless the link is already a bridge port.
    """
    number, attrs = _index_or_name(index, ifname)
    attrs += _link_attrs(ifname=new_name, mtu=mtu, address=address, txqlen=txqlen,
                         master=master, group=group, netns_fd=netns_fd,
                         netns_pid=netns_pid, alias=alias)
    if hairpin is not None:
        attrs.append(make_attr(IFLA.IFLA_LINKINFO, [
            make_attr(IFLA_INFO.IFLA_INFO_SLAVE_KIND, "bridge"),
            make_attr(IFLA_INFO.IFLA_INFO_SLAVE_DATA,
                      [make_attr(IFLA_BRPORT.IFLA_BRPORT_MODE, int(bool(hairpin)))]),
        ]))
    return _message(RTM.RTM_NEWLINK, _CHANGE, _link_header(number, up), attrs)


def link_dump(*, family: int = AF.AF_UNSPEC, kind: str | None = None,
              master: int | None = None, ext_mask: int | None = None) -> Message:
    """RTM_GETLINK dump: ``ip link show [type KIND] [master M]``.

    The kernel filters by IFLA_LINKINFO/IFLA_INFO_KIND and IFLA_MASTER, and
    then flags its replies NLM_F_DUMP_FILTERED.  The ifinfomsg is all zeros
    but the family, as strict checking wants.
    """
    attrs = []
    if ext_mask is not None:
        attrs.append(make_attr(IFLA.IFLA_EXT_MASK, _u32(ext_mask, "ext_mask")))
    if master is not None:
        attrs.append(make_attr(IFLA.IFLA_MASTER, _ifindex(master, "master")))
    if kind is not None:
        attrs.append(make_attr(IFLA.IFLA_LINKINFO, [make_attr(IFLA_INFO.IFLA_INFO_KIND, kind)]))
    header = IfInfoMsg(family=_int(family, "family", 0, 255))
    return _message(RTM.RTM_GETLINK, _DUMP, header, attrs)


# -- addresses --------------------------------------------------------------------------

def _addr_message(index: int, address: Any, peer: Any, scope: int,
                  flags: Any = 0) -> tuple[IfAddrMsg, list[Attr], IPAddress, int]:
    """The header and IFA_LOCAL/IFA_ADDRESS; also the address and its prefix length."""
    ip, prefixlen = address_prefix(address)
    family = _family_of(ip)
    peer_ip = None if peer is None else _ip(peer, "peer")
    _same_family(family, peer_ip, "peer")
    scope = _int(scope, "scope", 0, 255)
    index = _ifindex(index)
    flags = _u32(int(flags), "flags")
    header = IfAddrMsg(family=family, prefixlen=prefixlen, flags=flags & 0xFF, scope=scope,
                       index=index)
    attrs = [make_attr(IFA.IFA_LOCAL, ip),
             make_attr(IFA.IFA_ADDRESS, peer_ip if peer_ip is not None else ip)]
    return header, attrs, ip, prefixlen


def addr_add(index: int, address: Any, *, peer: AddressLike | None = None,
             broadcast: AddressLike | bool | None = None, label: str | None = None,
             scope: int = RT_SCOPE.RT_SCOPE_UNIVERSE, flags: int = 0,
             valid_lft: int | None = None, preferred_lft: int | None = None,
             metric: int | None = None, replace: bool = False) -> Message:
    """RTM_NEWADDR: ``ip addr add ADDRESS/PREFIX dev IFINDEX [peer P] [brd B|+]
    [label L] [scope S] [valid_lft V preferred_lft P] [metric M]``.

    ``address`` is ``"10.0.0.1/24"`` or an ``ipaddress`` interface.  As ``ip``
    does, IFA_LOCAL is the address and IFA_ADDRESS the peer (or the address).
    ``broadcast=True`` computes the network's broadcast (``brd +``; IPv4 only).
    ``flags`` are IFA_F_* (e.g. IFA_F_NODAD); lifetimes are in seconds.
    """
    header, attrs, ip, prefixlen = _addr_message(index, address, peer, scope, flags)
    flags = _u32(int(flags), "flags")
    if broadcast is not None and broadcast is not False:
        if ip.version != 4:
            raise EncodeError("broadcast addresses exist only for IPv4")
        brd = ipaddress.IPv4Network((ip, prefixlen), strict=False).broadcast_address \
            if broadcast is True else _ip(broadcast, "broadcast")
        _same_family(header.family, brd, "broadcast")
        attrs.append(make_attr(IFA.IFA_BROADCAST, brd))
    if label is not None:
        if ip.version != 4:
            raise EncodeError("labels exist only for IPv4 addresses")
        attrs.append(make_attr(IFA.IFA_LABEL, _label(label)))
    if flags > 0xFF:
        attrs.append(make_attr(IFA.IFA_FLAGS, IFA_F(flags)))
    if valid_lft is not None or preferred_lft is not None:
        valid = 0xFFFFFFFF if valid_lft is None else _u32(valid_lft, "valid_lft")
        preferred = valid if preferred_lft is None else _u32(preferred_lft, "preferred_lft")
        if preferred > valid:
            raise EncodeError("preferred_lft may not exceed valid_lft")
        attrs.append(make_attr(IFA.IFA_CACHEINFO, IfaCacheinfo(prefered=preferred, valid=valid)))
    if metric is not None:
        attrs.append(make_attr(IFA.IFA_RT_PRIORITY, _u32(metric, "metric")))
    return _message(RTM.RTM_NEWADDR, _REPLACE if replace else _CREATE, header, attrs)


def addr_del(index: int, address: Any, *, peer: AddressLike | None = None) -> Message:
    """RTM_DELADDR: ``ip addr del ADDRESS/PREFIX dev IFINDEX``."""
    header, attrs, _, _ = _addr_message(index, address, peer, 0)
    return _message(RTM.RTM_DELADDR, _CHANGE, header, attrs)


def addr_dump(*, family: int = AF.AF_UNSPEC, index: int = 0) -> Message:
    """RTM_GETADDR dump: ``ip addr show [dev IFINDEX]`` (``-4``/``-6`` = family).

    ``index`` filters in the kernel (ifa_index), strict checking allowing it.
    """
    header = IfAddrMsg(family=_int(family, "family", 0, 255),
                       index=0 if index == 0 else _ifindex(index))
    return _message(RTM.RTM_GETADDR, _DUMP, header)


# -- routes ------------------------------------------------------------------------------

def nexthop(*, gateway: AddressLike | None = None, oif: int = 0, weight: int = 1,
            onlink: bool = False) -> RtNextHop:
    """One path of a multipath route: ``nexthop via GW dev OIF weight W``."""
    attrs = _attrs((RTA.RTA_GATEWAY, None if gateway is None else _ip(gateway, "gateway")))
    return RtNextHop(flags=4 if onlink else 0, hops=_int(weight, "weight", 1, 256) - 1,
                     ifindex=0 if oif == 0 else _ifindex(oif, "oif"), attrs=attrs)


def _destination(dst: Any, family: int | None, gateway: Any) -> tuple[int, Any]:
    """(family, network or None for the default route)."""
    if isinstance(dst, str) and dst == "default":
        if family is None:
            family = _family_of(_ip(gateway, "gateway")) if gateway is not None \
                else AF.AF_INET
        return int(family), None
    if isinstance(dst, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        network = dst
    else:
        try:
            network = ipaddress.ip_network(dst, strict=True)
        except (ValueError, TypeError) as err:
            raise EncodeError(f"route destination {dst!r} is not 'default' or a network "
                              f"like '10.0.0.0/24' (host bits must be zero)") from err
    if family is not None and family != _family_of(network):
        raise EncodeError(f"destination {network} is not of family {AF(family).name}")
    return int(_family_of(network)), (None if network.prefixlen == 0 else network)


def _table_fields(table: int) -> tuple[int, Attr | None]:
    table = _u32(int(table), "table")
    if table < 256:
        return table, None
    return int(RT_TABLE.RT_TABLE_UNSPEC), make_attr(RTA.RTA_TABLE, table)


def _route(mtype: RTM, flags: int, dst: Any, *, gateway: Any, oif: int | None,
           table: int, priority: int | None, protocol: int, scope: int | None,
           prefsrc: Any, rtype: int, family: int | None,
           metrics: Mapping[Any, int] | None, multipath: Sequence[RtNextHop] | None,
           deleting: bool, locked: Iterable[Any] = (), onlink: bool = False) -> Message:
    family, network = _destination(dst, family, gateway)
    gateway_ip = None if gateway is None else _ip(gateway, "gateway")
    _same_family(family, gateway_ip, "gateway")
    prefsrc_ip = None if prefsrc is None else _ip(prefsrc, "prefsrc")
    _same_family(family, prefsrc_ip, "prefsrc")
    header_table, table_attr = _table_fields(table)
    if scope is None:
        # iproute2's defaults: host for local/nat, link for broadcast-like
        # types, universe for the other types that are not unicast; for
        # unicast "nowhere" (= any) when deleting, link without a gateway.
        if family == AF.AF_INET6:
            scope = RT_SCOPE.RT_SCOPE_UNIVERSE
        elif rtype in (RTN.RTN_LOCAL, RTN.RTN_NAT):
            scope = RT_SCOPE.RT_SCOPE_HOST
        elif rtype in (RTN.RTN_BROADCAST, RTN.RTN_MULTICAST, RTN.RTN_ANYCAST):
            scope = RT_SCOPE.RT_SCOPE_LINK
        elif rtype not in (RTN.RTN_UNICAST, RTN.RTN_UNSPEC):
            scope = RT_SCOPE.RT_SCOPE_UNIVERSE  # blackhole, unreachable, prohibit, throw
        elif deleting:
            scope = RT_SCOPE.RT_SCOPE_NOWHERE
        elif gateway_ip is None and not multipath:
            scope = RT_SCOPE.RT_SCOPE_LINK
        else:
            scope = RT_SCOPE.RT_SCOPE_UNIVERSE
    header = RtMsg(family=family, dst_len=0 if network is None else network.prefixlen,
                   table=header_table, protocol=_int(protocol, "protocol", 0, 255),
                   scope=_int(scope, "scope", 0, 255), type=_int(rtype, "type", 0, 255),
                   flags=int(RTNH_F.RTNH_F_ONLINK) if onlink else 0)
    attrs: list[Attr] = []
    if table_attr is not None:
        attrs.append(table_attr)
    if network is not None:
        attrs.append(make_attr(RTA.RTA_DST, network.network_address))
    if prefsrc_ip is not None:
        attrs.append(make_attr(RTA.RTA_PREFSRC, prefsrc_ip))
    if gateway_ip is not None:
        attrs.append(make_attr(RTA.RTA_GATEWAY, gateway_ip))
    if oif is not None:
        attrs.append(make_attr(RTA.RTA_OIF, _ifindex(oif, "oif")))
    if priority is not None:
        attrs.append(make_attr(RTA.RTA_PRIORITY, _u32(priority, "priority")))
    lock_mask = 0
    for key in locked:
        lock_mask |= 1 << int(_metric_member(key))
    if metrics or lock_mask:
        nested = []
        if lock_mask:
            nested.append(make_attr(RTAX.RTAX_LOCK, lock_mask))
        for key, value in (metrics or {}).items():
            nested.append(make_attr(_metric_member(key), value))
        attrs.append(make_attr(RTA.RTA_METRICS, nested))
    if multipath:
        for hop in multipath:
            if not isinstance(hop, RtNextHop):
                raise EncodeError(f"multipath wants nexthop(...) items, got {hop!r}")
            for item in hop.attrs:
                if item.name == "RTA_GATEWAY":
                    _same_family(family, item.value, "next-hop gateway")
        attrs.append(make_attr(RTA.RTA_MULTIPATH, tuple(multipath)))
    return _message(mtype, flags, header, attrs)


def _metric_member(key: Any) -> RTAX:
    """A route metric by RTAX member, number, kernel name or ip's name (``"mtu"``,
    ``"congctl"``)."""
    if isinstance(key, str) and not key.startswith("RTAX_"):
        key = "RTAX_" + {"congctl": "cc_algo"}.get(key, key).upper()
    try:
        return RTAX[key] if isinstance(key, str) else RTAX(key)
    except (KeyError, ValueError) as err:
        raise EncodeError(f"unknown route metric {key!r}") from err


def route_add(dst: Any, *, gateway: AddressLike | None = None, oif: int | None = None,
              table: int = RT_TABLE.RT_TABLE_MAIN, priority: int | None = None,
              protocol: int = RTPROT.RTPROT_BOOT, scope: int | None = None,
              prefsrc: AddressLike | None = None, type: int = RTN.RTN_UNICAST,
              family: int | None = None, metrics: Mapping[Any, int] | None = None,
              multipath: Sequence[RtNextHop] | None = None,
              locked: Iterable[Any] = (), onlink: bool = False,
              replace: bool = False) -> Message:
    """RTM_NEWROUTE: ``ip route add DST [via GW] [dev OIF] [table T] [metric P]
    [proto P] [scope S] [src PREFSRC] [mtu [lock] M] [onlink] [nexthop ...]``.

    ``dst`` is ``"default"`` or a network (``"10.0.0.0/24"``, host bits zero).
    Tables above 255 go in RTA_TABLE (rtm_table then RT_TABLE_UNSPEC).  The
    scope defaults as ``ip`` does it.  ``metrics`` maps RTAX names (``"mtu"``
    or ``RTAX.RTAX_MTU``) to values; ``locked`` names those given with ``lock``
    (RTAX_LOCK); ``onlink`` sets RTNH_F_ONLINK; ``multipath`` takes
    :func:`nexthop` items.
    """
    return _route(RTM.RTM_NEWROUTE, _REPLACE if replace else _CREATE, dst,
                  gateway=gateway, oif=oif, table=table, priority=priority,
                  protocol=protocol, scope=scope, prefsrc=prefsrc, rtype=type,
                  family=family, metrics=metrics, multipath=multipath, deleting=False,
                  locked=locked, onlink=onlink)


def route_del(dst: Any, *, gateway: AddressLike | None = None, oif: int | None = None,
              table: int = RT_TABLE.RT_TABLE_MAIN, priority: int | None = None,
              family: int | None = None, type: int = RTN.RTN_UNSPEC) -> Message:
    """RTM_DELROUTE: ``ip route del DST [via GW] [dev OIF] [table T] [metric P]``.

    What is not given matches anything (protocol and type 0, scope NOWHERE).
    """
    return _route(RTM.RTM_DELROUTE, _CHANGE, dst, gateway=gateway, oif=oif, table=table,
                  priority=priority, protocol=RTPROT.RTPROT_UNSPEC, scope=None,
                  prefsrc=None, rtype=type, family=family, metrics=None, multipath=None,
                  deleting=True)


def route_del_exact(*, family: int, dst: Any, table: int, tos: int = 0,
                    metric: int | None = None, protocol: int = RTPROT.RTPROT_UNSPEC,
                    scope: int = RT_SCOPE.RT_SCOPE_NOWHERE, type: int = RTN.RTN_UNSPEC,
                    oif: int | None = None, gateway: AddressLike | None = None,
                    src: Any = None, cloned: bool = False) -> Message:
    """RTM_DELROUTE for one route as a dump showed it (what ``ip route flush``
    sends for each route it removes): every field that tells it from its
    neighbours, so that the kernel removes that one and no other.

    ``dst`` and ``src`` are networks (None: the default route, no source).
    ``cloned=True`` (RTM_F_CLONED) removes an IPv6 exception route (``ip -6
    route flush cache``); IPv4 would ignore the flag and remove the FIB route.
    """
    family = _int(family, "family", 0, 255)
    header_table, table_attr = _table_fields(table)
    attrs: list[Attr] = []
    if table_attr is not None:
        attrs.append(table_attr)
    dst_len = src_len = 0
    if dst is not None:
        _same_family(family, dst, "destination")
        dst_len = dst.prefixlen
        attrs.append(make_attr(RTA.RTA_DST, dst.network_address))
    if src is not None:
        _same_family(family, src, "source")
        src_len = src.prefixlen
        attrs.append(make_attr(RTA.RTA_SRC, src.network_address))
    if gateway is not None:
        gateway_ip = _ip(gateway, "gateway")
        _same_family(family, gateway_ip, "gateway")
        attrs.append(make_attr(RTA.RTA_GATEWAY, gateway_ip))
    if oif is not None:
        attrs.append(make_attr(RTA.RTA_OIF, _ifindex(oif, "oif")))
    if metric is not None:
        attrs.append(make_attr(RTA.RTA_PRIORITY, _u32(metric, "metric")))
    header = RtMsg(family=family, dst_len=dst_len, src_len=src_len,
                   tos=_int(tos, "tos", 0, 255), table=header_table,
                   protocol=_int(protocol, "protocol", 0, 255),
                   scope=_int(scope, "scope", 0, 255), type=_int(type, "type", 0, 255),
                   flags=int(RTM_F.RTM_F_CLONED) if cloned else 0)
    return _message(RTM.RTM_DELROUTE, _CHANGE, header, attrs)


def route_get(dst: AddressLike, *, oif: int | None = None,
              source: AddressLike | None = None, iif: int | None = None,
              mark: int | None = None) -> Message:
    """RTM_GETROUTE for one destination, a lookup: ``ip route get ADDR [from SRC]
    [iif IIF] [oif OIF] [mark M]``; the answer is one RTM_NEWROUTE."""
    address = _ip(dst, "destination")
    family = _family_of(address)
    attrs = [make_attr(RTA.RTA_DST, address)]
    if source is not None:
        source_ip = _ip(source, "source")
        _same_family(family, source_ip, "source")
        attrs.append(make_attr(RTA.RTA_SRC, source_ip))
    if iif is not None:
        attrs.append(make_attr(RTA.RTA_IIF, _ifindex(iif, "iif")))
    if oif is not None:
        attrs.append(make_attr(RTA.RTA_OIF, _ifindex(oif, "oif")))
    if mark is not None:
        attrs.append(make_attr(RTA.RTA_MARK, _u32(mark, "mark")))
    header = RtMsg(family=family, dst_len=address.max_prefixlen,
                   src_len=0 if source is None else address.max_prefixlen)
    return _message(RTM.RTM_GETROUTE, _REQUEST, header, attrs)


def route_dump(*, family: int = AF.AF_UNSPEC, table: int | None = None,
               oif: int | None = None, cloned: bool = False) -> Message:
    """RTM_GETROUTE dump: ``ip route show [table T] [dev OIF]`` (``-6`` = family).

    ``table`` and ``oif`` filter in the kernel (rtm_table / RTA_TABLE above
    255, RTA_OIF); everything else in the rtmsg stays zero for strict checking.
    ``cloned=True`` sets RTM_F_CLONED in rtm_flags: ``ip route show cache``,
    the kernel's exception routes (PMTU, redirects) instead of the FIB's.
    """
    attrs: list[Attr] = []
    header_table = 0
    if table is not None:
        header_table, table_attr = _table_fields(table)
        if table_attr is not None:
            attrs.append(table_attr)
    if oif is not None:
        attrs.append(make_attr(RTA.RTA_OIF, _ifindex(oif, "oif")))
    header = RtMsg(family=_int(family, "family", 0, 255), table=header_table,
                   flags=int(RTM_F.RTM_F_CLONED) if cloned else 0)
    return _message(RTM.RTM_GETROUTE, _DUMP, header, attrs)


# -- neighbours --------------------------------------------------------------------------

def neigh_add(index: int, dst: AddressLike, lladdr: str | None = None, *,
              state: int = NUD.NUD_PERMANENT, flags: int = 0,
              replace: bool = False) -> Message:
    """RTM_NEWNEIGH: ``ip neigh add DST lladdr MAC dev IFINDEX nud permanent``.

    ``replace=True`` is ``ip neigh replace`` (create or update).
    """
    address = _ip(dst, "neighbour address")
    attrs = [make_attr(NDA.NDA_DST, address)]
    if lladdr is not None:
        attrs.append(make_attr(NDA.NDA_LLADDR, _mac(lladdr, "lladdr")))
    header = NdMsg(family=_family_of(address), ifindex=_ifindex(index),
                   state=_int(int(state), "state", 0, 0xFFFF),
                   flags=_int(int(flags), "flags", 0, 255))
    return _message(RTM.RTM_NEWNEIGH, _REPLACE if replace else _CREATE, header, attrs)


def neigh_del(index: int, dst: AddressLike) -> Message:
    """RTM_DELNEIGH: ``ip neigh del DST dev IFINDEX``."""
    address = _ip(dst, "neighbour address")
    header = NdMsg(family=_family_of(address), ifindex=_ifindex(index))
    return _message(RTM.RTM_DELNEIGH, _CHANGE, header, [make_attr(NDA.NDA_DST, address)])


def neigh_dump(*, family: int = AF.AF_UNSPEC, index: int | None = None,
               master: int | None = None, proxy: bool = False) -> Message:
    """RTM_GETNEIGH dump: ``ip neigh show [dev IFINDEX] [master M] [proxy]``.

    Strict checking wants ndm_ifindex 0: the device filter travels as
    NDA_IFINDEX (and NDA_MASTER), and replies come NLM_F_DUMP_FILTERED.
    """
    attrs = []
    if index is not None:
        attrs.append(make_attr(NDA.NDA_IFINDEX, _ifindex(index)))
    if master is not None:
        attrs.append(make_attr(NDA.NDA_MASTER, _ifindex(master, "master")))
    header = NdMsg(family=_int(family, "family", 0, 255),
                   flags=int(NTF.NTF_PROXY) if proxy else 0)
    return _message(RTM.RTM_GETNEIGH, _DUMP, header, attrs)


# -- policy routing rules -----------------------------------------------------------------

def _rule(mtype: RTM, flags: int, *, family: int, priority: int | None, src: Any,
          dst: Any, invert: bool, tos: int, fwmark: int | None, fwmask: int | None,
          iif: str | None, oif: str | None, table: int | None, action: int,
          goto: int | None, suppress_prefixlen: int | None,
          suppress_ifgroup: int | None, realms: int | None,
          uid_range: tuple[int, int] | None, ipproto: int | None,
          sport: tuple[int, int] | None, dport: tuple[int, int] | None,
          protocol: int | None, l3mdev: bool) -> Message:
    family = _int(family, "family", 0, 255)
    if family not in (_AF_INET, _AF_INET6):
        raise EncodeError(f"rules are IPv4 or IPv6, not family {family}")
    attrs: list[Attr] = []
    lengths = []
    for key, value, what in ((FRA.FRA_SRC, src, "from"), (FRA.FRA_DST, dst, "to")):
        if value is None:
            lengths.append(0)
            continue
        network = _rule_prefix(value, what)
        if _family_of(network) != family:
            raise EncodeError(f"{what} {network} is not of family {AF(family).name}")
        lengths.append(network.prefixlen)
        if network.prefixlen:
            attrs.append(make_attr(key, network.network_address))
    header_table = 0
    if table is not None:
        header_table, table_attr = _table_fields(table)
        if table_attr is not None:
            attrs.append(make_attr(FRA.FRA_TABLE, table_attr.value))
    if priority is not None:
        attrs.append(make_attr(FRA.FRA_PRIORITY, _u32(priority, "priority")))
    if fwmark is not None:
        attrs.append(make_attr(FRA.FRA_FWMARK, _u32(fwmark, "fwmark")))
    if fwmask is not None:
        attrs.append(make_attr(FRA.FRA_FWMASK, _u32(fwmask, "fwmask")))
    if iif is not None:
        attrs.append(make_attr(FRA.FRA_IIFNAME, check_ifname(iif, "iif")))
    if oif is not None:
        attrs.append(make_attr(FRA.FRA_OIFNAME, check_ifname(oif, "oif")))
    if goto is not None:
        attrs.append(make_attr(FRA.FRA_GOTO, _u32(goto, "goto")))
    if suppress_prefixlen is not None:
        attrs.append(make_attr(FRA.FRA_SUPPRESS_PREFIXLEN,
                               _int(suppress_prefixlen, "suppress_prefixlength", 0, 128)))
    if suppress_ifgroup is not None:
        attrs.append(make_attr(FRA.FRA_SUPPRESS_IFGROUP,
                               _u32(suppress_ifgroup, "suppress_ifgroup")))
    if realms is not None:
        attrs.append(make_attr(FRA.FRA_FLOW, _u32(realms, "realms")))
    if uid_range is not None:
        start, end = (_u32(v, "uidrange") for v in uid_range)
        if start > end:
            raise EncodeError(f"uidrange {start}-{end} ends before it starts")
        attrs.append(make_attr(FRA.FRA_UID_RANGE, FibRuleUidRange(start=start, end=end)))
    if ipproto is not None:
        attrs.append(make_attr(FRA.FRA_IP_PROTO, _int(ipproto, "ipproto", 0, 255)))
    for key, ports, what in ((FRA.FRA_SPORT_RANGE, sport, "sport"),
                             (FRA.FRA_DPORT_RANGE, dport, "dport")):
        if ports is not None:
            start, end = (_int(v, what, 0, 0xFFFF) for v in ports)
            if start > end:
                raise EncodeError(f"{what} {start}-{end} ends before it starts")
            attrs.append(make_attr(key, FibRulePortRange(start=start, end=end)))
    if protocol is not None:
        attrs.append(make_attr(FRA.FRA_PROTOCOL, _int(protocol, "protocol", 0, 255)))
    if l3mdev:
        attrs.append(make_attr(FRA.FRA_L3MDEV, 1))
    header = FibRuleHdr(family=family, dst_len=lengths[1], src_len=lengths[0],
                        tos=_int(tos, "tos", 0, 255), table=header_table,
                        action=_int(action, "action", 0, 255),
                        flags=int(FIB_RULE.FIB_RULE_INVERT) if invert else 0)
    return _message(mtype, flags, header, attrs)


def _rule_prefix(value: Any, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    try:
        return ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError) as err:
        raise EncodeError(f"{what} {value!r} is not a prefix like '10.0.0.0/24' "
                          f"(host bits must be zero)") from err


def rule_add(*, family: int = AF.AF_INET, priority: int | None = None, src: Any = None,
             dst: Any = None, invert: bool = False, tos: int = 0, fwmark: int | None = None,
             fwmask: int | None = None, iif: str | None = None, oif: str | None = None,
             table: int | None = RT_TABLE.RT_TABLE_MAIN, action: int = FR_ACT.FR_ACT_TO_TBL,
             goto: int | None = None, suppress_prefixlen: int | None = None,
             suppress_ifgroup: int | None = None, realms: int | None = None,
             uid_range: tuple[int, int] | None = None, ipproto: int | None = None,
             sport: tuple[int, int] | None = None, dport: tuple[int, int] | None = None,
             protocol: int | None = None, l3mdev: bool = False) -> Message:
    """RTM_NEWRULE: ``ip rule add [not] [from PREFIX] [to PREFIX] [tos T] [fwmark
    M[/MASK]] [iif DEV] [oif DEV] [priority N] [lookup TABLE | goto N | nop |
    blackhole | unreachable | prohibit] ...``.

    ``action`` is an FR_ACT_* (to a table, goto, nop, blackhole...); tables
    above 255 go in FRA_TABLE; ``src``/``dst`` are prefixes (a length of 0
    is "all", sent as no address).  NLM_F_EXCL: an equal rule is EEXIST.
    """
    return _rule(RTM.RTM_NEWRULE, _CREATE, family=family, priority=priority, src=src,
                 dst=dst, invert=invert, tos=tos, fwmark=fwmark, fwmask=fwmask, iif=iif,
                 oif=oif, table=table, action=action, goto=goto,
                 suppress_prefixlen=suppress_prefixlen, suppress_ifgroup=suppress_ifgroup,
                 realms=realms, uid_range=uid_range, ipproto=ipproto, sport=sport,
                 dport=dport, protocol=protocol, l3mdev=l3mdev)


def rule_del(*, family: int = AF.AF_INET, priority: int | None = None, src: Any = None,
             dst: Any = None, invert: bool = False, tos: int = 0, fwmark: int | None = None,
             fwmask: int | None = None, iif: str | None = None, oif: str | None = None,
             table: int | None = None, action: int = FR_ACT.FR_ACT_UNSPEC,
             goto: int | None = None, suppress_prefixlen: int | None = None,
             suppress_ifgroup: int | None = None, realms: int | None = None,
             uid_range: tuple[int, int] | None = None, ipproto: int | None = None,
             sport: tuple[int, int] | None = None, dport: tuple[int, int] | None = None,
             protocol: int | None = None, l3mdev: bool = False) -> Message:
    """RTM_DELRULE: ``ip rule del SELECTOR``; the kernel removes the first rule
    that has everything given (what is left out matches anything)."""
    return _rule(RTM.RTM_DELRULE, _CHANGE, family=family, priority=priority, src=src,
                 dst=dst, invert=invert, tos=tos, fwmark=fwmark, fwmask=fwmask, iif=iif,
                 oif=oif, table=table, action=action, goto=goto,
                 suppress_prefixlen=suppress_prefixlen, suppress_ifgroup=suppress_ifgroup,
                 realms=realms, uid_range=uid_range, ipproto=ipproto, sport=sport,
                 dport=dport, protocol=protocol, l3mdev=l3mdev)


def rule_dump(*, family: int = AF.AF_INET) -> Message:
    """RTM_GETRULE dump: ``ip [-4|-6] rule show``."""
    return _message(RTM.RTM_GETRULE, _DUMP, FibRuleHdr(family=_int(family, "family", 0, 255)))


# -- namespace ids -----------------------------------------------------------------------

def _one_target(fd: int | None, pid: int | None) -> list[Attr]:
    if (fd is None) == (pid is None):
        raise EncodeError("give exactly one of fd or pid")
    if fd is not None:
        return [make_attr(NETNSA.NETNSA_FD, _fd(fd, "fd"))]
    return [make_attr(NETNSA.NETNSA_PID, _u32(pid, "pid"))]


def nsid_new(nsid: int, *, fd: int | None = None, pid: int | None = None) -> Message:
    """RTM_NEWNSID: ``ip netns set NAME NSID`` (the namespace given by fd or pid).

    ``nsid=-1`` (NETNSA_NSID_NOT_ASSIGNED) lets the kernel choose.
    """
    attrs = [make_attr(NETNSA.NETNSA_NSID, _int(nsid, "nsid", -1, 0x7FFFFFFF))]
    attrs += _one_target(fd, pid)
    return _message(RTM.RTM_NEWNSID, _CHANGE, RtGenMsg(family=AF.AF_UNSPEC), attrs)


def nsid_get(*, fd: int | None = None, pid: int | None = None) -> Message:
    """RTM_GETNSID: the id this namespace gives the namespace of ``fd`` or ``pid``
    (``ip netns list-id`` for one); the reply carries NETNSA_NSID (-1 if none)."""
    return _message(RTM.RTM_GETNSID, _REQUEST, RtGenMsg(family=AF.AF_UNSPEC),
                    _one_target(fd, pid))


def nsid_dump() -> Message:
    """RTM_GETNSID dump: ``ip netns list-id``."""
    return _message(RTM.RTM_GETNSID, _DUMP, RtGenMsg(family=AF.AF_UNSPEC))
