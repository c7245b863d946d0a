"""The ``rawns`` command line, with iproute2's grammar.

Invariants:
- It only parses arguments and prints; every action is a public library call.
- User mistakes and kernel refusals print one line on stderr and exit non-zero;
  a traceback is a bug.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence

from rawns import netns
from rawns.errors import RawnsError

__all__ = ["main", "UsageError"]

PROG = "rawns"


class UsageError(Exception):
    """The command line is not one rawns understands."""


def _match(word: str, choices: Sequence[str], what: str) -> str:
    """Resolve ``word`` to a choice, allowing unique abbreviations like ``ip``."""
    if word in choices:
        return word
    hits = [c for c in choices if c.startswith(word)]
    if len(hits) == 1:
        return hits[0]
    hint = f"; did you mean one of: {', '.join(hits)}" if hits else (
        f"; expected one of: {', '.join(choices)}")
    raise UsageError(f"unknown {what} {word!r}{hint}")


def _netns(args: list[str], opts: dict) -> int:
    verb = _match(args.pop(0), ["add", "delete", "list", "exec"], "netns command") if args else "list"
    if verb == "list":
        names = netns.list()
        if opts["json"]:
            print(json.dumps([{"name": n} for n in names]))
        else:
            for name in names:
                print(name)
        return 0
    if not args:
        raise UsageError(f"netns {verb}: a namespace name is required")
    name = args.pop(0)
    if verb == "add":
        netns.add(name)
    elif verb == "delete":
        netns.delete(name)
    elif verb == "exec":
        if not args:
            raise UsageError("netns exec: a command is required")
        netns.execvp(name, args)
    return 0


def _demo(args: list[str], opts: dict) -> int:
    from rawns import demo

    return demo.main(args)


_OBJECTS: dict[str, Callable[[list[str], dict], int]] = {
    "netns": _netns,
    "demo": _demo,
}

USAGE = f"""\
usage: {PROG} [-j] OBJECT COMMAND...
  {PROG} netns add|del|list|exec NAME [CMD...]
  {PROG} demo
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    opts = {"json": False}
    try:
        while args and args[0].startswith("-"):
            flag = args.pop(0)
            if flag in ("-j", "-json", "--json"):
                opts["json"] = True
            elif flag in ("-h", "-help", "--help"):
                print(USAGE, end="")
                return 0
            else:
                raise UsageError(f"unknown option {flag!r}")
        if not args:
            print(USAGE, end="", file=sys.stderr)
            return 2
        obj = _match(args.pop(0), list(_OBJECTS), "object")
        return _OBJECTS[obj](args, opts)
    except UsageError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    except (RawnsError, OSError, ValueError) as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
