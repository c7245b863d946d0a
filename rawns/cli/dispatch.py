"""Runs one command line: options, the OBJECT's module (imported then), errors as exit statuses.

Invariants:
- Only the module of the OBJECT given is imported (``rawns link`` never
  loads the code of ``route`` or ``ping``); ``-V`` and ``help`` load none.
- User mistakes and kernel refusals print one line ``rawns: ...`` on stderr
  and exit non-zero (1: the command line is wrong, 2: the kernel or the
  system refused, 130: interrupted, 70: a bug); a traceback is a bug, shown
  only with ``RAWNS_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys

from rawns.cli.grammar import (
    HELP, OBJECT_MODULES, OBJECT_TABLE, PROG, USAGE, Options, Reported, ShowHelp, UsageError,
    Words,
    parse_options, resolve,
)
from rawns.errors import PRIVILEGE_HINT, ExtensionMissingError, KernelError, RawnsError

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Optional

__all__ = ["main", "run_command", "EXIT_USAGE", "EXIT_FAILED", "EXIT_INTERRUPTED",
           "EXIT_BUG"]

#: Exit statuses, as ip(8) documents them (1: syntax, 2: kernel), plus 130 and 70.
EXIT_USAGE = 1
EXIT_FAILED = 2
EXIT_INTERRUPTED = 130
EXIT_BUG = 70

#: The module of each OBJECT (``rawns.cli.NAME``), each with ``run(words, opts)``.
_MODULES = {name: f"rawns.cli.{OBJECT_MODULES.get(name, name)}"
            for name, _ in OBJECT_TABLE if name != "help"}


def _help(words: Words, opts: Options) -> int:
    """``rawns help [OBJECT]``."""
    if words:
        raise ShowHelp(resolve(words.pop("object"), OBJECT_TABLE, "object"))
    print(USAGE, end="")
    return 0


def _command(obj: str) -> Callable[[Words, Options], int]:
    """The ``run`` of ``obj``'s module, imported now."""
    if obj == "help":
        return _help
    module = _MODULES[obj]
    __import__(module)  # not importlib: importing importlib costs more than the call
    run: Callable[[Words, Options], int] = sys.modules[module].run
    return run


def _error_text(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, PermissionError) and PRIVILEGE_HINT not in text:
        text += f" ({PRIVILEGE_HINT})"
    return " ".join(text.split())  # always one line


def _context(words: Optional[Words], obj: Optional[str]) -> str:
    if words is not None:
        return f"{words.context}: "
    return f"{obj}: " if obj else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            opts = parse_options(args)
        except UsageError as err:
            print(f"{PROG}: {err}", file=sys.stderr)
            return EXIT_USAGE
        if opts.version:
            from rawns import __version__

            print(f"{PROG} {__version__}")
            return 0
        if opts.help:
            print(USAGE, end="")
            return 0
        if opts.batch is not None:
            if args:
                print(f"{PROG}: -batch takes no command ({' '.join(args)!r} given): the "
                      "commands are the lines of the file", file=sys.stderr)
                return EXIT_USAGE
            from rawns.cli.batch import run_batch

            return run_batch(opts, run_command)
        if not args:
            print(USAGE, end="", file=sys.stderr)
            return EXIT_USAGE
        return run_command(args, opts)
    except KeyboardInterrupt:
        import signal  # here: signal's import builds enums that no other path needs

        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except (ValueError, OSError):
            pass
        print(file=sys.stderr)
        return EXIT_INTERRUPTED


def run_command(args: list[str], opts: Options, prefix: str = f"{PROG}: ") -> int:
    """Run one command, ``OBJECT COMMAND ...`` (the global options parsed into
    ``opts``); a mistake or refusal prints one line, ``prefix`` first, and
    gives the exit status. KeyboardInterrupt propagates."""
    obj = None
    words = None
    try:
        obj = resolve(args.pop(0), OBJECT_TABLE, "object")
        if obj != "demo" and args and args[-1] in ("-h", "--help"):
            raise ShowHelp(obj)
        words = Words(args, obj)
        return _command(obj)(words, opts)
    except ShowHelp as request:
        print(HELP.get(request.obj, USAGE), end="")
        return 0
    except Reported as report:
        sys.stdout.flush()
        for line in report.lines:
            print(f"{prefix}{line}", file=sys.stderr)
        return report.status
    except UsageError as err:
        print(f"{prefix}{err}", file=sys.stderr)
        return EXIT_USAGE
    except KernelError as err:
        print(f"{prefix}{_error_text(err)}", file=sys.stderr)
        return EXIT_FAILED
    except ExtensionMissingError as err:  # the installation, not the command line
        print(f"{PROG}: {_error_text(err)}", file=sys.stderr)
        return EXIT_FAILED
    except (RawnsError, ValueError) as err:  # bad input the library refused
        print(f"{prefix}{_context(words, obj)}{_error_text(err)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (rawns monitor | head): leave quietly.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except OSError as err:
        print(f"{prefix}{_context(words, obj)}{_error_text(err)}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:  # noqa: BLE001 - a bug; still one line, unless debugging
        if os.environ.get("RAWNS_DEBUG"):
            raise
        print(f"{prefix}{_context(words, obj)}internal error: {type(err).__name__}: "
              f"{_error_text(err)} (a bug in rawns; RAWNS_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_BUG
