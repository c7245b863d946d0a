"""Resources stay flat over thousands of operations: fds, mounts, threads,
memory (Python allocations and RSS)."""

from __future__ import annotations

import gc
import os
import threading
import tracemalloc

from conftest import own_mounts
from rawns import Handle, netns, read_many


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def counts(prefix: str) -> tuple[int, int, int]:
    return len(os.listdir("/proc/self/fd")), own_mounts(prefix), threading.active_count()


def cycle(name: str) -> None:
    netns.add(name)
    with Handle(name) as handle:
        handle.link_add_bridge("br0")
        handle.addr_add("br0", "10.1.1.1/24")
        assert len(handle.link_list()) == 2
        assert len(handle.addr_list()) >= 1
        assert handle.route_list(table="all")
        # the bridge goes with the namespace (deleting it here costs the
        # kernel tens of milliseconds of RCU grace periods)
    with netns.enter(name):
        pass
    netns.delete(name)


def test_namespaces_sockets_and_dumps_do_not_leak(prefix):
    for i in range(50):  # warm caches, interned strings, enum lookups
        cycle(f"{prefix}w{i}")
    gc.collect()
    before = counts(prefix)
    rss_before = rss_kib()
    tracemalloc.start()
    snapshot_before = tracemalloc.take_snapshot()
    for i in range(300):  # about 3000 operations: namespaces, sockets, requests, dumps
        cycle(f"{prefix}{i}")
    gc.collect()
    snapshot_after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert counts(prefix) == before
    grown = sum(stat.size_diff for stat in snapshot_after.compare_to(snapshot_before, "filename")
                if "rawns" in str(stat.traceback))
    assert grown < 64 * 1024, f"rawns' allocations grew by {grown} bytes over 300 cycles"
    # RSS is noisy (allocator arenas); it must not grow in proportion to the work
    assert rss_kib() - rss_before < 8 * 1024


def test_bulk_reads_do_not_leak(prefix):
    """read_many: its helper threads, their inboxes, the sockets of its C loop."""
    names = [f"{prefix}b{i}" for i in range(40)]
    netns.add_many(names)
    try:
        for _ in range(5):
            read_many(names)
        gc.collect()
        before = counts(prefix)
        rss_before = rss_kib()
        for _ in range(100):
            assert len(read_many(names)) == 40
        gc.collect()
        assert counts(prefix) == before
        assert rss_kib() - rss_before < 8 * 1024
    finally:
        netns.delete_many(names)
