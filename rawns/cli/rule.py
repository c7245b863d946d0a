"""``rawns rule``: policy routing rules, as ``ip rule`` (add, delete, show, flush).

Each command is one call of a ``Handle``'s ``rule_*``; ``show`` prints
through :mod:`rawns.show`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

from rawns import show
from rawns.cli.grammar import Options, UsageError, Words, parse_int, verb
from rawns.cli.session import emit_json, open_handle

__all__ = ["run", "COMMANDS", "ACTIONS"]

COMMANDS: list[tuple[str, Sequence[str]]] = [
    ("add", ["add"]),
    ("delete", ["delete", "del"]),
    ("show", ["show", "list", "lst", "ls"]),
    ("flush", ["flush"]),
    ("help", ["help"]),
]

#: What a rule may do besides looking up a table (``goto N`` aside), as ip spells it.
ACTIONS = ("nop", "blackhole", "unreachable", "prohibit")

# ip's names of DS field values (its rt_dsfield file), for ``tos``.
_DSFIELDS = {"default": 0x0, "AF11": 0x28, "AF12": 0x30, "AF13": 0x38, "AF21": 0x48,
             "AF22": 0x50, "AF23": 0x58, "AF31": 0x68, "AF32": 0x70, "AF33": 0x78,
             "AF41": 0x88, "AF42": 0x90, "AF43": 0x98, "CS1": 0x20, "CS2": 0x40,
             "CS3": 0x60, "CS4": 0x80, "CS5": 0xA0, "CS6": 0xC0, "CS7": 0xE0, "EF": 0xB8}


def run(words: Words, opts: Options) -> int:
    command = verb(words, "rule", COMMANDS, "show")
    where = f"rule {command}"
    kwargs = _selector(words, where, full=command in ("add", "delete"))
    family = opts.family
    with open_handle(opts) as handle:
        if command == "add":
            handle.rule_add(family=family, **kwargs)
        elif command == "delete":
            handle.rule_delete(family=family, **kwargs)
        elif command == "flush":
            handle.rule_flush(family=family or 4, **kwargs)
        else:
            kwargs.pop("protocol", None)  # as ip: 'protocol' selects what flush removes only
            rules = handle.rule_list(family=family or 4, **kwargs)
            data = [rule.to_json(details=opts.details) for rule in rules]
            if opts.json:
                emit_json(opts, data)
            else:
                for entry in data:
                    print(show.rule_line(entry))
    return 0


def _selector(words: Words, where: str, *, full: bool) -> dict[str, Any]:
    """The keywords of ``ip rule``; ``full``: those of add/delete, else the
    selectors show and flush take."""
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word == "not":
            kwargs["invert"] = True
        elif word == "from":
            kwargs["src"] = words.value("from")
        elif word == "to":
            kwargs["dst"] = words.value("to")
        elif word in ("preference", "priority", "order", "pref", "prio"):
            kwargs["priority"] = words.int_value(word)
        elif word == "fwmark":
            mark, _, mask = words.value("fwmark").partition("/")
            kwargs["fwmark"] = parse_int(mark, f"{where}: fwmark")
            if mask:
                kwargs["fwmask"] = parse_int(mask, f"{where}: fwmark mask")
        elif word in ("table", "lookup"):
            kwargs["table"] = words.value(word)
        elif word in ("dev", "iif"):
            kwargs["iif"] = words.value(word)
        elif word == "oif":
            kwargs["oif"] = words.value("oif")
        elif word in ("protocol", "proto"):
            kwargs["protocol"] = words.value(word)
        elif not full:
            raise UsageError(f"{where}: unexpected {word!r} (supported: not, from, to, "
                             "priority, fwmark, table, iif, oif, protocol)")
        elif word in ("tos", "dsfield"):
            value = words.value(word)
            kwargs["tos"] = _DSFIELDS.get(value) if value in _DSFIELDS else parse_int(
                value if value.startswith("0x") else "0x" + value, f"{where}: {word}", 0, 255)
        elif word == "goto":
            kwargs["goto"] = words.int_value("goto")
        elif word == "type":
            kwargs["action"] = _action(words.value("type"), where)
        elif word in ACTIONS:
            kwargs["action"] = word
        elif full and word == "suppress_prefixlength":
            kwargs["suppress_prefixlen"] = words.int_value(word, 0, 128)
        elif full and word == "suppress_ifgroup":
            value = words.value(word)
            kwargs["suppress_ifgroup"] = 0 if value == "default" else parse_int(
                value, f"{where}: {word}")
        elif full and word == "realms":
            kwargs["realms"] = _realms(words.value("realms"), where)
        elif full and word == "uidrange":
            kwargs["uid_range"] = _range(words.value("uidrange"), f"{where}: uidrange",
                                         2**32 - 1)
        elif full and word == "ipproto":
            kwargs["ipproto"] = words.value("ipproto")
        elif full and word in ("sport", "dport"):
            kwargs[word] = _range(words.value(word), f"{where}: {word}", 65535)
        else:
            raise UsageError(f"{where}: unexpected {word!r} (try 'rawns rule help')")
    return kwargs


def _action(word: str, where: str) -> str:
    if word in ACTIONS:
        return word
    if word == "unicast":
        return "lookup"
    raise UsageError(f"{where}: unknown rule type {word!r} "
                     f"(supported: {', '.join(ACTIONS)}, goto N, lookup T)")


def _range(text: str, what: str, high: int) -> tuple[int, int]:
    first, _, last = text.partition("-")
    start = parse_int(first, what, 0, high)
    return start, parse_int(last, what, 0, high) if last else start


def _realms(text: str, where: str) -> int:
    def realm(value: str) -> int:
        return 0 if value == "cosmos" else parse_int(value, f"{where}: realms", 0, 0xFFFF)

    source, slash, destination = text.partition("/")
    if slash:
        return realm(source) << 16 | realm(destination)
    return realm(source)
