#!/usr/bin/env python3
# Invariants:
# - Run as root: ``python3 tests/netlink/capture_golden.py`` rewrites
#   tests/netlink/data/*.bin (raw kernel bytes) and *.ip.json (what iproute2's
#   `ip -j` says about the same objects, the independent oracle the tests
#   compare decoded values with).  ``--rules`` captures only the policy
#   routing rules (rule_dump.bin, rule_oracle.json).
# - Everything happens inside two namespaces this script creates
#   (``rnsgold-<pid>-a`` / ``-b``) and deletes in a ``finally``: no address,
#   route or link of the root namespace is touched.
# - It does not use rawns: requests are packed by hand with ``struct`` so
#   that the captured bytes do not depend on the code under test.
"""Capture golden rtnetlink vectors from the running kernel."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
PREFIX = f"rnsgold-{os.getpid()}-"
NS_A = PREFIX + "a"
NS_B = PREFIX + "b"

SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400


def ip(*args: str, check: bool = True) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def attr(nla_type: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, nla_type) + payload + b"\0" * (-length & 3)


def message(mtype: int, flags: int, seq: int, body: bytes) -> bytes:
    return struct.pack("=IHHII", 16 + len(body), mtype, flags, seq, 0) + body


def conversation(request: bytes, *, cap_ack: bool = False, strict: bool = True) -> bytes:
    """Send one request; return every byte received until its end (ack/error/done)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        if strict:
            sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        if cap_ack:
            sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        sock.bind((0, 0))
        sock.settimeout(5)
        sock.send(request)
        flags = struct.unpack_from("=H", request, 6)[0]
        single_reply = not flags & (NLM_F_ACK | NLM_F_DUMP)
        received = b""
        while True:
            chunk = sock.recv(1 << 20)
            received += chunk
            offset = 0
            while offset < len(chunk):
                length, mtype = struct.unpack_from("=IH", chunk, offset)
                if mtype in (2, 3) or single_reply:
                    return received
                offset += (length + 3) & ~3
    finally:
        sock.close()


IFINFOMSG = struct.pack("=BxHiII", 0, 0, 0, 0, 0)


def dump_mode(out: Path) -> None:
    """Runs inside namespace A (via ``ip netns exec``): capture the dumps."""
    captures = {
        "link_dump": message(18, NLM_F_REQUEST | NLM_F_DUMP, 1, IFINFOMSG),
        "addr_dump": message(22, NLM_F_REQUEST | NLM_F_DUMP, 2, struct.pack("=BBBBI", 0, 0, 0, 0, 0)),
        "route_dump": message(26, NLM_F_REQUEST | NLM_F_DUMP, 3, bytes(12)),
        "neigh_dump": message(30, NLM_F_REQUEST | NLM_F_DUMP, 4, bytes(12)),
        "nsid_dump": message(90, NLM_F_REQUEST | NLM_F_DUMP, 5, b"\0\0\0\0"),
        "link_get_va": message(18, NLM_F_REQUEST, 6,
                               IFINFOMSG + attr(3, b"va\0") + attr(29, struct.pack("=I", 8))),
    }
    # Errors with extended acks.  A veth whose peer name exists: EEXIST with
    # the whole request (VETH_INFO_PEER inside) echoed back.
    peer = struct.pack("=BxHiII", 0, 0, 0, 0, 0) + attr(3, b"lo\0")
    veth = message(16, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 7,
                   IFINFOMSG + attr(3, b"vnew\0")
                   + attr(18, attr(1, b"veth\0") + attr(2, attr(1, peer))))
    captures["error_veth_exists"] = veth
    # A 16-byte name fails policy validation: NLMSGERR_ATTR_MSG + OFFS + POLICY.
    long_name = message(16, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 8,
                        IFINFOMSG + attr(3, b"abcdefghijklmnop\0")
                        + attr(18, attr(1, b"ifb\0")))
    captures["error_policy"] = long_name
    # An unknown kind, with NETLINK_CAP_ACK: the echo is capped.
    unknown_kind = message(16, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 9,
                           IFINFOMSG + attr(3, b"zz0\0") + attr(18, attr(1, b"nosuchkind\0")))
    results = {name: conversation(request) for name, request in captures.items()}
    results["error_capped"] = conversation(unknown_kind, cap_ack=True)
    # A successful creation: the plain ack.
    results["ack_ifb"] = conversation(message(
        16, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 10,
        IFINFOMSG + attr(3, b"ifbgold\0") + attr(18, attr(1, b"ifb\0"))))
    for name, data in results.items():
        (out / f"{name}.bin").write_bytes(data)


#: The rules of ``--rules``, as ip commands (IPv4 and IPv6, every kind of selector).
RULES = [
    "rule add from 10.1.0.0/24 table 100 priority 100",
    "rule add to 10.9.0.0/16 lookup 1000 priority 200",
    "rule add iif lo oif va table main priority 300",
    "rule add fwmark 0x10/0xff table 100 priority 400",
    "rule add not from 10.2.0.0/24 goto 32766 priority 500",
    "rule add priority 600 blackhole",
    "rule add priority 700 tos 0x10 table 100 suppress_prefixlength 0 realms 3/5",
    "rule add priority 800 table 100 uidrange 100-200 ipproto tcp sport 80 "
    "dport 1000-2000 protocol static",
    "-6 rule add from fd00::/64 to fd01::/64 table 100 priority 100",
    "-6 rule add priority 200 prohibit",
]


def rules_dump_mode(out: Path) -> None:
    """Runs inside the namespace (via ``ip netns exec``): capture a rule dump."""
    header = struct.pack("=BBBBBBBBI", 0, 0, 0, 0, 0, 0, 0, 0, 0)  # fib_rule_hdr, AF_UNSPEC
    data = conversation(message(34, NLM_F_REQUEST | NLM_F_DUMP, 11, header))
    (out / "rule_dump.bin").write_bytes(data)


def rules_mode() -> None:
    """``--rules``: capture rule_dump.bin and rule_oracle.json only (the other
    captures and ip_oracle.json stay as they are)."""
    ns = PREFIX + "rules"
    ip("netns", "add", ns)
    try:
        ip("-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        for command in RULES:
            ip("-n", ns, *command.split())
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, str(Path(__file__)),
                        "--rules-dump", str(DATA)], check=True)
        oracle = {"rule": json.loads(ip("-j", "-d", "-n", ns, "rule", "show")),
                  "rule6": json.loads(ip("-j", "-d", "-6", "-n", ns, "rule", "show")),
                  "text": ip("-d", "-n", ns, "rule", "show") + ip("-d", "-6", "-n", ns,
                                                                  "rule", "show")}
        (DATA / "rule_oracle.json").write_text(json.dumps(oracle, indent=1, sort_keys=True))
        print(f"captured rules into {DATA}")
    finally:
        ip("netns", "del", ns, check=False)


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("capture_golden.py needs root (it creates namespaces)")
    if len(sys.argv) == 3 and sys.argv[1] == "--dump":
        dump_mode(Path(sys.argv[2]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--rules-dump":
        rules_dump_mode(Path(sys.argv[2]))
        return
    if sys.argv[1:] == ["--rules"]:
        rules_mode()
        return
    DATA.mkdir(exist_ok=True)
    created = []
    try:
        for ns in (NS_A, NS_B):
            ip("netns", "add", ns)
            created.append(ns)
        a, b = ("-n", NS_A), ("-n", NS_B)
        ip(*a, "link", "set", "lo", "up")
        ip(*b, "link", "set", "lo", "up")
        ip(*a, "netns", "set", NS_B, "7")
        ip(*a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", NS_B)
        ip(*a, "link", "add", "br0", "type", "bridge", "stp_state", "0")
        ip(*a, "link", "add", "vp0", "type", "veth", "peer", "name", "vp1")
        ip(*a, "link", "set", "vp1", "master", "br0")
        ip(*a, "link", "set", "va", "mtu", "1400")
        ip(*a, "link", "set", "va", "alias", "golden veth")
        for dev in ("va", "br0", "vp0", "vp1"):
            ip(*a, "link", "set", dev, "up")
        ip(*b, "link", "set", "vb", "up")
        ip(*a, "link", "add", "vx0", "type", "vxlan", "id", "42", "remote", "10.77.0.2",
           "local", "10.77.0.1", "dstport", "4789", "dev", "va")
        ip(*a, "addr", "add", "10.77.0.1/24", "brd", "+", "dev", "va", "label", "va:one")
        ip(*a, "addr", "add", "fd00:77::1/64", "dev", "va", "nodad")
        ip(*b, "addr", "add", "10.77.0.2/24", "dev", "vb")
        ip(*b, "addr", "add", "fd00:77::2/64", "dev", "vb", "nodad")
        ip(*a, "addr", "add", "10.66.6.6/32", "dev", "br0", "valid_lft", "3600",
           "preferred_lft", "1800")
        ip(*a, "route", "add", "10.88.0.0/24", "via", "10.77.0.2", "metric", "50")
        ip(*a, "route", "add", "default", "via", "10.77.0.2", "table", "100")
        ip(*a, "route", "add", "10.99.0.0/16", "dev", "va", "table", "1000", "proto", "static")
        ip(*a, "route", "add", "10.55.0.0/24", "via", "10.77.0.2", "mtu", "1300")
        ip(*a, "route", "add", "10.44.0.0/24", "nexthop", "via", "10.77.0.2", "weight", "1",
           "nexthop", "via", "10.77.0.3", "weight", "2")
        ip(*a, "route", "add", "fd00:88::/64", "via", "fd00:77::2")
        ip(*a, "neigh", "add", "10.77.0.9", "lladdr", "02:00:00:00:00:09", "dev", "va",
           "nud", "permanent")
        # A learned neighbour: send one UDP datagram from A to B, which needs ARP.
        subprocess.run(["ip", "netns", "exec", NS_A, sys.executable, "-c",
                        "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
                        "s.sendto(b'x',('10.77.0.2',9))"], check=True)
        time.sleep(0.5)
        subprocess.run(["ip", "netns", "exec", NS_A, sys.executable, str(Path(__file__)),
                        "--dump", str(DATA)], check=True)
        oracle = {
            "link": json.loads(ip("-j", "-d", *a, "link", "show")),
            "addr": json.loads(ip("-j", *a, "addr", "show")),
            "route": json.loads(ip("-j", *a, "route", "show", "table", "all")),
            "route6": json.loads(ip("-j", "-6", *a, "route", "show", "table", "all")),
            "neigh": json.loads(ip("-j", *a, "neigh", "show")),
            "nsid": json.loads(ip("-j", *a, "netns", "list-id")),
        }
        (DATA / "ip_oracle.json").write_text(json.dumps(oracle, indent=1, sort_keys=True))
        print(f"captured into {DATA}")
    finally:
        for ns in reversed(created):
            ip("netns", "del", ns, check=False)


if __name__ == "__main__":
    main()
