"""fanout's helper thread (``_Task``, ``_overlapped``) without concurrent.futures:
a Ctrl-C while the caller waits lets the running job end, drops the next one,
and leaves no thread behind. (Order, early stops and failures: test_snapshot.py.)"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from rawns import fanout


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rawns-many")]


def test_ctrl_c_while_waiting_lets_the_running_job_end_and_drops_the_next():
    started, ended = [], []
    interrupted = threading.Event()

    def run(job):
        started.append(job)
        if job == 1:
            # the caller is waiting for this one when Ctrl-C lands; it ends
            # only after that (a loaded machine may run the handler late)
            interrupted.wait(10)
            time.sleep(0.05)
        ended.append(job)
        return job

    def interrupt(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    got = []
    try:
        results = fanout._overlapped(iter(range(10)), run)
        got.append(next(results))  # job 0; job 1 runs, job 2 waits for it
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        try:
            for item in results:
                got.append(item)
        except KeyboardInterrupt:
            pass
        else:
            raise AssertionError("no KeyboardInterrupt")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert got == [(0, 0)]
    assert 1 in ended  # the running job was waited for, not abandoned
    assert 2 not in started  # the one submitted behind it was dropped
    assert _helpers() == []


def test_cancel_only_before_the_start():
    gate = threading.Event()
    first = fanout._Task(lambda: gate.wait(5) and "first", None)
    second = fanout._Task(lambda: "second", first)
    first.thread.start()
    second.thread.start()
    time.sleep(0.05)
    assert not first.cancel()  # running
    assert second.cancel()  # waiting behind it
    gate.set()
    assert first.result() == "first"
    second.thread.join(5)
    assert not second.thread.is_alive() and not second.finished.finished
    assert second.ran.is_set()


def test_result_raises_the_jobs_exception():
    def boom():
        raise OSError(5, "EIO")

    task = fanout._Task(boom, None)
    task.thread.start()
    try:
        task.result()
    except OSError as err:
        assert err.errno == 5
    else:
        raise AssertionError("no exception")
    task.thread.join(5)


def test_a_failure_while_answers_are_read_waits_for_the_running_c_loop(monkeypatch):
    """send_chunks reads a chunk's answers while the next chunk's C loop
    runs; when the reading fails (Ctrl-C), it returns only once that loop is
    over: its caller undoes next, and must not race a loop still writing."""
    ended = []

    def exchange(chunk, nofollow, before=None):
        if chunk.paths[0] != b"c0":
            time.sleep(0.3)  # still running when the first chunk's answers fail
        ended.append(chunk.paths[0])
        return [[] for _ in chunk.paths]

    def answered(conversation, asked, answer):
        raise KeyboardInterrupt

    monkeypatch.setattr(fanout, "_exchange_chunk", exchange)
    monkeypatch.setattr(fanout, "_answered", answered)
    chunks = [fanout.RequestChunk(paths=[f"c{i}".encode()], requests=[[]],
                                  conversations=[None], datagrams=[[]]) for i in range(3)]
    with pytest.raises(KeyboardInterrupt):
        fanout.send_chunks(iter(chunks), 100)
    assert ended == [b"c0", b"c1"]  # the second was waited for; the third never began
    assert _helpers() == []
