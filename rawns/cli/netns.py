"""``rawns netns``: named namespaces and their ids, as ``ip netns``.

Each command is one call of ``rawns.netns`` or of a ``Handle``'s ``nsid_*``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence

from rawns import netns
from rawns.cli.grammar import Options, UsageError, Words, parse_int, verb
from rawns.cli.session import emit_json, open_handle

__all__ = ["run", "COMMANDS"]

COMMANDS: list[tuple[str, Sequence[str]]] = [
    ("add", ["add"]),
    ("delete", ["delete", "del"]),
    ("list", ["list", "show", "ls", "lst"]),
    ("exec", ["exec"]),
    ("identify", ["identify"]),
    ("set", ["set"]),
    ("list-id", ["list-id"]),
    ("pids", ["pids"]),
    ("attach", ["attach"]),
    ("help", ["help"]),
]


def run(words: Words, opts: Options) -> int:
    command = verb(words, "netns", COMMANDS, "list")
    if command == "list":
        words.end()
        return _list(opts)
    if command == "list-id":
        words.end()
        return _list_id(opts)
    if command == "identify":
        pid = parse_int(words.pop("pid"), "netns identify: pid", 1) if words else os.getpid()
        words.end()
        for name in netns.identify(pid=pid):
            print(name)
        return 0
    if command == "exec" and opts.all:
        return _exec_all(words.rest())
    name = words.pop("namespace name")
    if command == "pids":
        words.end()
        for pid in netns.pids(name):
            print(pid)
        return 0
    if command == "attach":
        pid = parse_int(words.pop("pid"), "netns attach: pid", 1, 2**31 - 1)
        words.end()
        netns.attach(name, pid)
        return 0
    if command == "add":
        words.end()
        netns.add(name)
    elif command == "delete":
        words.end()
        netns.delete(name)
    elif command == "set":
        word = words.pop("nsid")
        nsid = -1 if word == "auto" else parse_int(word, "netns set: nsid", 0, 2**31 - 1)
        words.end()
        with open_handle(opts) as handle:
            handle.nsid_set(name, nsid)
    elif command == "exec":
        argv = words.rest()
        if not argv:
            raise UsageError("netns exec: a command to run is required")
        sys.stdout.flush()
        netns.execvp(name, argv)
    return 0


def _exec_all(argv: list[str]) -> int:
    """``ip -all netns exec CMD``: CMD in each named namespace in turn, each
    under a ``netns: NAME`` heading; as ip, the status is 0 whatever they return."""
    if not argv:
        raise UsageError("netns exec: a command to run is required")

    def heading(name: str) -> None:
        print(f"\nnetns: {name}", flush=True)

    def failed(name: str, err: Exception) -> None:
        strerror = getattr(err, "strerror", None) or str(err)
        print(f'exec of "{argv[0]}" failed: {strerror}', file=sys.stderr, flush=True)

    netns.run_all(argv, before=heading, failed=failed)
    return 0


def _list(opts: Options) -> int:
    """``ip netns list``: each name, with the id the namespace of -n gives it."""
    names = netns.list()
    ids: dict[str, int] = {}
    if names:
        from rawns import link_fast  # RTM_GETNSID on a bare socket (start-up)

        try:
            if opts.trace:
                raise link_fast.Slow
            ids = link_fast.nsids(opts.netns, names)
        except link_fast.Slow:
            with open_handle(opts) as handle:
                ids = netns.nsids(handle, names)
    if opts.json:
        entries = [dict(name=n, **({"id": ids[n]} if n in ids else {})) for n in names]
        if opts.pretty:
            emit_json(opts, entries)
        else:
            from rawns.link_fast import json_text  # show.json_text's bytes, without show

            print(json_text(entries))
    else:
        for name in names:
            print(f"{name} (id: {ids[name]})" if name in ids else name)
    return 0


def _list_id(opts: Options) -> int:
    """``ip netns list-id``: the ids the namespace of -n has given, with names."""
    with open_handle(opts) as handle:
        ids = handle.nsid_list()
        by_id = netns.nsid_names(handle) if ids else {}
    entries = [dict(nsid=i, **({"name": by_id[i]} if i in by_id else {})) for i in ids]
    if opts.json:
        emit_json(opts, entries)
    else:
        for entry in entries:
            name = entry.get("name")
            print(f"nsid {entry['nsid']}" + (f" (iproute2 netns name: {name})"
                                             if name else ""))
    return 0
