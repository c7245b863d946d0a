"""``rawns neigh``: the ARP and NDP tables, as ``ip neighbour`` (add, replace, delete, show).

Each command is one call of a ``Handle``'s ``neigh_*``; ``show`` prints
through :mod:`rawns.show`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Optional, Union

from rawns import show
from rawns.cli.grammar import OBJECT_COMMANDS, Options, UsageError, Words, parse_ip, verb
from rawns.cli.session import emit_json, open_handle

__all__ = ["run", "COMMANDS"]

COMMANDS = OBJECT_COMMANDS


def run(words: Words, opts: Options) -> int:
    command = verb(words, "neigh", COMMANDS, "show")
    if command == "show":
        return _show(words, opts)
    dst = None
    dev: Optional[str] = None
    lladdr: Optional[str] = None
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
            dst = parse_ip(words.value("to") if word == "to" else word, f"neigh {command}")
        else:
            raise UsageError(f"neigh {command}: unexpected {word!r}")
    if dst is None or dev is None:
        raise UsageError(f"neigh {command}: ADDR and 'dev DEV' are required")
    with open_handle(opts) as handle:
        if command == "delete":
            handle.neigh_delete(dev, dst)
            return 0
        if lladdr is None:
            raise UsageError(f"neigh {command} {dst}: 'lladdr MAC' is required")
        if command == "replace":
            handle.neigh_replace(dev, dst, lladdr, state=state)
        else:
            handle.neigh_add(dev, dst, lladdr, state=state)
    return 0


def _show(words: Words, opts: Options) -> int:
    dev: Optional[str] = None
    states: Union[set[str], frozenset[str], None] = None
    while words:
        word = words.pop("")
        if word == "dev":
            dev = words.value("dev")
        elif word == "nud":
            value = words.value("nud").upper()
            states = (states or set()) | (show.SHOWN_NEIGH_STATES | {"NOARP", "NONE"}
                                          if value == "ALL" else {value})
        else:
            raise UsageError(f"neigh show: unexpected {word!r} (supported: dev DEV, nud STATE)")
    with open_handle(opts) as handle:
        names = show.index_names(handle.link_list())
        entries = show.visible_neighbours(handle.neigh_list(dev, family=opts.family), states)
    data = [n.to_json(names, stats=opts.stats > 0) for n in entries]
    if dev is not None:
        for entry in data:
            entry.pop("dev", None)
    if opts.json:
        emit_json(opts, data)
    else:
        for entry in data:
            print(show.neigh_line(entry))
    return 0
