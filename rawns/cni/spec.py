"""The CNI protocol: versions, error codes, the environment, results and errors as JSON.

Invariants:
- Pure: no kernel, no files, no other rawns module. Everything here is tested
  with values alone.
- Everything that comes from outside (environment variables, a prevResult, a
  delegated plugin's output) is checked here; what is wrong becomes a
  ``CniError`` carrying the spec's code, never another exception.
- Results are written in the ``cniVersion`` of the request: from 1.0.0 on an
  IP has no ``version`` key; before it, it has one.
- The value types are NamedTuples, not dataclasses: a plugin is started per
  pod, and a dataclass costs a millisecond or two to define.
"""

from __future__ import annotations

import ipaddress
from types import MappingProxyType

from rawns.records import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, Optional, Union

__all__ = [
    "SUPPORTED_VERSIONS", "LATEST_VERSION", "COMMANDS", "version_tuple",
    "INCOMPATIBLE_VERSION", "UNSUPPORTED_FIELD", "UNKNOWN_CONTAINER", "INVALID_ENVIRONMENT",
    "IO_FAILURE", "DECODING_FAILURE", "INVALID_CONFIG", "TRY_AGAIN_LATER",
    "PLUGIN_NOT_AVAILABLE", "SYSTEM_REFUSED", "CHECK_FAILED", "NO_ADDRESS",
    "IPAM_PLUGIN_FAILED", "INTERNAL_ERROR",
    "CniError", "Env", "read_env", "parse_cni_args", "check_ifname", "check_container_id",
    "Interface", "IPConfig", "RouteConfig", "DNS", "Result",
    "IPAddress", "IPInterface", "IPNetwork", "ROUTE_EXTRAS",
    "parse_ip", "parse_interface", "parse_network", "parse_dns", "parse_route",
    "parse_result", "gateway_for", "unique", "is_spec_name",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The versions of the spec this plugin speaks (0.1.0 and 0.2.0 had another
#: result format, which no runtime of today sends).
SUPPORTED_VERSIONS = ("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
LATEST_VERSION = "1.1.0"
COMMANDS = ("ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC")

# The spec's error codes (SPEC.md, "Error"): 1-99 are the spec's own.
INCOMPATIBLE_VERSION = 1
UNSUPPORTED_FIELD = 2
UNKNOWN_CONTAINER = 3
INVALID_ENVIRONMENT = 4
IO_FAILURE = 5
DECODING_FAILURE = 6
INVALID_CONFIG = 7
TRY_AGAIN_LATER = 11
PLUGIN_NOT_AVAILABLE = 50
# rawns' own, 100 and above as the spec reserves them for plugins.
SYSTEM_REFUSED = 100       # the kernel or the system refused (message names the object)
CHECK_FAILED = 101         # CHECK found the attachment differs from prevResult
NO_ADDRESS = 102           # IPAM: no free address, or the container already has one
IPAM_PLUGIN_FAILED = 103   # a delegated IPAM plugin is missing or gave no usable answer
INTERNAL_ERROR = 199       # a bug in rawns: the message says what, stderr has the trace

# Which variables each command needs; the others may be empty.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "ADD": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"),
    "CHECK": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"),
    "DEL": ("CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"),
    "VERSION": (),
    "STATUS": (),
    "GC": (),
}

_IFNAMSIZ = 16


# SPEC.md's names: an ASCII letter or digit, then letters, digits, '_', '.' or '-'.
# Checked without re, whose import costs milliseconds of every plugin run.
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def is_spec_name(text: str) -> bool:
    """Whether ``text`` is a name as SPEC.md spells network and container names."""
    return (text != "" and text[0] not in "_.-" and text[0] in _NAME_CHARS
            and _NAME_CHARS.issuperset(text))


def version_tuple(version: str) -> tuple[int, int, int]:
    """``"1.0.0"`` -> ``(1, 0, 0)``; ValueError if it is not three numbers."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError(f"not a version: {version!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])


class CniError(Exception):
    """A failure reported to the runtime as the spec's error JSON."""

    def __init__(self, code: int, msg: str, details: str | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.details = details

    def __str__(self) -> str:
        return self.msg if not self.details else f"{self.msg} ({self.details})"

    def to_json(self, version: str) -> dict[str, Any]:
        """The error object of SPEC.md, in ``version``."""
        out: dict[str, Any] = {"cniVersion": version, "code": self.code, "msg": self.msg}
        if self.details:
            out["details"] = self.details
        return out


def check_container_id(value: str) -> str:
    # SPEC.md: a container ID is such a name. It ends up in files on disk: nothing else.
    if not is_spec_name(value):
        raise CniError(INVALID_ENVIRONMENT, "invalid characters in CNI_CONTAINERID",
                       repr(value))
    return value


def check_ifname(value: str, what: str = "CNI_IFNAME", code: int = INVALID_ENVIRONMENT
                 ) -> str:
    """An interface name the kernel takes: 1 to 15 bytes, not ``.`` or
    ``..``, no ``/``, ``:`` or whitespace."""
    raw = value.encode("utf-8", "surrogateescape")
    if not raw or len(raw) >= _IFNAMSIZ:
        raise CniError(code, f"{what} {value!r} must be 1 to {_IFNAMSIZ - 1} bytes long")
    if value in (".", "..") or any(c in "/:\0" or c.isspace() for c in value):
        raise CniError(code, f"{what} {value!r} is not a valid interface name "
                             "(no '/', ':' or whitespace, not '.' or '..')")
    return value


def parse_cni_args(text: str) -> dict[str, str]:
    """``CNI_ARGS``: ``"K=V;K2=V2"`` -> ``{"K": "V", "K2": "V2"}``."""
    out: dict[str, str] = {}
    for pair in text.split(";"):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CniError(INVALID_ENVIRONMENT, f"CNI_ARGS: invalid pair {pair!r}")
        out[key] = value
    return out


class Env(NamedTuple):
    """The CNI variables of one call, checked."""

    command: str
    container_id: str = ""
    netns: str = ""
    ifname: str = ""
    args: Mapping[str, str] = MappingProxyType({})
    path: tuple[str, ...] = ()


def read_env(environ: Mapping[str, str]) -> Env:
    """The CNI variables of ``environ`` (``os.environ``), checked; a missing
    or bad one is CniError code 4 naming it."""
    command = environ.get("CNI_COMMAND", "")
    if not command:
        raise CniError(INVALID_ENVIRONMENT, "required env variables [CNI_COMMAND] missing")
    if command not in _REQUIRED:
        raise CniError(INVALID_ENVIRONMENT, f"unknown CNI_COMMAND: {command}",
                       f"known: {', '.join(COMMANDS)}")
    missing = [name for name in _REQUIRED[command] if not environ.get(name)]
    if missing:
        raise CniError(INVALID_ENVIRONMENT,
                       f"required env variables [{' '.join(missing)}] missing")
    container_id = environ.get("CNI_CONTAINERID", "")
    if container_id:
        check_container_id(container_id)
    ifname = environ.get("CNI_IFNAME", "")
    if ifname:
        check_ifname(ifname)
    path = tuple(p for p in environ.get("CNI_PATH", "").split(":") if p)
    return Env(command=command, container_id=container_id,
               netns=environ.get("CNI_NETNS", ""), ifname=ifname,
               args=parse_cni_args(environ.get("CNI_ARGS", "")), path=path)


# -- results ------------------------------------------------------------------------------

def _get(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str,
         code: int, default: Any = None) -> Any:
    value = obj.get(key, default)
    if value is default:
        return default
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise CniError(code, f"{what}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _object(value: Any, what: str, code: int) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CniError(code, f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _list(value: Any, what: str, code: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CniError(code, f"{what} must be a JSON list, not {type(value).__name__}")
    return value


def parse_ip(text: Any, what: str, code: int) -> IPAddress:
    if not isinstance(text, str):
        raise CniError(code, f"{what} must be a string")
    try:
        return ipaddress.ip_address(text)
    except ValueError as err:
        raise CniError(code, f"{what} {text!r} is not an IP address") from err


def parse_interface(text: Any, what: str, code: int) -> IPInterface:
    """``"10.0.0.2/24"``: an address with its prefix length."""
    if not isinstance(text, str) or "/" not in text:
        raise CniError(code, f"{what} {text!r} is not an address with a prefix (A/N)")
    try:
        return ipaddress.ip_interface(text)
    except ValueError as err:
        raise CniError(code, f"{what} {text!r} is not an address with a prefix (A/N)") from err


def parse_network(text: Any, what: str, code: int) -> IPNetwork:
    """``"10.0.0.0/8"``; host bits are dropped, as Go's ParseCIDR does."""
    if not isinstance(text, str) or "/" not in text:
        raise CniError(code, f"{what} {text!r} is not a network (A/N)")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as err:
        raise CniError(code, f"{what} {text!r} is not a network (A/N)") from err


class Interface(NamedTuple):
    """An interface of a result: the host's have no ``sandbox``."""

    name: str
    mac: Optional[str] = None
    sandbox: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.mac:
            out["mac"] = self.mac
        if self.sandbox:
            out["sandbox"] = self.sandbox
        return out


class IPConfig(NamedTuple):
    """An address given to an interface (``interface`` indexes the result's list)."""

    address: IPInterface
    gateway: Optional[IPAddress] = None
    interface: Optional[int] = None

    def to_json(self, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if version_tuple(version) < (1, 0, 0):
            out["version"] = str(self.address.version)
        if self.interface is not None:
            out["interface"] = self.interface
        out["address"] = str(self.address)
        if self.gateway is not None:
            out["gateway"] = str(self.gateway)
        return out


#: Route keys of SPEC 1.1.0 beyond dst and gw, with the key rawns applies them as.
ROUTE_EXTRAS = ("priority", "table", "scope", "mtu", "advmss")


class RouteConfig(NamedTuple):
    """A route to make in the container: ``dst`` via ``gw`` (None: the
    gateway of the interface's address of that family)."""

    dst: IPNetwork
    gw: Optional[IPAddress] = None
    priority: Optional[int] = None
    table: Optional[int] = None
    scope: Optional[int] = None
    mtu: Optional[int] = None
    advmss: Optional[int] = None

    def to_json(self, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {"dst": str(self.dst)}
        if self.gw is not None:
            out["gw"] = str(self.gw)
        if version_tuple(version) >= (1, 1, 0):
            for key in ROUTE_EXTRAS:
                value = getattr(self, key)
                if value is not None:
                    out[key] = value
        return out


class DNS(NamedTuple):
    nameservers: tuple[str, ...] = ()
    domain: Optional[str] = None
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.nameservers or self.domain or self.search or self.options)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.nameservers:
            out["nameservers"] = list(self.nameservers)
        if self.domain:
            out["domain"] = self.domain
        if self.search:
            out["search"] = list(self.search)
        if self.options:
            out["options"] = list(self.options)
        return out


class Result(NamedTuple):
    """What ADD answers (and what CHECK and DEL get back as prevResult)."""

    interfaces: tuple[Interface, ...] = ()
    ips: tuple[IPConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    dns: DNS = DNS()

    def to_json(self, version: str) -> dict[str, Any]:
        """The result object of SPEC.md, in ``version``."""
        out: dict[str, Any] = {"cniVersion": version}
        if self.interfaces:
            out["interfaces"] = [i.to_json() for i in self.interfaces]
        if self.ips:
            out["ips"] = [ip.to_json(version) for ip in self.ips]
        if self.routes:
            out["routes"] = [r.to_json(version) for r in self.routes]
        out["dns"] = self.dns.to_json()
        return out


def parse_dns(value: Any, what: str, code: int) -> DNS:
    if value is None:
        return DNS()
    obj = _object(value, what, code)

    def strings(key: str) -> tuple[str, ...]:
        items = _list(obj.get(key), f"{what}.{key}", code)
        if not all(isinstance(item, str) for item in items):
            raise CniError(code, f"{what}.{key} must be a list of strings")
        return tuple(items)

    return DNS(nameservers=strings("nameservers"),
               domain=_get(obj, "domain", str, what, code) or None,
               search=strings("search"), options=strings("options"))


def parse_route(value: Any, what: str, code: int) -> RouteConfig:
    obj = _object(value, what, code)
    if "dst" not in obj:
        raise CniError(code, f"{what} has no 'dst'")
    dst = parse_network(obj["dst"], f"{what}.dst", code)
    gw = None if obj.get("gw") in (None, "") else parse_ip(obj["gw"], f"{what}.gw", code)
    if gw is not None and gw.version != dst.version:
        raise CniError(code, f"{what}: gw {gw} and dst {dst} are of different families")
    extras = {}
    for key in ROUTE_EXTRAS:
        number = _get(obj, key, int, what, code)
        if number is not None and not 0 <= number < 2 ** 32:
            raise CniError(code, f"{what}.{key} {number} is out of range")
        extras[key] = number
    return RouteConfig(dst=dst, gw=gw, **extras)


def parse_result(value: Any, what: str, code: int) -> Result:
    """A result object (a prevResult, or an IPAM plugin's answer) in any
    supported version; CniError ``code`` when it is not one."""
    obj = _object(value, what, code)
    interfaces = []
    for n, item in enumerate(_list(obj.get("interfaces"), f"{what}.interfaces", code)):
        entry = _object(item, f"{what}.interfaces[{n}]", code)
        name = _get(entry, "name", str, f"{what}.interfaces[{n}]", code)
        if not name:
            raise CniError(code, f"{what}.interfaces[{n}] has no name")
        interfaces.append(Interface(name=name,
                                    mac=_get(entry, "mac", str, what, code) or None,
                                    sandbox=_get(entry, "sandbox", str, what, code) or None))
    ips = []
    for n, item in enumerate(_list(obj.get("ips"), f"{what}.ips", code)):
        entry = _object(item, f"{what}.ips[{n}]", code)
        address = parse_interface(entry.get("address"), f"{what}.ips[{n}].address", code)
        gateway = (None if entry.get("gateway") in (None, "")
                   else parse_ip(entry["gateway"], f"{what}.ips[{n}].gateway", code))
        if gateway is not None and gateway.version != address.version:
            raise CniError(code, f"{what}.ips[{n}]: gateway {gateway} is not of the "
                                 f"family of {address}")
        index = _get(entry, "interface", int, f"{what}.ips[{n}]", code)
        if index is not None and not 0 <= index < len(interfaces):
            raise CniError(code, f"{what}.ips[{n}].interface {index} names no interface")
        ips.append(IPConfig(address=address, gateway=gateway, interface=index))
    routes = tuple(parse_route(item, f"{what}.routes[{n}]", code)
                   for n, item in enumerate(_list(obj.get("routes"), f"{what}.routes", code)))
    return Result(interfaces=tuple(interfaces), ips=tuple(ips), routes=routes,
                  dns=parse_dns(obj.get("dns"), f"{what}.dns", code))


def gateway_for(ips: Iterable[IPConfig], version: int) -> Optional[IPAddress]:
    """The first gateway among ``ips`` of IP ``version`` (4 or 6)."""
    for ip in ips:
        if ip.gateway is not None and ip.gateway.version == version:
            return ip.gateway
    return None


def unique(items: Sequence[Any]) -> list[Any]:
    """``items`` without repeats, in order."""
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
