"""rawns' in-process host-local against the reference host-local plugin, step by step.

The same sequence of ADDs and DELs runs through the reference binary and
through ``rawns.cni.ipam.HostLocal``, each on its own dataDir: after every step
the answers and the files (names, modes, contents) must be the same.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from hypothesis import given, strategies as st

from cni_harness import call, data_dir, reference
from rawns.cni.config import parse_config
from rawns.cni.ipam import HostLocal, Range, candidates, parse_host_local, parse_resolv_conf
from rawns.cni.spec import CniError, Env

IPAM = {"type": "host-local",
        "ranges": [[{"subnet": "10.1.0.0/29", "rangeStart": "10.1.0.2", "rangeEnd": "10.1.0.4"},
                    {"subnet": "10.1.1.0/30"}],
                   [{"subnet": "fd00:1::/126"}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "fd00:2::/64", "gw": "fd00:1::3"}]}


def network(data: str, **ipam: Any) -> dict[str, Any]:
    return {"cniVersion": "1.0.0", "name": "ipamnet", "type": "host-local",
            "ipam": {**IPAM, **ipam, "dataDir": data}}


def reference_step(host: str, conf: dict[str, Any], command: str, pod: str,
                   args: str = "") -> Any:
    answer = call(host, reference("host-local"), command, conf, container_id=pod,
                  netns="/run/netns/" + host, env={"CNI_ARGS": args} if args else None)
    return answer.out if answer.code == 0 else ("error", answer.out and answer.out["msg"])


def rawns_step(conf: dict[str, Any], command: str, pod: str, args: str = "") -> Any:
    net = parse_config(json.dumps(conf).encode(), command)
    env = Env(command=command, container_id=pod, netns="/x", ifname="eth0",
              args=dict(a.split("=", 1) for a in args.split(";") if a))
    ipam = HostLocal(net)
    try:
        if command == "ADD":
            return ipam.add(env).to_json(net.version)
        ipam.delete(env)
        return None
    except CniError as err:
        return ("error", err.msg)


STEPS = [("ADD", "p1", ""), ("ADD", "p2", ""), ("ADD", "p3", ""), ("DEL", "p2", ""),
         ("ADD", "p4", ""), ("ADD", "p5", ""), ("ADD", "p6", ""), ("DEL", "p1", ""),
         ("DEL", "p3", ""), ("ADD", "p7", "IP=10.1.0.3,fd00:1::2"), ("ADD", "p7", "IP=10.1.0.3"),
         ("ADD", "p8", "IP=10.1.1.2"), ("ADD", "p8", "IP=10.1.9.9"), ("ADD", "p8", ""),
         ("ADD", "p9", ""), ("DEL", "p9", ""), ("DEL", "p9", ""), ("ADD", "p9", ""),
         ("ADD", "p10", ""), ("ADD", "p11", "")]


def test_every_step_leaves_the_files_the_reference_leaves(ns, tmp_path):
    host = ns()
    ref_conf = network(str(tmp_path / "reference"))
    our_conf = network(str(tmp_path / "rawns"))
    errors = 0
    for command, pod, args in STEPS:
        theirs = reference_step(host, ref_conf, command, pod, args)
        ours = rawns_step(our_conf, command, pod, args)
        step = f"{command} {pod} {args}"
        if isinstance(theirs, tuple):
            assert isinstance(ours, tuple), f"{step}: the reference failed, rawns did not"
            errors += 1
        else:
            assert ours == theirs, step
        assert data_dir(tmp_path / "rawns") == data_dir(tmp_path / "reference"), step
    assert errors >= 1  # the ranges ran out on the way: that path was compared too
    assert len(data_dir(tmp_path / "rawns")) > 4


def test_a_data_file_of_an_older_host_local_is_released_by_container_id(ns, tmp_path):
    conf = network(str(tmp_path))
    (tmp_path / "ipamnet").mkdir()
    (tmp_path / "ipamnet" / "10.1.0.2").write_text("old-pod")
    assert rawns_step(conf, "DEL", "old-pod") is None
    assert not (tmp_path / "ipamnet" / "10.1.0.2").exists()


@pytest.mark.parametrize("ipam,message", [
    ({"subnet": "10.0.0.1/24"}, "host bits"), ({"subnet": "10.0.0.0/31"}, "too small"),
    ({"subnet": "10.0.0.0/24", "rangeStart": "10.0.1.1"}, "not in"),
    ({"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.9", "rangeEnd": "10.0.0.8"}, "after"),
    ({"ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "10.0.0.0/25"}]]}, "overlap"),
    ({"ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "fd00::/64"}]]}, "mixes"),
    ({"ranges": []}, "no IP ranges"), ({"subnet": "10.0.0.0/24", "gateway": "fd00::1"},
                                       "family"),
])
def test_bad_ranges_are_invalid_configs(ipam, message):
    with pytest.raises(CniError) as err:
        parse_host_local({"type": "host-local", **ipam})
    assert err.value.code == 7 and message in err.value.msg


def test_defaults_are_host_locals():
    conf = parse_host_local({"type": "host-local", "subnet": "10.0.0.0/24"})
    (only,), = conf.range_sets
    assert (str(only.start), str(only.end), str(only.gateway)) == \
        ("10.0.0.1", "10.0.0.254", "10.0.0.1")
    conf = parse_host_local({"type": "host-local", "subnet": "fd00::/120"})
    assert str(conf.range_sets[0][0].end) == "fd00::ff"
    assert conf.data_dir == "/var/lib/cni/networks"


def test_resolv_conf_is_read_as_host_local_reads_it(tmp_path):
    text = ("# comment\nnameserver 10.0.0.53\nnameserver fd00::53\ndomain example.com\n"
            "search a.example b.example\noptions ndots:2 edns0\n")
    dns = parse_resolv_conf(text)
    assert dns.nameservers == ("10.0.0.53", "fd00::53") and dns.domain == "example.com"
    assert dns.search == ("a.example", "b.example") and dns.options == ("ndots:2", "edns0")


def _set(spans: list[tuple[int, int, int]]) -> list[Range]:
    """Ranges in 10.2.0.0/16 from (start, end, gateway) offsets."""
    base = int(ipaddress.ip_address("10.2.0.0"))
    return [Range(subnet=ipaddress.ip_network("10.2.0.0/16"),
                  start=ipaddress.ip_address(base + s), end=ipaddress.ip_address(base + e),
                  gateway=ipaddress.ip_address(base + g)) for s, e, g in spans]


@st.composite
def range_sets(draw: Any) -> list[tuple[int, int, int]]:
    cuts = sorted(draw(st.sets(st.integers(1, 200), min_size=2, max_size=8)))
    spans = [(a, b - 1, draw(st.integers(a - 2, b + 1)))
             for a, b in zip(cuts[::2], cuts[1::2]) if b - 1 >= a]
    return draw(st.permutations(spans)) if spans else [(5, 9, 5)]


@given(range_sets(), st.none() | st.integers(0, 210))
def test_candidates_go_round_the_set_once_from_after_the_last(spans, last_offset):
    ranges = _set(spans)
    everything = [ip for r in ranges for ip in
                  (ipaddress.ip_address(n) for n in range(int(r.start), int(r.end) + 1))]
    gateways = {r.gateway for r in ranges if r.gateway is not None}
    last = None if last_offset is None else \
        ipaddress.ip_address(int(ipaddress.ip_address("10.2.0.0")) + last_offset)
    start = everything.index(last) + 1 if last in everything else 0
    expected = [ip for ip in everything[start:] + everything[:start]
                if ip not in gateways or not any(ip == r.gateway and ip in r for r in ranges)]
    assert list(candidates(ranges, last)) == expected
