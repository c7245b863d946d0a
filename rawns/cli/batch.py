"""``rawns -batch FILE|-``: many commands in one process, each line in ip's grammar.

Any line may start with ``-n NS`` (and the other global options), which ip's
``-batch`` cannot do: a script for many namespaces is one process here.

Invariants:
- The outcome is ip's: lines run in order, the first failure stops the run
  (``-force``: every line runs, each failure reported), the status is 0 or 1
  (ip's), and each error is one line naming the file and line.
- Where every line is something ``rawns.Batch`` makes (namespaces, veth pairs,
  bridges, addresses, link changes) and no line needs what a later one makes,
  the whole file is one ``Batch``: the bulk machinery's C loops and few
  ``sendmsg`` calls. If that fails, the Batch has removed all it made, and
  the lines run one by one, so that what stands and what is reported are
  those of running them in order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Optional

from rawns.cli.grammar import (
    OBJECT_TABLE, PROG, Options, UsageError, parse_options, resolve,
)

if TYPE_CHECKING:
    from rawns.batch import Batch

__all__ = ["run_batch", "read_lines", "Line", "fast_plan"]

EXIT_BATCH_FAILED = 1  # ip's status when a line of a batch failed


class Line:
    """One command of a batch file: where it is, its options, its words."""

    __slots__ = ("number", "options", "words")

    def __init__(self, number: int, options: Options, words: list[str]) -> None:
        self.number = number
        self.options = options
        self.words = words


def _tokens(text: str) -> list[str]:
    """The words of one line as ip's batch reader splits them: whitespace,
    quotes, and ``#`` starting a comment."""
    if '"' not in text and "'" not in text and "#" not in text and "\\" not in text:
        return text.split()
    import shlex

    return shlex.split(text, comments=True)


_DEFAULTS = Options()


def _merged(base: Options, line: Options) -> Options:
    """The options of a line: the command line's, overridden by the line's own."""
    out = Options()
    for slot in Options.__slots__:
        value = getattr(line, slot)
        setattr(out, slot, value if value != getattr(_DEFAULTS, slot) else getattr(base, slot))
    return out


def read_lines(text: str, base: Options) -> list[Line | tuple[int, str]]:
    """Each command line of a batch (comments and blank lines dropped), or
    ``(number, error)`` for a line whose options are wrong."""
    out: list[Line | tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        try:
            words = _tokens(raw)
        except ValueError as err:  # an unclosed quote
            out.append((number, str(err)))
            continue
        if not words:
            continue
        try:
            options = parse_options(words)
        except UsageError as err:
            out.append((number, str(err)))
            continue
        if options.batch is not None or options.help or options.version:
            out.append((number, "a batch line cannot take -batch, -h or -V"))
            continue
        if not words:
            out.append((number, "an OBJECT is required after the options"))
            continue
        out.append(Line(number, _merged(base, options), words))
    return out


def run_batch(opts: Options) -> int:
    """``rawns -batch FILE``: run the file's lines; 0 or ip's status 1."""
    name = opts.batch or "-"
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
    except OSError as err:
        print(f"{PROG}: -batch {name}: {err.strerror}", file=sys.stderr)
        return EXIT_BATCH_FAILED
    lines = read_lines(text, opts)
    if all(isinstance(line, Line) for line in lines):
        batch = fast_plan([line for line in lines if isinstance(line, Line)], opts)
        if batch is not None:
            try:
                batch.commit()
                return 0
            except KeyboardInterrupt:
                raise
            except Exception:  # noqa: BLE001 - undone by the Batch; found below, line by line
                pass
    return _one_by_one(lines, name, force=opts.force)


def _one_by_one(lines: Sequence[Line | tuple[int, str]], name: str, *, force: bool) -> int:
    from rawns.cli.dispatch import run_command

    failed = False
    for line in lines:
        if isinstance(line, Line):
            sys.stdout.flush()
            status = run_command(list(line.words), line.options,
                                 prefix=f"{PROG}: {name}:{line.number}: ")
            number = line.number
        else:
            number, error = line
            print(f"{PROG}: {name}:{number}: {error}", file=sys.stderr)
            status = EXIT_BATCH_FAILED
        if status != 0:
            failed = True
            if not force:
                break
    sys.stdout.flush()
    return EXIT_BATCH_FAILED if failed else 0


# --- the fast path: the whole file as one rawns.Batch ----------------------------------------

def fast_plan(lines: Sequence[Line], opts: Options) -> Optional[Batch]:
    """The file as one ``rawns.Batch``, or None if a line is not one Batch
    makes, or needs what a later line makes (run in order, it would fail)."""
    from rawns.batch import Batch

    batch = Batch()
    added = {" ".join(line.words[2:3]) for line in lines
             if len(line.words) == 3 and line.words[:2] == ["netns", "add"]}
    made_ns: set[str] = set()
    made_links: set[tuple[Optional[str], str]] = set()
    later_links = set()
    for line in lines:
        spec = _link_made(line)
        if spec is not None:
            later_links.update(spec)
    for line in lines:
        for made in _link_made(line) or ():
            later_links.discard(made)
        step = _translate(line, opts)
        if step is None:
            return None
        namespaces, devices, make = step
        for ns in namespaces:
            if ns is not None and ns in added and ns not in made_ns:
                return None  # the namespace is made by a later line
        for device in devices:
            if device in later_links and device not in made_links:
                return None  # the link is made by a later line
        try:
            created = make(batch)
        except (ValueError, UsageError):
            return None  # a bad value: the line-by-line run reports it at its line
        made_ns.update(created[0])
        made_links.update(created[1])
    return batch


_Made = tuple[set[str], set[tuple[Optional[str], str]]]
_Step = tuple[list[Optional[str]], list[tuple[Optional[str], str]], Callable[["Batch"], _Made]]


def _where(line: Line) -> Optional[str]:
    netns = line.options.netns
    if netns is not None and "/" in netns:
        raise _NotBatchable  # a path: not a name Batch takes
    return netns


class _NotBatchable(Exception):
    pass


def _only_netns_option(line: Line) -> bool:
    o = line.options
    return not (o.json or o.family or o.trace or o.brief or o.oneline or o.stats or o.details
                or o.all)


def _link_made(line: Line) -> Optional[list[tuple[Optional[str], str]]]:
    """The links a ``link add`` line makes, as (namespace, name)."""
    words = line.words
    if len(words) < 3 or words[0] != "link" or words[1] != "add":
        return None
    try:
        step = _translate(line, Options())
    except _NotBatchable:
        return None
    if step is None:
        return None
    return list(step[1])


def _translate(line: Line, opts: Options) -> Optional[_Step]:
    """What Batch makes of ``line``: the namespaces and links it names, and how
    to add it to a Batch; None if it is not a Batch operation."""
    try:
        if not _only_netns_option(line):
            return None
        where = _where(line)
        words = list(line.words)
        obj = resolve(words.pop(0), OBJECT_TABLE, "object")
        command = words.pop(0) if words else ""
        if obj == "netns" and command == "add" and len(words) == 1:
            return _netns_add(words[0])
        if obj == "link" and command == "add":
            return _link_add(words, where)
        if obj == "link" and command in ("set", "change"):
            return _link_set(words, where)
        if obj == "addr" and command == "add":
            return _addr_add(words, where)
    except (_NotBatchable, UsageError):
        return None
    return None


def _netns_add(name: str) -> _Step:
    def make(batch: Batch) -> _Made:
        batch.netns_add(name)
        return {name}, set()

    return [], [], make


def _value(words: list[str]) -> str:
    if not words:
        raise _NotBatchable
    return words.pop(0)


def _link_add(words: list[str], where: Optional[str]) -> Optional[_Step]:
    name = None
    up = False
    mtu = None
    while words and words[0] != "type":
        word = words.pop(0)
        if word == "name":
            name = _value(words)
        elif word == "up":
            up = True
        elif word == "mtu":
            mtu = int(_value(words))
        elif name is None:
            name = word
        else:
            return None
    if name is None or len(words) < 2:
        return None
    kind = words[1]
    rest = words[2:]
    if kind == "bridge" and not rest and mtu is None:
        def bridge(batch: Batch) -> _Made:
            batch.bridge(str(name), netns=where, up=up)
            return set(), {(where, str(name))}

        return [where], [], bridge
    if kind != "veth" or not rest or rest.pop(0) != "peer":
        return None
    peer = None
    peer_netns = where
    while rest:
        word = rest.pop(0)
        if word == "name":
            peer = _value(rest)
        elif word == "netns":
            peer_netns = _value(rest)
            if "/" in peer_netns or peer_netns.isdigit():
                return None  # a path, or (for ip) a pid
        elif peer is None:
            peer = word
        else:
            return None
    if peer is None:
        return None

    def veth(batch: Batch) -> _Made:
        batch.veth(str(name), str(peer), netns=where, peer_netns=peer_netns, up=up,
                   peer_up=False, mtu=mtu)
        return set(), {(where, str(name)), (peer_netns, str(peer))}

    step: _Step = ([where, peer_netns], [], veth)
    return step


def _link_set(words: list[str], where: Optional[str]) -> Optional[_Step]:
    dev = None
    up = None
    mtu = None
    master = None
    while words:
        word = words.pop(0)
        if word in ("up", "down"):
            up = word == "up"
        elif word == "mtu":
            mtu = int(_value(words))
        elif word == "master":
            master = _value(words)
        elif word == "dev":
            dev = _value(words)
        elif dev is None:
            dev = word
        else:
            return None
    if dev is None or (up is None and mtu is None and master is None):
        return None

    def link_set(batch: Batch) -> _Made:
        batch.link_set(str(dev), netns=where, up=up, mtu=mtu, master=master)
        return set(), set()

    devices = [(where, dev)] + ([(where, master)] if master is not None else [])
    return [where], devices, link_set


def _addr_add(words: list[str], where: Optional[str]) -> Optional[_Step]:
    address = None
    dev = None
    while words:
        word = words.pop(0)
        if word == "dev":
            dev = _value(words)
        elif word == "local":
            address = _value(words)
        elif address is None:
            address = word
        else:
            return None
    if address is None or dev is None:
        return None
    if "/" not in address:
        address += "/128" if ":" in address else "/32"

    def addr_add(batch: Batch) -> _Made:
        batch.addr_add(str(dev), str(address), netns=where)
        return set(), set()

    return [where], [(where, dev)], addr_add
