"""ptp mode: a veth pair routed through the host, as the reference ``ptp`` plugin wires it.

What it makes, as read from the reference plugin's results (tests hold the
two equal):
- host: ``vethXXXXXXXX`` up, with the gateway as a /32 (/128) address, a
  scope-host route to each container address through it, IPv6 router
  advertisements off on it (``accept_ra=0``), and forwarding on
  (``net.ipv4.ip_forward``, ``net.ipv6.conf.all.forwarding``);
- container: ``CNI_IFNAME`` up with its addresses; the subnet route the
  kernel adds is replaced by a link route to the gateway and a route to the
  subnet through it (both with the address as source), then the result's
  routes through the gateway.
"""

from __future__ import annotations

import ipaddress

from rawns.cni import attach
from rawns.cni.config import NetConf
from rawns.cni.spec import (
    CHECK_FAILED, INVALID_CONFIG, CniError, Env, IPConfig, Interface, Result, unique,
)
from rawns.handle import Handle

__all__ = ["add", "check"]


def add(net: NetConf, env: Env, container_fd: int, ipam: Result) -> Result:
    """ADD: wire the container to the host; returns the result. On failure
    the veth pair is gone before the error propagates."""
    if not ipam.ips:
        raise CniError(INVALID_CONFIG, "ptp mode needs an address from IPAM")
    for ip in ipam.ips:
        if ip.gateway is None:
            raise CniError(INVALID_CONFIG, f"IPAM gave {ip.address} no gateway; ptp mode "
                                           "routes through one")
    ips = tuple(IPConfig(address=ip.address, gateway=ip.gateway, interface=1)
                for ip in ipam.ips)
    attach.enable_forwarding(ips)
    with Handle() as host, Handle(container_fd) as container:
        host_name = attach.make_veth(host, container, env, container_fd, net.mtu)
        try:
            attach.set_sysctl(None, f"net/ipv6/conf/{host_name}/accept_ra", 0,
                              missing_ok=True)
            attach.configure_container(container, env.ifname, ips, ipam.routes)
            if any(ip.address.version == 6 for ip in ips):
                attach.settle_addresses(container, env.ifname)
            for ip in ips:
                assert ip.gateway is not None
                network = ip.address.network
                container.route_delete(network, dev=env.ifname)
                host_prefix = ip.address.max_prefixlen
                container.route_add(ipaddress.ip_network(f"{ip.gateway}/{host_prefix}"),
                                    dev=env.ifname, scope="link", prefsrc=ip.address.ip)
                container.route_add(network, gateway=ip.gateway, dev=env.ifname,
                                    prefsrc=ip.address.ip)
            for gateway in unique([ip.gateway for ip in ips]):
                host.addr_add(host_name, ipaddress.ip_interface(
                    f"{gateway}/{gateway.max_prefixlen}"))
            for ip in ips:
                host.route_add(ipaddress.ip_network(f"{ip.address.ip}/{ip.address.max_prefixlen}"),
                               dev=host_name, scope="host")
            host_mac = host.link_get(host_name).address
            container_mac = container.link_get(env.ifname).address
        except BaseException:
            attach.forget(host, host_name)
            raise
    return Result(interfaces=(Interface(name=host_name, mac=host_mac),
                              Interface(name=env.ifname, mac=container_mac,
                                        sandbox=env.netns)),
                  ips=ips, routes=ipam.routes, dns=net.dns or ipam.dns)


def check(net: NetConf, env: Env, container_fd: int) -> None:
    """CHECK: the container's interface, addresses and routes of prevResult,
    its host end, the gateway address and the route to each address there."""
    prev = net.prev_result
    assert prev is not None  # parse_config makes sure
    with Handle() as host, Handle(container_fd) as container:
        link = attach.check_container(container, env, prev)
        host_link = attach.check_host_veth(host, prev, link)
        present = {a.address for a in host.addr_list(host_link.index)}
        routes = host.route_list(dev=host_link.index, table=None)
        for ip in prev.ips:
            if ip.gateway is not None:
                gateway = ipaddress.ip_interface(f"{ip.gateway}/{ip.gateway.max_prefixlen}")
                if gateway not in present:
                    raise CniError(CHECK_FAILED, f"address {gateway} is missing from "
                                                        f"host interface {host_link.name!r}")
            target = ipaddress.ip_network(f"{ip.address.ip}/{ip.address.max_prefixlen}")
            if not any(r.dst == target for r in routes):
                raise CniError(CHECK_FAILED, f"route {target} dev {host_link.name} is "
                                                    "missing from the host")
