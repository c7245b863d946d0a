"""IPAM: host-local in-process, on host-local's own files, and any other IPAM plugin delegated.

Invariants:
- host-local's on-disk format exactly, so that rawns and the reference
  ``host-local`` plugin can share a data directory: under ``dataDir/NETWORK``
  one file per allocated address, named by the address and holding
  ``CONTAINERID\\r\\nIFNAME``; ``last_reserved_ip.N`` (N: the range set's
  index) holding the last address handed out; and ``lock``, flock'ed
  exclusively around every change, as host-local does.
- Addresses are handed out as host-local hands them out: round robin from
  the one after the last reserved, across the set's ranges, never the gateway.
- All or nothing: an ADD that fails after reserving some addresses (one per
  range set) releases them before the error propagates.
- Any other ``ipam.type`` is executed from ``CNI_PATH`` with the same
  configuration and environment, as SPEC.md says; its error JSON is passed on.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os

from rawns.cni.config import NetConf
from rawns.cni.spec import (
    DNS, INVALID_CONFIG, INVALID_ENVIRONMENT, IO_FAILURE, IPAM_PLUGIN_FAILED, NO_ADDRESS,
    PLUGIN_NOT_AVAILABLE, CniError, Env, IPAddress, IPConfig, IPNetwork, Result,
    RouteConfig, parse_ip, parse_network, parse_result, parse_route,
)
from rawns.records import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from typing import Any, Optional, Protocol
else:
    Protocol = object  # Ipam is a Protocol for type checkers only

__all__ = ["Range", "HostLocalConf", "parse_host_local", "Store", "HostLocal", "Delegated",
           "Ipam", "for_config", "candidates", "DEFAULT_DATA_DIR", "LINE_BREAK",
           "parse_resolv_conf"]

DEFAULT_DATA_DIR = "/var/lib/cni/networks"
#: What separates the container ID from the interface name in an address file.
LINE_BREAK = "\r\n"
_LAST_RESERVED = "last_reserved_ip."
_LOCK = "lock"


# -- configuration ----------------------------------------------------------------------

class Range(NamedTuple):
    """One range of a range set: addresses ``start``..``end`` (inclusive) of ``subnet``."""

    subnet: IPNetwork
    start: IPAddress
    end: IPAddress
    gateway: Optional[IPAddress]

    def __contains__(self, ip: object) -> bool:
        return (isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address))
                and ip.version == self.start.version
                and int(self.start) <= int(ip) <= int(self.end))

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


class HostLocalConf(NamedTuple):
    range_sets: tuple[tuple[Range, ...], ...]
    routes: tuple[RouteConfig, ...] = ()
    data_dir: str = DEFAULT_DATA_DIR
    dns: DNS = DNS()


def _range(obj: Any, what: str) -> Range:
    if not isinstance(obj, dict):
        raise CniError(INVALID_CONFIG, f"{what} must be an object")
    subnet_text = obj.get("subnet")
    subnet = parse_network(subnet_text, f"{what}.subnet", INVALID_CONFIG)
    if ipaddress.ip_interface(str(subnet_text)).ip != subnet.network_address:
        raise CniError(INVALID_CONFIG, f"{what}.subnet {subnet_text} has host bits set; "
                                       f"the network is {subnet}")
    if subnet.prefixlen > subnet.max_prefixlen - 2:
        raise CniError(INVALID_CONFIG, f"{what}.subnet {subnet} is too small to allocate from")
    first = subnet.network_address + 1
    # host-local never hands out an IPv4 network's broadcast address.
    last = subnet.broadcast_address - (1 if subnet.version == 4 else 0)

    def address(key: str, default: IPAddress) -> IPAddress:
        if obj.get(key) in (None, ""):
            return default
        ip = parse_ip(obj[key], f"{what}.{key}", INVALID_CONFIG)
        if ip.version != subnet.version or ip not in subnet:
            raise CniError(INVALID_CONFIG, f"{what}.{key} {ip} is not in {subnet}")
        return ip

    start, end = address("rangeStart", first), address("rangeEnd", last)
    if int(start) > int(end):
        raise CniError(INVALID_CONFIG, f"{what}: rangeStart {start} is after rangeEnd {end}")
    gateway: Optional[IPAddress] = first
    if obj.get("gateway") not in (None, ""):
        gateway = parse_ip(obj["gateway"], f"{what}.gateway", INVALID_CONFIG)
        if gateway.version != subnet.version:
            raise CniError(INVALID_CONFIG, f"{what}.gateway {gateway} is not of the family "
                                           f"of {subnet}")
    return Range(subnet=subnet, start=start, end=end, gateway=gateway)


def parse_resolv_conf(text: str) -> DNS:
    """The DNS of a resolv.conf(5) file, as host-local's ``resolvConf`` reads it."""
    nameservers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    domain = None
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) < 2:
            continue
        key, values = words[0], words[1:]
        if key == "nameserver":
            nameservers.append(values[0])
        elif key == "domain":
            domain = values[0]
        elif key == "search":
            search = values
        elif key == "options":
            options.extend(values)
    return DNS(nameservers=tuple(nameservers), domain=domain, search=tuple(search),
               options=tuple(options))


def parse_host_local(ipam: Mapping[str, Any]) -> HostLocalConf:
    """host-local's ``ipam`` section: ``subnet`` (with ``rangeStart``,
    ``rangeEnd``, ``gateway``) and/or ``ranges`` (a list of range sets,
    each a list of ranges), ``routes``, ``dataDir``, ``resolvConf``."""
    sets: list[tuple[Range, ...]] = []
    if ipam.get("subnet") not in (None, ""):
        sets.append((_range(ipam, "ipam"),))
    raw_sets = ipam.get("ranges")
    if raw_sets is not None and not isinstance(raw_sets, list):
        raise CniError(INVALID_CONFIG, "ipam.ranges must be a list of range sets")
    for n, raw_set in enumerate(raw_sets or ()):
        if not isinstance(raw_set, list) or not raw_set:
            raise CniError(INVALID_CONFIG, f"ipam.ranges[{n}] must be a non-empty list "
                                           "of ranges")
        sets.append(tuple(_range(item, f"ipam.ranges[{n}][{m}]")
                          for m, item in enumerate(raw_set)))
    if not sets:
        raise CniError(INVALID_CONFIG, "ipam: no IP ranges specified ('subnet' or 'ranges')")
    every = [r for one in sets for r in one]
    for n, one in enumerate(sets):
        if len({r.subnet.version for r in one}) != 1:
            raise CniError(INVALID_CONFIG, f"ipam range set {n} mixes IPv4 and IPv6")
    for i, a in enumerate(every):
        for b in every[i + 1:]:
            if a.start.version == b.start.version and int(a.start) <= int(b.end) \
                    and int(b.start) <= int(a.end):
                raise CniError(INVALID_CONFIG, f"ipam: ranges {a} and {b} overlap")
    routes_raw = ipam.get("routes")
    if routes_raw is not None and not isinstance(routes_raw, list):
        raise CniError(INVALID_CONFIG, "ipam.routes must be a list")
    routes = tuple(parse_route(r, f"ipam.routes[{n}]", INVALID_CONFIG)
                   for n, r in enumerate(routes_raw or ()))
    data_dir = ipam.get("dataDir") or DEFAULT_DATA_DIR
    if not isinstance(data_dir, str) or "\0" in data_dir:
        raise CniError(INVALID_CONFIG, "ipam.dataDir must be a path")
    dns = DNS()
    resolv = ipam.get("resolvConf")
    if resolv:
        if not isinstance(resolv, str):
            raise CniError(INVALID_CONFIG, "ipam.resolvConf must be a path")
        try:
            with open(resolv, encoding="utf-8", errors="replace") as f:
                dns = parse_resolv_conf(f.read())
        except OSError as err:
            raise CniError(IO_FAILURE, f"ipam.resolvConf {resolv}: {err.strerror}") from err
    return HostLocalConf(range_sets=tuple(sets), routes=routes, data_dir=data_dir, dns=dns)


def candidates(ranges: Sequence[Range], last: Optional[IPAddress]) -> Iterator[IPAddress]:
    """The addresses of a range set in the order host-local tries them: from
    the one after ``last`` (if it is in the set; else from the first range's
    start) round the set once, ``last`` itself at the end, no gateway."""
    index, start = 0, ranges[0].start
    if last is not None:
        for n, r in enumerate(ranges):
            if last in r:
                index = n
                if last == r.end:
                    index = (n + 1) % len(ranges)
                    start = ranges[index].start
                else:
                    start = last + 1
                break
    for step in range(len(ranges) + 1):
        r = ranges[(index + step) % len(ranges)]
        first = start if step == 0 else r.start
        stop = start if step == len(ranges) else None  # the lap ends where it began
        ip = first
        while True:
            if stop is not None and int(ip) >= int(stop):
                return
            if ip != r.gateway:
                yield ip
            if ip == r.end:
                break
            ip += 1
        if step == len(ranges):
            return


# -- the store ------------------------------------------------------------------------------

class Store:
    """host-local's directory for one network, held under its lock.

    ``with Store(data_dir, network) as store:`` creates the directory (0755)
    and ``lock`` if needed and holds an exclusive flock on it for the block.
    """

    def __init__(self, data_dir: str, network: str) -> None:
        self.dir = os.path.join(data_dir, network)
        self._lock_fd: Optional[int] = None

    def __enter__(self) -> Store:
        try:
            os.makedirs(self.dir, mode=0o755, exist_ok=True)
            fd = os.open(os.path.join(self.dir, _LOCK),
                         os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o750)
        except OSError as err:
            raise _io_error(f"IPAM store {self.dir}", err) from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._lock_fd = fd
        return self

    def __exit__(self, *_: object) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def reserve(self, container_id: str, ifname: str, ip: IPAddress, range_id: int) -> bool:
        """Take ``ip`` for the container; False if it is taken already."""
        path = self._path(str(ip))
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            return False
        except OSError as err:
            raise _io_error(f"IPAM store {self.dir}", err) from err
        try:
            try:
                os.write(fd, (container_id + LINE_BREAK + ifname).encode())
            finally:
                os.close(fd)
            self._write(_LAST_RESERVED + str(range_id), str(ip))
        except BaseException as err:
            _remove(path)
            if isinstance(err, OSError):
                raise _io_error(f"IPAM store {self.dir}", err) from err
            raise
        return True

    def _write(self, name: str, text: str) -> None:
        fd = os.open(self._path(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                     0o644)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def last_reserved(self, range_id: int) -> Optional[IPAddress]:
        try:
            with open(self._path(_LAST_RESERVED + str(range_id)), "rb") as f:
                return ipaddress.ip_address(f.read().decode().strip())
        except (OSError, ValueError):
            return None  # as host-local: round robin restarts, nothing worse

    def allocations(self) -> Iterator[tuple[IPAddress, str, str]]:
        """``(address, container ID, ifname)`` of every allocation; a file of
        an older host-local holds only the container ID (ifname "")."""
        try:
            names = os.listdir(self.dir)
        except OSError as err:
            raise _io_error(f"IPAM store {self.dir}", err) from err
        for name in names:
            if name == _LOCK or name.startswith(_LAST_RESERVED):
                continue
            try:
                ip = ipaddress.ip_address(name)
            except ValueError:
                continue  # not an allocation
            try:
                with open(self._path(name), "rb") as f:
                    text = f.read().decode(errors="replace").strip()
            except OSError:
                continue  # gone meanwhile, or a directory
            container_id, _, ifname = text.partition(LINE_BREAK)
            yield ip, container_id.strip(), ifname.strip()

    def find(self, container_id: str, ifname: str, *, legacy: bool = False
             ) -> list[IPAddress]:
        """The addresses of ``container_id`` on ``ifname``; with ``legacy``,
        those of files that name the container only (older host-local)."""
        want = "" if legacy else ifname
        return [ip for ip, cid, name in self.allocations()
                if cid == container_id and name == want]

    def release(self, ips: Sequence[IPAddress]) -> None:
        for ip in ips:
            _remove(self._path(str(ip)))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _io_error(what: str, err: OSError) -> CniError:
    return CniError(IO_FAILURE, f"{what}: {err.strerror or err}", getattr(err, "filename", None))


# -- the IPAM of a network ---------------------------------------------------------------

class Ipam(Protocol):
    """What a mode asks of IPAM, whichever plugin serves it."""

    def add(self, env: Env) -> Result: ...
    def delete(self, env: Env) -> None: ...
    def check(self, env: Env) -> None: ...
    def gc(self, env: Env) -> None: ...
    def status(self, env: Env) -> None: ...


class HostLocal:
    """host-local, in this process."""

    def __init__(self, net: NetConf) -> None:
        self.net = net
        self.conf = parse_host_local(net.ipam)

    def _store(self) -> Store:
        return Store(self.conf.data_dir, self.net.name)

    def _requested(self, env: Env) -> list[IPAddress]:
        """Addresses asked for: CNI_ARGS ``IP=A``, ``args.cni.ips``,
        ``runtimeConfig.ips`` (host-local's three ways)."""
        asked: list[Any] = []
        if env.args.get("IP"):
            asked.append(parse_ip(env.args["IP"], "CNI_ARGS IP", INVALID_ENVIRONMENT))
        cni_args = self.net.args.get("cni")
        if isinstance(cni_args, dict) and isinstance(cni_args.get("ips"), list):
            asked += cni_args["ips"]
        if isinstance(self.net.runtime_config.get("ips"), list):
            asked += self.net.runtime_config["ips"]
        out = []
        for item in asked:
            if not isinstance(item, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
                # args.cni.ips and runtimeConfig.ips may give A/N
                item = parse_ip(item.split("/")[0] if isinstance(item, str) else item,
                                "requested IP", INVALID_CONFIG)
            out.append(item)
        return out

    def add(self, env: Env) -> Result:
        requested = self._requested(env)
        ips: list[IPConfig] = []
        with self._store() as store:
            mine = store.find(env.container_id, env.ifname)
            reserved: list[IPAddress] = []
            try:
                for range_id, ranges in enumerate(self.conf.range_sets):
                    taken = [ip for ip in mine if any(ip in r for r in ranges)]
                    if taken:
                        raise CniError(NO_ADDRESS, f"{taken[0]} has been allocated to "
                                                   f"{env.container_id}, duplicate allocation "
                                                   "is not allowed")
                    ip, r = self._reserve(store, env, range_id, ranges, requested)
                    reserved.append(ip)
                    ips.append(IPConfig(address=ipaddress.ip_interface(
                        f"{ip}/{r.subnet.prefixlen}"), gateway=r.gateway))
                if requested:
                    raise CniError(NO_ADDRESS, "requested IPs "
                                   f"{', '.join(map(str, requested))} are in no range")
            except BaseException:
                store.release(reserved)
                raise
        return Result(ips=tuple(ips), routes=self.conf.routes, dns=self.conf.dns)

    def _reserve(self, store: Store, env: Env, range_id: int, ranges: Sequence[Range],
                 requested: list[IPAddress]) -> tuple[IPAddress, Range]:
        for ip in requested:
            for r in ranges:
                if ip in r:
                    requested.remove(ip)
                    if ip == r.gateway or not store.reserve(env.container_id, env.ifname,
                                                            ip, range_id):
                        raise CniError(NO_ADDRESS, f"requested IP address {ip} is not "
                                                   f"available in range set "
                                                   f"{', '.join(map(str, ranges))}")
                    return ip, r
        for ip in candidates(ranges, store.last_reserved(range_id)):
            if store.reserve(env.container_id, env.ifname, ip, range_id):
                return ip, next(r for r in ranges if ip in r)
        raise CniError(NO_ADDRESS, "no IP addresses available in range set: "
                                   f"{', '.join(map(str, ranges))}")

    def delete(self, env: Env) -> None:
        with self._store() as store:
            # As host-local: files of an older version, holding only the
            # container ID, are released when none of this version match.
            store.release(store.find(env.container_id, env.ifname)
                          or store.find(env.container_id, env.ifname, legacy=True))

    def check(self, env: Env) -> None:
        with self._store() as store:
            if not store.find(env.container_id, env.ifname):
                raise CniError(NO_ADDRESS, "host-local: failed to find the address of "
                                           f"container {env.container_id} ({env.ifname})")

    def gc(self, env: Env) -> None:
        valid = self.net.valid_attachments or frozenset()
        ids = {cid for cid, _ in valid}
        with self._store() as store:
            store.release([ip for ip, cid, ifname in store.allocations()
                           if ((cid, ifname) not in valid if ifname else cid not in ids)])

    def status(self, env: Env) -> None:
        try:
            with self._store():
                pass
        except CniError as err:
            raise CniError(PLUGIN_NOT_AVAILABLE, f"host-local store unusable: {err.msg}",
                           err.details) from err


class Delegated:
    """Another IPAM plugin, executed from CNI_PATH as the spec says."""

    def __init__(self, net: NetConf, environ: Mapping[str, str]) -> None:
        self.net = net
        self.environ = environ
        self.type = net.ipam_type or ""

    def _find(self, env: Env) -> str:
        if not env.path:
            raise CniError(INVALID_ENVIRONMENT, "required env variables [CNI_PATH] missing",
                           f"needed to find the IPAM plugin {self.type!r}")
        for directory in env.path:
            path = os.path.join(directory, self.type)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        raise CniError(IPAM_PLUGIN_FAILED, f"failed to find IPAM plugin {self.type!r} in "
                                           f"CNI_PATH {':'.join(env.path)}")

    def run(self, env: Env, command: str) -> bytes:
        """Run the plugin for ``command``; its stdout, or its error raised."""
        import subprocess  # only delegation needs it

        path = self._find(env)
        try:
            done = subprocess.run([path], input=self.net.raw, stdout=subprocess.PIPE,
                                  env={**self.environ, "CNI_COMMAND": command}, check=False)
        except OSError as err:
            raise CniError(IPAM_PLUGIN_FAILED, f"IPAM plugin {path}: {err.strerror}") from err
        if done.returncode == 0:
            return done.stdout
        try:
            answer = json.loads(done.stdout)
            code, msg = answer["code"], answer["msg"]
            if not isinstance(code, int) or not isinstance(msg, str):
                raise TypeError
        except (ValueError, TypeError, KeyError) as err:
            raise CniError(IPAM_PLUGIN_FAILED, f"IPAM plugin {path} failed "
                                               f"(exit status {done.returncode})",
                           done.stdout.decode(errors="replace")[:500] or None) from err
        details = answer.get("details")
        raise CniError(code, f"IPAM plugin {self.type}: {msg}",
                       details if isinstance(details, str) else None)

    def add(self, env: Env) -> Result:
        out = self.run(env, "ADD")
        try:
            answer = json.loads(out)
        except ValueError as err:
            raise CniError(IPAM_PLUGIN_FAILED, f"IPAM plugin {self.type} answered no JSON",
                           out.decode(errors="replace")[:500]) from err
        result = parse_result(answer, f"IPAM plugin {self.type}'s result", IPAM_PLUGIN_FAILED)
        if not result.ips:
            # Give back what it may have reserved: this ADD fails.
            self.delete(env)
            raise CniError(IPAM_PLUGIN_FAILED, f"IPAM plugin {self.type} gave no IP address")
        return result

    def delete(self, env: Env) -> None:
        self.run(env, "DEL")

    def check(self, env: Env) -> None:
        self.run(env, "CHECK")

    def gc(self, env: Env) -> None:
        self.run(env, "GC")

    def status(self, env: Env) -> None:
        self.run(env, "STATUS")


def for_config(net: NetConf, environ: Mapping[str, str]) -> Optional[Ipam]:
    """The IPAM of ``net``: None without an ``ipam`` section."""
    if not net.ipam:
        return None
    if net.ipam_type == "host-local":
        return HostLocal(net)
    return Delegated(net, environ)
