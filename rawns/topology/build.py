"""What a topology asks of the kernel: the ``Batch`` that makes it, and what ``down`` removes (pure).

Invariants:
- Pure: operations are described on a ``Batch`` (nothing is committed here)
  and removals are listed; no kernel, no I/O.
- ``host`` is the namespace that stands for the host (None: the caller's):
  host links and bridges of the host go there, nowhere else.
- Every link comes up, ``lo`` of every linux node too (containerlab's
  defaults); each end gets the MAC and addresses the file gives it.
- A macvlan or vxlan is made in the host's namespace and placed in its
  node's by the same request, as containerlab makes them there and moves
  them into the container.
"""

from __future__ import annotations

from typing import Optional

from rawns.batch import Batch
from rawns.records import record
from rawns.topology.spec import Endpoint, Link, Spec

__all__ = ["describe", "HostEnd", "Removal", "removal", "BUILT_LINKS"]

#: The link types ``describe`` can make (the others are refused before anything is made).
BUILT_LINKS = ("veth", "macvlan", "vxlan")


def describe(spec: Spec, batch: Batch, host: Optional[str] = None) -> None:
    """Describe on ``batch`` every namespace, bridge, veth, bridge port,
    address and link state of ``spec``."""
    for node in spec.nodes:
        if node.kind == "linux":
            assert node.netns is not None
            batch.netns_add(node.netns)
            batch.link_set("lo", up=True, netns=node.netns)
    for node in spec.nodes:
        if node.kind == "bridge":
            batch.bridge(node.name, netns=_where(spec, node.name, host))
    for link in spec.links:
        if link.type not in BUILT_LINKS:
            raise ValueError(f"{link}: rawns cannot make {link.type} links yet")
        if link.type in ("macvlan", "vxlan"):
            _placed(spec, batch, link, host)
            continue
        near, far = link.endpoints
        batch.veth(near.interface, far.interface, netns=_where(spec, near.node, host),
                   peer_netns=_where(spec, far.node, host), mtu=link.mtu,
                   address=near.mac, peer_address=far.mac)
        for end in link.endpoints:
            _end(spec, batch, end, host)


def _placed(spec: Spec, batch: Batch, link: Link, host: Optional[str]) -> None:
    """A macvlan or vxlan, made in the host's namespace (on its
    ``host_interface``, where its sockets live) and placed in its node's, as
    containerlab makes them; it comes up, with the endpoint's MAC."""
    (end,) = link.endpoints
    where = _where(spec, end.node, host)
    if link.type == "macvlan":
        assert link.host_interface is not None and link.mode is not None  # (spec)
        batch.macvlan(end.interface, link.host_interface, netns=where, parent_netns=host,
                      mode=link.mode, mtu=link.mtu, address=end.mac)
    else:
        assert link.vni is not None  # (spec)
        batch.vxlan(end.interface, link.vni, netns=where, parent_netns=host,
                    remote=link.remote, port=link.udp_port, dev=link.host_interface,
                    mtu=link.mtu, address=end.mac)
    _end(spec, batch, end, host)


def _end(spec: Spec, batch: Batch, end: Endpoint, host: Optional[str]) -> None:
    """A link's end: on its bridge, and addressed."""
    where = _where(spec, end.node, host)
    if spec.node(end.node).kind == "bridge":
        batch.link_set(end.interface, master=end.node, netns=where)
    for address in (end.ipv4, end.ipv6):
        if address is not None:
            batch.addr_add(end.interface, address, netns=where)


def _where(spec: Spec, node: str, host: Optional[str]) -> Optional[str]:
    place = spec.place(node)
    return host if place is None else place


@record
class HostEnd:
    """An interface a link puts in a namespace the topology does not make
    (the host's, or a bridge's there): ``interface``, whose peer is
    ``peer`` in namespace ``peer_netns`` (None: the same namespace)."""

    interface: str
    peer: str
    peer_netns: Optional[str]


@record
class Removal:
    """What ``down`` removes: ``host_ends`` and ``bridges`` in the host's
    namespace (each only if it is still what the topology made), ``placed``:
    (namespace, interface) of each macvlan and vxlan, deleted before their
    namespace (whose deletion would remove them only later, in the kernel's
    cleanup work, while they still hold their MAC on the host's interface or
    their VNI and port there), then the ``namespaces`` of the linux nodes
    (with everything in them)."""

    namespaces: tuple[str, ...]
    host_ends: tuple[HostEnd, ...]
    bridges: tuple[str, ...]
    placed: tuple[tuple[str, str], ...] = ()


def removal(spec: Spec) -> Removal:
    """What ``down`` removes for ``spec``."""
    ends = []
    placed = []
    for link in spec.links:
        if link.type in ("macvlan", "vxlan"):
            (end,) = link.endpoints
            where = spec.place(end.node)
            assert where is not None  # (spec: on a linux node)
            placed.append((where, end.interface))
            continue
        if link.type != "veth":
            continue  # in a linux node's namespace: goes with it
        for this, other in (link.endpoints, tuple(reversed(link.endpoints))):
            if spec.place(this.node) is None:
                ends.append(HostEnd(interface=this.interface, peer=other.interface,
                                    peer_netns=spec.place(other.node)))
    bridges = tuple(node.name for node in spec.nodes
                    if node.kind == "bridge" and spec.place(node.name) is None)
    namespaces = tuple(node.netns for node in spec.nodes if node.netns is not None)
    return Removal(namespaces=namespaces, host_ends=tuple(ends), bridges=bridges,
                   placed=tuple(placed))


def links_of(spec: Spec, node: str) -> list[tuple[Link, Endpoint]]:
    """The links with an end on ``node``, and that end."""
    return [(link, end) for link in spec.links for end in link.endpoints if end.node == node]
