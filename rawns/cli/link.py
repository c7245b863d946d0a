"""``rawns link``: interfaces, as ``ip link`` (add veth, bridge, vxlan; set; delete; show).

Each command is one call of a ``Handle``'s ``link_*``; ``show`` prints
through :mod:`rawns.show`.
"""

from __future__ import annotations

import sys

from rawns import netns
from rawns.cli.grammar import PROG, Options, UsageError, Words, parse_ip, verb
from rawns.cli.session import emit_brief, emit_json, open_handle

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Optional

__all__ = ["run", "COMMANDS", "KINDS", "LOWER_KINDS", "PLAIN_KINDS"]

COMMANDS: list[tuple[str, Sequence[str]]] = [
    ("add", ["add"]),
    ("set", ["=set", "change"]),
    ("delete", ["delete", "del"]),
    ("show", ["show", "list", "lst", "ls"]),
    ("help", ["help"]),
]

#: The link types ``link add`` makes.
KINDS = ("veth", "bridge", "vxlan", "macvlan", "macvtap", "vlan", "ipvlan", "bond", "vrf",
         "dummy", "ifb", "wireguard")
#: The kinds made on a lower device (``link DEV``).
LOWER_KINDS = ("macvlan", "macvtap", "vlan", "ipvlan")
#: The kinds that take no arguments of their own.
PLAIN_KINDS = ("dummy", "ifb", "wireguard")


def run(words: Words, opts: Options) -> int:
    command = verb(words, "link", COMMANDS, "show")
    if command == "show":
        return _show(words, opts)
    if command == "add":
        return _add(words, opts)
    if command == "set":
        return _set(words, opts)
    dev = _device(words)
    words.end()
    with open_handle(opts) as handle:
        handle.link_delete(dev)
    return 0


def _device(words: Words) -> str:
    if words.peek() == "dev":
        words.pop("dev")
    return words.pop("device name")


def _show(words: Words, opts: Options) -> int:
    dev: Optional[str] = None
    kind: Optional[str] = None
    master: Optional[str] = None
    only_up = False
    while words:
        word = words.pop("")
        if word == "type":
            kind = words.value("type")
        elif word == "master":
            master = words.value("master")
        elif word == "up":
            only_up = True
        else:
            if word == "dev":
                word = words.value("dev")
            if dev is not None:
                raise UsageError(f"link show: two devices given ({dev!r} and {word!r})")
            dev = word
    full = opts.details or opts.stats > 0
    if not (full or opts.pretty or opts.trace or kind is not None or master is not None):
        from rawns import link_fast  # the lean path: no codec, no models (start-up)

        try:
            text = link_fast.show_links(opts.netns, dev=dev, only_up=only_up,
                                        as_json=opts.json, brief=opts.brief,
                                        oneline=opts.oneline)
        except link_fast.Slow:
            pass  # unusual: the reference below prints it, or says what is wrong
        else:
            sys.stdout.write(text)
            return 0
    from rawns import show

    with open_handle(opts) as handle:
        every = handle.link_list(details=full and dev is None and kind is None
                                 and master is None)
        names = show.index_names(every)
        if dev is not None:
            links = [handle.link_get(dev, details=full)]
        elif kind is not None or master is not None:
            links = handle.link_list(kind=kind, master=master, details=full)
        else:
            links = every
        if only_up:
            links = [link for link in links if link.is_up]
        up = show.up_indexes(every)
        # Text needs every counter to size its columns; -j prints the level asked.
        level = opts.stats if opts.json else (2 if opts.stats else 0)
        data = [show.link_json(link, names, up=up, details=opts.details and not opts.brief,
                               stats=0 if opts.brief else level) for link in links]
        if opts.brief:
            emit_brief(opts, [show.link_brief_json(entry) for entry in data],
                       show.link_brief_line)
            return 0
        if opts.json:
            emit_json(opts, data)
            return 0
        peers = any("link_netnsid" in entry for entry in data)
        nsids = netns.nsid_names(handle) if peers else {}
    for entry in data:
        lines = show.link_lines(entry, nsids, stats=opts.stats)
        print("\\".join(lines) if opts.oneline else "\n".join(lines))
    return 0


def _add(words: Words, opts: Options) -> int:
    name = None
    common: dict[str, Any] = {}
    index = 0
    lower: Optional[str] = None
    netnsid: Optional[int] = None
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
        elif word == "link":
            lower = words.value("link")
        elif word == "link-netnsid":
            netnsid = words.int_value("link-netnsid", 0, 2**31 - 1)
        elif word == "up":
            common["up"] = True
        elif word in ("netns", "txqueuelen", "txqlen", "qlen"):
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
                         f"(one of: {', '.join(KINDS)})")
    words.pop("type")
    kind = words.value("type")
    words.context = f"link add type {kind}"
    if lower is not None and kind not in LOWER_KINDS:
        raise UsageError(f"link add: 'link DEV' is for {', '.join(LOWER_KINDS)}, not {kind}")
    if lower is None and kind in LOWER_KINDS:
        raise UsageError(f"link add type {kind}: 'link DEV' (the lower device) is required")
    if netnsid is not None and kind != "veth":
        raise UsageError("link add: 'link-netnsid' is supported for veth only")
    if kind == "veth":
        kwargs = _veth_args(words)
        if index:
            kwargs["index"] = index
        if netnsid is not None:
            if "peer_netns" in kwargs or "peer_pid" in kwargs:
                raise UsageError("link add type veth: give link-netnsid or the peer's "
                                 "netns, not both")
            kwargs["peer_netnsid"] = netnsid
        with open_handle(opts) as handle:
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
        with open_handle(opts) as handle:
            handle.link_add_bridge(name, **common)
        return 0
    if kind == "vxlan":
        vni, kwargs = _vxlan_args(words)
        with open_handle(opts) as handle:
            handle.link_add_vxlan(name, vni, **kwargs, **common)
        return 0
    if kind in ("macvlan", "macvtap"):
        kwargs = _keywords(words, kind, values={"mode": str, "bcqueuelen": int},
                           flags=("nopromisc",))
        with open_handle(opts) as handle:
            handle.link_add_macvlan(name, str(lower), tap=kind == "macvtap", **kwargs,
                                    **common)
        return 0
    if kind == "vlan":
        kwargs = _keywords(words, kind, values={"id": int, "protocol": str})
        if "id" not in kwargs:
            raise UsageError("link add type vlan: 'id VID' is required")
        vid = kwargs.pop("id")
        with open_handle(opts) as handle:
            handle.link_add_vlan(name, str(lower), vid, **kwargs, **common)
        return 0
    if kind == "ipvlan":
        kwargs = _keywords(words, kind, values={"mode": str},
                           flags=("bridge", "private", "vepa"))
        flag = [f for f in ("bridge", "private", "vepa") if kwargs.pop(f, False)]
        with open_handle(opts) as handle:
            handle.link_add_ipvlan(name, str(lower), flag=flag[-1] if flag else "bridge",
                                   **kwargs, mtu=common.get("mtu"), up=common.get("up", False))
        return 0
    if kind == "bond":
        kwargs = _keywords(words, kind, values={"mode": str, "miimon": int})
        with open_handle(opts) as handle:
            handle.link_add_bond(name, **kwargs, **common)
        return 0
    if kind == "vrf":
        kwargs = _keywords(words, kind, values={"table": str})
        if "table" not in kwargs:
            raise UsageError("link add type vrf: 'table T' is required")
        with open_handle(opts) as handle:
            handle.link_add_vrf(name, kwargs["table"], up=common.get("up", False))
        return 0
    if kind in PLAIN_KINDS:
        words.end()
        with open_handle(opts) as handle:
            handle.link_add(name, kind, **common)
        return 0
    raise UsageError(f"link add: type {kind!r} is not supported by rawns "
                     f"(supported: {', '.join(KINDS)})")


def _keywords(words: Words, kind: str, *, values: dict[str, type],
              flags: Sequence[str] = ()) -> dict[str, Any]:
    """``KEY VALUE`` and ``FLAG`` words of one kind's arguments."""
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word in values:
            kwargs[word] = (words.int_value(word) if values[word] is int
                            else words.value(word))
        elif word in flags:
            kwargs[word] = True
        else:
            known = ", ".join([*values, *flags])
            raise UsageError(f"link add type {kind}: unexpected {word!r} (supported: {known})")
    return kwargs


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


def _set(words: Words, opts: Options) -> int:
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
    with open_handle(opts) as handle:
        handle.link_set(dev, **kwargs)
    return 0
