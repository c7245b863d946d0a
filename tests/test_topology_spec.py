"""rawns.topology.spec, build and render: containerlab files read and planned, without the kernel."""

from __future__ import annotations

import json
import string
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rawns.batch import Batch
from rawns.batch_plan import AddrAdd, BridgeAdd, LinkSet, NetnsAdd, VethAdd
from rawns.topology import TopologyError, netns_name, parse, read
from rawns.topology.build import HostEnd, describe, removal
from rawns.topology.render import dot, mermaid, status_table
from rawns.topology.spec import DEFAULT_MTU, Endpoint
from rawns.topology.state import InterfaceStatus, NodeStatus, Status


def write(tmp_path: Path, text: str, name: str = "lab.clab.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def lab(nodes: dict[str, Any], links: list[Any] = (), **top: Any) -> dict[str, Any]:
    return {"name": "lab", "topology": {"nodes": nodes, "links": list(links)}, **top}


# -- naming ------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix, expected", [
    (None, "clab-lab-r1"), ("", "r1"), ("__lab-name", "lab-r1"), ("mine", "mine-lab-r1"),
])
def test_namespaces_are_named_as_containerlab_names_containers(prefix, expected):
    assert netns_name(prefix, "lab", "r1") == expected
    top = {} if prefix is None else {"prefix": prefix}
    spec = parse(lab({"r1": {"kind": "linux"}}, **top))
    assert spec.nodes[0].netns == expected


# -- the two link forms, defaults ----------------------------------------------------------

def test_short_and_long_links_mean_the_same(tmp_path):
    short = read(write(tmp_path, """\
        name: lab
        topology:
          nodes:
            a: {kind: linux}
            b: {kind: linux}
          links:
            - endpoints: ["a:eth1", "b:eth1"]
              ipv4: ["10.0.0.1/24", "10.0.0.2/24"]
              ipv6: ["2001:db8::1/64", "2001:db8::2/64"]
        """))
    long = read(write(tmp_path, """\
        name: lab
        topology:
          nodes:
            a: {kind: linux}
            b: {kind: linux}
          links:
            - type: veth
              endpoints:
                - {node: a, interface: eth1, ipv4: 10.0.0.1/24, ipv6: "2001:db8::1/64"}
                - {node: b, interface: eth1, ipv4: 10.0.0.2/24, ipv6: "2001:db8::2/64"}
        """, "long.clab.yml"))
    assert [(l.type, l.endpoints, l.mtu) for l in short.links] == \
        [(l.type, l.endpoints, l.mtu) for l in long.links]
    (link,) = short.links
    assert link.mtu == DEFAULT_MTU == 9500
    assert link.endpoints == (
        Endpoint(node="a", interface="eth1", ipv4="10.0.0.1/24", ipv6="2001:db8::1/64"),
        Endpoint(node="b", interface="eth1", ipv4="10.0.0.2/24", ipv6="2001:db8::2/64"))


def test_host_links_in_both_forms():
    nodes = {"a": {"kind": "linux"}}
    short = parse(lab(nodes, [{"endpoints": ["a:eth1", "host:vha"], "mtu": 1500}]))
    long = parse(lab(nodes, [{"type": "host", "host-interface": "vha", "mtu": 1500,
                              "endpoint": {"node": "a", "interface": "eth1",
                                           "mac": "02:00:00:00:00:01"}}]))
    assert short.links[0].endpoints == (Endpoint(node="a", interface="eth1"),
                                        Endpoint(node="host", interface="vha"))
    assert long.links[0].endpoints == (
        Endpoint(node="a", interface="eth1", mac="02:00:00:00:00:01"),
        Endpoint(node="host", interface="vha"))
    assert short.links[0].mtu == long.links[0].mtu == 1500
    assert short.place("host") is None and short.place("a") == "clab-lab-a"


def test_other_link_types_are_read():
    spec = parse(lab({"a": {"kind": "linux"}}, [
        {"endpoints": ["a:mv0", "macvlan:eth0"]},
        {"type": "macvlan", "host-interface": "eth0", "mode": "vepa",
         "endpoint": {"node": "a", "interface": "mv1"}},
        {"type": "vxlan", "remote": "192.0.2.1", "vni": 100,
         "endpoint": {"node": "a", "interface": "vx0"}},
        {"type": "dummy", "endpoint": {"node": "a", "interface": "d0"}},
        {"type": "vxlan", "remote": "2001:db8::1", "vni": 7, "udp-port": 4789,
         "parent-interface": "eth9", "mtu": 1400, "labels": {"x": "y"},
         "endpoint": {"node": "a", "interface": "vx1", "mac": "02:00:00:00:00:07"}},
    ]))
    assert [(l.type, l.host_interface, l.mode) for l in spec.links[:2]] == [
        ("macvlan", "eth0", "bridge"), ("macvlan", "eth0", "vepa")]
    assert (spec.links[2].vni, spec.links[2].udp_port, spec.links[2].mtu) == (100, 14789, None)
    assert spec.links[2].host_interface is None
    assert spec.links[3].type == "dummy"
    vx = spec.links[4]
    assert (vx.remote, vx.vni, vx.udp_port, vx.host_interface, vx.mtu) == (
        "2001:db8::1", 7, 4789, "eth9", 1400)
    assert vx.endpoints[0].mac == "02:00:00:00:00:07"
    with pytest.raises(TopologyError, match="parent-interface"):
        parse(lab({"a": {"kind": "linux"}}, [
            {"type": "vxlan", "remote": "192.0.2.1", "vni": 1, "parent-interface": "x" * 16,
             "endpoint": {"node": "a", "interface": "vx0"}}]))


# -- inheritance ------------------------------------------------------------------------------

def test_node_group_kind_defaults_inheritance():
    spec = parse({
        "name": "lab",
        "topology": {
            "defaults": {"kind": "linux", "exec": ["echo defaults"]},
            "kinds": {"linux": {"exec": ["echo kind"]}, "bridge": {"exec": ["echo nope"]}},
            "groups": {"g": {"exec": ["echo group"]}, "bridges": {"kind": "bridge"},
                       "bare": {}},
            "nodes": {"own": {"group": "g", "exec": ["echo own"]},
                      "grouped": {"group": "g"},
                      "kinded": {},
                      "br0": {"group": "bridges"},
                      "plain": {"group": "bare"}},
        },
    })
    execs = {node.name: node.exec for node in spec.nodes}
    assert execs == {"own": ("echo own",), "grouped": ("echo group",),
                     "kinded": ("echo kind",), "br0": (), "plain": ("echo kind",)}
    kinds = {node.name: node.kind for node in spec.nodes}
    assert kinds == {"own": "linux", "grouped": "linux", "kinded": "linux", "br0": "bridge",
                     "plain": "linux"}
    without_kinds = parse({"name": "lab", "topology": {
        "defaults": {"kind": "linux", "exec": ["echo defaults"]}, "nodes": {"x": None}}})
    assert without_kinds.nodes[0].exec == ("echo defaults",)


def test_container_keys_are_reported_once_and_ignored():
    spec = parse({"name": "lab", "mgmt": {"network": "m"},
                  "topology": {"defaults": {"image": "alpine", "env": {"A": 1}},
                               "kinds": {"linux": {"image": "x", "binds": ["/a:/a"]}},
                               "nodes": {"a": {"kind": "linux", "image": "y", "ports": [80],
                                               "mgmt-ipv4": "172.20.20.2"},
                                         "b": {"kind": "linux", "image": "y"}},
                               "links": [{"endpoints": ["a:e1", "b:e1"],
                                          "vars": {"x": 1}}]}})
    assert spec.ignored == ("mgmt", "image", "env", "binds", "ports", "mgmt-ipv4", "vars")


def test_bridge_inside_a_node():
    spec = parse(lab({"a": {"kind": "linux"}, "b": {"kind": "linux"},
                      "br": {"kind": "bridge", "network-mode": "container:a"}},
                     [{"endpoints": ["b:eth1", "br:bp1"]}]))
    assert spec.node("br").inside == "a"
    assert spec.place("br") == "clab-lab-a"


# -- errors, with their lines -------------------------------------------------------------

BAD = [
    ("name: lab\ntopology:\n  nodes:\n    r1:\n      kind: linux\n      imag: alpine\n",
     6, "topology.nodes.r1.imag: unknown key 'imag'"),
    ("name: lab\ntopology:\n  nodez: {}\n", 3, "topology.nodez: unknown key"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: srl}\n", 4, "kind 'srl' runs a container"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n  links:\n"
     "    - endpoints: [\"r1:eth1\", \"r9:eth1\"]\n", 6, "node 'r9' is not in topology.nodes"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n    r2: {kind: linux}\n"
     "  links:\n    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n"
     "    - endpoints: [\"r1:eth1\", \"r2:eth2\"]\n", 8, "'eth1' is already used by r1:eth1"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n  links:\n"
     "    - endpoints: [\"r1:eth1\", \"host:eth1\"]\n      mtu: 9\n", 7, "out of range"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n  links:\n"
     "    - type: veth\n      endpoints:\n        - {node: r1, interface: e1, mac: 01:00:00:00:00:01}\n"
     "        - {node: r1, interface: e2}\n", 8, "multicast"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n  links:\n"
     "    - endpoints: [\"r1:e1\", \"r1:e2\"]\n      ipv4: [10.0.0.1, 10.0.0.2/24]\n", 7,
     "with its prefix length"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n  links:\n"
     "    - endpoints: [\"r1:averyveryverylongname\", \"r1:e2\"]\n", 6, "1 to 15 bytes"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n  links:\n"
     "    - type: mgmt-net\n      endpoint: {node: r1, interface: e1}\n", 6,
     "management network"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux}\n    r1: {kind: linux}\n", 5,
     "key 'r1' is given twice (also on line 4)"),
    ("name: lab\ntopology:\n  nodes:\n    r1: {kind: linux, group: g}\n", 4,
     "group 'g' is not in topology.groups"),
    ("name: lab\ntopology:\n  nodes:\n    b: {kind: bridge, exec: [ls]}\n", 4,
     "a bridge node runs no commands"),
    ("name: lab\ntopology:\n  nodes:\n    a: {kind: linux, network-mode: host}\n", 4,
     "network-mode 'host'"),
    ("name: lab\ntopology:\n  nodes: [a, b]\n", 3, "must be a mapping"),
    ("name: lab\ntopology:\n  nodes:\n    a: {kind: linux\n", None, "not YAML"),
]


@pytest.mark.parametrize("text, line, message", BAD)
def test_mistakes_name_the_key_and_its_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(TopologyError) as caught:
        read(path)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)
    if line is not None:
        assert caught.value.line == line
        assert str(caught.value).startswith(f"{path}:{line}: ")


def test_json_files_and_dicts_need_no_yaml(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_yaml(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "yaml":
            raise ImportError("no yaml here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yaml)
    data = lab({"a": {"kind": "linux"}}, [{"endpoints": ["a:e1", "a:e2"]}])
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(data))
    from_file = read(path)
    assert (from_file.nodes, from_file.links) == (parse(data).nodes, parse(data).links)
    assert from_file.source == str(path)
    with pytest.raises(TopologyError, match="PyYAML"):
        read(write(tmp_path, "name: lab\n"))
    with pytest.raises(TopologyError, match="not JSON"):
        path.write_text("{")
        read(path)


def test_a_missing_file_is_a_topology_error(tmp_path):
    with pytest.raises(TopologyError, match="cannot read it"):
        read(tmp_path / "nope.clab.yml")


# -- hostile input ---------------------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000),
                     st.text(string.printable, max_size=12),
                     st.sampled_from(["linux", "bridge", "host", "a", "b", "a:e1", "b:e1",
                                      "host:h1", "macvlan:eth0", "10.0.0.1/24", "veth",
                                      "vxlan", "dummy", "container:a", "kind", "exec"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["kind", "exec", "group", "endpoints", "endpoint", "type",
                                     "node", "interface", "mtu", "ipv4", "mac", "a", "b",
                                     "image", "nodes", "links", "host-interface", "vni",
                                     "remote", "network-mode"]), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "prefix", "topology", "mgmt", "bad"]), _values,
                       max_size=4),
       st.dictionaries(st.sampled_from(["nodes", "links", "defaults", "kinds", "groups"]),
                       _values, max_size=5))
def test_any_data_is_a_spec_or_a_topology_error(top, body):
    data = {**top, "topology": body} if "topology" not in top else top
    try:
        spec = parse(data)
    except TopologyError:
        return
    assert all(node.kind in ("linux", "bridge", "host") for node in spec.nodes)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_spec_or_a_topology_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("t") / "x.clab.yml"
    path.write_text(text)
    try:
        read(path)
    except TopologyError:
        pass


_names = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(st.lists(_names, min_size=2, max_size=6, unique=True), st.data())
def test_generated_lines_read_back_as_written(nodes, data):
    """A chain of linux nodes, written in the short form: parsed in file order,
    each link as written, each namespace named as containerlab would."""
    links = [{"endpoints": [f"{a}:e{i}", f"{b}:w{i}"]}
             for i, (a, b) in enumerate(zip(nodes, nodes[1:]))]
    prefix = data.draw(st.sampled_from([None, "", "__lab-name", "p"]))
    spec = parse(lab({n: {"kind": "linux"} for n in nodes}, links,
                     **({} if prefix is None else {"prefix": prefix})))
    assert [node.name for node in spec.nodes] == nodes
    assert [str(link.endpoints[0]) + " " + str(link.endpoints[1]) for link in spec.links] == \
        [" ".join(link["endpoints"]) for link in links]
    assert [node.netns for node in spec.nodes] == [netns_name(prefix, "lab", n) for n in nodes]


# -- what the kernel is asked ------------------------------------------------------------

def test_describe_makes_namespaces_bridges_veths_ports_and_addresses():
    spec = parse(lab(
        {"a": {"kind": "linux"}, "b": {"kind": "linux"}, "br": {"kind": "bridge"}},
        [{"endpoints": ["a:eth1", "b:eth1"], "ipv4": ["10.0.0.1/24", "10.0.0.2/24"]},
         {"type": "veth", "mtu": 1400,
          "endpoints": [{"node": "a", "interface": "eth2", "mac": "02:00:00:00:00:0a"},
                        {"node": "br", "interface": "ap"}]},
         {"endpoints": ["b:eth2", "host:hb"], "ipv6": [None, "2001:db8::1/64"]}]))
    batch = Batch()
    describe(spec, batch, host="H")
    a, b = "clab-lab-a", "clab-lab-b"
    assert batch.ops == (
        NetnsAdd(name=a), LinkSet(dev="lo", up=True, netns=a),
        NetnsAdd(name=b), LinkSet(dev="lo", up=True, netns=b),
        BridgeAdd(name="br", netns="H"),
        VethAdd(name="eth1", peer="eth1", netns=a, peer_netns=b, mtu=9500),
        AddrAdd(dev="eth1", address="10.0.0.1/24", netns=a),
        AddrAdd(dev="eth1", address="10.0.0.2/24", netns=b),
        VethAdd(name="eth2", peer="ap", netns=a, peer_netns="H", mtu=1400,
                address="02:00:00:00:00:0a"),
        LinkSet(dev="ap", master="br", netns="H"),
        VethAdd(name="eth2", peer="hb", netns=b, peer_netns="H", mtu=9500),
        AddrAdd(dev="hb", address="2001:db8::1/64", netns="H"))
    assert removal(spec).namespaces == (a, b)
    assert removal(spec).bridges == ("br",)
    assert removal(spec).host_ends == (HostEnd(interface="ap", peer="eth2", peer_netns=a),
                                       HostEnd(interface="hb", peer="eth2", peer_netns=b))


# -- pictures and tables --------------------------------------------------------------------

def test_graphs_name_every_node_and_link():
    spec = parse(lab({"a": {"kind": "linux"}, "b\"q": {"kind": "linux"},
                      "br": {"kind": "bridge"}},
                     [{"endpoints": ["a:eth1", "b\"q:eth1"]},
                      {"endpoints": ["a:eth2", "br:ap"]},
                      {"endpoints": ["a:eth3", "host:ha"]},
                      {"type": "vxlan", "remote": "192.0.2.1", "vni": 7,
                       "endpoint": {"node": "a", "interface": "vx"}}]))
    text = dot(spec)
    assert text.startswith('graph "lab" {') and text.endswith("}\n")
    assert '"a" -- "b\\"q" [label="mtu 9500", taillabel="eth1", headlabel="eth1"];' in text
    assert '"host" [shape=house' in text and '"br" [shape=ellipse' in text
    assert 'label="vxlan 7 to 192.0.2.1:14789"' in text
    text = mermaid(spec)
    assert text.splitlines()[0] == "flowchart LR"
    assert 'n0["a (linux)"]' in text and 'n1["b#quot;q (linux)"]' in text
    assert 'n0 ---|"eth1 -- eth1"| n1' in text and 'n3{{"host (host)"}}' in text
    assert 'n0 ---|"vx"| l3' in text


def test_status_table_lines_up():
    status = Status(name="lab", nodes=(
        NodeStatus(name="a", kind="linux", netns="clab-lab-a", present=True, interfaces=(
            InterfaceStatus(name="eth1", state="UP", up=True, mtu=9500,
                            mac="02:00:00:00:00:01", addresses=("10.0.0.1/24",)),
            InterfaceStatus(name="ap", state="UP", up=True, master="br"))),
        NodeStatus(name="b", kind="linux", netns="clab-lab-b", present=False)))
    lines = status_table(status).splitlines()
    assert lines[0].split() == ["NODE", "KIND", "NETNS", "INTERFACE", "STATE", "MTU", "MAC",
                                "ADDRESSES"]
    assert lines[1].split() == ["a", "linux", "clab-lab-a", "eth1", "UP", "9500",
                                "02:00:00:00:00:01", "10.0.0.1/24"]
    assert lines[2].split() == ["ap", "UP", "master", "br", "-", "-", "-"]
    assert lines[3].split() == ["b", "linux", "clab-lab-b", "(absent)", "-", "-", "-", "-", "-"]
    assert len({line.index("INTERFACE") for line in lines[:1]}) == 1
    assert status.to_json()["nodes"][1] == {"name": "b", "kind": "linux",
                                            "netns": "clab-lab-b", "present": False,
                                            "interfaces": []}
