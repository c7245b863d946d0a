"""rawns: Linux network namespaces and rtnetlink, spoken to the kernel directly.

Invariants:
- ``import rawns`` costs almost nothing: it imports no other module (not even
  ``typing``); each public name loads its module on first use.  So the pure
  protocol layer (``rawns.netlink``) imports without the compiled extension,
  and a command loads only what it needs.
- ``__version__`` below is the one version: the package metadata
  (pyproject.toml reads it from here) and ``rawns -V`` agree with it.
"""

import sys

__version__ = "0.1.0"

# mypy takes any name TYPE_CHECKING as typing's; this one costs no import.
TYPE_CHECKING = False
if TYPE_CHECKING:
    # "X as X": an explicit re-export, so `from rawns import Handle` passes
    # a user's `mypy --strict` (no implicit re-export there).
    from typing import Any

    from rawns import errors as errors
    from rawns import netlink as netlink
    from rawns import netns as netns
    from rawns import ping as ping
    from rawns.batch import Batch as Batch
    from rawns.errors import DecodeError as DecodeError
    from rawns.errors import EncodeError as EncodeError
    from rawns.errors import KernelError as KernelError
    from rawns.errors import RawnsError as RawnsError
    from rawns.handle import Handle as Handle
    from rawns.handle import Monitor as Monitor
    from rawns.model import Address as Address
    from rawns.model import Link as Link
    from rawns.model import Neighbour as Neighbour
    from rawns.model import Route as Route
    from rawns.snapshot import Snapshot as Snapshot
    from rawns.snapshot import read_many as read_many

# public name -> the module that defines it (a module's own name: the module)
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

__all__ = [
    "Address", "Batch", "DecodeError", "EncodeError", "Handle", "KernelError", "Link",
    "Monitor", "Neighbour", "RawnsError", "Route", "Snapshot", "errors", "netlink",
    "netns", "ping", "read_many", "__version__",
]


def __getattr__(name: str) -> "Any":  # a string: Any is not imported at run time
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'rawns' has no attribute {name!r}")
    # __import__ rather than importlib: importing importlib costs more than this module.
    __import__(target)
    module = sys.modules[target]
    value = module if target.rsplit(".", 1)[-1] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
