"""``rawns.read_many`` against ``Handle`` and the ``ip`` oracle, its C loop
(``syscalls.exchange_many``) on its own, and ``fanout.dump_many`` on canned
answers. Root only; every namespace is made with the ``ns`` fixture.

The namespaces read here have their links down (bar lo), so that the kernel
adds nothing to them on its own (IPv6 autoconfiguration, multicast
neighbours) between two reads that are compared.
"""

from __future__ import annotations

import errno
import json
import os
import threading

import pytest

import rawns
from rawns import Handle, convert, fanout, netns, nlsock, syscalls
from rawns import snapshot as snapshot_module
from rawns.errors import KernelError
from rawns.netlink import IfInfoMsg, Message, NlMsgErr, NlMsgHdr, encode, requests
from rawns.netlink.constants import NLM_F, NLMSG, RTM
from rawns.snapshot import KINDS, Snapshot
from tests.conftest import run_ip

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

FIELDS = {"link": "links", "addr": "addresses", "route": "routes", "neigh": "neighbours"}
HANDLE_LISTS = {"link": "link_list", "addr": "addr_list", "route": "route_list",
                "neigh": "neigh_list"}


def furnish(name: str, number: int, addresses: int = 2) -> None:
    """Links, addresses, routes and neighbours that stay as they are."""
    with Handle(name) as h:
        h.link_set("lo", up=True)
        h.link_add_veth("va", "vb")
        for k in range(addresses):
            h.addr_add("va", f"10.{number}.{k // 250}.{k % 250 + 1}/16")
        h.addr_add("va", f"fd00:{number}::1/64", nodad=True)
        h.neigh_add("va", f"10.{number}.0.200", "02:00:00:00:00:01")
        h.neigh_add("vb", f"fd00:{number}::9", "02:00:00:00:00:02")
        h.route_add(f"192.0.2.{number}/32", type="blackhole")


def by_handle(target, kinds=KINDS) -> Snapshot:
    with Handle(target) as h:
        return Snapshot(netns=target, **{FIELDS[k]: tuple(getattr(h, HANDLE_LISTS[k])())
                                         for k in kinds})


@pytest.fixture
def furnished(ns):
    names = [ns() for _ in range(3)]
    for number, name in enumerate(names):
        furnish(name, number + 1)
    return names


def test_each_kind_is_what_handle_reads(furnished):
    assert rawns.read_many(furnished) == [by_handle(name) for name in furnished]


def test_kinds_not_asked_for_are_none(furnished):
    [snapshot] = rawns.read_many(furnished[:1], ("neigh", "addr"))
    assert snapshot.links is None and snapshot.routes is None
    assert {str(n.dst) for n in snapshot.neighbours} == {"10.1.0.200", "fd00:1::9"}
    assert snapshot == by_handle(furnished[0], ("addr", "neigh"))


def test_addresses_match_the_ip_oracle(furnished):
    name = furnished[1]
    [snapshot] = rawns.read_many([name], ("addr",))
    shown = json.loads(run_ip("-n", name, "-j", "addr", "show").stdout)
    expected = {(a["local"], a["prefixlen"]) for link in shown for a in link["addr_info"]}
    assert {(str(a.address.ip), a.address.network.prefixlen)
            for a in snapshot.addresses} == expected


def test_routes_of_the_main_table_only_as_handle_and_ip_show_them(ns):
    """Routes in the main, a numbered, a 32-bit and the local table, IPv4 and
    IPv6: read_many has the main table's, as Handle.route_list and ``ip
    route show``; the kernel filtered them itself (the C loop's sockets check
    strictly, as RouteSocket's do), so no other table's route arrived."""
    name = ns()
    run_ip("-n", name, "link", "set", "lo", "up")  # the local table gets lo's routes
    for number, table in enumerate(("main", "100", "1000")):
        run_ip("-n", name, "route", "add", "blackhole", f"198.51.100.{number}/32",
               "table", table)
        run_ip("-n", name, "-6", "route", "add", "blackhole", f"2001:db8:{number}::/64",
               "table", table)
    seen: list[tuple[str, bytes]] = []
    [snapshot] = rawns.read_many([name], ("route", "link"),
                                 trace=lambda way, data: seen.append((way, data)))
    with Handle(name) as h:
        assert list(snapshot.routes) == h.route_list()
    names = {link.index: link.name for link in snapshot.links}
    for family, number in (("-4", 2), ("-6", 10)):
        shown = json.loads(run_ip("-n", name, family, "-j", "route", "show").stdout)
        assert [r.to_json(names, show_table=False) for r in snapshot.routes
                if r.family == number] == shown
    assert len(snapshot.routes) == 2
    arrived = [m for way, data in seen if way == "recv" for m in rawns.netlink.decode(data)
               if m.type == RTM.RTM_NEWROUTE]
    assert len(arrived) == 2 and {m.header.table for m in arrived} == {254}


def test_paths_and_fds_name_namespaces_too(furnished):
    name = furnished[0]
    fd = netns.open_fd(name)
    try:
        by_path, by_fd = rawns.read_many([netns.path_of(name), fd])
    finally:
        os.close(fd)
    expected = by_handle(name)
    assert by_path.netns == netns.path_of(name) and by_fd.netns == fd
    for snapshot in (by_path, by_fd):
        assert {f: getattr(snapshot, f) for f in FIELDS.values()} == \
            {f: getattr(expected, f) for f in FIELDS.values()}


def test_many_namespaces_in_helper_threads_keep_their_order(ns):
    """More namespaces than one C loop takes: a helper thread reads them."""
    names = [ns() for _ in range(40)]
    with Handle(names[7]) as h:
        h.link_add_veth("marker7", "peer7")
    snapshots = rawns.read_many(names, ("link",))
    assert [s.netns for s in snapshots] == names
    assert [sorted(link.name for link in s.links) for s in snapshots] == \
        [["lo", "marker7", "peer7"] if i == 7 else ["lo"] for i in range(40)]


def test_answers_too_big_for_the_inbox_are_read_through_a_handle(ns, monkeypatch):
    """A tiny inbox: the namespace that does not fit even an empty one is
    read the usual way; those that do not fit what is left wait for the next
    C loop. Every result is still exact."""
    monkeypatch.setattr(syscalls, "INBOX_BYTES", 6000)  # a new thread's inbox
    names = [ns() for _ in range(20)]
    furnish(names[3], 3, addresses=60)  # ~6 KiB of addresses
    furnish(names[12], 12)
    one_by_one = []
    read_one = snapshot_module._read_one
    monkeypatch.setattr(snapshot_module, "_read_one", lambda target, specs, trace=None:
                        one_by_one.append(target) or read_one(target, specs, trace))
    read = []
    worker = threading.Thread(target=lambda: read.extend(rawns.read_many(names)))
    worker.start()
    worker.join()
    assert one_by_one == [names[3]]
    assert read == [by_handle(name) for name in names]
    assert len(read[3].addresses) == 2 + 60 + 1


def _steady(snapshots):
    """Snapshots without what moves with the clock alone: a neighbour's
    used/confirmed/updated are seconds since, and a loaded machine takes
    more than a second over the reads compared."""
    clockless = ("used", "confirmed", "updated")
    return [(s.netns, s.links, s.addresses, s.routes,
             tuple(tuple(getattr(n, f) for f in type(n).__slots__ if f not in clockless)
                   for n in s.neighbours or ()))
            for s in snapshots]


def test_several_threads_read_at_once(furnished):
    expected = _steady([by_handle(name) for name in furnished])
    results: list = []
    errors: list = []

    def read() -> None:
        try:
            for _ in range(20):
                results.append(rawns.read_many(furnished))
        except BaseException as err:  # noqa: B036 - reported below
            errors.append(err)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 80 and all(_steady(r) == expected for r in results)


def test_every_datagram_can_be_traced(furnished):
    seen: list[tuple[str, bytes]] = []
    rawns.read_many(furnished, ("addr", "neigh"), trace=lambda way, data: seen.append((way, data)))
    sent = [rawns.netlink.decode(d)[0].type for way, d in seen if way == "send"]
    assert sent == [RTM.RTM_GETADDR, RTM.RTM_GETNEIGH] * 3
    received = [m for way, d in seen if way == "recv" for m in rawns.netlink.decode(d)]
    assert sum(m.type == RTM.RTM_NEWADDR for m in received) == 3 * 5
    assert "IFA_LOCAL" in rawns.netlink.explain(next(d for way, d in seen if way == "recv"))


def test_progress_is_reported_up_to_the_total(ns):
    names = [ns() for _ in range(3)]
    seen = []
    rawns.read_many(names, ("addr",), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)


def test_a_missing_namespace_is_named_and_the_thread_stays_home(furnished, prefix):
    home = os.readlink("/proc/thread-self/ns/net")
    with pytest.raises(FileNotFoundError) as caught:
        rawns.read_many([furnished[0], f"{prefix}missing", furnished[1]])
    assert f"{prefix}missing" in str(caught.value)
    assert os.readlink("/proc/thread-self/ns/net") == home


def test_what_is_not_a_namespace_is_refused_as_handle_refuses_it(furnished, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("")
    with pytest.raises(netns.NotANetnsError):
        rawns.read_many([furnished[0], str(plain)])
    link = os.path.join(netns.RUN_DIR, os.path.basename(furnished[0]) + "-link")
    os.symlink(netns.path_of(furnished[0]), link)
    try:
        with pytest.raises(netns.NotANetnsError):  # a name is never followed
            rawns.read_many([os.path.basename(link)])
    finally:
        os.unlink(link)


@pytest.mark.parametrize("kinds, error", [("addr", TypeError), (("addr", "nope"), ValueError),
                                          ((), ValueError)])
def test_bad_kinds_are_refused_before_anything(kinds, error):
    with pytest.raises(error):
        rawns.read_many(["whatever"], kinds)


@pytest.mark.parametrize("target, error", [("..", ValueError), ("", ValueError), ("a\0b", ValueError),
                                           (True, TypeError), (1.5, TypeError)])
def test_bad_targets_are_refused_before_anything(target, error):
    with pytest.raises(error):
        rawns.read_many([target])


# --- the C loop on its own -------------------------------------------------------------

WIRE = [encode(requests.addr_dump().with_seq(1)), encode(requests.neigh_dump().with_seq(2))]


def test_the_c_loop_returns_every_datagram_of_both_dumps(furnished):
    paths = [os.fsencode(netns.path_of(name)) for name in furnished]
    tally = syscalls.Tally()
    answers = syscalls.exchange_many(paths, 0, [WIRE] * 3, tally)
    assert tally.done == 3 and len(answers) == 3
    for answer in answers:
        kinds = [m.type for d in answer for m in rawns.netlink.decode(d)]
        assert kinds.count(NLMSG.NLMSG_DONE) == 2
        assert kinds.count(RTM.RTM_NEWADDR) == 2 + 3 and kinds.count(RTM.RTM_NEWNEIGH) == 2


def test_the_c_loop_names_the_step_and_namespace_that_failed(furnished, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("")
    home = os.readlink("/proc/thread-self/ns/net")
    paths = [os.fsencode(netns.path_of(furnished[0])), os.fsencode(plain)]
    tally = syscalls.Tally()
    with pytest.raises(KernelError) as caught:
        syscalls.exchange_many(paths, 0, [WIRE] * 2, tally)
    assert caught.value.errno == errno.EINVAL and caught.value.syscall == "setns"
    assert "plain" in str(caught.value) and tally.done == 1
    with pytest.raises(FileNotFoundError):
        syscalls.exchange_many([os.fsencode(tmp_path / "absent")], 0, [WIRE], tally)
    assert os.readlink("/proc/thread-self/ns/net") == home


# --- the conversation over canned answers ----------------------------------------------

def _reply(seq: int, index: int, flags: int = int(NLM_F.NLM_F_MULTI)) -> bytes:
    return encode(Message(type=RTM.RTM_NEWLINK, flags=flags, seq=seq, pid=4242,
                          header=IfInfoMsg(index=index)))


def _done(seq: int) -> bytes:
    return encode(Message(type=NLMSG.NLMSG_DONE, flags=int(NLM_F.NLM_F_MULTI), seq=seq,
                          pid=4242, header=0))


def _nlmsgerr(seq: int, error: int) -> bytes:
    echoed = NlMsgHdr(length=32, type=RTM.RTM_GETLINK, seq=seq, pid=4242)
    return encode(Message(type=NLMSG.NLMSG_ERROR, flags=int(NLM_F.NLM_F_CAPPED), seq=seq,
                          pid=4242, header=NlMsgErr(error=error, request=echoed)))


def test_only_whole_plain_dumps_are_taken_from_the_c_loop(monkeypatch):
    """fanout.dump_many with canned answers: anything unusual is None, for
    the caller to read the usual way."""
    intr = int(NLM_F.NLM_F_MULTI | NLM_F.NLM_F_DUMP_INTR)
    canned = {
        b"whole": [_reply(1, 1) + _reply(1, 2), _done(1), _done(2)],
        b"no-done": [_reply(1, 1), _done(1)],
        b"interrupted": [_reply(1, 1, intr), _done(1), _done(2)],
        b"refused": [_done(1), _nlmsgerr(2, -errno.EOPNOTSUPP)],
        b"overflowed": None,
        b"stale-first": [_reply(7, 1) + _reply(1, 3), _done(1), _done(2)],
    }

    def fake(paths, protocol, datagrams, tally, *, nofollow=False, options=()):
        assert all(len(own) == 2 for own in datagrams)  # one request per send
        assert options == nlsock.SOCKET_OPTIONS  # as every RouteSocket's
        tally._c.done = len(paths)
        return [canned[path] for path in paths]

    monkeypatch.setattr(syscalls, "exchange_many", fake)
    dumps = [requests.link_dump(), requests.link_dump()]
    got = list(fanout.dump_many(list(canned), dumps))
    assert [None if g is None else [[m.header.index for m in r] for r in g] for g in got] == \
        [[[1, 2], []], None, None, None, None, [[3], []]]


def test_a_namespace_the_c_loop_fails_on_is_left_to_the_caller(monkeypatch):
    calls = []

    def fake(paths, protocol, datagrams, tally, *, nofollow=False, options=()):
        calls.append(list(paths))
        if b"bad" in paths:
            tally._c.done = paths.index(b"bad")
            raise KernelError(errno.EINVAL, syscall="setns")
        tally._c.done = len(paths)
        return [[_done(1)] for _ in paths]

    monkeypatch.setattr(syscalls, "exchange_many", fake)
    got = list(fanout.dump_many([b"a", b"b", b"bad", b"c"], [requests.link_dump()]))
    assert got == [[[]], [[]], None, [[]]]
    assert calls == [[b"a", b"b", b"bad", b"c"], [b"a", b"b"], [b"bad", b"c"], [b"c"]]


def test_a_fatal_failure_of_the_c_loop_is_raised(monkeypatch):
    def fake(paths, protocol, datagrams, tally, *, nofollow=False, options=()):
        tally._c.done = 0
        tally._c.failed_step = min(syscalls.EXCHANGE_FATAL_STEPS)
        raise KernelError(errno.EPERM, syscall="setns")

    monkeypatch.setattr(syscalls, "exchange_many", fake)
    with pytest.raises(KernelError):
        list(fanout.dump_many([b"a"], [requests.link_dump()]))


# --- the helper thread -------------------------------------------------------------------

def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rawns-many")]


def test_jobs_run_in_a_helper_thread_one_ahead_in_order():
    made, ran = [], []

    def jobs():
        for number in range(6):
            made.append(number)
            yield number

    def run(job):
        ran.append((job, threading.current_thread().name, len(made)))
        return job * 10

    assert list(fanout._overlapped(jobs(), run)) == [(n, n * 10) for n in range(6)]
    assert all(name.startswith("rawns-many") for _, name, _ in ran)
    assert _helpers() == []


def test_a_caller_that_stops_early_drops_the_jobs_not_started():
    ran = []

    def run(job):
        ran.append(job)
        return job

    results = fanout._overlapped(iter(range(1000)), run)
    assert next(results) == (0, 0)
    results.close()
    assert _helpers() == []
    assert len(ran) <= 3  # the one it handed back, the one running, at most one more


def test_the_helpers_exceptions_reach_the_caller():
    def run(job):
        if job == 1:
            raise KernelError(errno.EPERM, syscall="setns")
        return job

    results = fanout._overlapped(iter(range(5)), run)
    assert next(results) == (0, 0)
    with pytest.raises(KernelError):
        next(results)
    assert _helpers() == []


# --- the streamed loop (more than 16 namespaces: syscalls.ExchangeStream) -----------

def test_a_missing_namespace_among_many_is_named_and_the_thread_stays_home(ns, prefix):
    """The streamed loop stops at the namespace it cannot enter, and starts
    again after it; the missing one is then read through a Handle, which
    names it."""
    names = [ns() for _ in range(30)]
    home = os.readlink("/proc/thread-self/ns/net")
    with pytest.raises(FileNotFoundError) as caught:
        rawns.read_many([*names[:20], f"{prefix}gone", *names[20:]])
    assert f"{prefix}gone" in str(caught.value)
    assert os.readlink("/proc/thread-self/ns/net") == home


def test_the_stream_goes_on_after_a_namespace_it_could_not_read(ns, prefix, monkeypatch):
    """A namespace the loop cannot enter (here: a plain file, not a
    namespace) becomes a None the caller reads another way; the loop starts
    again after it and every other answer is whole and in order."""
    names = [ns() for _ in range(24)]
    bogus = f"/run/netns/{prefix}plainfile"
    with open(bogus, "w"):
        pass
    try:
        paths = [os.fsencode(netns.path_of(name)) for name in names]
        paths.insert(17, os.fsencode(bogus))
        answers = list(fanout.dump_many(paths, [requests.link_dump()], [convert.read_link]))
    finally:
        os.unlink(bogus)
    assert len(answers) == 25 and answers[17] is None
    others = answers[:17] + answers[18:]
    assert all(answer is not None and [link.name for link in answer[0]] == ["lo"]
               for answer in others)


def test_a_stream_the_caller_leaves_starts_no_further_namespace(ns, monkeypatch):
    """The caller takes three answers and stops: the thread that ran the
    loop has finished when close returns, and the caller's thread is home.
    (Whether the loop was still running then is up to the scheduler; that
    it starts no namespace once stopped is the next test.)"""
    names = [ns() for _ in range(40)]
    paths = [os.fsencode(netns.path_of(name)) for name in names]
    made: list[syscalls.ExchangeStream] = []
    real = syscalls.ExchangeStream

    def stream(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(syscalls, "ExchangeStream", stream)
    home = os.readlink("/proc/thread-self/ns/net")
    answers = fanout.dump_many(paths, [requests.link_dump()])
    taken = [next(answers) for _ in range(3)]
    answers.close()
    assert all(answer is not None for answer in taken)
    assert len(made) == 1
    assert made[0].wait(len(paths)) == made[0].stopped_at  # over: waits for nothing
    assert 3 <= made[0].stopped_at <= len(paths)
    assert not [t for t in threading.enumerate() if t.name == "rawns-many"]
    assert os.readlink("/proc/thread-self/ns/net") == home


def test_a_stopped_stream_starts_no_namespace(ns):
    paths = [os.fsencode(netns.path_of(ns())) for _ in range(2)]
    stream = syscalls.ExchangeStream(paths, 0, [encode(requests.link_dump().with_seq(1))])
    stream.stop()
    stream.run()
    assert stream.error is None and stream.stopped_at == 0 and stream.wait(1) == 0


def test_the_stream_answers_as_exchange_many_does(furnished, ns):
    """The same loop, run by another thread and taken namespace by namespace,
    gives the datagrams the loop on the calling thread gives (the kinds
    whose answers do not change by themselves)."""
    names = furnished + [ns() for _ in range(2)]
    paths = [os.fsencode(netns.path_of(name)) for name in names]
    wire = [encode(requests.link_dump().with_seq(1)), encode(requests.addr_dump().with_seq(2))]
    expected = syscalls.exchange_many(paths, 0, [wire] * len(paths), syscalls.Tally(),
                                      options=nlsock.SOCKET_OPTIONS)
    stream = syscalls.ExchangeStream(paths, 0, wire, options=nlsock.SOCKET_OPTIONS)
    worker = threading.Thread(target=stream.run)
    worker.start()
    got = []
    while (ready := stream.wait(len(got) + 1)) > len(got):
        got += stream.answers(ready)
    worker.join()
    assert stream.error is None and stream.stopped_at == len(paths)

    def messages(answer):
        # The link dump carries counters (statistics) that move between two
        # reads: those are compared by type, number and size, the rest whole.
        return [(m.type, m.seq, len(encode(m))) if m.type == RTM.RTM_NEWLINK else encode(m)
                for data in answer for m in rawns.netlink.decode(data)]

    assert [messages(a) for a in got] == [messages(a) for a in expected]
