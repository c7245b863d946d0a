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
- Such a file is read in one pass (``fast_batch``): each line split and
  handed straight to a Batch method, so that reading 5000 lines costs about
  what a Python loop making the same Batch costs. Anything else (quotes,
  comments, other options) goes through the general reader (``read_lines``,
  ``fast_plan``), which decides the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from rawns.cli.grammar import (
    OBJECT_TABLE, PROG, Options, UsageError, parse_options, resolve,
)

TYPE_CHECKING = False  # typing's, without importing typing (-batch start-up)
if TYPE_CHECKING:
    from typing import Optional

    from rawns.batch import Batch

__all__ = ["run_batch", "read_lines", "Line", "fast_plan", "fast_batch", "Runner"]

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
    batch = fast_batch(text, base)
    lines = None
    if batch is None:  # not the common shape: read it the general way, and try again
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
    if lines is None:
        lines = read_lines(text, base)
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
    """The lines as one ``rawns.Batch``, or None if a line is not one Batch
    makes, or needs what a later line makes (run in order, it would fail)."""
    planner = _Planner()
    for line in lines:
        options = line.options
        if not _only_netns_option(options) or not planner.add(options.netns, line.words):
            return None
    return planner.finish()


def fast_batch(text: str, base: Options) -> Optional[Batch]:
    """``fast_plan`` of the file's text in one pass, without making a ``Line``
    or an ``Options`` per line: the common lines (``-n NS`` and a command)
    are split and handed to Batch as they come. None where ``fast_plan``
    says None, and for anything this pass does not read (other options,
    quotes, comments): the caller then reads the file the general way."""
    if not _only_netns_option(base) or any(c in text for c in "#\"'\\"):
        return None  # comments, quotes, escapes: the general reader knows them
    planner = _Planner()
    default = base.netns
    add = planner.add
    for raw in text.splitlines():
        words = raw.split()
        if not words:
            continue
        if words[0][0] != "-":
            if not add(default, words):
                return None
        elif words[0] not in ("-n", "-netns", "--netns") or len(words) < 3 \
                or words[2][0] == "-" or not add(words[1], words[2:]):
            return None
    return planner.finish()


_Link = tuple[str | None, str]


class _NotBatchable(Exception):
    pass


def _only_netns_option(o: Options) -> bool:
    return not (o.json or o.family or o.trace or o.brief or o.oneline or o.stats or o.details
                or o.all or o.help or o.version)


#: What each spelling of an OBJECT resolves to, memoised: resolve() scans the table.
_OBJECTS: dict[str, Optional[str]] = {}


def _object(word: str) -> Optional[str]:
    name = _OBJECTS.get(word, "")
    if name == "":
        try:
            name = resolve(word, OBJECT_TABLE, "object")
        except UsageError:
            name = None
        _OBJECTS[word] = name
    return name


class _Planner:
    """Lines in, Batch calls out, and what ordering needs: the namespaces
    and links that a line names before a line of the file makes them (the
    file would fail there when run in order; Batch would not)."""

    def __init__(self) -> None:
        from rawns.batch import Batch

        self.batch = Batch()
        self.made_ns: set[str] = set()
        self.made_links: set[_Link] = set()
        self.named_ns: set[str] = set()        # named while not yet made
        self.named_links: set[_Link] = set()   # named while not yet made

    def finish(self) -> Optional[Batch]:
        if self.named_ns & self.made_ns or self.named_links & self.made_links:
            return None  # something is made by a line after one that needs it
        return self.batch

    def _needs(self, where: Optional[str], *links: str) -> None:
        if where is not None:
            if "/" in where:
                raise _NotBatchable  # a path: not a name Batch takes
            if where not in self.made_ns:
                self.named_ns.add(where)
        for link in links:
            if (where, link) not in self.made_links:
                self.named_links.add((where, link))

    def add(self, where: Optional[str], words: list[str]) -> bool:
        """Add one line (``words`` after its options); False if it is not a
        Batch operation or a value is bad (run line by line, it is reported
        at its line)."""
        if len(words) < 2:
            return False
        obj = _object(words[0])
        command = words[1]
        try:
            if obj == "netns":
                if command != "add" or len(words) != 3:
                    return False
                self.batch.netns_add(words[2])
                self.made_ns.add(words[2])
            elif obj == "link" and command == "add":
                return self._link_add(words, where)
            elif obj == "link" and command in ("set", "change"):
                return self._link_set(words, where)
            elif obj == "addr" and command == "add":
                return self._addr_add(words, where)
            else:
                return False
        except (_NotBatchable, UsageError, ValueError):
            return False
        return True

    def _link_add(self, words: list[str], where: Optional[str]) -> bool:
        name = None
        up = False
        mtu = None
        at = 2
        count = len(words)
        while at < count and words[at] != "type":
            word = words[at]
            if word in ("name", "mtu"):
                if at + 1 >= count:
                    return False
                if word == "name":
                    name = words[at + 1]
                else:
                    mtu = int(words[at + 1])
                at += 2
                continue
            if word == "up":
                up = True
            elif name is None:
                name = word
            else:
                return False
            at += 1
        if name is None or at + 1 >= count:
            return False
        kind = words[at + 1]
        rest = words[at + 2:]
        if kind == "bridge" and not rest and mtu is None:
            self._needs(where)
            self.batch.bridge(name, netns=where, up=up)
            self.made_links.add((where, name))
            return True
        if kind != "veth" or not rest or rest[0] != "peer":
            return False
        peer = None
        peer_netns = where
        at, count = 1, len(rest)
        while at < count:
            word = rest[at]
            if word in ("name", "netns"):
                if at + 1 >= count:
                    return False
                if word == "name":
                    peer = rest[at + 1]
                else:
                    peer_netns = rest[at + 1]
                    if "/" in peer_netns or peer_netns.isdigit():
                        return False  # a path, or (for ip) a pid
                at += 2
                continue
            if peer is None:
                peer = word
            else:
                return False
            at += 1
        if peer is None:
            return False
        self._needs(where)
        self._needs(peer_netns)
        self.batch.veth(name, peer, netns=where, peer_netns=peer_netns, up=up,
                        peer_up=False, mtu=mtu)
        self.made_links.add((where, name))
        self.made_links.add((peer_netns, peer))
        return True

    def _link_set(self, words: list[str], where: Optional[str]) -> bool:
        dev = None
        up = None
        mtu = None
        master = None
        at, count = 2, len(words)
        while at < count:
            word = words[at]
            if word in ("up", "down"):
                up = word == "up"
                at += 1
                continue
            if word in ("mtu", "master", "dev"):
                if at + 1 >= count:
                    return False
                value = words[at + 1]
                if word == "mtu":
                    mtu = int(value)
                elif word == "master":
                    master = value
                else:
                    dev = value
                at += 2
                continue
            if dev is None:
                dev = word
            else:
                return False
            at += 1
        if dev is None or (up is None and mtu is None and master is None):
            return False
        if master is not None:
            self._needs(where, dev, master)
        else:
            self._needs(where, dev)
        self.batch.link_set(dev, netns=where, up=up, mtu=mtu, master=master)
        return True

    def _addr_add(self, words: list[str], where: Optional[str]) -> bool:
        address = None
        dev = None
        at, count = 2, len(words)
        while at < count:
            word = words[at]
            if word in ("dev", "local"):
                if at + 1 >= count:
                    return False
                if word == "dev":
                    dev = words[at + 1]
                else:
                    address = words[at + 1]
                at += 2
                continue
            if address is None:
                address = word
            else:
                return False
            at += 1
        if address is None or dev is None:
            return False
        if "/" not in address:
            address += "/128" if ":" in address else "/32"
        self._needs(where, dev)
        self.batch.addr_add(dev, address, netns=where)
        return True
