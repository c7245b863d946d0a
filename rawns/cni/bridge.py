"""bridge mode: veth pairs on one bridge, as the reference ``bridge`` plugin wires them.

What it makes, as read from the reference plugin's results (tests hold the
two equal):
- host: the bridge (``cni0`` by default) made if missing, with the MTU, up,
  IPv6 router advertisements off (``accept_ra=0``); with ``isGateway`` each
  gateway as an address on it (with its subnet's prefix), its MAC pinned so
  that it no longer follows its ports, and forwarding on;
  ``vethXXXXXXXX`` up, a port of the bridge, with hairpin mode if asked and
  ``accept_ra=0``;
- container: ``CNI_IFNAME`` with ``arp_notify=1`` and ``accept_dad=0`` (set
  before it comes up), up, its addresses, the result's routes through the
  gateway (and a default route with ``isDefaultGateway``).

The bridge is shared by every pod of the network and outlives them: DEL
leaves it. An ADD that fails removes the bridge or the gateway address it
made, unless a port (another pod) uses the bridge by then.
"""

from __future__ import annotations

import ipaddress

from rawns.cni import attach
from rawns.cni.config import NetConf
from rawns.cni.spec import (
    CHECK_FAILED, INVALID_CONFIG, SYSTEM_REFUSED, TRY_AGAIN_LATER, CniError, Env, IPConfig,
    IPInterface, Interface, Result, RouteConfig, unique,
)
from rawns.handle import Handle
from rawns.model import Link

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Optional

__all__ = ["add", "check"]


def _with_gateways(net: NetConf, ipam: Result) -> tuple[IPConfig, ...]:
    """The addresses for interface 2 (the container's); with ``isGateway``
    an address IPAM gave no gateway gets its subnet's first address."""
    ips = []
    for ip in ipam.ips:
        gateway = ip.gateway
        if gateway is None and net.is_gateway:
            gateway = ip.address.network.network_address + 1
        ips.append(IPConfig(address=ip.address, gateway=gateway, interface=2))
    return tuple(ips)


def _routes(net: NetConf, ips: tuple[IPConfig, ...], ipam: Result) -> tuple[RouteConfig, ...]:
    routes = list(ipam.routes)
    if net.is_default_gateway:
        for version in sorted({ip.address.version for ip in ips if ip.gateway is not None}):
            if any(r.dst.prefixlen == 0 and r.dst.version == version for r in routes):
                raise CniError(INVALID_CONFIG, "isDefaultGateway ineffective because IPAM "
                                               "sets default route")
            gateway = next(ip.gateway for ip in ips
                           if ip.gateway is not None and ip.address.version == version)
            routes.append(RouteConfig(dst=ipaddress.ip_network(
                "0.0.0.0/0" if version == 4 else "::/0"), gw=gateway))
    return tuple(routes)


def _ensure_bridge(host: Handle, net: NetConf) -> tuple[Link, bool]:
    """The bridge, made (with the MTU, up) if missing; and whether this call
    made it. One it made is removed again if the rest fails here."""
    created = True
    try:
        host.link_add_bridge(net.bridge, mtu=net.mtu, up=True)
    except FileExistsError:
        created = False
    try:
        try:
            link = host.link_get(net.bridge)
        except FileNotFoundError as err:  # removed by a failing ADD meanwhile
            raise CniError(TRY_AGAIN_LATER, f"bridge {net.bridge!r} vanished while being "
                                            "set up") from err
        if link.kind != "bridge":
            raise CniError(SYSTEM_REFUSED, f"{net.bridge!r} already exists but is not a "
                                           f"bridge (it is a {link.kind or 'device'})")
        attach.set_sysctl(None, f"net/ipv6/conf/{net.bridge}/accept_ra", 0, missing_ok=True)
        if not link.is_up:
            host.link_set(link.index, up=True)
    except BaseException:
        if created:
            attach.forget(host, net.bridge)
        raise
    return link, created


def _ensure_gateways(host: Handle, net: NetConf, bridge: Link, ips: tuple[IPConfig, ...]
                     ) -> list[IPInterface]:
    """Each gateway on the bridge; returns the addresses this call added."""
    added: list[IPInterface] = []
    wanted = unique([ipaddress.ip_interface(f"{ip.gateway}/{ip.address.network.prefixlen}")
                     for ip in ips if ip.gateway is not None])
    for gateway in wanted:
        family = "inet" if gateway.version == 4 else "inet6"
        present = [a.address for a in host.addr_list(bridge.index, family=family)]
        if gateway in present:
            continue
        # As the reference: one IPv4 address on the bridge, and IPv6 ones on
        # subnets that do not overlap; forceAddress replaces a clash.
        clashes = [a for a in present
                   if a.version == gateway.version and not a.ip.is_link_local
                   and (gateway.version == 4 or a.network.overlaps(gateway.network))]
        if clashes and not net.force_address:
            raise CniError(SYSTEM_REFUSED, f"bridge {net.bridge!r} already has an IP address "
                                           f"({clashes[0]}) different from {gateway}",
                           "set forceAddress to replace it")
        for clash in clashes:
            host.addr_delete(bridge.index, clash)
        try:
            host.addr_add(bridge.index, gateway,
                          broadcast=True if gateway.version == 4
                          and gateway.network.prefixlen < 31 else None)
            added.append(gateway)
        except FileExistsError:
            pass  # a concurrent ADD put it there
    if added and bridge.address:
        # Pin the bridge's MAC: otherwise it follows the smallest of its
        # ports' and changes under the pods as they come and go.
        host.link_set(bridge.index, address=bridge.address)
    return added


def _undo_shared(host: Handle, bridge: Link, created: bool,
                 added: list[IPInterface]) -> None:
    """After a failed ADD: the bridge (if this call made it) or the gateway
    addresses it added, unless another pod uses the bridge by now."""
    try:
        if host.link_list(master=bridge.index):
            return
        if created:
            host.link_delete(bridge.index)
            return
        for address in added:
            host.addr_delete(bridge.index, address)
    except FileNotFoundError:
        pass


def add(net: NetConf, env: Env, container_fd: int, ipam: Result) -> Result:
    """ADD: the container on the bridge; returns the result. On failure the
    veth pair is gone, and what ``_undo_shared`` allows, before the error
    propagates."""
    ips = _with_gateways(net, ipam)
    routes = _routes(net, ips, ipam)
    with Handle() as host, Handle(container_fd) as container:
        bridge, created = _ensure_bridge(host, net)
        added: list[IPInterface] = []
        host_name: Optional[str] = None
        try:
            host_name = attach.make_veth(host, container, env, container_fd, net.mtu)
            attach.set_sysctl(None, f"net/ipv6/conf/{host_name}/accept_ra", 0,
                              missing_ok=True)
            host.link_set(host_name, master=bridge.index)
            if net.hairpin:
                host.link_set(host_name, hairpin=True)
            if net.is_gateway:
                added = _ensure_gateways(host, net, bridge, ips)
                attach.enable_forwarding([ip for ip in ips if ip.gateway is not None])
            attach.set_sysctl(container_fd, f"net/ipv4/conf/{env.ifname}/arp_notify", 1)
            attach.set_sysctl(container_fd, f"net/ipv6/conf/{env.ifname}/accept_dad", 0,
                              missing_ok=True)
            attach.configure_container(container, env.ifname, ips, routes)
            host_mac = host.link_get(host_name).address
            container_mac = container.link_get(env.ifname).address
            # Read last: a bridge takes a port's MAC unless pinned.
            bridge_mac = host.link_get(bridge.index).address
        except BaseException:
            if host_name is not None:
                attach.forget(host, host_name)
            _undo_shared(host, bridge, created, added)
            raise
    return Result(interfaces=(Interface(name=net.bridge, mac=bridge_mac),
                              Interface(name=host_name, mac=host_mac),
                              Interface(name=env.ifname, mac=container_mac,
                                        sandbox=env.netns)),
                  ips=ips, routes=routes, dns=net.dns or ipam.dns)


def check(net: NetConf, env: Env, container_fd: int) -> None:
    """CHECK: the container's interface, addresses and routes of prevResult;
    its host end, a port of the bridge."""
    prev = net.prev_result
    assert prev is not None  # parse_config makes sure
    with Handle() as host, Handle(container_fd) as container:
        link = attach.check_container(container, env, prev)
        host_link = attach.check_host_veth(host, prev, link)
        try:
            bridge = host.link_get(net.bridge)
        except FileNotFoundError as err:
            raise CniError(CHECK_FAILED, f"bridge {net.bridge!r} is missing") from err
        if bridge.kind != "bridge":
            raise CniError(CHECK_FAILED, f"{net.bridge!r} is not a bridge")
        if host_link.master != bridge.index:
            raise CniError(CHECK_FAILED, f"host interface {host_link.name!r} is not a port "
                                         f"of {net.bridge!r}")
