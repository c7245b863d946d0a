"""The ``rawns`` command line, with iproute2's grammar.

    rawns [-n NS] [-j [-p]] [-4|-6] [--trace] OBJECT COMMAND ...

Invariants:
- It only parses arguments and prints; every action is one public library
  call (``rawns.netns``, ``rawns.Handle``, ``rawns.ping``), so whatever the
  command line can do, a program can do too.
- ``-j`` prints the keys and value formats of ``ip -j`` for the same objects;
  plain output reads like ``ip``'s.
- User mistakes and kernel refusals print one line ``rawns: ...`` on stderr
  and exit non-zero (1: the command line is wrong, 2: the kernel or the
  system refused, 130: interrupted); a traceback is a bug.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from rawns import netns
from rawns.errors import PRIVILEGE_HINT, KernelError, RawnsError

__all__ = ["main", "UsageError", "Options", "OBJECTS",
           "link_lines", "addr_lines", "route_line", "neigh_line",
           "link_json", "addr_json", "visible_neighbours"]

PROG = "rawns"

#: Exit statuses, as ip(8) documents them (1: syntax, 2: kernel), plus 130.
EXIT_USAGE = 1
EXIT_FAILED = 2
EXIT_INTERRUPTED = 130
EXIT_BUG = 70


class UsageError(Exception):
    """The command line is not one rawns understands."""


class ShowHelp(Exception):
    """``help`` was asked for an object: print its usage and exit 0."""

    def __init__(self, obj: str) -> None:
        super().__init__(obj)
        self.obj = obj


@dataclass
class Options:
    """The global options, before OBJECT."""

    netns: Optional[str] = None
    json: bool = False
    pretty: bool = False
    family: Optional[int] = None        # 4 or 6
    trace: bool = False


# --- words ---------------------------------------------------------------------

def resolve(word: str, table: Sequence[tuple[str, Sequence[str]]], what: str) -> str:
    """``word`` -> canonical name, as ip resolves commands: an exact spelling
    wins; else the first entry (in table order) with a spelling that starts
    with ``word`` (so ``a`` is ``address``, ``l`` is ``link``). Spellings
    written ``"=set"`` match only in full, as ip's ``strcmp`` ones."""
    for name, spellings in table:
        if word in spellings or "=" + word in spellings:
            return name
    if word:
        for name, spellings in table:
            if any(s.startswith(word) for s in spellings if not s.startswith("=")):
                return name
    choices = ", ".join(name for name, _ in table)
    raise UsageError(f"unknown {what} {word!r}; expected one of: {choices} "
                     f"(try '{PROG} {_help_target(what)}help')")


def _help_target(what: str) -> str:
    obj = what.split()[0]
    return "" if obj in ("object", "option") else f"{obj} "


class Words:
    """A cursor over the words of a command, for keyword-value grammars."""

    def __init__(self, words: Iterable[str], context: str) -> None:
        self.words = list(words)
        self.context = context

    def __bool__(self) -> bool:
        return bool(self.words)

    def peek(self) -> Optional[str]:
        return self.words[0] if self.words else None

    def pop(self, what: str) -> str:
        if not self.words:
            raise UsageError(f"{self.context}: {what} is missing")
        return self.words.pop(0)

    def value(self, keyword: str) -> str:
        if not self.words:
            raise UsageError(f"{self.context}: {keyword!r} needs a value")
        return self.words.pop(0)

    def int_value(self, keyword: str, low: int = 0, high: int = 2**32 - 1) -> int:
        return parse_int(self.value(keyword), f"{self.context}: {keyword}", low, high)

    def rest(self) -> list[str]:
        words, self.words = self.words, []
        return words

    def end(self) -> None:
        if self.words:
            raise UsageError(f"{self.context}: unexpected {self.words[0]!r} "
                             f"(try '{PROG} {self.context.split()[0]} help')")


def parse_int(text: str, what: str, low: int = 0, high: int = 2**32 - 1) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if not low <= value <= high:
        raise UsageError(f"{what}: {value} is out of range {low}..{high}")
    return value


def parse_ip(text: str, what: str) -> Any:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not an IPv4 or IPv6 address") from None


def _family_for(opts: Options) -> Optional[int]:
    return opts.family


# --- output ----------------------------------------------------------------------

def emit_json(opts: Options, value: Any) -> None:
    if opts.pretty:
        print(json.dumps(value, indent=4))
    else:
        print(json.dumps(value, separators=(",", ":")))


def _trace_printer(direction: str, data: bytes) -> None:
    from rawns.netlink import explain

    arrow = ">>> sent" if direction == "send" else "<<< received"
    sys.stderr.write(f"{arrow} {len(data)} bytes\n{explain(data)}\n\n")
    sys.stderr.flush()


def _handle(opts: Options):
    """A Handle in the namespace of ``-n`` (or our own), traced if asked."""
    from rawns.handle import Handle

    handle = Handle(opts.netns)
    if opts.trace:
        handle.trace = _trace_printer
    return handle


def _names(links) -> dict[int, str]:
    return {link.index: link.name for link in links}


def _up(links) -> set[int]:
    return {link.index for link in links if link.is_up}


def _nsid_names(handle, wanted: set[int]) -> dict[int, str]:
    """nsid -> name of the named namespaces, as seen from ``handle``'s namespace."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    for name in netns.list():
        try:
            nsid = handle.nsid_get(name)
        except (RawnsError, OSError, ValueError):
            continue
        if nsid in wanted:
            found[nsid] = name
    return found


# The link part of each object, as ``ip link show`` prints it.

def link_json(link, names: dict[int, str], *, linkmode: bool = True,
              family: Optional[int] = None, up: Optional[set[int]] = None
              ) -> dict[str, Any]:
    """``ip -j link show`` (or with ``linkmode=False`` the link part of
    ``ip -j addr show``). With a family (``ip -4/-6 addr show``) ip leaves out
    the link-layer line; for ``-6`` it reads links through the kernel's IPv6
    link dump, which carries only name, flags, mtu, operstate and qlen.
    ``up`` is the set of ifindexes that are up here: ip flags ``M-DOWN`` a
    link whose lower link (``link``, in this namespace) is down."""
    out = link.to_json(names, linkmode=linkmode)
    if up is not None and out.get("link") is not None and link.link not in up:
        out["flags"] = out["flags"] + ["M-DOWN"]
    if family is not None:
        for key in ("link_type", "address", "broadcast"):
            out.pop(key, None)
    if family == 6:
        keep = {"ifindex": out["ifindex"]}
        if link.link is not None and link.link != link.index:
            keep["link"] = names.get(link.link, f"if{link.link}")
        keep["ifname"] = out["ifname"]
        for key in ("flags", "mtu", "operstate", "txqlen"):
            if key in out:
                keep[key] = out[key]
        out = keep
    return out


def _link_head(data: dict[str, Any], *, mode: bool) -> str:
    name = data["ifname"]
    if "link" in data:
        name += f"@{data['link']}"
    elif "link_index" in data:
        name += f"@if{data['link_index']}"
    text = f"{data['ifindex']}: {name}: <{','.join(data['flags'])}>"
    if "mtu" in data:
        text += f" mtu {data['mtu']}"
    if "qdisc" in data:
        text += f" qdisc {data['qdisc']}"
    if "master" in data:
        text += f" master {data['master']}"
    text += f" state {data['operstate']}"
    if mode and "linkmode" in data:
        text += f" mode {data['linkmode']}"
    if "group" in data:
        text += f" group {data['group']}"
    if "txqlen" in data:
        text += f" qlen {data['txqlen']}"
    return text


def _netns_text(data: dict[str, Any], nsids: dict[int, str]) -> str:
    if "link_netnsid" not in data:
        return ""
    nsid = data["link_netnsid"]
    return f" link-netns {nsids[nsid]}" if nsid in nsids else f" link-netnsid {nsid}"


def link_lines(data: dict[str, Any], nsids: dict[int, str], *, mode: bool = True) -> list[str]:
    """The lines ``ip link show`` prints for one link (from ``link_json``)."""
    lines = [_link_head(data, mode=mode)]
    if "link_type" in data:
        second = f"    link/{data['link_type']}"
        if "address" in data:
            second += f" {data['address']}"
        if "broadcast" in data:
            second += f" brd {data['broadcast']}"
        lines.append(second + _netns_text(data, nsids))
    elif "link_netnsid" in data:
        lines[0] += _netns_text(data, nsids)
    if "ifalias" in data:
        lines.append(f"    alias {data['ifalias']}")
    return lines


_ADDR_FLAGS = ("secondary", "dynamic", "noprefixroute", "tentative", "deprecated", "nodad",
               "optimistic", "dadfailed", "home")


def _lifetime(seconds: int) -> str:
    return "forever" if seconds == 4294967295 else f"{seconds}sec"


def addr_lines(info: dict[str, Any], *, dev: Optional[str] = None) -> list[str]:
    """The two lines ``ip addr show`` prints for one element of addr_info."""
    local = info["local"]
    if "address" in info:
        text = f"    {info['family']} {local} peer {info['address']}/{info['prefixlen']}"
    else:
        text = f"    {info['family']} {local}/{info['prefixlen']}"
    if "broadcast" in info:
        text += f" brd {info['broadcast']}"
    text += f" scope {info['scope']}"
    for flag in _ADDR_FLAGS:
        if info.get(flag):
            text += f" {flag}"
    if info["family"] == "inet":
        text += f" {info.get('label', dev or '')}"
    return [text.rstrip(),
            f"       valid_lft {_lifetime(info['valid_life_time'])} "
            f"preferred_lft {_lifetime(info['preferred_life_time'])}"]


def addr_json(links, addresses, names: dict[int, str], family: Optional[int],
              up: Optional[set[int]] = None) -> list[dict[str, Any]]:
    """``ip -j [-4|-6] addr show``: each link with its ``addr_info``. Without
    a family every link is listed; with one, only links holding an address
    of that family, as ip does."""
    by_index: dict[int, list] = {}
    for address in addresses:
        by_index.setdefault(address.index, []).append(address)
    out = []
    for link in links:
        mine = by_index.get(link.index, [])
        if family is not None and not mine:
            continue
        entry = link_json(link, names, linkmode=False, family=family, up=up)
        entry["addr_info"] = [a.to_json() for a in mine]
        out.append(entry)
    return out


def route_line(data: dict[str, Any]) -> str:
    """One line of ``ip route show`` (from ``Route.to_json``)."""
    parts = []
    if "type" in data:
        parts.append(data["type"])
    parts.append(data["dst"])
    if "gateway" in data:
        parts += ["via", data["gateway"]]
    if "dev" in data:
        parts += ["dev", data["dev"]]
    if "table" in data:
        parts += ["table", str(data["table"])]
    if "protocol" in data:
        parts += ["proto", data["protocol"]]
    if "scope" in data:
        parts += ["scope", data["scope"]]
    if "prefsrc" in data:
        parts += ["src", data["prefsrc"]]
    if "metric" in data:
        parts += ["metric", str(data["metric"])]
    parts += data.get("flags", [])
    if "pref" in data:
        parts += ["pref", data["pref"]]
    return " ".join(parts)


def neigh_line(data: dict[str, Any]) -> str:
    """One line of ``ip neigh show`` (from ``Neighbour.to_json``)."""
    parts = [data["dst"]]
    if "dev" in data:
        parts += ["dev", data["dev"]]
    if "lladdr" in data:
        parts += ["lladdr", data["lladdr"]]
    for flag in ("router", "proxy", "extern_learn", "offload"):
        if flag in data:
            parts.append(flag)
    parts += data.get("state", [])
    return " ".join(parts)


#: NUD states ``ip neigh show`` lists by default: all but NOARP (and NONE).
_SHOWN_STATES = {"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "PERMANENT"}


def visible_neighbours(neighbours, states: Optional[set[str]] = None) -> list:
    """The entries ``ip neigh show`` prints: by default every state but
    NOARP/NONE (the kernel's multicast and loopback entries), plus proxy and
    externally learned ones."""
    wanted = _SHOWN_STATES if states is None else states
    return [n for n in neighbours
            if (set(n.state) & wanted) or ({"proxy", "ext_learned"} & set(n.flags))
            or (not n.state and "NONE" in wanted)]


def _verb(words: Words, obj: str, commands, default: str) -> str:
    """The command given to ``obj`` (``default`` if none), resolved as ip
    resolves abbreviations; ``help`` shows the object's help."""
    verb = resolve(words.pop("command"), commands, f"{obj} command") if words else default
    words.context = f"{obj} {verb}"
    if verb == "help":
        raise ShowHelp(obj)
    return verb


# --- netns -----------------------------------------------------------------------

NETNS_COMMANDS = [
    ("add", ["add"]),
    ("delete", ["delete", "del"]),
    ("list", ["list", "show", "ls", "lst"]),
    ("exec", ["exec"]),
    ("identify", ["identify"]),
    ("set", ["set"]),
    ("list-id", ["list-id"]),
    ("help", ["help"]),
]


def cmd_netns(words: Words, opts: Options) -> int:
    verb = _verb(words, "netns", NETNS_COMMANDS, "list")
    if verb == "list":
        words.end()
        names = netns.list()
        ids: dict[str, int] = {}
        if names:
            with _handle(opts) as handle:
                for name in names:
                    try:
                        nsid = handle.nsid_get(name)
                    except (RawnsError, OSError, ValueError):
                        nsid = None  # not a namespace (stale file), or not ours to see
                    if nsid is not None:
                        ids[name] = nsid
        if opts.json:
            emit_json(opts, [dict(name=n, **({"id": ids[n]} if n in ids else {}))
                             for n in names])
        else:
            for name in names:
                print(f"{name} (id: {ids[name]})" if name in ids else name)
        return 0
    if verb == "list-id":
        words.end()
        with _handle(opts) as handle:
            ids = handle.nsid_list()
            by_id = _nsid_names(handle, set(ids))
        entries = [dict(nsid=i, **({"name": by_id[i]} if i in by_id else {})) for i in ids]
        if opts.json:
            emit_json(opts, entries)
        else:
            for entry in entries:
                name = entry.get("name")
                print(f"nsid {entry['nsid']}" + (f" (iproute2 netns name: {name})"
                                                 if name else ""))
        return 0
    if verb == "identify":
        pid = parse_int(words.pop("pid"), "netns identify: pid", 1) if words else os.getpid()
        words.end()
        found = netns.identify(pid=pid)
        for name in found:
            print(name)
        return 0
    name = words.pop("namespace name")
    if verb == "add":
        words.end()
        netns.add(name)
    elif verb == "delete":
        words.end()
        netns.delete(name)
    elif verb == "set":
        word = words.pop("nsid")
        nsid = -1 if word == "auto" else parse_int(word, "netns set: nsid", 0, 2**31 - 1)
        words.end()
        with _handle(opts) as handle:
            handle.nsid_set(name, nsid)
    elif verb == "exec":
        argv = words.rest()
        if not argv:
            raise UsageError("netns exec: a command to run is required")
        sys.stdout.flush()
        netns.execvp(name, argv)
    return 0


# --- link ------------------------------------------------------------------------

LINK_COMMANDS = [
    ("add", ["add"]),
    ("set", ["=set", "change"]),
    ("delete", ["delete", "del"]),
    ("show", ["show", "list", "lst", "ls"]),
    ("help", ["help"]),
]

LINK_KINDS = ("veth", "bridge", "vxlan")


def cmd_link(words: Words, opts: Options) -> int:
    verb = _verb(words, "link", LINK_COMMANDS, "show")
    if verb == "show":
        return _link_show(words, opts)
    if verb == "add":
        return _link_add(words, opts)
    if verb == "set":
        return _link_set(words, opts)
    dev = _device(words)
    words.end()
    with _handle(opts) as handle:
        handle.link_delete(dev)
    return 0


def _device(words: Words) -> str:
    if words.peek() == "dev":
        words.pop("dev")
    return words.pop("device name")


def _link_show(words: Words, opts: Options) -> int:
    dev = kind = master = None
    up = False
    while words:
        word = words.pop("")
        if word == "type":
            kind = words.value("type")
        elif word == "master":
            master = words.value("master")
        elif word == "up":
            up = True
        else:
            if word == "dev":
                word = words.value("dev")
            if dev is not None:
                raise UsageError(f"link show: two devices given ({dev!r} and {word!r})")
            dev = word
    with _handle(opts) as handle:
        every = handle.link_list()
        names = _names(every)
        if dev is not None:
            links = [handle.link_get(dev)]
        elif kind is not None or master is not None:
            links = handle.link_list(kind=kind, master=master)
        else:
            links = every
        if up:
            links = [link for link in links if link.is_up]
        up = _up(every)
        data = [link_json(link, names, up=up) for link in links]
        if opts.json:
            emit_json(opts, data)
            return 0
        nsids = _nsid_names(handle, {d["link_netnsid"] for d in data if "link_netnsid" in d})
    for entry in data:
        print("\n".join(link_lines(entry, nsids)))
    return 0


def _link_add(words: Words, opts: Options) -> int:
    name = None
    common: dict[str, Any] = {}
    index = 0
    while words and words.peek() != "type":
        word = words.pop("")
        if word == "name":
            name = words.value("name")
        elif word == "mtu":
            common["mtu"] = words.int_value("mtu", 68, 2**31 - 1)
        elif word in ("address", "addr"):
            common["address"] = words.value(word)
        elif word == "index":
            index = words.int_value("index", 1, 2**31 - 1)
        elif word in ("up", "netns", "link", "txqueuelen", "txqlen", "qlen"):
            raise UsageError(f"link add: {word!r} is not supported here; use "
                             f"'{PROG} link set' after creating the link")
        elif name is None:
            name = word
        else:
            raise UsageError(f"link add: unexpected {word!r}")
    if name is None:
        raise UsageError("link add: a link name is required")
    if not words:
        raise UsageError(f"link add {name}: 'type KIND' is required "
                         f"(one of: {', '.join(LINK_KINDS)})")
    words.pop("type")
    kind = words.value("type")
    words.context = f"link add type {kind}"
    if kind == "veth":
        kwargs = _veth_args(words)
        if index:
            kwargs["index"] = index
        with _handle(opts) as handle:
            handle.link_add_veth(name, **kwargs, **common)
        return 0
    if index:
        raise UsageError("link add: 'index' is supported for veth only")
    if kind == "bridge":
        while words:
            word = words.pop("")
            if word == "stp_state":
                common["stp"] = bool(words.int_value("stp_state", 0, 1))
            else:
                raise UsageError(f"link add type bridge: unexpected {word!r} "
                                 "(supported: stp_state 0|1)")
        with _handle(opts) as handle:
            handle.link_add_bridge(name, **common)
        return 0
    if kind == "vxlan":
        vni, kwargs = _vxlan_args(words)
        with _handle(opts) as handle:
            handle.link_add_vxlan(name, vni, **kwargs, **common)
        return 0
    raise UsageError(f"link add: type {kind!r} is not supported by rawns "
                     f"(supported: {', '.join(LINK_KINDS)})")


def _veth_args(words: Words) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if not words:
        raise UsageError("link add type veth: 'peer name PEER' is required")
    if words.pop("peer") != "peer":
        raise UsageError("link add type veth: expected 'peer name PEER'")
    peer = None
    while words:
        word = words.pop("")
        if word == "name":
            peer = words.value("name")
        elif word == "netns":
            target = words.value("netns")
            if target.isdigit() and not netns.exists(target):
                kwargs["peer_pid"] = int(target)
            else:
                kwargs["peer_netns"] = target
        elif word in ("address", "addr"):
            kwargs["peer_address"] = words.value(word)
        elif word == "index":
            kwargs["peer_index"] = words.int_value("index", 1, 2**31 - 1)
        elif peer is None and word not in ("mtu", "type"):
            peer = word
        else:
            raise UsageError(f"link add type veth: unexpected {word!r} after peer "
                             "(supported: name, netns, address, index)")
    if peer is None:
        raise UsageError("link add type veth: the peer needs a name ('peer name PEER')")
    kwargs["peer"] = peer
    return kwargs


def _vxlan_args(words: Words) -> tuple[int, dict[str, Any]]:
    vni = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word in ("id", "vni"):
            vni = words.int_value(word, 0, 2**24 - 1)
        elif word in ("remote", "group", "local"):
            kwargs[word] = parse_ip(words.value(word), f"link add type vxlan: {word}")
        elif word == "dev":
            kwargs["dev"] = words.value("dev")
        elif word in ("dstport", "port"):
            kwargs["port"] = words.int_value(word, 0, 65535)
        elif word == "ttl":
            kwargs["ttl"] = words.int_value("ttl", 0, 255)
        elif word in ("learning", "nolearning"):
            kwargs["learning"] = word == "learning"
        else:
            raise UsageError(f"link add type vxlan: unexpected {word!r} (supported: id, "
                             "remote, group, local, dev, dstport, ttl, [no]learning)")
    if vni is None:
        raise UsageError("link add type vxlan: 'id VNI' is required")
    return vni, kwargs


def _link_set(words: Words, opts: Options) -> int:
    dev = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word in ("up", "down"):
            kwargs["up"] = word == "up"
        elif word == "mtu":
            kwargs["mtu"] = words.int_value("mtu", 68, 2**31 - 1)
        elif word == "name":
            kwargs["name"] = words.value("name")
        elif word in ("address", "addr"):
            kwargs["address"] = words.value(word)
        elif word == "master":
            kwargs["master"] = words.value("master")
        elif word == "nomaster":
            kwargs["nomaster"] = True
        elif word == "netns":
            target = words.value("netns")
            if target.isdigit() and not netns.exists(target):
                kwargs["netns_pid"] = int(target)
            else:
                kwargs["netns"] = target
        elif word == "alias":
            kwargs["alias"] = words.value("alias")
        elif word in ("txqueuelen", "txqlen", "qlen"):
            kwargs["txqlen"] = words.int_value(word)
        else:
            if word == "dev":
                word = words.value("dev")
            if dev is not None:
                raise UsageError(f"link set: unexpected {word!r} (the device is {dev!r}; "
                                 f"try '{PROG} link help')")
            dev = word
    if dev is None:
        raise UsageError("link set: a device is required")
    if not kwargs:
        raise UsageError(f"link set {dev}: nothing to change")
    with _handle(opts) as handle:
        handle.link_set(dev, **kwargs)
    return 0


# --- addr ------------------------------------------------------------------------

# addr, route and neigh share ip's verbs and spellings
OBJECT_COMMANDS = [
    ("add", ["add"]),
    ("replace", ["replace"]),
    ("delete", ["delete", "del"]),
    ("show", ["show", "list", "lst", "ls"]),
    ("help", ["help"]),
]
ADDR_COMMANDS = OBJECT_COMMANDS


def cmd_addr(words: Words, opts: Options) -> int:
    verb = _verb(words, "addr", ADDR_COMMANDS, "show")
    if verb == "show":
        dev = None
        while words:
            word = words.pop("")
            if word == "dev":
                word = words.value("dev")
            if dev is not None:
                raise UsageError(f"addr show: unexpected {word!r}")
            dev = word
        with _handle(opts) as handle:
            every = handle.link_list()
            names = _names(every)
            links = [handle.link_get(dev)] if dev is not None else every
            addresses = handle.addr_list(dev, family=opts.family)
            data = addr_json(links, addresses, names, opts.family, _up(every))
            if opts.json:
                emit_json(opts, data)
                return 0
            nsids = _nsid_names(handle, {d["link_netnsid"] for d in data
                                         if "link_netnsid" in d})
        for entry in data:
            lines = link_lines(entry, nsids, mode=False)
            for info in entry["addr_info"]:
                lines += addr_lines(info, dev=entry["ifname"])
            print("\n".join(lines))
        return 0
    address = dev = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word == "dev":
            dev = words.value("dev")
        elif word in ("broadcast", "brd"):
            value = words.value(word)
            kwargs["broadcast"] = True if value == "+" else parse_ip(value, f"addr {verb}: "
                                                                           "broadcast")
        elif word == "label":
            kwargs["label"] = words.value("label")
        elif word == "scope":
            kwargs["scope"] = words.value("scope")
        elif word == "peer":
            kwargs["peer"] = words.value("peer")
        elif word == "nodad":
            kwargs["nodad"] = True
        elif word == "local" or address is None:
            address = words.value("local") if word == "local" else word
        else:
            raise UsageError(f"addr {verb}: unexpected {word!r}")
    if address is None:
        raise UsageError(f"addr {verb}: an address ADDR/PLEN is required")
    if dev is None:
        raise UsageError(f"addr {verb} {address}: 'dev DEV' is required")
    if "/" not in address:
        address += "/32" if ":" not in address else "/128"
    with _handle(opts) as handle:
        if verb == "delete":
            if kwargs:
                raise UsageError("addr delete: only ADDR/PLEN dev DEV is needed")
            handle.addr_delete(dev, address)
        else:
            handle.addr_add(dev, address, replace=verb == "replace", **kwargs)
    return 0


# --- route -------------------------------------------------------------------------

ROUTE_COMMANDS = OBJECT_COMMANDS

ROUTE_TYPES = ("unicast", "local", "broadcast", "multicast", "throw", "unreachable",
               "prohibit", "blackhole", "nat", "anycast")


def cmd_route(words: Words, opts: Options) -> int:
    verb = _verb(words, "route", ROUTE_COMMANDS, "show")
    if verb == "show":
        return _route_show(words, opts)
    dst = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word == "via":
            value = words.value("via")
            if value in ("inet", "inet6"):
                value = words.value("via")
            kwargs["gateway"] = parse_ip(value, f"route {verb}: via")
        elif word in ("dev", "oif"):
            kwargs["dev"] = words.value(word)
        elif word in ("metric", "priority", "preference"):
            kwargs["metric"] = words.int_value(word)
        elif word == "table":
            kwargs["table"] = words.value("table")
        elif word in ("proto", "protocol"):
            kwargs["protocol"] = words.value(word)
        elif word == "scope":
            kwargs["scope"] = words.value("scope")
        elif word == "src":
            kwargs["prefsrc"] = parse_ip(words.value("src"), f"route {verb}: src")
        elif word in ROUTE_TYPES and dst is None and "type" not in kwargs:
            kwargs["type"] = word
        elif dst is None:
            dst = words.value("to") if word == "to" else word
        else:
            raise UsageError(f"route {verb}: unexpected {word!r}")
    if dst is None:
        raise UsageError(f"route {verb}: a destination PREFIX or 'default' is required")
    if dst in ("default", "all", "any"):
        # -4/-6 choose the family of a default route without a gateway.
        dst = {4: "0.0.0.0/0", 6: "::/0"}.get(opts.family or 0, "default")
    elif "/" not in dst:
        dst += "/128" if ":" in dst else "/32"
    with _handle(opts) as handle:
        if verb == "delete":
            for key in ("protocol", "scope", "prefsrc", "type"):
                kwargs.pop(key, None)
            handle.route_delete(dst, **kwargs)
        elif verb == "replace":
            handle.route_replace(dst, **kwargs)
        else:
            handle.route_add(dst, **kwargs)
    return 0


def _route_show(words: Words, opts: Options) -> int:
    table: Any = "main"
    dev = None
    while words:
        word = words.pop("")
        if word == "table":
            table = words.value("table")
        elif word in ("dev", "oif"):
            dev = words.value(word)
        else:
            raise UsageError(f"route show: unexpected {word!r} "
                             "(supported: table T|all, dev DEV)")
    every = table == "all"
    # As ip: IPv4 unless -6, or both families when listing every table.
    family = opts.family or (None if every else 4)
    with _handle(opts) as handle:
        names = _names(handle.link_list())
        routes = handle.route_list(table="all" if every else table, family=family, dev=dev)
    data = [r.to_json(names, show_table=every) for r in routes]
    if dev is not None:
        for entry in data:
            entry.pop("dev", None)
    if opts.json:
        emit_json(opts, data)
    else:
        for entry in data:
            print(route_line(entry))
    return 0


# --- neigh -------------------------------------------------------------------------

NEIGH_COMMANDS = OBJECT_COMMANDS


def cmd_neigh(words: Words, opts: Options) -> int:
    verb = _verb(words, "neigh", NEIGH_COMMANDS, "show")
    if verb == "show":
        return _neigh_show(words, opts)
    dst = dev = lladdr = None
    state = "permanent"
    while words:
        word = words.pop("")
        if word == "dev":
            dev = words.value("dev")
        elif word == "lladdr":
            lladdr = words.value("lladdr")
        elif word == "nud":
            state = words.value("nud")
        elif dst is None:
            dst = parse_ip(words.value("to") if word == "to" else word, f"neigh {verb}")
        else:
            raise UsageError(f"neigh {verb}: unexpected {word!r}")
    if dst is None or dev is None:
        raise UsageError(f"neigh {verb}: ADDR and 'dev DEV' are required")
    with _handle(opts) as handle:
        if verb == "delete":
            handle.neigh_delete(dev, dst)
            return 0
        if lladdr is None:
            raise UsageError(f"neigh {verb} {dst}: 'lladdr MAC' is required")
        if verb == "replace":
            handle.neigh_replace(dev, dst, lladdr, state=state)
        else:
            handle.neigh_add(dev, dst, lladdr, state=state)
    return 0


def _neigh_show(words: Words, opts: Options) -> int:
    dev = None
    states: Optional[set[str]] = None
    while words:
        word = words.pop("")
        if word == "dev":
            dev = words.value("dev")
        elif word == "nud":
            value = words.value("nud").upper()
            states = (states or set()) | (_SHOWN_STATES | {"NOARP", "NONE"}
                                          if value == "ALL" else {value})
        else:
            raise UsageError(f"neigh show: unexpected {word!r} (supported: dev DEV, nud STATE)")
    with _handle(opts) as handle:
        names = _names(handle.link_list())
        entries = visible_neighbours(handle.neigh_list(dev, family=opts.family), states)
    data = [n.to_json(names) for n in entries]
    if dev is not None:
        for entry in data:
            entry.pop("dev", None)
    if opts.json:
        emit_json(opts, data)
    else:
        for entry in data:
            print(neigh_line(entry))
    return 0


# --- monitor -----------------------------------------------------------------------

MONITOR_KINDS = [("link", ["link"]), ("addr", ["address", "addr"]),
                 ("route", ["route"]), ("neigh", ["neigh", "neighbour", "neighbor"]),
                 ("all", ["all"]), ("help", ["help"])]


def cmd_monitor(words: Words, opts: Options) -> int:
    kinds: list[str] = []
    while words:
        kind = resolve(words.pop("kind"), MONITOR_KINDS, "monitor object")
        if kind == "help":
            raise ShowHelp("monitor")
        if kind == "all":
            kinds = ["link", "addr", "route", "neigh"]
        elif kind not in kinds:
            kinds.append(kind)
    kinds = kinds or ["link", "addr", "route", "neigh"]
    labels = len(kinds) > 1
    with _handle(opts) as handle:
        monitor = handle.monitor(kinds)
        if opts.trace:
            monitor.trace = _trace_printer
        names = _names(handle.link_list())
        with monitor:
            for event in monitor:
                _print_event(event, names, opts, labels)
    return 0


def _print_event(event, names: dict[int, str], opts: Options, labels: bool) -> None:
    obj = event.obj
    if event.kind == "neigh" and obj.dst is None:
        return  # a bridge forwarding entry (no IP address): bridge monitor's business
    if event.kind == "link":
        if event.action == "del":
            names.pop(obj.index, None)
        else:
            names[obj.index] = obj.name
        data = link_json(obj, names)
        lines = link_lines(data, {})
    elif event.kind == "addr":
        data = obj.to_json()
        data["ifindex"] = obj.index
        data["dev"] = names.get(obj.index, f"if{obj.index}")
        head, second = addr_lines(data, dev=data["dev"])
        lines = [f"{obj.index}: {data['dev']}{head}", second]
    elif event.kind == "route":
        data = obj.to_json(names)
        lines = [route_line(data)]
    else:
        data = obj.to_json(names)
        lines = [neigh_line(data)]
    if opts.json:
        out = {"event": event.action, "object": event.kind, **data}
        if event.action == "del":
            out["deleted"] = True
        emit_json(opts, out)
    else:
        if event.action == "del":
            lines[0] = "Deleted " + lines[0]
        if labels:
            lines[0] = f"[{event.kind.upper()}]" + lines[0]
        print("\n".join(lines))
    sys.stdout.flush()


# --- ping ------------------------------------------------------------------------

def cmd_ping(words: Words, opts: Options) -> int:
    from rawns.ping import ping

    count: Optional[int] = None
    timeout = 1.0
    interval = 1.0
    size = 56
    dest = None
    while words:
        word = words.pop("")
        if word == "-c":
            count = words.int_value("-c", 1, 2**31 - 1)
        elif word == "-W":
            timeout = _float(words.value("-W"), "ping -W")
        elif word == "-i":
            interval = _float(words.value("-i"), "ping -i")
        elif word == "-s":
            size = words.int_value("-s", 0, 65000)
        elif word in ("-h", "--help", "help"):
            raise ShowHelp("ping")
        elif word.startswith("-"):
            raise UsageError(f"ping: unknown option {word!r} (supported: -c N, -W SEC, "
                             "-i SEC, -s BYTES)")
        elif dest is None:
            dest = parse_ip(word, "ping")
        else:
            raise UsageError(f"ping: unexpected {word!r}")
    if dest is None:
        raise UsageError("ping: a destination address is required")
    if opts.family and dest.version != opts.family:
        raise UsageError(f"ping: {dest} is not an IPv{opts.family} address")
    print(f"PING {dest} {size} data bytes", flush=True)
    rtts: list[float] = []
    sent = 0
    try:
        while count is None or sent < count:
            if sent and interval:
                import time
                time.sleep(interval)
            [echo] = ping(dest, netns=opts.netns, count=1, timeout=timeout, size=size,
                          first_seq=sent % 0xFFFF + 1)
            sent += 1
            if echo.rtt is None:
                print(f"no reply from {dest}: icmp_seq={sent} (timeout {timeout:g}s)",
                      flush=True)
            else:
                rtts.append(echo.rtt)
                ttl = f" ttl={echo.ttl}" if echo.ttl is not None else ""
                print(f"{echo.size} bytes from {dest}: icmp_seq={sent}{ttl} "
                      f"time={echo.rtt * 1000:.3f} ms", flush=True)
    except KeyboardInterrupt:
        print()
    loss = 100 * (sent - len(rtts)) // sent if sent else 0
    print(f"--- {dest} ping statistics ---")
    print(f"{sent} packets transmitted, {len(rtts)} received, {loss}% packet loss")
    if rtts:
        ms = [r * 1000 for r in rtts]
        print(f"rtt min/avg/max = {min(ms):.3f}/{sum(ms) / len(ms):.3f}/{max(ms):.3f} ms")
    return 0 if rtts else 1


def _float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if value < 0:
        raise UsageError(f"{what}: must not be negative")
    return value


# --- demo, bench, help ----------------------------------------------------------------

def cmd_demo(words: Words, opts: Options) -> int:
    from rawns import demo

    if opts.netns is not None:
        raise UsageError("demo: makes its own namespaces; -n is not used")
    args = words.rest()
    if opts.trace and "--verbose" not in args:
        args.append("--verbose")
    return demo.main(args)


def cmd_bench(words: Words, opts: Options) -> int:
    from rawns import bench

    return bench.main(words.rest())


def cmd_help(words: Words, opts: Options) -> int:
    if words:
        raise ShowHelp(resolve(words.pop("object"), OBJECT_TABLE, "object"))
    print(USAGE, end="")
    return 0


# --- the table of objects ------------------------------------------------------------

#: (name, spellings, handler) in the order ip resolves abbreviations.
OBJECTS: list[tuple[str, Sequence[str], Callable[[Words, Options], int]]] = [
    ("addr", ["address", "addr"], cmd_addr),
    ("route", ["route"], cmd_route),
    ("neigh", ["neighbour", "neighbor", "neigh"], cmd_neigh),
    ("link", ["link"], cmd_link),
    ("monitor", ["monitor"], cmd_monitor),
    ("netns", ["netns"], cmd_netns),
    ("ping", ["ping"], cmd_ping),
    ("demo", ["demo"], cmd_demo),
    ("bench", ["bench"], cmd_bench),
    ("help", ["help"], cmd_help),
]
OBJECT_TABLE = [(name, spellings) for name, spellings, _ in OBJECTS]
_HANDLERS = {name: handler for name, _, handler in OBJECTS}

USAGE = f"""\
Usage: {PROG} [OPTIONS] OBJECT {{ COMMAND | help }}
OBJECT := {{ link | addr | route | neigh | netns | monitor | ping | demo | bench }}
OPTIONS := {{ -n[etns] NAME | -j[son] | -p[retty] | -4 | -6 | --trace | -h[elp] | -V }}

  -n NAME   act inside the named network namespace (no thread of {PROG} moves)
  -j        print JSON with the keys of 'ip -j'; -p indents it
  -4, -6    only IPv4 / IPv6 (addr, route, neigh)
  --trace   print every netlink message sent and received, decoded, on stderr

Objects and commands may be abbreviated as with ip: '{PROG} a' is 'addr show',
'{PROG} l s' is 'link show'. '{PROG} OBJECT help' explains one object.
'{PROG} demo' walks through the container-networking setup, step by step.
"""

HELP = {
    "netns": f"""\
Usage: {PROG} netns list                 named namespaces (with their nsid here)
       {PROG} netns add NAME             create /run/netns/NAME (unshare + bind mount)
       {PROG} netns delete NAME
       {PROG} netns exec NAME CMD...     run CMD inside NAME (as 'ip netns exec')
       {PROG} netns identify [PID]       the names of PID's namespace
       {PROG} [-n NS] netns set NAME NSID|auto   give NAME an id inside NS
       {PROG} [-n NS] netns list-id      the ids NS has given
""",
    "link": f"""\
Usage: {PROG} [-n NS] link add [name] NAME [mtu N] [address MAC] type KIND [ARGS]
         KIND := veth peer [name] PEER [netns NS|PID] [address MAC]
               | bridge [stp_state 0|1]
               | vxlan id VNI [remote ADDR | group ADDR dev DEV] [local ADDR]
                       [dstport PORT] [ttl N] [learning|nolearning] [dev DEV]
       {PROG} [-n NS] link set [dev] DEV [up|down] [mtu N] [name NEW] [address MAC]
                 [master BR | nomaster] [netns NS|PID] [alias TEXT] [txqlen N]
       {PROG} [-n NS] link delete [dev] DEV
       {PROG} [-n NS] [-j] link show [[dev] DEV] [type KIND] [master BR] [up]
""",
    "addr": f"""\
Usage: {PROG} [-n NS] addr add|replace ADDR/PLEN dev DEV [broadcast ADDR|+]
                 [label LABEL] [scope SCOPE] [peer ADDR] [nodad]
       {PROG} [-n NS] addr delete ADDR/PLEN dev DEV
       {PROG} [-n NS] [-j] [-4|-6] addr show [[dev] DEV]
""",
    "route": f"""\
Usage: {PROG} [-n NS] [-4|-6] route add|replace|delete [TYPE] PREFIX|default
                 [via GW] [dev DEV] [metric N] [table T] [proto P] [scope S] [src ADDR]
         TYPE := unicast | local | broadcast | blackhole | unreachable | prohibit | ...
       {PROG} [-n NS] [-j] [-4|-6] route show [table T|all] [dev DEV]
         (IPv4 and table main unless told otherwise, as ip)
""",
    "neigh": f"""\
Usage: {PROG} [-n NS] neigh add|replace ADDR lladdr MAC dev DEV
                 [nud permanent|noarp|reachable|stale]
       {PROG} [-n NS] neigh delete ADDR dev DEV
       {PROG} [-n NS] [-j] [-4|-6] neigh show [dev DEV] [nud STATE|all]
         (NOARP entries are hidden unless asked for, as ip)
""",
    "monitor": f"""\
Usage: {PROG} [-n NS] [-j] monitor [link] [addr] [route] [neigh] [all]
         prints each change as it happens, until Ctrl-C
""",
    "ping": f"""\
Usage: {PROG} [-n NS] ping [-c COUNT] [-W TIMEOUT] [-i INTERVAL] [-s SIZE] ADDR
         ICMP echo over a raw socket opened inside NS (no ping binary needed);
         without -c it runs until Ctrl-C. Exit status 0 if any reply came.
""",
    "demo": f"""\
Usage: {PROG} demo [--verbose] [--keep] [--delay SECONDS]
         two namespaces joined by a veth pair, addressed, pinged and shown,
         with the netlink messages of each step; everything is removed after
         (--keep leaves it for exploring with '{PROG} -n NAME ...').
""",
    "bench": f"""\
Usage: {PROG} bench [--workload W1|W2|W3] [-n N] [--runs R] ...   ('{PROG} bench --help')
""",
    "help": USAGE,
}


# --- main ---------------------------------------------------------------------------

def _parse_options(args: list[str]) -> tuple[Options, bool]:
    """Strip the global options off ``args``; True if help was asked for."""
    opts = Options()
    while args and args[0].startswith("-") and args[0] != "-":
        flag = args.pop(0)
        name = flag.lstrip("-")
        if name in ("n", "netns"):
            if not args:
                raise UsageError(f"option {flag} needs a namespace name")
            opts.netns = args.pop(0)
        elif flag.startswith("-n") and not flag.startswith("--") and len(flag) > 2 \
                and not "netns".startswith(name):
            opts.netns = flag[2:]  # -nNAME
        elif name in ("j", "json"):
            opts.json = True
        elif name in ("p", "pretty"):
            opts.pretty = True
        elif name == "4":
            opts.family = 4
        elif name == "6":
            opts.family = 6
        elif name in ("jp", "pj"):
            opts.json = opts.pretty = True
        elif name == "trace":
            opts.trace = True
        elif name in ("h", "help"):
            return opts, True
        elif name in ("V", "version", "Version"):
            from rawns import __version__
            print(f"{PROG} {__version__}")
            raise SystemExit(0)
        else:
            raise UsageError(f"unknown option {flag!r} (try '{PROG} help')")
    return opts, False


def _error_text(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, PermissionError) and PRIVILEGE_HINT not in text:
        text += f" ({PRIVILEGE_HINT})"
    return " ".join(text.split())  # always one line


def _context(words: Optional[Words], obj: Optional[str]) -> str:
    if words is not None:
        return f"{words.context}: "
    return f"{obj}: " if obj else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    obj = None
    words = None
    try:
        opts, want_help = _parse_options(args)
        if want_help:
            print(USAGE, end="")
            return 0
        if not args:
            print(USAGE, end="", file=sys.stderr)
            return EXIT_USAGE
        obj = resolve(args.pop(0), OBJECT_TABLE, "object")
        if obj not in ("bench", "demo") and args and args[-1] in ("-h", "--help"):
            raise ShowHelp(obj)
        words = Words(args, obj)
        return _HANDLERS[obj](words, opts)
    except ShowHelp as request:
        print(HELP.get(request.obj, USAGE), end="")
        return 0
    except UsageError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KernelError as err:
        print(f"{PROG}: {_error_text(err)}", file=sys.stderr)
        return EXIT_FAILED
    except (RawnsError, ValueError) as err:  # bad input the library refused
        print(f"{PROG}: {_context(words, obj)}{_error_text(err)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (rawns monitor | head): leave quietly.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except OSError as err:
        print(f"{PROG}: {_context(words, obj)}{_error_text(err)}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:  # noqa: BLE001 - a bug; still one line, unless debugging
        if os.environ.get("RAWNS_DEBUG"):
            raise
        print(f"{PROG}: {_context(words, obj)}internal error: {type(err).__name__}: "
              f"{_error_text(err)} (a bug in rawns; RAWNS_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_BUG
    except KeyboardInterrupt:
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except (ValueError, OSError):
            pass
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
