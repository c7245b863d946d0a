# Invariants:
# - explain() and annotate() never raise for any bytes: they render what
#   decodes, then where a DecodeError stopped the decoder ("decoding stopped
#   at byte N: <reason>").  (Non-bytes arguments are a TypeError, as usual.)
# - They are driven by the same tables and codecs as decode(): the reference
#   decoder (message.decode) records a trace of its one walk (see
#   attrs.Ctx.trace) and this module only shapes it; it never parses a
#   message again.  (The request an NLMSG_ERROR echoes is a message of its
#   own inside the body: it gets a walk of its own; so do the whole messages
#   before a broken nlmsghdr, which the first walk never reached.)
# - One content, two forms: annotate() builds plain data (dicts, lists,
#   str, int, bool, None: what json.dumps takes) and render() writes the
#   text from that alone, so `rawns explain -j` says what the text says.
# - Offsets are absolute byte offsets in the buffer given to explain(),
#   also inside an echoed request.
# - Standard library and rawns.errors only.
"""The annotated, textbook view of netlink bytes: every byte named.

Each message shows its ``nlmsghdr`` field by field (offset, bytes, value,
meaning; each flag by name), then its fixed header field by field, then
every attribute with its byte offset, length, kernel name and number, codec,
decoded value and raw bytes, nested attributes indented under their parent.
In a request, a zero that means "not given" (``ifi_type``, ``ifi_index``,
``rtm_table`` ...) is named for that, not for the constant that happens to
be 0 (``ARPHRD_NETROM``).  The layouts being read::

    nlmsghdr (16 bytes)                    nlattr (4 bytes + payload + pad)
    +-----------------------------+        +--------------+--------------+
    | nlmsg_len              u32  |        | nla_len  u16 | nla_type u16 |
    +--------------+--------------+        +--------------+--------------+
    | nlmsg_type   | nlmsg_flags  |        | payload (nla_len - 4 bytes)  |
    +--------------+--------------+        +-----------------------------+
    | nlmsg_seq              u32  |        | zero padding to 4 bytes      |
    | nlmsg_pid              u32  |        +-----------------------------+
    +-----------------------------+        nla_type bit 15: NLA_F_NESTED
    | family header, attributes...|        nla_type bit 14: NLA_F_NET_BYTEORDER

An example line: ``@32  len 7  IFLA_IFNAME (3) string = 'lo'  | 6c 6f 00``.
:data:`KERNEL_HEADERS` and :func:`defined_in` say which UAPI header defines
each structure and each attribute.
"""

from __future__ import annotations

import errno as _errno
import struct
from functools import cache
from ipaddress import IPv4Address, IPv6Address

from rawns.errors import DecodeError

from .attrs import TraceEntry
from .codecs import Codec, render_value
from .constants import (
    ENUMS, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, NLM_F, NLMSG, RTM, RTNH_F,
    KernelEnum, KernelFlag, enum_text, flag_names, message_type, nlm_flag_names,
)
from .message import decode
from .structs import CStruct, NlMsgErr, NlMsgHdr, RtNextHop

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "explain", "annotate", "render", "hexdump", "hex_lines", "defined_in", "definitions",
    "KERNEL_HEADERS", "FIELD_MEANINGS", "ZERO_IN_REQUEST", "FLAG_MEANINGS", "type_meaning",
]

_HEX_LIMIT = 24
_MAX_ECHO_DEPTH = 2
_REQUEST = int(NLM_F.NLM_F_REQUEST)
_CAPPED = int(NLM_F.NLM_F_CAPPED)


def hexdump(data: bytes, limit: int = _HEX_LIMIT) -> str:
    """``"6c 6f 00"``; beyond ``limit`` bytes, ``"... (+N bytes)"``."""
    shown = data[:limit].hex(" ")
    if len(data) > limit:
        shown += f" ... (+{len(data) - limit} bytes)"
    return shown


def hex_lines(data: bytes) -> list[str]:
    """Every byte of ``data``, 16 to a line after its offset: ``"0010: 0c 00 ..."``.

    What ``--trace`` prints before each view, so that a trace can be read
    back (``rawns explain`` reads it, like ``xxd`` output).
    """
    return [f"{start:04x}: {data[start:start + 16].hex(' ')}"
            for start in range(0, len(data), 16)]


# -- where the kernel defines things -------------------------------------------

KERNEL_HEADERS: dict[str, tuple[str, str]] = {
    # structures, by their C name: (header under /usr/include, declaration)
    "nlmsghdr": ("linux/netlink.h", "struct nlmsghdr"),
    "nlmsgerr": ("linux/netlink.h", "struct nlmsgerr"),
    "nlattr": ("linux/netlink.h", "struct nlattr"),
    "ifinfomsg": ("linux/rtnetlink.h", "struct ifinfomsg"),
    "rtmsg": ("linux/rtnetlink.h", "struct rtmsg"),
    "rtgenmsg": ("linux/rtnetlink.h", "struct rtgenmsg"),
    "rtnexthop": ("linux/rtnetlink.h", "struct rtnexthop"),
    "rta_cacheinfo": ("linux/rtnetlink.h", "struct rta_cacheinfo"),
    "rtvia": ("linux/rtnetlink.h", "struct rtvia"),
    "ifaddrmsg": ("linux/if_addr.h", "struct ifaddrmsg"),
    "ifa_cacheinfo": ("linux/if_addr.h", "struct ifa_cacheinfo"),
    "ndmsg": ("linux/neighbour.h", "struct ndmsg"),
    "nda_cacheinfo": ("linux/neighbour.h", "struct nda_cacheinfo"),
    "rtnl_link_stats": ("linux/if_link.h", "struct rtnl_link_stats"),
    "rtnl_link_stats64": ("linux/if_link.h", "struct rtnl_link_stats64"),
    "rtnl_link_ifmap": ("linux/if_link.h", "struct rtnl_link_ifmap"),
    "ifla_cacheinfo": ("linux/if_link.h", "struct ifla_cacheinfo"),
    "ifla_bridge_id": ("linux/if_link.h", "struct ifla_bridge_id"),
    "ifla_vxlan_port_range": ("linux/if_link.h", "struct ifla_vxlan_port_range"),
    "ifla_vlan_flags": ("linux/if_link.h", "struct ifla_vlan_flags"),
    "br_boolopt_multi": ("linux/if_bridge.h", "struct br_boolopt_multi"),
    "fib_rule_hdr": ("linux/fib_rules.h", "struct fib_rule_hdr"),
    "fib_rule_port_range": ("linux/fib_rules.h", "struct fib_rule_port_range"),
    "fib_rule_uid_range": ("linux/fib_rules.h", "struct fib_rule_uid_range"),
    "int": ("linux/netlink.h", "NLMSG_DONE's body: an int (see struct nlmsghdr's comments)"),
    # constants, by the name of their class in rawns.netlink.constants
    "NLMSG": ("linux/netlink.h", "#define NLMSG_*"),
    "NLM_F": ("linux/netlink.h", "#define NLM_F_*"),
    "NLMSGERR_ATTR": ("linux/netlink.h", "enum nlmsgerr_attrs"),
    "NETLINK_SOCKOPT": ("linux/netlink.h", "#define NETLINK_*"),
    "RTM": ("linux/rtnetlink.h", "enum { RTM_* }"),
    "RTN": ("linux/rtnetlink.h", "enum { RTN_* }"),
    "RT_SCOPE": ("linux/rtnetlink.h", "enum rt_scope_t"),
    "RT_TABLE": ("linux/rtnetlink.h", "enum rt_class_t"),
    "RTA": ("linux/rtnetlink.h", "enum rtattr_type_t"),
    "RTAX": ("linux/rtnetlink.h", "enum { RTAX_* }"),
    "RTNLGRP": ("linux/rtnetlink.h", "enum rtnetlink_groups"),
    "RTM_F": ("linux/rtnetlink.h", "#define RTM_F_*"),
    "RTPROT": ("linux/rtnetlink.h", "#define RTPROT_*"),
    "RTNH_F": ("linux/rtnetlink.h", "#define RTNH_F_*"),
    "RTAX_FEATURE": ("linux/rtnetlink.h", "#define RTAX_FEATURE_*"),
    "RTEXT_FILTER": ("linux/rtnetlink.h", "#define RTEXT_FILTER_*"),
    "IFLA": ("linux/if_link.h", "enum { IFLA_* }"),
    "IFLA_INFO": ("linux/if_link.h", "enum { IFLA_INFO_* }"),
    "IFLA_BR": ("linux/if_link.h", "enum { IFLA_BR_* }"),
    "IFLA_BRPORT": ("linux/if_link.h", "enum { IFLA_BRPORT_* }"),
    "IFLA_VXLAN": ("linux/if_link.h", "enum { IFLA_VXLAN_* }"),
    "VXLAN_DF": ("linux/if_link.h", "enum ifla_vxlan_df"),
    "IFLA_INET": ("linux/if_link.h", "enum { IFLA_INET_* }"),
    "IFLA_INET6": ("linux/if_link.h", "enum { IFLA_INET6_* }"),
    "IN6_ADDR_GEN_MODE": ("linux/if_link.h", "enum in6_addr_gen_mode"),
    "IFLA_XDP_ATTRS": ("linux/if_link.h", "enum { IFLA_XDP_* }"),
    "XDP_ATTACHED": ("linux/if_link.h", "enum { XDP_ATTACHED_* }"),
    "IFLA_PROTO_DOWN_REASON_ATTRS": ("linux/if_link.h", "enum { IFLA_PROTO_DOWN_REASON_* }"),
    "IFLA_MACVLAN": ("linux/if_link.h", "enum { IFLA_MACVLAN_* }"),
    "MACVLAN_MODE": ("linux/if_link.h", "enum macvlan_mode"),
    "MACVLAN_FLAG": ("linux/if_link.h", "#define MACVLAN_FLAG_*"),
    "IFLA_VLAN": ("linux/if_link.h", "enum { IFLA_VLAN_* }"),
    "IFLA_IPVLAN": ("linux/if_link.h", "enum { IFLA_IPVLAN_* }"),
    "IPVLAN_MODE": ("linux/if_link.h", "enum ipvlan_mode"),
    "IFLA_VRF": ("linux/if_link.h", "enum { IFLA_VRF_* }"),
    "IFLA_BOND": ("linux/if_link.h", "enum { IFLA_BOND_* }"),
    "IFLA_TUN": ("linux/if_link.h", "enum { IFLA_TUN_* }"),
    "FRA": ("linux/fib_rules.h", "enum { FRA_* }"),
    "FR_ACT": ("linux/fib_rules.h", "enum { FR_ACT_* }"),
    "FIB_RULE": ("linux/fib_rules.h", "#define FIB_RULE_*"),
    "VETH_INFO": ("linux/veth.h", "enum { VETH_INFO_* }"),
    "IFA": ("linux/if_addr.h", "enum { IFA_* }"),
    "IFA_F": ("linux/if_addr.h", "#define IFA_F_*"),
    "IFAPROT": ("linux/if_addr.h", "#define IFAPROT_*"),
    "NDA": ("linux/neighbour.h", "enum { NDA_* }"),
    "NUD": ("linux/neighbour.h", "#define NUD_*"),
    "NTF": ("linux/neighbour.h", "#define NTF_*"),
    "NETNSA": ("linux/net_namespace.h", "enum { NETNSA_* }"),
    "IF_OPER": ("linux/if.h", "enum { IF_OPER_* }"),
    "IF_LINK_MODE": ("linux/if.h", "enum { IF_LINK_MODE_* }"),
    "IFF": ("linux/if.h", "enum net_device_flags"),
    "ARPHRD": ("linux/if_arp.h", "#define ARPHRD_*"),
    # AF_* are not in the UAPI headers: the C library defines them.
    "AF": ("bits/socket.h", "#define AF_* (from <sys/socket.h>; RTNL_FAMILY_* in "
                            "linux/rtnetlink.h)"),
}
"""Which header under /usr/include defines each structure (by C name) and
each family of constants (by its class in :mod:`constants`), and how:
``(file, declaration)``.  ``tests/netlink/test_nl_explain.py`` checks each
against the headers of the machine."""


@cache
def _class_of_name() -> dict[str, str]:
    """Kernel constant name -> the name of its class (``IFLA_IFNAME`` -> ``IFLA``)."""
    owners: dict[str, str] = {}
    for enum_class in ENUMS:
        for name in enum_class.__members__:
            owners.setdefault(name, enum_class.__name__)
    return owners


def defined_in(name: str) -> tuple[str, str] | None:
    """``(header, declaration)`` of a structure (``"ifinfomsg"``) or a kernel
    constant (``"IFLA_IFNAME"``, ``"RTM_NEWLINK"``); None if unknown."""
    found = KERNEL_HEADERS.get(name)
    if found is None and (owner := _class_of_name().get(name)) is not None:
        found = KERNEL_HEADERS.get(owner)
    return found


def definitions(annotation: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(name, header, declaration)`` of every message type, nlmsghdr flag,
    structure and attribute :func:`annotate` met, once each, in the order
    first met."""
    seen: dict[str, tuple[str, str, str]] = {}

    def note(name: str | None) -> None:
        if name and name not in seen and (where := defined_in(name)) is not None:
            seen[name] = (name, *where)

    def walk(records: list[dict[str, Any]]) -> None:
        for record in records:
            if record["kind"] == "message":
                note(record["type_name"])
                for flag in record["flag_names"]:
                    note(flag)
            elif record["kind"] == "struct":
                note(record["name"])
                if record.get("echoed"):
                    walk(record["echoed"]["messages"])
            elif record["kind"] == "attribute":
                note(record["name"])
            walk(record.get("parts", []))

    walk(annotation["messages"])
    return list(seen.values())


# -- what each field means ------------------------------------------------------

FIELD_MEANINGS: dict[str, str] = {
    "nlmsg_len": "length of the whole message in bytes, this header included "
                 "(not the padding to 4 bytes after it)",
    "nlmsg_type": "what the message is: NLMSG_* control messages below 16, then "
                  "each family's types (RTM_* for rtnetlink)",
    "nlmsg_flags": "how to handle the message; bits 0x100-0x800 mean one thing for "
                   "GET, another for NEW, DEL or an ack",
    "nlmsg_seq": "sequence number chosen by the sender; the kernel copies it into "
                 "every answer, so that answers can be matched with requests",
    "nlmsg_pid": "port id: the address of a netlink socket (the kernel's is 0); "
                 "answers carry the port id of the socket that asked, notifications "
                 "that of the socket whose request caused them: with the seq, it "
                 "names the request answered",
    "ifi_family": "address family: AF_UNSPEC for a link (others ask for one "
                  "family's view of it)",
    "ifi_type": "link-layer type (ARPHRD_*), set by the kernel",
    "ifi_index": "interface index: the link's number in its namespace",
    "ifi_flags": "device flags (IFF_*): up, running, loopback ...",
    "ifi_change": "which bits of ifi_flags to change",
    "ifa_family": "address family of the address",
    "ifa_prefixlen": "prefix length: the /24 of 10.0.0.1/24",
    "ifa_flags": "address flags (IFA_F_*), the low 8 bits (IFA_FLAGS has them all)",
    "ifa_scope": "how far the address is valid: universe (global), link, host",
    "ifa_index": "interface index of the link the address is on",
    "rtm_family": "address family of the route",
    "rtm_dst_len": "prefix length of the destination (RTA_DST); 0 without RTA_DST "
                   "is the default route",
    "rtm_src_len": "prefix length of the source (RTA_SRC), for source routing",
    "rtm_tos": "type of service the route applies to",
    "rtm_table": "routing table id, 8 bits (RTA_TABLE carries all 32)",
    "rtm_protocol": "who installed the route (RTPROT_*)",
    "rtm_scope": "distance to the destination: universe (via a gateway), link "
                 "(directly attached), host (local)",
    "rtm_type": "route type (RTN_*): unicast, local, broadcast, blackhole ...",
    "rtm_flags": "route flags (RTM_F_*)",
    "ndm_family": "address family of the neighbour's address",
    "ndm_ifindex": "interface index of the link the entry is on",
    "ndm_state": "state of the entry (NUD_*): reachable, stale, permanent ...",
    "ndm_flags": "entry flags (NTF_*)",
    "ndm_type": "type of the neighbour's address, as a route type (RTN_*), set "
                "by the kernel",
    "rtgen_family": "address family the request is about",
    "rtnh_len": "length of this next hop, its attributes included",
    "rtnh_flags": "next-hop flags (RTNH_F_*)",
    "rtnh_hops": "weight of this next hop, minus one",
    "rtnh_ifindex": "interface index of the next hop's link",
    "error": "0: success (an ack); else the negative errno of the failure",
}
"""A one-line meaning for each field of each fixed header, by C name."""

ZERO_IN_REQUEST: dict[str, str] = {
    "nlmsg_seq": "0 (no number given: answers will carry 0)",
    "nlmsg_pid": "0 (not given: the kernel knows the sender by its socket)",
    "ifi_family": "AF_UNSPEC (0): no family, the link itself",
    "ifi_type": "0 (not given: the kernel sets the link-layer type)",
    "ifi_index": "0 (not given: the link is named by IFLA_IFNAME, or a new link "
                 "gets a free index)",
    "ifi_flags": "0 (no flag set)",
    "ifi_change": "0 (no flag to change; with ifi_flags set, the kernel reads 0 "
                  "as every bit)",
    "ifa_family": "AF_UNSPEC (0): any family",
    "ifa_prefixlen": "0 (not given)",
    "ifa_flags": "0 (no flag set)",
    "ifa_index": "0 (not given: every link)",
    "rtm_family": "AF_UNSPEC (0): any family",
    "rtm_src_len": "0 (no source prefix)",
    "rtm_tos": "0 (any type of service)",
    "rtm_table": "0 (not given: RTA_TABLE says, else the main table)",
    "rtm_protocol": "0 (not given: RTPROT_UNSPEC)",
    "rtm_type": "0 (not given: RTN_UNSPEC, any type)",
    "rtm_flags": "0 (no flag set)",
    "ndm_family": "AF_UNSPEC (0): any family",
    "ndm_ifindex": "0 (not given: every link)",
    "ndm_state": "0 (no state given: NUD_NONE)",
    "ndm_flags": "0 (no flag set)",
    "ndm_type": "0 (not given: RTN_UNSPEC)",
    "rtgen_family": "AF_UNSPEC (0): any family",
}
"""How a zero reads in a request (nlmsg_flags has NLM_F_REQUEST), by C
field name: "not given", "any", "none" -- not the constant that happens to
be 0 (``ifi_type = 0`` is not ``ARPHRD_NETROM``).  Fields missing here read
the same in requests and answers (``ifa_scope = RT_SCOPE_UNIVERSE``)."""

FLAG_MEANINGS: dict[str, str] = {
    "NLM_F_REQUEST": "a request: the kernel acts only on messages with this bit",
    "NLM_F_MULTI": "one part of a multipart answer: NLMSG_DONE ends it",
    "NLM_F_ACK": "asks for an ack: an NLMSG_ERROR with error 0 on success",
    "NLM_F_ECHO": "asks the kernel to send the resulting notification to this socket too",
    "NLM_F_DUMP_INTR": "the table changed while it was being dumped: the dump may "
                       "be inconsistent, dump again",
    "NLM_F_DUMP_FILTERED": "the kernel applied the filter the dump request asked for",
    "NLM_F_ROOT": "GET: the whole table, not one object",
    "NLM_F_MATCH": "GET: every object that matches",
    "NLM_F_ATOMIC": "GET: an atomic snapshot (rtnetlink ignores it)",
    "NLM_F_DUMP": "GET: ROOT|MATCH, a dump: every object, in as many parts as needed",
    "NLM_F_REPLACE": "NEW: replace the object if it exists",
    "NLM_F_EXCL": "NEW: fail with EEXIST if the object exists",
    "NLM_F_CREATE": "NEW: create the object if it does not exist",
    "NLM_F_APPEND": "NEW: add at the end of the list",
    "NLM_F_NONREC": "DEL: do not delete recursively",
    "NLM_F_BULK": "DEL: delete every object that matches",
    "NLM_F_CAPPED": "ack: only the request's nlmsghdr is echoed, not its body",
    "NLM_F_ACK_TLVS": "ack: extended-ack attributes (NLMSGERR_ATTR_*) follow",
}
"""What each nlmsghdr flag asks or says, read for the message type (netlink.h)."""

_CONTROL_MEANINGS = {
    int(NLMSG.NLMSG_NOOP): "nothing: to be ignored",
    int(NLMSG.NLMSG_ERROR): "the answer to one request: an error, or with error 0 an ack",
    int(NLMSG.NLMSG_DONE): "the end of a multipart answer (a dump)",
    int(NLMSG.NLMSG_OVERRUN): "data was lost",
}
_OBJECTS = {"LINK": "a link", "ADDR": "an address", "ROUTE": "a route",
            "NEIGH": "a neighbour (ARP/NDP) entry", "RULE": "a routing rule",
            "NSID": "a namespace id", "NEXTHOP": "a next hop",
            "QDISC": "a queueing discipline"}


def type_meaning(mtype: int) -> str:
    """``"RTM_GETLINK: ask for one link, or with NLM_F_DUMP for all of them"``."""
    if mtype in _CONTROL_MEANINGS:
        return f"{NLMSG(mtype).name}: {_CONTROL_MEANINGS[mtype]}"
    member = message_type(mtype)
    if not isinstance(member, RTM):
        return f"{mtype}: a type this program does not know"
    import re  # here: every command loads this module, few explain anything

    match = re.fullmatch(r"RTM_(NEW|DEL|GET|SET)(\w+)", member.name)
    if match is None:
        return member.name
    verb, what = match.groups()
    thing = _OBJECTS.get(what, f"a {what.lower()} object")
    text = {"NEW": f"create or change {thing}; from the kernel: {thing}, in an answer "
                   f"or a notification",
            "DEL": f"delete {thing}; from the kernel: {thing} was deleted",
            "GET": f"ask for {thing}, or with NLM_F_DUMP for all of them",
            "SET": f"change {thing}"}[verb]
    return f"{member.name}: {text}"


# -- the annotation (plain data) ---------------------------------------------------

def explain(data: bytes | bytearray | memoryview) -> str:
    """Render ``data`` (one or more netlink messages) as annotated text.

    Never raises on malformed bytes: the last line then says where decoding
    stopped and why.  Used by the CLI's ``--trace`` and ``rawns explain``.
    """
    return render(annotate(data))


def annotate(data: bytes | bytearray | memoryview) -> dict[str, Any]:
    """What :func:`explain` shows, as plain data (``json.dumps`` takes it).

    ``{"length": N, "messages": [...], "stopped": None or {"offset", "reason",
    "bytes"}}``; each message ``{"kind": "message", "offset", "length",
    "type", "type_name", "flags", "flag_names", "seq", "pid", "parts"}``, its
    parts the ``nlmsghdr``, the fixed header (``"kind": "struct"``, with
    ``"fields"``), the attributes (``"kind": "attribute"``, nested ones with
    ``"parts"`` of their own) or an unread ``"payload"``.  Never raises.
    """
    return _annotate(bytes(data), 0, 0)


def _annotate(buf: bytes, base: int, echo_depth: int) -> dict[str, Any]:
    trace: list[TraceEntry] = []
    stopped: DecodeError | None = None
    try:
        decode(buf, trace)
    except DecodeError as err:
        stopped = err
        if not trace and err.offset > 0:
            # The framing of every message is checked before any body is read:
            # a broken nlmsghdr at err.offset hides the whole messages before
            # it, so show those (a capture cut short still explains its start).
            try:
                decode(buf[:err.offset], trace)
            except DecodeError as earlier:
                stopped = earlier
    messages: list[dict[str, Any]] = []
    # Containers still open, innermost last: (trace depth, their parts).
    open_parts: list[tuple[int, list[dict[str, Any]]]] = []
    is_request = False
    for entry in trace:
        if entry.kind == "message":
            flags = entry.value[0]
            is_request = bool(flags & _REQUEST)
            message = _message_record(entry.raw, base + entry.offset, entry.length,
                                      len(messages), is_request)
            messages.append(message)
            open_parts = [(0, message["parts"])]
            continue
        while len(open_parts) > 1 and open_parts[-1][0] >= entry.depth:
            open_parts.pop()
        if entry.kind == "header":
            record = _header_record(entry, base, is_request, echo_depth)
        elif entry.kind == "payload":
            record = {"kind": "payload", "offset": base + entry.offset,
                      "length": entry.length, "bytes": entry.raw.hex(" ")}
        else:
            record = _attr_record(entry, base)
        open_parts[-1][1].append(record)
        if record["kind"] == "attribute":
            open_parts.append((entry.depth, record["parts"]))
    for message in messages:
        _point_at_offending_attribute(message)
    result: dict[str, Any] = {"length": len(buf), "messages": messages, "stopped": None}
    if stopped is not None:
        result["stopped"] = {"offset": base + stopped.offset, "reason": stopped.reason,
                             "bytes": buf[stopped.offset:stopped.offset + 16].hex(" "),
                             "left": max(0, len(buf) - stopped.offset)}
    return result


def _point_at_offending_attribute(message: dict[str, Any]) -> None:
    """NLMSGERR_ATTR_OFFS counts bytes from the start of the request: say
    where that is here, and which attribute of the echoed request it is."""
    parts = message["parts"]
    error = next((part for part in parts if part.get("name") == "nlmsgerr"), None)
    for part in parts:
        if part.get("name") != "NLMSGERR_ATTR_OFFS" or not isinstance(part["value"], int):
            continue
        target = message["offset"] + 20 + part["value"]
        found = _record_at(error["echoed"]["messages"] if error and error["echoed"] else [],
                           target)
        part["note"] = (f"byte {part['value']} of the request, @{target}"
                        + (f": {found}" if found else " (not echoed)"))


def _record_at(records: list[dict[str, Any]], offset: int) -> str | None:
    for record in records:
        if record["kind"] == "attribute" and record["offset"] == offset:
            return str(record["name"] or f"attribute {record['number']}")
        inner = _record_at(record.get("parts", []), offset)
        if inner is not None:
            return inner
    return None


def _message_record(raw: bytes, offset: int, length: int, index: int,
                    is_request: bool) -> dict[str, Any]:
    header = NlMsgHdr.unpack_from(raw)
    member = message_type(header.type)
    return {
        "kind": "message", "index": index, "offset": offset, "length": length,
        "type": header.type, "type_name": getattr(member, "name", None),
        "flags": header.flags, "flag_names": nlm_flag_names(header.type, header.flags),
        "seq": header.seq, "pid": header.pid, "request": is_request,
        "parts": [_struct_record("nlmsghdr", offset, raw[:16], NlMsgHdr.C_FIELDS,
                                 header.values(), NlMsgHdr.KINDS, _spans(NlMsgHdr),
                                 is_request, header.type)],
    }


def _header_record(entry: TraceEntry, base: int, is_request: bool,
                   echo_depth: int) -> dict[str, Any]:
    offset = base + entry.offset
    value = entry.value
    raw = entry.raw
    if isinstance(value, NlMsgErr):
        return _error_record(value, offset, raw, base + entry.offset + 4, echo_depth)
    if isinstance(value, RtNextHop):
        numbers = RtNextHop.STRUCT.unpack_from(raw)
        return _struct_record("rtnexthop", offset, raw, ("rtnh_len",) + RtNextHop.C_FIELDS,
                              numbers, (None, RTNH_F, None, None), ((0, 2), (2, 1), (3, 1),
                                                                    (4, 4)), is_request, 0)
    if isinstance(value, CStruct):
        cls = type(value)
        return _struct_record(cls.C_NAME, offset, raw, cls.C_FIELDS, value.values(),
                              cls.KINDS, _spans(cls), is_request, 0)
    # NLMSG_DONE: one int, 0 or the dump's negative errno.
    number = value if isinstance(value, int) else 0
    record = _struct_record("int", offset, raw, ("error",), (number,), (None,), ((0, 4),),
                            is_request, int(NLMSG.NLMSG_DONE))
    return record


def _error_record(value: NlMsgErr, offset: int, raw: bytes, echo_offset: int,
                  echo_depth: int) -> dict[str, Any]:
    """``struct nlmsgerr``: the error, then the request's nlmsghdr and (unless
    NLM_F_CAPPED) its body, decoded as a message of its own."""
    record = _struct_record("nlmsgerr", offset, raw[:4], ("error",), (value.error,),
                            (None,), ((0, 4),), False, int(NLMSG.NLMSG_ERROR))
    record["length"] = len(raw)
    request_bytes = raw[4:]
    echoed: dict[str, Any] | None = None
    if not value.request_payload:
        # Only the header came back: show it, without claiming its body.
        request = _message_record(request_bytes[:16], echo_offset, value.request.length,
                                  0, bool(value.request.flags & _REQUEST))
        echoed = {"length": 16, "messages": [request], "stopped": None}
        record["echo"] = "nlmsghdr only (NLM_F_CAPPED)"
    elif echo_depth < _MAX_ECHO_DEPTH:
        echoed = _annotate(request_bytes, echo_offset, echo_depth + 1)
        record["echo"] = "nlmsghdr and body"
    else:
        record["echo"] = "nlmsghdr and body (not decoded: echoes nested too deep)"
    record["echoed"] = echoed
    return record


def _spans(cls: type[CStruct]) -> tuple[tuple[int, int], ...]:
    """``(offset, size)`` of each field of ``cls`` in its bytes, from its format."""
    return _format_spans(cls.STRUCT.format)


@cache
def _format_spans(fmt: str) -> tuple[tuple[int, int], ...]:
    import re

    spans = []
    offset = 0
    for count_text, code in re.findall(r"(\d*)([xcbB?hHiIlLqQnNefdsp])", fmt):
        count = int(count_text or 1)
        size = struct.calcsize("=" + code)
        if code == "x":
            offset += count
        elif code in "sp":
            spans.append((offset, count))
            offset += count
        else:
            for _ in range(count):
                spans.append((offset, size))
                offset += size
    return tuple(spans)


def _struct_record(name: str, offset: int, raw: bytes, c_fields: tuple[str, ...],
                   values: tuple[Any, ...], kinds: tuple[Any, ...],
                   spans: tuple[tuple[int, int], ...], is_request: bool,
                   mtype: int) -> dict[str, Any]:
    where = KERNEL_HEADERS.get(name)
    fields = []
    for c_name, value, kind, (start, size) in zip(c_fields, values, kinds, spans):
        number = int(value)
        field: dict[str, Any] = {
            "name": c_name, "offset": offset + start, "size": size, "value": number,
            "text": _field_text(c_name, number, kind, is_request, mtype, values),
            "meaning": FIELD_MEANINGS.get(c_name, ""),
            "bytes": raw[start:start + size].hex(" "),
        }
        if c_name == "nlmsg_flags":
            field["flags"] = _flag_records(int(values[1]), number)
        fields.append(field)
    return {"kind": "struct", "name": name, "offset": offset, "length": len(raw),
            "bytes": raw.hex(" "), "header": where[0] if where else None,
            "declaration": where[1] if where else None, "fields": fields}


def _field_text(c_name: str, number: int, kind: Any, is_request: bool, mtype: int,
                values: tuple[Any, ...]) -> str:
    if number == 0 and is_request and c_name in ZERO_IN_REQUEST:
        return ZERO_IN_REQUEST[c_name]
    if c_name == "nlmsg_type":
        name, _, meaning = type_meaning(number).partition(": ")
        return f"{name} ({number}): {meaning}" if name != str(number) else \
            f"{number}: {meaning}"
    if c_name == "nlmsg_flags":
        return f"{'|'.join(nlm_flag_names(int(values[1]), number)) or '0'} ({number:#x})"
    if c_name == "error":
        return _error_text(number, mtype)
    if kind is not None and issubclass(kind, KernelFlag):
        if number == 0:
            return "0 (no flag set)"
        return f"{'|'.join(flag_names(kind, number))} ({number:#x})"
    if kind is not None and issubclass(kind, KernelEnum):
        return enum_text(kind, number)
    return str(number)


def _flag_records(mtype: int, flags: int) -> list[dict[str, Any]]:
    records = []
    for name in nlm_flag_names(mtype, flags):
        if name in NLM_F.__members__:
            bit = int(NLM_F.__members__[name])
            meaning = FLAG_MEANINGS.get(name, "")
        else:
            bit = int(name, 16)
            meaning = "bits with no meaning for this message type"
        records.append({"name": name, "value": bit, "meaning": meaning})
    return records


def _error_text(error: int, mtype: int) -> str:
    if error == 0:
        if mtype == int(NLMSG.NLMSG_DONE):
            return "0 (success: the dump is complete)"
        return "0 (success: this is an ack)"
    name = _errno.errorcode.get(-error, "?")
    return f"{error} (-{name})"


def _attr_record(entry: TraceEntry, base: int) -> dict[str, Any]:
    codec: Codec | None = entry.codec
    kept = entry.note.startswith("kept as bytes")
    kind = codec.kind if codec is not None and not kept else "raw"
    value = entry.value
    if codec is not None and not kept:
        try:
            text = codec.render(value)
        except Exception:  # noqa: BLE001 - rendering must never stop explain
            text = render_value(value)
    else:
        text = render_value(value)
    bits = []
    if entry.nla_type & NLA_F_NESTED:
        bits.append("NESTED")
    if entry.nla_type & NLA_F_NET_BYTEORDER:
        bits.append("NET_BYTEORDER")
    return {
        "kind": "attribute", "offset": base + entry.offset, "length": entry.length,
        "name": entry.name, "number": entry.nla_type & NLA_TYPE_MASK, "type_bits": bits,
        "codec": kind, "value": _plain(value), "text": text,
        "decoded": value is not None,
        "container": isinstance(value, tuple) and not entry.note.startswith("kept"),
        "bytes": entry.raw.hex(" "), "note": entry.note, "parts": [],
    }


def _plain(value: Any) -> Any:
    """The value as JSON has it (int, str, bool), or None: the text says the rest."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, (IPv4Address, IPv6Address)):
        return str(value)
    return None


# -- the text ------------------------------------------------------------------------

def render(annotation: dict[str, Any], indent: str = "") -> str:
    """The text of :func:`explain` from what :func:`annotate` returned.

    Each field's meaning, and each flag's, is said the first time it comes up:
    a dump of a hundred messages explains ``nlmsg_seq`` once.
    """
    lines: list[str] = []
    _render_into(lines, annotation, indent, set())
    return "\n".join(lines)


def _render_into(lines: list[str], annotation: dict[str, Any], indent: str,
                 said: set[str]) -> None:
    if not annotation["length"]:
        lines.append(f"{indent}(no bytes)")
    for message in annotation["messages"]:
        names = "|".join(message["flag_names"]) or "0"
        type_text = message["type_name"] or "unknown type"
        lines.append(f"{indent}message {message['index']} @{message['offset']}: {type_text} "
                     f"({message['type']}), {message['length']} bytes, flags {names} "
                     f"({message['flags']:#x}), seq {message['seq']}, pid {message['pid']}")
        _render_parts(lines, message["parts"], indent + "  ", said)
    stopped = annotation["stopped"]
    if stopped is not None:
        lines.append(f"{indent}decoding stopped at byte {stopped['offset']}: "
                     f"{stopped['reason']}")
        if stopped["bytes"]:
            more = stopped["left"] - len(stopped["bytes"].split())
            lines.append(f"{indent}  bytes from there: {stopped['bytes']}"
                         + (f" ... (+{more} bytes)" if more > 0 else ""))


def _render_parts(lines: list[str], parts: list[dict[str, Any]], pad: str,
                  said: set[str]) -> None:
    for part in parts:
        if part["kind"] == "struct":
            _render_struct(lines, part, pad, said)
        elif part["kind"] == "payload":
            lines.append(f"{pad}@{part['offset']} payload, {part['length']} bytes "
                         f"(no table for this type) | "
                         f"{hexdump(bytes.fromhex(part['bytes']))}")
        else:
            lines.append(pad + _attr_line(part))
            _render_parts(lines, part["parts"], pad + "  ", said)


def _render_struct(lines: list[str], part: dict[str, Any], pad: str, said: set[str]) -> None:
    where = f"   [{part['declaration']}, {part['header']}]" if part["header"] else ""
    size = f"{part['length']} byte{'' if part['length'] == 1 else 's'}"
    lines.append(f"{pad}@{part['offset']} {part['name']} ({size}) | "
                 f"{hexdump(bytes.fromhex(part['bytes']), 20)}{where}")
    width = max(len(field["name"]) for field in part["fields"])
    for field in part["fields"]:
        line = (f"{pad}    @{field['offset']:<4} {field['name']:<{width}} = {field['text']}"
                f" | {field['bytes']}")
        if field["meaning"] and field["name"] not in said:
            said.add(field["name"])
            line += f"  -- {field['meaning']}"
        lines.append(line)
        for flag in field.get("flags", ()):
            if flag["name"] not in said:
                said.add(flag["name"])
                lines.append(f"{pad}          {flag['name']} ({flag['value']:#x}): "
                             f"{flag['meaning']}")
    if part["name"] == "nlmsgerr":
        lines.append(f"{pad}    @{part['offset'] + 4:<4} the request, echoed: "
                     f"{part['echo']}")
        if part["echoed"] is not None:
            _render_into(lines, part["echoed"], pad + "      ", said)


def _attr_line(part: dict[str, Any]) -> str:
    type_text = str(part["number"])
    if part["type_bits"]:
        type_text += "|" + "|".join(part["type_bits"])
    line = (f"@{part['offset']:<5} len {part['length']:<4} {part['name'] or 'unknown'} "
            f"({type_text}) {part['codec']}")
    if not part["decoded"]:
        line += " (not decoded)"
    elif part["container"]:
        line += f": {part['text']}"
    else:
        line += f" = {part['text']} | {hexdump(bytes.fromhex(part['bytes']))}"
    if part["note"]:
        line += f"  [{part['note']}]"
    return line
