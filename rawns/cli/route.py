"""``rawns route``: routes, as ``ip route`` (add, replace, delete, show).

Each command is one call of a ``Handle``'s ``route_*``; ``show`` prints
through :mod:`rawns.show`.
"""

from __future__ import annotations

from typing import Any, Optional

from rawns import show
from rawns.cli.grammar import OBJECT_COMMANDS, Options, UsageError, Words, parse_ip, verb
from rawns.cli.session import emit_json, open_handle

__all__ = ["run", "COMMANDS", "TYPES"]

COMMANDS = OBJECT_COMMANDS

#: Route types (RTN_*) a route may be given before its prefix, as ip spells them.
TYPES = ("unicast", "local", "broadcast", "multicast", "throw", "unreachable",
         "prohibit", "blackhole", "nat", "anycast")


def run(words: Words, opts: Options) -> int:
    command = verb(words, "route", COMMANDS, "show")
    if command == "show":
        return _show(words, opts)
    dst: Optional[str] = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word == "via":
            value = words.value("via")
            if value in ("inet", "inet6"):
                value = words.value("via")
            kwargs["gateway"] = parse_ip(value, f"route {command}: via")
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
            kwargs["prefsrc"] = parse_ip(words.value("src"), f"route {command}: src")
        elif word in TYPES and dst is None and "type" not in kwargs:
            kwargs["type"] = word
        elif dst is None:
            dst = words.value("to") if word == "to" else word
        else:
            raise UsageError(f"route {command}: unexpected {word!r}")
    if dst is None:
        raise UsageError(f"route {command}: a destination PREFIX or 'default' is required")
    if dst in ("default", "all", "any"):
        # -4/-6 choose the family of a default route without a gateway.
        dst = {4: "0.0.0.0/0", 6: "::/0"}.get(opts.family or 0, "default")
    elif "/" not in dst:
        dst += "/128" if ":" in dst else "/32"
    with open_handle(opts) as handle:
        if command == "delete":
            for key in ("protocol", "scope", "prefsrc", "type"):
                kwargs.pop(key, None)
            handle.route_delete(dst, **kwargs)
        elif command == "replace":
            handle.route_replace(dst, **kwargs)
        else:
            handle.route_add(dst, **kwargs)
    return 0


def _show(words: Words, opts: Options) -> int:
    table = "main"
    dev: Optional[str] = None
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
    with open_handle(opts) as handle:
        names = show.index_names(handle.link_list())
        routes = handle.route_list(table=table, family=family, dev=dev)
    data = [r.to_json(names, show_table=every) for r in routes]
    if dev is not None:
        for entry in data:
            entry.pop("dev", None)
    if opts.json:
        emit_json(opts, data)
    else:
        for entry in data:
            print(show.route_line(entry))
    return 0
