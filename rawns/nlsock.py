"""NETLINK_ROUTE sockets bound to a namespace: the small I/O loop of rawns.

``RouteSocket`` is the socket around a sans-IO ``Conversation``
(``rawns.netlink.conversation``), as h11 splits a protocol from its socket:
one socket, many requests per ``sendmsg``, read until every request is
answered, raise the first failure. ``SOCKET_OPTIONS`` are the options of
every netlink socket rawns opens, here and in the C loop of ``rawns.fanout``
(many namespaces at once).

Invariants:
- Every request of an exchange ends in exactly one Outcome (see
  ``Conversation``); a request the kernel refused is an Outcome with an
  error, raised by ``request``/``call``/``dump``, never silently dropped.
- One exchange at a time per socket; an exchange that fails or is
  interrupted abandons its requests, so their late replies are dropped.
- Opening a socket inside another namespace leaves every thread where it was.
"""

from __future__ import annotations

import errno
import fcntl
import os
from _socket import AF_NETLINK, MSG_DONTWAIT, MSG_TRUNC, SO_RCVBUF, SOCK_RAW, SOL_SOCKET
from _socket import socket as _plain_socket
from _thread import allocate_lock

from rawns import netlink, syscalls
from rawns.errors import EventsLostError, KernelError, RawnsError, kernel_error
from rawns.netlink import Message
from rawns.netlink.constants import (
    NETLINK_ROUTE, NETLINK_SOCKOPT, SO_RCVBUFFORCE, SOL_NETLINK,
)
from rawns.netlink.conversation import NEED_DATA, Conversation, DumpDone, Event, Failure, Reader
from rawns.records import field, record

# _socket and _thread, not socket and threading: RouteSocket needs only what the C
# modules have, and the Python ones cost ~7 ms of every command's start-up.
TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from typing import Any

__all__ = [
    "RouteSocket",
    "DumpInterrupted",
    "Outcome",
    "SOCKET_OPTIONS",
    "SMALL_BATCH",
]

#: The options of every netlink socket rawns opens, as ``(level, option,
#: value)`` for setsockopt(2): ``RouteSocket`` sets them, and the C loop of
#: ``rawns.fanout`` (``syscalls.exchange_many``) is given them, so a request
#: means the same on either.
SOCKET_OPTIONS: tuple[tuple[int, int, int], ...] = (
    # Errors carry the kernel's text (and the offending attribute).
    (SOL_NETLINK, int(NETLINK_SOCKOPT.NETLINK_EXT_ACK), 1),
    # Requests are checked strictly, and dumps are filtered by what their
    # header and attributes ask for (a route dump's table, say) in the kernel.
    (SOL_NETLINK, int(NETLINK_SOCKOPT.NETLINK_GET_STRICT_CHK), 1),
)
#: Up to this many requests in one ``sendmsg``, their answers fit a socket's
#: default receive buffer, even if each one fails and echoes its request.
SMALL_BATCH = 16

_ADD_MEMBERSHIP = int(NETLINK_SOCKOPT.NETLINK_ADD_MEMBERSHIP)
_RCVBUF = 4 << 20          # socket buffer: room for a burst of acks and dumps
_MAX_BATCH = 128           # requests per sendmsg: their acks fit the large buffer
_DUMP_RETRIES = 5          # NLM_F_DUMP_INTR: the dump raced a change; try again


@record(frozen=False, kw_only=False, slots=False)
class Outcome:
    """What one request of a batch came to: its replies, and its error if it
    failed (a KernelError; ``None`` on success)."""

    request: Message
    replies: list[Any] = field(default_factory=list)  # Messages, or what a reader made
    error: KernelError | None = None
    interrupted: bool = False  # a dump raced a change (NLM_F_DUMP_INTR)

    def settle(self, event: Event) -> None:
        """Record how the request ended: ``event`` is its terminal event."""
        if isinstance(event, Failure):
            self.error = kernel_error(event.errno, msg_type=self.request.type_name,
                                      extack=event.extack)
            return
        self.replies = event.replies
        if isinstance(event, DumpDone) and event.interrupted:
            self.interrupted = True


class DumpInterrupted(RawnsError):
    """A dump was interrupted by concurrent changes more often than retried."""


def _events_lost() -> EventsLostError:
    return EventsLostError(errno.ENOBUFS, syscall="recvmmsg", subject=(
        "netlink events were lost: the kernel had more to send than the receive "
        "buffer holds while nobody read it"))


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
        # Made, its options set and bound by one C call (the port id known).
        fd, port_id = syscalls.netlink_socket_in(netns_fd, NETLINK_ROUTE, SOCKET_OPTIONS)
        try:
            self._sock = _plain_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, fileno=fd)
        except BaseException:  # e.g. KeyboardInterrupt right after the C call
            os.close(fd)
            raise
        try:
            self._large_buffer = False
            if large_buffer:
                self._grow_buffer()
            for group in groups:
                self._sock.setsockopt(SOL_NETLINK, _ADD_MEMBERSHIP, group)
        except BaseException:
            self._sock.close()
            raise
        self._conversation = Conversation(port_id=port_id)
        self._lock = allocate_lock()
        #: Called with ("send"|"recv", bytes) for every datagram; for --trace.
        self.trace: Callable[[str, bytes], None] | None = None

    def _grow_buffer(self) -> None:
        try:
            self._sock.setsockopt(SOL_SOCKET, SO_RCVBUFFORCE, _RCVBUF)
        except PermissionError:
            self._sock.setsockopt(SOL_SOCKET, SO_RCVBUF, _RCVBUF)
        self._large_buffer = True

    @property
    def port_id(self) -> int:
        return self._conversation.port_id

    def fileno(self) -> int:
        return self._sock.fileno()

    def netns_fd(self) -> int:
        """A new O_CLOEXEC fd to the network namespace this socket belongs to
        (ioctl SIOCGSKNS): the very one, even if its name or the fd it was
        opened from now means another. The caller closes it. Needs
        CAP_NET_ADMIN over that namespace (PermissionError otherwise)."""
        try:
            fd: int = fcntl.ioctl(self._sock.fileno(), syscalls.SIOCGSKNS)
        except OSError as err:
            raise kernel_error(err.errno or errno.EIO, syscall="ioctl SIOCGSKNS",
                               subject="the namespace of a netlink socket") from err
        return fd

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> RouteSocket:
        return self

    def __exit__(self, *_: object) -> None:
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
            if len(requests) > SMALL_BATCH and not self._large_buffer:
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
                ) -> list[list[Any]]:
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

    def call(self, request: Message, subject: str | None = None) -> list[Any]:
        """One request; raises its failure. Returns its replies (if any)."""
        return self.request([request], subjects=[subject])[0]

    def dump(self, request: Message, subject: str | None = None,
             reader: Reader | None = None) -> list[Any]:
        """Run a dump request to its end and return every message of it (or
        what ``reader`` made of each, see ``Conversation.send``), retrying
        when the kernel reports the dump was interrupted."""
        for _ in range(_DUMP_RETRIES):
            replies, outcome = self._dump_once(request, reader)
            if outcome is None:
                return replies
            if outcome.error is not None:
                if subject:
                    outcome.error.subject = subject
                raise outcome.error
            if not outcome.interrupted:
                return outcome.replies
        raise DumpInterrupted(
            f"{request.type_name} dump interrupted by concurrent changes "
            f"{_DUMP_RETRIES} times in a row")

    def _dump_once(self, request: Message, reader: Reader | None
                   ) -> tuple[list[Any], Outcome | None]:
        """``exchange([request], (reader,))[0]`` for one dump: when the first
        read brings its whole, plain answer (the usual case: one recvmmsg
        takes up to 8 datagrams), its replies are read in one pass
        (``Conversation.plain_dumps``) and returned with no Outcome; anything
        else goes through the conversation as in ``exchange``, and ends in
        the Outcome returned."""
        conversation = self._conversation
        with self._lock:
            data = conversation.send((request,), (reader,))
            try:
                self._send(data)
                datagrams = self._recv()
                plain = conversation.plain_dumps(datagrams)
                if plain is not None:
                    conversation.abandon()  # answered in full: nothing is outstanding
                    return plain[0], None
                outcome = Outcome(request=request)
                for datagram in datagrams:
                    conversation.receive_data(datagram)
                self._drain([outcome])
            except BaseException:
                conversation.abandon()
                raise
        return outcome.replies, outcome

    def _send(self, data: bytes) -> None:
        if self.trace is not None:
            self.trace("send", data)
        try:
            sent = self._sock.send(data)
        except OSError as err:
            raise kernel_error(err.errno or errno.EIO, syscall="sendmsg") from err
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
            outcomes[event.index].settle(event)

    def receive(self) -> list[bytes]:
        """The datagrams waiting (waits for the first), for a socket that
        only listens to events: one recvmmsg(2). Raises EventsLostError as
        ``events`` does. Not for a socket with an exchange going on."""
        try:
            return self._recv()
        except KernelError as err:
            if err.errno != errno.ENOBUFS:
                raise
            raise _events_lost() from err

    def discard_queued(self) -> int:
        """Read and drop every datagram waiting, without waiting for more;
        returns how many. After an overrun the kernel drops every new event
        until the queue has been read empty, so a consumer that wants to
        know the state again empties it first, then dumps."""
        count = 0
        while True:
            try:
                self._sock.recv(1, MSG_DONTWAIT | MSG_TRUNC)
            except BlockingIOError:
                return count
            except OSError as err:
                if err.errno in (errno.ENOBUFS, errno.EINTR):
                    continue  # reported once per overrun; the queue is still there
                raise kernel_error(err.errno or errno.EIO, syscall="recv") from err
            count += 1

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
        (stop iterating to stop). Raises EventsLostError when the kernel
        dropped some (ENOBUFS); iterating again goes on after them."""
        while True:
            for data in self.receive():
                yield from netlink.decode(data)
