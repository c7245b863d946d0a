"""``rawns explain [FILE|-] [-j]``: captured netlink bytes, every byte named.

Invariants:
- Two library calls do the work: ``rawns.netlink.capture.read_capture``
  finds the datagrams (hex text, binary, pcap, pcapng) and
  ``rawns.netlink.explain.annotate`` names every byte of each; this module
  reads the input and prints.  It touches no namespace and loads no socket
  code.
- Input that is no capture, or holds nothing that decodes as netlink, is one
  line on stderr and exit status 1.  A capture in which some datagram stops
  decoding partway is printed (its view says where and why), then exits 1.
- ``-j`` prints the same content as the text, as JSON.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any

from rawns.cli.grammar import Options, ShowHelp, UsageError, Words
from rawns.errors import DecodeError
from rawns.netlink.capture import Datagram, read_capture
from rawns.netlink.explain import annotate, render

__all__ = ["run"]


def run(words: Words, opts: Options) -> int:
    if opts.netns is not None:
        raise UsageError("explain: reads bytes and needs no namespace; -n is not used")
    as_json, pretty, path = opts.json, opts.pretty, None
    while words:
        word = words.pop("file")
        if word in ("-j", "-json", "--json"):
            as_json = True
        elif word in ("-p", "-pretty", "--pretty"):
            pretty = True
        elif word == "help":
            raise ShowHelp("explain")
        elif path is None:
            path = word
        else:
            raise UsageError(f"explain: one input only; unexpected {word!r}")
    datagrams = read_capture(_read(path))
    views = [annotate(datagram.data) for datagram in datagrams]
    if not any(view["messages"] for view in views):
        stopped = next((view["stopped"] for view in views if view["stopped"]), None)
        reason = stopped["reason"] if stopped else "the datagrams are empty"
        raise DecodeError(f"no netlink message in {_name(path)}: {reason}",
                          stopped["offset"] if stopped else 0)
    if as_json:
        print(json.dumps({"datagrams": [_json(d, v) for d, v in zip(datagrams, views)]},
                         indent=2 if pretty else None))
    else:
        for index, (datagram, view) in enumerate(zip(datagrams, views)):
            if index:
                print()
            print(_title(datagram, len(datagrams)))
            print(render(view))
    return 1 if any(view["stopped"] for view in views) else 0


def _read(path: str | None) -> bytes:
    if path is None or path == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("explain: give a FILE, or pipe the bytes in "
                             "(try 'rawns explain help')")
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as err:
        raise UsageError(f"explain: cannot read {path}: {err.strerror or err}") from None


def _name(path: str | None) -> str:
    return "the input" if path is None or path == "-" else path


def _time(timestamp: float) -> str:
    try:
        moment = datetime.fromtimestamp(timestamp, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return f"t={timestamp}"
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _title(datagram: Datagram, total: int) -> str:
    size = f"{len(datagram.data)} bytes"
    if datagram.original_length is not None:
        size += f" (of {datagram.original_length}: the capture cut the rest)"
    parts = [size, datagram.direction,
             _time(datagram.timestamp) if datagram.timestamp is not None else None]
    line = (f"=== datagram {datagram.number} of {datagram.source} input: "
            + ", ".join(part for part in parts if part))
    if datagram.note:
        line += f"\n    note: {datagram.note}"
    return line


def _json(datagram: Datagram, view: dict[str, Any]) -> dict[str, Any]:
    return {"number": datagram.number, "source": datagram.source,
            "direction": datagram.direction, "protocol": datagram.protocol,
            "timestamp": datagram.timestamp, "length": len(datagram.data),
            "original_length": datagram.original_length, "note": datagram.note,
            "bytes": datagram.data.hex(), "explain": view}
