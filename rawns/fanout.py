"""The same netlink exchange with many namespaces at once: C loops, chunks, a helper thread.

``request_many`` sends each namespace its requests (a ``Batch`` round; or,
in two steps, ``request_chunks`` encodes them, which a caller may do ahead,
and ``send_chunks`` sends them);
``dump_many`` runs the same dumps in each namespace (``read_many``). Below,
``syscalls.exchange_many`` is one C loop that enters each namespace of a
chunk in turn, opens a socket there with ``nlsock.SOCKET_OPTIONS``, writes
and reads, and brings the thread home before it returns; above, a sans-IO
``Conversation`` per namespace checks the answers, as on a ``RouteSocket``.

Invariants:
- The caller's thread never leaves its namespace: the C loops move the
  thread that runs them and bring it home before they return (or raise the
  failure to return, which ends everything).
- Beyond 16 namespaces the C loops run in one helper thread: for
  ``request_many`` one chunk ahead of the caller, who meanwhile makes the
  next chunk and checks the answers of the last; for ``dump_many`` one loop
  over them all, whose answers the caller takes one namespace at a time as
  they come (the loop never needs the interpreter lock, so it never waits
  for the caller). When the caller stops, no further chunk or namespace is
  started and the one running is waited for.
- Answers fit their inbox (``syscalls.INBOX_BYTES``): ``request_many``
  sizes its chunks for the largest answers (every request failing),
  ``dump_many`` reads again what did not fit.
- Every answer is checked by a Conversation: a request is never taken as
  answered unless the kernel's reply says so.
"""

from __future__ import annotations

import errno
import functools
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence

from rawns import netlink, syscalls
from rawns.errors import KernelError, RawnsError, kernel_error
from rawns.netlink import Message
from rawns.netlink.constants import NETLINK_ROUTE, NLM_F
from rawns.netlink.conversation import NEED_DATA, Conversation, DumpDone, Reader
from rawns.nlsock import SMALL_BATCH, SOCKET_OPTIONS, Outcome
from rawns.records import field, record

TYPE_CHECKING = False  # typing's, without importing typing (-batch start-up)
if TYPE_CHECKING:
    from typing import Any, TypeVar

__all__ = ["RequestChunk", "request_many", "request_chunks", "send_chunks", "dump_many"]

_DUMP = int(NLM_F.NLM_F_DUMP)
_CHUNK = 256          # namespaces per C loop: bounds how late Ctrl-C lands
_FIRST_CHUNK = 16     # the first C loop: the caller starts early
# The most an answer to a request can take in the inbox: a failure echoes the
# request, with its nlmsgerr header and the kernel's extack text.
_ANSWER_OVERHEAD = 512

if TYPE_CHECKING:
    J = TypeVar("J")
    R = TypeVar("R")


# --- overlapping the C loops with the caller ------------------------------------------

class _Finished:
    """Tells the caller's thread that a job ran to its end, without
    ``Thread.join`` or ``Future.result``: in CPython a join interrupted by
    KeyboardInterrupt can mark a thread stopped while it still runs, and
    the caller would go on while a C loop still works in its namespaces. A
    plain lock, taken here and let go by the job once ``finished`` is set."""

    def __init__(self) -> None:
        self.finished = False
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        self.finished = True
        self._lock.release()

    def wait(self) -> bool:
        """Wait, through any KeyboardInterrupt; True if one landed meanwhile."""
        interrupted = False
        while not self.finished:
            try:
                self._lock.acquire()  # succeeds only once finished is set
            except KeyboardInterrupt:
                interrupted = True
        return interrupted


class _Task:
    """One job run in a helper thread of its own once the job before it has
    run: what ``_overlapped`` took from ``ThreadPoolExecutor(max_workers=1)``
    (jobs in order, one at a time, ``result``, ``cancel`` before the start),
    without ``concurrent.futures``, whose ``logging`` import alone was ~10 ms
    of ``rawns -batch``'s start-up."""

    def __init__(self, run: Callable[[], Any], before: _Task | None) -> None:
        self.finished = _Finished()  # the job ran to its end (not set if cancelled)
        self.ran = threading.Event()  # ran or cancelled: the next job may start
        self._done = threading.Lock()  # held until ``ran``: ``result`` waits on it
        self._done.acquire()
        self._state = threading.Lock()  # guards ``_cancelled``/``_started``
        self._cancelled = self._started = False
        self._value: Any = None
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, args=(run, before),
                                       name="rawns-many")

    def _main(self, run: Callable[[], Any], before: _Task | None) -> None:
        try:
            if before is not None:
                before.ran.wait()
            with self._state:
                if self._cancelled:
                    return
                self._started = True
            try:
                self._value = run()
            except BaseException as err:  # handed to the caller by result()
                self._error = err
            finally:
                self.finished.set()
        finally:
            self.ran.set()
            self._done.release()

    def cancel(self) -> bool:
        """Drop the job if it has not started; False if it has."""
        with self._state:
            if not self._started:
                self._cancelled = True
            return self._cancelled

    def result(self) -> Any:
        """Wait (KeyboardInterrupt may cut it short) and return or raise."""
        self._done.acquire()
        self._done.release()
        if self._error is not None:
            raise self._error
        return self._value


def _overlapped(jobs: Iterable[J], run: Callable[[J], R]) -> Generator[tuple[J, R], None, None]:
    """``(job, run(job))`` for each of ``jobs``, in order, ``run`` running in
    a helper thread one job ahead: while it runs job k+1, the caller handles
    the result of job k and makes job k+2 (iterating ``jobs``). So a C loop
    (which lets go of the interpreter) and the Python around it overlap. A
    failure of ``run`` is raised here; when the caller stops, jobs not yet
    started are dropped, and the one running is waited for (through any
    KeyboardInterrupt, raised once it is over)."""
    submitted: list[_Task] = []

    def submit(job: J) -> _Task:
        task = _Task(functools.partial(run, job), submitted[-1] if submitted else None)
        submitted.append(task)  # before it starts: a Ctrl-C in start() still finds it
        task.thread.start()
        return task

    try:
        running: tuple[J, _Task] | None = None
        for job in jobs:
            started = submit(job)
            if running is not None:
                yield running[0], running[1].result()
            running = (job, started)
        if running is not None:
            yield running[0], running[1].result()
    finally:
        interrupted = False
        # Drop what has not started before waiting for what has: a job starts
        # as soon as the one before it ends, so the latest are dropped first,
        # each while the one before it still holds it back.
        under_way = [task for task in reversed(submitted)
                     if not task.finished.finished and not task.cancel()]
        for task in under_way:  # started: wait for it
            interrupted |= task.finished.wait()
        for task in submitted:  # each has run or was dropped: their threads end at once
            while task.thread.is_alive():
                try:
                    task.thread.join()
                except KeyboardInterrupt:
                    interrupted = True
        if interrupted:
            raise KeyboardInterrupt


def _in_turn(jobs: Iterable[J], run: Callable[[J], R], overlap: bool
             ) -> Generator[tuple[J, R], None, None]:
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
    size = _FIRST_CHUNK
    while True:
        yield size
        size = min(2 * size, _CHUNK)


# --- requests: a Batch's round -------------------------------------------------------

@record(frozen=False, kw_only=False, slots=False)
class RequestChunk:
    """The namespaces one C loop of ``send_chunks`` writes to, their
    requests encoded (``request_chunks``)."""

    paths: list[bytes] = field(default_factory=list)
    requests: list[Sequence[Message]] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    datagrams: list[list[bytes]] = field(default_factory=list)


def request_many(paths: Sequence[bytes], requests: Iterable[Sequence[Message]], *,
                 nofollow: bool = False) -> list[list[Outcome]]:
    """Send each namespace of ``paths`` its ``requests`` (no dumps), on a
    socket opened there for them, by one C loop per chunk of namespaces
    (``syscalls.exchange_many``): 16 requests per ``sendmsg``, so that their
    acks always fit the socket's default buffer. ``requests`` may be an
    iterator: each namespace's are taken (and encoded) as its chunk is made.
    Beyond 16 namespaces the C loops run in a helper thread, one chunk ahead
    of the caller, who meanwhile makes the next chunk and checks the answers
    of the last one; the caller's thread never leaves its namespace (below,
    the C loop moves it, and brings it home before it returns).

    Returns each namespace's Outcomes, as ``RouteSocket.exchange`` does;
    a request the kernel did not answer (which it always does before
    ``sendmsg`` returns) fails with ENOMSG. Raises ValueError for a namespace
    whose answers might not fit an inbox (send those on a RouteSocket), or
    the KernelError of a namespace that could not be entered or written to;
    either way the chunks before it were sent and their answers are lost:
    for callers that can undo without them.

    The same as ``send_chunks(request_chunks(paths, requests), len(paths))``;
    a caller may make chunks ahead (``request_chunks``) and send them later.
    """
    return send_chunks(request_chunks(paths, requests), len(paths), nofollow=nofollow)


def send_chunks(chunks: Iterable[RequestChunk], count: int, *, nofollow: bool = False,
                before: Callable[[RequestChunk], None] | None = None
                ) -> list[list[Outcome]]:
    """``request_many`` of chunks made by ``request_chunks`` (an iterator of
    them is taken as the C loops go), ``count`` namespaces in all.
    ``before``, if given, is called with each chunk just before its C loop,
    in the thread that runs it (e.g. to wait until its namespaces exist); an
    exception it raises ends everything as a failed C loop would."""
    outcomes: list[list[Outcome]] = []
    run = functools.partial(_exchange_chunk, nofollow=nofollow, before=before)
    pairs = _in_turn(chunks, run, count > _FIRST_CHUNK)
    try:
        for chunk, answers in pairs:
            for conversation, asked, answer in zip(chunk.conversations, chunk.requests,
                                                   answers):
                outcomes.append(_answered(conversation, asked, answer))
    finally:
        # now, not when collected: a failure (Ctrl-C) while answers are read
        # here must not return while a C loop still writes
        pairs.close()
    return outcomes


def request_chunks(paths: Sequence[bytes], requests: Iterable[Sequence[Message]]
                   ) -> Iterator[RequestChunk]:
    """The chunks of ``request_many``, made (``requests`` taken and encoded)
    as they are iterated: ``_chunk_sizes`` namespaces at most, whose answers
    fit an inbox even if every request fails. Raises ValueError as
    ``request_many`` does."""
    chunk, room, slots = RequestChunk(), syscalls.INBOX_BYTES, syscalls.INBOX_DATAGRAMS
    sizes = _chunk_sizes()
    most = next(sizes)
    for path, asked in zip(paths, requests):
        if any(request.flags & _DUMP == _DUMP for request in asked):
            raise ValueError("request_many sends no dumps (see dump_many)")
        conversation = Conversation()
        data = conversation.send(asked)
        if len(asked) > SMALL_BATCH:
            frames = netlink.frames(data)
            cuts = [frames[i][0] for i in range(0, len(frames), SMALL_BATCH)] + [len(data)]
            datagrams = [data[a:b] for a, b in zip(cuts, cuts[1:])]
        else:
            datagrams = [data]
        worst = len(data) + _ANSWER_OVERHEAD * len(asked)
        if worst > syscalls.INBOX_BYTES or len(asked) > syscalls.INBOX_DATAGRAMS:
            raise ValueError("a namespace's answers might not fit the inbox: "
                             "send its requests on a RouteSocket")
        if chunk.paths and (len(chunk.paths) == most or worst > room or len(asked) > slots):
            yield chunk
            chunk, room, slots = RequestChunk(), syscalls.INBOX_BYTES, syscalls.INBOX_DATAGRAMS
            most = next(sizes)
        chunk.paths.append(path)
        chunk.requests.append(asked)
        chunk.conversations.append(conversation)
        chunk.datagrams.append(datagrams)
        room -= worst
        slots -= len(asked)
    if chunk.paths:
        yield chunk


def _exchange_chunk(chunk: RequestChunk, nofollow: bool,
                    before: Callable[[RequestChunk], None] | None = None
                    ) -> list[list[bytes]]:
    if before is not None:
        before(chunk)
    answers = syscalls.exchange_many(chunk.paths, NETLINK_ROUTE, chunk.datagrams,
                                     syscalls.Tally(), nofollow=nofollow,
                                     options=SOCKET_OPTIONS)
    whole = [answer for answer in answers if answer is not None]
    if len(whole) != len(chunk.paths):  # sized so that it cannot happen
        raise RawnsError("the kernel's answers did not fit the inbox")
    return whole


def _answered(conversation: Conversation, requests: Sequence[Message],
              datagrams: list[bytes]) -> list[Outcome]:
    """The Outcomes of ``requests`` (sent by ``conversation``) in ``datagrams``."""
    outcomes = [Outcome(request=request) for request in requests]
    for data in datagrams:
        conversation.receive_data(data)
    while (event := conversation.next_event()) is not NEED_DATA:
        outcomes[event.index].settle(event)
    for index in conversation.unanswered():
        outcomes[index].error = kernel_error(
            errno.ENOMSG, msg_type=requests[index].type_name,
            subject="no answer from the kernel")
    return outcomes


# --- dumps: read_many --------------------------------------------------------------------

def dump_many(paths: Sequence[bytes], requests: Sequence[Message],
              readers: Sequence[Reader | None] = (), *, nofollow: bool = False,
              trace: Callable[[str, bytes], None] | None = None
              ) -> Iterator[list[list[Any]] | None]:
    """Run the dump ``requests`` in each namespace of ``paths``, on a socket
    opened there for them, by one C loop per chunk of namespaces
    (``syscalls.exchange_many``; ``nofollow``: the paths are opened without
    following a symlink). Beyond 16 namespaces, one C loop runs in a helper
    thread and the caller reads each namespace's replies as soon as they are
    whole (``_streamed``): the kernel's work and Python's overlap, and the
    caller's thread never leaves its namespace (below, the C loop moves its
    own thread, and brings it home before it returns).

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
    answers: Iterable[list[bytes] | None]
    if len(paths) > _FIRST_CHUNK:
        answers = _streamed(paths, wire, nofollow)
    else:
        answers = _read_chunk(paths, wire, nofollow)
    try:
        for answer in answers:
            if trace is not None and answer is not None:
                for data in wire:
                    trace("send", data)
                for data in answer:
                    trace("recv", data)
            yield None if answer is None else _whole_dumps(template, answer)
    finally:
        if isinstance(answers, Generator):
            answers.close()  # a helper thread's loop stops now, not when collected


def _streamed(paths: Sequence[bytes], wire: list[bytes], nofollow: bool
              ) -> Generator[list[bytes] | None, None, None]:
    """What each namespace of ``paths`` answered to ``wire`` (None: read it
    another way), in order, each as soon as it is whole: one C loop in a
    helper thread goes from namespace to namespace without coming back to
    Python (``syscalls.ExchangeStream``), so that it never waits for the
    interpreter lock while the caller reads; it starts again after a
    namespace it could not enter or read, or when its inbox is full. When
    the caller stops, the loop starts no further namespace and the one it is
    in is waited for."""
    position = 0
    while position < len(paths):
        rest = paths[position:]
        stream = syscalls.ExchangeStream(rest, NETLINK_ROUTE, wire, nofollow=nofollow,
                                         options=SOCKET_OPTIONS,
                                         inbox_bytes=syscalls.INBOX_BYTES,
                                         inbox_datagrams=syscalls.INBOX_DATAGRAMS)
        finished = _Finished()

        def run(stream: syscalls.ExchangeStream = stream, finished: _Finished = finished
                ) -> None:
            try:
                stream.run()
            finally:
                finished.set()

        threading.Thread(target=run, name="rawns-many", daemon=True).start()
        taken = 0
        try:
            while True:
                ready = stream.wait(taken + 1)
                if ready <= taken:
                    break  # the loop is over
                for answer in stream.answers(ready):
                    taken += 1
                    yield answer
        finally:
            stream.stop()
            if finished.wait():
                raise KeyboardInterrupt
        position += taken
        if stream.error is not None:
            if stream.tally.failed_step in syscalls.EXCHANGE_FATAL_STEPS:
                raise stream.error
            position += 1  # read that one again on its own: then it fails first
            yield None


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
                                           nofollow=nofollow, options=SOCKET_OPTIONS)
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
    plain = template.plain_dumps(datagrams)  # the usual answers, in one pass
    if plain is not None:
        return plain
    conversation = template.fork()
    for data in datagrams:
        conversation.receive_data(data)
    if conversation.outstanding:
        return None
    replies: list[list[Any]] = [[]] * template.outstanding  # it sent them all, read none
    while True:
        event = conversation.next_event()
        if event is NEED_DATA:
            return replies
        if not isinstance(event, DumpDone) or event.interrupted:
            return None
        replies[event.index] = event.replies
