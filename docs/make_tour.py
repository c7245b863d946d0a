"""Write docs/netlink-tour.md from real traces: the netlink tour, generated.

    sudo python docs/make_tour.py [OUTPUT]          # default: docs/netlink-tour.md

Runs the container-networking setup one message at a time in two namespaces
of its own (removed at the end, also on failure), records every datagram
rawns sends and receives, and writes each with its ``ip`` command, its bytes,
their annotated view (``rawns.netlink.explain``) and the kernel header
defining each structure and attribute.  ``tests/test_tour.py`` runs it and
fails when the committed tour differs in structure from what the code does
now; :func:`normalize` says what may differ from run to run.

Everything it does is a public call of rawns a program could make; the two
requests ``Handle`` has no method for are built with ``rawns.netlink``
(``requests``, ``make_attr``) and sent through ``rawns.nlsock.RouteSocket``,
or read datagram by datagram from a socket opened in the namespace.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import socket
import sys
from pathlib import Path
from typing import Callable, TypeVar

from rawns import netns, ping
from rawns.errors import KernelError
from rawns.handle import Handle
from rawns.netlink import IFLA, AttrList, decode, encode, make_attr, requests
from rawns.netlink.explain import annotate, definitions, hex_lines, render
from rawns.nlsock import RouteSocket

__all__ = ["generate", "normalize", "main"]

HERE = Path(__file__).resolve().parent


class Tour:
    """The document being written, and the datagrams of the current step."""

    def __init__(self, names: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.datagrams: list[tuple[str, bytes]] = []
        self.names = names  # real namespace name -> the name the text uses

    def record(self, direction: str, data: bytes) -> None:
        self.datagrams.append((direction, data))

    def say(self, text: str = "") -> None:
        for real, shown in self.names.items():
            text = text.replace(real, shown)
        self.lines.append(text)

    def step(self, title: str, ip: list[str], why: str) -> None:
        self.datagrams = []
        self.say(f"## {title}")
        self.say()
        if ip:
            self.say("```sh")
            for command in ip:
                self.say(f"$ {command}")
            self.say("```")
            self.say()
        self.say(why.strip())
        self.say()

    def show(self, keep: Callable[[str, bytes], bool] = lambda d, b: True) -> None:
        """Write the datagrams recorded since the step began, then the table
        of where the kernel defines what they hold."""
        rows: dict[str, tuple[str, str, str]] = {}
        for direction, data in self.datagrams:
            if not keep(direction, data):
                continue
            self.datagram(direction, data)
            for row in definitions(annotate(data)):
                rows.setdefault(row[0], row)
        self.definitions(list(rows.values()))
        self.datagrams = []

    def datagram(self, direction: str, data: bytes, title: str = "") -> None:
        arrow = "sent to the kernel" if direction == "send" else "received from the kernel"
        self.say(f"**{title or arrow}**, {len(data)} bytes:")
        self.say()
        self.say("```text")
        for line in hex_lines(data):
            self.say(line)
        self.say()
        for line in render(annotate(data)).splitlines():
            self.say(line)
        self.say("```")
        self.say()

    def definitions(self, rows: list[tuple[str, str, str]]) -> None:
        if not rows:
            return
        self.say("Where the kernel defines them (under `/usr/include`):")
        self.say()
        self.say("| name | header | declared as |")
        self.say("|---|---|---|")
        for name, header, declaration in rows:
            self.say(f"| `{name}` | `{header}` | `{declaration}` |")
        self.say()

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


def generate() -> str:
    """The tour, from this run (root needed: it makes two namespaces)."""
    tag = f"{os.getpid() % 100000:05d}"
    red, blue = f"tour{tag}-red", f"tour{tag}-blue"
    tour = Tour({red: "RED", blue: "BLUE"})
    made: list[str] = []
    try:
        _preface(tour)
        _namespaces(tour, red, blue, made)
        with Handle(red) as h_red, Handle(blue) as h_blue:
            h_red.trace = tour.record
            _veth_by_fd(tour, h_red, blue)
            _veth_by_nsid(tour, h_red, red, blue)
            veth0 = _quietly(h_red, lambda: h_red.index_of("veth0"))
            _address(tour, h_red, veth0)
            _link_up(tour, h_red, veth0)
            _dump(tour, h_red)
            _neighbours(tour, h_red, h_blue, red, veth0)
            _error(tour, h_red, veth0)
            _dump_interrupted(tour, h_red, red, veth0)
        _ending(tour)
    finally:
        for name in made:
            try:
                netns.delete(name)
            except OSError:
                pass
    return tour.text()


_T = TypeVar("_T")


def _quietly(handle: Handle, action: Callable[[], _T]) -> _T:
    """Run ``action`` with ``handle``'s trace off: setup the tour does not show."""
    trace, handle.trace = handle.trace, None
    try:
        return action()
    finally:
        handle.trace = trace


def _preface(tour: Tour) -> None:
    tour.say("# The netlink tour: a container's network, one message at a time")
    tour.say()
    tour.say("<!-- Generated by docs/make_tour.py: do not edit; run it again (as root). -->")
    tour.say()
    tour.say(f"Generated by `python docs/make_tour.py` on Linux {platform.release()}. "
             "Every byte below was sent to or received from that kernel by rawns; "
             "`tests/test_tour.py` runs the script again and fails when the messages "
             "differ in structure (types, attributes, offsets, field names) from what is "
             "written here. Values that change from run to run (port ids, sequence "
             "numbers, interface indexes, MAC addresses, timestamps) will differ on your "
             "machine. `RED` and `BLUE` stand for the two namespaces the script makes.")
    tour.say()
    tour.say("Each datagram is shown twice: its bytes, 16 to a line after their offset "
             "(what `rawns --trace` prints, and what `rawns explain` reads back), then "
             "the annotated view of `rawns.netlink.explain`. Every message starts with "
             "its 16-byte `nlmsghdr`, field by field: `@offset name = value | bytes -- "
             "meaning` (a meaning is given the first time a field or flag comes up). "
             "The family's fixed header follows (`ifinfomsg`, `ifaddrmsg`, `ndmsg` ...), "
             "then the attributes, each `@offset len N NAME (number) codec = value | "
             "payload bytes`, nested ones indented under their parent. In a request, a "
             "zero that means \"not given\" says so.")
    tour.say()
    tour.say("```text")
    tour.say("nlmsghdr (16 bytes)                    nlattr (4 bytes + payload + pad)")
    tour.say("+-----------------------------+        +--------------+--------------+")
    tour.say("| nlmsg_len              u32  |        | nla_len  u16 | nla_type u16 |")
    tour.say("+--------------+--------------+        +--------------+--------------+")
    tour.say("| nlmsg_type   | nlmsg_flags  |        | payload (nla_len - 4 bytes)  |")
    tour.say("+--------------+--------------+        +-----------------------------+")
    tour.say("| nlmsg_seq              u32  |        | zero padding to 4 bytes      |")
    tour.say("| nlmsg_pid              u32  |        +-----------------------------+")
    tour.say("+-----------------------------+")
    tour.say("| family header, attributes...|")
    tour.say("```")
    tour.say()


def _namespaces(tour: Tour, red: str, blue: str, made: list[str]) -> None:
    tour.step("1. Two namespaces: syscalls, no netlink", [
        f"ip netns add {red}", f"ip netns add {blue}"], """
A network namespace is not made with netlink. `rawns.netns.add(name)` runs, in
C (`rawns_netns_add_many` in `csrc/rawns.c`), what `ip netns add` runs: it
creates the empty file `/run/netns/NAME` (`open` with `O_CREAT|O_EXCL`), moves
the calling thread into a new namespace (`unshare(CLONE_NEWNET)`), and
bind-mounts that thread's `/proc/thread-self/ns/net` on the file (`mount` with
`MS_BIND`), so that the namespace outlives the thread. From then on a socket
opened inside the namespace (`setns` into it, `socket`, `setns` back) stays
bound to it: each `Handle` below holds one `NETLINK_ROUTE` socket opened in
`RED` or `BLUE`, and every message it sends acts there.
""")
    for name in (red, blue):
        netns.add(name)
        made.append(name)


def _veth_by_fd(tour: Tour, h_red: Handle, blue: str) -> None:
    tour.step("2. A veth pair, its peer made in the other namespace by fd", [
        f"ip -n RED link add veth0 type veth peer name eth0 netns {blue}"], """
One `RTM_NEWLINK` makes both ends. Its `ifinfomsg` is all zeros: the new link
is named by `IFLA_IFNAME`, the kernel picks its index and type. `IFLA_LINKINFO`
nests the kind (`IFLA_INFO_KIND` = `"veth"`) and the kind's own data
(`IFLA_INFO_DATA`), where `VETH_INFO_PEER` carries the peer as a message body
of its own: an `ifinfomsg` then the peer's attributes. `IFLA_NET_NS_FD` there
is a file descriptor on `BLUE`, open in the sending process: the kernel creates
the peer directly inside `BLUE`, so it never exists in `RED`. The flags ask for
an ack (`NLM_F_ACK`) and refuse an existing link (`NLM_F_EXCL`); the answer is
an `NLMSG_ERROR` whose error is 0, echoing the request's header only
(`NLM_F_CAPPED`: the kernel does not repeat a request that succeeded).
""")
    h_red.link_add_veth("veth0", "eth0", peer_netns=blue)
    tour.show()


def _veth_by_nsid(tour: Tour, h_red: Handle, red: str, blue: str) -> None:
    nsid = h_red.nsid_get(blue)
    tour.step("3. The same, the peer's namespace named by its nsid", [
        f"ip -n RED netns list-id",
        f"ip -n RED link add veth1 link-netnsid {nsid} type veth peer name eth1"], f"""
A namespace can also be named by a number, its *nsid*, which only means
something inside another namespace. Step 2 made the kernel give `BLUE` one in
`RED`: to tell where `veth0`'s peer lives, an `RTM_NEWLINK` from the kernel
carries `IFLA_LINK_NETNSID` (which `ip` prints as `link-netnsid`), and a
namespace gets an nsid when one is first needed. `RTM_GETNSID`, `BLUE` given by
an fd (`NETNSA_FD`), asks for it: {nsid} (`RTM_NEWNSID` with `NETNSA_NSID` would
set one, `ip netns set`). Then `IFLA_LINK_NETNSID` = {nsid} at the top of an
`RTM_NEWLINK` says in which namespace the link's other side lives: for a veth,
where the peer is made. `Handle` has no method taking an nsid, so this request
is built with `rawns.netlink.requests.veth_add` plus
`make_attr(IFLA.IFLA_LINK_NETNSID, {nsid})` and sent through a
`rawns.nlsock.RouteSocket` opened in `RED`.
""")
    # Again, now that the step is open, so that the tour shows the exchange.
    h_red.nsid_get(blue)
    request = requests.veth_add("veth1", "eth1")
    request = dataclasses.replace(request, attrs=AttrList(
        [*request.attrs, make_attr(IFLA.IFLA_LINK_NETNSID, nsid)]))
    fd = netns.open_fd(red)
    try:
        with RouteSocket(fd) as sock:
            sock.trace = tour.record
            sock.call(request, "link 'veth1'")
    finally:
        os.close(fd)
    with Handle(blue) as h_blue:
        if "eth1" not in [link.name for link in h_blue.link_list()]:
            raise SystemExit("make_tour: eth1 is not in BLUE: IFLA_LINK_NETNSID did not "
                             "place the peer")
    tour.show()


def _address(tour: Tour, h_red: Handle, veth0: int) -> None:
    tour.step("4. An address: RTM_NEWADDR", ["ip -n RED addr add 10.0.0.1/24 dev veth0"], """
The fixed header `ifaddrmsg` carries the family, the prefix length (24) and
the index of the link; the address itself travels as attributes. For IPv4,
`IFA_LOCAL` is the interface's own address and `IFA_ADDRESS` the prefix's (the
peer's, on a point-to-point link); `ip` sends both, and so does rawns.
`NLM_F_CREATE|NLM_F_EXCL`: create it, and fail if it is already there.
""")
    h_red.addr_add(veth0, "10.0.0.1/24")
    tour.show()


def _link_up(tour: Tour, h_red: Handle, veth0: int) -> None:
    tour.step("5. Link up: ifi_flags and ifi_change", ["ip -n RED link set veth0 up"], """
Setting a link up is an `RTM_NEWLINK` on an existing link, named by its index in
`ifi_index`. `ifi_flags` holds the values of the device flags and `ifi_change`
the mask of those to change: `IFF_UP` in both sets the UP bit and leaves every
other flag alone (with `ifi_change` 0 the kernel would take `ifi_flags` as the
whole set).
""")
    h_red.link_set(veth0, up=True)
    tour.show()


def _dump(tour: Tour, h_red: Handle) -> None:
    _quietly(h_red, lambda: h_red.link_set("lo", up=True))
    tour.step("6. A dump: NLM_F_DUMP, multipart answers, NLMSG_DONE", [
        "ip -n RED -4 addr show"], """
A `GET` with `NLM_F_DUMP` (`NLM_F_ROOT|NLM_F_MATCH`) asks for every object. The
kernel answers with as many datagrams as it needs, each holding messages marked
`NLM_F_MULTI`, all carrying the request's sequence number and the asking socket's
port id; `NLMSG_DONE`, whose body is an int (0: the dump is complete), ends it.
Here the `ifaddrmsg` asks for IPv4 only (`AF_INET`); `lo` is up, so `RED` has
two addresses, 127.0.0.1 and 10.0.0.1.
""")
    h_red.addr_list(family=4)
    tour.show()


def _neighbours(tour: Tour, h_red: Handle, h_blue: Handle, red: str, veth0: int) -> None:
    def setup() -> None:
        h_blue.addr_add("eth0", "10.0.0.2/24")
        h_blue.link_set("eth0", up=True)

    setup()
    replies = ping.ping("10.0.0.2", netns=red, count=1, timeout=3.0)
    if not replies:
        raise SystemExit("make_tour: no reply to the ping from RED to 10.0.0.2")
    tour.step("7. After a ping: RTM_GETNEIGH shows the ARP entry", [
        "ip -n BLUE addr add 10.0.0.2/24 dev eth0; ip -n BLUE link set eth0 up",
        "rawns -n RED ping -c 1 10.0.0.2", "ip -n RED -4 neigh show dev veth0"], """
The ping (ICMP over a raw socket, no netlink) made `RED` resolve 10.0.0.2 with
ARP; the answer sits in the neighbour table. `RTM_GETNEIGH` with `NLM_F_DUMP`
reads it; the `NDA_IFINDEX` attribute of the request limits the dump to
`veth0` (the socket has `NETLINK_GET_STRICT_CHK` set, so the kernel filters, and
says so with `NLM_F_DUMP_FILTERED`). Each entry is an `RTM_NEWNEIGH`: in its
`ndmsg`, `ndm_state` is the entry's state (`NUD_*`); `NDA_DST` is the IP
address, `NDA_LLADDR` the MAC address of `BLUE`'s `eth0`, `NDA_CACHEINFO` the
entry's ages.
""")
    h_red.neigh_list(veth0, family=4)
    tour.show()


def _error(tour: Tour, h_red: Handle, veth0: int) -> None:
    tour.step("8. An error, and the kernel's own words: extended ack", [
        "ip -n RED link set veth0 mtu 10"], """
A veth refuses an MTU below 68. The answer is an `NLMSG_ERROR` whose error is
`-EINVAL`, then the whole request echoed (an ack of a request that succeeded
echoes its `nlmsghdr` only: `NLM_F_CAPPED`), then, because the socket set
`NETLINK_EXT_ACK`, extended-ack attributes (`NLM_F_ACK_TLVS`):
`NLMSGERR_ATTR_MSG` is the kernel's own text. Where the kernel can point at the
attribute it refused, `NLMSGERR_ATTR_OFFS` gives that attribute's offset in
the request (the view then names it). rawns raises the error as a `KernelError`
(an `OSError`, errno `EINVAL`) carrying that text:
""")
    try:
        h_red.link_set(veth0, mtu=10)
    except KernelError as err:
        tour.say("```text")
        tour.say(f"rawns: {err}")
        tour.say("```")
        tour.say()
    else:
        raise SystemExit("make_tour: the kernel took an MTU of 10")
    answer = decode(tour.datagrams[-1][1])[0]
    tour.say(f"This kernel's answer has `NLMSGERR_ATTR_MSG`"
             + (f" and `NLMSGERR_ATTR_OFFS` ({answer.extack_offset})."
                if answer.extack_offset is not None else ", and no `NLMSGERR_ATTR_OFFS`."))
    tour.say()
    tour.show()


def _dump_interrupted(tour: Tour, h_red: Handle, red: str, veth0: int) -> None:
    def setup() -> None:
        for third in range(120):
            h_red.addr_add(veth0, f"10.1.{third}.1/24")

    _quietly(h_red, setup)
    tour.step("9. NLM_F_DUMP_INTR: a dump that raced a change", [], """
A dump is built a datagram at a time, while the reader reads: the kernel does
not freeze the table. It remembers a generation number of the table when it
starts, and when the number has moved by the time it builds the next part (an
address was added or removed meanwhile), it marks the first message built after
the change with `NLM_F_DUMP_INTR`: what was read may be inconsistent (an object
missed or seen twice). The reader should finish reading, then dump again:
`rawns.netlink.conversation.Conversation` reports the dump as interrupted and
`RouteSocket.dump` starts it over (up to 5 times).

To see one, the tour gives `veth0` 120 more addresses (made without showing
them), asks for the dump of `RED`'s IPv4 addresses on a socket read 4096 bytes
at a time, adds one more address after the first datagram, and reads the rest.
The kernel builds each part when the one before it is read, so the third
datagram is the first built after the change:
""")
    with netns.enter(red):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    received: list[bytes] = []
    with sock:
        sock.bind((0, 0))
        request = encode(requests.addr_dump(family=socket.AF_INET).with_seq(1))
        sock.send(request)
        received.append(sock.recv(4096))
        _quietly(h_red, lambda: h_red.addr_add(veth0, "10.2.0.1/24"))
        while not any(message.type == 3 for message in decode(received[-1])):
            received.append(sock.recv(4096))
    tour.say("| datagram | bytes | messages | flags of its first message |")
    tour.say("|---|---|---|---|")
    marked: tuple[int, bytes] | None = None
    for number, data in enumerate(received, 1):
        messages = decode(data)
        first = messages[0]
        tour.say(f"| {number} | {len(data)} | {len(messages)} | "
                 f"{'&#124;'.join(first.flag_names)} |")
        if first.flags & 0x10 and marked is None:
            marked = number, data[:encoded_length(data)]
    tour.say()
    if marked is None:
        raise SystemExit("make_tour: the dump was not interrupted")
    tour.datagram("send", request)
    tour.datagram("recv", marked[1], f"the first message of datagram {marked[0]}")
    tour.definitions(definitions(annotate(marked[1])))


def encoded_length(data: bytes) -> int:
    """The length of the first message of ``data`` (its nlmsg_len)."""
    return int.from_bytes(data[:4], sys.byteorder)


def _ending(tour: Tour) -> None:
    tour.step("10. Afterwards", [], """
The script deletes both namespaces (`rawns.netns.delete`: `umount2` with
`MNT_DETACH`, then `unlink`); the links inside them go with them. To watch your
own commands the same way, run any `rawns` command with `--trace`, and give what
it printed (or `xxd` output, or a pcap of an `nlmon` device) to `rawns explain`.
""")


# -- what may differ between two runs ------------------------------------------------

_HEX_LINE = re.compile(r"^([0-9a-f]{4}): ((?:[0-9a-f]{2} ?)+)$")
_VALUE = re.compile(r" = (.*?) \| ((?:[0-9a-f]{2} ?)+)(\.\.\. \(\+\d+ bytes\))?")
_BYTES = re.compile(r"\| ((?:[0-9a-f]{2} ?)+)(\.\.\. \(\+\d+ bytes\))?")
_NUMBER = re.compile(r"0x[0-9a-f]+|\d+")
_MAC = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")
# Values whose very words change from run to run: a neighbour's state moves on
# with time, and a struct's text lists its fields that are not 0.
_WHOLLY_MASKED = re.compile(r"ndm_state|\) struct \w+ = ")


def normalize(text: str) -> str:
    """``text`` with what changes from run to run masked: the kernel release,
    port ids and sequence numbers, every number and MAC in a value, the bytes
    (their count is kept by the offsets and lengths), a neighbour's state and
    the text of struct values.  What is left is the structure: message types,
    flags, fixed headers' field names, attributes, codecs, offsets, lengths,
    and the names in values (``RTM_GETLINK``, ``IFF_UP``, ``'veth0'``)."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"on Linux \S+\.", "on Linux KERNEL.", line)
        line = re.sub(r"link index \d+", "link index N", line)
        line = re.sub(r"(seq|pid) \d+", r"\1 N", line)
        found = _HEX_LINE.match(line)
        if found:
            out.append(f"{found.group(1)}: {len(found.group(2).split())} bytes")
            continue
        found = _VALUE.search(line)
        if found:
            value = "V" if _WHOLLY_MASKED.search(line) else \
                _NUMBER.sub("N", _MAC.sub("MAC", found.group(1)))
            line = line[:found.start()] + f" = {value} | B" + line[found.end():]
        line = _BYTES.sub("| B", _MAC.sub("MAC", line))
        out.append(line)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    output = Path(args[0]) if args else HERE / "netlink-tour.md"
    if os.geteuid() != 0:
        print("make_tour: run as root (it makes two network namespaces)", file=sys.stderr)
        return 1
    text = generate()
    output.write_text(text)
    print(f"wrote {output} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
