"""Ctrl-C and SIGTERM against the calls that make many things: whatever lands
when, nothing is left behind, and the library installs no signal handler.

Each check runs in a child process (a signal, and a thread left running by a
bug, must not reach the test runner) and looks at ``/run/netns`` afterwards.
The randomized ones, many runs with random signal timing, are marked slow:
``.ci/run`` runs them with everything else; ``-m 'not slow'`` skips them.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import RUN_DIR

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def leftovers(prefix: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(RUN_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def run_child(script: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=timeout)


# The child: makes NAMES with WHAT, has its main thread interrupted by a
# worker (progress) or a timer at a chosen moment, then waits a while so that
# a worker a bug left running can finish making what it was making.
ADD_MANY_CHILD = """
    import os, signal, sys, threading, time
    from rawns import netns
    names = [f"{prefix}{{i}}" for i in range({count})]
    main = threading.main_thread().ident
    home = os.stat("/proc/thread-self/ns/net").st_ino
    sent = []

    def progress(done, total):
        if done >= {after} and not sent:
            sent.append(done)
            signal.pthread_kill(main, signal.SIGINT)

    try:
        netns.add_many(names, threads={threads}, progress=progress)
        print("COMPLETED")
    except KeyboardInterrupt:
        print("INTERRUPTED")
    time.sleep(0.5)
    print("LEFT", len([n for n in os.listdir("/run/netns") if n.startswith("{prefix}")]))
    print("THREAD HOME", os.stat("/proc/thread-self/ns/net").st_ino == home)
"""


@needs_root
@pytest.mark.parametrize("threads", [2, 3])
def test_add_many_in_threads_interrupted_while_the_workers_run(prefix, threads):
    # The interrupt reaches the caller's thread while it waits for workers
    # that are inside their C loops: a Thread.join() interrupted there can
    # mark a running thread stopped (CPython), and a rollback that trusts it
    # misses that worker's chunk.
    for run in range(3):
        own = f"{prefix}{run}-"
        result = run_child(ADD_MANY_CHILD.format(prefix=own, count=900, after=64,
                                                 threads=threads))
        assert result.returncode == 0, result.stderr
        assert "INTERRUPTED" in result.stdout, result.stdout
        assert "LEFT 0" in result.stdout, result.stdout
        assert "THREAD HOME True" in result.stdout
        assert leftovers(own) == []


BATCH_CHILD = """
    import os, signal, sys, threading, time
    from rawns import Batch
    main = threading.main_thread().ident
    threading.Timer({delay}, signal.pthread_kill, (main, signal.SIGINT)).start()
    batch = Batch(threads={threads})
    for i in range({count}):
        batch.netns_add(f"{prefix}{{i}}")
        batch.link_set("lo", up=True, netns=f"{prefix}{{i}}")
    try:
        batch.commit()
        print("COMPLETED")
    except KeyboardInterrupt:
        print("INTERRUPTED")
    time.sleep(0.5)
    print("LEFT", len([n for n in os.listdir("/run/netns") if n.startswith("{prefix}")]))
"""


@needs_root
def test_batch_in_threads_interrupted_while_making_its_namespaces(prefix):
    for run, delay in enumerate((0.25, 0.35, 0.45)):
        own = f"{prefix}{run}-"
        result = run_child(BATCH_CHILD.format(prefix=own, count=1500, delay=delay, threads=2))
        assert result.returncode == 0, result.stderr
        assert "INTERRUPTED" in result.stdout, result.stdout
        assert "LEFT 0" in result.stdout, result.stdout
        assert leftovers(own) == []
