"""The request builders of ip's wider grammar, at the byte level: route lookups,
exact deletions, metrics with locks, onlink; FIB rules; more link kinds.

Expected bytes are packed here by hand with ``struct`` from the kernel's
struct layouts (rtnetlink.h, fib_rules.h, if_link.h), not with rawns' codec.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, strategies as st

from rawns.errors import EncodeError
from rawns.netlink import decode, encode, requests


def attr(nla_type: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, nla_type) + payload + b"\0" * (-length & 3)


def u32(nla_type: int, value: int) -> bytes:
    return attr(nla_type, struct.pack("=I", value))


def body(message) -> bytes:
    """The bytes after the nlmsghdr."""
    return encode(message.with_seq(1))[16:]


def nlmsg(message) -> tuple[int, int]:
    _, mtype, flags = struct.unpack_from("=IHH", encode(message.with_seq(1)))
    return mtype, flags


RTMSG = "=BBBBBBBBI"  # family dst_len src_len tos table protocol scope type flags


# --- routes --------------------------------------------------------------------------

def test_route_get_with_every_selector() -> None:
    msg = requests.route_get("10.9.1.1", source="10.1.0.1", iif=3, oif=4, mark=33)
    assert nlmsg(msg) == (26, 0x1)  # RTM_GETROUTE, NLM_F_REQUEST (a lookup, no dump)
    assert body(msg) == (struct.pack(RTMSG, 2, 32, 32, 0, 0, 0, 0, 0, 0)
                         + attr(1, bytes([10, 9, 1, 1]))  # RTA_DST
                         + attr(2, bytes([10, 1, 0, 1]))  # RTA_SRC
                         + u32(3, 3) + u32(4, 4)          # RTA_IIF, RTA_OIF
                         + u32(16, 33))                   # RTA_MARK
    v6 = requests.route_get("fd00::1")
    assert body(v6)[:12] == struct.pack(RTMSG, 10, 128, 0, 0, 0, 0, 0, 0, 0)
    with pytest.raises(EncodeError):
        requests.route_get("10.0.0.1", source="fd00::1")
    with pytest.raises(EncodeError):
        requests.route_get("10.0.0.1", mark=-1)


def test_route_with_locked_mtu_advmss_and_onlink() -> None:
    msg = requests.route_add("10.8.0.0/16", gateway="10.1.0.2", oif=2,
                             metrics={"mtu": 1300, "advmss": 1200}, locked=["mtu"],
                             onlink=True)
    header = body(msg)[:12]
    assert header == struct.pack(RTMSG, 2, 16, 0, 0, 254, 3, 0, 1, 4)  # RTNH_F_ONLINK
    metrics = u32(1, 1 << 2) + u32(2, 1300) + u32(8, 1200)  # RTAX_LOCK, _MTU, _ADVMSS
    assert attr(0x8000 | 8, metrics) in body(msg)  # RTA_METRICS, nested
    with pytest.raises(EncodeError):
        requests.route_add("10.8.0.0/16", metrics={"nosuch": 1})


@pytest.mark.parametrize("rtype, scope", [(6, 0), (7, 0), (8, 0), (9, 0), (1, 253), (2, 254)])
def test_route_scope_defaults_follow_ip(rtype, scope) -> None:
    # blackhole, unreachable, prohibit, throw: universe; unicast without a
    # gateway: link; local: host.
    msg = requests.route_add("10.5.0.0/16", type=rtype)
    assert body(msg)[6] == scope


@given(st.integers(0, 2**32 - 1), st.integers(0, 32), st.integers(1, 255),
       st.sampled_from([0, 2, 3, 4]), st.sampled_from([0, 253, 254]),
       st.sampled_from([1, 6, 7]), st.none() | st.integers(0, 2**32 - 1))
def test_exact_deletion_names_every_field(address, length, table, protocol, scope, rtype,
                                          metric) -> None:
    dst = ipaddress.ip_network((address, length), strict=False)
    msg = requests.route_del_exact(family=2, dst=dst, table=table, protocol=protocol,
                                   scope=scope, type=rtype, metric=metric, oif=5,
                                   gateway="10.0.0.1")
    assert nlmsg(msg) == (25, 0x5)  # RTM_DELROUTE, REQUEST|ACK
    expected = struct.pack(RTMSG, 2, length, 0, 0, table, protocol, scope, rtype, 0)
    expected += attr(1, dst.network_address.packed) + attr(5, bytes([10, 0, 0, 1]))
    expected += u32(4, 5) + (u32(6, metric) if metric is not None else b"")
    assert body(msg) == expected
    (decoded,) = decode(encode(msg.with_seq(1)))
    assert decoded.header.table == table


def test_exact_deletion_of_a_big_table_and_a_source() -> None:
    msg = requests.route_del_exact(family=10, dst=None, table=1000,
                                   src=ipaddress.ip_network("fd00::/64"))
    assert body(msg) == (struct.pack(RTMSG, 10, 0, 64, 0, 0, 0, 255, 0, 0)
                         + u32(15, 1000)  # RTA_TABLE: above 255
                         + attr(2, ipaddress.ip_address("fd00::").packed))
