"""Throwaway networks from containerlab topology files, with bare namespaces: ``load``.

    from rawns import topology

    with topology.load("lab.clab.yml") as lab:    # up; down after the block
        print(lab.status().up)

A ``kind: linux`` node is a named namespace (``clab-LAB-NODE``, as
containerlab names its containers) with ``lo`` up; a ``kind: bridge`` node a
bridge in the host's namespace (or a node's, with ``network-mode:
container:NODE``); a ``kind: host`` node the host's namespace itself. Links
are veth pairs (containerlab's default MTU 9500, endpoints up), with the
MACs and addresses the file gives. Exec lines run after, in file order.

Modules: :mod:`spec` (the file read into plain data; pure), :mod:`build`
(what the kernel is asked: a ``Batch`` and the removals; pure), :mod:`lab`
(``Topology``: up, down, status), :mod:`render` (DOT, Mermaid, the status
table; pure).
"""

from rawns.topology.lab import (
    ExecFailed, InterfaceStatus, NodeStatus, Status, Topology, kernel_has, load,
)
from rawns.topology.spec import Spec, TopologyError, netns_name, parse, read

__all__ = ["load", "Topology", "TopologyError", "ExecFailed", "Status", "NodeStatus",
           "InterfaceStatus", "Spec", "read", "parse", "netns_name", "kernel_has"]
