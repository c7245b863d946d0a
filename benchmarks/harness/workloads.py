"""The three workloads, as every peer runs them, and rawns' way of running them.

- W1: create N named namespaces, then delete them (timed separately).
- W2: N pods: namespace, veth pair (host end ``vh<i>`` up in a "host"
  namespace made by the benchmark, peer ``eth0`` made inside the pod), an
  address on eth0, eth0 and lo up; then teardown.
- W3: read the address list and neighbour table of each of N pods.

Invariants: the names and numbering are those of ``benchmarks/c/ref.c``;
rawns is called through its top-level public API only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

__all__ = [
    "WORKLOADS",
    "PHASES",
    "SUB_PHASES",
    "Pod",
    "names",
    "pods",
    "rawns_w2_setup",
    "rawns_w3_read",
]

WORKLOADS = ("W1", "W2", "W3")
#: The phases of each workload, in the order of the table.
PHASES = {
    "W1": ("create", "delete"),
    "W2": ("setup", "setup_ns", "setup_veth", "setup_inside", "teardown"),
    "W3": ("read",),
}
#: Phases timed only as parts of another (not every peer splits them).
SUB_PHASES = ("setup_ns", "setup_veth", "setup_inside")


def names(prefix: str, n: int) -> list[str]:
    """The N namespaces of W1: ``<prefix><i>``."""
    return [f"{prefix}{i}" for i in range(n)]


@dataclasses.dataclass(frozen=True)
class Pod:
    """One pod of W2/W3, as every peer makes it."""

    netns: str         #: named namespace of the pod, ``<prefix>p<i>``
    host_ifname: str   #: host end of the veth pair, in the host namespace
    ifname: str        #: peer end, made directly inside the pod
    address: str       #: IPv4 address of ``ifname``, unique per pod
    prefixlen: int     #: its prefix length


def pods(prefix: str, n: int) -> list[Pod]:
    """The N pods of a run: ``<prefix>p<i>``, ``vh<i>``, eth0, 10.0.0.(i+2)/16.

    The same numbering as ``benchmarks/c/ref.c``."""
    out = []
    for i in range(n):
        host = 0x0A000000 + 2 + i
        address = ".".join(str((host >> s) & 255) for s in (24, 16, 8, 0))
        out.append(Pod(f"{prefix}p{i}", f"vh{i}", "eth0", address, 16))
    return out


def rawns_w2_setup(host: str, pods: Sequence[Pod]) -> dict[str, float] | None:
    """W2 setup with rawns: one ``rawns.Batch``.

    Contract: the named namespace ``host`` exists (made by the benchmark, empty
    but for lo). Make every pod: its named namespace ``pod.netns``; in
    ``host`` a veth pair named ``pod.host_ifname``, up, whose peer
    ``pod.ifname`` is created directly inside ``pod.netns`` by the same
    RTM_NEWLINK; inside the pod ``pod.address/pod.prefixlen`` on
    ``pod.ifname``, ``pod.ifname`` up and ``lo`` up. Every ack checked; raise
    on failure (the harness removes whatever has the run's prefix). The
    teardown is ``rawns.netns.delete_many`` of the pods' names and needs no
    hook. May return a dict of sub-phase wall seconds (keys ``setup_ns``,
    ``setup_veth``, ``setup_inside``) or None.
    """
    from rawns import Batch

    with Batch() as batch:
        for pod in pods:
            batch.netns_add(pod.netns)
            batch.veth(pod.host_ifname, pod.ifname, netns=host, peer_netns=pod.netns)
            batch.addr_add(pod.ifname, f"{pod.address}/{pod.prefixlen}", netns=pod.netns)
            batch.link_set("lo", up=True, netns=pod.netns)
    return None


def rawns_w3_read(pods: Sequence[Pod]) -> int:
    """W3 with rawns: one ``rawns.read_many`` of every pod's addresses and
    neighbours.

    Contract: every pod exists as ``rawns_w2_setup`` leaves it. For each pod,
    dump its addresses (RTM_GETADDR) and its neighbours (RTM_GETNEIGH) through
    a netlink socket bound to ``pod.netns``, reading each dump to NLMSG_DONE,
    with the calling thread home again before any reply is read. Return the
    total number of addresses and neighbours read (so that nothing can be
    skipped).
    """
    from rawns import read_many

    return sum(len(s.addresses) + len(s.neighbours)
               for s in read_many([pod.netns for pod in pods], ("addr", "neigh")))
