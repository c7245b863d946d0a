"""``rawns up|down|show|graph FILE``: containerlab topology files, through ``rawns.topology``.

    rawns [-n HOST] up FILE          make it all, or nothing
    rawns [-n HOST] down FILE        remove what it names (again: nothing to do)
    rawns [-n HOST] [-j [-p]] show FILE
    rawns graph FILE [dot|mermaid]

``-n HOST`` names the namespace that stands for the host (host links and the
host's bridges go there); without it, the namespace rawns runs in. Each
command is one call of a ``rawns.topology.Topology``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rawns.cli.grammar import PROG, Options, ShowHelp, UsageError, Words, resolve
from rawns.cli.session import emit_json

if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["run", "FORMATS", "PROGRESS_NODES"]

#: ``rawns graph``'s formats.
FORMATS: list[tuple[str, Sequence[str]]] = [("dot", ["dot"]), ("mermaid", ["mermaid"])]
#: From this many nodes on, ``up`` shows its progress when stderr is a terminal.
PROGRESS_NODES = 50


def run(words: Words, opts: Options) -> int:
    command = words.context  # the OBJECT: up, down, show or graph
    if words.peek() == "help":
        raise ShowHelp(command)
    path = words.pop("topology file")
    fmt = "dot"
    if command == "graph":
        if words:
            fmt = resolve(words.pop("format"), FORMATS, "graph format")
        if opts.netns is not None:
            raise UsageError("graph: draws the file; -n is not used")
    words.end()

    from rawns import topology

    lab = topology.load(path, host=opts.netns)
    if command == "graph":
        print(lab.dot() if fmt == "dot" else lab.mermaid(), end="")
        return 0
    if command == "show":
        status = lab.status()
        if opts.json:
            emit_json(opts, status.to_json())
        else:
            from rawns.topology.render import status_table

            print(status_table(status), end="")
        return 0
    if command == "down":
        lab.down()
        return 0
    if lab.spec.ignored:
        print(f"{PROG}: up: ignored, they configure containers: "
              f"{', '.join(lab.spec.ignored)}", file=sys.stderr)
    start = time.monotonic()
    progress = _Progress(sys.stderr) if (len(lab.spec.nodes) >= PROGRESS_NODES
                                         and sys.stderr.isatty()) else None
    from rawns.cli.interrupts import Interrupts

    try:
        # SIGTERM (docker stop, systemd, timeout) as Ctrl-C: up removes what it
        # made; a second signal waits until that is done
        with Interrupts() as interrupts:
            lab.up(progress=progress)
            if interrupts.raised:
                # The signal's KeyboardInterrupt was raised where Python drops
                # exceptions ("Exception ignored in": a __del__, a callback);
                # netns.run keeps it out of fork's hooks. Undo as if it had arrived.
                with interrupts.held():
                    lab.down()
                raise KeyboardInterrupt
    except topology.ExecFailed as err:
        print(f"{PROG}: up: {err} (everything it made is removed)", file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.done()
    print(f"{lab.name}: up, {len(lab.namespaces)} namespaces and {len(lab.spec.links)} "
          f"links in {time.monotonic() - start:.2f} s")
    return 0


class _Progress:
    """``up``'s progress on one line of the terminal, rewritten in place:
    the phase, items done of its total, and their rate since it began.

    Called from add_many's worker threads too (one at a time: they report
    under its lock)."""

    #: a terminal needs no more than ten lines a second
    INTERVAL = 0.1

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False
        self.began: dict[str, float] = {}  # phases may interleave (Batch)
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        first = phase not in self.began
        began = self.began.setdefault(phase, now)
        if not first and done < total and now - self.last < self.INTERVAL:
            return
        self.last = now
        elapsed = now - began
        rate = f", {done / elapsed:.0f}/s" if done and elapsed > 0 else ""
        self.stream.write(f"\r{PROG}: up: {phase} {done}/{total}{rate}\033[K")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
