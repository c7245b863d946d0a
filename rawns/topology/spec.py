"""Containerlab topology files read into plain, checked data: ``read`` and ``parse`` (no kernel).

The format is containerlab's (``*.clab.yml``): ``name``, ``prefix`` and
``topology`` with ``defaults``, ``kinds``, ``groups``, ``nodes`` and
``links``. What it asks of containers (images, binds, environment...) has no
meaning for bare namespaces: such keys are collected in ``Spec.ignored``,
to be reported once. A key that is neither is an error naming the key and,
for YAML, its line.

Invariants:
- Pure: reading the file is the only I/O; nothing here touches the kernel.
  Every check that can be made without it is made here, so that ``up`` never
  starts on a file that could not come up entirely (the kernel's own limits,
  such as a link kind it lacks, are checked by ``rawns.topology.lab``).
- PyYAML is imported only when a YAML file is read; JSON and dicts need
  nothing but the standard library.
- Every error is a ``TopologyError`` (a ``ValueError``) whose text starts
  with ``FILE:LINE:`` when the line is known, then the key's path
  (``topology.nodes.r1.kind``).
- Nodes and links keep the file's order; each node's properties are
  inherited as containerlab inherits them: the node's own value, else its
  group's, else its kind's (``kinds``), else ``defaults``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

from rawns.errors import RawnsError
from rawns.netlink.requests import address_prefix, check_ifname
from rawns.netns import validate_name
from rawns.records import field, record

__all__ = [
    "TopologyError", "Endpoint", "Node", "Link", "Spec", "read", "parse", "netns_name",
    "HOST", "DEFAULT_MTU", "DEFAULT_VXLAN_PORT", "KINDS", "LINK_TYPES", "CONTAINER_KEYS",
]

#: The node name that stands for the host's namespace in endpoints (``host:eth1``).
HOST = "host"
#: containerlab's MTU of veth links (and host links, which are veths too).
DEFAULT_MTU = 9500
#: containerlab's UDP port of vxlan links.
DEFAULT_VXLAN_PORT = 14789
#: The node kinds bare namespaces can be.
KINDS = ("linux", "bridge", "host")
#: The link types of the long form this module reads.
LINK_TYPES = ("veth", "host", "macvlan", "vxlan", "dummy")
_MACVLAN_MODES = ("private", "vepa", "bridge", "passthru", "source")

#: Node properties that configure a container: read, reported once, ignored.
CONTAINER_KEYS = frozenset({
    "image", "image-pull-policy", "cmd", "entrypoint", "binds", "env", "env-files",
    "ports", "publish", "healthcheck", "mgmt-ipv4", "mgmt-ipv6", "user", "runtime",
    "cpu", "cpu-set", "memory", "shm-size", "cap-add", "devices", "dns", "aliases",
    "restart-policy", "auto-remove", "startup-config", "startup-delay",
    "enforce-startup-config", "suppress-startup-config", "license", "extras",
    "wait-for", "stages", "certificate", "config", "components", "sandbox", "kernel",
    "type", "labels", "position", "sysctls", "mgmt-net", "public-keys", "ulimits",
})
# Keys read here (a node's, or inherited from defaults, kinds and groups).
_NODE_KEYS = frozenset({"kind", "group", "exec", "network-mode"})
_TOP_KEYS = frozenset({"name", "prefix", "topology"})
_TOP_IGNORED = frozenset({"mgmt", "settings", "debug"})
_TOPOLOGY_KEYS = frozenset({"defaults", "kinds", "groups", "nodes", "links"})
# Keys of links and endpoints used only by containerlab's templates.
_TEMPLATE_KEYS = frozenset({"vars", "labels"})
_ENDPOINT_KEYS = frozenset({"node", "interface", "mac", "ipv4", "ipv6"})
_LINK_KEYS = {
    "veth": frozenset({"type", "endpoints", "mtu", "ipv4", "ipv6"}),
    "host": frozenset({"type", "endpoint", "host-interface", "mtu"}),
    "macvlan": frozenset({"type", "endpoint", "host-interface", "mode", "mtu"}),
    "vxlan": frozenset({"type", "endpoint", "remote", "vni", "udp-port", "parent-interface",
                        "mtu"}),
    "dummy": frozenset({"type", "endpoint", "mtu"}),
}
_UNSUPPORTED_LINKS = {
    "mgmt-net": "it joins containerlab's management network, which rawns does not make",
    "vxlan-stitch": "it stitches a container's veth to a vxlan in the host: "
                    "use a vxlan link instead",
}
_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")


class TopologyError(RawnsError, ValueError):
    """A topology file rawns cannot bring up as written.

    ``source`` is the file (or ``"<dict>"``), ``line`` its 1-based line when
    known, ``path`` the key's dotted path in the file."""

    def __init__(self, message: str, *, source: str = "<dict>", line: Optional[int] = None,
                 path: str = "") -> None:
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {path + ': ' if path else ''}{message}")
        self.reason = message
        self.source = source
        self.line = line
        self.path = path


@record
class Endpoint:
    """One end of a link: ``interface`` in ``node``, with its MAC address and
    addresses (``"10.0.0.1/24"``) if given."""

    node: str
    interface: str
    mac: Optional[str] = None
    ipv4: Optional[str] = None
    ipv6: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.node}:{self.interface}"


@record
class Node:
    """A node: ``kind`` is ``"linux"`` (a namespace, named ``netns``),
    ``"bridge"`` (made in the host's namespace, or in linux node
    ``inside``'s) or ``"host"`` (the host's namespace). ``exec``: its lines
    in file order (a linux node's only)."""

    name: str
    kind: str
    netns: Optional[str] = None
    exec: tuple[str, ...] = ()
    group: Optional[str] = None
    inside: Optional[str] = None
    line: Optional[int] = None


@record
class Link:
    """A link. ``veth``: two endpoints, each in its node (a ``host`` link is
    a veth whose second endpoint is the host's ``host-interface``); the
    others have one endpoint: ``macvlan`` on the host's ``host_interface``,
    ``vxlan`` to ``remote`` (through the host's ``host_interface``, its
    ``parent-interface``, if given; else where the host routes ``remote``),
    ``dummy``. ``mtu`` is containerlab's default where the file gives none
    (veth and host links; a macvlan or vxlan takes the kernel's)."""

    type: str
    endpoints: tuple[Endpoint, ...]
    mtu: Optional[int] = None
    host_interface: Optional[str] = None
    mode: Optional[str] = None
    remote: Optional[str] = None
    vni: Optional[int] = None
    udp_port: Optional[int] = None
    line: Optional[int] = None

    def __str__(self) -> str:
        ends = " -- ".join(str(end) for end in self.endpoints)
        return f"{self.type} link {ends}" if len(self.endpoints) > 1 else \
            f"{self.type} link on {ends}"


@record
class Spec:
    """A whole topology: its ``name`` and ``prefix``, ``nodes`` and ``links``
    in file order, the container keys it ``ignored`` (each once), and the
    ``source`` it was read from."""

    name: str
    prefix: str
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    ignored: tuple[str, ...] = ()
    source: str = "<dict>"
    by_name: Mapping[str, Node] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.by_name:  # (frozen: set once, here)
            object.__setattr__(self, "by_name", {node.name: node for node in self.nodes})

    def node(self, name: str) -> Node:
        """The node called ``name`` (the implicit ``host`` too)."""
        node = self.by_name.get(name)
        if node is not None:
            return node
        if name == HOST:
            return _IMPLICIT_HOST
        raise KeyError(name)

    def place(self, node_name: str) -> Optional[str]:
        """The namespace an interface of ``node_name`` lives in: a linux
        node's own, None for the host's (and a bridge's, wherever it is)."""
        node = self.node(node_name)
        if node.kind == "linux":
            return node.netns
        if node.kind == "bridge" and node.inside is not None:
            return self.node(node.inside).netns
        return None


_IMPLICIT_HOST = Node(name=HOST, kind="host")


def netns_name(prefix: Optional[str], lab: str, node: str) -> str:
    """The name containerlab gives node ``node``'s container, here its
    namespace: ``clab-LAB-NODE`` by default, ``PREFIX-LAB-NODE``, ``LAB-NODE``
    for the prefix ``__lab-name``, or ``NODE`` for an empty prefix."""
    if prefix is None:
        prefix = "clab"
    if prefix == "":
        return node
    if prefix == "__lab-name":
        return f"{lab}-{node}"
    return f"{prefix}-{lab}-{node}"


# -- reading files -------------------------------------------------------------------

class _Dict(dict[Any, Any]):
    """A mapping read from YAML, with the line of each key."""

    line: Optional[int] = None
    key_lines: dict[Any, int]


class _List(list[Any]):
    """A sequence read from YAML, with the line of each item."""

    line: Optional[int] = None
    item_lines: list[int]


def read(source: Union[str, "os.PathLike[str]", Mapping[str, Any]], *,
         prefix: Optional[str] = None) -> Spec:
    """The topology in ``source``: a file (JSON if its name ends in
    ``.json``, else YAML, which needs PyYAML) or a dict as ``json.load``
    would give. ``prefix``, if given, replaces the file's."""
    if isinstance(source, Mapping):
        return parse(source, prefix=prefix)
    path = os.fspath(source)
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except OSError as err:
        raise TopologyError(f"cannot read it: {err.strerror or err}", source=path) from err
    except UnicodeDecodeError as err:
        raise TopologyError(f"not UTF-8 text: {err}", source=path) from err
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise TopologyError(f"not JSON: {err.msg}", source=path, line=err.lineno) from err
    else:
        data = _load_yaml(text, path)
    return parse(data, source=path, prefix=prefix)


def _load_yaml(text: str, path: str) -> Any:
    """YAML -> dicts and lists that remember their lines; a key given twice
    is an error (PyYAML would keep the last silently)."""
    try:
        # the optional extra: only topology files in YAML need it (no stubs required)
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise TopologyError("reading YAML needs PyYAML: pip install 'rawns[topology]' "
                            "(or give the topology as JSON)", source=path) from None

    class Loader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]  # untyped PyYAML
        pass

    def mapping(loader: Any, node: Any) -> _Dict:
        loader.flatten_mapping(node)  # YAML merge keys (<<: *anchor)
        result = _Dict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise TopologyError(f"a key must be a plain value, not {key!r}",
                                    source=path, line=line)
            if key in result:
                raise TopologyError(f"key {key!r} is given twice (also on line "
                                    f"{result.key_lines[key]})", source=path, line=line)
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_lines[key] = line
        return result

    def sequence(loader: Any, node: Any) -> _List:
        result = _List(loader.construct_object(item, deep=True) for item in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [item.start_mark.line + 1 for item in node.value]
        return result

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        raise TopologyError(f"not YAML: {problem}", source=path,
                            line=None if mark is None else mark.line + 1) from None


# -- parsing -------------------------------------------------------------------------

def parse(data: Any, *, source: str = "<dict>", prefix: Optional[str] = None) -> Spec:
    """The topology described by ``data`` (what ``read`` got from a file,
    or a dict written by hand); ``source`` names it in errors; ``prefix``,
    if given, replaces the file's (to run a copy beside the original)."""
    return _Parser(source, prefix).spec(data)


def _line_of(container: Any, key: Any) -> Optional[int]:
    """The line of ``key`` in a mapping (or of item ``key`` in a sequence)
    read from YAML; None when not known."""
    if isinstance(container, _Dict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, _List) and isinstance(key, int) and key < len(container):
        return container.item_lines[key]
    return None


class _Parser:
    """One parse: the source named in errors, and the container keys met."""

    def __init__(self, source: str, prefix: Optional[str] = None) -> None:
        self.source = source
        self.prefix = prefix
        self.ignored: dict[str, None] = {}  # ordered set

    def error(self, message: str, path: str, container: Any = None,
              key: Any = None) -> TopologyError:
        return TopologyError(message, source=self.source, line=_line_of(container, key),
                             path=path)

    # Values ---------------------------------------------------------------------------

    def mapping(self, value: Any, path: str, parent: Any, key: Any) -> Mapping[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error(f"must be a mapping, not {_kind_of(value)}", path, parent, key)
        return value

    def sequence(self, value: Any, path: str, parent: Any, key: Any) -> Sequence[Any]:
        if value is None:
            return []
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise self.error(f"must be a list, not {_kind_of(value)}", path, parent, key)
        return value

    def text(self, value: Any, path: str, parent: Any, key: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(f"must be text, not {_kind_of(value)}", path, parent, key)
        return str(value)

    def integer(self, value: Any, path: str, parent: Any, key: Any, low: int,
                high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"must be a whole number, not {_kind_of(value)}", path, parent,
                             key)
        if not low <= value <= high:
            raise self.error(f"{value} is out of range {low}..{high}", path, parent, key)
        return value

    def ifname(self, value: Any, path: str, parent: Any, key: Any) -> str:
        name = self.text(value, path, parent, key)
        try:
            return check_ifname(name)
        except ValueError as err:
            raise self.error(str(err), path, parent, key) from None

    def mac(self, value: Any, path: str, parent: Any, key: Any) -> str:
        text = self.text(value, path, parent, key)
        if not _MAC.fullmatch(text):
            raise self.error(f"{text!r} is not a MAC address like 'aa:c1:ab:00:00:01'", path,
                             parent, key)
        if int(text[:2], 16) & 1:
            raise self.error(f"{text!r} is a multicast address: an interface cannot have it",
                             path, parent, key)
        return text.lower()

    def address(self, value: Any, version: int, path: str, parent: Any, key: Any
                ) -> Optional[str]:
        """An address with its prefix length (``10.0.0.1/24``); empty is none."""
        if value is None or value == "":
            return None
        text = self.text(value, path, parent, key)
        try:
            address, _ = address_prefix(text)  # fast for IPv4; as Batch reads it
        except ValueError:
            address = None
        if address is None or address.version != version or "/" not in text:
            example = "10.0.0.1/24" if version == 4 else "2001:db8::1/64"
            raise self.error(f"{text!r} is not an IPv{version} address with its prefix "
                             f"length, like '{example}'", path, parent, key)
        return text

    def keys(self, mapping: Mapping[Any, Any], known: frozenset[str], path: str,
             ignored: frozenset[str] = frozenset()) -> None:
        """Every key of ``mapping`` is ``known`` or ``ignored`` (then
        reported once), else an error naming it and its line."""
        for key in mapping:
            if key in known:
                continue
            if key in ignored:
                self.ignored.setdefault(str(key), None)
                continue
            raise self.error(f"unknown key {key!r}", f"{path}.{key}" if path else str(key),
                             mapping, key)

    # The file -------------------------------------------------------------------------

    def spec(self, data: Any) -> Spec:
        top = self.mapping(data, "", None, None)
        if not top:
            raise self.error("empty: a topology has a 'name' and a 'topology'", "", data)
        self.keys(top, _TOP_KEYS, "", _TOP_IGNORED)
        if "name" not in top:
            raise self.error("'name' is missing", "name", top)
        name = self.text(top["name"], "name", top, "name")
        prefix = None
        if "prefix" in top and top["prefix"] is not None:
            prefix = self.text(top["prefix"], "prefix", top, "prefix")
        if self.prefix is not None:
            prefix = self.prefix
        if "topology" not in top:
            raise self.error("'topology' is missing", "topology", top)
        body = self.mapping(top["topology"], "topology", top, "topology")
        self.keys(body, _TOPOLOGY_KEYS, "topology")
        defaults = self.properties(body.get("defaults"), "topology.defaults", body, "defaults")
        kinds = {str(kind): self.properties(props, f"topology.kinds.{kind}", table, kind)
                 for table in [self.mapping(body.get("kinds"), "topology.kinds", body, "kinds")]
                 for kind, props in table.items()}
        groups = {str(group): self.properties(props, f"topology.groups.{group}", table, group)
                  for table in [self.mapping(body.get("groups"), "topology.groups", body,
                                             "groups")]
                  for group, props in table.items()}
        nodes_table = self.mapping(body.get("nodes"), "topology.nodes", body, "nodes")
        nodes = [self.node(str(node_name), props, nodes_table, name, prefix,
                           defaults, kinds, groups)
                 for node_name, props in nodes_table.items()]
        self.check_nodes(nodes, nodes_table)
        by_name = {node.name: node for node in nodes}
        links_list = self.sequence(body.get("links"), "topology.links", body, "links")
        links = [self.link(item, f"topology.links[{i}]", links_list, i, by_name)
                 for i, item in enumerate(links_list)]
        spec = Spec(name=name, prefix="clab" if prefix is None else prefix,
                    nodes=tuple(nodes), links=tuple(links), ignored=tuple(self.ignored),
                    source=self.source)
        self.check_interfaces(spec, links_list)
        return spec

    # Nodes ----------------------------------------------------------------------------

    def properties(self, value: Any, path: str, parent: Any, key: Any) -> Mapping[Any, Any]:
        """Node properties (of a node, a group, a kind or the defaults)."""
        props = self.mapping(value, path, parent, key)
        self.keys(props, _NODE_KEYS, path, CONTAINER_KEYS)
        if "exec" in props:
            for i, line in enumerate(self.sequence(props["exec"], f"{path}.exec", props,
                                                   "exec")):
                self.text(line, f"{path}.exec[{i}]", props["exec"], i)
        return props

    def node(self, name: str, value: Any, table: Mapping[Any, Any], lab: str,
             prefix: Optional[str], defaults: Mapping[Any, Any],
             kinds: Mapping[str, Mapping[Any, Any]],
             groups: Mapping[str, Mapping[Any, Any]]) -> Node:
        path = f"topology.nodes.{name}"
        own = self.properties(value, path, table, name)
        line = _line_of(table, name)
        group_name = None
        group: Mapping[Any, Any] = {}
        if own.get("group") is not None:
            group_name = self.text(own["group"], f"{path}.group", own, "group")
            if group_name not in groups:
                raise self.error(f"group {group_name!r} is not in topology.groups",
                                 f"{path}.group", own, "group")
            group = groups[group_name]
        kind_value = own.get("kind") or group.get("kind") or defaults.get("kind")
        if kind_value is None:
            raise self.error("no kind: give one here, in its group or in the defaults",
                             path, table, name)
        kind = self.text(kind_value, f"{path}.kind", own, "kind")
        if kind not in KINDS:
            raise self.error(f"kind {kind!r} runs a container image; rawns makes nodes of "
                             f"kind {', '.join(KINDS)}", f"{path}.kind", own, "kind")
        layers = (own, group, kinds.get(kind, {}), defaults)

        def inherited(key: str) -> tuple[Any, Mapping[Any, Any]]:
            """The first value set (not empty), and the layer it is from."""
            for layer in layers:
                if layer.get(key) not in (None, "", [], {}):
                    return layer[key], layer
            return None, own

        exec_lines, where = inherited("exec")
        lines = tuple(str(x) for x in exec_lines or ())
        if lines and kind != "linux":
            if where is own:
                raise self.error(f"a {kind} node runs no commands: exec is for linux nodes",
                                 f"{path}.exec", own, "exec")
            lines = ()  # inherited from a wider scope: meant for the linux nodes
        mode, where = inherited("network-mode")
        inside = None
        if mode is not None:
            mode_text = self.text(mode, f"{path}.network-mode", where, "network-mode")
            if mode_text.startswith("container:") and kind == "bridge":
                inside = mode_text.removeprefix("container:")
            elif mode_text.startswith("container:") or mode_text == "host":
                raise self.error(f"network-mode {mode_text!r}: a linux node has a namespace "
                                 f"of its own here", f"{path}.network-mode", where,
                                 "network-mode")
            elif mode_text not in ("none", "bridge"):
                raise self.error(f"unknown network-mode {mode_text!r}",
                                 f"{path}.network-mode", where, "network-mode")
            # 'none' and 'bridge' choose a container's management network: nothing here
        netns = None
        if kind == "linux":
            netns = netns_name(prefix, lab, name)
            try:
                validate_name(netns)
            except ValueError as err:
                raise self.error(f"its namespace name {netns!r} is not valid: {err}", path,
                                 table, name) from None
        elif kind == "bridge":
            self.ifname(name, path, table, name)
        elif name != HOST and kind != "host":  # pragma: no cover - KINDS is closed
            raise AssertionError(kind)
        if name in (HOST, "macvlan", "mgmt-net") and kind != "host":
            raise self.error(f"the name {name!r} is reserved for containerlab's special "
                             f"endpoints", path, table, name)
        return Node(name=name, kind=kind, netns=netns, exec=lines, group=group_name,
                    inside=inside, line=line)

    def check_nodes(self, nodes: Sequence[Node], table: Mapping[Any, Any]) -> None:
        kinds = {node.name: node.kind for node in nodes}
        for node in nodes:
            if node.inside is not None and kinds.get(node.inside) != "linux":
                raise self.error(f"network-mode container:{node.inside}: no linux node of "
                                 f"that name", f"topology.nodes.{node.name}.network-mode",
                                 table, node.name)

    # Links ----------------------------------------------------------------------------

    def link(self, value: Any, path: str, parent: Any, index: int,
             nodes: Mapping[str, Node]) -> Link:
        item = self.mapping(value, path, parent, index)
        line = _line_of(parent, index)
        kind = item.get("type")
        if kind is not None:
            kind = self.text(kind, f"{path}.type", item, "type")
            if kind in _UNSUPPORTED_LINKS:
                raise self.error(f"link type {kind!r} cannot be made: "
                                 f"{_UNSUPPORTED_LINKS[kind]}", f"{path}.type", item, "type")
            if kind not in _LINK_TYPES_SET:
                raise self.error(f"unknown link type {kind!r}; expected one of "
                                 f"{', '.join(LINK_TYPES)}", f"{path}.type", item, "type")
        if "endpoints" not in item and "endpoint" not in item:
            raise self.error("a link needs 'endpoints' (or 'endpoint' for one end)", path,
                             parent, index)
        brief = kind is None and all(isinstance(end, str) for end in
                                     self.sequence(item.get("endpoints"), f"{path}.endpoints",
                                                   item, "endpoints"))
        if brief:
            return self.brief_link(item, path, line, nodes)
        kind = kind or "veth"
        self.keys(item, _LINK_KEYS[kind], path, _TEMPLATE_KEYS)
        mtu = self.mtu(item, path)
        if kind == "veth":
            raw = self.sequence(item.get("endpoints"), f"{path}.endpoints", item, "endpoints")
            if len(raw) != 2:
                raise self.error(f"a veth link has 2 endpoints, not {len(raw)}",
                                 f"{path}.endpoints", item, "endpoints")
            ends = [self.endpoint(end, f"{path}.endpoints[{i}]", raw, i, nodes)
                    for i, end in enumerate(raw)]
            ends = self.link_addresses(item, path, ends)
            return Link(type="veth", endpoints=tuple(ends),
                        mtu=DEFAULT_MTU if mtu is None else mtu, line=line)
        if "endpoint" not in item:
            raise self.error(f"a {kind} link has one 'endpoint'", path, parent, index)
        end = self.endpoint(item["endpoint"], f"{path}.endpoint", item, "endpoint", nodes)
        if kind in ("macvlan", "vxlan", "dummy") and _kind(nodes, end.node) != "linux":
            raise self.error(f"a {kind} link's endpoint is on a linux node",
                             f"{path}.endpoint.node", item, "endpoint")
        if kind == "host":
            host_if = self.required_ifname(item, "host-interface", path)
            return Link(type="veth", mtu=DEFAULT_MTU if mtu is None else mtu, line=line,
                        endpoints=(end, Endpoint(node=HOST, interface=host_if)))
        if kind == "macvlan":
            mode = self.text(item.get("mode", "bridge"), f"{path}.mode", item, "mode")
            if mode not in _MACVLAN_MODES:
                raise self.error(f"unknown macvlan mode {mode!r}; expected one of "
                                 f"{', '.join(_MACVLAN_MODES)}", f"{path}.mode", item, "mode")
            return Link(type="macvlan", endpoints=(end,), mtu=mtu, line=line, mode=mode,
                        host_interface=self.required_ifname(item, "host-interface", path))
        if kind == "vxlan":
            if "remote" not in item or "vni" not in item:
                raise self.error("a vxlan link needs 'remote' and 'vni'", path, parent, index)
            remote = self.text(item["remote"], f"{path}.remote", item, "remote")
            try:
                ipaddress.ip_address(remote)
            except ValueError:
                raise self.error(f"{remote!r} is not an IP address", f"{path}.remote", item,
                                 "remote") from None
            vni = self.integer(item["vni"], f"{path}.vni", item, "vni", 0, 2**24 - 1)
            port = self.integer(item.get("udp-port", DEFAULT_VXLAN_PORT), f"{path}.udp-port",
                                item, "udp-port", 1, 65535)
            parent = None
            if item.get("parent-interface") not in (None, ""):
                parent = self.ifname(item["parent-interface"], f"{path}.parent-interface",
                                     item, "parent-interface")
            return Link(type="vxlan", endpoints=(end,), mtu=mtu, line=line, remote=remote,
                        vni=vni, udp_port=port, host_interface=parent)
        return Link(type="dummy", endpoints=(end,), mtu=mtu, line=line)

    def brief_link(self, item: Mapping[Any, Any], path: str, line: Optional[int],
                   nodes: Mapping[str, Node]) -> Link:
        """``endpoints: ["a:eth1", "b:eth1"]``; ``host:IF`` is an interface of
        the host's namespace, ``macvlan:IF`` a macvlan on the host's IF."""
        self.keys(item, frozenset({"endpoints", "mtu", "ipv4", "ipv6"}), path, _TEMPLATE_KEYS)
        raw = self.sequence(item["endpoints"], f"{path}.endpoints", item, "endpoints")
        if len(raw) != 2:
            raise self.error(f"a link has 2 endpoints, not {len(raw)}", f"{path}.endpoints",
                             item, "endpoints")
        ends = []
        for i, text in enumerate(raw):
            where = f"{path}.endpoints[{i}]"
            node, sep, interface = str(text).partition(":")
            if not sep or not node or not interface or ":" in interface:
                raise self.error(f"{text!r} is not 'NODE:INTERFACE'", where, raw, i)
            if node == "mgmt-net":
                raise self.error(f"{text!r}: {_UNSUPPORTED_LINKS['mgmt-net']}", where, raw, i)
            if node not in nodes and node not in (HOST, "macvlan"):
                raise self.error(f"node {node!r} is not in topology.nodes", where, raw, i)
            ends.append(Endpoint(node=node, interface=self.ifname(interface, where, raw, i)))
        mtu = self.mtu(item, path)
        ends = self.link_addresses(item, path, ends)
        macvlans = [i for i, end in enumerate(ends) if end.node == "macvlan"
                    and "macvlan" not in nodes]
        if not macvlans:
            return Link(type="veth", endpoints=tuple(ends),
                        mtu=DEFAULT_MTU if mtu is None else mtu, line=line)
        if len(macvlans) == 2:
            raise self.error("a macvlan link has one node endpoint", f"{path}.endpoints",
                             item, "endpoints")
        parent, end = ends[macvlans[0]], ends[1 - macvlans[0]]
        if parent.ipv4 or parent.ipv6:
            raise self.error(f"{parent}: the host's interface gets no address from a link",
                             path, item, "ipv4" if parent.ipv4 else "ipv6")
        if _kind(nodes, end.node) != "linux":
            raise self.error("a macvlan link's endpoint is on a linux node",
                             f"{path}.endpoints", item, "endpoints")
        return Link(type="macvlan", endpoints=(end,), mtu=mtu, mode="bridge",
                    host_interface=parent.interface, line=line)

    def endpoint(self, value: Any, path: str, parent: Any, key: Any,
                 nodes: Mapping[str, Node]) -> Endpoint:
        end = self.mapping(value, path, parent, key)
        self.keys(end, _ENDPOINT_KEYS, path, _TEMPLATE_KEYS)
        for needed in ("node", "interface"):
            if needed not in end:
                raise self.error(f"'{needed}' is missing", path, parent, key)
        node = self.text(end["node"], f"{path}.node", end, "node")
        if node not in nodes and node != HOST:
            raise self.error(f"node {node!r} is not in topology.nodes", f"{path}.node", end,
                             "node")
        return Endpoint(
            node=node,
            interface=self.ifname(end["interface"], f"{path}.interface", end, "interface"),
            mac=None if end.get("mac") is None else self.mac(end["mac"], f"{path}.mac", end,
                                                             "mac"),
            ipv4=self.address(end.get("ipv4"), 4, f"{path}.ipv4", end, "ipv4"),
            ipv6=self.address(end.get("ipv6"), 6, f"{path}.ipv6", end, "ipv6"))

    def link_addresses(self, item: Mapping[Any, Any], path: str,
                       ends: list[Endpoint]) -> list[Endpoint]:
        """The endpoints with the link's ``ipv4: [a, b]`` and ``ipv6: [a, b]``
        lists given to them, in order."""
        for version in (4, 6):
            key = f"ipv{version}"
            if item.get(key) is None:
                continue
            values = self.sequence(item[key], f"{path}.{key}", item, key)
            if len(values) != len(ends):
                raise self.error(f"{len(values)} addresses for {len(ends)} endpoints",
                                 f"{path}.{key}", item, key)
            for i, value in enumerate(values):
                address = self.address(value, version, f"{path}.{key}[{i}]", values, i)
                if address is None:
                    continue
                if getattr(ends[i], key) is not None:
                    raise self.error(f"endpoint {ends[i]} has an {key} address already",
                                     f"{path}.{key}[{i}]", values, i)
                ends[i] = _with(ends[i], key, address)
        return ends

    def mtu(self, item: Mapping[Any, Any], path: str) -> Optional[int]:
        if item.get("mtu") is None:
            return None
        return self.integer(item["mtu"], f"{path}.mtu", item, "mtu", 68, 65535)

    def required_ifname(self, item: Mapping[Any, Any], key: str, path: str) -> str:
        if key not in item:
            raise self.error(f"'{key}' is missing", path, item)
        return self.ifname(item[key], f"{path}.{key}", item, key)

    # Across the file -----------------------------------------------------------------

    def check_interfaces(self, spec: Spec, raw_links: Sequence[Any]) -> None:
        """No two interfaces (nor a bridge) share a name in one namespace,
        and the host's interface a macvlan or vxlan sits on is not one the
        topology makes (it must be there before)."""
        seen: dict[tuple[Optional[str], str], str] = {}
        for node in spec.nodes:
            if node.kind == "bridge":
                seen[(spec.place(node.name), node.name)] = f"bridge {node.name!r}"
        for i, link in enumerate(spec.links):
            names = [(spec.place(end.node), end.interface, str(end)) for end in link.endpoints]
            for where, interface, label in names:
                earlier = seen.get((where, interface))
                if earlier is not None:
                    place = "the host's namespace" if where is None else f"namespace {where!r}"
                    raise self.error(f"{label}: {interface!r} is already {earlier} in {place}",
                                     f"topology.links[{i}]", raw_links, i)
                seen[(where, interface)] = f"used by {label}"
        for i, link in enumerate(spec.links):
            if (link.type in ("macvlan", "vxlan") and link.host_interface is not None
                    and (None, link.host_interface) in seen):
                key = "host-interface" if link.type == "macvlan" else "parent-interface"
                raise self.error(f"{link.host_interface!r} is made by this topology "
                                 f"({seen[(None, link.host_interface)]}): a {link.type} "
                                 f"link sits on an interface the host has already",
                                 f"topology.links[{i}].{key}", raw_links, i)


_LINK_TYPES_SET = frozenset(LINK_TYPES)


def _kind(nodes: Mapping[str, Node], name: str) -> str:
    """The kind of node ``name`` (the implicit ``host`` included)."""
    node = nodes.get(name)
    return "host" if node is None else node.kind


def _with(end: Endpoint, key: str, value: str) -> Endpoint:
    if key == "ipv4":
        return Endpoint(node=end.node, interface=end.interface, mac=end.mac, ipv4=value,
                        ipv6=end.ipv6)
    return Endpoint(node=end.node, interface=end.interface, mac=end.mac, ipv4=end.ipv4,
                    ipv6=value)


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    return f"{type(value).__name__} {value!r}"
