"""A user's program, as someone embedding rawns would write it: never run, only
type-checked (``mypy --strict``) against the installed package by
tests/test_packaging.py.  It must pass with no ignore and no cast: every name
it takes from rawns must be exported and annotated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import rawns
from rawns import Address, Batch, Handle, KernelError, Link, Neighbour, RawnsError, Route
from rawns import Snapshot, netlink, netns, read_many
from rawns.netlink import Message, decode, encode, explain, requests
from rawns.netlink.constants import IFF, IFLA, RTM


def make_pod(name: str, index: int) -> None:
    """One namespace wired to a "host" namespace through a veth pair."""
    netns.add(name)
    with Handle("host") as host:
        host.link_add_veth(f"vh{index}", "eth0", peer_netns=name)
        host.link_set(f"vh{index}", up=True)
    with Handle(name) as pod:
        pod.addr_add("eth0", f"10.0.0.{index + 2}/24")
        pod.link_set("eth0", up=True)
        pod.route_add("default", gateway="10.0.0.1")


def pods_in_one_batch(count: int) -> list[str]:
    names = [f"pod{i}" for i in range(count)]
    with Batch(threads=2) as batch:
        for i, pod in enumerate(names):
            batch.netns_add(pod)
            batch.veth(f"vh{i}", "eth0", netns="host", peer_netns=pod)
            batch.addr_add("eth0", f"10.1.{i // 250}.{i % 250 + 2}/16", netns=pod)
            batch.route_add("default", gateway="10.1.0.1", netns=pod)
    return names


def up_links(handle: Handle) -> list[str]:
    links: list[Link] = handle.link_list()
    return [link.name for link in links if link.is_up and link.mtu is not None]


def addresses(handle: Handle) -> dict[str, list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]]:
    names = {link.index: link.name for link in handle.link_list()}
    found: dict[str, list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]] = {}
    addr: Address
    for addr in handle.addr_list(family="inet"):
        found.setdefault(names.get(addr.index, "?"), []).append(addr.address)
    return found


def default_gateway(handle: Handle) -> str | None:
    routes: list[Route] = handle.route_list()
    for route in routes:
        if route.dst is None and route.gateway is not None:
            return str(route.gateway)
    return None


def neighbours(handle: Handle) -> Iterator[tuple[str, str | None]]:
    neighbour: Neighbour
    for neighbour in handle.neigh_list():
        yield str(neighbour.dst), neighbour.lladdr


def census(names: list[str]) -> dict[str, int]:
    snapshots: list[Snapshot] = read_many(names, ("link", "addr"))
    counts: dict[str, int] = {}
    for snap in snapshots:
        assert snap.links is not None and snap.addresses is not None
        counts[str(snap.netns)] = len(snap.links) + len(snap.addresses)
    return counts


def watch(name: str, limit: int) -> list[str]:
    seen: list[str] = []
    with Handle(name).monitor(["link", "addr"]) as changes:
        for event in changes:
            seen.append(f"{event.action} {event.kind} {event.obj}")
            if len(seen) >= limit:
                break
    return seen


def protocol_only() -> str:
    """The sans-IO layer: build, encode, decode and explain with no kernel."""
    request: Message = requests.link_get(ifname="lo").with_seq(7, pid=0)
    data: bytes = encode(request)
    decoded: list[Message] = decode(data)
    name = decoded[0].get("IFLA_IFNAME")
    assert decoded[0].type == RTM.RTM_GETLINK and isinstance(name, str)
    assert int(IFLA.IFLA_IFNAME) == 3
    # constants are typed as enum's IntEnum/IntFlag (light classes at run time)
    member: IFLA = IFLA(3)
    label: str = member.name
    number: int = member.value + IFLA.IFLA_MTU
    flags: IFF = IFF.IFF_UP | IFF.IFF_RUNNING
    up: bool = IFF.IFF_UP in flags
    every: list[IFLA] = list(IFLA)
    assert label and number and up and every and IFLA.__members__["IFLA_MTU"] is IFLA.IFLA_MTU
    text: str = explain(data)
    return text + netlink.explain(encode(requests.link_dump()))


def careful(name: str) -> str:
    try:
        netns.add(name)
    except FileExistsError as err:
        return f"already there: {err}"
    except KernelError as err:
        return f"refused ({err.errno}, {err.syscall}): {err}"
    except RawnsError as err:
        return f"rawns: {err}"
    netns.delete(name)
    return rawns.__version__
