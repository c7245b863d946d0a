"""rawns.topology against the kernel: containerlab files up and down, checked with ip -j."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from rawns import Handle, netns, topology
from rawns.topology import ExecFailed, TopologyError
from conftest import run_ip

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

ROOT = Path(__file__).resolve().parent.parent


def ip_json(where: str, *args: str) -> list[dict[str, Any]]:
    return json.loads(run_ip("-n", where, "-j", *args).stdout)


def links_of(where: str) -> dict[str, dict[str, Any]]:
    return {entry["ifname"]: entry for entry in ip_json(where, "addr", "show")}


def addresses(entry: dict[str, Any]) -> set[str]:
    return {f"{a['local']}/{a['prefixlen']}" for a in entry.get("addr_info", [])}


def wait_up(where: str, *devs: str) -> None:
    """operstate follows 'up' asynchronously (linkwatch): wait for it."""
    deadline = time.monotonic() + 5
    while True:
        states = {name: entry["operstate"] for name, entry in links_of(where).items()}
        if all(states.get(dev) == "UP" for dev in devs):
            return
        assert time.monotonic() < deadline, f"{devs} in {where}: {states}"
        time.sleep(0.05)


def my_namespaces(prefix: str) -> list[str]:
    """The namespaces of the test's topologies (all named lab)."""
    return sorted(name for name in netns.list() if name.startswith(prefix + "lab-"))


@pytest.fixture
def host(ns):
    """A namespace of the test's own that stands for the host."""
    return ns()


def lab_file(tmp_path: Path, prefix: str, body: str) -> Path:
    """A topology file named after the test's prefix (every namespace it
    makes starts with it, so the conftest removes them whatever happens)."""
    path = tmp_path / "lab.clab.yml"
    path.write_text(f"name: lab\nprefix: {prefix.rstrip('-')}\n" + textwrap.dedent(body))
    return path


FULL = """\
    topology:
      defaults:
        kind: linux
        image: alpine:3            # a container's: ignored
      kinds:
        linux:
          exec:
            - ip link set lo mtu 65000
      groups:
        spines:
          exec:
            - ip addr add 10.255.0.1/32 dev lo
            - ip -6 route add 2001:db8:ff::/48 dev eth1
            - sh -c "cat /proc/net/dev > {marker}"
      nodes:
        s1: {{group: spines}}
        l1: {{}}
        l2:
          exec:
            - ip route add 10.99.0.0/16 via 10.0.2.1
        br-h: {{kind: bridge}}
        br-in: {{kind: bridge, network-mode: "container:l1"}}
      links:
        - endpoints: ["s1:eth1", "l1:eth1"]
          ipv4: [10.0.1.1/24, 10.0.1.2/24]
          ipv6: ["2001:db8:1::1/64", "2001:db8:1::2/64"]
        - type: veth
          mtu: 1500
          endpoints:
            - {{node: s1, interface: eth2, mac: "02:00:00:00:02:01", ipv4: 10.0.2.1/24}}
            - {{node: l2, interface: eth1, mac: "02:00:00:00:02:02", ipv4: 10.0.2.2/24}}
        - endpoints: ["l1:eth2", "br-h:p-l1"]
        - endpoints: ["l2:eth2", "br-h:p-l2"]
        - endpoints: ["l2:eth3", "br-in:p-l2"]
        - endpoints: ["s1:eth3", "host:h-s1"]
          ipv4: [192.168.77.2/24, 192.168.77.1/24]
        - type: host
          host-interface: h-l1
          mtu: 2000
          endpoint: {{node: l1, interface: eth3, mac: "02:00:00:00:03:01"}}
"""


def test_a_whole_topology_comes_up_as_written_and_goes_down(tmp_path, prefix, host):
    marker = tmp_path / "s1-dev"
    lab = topology.load(lab_file(tmp_path, prefix, FULL.format(marker=marker)), host=host)
    assert lab.spec.ignored == ("image",)
    s1, l1, l2 = (f"{prefix}lab-{n}" for n in ("s1", "l1", "l2"))
    lab.up()
    assert my_namespaces(prefix) == sorted([s1, l1, l2])
    got = {name: links_of(name) for name in (s1, l1, l2)}
    # lo up everywhere; the kind's exec line ran where neither the node nor its
    # group has exec lines of its own (they replace it, as in containerlab)
    for name in (s1, l1, l2):
        assert "UP" in got[name]["lo"]["flags"]
    assert [got[name]["lo"]["mtu"] for name in (s1, l1, l2)] == [65536, 65000, 65536]
    # the spine's group exec lines, and its links
    assert "10.255.0.1/32" in addresses(got[s1]["lo"])
    assert addresses(got[s1]["eth1"]) >= {"10.0.1.1/24", "2001:db8:1::1/64"}
    assert addresses(got[l1]["eth1"]) >= {"10.0.1.2/24", "2001:db8:1::2/64"}
    routes6 = ip_json(s1, "-6", "route", "show", "2001:db8:ff::/48")
    assert routes6 and routes6[0]["dev"] == "eth1"
    # a command run inside the namespace: it saw the node's interfaces
    seen = marker.read_text()
    assert "eth1:" in seen and "eth3:" in seen and "p-l1" not in seen
    # MTU and MAC: link-level mtu and per-endpoint mac; containerlab's 9500 elsewhere
    assert (got[s1]["eth2"]["mtu"], got[s1]["eth2"]["address"]) == (1500, "02:00:00:00:02:01")
    assert (got[l2]["eth1"]["mtu"], got[l2]["eth1"]["address"]) == (1500, "02:00:00:00:02:02")
    assert got[s1]["eth1"]["mtu"] == got[l1]["eth1"]["mtu"] == 9500
    assert addresses(got[l2]["eth1"]) == {"10.0.2.2/24"} | {
        a for a in addresses(got[l2]["eth1"]) if a.startswith("fe80")}
    assert ip_json(l2, "route", "show", "10.99.0.0/16")[0]["gateway"] == "10.0.2.1"
    # the veth peers are where they should be
    assert got[s1]["eth1"]["link_netnsid"] is not None
    # bridges: one in the host's namespace, one in l1's, with their ports
    in_host = links_of(host)
    assert in_host["br-h"]["link_type"] == "ether"
    assert {in_host["p-l1"]["master"], in_host["p-l2"]["master"]} == {"br-h"}
    assert got[l1]["br-in"]["ifname"] == "br-in" and got[l1]["p-l2"]["master"] == "br-in"
    kinds = {e["ifname"]: e["linkinfo"]["info_kind"]
             for e in ip_json(host, "-d", "link", "show") if "linkinfo" in e}
    assert kinds["br-h"] == "bridge" and kinds["h-s1"] == "veth"
    # host links: addresses on both ends, the long form's host-interface, mtu and mac
    assert addresses(in_host["h-s1"]) >= {"192.168.77.1/24"}
    assert addresses(got[s1]["eth3"]) >= {"192.168.77.2/24"}
    assert in_host["h-l1"]["mtu"] == 2000 == got[l1]["eth3"]["mtu"]
    assert got[l1]["eth3"]["address"] == "02:00:00:00:03:01"
    # every end is up
    for name, dev in [(s1, "eth1"), (s1, "eth2"), (s1, "eth3"), (l1, "eth1"), (l1, "eth2"),
                      (l1, "eth3"), (l2, "eth1"), (l2, "eth2"), (l2, "eth3"), (l1, "p-l2")]:
        assert "UP" in got[name][dev]["flags"], (name, dev)
    for dev in ("h-s1", "h-l1", "p-l1", "p-l2", "br-h"):
        assert "UP" in in_host[dev]["flags"], dev
    # traffic flows: across a plain link and across the host's bridge
    from rawns.ping import ping

    wait_up(s1, "eth2")
    wait_up(l2, "eth1")
    assert ping("10.0.2.2", netns=s1, timeout=3)[0].rtt is not None
    # status() agrees with ip
    status = lab.status()
    assert status.up and [n.name for n in status.nodes] == ["s1", "l1", "l2", "br-h", "br-in"]
    s1_status = {i.name: i for i in status.nodes[0].interfaces}
    assert s1_status["eth2"].mac == "02:00:00:00:02:01" and s1_status["eth2"].mtu == 1500
    assert "10.0.2.1/24" in s1_status["eth2"].addresses
    br_in = {i.name: i for i in status.nodes[4].interfaces}
    assert br_in["p-l2"].master == "br-in" and status.nodes[4].netns == l1
    # down: everything gone, the host's namespace as it was; twice is fine
    lab.down()
    assert my_namespaces(prefix) == []
    assert set(links_of(host)) == {"lo"}
    lab.down()
    assert lab.status().absent


def test_a_link_kind_the_kernel_lacks_is_refused_before_anything_is_made(tmp_path, prefix,
                                                                         host):
    assert topology.kernel_has("veth") and topology.kernel_has("bridge")
    lab = topology.load(lab_file(tmp_path, prefix, """\
        topology:
          nodes:
            a: {kind: linux}
            b: {kind: linux}
            br: {kind: bridge}
          links:
            - endpoints: ["a:eth1", "b:eth1"]
            - endpoints: ["a:eth2", "br:pa"]
            - type: dummy
              endpoint: {node: b, interface: d0}
        """), host=host)
    has_dummy = topology.kernel_has("dummy")
    with pytest.raises(TopologyError) as caught:
        lab.up()
    expected = "rawns cannot make dummy links" if has_dummy else "this kernel has no 'dummy'"
    assert expected in str(caught.value) and caught.value.line == 11  # "- type: dummy"
    assert my_namespaces(prefix) == [] and set(links_of(host)) == {"lo"}


MACVLAN_VXLAN = """\
    topology:
      nodes:
        a: {kind: linux}
        b: {kind: linux}
      links:
        - type: macvlan
          host-interface: par0
          endpoint: {node: a, interface: eth1, mac: "02:00:00:00:0e:01", ipv4: 10.8.0.1/24}
          vars: {role: uplink}          # templating only
        - endpoints: ["b:eth1", "macvlan:par0"]
          ipv4: [10.8.0.2/24, ""]
        - type: macvlan
          host-interface: par0
          mode: vepa
          mtu: 1400
          endpoint: {node: b, interface: eth2}
        - type: vxlan
          remote: 192.0.2.2
          vni: 42
          parent-interface: up0
          endpoint: {node: a, interface: vx1, mac: "02:00:00:00:0e:02", ipv4: 10.9.0.1/24}
        - type: vxlan
          remote: 192.0.2.2
          vni: 43
          udp-port: 4789
          endpoint: {node: b, interface: vx1}
"""


def test_macvlan_and_vxlan_links_are_made_in_the_host_and_placed_in_their_nodes(
        tmp_path, prefix, host, ns):
    from rawns.ping import ping

    # the host: par0 (a veth, both ends up) for the macvlans; up0 192.0.2.1 to a
    # remote tunnel end 192.0.2.2, whose vxlan (VNI 42, containerlab's port) ip makes
    remote = ns()
    run_ip("-n", host, "link", "add", "par0", "type", "veth", "peer", "name", "par1")
    run_ip("-n", host, "link", "add", "up0", "type", "veth", "peer", "name", "up1", "netns",
           remote)
    run_ip("-n", host, "addr", "add", "192.0.2.1/24", "dev", "up0")
    run_ip("-n", remote, "addr", "add", "192.0.2.2/24", "dev", "up1")
    run_ip("-n", remote, "link", "add", "vx0", "type", "vxlan", "id", "42", "remote",
           "192.0.2.1", "dstport", "14789")
    run_ip("-n", remote, "addr", "add", "10.9.0.2/24", "dev", "vx0")
    for where, dev in [(host, "par0"), (host, "par1"), (host, "up0"), (remote, "up1"),
                       (remote, "vx0")]:
        run_ip("-n", where, "link", "set", dev, "up")
    before = set(links_of(host))
    lab = topology.load(lab_file(tmp_path, prefix, MACVLAN_VXLAN), host=host)
    a, b = f"{prefix}lab-a", f"{prefix}lab-b"
    for attempt in range(2):  # down removes them at once: up again right away works
        lab.up()
        host_index = {e["ifname"]: e["ifindex"] for e in ip_json(host, "link", "show")}
        detail = {(n, e["ifname"]): e for n in (a, b) for e in ip_json(n, "-d", "link", "show")}
        mv_a, mv_b, mv_b2 = detail[(a, "eth1")], detail[(b, "eth1")], detail[(b, "eth2")]
        for mv, mode in [(mv_a, "bridge"), (mv_b, "bridge"), (mv_b2, "vepa")]:
            assert mv["linkinfo"]["info_kind"] == "macvlan"
            assert mv["linkinfo"]["info_data"]["mode"] == mode  # containerlab's default: bridge
            assert mv["link_index"] == host_index["par0"] and "link_netnsid" in mv
            assert "UP" in mv["flags"]
        assert mv_a["address"] == "02:00:00:00:0e:01" and mv_b2["mtu"] == 1400
        vx_a, vx_b = detail[(a, "vx1")], detail[(b, "vx1")]
        data_a, data_b = vx_a["linkinfo"]["info_data"], vx_b["linkinfo"]["info_data"]
        assert (data_a["id"], data_a["remote"], data_a["port"]) == (42, "192.0.2.2", 14789)
        assert (data_b["id"], data_b["port"]) == (43, 4789)
        assert "link" not in data_b  # no parent-interface: the host routes the remote
        assert vx_a["address"] == "02:00:00:00:0e:02" and "UP" in vx_a["flags"]
        assert set(links_of(host)) == before  # made there, but nothing of them stays
        assert addresses(links_of(a)["eth1"]) >= {"10.8.0.1/24"}
        assert ping("10.8.0.2", netns=a, count=1, timeout=3)  # two macvlans, bridge mode
        assert ping("10.9.0.2", netns=a, count=1, timeout=3)  # through the tunnel
        status = {i.name: i for i in lab.status().nodes[0].interfaces}
        assert status["eth1"].mac == "02:00:00:00:0e:01" and status["vx1"].up
        lab.down()
        assert my_namespaces(prefix) == [] and set(links_of(host)) == before


def test_a_macvlan_on_an_interface_the_topology_makes_is_refused(tmp_path, prefix, host):
    with pytest.raises(TopologyError, match="made by this topology") as caught:
        topology.load(lab_file(tmp_path, prefix, """\
            topology:
              nodes:
                a: {kind: linux}
                br0: {kind: bridge}
              links:
                - endpoints: ["a:eth1", "br0:p1"]
                - type: macvlan
                  host-interface: br0
                  endpoint: {node: a, interface: eth2}
            """), host=host)
    assert caught.value.line == 9  # "- type: macvlan"


def test_a_failing_exec_line_removes_everything(tmp_path, prefix, host):
    lab = topology.load(lab_file(tmp_path, prefix, """\
        topology:
          nodes:
            a:
              kind: linux
              exec: ["ip addr add 10.1.1.1/24 dev eth1"]
            b:
              kind: linux
              exec: ["ip route add 10.2.0.0/16 via 10.9.9.9"]
            br: {kind: bridge}
          links:
            - endpoints: ["a:eth1", "b:eth1"]
            - endpoints: ["a:eth2", "br:pa"]
            - endpoints: ["b:eth2", "host:hb"]
        """), host=host)
    with pytest.raises(ExecFailed) as caught:
        lab.up()
    assert caught.value.node == "b" and caught.value.status == 2
    assert "Network is unreachable" in str(caught.value)
    assert my_namespaces(prefix) == [] and set(links_of(host)) == {"lo"}


def test_ctrl_c_during_exec_lines_removes_everything(tmp_path, prefix, host, monkeypatch):
    from rawns.topology import lab as lab_module

    real = lab_module._run_line
    calls = []

    def interrupted(*args: Any) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(lab_module, "_run_line", interrupted)
    lab = topology.load(lab_file(tmp_path, prefix, """\
        topology:
          defaults: {kind: linux, exec: ["ip link set lo mtu 1280"]}
          nodes: {a: {}, b: {}, br: {kind: bridge}}
          links:
            - endpoints: ["a:eth1", "br:pa"]
            - endpoints: ["b:eth1", "host:hb"]
        """), host=host)
    with pytest.raises(KeyboardInterrupt):
        lab.up()
    assert len(calls) == 2
    assert my_namespaces(prefix) == [] and set(links_of(host)) == {"lo"}


def test_a_name_taken_makes_nothing_and_leaves_the_owner_alone(tmp_path, prefix, host):
    taken = f"{prefix}lab-b"
    netns.add(taken)
    run_ip("-n", host, "link", "add", "hb", "type", "bridge")  # not the topology's
    lab = topology.load(lab_file(tmp_path, prefix, """\
        topology:
          nodes: {a: {kind: linux}, b: {kind: linux}}
          links:
            - endpoints: ["a:eth1", "b:eth1"]
            - endpoints: ["a:eth2", "host:hb"]
        """), host=host)
    with pytest.raises(FileExistsError):
        lab.up()
    assert my_namespaces(prefix) == [taken]
    # down removes what the topology names, but the host's hb is no veth of its
    lab.down()
    assert my_namespaces(prefix) == []
    assert "hb" in links_of(host)


def test_down_leaves_a_host_interface_whose_peer_is_not_the_topologys(tmp_path, prefix,
                                                                      host, ns):
    lab = topology.load(lab_file(tmp_path, prefix, """\
        topology:
          nodes: {a: {kind: linux}}
          links:
            - endpoints: ["a:eth1", "host:ha"]
        """), host=host)
    other = ns()
    run_ip("-n", host, "link", "add", "ha", "type", "veth", "peer", "name", "x", "netns", other)
    lab.down()  # nothing of the topology is up: nothing to remove
    assert "ha" in links_of(host) and "x" in links_of(other)


def test_a_missing_host_namespace_is_refused_before_anything_is_made(prefix):
    data = {"name": "lab", "prefix": prefix.rstrip("-"),
            "topology": {"nodes": {"a": {"kind": "linux"}},
                         "links": [{"endpoints": ["a:e1", "host:ha"]}]}}
    with pytest.raises(FileNotFoundError, match=f"{prefix}nohost"):
        topology.load(data, host=f"{prefix}nohost").up()
    assert my_namespaces(prefix) == []


def test_a_context_manager_and_a_dict(prefix, host):
    data = {"name": "lab", "prefix": prefix.rstrip("-"),
            "topology": {"nodes": {"a": {"kind": "linux"}, "b": {"kind": "linux"}},
                         "links": [{"endpoints": ["a:e1", "b:e1"]}]}}
    with topology.load(data, host=host) as lab:
        assert my_namespaces(prefix) == [f"{prefix}lab-a", f"{prefix}lab-b"]
        assert lab.status().up
    assert my_namespaces(prefix) == []


@pytest.mark.parametrize("line", ["ip netns exec x ls", "ip -n other link", "ip monitor",
                                  "ip", "ip nosuchobject", "echo 'unbalanced"])
def test_exec_lines_that_cannot_run_are_refused_before_anything_is_made(prefix, host, line):
    data = {"name": "lab", "prefix": prefix.rstrip("-"),
            "topology": {"nodes": {"a": {"kind": "linux", "exec": [line]}}}}
    with pytest.raises(TopologyError, match="topology.nodes.a.exec"):
        topology.load(data, host=host).up()
    assert my_namespaces(prefix) == []


# -- the command line ---------------------------------------------------------------------------

def rawns(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "rawns", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_the_commands(tmp_path, prefix, host):
    path = lab_file(tmp_path, prefix, """\
        topology:
          nodes:
            a: {kind: linux, image: busybox, exec: ["ip addr add 10.3.0.1/32 dev lo"]}
            b: {kind: linux}
            br: {kind: bridge}
          links:
            - endpoints: ["a:eth1", "b:eth1"]
              ipv4: [10.3.1.1/24, 10.3.1.2/24]
            - endpoints: ["b:eth2", "br:pb"]
        """)
    up = rawns("-n", host, "up", str(path))
    assert up.returncode == 0, up.stderr
    assert up.stderr == "rawns: up: ignored, they configure containers: image\n"
    assert up.stdout.startswith("lab: up, 2 namespaces and 2 links in ")
    a = f"{prefix}lab-a"
    assert "10.3.0.1/32" in addresses(links_of(a)["lo"])
    again = rawns("-n", host, "up", str(path))
    assert again.returncode == 2 and again.stderr.count("\n") == 2  # ignored + the error
    assert "File exists" in again.stderr.splitlines()[-1]
    shown = rawns("-n", host, "-j", "show", str(path))
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert [node["name"] for node in status["nodes"]] == ["a", "b", "br"]
    eth1 = {i["ifname"]: i for i in status["nodes"][0]["interfaces"]}["eth1"]
    oracle = links_of(a)["eth1"]
    assert (eth1["mtu"], eth1["mac"]) == (oracle["mtu"], oracle["address"])
    assert set(eth1["addresses"]) == addresses(oracle)
    table = rawns("-n", host, "show", str(path))
    assert table.stdout.splitlines()[0].split()[:4] == ["NODE", "KIND", "NETNS", "INTERFACE"]
    assert rawns("graph", str(path)).stdout.startswith('graph "lab" {')
    assert rawns("graph", str(path), "mermaid").stdout.startswith("flowchart LR")
    down = rawns("-n", host, "down", str(path))
    assert (down.returncode, down.stdout, down.stderr) == (0, "", "")
    assert my_namespaces(prefix) == [] and set(links_of(host)) == {"lo"}
    assert rawns("-n", host, "down", str(path)).returncode == 0


def test_command_line_mistakes_are_one_line(tmp_path, prefix):
    path = lab_file(tmp_path, prefix, "topology:\n  nodes:\n    a: {kind: linux, imag: x}\n")
    result = rawns("up", str(path))
    assert result.returncode == 1
    assert result.stderr == (f"rawns: up: {path}:5: topology.nodes.a.imag: "
                             f"unknown key 'imag'\n")
    assert rawns("up").stderr == "rawns: up: topology file is missing\n"
    assert rawns("graph", str(path), "png").returncode == 1
    assert my_namespaces(prefix) == []


@pytest.mark.parametrize("when", ["links", "exec"])
def test_sigterm_during_up_leaves_nothing(tmp_path, prefix, host, when):
    """``rawns up`` takes SIGTERM (docker stop, systemd, timeout) as Ctrl-C:
    while the batch makes the namespaces and links, or while exec lines run."""
    count = 150
    nodes = "\n".join(f"            n{i}: {{}}" for i in range(count))
    links = "\n".join(f'            - endpoints: ["n{i}:eth1", "n{i + 1}:eth2"]'
                      for i in range(count - 1))
    path = lab_file(tmp_path, prefix, f"""\
        topology:
          defaults: {{kind: linux, exec: ["sleep 0.02"]}}
          nodes:
{nodes}
          links:
            - endpoints: ["n0:eth9", "host:h0"]
{links}
        """)
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "-n", host, "up", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    # "links": as soon as a namespace is there; "exec": once they all are
    wanted = 1 if when == "links" else count
    while len(my_namespaces(prefix)) < wanted and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    if when == "exec":
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and out == ""
    assert my_namespaces(prefix) == [] and set(links_of(host)) == {"lo"}


def progress_lab(tmp_path: Path, prefix: str, count: int) -> Path:
    nodes = "\n".join(f"            n{i}: {{}}" for i in range(count))
    links = "\n".join(f'            - endpoints: ["n{i}:eth1", "n{i + 1}:eth2"]'
                      for i in range(count - 1))
    return lab_file(tmp_path, prefix, f"""\
        topology:
          defaults: {{kind: linux, exec: ["ip link set lo mtu 9000"]}}
          nodes:
{nodes}
          links:
{links}
        """)


def test_up_shows_its_progress_on_a_terminal_and_nothing_elsewhere(tmp_path, prefix, host):
    import pty

    from rawns.cli.topology import PROGRESS_NODES

    count = PROGRESS_NODES + 10
    path = progress_lab(tmp_path, prefix, count)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # stderr a terminal (a pty): the phases, counted, on one line rewritten in place
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "rawns", "-n", host, "up", str(path)],
                            stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, shown
    text = shown.decode()
    assert "\n" not in text and text.endswith("\r\x1b[K")  # cleared at the end
    updates = [u.removesuffix("\x1b[K") for u in text.split("\r") if u.strip("\x1b[K")]
    assert updates and all(u.startswith("rawns: up: ") for u in updates)
    last = {}
    for update in updates:
        phase, counted = update.removeprefix("rawns: up: ").split(" ", 1)
        last[phase] = counted
    assert list(last) == ["namespaces", "links", "exec"]  # in that order, each once
    requests = count + 2 * (count - 1)  # lo up, each link, the far end up
    assert last["namespaces"].startswith(f"{count}/{count}, ")
    assert last["links"].startswith(f"{requests}/{requests}, ")
    assert last["exec"].startswith(f"{count}/{count}, ")
    assert all(counted.endswith("/s") for counted in last.values())
    subprocess.run([sys.executable, "-m", "rawns", "-n", host, "down", str(path)], env=env,
                   check=True)
    # stderr not a terminal: not a byte of progress
    up = rawns("-n", host, "up", str(path))
    assert up.returncode == 0 and up.stderr == ""
    rawns("-n", host, "down", str(path))
    assert my_namespaces(prefix) == []


def test_progress_is_throttled_but_shows_each_phase_and_its_end():
    import io

    from rawns.cli.topology import _Progress

    stream = io.StringIO()
    progress = _Progress(stream)
    progress.INTERVAL = 3600.0  # nothing between a phase's first and last update
    for done in range(0, 1001):
        progress("links", done, 1000)
    progress("exec", 0, 5)
    progress.done()
    shown = stream.getvalue().split("\r")
    assert shown[1:3] == ["rawns: up: links 0/1000\x1b[K"] + [shown[2]]
    assert shown[2].startswith("rawns: up: links 1000/1000, ") and "/s" in shown[2]
    assert shown[3:] == ["rawns: up: exec 0/5\x1b[K", "\x1b[K"]


def test_a_signal_inside_an_exec_lines_fork_undoes_up_without_a_traceback(
        tmp_path, prefix, host):
    """A SIGTERM that arrives inside an at-fork hook of the fork that runs an
    exec line waits (blocked) until the fork is over: Python cannot drop its
    KeyboardInterrupt there ("Exception ignored in", a traceback on stderr),
    and ``up`` ends as interrupted, with nothing left."""
    path = lab_file(tmp_path, prefix, """\
        topology:
          defaults: {kind: linux, exec: ["true"]}
          nodes: {a: {}, b: {}}
          links:
            - endpoints: ["a:eth1", "b:eth1"]
        """)
    script = textwrap.dedent(f"""
        import os, signal, sys
        from rawns.cli import main
        fired = []

        def after_fork_in_parent():
            if not fired:
                fired.append(1)
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10000):  # the handler runs here, inside the hook
                    pass

        os.register_at_fork(after_in_parent=after_fork_in_parent)
        sys.exit(main(["-n", {host!r}, "up", {str(path)!r}]))
        """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert result.returncode == 130, (result.stdout, result.stderr)
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert my_namespaces(prefix) == [] and set(links_of(host)) == {"lo"}
