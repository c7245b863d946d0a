"""Running CNI plugins as a runtime does, and reading what they made, for tests/test_cni*.py.

Every plugin process runs under ``ip netns exec HOST``: a namespace of the
test's own stands for the host, so nothing a plugin does (links, addresses,
``ip_forward``) ever reaches the machine's own namespace. The state is read
with iproute2 and sysctl(8), independent of rawns.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import run_ip

REFERENCE_DIR = "/usr/lib/cni"
REPO = str(Path(__file__).resolve().parent.parent)
RAWNS = [sys.executable, "-m", "rawns.cni"]
VETH_NAME = re.compile(r"veth[0-9a-f]{8}")
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def reference(plugin: str) -> list[str]:
    """argv of a reference plugin; fails (never skips) when it is missing."""
    path = os.path.join(REFERENCE_DIR, plugin)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: the CNI tests need Debian's "
                    "containernetworking-plugins as their oracle (.ci/run installs it)")
    return [path]


@dataclass
class Answer:
    code: int          # exit status
    out: Any           # stdout as JSON (None if empty)
    raw: str
    err: str


def call(host: str, argv: list[str], command: str, conf: dict[str, Any] | bytes, *,
         container_id: str = "", netns: str = "", ifname: str = "eth0",
         cni_path: str = REFERENCE_DIR, env: dict[str, str] | None = None,
         drop: tuple[str, ...] = (), timeout: float = 120) -> Answer:
    """Run a plugin inside the namespace ``host`` as a runtime would."""
    variables = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": REPO,
                 "CNI_COMMAND": command, "CNI_CONTAINERID": container_id,
                 "CNI_NETNS": netns, "CNI_IFNAME": ifname, "CNI_PATH": cni_path}
    variables.update(env or {})
    for name in drop:
        variables.pop(name, None)
    data = conf if isinstance(conf, bytes) else json.dumps(conf).encode()
    done = subprocess.run(["ip", "netns", "exec", host, *argv], input=data,
                          capture_output=True, env=variables, timeout=timeout)
    text = done.stdout.decode()
    try:
        out = json.loads(text) if text.strip() else None
    except ValueError:
        out = None
    return Answer(done.returncode, out, text, done.stderr.decode())


def start(host: str, argv: list[str], command: str, conf: dict[str, Any], *,
          container_id: str, netns: str, ifname: str = "eth0") -> subprocess.Popen[bytes]:
    """``call`` without waiting: the process, its stdin already written."""
    variables = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": REPO,
                 "CNI_COMMAND": command, "CNI_CONTAINERID": container_id,
                 "CNI_NETNS": netns, "CNI_IFNAME": ifname, "CNI_PATH": REFERENCE_DIR}
    process = subprocess.Popen(["ip", "netns", "exec", host, *argv], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=variables)
    assert process.stdin is not None
    process.stdin.write(json.dumps(conf).encode())
    process.stdin.close()
    process.stdin = None  # written and closed: communicate() only reads
    return process


def ip_json(ns: str, *args: str) -> Any:
    return json.loads(run_ip("-n", ns, "-j", *args).stdout or "[]")


def sysctls(ns: str) -> dict[str, str]:
    """Every net.ipv4 / net.ipv6 sysctl of ``ns``, as sysctl(8) reads them."""
    done = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-a"], capture_output=True,
                          text=True)
    out = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition(" = ")
        if sep and key.startswith(("net.ipv4.", "net.ipv6.")):
            out[key] = value
    return out


class Names:
    """Generated names (host veths) replaced by stable placeholders, in
    ifindex order, so that two runs compare."""

    def __init__(self, host: str) -> None:
        links = sorted(ip_json(host, "link", "show"), key=lambda link: link["ifindex"])
        self.map: dict[str, str] = {}
        for link in links:
            if VETH_NAME.fullmatch(link["ifname"]):
                self.map[link["ifname"]] = f"VETH{len(self.map)}"

    def __call__(self, text: str) -> str:
        return VETH_NAME.sub(lambda m: self.map.get(m.group(0), "VETH?"), text)


_CARRIER_FLAGS = ("NO-CARRIER", "LOWER_UP")
_LINK_KEYS = ("ifindex", "ifname", "flags", "mtu", "operstate", "link_type", "master",
              "txqlen", "link_netnsid", "link_index", "promiscuity", "qdisc", "group")


def links(ns: str, names: Names) -> list[dict[str, Any]]:
    out = []
    for link in ip_json(ns, "-d", "link", "show"):
        entry = {key: link.get(key) for key in _LINK_KEYS}
        entry["ifname"] = names(link["ifname"])
        if entry["master"]:
            entry["master"] = names(entry["master"])
        info = link.get("linkinfo", {})
        entry["kind"] = info.get("info_kind")
        if entry["kind"] == "bridge":
            # A bridge's carrier follows its ports' from a kernel work queue,
            # some time after the port comes or goes: not the plugin's doing.
            entry["flags"] = [f for f in entry["flags"] if f not in _CARRIER_FLAGS]
            entry["operstate"] = None
        slave = info.get("info_slave_data", {})
        entry["hairpin"] = slave.get("hairpin")
        if info.get("info_kind") == "bridge":
            data = info.get("info_data", {})
            entry["bridge"] = {k: data.get(k) for k in ("stp_state", "forward_delay",
                                                         "vlan_filtering", "ageing_time")}
        out.append(entry)
    return out


def addresses(ns: str, names: Names) -> list[dict[str, Any]]:
    """Addresses of ``ns`` but the IPv6 link-local ones (made of the MAC)."""
    out = []
    for link in ip_json(ns, "addr", "show"):
        for addr in link.get("addr_info", []):
            if addr.get("scope") == "link" and addr["family"] == "inet6":
                continue
            entry = {k: v for k, v in addr.items() if k not in ("tentative",)}
            entry["dev"] = names(link["ifname"])
            if "label" in entry:
                entry["label"] = names(entry["label"])
            out.append(entry)
    return out


def routes(ns: str, names: Names) -> list[dict[str, Any]]:
    """Every route of ``ns`` (all tables, both families) but the local ones of
    IPv6 link-local addresses (made of the MAC)."""
    out = []
    for family in ("-4", "-6"):
        for route in ip_json(ns, family, "route", "show", "table", "all"):
            if route.get("type") == "local" and route["dst"].startswith("fe80:"):
                continue
            route = dict(route)
            route["dev"] = names(route.get("dev", ""))
            # "linkdown" follows the device's carrier, late (see links()).
            route["flags"] = [f for f in route.get("flags", []) if f != "linkdown"]
            out.append(route)
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def sysctl_state(ns: str, names: Names) -> dict[str, str]:
    # stable_secret cannot be read; neighbour timers of a new device follow
    # the defaults; the base_reachable_time is randomised per table.
    return {names(k): v for k, v in sysctls(ns).items()
            if "stable_secret" not in k}


def settle(*namespaces: str, timeout: float = 20.0) -> None:
    """Wait until no veth that is up waits for its carrier (the kernel sets a
    link's operstate from one work queue for the whole machine, a second or,
    while other programs churn links, many seconds after the change) and
    no IPv6 address is tentative where IPv6 forwards (there, the end of
    duplicate address detection adds anycast routes; elsewhere it changes
    nothing compared, and waiting for it would cost a second or two)."""
    forwarding = [ns for ns in namespaces if subprocess.run(
        ["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv6.conf.all.forwarding"],
        capture_output=True, text=True).stdout.strip() == "1"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = [link for ns in namespaces for link in ip_json(ns, "-d", "link", "show")
                   if link.get("linkinfo", {}).get("info_kind") == "veth"
                   and "UP" in link["flags"] and "NO-CARRIER" in link["flags"]]
        pending += [addr for ns in forwarding for link in ip_json(ns, "addr", "show")
                    for addr in link.get("addr_info", []) if addr.get("tentative")]
        if not pending:
            return
        time.sleep(0.05)


def state(host: str, container: str) -> dict[str, Any]:
    """What a plugin made, readable side by side with another run."""
    settle(host, container)
    names = Names(host)
    return {
        "host links": links(host, names), "host addresses": addresses(host, names),
        "host routes": routes(host, names), "host sysctls": sysctl_state(host, names),
        "container links": links(container, Names(container)),
        "container addresses": addresses(container, Names(container)),
        "container routes": routes(container, Names(container)),
        "container sysctls": sysctl_state(container, Names(container)),
    }


def normal_result(out: Any, host: str) -> Any:
    """A result with its generated names and MACs replaced."""
    names = Names(host)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ("MAC" if k == "mac" and isinstance(v, str) and MAC.match(v)
                        else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return names(value)
        return value

    return walk(out)


def data_dir(path: str | Path) -> dict[str, tuple[str, str]]:
    """Each file of a host-local data directory: (mode, content)."""
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            info = os.stat(full)
            with open(full, "rb") as f:
                content = f.read().decode(errors="replace")
            out[os.path.relpath(full, path)] = (oct(stat.S_IMODE(info.st_mode)), content)
    return out


def diff(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    """The keys of two states that differ, with both values, for assertions."""
    lines = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key), right.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    lines.append(f"{key}: {sub}: reference {a.get(sub)!r} != rawns {b.get(sub)!r}")
        else:
            lines.append(f"{key}:\n  reference {json.dumps(a, sort_keys=True)}\n"
                         f"  rawns     {json.dumps(b, sort_keys=True)}")
    return lines
