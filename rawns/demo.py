"""``python -m rawns demo``: the container-networking walk-through, explained.

Two namespaces stand in for two containers; a veth pair joins them; each end
gets an address; the links come up; one pings the other; then each side's
links, routes and ARP table are shown. Every step says which ``ip`` command it
equals and shows the netlink messages that did it, one line each
(``--verbose``: the full annotated view of ``rawns.netlink.explain``).

Invariants:
- Only public rawns names (``rawns.netns``, ``rawns.handle.Handle``,
  ``rawns.ping``, ``rawns.netlink``, and ``rawns.show`` to print as ip does);
  it runs no other program.
- It removes everything it made, also on failure, Ctrl-C or SIGTERM
  (``try``/``finally``), unless ``--keep`` is given: the namespaces go
  first, with signals held (``rawns.cli.interrupts``), and only then is
  anything printed about it, so a reader that went away (``| head``) or a
  second signal cannot leave one behind. Every name it makes carries the
  prefix ``rawns-demo-<pid>-``, so it cannot collide with anything else.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any, Optional

from rawns import netlink, netns, show
from rawns.cli.interrupts import Interrupts
from rawns.errors import RawnsError
from rawns.handle import Handle
from rawns.netlink.constants import KernelEnum, KernelFlag, enum_name, flag_names
from rawns.ping import ping

__all__ = ["main", "summarize", "USAGE"]

USAGE = """\
usage: rawns demo [--verbose] [--keep] [--delay SECONDS]

  --verbose        show every netlink message in full (rawns.netlink.explain)
  --keep           leave the namespaces in place, to explore with rawns -n NAME ...
  --delay SECONDS  pause between steps (for presenting)
"""

RED_ADDR = "192.168.10.1/24"
BLUE_ADDR = "192.168.10.2/24"

# --- the one-line view of a netlink message ----------------------------------------

#: Attributes shown for messages the kernel sends (dump replies carry dozens).
_KEY_ATTRS = {
    "IFLA_IFNAME", "IFLA_MTU", "IFLA_OPERSTATE", "IFLA_ADDRESS", "IFLA_MASTER", "IFLA_LINK",
    "IFLA_LINK_NETNSID", "IFA_LOCAL", "IFA_ADDRESS", "IFA_LABEL", "RTA_DST", "RTA_GATEWAY",
    "RTA_OIF", "RTA_TABLE", "RTA_PREFSRC", "RTA_PRIORITY", "NDA_DST", "NDA_LLADDR",
    "NETNSA_NSID",
}
_HEADER_FIELDS = {
    # header class name -> fields worth a glance, in order
    "IfInfoMsg": ("index", "flags", "change"),
    "IfAddrMsg": ("family", "prefixlen", "scope", "index"),
    "RtMsg": ("family", "dst_len", "table", "protocol", "scope", "type"),
    "NdMsg": ("family", "ifindex", "state"),
}
_MAX_LINE = 150


def _value_text(value: Any, depth: int) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, (bytes, bytearray)):
        return value.hex(":") if len(value) <= 8 else f"<{len(value)} bytes>"
    if hasattr(value, "attrs") and hasattr(value, "header"):  # nested message (veth peer)
        inner = _header_text(value.header)
        attrs = _attrs_text(value.attrs, depth + 1, None)
        return "{" + " ".join(part for part in (inner, attrs) if part) + "}"
    if isinstance(value, tuple) and all(hasattr(a, "name") for a in value):
        return "{" + _attrs_text(value, depth + 1, None) + "}"
    text = str(value)
    return text if len(text) <= 40 else f"<{type(value).__name__}>"


def _attrs_text(attrs: Sequence[Any], depth: int, only: Optional[set[str]]) -> str:
    parts = []
    hidden = 0
    for attr in attrs:
        name = attr.name or f"attr#{attr.number}"
        if only is not None and name not in only:
            hidden += 1
            continue
        parts.append(f"{name}={_value_text(attr.value, depth)}")
    if hidden:
        parts.append(f"(+{hidden} more)")
    return " ".join(parts)


_PREFIXES = ("AF_", "RT_SCOPE_", "RT_TABLE_", "RTPROT_", "RTN_", "NUD_", "IFF_")


def _short(name: str) -> str:
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _field_text(value: Any) -> str:
    """A header field named as the codec names it (``rawns.netlink.constants``),
    without the kernel's prefix: ``UP|LOWER_UP``, ``INET``, ``MAIN``."""
    if isinstance(value, KernelFlag):
        names = flag_names(type(value), value)
        if names:
            return "|".join(_short(name) for name in names)
        return _short(value.name) if value.name else str(int(value))
    if isinstance(value, KernelEnum):
        return _short(enum_name(type(value), value))
    return str(value)


def _header_text(header: Any) -> str:
    fields = _HEADER_FIELDS.get(type(header).__name__, ())
    parts = []
    for field in fields:
        value = getattr(header, field, None)
        if value is None or (field in ("index", "ifindex", "change", "flags") and not value):
            continue
        parts.append(f"{field} {_field_text(value)}")
    return " ".join(parts)


def summarize(message: Any, *, sent: bool) -> str:
    """One line for one decoded netlink message: its type, flags, the key
    fields of its header and its attributes (all of them for what we send,
    the telling ones for what the kernel sends); acks and errors in words."""
    arrow = "->" if sent else "<-"
    if message.error is not None:
        if message.error == 0 and message.type_name == "NLMSG_ERROR":
            return f"{arrow} NLMSG_ERROR error=0: ack (seq {message.seq})"
        if message.type_name == "NLMSG_DONE":
            return f"{arrow} NLMSG_DONE: end of the dump (seq {message.seq})"
        errno_value = -message.error
        text = f"{arrow} NLMSG_ERROR error=-{errno_value}: {os.strerror(errno_value)}"
        if message.extack:
            text += f' (kernel: "{message.extack}")'
        return text
    parts = [f"{arrow} {message.type_name}"]
    if message.flag_names:
        parts.append("|".join(name.replace("NLM_F_", "") for name in message.flag_names))
    header = _header_text(message.header)
    if header:
        parts.append(header)
    attrs = _attrs_text(message.attrs, 0, None if sent else _KEY_ATTRS)
    if attrs:
        parts.append(attrs)
    line = "  ".join(parts)
    if sent or len(line) <= _MAX_LINE:  # what we send is shown whole
        return line
    return line[:_MAX_LINE - 3] + "..."


# --- the walk-through ------------------------------------------------------------------

class Tour:
    """Prints the steps and the messages each one exchanged."""

    def __init__(self, verbose: bool, delay: float) -> None:
        self.verbose = verbose
        self.delay = delay
        self.datagrams: list[tuple[str, bytes]] = []
        self.step_number = 0
        self.mute = False

    def record(self, direction: str, data: bytes) -> None:
        self.datagrams.append((direction, data))

    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def say_quietly(self, text: str = "", *, file: Any = None) -> None:
        """``say``, for the cleanup: once a line cannot be written (the reader
        went away), the rest are dropped rather than raised."""
        if self.mute:
            return
        try:
            print(text, file=file or sys.stdout, flush=True)
        except OSError:
            self.mute = True

    def step(self, title: str, why: str, equals: Sequence[str] = ()) -> None:
        if self.step_number and self.delay:
            time.sleep(self.delay)
        self.step_number += 1
        self.say()
        self.say(f"[{self.step_number}] {title}")
        for line in why.strip().splitlines():
            self.say(f"    {line.strip()}")
        for command in equals:
            self.say(f"    $ {command}")

    def messages(self) -> None:
        """Print (then forget) the datagrams exchanged since the last call."""
        datagrams, self.datagrams = self.datagrams, []
        if not datagrams:
            return
        for direction, data in datagrams:
            if self.verbose:
                label = "sent" if direction == "send" else "received"
                self.say(f"    --- {label} {len(data)} bytes ---")
                for line in netlink.explain(data).splitlines():
                    self.say(f"    {line}")
                continue
            for message in netlink.decode(data):
                self.say(f"      {summarize(message, sent=direction == 'send')}")


def _show_namespace(tour: Tour, label: str, handle: Handle, other: str) -> None:
    """What ``ip link show``, ``ip route show`` and ``ip neigh show`` print
    in the namespace of ``handle``; ``other`` is the namespace holding the
    veth peer, which ip names by the id this namespace gives it."""
    links = handle.link_list()
    routes = handle.route_list(family=4)
    entries = show.visible_neighbours(handle.neigh_list(family=4))
    nsids = netns.nsid_names(handle, [other])
    names = show.index_names(links)
    up = show.up_indexes(links)
    tour.say(f"    {label}: the dumps, and the id it gives the other namespace")
    tour.messages()
    tour.say(f"    {label}: links")
    for link in links:
        for line in show.link_lines(show.link_json(link, names, up=up), nsids):
            tour.say(f"      {line}")
    tour.say(f"    {label}: IPv4 routes (ip route show)")
    for route in routes:
        tour.say(f"      {show.route_line(route.to_json(names, show_table=False))}")
    tour.say(f"    {label}: ARP table (ip neigh show)")
    for entry in entries:
        tour.say(f"      {show.neigh_line(entry.to_json(names))}")
    if not entries:
        tour.say("      (empty)")


def _parse(argv: Sequence[str]) -> Optional[dict[str, Any]]:
    options: dict[str, Any] = {"verbose": False, "keep": False, "delay": 0.0}
    args = list(argv)
    while args:
        word = args.pop(0)
        if word in ("-v", "--verbose"):
            options["verbose"] = True
        elif word in ("-k", "--keep"):
            options["keep"] = True
        elif word == "--delay" or word.startswith("--delay="):
            value = word.partition("=")[2] or (args.pop(0) if args else "")
            try:
                options["delay"] = max(0.0, float(value))
            except ValueError:
                raise ValueError(f"--delay needs a number of seconds, not {value!r}") from None
        elif word in ("-h", "--help", "help"):
            return None
        else:
            raise ValueError(f"unknown option {word!r} (try 'rawns demo --help')")
    return options


class _Made:
    """The namespaces the demo made and has not removed (nor been asked to keep)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.failures: list[tuple[str, BaseException]] = []

    def remove(self) -> list[str]:
        """Delete them all (idempotent: what is gone is not tried again);
        returns the names removed. A name that cannot be removed is kept in
        ``failures`` and the others are still removed."""
        removed = []
        for name in list(self.names):
            try:
                netns.delete(name)
                removed.append(name)
            except FileNotFoundError:
                pass
            except Exception as err:  # noqa: BLE001 - reported after the others are gone
                self.failures.append((name, err))
            self.names.remove(name)
        return removed


def main(argv: Sequence[str] = ()) -> int:
    """Run the walk-through; returns 0 (a failure raises, after cleaning up)."""
    options = _parse(argv)
    if options is None:
        print(USAGE, end="")
        return 0
    made = _Made()
    with Interrupts() as interrupts:
        try:
            return _run(**options, made=made, interrupts=interrupts)
        finally:
            # Again, for an interrupt that landed before _run's cleanup
            # began: by now the first one was raised and any other is held.
            with interrupts.held():
                made.remove()


def _run(verbose: bool, keep: bool, delay: float, made: _Made,
         interrupts: Interrupts) -> int:
    prefix = f"rawns-demo-{os.getpid()}-"
    red, blue = prefix + "red", prefix + "blue"
    tour = Tour(verbose, delay)
    tour.say("rawns demo: container networking, spoken to the kernel directly")
    tour.say("    Two network namespaces stand in for two containers, 'red' and 'blue'.")
    tour.say("    Each step names the ip command it equals and shows the netlink messages")
    tour.say("    rawns sent (->) and the kernel's replies (<-)"
             + ("." if verbose else "; --verbose shows them in full."))
    try:
        with ExitStack() as handles:
            tour.step(
                "Create two network namespaces",
                """A network namespace is a private copy of the network stack: its own
                links, addresses, routes and ARP table. rawns makes one with
                unshare(CLONE_NEWNET) and keeps it alive with a bind mount on
                /run/netns/NAME, as ip does. Syscalls only: no netlink yet.""",
                [f"ip netns add {red}", f"ip netns add {blue}"])
            for name in (red, blue):
                made.names.append(name)  # first: an interrupt may land right after add
                try:
                    netns.add(name)
                except FileExistsError:
                    made.names.remove(name)  # someone else's: not to be deleted
                    raise
                tour.say(f"      created {netns.path_of(name)} "
                         f"(namespace inode {os.stat(netns.path_of(name)).st_ino})")

            tour.step(
                "Open an rtnetlink socket inside each namespace",
                """A NETLINK_ROUTE socket is how programs talk to the kernel's network
                configuration. A socket belongs for life to the namespace it was
                made in: this thread steps in (setns) just for socket() and steps
                straight back, so no thread of ours stays there.""")
            h_red = handles.enter_context(Handle(red))
            h_blue = handles.enter_context(Handle(blue))
            h_red.trace = h_blue.trace = tour.record
            tour.say(f"      red: {h_red!r}   blue: {h_blue!r}")

            tour.step(
                "Join them with a veth pair",
                """A veth pair is a virtual Ethernet cable: what goes in one end comes out
                of the other. One RTM_NEWLINK makes both ends; the peer's own ifinfomsg
                rides nested in IFLA_LINKINFO, and IFLA_NET_NS_FD (an fd of 'blue')
                creates it directly inside blue. The kernel answers with an ack.""",
                [f"ip -n {red} link add veth-red type veth peer name veth-blue netns {blue}"])
            h_red.link_add_veth("veth-red", "veth-blue", peer_netns=blue)
            tour.messages()

            tour.step(
                "Give each end an address",
                """RTM_NEWADDR carries an ifaddrmsg (family, prefix length, ifindex) and
                IFA_LOCAL/IFA_ADDRESS. rawns first asks for the link's index by name
                (RTM_GETLINK). The kernel adds the route to 192.168.10.0/24 itself.""",
                [f"ip -n {red} addr add {RED_ADDR} dev veth-red",
                 f"ip -n {blue} addr add {BLUE_ADDR} dev veth-blue"])
            h_red.addr_add("veth-red", RED_ADDR)
            h_blue.addr_add("veth-blue", BLUE_ADDR)
            tour.messages()

            tour.step(
                "Bring the links up",
                """RTM_NEWLINK on an existing link with IFF_UP in ifi_flags (and in
                ifi_change, the mask of flags to change). lo comes up too: a new
                namespace starts with everything down. A veth end has a carrier
                once both are up, and the kernel starts its queue a moment later
                (what is sent before is dropped): rawns waits for each end to
                show RUNNING (Handle.link_wait: RTM_GETLINK, then link events).""",
                [f"ip -n {red} link set lo up", f"ip -n {red} link set veth-red up",
                 f"ip -n {blue} link set lo up", f"ip -n {blue} link set veth-blue up"])
            for handle, dev in ((h_red, "lo"), (h_red, "veth-red"),
                                (h_blue, "lo"), (h_blue, "veth-blue")):
                handle.link_set(dev, up=True)
            h_red.link_wait("veth-red")
            h_blue.link_wait("veth-blue")
            tour.messages()

            tour.step(
                "Ping blue from red",
                """ICMP echo over a raw socket opened inside red (rawns.ping; no ping
                binary). The first packet makes red ask, by ARP, who has 192.168.10.2.""",
                [f"ip netns exec {red} ping -c 3 {BLUE_ADDR.split('/')[0]}"])
            destination = ipaddress.ip_interface(BLUE_ADDR).ip
            echoes = ping(destination, netns=red, count=3, timeout=1.0, interval=0.1)
            for echo in echoes:
                if echo.rtt is None:
                    tour.say(f"      seq {echo.seq}: no reply")
                else:
                    tour.say(f"      seq {echo.seq}: reply from {destination}, ttl {echo.ttl}, "
                             f"{echo.rtt * 1000:.3f} ms")
            received = sum(echo.rtt is not None for echo in echoes)
            tour.say(f"      {received}/{len(echoes)} replies")

            tour.step(
                "Look inside each namespace",
                """Dump requests (NLM_F_DUMP) return one message per object, then
                NLMSG_DONE. Each side has lo and its veth end (the peer shows as @ifN,
                in another namespace: link-netns, named by the id this namespace
                gives it, RTM_GETNSID), the kernel's route for the subnet, and in
                the ARP table the MAC address the ping taught it.""",
                [f"ip -n {red} link show; ip -n {red} route show; ip -n {red} neigh show",
                 f"ip -n {blue} link show; ip -n {blue} route show; ip -n {blue} neigh show"])
            for label, handle, other in (("red", h_red, blue), ("blue", h_blue, red)):
                _show_namespace(tour, label, handle, other)
            tour.say()
            if received == 0:
                raise RawnsError(f"demo: no reply from {destination}")
    finally:
        _finish(tour, made, keep, interrupts)
    return 0


def _finish(tour: Tour, made: _Made, keep: bool, interrupts: Interrupts) -> None:
    """Keep the namespaces (``--keep``, when all went well) or remove them;
    then say so. Raises a deletion's failure, or the interrupt that arrived
    meanwhile, once all is done (unless another exception is on its way)."""
    if keep and sys.exc_info()[0] is None:
        kept, made.names = made.names, []
        tour.say("Kept for you to explore:")
        for name in kept:
            tour.say(f"    rawns -n {name} link show      (also: addr, route, neigh)")
        tour.say("Remove them with:")
        for name in kept:
            tour.say(f"    rawns netns delete {name}")
        return
    with interrupts.held():
        removed = made.remove()
    interrupts.undone()  # a signal may end the demo now, even blocked on a write
    if removed:
        tour.say_quietly("Cleaning up: deleting the namespaces (the veth pair goes with them)")
        for name in removed:
            tour.say_quietly(f"      deleted {name}")
    for name, err in made.failures:
        tour.say_quietly(f"rawns demo: could not delete {name}: {err}", file=sys.stderr)
    if sys.exc_info()[0] is None:
        if made.failures:
            raise made.failures[0][1]
        interrupts.raise_pending()
