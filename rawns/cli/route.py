"""``rawns route``: routes, as ``ip route`` (add, replace, delete, show, flush, get).

Each command is one call of a ``Handle``'s ``route_*``; ``show`` and
``get`` print through :mod:`rawns.show`, but a plain ``show [table T]``
through the lean :mod:`rawns.route_fast` when it can.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Optional

from rawns.cli.grammar import Options, UsageError, Words, parse_int, parse_ip, verb
from rawns.cli.session import emit_json, open_handle

__all__ = ["run", "COMMANDS", "TYPES", "METRICS"]

COMMANDS: list[tuple[str, Sequence[str]]] = [
    ("add", ["add"]),
    ("replace", ["replace"]),
    ("delete", ["delete", "del"]),
    ("show", ["show", "list", "lst", "ls"]),
    ("flush", ["flush"]),
    ("get", ["get"]),
    ("help", ["help"]),
]

#: Route types (RTN_*) a route may be given before its prefix, as ip spells them.
TYPES = ("unicast", "local", "broadcast", "multicast", "throw", "unreachable",
         "prohibit", "blackhole", "nat", "anycast")

#: The metrics ``route add`` takes as ``NAME [lock] VALUE`` (ip's names).
METRICS = ("mtu", "advmss", "window", "rtt", "rttvar", "ssthresh", "cwnd", "reordering",
           "hoplimit", "initcwnd", "initrwnd", "rto_min", "quickack", "features")


def run(words: Words, opts: Options) -> int:
    command = verb(words, "route", COMMANDS, "show")
    if command in ("show", "flush"):
        return _list(words, opts, flush=command == "flush")
    if command == "get":
        return _get(words, opts)
    dst, kwargs = _route_args(words, command, opts)
    with open_handle(opts) as handle:
        if command == "delete":
            for key in ("protocol", "scope", "prefsrc", "mtu", "advmss", "metrics",
                        "locked", "onlink", "nexthops"):
                kwargs.pop(key, None)
            handle.route_delete(dst, **kwargs)
        elif command == "replace":
            handle.route_replace(dst, **kwargs)
        else:
            handle.route_add(dst, **kwargs)
    return 0


def _route_args(words: Words, command: str, opts: Options) -> tuple[str, dict[str, Any]]:
    """``[TYPE] PREFIX [via GW] [dev DEV] ... [nexthop ...]`` of add/replace/delete."""
    dst: Optional[str] = None
    kwargs: dict[str, Any] = {}
    metrics: dict[str, int] = {}
    locked: list[str] = []
    where = f"route {command}"
    while words:
        word = words.pop("")
        if word == "via":
            kwargs["gateway"] = _via(words, where)
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
            kwargs["prefsrc"] = parse_ip(words.value("src"), f"{where}: src")
        elif word == "onlink":
            kwargs["onlink"] = True
        elif word in METRICS:
            value = words.value(word)
            if value == "lock":
                locked.append(word)
                value = words.value(word)
            metrics[word] = parse_int(value, f"{where}: {word}")
        elif word == "nexthop":
            kwargs["nexthops"] = _nexthops(words, where)
        elif word in TYPES and dst is None and "type" not in kwargs:
            kwargs["type"] = word
        elif dst is None:
            dst = words.value("to") if word == "to" else word
        else:
            raise UsageError(f"{where}: unexpected {word!r}")
    if dst is None:
        raise UsageError(f"{where}: a destination PREFIX or 'default' is required")
    for name in ("mtu", "advmss"):
        if name in metrics:
            kwargs[name] = metrics.pop(name)
    if metrics:
        kwargs["metrics"] = metrics
    if locked:
        kwargs["locked"] = locked
    return _destination(dst, opts), kwargs


def _via(words: Words, where: str) -> Any:
    value = words.value("via")
    if value in ("inet", "inet6"):
        value = words.value("via")
    return parse_ip(value, f"{where}: via")


def _nexthops(words: Words, where: str) -> list[dict[str, Any]]:
    """``nexthop via A dev D weight W [onlink] nexthop ...`` up to the end."""
    hops: list[dict[str, Any]] = [{}]
    while words:
        word = words.pop("")
        hop = hops[-1]
        if word == "nexthop":
            hops.append({})
        elif word == "via":
            hop["gateway"] = _via(words, where)
        elif word == "dev":
            hop["dev"] = words.value("dev")
        elif word == "weight":
            hop["weight"] = words.int_value("weight", 1, 256)
        elif word == "onlink":
            hop["onlink"] = True
        else:
            raise UsageError(f"{where}: unexpected {word!r} in a nexthop "
                             "(supported: via, dev, weight, onlink)")
    return hops


def _destination(dst: str, opts: Options) -> str:
    if dst in ("default", "all", "any"):
        # -4/-6 choose the family of a default route without a gateway.
        return {4: "0.0.0.0/0", 6: "::/0"}.get(opts.family or 0, "default")
    if "/" not in dst:
        return dst + ("/128" if ":" in dst else "/32")
    return dst


# --- show and flush ------------------------------------------------------------------------

def _list(words: Words, opts: Options, *, flush: bool) -> int:
    """``route show|flush SELECTORS``: ip's selectors, and what ip leaves out of
    what it prints when a selector fixed it (the dev of ``dev DEV``...)."""
    where = "route flush" if flush else "route show"
    if not flush and _lean(words, opts):
        return 0
    table = "main"
    kwargs: dict[str, Any] = {}
    types: list[str] = []
    hide: set[str] = set()
    cache = False
    while words:
        word = words.pop("")
        if word in ("cache", "cached", "cloned"):
            cache = True  # the route cache: exceptions (PMTU, redirects), as ip
        elif word == "table":
            table = words.value("table")
            if table == "cache":
                cache, table = True, "main"
        elif word in ("dev", "oif"):
            kwargs["dev"] = words.value(word)
            hide.add("dev")
        elif word in ("proto", "protocol"):
            value = words.value(word)
            if value != "all":
                kwargs["protocol"] = value
                hide.add("protocol")
        elif word == "scope":
            value = words.value("scope")
            if value != "all":
                kwargs["scope"] = value
                hide.add("scope")
        elif word == "type":
            value = words.value("type")
            if value not in TYPES:
                raise UsageError(f"{where}: unknown route type {value!r}")
            types = [value]  # as ip: the last 'type' given is the one that counts
        elif word == "via":
            value = words.value("via")
            if value in ("inet", "inet6"):
                value = words.value("via")
            kwargs["gateway"] = value
            if "/" not in value:
                hide.add("gateway")
        elif word in ("metric", "priority", "preference"):
            kwargs["metric"] = words.int_value(word)
            hide.add("metric")
        elif word in ("root", "match", "exact"):
            kwargs["dst" if word == "exact" else word] = words.value(word)
        elif word == "to":
            continue  # 'to' only announces the prefix (or root/match/exact)
        elif "dst" not in kwargs:
            kwargs["dst"] = word
        else:
            raise UsageError(f"{where}: unexpected {word!r} (supported: [to] [root|match|"
                             "exact] PREFIX|default, table T|all, dev DEV, proto P, "
                             "scope S, type T, via ADDR, metric N, cache)")
    if flush and not kwargs and not types and table == "main" and not cache:
        raise UsageError('"route flush" requires arguments (a selector: dev, table, '
                         'proto, PREFIX, ...)')
    if types:
        kwargs["type"] = types
    every = table == "all"
    # As ip: IPv4 unless -6, or both families when listing every table.
    family = opts.family or (None if every else 4)
    if flush and cache:
        return _flush_cache(opts, family, table, kwargs)
    if cache:
        kwargs["cache"] = True
    from rawns import show  # not on the lean path (start-up)

    with open_handle(opts) as handle:
        if flush:
            removed = handle.route_flush(table=table, family=family, **kwargs)
            _flushed(opts, len(removed))
            return 0
        names = show.index_names(handle.link_list())
        if not kwargs and not (opts.json and opts.pretty):  # cache lists take the model path
            return _print_in_one_pass(handle, names, opts, table, family)
        routes = handle.route_list(table=table, family=family, **kwargs)
    hidden = frozenset(hide)
    data = [r.to_json(names, show_table=every, details=opts.details, hide=hidden,
                      stats=opts.stats > 0) for r in routes]
    if opts.json:
        emit_json(opts, data)
    else:
        for route, entry in zip(routes, data):
            for line in show.route_lines(entry, locked=route.locked, oneline=opts.oneline):
                print(line)
    return 0


def _flush_cache(opts: Options, family: Optional[int], table: str,
                 kwargs: dict[str, Any]) -> int:
    """``route flush cache``, as ip: IPv4 (the default family) has its cache
    flushed whole whatever the selectors say; ``-6`` removes the exceptions
    the selectors pick, one by one (both, for ``table all`` without -4/-6)."""
    with open_handle(opts) as handle:
        if family != 6:
            handle.route_flush(family=4, cache=True)
            if opts.stats:
                print("*** IPv4 routing cache is flushed.")
        if family == 4:
            return 0
        removed = handle.route_flush(table=table, family=6, cache=True, **kwargs)
    _flushed(opts, len(removed))
    return 0


def _flushed(opts: Options, count: int) -> None:
    """What ``ip -s route flush`` says once ``count`` routes are removed."""
    if opts.stats and count:
        print(f"\n*** Round 1, deleting {count} entries ***")
        print("*** Flush is complete after 1 round ***")
    elif opts.stats:
        print("Nothing to flush.")


def _lean(words: Words, opts: Options) -> bool:
    """Whether ``route show [table T]`` was printed by the lean path
    (``rawns.route_fast``: no protocol package, no models); False when
    something unusual leaves it to the reference path below."""
    rest = words.words
    if not (rest == [] or (len(rest) == 2 and rest[0] == "table")) or (
            opts.pretty or opts.trace or opts.stats or opts.brief or opts.all or opts.batch):
        return False
    import sys

    from rawns import route_fast  # the lean path (start-up)

    table = rest[1] if rest else "main"
    try:
        text = route_fast.show_routes(opts.netns, table=table,
                                      family=opts.family or (None if table == "all" else 4),
                                      as_json=opts.json,
                                      details=opts.details, oneline=opts.oneline)
    except route_fast.Slow:
        return False  # unusual: the reference prints it, or says what is wrong
    sys.stdout.write(text)
    return True


def _print_in_one_pass(handle: Any, names: dict[int, str], opts: Options, table: str,
                       family: Optional[int]) -> int:
    """A listing without selectors, printed straight from the dump's bytes
    (``show_fast.route_printer``): what the model path prints, without a
    ``Route`` per route, which a table of 20,000 routes would feel."""
    import sys

    from rawns.convert import family_number, table_number
    from rawns.show_fast import route_printer

    every = table == "all"
    printer = route_printer(names, as_json=opts.json, show_table=every, details=opts.details,
                            oneline=opts.oneline, table=None if every else table_number(table),
                            family=family_number(family))
    printed = handle.route_dump(printer, table=table, family=family)
    if opts.json:
        sys.stdout.write("[" + ",".join(printed) + "]\n")
    elif printed:
        sys.stdout.write("\n".join(printed) + "\n")
    return 0


# --- get ---------------------------------------------------------------------------------------

def _get(words: Words, opts: Options) -> int:
    """``route get ADDR [from ADDR] [iif DEV] [oif DEV] [mark M]``."""
    dst: Optional[str] = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word == "from":
            kwargs["source"] = parse_ip(words.value("from"), "route get: from")
        elif word == "iif":
            kwargs["iif"] = words.value("iif")
        elif word in ("oif", "dev"):
            kwargs["oif"] = words.value(word)
        elif word in ("mark", "fwmark"):
            kwargs["mark"] = words.int_value(word)
        elif dst is None:
            dst = words.value("to") if word == "to" else word
        else:
            raise UsageError(f"route get: unexpected {word!r} "
                             "(supported: ADDR, from ADDR, iif DEV, oif DEV, mark M)")
    if dst is None:
        raise UsageError("route get: an address is required")
    address = dst.split("/")[0]
    parse_ip(address, "route get")
    from rawns import show

    with open_handle(opts) as handle:
        route = handle.route_get(address, **kwargs)
        names = show.index_names(handle.link_list())
    entry = route.to_json(names, details=opts.details, stats=opts.stats > 0)
    if opts.json:
        emit_json(opts, [entry])
    else:
        for line in show.route_lines(entry, locked=route.locked, oneline=opts.oneline):
            print(line)
    return 0
