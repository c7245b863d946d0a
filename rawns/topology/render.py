"""A topology as text: Graphviz DOT and Mermaid pictures of its spec, a table of its status (pure).

Invariants:
- Pure: strings in, strings out; no kernel, no printing.
- Every node and every link of the spec appears, in file order; names are
  quoted so that any name the file allows renders.
"""

from __future__ import annotations

from rawns.topology.spec import HOST, Link, Spec
from rawns.topology.state import Status

__all__ = ["dot", "mermaid", "status_table"]

_DOT_SHAPES = {"linux": "box", "bridge": "ellipse", "host": "house"}


def _link_label(link: Link) -> str:
    """What a one-ended link attaches to."""
    if link.type == "macvlan":
        return f"macvlan on {link.host_interface} ({link.mode})"
    if link.type == "vxlan":
        return f"vxlan {link.vni} to {link.remote}:{link.udp_port}"
    return link.type


def _nodes_used(spec: Spec) -> list[tuple[str, str]]:
    """(name, kind) of every node, with the implicit host when a link uses it."""
    nodes = [(node.name, node.kind) for node in spec.nodes]
    names = {name for name, _ in nodes}
    if HOST not in names and any(end.node == HOST for link in spec.links
                                 for end in link.endpoints):
        nodes.append((HOST, "host"))
    return nodes


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(spec: Spec) -> str:
    """``spec`` as an undirected Graphviz graph: a node per node (box: linux,
    ellipse: bridge, house: host), an edge per link labelled with its
    interfaces at each end; one-ended links end in a plain-text node."""
    lines = [f"graph {_dot_id(spec.name)} {{", "  node [fontname=monospace];"]
    for name, kind in _nodes_used(spec):
        lines.append(f"  {_dot_id(name)} [shape={_DOT_SHAPES[kind]}, "
                     f"label={_dot_id(f'{name}' + chr(10) + kind)}];")
    for i, link in enumerate(spec.links):
        attrs = []
        if link.mtu is not None:
            attrs.append(f"label={_dot_id(f'mtu {link.mtu}')}")
        if len(link.endpoints) == 2:
            a, b = link.endpoints
            attrs += [f"taillabel={_dot_id(a.interface)}", f"headlabel={_dot_id(b.interface)}"]
            lines.append(f"  {_dot_id(a.node)} -- {_dot_id(b.node)} [{', '.join(attrs)}];")
        else:
            (end,) = link.endpoints
            far = f"link{i}"
            lines.append(f"  {_dot_id(far)} [shape=plaintext, "
                         f"label={_dot_id(_link_label(link))}];")
            attrs.append(f"taillabel={_dot_id(end.interface)}")
            lines.append(f"  {_dot_id(end.node)} -- {_dot_id(far)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(spec: Spec) -> str:
    """``spec`` as a Mermaid flowchart (left to right): a node per node
    (rectangle: linux, rounded: bridge, hexagon: host), an edge per link
    labelled ``IF -- IF``; one-ended links end in a plain node."""
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    shapes = {"linux": ("[", "]"), "bridge": ("(", ")"), "host": ("{{", "}}")}
    for i, (name, kind) in enumerate(_nodes_used(spec)):
        ids[name] = f"n{i}"
        left, right = shapes[kind]
        lines.append(f"  n{i}{left}{_mermaid_text(f'{name} ({kind})')}{right}")
    for i, link in enumerate(spec.links):
        if len(link.endpoints) == 2:
            a, b = link.endpoints
            label = f"{a.interface} -- {b.interface}"
            lines.append(f"  {ids[a.node]} ---|{_mermaid_text(label)}| {ids[b.node]}")
        else:
            (end,) = link.endpoints
            lines.append(f"  l{i}>{_mermaid_text(_link_label(link))}]")
            lines.append(f"  {ids[end.node]} ---|{_mermaid_text(end.interface)}| l{i}")
    return "\n".join(lines) + "\n"


def status_table(status: Status) -> str:
    """``status`` as an aligned table: a row per interface (a node without
    any has one row of its own)."""
    header = ("NODE", "KIND", "NETNS", "INTERFACE", "STATE", "MTU", "MAC", "ADDRESSES")
    rows = []
    for node in status.nodes:
        where = node.netns if node.netns is not None else "(host)"
        if not node.present:
            where += " (absent)"
        first = (node.name, node.kind, where)
        if not node.interfaces:
            rows.append(first + ("-", "-", "-", "-", "-"))
        for i, interface in enumerate(node.interfaces):
            state = interface.state
            if interface.master:
                state += f" master {interface.master}"
            rows.append((first if i == 0 else ("", "", "")) + (
                interface.name, state, "-" if interface.mtu is None else str(interface.mtu),
                interface.mac or "-", " ".join(interface.addresses) or "-"))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                   + "\n" for row in [header, *rows])
