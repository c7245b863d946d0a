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

__all__ = ["run_batch", "read_lines", "Line", "fast_plan", "Runner"]

EXIT_BATCH_FAILED = 1  # ip's status when a line of a batch failed


class Line:
    """One command of a batch file: where it is, its options (shared between
    lines that give the same ones: read, never change them), its words."""

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
    # A file names a few option sets many times (-n POD on each of a pod's
    # lines): each is parsed and merged once. Lines without options share base.
    known: dict[tuple[str, ...], Options] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        try:
            words = _tokens(raw)
        except ValueError as err:  # an unclosed quote
            out.append((number, str(err)))
            continue
        if not words:
            continue
        if not words[0].startswith("-"):
            out.append(Line(number, base, words))
            continue
        original = tuple(words)
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
        key = original[:len(original) - len(words)]
        merged = known.get(key)
        if merged is None:
            merged = known[key] = _merged(base, options)
        out.append(Line(number, merged, words))
    return out


#: How a line is run: ``rawns.cli.dispatch.run_command(words, options, prefix=...)``
#: (handed in by dispatch, which imports this module: no import cycle).
Runner = Callable[..., int]


def run_batch(opts: Options, run_command: Runner) -> int:
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
    base = _merged(opts, Options())
    base.batch = None  # the lines' own options: what the command line gave, but -batch
    lines = read_lines(text, base)
    if all(isinstance(line, Line) for line in lines):
        batch = fast_plan([line for line in lines if isinstance(line, Line)])
        if batch is not None:
            try:
                batch.commit()
                return 0
            except KeyboardInterrupt:
                raise
            except Exception:  # noqa: BLE001 - undone by the Batch; found below, line by line
                pass
    return _one_by_one(lines, name, run_command, force=opts.force)


def _one_by_one(lines: Sequence[Line | tuple[int, str]], name: str, run_command: Runner, *,
                force: bool) -> int:
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

def fast_plan(lines: Sequence[Line]) -> Optional[Batch]:
    """The file as one ``rawns.Batch``, or None if a line is not one Batch
    makes, or needs what a later line makes (run in order, it would fail)."""
    from rawns.batch import Batch

    batch = Batch()
    steps = [_translate(line) for line in lines]
    if any(step is None for step in steps):
        return None
    added = {ns for step in steps if step is not None for ns in step.creates_ns}
    made_ns: set[str] = set()
    made_links: set[tuple[Optional[str], str]] = set()
    later_links = {link for step in steps if step is not None for link in step.makes}
    for step in steps:
        assert step is not None
        for ns in step.namespaces:
            if ns is not None and ns in added and ns not in made_ns:
                return None  # the namespace is made by a later line
        for device in step.devices:
            if device in later_links and device not in made_links:
                return None  # the link is made by a later line
        try:
            step.add(batch)
        except (ValueError, UsageError):
            return None  # a bad value: the line-by-line run reports it at its line
        made_ns.update(step.creates_ns)
        made_links.update(step.makes)
    return batch


_Link = tuple[Optional[str], str]


class _Step:
    """What Batch makes of one line: the namespaces and links it needs, those it
    makes, and how to add it to a Batch."""

    __slots__ = ("namespaces", "devices", "makes", "creates_ns", "add")

    def __init__(self, add: Callable[["Batch"], None], *,
                 namespaces: Sequence[Optional[str]] = (), devices: Sequence[_Link] = (),
                 makes: Sequence[_Link] = (), creates_ns: Sequence[str] = ()) -> None:
        self.add = add
        self.namespaces = list(namespaces)
        self.devices = list(devices)
        self.makes = list(makes)
        self.creates_ns = list(creates_ns)


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


def _translate(line: Line) -> Optional[_Step]:
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
    return _Step(lambda batch: batch.netns_add(name), creates_ns=[name])


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
        bridge = name
        return _Step(lambda batch: batch.bridge(bridge, netns=where, up=up),
                     namespaces=[where], makes=[(where, bridge)])
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
    near, far = name, peer
    return _Step(lambda batch: batch.veth(near, far, netns=where, peer_netns=peer_netns,
                                          up=up, peer_up=False, mtu=mtu),
                 namespaces=[where, peer_netns], makes=[(where, near), (peer_netns, far)])


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
    link = dev
    devices = [(where, link)] + ([(where, master)] if master is not None else [])
    return _Step(lambda batch: batch.link_set(link, netns=where, up=up, mtu=mtu,
                                              master=master),
                 namespaces=[where], devices=devices)


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
    link, value = dev, address
    return _Step(lambda batch: batch.addr_add(link, value, netns=where),
                 namespaces=[where], devices=[(where, link)])
