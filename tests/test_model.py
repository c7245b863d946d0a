"""rawns.model: the user's types, without a kernel."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

from rawns.model import Address, Neighbour, Route
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
