# Invariants:
# - Each family and each nest is described exactly once, here, as a table
#   ``attribute number -> (kernel name, codec)``.  Decoding, encoding and the
#   explain view all read these tables; nothing else knows attribute numbers.
# - Every member of a table's enum is named even without a codec (its payload
#   then stays bytes); numbers not in the enum stay unnamed raw attributes.
# - Codec choices follow what the kernel writes (nla_put_u32, nla_put_string,
#   nla_put_u64_64bit ...) in net/core/rtnetlink.c, net/ipv4/devinet.c,
#   net/ipv6/addrconf.c, net/core/neighbour.c, net/ipv4/fib_semantics.c,
#   net/ipv6/route.c, net/core/net_namespace.c, drivers/net/{veth,vxlan}.c,
#   net/bridge/br_netlink.c.
# - Standard library and rawns.errors only.
"""rtnetlink's attribute tables, one per family and nest, and make_attr, which reads them.

Link, address, neighbour, route and nsid messages, their nests, the
extended ack.  ``FAMILIES`` maps each message type to its :class:`Family` (fixed header
class + attribute table).  :func:`make_attr` looks ``"IFLA_MTU"`` or
``IFLA.IFLA_MTU`` up in the tables and checks the value with its codec.
"""

from __future__ import annotations


from rawns.errors import EncodeError
from rawns.records import record

from .attrs import Attr, AttrCodec, AttrList, AttrTable, Ctx
from .codecs import (
    BE16, BE32, BYTES, FLAG, HWADDR, IP_BY_FAMILY, IPV4, IPV6, S32, STRING, U8, U16,
    U32, U64, UINT, BridgeId, ByKind, Codec, Int, Multipath, Nested, NestedMessage,
    PortRange, String, Struct, Via,
)
from .constants import (
    AF, ALTIFNAMSIZ, FRA, IF_LINK_MODE, IF_OPER, IFA, IFA_F, IFAPROT, IFLA, IFLA_BOND,
    IFLA_BR, IFLA_BRPORT, IFLA_INET, IFLA_INET6, IFLA_INFO, IFLA_IPVLAN, IFLA_MACVLAN,
    IFLA_PROTO_DOWN_REASON_ATTRS, IFLA_TUN, IFLA_VLAN, IFLA_VRF, IFLA_VXLAN, IFLA_XDP_ATTRS,
    IFNAMSIZ, IN6_ADDR_GEN_MODE, IPVLAN_MODE, MACVLAN_FLAG, MACVLAN_MODE, NDA, NETNSA,
    NLA_F_NESTED, NLMSGERR_ATTR, RT_TABLE, RTA, RTAX, RTAX_FEATURE, RTEXT_FILTER, RTM, RTPROT,
    VETH_INFO, VXLAN_DF, XDP_ATTACHED, KernelEnum,
)
from .structs import (
    BrBooloptMulti, CStruct, FibRuleHdr, FibRulePortRange, FibRuleUidRange, IfAddrMsg, IfInfoMsg,
    IflaCacheinfo, IfaCacheinfo, LinkIfmap, LinkStats, LinkStats64, NdaCacheinfo, NdMsg,
    RtaCacheinfo, RtGenMsg, RtMsg, VlanFlags,
)
from .structs import NestedMessage as NestedMessageValue  # what VETH_INFO_PEER decodes to

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Mapping, Sequence

__all__ = [
    "Family", "FAMILIES", "LINK", "ADDR", "NEIGH", "ROUTE", "NSID", "RULE", "NLMSGERR",
    "LINKINFO", "VETH", "BRIDGE", "BRIDGE_PORT", "VXLAN", "MACVLAN", "VLAN", "IPVLAN", "VRF",
    "BOND", "TUN", "AF_SPEC", "RTAX_TABLE",
    "TABLES", "attr_spec", "make_attr",
]

IFNAME = String(max_length=IFNAMSIZ - 1)


def _table(name: str, enum: type[KernelEnum], codecs: Mapping[KernelEnum, Codec]) -> AttrTable:
    """The table of ``enum``'s attributes: every member named, ``codecs`` for
    those the kernel writes (the others' payloads stay bytes)."""
    specs: dict[int, tuple[str, AttrCodec]] = {}
    for member in enum:
        specs[member.value] = (member.name, codecs.get(member, BYTES))
    return AttrTable(name, enum, specs)


# -- link ---------------------------------------------------------------------

LINK: AttrTable  # defined below; VETH_INFO_PEER nests it (read on first use)
ROUTE: AttrTable  # defined below; RTA_MULTIPATH nests it

VETH = _table("VETH_INFO", VETH_INFO, {
    VETH_INFO.VETH_INFO_PEER: NestedMessage(IfInfoMsg, lambda: LINK, NestedMessageValue),
})

BRIDGE = _table("IFLA_BR", IFLA_BR, {
    IFLA_BR.IFLA_BR_FORWARD_DELAY: U32,
    IFLA_BR.IFLA_BR_HELLO_TIME: U32,
    IFLA_BR.IFLA_BR_MAX_AGE: U32,
    IFLA_BR.IFLA_BR_AGEING_TIME: U32,
    IFLA_BR.IFLA_BR_STP_STATE: U32,
    IFLA_BR.IFLA_BR_PRIORITY: U16,
    IFLA_BR.IFLA_BR_VLAN_FILTERING: U8,
    IFLA_BR.IFLA_BR_VLAN_PROTOCOL: BE16,
    IFLA_BR.IFLA_BR_GROUP_FWD_MASK: U16,
    IFLA_BR.IFLA_BR_ROOT_ID: BridgeId(),
    IFLA_BR.IFLA_BR_BRIDGE_ID: BridgeId(),
    IFLA_BR.IFLA_BR_ROOT_PORT: U16,
    IFLA_BR.IFLA_BR_ROOT_PATH_COST: U32,
    IFLA_BR.IFLA_BR_TOPOLOGY_CHANGE: U8,
    IFLA_BR.IFLA_BR_TOPOLOGY_CHANGE_DETECTED: U8,
    IFLA_BR.IFLA_BR_HELLO_TIMER: U64,
    IFLA_BR.IFLA_BR_TCN_TIMER: U64,
    IFLA_BR.IFLA_BR_TOPOLOGY_CHANGE_TIMER: U64,
    IFLA_BR.IFLA_BR_GC_TIMER: U64,
    IFLA_BR.IFLA_BR_GROUP_ADDR: HWADDR,
    IFLA_BR.IFLA_BR_FDB_FLUSH: FLAG,
    IFLA_BR.IFLA_BR_MCAST_ROUTER: U8,
    IFLA_BR.IFLA_BR_MCAST_SNOOPING: U8,
    IFLA_BR.IFLA_BR_MCAST_QUERY_USE_IFADDR: U8,
    IFLA_BR.IFLA_BR_MCAST_QUERIER: U8,
    IFLA_BR.IFLA_BR_MCAST_HASH_ELASTICITY: U32,
    IFLA_BR.IFLA_BR_MCAST_HASH_MAX: U32,
    IFLA_BR.IFLA_BR_MCAST_LAST_MEMBER_CNT: U32,
    IFLA_BR.IFLA_BR_MCAST_STARTUP_QUERY_CNT: U32,
    IFLA_BR.IFLA_BR_MCAST_LAST_MEMBER_INTVL: U64,
    IFLA_BR.IFLA_BR_MCAST_MEMBERSHIP_INTVL: U64,
    IFLA_BR.IFLA_BR_MCAST_QUERIER_INTVL: U64,
    IFLA_BR.IFLA_BR_MCAST_QUERY_INTVL: U64,
    IFLA_BR.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL: U64,
    IFLA_BR.IFLA_BR_MCAST_STARTUP_QUERY_INTVL: U64,
    IFLA_BR.IFLA_BR_NF_CALL_IPTABLES: U8,
    IFLA_BR.IFLA_BR_NF_CALL_IP6TABLES: U8,
    IFLA_BR.IFLA_BR_NF_CALL_ARPTABLES: U8,
    IFLA_BR.IFLA_BR_VLAN_DEFAULT_PVID: U16,
    IFLA_BR.IFLA_BR_VLAN_STATS_ENABLED: U8,
    IFLA_BR.IFLA_BR_MCAST_STATS_ENABLED: U8,
    IFLA_BR.IFLA_BR_MCAST_IGMP_VERSION: U8,
    IFLA_BR.IFLA_BR_MCAST_MLD_VERSION: U8,
    IFLA_BR.IFLA_BR_VLAN_STATS_PER_PORT: U8,
    IFLA_BR.IFLA_BR_FDB_N_LEARNED: U32,
    IFLA_BR.IFLA_BR_FDB_MAX_LEARNED: U32,
    IFLA_BR.IFLA_BR_MULTI_BOOLOPT: Struct(BrBooloptMulti),
})

BRIDGE_PORT = _table("IFLA_BRPORT", IFLA_BRPORT, {
    IFLA_BRPORT.IFLA_BRPORT_STATE: U8,
    IFLA_BRPORT.IFLA_BRPORT_PRIORITY: U16,
    IFLA_BRPORT.IFLA_BRPORT_COST: U32,
    IFLA_BRPORT.IFLA_BRPORT_MODE: U8,
    IFLA_BRPORT.IFLA_BRPORT_GUARD: U8,
    IFLA_BRPORT.IFLA_BRPORT_PROTECT: U8,
    IFLA_BRPORT.IFLA_BRPORT_FAST_LEAVE: U8,
    IFLA_BRPORT.IFLA_BRPORT_LEARNING: U8,
    IFLA_BRPORT.IFLA_BRPORT_UNICAST_FLOOD: U8,
    IFLA_BRPORT.IFLA_BRPORT_PROXYARP: U8,
    IFLA_BRPORT.IFLA_BRPORT_LEARNING_SYNC: U8,
    IFLA_BRPORT.IFLA_BRPORT_PROXYARP_WIFI: U8,
    IFLA_BRPORT.IFLA_BRPORT_ROOT_ID: BridgeId(),
    IFLA_BRPORT.IFLA_BRPORT_BRIDGE_ID: BridgeId(),
    IFLA_BRPORT.IFLA_BRPORT_DESIGNATED_PORT: U16,
    IFLA_BRPORT.IFLA_BRPORT_DESIGNATED_COST: U16,
    IFLA_BRPORT.IFLA_BRPORT_ID: U16,
    IFLA_BRPORT.IFLA_BRPORT_NO: U16,
    IFLA_BRPORT.IFLA_BRPORT_TOPOLOGY_CHANGE_ACK: U8,
    IFLA_BRPORT.IFLA_BRPORT_CONFIG_PENDING: U8,
    IFLA_BRPORT.IFLA_BRPORT_MESSAGE_AGE_TIMER: U64,
    IFLA_BRPORT.IFLA_BRPORT_FORWARD_DELAY_TIMER: U64,
    IFLA_BRPORT.IFLA_BRPORT_HOLD_TIMER: U64,
    IFLA_BRPORT.IFLA_BRPORT_FLUSH: FLAG,
    IFLA_BRPORT.IFLA_BRPORT_MULTICAST_ROUTER: U8,
    IFLA_BRPORT.IFLA_BRPORT_MCAST_FLOOD: U8,
    IFLA_BRPORT.IFLA_BRPORT_MCAST_TO_UCAST: U8,
    IFLA_BRPORT.IFLA_BRPORT_VLAN_TUNNEL: U8,
    IFLA_BRPORT.IFLA_BRPORT_BCAST_FLOOD: U8,
    IFLA_BRPORT.IFLA_BRPORT_GROUP_FWD_MASK: U16,
    IFLA_BRPORT.IFLA_BRPORT_NEIGH_SUPPRESS: U8,
    IFLA_BRPORT.IFLA_BRPORT_ISOLATED: U8,
    IFLA_BRPORT.IFLA_BRPORT_BACKUP_PORT: U32,
    IFLA_BRPORT.IFLA_BRPORT_MRP_RING_OPEN: U8,
    IFLA_BRPORT.IFLA_BRPORT_MRP_IN_OPEN: U8,
    IFLA_BRPORT.IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT: U32,
    IFLA_BRPORT.IFLA_BRPORT_MCAST_EHT_HOSTS_CNT: U32,
    IFLA_BRPORT.IFLA_BRPORT_LOCKED: U8,
})

VXLAN = _table("IFLA_VXLAN", IFLA_VXLAN, {
    IFLA_VXLAN.IFLA_VXLAN_ID: U32,
    IFLA_VXLAN.IFLA_VXLAN_GROUP: IPV4,
    IFLA_VXLAN.IFLA_VXLAN_LINK: U32,
    IFLA_VXLAN.IFLA_VXLAN_LOCAL: IPV4,
    IFLA_VXLAN.IFLA_VXLAN_TTL: U8,
    IFLA_VXLAN.IFLA_VXLAN_TOS: U8,
    IFLA_VXLAN.IFLA_VXLAN_LEARNING: U8,
    IFLA_VXLAN.IFLA_VXLAN_AGEING: U32,
    IFLA_VXLAN.IFLA_VXLAN_LIMIT: U32,
    IFLA_VXLAN.IFLA_VXLAN_PORT_RANGE: PortRange(),
    IFLA_VXLAN.IFLA_VXLAN_PROXY: U8,
    IFLA_VXLAN.IFLA_VXLAN_RSC: U8,
    IFLA_VXLAN.IFLA_VXLAN_L2MISS: U8,
    IFLA_VXLAN.IFLA_VXLAN_L3MISS: U8,
    IFLA_VXLAN.IFLA_VXLAN_PORT: BE16,
    IFLA_VXLAN.IFLA_VXLAN_GROUP6: IPV6,
    IFLA_VXLAN.IFLA_VXLAN_LOCAL6: IPV6,
    IFLA_VXLAN.IFLA_VXLAN_UDP_CSUM: U8,
    IFLA_VXLAN.IFLA_VXLAN_UDP_ZERO_CSUM6_TX: U8,
    IFLA_VXLAN.IFLA_VXLAN_UDP_ZERO_CSUM6_RX: U8,
    IFLA_VXLAN.IFLA_VXLAN_REMCSUM_TX: U8,
    IFLA_VXLAN.IFLA_VXLAN_REMCSUM_RX: U8,
    IFLA_VXLAN.IFLA_VXLAN_GBP: FLAG,
    IFLA_VXLAN.IFLA_VXLAN_REMCSUM_NOPARTIAL: FLAG,
    IFLA_VXLAN.IFLA_VXLAN_COLLECT_METADATA: U8,
    IFLA_VXLAN.IFLA_VXLAN_LABEL: BE32,
    IFLA_VXLAN.IFLA_VXLAN_GPE: FLAG,
    IFLA_VXLAN.IFLA_VXLAN_TTL_INHERIT: FLAG,
    IFLA_VXLAN.IFLA_VXLAN_DF: Int("=B", "u8", VXLAN_DF),
    IFLA_VXLAN.IFLA_VXLAN_VNIFILTER: U8,
    IFLA_VXLAN.IFLA_VXLAN_LOCALBYPASS: U8,
    IFLA_VXLAN.IFLA_VXLAN_LABEL_POLICY: U32,
    IFLA_VXLAN.IFLA_VXLAN_MC_ROUTE: U8,
})

MACVLAN = _table("IFLA_MACVLAN", IFLA_MACVLAN, {
    IFLA_MACVLAN.IFLA_MACVLAN_MODE: Int("=I", "u32", MACVLAN_MODE),
    IFLA_MACVLAN.IFLA_MACVLAN_FLAGS: Int("=H", "u16", MACVLAN_FLAG),
    IFLA_MACVLAN.IFLA_MACVLAN_MACADDR_MODE: U32,
    IFLA_MACVLAN.IFLA_MACVLAN_MACADDR: HWADDR,
    IFLA_MACVLAN.IFLA_MACVLAN_MACADDR_COUNT: U32,
    IFLA_MACVLAN.IFLA_MACVLAN_BC_QUEUE_LEN: U32,
    IFLA_MACVLAN.IFLA_MACVLAN_BC_QUEUE_LEN_USED: U32,
})

VLAN = _table("IFLA_VLAN", IFLA_VLAN, {
    IFLA_VLAN.IFLA_VLAN_ID: U16,
    IFLA_VLAN.IFLA_VLAN_FLAGS: Struct(VlanFlags),
    IFLA_VLAN.IFLA_VLAN_PROTOCOL: BE16,
})

IPVLAN = _table("IFLA_IPVLAN", IFLA_IPVLAN, {
    IFLA_IPVLAN.IFLA_IPVLAN_MODE: Int("=H", "u16", IPVLAN_MODE),
    IFLA_IPVLAN.IFLA_IPVLAN_FLAGS: U16,
})

VRF = _table("IFLA_VRF", IFLA_VRF, {
    IFLA_VRF.IFLA_VRF_TABLE: U32,
})

BOND = _table("IFLA_BOND", IFLA_BOND, {
    **{member: U32 for member in (
        IFLA_BOND.IFLA_BOND_ACTIVE_SLAVE, IFLA_BOND.IFLA_BOND_MIIMON,
        IFLA_BOND.IFLA_BOND_UPDELAY, IFLA_BOND.IFLA_BOND_DOWNDELAY,
        IFLA_BOND.IFLA_BOND_ARP_INTERVAL, IFLA_BOND.IFLA_BOND_ARP_VALIDATE,
        IFLA_BOND.IFLA_BOND_ARP_ALL_TARGETS, IFLA_BOND.IFLA_BOND_PRIMARY,
        IFLA_BOND.IFLA_BOND_RESEND_IGMP, IFLA_BOND.IFLA_BOND_MIN_LINKS,
        IFLA_BOND.IFLA_BOND_LP_INTERVAL, IFLA_BOND.IFLA_BOND_PACKETS_PER_SLAVE,
        IFLA_BOND.IFLA_BOND_PEER_NOTIF_DELAY)},
    **{member: U8 for member in (
        IFLA_BOND.IFLA_BOND_MODE, IFLA_BOND.IFLA_BOND_USE_CARRIER,
        IFLA_BOND.IFLA_BOND_PRIMARY_RESELECT, IFLA_BOND.IFLA_BOND_FAIL_OVER_MAC,
        IFLA_BOND.IFLA_BOND_XMIT_HASH_POLICY, IFLA_BOND.IFLA_BOND_NUM_PEER_NOTIF,
        IFLA_BOND.IFLA_BOND_ALL_SLAVES_ACTIVE, IFLA_BOND.IFLA_BOND_AD_LACP_RATE,
        IFLA_BOND.IFLA_BOND_AD_SELECT, IFLA_BOND.IFLA_BOND_TLB_DYNAMIC_LB,
        IFLA_BOND.IFLA_BOND_AD_LACP_ACTIVE, IFLA_BOND.IFLA_BOND_MISSED_MAX,
        IFLA_BOND.IFLA_BOND_COUPLED_CONTROL)},
    IFLA_BOND.IFLA_BOND_AD_ACTOR_SYS_PRIO: U16,
    IFLA_BOND.IFLA_BOND_AD_USER_PORT_KEY: U16,
    IFLA_BOND.IFLA_BOND_AD_ACTOR_SYSTEM: HWADDR,
})

TUN = _table("IFLA_TUN", IFLA_TUN, {
    IFLA_TUN.IFLA_TUN_OWNER: U32,
    IFLA_TUN.IFLA_TUN_GROUP: U32,
    IFLA_TUN.IFLA_TUN_TYPE: U8,
    IFLA_TUN.IFLA_TUN_PI: U8,
    IFLA_TUN.IFLA_TUN_VNET_HDR: U8,
    IFLA_TUN.IFLA_TUN_PERSIST: U8,
    IFLA_TUN.IFLA_TUN_MULTI_QUEUE: U8,
    IFLA_TUN.IFLA_TUN_NUM_QUEUES: U32,
    IFLA_TUN.IFLA_TUN_NUM_DISABLED_QUEUES: U32,
})

LINKINFO = _table("IFLA_INFO", IFLA_INFO, {
    IFLA_INFO.IFLA_INFO_KIND: STRING,
    IFLA_INFO.IFLA_INFO_DATA: ByKind(IFLA_INFO.IFLA_INFO_KIND, {
        "veth": Nested(VETH), "bridge": Nested(BRIDGE), "vxlan": Nested(VXLAN),
        "macvlan": Nested(MACVLAN), "macvtap": Nested(MACVLAN), "vlan": Nested(VLAN),
        "ipvlan": Nested(IPVLAN), "ipvtap": Nested(IPVLAN), "vrf": Nested(VRF),
        "bond": Nested(BOND), "tun": Nested(TUN),
    }, "IFLA_INFO_DATA"),
    IFLA_INFO.IFLA_INFO_SLAVE_KIND: STRING,
    IFLA_INFO.IFLA_INFO_SLAVE_DATA: ByKind(IFLA_INFO.IFLA_INFO_SLAVE_KIND, {
        "bridge": Nested(BRIDGE_PORT),
    }, "IFLA_INFO_SLAVE_DATA"),
})

INET_SPEC = _table("IFLA_INET", IFLA_INET, {})
INET6_SPEC = _table("IFLA_INET6", IFLA_INET6, {
    IFLA_INET6.IFLA_INET6_FLAGS: U32,
    IFLA_INET6.IFLA_INET6_CACHEINFO: Struct(IflaCacheinfo),
    IFLA_INET6.IFLA_INET6_TOKEN: IPV6,
    IFLA_INET6.IFLA_INET6_ADDR_GEN_MODE: Int("=B", "u8", IN6_ADDR_GEN_MODE),
    IFLA_INET6.IFLA_INET6_RA_MTU: U32,
})

# The numbers of IFLA_AF_SPEC are address families: named as such.
AF_SPEC = AttrTable("IFLA_AF_SPEC", None, {
    AF.AF_INET: ("AF_INET", Nested(INET_SPEC)),
    AF.AF_INET6: ("AF_INET6", Nested(INET6_SPEC)),
    AF.AF_BRIDGE: ("AF_BRIDGE", BYTES),
    AF.AF_MPLS: ("AF_MPLS", BYTES),
})

XDP = _table("IFLA_XDP", IFLA_XDP_ATTRS, {
    IFLA_XDP_ATTRS.IFLA_XDP_FD: S32,
    IFLA_XDP_ATTRS.IFLA_XDP_ATTACHED: Int("=B", "u8", XDP_ATTACHED),
    IFLA_XDP_ATTRS.IFLA_XDP_FLAGS: U32,
    IFLA_XDP_ATTRS.IFLA_XDP_PROG_ID: U32,
    IFLA_XDP_ATTRS.IFLA_XDP_DRV_PROG_ID: U32,
    IFLA_XDP_ATTRS.IFLA_XDP_SKB_PROG_ID: U32,
    IFLA_XDP_ATTRS.IFLA_XDP_HW_PROG_ID: U32,
    IFLA_XDP_ATTRS.IFLA_XDP_EXPECTED_FD: S32,
})

PROTO_DOWN_REASON = _table("IFLA_PROTO_DOWN_REASON", IFLA_PROTO_DOWN_REASON_ATTRS, {
    IFLA_PROTO_DOWN_REASON_ATTRS.IFLA_PROTO_DOWN_REASON_MASK: U32,
    IFLA_PROTO_DOWN_REASON_ATTRS.IFLA_PROTO_DOWN_REASON_VALUE: U32,
})

PROP_LIST = AttrTable("IFLA_PROP_LIST", None, {
    IFLA.IFLA_ALT_IFNAME: ("IFLA_ALT_IFNAME", String(ALTIFNAMSIZ - 1)),
})

LINK = _table("IFLA", IFLA, {
    IFLA.IFLA_ADDRESS: HWADDR,
    IFLA.IFLA_BROADCAST: HWADDR,
    IFLA.IFLA_IFNAME: IFNAME,
    IFLA.IFLA_MTU: U32,
    IFLA.IFLA_LINK: U32,
    IFLA.IFLA_QDISC: STRING,
    IFLA.IFLA_STATS: Struct(LinkStats),
    IFLA.IFLA_MASTER: U32,
    IFLA.IFLA_TXQLEN: U32,
    IFLA.IFLA_MAP: Struct(LinkIfmap),
    IFLA.IFLA_OPERSTATE: Int("=B", "u8", IF_OPER),
    IFLA.IFLA_LINKMODE: Int("=B", "u8", IF_LINK_MODE),
    IFLA.IFLA_LINKINFO: Nested(LINKINFO),
    IFLA.IFLA_NET_NS_PID: U32,
    IFLA.IFLA_IFALIAS: STRING,
    IFLA.IFLA_NUM_VF: U32,
    # rx_otherhost_dropped (the 25th counter) came with Linux 5.19.
    IFLA.IFLA_STATS64: Struct(LinkStats64, min_size=24 * 8),
    IFLA.IFLA_AF_SPEC: Nested(AF_SPEC),
    IFLA.IFLA_GROUP: U32,
    IFLA.IFLA_NET_NS_FD: U32,
    IFLA.IFLA_EXT_MASK: Int("=I", "u32", RTEXT_FILTER),
    IFLA.IFLA_PROMISCUITY: U32,
    IFLA.IFLA_NUM_TX_QUEUES: U32,
    IFLA.IFLA_NUM_RX_QUEUES: U32,
    IFLA.IFLA_CARRIER: U8,
    IFLA.IFLA_CARRIER_CHANGES: U32,
    IFLA.IFLA_LINK_NETNSID: S32,
    IFLA.IFLA_PHYS_PORT_NAME: STRING,
    IFLA.IFLA_PROTO_DOWN: U8,
    IFLA.IFLA_GSO_MAX_SEGS: U32,
    IFLA.IFLA_GSO_MAX_SIZE: U32,
    IFLA.IFLA_XDP: Nested(XDP),
    IFLA.IFLA_EVENT: U32,
    IFLA.IFLA_NEW_NETNSID: S32,
    IFLA.IFLA_TARGET_NETNSID: S32,
    IFLA.IFLA_CARRIER_UP_COUNT: U32,
    IFLA.IFLA_CARRIER_DOWN_COUNT: U32,
    IFLA.IFLA_NEW_IFINDEX: S32,
    IFLA.IFLA_MIN_MTU: U32,
    IFLA.IFLA_MAX_MTU: U32,
    IFLA.IFLA_PROP_LIST: Nested(PROP_LIST),
    IFLA.IFLA_ALT_IFNAME: String(ALTIFNAMSIZ - 1),
    IFLA.IFLA_PERM_ADDRESS: HWADDR,
    IFLA.IFLA_PROTO_DOWN_REASON: Nested(PROTO_DOWN_REASON),
    IFLA.IFLA_PARENT_DEV_NAME: STRING,
    IFLA.IFLA_PARENT_DEV_BUS_NAME: STRING,
    IFLA.IFLA_GRO_MAX_SIZE: U32,
    IFLA.IFLA_TSO_MAX_SIZE: U32,
    IFLA.IFLA_TSO_MAX_SEGS: U32,
    IFLA.IFLA_ALLMULTI: U32,
    IFLA.IFLA_GSO_IPV4_MAX_SIZE: U32,
    IFLA.IFLA_GRO_IPV4_MAX_SIZE: U32,
    IFLA.IFLA_MAX_PACING_OFFLOAD_HORIZON: UINT,
    IFLA.IFLA_NETNS_IMMUTABLE: U8,
    IFLA.IFLA_HEADROOM: U16,
    IFLA.IFLA_TAILROOM: U16,
})

# -- address, neighbour, route, nsid --------------------------------------------

ADDR = _table("IFA", IFA, {
    IFA.IFA_ADDRESS: IP_BY_FAMILY,
    IFA.IFA_LOCAL: IP_BY_FAMILY,
    IFA.IFA_LABEL: IFNAME,
    IFA.IFA_BROADCAST: IP_BY_FAMILY,
    IFA.IFA_ANYCAST: IP_BY_FAMILY,
    IFA.IFA_CACHEINFO: Struct(IfaCacheinfo),
    IFA.IFA_MULTICAST: IP_BY_FAMILY,
    IFA.IFA_FLAGS: Int("=I", "u32", IFA_F),
    IFA.IFA_RT_PRIORITY: U32,
    IFA.IFA_TARGET_NETNSID: S32,
    IFA.IFA_PROTO: Int("=B", "u8", IFAPROT),
})

NEIGH = _table("NDA", NDA, {
    NDA.NDA_DST: IP_BY_FAMILY,
    NDA.NDA_LLADDR: HWADDR,
    NDA.NDA_CACHEINFO: Struct(NdaCacheinfo),
    NDA.NDA_PROBES: U32,
    NDA.NDA_VLAN: U16,
    NDA.NDA_PORT: BE16,
    NDA.NDA_VNI: U32,
    NDA.NDA_IFINDEX: U32,
    NDA.NDA_MASTER: U32,
    NDA.NDA_LINK_NETNSID: S32,
    NDA.NDA_SRC_VNI: U32,
    NDA.NDA_PROTOCOL: Int("=B", "u8", RTPROT),
    NDA.NDA_NH_ID: U32,
    NDA.NDA_FLAGS_EXT: U32,
    NDA.NDA_NDM_STATE_MASK: U16,
    NDA.NDA_NDM_FLAGS_MASK: U8,
})

RTAX_TABLE = _table("RTAX", RTAX, {
    **{member: U32 for member in RTAX if member != RTAX.RTAX_UNSPEC},
    RTAX.RTAX_CC_ALGO: STRING,
    RTAX.RTAX_FEATURES: Int("=I", "u32", RTAX_FEATURE),
})

ROUTE = _table("RTA", RTA, {
    RTA.RTA_DST: IP_BY_FAMILY,
    RTA.RTA_SRC: IP_BY_FAMILY,
    RTA.RTA_IIF: U32,
    RTA.RTA_OIF: U32,
    RTA.RTA_GATEWAY: IP_BY_FAMILY,
    RTA.RTA_PRIORITY: U32,
    RTA.RTA_PREFSRC: IP_BY_FAMILY,
    RTA.RTA_METRICS: Nested(RTAX_TABLE),
    RTA.RTA_MULTIPATH: Multipath(lambda: ROUTE),
    RTA.RTA_FLOW: U32,
    RTA.RTA_CACHEINFO: Struct(RtaCacheinfo),
    RTA.RTA_TABLE: Int("=I", "u32", RT_TABLE),
    RTA.RTA_MARK: U32,
    RTA.RTA_VIA: Via(),
    RTA.RTA_PREF: U8,
    RTA.RTA_ENCAP_TYPE: U16,
    RTA.RTA_EXPIRES: UINT,
    RTA.RTA_UID: U32,
    RTA.RTA_TTL_PROPAGATE: U8,
    RTA.RTA_IP_PROTO: U8,
    RTA.RTA_SPORT: BE16,
    RTA.RTA_DPORT: BE16,
    RTA.RTA_NH_ID: U32,
    RTA.RTA_FLOWLABEL: BE32,
})

RULE = _table("FRA", FRA, {
    FRA.FRA_DST: IP_BY_FAMILY,
    FRA.FRA_SRC: IP_BY_FAMILY,
    FRA.FRA_IIFNAME: IFNAME,
    FRA.FRA_GOTO: U32,
    FRA.FRA_PRIORITY: U32,
    FRA.FRA_FWMARK: U32,
    FRA.FRA_FLOW: U32,
    FRA.FRA_TUN_ID: Int("!Q", "be64"),
    FRA.FRA_SUPPRESS_IFGROUP: U32,
    FRA.FRA_SUPPRESS_PREFIXLEN: U32,
    FRA.FRA_TABLE: Int("=I", "u32", RT_TABLE),
    FRA.FRA_FWMASK: U32,
    FRA.FRA_OIFNAME: IFNAME,
    FRA.FRA_L3MDEV: U8,
    FRA.FRA_UID_RANGE: Struct(FibRuleUidRange),
    FRA.FRA_PROTOCOL: Int("=B", "u8", RTPROT),
    FRA.FRA_IP_PROTO: U8,
    FRA.FRA_SPORT_RANGE: Struct(FibRulePortRange),
    FRA.FRA_DPORT_RANGE: Struct(FibRulePortRange),
})

NSID = _table("NETNSA", NETNSA, {
    NETNSA.NETNSA_NSID: S32,
    NETNSA.NETNSA_PID: U32,
    NETNSA.NETNSA_FD: U32,
    NETNSA.NETNSA_TARGET_NSID: S32,
    NETNSA.NETNSA_CURRENT_NSID: S32,
})

NLMSGERR = _table("NLMSGERR_ATTR", NLMSGERR_ATTR, {
    NLMSGERR_ATTR.NLMSGERR_ATTR_MSG: STRING,
    NLMSGERR_ATTR.NLMSGERR_ATTR_OFFS: U32,
    NLMSGERR_ATTR.NLMSGERR_ATTR_MISS_TYPE: U32,
    NLMSGERR_ATTR.NLMSGERR_ATTR_MISS_NEST: U32,
})


# -- message types --------------------------------------------------------------

@record(kw_only=False, slots=False)
class Family:
    """What follows the nlmsghdr of one family of message types."""
    name: str
    header: type[CStruct]
    table: AttrTable


_LINK_FAMILY = Family("link", IfInfoMsg, LINK)
_ADDR_FAMILY = Family("address", IfAddrMsg, ADDR)
_ROUTE_FAMILY = Family("route", RtMsg, ROUTE)
_NEIGH_FAMILY = Family("neighbour", NdMsg, NEIGH)
_NSID_FAMILY = Family("nsid", RtGenMsg, NSID)
_RULE_FAMILY = Family("rule", FibRuleHdr, RULE)

FAMILIES: dict[int, Family] = {
    **dict.fromkeys((RTM.RTM_NEWLINK, RTM.RTM_DELLINK, RTM.RTM_GETLINK, RTM.RTM_SETLINK),
                    _LINK_FAMILY),
    **dict.fromkeys((RTM.RTM_NEWADDR, RTM.RTM_DELADDR, RTM.RTM_GETADDR), _ADDR_FAMILY),
    **dict.fromkeys((RTM.RTM_NEWROUTE, RTM.RTM_DELROUTE, RTM.RTM_GETROUTE), _ROUTE_FAMILY),
    **dict.fromkeys((RTM.RTM_NEWNEIGH, RTM.RTM_DELNEIGH, RTM.RTM_GETNEIGH), _NEIGH_FAMILY),
    **dict.fromkeys((RTM.RTM_NEWNSID, RTM.RTM_DELNSID, RTM.RTM_GETNSID), _NSID_FAMILY),
    **dict.fromkeys((RTM.RTM_NEWRULE, RTM.RTM_DELRULE, RTM.RTM_GETRULE), _RULE_FAMILY),
}
FAMILIES = {int(key): value for key, value in FAMILIES.items()}

TABLES: tuple[AttrTable, ...] = (
    LINK, LINKINFO, VETH, BRIDGE, BRIDGE_PORT, VXLAN, MACVLAN, VLAN, IPVLAN, VRF, BOND, TUN,
    AF_SPEC, INET_SPEC, INET6_SPEC,
    XDP, PROTO_DOWN_REASON, PROP_LIST, ADDR, NEIGH, RTAX_TABLE, ROUTE, NSID, RULE, NLMSGERR,
)
"""Every table, for tests and tools that want to enumerate them."""

# -- building attributes by name ---------------------------------------------------

# What make_attr needs per attribute, resolved on first use, one enum class at a
# time (a command that builds one kind of request indexes one table, not 25):
# (wire type with NLA_F_NESTED set for nested codecs, kernel name, codec).  Keyed
# per enum class, because members of different classes with the same value are
# equal dict keys (IFLA_MTU == IFA_LABEL == 4).  PROP_LIST and AF_SPEC borrow
# names, so they are not the home of any enum class.
_HOMES: dict[type, AttrTable] = {table.enum: table for table in TABLES if table.enum is not None}
_SPECS_BY_ENUM: dict[type, dict[int, tuple[int, str, AttrCodec]]] = {}
_SPECS_BY_NAME: dict[str, tuple[int, str, AttrCodec]] = {}


def _specs_of(enum_class: type) -> dict[int, tuple[int, str, AttrCodec]] | None:
    """``{number: spec}`` of the table that is ``enum_class``'s home, made once;
    None if no table is (a class that names no attributes)."""
    by_number = _SPECS_BY_ENUM.get(enum_class)
    if by_number is None:
        home = _HOMES.get(enum_class)
        if home is None:
            return None
        by_number = {}
        for name, member in enum_class.__members__.items():  # type: ignore[attr-defined]
            spec_name, codec = home.specs[int(member)]
            nla_type = int(member) | (NLA_F_NESTED if codec.sets_nested_flag else 0)
            by_number[int(member)] = _SPECS_BY_NAME[name] = (nla_type, spec_name, codec)
        _SPECS_BY_ENUM[enum_class] = by_number
    return by_number


def attr_spec(key: Any) -> tuple[int, str, AttrCodec]:
    """``(nla_type, name, codec)`` for ``"IFLA_MTU"`` or ``IFLA.IFLA_MTU``.

    ``nla_type`` carries NLA_F_NESTED for nested codecs, as :func:`make_attr`
    sets it.  EncodeError for anything else.
    """
    by_number = _SPECS_BY_ENUM.get(key.__class__) or _specs_of(key.__class__)
    if by_number is not None:
        return by_number[key]
    if isinstance(key, str):
        spec = _SPECS_BY_NAME.get(key)
        if spec is None and len(_SPECS_BY_ENUM) < len(_HOMES):
            for enum_class in _HOMES:  # a name: index every table, once
                _specs_of(enum_class)
            spec = _SPECS_BY_NAME.get(key)
        if spec is not None:
            return spec
    raise EncodeError(f"{key!r} is not a known attribute name or enum member")


_CHECK_CTX = Ctx()  # make_attr checks a value alone: no family, no siblings


def make_attr(key: Any, value: Any) -> Attr:
    """Build an attribute from a kernel name or enum member and a value.

    ``make_attr(IFLA.IFLA_MTU, 1500)`` or ``make_attr("IFLA_MTU", 1500)``.  The
    value is encoded once to check it (EncodeError if it does not fit);
    nested attributes get NLA_F_NESTED, as strict kernel policies want.  A
    list of attributes is accepted for nested ones; those were checked when
    they were made, so a list of Attr is taken as it is (a nested value that
    depends on a sibling, as IFLA_INFO_DATA on IFLA_INFO_KIND, can only be
    checked when the message is encoded).
    """
    nla_type, name, codec = attr_spec(key)
    if isinstance(value, list):
        value = AttrList(value)
    if not (isinstance(value, AttrList) and _all_attrs(value)):
        try:
            codec.encode(value, _CHECK_CTX, ())
        except EncodeError as err:
            raise EncodeError(f"{name}: {err}") from err
    return Attr(type=nla_type, value=value, name=name)


def _all_attrs(items: Sequence[Any]) -> bool:
    return all(isinstance(item, Attr) for item in items)
