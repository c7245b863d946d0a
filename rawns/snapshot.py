"""Reading many namespaces at once: ``read_many`` and the ``Snapshot`` it makes of each.

The dumps run through ``rawns.fanout.dump_many`` (C loops that enter each
namespace in turn); each reply is read by the same reader as ``Handle``'s.

Invariants:
- Read only: nothing is created, so nothing can be left half-made; the
  calling thread is in its own namespace whenever this returns or raises.
- Each kind is what ``Handle(ns).link_list()``, ``addr_list()``,
  ``route_list()`` or ``neigh_list()`` returns: the same requests, read by
  the same readers. A namespace whose answers are anything but whole, plain
  dumps (too big, interrupted by a change, refused, not enterable) is read
  again through a ``Handle``, which retries and names errors as it always does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from rawns import convert, convert_fast, fanout
from rawns import netns as netns_module
from rawns.handle import Handle
from rawns.model import Address, Link, Neighbour, Route
from rawns.netlink import Message, requests
from rawns.netlink.constants import RT_TABLE
from rawns.netlink.conversation import Reader
from rawns.netlink.fast import fast_constructor
from rawns.records import record

__all__ = ["KINDS", "Snapshot", "read_many"]

NetnsTarget = netns_module.NetnsTarget

#: What ``read_many`` can read, named as ``Monitor`` names them.
KINDS = ("link", "addr", "route", "neigh")


@record
class Snapshot:
    """What ``read_many`` read in one namespace; a kind not asked for is None."""

    netns: NetnsTarget
    links: tuple[Link, ...] | None = None
    addresses: tuple[Address, ...] | None = None
    routes: tuple[Route, ...] | None = None
    neighbours: tuple[Neighbour, ...] | None = None


# kind -> (Snapshot field, the request, its reader, the Handle method that equals it)
_KIND_SPECS: dict[str, tuple[str, Message, Reader, str]] = {
    "link": ("links", requests.link_dump(), convert.read_link, "link_list"),
    "addr": ("addresses", requests.addr_dump(), convert_fast.read_address, "addr_list"),
    # ip route shows the main table: the kernel sends only that one, since
    # every socket checks strictly (nlsock.SOCKET_OPTIONS: NETLINK_GET_STRICT_CHK).
    "route": ("routes", requests.route_dump(table=RT_TABLE.RT_TABLE_MAIN), convert.read_route,
              "route_list"),
    "neigh": ("neighbours", requests.neigh_dump(), convert_fast.read_neighbour,
              "neigh_list"),
}


def read_many(namespaces: Iterable[NetnsTarget], kinds: Iterable[str] = KINDS, *,
              progress: Callable[[int, int], None] | None = None,
              trace: Callable[[str, bytes], None] | None = None) -> list[Snapshot]:
    """The ``kinds`` of objects (``"link"``, ``"addr"``, ``"route"``,
    ``"neigh"``) in each namespace, one Snapshot per namespace, in order.

    Namespaces are given as to ``Handle``: names, paths or fds. Equals ``ip
    -n NS link; ip -n NS addr; ip -n NS route; ip -n NS neigh`` for each, at
    close to the kernel's own speed: one C loop enters each namespace in
    turn, opens a socket there and runs the dumps; above 16 namespaces it
    runs in a helper thread and the caller reads each namespace's replies as
    soon as they are whole (two cores then share the work). ``progress(done, total)`` is called every 256
    namespaces or so; ``trace``, as ``Handle.trace``, with ("send"|"recv",
    bytes) for every datagram (``rawns.netlink.explain`` shows one field by
    field). Raises what ``Handle`` raises for the first namespace
    that cannot be read (FileNotFoundError for a missing one...); ValueError
    for a bad name or kind, before anything touches the kernel.
    """
    targets = list(namespaces)
    specs = [_KIND_SPECS[kind] for kind in _checked_kinds(kinds)]
    paths = [_path_of(target) for target in targets]
    snapshots: list[Snapshot] = []
    for run_start, run, nofollow in _runs(paths):
        answers = fanout.dump_many(run, [spec[1] for spec in specs],
                                   [spec[2] for spec in specs], nofollow=nofollow, trace=trace)
        for offset, replies in enumerate(answers):
            target = targets[run_start + offset]
            if replies is None:
                snapshots.append(_read_one(target, specs, trace))
            else:
                snapshots.append(_snapshot(target, specs, replies))
            if progress is not None and len(snapshots) % 256 == 0:
                progress(len(snapshots), len(targets))
    if progress is not None and len(snapshots) % 256:
        progress(len(snapshots), len(targets))
    return snapshots


def _checked_kinds(kinds: Iterable[str]) -> list[str]:
    if isinstance(kinds, str):
        raise TypeError("kinds must be a collection of kinds, e.g. ('addr',), not a str")
    chosen = list(dict.fromkeys(kinds))
    unknown = [kind for kind in chosen if kind not in _KIND_SPECS]
    if unknown or not chosen:
        raise ValueError(f"unknown kinds {unknown!r}; expected some of {', '.join(KINDS)}")
    return chosen


def _path_of(target: NetnsTarget) -> tuple[bytes, bool]:
    """The path the C loop opens for ``target``, and whether it must not
    follow a symlink there (names: as ``netns.open_fd``)."""
    if isinstance(target, bool) or not isinstance(target, (str, int, os.PathLike)):
        raise TypeError(f"a namespace is a name, path or fd, not {target!r}")
    if isinstance(target, int):
        return f"/proc/self/fd/{target}".encode(), False
    if isinstance(target, str) and "/" not in target:
        return os.fsencode(netns_module.path_of(target)), True
    return os.fsencode(target), False


def _runs(paths: list[tuple[bytes, bool]]) -> Iterable[tuple[int, list[bytes], bool]]:
    """Consecutive paths opened alike, as ``(first index, paths, nofollow)``."""
    start = 0
    while start < len(paths):
        nofollow = paths[start][1]
        end = start + 1
        while end < len(paths) and paths[end][1] == nofollow:
            end += 1
        yield start, [path for path, _ in paths[start:end]], nofollow
        start = end


_made: list[Callable[..., Snapshot]] = []  # the fast constructor, made on first use
_FIELDS = ("links", "addresses", "routes", "neighbours")  # Snapshot's, after netns


def _snapshot(target: NetnsTarget, specs: list[tuple[str, Message, Reader, str]],
              replies: list[list[Any]]) -> Snapshot:
    values: list[Any] = [None, None, None, None]
    for spec, objects in zip(specs, replies):
        # Replies the reader skipped are None ("None in objects" would call
        # each model's __eq__).
        values[_FIELDS.index(spec[0])] = tuple([o for o in objects if o is not None])
    if not _made:  # one per namespace read: without the frozen __init__
        _made.append(fast_constructor(Snapshot))
    return _made[0](target, *values)


def _read_one(target: NetnsTarget, specs: list[tuple[str, Message, Reader, str]],
              trace: Callable[[str, bytes], None] | None = None) -> Snapshot:
    """One namespace the usual way, through a Handle."""
    with Handle(target) as handle:
        handle.trace = trace
        return Snapshot(netns=target, **{field: tuple(getattr(handle, method)())
                                         for field, _, _, method in specs})
