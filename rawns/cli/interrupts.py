"""Ctrl-C and SIGTERM for commands that make many things: one KeyboardInterrupt, then a cleanup no signal cuts short.

``docker stop``, systemd and ``timeout`` send SIGTERM, not SIGINT; a command
that makes many things (the demo, a topology, a CNI ADD) undoes them for
either. Within ``with Interrupts() as interrupts:`` (main thread):

- SIGINT and SIGTERM raise KeyboardInterrupt, once. Every later one, while
  the first unwinds, is held: a second Ctrl-C cannot cut the cleanup short.
- ``with interrupts.held():`` runs a block (the cleanup) to its end: a signal
  arriving inside it is held; ``raise_pending()`` raises it afterwards as
  KeyboardInterrupt (the command ends as interrupted), unless one was raised.
- ``undone()`` says that nothing is left to undo: from then on every signal
  raises KeyboardInterrupt at once (the command ends with 130), even while
  it is blocked writing to a reader that does not read.
- Leaving the ``with`` puts the previous handlers back.

A signal that lands before the cleanup's ``held()`` begins (a few
bytecodes) raises out of it: commands run their (idempotent) cleanup once
more around the whole command, where the first interrupt has been raised
and every later one is held.

Invariants:
- Only faces use this: the library installs no signal handlers.
- Outside the main thread (where Python runs no signal handlers) it changes
  nothing, and ``held()`` is a plain block.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Optional

__all__ = ["Interrupts", "SIGNALS"]

#: The signals treated as Ctrl-C.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """SIGINT and SIGTERM as one KeyboardInterrupt, and blocks they cannot cut short."""

    def __init__(self) -> None:
        self.raised = False                 # a KeyboardInterrupt came from here
        self.pending: Optional[int] = None  # a signal held, not raised
        self._holding = 0
        self._undone = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: Optional[FrameType]) -> None:
        if self._holding or (self.raised and not self._undone):
            self.pending = signum
            return
        self.raised = True
        raise KeyboardInterrupt

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def undone(self) -> None:
        """Say that nothing is left to undo: from now on every signal raises
        KeyboardInterrupt at once, even one that comes while the command is
        blocked writing to a reader that does not read. Held signals stay
        pending (``raise_pending``)."""
        self._undone = True

    @contextmanager
    def held(self) -> Iterator[None]:
        """Run the block to its end: a signal arriving in it is held (see
        ``raise_pending``)."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    def raise_pending(self) -> None:
        """Raise KeyboardInterrupt for a signal that was held, unless one was
        raised already."""
        if self.pending is not None and not self.raised:
            self.pending = None
            self.raised = True
            raise KeyboardInterrupt
