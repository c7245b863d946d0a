# Invariants:
# - Sans-IO: this package turns bytes into messages and back, and renders the
#   explain view.  It imports only the standard library, rawns.errors and
#   rawns.records (a test parses every module to check), never socket, os or
#   threading.
# - The public names below are the contract the socket/operations layer
#   builds on; everything else is reachable through the submodules.
# - Modules import only the ones listed before them below, never a private
#   name of another (tests/netlink/test_nl_constants_imports.py checks it).
"""rtnetlink messages, sans I/O: ``decode``, ``encode``, ``explain`` and builders.

    >>> from rawns import netlink
    >>> request = netlink.requests.link_get(ifname="lo").with_seq(7, pid=0)
    >>> data = netlink.encode(request)
    >>> netlink.decode(data)[0].get("IFLA_IFNAME")
    'lo'
    >>> print(netlink.explain(data).splitlines()[0])
    message 0 @0: RTM_GETLINK (18), 40 bytes, flags NLM_F_REQUEST (0x1), seq 7, pid 0

Modules, from the bottom up; each imports only those above it in this list:

1. :mod:`names` -- the light IntEnum/IntFlag (KernelEnum, KernelFlag) constants are made of
2. :mod:`constants` -- kernel names and numbers, and the naming of flag bits
3. :mod:`attrs` -- TLV primitives, Attr/AttrList/AttrTable, the attribute walk
4. :mod:`structs` -- fixed-layout C structs (message headers, struct payloads)
5. :mod:`codecs` -- how each kind of payload reads and writes
6. :mod:`tables` -- one table per family and nest; ``make_attr`` builds by name
7. :mod:`message` -- nlmsghdr framing: the reference ``decode`` and ``encode``
8. :mod:`fast` -- the same decoding, faster (generated code, caches)
9. :mod:`explain` -- the annotated view, from the reference decoder's trace
10. :mod:`capture` -- netlink bytes captured elsewhere: hex text, binary, pcap, pcapng
11. :mod:`requests` -- builders of the requests the operations layer sends
12. :mod:`conversation` -- the request/answer state machine of one socket
    (sequence numbers, acks, dumps), fed with bytes: no I/O

The reference (3 to 7) is the textbook; :mod:`fast` is held equal to it by
tests, and ``decode``, ``decode_frame``, ``header_and_values``, ``encode``
and ``encode_stamped`` here are its versions.
"""

from rawns.errors import DecodeError, EncodeError

from . import constants, requests
from .attrs import Attr, AttrList
from .constants import AF, IFA, IFLA, IFLA_INFO, NDA, NETNSA, NLM_F, NLMSG, RTA, RTM, VETH_INFO
from .explain import explain
from .fast import decode, decode_frame, encode, encode_stamped, fast_constructor, frames, \
    header_and_values
from .message import Frame, Message, is_plain_done
from .tables import make_attr
from .structs import (
    IfAddrMsg, IfInfoMsg, LinkStats64, NdMsg, NestedMessage, NlMsgErr, NlMsgHdr, RtGenMsg,
    RtMsg, RtNextHop,
)

__all__ = [
    "decode", "encode", "encode_stamped", "explain", "DecodeError", "EncodeError",
    "frames", "decode_frame", "header_and_values", "is_plain_done", "Frame",
    "Message", "Attr", "AttrList", "NestedMessage", "make_attr", "fast_constructor",
    "NlMsgHdr", "NlMsgErr", "IfInfoMsg", "IfAddrMsg", "NdMsg", "RtMsg", "RtGenMsg",
    "RtNextHop", "LinkStats64",
    "AF", "IFA", "IFLA", "IFLA_INFO", "NDA", "NETNSA", "NLM_F", "NLMSG", "RTA", "RTM",
    "VETH_INFO",
    "constants", "requests",
]
