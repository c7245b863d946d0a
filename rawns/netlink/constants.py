# Invariants:
# - Every member name is the kernel's own name (grep the UAPI headers for it);
#   every value was generated from /usr/include/linux/*.h and is cross-checked
#   against them by tests/netlink/test_nl_constants_imports.py.  The few members marked
#   "newer than this machine's headers" come from the current kernel uapi.
# - Enums are grouped by the kernel prefix they share: ``IFLA.IFLA_IFNAME``;
#   every member is also a module-level name (``IFLA_IFNAME``).
# - When two names share a value, the first one listed is the canonical name
#   (``NLM_F_ROOT`` before ``NLM_F_REPLACE``); :func:`nlm_flag_names` picks the
#   right reading of the ambiguous NLM_F bits from the message type.
# - Flag bits are named in one place: :func:`flag_names` (and its text form
#   :func:`flag_text`, and :func:`nlm_flag_names` for nlmsghdr flags).
# - The classes are KernelEnum/KernelFlag (rawns.netlink.names), which behave as
#   3.11's IntEnum/IntFlag and are typed as them, but are not the enum module's:
#   building 53 enum classes cost 20 ms of every command's start.  At run time
#   ``isinstance(IFLA.IFLA_IFNAME, enum.Enum)`` is False; test with KernelEnum and
#   KernelFlag, exported here.
# - Imports nothing (names has no imports either): tested.
"""Kernel constants for rtnetlink: message types, attribute numbers, flags.

Names and values are those of the Linux UAPI headers ``netlink.h``,
``rtnetlink.h``, ``if_link.h``, ``if_addr.h``, ``neighbour.h``, ``veth.h``,
``net_namespace.h``, ``fib_rules.h``, ``if_arp.h`` and ``if.h``::

    >>> IFLA.IFLA_IFNAME, int(IFLA_IFNAME)
    (<IFLA.IFLA_IFNAME: 3>, 3)
    >>> flag_names(IFF, 0x1003)
    ['IFF_UP', 'IFF_BROADCAST', 'IFF_MULTICAST']
    >>> flag_names(IFA_F, 0x80, prefix="IFA_F_", lower=True)
    ['permanent']
    >>> flag_text(IFF, 0x9)
    'IFF_UP|IFF_LOOPBACK (0x9)'
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    # Type checkers (rawns' and its users') see the enum module's semantics, which
    # the light classes below mimic (tests/netlink/test_nl_names.py holds them equal).
    from enum import IntEnum as KernelEnum, IntFlag as KernelFlag
else:
    from .names import KernelEnum, KernelFlag

__all__ = [
    "AF", "NLMSG", "NETLINK_SOCKOPT",
    "NLMSG_ALIGNTO", "NLMSG_HDRLEN", "NLA_ALIGNTO", "NLA_HDRLEN",
    "NLA_F_NESTED", "NLA_F_NET_BYTEORDER", "NLA_TYPE_MASK",
    "NETLINK_ROUTE", "SOL_NETLINK", "SO_RCVBUFFORCE", "IFNAMSIZ", "ALTIFNAMSIZ",
    "NETNSA_NSID_NOT_ASSIGNED", "ENUMS",
    "flag_names", "flag_text", "enum_name", "enum_text", "nlm_flag_names", "message_type",
    "as_flag", "as_enum", "as_member", "enum_members", "flag_cache",
    "KernelEnum", "KernelFlag",
]

# -- framing -----------------------------------------------------------------
NLMSG_ALIGNTO = 4
NLMSG_HDRLEN = 16
NLA_ALIGNTO = 4
NLA_HDRLEN = 4
NLA_F_NESTED = 1 << 15
NLA_F_NET_BYTEORDER = 1 << 14
NLA_TYPE_MASK = 0xFFFF & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)

NETLINK_ROUTE = 0
SOL_NETLINK = 270  # linux/socket.h; the level of the NETLINK_* socket options
SO_RCVBUFFORCE = 33  # asm-generic/socket.h; SO_RCVBUF beyond rmem_max (CAP_NET_ADMIN)
IFNAMSIZ = 16  # includes the terminating NUL: names are at most 15 bytes
ALTIFNAMSIZ = 128
NETNSA_NSID_NOT_ASSIGNED = -1


class NLMSG(KernelEnum):
    """Control message types below NLMSG_MIN_TYPE (netlink.h)."""
    NLMSG_NOOP = 1
    NLMSG_ERROR = 2
    NLMSG_DONE = 3
    NLMSG_OVERRUN = 4


class NETLINK_SOCKOPT(KernelEnum):
    """Netlink socket options at level SOL_NETLINK (netlink.h)."""
    NETLINK_ADD_MEMBERSHIP = 1
    NETLINK_DROP_MEMBERSHIP = 2
    NETLINK_PKTINFO = 3
    NETLINK_BROADCAST_ERROR = 4
    NETLINK_NO_ENOBUFS = 5
    NETLINK_RX_RING = 6
    NETLINK_TX_RING = 7
    NETLINK_LISTEN_ALL_NSID = 8
    NETLINK_LIST_MEMBERSHIPS = 9
    NETLINK_CAP_ACK = 10
    NETLINK_EXT_ACK = 11
    NETLINK_GET_STRICT_CHK = 12


class AF(KernelEnum):
    """The address families rtnetlink uses (linux/socket.h), plus the two
    rtnetlink-only multicast-routing families of rtnetlink.h."""
    AF_UNSPEC = 0
    AF_INET = 2
    AF_BRIDGE = 7
    AF_INET6 = 10
    AF_PACKET = 17
    AF_MPLS = 28
    RTNL_FAMILY_IPMR = 128
    RTNL_FAMILY_IP6MR = 129


#: Bytes of an IP address in the families whose messages carry one.
ADDRESS_SIZE_BY_FAMILY = {int(AF.AF_INET): 4, int(AF.AF_INET6): 16,
                          int(AF.RTNL_FAMILY_IPMR): 4, int(AF.RTNL_FAMILY_IP6MR): 16}


class NLMSGERR_ATTR(KernelEnum):
    """Extended-ack TLVs in NLMSG_ERROR / NLMSG_DONE (netlink.h)."""
    NLMSGERR_ATTR_UNUSED = 0
    NLMSGERR_ATTR_MSG = 1
    NLMSGERR_ATTR_OFFS = 2
    NLMSGERR_ATTR_COOKIE = 3
    NLMSGERR_ATTR_POLICY = 4
    NLMSGERR_ATTR_MISS_TYPE = 5
    NLMSGERR_ATTR_MISS_NEST = 6


class RTM(KernelEnum):
    """rtnetlink message types (rtnetlink.h)."""
    RTM_NEWLINK = 16
    RTM_DELLINK = 17
    RTM_GETLINK = 18
    RTM_SETLINK = 19
    RTM_NEWADDR = 20
    RTM_DELADDR = 21
    RTM_GETADDR = 22
    RTM_NEWROUTE = 24
    RTM_DELROUTE = 25
    RTM_GETROUTE = 26
    RTM_NEWNEIGH = 28
    RTM_DELNEIGH = 29
    RTM_GETNEIGH = 30
    RTM_NEWRULE = 32
    RTM_DELRULE = 33
    RTM_GETRULE = 34
    RTM_NEWQDISC = 36
    RTM_DELQDISC = 37
    RTM_GETQDISC = 38
    RTM_NEWTCLASS = 40
    RTM_DELTCLASS = 41
    RTM_GETTCLASS = 42
    RTM_NEWTFILTER = 44
    RTM_DELTFILTER = 45
    RTM_GETTFILTER = 46
    RTM_NEWACTION = 48
    RTM_DELACTION = 49
    RTM_GETACTION = 50
    RTM_NEWPREFIX = 52
    RTM_GETMULTICAST = 58
    RTM_GETANYCAST = 62
    RTM_NEWNEIGHTBL = 64
    RTM_GETNEIGHTBL = 66
    RTM_SETNEIGHTBL = 67
    RTM_NEWNDUSEROPT = 68
    RTM_NEWADDRLABEL = 72
    RTM_DELADDRLABEL = 73
    RTM_GETADDRLABEL = 74
    RTM_GETDCB = 78
    RTM_SETDCB = 79
    RTM_NEWNETCONF = 80
    RTM_DELNETCONF = 81
    RTM_GETNETCONF = 82
    RTM_NEWMDB = 84
    RTM_DELMDB = 85
    RTM_GETMDB = 86
    RTM_NEWNSID = 88
    RTM_DELNSID = 89
    RTM_GETNSID = 90
    RTM_NEWSTATS = 92
    RTM_GETSTATS = 94
    RTM_SETSTATS = 95
    RTM_NEWCACHEREPORT = 96
    RTM_NEWCHAIN = 100
    RTM_DELCHAIN = 101
    RTM_GETCHAIN = 102
    RTM_NEWNEXTHOP = 104
    RTM_DELNEXTHOP = 105
    RTM_GETNEXTHOP = 106
    RTM_NEWLINKPROP = 108
    RTM_DELLINKPROP = 109
    RTM_GETLINKPROP = 110
    RTM_NEWVLAN = 112
    RTM_DELVLAN = 113
    RTM_GETVLAN = 114
    RTM_NEWNEXTHOPBUCKET = 116
    RTM_DELNEXTHOPBUCKET = 117
    RTM_GETNEXTHOPBUCKET = 118
    RTM_NEWTUNNEL = 120
    RTM_DELTUNNEL = 121
    RTM_GETTUNNEL = 122


class RTN(KernelEnum):
    """Route types, rtm_type (rtnetlink.h)."""
    RTN_UNSPEC = 0
    RTN_UNICAST = 1
    RTN_LOCAL = 2
    RTN_BROADCAST = 3
    RTN_ANYCAST = 4
    RTN_MULTICAST = 5
    RTN_BLACKHOLE = 6
    RTN_UNREACHABLE = 7
    RTN_PROHIBIT = 8
    RTN_THROW = 9
    RTN_NAT = 10
    RTN_XRESOLVE = 11


class RT_SCOPE(KernelEnum):
    """Route and address scopes (rtnetlink.h)."""
    RT_SCOPE_UNIVERSE = 0
    RT_SCOPE_SITE = 200
    RT_SCOPE_LINK = 253
    RT_SCOPE_HOST = 254
    RT_SCOPE_NOWHERE = 255


class RT_TABLE(KernelEnum):
    """Reserved routing table ids (rtnetlink.h)."""
    RT_TABLE_UNSPEC = 0
    RT_TABLE_COMPAT = 252
    RT_TABLE_DEFAULT = 253
    RT_TABLE_MAIN = 254
    RT_TABLE_LOCAL = 255


class RTA(KernelEnum):
    """Route attributes (rtnetlink.h)."""
    RTA_UNSPEC = 0
    RTA_DST = 1
    RTA_SRC = 2
    RTA_IIF = 3
    RTA_OIF = 4
    RTA_GATEWAY = 5
    RTA_PRIORITY = 6
    RTA_PREFSRC = 7
    RTA_METRICS = 8
    RTA_MULTIPATH = 9
    RTA_PROTOINFO = 10
    RTA_FLOW = 11
    RTA_CACHEINFO = 12
    RTA_SESSION = 13
    RTA_MP_ALGO = 14
    RTA_TABLE = 15
    RTA_MARK = 16
    RTA_MFC_STATS = 17
    RTA_VIA = 18
    RTA_NEWDST = 19
    RTA_PREF = 20
    RTA_ENCAP_TYPE = 21
    RTA_ENCAP = 22
    RTA_EXPIRES = 23
    RTA_PAD = 24
    RTA_UID = 25
    RTA_TTL_PROPAGATE = 26
    RTA_IP_PROTO = 27
    RTA_SPORT = 28
    RTA_DPORT = 29
    RTA_NH_ID = 30
    # Newer than this machine's /usr/include headers (kernel uapi, checked by hand):
    RTA_FLOWLABEL = 31


class RTAX(KernelEnum):
    """Route metrics, nested in RTA_METRICS (rtnetlink.h)."""
    RTAX_UNSPEC = 0
    RTAX_LOCK = 1
    RTAX_MTU = 2
    RTAX_WINDOW = 3
    RTAX_RTT = 4
    RTAX_RTTVAR = 5
    RTAX_SSTHRESH = 6
    RTAX_CWND = 7
    RTAX_ADVMSS = 8
    RTAX_REORDERING = 9
    RTAX_HOPLIMIT = 10
    RTAX_INITCWND = 11
    RTAX_FEATURES = 12
    RTAX_RTO_MIN = 13
    RTAX_INITRWND = 14
    RTAX_QUICKACK = 15
    RTAX_CC_ALGO = 16
    RTAX_FASTOPEN_NO_COOKIE = 17


class RTNLGRP(KernelEnum):
    """rtnetlink multicast groups (rtnetlink.h)."""
    RTNLGRP_NONE = 0
    RTNLGRP_LINK = 1
    RTNLGRP_NOTIFY = 2
    RTNLGRP_NEIGH = 3
    RTNLGRP_TC = 4
    RTNLGRP_IPV4_IFADDR = 5
    RTNLGRP_IPV4_MROUTE = 6
    RTNLGRP_IPV4_ROUTE = 7
    RTNLGRP_IPV4_RULE = 8
    RTNLGRP_IPV6_IFADDR = 9
    RTNLGRP_IPV6_MROUTE = 10
    RTNLGRP_IPV6_ROUTE = 11
    RTNLGRP_IPV6_IFINFO = 12
    RTNLGRP_DECnet_IFADDR = 13
    RTNLGRP_NOP2 = 14
    RTNLGRP_DECnet_ROUTE = 15
    RTNLGRP_DECnet_RULE = 16
    RTNLGRP_NOP4 = 17
    RTNLGRP_IPV6_PREFIX = 18
    RTNLGRP_IPV6_RULE = 19
    RTNLGRP_ND_USEROPT = 20
    RTNLGRP_PHONET_IFADDR = 21
    RTNLGRP_PHONET_ROUTE = 22
    RTNLGRP_DCB = 23
    RTNLGRP_IPV4_NETCONF = 24
    RTNLGRP_IPV6_NETCONF = 25
    RTNLGRP_MDB = 26
    RTNLGRP_MPLS_ROUTE = 27
    RTNLGRP_NSID = 28
    RTNLGRP_MPLS_NETCONF = 29
    RTNLGRP_IPV4_MROUTE_R = 30
    RTNLGRP_IPV6_MROUTE_R = 31
    RTNLGRP_NEXTHOP = 32
    RTNLGRP_BRVLAN = 33
    RTNLGRP_MCTP_IFADDR = 34
    RTNLGRP_TUNNEL = 35
    RTNLGRP_STATS = 36


class IFLA(KernelEnum):
    """Link attributes (if_link.h)."""
    IFLA_UNSPEC = 0
    IFLA_ADDRESS = 1
    IFLA_BROADCAST = 2
    IFLA_IFNAME = 3
    IFLA_MTU = 4
    IFLA_LINK = 5
    IFLA_QDISC = 6
    IFLA_STATS = 7
    IFLA_COST = 8
    IFLA_PRIORITY = 9
    IFLA_MASTER = 10
    IFLA_WIRELESS = 11
    IFLA_PROTINFO = 12
    IFLA_TXQLEN = 13
    IFLA_MAP = 14
    IFLA_WEIGHT = 15
    IFLA_OPERSTATE = 16
    IFLA_LINKMODE = 17
    IFLA_LINKINFO = 18
    IFLA_NET_NS_PID = 19
    IFLA_IFALIAS = 20
    IFLA_NUM_VF = 21
    IFLA_VFINFO_LIST = 22
    IFLA_STATS64 = 23
    IFLA_VF_PORTS = 24
    IFLA_PORT_SELF = 25
    IFLA_AF_SPEC = 26
    IFLA_GROUP = 27
    IFLA_NET_NS_FD = 28
    IFLA_EXT_MASK = 29
    IFLA_PROMISCUITY = 30
    IFLA_NUM_TX_QUEUES = 31
    IFLA_NUM_RX_QUEUES = 32
    IFLA_CARRIER = 33
    IFLA_PHYS_PORT_ID = 34
    IFLA_CARRIER_CHANGES = 35
    IFLA_PHYS_SWITCH_ID = 36
    IFLA_LINK_NETNSID = 37
    IFLA_PHYS_PORT_NAME = 38
    IFLA_PROTO_DOWN = 39
    IFLA_GSO_MAX_SEGS = 40
    IFLA_GSO_MAX_SIZE = 41
    IFLA_PAD = 42
    IFLA_XDP = 43
    IFLA_EVENT = 44
    IFLA_NEW_NETNSID = 45
    IFLA_TARGET_NETNSID = 46
    IFLA_IF_NETNSID = 46  # the older name of the same attribute
    IFLA_CARRIER_UP_COUNT = 47
    IFLA_CARRIER_DOWN_COUNT = 48
    IFLA_NEW_IFINDEX = 49
    IFLA_MIN_MTU = 50
    IFLA_MAX_MTU = 51
    IFLA_PROP_LIST = 52
    IFLA_ALT_IFNAME = 53
    IFLA_PERM_ADDRESS = 54
    IFLA_PROTO_DOWN_REASON = 55
    IFLA_PARENT_DEV_NAME = 56
    IFLA_PARENT_DEV_BUS_NAME = 57
    IFLA_GRO_MAX_SIZE = 58
    IFLA_TSO_MAX_SIZE = 59
    IFLA_TSO_MAX_SEGS = 60
    IFLA_ALLMULTI = 61
    # Newer than this machine's /usr/include headers (kernel uapi, checked by hand):
    IFLA_DEVLINK_PORT = 62
    IFLA_GSO_IPV4_MAX_SIZE = 63
    IFLA_GRO_IPV4_MAX_SIZE = 64
    IFLA_DPLL_PIN = 65
    IFLA_MAX_PACING_OFFLOAD_HORIZON = 66
    IFLA_NETNS_IMMUTABLE = 67
    IFLA_HEADROOM = 68
    IFLA_TAILROOM = 69


class IFLA_INFO(KernelEnum):
    """Attributes nested in IFLA_LINKINFO (if_link.h)."""
    IFLA_INFO_UNSPEC = 0
    IFLA_INFO_KIND = 1
    IFLA_INFO_DATA = 2
    IFLA_INFO_XSTATS = 3
    IFLA_INFO_SLAVE_KIND = 4
    IFLA_INFO_SLAVE_DATA = 5


class IFLA_BR(KernelEnum):
    """Bridge attributes, IFLA_INFO_DATA of kind 'bridge' (if_link.h)."""
    IFLA_BR_UNSPEC = 0
    IFLA_BR_FORWARD_DELAY = 1
    IFLA_BR_HELLO_TIME = 2
    IFLA_BR_MAX_AGE = 3
    IFLA_BR_AGEING_TIME = 4
    IFLA_BR_STP_STATE = 5
    IFLA_BR_PRIORITY = 6
    IFLA_BR_VLAN_FILTERING = 7
    IFLA_BR_VLAN_PROTOCOL = 8
    IFLA_BR_GROUP_FWD_MASK = 9
    IFLA_BR_ROOT_ID = 10
    IFLA_BR_BRIDGE_ID = 11
    IFLA_BR_ROOT_PORT = 12
    IFLA_BR_ROOT_PATH_COST = 13
    IFLA_BR_TOPOLOGY_CHANGE = 14
    IFLA_BR_TOPOLOGY_CHANGE_DETECTED = 15
    IFLA_BR_HELLO_TIMER = 16
    IFLA_BR_TCN_TIMER = 17
    IFLA_BR_TOPOLOGY_CHANGE_TIMER = 18
    IFLA_BR_GC_TIMER = 19
    IFLA_BR_GROUP_ADDR = 20
    IFLA_BR_FDB_FLUSH = 21
    IFLA_BR_MCAST_ROUTER = 22
    IFLA_BR_MCAST_SNOOPING = 23
    IFLA_BR_MCAST_QUERY_USE_IFADDR = 24
    IFLA_BR_MCAST_QUERIER = 25
    IFLA_BR_MCAST_HASH_ELASTICITY = 26
    IFLA_BR_MCAST_HASH_MAX = 27
    IFLA_BR_MCAST_LAST_MEMBER_CNT = 28
    IFLA_BR_MCAST_STARTUP_QUERY_CNT = 29
    IFLA_BR_MCAST_LAST_MEMBER_INTVL = 30
    IFLA_BR_MCAST_MEMBERSHIP_INTVL = 31
    IFLA_BR_MCAST_QUERIER_INTVL = 32
    IFLA_BR_MCAST_QUERY_INTVL = 33
    IFLA_BR_MCAST_QUERY_RESPONSE_INTVL = 34
    IFLA_BR_MCAST_STARTUP_QUERY_INTVL = 35
    IFLA_BR_NF_CALL_IPTABLES = 36
    IFLA_BR_NF_CALL_IP6TABLES = 37
    IFLA_BR_NF_CALL_ARPTABLES = 38
    IFLA_BR_VLAN_DEFAULT_PVID = 39
    IFLA_BR_PAD = 40
    IFLA_BR_VLAN_STATS_ENABLED = 41
    IFLA_BR_MCAST_STATS_ENABLED = 42
    IFLA_BR_MCAST_IGMP_VERSION = 43
    IFLA_BR_MCAST_MLD_VERSION = 44
    IFLA_BR_VLAN_STATS_PER_PORT = 45
    IFLA_BR_MULTI_BOOLOPT = 46
    IFLA_BR_MCAST_QUERIER_STATE = 47
    # Newer than this machine's /usr/include headers (kernel uapi, checked by hand):
    IFLA_BR_FDB_N_LEARNED = 48
    IFLA_BR_FDB_MAX_LEARNED = 49


class IFLA_BRPORT(KernelEnum):
    """Bridge port attributes, IFLA_INFO_SLAVE_DATA of slave kind 'bridge' (if_link.h)."""
    IFLA_BRPORT_UNSPEC = 0
    IFLA_BRPORT_STATE = 1
    IFLA_BRPORT_PRIORITY = 2
    IFLA_BRPORT_COST = 3
    IFLA_BRPORT_MODE = 4
    IFLA_BRPORT_GUARD = 5
    IFLA_BRPORT_PROTECT = 6
    IFLA_BRPORT_FAST_LEAVE = 7
    IFLA_BRPORT_LEARNING = 8
    IFLA_BRPORT_UNICAST_FLOOD = 9
    IFLA_BRPORT_PROXYARP = 10
    IFLA_BRPORT_LEARNING_SYNC = 11
    IFLA_BRPORT_PROXYARP_WIFI = 12
    IFLA_BRPORT_ROOT_ID = 13
    IFLA_BRPORT_BRIDGE_ID = 14
    IFLA_BRPORT_DESIGNATED_PORT = 15
    IFLA_BRPORT_DESIGNATED_COST = 16
    IFLA_BRPORT_ID = 17
    IFLA_BRPORT_NO = 18
    IFLA_BRPORT_TOPOLOGY_CHANGE_ACK = 19
    IFLA_BRPORT_CONFIG_PENDING = 20
    IFLA_BRPORT_MESSAGE_AGE_TIMER = 21
    IFLA_BRPORT_FORWARD_DELAY_TIMER = 22
    IFLA_BRPORT_HOLD_TIMER = 23
    IFLA_BRPORT_FLUSH = 24
    IFLA_BRPORT_MULTICAST_ROUTER = 25
    IFLA_BRPORT_PAD = 26
    IFLA_BRPORT_MCAST_FLOOD = 27
    IFLA_BRPORT_MCAST_TO_UCAST = 28
    IFLA_BRPORT_VLAN_TUNNEL = 29
    IFLA_BRPORT_BCAST_FLOOD = 30
    IFLA_BRPORT_GROUP_FWD_MASK = 31
    IFLA_BRPORT_NEIGH_SUPPRESS = 32
    IFLA_BRPORT_ISOLATED = 33
    IFLA_BRPORT_BACKUP_PORT = 34
    IFLA_BRPORT_MRP_RING_OPEN = 35
    IFLA_BRPORT_MRP_IN_OPEN = 36
    IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT = 37
    IFLA_BRPORT_MCAST_EHT_HOSTS_CNT = 38
    IFLA_BRPORT_LOCKED = 39


class IFLA_VXLAN(KernelEnum):
    """VXLAN attributes, IFLA_INFO_DATA of kind 'vxlan' (if_link.h)."""
    IFLA_VXLAN_UNSPEC = 0
    IFLA_VXLAN_ID = 1
    IFLA_VXLAN_GROUP = 2
    IFLA_VXLAN_LINK = 3
    IFLA_VXLAN_LOCAL = 4
    IFLA_VXLAN_TTL = 5
    IFLA_VXLAN_TOS = 6
    IFLA_VXLAN_LEARNING = 7
    IFLA_VXLAN_AGEING = 8
    IFLA_VXLAN_LIMIT = 9
    IFLA_VXLAN_PORT_RANGE = 10
    IFLA_VXLAN_PROXY = 11
    IFLA_VXLAN_RSC = 12
    IFLA_VXLAN_L2MISS = 13
    IFLA_VXLAN_L3MISS = 14
    IFLA_VXLAN_PORT = 15
    IFLA_VXLAN_GROUP6 = 16
    IFLA_VXLAN_LOCAL6 = 17
    IFLA_VXLAN_UDP_CSUM = 18
    IFLA_VXLAN_UDP_ZERO_CSUM6_TX = 19
    IFLA_VXLAN_UDP_ZERO_CSUM6_RX = 20
    IFLA_VXLAN_REMCSUM_TX = 21
    IFLA_VXLAN_REMCSUM_RX = 22
    IFLA_VXLAN_GBP = 23
    IFLA_VXLAN_REMCSUM_NOPARTIAL = 24
    IFLA_VXLAN_COLLECT_METADATA = 25
    IFLA_VXLAN_LABEL = 26
    IFLA_VXLAN_GPE = 27
    IFLA_VXLAN_TTL_INHERIT = 28
    IFLA_VXLAN_DF = 29
    IFLA_VXLAN_VNIFILTER = 30
    # Newer than this machine's /usr/include headers (kernel uapi, checked by hand):
    IFLA_VXLAN_LOCALBYPASS = 31
    IFLA_VXLAN_LABEL_POLICY = 32
    IFLA_VXLAN_RESERVED_BITS = 33
    IFLA_VXLAN_MC_ROUTE = 34


class VXLAN_DF(KernelEnum):
    """Values of IFLA_VXLAN_DF (if_link.h)."""
    VXLAN_DF_UNSET = 0
    VXLAN_DF_SET = 1
    VXLAN_DF_INHERIT = 2


class IFLA_MACVLAN(KernelEnum):
    """macvlan attributes, in IFLA_INFO_DATA (if_link.h)."""
    IFLA_MACVLAN_UNSPEC = 0
    IFLA_MACVLAN_MODE = 1
    IFLA_MACVLAN_FLAGS = 2
    IFLA_MACVLAN_MACADDR_MODE = 3
    IFLA_MACVLAN_MACADDR = 4
    IFLA_MACVLAN_MACADDR_DATA = 5
    IFLA_MACVLAN_MACADDR_COUNT = 6
    IFLA_MACVLAN_BC_QUEUE_LEN = 7
    IFLA_MACVLAN_BC_QUEUE_LEN_USED = 8


class MACVLAN_MODE(KernelEnum):
    """IFLA_MACVLAN_MODE values (if_link.h)."""
    MACVLAN_MODE_PRIVATE = 1
    MACVLAN_MODE_VEPA = 2
    MACVLAN_MODE_BRIDGE = 4
    MACVLAN_MODE_PASSTHRU = 8
    MACVLAN_MODE_SOURCE = 16


class MACVLAN_FLAG(KernelFlag):
    """IFLA_MACVLAN_FLAGS bits (if_link.h)."""
    MACVLAN_FLAG_NOPROMISC = 1
    MACVLAN_FLAG_NODST = 2


class IFLA_VLAN(KernelEnum):
    """802.1Q VLAN attributes, in IFLA_INFO_DATA (if_link.h)."""
    IFLA_VLAN_UNSPEC = 0
    IFLA_VLAN_ID = 1
    IFLA_VLAN_FLAGS = 2
    IFLA_VLAN_EGRESS_QOS = 3
    IFLA_VLAN_INGRESS_QOS = 4
    IFLA_VLAN_PROTOCOL = 5


class IFLA_IPVLAN(KernelEnum):
    """ipvlan attributes, in IFLA_INFO_DATA (if_link.h)."""
    IFLA_IPVLAN_UNSPEC = 0
    IFLA_IPVLAN_MODE = 1
    IFLA_IPVLAN_FLAGS = 2


class IPVLAN_MODE(KernelEnum):
    """IFLA_IPVLAN_MODE values (if_link.h)."""
    IPVLAN_MODE_L2 = 0
    IPVLAN_MODE_L3 = 1
    IPVLAN_MODE_L3S = 2


class IFLA_VRF(KernelEnum):
    """VRF attributes, in IFLA_INFO_DATA (if_link.h)."""
    IFLA_VRF_UNSPEC = 0
    IFLA_VRF_TABLE = 1


class IFLA_BOND(KernelEnum):
    """Bonding attributes, in IFLA_INFO_DATA (if_link.h)."""
    IFLA_BOND_UNSPEC = 0
    IFLA_BOND_MODE = 1
    IFLA_BOND_ACTIVE_SLAVE = 2
    IFLA_BOND_MIIMON = 3
    IFLA_BOND_UPDELAY = 4
    IFLA_BOND_DOWNDELAY = 5
    IFLA_BOND_USE_CARRIER = 6
    IFLA_BOND_ARP_INTERVAL = 7
    IFLA_BOND_ARP_IP_TARGET = 8
    IFLA_BOND_ARP_VALIDATE = 9
    IFLA_BOND_ARP_ALL_TARGETS = 10
    IFLA_BOND_PRIMARY = 11
    IFLA_BOND_PRIMARY_RESELECT = 12
    IFLA_BOND_FAIL_OVER_MAC = 13
    IFLA_BOND_XMIT_HASH_POLICY = 14
    IFLA_BOND_RESEND_IGMP = 15
    IFLA_BOND_NUM_PEER_NOTIF = 16
    IFLA_BOND_ALL_SLAVES_ACTIVE = 17
    IFLA_BOND_MIN_LINKS = 18
    IFLA_BOND_LP_INTERVAL = 19
    IFLA_BOND_PACKETS_PER_SLAVE = 20
    IFLA_BOND_AD_LACP_RATE = 21
    IFLA_BOND_AD_SELECT = 22
    IFLA_BOND_AD_INFO = 23
    IFLA_BOND_AD_ACTOR_SYS_PRIO = 24
    IFLA_BOND_AD_USER_PORT_KEY = 25
    IFLA_BOND_AD_ACTOR_SYSTEM = 26
    IFLA_BOND_TLB_DYNAMIC_LB = 27
    IFLA_BOND_PEER_NOTIF_DELAY = 28
    IFLA_BOND_AD_LACP_ACTIVE = 29
    IFLA_BOND_MISSED_MAX = 30
    IFLA_BOND_NS_IP6_TARGET = 31
    IFLA_BOND_COUPLED_CONTROL = 32


class IFLA_TUN(KernelEnum):
    """tun/tap attributes, in IFLA_INFO_DATA (if_link.h); read-only: tun
    devices are made through /dev/net/tun, not RTM_NEWLINK."""
    IFLA_TUN_UNSPEC = 0
    IFLA_TUN_OWNER = 1
    IFLA_TUN_GROUP = 2
    IFLA_TUN_TYPE = 3
    IFLA_TUN_PI = 4
    IFLA_TUN_VNET_HDR = 5
    IFLA_TUN_PERSIST = 6
    IFLA_TUN_MULTI_QUEUE = 7
    IFLA_TUN_NUM_QUEUES = 8
    IFLA_TUN_NUM_DISABLED_QUEUES = 9


class IFLA_INET(KernelEnum):
    """IFLA_AF_SPEC / AF_INET attributes (if_link.h)."""
    IFLA_INET_UNSPEC = 0
    IFLA_INET_CONF = 1


class IFLA_INET6(KernelEnum):
    """IFLA_AF_SPEC / AF_INET6 attributes (if_link.h)."""
    IFLA_INET6_UNSPEC = 0
    IFLA_INET6_FLAGS = 1
    IFLA_INET6_CONF = 2
    IFLA_INET6_STATS = 3
    IFLA_INET6_MCAST = 4
    IFLA_INET6_CACHEINFO = 5
    IFLA_INET6_ICMP6STATS = 6
    IFLA_INET6_TOKEN = 7
    IFLA_INET6_ADDR_GEN_MODE = 8
    IFLA_INET6_RA_MTU = 9


class IN6_ADDR_GEN_MODE(KernelEnum):
    """Values of IFLA_INET6_ADDR_GEN_MODE (if_link.h)."""
    IN6_ADDR_GEN_MODE_EUI64 = 0
    IN6_ADDR_GEN_MODE_NONE = 1
    IN6_ADDR_GEN_MODE_STABLE_PRIVACY = 2
    IN6_ADDR_GEN_MODE_RANDOM = 3


class IFLA_XDP_ATTRS(KernelEnum):
    """Attributes nested in IFLA_XDP (if_link.h)."""
    IFLA_XDP_UNSPEC = 0
    IFLA_XDP_FD = 1
    IFLA_XDP_ATTACHED = 2
    IFLA_XDP_FLAGS = 3
    IFLA_XDP_PROG_ID = 4
    IFLA_XDP_DRV_PROG_ID = 5
    IFLA_XDP_SKB_PROG_ID = 6
    IFLA_XDP_HW_PROG_ID = 7
    IFLA_XDP_EXPECTED_FD = 8


class XDP_ATTACHED(KernelEnum):
    """Values of IFLA_XDP_ATTACHED (if_link.h)."""
    XDP_ATTACHED_NONE = 0
    XDP_ATTACHED_DRV = 1
    XDP_ATTACHED_SKB = 2
    XDP_ATTACHED_HW = 3
    XDP_ATTACHED_MULTI = 4


class IFLA_PROTO_DOWN_REASON_ATTRS(KernelEnum):
    """Attributes nested in IFLA_PROTO_DOWN_REASON (if_link.h)."""
    IFLA_PROTO_DOWN_REASON_UNSPEC = 0
    IFLA_PROTO_DOWN_REASON_MASK = 1
    IFLA_PROTO_DOWN_REASON_VALUE = 2


class VETH_INFO(KernelEnum):
    """veth attributes, IFLA_INFO_DATA of kind 'veth' (veth.h)."""
    VETH_INFO_UNSPEC = 0
    VETH_INFO_PEER = 1


class IFA(KernelEnum):
    """Address attributes (if_addr.h)."""
    IFA_UNSPEC = 0
    IFA_ADDRESS = 1
    IFA_LOCAL = 2
    IFA_LABEL = 3
    IFA_BROADCAST = 4
    IFA_ANYCAST = 5
    IFA_CACHEINFO = 6
    IFA_MULTICAST = 7
    IFA_FLAGS = 8
    IFA_RT_PRIORITY = 9
    IFA_TARGET_NETNSID = 10
    IFA_PROTO = 11


class NDA(KernelEnum):
    """Neighbour attributes (neighbour.h)."""
    NDA_UNSPEC = 0
    NDA_DST = 1
    NDA_LLADDR = 2
    NDA_CACHEINFO = 3
    NDA_PROBES = 4
    NDA_VLAN = 5
    NDA_PORT = 6
    NDA_VNI = 7
    NDA_IFINDEX = 8
    NDA_MASTER = 9
    NDA_LINK_NETNSID = 10
    NDA_SRC_VNI = 11
    NDA_PROTOCOL = 12
    NDA_NH_ID = 13
    NDA_FDB_EXT_ATTRS = 14
    NDA_FLAGS_EXT = 15
    NDA_NDM_STATE_MASK = 16
    NDA_NDM_FLAGS_MASK = 17


class NETNSA(KernelEnum):
    """Namespace id attributes of RTM_NEWNSID/RTM_GETNSID (net_namespace.h)."""
    NETNSA_NONE = 0
    NETNSA_NSID = 1
    NETNSA_PID = 2
    NETNSA_FD = 3
    NETNSA_TARGET_NSID = 4
    NETNSA_CURRENT_NSID = 5


class FRA(KernelEnum):
    """FIB rule attributes of RTM_NEWRULE/RTM_DELRULE/RTM_GETRULE (fib_rules.h)."""
    FRA_UNSPEC = 0
    FRA_DST = 1
    FRA_SRC = 2
    FRA_IIFNAME = 3
    FRA_GOTO = 4
    FRA_UNUSED2 = 5
    FRA_PRIORITY = 6
    FRA_UNUSED3 = 7
    FRA_UNUSED4 = 8
    FRA_UNUSED5 = 9
    FRA_FWMARK = 10
    FRA_FLOW = 11
    FRA_TUN_ID = 12
    FRA_SUPPRESS_IFGROUP = 13
    FRA_SUPPRESS_PREFIXLEN = 14
    FRA_TABLE = 15
    FRA_FWMASK = 16
    FRA_OIFNAME = 17
    FRA_PAD = 18
    FRA_L3MDEV = 19
    FRA_UID_RANGE = 20
    FRA_PROTOCOL = 21
    FRA_IP_PROTO = 22
    FRA_SPORT_RANGE = 23
    FRA_DPORT_RANGE = 24


class FR_ACT(KernelEnum):
    """What a FIB rule does, fib_rule_hdr.action (fib_rules.h)."""
    FR_ACT_UNSPEC = 0
    FR_ACT_TO_TBL = 1
    FR_ACT_GOTO = 2
    FR_ACT_NOP = 3
    FR_ACT_RES3 = 4
    FR_ACT_RES4 = 5
    FR_ACT_BLACKHOLE = 6
    FR_ACT_UNREACHABLE = 7
    FR_ACT_PROHIBIT = 8


class FIB_RULE(KernelFlag):
    """FIB rule flags, fib_rule_hdr.flags (fib_rules.h)."""
    FIB_RULE_PERMANENT = 0x1
    FIB_RULE_INVERT = 0x2
    FIB_RULE_UNRESOLVED = 0x4
    FIB_RULE_IIF_DETACHED = 0x8
    FIB_RULE_OIF_DETACHED = 0x10
    FIB_RULE_FIND_SADDR = 0x10000


class IF_OPER(KernelEnum):
    """RFC 2863 operational states, IFLA_OPERSTATE (if.h)."""
    IF_OPER_UNKNOWN = 0
    IF_OPER_NOTPRESENT = 1
    IF_OPER_DOWN = 2
    IF_OPER_LOWERLAYERDOWN = 3
    IF_OPER_TESTING = 4
    IF_OPER_DORMANT = 5
    IF_OPER_UP = 6


class IF_LINK_MODE(KernelEnum):
    """Link modes, IFLA_LINKMODE (if.h)."""
    IF_LINK_MODE_DEFAULT = 0
    IF_LINK_MODE_DORMANT = 1
    IF_LINK_MODE_TESTING = 2


class IFF(KernelFlag):
    """Interface flags, ifi_flags (if.h)."""
    IFF_UP = 1
    IFF_BROADCAST = 2
    IFF_DEBUG = 4
    IFF_LOOPBACK = 8
    IFF_POINTOPOINT = 0x10
    IFF_NOTRAILERS = 0x20
    IFF_RUNNING = 0x40
    IFF_NOARP = 0x80
    IFF_PROMISC = 0x100
    IFF_ALLMULTI = 0x200
    IFF_MASTER = 0x400
    IFF_SLAVE = 0x800
    IFF_MULTICAST = 0x1000
    IFF_PORTSEL = 0x2000
    IFF_AUTOMEDIA = 0x4000
    IFF_DYNAMIC = 0x8000
    IFF_LOWER_UP = 0x10000
    IFF_DORMANT = 0x20000
    IFF_ECHO = 0x40000


class NLM_F(KernelFlag):
    """nlmsghdr flags (netlink.h).

    Bits are reused by request kind: 0x100 is ROOT for GET, REPLACE for NEW,
    NONREC for DEL, CAPPED for acks (see :func:`nlm_flag_names`).
    """
    NLM_F_REQUEST = 1
    NLM_F_MULTI = 2
    NLM_F_ACK = 4
    NLM_F_ECHO = 8
    NLM_F_DUMP_INTR = 0x10
    NLM_F_DUMP_FILTERED = 0x20
    NLM_F_ROOT = 0x100
    NLM_F_MATCH = 0x200
    NLM_F_ATOMIC = 0x400
    NLM_F_DUMP = 0x300
    NLM_F_REPLACE = 0x100
    NLM_F_EXCL = 0x200
    NLM_F_CREATE = 0x400
    NLM_F_APPEND = 0x800
    NLM_F_NONREC = 0x100
    NLM_F_BULK = 0x200
    NLM_F_CAPPED = 0x100
    NLM_F_ACK_TLVS = 0x200


class RTM_F(KernelFlag):
    """Route flags, rtm_flags (rtnetlink.h)."""
    RTM_F_NOTIFY = 0x100
    RTM_F_CLONED = 0x200
    RTM_F_EQUALIZE = 0x400
    RTM_F_PREFIX = 0x800
    RTM_F_LOOKUP_TABLE = 0x1000
    RTM_F_FIB_MATCH = 0x2000
    RTM_F_OFFLOAD = 0x4000
    RTM_F_TRAP = 0x8000
    RTM_F_OFFLOAD_FAILED = 0x20000000


class RTPROT(KernelEnum):
    """Route origin, rtm_protocol (rtnetlink.h)."""
    RTPROT_UNSPEC = 0
    RTPROT_REDIRECT = 1
    RTPROT_KERNEL = 2
    RTPROT_BOOT = 3
    RTPROT_STATIC = 4
    RTPROT_GATED = 8
    RTPROT_RA = 9
    RTPROT_MRT = 10
    RTPROT_ZEBRA = 11
    RTPROT_BIRD = 12
    RTPROT_DNROUTED = 13
    RTPROT_XORP = 14
    RTPROT_NTK = 15
    RTPROT_DHCP = 16
    RTPROT_MROUTED = 17
    RTPROT_KEEPALIVED = 18
    RTPROT_BABEL = 42
    RTPROT_OPENR = 99
    RTPROT_BGP = 186
    RTPROT_ISIS = 187
    RTPROT_OSPF = 188
    RTPROT_RIP = 189
    RTPROT_EIGRP = 192


class RTNH_F(KernelFlag):
    """Next-hop flags, rtnh_flags (rtnetlink.h)."""
    RTNH_F_DEAD = 1
    RTNH_F_PERVASIVE = 2
    RTNH_F_ONLINK = 4
    RTNH_F_OFFLOAD = 8
    RTNH_F_LINKDOWN = 0x10
    RTNH_F_UNRESOLVED = 0x20
    RTNH_F_TRAP = 0x40


class RTAX_FEATURE(KernelFlag):
    """Bits of RTAX_FEATURES (rtnetlink.h)."""
    RTAX_FEATURE_ECN = 1
    RTAX_FEATURE_SACK = 2
    RTAX_FEATURE_TIMESTAMP = 4
    RTAX_FEATURE_ALLFRAG = 8


class RTEXT_FILTER(KernelFlag):
    """IFLA_EXT_MASK bits (rtnetlink.h)."""
    RTEXT_FILTER_VF = 1
    RTEXT_FILTER_BRVLAN = 2
    RTEXT_FILTER_BRVLAN_COMPRESSED = 4
    RTEXT_FILTER_SKIP_STATS = 8
    RTEXT_FILTER_MRP = 0x10
    RTEXT_FILTER_CFM_CONFIG = 0x20
    RTEXT_FILTER_CFM_STATUS = 0x40
    RTEXT_FILTER_MST = 0x80


class IFA_F(KernelFlag):
    """Address flags, ifa_flags and IFA_FLAGS (if_addr.h)."""
    IFA_F_SECONDARY = 1
    IFA_F_TEMPORARY = 1
    IFA_F_NODAD = 2
    IFA_F_OPTIMISTIC = 4
    IFA_F_DADFAILED = 8
    IFA_F_HOMEADDRESS = 0x10
    IFA_F_DEPRECATED = 0x20
    IFA_F_TENTATIVE = 0x40
    IFA_F_PERMANENT = 0x80
    IFA_F_MANAGETEMPADDR = 0x100
    IFA_F_NOPREFIXROUTE = 0x200
    IFA_F_MCAUTOJOIN = 0x400
    IFA_F_STABLE_PRIVACY = 0x800


class IFAPROT(KernelEnum):
    """Address origin, IFA_PROTO (if_addr.h)."""
    IFAPROT_UNSPEC = 0
    IFAPROT_KERNEL_LO = 1
    IFAPROT_KERNEL_RA = 2
    IFAPROT_KERNEL_LL = 3


class NUD(KernelFlag):
    """Neighbour states, ndm_state (neighbour.h)."""
    NUD_INCOMPLETE = 1
    NUD_REACHABLE = 2
    NUD_STALE = 4
    NUD_DELAY = 8
    NUD_PROBE = 0x10
    NUD_FAILED = 0x20
    NUD_NOARP = 0x40
    NUD_PERMANENT = 0x80
    NUD_NONE = 0


class NTF(KernelFlag):
    """Neighbour flags, ndm_flags (neighbour.h)."""
    NTF_USE = 1
    NTF_SELF = 2
    NTF_MASTER = 4
    NTF_PROXY = 8
    NTF_EXT_LEARNED = 0x10
    NTF_OFFLOADED = 0x20
    NTF_STICKY = 0x40
    NTF_ROUTER = 0x80


class ARPHRD(KernelEnum):
    """Link-layer types, ifi_type (if_arp.h)."""
    ARPHRD_NETROM = 0
    ARPHRD_ETHER = 1
    ARPHRD_EETHER = 2
    ARPHRD_AX25 = 3
    ARPHRD_PRONET = 4
    ARPHRD_CHAOS = 5
    ARPHRD_IEEE802 = 6
    ARPHRD_ARCNET = 7
    ARPHRD_APPLETLK = 8
    ARPHRD_DLCI = 15
    ARPHRD_ATM = 19
    ARPHRD_METRICOM = 23
    ARPHRD_IEEE1394 = 24
    ARPHRD_EUI64 = 27
    ARPHRD_INFINIBAND = 32
    ARPHRD_SLIP = 256
    ARPHRD_CSLIP = 257
    ARPHRD_SLIP6 = 258
    ARPHRD_CSLIP6 = 259
    ARPHRD_RSRVD = 260
    ARPHRD_ADAPT = 264
    ARPHRD_ROSE = 270
    ARPHRD_X25 = 271
    ARPHRD_HWX25 = 272
    ARPHRD_CAN = 280
    ARPHRD_MCTP = 290
    ARPHRD_PPP = 512
    ARPHRD_CISCO = 513
    ARPHRD_HDLC = 513
    ARPHRD_LAPB = 516
    ARPHRD_DDCMP = 517
    ARPHRD_RAWHDLC = 518
    ARPHRD_RAWIP = 519
    ARPHRD_TUNNEL = 768
    ARPHRD_TUNNEL6 = 769
    ARPHRD_FRAD = 770
    ARPHRD_SKIP = 771
    ARPHRD_LOOPBACK = 772
    ARPHRD_LOCALTLK = 773
    ARPHRD_FDDI = 774
    ARPHRD_BIF = 775
    ARPHRD_SIT = 776
    ARPHRD_IPDDP = 777
    ARPHRD_IPGRE = 778
    ARPHRD_PIMREG = 779
    ARPHRD_HIPPI = 780
    ARPHRD_ASH = 781
    ARPHRD_ECONET = 782
    ARPHRD_IRDA = 783
    ARPHRD_FCPP = 784
    ARPHRD_FCAL = 785
    ARPHRD_FCPL = 786
    ARPHRD_FCFABRIC = 787
    ARPHRD_IEEE802_TR = 800
    ARPHRD_IEEE80211 = 801
    ARPHRD_IEEE80211_PRISM = 802
    ARPHRD_IEEE80211_RADIOTAP = 803
    ARPHRD_IEEE802154 = 804
    ARPHRD_IEEE802154_MONITOR = 805
    ARPHRD_PHONET = 820
    ARPHRD_PHONET_PIPE = 821
    ARPHRD_CAIF = 822
    ARPHRD_IP6GRE = 823
    ARPHRD_NETLINK = 824
    ARPHRD_6LOWPAN = 825
    ARPHRD_VSOCKMON = 826
    ARPHRD_VOID = 65535
    ARPHRD_NONE = 65534



ENUMS: tuple[type[KernelEnum] | type[KernelFlag], ...] = tuple(
    value for value in list(globals().values())
    if isinstance(value, type) and issubclass(value, (KernelEnum, KernelFlag))
    and value not in (KernelEnum, KernelFlag)
)
"""Every constant class of this module, in definition order."""


def _export_members() -> None:
    # Put every member (aliases included) at module level, so that
    # ``from rawns.netlink.constants import IFLA_IFNAME`` works like C.
    namespace = globals()
    for enum_class in ENUMS:
        if enum_class.__name__ not in __all__:
            __all__.append(enum_class.__name__)
        members = enum_class.__members__
        # a name two classes share must mean one number (checked by
        # test_nl_constants_imports.py, not here: this runs at every start)
        namespace.update(members)
        __all__.extend(members)


_export_members()

if TYPE_CHECKING:
    _E = TypeVar("_E", KernelEnum, KernelFlag)

# Enum lookups sit on the decoder's hot path: plain dicts are ~10x faster
# than calling the class.  Flag caches are bounded so that hostile input
# cannot grow them without limit (KernelFlag bounds its own).
_ENUM_BY_VALUE: dict[type, dict[int, object]] = {}
_FLAG_CACHE: dict[type, dict[int, object]] = {}
_FLAG_CACHE_LIMIT = 4096


def enum_members(enum_class: type[_E]) -> dict[int, _E]:
    """``{value: member}`` of ``enum_class``: ``as_enum`` is ``.get(value, value)`` on it."""
    table = _ENUM_BY_VALUE.get(enum_class)
    if table is None:
        table = _ENUM_BY_VALUE[enum_class] = dict(enum_class._value2member_map_)
    return table  # type: ignore[return-value]


def as_member(names: type[KernelEnum] | type[KernelFlag], value: int) -> Any:
    """``value`` read as ``names``: :func:`as_flag` for a flag class, else
    :func:`as_enum` (an unknown enum value stays a plain int)."""
    if issubclass(names, KernelFlag):
        return as_flag(names, value)
    return as_enum(names, value)


def flag_cache(flag_class: type[_E]) -> dict[int, _E]:
    """The values ``as_flag`` already made for ``flag_class`` (bounded)."""
    cache = _FLAG_CACHE.get(flag_class)
    if cache is None:
        cache = _FLAG_CACHE[flag_class] = {}
    return cache  # type: ignore[return-value]


def as_enum(enum_class: type[_E], value: int) -> _E | int:
    """Return the member of ``enum_class`` for ``value``, or the plain int."""
    return enum_members(enum_class).get(value, value)


def as_flag(flag_class: type[_E], value: int) -> _E:
    """Return ``value`` as an instance of the flag class ``flag_class``.

    Unknown bits are kept (the value is unchanged).
    """
    cache = flag_cache(flag_class)
    member = cache.get(value)
    if member is None:
        member = flag_class(value)
        if len(cache) < _FLAG_CACHE_LIMIT:
            cache[value] = member
    return member


_SINGLE_BITS: dict[type, tuple[tuple[str, int], ...]] = {}


def _single_bits(flag_class: type[KernelFlag]) -> tuple[tuple[str, int], ...]:
    """``(canonical name, bit)`` of each single-bit member, in definition order."""
    bits = _SINGLE_BITS.get(flag_class)
    if bits is None:
        found: dict[int, str] = {}
        for name, member in flag_class.__members__.items():
            value = int(member)
            if value and value & (value - 1) == 0 and value not in found:
                found[value] = name
        bits = _SINGLE_BITS[flag_class] = tuple((name, bit) for bit, name in found.items())
    return bits


def flag_names(flag_class: type[KernelFlag], value: int, *, prefix: str = "",
               lower: bool = False) -> list[str]:
    """Names of the single-bit members set in ``value`` (canonical names).

    Bits without a name are reported as one hex number at the end:
    ``flag_names(IFF, 0x80001) == ['IFF_UP', '0x80000']``.  ``prefix`` is
    cut from each name and ``lower`` lowercases it, for ip's spelling:
    ``flag_names(IFA_F, 0x80, prefix="IFA_F_", lower=True) == ['permanent']``.
    This is the one place that names flag bits; :func:`flag_text` and
    :func:`nlm_flag_names` build on it.
    """
    names = []
    rest = int(value)
    for name, bit in _single_bits(flag_class):
        if rest & bit:
            if prefix and name.startswith(prefix):
                name = name[len(prefix):]
            names.append(name.lower() if lower else name)
            rest &= ~bit
    if rest:
        names.append(hex(rest))
    return names


def flag_text(flag_class: type[KernelFlag], value: int) -> str:
    """``'IFF_UP|IFF_LOOPBACK (0x9)'``; ``'0 (0x0)'`` when no bit is set."""
    return f"{'|'.join(flag_names(flag_class, value)) or '0'} ({int(value):#x})"


def enum_name(enum_class: type[KernelEnum], value: int) -> str:
    """The canonical kernel name of ``value``, or its decimal text if unknown."""
    member = as_enum(enum_class, value)
    return member.name if isinstance(member, enum_class) else str(int(value))


def enum_text(enum_class: type[KernelEnum], value: int) -> str:
    """``'AF_INET (2)'``: the name (or the number) and the number."""
    return f"{enum_name(enum_class, value)} ({int(value)})"


_MESSAGE_TYPES: dict[int, KernelEnum] = {**enum_members(NLMSG), **enum_members(RTM)}


def message_type(value: int) -> KernelEnum | int:
    """``value`` as an NLMSG or RTM member, or the plain int if unknown."""
    return _MESSAGE_TYPES.get(value, value)


_NLM_F_COMMON: tuple[str, ...] = ("NLM_F_REQUEST", "NLM_F_MULTI", "NLM_F_ACK", "NLM_F_ECHO",
                 "NLM_F_DUMP_INTR", "NLM_F_DUMP_FILTERED")
_NLM_F_GET: tuple[str, ...] = ("NLM_F_ROOT", "NLM_F_MATCH", "NLM_F_ATOMIC")
_NLM_F_NEW: tuple[str, ...] = ("NLM_F_REPLACE", "NLM_F_EXCL", "NLM_F_CREATE", "NLM_F_APPEND")
_NLM_F_DEL: tuple[str, ...] = ("NLM_F_NONREC", "NLM_F_BULK")
_NLM_F_ACK_REPLY: tuple[str, ...] = ("NLM_F_CAPPED", "NLM_F_ACK_TLVS")


def nlm_flag_names(message_type: int, flags: int) -> list[str]:
    """Names of the nlmsghdr ``flags``, read the way ``message_type`` means them.

    The bits 0x100-0x800 mean different things for GET, NEW and DEL requests
    and for acks (netlink.h); rtnetlink types come in fours NEW, DEL, GET, SET.
    A GET with both ROOT and MATCH is shown as ``NLM_F_DUMP``.
    """
    if message_type in (NLMSG.NLMSG_ERROR, NLMSG.NLMSG_DONE):
        extra = _NLM_F_ACK_REPLY
    elif message_type >= 16 and (message_type - 16) % 4 == 2:
        extra = _NLM_F_GET
    elif message_type >= 16 and (message_type - 16) % 4 == 1:
        extra = _NLM_F_DEL
    elif message_type >= 16:
        extra = _NLM_F_NEW
    else:
        extra = ()
    names = []
    rest = int(flags)
    dump = int(NLM_F.NLM_F_DUMP)
    if extra is _NLM_F_GET and rest & dump == dump:
        extra = ("NLM_F_DUMP",) + _NLM_F_GET
    for name in _NLM_F_COMMON + extra:
        bit = int(NLM_F.__members__[name])
        if rest & bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append(hex(rest))
    return names
