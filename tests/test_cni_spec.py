"""rawns.cni.spec and rawns.cni.config with values alone: no kernel, no files.

Hypothesis feeds every parser hostile input: the only outcome besides a
value is a CniError with one of the spec's codes.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from rawns.cni import spec
from rawns.cni.config import parse_config, request_version
from rawns.cni.spec import (
    DNS, CniError, Interface, IPConfig, Result, RouteConfig, parse_cni_args, parse_result,
    read_env,
)

FULL_ENV = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c-1", "CNI_NETNS": "/run/netns/x",
            "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin:/usr/lib/cni"}


def good_conf(**extra: Any) -> bytes:
    conf: dict[str, Any] = {"cniVersion": "1.0.0", "name": "net", "type": "rawns",
                            "ipam": {"type": "host-local", "subnet": "10.0.0.0/24"}}
    conf.update(extra)
    return json.dumps(conf).encode()


# -- environment ----------------------------------------------------------------------------

def test_a_full_environment_reads():
    env = read_env({**FULL_ENV, "CNI_ARGS": "IP=10.0.0.5;K8S_POD_NAME=web"})
    assert env.command == "ADD" and env.container_id == "c-1" and env.ifname == "eth0"
    assert env.path == ("/opt/cni/bin", "/usr/lib/cni")
    assert env.args == {"IP": "10.0.0.5", "K8S_POD_NAME": "web"}


@pytest.mark.parametrize("command,needed", [
    ("ADD", ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"]),
    ("CHECK", ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"]),
    ("DEL", ["CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"]),
    ("VERSION", []), ("GC", []), ("STATUS", [])])
def test_each_command_needs_its_variables(command, needed):
    for name in [n for n in FULL_ENV if n != "CNI_COMMAND"]:
        environ = {k: v for k, v in FULL_ENV.items() if k != name}
        environ["CNI_COMMAND"] = command
        if name in needed:
            with pytest.raises(CniError) as err:
                read_env(environ)
            assert err.value.code == 4 and name in err.value.msg
        else:
            assert read_env(environ).command == command


@pytest.mark.parametrize("bad", ["", "-x", "../x", "a/b", "a b", "é"])
def test_container_ids_follow_the_spec(bad):
    with pytest.raises(CniError) as err:
        read_env({**FULL_ENV, "CNI_CONTAINERID": bad} if bad else
                 {k: v for k, v in FULL_ENV.items() if k != "CNI_CONTAINERID"})
    assert err.value.code == 4


@pytest.mark.parametrize("bad", ["eth/0", "eth:0", "eth 0", ".", "..", "x" * 16])
def test_interface_names_the_kernel_would_refuse_are_code_4(bad):
    with pytest.raises(CniError) as err:
        read_env({**FULL_ENV, "CNI_IFNAME": bad})
    assert err.value.code == 4


@given(st.dictionaries(st.sampled_from(list(FULL_ENV) + ["CNI_ARGS", "OTHER"]),
                       st.text(max_size=20)))
def test_any_environment_reads_or_is_code_4(environ):
    try:
        env = read_env(environ)
    except CniError as err:
        assert err.code == 4
        return
    assert env.command in spec.COMMANDS


@given(st.text(max_size=60))
def test_cni_args_parse_or_are_code_4(text):
    try:
        pairs = parse_cni_args(text)
    except CniError as err:
        assert err.code == 4
        return
    assert all(key and ";" not in key and "=" not in key for key in pairs)


# -- configuration --------------------------------------------------------------------------

def test_defaults():
    net = parse_config(good_conf(), "ADD")
    assert (net.mode, net.mtu, net.bridge, net.is_gateway, net.hairpin) == \
        ("ptp", None, "cni0", False, False)
    assert net.ipam_type == "host-local" and net.raw == good_conf()


def test_a_default_gateway_is_a_gateway():
    net = parse_config(good_conf(mode="bridge", isDefaultGateway=True), "ADD")
    assert net.is_gateway and net.is_default_gateway


@pytest.mark.parametrize("extra,code", [
    ({"cniVersion": "0.2.0"}, 1), ({"cniVersion": 1}, 1), ({"mode": "macvlan"}, 7),
    ({"mtu": 20}, 7), ({"mtu": "1500"}, 7), ({"mtu": True}, 7), ({"bridge": "a/b"}, 7),
    ({"bridge": "x" * 16}, 7), ({"isGateway": "yes"}, 7), ({"name": "../etc"}, 7),
    ({"name": ""}, 7), ({"type": None}, 7), ({"ipam": {"type": "../bin/sh"}}, 7),
    ({"ipam": None}, 7), ({"prevResult": {"ips": [{"address": "nope"}]}}, 7),
    ({"dns": {"nameservers": "8.8.8.8"}}, 7), ({"ipMasq": True}, 2),
    ({"promiscMode": True}, 2), ({"vlan": 3}, 2), ({"vlanTrunk": [{"id": 5}]}, 2),
    ({"capabilities": {"bandwidth": True}}, 2),
])
def test_bad_configs_get_the_specs_codes(extra, code):
    with pytest.raises(CniError) as err:
        parse_config(good_conf(**extra), "ADD")
    assert err.value.code == code
    assert str(err.value)


def test_harmless_values_of_refused_keys_pass():
    parse_config(good_conf(ipMasq=False, vlan=0, capabilities={"ips": True,
                                                                "portMappings": False}), "ADD")


def test_a_missing_version_is_incompatible_and_names_it():
    conf = json.loads(good_conf())
    del conf["cniVersion"]
    with pytest.raises(CniError) as err:
        parse_config(json.dumps(conf).encode(), "ADD")
    assert err.value.code == 1 and "cniVersion" in str(err.value)


@pytest.mark.parametrize("command,version", [("CHECK", "0.3.1"), ("GC", "1.0.0"),
                                             ("STATUS", "1.0.0")])
def test_commands_newer_than_the_config_are_incompatible(command, version):
    with pytest.raises(CniError) as err:
        parse_config(good_conf(cniVersion=version, prevResult={}), command)
    assert err.value.code == 1


def test_ptp_needs_ipam_but_bridge_does_not():
    conf = json.loads(good_conf())
    del conf["ipam"]
    with pytest.raises(CniError):
        parse_config(json.dumps(conf).encode(), "ADD")
    conf["mode"] = "bridge"
    assert parse_config(json.dumps(conf).encode(), "ADD").ipam == {}
    conf["mode"] = "ptp"
    assert parse_config(json.dumps(conf).encode(), "DEL").ipam == {}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20)

config_keys = st.sampled_from(["cniVersion", "name", "type", "mode", "mtu", "bridge",
                               "isGateway", "isDefaultGateway", "hairpinMode", "ipMasq",
                               "ipam", "dns", "prevResult", "runtimeConfig", "args",
                               "capabilities", "vlan", "cni.dev/valid-attachments"])


@settings(max_examples=300)
@given(st.dictionaries(config_keys, json_values, max_size=10),
       st.sampled_from(spec.COMMANDS))
def test_any_json_object_is_a_config_or_a_spec_error(obj, command):
    try:
        net = parse_config(json.dumps(obj).encode(), command)
    except CniError as err:
        assert err.code in (1, 2, 6, 7)
        return
    assert net.version in spec.SUPPORTED_VERSIONS


@given(st.binary(max_size=80))
def test_any_bytes_are_a_config_or_a_spec_error(data):
    try:
        parse_config(data, "ADD")
    except CniError as err:
        assert err.code in (1, 2, 6, 7)
    assert request_version(data) in spec.SUPPORTED_VERSIONS


# -- results --------------------------------------------------------------------------------

addresses4 = st.integers(0, 2 ** 32 - 1).map(ipaddress.IPv4Address)
addresses6 = st.integers(0, 2 ** 128 - 1).map(ipaddress.IPv6Address)


@st.composite
def ip_configs(draw: Any, interfaces: int) -> IPConfig:
    v6 = draw(st.booleans())
    address = draw(addresses6 if v6 else addresses4)
    prefix = draw(st.integers(0, 128 if v6 else 32))
    gateway = draw(st.none() | (addresses6 if v6 else addresses4))
    index = draw(st.none() | st.integers(0, interfaces - 1)) if interfaces else None
    return IPConfig(address=ipaddress.ip_interface(f"{address}/{prefix}"), gateway=gateway,
                    interface=index)


@st.composite
def results(draw: Any) -> Result:
    names = st.text("abcdefgh0123456789", min_size=1, max_size=15)
    interfaces = tuple(draw(st.lists(st.builds(
        Interface, name=names, mac=st.none() | st.just("02:00:00:00:00:01"),
        sandbox=st.none() | st.just("/run/netns/x")), max_size=3)))
    ips = tuple(draw(st.lists(ip_configs(len(interfaces)), max_size=3)))
    routes = []
    for _ in range(draw(st.integers(0, 3))):
        dst = ipaddress.ip_interface(f"{draw(addresses4)}/{draw(st.integers(0, 32))}").network
        routes.append(RouteConfig(dst=dst, gw=draw(st.none() | addresses4),
                                  priority=draw(st.none() | st.integers(0, 2 ** 32 - 1))))
    dns = DNS(nameservers=tuple(draw(st.lists(st.text(max_size=5), max_size=2))),
              search=tuple(draw(st.lists(st.text(min_size=1, max_size=5), max_size=2))))
    return Result(interfaces=interfaces, ips=ips, routes=tuple(routes), dns=dns)


@given(results(), st.sampled_from(spec.SUPPORTED_VERSIONS))
def test_a_result_survives_json_in_every_version(result, version):
    out = json.loads(json.dumps(result.to_json(version)))
    assert out["cniVersion"] == version
    assert all(("version" in ip) == (version < "1.0.0") for ip in out.get("ips", []))
    back = parse_result(out, "result", 7)
    assert back.interfaces == result.interfaces and back.ips == result.ips
    assert [r.dst for r in back.routes] == [r.dst for r in result.routes]
    if version == "1.1.0":
        assert back.routes == result.routes
    assert back.dns.nameservers == result.dns.nameservers


@given(json_values)
def test_any_json_is_a_result_or_the_given_code(value):
    try:
        parse_result(value, "prevResult", 7)
    except CniError as err:
        assert err.code == 7


def test_results_before_1_0_0_say_the_ip_version():
    result = Result(ips=(IPConfig(address=ipaddress.ip_interface("10.0.0.2/24"),
                                  gateway=ipaddress.ip_address("10.0.0.1"), interface=0),),
                    interfaces=(Interface(name="eth0", sandbox="/x"),))
    assert result.to_json("0.4.0")["ips"] == [{"version": "4", "interface": 0,
                                               "address": "10.0.0.2/24",
                                               "gateway": "10.0.0.1"}]
    assert result.to_json("1.0.0")["ips"] == [{"interface": 0, "address": "10.0.0.2/24",
                                               "gateway": "10.0.0.1"}]
    assert result.to_json("1.0.0")["dns"] == {}


def test_errors_are_the_specs_object():
    err = CniError(7, "bad", "because")
    assert err.to_json("1.0.0") == {"cniVersion": "1.0.0", "code": 7, "msg": "bad",
                                    "details": "because"}
    assert "details" not in CniError(4, "x").to_json("1.1.0")


def test_the_entry_lists_the_versions_spec_lists():
    """main answers VERSION without importing spec (start-up): the two lists agree."""
    from rawns.cni import main

    assert main._SUPPORTED == spec.SUPPORTED_VERSIONS
    assert main._version_answer(b'{"cniVersion": "0.3.1"}') == {
        "cniVersion": "0.3.1", "supportedVersions": list(spec.SUPPORTED_VERSIONS)}
    assert main._version_answer(b"[1]")["cniVersion"] == spec.LATEST_VERSION
