"""``rawns monitor``: changes as they happen, as ``ip monitor`` prints them.

One ``Handle.monitor`` of the namespace of -n; each event is printed
through :mod:`rawns.show` and flushed at once, until Ctrl-C. When events
were lost (the kernel's queue overflowed while the output was blocked), it
says so on stderr, in ip's words, and goes on, as ``ip monitor`` does.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rawns import show
from rawns.cli.grammar import Options, ShowHelp, Words, resolve
from rawns.cli.session import emit_json, open_handle, trace_printer
from rawns.errors import EventsLostError
from rawns.model import Link, Neighbour

if TYPE_CHECKING:
    from rawns.handle import Event

__all__ = ["run", "KINDS"]

KINDS: list[tuple[str, Sequence[str]]] = [
    ("link", ["link"]), ("addr", ["address", "addr"]),
    ("route", ["route"]), ("neigh", ["neigh", "neighbour", "neighbor"]),
    ("all", ["all"]), ("help", ["help"]),
]
_EVERY_KIND = ["link", "addr", "route", "neigh"]


def run(words: Words, opts: Options) -> int:
    kinds: list[str] = []
    while words:
        kind = resolve(words.pop("kind"), KINDS, "monitor object")
        if kind == "help":
            raise ShowHelp("monitor")
        if kind == "all":
            kinds = list(_EVERY_KIND)
        elif kind not in kinds:
            kinds.append(kind)
    kinds = kinds or list(_EVERY_KIND)
    labels = len(kinds) > 1
    with open_handle(opts) as handle:
        monitor = handle.monitor(kinds)
        if opts.trace:
            monitor.trace = trace_printer
        names = show.index_names(handle.link_list())
        with monitor:
            while True:
                try:
                    _print_events(monitor, names, opts, labels)
                except EventsLostError:
                    # ip's line (lib/libnetlink.c prints it and reads on); the
                    # links may have changed unseen: their names are read again
                    print(f"netlink receive error {os.strerror(errno.ENOBUFS)} "
                          f"({errno.ENOBUFS})", file=sys.stderr, flush=True)
                    names = show.index_names(handle.link_list())


def _print_events(events: Iterable[Event], names: dict[int, str], opts: Options,
                  labels: bool) -> None:
    for event in events:
        obj = event.obj
        if isinstance(obj, Neighbour) and obj.dst is None:
            continue  # a bridge forwarding entry (no IP address): not ip monitor's
        if isinstance(obj, Link):  # keep ifindex -> name current
            if event.action == "del":
                names.pop(obj.index, None)
            else:
                names[obj.index] = obj.name
        if opts.json:
            emit_json(opts, show.event_json(event, names))
        else:
            print("\n".join(show.event_lines(event, names, labels=labels)))
        sys.stdout.flush()
