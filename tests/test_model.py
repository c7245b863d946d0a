"""rawns.model: the user's types, without a kernel."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys

from hypothesis import given, strategies as st

from rawns.model import Address, Neighbour, Route, ip_text, net_text
from rawns.netlink.constants import AF, RT_TABLE


def test_the_numbers_model_names_are_the_kernels():
    # model does not import rawns.netlink (see the next test): the numbers it
    # gives are held equal to the constants here
    v4, v6 = ipaddress.ip_interface("10.0.0.1/24"), ipaddress.ip_interface("fd00::1/64")
    assert Address(index=1, address=v4).family == AF.AF_INET
    assert Address(index=1, address=v6).family == AF.AF_INET6
    assert Neighbour(index=1, dst=v6.ip).family == AF.AF_INET6
    route = Route(dst=None)
    assert (route.family, route.table) == (AF.AF_INET, RT_TABLE.RT_TABLE_MAIN)
    assert type(route.family) is int and type(Address(index=1, address=v4).family) is int


def test_the_users_types_load_no_protocol_code():
    code = ("import sys, rawns.model\n"
            "print(' '.join(m for m in sys.modules if m.startswith('rawns')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    # rawns.records is the base layer the value classes are made with
    assert sorted(loaded) == ["rawns", "rawns.model", "rawns.records"]


def test_link_statistics_has_the_kernels_counters() -> None:
    # model.py imports nothing of rawns (start-up), so it repeats the counter
    # names of rtnl_link_stats64: held equal here.
    import dataclasses

    from rawns.model import LinkStatistics
    from rawns.netlink.structs import LinkCounters

    kernel = [field.name for field in dataclasses.fields(LinkCounters)]
    ours = [field.name for field in dataclasses.fields(LinkStatistics)]
    assert ours[:len(kernel)] == kernel


# --- addresses as ip writes them ------------------------------------------------


@given(st.integers(0, 2**128 - 1), st.integers(0, 128))
def test_ipv6_text_is_inet_ntops_and_reads_back(number, prefixlen):
    address = ipaddress.IPv6Address(number)
    assert ip_text(address) == socket.inet_ntop(socket.AF_INET6, address.packed)
    assert ipaddress.IPv6Address(ip_text(address)) == address
    network = ipaddress.IPv6Network((number, prefixlen), strict=False)
    assert net_text(network) == f"{ip_text(network.network_address)}/{prefixlen}"


@given(st.integers(0, 2**32 - 1))
def test_ipv4_text_is_str(number):
    assert ip_text(ipaddress.IPv4Address(number)) == str(ipaddress.IPv4Address(number))


def test_ipv6_with_an_ipv4_inside_is_written_dotted_as_ip_does():
    assert ip_text(ipaddress.IPv6Address("::ffff:a00:1")) == "::ffff:10.0.0.1"
    assert ip_text(ipaddress.IPv6Address("::a00:1")) == "::10.0.0.1"
    assert ip_text(ipaddress.IPv6Address("::2")) == "::2"
    route = Route(dst=ipaddress.IPv6Network("::ffff:a00:0/104"))
    assert route.to_json()["dst"] == "::ffff:10.0.0.0/104"
