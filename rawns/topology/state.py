"""What the kernel has of a topology: ``Status``, ``NodeStatus``, ``InterfaceStatus`` (plain data).

Made by ``Topology.status()``; ``to_json()`` gives what ``rawns -j show``
prints, and ``rawns.topology.render.status_table`` the table.
"""

from __future__ import annotations

from typing import Any, Optional

from rawns.records import record

__all__ = ["Status", "NodeStatus", "InterfaceStatus"]


@record
class InterfaceStatus:
    """One interface as the kernel has it: ``state`` is its operstate
    (``UP``, ``DOWN``, ``LOWERLAYERDOWN``...), or ``ABSENT``."""

    name: str
    state: str
    up: bool = False
    mtu: Optional[int] = None
    mac: Optional[str] = None
    master: Optional[str] = None
    addresses: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ifname": self.name, "state": self.state, "up": self.up}
        for key in ("mtu", "mac", "master"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["addresses"] = list(self.addresses)
        return out


@record
class NodeStatus:
    """A node: ``netns`` is its namespace (None: the host's), ``present``
    whether it exists (a bridge, a namespace; the host always does)."""

    name: str
    kind: str
    netns: Optional[str]
    present: bool
    interfaces: tuple[InterfaceStatus, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "netns": self.netns,
                "present": self.present,
                "interfaces": [interface.to_json() for interface in self.interfaces]}


@record
class Status:
    """What the kernel has of a topology, node by node in file order."""

    name: str
    nodes: tuple[NodeStatus, ...]

    @property
    def up(self) -> bool:
        """Every node is there (it says nothing of exec lines' effects)."""
        return all(node.present for node in self.nodes)

    @property
    def absent(self) -> bool:
        """No node the topology makes is there."""
        return not any(node.present for node in self.nodes if node.kind != "host")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "nodes": [node.to_json() for node in self.nodes]}
