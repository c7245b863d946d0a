"""The global options at work: the Handle of ``-n``/``--trace``, the output of ``-j``/``-p``.

Invariants:
- ``open_handle`` is the only place the command line makes a ``Handle``;
  with ``--trace`` every datagram it sends or receives is shown on stderr,
  as it happens: its bytes in hex, then explained (``rawns.netlink.explain``).
- The Handle (and with it the netlink codec) is imported only when a
  command opens one, so commands that need no netlink start faster.
"""

from __future__ import annotations

import sys

from rawns.cli.grammar import Options

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from rawns.handle import Handle

__all__ = ["open_handle", "trace_printer", "emit_json", "emit_brief"]


def trace_printer(direction: str, data: bytes) -> None:
    """A ``trace`` callback: one datagram on stderr, its bytes then its
    annotated view; ``rawns explain`` reads such a trace back."""
    from rawns.netlink import explain
    from rawns.netlink.explain import hex_lines

    arrow = ">>> sent" if direction == "send" else "<<< received"
    dump = "\n".join(hex_lines(data))
    sys.stderr.write(f"{arrow} {len(data)} bytes\n{dump}\n{explain(data)}\n\n")
    sys.stderr.flush()


def open_handle(opts: Options) -> Handle:
    """A Handle in the namespace of ``-n`` (or our own), traced if asked."""
    from rawns.handle import Handle

    handle = Handle(opts.netns)
    if opts.trace:
        handle.trace = trace_printer
    return handle


def emit_json(opts: Options, value: Any) -> None:
    """Print ``value`` as ``ip -j`` (``-p``: ``ip -j -p``) prints it."""
    from rawns.show import json_text  # here: show loads the models and the codec

    print(json_text(value, pretty=opts.pretty))


def emit_brief(opts: Options, entries: list[dict[str, Any]],
               line: Callable[[dict[str, Any]], str]) -> None:
    """Print ``-br`` output: the brief entries as JSON with ``-j``, else one
    ``line(entry)`` each."""
    if opts.json:
        emit_json(opts, entries)
    else:
        for entry in entries:
            print(line(entry))
