# Invariants:
# - Every fixed-layout C struct is a frozen, keyword-only dataclass with
#   exactly one ``struct.Struct`` in host byte order ('=' : native order,
#   standard sizes, no implicit alignment; padding is spelled out with 'x').
# - Field names drop the C prefix (``ifi_index`` -> ``index``); ``C_FIELDS``
#   keeps the kernel's names for the explain view.
# - ``unpack_from`` never reads past ``offset + SIZE``; the caller checks the
#   length first.  Padding bytes are ignored when read, written as zeros.
# - Fields that hold a kernel enum or flag set decode to that KernelEnum/KernelFlag
#   (plain int when the value is unknown).
# - Standard library and rawns.errors only.
"""Fixed-layout structures: message headers and struct-valued attributes.

Message headers (``nlmsghdr``, ``ifinfomsg``, ``ifaddrmsg``, ``ndmsg``,
``rtmsg``, ``rtgenmsg``, ``fib_rule_hdr``, ``nlmsgerr``, ``rtnexthop``) and attribute payloads
(``rtnl_link_stats64``, ``ifa_cacheinfo``, ``nda_cacheinfo``,
``rta_cacheinfo`` ...).  A ``nlmsghdr`` on the wire (netlink.h)::

     0                   1                   2                   3
    +---------------------------------------------------------------+
    |                          nlmsg_len                            |
    +-------------------------------+-------------------------------+
    |          nlmsg_type           |          nlmsg_flags          |
    +-------------------------------+-------------------------------+
    |                          nlmsg_seq                            |
    +---------------------------------------------------------------+
    |                          nlmsg_pid                            |
    +---------------------------------------------------------------+
"""

from __future__ import annotations

import struct

from rawns.errors import EncodeError
from rawns.records import fields, record

from .attrs import AttrAccess, AttrList
from .constants import (
    AF, ARPHRD, FIB_RULE, FR_ACT, IFA_F, IFF, NTF, NUD, RT_SCOPE, RT_TABLE, RTM_F, RTN, RTPROT,
    KernelEnum, KernelFlag, as_member,
)

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Callable, ClassVar, TypeVar

__all__ = [
    "CStruct", "layout", "NestedMessage", "NlMsgHdr", "NlMsgErr", "IfInfoMsg", "IfAddrMsg",
    "NdMsg", "RtMsg", "RtGenMsg", "FibRuleHdr", "RtNextHop", "LinkCounters", "LinkStats",
    "LinkStats64", "FibRuleUidRange", "FibRulePortRange", "BrBooloptMulti", "VlanFlags",
    "LinkIfmap",
    "IfaCacheinfo", "NdaCacheinfo", "RtaCacheinfo", "IflaCacheinfo",
]

Kind = type[KernelEnum] | type[KernelFlag] | None
"""What a field's number is read as: a KernelEnum or KernelFlag class, or None (a number)."""


class CStruct:
    """Base of the fixed-layout dataclasses; :func:`layout` sets its class variables."""

    __slots__ = ()
    STRUCT: ClassVar[struct.Struct]  # the one struct.Struct, host byte order
    SIZE: ClassVar[int]  # STRUCT.size
    C_NAME: ClassVar[str]  # "ifinfomsg"
    C_FIELDS: ClassVar[tuple[str, ...]]  # the kernel's field names, for explain
    FIELD_NAMES: ClassVar[tuple[str, ...]]  # the dataclass fields, in struct order
    KINDS: ClassVar[tuple[Kind, ...]]  # per field: what its number reads as

    @classmethod
    def unpack_from(cls: type[_S], buf: bytes, offset: int = 0) -> _S:
        """Read one struct at ``offset`` (the caller has checked the length).

        Fields with a kind become its member (an unknown enum value stays a
        plain int; a flag set keeps unknown bits).
        """
        numbers = cls.STRUCT.unpack_from(buf, offset)
        values = {name: number if kind is None else as_member(kind, number)
                  for name, kind, number in zip(cls.FIELD_NAMES, cls.KINDS, numbers)}
        return cls(**values)

    def values(self) -> tuple[Any, ...]:
        """The field values in struct order."""
        return tuple(getattr(self, name) for name in self.FIELD_NAMES)

    def pack(self) -> bytes:
        """The struct's bytes; EncodeError if a field is out of range."""
        try:
            return self.STRUCT.pack(*self.values())
        except (struct.error, TypeError) as err:
            raise EncodeError(f"{self.C_NAME}: {err} in {self!r}") from err

    def to_dict(self) -> dict[str, Any]:
        return dict(zip(self.FIELD_NAMES, self.values()))


if TYPE_CHECKING:
    _S = TypeVar("_S", bound=CStruct)


def layout(fmt: str, c_name: str, c_fields: tuple[str, ...] | None = None,
           kinds: tuple[Kind, ...] | None = None) -> Callable[[type[_S]], type[_S]]:
    """Class decorator: give a CStruct dataclass its struct format and names.

    ``fmt`` lists the fields in dataclass order ('=' host order, 'x' padding);
    ``c_fields`` are the kernel's names (default: the field names); ``kinds``
    gives, per field, the KernelEnum/KernelFlag class its value decodes to (or None).
    Put it above ``@record``: it reads the fields the record made.
    """
    def attach(cls: type[_S]) -> type[_S]:
        names = tuple(spec.name for spec in fields(cls))
        compiled = struct.Struct(fmt)
        assert len(names) == len(compiled.unpack(bytes(compiled.size))), cls
        cls.STRUCT = compiled
        cls.SIZE = compiled.size
        cls.C_NAME = c_name
        cls.C_FIELDS = c_fields or names
        cls.FIELD_NAMES = names
        cls.KINDS = kinds or (None,) * len(names)
        assert len(cls.C_FIELDS) == len(cls.KINDS) == len(names), cls
        return cls
    return attach


# -- message headers ----------------------------------------------------------

@layout("=IHHII", "nlmsghdr",
        ("nlmsg_len", "nlmsg_type", "nlmsg_flags", "nlmsg_seq", "nlmsg_pid"))
@record
class NlMsgHdr(CStruct):
    """``struct nlmsghdr``: the 16 bytes in front of every netlink message."""
    length: int = 16
    type: int = 0
    flags: int = 0
    seq: int = 0
    pid: int = 0


@layout("=BxHiII", "ifinfomsg",
        ("ifi_family", "ifi_type", "ifi_index", "ifi_flags", "ifi_change"),
        (AF, ARPHRD, None, IFF, IFF))
@record
class IfInfoMsg(CStruct):
    """``struct ifinfomsg``: the fixed header of RTM_*LINK messages."""
    family: int = 0
    type: int = 0
    index: int = 0
    flags: int = 0
    change: int = 0


@layout("=BBBBI", "ifaddrmsg",
        ("ifa_family", "ifa_prefixlen", "ifa_flags", "ifa_scope", "ifa_index"),
        (AF, None, IFA_F, RT_SCOPE, None))
@record
class IfAddrMsg(CStruct):
    """``struct ifaddrmsg``: the fixed header of RTM_*ADDR messages."""
    family: int = 0
    prefixlen: int = 0
    flags: int = 0
    scope: int = 0
    index: int = 0


@layout("=BxxxiHBB", "ndmsg",
        ("ndm_family", "ndm_ifindex", "ndm_state", "ndm_flags", "ndm_type"),
        (AF, None, NUD, NTF, RTN))
@record
class NdMsg(CStruct):
    """``struct ndmsg``: the fixed header of RTM_*NEIGH messages."""
    family: int = 0
    ifindex: int = 0
    state: int = 0
    flags: int = 0
    type: int = 0


@layout("=BBBBBBBBI", "rtmsg",
        ("rtm_family", "rtm_dst_len", "rtm_src_len", "rtm_tos", "rtm_table",
        "rtm_protocol", "rtm_scope", "rtm_type", "rtm_flags"),
        (AF, None, None, None, RT_TABLE, RTPROT, RT_SCOPE, RTN, RTM_F))
@record
class RtMsg(CStruct):
    """``struct rtmsg``: the fixed header of RTM_*ROUTE messages.

    ``table`` is 8 bits; tables above 255 travel in RTA_TABLE with
    ``table = RT_TABLE_UNSPEC`` here... or 252 (RT_TABLE_COMPAT) in replies.
    """
    family: int = 0
    dst_len: int = 0
    src_len: int = 0
    tos: int = 0
    table: int = 0
    protocol: int = 0
    scope: int = 0
    type: int = 0
    flags: int = 0


@layout("=BBBBBBBBI", "fib_rule_hdr",
        ("family", "dst_len", "src_len", "tos", "table", "res1", "res2", "action", "flags"),
        (AF, None, None, None, RT_TABLE, None, None, FR_ACT, FIB_RULE))
@record
class FibRuleHdr(CStruct):
    """``struct fib_rule_hdr``: the fixed header of RTM_*RULE messages (fib_rules.h).

    ``table`` is 8 bits, as in ``rtmsg``: tables above 255 travel in FRA_TABLE.
    ``action`` is an FR_ACT_*; ``flags`` FIB_RULE_* (INVERT: ``ip rule add not``).
    """
    family: int = 0
    dst_len: int = 0
    src_len: int = 0
    tos: int = 0
    table: int = 0
    res1: int = 0
    res2: int = 0
    action: int = 0
    flags: int = 0


@layout("=B", "rtgenmsg", ("rtgen_family",), (AF,))
@record
class RtGenMsg(CStruct):
    """``struct rtgenmsg``: one family byte (then 3 padding bytes before attributes)."""
    family: int = 0


@record
class NlMsgErr:
    """The body of NLMSG_ERROR: ``struct nlmsgerr`` plus the echoed request.

    ``error`` is 0 for an ack, else a negative errno.  ``request`` is the
    echoed ``nlmsghdr`` of the request, exactly as sent.  ``request_payload``
    is the echoed body of the request: empty when the kernel capped the
    echo (NLM_F_CAPPED; always so for acks and with NETLINK_CAP_ACK).
    """
    error: int = 0
    request: NlMsgHdr = NlMsgHdr()
    request_payload: bytes = b""

    C_NAME: ClassVar[str] = "nlmsgerr"

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "request": self.request.to_dict(),
                "request_payload": self.request_payload}


@record
class NestedMessage(AttrAccess):
    """A fixed header followed by attributes inside an attribute.

    VETH_INFO_PEER carries one: the peer's ``IfInfoMsg`` and its IFLA_*
    attributes.  Has the same ``get``/``attr``/``get_path`` as a Message.
    """
    header: Any = None
    attrs: AttrList = AttrList()

    def _attr_list(self) -> AttrList:
        return self.attrs

    def to_dict(self) -> dict[str, Any]:
        header = self.header.to_dict() if hasattr(self.header, "to_dict") else self.header
        return {"header": header, "attrs": self.attrs.to_dict()}


@record
class RtNextHop(AttrAccess):
    """One ``struct rtnexthop`` of RTA_MULTIPATH, with its own RTA_* attributes."""
    flags: int = 0
    hops: int = 0
    ifindex: int = 0
    attrs: AttrList = AttrList()

    STRUCT: ClassVar[struct.Struct] = struct.Struct("=HBBi")
    C_NAME: ClassVar[str] = "rtnexthop"
    C_FIELDS: ClassVar[tuple[str, ...]] = ("rtnh_flags", "rtnh_hops", "rtnh_ifindex")

    def _attr_list(self) -> AttrList:
        return self.attrs

    def to_dict(self) -> dict[str, Any]:
        return {"flags": self.flags, "hops": self.hops, "ifindex": self.ifindex,
                "attrs": self.attrs.to_dict()}


# -- struct-valued attributes -------------------------------------------------

@record
class LinkCounters(CStruct):
    """The 24 counters ``rtnl_link_stats`` and ``rtnl_link_stats64`` share
    (if_link.h), in wire order; see :class:`LinkStats` and :class:`LinkStats64`."""
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


@layout("=" + "I" * 24, "rtnl_link_stats")
@record
class LinkStats(LinkCounters):
    """``struct rtnl_link_stats`` (IFLA_STATS): the 32-bit counters."""


@layout("=" + "Q" * 25, "rtnl_link_stats64")
@record
class LinkStats64(LinkCounters):
    """``struct rtnl_link_stats64`` (IFLA_STATS64): 64-bit counters, and one more."""
    rx_otherhost_dropped: int = 0


@layout("=QQQHBB4x", "rtnl_link_ifmap")
@record
class LinkIfmap(CStruct):
    """``struct rtnl_link_ifmap`` (IFLA_MAP); 4 trailing padding bytes."""
    mem_start: int = 0
    mem_end: int = 0
    base_addr: int = 0
    irq: int = 0
    dma: int = 0
    port: int = 0


@layout("=IIII", "ifa_cacheinfo",
        ("ifa_prefered", "ifa_valid", "cstamp", "tstamp"))
@record
class IfaCacheinfo(CStruct):
    """``struct ifa_cacheinfo`` (IFA_CACHEINFO): lifetimes in seconds
    (0xFFFFFFFF = forever), timestamps in hundredths of a second."""
    prefered: int = 0
    valid: int = 0
    cstamp: int = 0
    tstamp: int = 0


@layout("=IIII", "nda_cacheinfo",
        ("ndm_confirmed", "ndm_used", "ndm_updated", "ndm_refcnt"))
@record
class NdaCacheinfo(CStruct):
    """``struct nda_cacheinfo`` (NDA_CACHEINFO): ages in clock ticks."""
    confirmed: int = 0
    used: int = 0
    updated: int = 0
    refcnt: int = 0


@layout("=IIiIIIII", "rta_cacheinfo",
        ("rta_clntref", "rta_lastuse", "rta_expires", "rta_error", "rta_used",
        "rta_id", "rta_ts", "rta_tsage"))
@record
class RtaCacheinfo(CStruct):
    """``struct rta_cacheinfo`` (RTA_CACHEINFO)."""
    clntref: int = 0
    lastuse: int = 0
    expires: int = 0
    error: int = 0
    used: int = 0
    id: int = 0
    ts: int = 0
    tsage: int = 0


@layout("=II", "fib_rule_uid_range")
@record
class FibRuleUidRange(CStruct):
    """``struct fib_rule_uid_range`` (FRA_UID_RANGE): ``ip rule ... uidrange A-B``."""
    start: int = 0
    end: int = 0


@layout("=HH", "fib_rule_port_range")
@record
class FibRulePortRange(CStruct):
    """``struct fib_rule_port_range`` (FRA_SPORT_RANGE, FRA_DPORT_RANGE), host order."""
    start: int = 0
    end: int = 0


@layout("=II", "br_boolopt_multi", ("optval", "optmask"))
@record
class BrBooloptMulti(CStruct):
    """``struct br_boolopt_multi`` (IFLA_BR_MULTI_BOOLOPT): a bridge's boolean
    options, bit BR_BOOLOPT_* of ``optval`` (if_bridge.h)."""
    optval: int = 0
    optmask: int = 0


@layout("=II", "ifla_vlan_flags")
@record
class VlanFlags(CStruct):
    """``struct ifla_vlan_flags`` (IFLA_VLAN_FLAGS): VLAN_FLAG_* bits and their mask."""
    flags: int = 0
    mask: int = 0


@layout("=IIII", "ifla_cacheinfo")
@record
class IflaCacheinfo(CStruct):
    """``struct ifla_cacheinfo`` (IFLA_INET6_CACHEINFO)."""
    max_reasm_len: int = 0
    tstamp: int = 0
    reachable_time: int = 0
    retrans_time: int = 0
