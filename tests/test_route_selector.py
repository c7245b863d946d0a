"""``RouteSelector``: ip's route selectors as a pure function, checked against
``ipaddress``'s own subnet arithmetic with hypothesis."""

from __future__ import annotations

import ipaddress

from hypothesis import given, strategies as st

from rawns.model import Route, RouteSelector

networks = st.builds(lambda address, length: ipaddress.ip_network((address, length),
                                                                  strict=False),
                     st.integers(0, 2**32 - 1), st.integers(0, 32))


def route(network: ipaddress.IPv4Network, **fields) -> Route:
    return Route(dst=None if network.prefixlen == 0 else network, **fields)


@given(networks, networks)
def test_root_match_and_exact_are_subnet_relations(dst, prefix) -> None:
    r = route(dst)
    assert RouteSelector(root=prefix).matches(r) == dst.subnet_of(prefix)
    assert RouteSelector(match=prefix).matches(r) == prefix.subnet_of(dst)
    assert RouteSelector(exact=prefix).matches(r) == (dst == prefix)


@given(networks, st.integers(0, 2**32 - 1), networks)
def test_via_is_the_gateway_inside_a_prefix(dst, gateway, via) -> None:
    address = ipaddress.IPv4Address(gateway)
    assert RouteSelector(gateway=via).matches(route(dst, gateway=address)) == (address in via)
    assert not RouteSelector(gateway=via).matches(route(dst))


def test_every_field_must_hold() -> None:
    r = Route(dst=ipaddress.ip_network("10.0.0.0/8"), oif=3, protocol="static",
              scope="link", type="blackhole", metric=5, table=100)
    assert RouteSelector().matches(r)
    assert RouteSelector(oif=3, protocol="static", scope="link", types=frozenset(
        {"blackhole"}), metric=5, table=100).matches(r)
    for wrong in (dict(oif=4), dict(protocol="kernel"), dict(scope="host"),
                  dict(types=frozenset({"unicast"})), dict(metric=6), dict(table=254)):
        assert not RouteSelector(**wrong).matches(r), wrong
    assert RouteSelector(default_any=True).matches(Route(dst=None, family=10))
    assert not RouteSelector(default_any=True).matches(r)
    v6 = Route(dst=ipaddress.ip_network("fd00::/64"), family=10)
    assert not RouteSelector(root=ipaddress.ip_network("10.0.0.0/8")).matches(v6)
    assert RouteSelector(root=ipaddress.ip_network("fd00::/8")).matches(v6)
