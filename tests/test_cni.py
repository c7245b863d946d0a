"""rawns-cni against the reference plugins: the same config through both makes the same state.

Each config runs through the reference plugin (``ptp`` or ``bridge`` of
Debian's containernetworking-plugins, with ``host-local``) and through
``python -m rawns.cni``, each inside a fresh namespace standing for the host,
with a fresh container namespace. Compared: the result JSON (generated veth
names and MACs replaced), the links, addresses, routes and sysctls on both
sides, and the files of the dataDir; then again after DEL.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from cni_harness import (
    RAWNS, VETH_NAME, call, data_dir, diff, normal_result, reference, state,
)
from conftest import run_ip

SUBNET_ONLY = {"type": "host-local", "subnet": "10.77.0.0/24",
               "routes": [{"dst": "0.0.0.0/0"}]}
RANGES = {"type": "host-local",
          "ranges": [[{"subnet": "10.88.0.0/16", "rangeStart": "10.88.0.10",
                       "rangeEnd": "10.88.0.20", "gateway": "10.88.0.1"}]],
          "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.168.50.0/24", "gw": "10.88.0.7"}]}

DUAL = {"type": "host-local",
        "ranges": [[{"subnet": "10.44.0.0/24"}], [{"subnet": "fd00:44::/64"}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}

CONFIGS: dict[str, dict[str, Any]] = {
    "ptp": {"cniVersion": "1.0.0", "mode": "ptp", "mtu": 1400, "ipam": SUBNET_ONLY,
            "dns": {"nameservers": ["10.77.0.1"], "search": ["svc.local"]}},
    "ptp-ranges": {"cniVersion": "1.0.0", "mode": "ptp", "ipam": RANGES},
    "ptp-0.3.1": {"cniVersion": "0.3.1", "mode": "ptp", "ipam": SUBNET_ONLY},
    "ptp-0.4.0": {"cniVersion": "0.4.0", "mode": "ptp", "ipam": SUBNET_ONLY},
    "bridge-gateway-hairpin": {"cniVersion": "1.0.0", "mode": "bridge", "bridge": "cni7",
                               "isGateway": True, "hairpinMode": True, "mtu": 1450,
                               "ipam": RANGES},
    "ptp-dual-stack": {"cniVersion": "1.0.0", "mode": "ptp", "ipam": DUAL},
    "bridge-dual-stack": {"cniVersion": "1.0.0", "mode": "bridge", "isGateway": True,
                          "ipam": DUAL},
    "bridge-plain": {"cniVersion": "1.0.0", "mode": "bridge", "ipam": SUBNET_ONLY},
    "bridge-default-gateway": {"cniVersion": "1.0.0", "mode": "bridge",
                               "isDefaultGateway": True,
                               "ipam": {"type": "host-local", "subnet": "10.99.0.0/24"}},
}


def for_plugin(conf: dict[str, Any], who: str, data: str) -> dict[str, Any]:
    """``conf`` as the reference plugin or rawns reads it, on its own dataDir."""
    out = copy.deepcopy(conf)
    out["name"] = "testnet"
    out["type"] = out["mode"] if who == "reference" else "rawns"
    if "ipam" in out:
        out["ipam"]["dataDir"] = data
    return out


def argv_of(who: str, conf: dict[str, Any]) -> list[str]:
    return reference(conf["mode"]) if who == "reference" else RAWNS


def sandbox_free(value: Any, container: str) -> Any:
    """The result with the container's namespace path made the same."""
    return json.loads(json.dumps(value).replace(f"/run/netns/{container}", "NETNS"))


@pytest.mark.parametrize("name", CONFIGS)
def test_add_and_del_make_what_the_reference_makes(name, ns, tmp_path):
    conf = CONFIGS[name]
    seen: dict[str, dict[str, Any]] = {}
    for who in ("reference", "rawns"):
        host, container = ns(), ns()
        data = str(tmp_path / who)
        plugin_conf = for_plugin(conf, who, data)
        argv = argv_of(who, conf)
        added = call(host, argv, "ADD", plugin_conf, container_id="pod-1",
                     netns=f"/run/netns/{container}")
        assert added.code == 0, f"{who}: {added.raw} {added.err}"
        after_add = {"result": sandbox_free(normal_result(added.out, host), container),
                     **state(host, container), "dataDir": data_dir(data)}
        deleted = call(host, argv, "DEL", plugin_conf, container_id="pod-1",
                       netns=f"/run/netns/{container}")
        assert deleted.code == 0, f"{who}: {deleted.raw} {deleted.err}"
        assert deleted.out is None
        after_del = {**state(host, container), "dataDir": data_dir(data)}
        seen[who] = {"add": after_add, "del": after_del}
    assert not diff(seen["reference"]["add"], seen["rawns"]["add"]), \
        "\n".join(diff(seen["reference"]["add"], seen["rawns"]["add"]))
    assert not diff(seen["reference"]["del"], seen["rawns"]["del"]), \
        "\n".join(diff(seen["reference"]["del"], seen["rawns"]["del"]))
    # What the comparison covered is not empty on either side.
    assert seen["rawns"]["add"]["result"]["ips"]
    assert seen["rawns"]["add"]["dataDir"]


def test_a_second_pod_on_the_bridge_matches_too(ns, tmp_path):
    conf = CONFIGS["bridge-gateway-hairpin"]
    seen = {}
    for who in ("reference", "rawns"):
        host, first, second = ns(), ns(), ns()
        data = str(tmp_path / who)
        plugin_conf = for_plugin(conf, who, data)
        for pod, container in (("pod-a", first), ("pod-b", second)):
            added = call(host, argv_of(who, conf), "ADD", plugin_conf, container_id=pod,
                         netns=f"/run/netns/{container}")
            assert added.code == 0, f"{who}: {added.raw} {added.err}"
        result = sandbox_free(normal_result(added.out, host), second)
        seen[who] = {"result": result, **state(host, second), "dataDir": data_dir(data)}
    assert not diff(seen["reference"], seen["rawns"]), \
        "\n".join(diff(seen["reference"], seen["rawns"]))
    assert seen["rawns"]["result"]["ips"][0]["address"] == "10.88.0.11/16"


def test_the_network_is_shared_with_the_reference_host_local(ns, tmp_path):
    """rawns and the reference, one dataDir: each sees the other's allocations."""
    data = str(tmp_path / "shared")
    host = ns()
    addresses = []
    for n, who in enumerate(["reference", "rawns", "reference", "rawns"]):
        container = ns()
        conf = for_plugin(CONFIGS["ptp"], who, data)
        added = call(host, argv_of(who, CONFIGS["ptp"]), "ADD", conf, container_id=f"pod-{n}",
                     netns=f"/run/netns/{container}")
        assert added.code == 0, f"{who}: {added.raw} {added.err}"
        addresses.append(added.out["ips"][0]["address"])
    assert addresses == ["10.77.0.2/24", "10.77.0.3/24", "10.77.0.4/24", "10.77.0.5/24"]
    files = data_dir(data)
    assert files["testnet/10.77.0.3"] == ("0o644", "pod-1\r\neth0")
    assert files["testnet/last_reserved_ip.0"] == ("0o644", "10.77.0.5")
    # rawns releases what the reference allocated, and the other way round.
    for n, who in ((0, "rawns"), (1, "reference")):
        conf = for_plugin(CONFIGS["ptp"], who, data)
        gone = call(host, argv_of(who, CONFIGS["ptp"]), "DEL", conf, container_id=f"pod-{n}")
        assert gone.code == 0, gone.raw
    assert sorted(data_dir(data)) == ["testnet/10.77.0.4", "testnet/10.77.0.5",
                                      "testnet/last_reserved_ip.0", "testnet/lock"]


def test_nothing_reaches_the_machines_own_namespace(ns, tmp_path):
    """The harness runs every plugin inside the test's host namespace."""
    host, container = ns(), ns()
    conf = for_plugin(CONFIGS["bridge-gateway-hairpin"], "rawns", str(tmp_path))
    added = call(host, RAWNS, "ADD", conf, container_id="pod-1",
                 netns=f"/run/netns/{container}")
    assert added.code == 0, added.raw
    made = [added.out["interfaces"][0]["name"], added.out["interfaces"][1]["name"]]
    assert made[0] == "cni7" and VETH_NAME.fullmatch(made[1])
    here = [link["ifname"] for link in json.loads(run_ip("-j", "link", "show").stdout)]
    there = [link["ifname"] for link in json.loads(run_ip("-n", host, "-j", "link").stdout)]
    assert not set(made) & set(here)
    assert set(made) <= set(there)
