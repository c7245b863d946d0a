"""ICMP echo from inside a namespace, for machines with no ``ping`` binary.

Invariants:
- Uses a raw socket (fresh namespaces turn ICMP datagram sockets off through
  ``net.ipv4.ping_group_range``), created inside the target namespace without
  moving any thread.
- Only replies carrying this call's identifier, a sequence it sent and the
  right source address count; everything else on the raw socket is ignored.
- Bounded: ``count`` probes, each waited for at most ``timeout`` seconds.
"""

from __future__ import annotations

import ipaddress
import os
import select
import socket
import struct
import time
from typing import Optional, Union

from rawns import netns as netns_module
from rawns import syscalls
from rawns.errors import kernel_error
from rawns.records import record

__all__ = ["Echo", "ping", "checksum"]

_ICMP_ECHO_REQUEST = 8
_ICMP_ECHO_REPLY = 0
_ICMP6_ECHO_REQUEST = 128
_ICMP6_ECHO_REPLY = 129
_ECHO = struct.Struct("!BBHHH")


@record(slots=False)
class Echo:
    """The fate of one probe: ``rtt`` in seconds, or None if no reply came."""

    seq: int
    rtt: Optional[float]
    ttl: Optional[int] = None
    size: int = 0


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def _request(version: int, ident: int, seq: int, payload: bytes) -> bytes:
    kind = _ICMP_ECHO_REQUEST if version == 4 else _ICMP6_ECHO_REQUEST
    header = _ECHO.pack(kind, 0, 0, ident, seq)
    if version == 6:
        return header + payload  # the kernel fills in the ICMPv6 checksum
    return _ECHO.pack(kind, 0, checksum(header + payload), ident, seq) + payload


def _parse_reply(version: int, packet: bytes) -> Optional[tuple[int, int, Optional[int], int]]:
    """(ident, seq, ttl, icmp size) of an echo reply, or None for anything else."""
    ttl = None
    if version == 4:
        if len(packet) < 20:
            return None
        header_len = (packet[0] & 0x0F) * 4
        ttl = packet[8]
        packet = packet[header_len:]
    if len(packet) < _ECHO.size:
        return None
    kind, code, _, ident, seq = _ECHO.unpack_from(packet)
    if kind != (_ICMP_ECHO_REPLY if version == 4 else _ICMP6_ECHO_REPLY) or code != 0:
        return None
    return ident, seq, ttl, len(packet)


def ping(
    destination: Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address],
    *,
    netns: Union[str, int, None] = None,
    count: int = 1,
    timeout: float = 1.0,
    interval: float = 0.0,
    size: int = 56,
    first_seq: int = 1,
) -> list[Echo]:
    """Send ``count`` ICMP echo requests to ``destination`` from ``netns``
    (a name, path or fd; None for the caller's own) and wait for the replies.

    Equals ``ip netns exec NS ping -c COUNT -W TIMEOUT DEST``. Returns one
    Echo per probe, in order; probes carry sequence numbers from
    ``first_seq`` on (a caller sending one probe at a time passes its own). Raises ValueError for a bad address and
    KernelError when the probe cannot be sent (e.g. no route: ENETUNREACH).
    """
    address = ipaddress.ip_address(destination)
    if count < 1:
        raise ValueError("count must be at least 1")
    if not 0 <= first_seq <= 0xFFFF - count + 1:
        raise ValueError("first_seq must leave room for count 16-bit sequence numbers")
    if not 0 <= size <= 65000:
        raise ValueError("size must be between 0 and 65000 bytes")
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    proto = socket.IPPROTO_ICMP if address.version == 4 else socket.IPPROTO_ICMPV6
    fd = netns_module.open_fd(netns) if netns is not None else None
    try:
        sock = syscalls.socket_in(fd, family, socket.SOCK_RAW, proto)
    finally:
        if fd is not None:
            os.close(fd)
    ident = int.from_bytes(os.urandom(2), "big")
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    results: list[Echo] = []
    with sock:
        for seq in range(first_seq, first_seq + count):
            if seq > first_seq and interval:
                time.sleep(interval)
            sent_at = time.monotonic()
            try:
                sock.sendto(_request(address.version, ident, seq, payload), (str(address), 0))
            except OSError as err:
                raise kernel_error(err.errno or 0, syscall="sendto",
                                   subject=f"ping {address}") from err
            results.append(_await_reply(sock, address, ident, seq, sent_at, timeout))
    return results


def _await_reply(sock: socket.socket, address: ipaddress.IPv4Address | ipaddress.IPv6Address, ident: int, seq: int,
                 sent_at: float, timeout: float) -> Echo:
    deadline = sent_at + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return Echo(seq=seq, rtt=None)
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return Echo(seq=seq, rtt=None)
        packet, source = sock.recvfrom(65535)
        if ipaddress.ip_address(source[0].split("%")[0]) != address:
            continue
        parsed = _parse_reply(address.version, packet)
        if parsed is None:
            continue
        got_ident, got_seq, ttl, icmp_size = parsed
        if got_ident == ident and got_seq == seq:
            return Echo(seq=seq, rtt=time.monotonic() - sent_at, ttl=ttl, size=icmp_size)
