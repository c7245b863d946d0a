"""``rawns demo``: starts the walk-through of :mod:`rawns.demo` (which parses its own options)."""

from __future__ import annotations

from rawns import demo
from rawns.cli.grammar import Options, UsageError, Words

__all__ = ["run"]


def run(words: Words, opts: Options) -> int:
    if opts.netns is not None:
        raise UsageError("demo: makes its own namespaces; -n is not used")
    args = words.rest()
    if opts.trace and "--verbose" not in args:
        args.append("--verbose")
    return demo.main(args)
