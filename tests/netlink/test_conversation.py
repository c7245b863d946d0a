"""The sans-IO reply state machine (rawns.netlink.conversation), fed with canned replies."""

from __future__ import annotations

import doctest
import errno

import pytest
from hypothesis import given, strategies as st

from rawns import netlink
from rawns.netlink import IfInfoMsg, Message, NlMsgErr, NlMsgHdr, RTM
from rawns.netlink.attrs import AttrList
from rawns.netlink.tables import make_attr
from rawns.netlink.constants import NLM_F, NLMSG, NLMSGERR_ATTR
from rawns.netlink import conversation as conversation_module
from rawns.netlink.conversation import NEED_DATA, Ack, Conversation, DumpDone, Failure

PORT = 4242


def link_request(name: str) -> Message:
    return Message(type=RTM.RTM_NEWLINK, flags=int(NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL),
                   header=IfInfoMsg(), attrs=AttrList([make_attr("IFLA_IFNAME", name)]))


def dump_request() -> Message:
    return Message(type=RTM.RTM_GETLINK, flags=int(NLM_F.NLM_F_DUMP), header=IfInfoMsg())


def ack(seq: int, error: int = 0, text: str | None = None, pid: int = PORT) -> bytes:
    # As the kernel with NETLINK_EXT_ACK: only the request's header is echoed.
    flags = int(NLM_F.NLM_F_CAPPED)
    attrs = AttrList()
    if text is not None:
        flags |= int(NLM_F.NLM_F_ACK_TLVS)
        attrs = AttrList([make_attr(NLMSGERR_ATTR.NLMSGERR_ATTR_MSG, text)])
    header = NlMsgErr(error=error, request=NlMsgHdr(length=32, type=RTM.RTM_NEWLINK, seq=seq,
                                                    pid=pid))
    return netlink.encode(Message(type=NLMSG.NLMSG_ERROR, flags=flags, seq=seq, pid=pid,
                                  header=header, attrs=attrs))


def link_reply(seq: int, index: int, intr: bool = False) -> bytes:
    flags = int(NLM_F.NLM_F_MULTI) | (int(NLM_F.NLM_F_DUMP_INTR) if intr else 0)
    return netlink.encode(Message(type=RTM.RTM_NEWLINK, flags=flags, seq=seq, pid=PORT,
                                  header=IfInfoMsg(index=index),
                                  attrs=AttrList([make_attr("IFLA_IFNAME", f"if{index}")])))


def done(seq: int, error: int = 0) -> bytes:
    return netlink.encode(Message(type=NLMSG.NLMSG_DONE, flags=int(NLM_F.NLM_F_MULTI),
                                  seq=seq, pid=PORT, header=error))


def drain(conv: Conversation) -> list:
    events = []
    while (event := conv.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def test_send_numbers_requests_and_asks_for_acks():
    conv = Conversation(port_id=PORT, first_seq=100)
    data = conv.send([link_request("a"), link_request("b"), dump_request()])
    sent = netlink.decode(data)
    assert [m.seq for m in sent] == [100, 101, 102]
    assert all(m.pid == PORT for m in sent)
    assert all(m.flags & NLM_F.NLM_F_REQUEST for m in sent)
    assert sent[0].flags & NLM_F.NLM_F_ACK and sent[1].flags & NLM_F.NLM_F_ACK
    assert not sent[2].flags & NLM_F.NLM_F_ACK  # a dump ends with NLMSG_DONE
    assert conv.outstanding == 3


def test_acks_failures_and_dumps_are_matched_to_their_requests():
    conv = Conversation(port_id=PORT, first_seq=1)
    conv.send([link_request("a"), link_request("b"), dump_request()])
    assert conv.next_event() is NEED_DATA
    # the kernel answers in order, in several datagrams
    conv.receive_data(ack(1) + ack(2, -errno.EEXIST, "Link already exists"))
    conv.receive_data(link_reply(3, 1) + link_reply(3, 2))
    conv.receive_data(done(3))
    events = drain(conv)
    assert events[0] == Ack(index=0)
    assert isinstance(events[1], Failure)
    assert events[1].index == 1 and events[1].errno == errno.EEXIST
    assert events[1].extack == "Link already exists"
    assert len(events) == 3
    assert events[-1].index == 2 and not events[-1].interrupted
    assert [m.header.index for m in events[-1].replies] == [1, 2]
    assert conv.outstanding == 0


def test_stale_and_foreign_messages_are_dropped_never_misrouted():
    conv = Conversation(port_id=PORT, first_seq=10)
    conv.send([link_request("a")])
    conv.receive_data(ack(9))                    # an old exchange's late ack
    conv.receive_data(ack(10, pid=PORT + 1))     # someone else's port
    assert drain(conv) == []
    assert conv.outstanding == 1
    conv.receive_data(ack(10))
    assert drain(conv) == [Ack(index=0)]


def test_interrupted_dump_is_reported():
    conv = Conversation(port_id=PORT)
    conv.send([dump_request()])
    conv.receive_data(link_reply(1, 1, intr=True) + done(1))
    [event] = drain(conv)
    assert event.__class__ is DumpDone and event.index == 0 and event.interrupted


def test_dump_failure_in_done():
    conv = Conversation(port_id=PORT)
    conv.send([dump_request()])
    conv.receive_data(done(1, -errno.EINVAL))
    [event] = drain(conv)
    assert isinstance(event, Failure) and event.errno == errno.EINVAL


def test_cannot_send_while_requests_are_outstanding():
    conv = Conversation(port_id=PORT)
    conv.send([link_request("a")])
    with pytest.raises(RuntimeError):
        conv.send([link_request("b")])
    conv.abandon()
    conv.send([link_request("b")])


def test_sequence_numbers_wrap_at_32_bits():
    conv = Conversation(port_id=PORT, first_seq=0xFFFFFFFF)
    data = conv.send([link_request("a"), link_request("b")])
    assert [m.seq for m in netlink.decode(data)] == [0xFFFFFFFF, 0]


@given(st.binary(max_size=300))
def test_hostile_bytes_raise_only_decode_error(data):
    conv = Conversation(port_id=PORT)
    conv.send([link_request("a"), dump_request()])
    try:
        conv.receive_data(data)
    except netlink.DecodeError:
        pass
    drain(conv)


@given(st.lists(st.sampled_from(["ack", "fail", "reply", "done"]), max_size=12),
       st.integers(1, 4))
def test_every_request_gets_exactly_one_terminal_event(script, split):
    conv = Conversation(port_id=PORT, first_seq=1)
    conv.send([link_request("a"), link_request("b"), dump_request()])
    chunks = [ack(1), ack(2, -errno.ENODEV)]
    for step in script:
        chunks.append(link_reply(3, 7) if step == "reply" else ack(99))
    chunks.append(done(3))
    blob = b"".join(chunks)
    # feed it in datagram-sized pieces at message boundaries
    messages = netlink.decode(blob)
    for i in range(0, len(messages), split):
        conv.receive_data(netlink.encode(messages[i:i + split]))
    events = drain(conv)
    assert sorted(e.index for e in events) == [0, 1, 2]
    [dump] = [e for e in events if e.index == 2]
    assert len(dump.replies) == script.count("reply")
    assert conv.outstanding == 0


def test_a_reader_makes_the_replies_of_its_request_only():
    def names(data: bytes, frame: tuple) -> tuple:
        header, values = netlink.header_and_values(data, frame)
        return header.index, values["IFLA_IFNAME"]

    conv = Conversation(port_id=PORT)
    conv.send([dump_request(), dump_request()], [names, None])
    conv.receive_data(link_reply(1, 1) + link_reply(1, 2, intr=True) + done(1))
    conv.receive_data(link_reply(2, 3) + done(2, -errno.EINVAL))
    events = drain(conv)
    assert events[0] == DumpDone(index=0, interrupted=True, replies=[(1, "if1"), (2, "if2")])
    assert isinstance(events[1], Failure) and events[1].errno == errno.EINVAL
    assert len(events) == 2


def test_a_reader_failing_on_a_reply_raises_from_receive_data():
    def refuse(data: bytes, frame: tuple) -> None:
        raise netlink.DecodeError("not what this reader reads", frame[0])

    conv = Conversation(port_id=PORT)
    conv.send([dump_request()], [refuse])
    with pytest.raises(netlink.DecodeError):
        conv.receive_data(link_reply(1, 1) + done(1))
    conv.abandon()
    assert conv.outstanding == 0


def test_an_interrupted_flag_on_done_alone_is_reported():
    conv = Conversation(port_id=PORT)
    conv.send([dump_request()])
    flags = int(NLM_F.NLM_F_MULTI | NLM_F.NLM_F_DUMP_INTR)
    conv.receive_data(link_reply(1, 1) + netlink.encode(
        Message(type=NLMSG.NLMSG_DONE, flags=flags, seq=1, pid=PORT, header=0)))
    [event] = drain(conv)
    assert event.__class__ is DumpDone and event.interrupted and len(event.replies) == 1


def test_the_module_example_runs():
    assert doctest.testmod(conversation_module).failed == 0


def test_unanswered_and_fork_follow_the_outstanding_requests():
    conv = Conversation(port_id=PORT, first_seq=1)
    conv.send([link_request("a"), dump_request(), link_request("b")])
    assert conv.unanswered() == [0, 1, 2]
    conv.receive_data(ack(1) + link_reply(2, 5))
    assert conv.unanswered() == [1, 2]
    other = conv.fork()  # the same requests, awaited on another socket
    assert other.port_id == 0 and other.unanswered() == [1, 2]
    other.receive_data(link_reply(2, 7) + done(2) + ack(3, pid=PORT + 1))
    events = drain(other)
    assert [e.index for e in events] == [1, 2]
    assert [m.header.index for m in events[0].replies] == [7]  # not the first socket's
    assert conv.unanswered() == [1, 2]  # the original is untouched
