"""``rawns addr``: IP addresses on interfaces, as ``ip address`` (add, replace, delete, show).

Each command is one call of a ``Handle``'s ``addr_*``; ``show`` prints
through :mod:`rawns.show`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Optional

from rawns import netns, show
from rawns.cli.grammar import OBJECT_COMMANDS, Options, UsageError, Words, parse_ip, verb
from rawns.cli.session import emit_brief, emit_json, open_handle

__all__ = ["run", "COMMANDS"]

COMMANDS = OBJECT_COMMANDS


def run(words: Words, opts: Options) -> int:
    command = verb(words, "addr", COMMANDS, "show")
    if command == "show":
        return _show(words, opts)
    address: Optional[str] = None
    dev: Optional[str] = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word == "dev":
            dev = words.value("dev")
        elif word in ("broadcast", "brd"):
            value = words.value(word)
            kwargs["broadcast"] = True if value == "+" else parse_ip(
                value, f"addr {command}: broadcast")
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
            raise UsageError(f"addr {command}: unexpected {word!r}")
    if address is None:
        raise UsageError(f"addr {command}: an address ADDR/PLEN is required")
    if dev is None:
        raise UsageError(f"addr {command} {address}: 'dev DEV' is required")
    if "/" not in address:
        address += "/32" if ":" not in address else "/128"
    with open_handle(opts) as handle:
        if command == "delete":
            if kwargs:
                raise UsageError("addr delete: only ADDR/PLEN dev DEV is needed")
            handle.addr_delete(dev, address)
        else:
            handle.addr_add(dev, address, replace=command == "replace", **kwargs)
    return 0


def _show(words: Words, opts: Options) -> int:
    dev: Optional[str] = None
    while words:
        word = words.pop("")
        if word == "dev":
            word = words.value("dev")
        if dev is not None:
            raise UsageError(f"addr show: unexpected {word!r}")
        dev = word
    full = opts.details or opts.stats > 0
    with open_handle(opts) as handle:
        every = handle.link_list(details=full and dev is None)
        names = show.index_names(every)
        links = [handle.link_get(dev, details=full)] if dev is not None else every
        addresses = handle.addr_list(dev, family=opts.family)
        data = show.addr_json(links, addresses, names, opts.family, show.up_indexes(every),
                              details=opts.details and not opts.brief)
        if opts.stats and not opts.brief and not opts.oneline:
            # As ip: the counters come after the addresses (every one in text, to size
            # the columns; the level asked for in -j).
            level = opts.stats if opts.json else 2
            by_index = {link.index: link for link in links}
            for entry in data:
                link = by_index[entry["ifindex"]]
                if link.stats is not None:
                    entry["stats64"] = link.stats.to_json(level)
        if opts.brief:
            emit_brief(opts, [show.addr_brief_json(entry) for entry in data],
                       show.addr_brief_line)
            return 0
        if opts.json:
            emit_json(opts, data)
            return 0
        peers = any("link_netnsid" in entry for entry in data)
        nsids = netns.nsid_names(handle) if peers else {}
    for entry in data:
        if opts.oneline:
            for line in show.addr_oneline(entry):
                print(line)
        else:
            print("\n".join(show.link_addr_lines(entry, nsids, stats=opts.stats)))
    return 0
