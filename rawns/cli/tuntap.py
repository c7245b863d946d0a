"""``rawns tuntap``: tun and tap devices, as ``ip tuntap`` (add, del, show).

Each command is one call of a ``Handle``'s ``tuntap_*`` (/dev/net/tun opened
inside the namespace of ``-n``); ``show`` prints as ip does.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

from rawns.cli.grammar import Options, UsageError, Words, parse_int, verb
from rawns.cli.session import emit_json, open_handle

__all__ = ["run", "COMMANDS", "FLAGS"]

COMMANDS: list[tuple[str, Sequence[str]]] = [
    ("add", ["add"]),
    ("delete", ["delete", "del"]),
    ("show", ["show", "list", "lst", "ls"]),
    ("help", ["help"]),
]

#: The flag words of ``tuntap add|del``, as ip spells them.
FLAGS = ("multi_queue", "pi", "vnet_hdr", "one_queue")


def run(words: Words, opts: Options) -> int:
    command = verb(words, "tuntap", COMMANDS, "show")
    if command == "show":
        words.end()
        return _show(opts)
    name, mode, kwargs = _arguments(words, f"tuntap {command}", adding=command == "add")
    with open_handle(opts) as handle:
        if command == "add":
            handle.tuntap_add(name, mode, **kwargs)
        else:
            handle.tuntap_delete(name, mode, **kwargs)
    return 0


def _arguments(words: Words, where: str, *, adding: bool) -> tuple[str, str, dict[str, Any]]:
    name = ""
    mode = None
    kwargs: dict[str, Any] = {}
    while words:
        word = words.pop("")
        if word == "mode":
            mode = words.value("mode")
            if mode not in ("tun", "tap"):
                raise UsageError(f"{where}: mode must be tun or tap, not {mode!r}")
        elif word in ("tun", "tap"):
            mode = word
        elif word in FLAGS:
            kwargs[word] = True
        elif word in ("user", "group") and adding:
            kwargs[word] = _owner(words.value(word), word, where)
        elif word in ("dev", "name"):
            name = words.value(word)
        elif not name:
            name = word
        else:
            raise UsageError(f"{where}: unexpected {word!r} (try 'rawns tuntap help')")
    if mode is None:
        raise UsageError(f"{where}: 'mode tun|tap' is required")
    if not name and not adding:
        raise UsageError(f"{where}: the device name is required")
    return name, mode, kwargs


def _owner(value: str, what: str, where: str) -> int:
    """A user or group by name or number, as ip takes them."""
    if value.isdigit():
        return parse_int(value, f"{where}: {what}")
    import grp  # only when named: the user database is read on demand
    import pwd

    try:
        return pwd.getpwnam(value).pw_uid if what == "user" else grp.getgrnam(value).gr_gid
    except KeyError:
        raise UsageError(f"{where}: unknown {what} {value!r}") from None


def _show(opts: Options) -> int:
    from rawns import netns, show

    with open_handle(opts) as handle:
        links = handle.tuntap_list()
    data = []
    for link in links:
        entry = show.tuntap_json(link)
        if opts.details:
            entry["processes"] = [{"name": name, "pid": pid}
                                  for name, pid in netns.tun_processes(link.name)]
        data.append(entry)
    if opts.json:
        emit_json(opts, data)
    else:
        for entry in data:
            print(show.tuntap_line(entry))
    return 0

