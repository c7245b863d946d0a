"""Shared fixtures for kernel tests.

Every object a test creates in the kernel carries a prefix unique to the test
run and the test, and is removed by a fixture even when the test fails. The
cleanup uses iproute2, an oracle independent of the code under test.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess

import pytest

# rawns' own plugin (its pytest11 entry point loads it once rawns is installed;
# named here too, so that every run of this suite uses it the same way).
pytest_plugins = ["rawns.pytest_plugin"]

RUN_DIR = "/run/netns"

# A script that starts the suite in the background (`cmd &`) hands it SIGINT
# ignored, and every child it runs would inherit that: the interrupt tests send
# their children Ctrl-C as a terminal does, so the suite takes it back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
_counter = itertools.count()


def run_ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def own_mounts(prefix: str) -> int:
    """Mounts this test can have made: /run/netns itself and the namespace
    files whose names carry ``prefix``.  Counting every mount of the mount
    namespace would count other processes' namespaces too."""
    run_dir = RUN_DIR + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return sum(1 for point in points
               if point == RUN_DIR or point.startswith(run_dir + prefix))


def _remove_netns_with_prefix(prefix: str) -> None:
    try:
        names = os.listdir(RUN_DIR)
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(prefix):
            run_ip("netns", "delete", name, check=False)
            if os.path.lexists(os.path.join(RUN_DIR, name)):
                subprocess.run(["umount", "-l", os.path.join(RUN_DIR, name)],
                               capture_output=True)
                try:
                    os.unlink(os.path.join(RUN_DIR, name))
                except (FileNotFoundError, IsADirectoryError):
                    pass


@contextlib.contextmanager
def module_netns(tag: str, wire=None):
    """For a module-scoped fixture: a namespace made with iproute2, named
    with a prefix of its own, wired by ``wire(name)`` if given; every
    namespace with that prefix is removed afterwards, whatever happened.
    Skips without root."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    prefix = f"rnst{os.getpid()}x{tag}-"
    name = prefix + "0"
    try:
        run_ip("netns", "add", name)
        if wire is not None:
            wire(name)
        yield name
    finally:
        _remove_netns_with_prefix(prefix)


@pytest.fixture
def prefix() -> str:
    """A name prefix unique to this test; all namespaces with it are removed
    after the test, whatever happened."""
    value = f"rnst{os.getpid()}x{next(_counter)}-"
    yield value
    _remove_netns_with_prefix(value)


@pytest.fixture
def ns(prefix):
    """A factory of fresh named namespaces made with iproute2 (the oracle)."""
    counter = itertools.count()

    def make() -> str:
        name = f"{prefix}{next(counter)}"
        run_ip("netns", "add", name)
        return name

    return make


def pytest_sessionfinish(session, exitstatus):
    _remove_netns_with_prefix(f"rnst{os.getpid()}x")
