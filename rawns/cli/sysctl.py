"""``rawns [-n NS] sysctl [OPTIONS] KEY[=VALUE] ...``: a namespace's network sysctls in sysctl(8)'s grammar.

iproute2 has no such command; scripts write ``ip netns exec NS sysctl ...``,
a fork and an exec per call. Here each key is one call of
``rawns.netns.sysctl`` or ``rawns.netns.sysctl_list`` (the calling thread
moves into NS and back), and what is printed, on stdout and stderr, is what
procps-ng's sysctl prints there (``sysctl:`` written ``rawns:``), with its
exit status: reads add up their failures, writes or theirs together. The
errors come after the output (``Reported``), so that in a ``-batch`` they
name the file and line as every other error does.

Only ``net.*``: the other keys do not belong to a namespace; ``-a`` lists
``net`` (what ``sysctl -a`` prints under it). ``-j`` (a choice of rawns,
sysctl has none): one JSON object, each key read or written with its value.
"""

from __future__ import annotations

import errno
import os
import sys

from rawns import netns
from rawns.cli.grammar import Options, Reported, ShowHelp, UsageError, Words
from rawns.errors import KernelError

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Optional

__all__ = ["run", "Flags", "parse"]

#: sysctl(8)'s short options that take no value, and what each sets.
_SHORT = {"a": "all", "A": "all", "X": "all", "b": "binary", "e": "ignore", "N": "names",
          "n": "values", "q": "quiet", "w": "write", "o": None, "x": None}
_LONG = {"all": "all", "binary": "binary", "ignore": "ignore", "names": "names",
         "values": "values", "quiet": "quiet", "write": "write", "deprecated": "deprecated"}


class Flags:
    """sysctl(8)'s options, as given anywhere among the keys (it reads them
    with getopt, which moves options first)."""

    __slots__ = ("all", "binary", "ignore", "names", "values", "quiet", "write",
                 "deprecated", "pattern")

    def __init__(self) -> None:
        self.all = self.binary = self.ignore = self.names = self.values = False
        self.quiet = self.write = self.deprecated = False
        self.pattern: Optional[str] = None


def parse(args: list[str]) -> tuple[Flags, list[str]]:
    """The options and the KEY[=VALUE] arguments of ``args``; UsageError for
    an option sysctl(8) has that rawns does not (``-p``: files of settings),
    ShowHelp for ``-h``, ``-d``, ``--help`` or a lone ``help``."""
    flags = Flags()
    keys: list[str] = []
    words = iter(args)
    for arg in words:
        if arg == "--":
            keys.extend(words)
            break
        if not arg.startswith("-") or arg == "-":
            keys.append(arg)
            continue
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            if name == "help":
                raise ShowHelp("sysctl")
            if name == "pattern":
                flags.pattern = value or _next(words, arg)
            elif name in _LONG:
                setattr(flags, _LONG[name], True)
            else:
                raise UsageError(f"sysctl: unknown option {arg!r} (try 'rawns sysctl help')")
            continue
        letters = arg[1:]
        for at, letter in enumerate(letters):
            if letter in ("h", "d"):
                raise ShowHelp("sysctl")
            if letter == "r":
                flags.pattern = letters[at + 1:] or _next(words, "-r")
                break
            if letter in ("p", "f"):
                raise UsageError("sysctl: -p (settings from a file) is not supported: give "
                                 "the settings as KEY=VALUE, or run the file with -batch")
            if letter not in _SHORT:
                raise UsageError(f"sysctl: unknown option '-{letter}' "
                                 "(try 'rawns sysctl help')")
            attribute = _SHORT[letter]
            if attribute is not None:
                setattr(flags, attribute, True)
    if keys == ["help"]:
        raise ShowHelp("sysctl")
    return flags, keys


def _next(words: Iterator[str], option: str) -> str:
    for word in words:
        return word
    raise UsageError(f"sysctl: option {option} needs a pattern")


class _Session:
    """One command: the namespace, the flags, what was printed (for -j), the status."""

    def __init__(self, ns: Optional[int], flags: Flags, json: bool) -> None:
        self.ns = ns
        self.flags = flags
        self.json = json
        self.seen: dict[str, str] = {}
        self.errors: list[str] = []
        self.status = 0
        self.match: Optional[Callable[[str], object]] = None
        if flags.pattern is not None:
            import re

            try:
                self.match = re.compile(flags.pattern).search
            except re.error as err:
                raise UsageError(f"sysctl: bad pattern {flags.pattern!r}: {err}") from None

    def error(self, text: str) -> None:
        self.errors.append(text)

    def shown(self, name: str, value: str) -> None:
        if self.match is not None and not self.match(name):
            return
        if self.json:
            self.seen[name] = value
        elif self.flags.names:
            print(name)
        elif self.flags.binary:
            sys.stdout.write(value)
        elif self.flags.values:
            print(value)
        else:
            for line in value.split("\n"):
                print(f"{name} = {line}")

    def read(self, key: str) -> None:
        if not key:
            self.error('"" is an unknown key')
            self.status -= 1
            return
        try:
            found = netns.sysctl_list(self.ns, key, deprecated=self.flags.deprecated,
                                      values=self.json or not self.flags.names)
        except ValueError as err:
            self.error(str(err))
            self.status += 1
            return
        except KernelError as err:
            self.status += self._failed(err, key, "reading")
            return
        for name, value in found:
            self.shown(name, value)

    def write(self, key: str, value: str) -> None:
        if not key:
            if value:  # sysctl(8)'s words; a lone '=' fails without any
                self.error("Path is not under /proc/sys/: /proc/sys/")
            self.status |= 1
            return
        try:
            name = netns.sysctl_name(key)
            # with the newline sysctl(8) writes: an empty value is then refused
            # as it is there, not written as nothing
            netns.sysctl(self.ns, key, value + "\n")
        except ValueError as err:
            self.error(str(err))
            self.status |= 1
            return
        except KernelError as err:
            self.status |= self._failed(err, key, "setting")
            return
        if self.json:
            self.seen[name] = value
        elif self.flags.quiet:
            pass
        elif self.flags.values or self.flags.names:
            print(value)  # sysctl -N prints the value of a setting too
        else:
            print(f"{name} = {value}")

    def _failed(self, err: KernelError, key: str, doing: str) -> int:
        """Report ``err`` as sysctl(8) does; the failure's weight in the status."""
        code = err.errno
        if code == errno.ENOENT:
            if self.flags.ignore:
                return 0
            self.error(f"cannot stat {netns.sysctl_path(key)}: {os.strerror(code)}")
        elif code == errno.EIO and doing == "reading":
            pass  # an unset stable_secret: sysctl(8) says nothing, and fails
        elif code in (errno.EACCES, errno.EPERM):
            self.error(f'permission denied on key "{key}"')
        elif code == errno.EISDIR:
            self.error(f'{doing} key "{key}": {os.strerror(errno.EINVAL)}')
            return 0  # sysctl(8) reports a directory given a value, and succeeds
        else:
            self.error(f'{doing} key "{key}": {os.strerror(code or errno.EIO)}')
        return 1


def run(words: Words, opts: Options) -> int:
    flags, keys = parse(words.rest())
    if not keys and not flags.all:
        raise UsageError("sysctl: no variables specified (try 'rawns sysctl help')")
    # The namespace opened once: a missing one is the command's error (exit
    # 2), not each key's, and each key costs two setns, no path lookup.
    fd = None if opts.netns is None else netns.open_fd(opts.netns)
    try:
        session = _Session(fd, flags, opts.json)
        _each(session, ["net"] if flags.all else keys)
    finally:
        if fd is not None:
            os.close(fd)
    if opts.json:
        import json

        print(json.dumps(session.seen, indent=4 if opts.pretty else None,
                         separators=None if opts.pretty else (",", ":")))
    if session.errors:  # printed after the output, with the line's place in a batch
        raise Reported(session.errors, session.status & 0xFF)
    return session.status & 0xFF


def _each(session: _Session, keys: list[str]) -> None:
    """Each argument in order, as sysctl(8) takes them."""
    for argument in keys:
        if "=" in argument:
            key, _, value = argument.partition("=")
            session.write(key.strip(), value.strip())
        elif session.flags.write:
            session.error("command line(0): invalid syntax, continuing...")
            session.status |= 1
        else:
            session.read(argument.strip())
