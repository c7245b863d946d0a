"""rawns-cni's commands against the real kernel: traffic, CHECK, concurrency, DEL, errors, GC, STATUS.

Every plugin runs inside a namespace of the test's own standing for the host
(``cni_harness.call``); where the reference plugins define the behaviour
(error codes, CHECK's verdict), they run beside rawns and must agree.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

import pytest

from cni_harness import (
    RAWNS, REFERENCE_DIR, VETH_NAME, call, data_dir, ip_json, reference, start,
)
from conftest import run_ip
from rawns import netns
from rawns.ping import ping


def conf(tmp_path: Any, mode: str = "ptp", version: str = "1.0.0", **extra: Any
         ) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cniVersion": version, "name": "cmdnet", "type": "rawns", "mode": mode,
        "ipam": {"type": "host-local", "subnet": "10.66.0.0/24",
                 "routes": [{"dst": "0.0.0.0/0"}], "dataDir": str(tmp_path / "data")},
    }
    if mode == "bridge":
        out.update(bridge="cnib0", isGateway=True)
    out.update(extra)
    return out


def with_prev(config: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    return {**config, "prevResult": result}


def add(host: str, container: str, config: dict[str, Any], pod: str = "pod-1",
        argv: list[str] | None = None) -> dict[str, Any]:
    answer = call(host, argv or RAWNS, "ADD", config, container_id=pod,
                  netns=f"/run/netns/{container}")
    assert answer.code == 0, f"{answer.raw} {answer.err}"
    return answer.out


def allocations(path: Any) -> dict[str, str]:
    """The allocation files of a dataDir (not lock or last_reserved_ip.N,
    which host-local too leaves moved after a failed ADD: it is where the
    round robin goes on, not an allocation)."""
    return {name: content for name, (_, content) in data_dir(path).items()
            if name.split("/")[-1][0].isdigit()}


def host_links(host: str) -> list[str]:
    return [link["ifname"] for link in ip_json(host, "link", "show")]


# -- traffic ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["ptp", "bridge"])
def test_two_pods_ping_each_other_through_the_host(mode, ns, tmp_path):
    host, a, b = ns(), ns(), ns()
    first = add(host, a, conf(tmp_path, mode), "pod-a")
    second = add(host, b, conf(tmp_path, mode), "pod-b")
    address_a = first["ips"][0]["address"].split("/")[0]
    address_b = second["ips"][0]["address"].split("/")[0]
    assert address_a != address_b
    for source, target in ((a, address_b), (b, address_a)):
        echoes = ping(target, netns=source, count=3, timeout=2.0)
        assert [e.rtt is not None for e in echoes] == [True] * 3, (source, target)
    if mode == "bridge":
        ports = [link["ifname"] for link in ip_json(host, "link", "show", "master", "cnib0")]
        assert sorted(ports) == sorted(i["name"] for i in (first["interfaces"][1],
                                                           second["interfaces"][1]))


@pytest.mark.parametrize("mode", ["ptp", "bridge"])
def test_two_pods_ping_each_other_over_ipv6(mode, ns, tmp_path):
    host, a, b = ns(), ns(), ns()
    config = conf(tmp_path, mode)
    config["ipam"] = {"type": "host-local", "dataDir": str(tmp_path / "data"),
                      "ranges": [[{"subnet": "10.67.0.0/24"}], [{"subnet": "fd00:67::/64"}]],
                      "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}
    first = add(host, a, config, "pod-a")
    second = add(host, b, config, "pod-b")
    v6 = [[ip["address"].split("/")[0] for ip in r["ips"] if ":" in ip["address"]][0]
          for r in (first, second)]
    for source, target in ((a, v6[1]), (b, v6[0])):
        # The host's ends settle their IPv6 (DAD) on their own time, seconds
        # on a loaded machine: wait for the first echo, then want three.
        deadline = time.monotonic() + 20
        while ping(target, netns=source, count=1, timeout=1.0)[0].rtt is None:
            assert time.monotonic() < deadline, (source, target)
        echoes = ping(target, netns=source, count=3, timeout=3.0)
        assert all(e.rtt is not None for e in echoes), (source, target)


# -- CHECK --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["ptp", "bridge"])
def test_check_passes_then_sees_a_removed_address_or_route(mode, ns, tmp_path):
    for who in ("reference", "rawns"):
        host, container = ns(), ns()
        config = conf(tmp_path / who, mode)
        argv = reference(mode) if who == "reference" else RAWNS
        if who == "reference":
            config["type"] = mode
        result = add(host, container, config, argv=argv)
        checked = call(host, argv, "CHECK", with_prev(config, result), container_id="pod-1",
                       netns=f"/run/netns/{container}")
        assert checked.code == 0 and checked.out is None, f"{who}: {checked.raw}"
        address = result["ips"][0]["address"]
        run_ip("-n", container, "addr", "del", address, "dev", "eth0")
        checked = call(host, argv, "CHECK", with_prev(config, result), container_id="pod-1",
                       netns=f"/run/netns/{container}")
        assert checked.code != 0, f"{who} missed the removed address"
        if who == "rawns":
            assert checked.out["code"] == 101 and address in checked.out["msg"]
        # Put it back but lose the default route.
        run_ip("-n", container, "addr", "add", address, "dev", "eth0")
        run_ip("-n", container, "route", "replace", "default", "via",
               result["ips"][0]["gateway"], "dev", "eth0")
        checked = call(host, argv, "CHECK", with_prev(config, result), container_id="pod-1",
                       netns=f"/run/netns/{container}")
        assert checked.code == 0, f"{who}: {checked.raw}"
        run_ip("-n", container, "route", "del", "default")
        checked = call(host, argv, "CHECK", with_prev(config, result), container_id="pod-1",
                       netns=f"/run/netns/{container}")
        assert checked.code != 0, f"{who} missed the removed route"
        if who == "rawns":
            assert checked.out["code"] == 101 and "0.0.0.0/0" in checked.out["msg"]


def test_check_sees_the_host_side_and_the_allocation(ns, tmp_path):
    host, container = ns(), ns()
    config = conf(tmp_path)
    result = add(host, container, config)
    veth = result["interfaces"][0]["name"]
    run_ip("-n", host, "route", "del", result["ips"][0]["address"].split("/")[0] + "/32")
    checked = call(host, RAWNS, "CHECK", with_prev(config, result), container_id="pod-1",
                   netns=f"/run/netns/{container}")
    assert checked.out["code"] == 101 and veth in checked.out["msg"]
    os.unlink(tmp_path / "data" / "cmdnet" / result["ips"][0]["address"].split("/")[0])
    checked = call(host, RAWNS, "CHECK", with_prev(config, result), container_id="pod-1",
                   netns=f"/run/netns/{container}")
    assert checked.out["code"] == 102 and "pod-1" in checked.out["msg"]


def test_check_needs_a_prev_result_and_version_0_4_0(ns, tmp_path):
    host, container = ns(), ns()
    no_prev = call(host, RAWNS, "CHECK", conf(tmp_path), container_id="pod-1",
                   netns=f"/run/netns/{container}")
    assert no_prev.code == 1 and no_prev.out["code"] == 7
    old = call(host, RAWNS, "CHECK", with_prev(conf(tmp_path, version="0.3.1"), {}),
               container_id="pod-1", netns=f"/run/netns/{container}")
    assert old.out["code"] == 1


# -- concurrency --------------------------------------------------------------------------

def test_fifty_adds_at_once_get_fifty_addresses_and_dels_give_them_back(ns, tmp_path):
    host = ns()
    containers = [ns() for _ in range(50)]
    config = conf(tmp_path, "bridge")
    processes = [start(host, RAWNS, "ADD", config, container_id=f"pod-{n}",
                       netns=f"/run/netns/{c}") for n, c in enumerate(containers)]
    answers = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, out + err
        answers.append(json.loads(out))
    addresses = [a["ips"][0]["address"] for a in answers]
    assert len(set(addresses)) == 50
    files = data_dir(tmp_path / "data")
    assert len([f for f in files if f.split("/")[1][0].isdigit()]) == 50
    for n, c in enumerate(containers):
        shown = ip_json(c, "addr", "show", "eth0")[0]["addr_info"]
        assert addresses[n] in [f"{a['local']}/{a['prefixlen']}" for a in shown]
    assert len(ip_json(host, "link", "show", "master", "cnib0")) == 50
    processes = [start(host, RAWNS, "DEL", config, container_id=f"pod-{n}",
                       netns=f"/run/netns/{c}") for n, c in enumerate(containers)]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, out + err
    assert sorted(f.split("/")[1] for f in data_dir(tmp_path / "data")) == \
        ["last_reserved_ip.0", "lock"]
    assert ip_json(host, "link", "show", "master", "cnib0") == []


# -- DEL ----------------------------------------------------------------------------------

def test_del_twice_and_after_the_netns_is_gone(ns, tmp_path):
    host, container = ns(), ns()
    config = conf(tmp_path)
    result = add(host, container, config)
    for _ in range(2):
        gone = call(host, RAWNS, "DEL", config, container_id="pod-1",
                    netns=f"/run/netns/{container}")
        assert gone.code == 0 and gone.out is None, gone.raw
    assert host_links(host) == ["lo"]
    assert result["interfaces"][1]["name"] not in [l["ifname"] for l in ip_json(container,
                                                                                "link")]
    # Another pod; its namespace is deleted before DEL.
    other = ns()
    add(host, other, config, "pod-2")
    run_ip("netns", "delete", other)
    for netns_path in (f"/run/netns/{other}", ""):
        gone = call(host, RAWNS, "DEL", config, container_id="pod-2", netns=netns_path)
        assert gone.code == 0, gone.raw
    assert sorted(f.split("/")[1] for f in data_dir(tmp_path / "data")) == \
        ["last_reserved_ip.0", "lock"]
    deadline = time.monotonic() + 5
    while host_links(host) != ["lo"] and time.monotonic() < deadline:
        time.sleep(0.05)  # the kernel frees a dead namespace's links in a work queue
    assert host_links(host) == ["lo"]


def test_del_of_what_was_never_added_succeeds_as_the_reference(ns, tmp_path):
    host, container = ns(), ns()
    for argv in (reference("ptp"), RAWNS):
        config = conf(tmp_path)
        if argv != RAWNS:
            config["type"] = "ptp"
        gone = call(host, argv, "DEL", config, container_id="never",
                    netns=f"/run/netns/{container}")
        assert gone.code == 0, gone.raw


# -- failures leave nothing -------------------------------------------------------------

def test_a_failed_add_leaves_no_link_address_or_allocation(ns, tmp_path):
    host, container = ns(), ns()
    config = conf(tmp_path)
    add(host, container, config, "pod-1")
    links_before = host_links(host)
    files_before = allocations(tmp_path / "data")
    # Same container, another interface: its default route clashes.
    failed = call(host, RAWNS, "ADD", config, container_id="pod-1b",
                  netns=f"/run/netns/{container}", ifname="eth1")
    assert failed.code == 1 and failed.out["code"] == 100, failed.raw
    assert "route" in failed.out["msg"]
    assert host_links(host) == links_before
    assert "eth1" not in [l["ifname"] for l in ip_json(container, "link")]
    assert allocations(tmp_path / "data") == files_before


def test_a_full_range_fails_cleanly(ns, tmp_path):
    host = ns()
    config = conf(tmp_path)
    config["ipam"] = {"type": "host-local", "dataDir": str(tmp_path / "data"),
                      "ranges": [[{"subnet": "10.66.0.0/24", "rangeStart": "10.66.0.2",
                                   "rangeEnd": "10.66.0.3"}]]}
    for pod in ("pod-1", "pod-2"):
        add(host, ns(), config, pod)
    before = host_links(host)
    full = call(host, RAWNS, "ADD", config, container_id="pod-3", netns=f"/run/netns/{ns()}")
    assert full.out["code"] == 102 and "no IP addresses available" in full.out["msg"]
    assert host_links(host) == before
    again = call(host, RAWNS, "ADD", config, container_id="pod-1", netns=f"/run/netns/{ns()}")
    assert again.out["code"] == 102 and "duplicate allocation" in again.out["msg"]


def test_a_missing_container_netns_is_code_3_and_allocates_nothing(ns, tmp_path):
    host = ns()
    missing = call(host, RAWNS, "ADD", conf(tmp_path), container_id="pod-1",
                   netns="/run/netns/rawns-cni-no-such-netns")
    assert missing.out["code"] == 3
    assert not os.path.exists(tmp_path / "data" / "cmdnet" / "10.66.0.2")


@pytest.mark.parametrize("how", ["KeyboardInterrupt", "SIGTERM"])
def test_an_interrupted_add_undoes_itself(how, ns, tmp_path, monkeypatch):
    """In this process, its thread inside the test's host namespace."""
    from rawns.cni import attach, main

    host, container = ns(), ns()

    def interrupted(*args: Any, **kwargs: Any) -> None:
        if how == "SIGTERM":
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        raise KeyboardInterrupt

    monkeypatch.setattr(attach, "configure_container", interrupted)
    environ = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "pod-1", "CNI_IFNAME": "eth0",
               "CNI_NETNS": f"/run/netns/{container}", "CNI_PATH": REFERENCE_DIR}
    stdin = _Bytes(json.dumps(conf(tmp_path)).encode())
    stdout = _Text()
    with netns.enter(host):
        status = main.main(environ, stdin, stdout)
    assert status == 1
    assert json.loads(stdout.text)["code"] == 11
    assert host_links(host) == ["lo"]
    assert [l["ifname"] for l in ip_json(container, "link")] == ["lo"]
    assert allocations(tmp_path / "data") == {}
    assert os.path.exists(tmp_path / "data" / "cmdnet" / "lock")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class _Text:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


# -- errors -------------------------------------------------------------------------------

ERROR_CASES = {
    "malformed stdin": ({}, b'{"cniVersion":', 6),
    "empty stdin": ({}, b"", 6),
    "no CNI_COMMAND": ({"drop": ("CNI_COMMAND",)}, None, 4),
    "unknown command": ({"env": {"CNI_COMMAND": "FOO"}}, None, 4),
    "no CNI_CONTAINERID": ({"drop": ("CNI_CONTAINERID",)}, None, 4),
    "no CNI_IFNAME": ({"drop": ("CNI_IFNAME",)}, None, 4),
    "no CNI_NETNS": ({"drop": ("CNI_NETNS",)}, None, 4),
    "no CNI_PATH": ({"drop": ("CNI_PATH",)}, None, 4),
    "bad container id": ({"env": {"CNI_CONTAINERID": "../x"}}, None, 4),
    "bad ifname": ({"env": {"CNI_IFNAME": "eth0/x"}}, None, 4),
    "unsupported version": ({}, b'{"cniVersion":"9.9.9","name":"n","type":"t"}', 1),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_error_codes_are_the_references(case, ns, tmp_path):
    options, data, code = ERROR_CASES[case]
    host, container = ns(), ns()
    codes = {}
    for who, argv in (("reference", reference("ptp")), ("rawns", RAWNS)):
        config = conf(tmp_path / who)
        config["type"] = "ptp" if who == "reference" else "rawns"
        answer = call(host, argv, "ADD", config if data is None else data,
                      container_id="pod-1", netns=f"/run/netns/{container}", **options)
        if case == "no CNI_COMMAND" and who == "reference":
            # The Go plugins print their "about" text then; the spec wants an error.
            assert answer.code == 0 and answer.out is None
            codes[who] = code
            continue
        assert answer.code == 1, f"{who}: {answer.raw}"
        codes[who] = answer.out["code"]
        if who == "rawns":
            assert answer.out["msg"] and answer.err == ""
            assert answer.out["cniVersion"] in ("1.0.0", "1.1.0")
    assert codes == {"reference": code, "rawns": code}
    assert host_links(host) == ["lo"]


@pytest.mark.parametrize("key,value", [("ipMasq", True), ("promiscMode", True), ("vlan", 100),
                                       ("macspoofchk", True),
                                       ("capabilities", {"portMappings": True})])
def test_what_rawns_does_not_do_is_refused_with_code_2_naming_the_key(key, value, ns, tmp_path):
    host, container = ns(), ns()
    answer = call(host, RAWNS, "ADD", conf(tmp_path, "bridge", **{key: value}),
                  container_id="pod-1", netns=f"/run/netns/{container}")
    assert answer.out["code"] == 2
    assert (key if key != "capabilities" else "portMappings") in answer.out["msg"]
    assert host_links(host) == ["lo"]
    assert not os.path.exists(tmp_path / "data")


def test_unknown_keys_are_ignored(ns, tmp_path):
    host, container = ns(), ns()
    answer = call(host, RAWNS, "ADD", conf(tmp_path, somethingNew={"x": 1}, ipMasq=False),
                  container_id="pod-1", netns=f"/run/netns/{container}")
    assert answer.code == 0, answer.raw


# -- VERSION, STATUS, GC ------------------------------------------------------------------

def test_version_lists_the_versions(ns):
    host = ns()
    for data, echoed in ((b'{"cniVersion":"0.4.0"}', "0.4.0"), (b"", "1.1.0")):
        answer = call(host, RAWNS, "VERSION", data)
        assert answer.code == 0
        assert answer.out == {"cniVersion": echoed,
                              "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0",
                                                    "1.1.0"]}


def test_status_says_whether_the_store_is_usable(ns, tmp_path):
    host = ns()
    ok = call(host, RAWNS, "STATUS", conf(tmp_path, version="1.1.0"))
    assert ok.code == 0 and ok.out is None, ok.raw
    (tmp_path / "file").write_text("not a directory")
    config = conf(tmp_path, version="1.1.0")
    config["ipam"]["dataDir"] = str(tmp_path / "file")
    broken = call(host, RAWNS, "STATUS", config)
    assert broken.out["code"] == 50
    old = call(host, RAWNS, "STATUS", conf(tmp_path, version="1.0.0"))
    assert old.out["code"] == 1


def test_gc_releases_the_allocations_of_attachments_no_longer_valid(ns, tmp_path):
    host = ns()
    config = conf(tmp_path, version="1.1.0")
    kept = add(host, ns(), config, "pod-keep")
    add(host, ns(), config, "pod-gone")
    add(host, ns(), config, "pod-keep-other-if")
    answer = call(host, RAWNS, "GC", {**config, "cni.dev/valid-attachments": [
        {"containerID": "pod-keep", "ifname": "eth0"},
        {"containerID": "pod-keep-other-if", "ifname": "eth1"}]})
    assert answer.code == 0 and answer.out is None, answer.raw
    left = {name.split("/")[1]: content for name, (_, content)
            in data_dir(tmp_path / "data").items()}
    assert left.pop(kept["ips"][0]["address"].split("/")[0]) == "pod-keep\r\neth0"
    assert sorted(left) == ["last_reserved_ip.0", "lock"]
    missing = call(host, RAWNS, "GC", config)
    assert missing.out["code"] == 7


# -- delegation ---------------------------------------------------------------------------

def test_another_ipam_plugin_is_executed_from_cni_path(ns, tmp_path):
    """The reference host-local under another name stands for a third-party
    IPAM plugin; rawns runs it for ADD, CHECK and DEL."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    os.symlink(os.path.join(REFERENCE_DIR, "host-local"), plugins / "other-ipam")
    config = conf(tmp_path)
    config["ipam"]["type"] = "other-ipam"
    host, container = ns(), ns()
    path = f"{plugins}:{REFERENCE_DIR}"
    added = call(host, RAWNS, "ADD", config, container_id="pod-1",
                 netns=f"/run/netns/{container}", cni_path=path)
    assert added.code == 0, added.raw + added.err
    assert added.out["ips"] == [{"interface": 1, "address": "10.66.0.2/24",
                                 "gateway": "10.66.0.1"}]
    assert data_dir(tmp_path / "data")["cmdnet/10.66.0.2"][1] == "pod-1\r\neth0"
    checked = call(host, RAWNS, "CHECK", with_prev(config, added.out), container_id="pod-1",
                   netns=f"/run/netns/{container}", cni_path=path)
    assert checked.code == 0, checked.raw
    gone = call(host, RAWNS, "DEL", config, container_id="pod-1",
                netns=f"/run/netns/{container}", cni_path=path)
    assert gone.code == 0, gone.raw
    assert "cmdnet/10.66.0.2" not in data_dir(tmp_path / "data")
    # The delegate's own errors come through with its code.
    bad = dict(config, ipam={"type": "other-ipam"})
    failed = call(host, RAWNS, "ADD", bad, container_id="pod-1",
                  netns=f"/run/netns/{container}", cni_path=path)
    assert failed.code == 1 and "other-ipam" in failed.out["msg"]
    assert host_links(host) == ["lo"]
    lost = call(host, RAWNS, "ADD", config, container_id="pod-1",
                netns=f"/run/netns/{container}", cni_path=str(tmp_path / "nowhere"))
    assert lost.out["code"] == 103


def test_static_ipam_is_delegated_too(ns, tmp_path):
    config = conf(tmp_path)
    config["ipam"] = {"type": "static", "addresses": [{"address": "10.55.0.9/24",
                                                       "gateway": "10.55.0.1"}],
                      "routes": [{"dst": "0.0.0.0/0"}]}
    host, container = ns(), ns()
    added = add(host, container, config)
    assert added["ips"][0]["address"] == "10.55.0.9/24"
    veth = added["interfaces"][0]["name"]
    assert VETH_NAME.fullmatch(veth)
    shown = ip_json(host, "addr", "show", veth)[0]["addr_info"]
    assert "10.55.0.1" in [a["local"] for a in shown]


# -- start-up -----------------------------------------------------------------------------

_LOADED = ("import sys\nfrom rawns.cni.main import main\nstatus = main()\n"
           "print(' '.join(sorted(m for m in sys.modules if m.startswith(('rawns', 'subprocess')))),"
           " file=sys.stderr)\nraise SystemExit(status)\n")


def loaded(host: str, command: str, config: dict[str, Any], **kwargs: Any) -> set[str]:
    """The rawns modules (and subprocess) a plugin call imported."""
    answer = call(host, [sys.executable, "-c", _LOADED], command, config, **kwargs)
    assert answer.code == 0, answer.raw + answer.err
    return set(answer.err.split("\n")[-2].split())


_ALL_LOADED = ("import sys\nfrom rawns.cni.main import main\nstatus = main()\n"
               "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
               "raise SystemExit(status)\n")


def test_version_loads_next_to_nothing(ns):
    """Beyond what the interpreter loads for ``import json, signal`` (its site
    included, which differs between an editable and an installed rawns): the
    entry module only."""
    host = ns()
    bare = call(host, [sys.executable, "-c",
                       "import sys, json, signal\n"
                       "print(' '.join(sys.modules), file=sys.stderr)"],
                "VERSION", {"cniVersion": "1.0.0"})
    answer = call(host, [sys.executable, "-c", _ALL_LOADED], "VERSION", {"cniVersion": "1.0.0"})
    assert answer.code == 0 and bare.code == 0, answer.err + bare.err
    extra = set(answer.err.split("\n")[-2].split()) - set(bare.err.split())
    assert extra <= {"rawns", "rawns.cni", "rawns.cni.main", "__future__"}, extra
    assert {"rawns.cni.main", "json"} <= extra | set(bare.err.split())


def test_each_command_loads_what_it_needs(ns, tmp_path):
    host, container = ns(), ns()
    version = loaded(host, "VERSION", {"cniVersion": "1.0.0"})
    assert version == {"rawns", "rawns.cni", "rawns.cni.main"}
    ptp = loaded(host, "ADD", conf(tmp_path), container_id="pod-1",
                 netns=f"/run/netns/{container}")
    assert {"rawns.cni.ptp", "rawns.handle", "rawns.netns"} <= ptp
    assert not {"rawns.cni.bridge", "subprocess", "rawns.batch", "rawns.show",
                "rawns.cli"} & ptp
    gone = loaded(host, "DEL", conf(tmp_path), container_id="pod-1",
                  netns="/run/netns/rawns-cni-gone")
    assert not {"rawns.handle", "rawns.cni.ptp", "subprocess"} & gone


def test_add_and_del_load_none_of_the_costly_standard_library(ns, tmp_path):
    """A runtime starts the plugin per pod: ADD and DEL make records and
    NamedTuples without dataclasses, and need neither inspect, socket,
    threading nor subprocess (host-local runs in-process).
    Counted beyond what the interpreter's site loads (an editable install's
    finder loads typing and re itself)."""
    host, container = ns(), ns()
    bare = call(host, [sys.executable, "-c",
                       "import sys\nprint(' '.join(sys.modules), file=sys.stderr)"],
                "VERSION", {"cniVersion": "1.0.0"})
    site = set(bare.err.split("\n")[-2].split())
    # typing and enum (and with typing re and contextlib): rawns.netlink.constants
    # still imports them here (the constants without enum are another branch's
    # work); add all four then
    costly = {"dataclasses", "inspect", "socket", "threading", "subprocess", "ast",
              "tokenize", "dis"}
    for command in ("ADD", "DEL"):
        answer = call(host, [sys.executable, "-c", _ALL_LOADED], command, conf(tmp_path),
                      container_id="pod-std", netns=f"/run/netns/{container}")
        assert answer.code == 0, answer.raw + answer.err
        modules = set(answer.err.split("\n")[-2].split()) - site
        assert "rawns.records" in modules or command == "DEL"
        assert not costly & modules, (command, sorted(costly & modules))
