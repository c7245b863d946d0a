"""What both modes do with the kernel: the veth pair, the container's side, removal, checks.

Invariants:
- Only public library calls (``rawns.Handle``, ``rawns.netns``): what the
  plugin does, a runtime written in Python could do itself.
- The container's end of the veth is created inside the container's
  namespace in the same RTM_NEWLINK as the host's end: it never exists in the
  host's namespace, and removing the host's end removes it.
- The calling thread enters the container's namespace only to open a socket
  there or a sysctl file, and always comes back (``rawns.netns``).
"""

from __future__ import annotations

import errno
import os
import time
from _socket import AF_INET, AF_INET6  # not socket: ~5 ms of start-up

from rawns import netns
from rawns.cni.spec import (
    CHECK_FAILED, INVALID_CONFIG, SYSTEM_REFUSED, UNKNOWN_CONTAINER, CniError, Env,
    IPAddress, IPConfig, Result, RouteConfig, gateway_for,
)
from rawns.errors import KernelError
from rawns.handle import Handle
from rawns.model import Link

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Optional

__all__ = ["open_container", "host_veth_name", "make_veth", "configure_container",
           "container_routes", "set_sysctl", "enable_forwarding", "remove", "check_container",
           "check_host_veth", "forget", "settle_addresses", "HOST_VETH_PREFIX"]

HOST_VETH_PREFIX = "veth"
_NAME_TRIES = 8


def open_container(env: Env) -> int:
    """An fd to the namespace ``CNI_NETNS`` names (the caller closes it);
    code 3 when it does not exist."""
    path = os.path.abspath(env.netns)
    try:
        return netns.open_fd(path)
    except (FileNotFoundError, netns.NotANetnsError) as err:
        raise CniError(UNKNOWN_CONTAINER, f"failed to open netns {env.netns!r}: {err}") from err


def host_veth_name() -> str:
    """``veth`` and 8 random hex digits, as the reference plugins name the host's end."""
    return HOST_VETH_PREFIX + os.urandom(4).hex()


def make_veth(host: Handle, container: Handle, env: Env, container_fd: int,
              mtu: Optional[int], txqlen: Optional[int] = 0) -> str:
    """Create the pair: ``CNI_IFNAME`` inside the container, a ``vethXXXXXXXX``
    in the host's namespace, brought up; return the host end's name.
    ``txqlen`` (0, as the reference plugins make veths; None: leave the
    kernel's) is set on the host's end here, on the container's by
    ``configure_container``."""
    for _ in range(_NAME_TRIES):
        name = host_veth_name()
        try:
            host.link_add_veth(name, env.ifname, peer_netns=container_fd, mtu=mtu, up=True)
        except FileExistsError as err:
            try:
                container.link_get(env.ifname)
            except FileNotFoundError:
                continue  # the random host name was taken: draw another
            raise CniError(SYSTEM_REFUSED, f"container interface {env.ifname!r} already "
                                           f"exists in {env.netns}") from err
        try:
            if txqlen is not None:
                host.link_set(name, txqlen=txqlen)
        except BaseException:
            forget(host, name)
            raise
        return name
    raise CniError(SYSTEM_REFUSED, f"found no free host veth name in {_NAME_TRIES} tries")


def set_sysctl(ns: Optional[int], key: str, value: int, *, missing_ok: bool = False) -> None:
    """Write ``key`` in ``ns`` (None: this process's namespace) unless it
    holds ``value`` already. ``missing_ok``: skip a key that does not exist
    (IPv6 turned off), as the reference plugins ignore those failures."""
    try:
        if netns.sysctl(ns, key) != str(value):
            netns.sysctl(ns, key, value)
    except FileNotFoundError:
        if not missing_ok:
            raise


def enable_forwarding(ips: Iterable[IPConfig]) -> None:
    """Forwarding on in this (the host's) namespace for the families of
    ``ips``: ``net.ipv4.ip_forward``, ``net.ipv6.conf.all.forwarding``.
    Read first: writing ip_forward resets other settings even when it is on."""
    versions = {ip.address.version for ip in ips}
    if 4 in versions:
        set_sysctl(None, "net.ipv4.ip_forward", 1)
    if 6 in versions:
        set_sysctl(None, "net.ipv6.conf.all.forwarding", 1)


def container_routes(ips: Sequence[IPConfig], routes: Iterable[RouteConfig]
                     ) -> list[tuple[RouteConfig, IPAddress | None]]:
    """Each route with the gateway it goes through: its own ``gw``, else
    the gateway of the address of its family."""
    return [(r, r.gw if r.gw is not None else gateway_for(ips, r.dst.version))
            for r in routes]


def configure_container(container: Handle, ifname: str, ips: Sequence[IPConfig],
                        routes: Iterable[RouteConfig]) -> None:
    """The container's end up, its addresses (with a broadcast, as the
    reference plugins give IPv4), the result's routes."""
    # txqlen 0, as the reference plugins make their veths (noqueue ignores it).
    container.link_set(ifname, up=True, txqlen=0)
    for ip in ips:
        broadcast = True if ip.address.version == 4 and ip.address.network.prefixlen < 31 \
            else None
        container.addr_add(ifname, ip.address, broadcast=broadcast)
    for route, gateway in container_routes(ips, routes):
        container.route_add("default" if route.dst.prefixlen == 0 else route.dst,
                            gateway=gateway, dev=ifname, metric=route.priority,
                            table=route.table, scope=route.scope)


def settle_addresses(container: Handle, ifname: str, timeout: float = 10.0) -> None:
    """Wait until no IPv6 address of ``ifname`` is tentative (duplicate address
    detection running), as the reference ptp does before routing from them:
    the kernel refuses a tentative address as a route's source."""
    deadline = time.monotonic() + timeout
    while True:
        flags = [a.flags for a in container.addr_list(ifname, family="inet6")
                 if a.scope != "link"]
        if any("dadfailed" in f for f in flags):
            raise CniError(SYSTEM_REFUSED, f"an IPv6 address of {ifname!r} is a duplicate "
                                           "(DAD failed)")
        if not any("tentative" in f for f in flags):
            return
        if time.monotonic() > deadline:
            raise CniError(SYSTEM_REFUSED, f"the IPv6 addresses of {ifname!r} stayed "
                                           f"tentative for {timeout:g} s")
        time.sleep(0.02)


def remove(env: Env) -> None:
    """DEL's kernel part: the container's interface goes, and with it the
    host's end, its addresses and routes. Done when the namespace, or the
    interface, is gone already."""
    if not env.netns:
        return
    try:
        fd = netns.open_fd(os.path.abspath(env.netns))
    except (FileNotFoundError, NotADirectoryError, netns.NotANetnsError):
        return
    try:
        with Handle(fd) as container:
            try:
                container.link_delete(env.ifname)
            except FileNotFoundError:
                pass
    finally:
        os.close(fd)


def forget(host: Handle, name: str) -> None:
    """Remove a link made by a failed ADD; a failure here must not hide the
    error that made the ADD fail, so only a vanished link is expected."""
    try:
        host.link_delete(name)
    except FileNotFoundError:
        pass


def _differs(message: str) -> CniError:
    return CniError(CHECK_FAILED, message)


def check_container(container: Handle, env: Env, prev: Result) -> Link:
    """CHECK in the container: the interface, each address prevResult gave
    it, each route; returns the interface."""
    try:
        link = container.link_get(env.ifname)
    except FileNotFoundError as err:
        raise _differs(f"interface {env.ifname!r} is missing from {env.netns}") from err
    if link.kind != "veth":
        raise _differs(f"interface {env.ifname!r} in {env.netns} is a {link.kind}, not a veth")
    mine = [ip for ip in prev.ips
            if ip.interface is None or (prev.interfaces[ip.interface].name == env.ifname
                                        and prev.interfaces[ip.interface].sandbox)]
    present = {a.address for a in container.addr_list(link.index)}
    for ip in mine:
        if ip.address not in present:
            raise _differs(f"address {ip.address} is missing from {env.ifname!r} in {env.netns}")
    routes = container.route_list(table=None)
    for route, gateway in container_routes(mine, prev.routes):
        wanted_dst = None if route.dst.prefixlen == 0 else route.dst
        family = AF_INET if route.dst.version == 4 else AF_INET6
        if not any(r.dst == wanted_dst and r.family == family
                   and (gateway is None or r.gateway == gateway) for r in routes):
            via = f" via {gateway}" if gateway is not None else ""
            raise _differs(f"route {route.dst}{via} is missing from {env.netns}")
    return link


def check_host_veth(host: Handle, prev: Result, container_link: Link) -> Link:
    """CHECK on the host: the veth end prevResult names, paired with the
    container's interface."""
    names = [i.name for i in prev.interfaces
             if not i.sandbox and i.name.startswith(HOST_VETH_PREFIX)]
    if not names:
        raise CniError(INVALID_CONFIG, "prevResult names no host veth interface")
    try:
        link = host.link_get(names[-1])
    except FileNotFoundError as err:
        raise _differs(f"host interface {names[-1]!r} is missing") from err
    if link.kind != "veth" or link.link != container_link.index \
            or container_link.link != link.index:
        raise _differs(f"host interface {names[-1]!r} is not the peer of the container's "
                       f"{container_link.name!r}")
    return link


def kernel_busy(err: KernelError) -> bool:
    """Whether a refusal is worth retrying later (spec code 11)."""
    return err.errno in (errno.EAGAIN, errno.EBUSY, errno.EINTR)
