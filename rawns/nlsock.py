"""The only netlink I/O in rawns: NETLINK_ROUTE sockets bound to a namespace.

Three parts, the first two as h11 splits a protocol from its socket:
- ``Conversation`` is sans-IO. ``send(requests)`` numbers the requests and
  returns the bytes to write; ``receive_data(bytes)`` takes what the kernel
  answered; ``next_event()`` hands out how each request ended (its ack, its
  failure, the end of its dump), with the replies it got. It is tested with
  canned replies.
- ``RouteSocket`` is the small loop around it: one socket, many requests per
  ``sendmsg``, read until every request is answered, raise the first failure.
- ``dump_many`` runs the same dumps in many namespaces: a C loop does the
  I/O (``syscalls.exchange_many``), a conversation per namespace checks it.

Invariants:
- Every request asks for an ack (or is a dump, which ends in NLMSG_DONE), so
  each one ends with exactly one terminal event; nothing is left unanswered.
- Replies are matched to requests by sequence number and port id; anything
  else (stale replies of an abandoned exchange) is dropped, never misrouted.
- Opening a socket inside another namespace leaves every thread where it was.
"""

from __future__ import annotations

import errno
import functools
import itertools
import socket
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rawns import netlink, syscalls
from rawns.errors import KernelError, RawnsError, kernel_error
from rawns.netlink import Message
from rawns.netlink.fast import fast_constructor
from rawns.netlink.constants import NETLINK_SOCKOPT, NLM_F, NLMSG

__all__ = [
    "Conversation",
    "Ack",
    "Failure",
    "DumpDone",
    "NEED_DATA",
    "RouteSocket",
    "DumpInterrupted",
    "Outcome",
    "dump_many",
    "request_many",
]

NETLINK_ROUTE = 0
SOL_NETLINK = 270  # not in Python's socket module
_EXT_ACK = int(NETLINK_SOCKOPT.NETLINK_EXT_ACK)
_GET_STRICT_CHK = int(NETLINK_SOCKOPT.NETLINK_GET_STRICT_CHK)
_ADD_MEMBERSHIP = int(NETLINK_SOCKOPT.NETLINK_ADD_MEMBERSHIP)
_SO_RCVBUFFORCE = 33  # not in Python's socket module

_NOOP = int(NLMSG.NLMSG_NOOP)
_ERROR = int(NLMSG.NLMSG_ERROR)
_DONE = int(NLMSG.NLMSG_DONE)
_OVERRUN = int(NLMSG.NLMSG_OVERRUN)
_REQUEST = int(NLM_F.NLM_F_REQUEST)
_ACK = int(NLM_F.NLM_F_ACK)
_DUMP = int(NLM_F.NLM_F_DUMP)
_DUMP_INTR = int(NLM_F.NLM_F_DUMP_INTR)

_RCVBUF = 4 << 20          # socket buffer: room for a burst of acks and dumps
_MAX_BATCH = 128           # requests per sendmsg: their acks fit the large buffer
_SMALL_BATCH = 16          # up to this many requests, the default buffer is enough
_DUMP_RETRIES = 5          # NLM_F_DUMP_INTR: the dump raced a change; try again
_DUMP_CHUNK = 256          # namespaces per C loop of the *_many: bounds how late Ctrl-C lands
_FIRST_DUMP_CHUNK = 16     # the first C loop of the *_many: the caller starts early


# --- events -------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True, slots=True)
class Ack:
    """Request ``index`` succeeded. ``replies``: what the kernel sent in
    answer before its ack (see ``Conversation.send``)."""

    index: int
    replies: list[Any] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class Failure:
    """Request ``index`` failed with ``errno``; ``extack`` is the kernel's text."""

    index: int
    errno: int
    extack: str | None = None
    message: Message | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class DumpDone:
    """The dump of request ``index`` is complete: ``replies`` are its
    messages (see ``Conversation.send``). ``interrupted`` means the kernel's
    tables changed while it ran (NLM_F_DUMP_INTR): retry it."""

    index: int
    interrupted: bool = False
    replies: list[Any] = field(default_factory=list)


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by ``next_event`` when no event can be made without more bytes.
NEED_DATA = _NeedData()

Event = Ack | Failure | DumpDone
#: Reads one reply: ``reader(datagram, frame)`` (see ``Conversation.send``).
Reader = Callable[[bytes, tuple], Any]


# A batch answers with one Ack per request, many namespaces with a DumpDone
# per dump each: made without the frozen __init__.
_new_ack = fast_constructor(Ack)  # (index, replies)
_new_dump_done = fast_constructor(DumpDone)  # (index, interrupted, replies)


class _Pending:
    """A request waiting for its terminal event."""

    __slots__ = ("index", "interrupted", "reader", "replies")

    def __init__(self, index: int, reader: Reader | None) -> None:
        self.index = index
        self.interrupted = False
        self.reader = reader
        self.replies: list[Any] = []


class Conversation:
    """The sans-IO netlink request/response state machine of one socket.

    ``port_id`` is the socket's netlink port id (0 until known: replies are
    then accepted from any port). Sequence numbers start at ``first_seq``.
    """

    def __init__(self, port_id: int = 0, first_seq: int = 1) -> None:
        self.port_id = port_id
        self._seq = itertools.count(first_seq)
        self._pending: dict[int, _Pending] = {}
        self._events: deque[Event] = deque()

    @property
    def outstanding(self) -> int:
        """Requests still waiting for their terminal event."""
        return len(self._pending)

    def send(self, requests: Sequence[Message], readers: Sequence[Reader | None] = ()
             ) -> bytes:
        """Number ``requests`` (indices 0..n-1 in the events) and return the
        bytes that carry them all, for a single ``sendmsg``.

        Every non-dump request gets NLM_F_REQUEST|NLM_F_ACK, so it ends in an
        ack or an error; a dump ends in NLMSG_DONE. ``readers[i]``, if given
        and not None, reads each reply to request ``i``: it is called with the
        datagram and the reply's frame (``rawns.netlink.frames``) and what it
        returns is the reply, as the terminal event's ``replies`` list it; by
        default that is the decoded Message. Errors and NLMSG_DONE are always
        decoded here.
        """
        if self._pending:
            raise RuntimeError("previous requests are still outstanding")
        self._events.clear()
        messages = []
        stamps = []  # (flags, seq, pid) per request, written without copying it
        for index, request in enumerate(requests):
            seq = next(self._seq) & 0xFFFFFFFF
            is_dump = (request.flags & _DUMP) == _DUMP
            flags = request.flags | _REQUEST | (0 if is_dump else _ACK)
            messages.append(request)
            stamps.append((flags, seq, self.port_id))
            reader = readers[index] if index < len(readers) else None
            self._pending[seq] = _Pending(index, reader)
        return netlink.encode_stamped(messages, stamps)

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the socket (one datagram).

        Raises DecodeError if they are not netlink messages (or a reader
        raised it).
        """
        for frame in netlink.frames(data):
            self._route(data, frame)

    def next_event(self) -> Event | _NeedData:
        """The next event, or NEED_DATA while requests are outstanding."""
        if self._events:
            return self._events.popleft()
        return NEED_DATA

    def fork(self) -> Conversation:
        """A conversation awaiting the answers to this one's outstanding
        requests, sent again, as the same bytes, on another socket. Its port
        id is 0 (replies are matched by sequence number); the two share the
        sequence counter, so later requests of either stay distinct."""
        other = _new_conversation(Conversation)  # one per namespace of dump_many: no __init__
        other.port_id = 0
        other._seq = self._seq
        other._pending = {seq: _Pending(p.index, p.reader)
                          for seq, p in self._pending.items()}
        other._events = deque()
        return other

    def abandon(self) -> None:
        """Forget outstanding requests (their late replies will be dropped)."""
        self._pending.clear()
        self._events.clear()

    def _route(self, data: bytes, frame: netlink.Frame) -> None:
        _, _, mtype, flags, seq, pid = frame
        pending = self._pending.get(seq)
        if pending is None or (self.port_id and pid != self.port_id and pid != 0):
            return  # not ours, or stale: never misroute it
        if mtype == _NOOP:
            return
        if mtype != _ERROR and mtype != _DONE and mtype != _OVERRUN:
            if flags & _DUMP_INTR:
                pending.interrupted = True
            reader = pending.reader
            pending.replies.append(netlink.decode_frame(data, frame) if reader is None
                                   else reader(data, frame))
            return
        if mtype == _DONE and netlink.is_plain_done(data, frame):
            del self._pending[seq]
            interrupted = pending.interrupted or bool(flags & _DUMP_INTR)
            self._events.append(_new_dump_done(pending.index, interrupted, pending.replies))
            return
        message = netlink.decode_frame(data, frame)
        if mtype == _ERROR:
            del self._pending[message.seq]
            code = message.error
            if code == 0:
                self._events.append(_new_ack(pending.index, pending.replies))
            else:
                self._events.append(Failure(index=pending.index, errno=-code,
                                            extack=message.extack, message=message))
            return
        if message.flags & _DUMP_INTR:
            pending.interrupted = True
        if mtype == _DONE:
            del self._pending[message.seq]
            code = message.error or 0
            if code < 0:
                self._events.append(Failure(index=pending.index, errno=-code,
                                            extack=message.extack, message=message))
            else:
                self._events.append(_new_dump_done(pending.index, pending.interrupted,
                                                   pending.replies))
            return
        del self._pending[message.seq]  # NLMSG_OVERRUN
        self._events.append(Failure(index=pending.index, errno=errno.ENOBUFS))


_new_conversation = object.__new__


# --- the socket ------------------------------------------------------------------

@dataclass
class Outcome:
    """What one request of a batch came to: its replies, and its error if it
    failed (a KernelError; ``None`` on success)."""

    request: Message
    replies: list[Any] = field(default_factory=list)  # Messages, or what a reader made
    error: KernelError | None = None
    interrupted: bool = False  # a dump raced a change (NLM_F_DUMP_INTR)


class DumpInterrupted(RawnsError):
    """A dump was interrupted by concurrent changes more often than retried."""


def _describe(request: Message) -> str:
    return request.type_name


class RouteSocket:
    """A NETLINK_ROUTE socket bound to one network namespace.

    ``netns_fd`` is an fd to the namespace (see ``rawns.netns.open_fd``), or
    None for the calling thread's own; the socket stays bound to it for its
    life, and the fd may be closed once this returns. ``groups`` are multicast
    groups (RTNLGRP_*) to join. ``large_buffer=False`` keeps the default
    receive buffer until an exchange of more than a few requests needs the
    large one (opening is then one syscall cheaper). Thread-safe: one
    exchange at a time.
    """

    def __init__(self, netns_fd: int | None = None, *, groups: Iterable[int] = (),
                 large_buffer: bool = True) -> None:
        self._sock = syscalls.socket_in(netns_fd, socket.AF_NETLINK, socket.SOCK_RAW,
                                       NETLINK_ROUTE)
        try:
            setsockopt = self._sock.setsockopt
            setsockopt(SOL_NETLINK, _EXT_ACK, 1)
            setsockopt(SOL_NETLINK, _GET_STRICT_CHK, 1)
            self._large_buffer = False
            if large_buffer:
                self._grow_buffer()
            self._sock.bind((0, 0))
            for group in groups:
                setsockopt(SOL_NETLINK, _ADD_MEMBERSHIP, group)
            port_id = self._sock.getsockname()[0]
        except BaseException:
            self._sock.close()
            raise
        self._conversation = Conversation(port_id=port_id)
        self._lock = threading.Lock()
        #: Called with ("send"|"recv", bytes) for every datagram; for --trace.
        self.trace = None

    def _grow_buffer(self) -> None:
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _RCVBUF)
        except PermissionError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        self._large_buffer = True

    @property
    def port_id(self) -> int:
        return self._conversation.port_id

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "RouteSocket":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # The exchange ---------------------------------------------------------------

    def exchange(self, requests: Sequence[Message], readers: Sequence[Reader | None] = ()
                 ) -> list[Outcome]:
        """Send ``requests`` (one ``sendmsg`` per 128) and wait until each one
        is answered. Returns one Outcome per request, in order; does not raise
        for a kernel refusal (see ``outcome.error``). ``readers``: see
        ``Conversation.send``."""
        outcomes = [Outcome(request=r) for r in requests]
        with self._lock:
            if len(requests) > _SMALL_BATCH and not self._large_buffer:
                # Failures echo their request: a slice of big ones may not
                # fit the default buffer, and what does not fit is lost.
                self._grow_buffer()
            # In slices, so that the acks of one slice always fit the receive
            # buffer: acks the kernel cannot queue are lost (ENOBUFS).
            for start in range(0, len(requests), _MAX_BATCH):
                data = self._conversation.send(requests[start:start + _MAX_BATCH],
                                               readers[start:start + _MAX_BATCH])
                try:
                    self._send(data)
                    self._drain(outcomes[start:start + _MAX_BATCH])
                except BaseException:
                    self._conversation.abandon()
                    raise
        return outcomes

    def request(self, requests: Sequence[Message], *, subjects: Sequence[str | None] = ()
                ) -> list[list[Message]]:
        """Like ``exchange``, but raise the first failure (naming the request
        that failed) after every request has been answered. Returns the
        replies of each request."""
        outcomes = self.exchange(requests)
        for index, outcome in enumerate(outcomes):
            if outcome.error is not None:
                subject = subjects[index] if index < len(subjects) else None
                if subject:
                    outcome.error.subject = subject
                raise outcome.error
        return [o.replies for o in outcomes]

    def call(self, request: Message, subject: str | None = None) -> list[Message]:
        """One request; raises its failure. Returns its replies (if any)."""
        return self.request([request], subjects=[subject])[0]

    def dump(self, request: Message, subject: str | None = None,
             reader: Reader | None = None) -> list[Any]:
        """Run a dump request to its end and return every message of it (or
        what ``reader`` made of each, see ``Conversation.send``), retrying
        when the kernel reports the dump was interrupted."""
        for _ in range(_DUMP_RETRIES):
            outcome = self.exchange([request], (reader,))[0]
            if outcome.error is not None:
                if subject:
                    outcome.error.subject = subject
                raise outcome.error
            if not outcome.interrupted:
                return outcome.replies
        raise DumpInterrupted(
            f"{_describe(request)} dump interrupted by concurrent changes "
            f"{_DUMP_RETRIES} times in a row")

    def _send(self, data: bytes) -> None:
        if self.trace is not None:
            self.trace("send", data)
        try:
            sent = self._sock.send(data)
        except OSError as err:
            raise kernel_error(err.errno, syscall="sendmsg") from err
        if sent != len(data):  # netlink datagrams are all or nothing
            raise kernel_error(errno.EMSGSIZE, syscall="sendmsg")

    def _drain(self, outcomes: list[Outcome]) -> None:
        conversation = self._conversation
        while True:
            event = conversation.next_event()
            if event is NEED_DATA:
                if not conversation.outstanding:
                    return
                for data in self._recv():
                    conversation.receive_data(data)
                continue
            _settle(event, outcomes[event.index])

    def _recv(self) -> list[bytes]:
        """The datagrams waiting on the socket (waits for the first): one
        recvmmsg(2) takes a whole burst of acks."""
        while True:
            try:
                datagrams = syscalls.recv_many(self._sock.fileno())
                break
            except KernelError as err:
                if err.errno == errno.EINTR:
                    continue  # as PEP 475: a signal handler that raised has run by now
                if err.errno == errno.ENOBUFS:
                    err.subject = ("netlink socket: the kernel dropped messages because "
                                   "the receive buffer overflowed")
                raise
        if self.trace is not None:
            for data in datagrams:
                self.trace("recv", data)
        return datagrams

    # Events (multicast) ------------------------------------------------------------

    def events(self) -> Iterator[Message]:
        """Decoded multicast messages of the groups joined at creation, forever
        (stop iterating to stop). ENOBUFS (events lost) is raised."""
        while True:
            for data in self._recv():
                yield from netlink.decode(data)


def _settle(event: Event, outcome: Outcome) -> None:
    """Record how a request ended in its Outcome."""
    cls = event.__class__
    if cls is Failure:
        outcome.error = kernel_error(event.errno, msg_type=_describe(outcome.request),  # type: ignore[union-attr]
                                     extack=event.extack)  # type: ignore[union-attr]
        return
    outcome.replies = event.replies  # type: ignore[union-attr]
    if cls is DumpDone and event.interrupted:  # type: ignore[union-attr]
        outcome.interrupted = True


# --- many namespaces -----------------------------------------------------------------

# The most an answer to a request can take in the inbox: a failure echoes the
# request, with its nlmsgerr header and the kernel's extack text.
_ANSWER_OVERHEAD = 512


def _overlapped(jobs: Iterable[Any], run: Callable[[Any], Any]) -> Iterator[tuple[Any, Any]]:
    """``(job, run(job))`` for each of ``jobs``, in order, ``run`` running in
    a helper thread one job ahead: while it runs job k+1, the caller handles
    the result of job k and makes job k+2 (iterating ``jobs``). So a C loop
    (which lets go of the interpreter) and the Python around it overlap. A
    failure of ``run`` is raised here; when the caller stops, jobs not yet
    started are dropped, and the one running is waited for."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rawns-many")
    try:
        running = None
        for job in jobs:
            started = pool.submit(run, job)
            if running is not None:
                yield running[0], running[1].result()
            running = (job, started)
        if running is not None:
            yield running[0], running[1].result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_turn(jobs: Iterable[Any], run: Callable[[Any], Any], overlap: bool
             ) -> Iterator[tuple[Any, Any]]:
    """``_overlapped``, or the same on the caller's thread (for a few jobs,
    where a thread would cost more than it saves)."""
    if overlap:
        return _overlapped(jobs, run)
    return ((job, run(job)) for job in jobs)


def _chunk_sizes() -> Iterator[int]:
    """How many namespaces each C loop of a *_many takes: 16, 32, ... 256,
    256... The first ends early, so that the caller starts early; later ones
    are long, since each costs a wait for the interpreter while the caller
    is busy."""
    size = _FIRST_DUMP_CHUNK
    while True:
        yield size
        size = min(2 * size, _DUMP_CHUNK)


def _growing(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``items`` in chunks of ``_chunk_sizes``."""
    start = 0
    for size in _chunk_sizes():
        if start >= len(items):
            return
        yield items[start:start + size]
        start += size


@dataclass
class _Chunk:
    """The namespaces one C loop of ``request_many`` writes to."""

    paths: list[bytes] = field(default_factory=list)
    requests: list[Sequence[Message]] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    datagrams: list[list[bytes]] = field(default_factory=list)


def request_many(paths: Sequence[bytes], requests: Iterable[Sequence[Message]], *,
                 nofollow: bool = False) -> list[list[Outcome]]:
    """Send each namespace of ``paths`` its ``requests`` (no dumps), on a
    socket opened there for them, by one C loop per chunk of namespaces
    (``syscalls.exchange_many``, with NETLINK_EXT_ACK): 16 requests per
    ``sendmsg``, so that their acks always fit the socket's default buffer.
    ``requests`` may be an iterator: each namespace's are taken (and
    encoded) as its chunk is made. Beyond 16 namespaces the C loops run in a
    helper thread, one chunk ahead of the caller, who meanwhile makes the
    next chunk and checks the answers of the last one; the caller's thread
    never leaves its namespace (below, the C loop moves it, and brings it
    home before it returns).

    Returns each namespace's Outcomes, as ``RouteSocket.exchange`` does;
    a request the kernel did not answer (which it always does before
    ``sendmsg`` returns) fails with ENOMSG. Raises ValueError for a namespace
    whose answers might not fit an inbox (send those on a RouteSocket), or
    the KernelError of a namespace that could not be entered or written to;
    either way the chunks before it were sent and their answers are lost:
    for callers that can undo without them.
    """
    outcomes: list[list[Outcome]] = []
    run = functools.partial(_exchange_chunk, nofollow=nofollow)
    for chunk, answers in _in_turn(_chunks_of(paths, requests), run,
                                   len(paths) > _FIRST_DUMP_CHUNK):
        for conversation, asked, answer in zip(chunk.conversations, chunk.requests, answers):
            outcomes.append(_answered(conversation, asked, answer))  # type: ignore[arg-type]
    return outcomes


def _chunks_of(paths: Sequence[bytes], requests: Iterable[Sequence[Message]]
               ) -> Iterator[_Chunk]:
    """Chunks of ``_chunk_sizes`` namespaces at most, whose answers
    fit an inbox even if every request fails, their requests encoded."""
    chunk, room, slots = _Chunk(), syscalls.INBOX_BYTES, syscalls.INBOX_DATAGRAMS
    sizes = _chunk_sizes()
    most = next(sizes)
    for path, asked in zip(paths, requests):
        if any(request.flags & _DUMP == _DUMP for request in asked):
            raise ValueError("request_many sends no dumps (see dump_many)")
        conversation = Conversation()
        data = conversation.send(asked)
        if len(asked) > _SMALL_BATCH:
            frames = netlink.frames(data)
            cuts = [frames[i][0] for i in range(0, len(frames), _SMALL_BATCH)] + [len(data)]
            datagrams = [data[a:b] for a, b in zip(cuts, cuts[1:])]
        else:
            datagrams = [data]
        worst = len(data) + _ANSWER_OVERHEAD * len(asked)
        if worst > syscalls.INBOX_BYTES or len(asked) > syscalls.INBOX_DATAGRAMS:
            raise ValueError("a namespace's answers might not fit the inbox: "
                             "send its requests on a RouteSocket")
        if chunk.paths and (len(chunk.paths) == most or worst > room or len(asked) > slots):
            yield chunk
            chunk, room, slots = _Chunk(), syscalls.INBOX_BYTES, syscalls.INBOX_DATAGRAMS
            most = next(sizes)
        chunk.paths.append(path)
        chunk.requests.append(asked)
        chunk.conversations.append(conversation)
        chunk.datagrams.append(datagrams)
        room -= worst
        slots -= len(asked)
    if chunk.paths:
        yield chunk


def _exchange_chunk(chunk: _Chunk, nofollow: bool) -> list[list[bytes]]:
    answers = syscalls.exchange_many(chunk.paths, NETLINK_ROUTE, chunk.datagrams,
                                     syscalls.Tally(), nofollow=nofollow, ext_ack=True)
    if len(answers) != len(chunk.paths) or None in answers:  # sized so that it cannot happen
        raise RawnsError("the kernel's answers did not fit the inbox")
    return answers  # type: ignore[return-value]


def _answered(conversation: Conversation, requests: Sequence[Message],
              datagrams: list[bytes]) -> list[Outcome]:
    """The Outcomes of ``requests`` (sent by ``conversation``) in ``datagrams``."""
    outcomes = [Outcome(request=request) for request in requests]
    for data in datagrams:
        conversation.receive_data(data)
    while (event := conversation.next_event()) is not NEED_DATA:
        _settle(event, outcomes[event.index])  # type: ignore[arg-type]
    for pending in conversation._pending.values():
        outcomes[pending.index].error = kernel_error(
            errno.ENOMSG, msg_type=_describe(requests[pending.index]),
            subject="no answer from the kernel")
    return outcomes


def dump_many(paths: Sequence[bytes], requests: Sequence[Message],
              readers: Sequence[Reader | None] = (), *, nofollow: bool = False,
              trace: Callable[[str, bytes], None] | None = None
              ) -> Iterator[list[list[Any]] | None]:
    """Run the dump ``requests`` in each namespace of ``paths``, on a socket
    opened there for them, by one C loop per chunk of namespaces
    (``syscalls.exchange_many``; ``nofollow``: the paths are opened without
    following a symlink). Beyond 16 namespaces, the C loops run in a helper
    thread, one chunk ahead of the caller, who reads the replies: the
    kernel's work and Python's overlap, and the caller's thread never leaves
    its namespace (below, the C loop moves it, and brings it home before it
    returns).

    Yields, for each namespace in order, the replies of each request (what
    its reader made of them, see ``Conversation.send``), checked by a
    conversation as any other; or None when that namespace's answers are not
    whole, plain dumps (too big for the inbox, interrupted by a change,
    refused) or it could not be entered or read: the caller reads that one
    the usual way (``RouteSocket.dump``), which retries and names the error.
    Raises KernelError only when the reading thread's own namespace could not
    be opened or returned to. ``trace``, if given, is called with ("send"|
    "recv", bytes) for every datagram of each namespace, as it is read here.
    """
    template = Conversation()
    data = template.send(requests, readers)
    # Sent one at a time: a dump request sent while another dump of the
    # socket is still running is refused (EBUSY).
    wire = [data[frame[0]:frame[1]] for frame in netlink.frames(data)]
    run = functools.partial(_read_chunk, wire=wire, nofollow=nofollow)
    for _, answers in _in_turn(_growing(paths), run, len(paths) > _FIRST_DUMP_CHUNK):
        for answer in answers:
            if trace is not None and answer is not None:
                for data in wire:
                    trace("send", data)
                for data in answer:
                    trace("recv", data)
            yield None if answer is None else _whole_dumps(template, answer)


def _read_chunk(paths: Sequence[bytes], wire: list[bytes], nofollow: bool
                ) -> list[list[bytes] | None]:
    """What each namespace of ``paths`` answered to ``wire`` (None: read it
    another way), in as many C loops as it takes: one, unless the inbox
    fills up or a namespace cannot be entered or read."""
    tally = syscalls.Tally()
    read: list[list[bytes] | None] = []
    size = None
    while len(read) < len(paths):
        position = len(read)
        chunk = paths[position:] if size is None else paths[position:position + size]
        size = None
        try:
            read += syscalls.exchange_many(chunk, NETLINK_ROUTE, [wire] * len(chunk), tally,
                                           nofollow=nofollow)
        except KernelError:
            if tally.failed_step in syscalls.EXCHANGE_FATAL_STEPS:
                raise
            if tally.done:
                size = tally.done  # read those again on their own; then this one fails first
            else:
                read.append(None)
    return read


def _whole_dumps(template: Conversation, datagrams: list[bytes]) -> list[list[Any]] | None:
    """The replies of each request of ``template`` in ``datagrams``, or None
    unless every dump ended (NLMSG_DONE) uninterrupted and unrefused."""
    conversation = template.fork()
    for data in datagrams:
        conversation.receive_data(data)
    if conversation.outstanding:
        return None
    replies: list[list[Any]] = [[]] * len(template._pending)
    while True:
        event = conversation.next_event()
        if event is NEED_DATA:
            return replies
        if event.__class__ is not DumpDone or event.interrupted:  # type: ignore[union-attr]
            return None
        replies[event.index] = event.replies  # type: ignore[union-attr]
