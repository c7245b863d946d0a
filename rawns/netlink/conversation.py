# Invariants:
# - Sans-IO: bytes in, events out. No socket, os, threading or clock here; the
#   standard library and the rest of rawns.netlink only (a test checks).
# - Every request asks for an ack (or is a dump, which ends in NLMSG_DONE), so
#   each one ends with exactly one terminal event; nothing is left unanswered
#   by a kernel that answers.
# - Replies are matched to requests by sequence number and port id; anything
#   else (stale replies of an abandoned exchange) is dropped, never misrouted.
"""The netlink request/reply state machine of one socket, without I/O.

As h11's ``Connection`` is for HTTP: ``send(requests)`` numbers the requests
and returns the bytes to write; ``receive_data(data)`` takes one datagram the
kernel answered; ``next_event()`` hands out how each request ended (its
``Ack``, its ``Failure``, the end of its dump, ``DumpDone``) with the replies
it got, or ``NEED_DATA``::

    >>> from rawns.netlink import requests
    >>> conversation = Conversation(port_id=0)
    >>> data = conversation.send([requests.link_dump()])  # write it to a socket
    >>> conversation.next_event()  # ... and feed what comes back to receive_data
    NEED_DATA
    >>> conversation.unanswered()
    [0]

Sockets and the loop around this live in ``rawns.nlsock`` (one namespace)
and ``rawns.fanout`` (many); this module is tested with canned replies.
"""

from __future__ import annotations

import errno
import itertools
from collections import deque

from rawns.records import field, record

from .constants import NLM_F, NLMSG
from .fast import decode_frame, encode_stamped, fast_constructor, frames
from .message import Frame, Message, is_plain_done

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any, Final, Literal

__all__ = [
    "Conversation",
    "Ack",
    "Failure",
    "DumpDone",
    "Event",
    "NEED_DATA",
    "Reader",
]

_NOOP = int(NLMSG.NLMSG_NOOP)
_ERROR = int(NLMSG.NLMSG_ERROR)
_DONE = int(NLMSG.NLMSG_DONE)
_OVERRUN = int(NLMSG.NLMSG_OVERRUN)
_REQUEST = int(NLM_F.NLM_F_REQUEST)
_ACK = int(NLM_F.NLM_F_ACK)
_DUMP = int(NLM_F.NLM_F_DUMP)
_DUMP_INTR = int(NLM_F.NLM_F_DUMP_INTR)
_FIRST_REPLY_TYPE = 16  # NLMSG_MIN_TYPE: below it, netlink's own control messages


# --- events -------------------------------------------------------------------

@record
class Ack:
    """Request ``index`` succeeded. ``replies``: what the kernel sent in
    answer before its ack (see ``Conversation.send``)."""

    index: int
    replies: list[Any] = field(default_factory=list)


@record
class Failure:
    """Request ``index`` failed with ``errno``; ``extack`` is the kernel's text."""

    index: int
    errno: int
    extack: str | None = None
    message: Message | None = field(default=None, compare=False)


@record
class DumpDone:
    """The dump of request ``index`` is complete: ``replies`` are its
    messages (see ``Conversation.send``). ``interrupted`` means the kernel's
    tables changed while it ran (NLM_F_DUMP_INTR): retry it."""

    index: int
    interrupted: bool = False
    replies: list[Any] = field(default_factory=list)


TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    # A one-member enum for type checkers, whose ``is NEED_DATA`` narrows;
    # at run time one plain object, so that the enum module stays unloaded.
    import enum

    class _NeedData(enum.Enum):
        NEED_DATA = "NEED_DATA"
else:
    class _NeedData:
        __slots__ = ()

        def __repr__(self) -> str:
            return "NEED_DATA"

        def __reduce__(self) -> str:
            return "NEED_DATA"  # pickled as the module's global: still the one object

    _NeedData.NEED_DATA = _NeedData()


#: Returned by ``next_event`` when no event can be made without more bytes.
NEED_DATA: Final = _NeedData.NEED_DATA

#: How a request ended: one terminal event per request.
Event = Ack | Failure | DumpDone
#: Reads one reply: ``reader(datagram, frame)``, ``frame`` being one item of
#: ``rawns.netlink.frames(datagram)`` (see ``Conversation.send``).
if TYPE_CHECKING:
    Reader = Callable[[bytes, Frame], Any]
else:
    from collections.abc import Callable as Reader  # the same, without typing's Any


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
        self._seq: Iterator[int] = itertools.count(first_seq)
        self._pending: dict[int, _Pending] = {}  # by sequence number, in the order sent
        self._events: deque[Event] = deque()

    @property
    def outstanding(self) -> int:
        """Requests still waiting for their terminal event."""
        return len(self._pending)

    def unanswered(self) -> list[int]:
        """The indices (as in the events) of the requests still waiting for
        their terminal event, in the order they were sent."""
        return [pending.index for pending in self._pending.values()]

    def send(self, requests: Sequence[Message],
             readers: Sequence[Reader | None] = ()) -> bytes:
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
        return encode_stamped(messages, stamps)

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the socket (one datagram).

        Raises DecodeError if they are not netlink messages (or a reader
        raised it).
        """
        pending_by_seq = self._pending
        port_id = self.port_id
        for frame in frames(data):
            # A dump's replies, inline (they are most messages); the rest, and
            # anything not ours, through _route.
            if frame[2] >= _FIRST_REPLY_TYPE:
                pending = pending_by_seq.get(frame[4])
                if pending is not None and (not port_id or frame[5] == port_id
                                            or frame[5] == 0):
                    if frame[3] & _DUMP_INTR:
                        pending.interrupted = True
                    reader = pending.reader
                    pending.replies.append(decode_frame(data, frame) if reader is None
                                           else reader(data, frame))
                    continue
            self._route(data, frame)

    def next_event(self) -> Event | Literal[_NeedData.NEED_DATA]:
        """The next event, or NEED_DATA while requests are outstanding."""
        if self._events:
            return self._events.popleft()
        return NEED_DATA

    def fork(self) -> Conversation:
        """A conversation awaiting the answers to this one's outstanding
        requests, sent again, as the same bytes, on another socket. Its port
        id is 0 (replies are matched by sequence number); the two share the
        sequence counter, so later requests of either stay distinct."""
        other: Conversation = _new_conversation(Conversation)  # one per namespace: no __init__
        other.port_id = 0
        other._seq = self._seq
        pending = other._pending = {}
        for seq, mine in self._pending.items():  # _Pending(index, reader), without __init__
            theirs = _new_pending(_Pending)
            theirs.index = mine.index
            theirs.interrupted = False
            theirs.reader = mine.reader
            theirs.replies = []
            pending[seq] = theirs
        other._events = deque()
        return other

    def plain_dumps(self, datagrams: Sequence[bytes]) -> list[list[Any]] | None:
        """The replies of each outstanding request (all dumps, in the order
        sent) when ``datagrams`` are exactly their whole, plain answers, as
        the kernel sends them: each dump's replies in turn, each ended by a
        plain NLMSG_DONE, nothing else (no error, no interrupted dump, no
        stray message); each reply made by its request's reader (or
        decoded), as ``receive_data`` would. Else None: feed them to a
        ``fork()``, which judges any answer. The conversation is unchanged.

        One pass with no event or bookkeeping, for ``fanout.dump_many``'s
        many namespaces; for any datagrams, what it returns is what a fork
        fed them would end with (``tests/test_conversation.py``).
        """
        expected = iter(self._pending.items())
        port_id = self.port_id
        seq, pending = next(expected, (None, None))
        if pending is None:
            return None
        reader = pending.reader
        replies: list[Any] = []
        done: list[list[Any]] = []
        for data in datagrams:
            for frame in frames(data):
                if frame[4] != seq or frame[3] & _DUMP_INTR or (
                        port_id and frame[5] != port_id and frame[5] != 0):
                    return None
                if frame[2] >= _FIRST_REPLY_TYPE:
                    replies.append(decode_frame(data, frame) if reader is None
                                   else reader(data, frame))
                elif frame[2] == _DONE and is_plain_done(data, frame):
                    done.append(replies)
                    replies = []
                    seq, pending = next(expected, (None, None))
                    reader = None if pending is None else pending.reader
                else:
                    return None
        return done if pending is None else None

    def abandon(self) -> None:
        """Forget outstanding requests (their late replies will be dropped)."""
        self._pending.clear()
        self._events.clear()

    def _route(self, data: bytes, frame: Frame) -> None:
        """Take one message of ``data``: a reply is kept by its request, a
        terminal message (error/ack, NLMSG_DONE, overrun) makes its event."""
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
            pending.replies.append(decode_frame(data, frame) if reader is None
                                   else reader(data, frame))
            return
        if mtype == _DONE and is_plain_done(data, frame):
            del self._pending[seq]
            interrupted = pending.interrupted or bool(flags & _DUMP_INTR)
            self._events.append(_new_dump_done(pending.index, interrupted, pending.replies))
            return
        message = decode_frame(data, frame)
        if mtype == _ERROR:
            del self._pending[message.seq]
            code = message.error or 0
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
_new_pending = object.__new__
