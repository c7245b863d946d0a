"""Handle.link_set(hairpin=...): a bridge port's hairpin mode, checked with ``ip -d -j``."""

from __future__ import annotations

import json

import pytest

from rawns import Handle
from rawns.netlink import decode, encode, requests
from conftest import run_ip


def hairpin_of(name: str, dev: str) -> bool:
    link = json.loads(run_ip("-n", name, "-d", "-j", "link", "show", dev).stdout)[0]
    return bool(link["linkinfo"]["info_slave_data"]["hairpin"])


def test_hairpin_on_and_off_as_ip_sees_it(ns):
    name = ns()
    with Handle(name) as h:
        h.link_add_bridge("br0")
        h.link_add_veth("v1", "v2")
        h.link_set("v1", master="br0")
        h.link_set("v1", hairpin=True)
        assert hairpin_of(name, "v1") is True
        h.link_set("v1", hairpin=False)
        assert hairpin_of(name, "v1") is False


def test_ip_hairpin_is_unchanged_by_other_settings(ns):
    name = ns()
    run_ip("-n", name, "link", "add", "br0", "type", "bridge")
    run_ip("-n", name, "link", "add", "v1", "master", "br0", "type", "veth", "peer", "name", "v2")
    run_ip("-n", name, "link", "set", "v1", "type", "bridge_slave", "hairpin", "on")
    with Handle(name) as h:
        h.link_set("v1", mtu=1400)
    assert hairpin_of(name, "v1") is True


def test_hairpin_of_a_link_that_is_no_port_is_refused_naming_it(ns):
    name = ns()
    with Handle(name) as h:
        h.link_add_veth("v1", "v2")
        with pytest.raises(OSError) as refused:
            h.link_set("v1", hairpin=True)
    assert "v1" in str(refused.value)


@pytest.mark.parametrize("on", [True, False])
def test_the_request_carries_the_port_mode_in_slave_data(on):
    message = decode(encode([requests.link_set(ifname="v1", hairpin=on)]))[0]
    linkinfo = message.get("IFLA_LINKINFO")
    assert linkinfo.get("IFLA_INFO_SLAVE_KIND") == "bridge"
    assert linkinfo.get("IFLA_INFO_SLAVE_DATA").get("IFLA_BRPORT_MODE") == int(on)
    assert requests.link_set(ifname="v1").get("IFLA_LINKINFO") is None
