# Invariants:
# - Every fixed-layout C struct is a frozen, keyword-only dataclass with
#   exactly one ``struct.Struct`` in host byte order ('=' : native order,
#   standard sizes, no implicit alignment; padding is spelled out with 'x').
# - Field names drop the C prefix (``ifi_index`` -> ``index``); ``C_FIELDS``
#   keeps the kernel's names for the explain view.
# - ``unpack_from`` never reads past ``offset + SIZE``; the caller checks the
#   length first.  Padding bytes are ignored when read, written as zeros.
# - Fields that hold a kernel enum or flag set decode to that IntEnum/IntFlag
#   (plain int when the value is unknown).
# - Standard library and rawns.errors only.
"""Fixed-layout structures: message headers and struct-valued attributes.

Message headers (``nlmsghdr``, ``ifinfomsg``, ``ifaddrmsg``, ``ndmsg``,
``rtmsg``, ``rtgenmsg``, ``nlmsgerr``, ``rtnexthop``) and attribute payloads
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
from enum import IntFlag
from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar

from rawns.errors import EncodeError

from .attrs import AttrAccess, AttrList, fast_constructor
from .constants import (
    AF, ARPHRD, IFA_F, IFF, NLMSG, NTF, NUD, RT_SCOPE, RT_TABLE, RTM, RTM_F,
    RTN, RTPROT, as_flag, enum_members, flag_cache,
)

__all__ = [
    "CStruct", "NestedMessage", "NlMsgHdr", "NlMsgErr", "IfInfoMsg", "IfAddrMsg", "NdMsg", "RtMsg",
    "RtGenMsg", "RtNextHop", "LinkStats", "LinkStats64", "LinkIfmap", "IfaCacheinfo",
    "NdaCacheinfo", "RtaCacheinfo", "IflaCacheinfo", "message_type",
]

_MESSAGE_TYPES: dict[int, Any] = {**NLMSG._value2member_map_, **RTM._value2member_map_}


def message_type(value: int) -> Any:
    """``value`` as an NLMSG or RTM member, or the plain int if unknown."""
    return _MESSAGE_TYPES.get(value, value)


class CStruct:
    """Base of the fixed-layout dataclasses; see :func:`_layout`."""

    __slots__ = ()
    STRUCT: ClassVar[struct.Struct]
    SIZE: ClassVar[int]
    C_NAME: ClassVar[str]
    C_FIELDS: ClassVar[tuple[str, ...]]
    FIELD_NAMES: ClassVar[tuple[str, ...]]
    KINDS: ClassVar[tuple[Any, ...]]
    _DECODE: ClassVar[Callable[[bytes, int], Any]]
    _MAKE: ClassVar[Callable[..., Any]]  # fast constructor: every field, positional, in order

    @classmethod
    def unpack_from(cls, buf: bytes, offset: int = 0) -> Any:
        """Read one struct at ``offset`` (the caller has checked the length)."""
        return cls._DECODE(buf, offset)

    def values(self) -> tuple[Any, ...]:
        """The field values in struct order."""
        return self._VALUES()

    def pack(self) -> bytes:
        """The struct's bytes; EncodeError if a field is out of range."""
        try:
            return self._PACK()
        except (struct.error, TypeError) as err:
            raise EncodeError(f"{self.C_NAME}: {err} in {self!r}") from err

    def to_dict(self) -> dict[str, Any]:
        return dict(zip(self.FIELD_NAMES, self._VALUES()))


def _layout(cls: type, fmt: str, c_name: str, c_fields: tuple[str, ...] | None = None,
            kinds: tuple[Any, ...] | None = None) -> None:
    """Attach the struct layout to the dataclass ``cls``.

    ``kinds`` gives, per field, the IntEnum/IntFlag class its value decodes to
    (or None for a plain number).
    """
    names = [f.name for f in fields(cls)]
    compiled = struct.Struct(fmt)
    kinds = kinds or (None,) * len(names)
    assert len(kinds) == len(names) == len(compiled.unpack(bytes(compiled.size)))
    cls.STRUCT = compiled
    cls.SIZE = compiled.size
    cls.C_NAME = c_name
    cls.C_FIELDS = c_fields or tuple(names)
    cls.KINDS = kinds
    cls.FIELD_NAMES = tuple(names)
    _attach_packer(cls, names, compiled)
    cls._MAKE = staticmethod(fast_constructor(cls))
    cls._DECODE = staticmethod(_decoder(cls, names, kinds, compiled))


def _decoder(cls: type, names: list[str], kinds: tuple[Any, ...],
             compiled: struct.Struct) -> Callable[[bytes, int], Any]:
    """``decode(buf, offset)`` for ``cls``, generated as straight-line code.

    Fields with a kind are looked up in its dict of members (an unknown enum
    value stays a plain int) or in its bounded cache of flag values (filled
    by ``as_flag`` on a miss): the same results as as_enum/as_flag, without
    a call per field.
    """
    namespace: dict[str, Any] = {"make": cls._MAKE, "unpack": compiled.unpack_from,
                                 "as_flag": as_flag}
    values = [f"v{index}" for index in range(len(names))]
    lines = [f"    {', '.join(values)}, = unpack(buf, offset)"]
    for index, kind in enumerate(kinds):
        if kind is None:
            continue
        v = values[index]
        if issubclass(kind, IntFlag):
            namespace[f"kind{index}"] = kind
            namespace[f"cache{index}"] = flag_cache(kind)
            lines.append(f"    {v} = cache{index}[{v}] if {v} in cache{index} "
                         f"else as_flag(kind{index}, {v})")
        else:
            namespace[f"members{index}"] = enum_members(kind)
            lines.append(f"    {v} = members{index}.get({v}, {v})")
    source = ("def decode(buf, offset):\n" + "\n".join(lines)
              + f"\n    return make({', '.join(values)})\n")
    exec(compile(source, f"<decoder of {cls.__name__}>", "exec"), namespace)
    return namespace["decode"]


def _attach_packer(cls: type, names: list[str], compiled: struct.Struct) -> None:
    """Give ``cls`` a ``_VALUES`` and a ``_PACK`` method that name every field.

    Generated once per class as straight-line code, because walking
    ``dataclasses.fields()`` per pack cost more than the packing itself.
    """
    reads = ", ".join(f"self.{name}" for name in names)
    source = (f"def _VALUES(self):\n    return ({reads},)\n"
              f"def _PACK(self):\n    return pack({reads})\n")
    namespace: dict[str, Any] = {"pack": compiled.pack}
    exec(compile(source, f"<packer of {cls.__name__}>", "exec"), namespace)
    cls._VALUES = namespace["_VALUES"]
    cls._PACK = namespace["_PACK"]


_dataclass = dataclass(frozen=True, kw_only=True, slots=True)


# -- message headers ----------------------------------------------------------

@_dataclass
class NlMsgHdr(CStruct):
    """``struct nlmsghdr``: the 16 bytes in front of every netlink message."""
    length: int = 16
    type: int = 0
    flags: int = 0
    seq: int = 0
    pid: int = 0


_layout(NlMsgHdr, "=IHHII", "nlmsghdr",
        ("nlmsg_len", "nlmsg_type", "nlmsg_flags", "nlmsg_seq", "nlmsg_pid"))


@_dataclass
class IfInfoMsg(CStruct):
    """``struct ifinfomsg``: the fixed header of RTM_*LINK messages."""
    family: int = 0
    type: int = 0
    index: int = 0
    flags: int = 0
    change: int = 0


_layout(IfInfoMsg, "=BxHiII", "ifinfomsg",
        ("ifi_family", "ifi_type", "ifi_index", "ifi_flags", "ifi_change"),
        (AF, ARPHRD, None, IFF, IFF))


@_dataclass
class IfAddrMsg(CStruct):
    """``struct ifaddrmsg``: the fixed header of RTM_*ADDR messages."""
    family: int = 0
    prefixlen: int = 0
    flags: int = 0
    scope: int = 0
    index: int = 0


_layout(IfAddrMsg, "=BBBBI", "ifaddrmsg",
        ("ifa_family", "ifa_prefixlen", "ifa_flags", "ifa_scope", "ifa_index"),
        (AF, None, IFA_F, RT_SCOPE, None))


@_dataclass
class NdMsg(CStruct):
    """``struct ndmsg``: the fixed header of RTM_*NEIGH messages."""
    family: int = 0
    ifindex: int = 0
    state: int = 0
    flags: int = 0
    type: int = 0


_layout(NdMsg, "=BxxxiHBB", "ndmsg",
        ("ndm_family", "ndm_ifindex", "ndm_state", "ndm_flags", "ndm_type"),
        (AF, None, NUD, NTF, RTN))


@_dataclass
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


_layout(RtMsg, "=BBBBBBBBI", "rtmsg",
        ("rtm_family", "rtm_dst_len", "rtm_src_len", "rtm_tos", "rtm_table",
         "rtm_protocol", "rtm_scope", "rtm_type", "rtm_flags"),
        (AF, None, None, None, RT_TABLE, RTPROT, RT_SCOPE, RTN, RTM_F))


@_dataclass
class RtGenMsg(CStruct):
    """``struct rtgenmsg``: one family byte (then 3 padding bytes before attributes)."""
    family: int = 0


_layout(RtGenMsg, "=B", "rtgenmsg", ("rtgen_family",), (AF,))


@_dataclass
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

    @property
    def request_message(self) -> Any:
        """The echoed request decoded as a Message, or None if it cannot be.

        Only available when the body was echoed (not capped).
        """
        if not self.request_payload:
            return None
        from .message import decode  # message imports this module
        from rawns.errors import DecodeError

        header = NlMsgHdr(length=16 + len(self.request_payload), type=self.request.type,
                          flags=self.request.flags, seq=self.request.seq,
                          pid=self.request.pid)
        try:
            decoded = decode(header.pack() + self.request_payload)
        except (DecodeError, EncodeError):
            return None
        return decoded[0] if len(decoded) == 1 else None

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "request": self.request.to_dict(),
                "request_payload": self.request_payload}


@_dataclass
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


@_dataclass
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

_STATS_FIELDS = (
    "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
    "rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors",
    "rx_over_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
    "rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
    "tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed",
    "rx_nohandler",
)


def _counters(name: str, doc: str, names: tuple[str, ...]) -> type:
    namespace = {"__annotations__": {n: "int" for n in names}, "__doc__": doc,
                 "__module__": __name__, "__qualname__": name}
    namespace.update({n: 0 for n in names})
    return _dataclass(type(name, (CStruct,), namespace))


LinkStats64 = _counters(
    "LinkStats64", "``struct rtnl_link_stats64`` (IFLA_STATS64): 64-bit counters.",
    _STATS_FIELDS + ("rx_otherhost_dropped",))
_layout(LinkStats64, "=" + "Q" * 25, "rtnl_link_stats64")

LinkStats = _counters(
    "LinkStats", "``struct rtnl_link_stats`` (IFLA_STATS): the 32-bit counters.",
    _STATS_FIELDS)
_layout(LinkStats, "=" + "I" * 24, "rtnl_link_stats")


@_dataclass
class LinkIfmap(CStruct):
    """``struct rtnl_link_ifmap`` (IFLA_MAP); 4 trailing padding bytes."""
    mem_start: int = 0
    mem_end: int = 0
    base_addr: int = 0
    irq: int = 0
    dma: int = 0
    port: int = 0


_layout(LinkIfmap, "=QQQHBB4x", "rtnl_link_ifmap")


@_dataclass
class IfaCacheinfo(CStruct):
    """``struct ifa_cacheinfo`` (IFA_CACHEINFO): lifetimes in seconds
    (0xFFFFFFFF = forever), timestamps in hundredths of a second."""
    prefered: int = 0
    valid: int = 0
    cstamp: int = 0
    tstamp: int = 0


_layout(IfaCacheinfo, "=IIII", "ifa_cacheinfo",
        ("ifa_prefered", "ifa_valid", "cstamp", "tstamp"))


@_dataclass
class NdaCacheinfo(CStruct):
    """``struct nda_cacheinfo`` (NDA_CACHEINFO): ages in clock ticks."""
    confirmed: int = 0
    used: int = 0
    updated: int = 0
    refcnt: int = 0


_layout(NdaCacheinfo, "=IIII", "nda_cacheinfo",
        ("ndm_confirmed", "ndm_used", "ndm_updated", "ndm_refcnt"))


@_dataclass
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


_layout(RtaCacheinfo, "=IIiIIIII", "rta_cacheinfo",
        ("rta_clntref", "rta_lastuse", "rta_expires", "rta_error", "rta_used",
         "rta_id", "rta_ts", "rta_tsage"))


@_dataclass
class IflaCacheinfo(CStruct):
    """``struct ifla_cacheinfo`` (IFLA_INET6_CACHEINFO)."""
    max_reasm_len: int = 0
    tstamp: int = 0
    reachable_time: int = 0
    retrans_time: int = 0


_layout(IflaCacheinfo, "=IIII", "ifla_cacheinfo")
