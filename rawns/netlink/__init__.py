# Invariants:
# - Sans-IO: this package turns bytes into messages and back, and renders the
#   explain view.  It imports only the standard library and rawns.errors (a
#   test parses every module to check), never socket, os or threading.
# - The public names below are the contract the socket/operations layer
#   builds on; everything else is reachable through the submodules.
"""rtnetlink messages, sans I/O: ``decode``, ``encode``, ``explain`` and builders.

    >>> from rawns import netlink
    >>> request = netlink.requests.link_get(ifname="lo").with_seq(7, pid=0)
    >>> data = netlink.encode(request)
    >>> netlink.decode(data)[0].get("IFLA_IFNAME")
    'lo'
    >>> print(netlink.explain(data).splitlines()[0])
    message 0 @0: RTM_GETLINK (18), 40 bytes, flags NLM_F_REQUEST (0x1), seq 7, pid 0

Modules, from the bottom up: :mod:`constants` (kernel names and numbers),
:mod:`attrs` (TLV primitives and the table-driven walker), :mod:`structs`
(fixed headers), :mod:`codecs` (payload types), :mod:`tables` (one table per
family), :mod:`message` (framing), :mod:`explain`, :mod:`requests`.
"""

from rawns.errors import DecodeError, EncodeError

from . import constants, requests
from .attrs import Attr, AttrList
from .constants import AF, IFA, IFLA, IFLA_INFO, NDA, NETNSA, NLM_F, NLMSG, RTA, RTM, VETH_INFO
from .explain import explain
from .message import Frame, Message, decode, decode_frame, encode, encode_stamped, frames, \
    header_and_values, is_plain_done
from .structs import (
    IfAddrMsg, IfInfoMsg, LinkStats64, NdMsg, NestedMessage, NlMsgErr, NlMsgHdr, RtGenMsg,
    RtMsg, RtNextHop,
)

__all__ = [
    "decode", "encode", "encode_stamped", "explain", "DecodeError", "EncodeError",
    "frames", "decode_frame", "header_and_values", "is_plain_done", "Frame",
    "Message", "Attr", "AttrList", "NestedMessage",
    "NlMsgHdr", "NlMsgErr", "IfInfoMsg", "IfAddrMsg", "NdMsg", "RtMsg", "RtGenMsg",
    "RtNextHop", "LinkStats64",
    "AF", "IFA", "IFLA", "IFLA_INFO", "NDA", "NETNSA", "NLM_F", "NLMSG", "RTA", "RTM",
    "VETH_INFO",
    "constants", "requests",
]
