"""The network configuration a runtime gives on stdin, read and checked.

Invariants:
- Pure: bytes in, a frozen ``NetConf`` or a ``CniError`` out. JSON that does
  not parse is code 6; a value of the wrong type or out of range is code 7;
  a version rawns does not speak is code 1.
- Unknown keys are ignored, as the spec requires. A key that asks for what
  rawns does not do (``ipMasq``, ``promiscMode``, a VLAN, a capability such as
  ``portMappings``) is refused with code 2 and a message naming the key, never
  silently dropped.
- The network name ends up as a directory name (host-local's store): only the
  spec's characters pass, so it cannot leave the data directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

from rawns.cni.spec import (
    DECODING_FAILURE, DNS, INCOMPATIBLE_VERSION, INVALID_CONFIG, LATEST_VERSION,
    SUPPORTED_VERSIONS, UNSUPPORTED_FIELD, CniError, Result, check_ifname, parse_dns,
    parse_result, version_tuple, is_spec_name,
)
from rawns.records import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Any, Optional

__all__ = ["NetConf", "MODES", "DEFAULT_BRIDGE", "SUPPORTED_CAPABILITIES", "parse_config",
           "request_version"]

MODES = ("ptp", "bridge")
DEFAULT_BRIDGE = "cni0"
#: Capabilities a config may declare (``"capabilities": {"ips": true}``):
#: runtimeConfig.ips asks host-local for given addresses.
SUPPORTED_CAPABILITIES = ("ips",)


# Keys of the reference plugins that ask for what rawns does not do, with
# the value that asks nothing.
_REFUSED: dict[str, tuple[Any, str]] = {
    "ipMasq": (False, "IP masquerading needs iptables or nftables; chain a plugin that "
                      "does it, or masquerade on the host"),
    "promiscMode": (False, "promiscuous bridges are not supported"),
    "vlan": (0, "VLANs are not supported (this kernel has no vlan links)"),
    "vlanTrunk": (None, "VLAN trunks are not supported"),
    "macspoofchk": (False, "MAC spoof checking needs nftables"),
    "disableContainerInterface": (False, "leaving the container interface down is not "
                                         "supported"),
}


class NetConf(NamedTuple):
    """One network configuration, checked. ``raw`` is the stdin it came from,
    handed as is to a delegated IPAM plugin (the spec asks for the same
    configuration)."""

    version: str
    name: str
    type: str
    mode: str = "ptp"
    mtu: Optional[int] = None
    bridge: str = DEFAULT_BRIDGE
    is_gateway: bool = False
    is_default_gateway: bool = False
    force_address: bool = False
    hairpin: bool = False
    ipam: Mapping[str, Any] = MappingProxyType({})
    dns: DNS = DNS()
    prev_result: Optional[Result] = None
    runtime_config: Mapping[str, Any] = MappingProxyType({})
    args: Mapping[str, Any] = MappingProxyType({})
    valid_attachments: Optional[frozenset[tuple[str, str]]] = None
    raw: bytes = b""

    @property
    def ipam_type(self) -> Optional[str]:
        value = self.ipam.get("type")
        return value if isinstance(value, str) else None


def _load(data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise CniError(DECODING_FAILURE, f"error decoding network config: {err}") from err
    if not isinstance(obj, dict):
        raise CniError(DECODING_FAILURE, "error decoding network config: not a JSON object")
    return obj


def request_version(data: bytes) -> str:
    """The ``cniVersion`` of stdin if it is one rawns speaks, else the
    latest: the version errors and VERSION answer in."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return LATEST_VERSION
    version = obj.get("cniVersion") if isinstance(obj, dict) else None
    return version if version in SUPPORTED_VERSIONS else LATEST_VERSION


def _typed(obj: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CniError(INVALID_CONFIG, f"network config: {key!r} must be a "
                                       f"{'boolean' if kind is bool else kind.__name__}, "
                                       f"not {json.dumps(value)}")
    return value


def _check_version(obj: Mapping[str, Any], command: str) -> str:
    supported = ", ".join(f'"{v}"' for v in SUPPORTED_VERSIONS)
    if "cniVersion" not in obj:
        raise CniError(INCOMPATIBLE_VERSION, "incompatible CNI versions",
                       f"config has no cniVersion (0.1.0 by default), plugin supports "
                       f"[{supported}]")
    version = obj["cniVersion"]
    if version not in SUPPORTED_VERSIONS:
        raise CniError(INCOMPATIBLE_VERSION, "incompatible CNI versions",
                       f"config is {json.dumps(version)}, plugin supports [{supported}]")
    needs = {"CHECK": "0.4.0", "STATUS": "1.1.0", "GC": "1.1.0"}.get(command)
    if needs and version_tuple(version) < version_tuple(needs):
        raise CniError(INCOMPATIBLE_VERSION, f"{command} needs cniVersion {needs} or later",
                       f"config is {json.dumps(version)}")
    assert isinstance(version, str)
    return version


def _refusals(obj: Mapping[str, Any]) -> None:
    for key, (harmless, reason) in _REFUSED.items():
        value = obj.get(key)
        if value is None or value == harmless or value in (False, 0, [], ""):
            continue
        raise CniError(UNSUPPORTED_FIELD, f"network config: {key!r} is not supported by rawns",
                       reason)
    capabilities = obj.get("capabilities")
    if capabilities is not None:
        if not isinstance(capabilities, dict):
            raise CniError(INVALID_CONFIG, "network config: 'capabilities' must be an object")
        for name, wanted in capabilities.items():
            if wanted and name not in SUPPORTED_CAPABILITIES:
                raise CniError(UNSUPPORTED_FIELD,
                               f"network config: capability {name!r} is not supported by rawns",
                               "port mapping, bandwidth and the like are other plugins' "
                               "work: chain them after rawns in a conflist")


def _attachments(obj: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    key = "cni.dev/valid-attachments"
    items = obj.get(key)
    if not isinstance(items, list):
        raise CniError(INVALID_CONFIG, f"GC needs {key!r}, a list of "
                                       "{containerID, ifname} objects")
    found = set()
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("containerID"), str)
                and isinstance(item.get("ifname"), str)):
            raise CniError(INVALID_CONFIG, f"{key}: {json.dumps(item)} is not a "
                                           "{containerID, ifname} object")
        found.add((item["containerID"], item["ifname"]))
    return frozenset(found)


def parse_config(data: bytes, command: str) -> NetConf:
    """The configuration on stdin for ``command`` (``"ADD"``...), checked."""
    obj = _load(data)
    version = _check_version(obj, command)
    name = obj.get("name")
    if not isinstance(name, str) or not is_spec_name(name):
        raise CniError(INVALID_CONFIG, f"network config: 'name' {json.dumps(name)} is not a "
                                       "valid network name (letters, digits, '_', '.', '-')")
    plugin_type = obj.get("type")
    if not isinstance(plugin_type, str) or not plugin_type:
        raise CniError(INVALID_CONFIG, "network config: 'type' is missing")
    mode = _typed(obj, "mode", str, "ptp")
    if mode not in MODES:
        raise CniError(INVALID_CONFIG, f"network config: 'mode' {json.dumps(mode)} is not "
                                       f"one of {', '.join(MODES)}")
    mtu = _typed(obj, "mtu", int, 0) or None
    if mtu is not None and not 68 <= mtu <= 65535:
        raise CniError(INVALID_CONFIG, f"network config: 'mtu' {mtu} is out of range "
                                       "(68 to 65535)")
    bridge = check_ifname(_typed(obj, "bridge", str, DEFAULT_BRIDGE), "bridge", INVALID_CONFIG)
    is_default_gateway = _typed(obj, "isDefaultGateway", bool, False)
    _refusals(obj)
    ipam = _typed(obj, "ipam", dict, {})
    if ipam:
        ipam_type = ipam.get("type")
        # a file name in CNI_PATH, spelled as SPEC.md spells names
        if not isinstance(ipam_type, str) or not is_spec_name(ipam_type):
            raise CniError(INVALID_CONFIG, f"network config: ipam 'type' "
                                           f"{json.dumps(ipam_type)} is not a plugin name")
    elif mode == "ptp" and command in ("ADD", "CHECK"):
        raise CniError(INVALID_CONFIG, "network config: ptp mode needs an 'ipam' section")
    prev = obj.get("prevResult")
    prev_result = None if prev is None else parse_result(prev, "prevResult", INVALID_CONFIG)
    if command == "CHECK" and prev_result is None:
        raise CniError(INVALID_CONFIG, "CHECK needs the ADD result as 'prevResult'")
    return NetConf(
        version=version, name=name, type=plugin_type, mode=mode, mtu=mtu, bridge=bridge,
        # As the reference bridge: a default gateway is a gateway.
        is_gateway=_typed(obj, "isGateway", bool, False) or is_default_gateway,
        is_default_gateway=is_default_gateway,
        force_address=_typed(obj, "forceAddress", bool, False),
        hairpin=_typed(obj, "hairpinMode", bool, False),
        ipam=ipam, dns=parse_dns(obj.get("dns"), "dns", INVALID_CONFIG),
        prev_result=prev_result,
        runtime_config=_typed(obj, "runtimeConfig", dict, {}),
        args=_typed(obj, "args", dict, {}),
        valid_attachments=_attachments(obj) if command == "GC" else None,
        raw=data)
