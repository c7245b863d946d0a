"""rawns: Linux network namespaces and rtnetlink, spoken to the kernel directly.

The submodules load lazily so that the pure protocol layer (``rawns.netlink``)
imports without the compiled extension.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Batch": "rawns.batch",
    "Handle": "rawns.handle",
    "Monitor": "rawns.handle",
    "Link": "rawns.model",
    "Address": "rawns.model",
    "Route": "rawns.model",
    "Neighbour": "rawns.model",
    "ping": "rawns.ping",
    "read_many": "rawns.snapshot",
    "Snapshot": "rawns.snapshot",
    "netns": "rawns.netns",
    "netlink": "rawns.netlink",
    "errors": "rawns.errors",
    "RawnsError": "rawns.errors",
    "KernelError": "rawns.errors",
    "DecodeError": "rawns.errors",
    "EncodeError": "rawns.errors",
}

__all__ = sorted(_LAZY) + ["__version__"]

if TYPE_CHECKING:
    from rawns import errors, netlink, netns, ping
    from rawns.errors import DecodeError, EncodeError, KernelError, RawnsError
    from rawns.batch import Batch
    from rawns.handle import Handle, Monitor
    from rawns.model import Address, Link, Neighbour, Route
    from rawns.snapshot import Snapshot, read_many


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'rawns' has no attribute {name!r}")
    module = importlib.import_module(target)
    value = module if target.rsplit(".", 1)[-1] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
