"""``python -m rawns demo``: a guided tour of what rawns does.

Invariants: it removes everything it made, also on failure or Ctrl-C, and runs
no other program.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from rawns import netns

__all__ = ["main"]


def _say(text: str) -> None:
    print(text, flush=True)


def _interfaces() -> list[str]:
    with open("/proc/thread-self/net/dev") as f:
        return [line.split(":")[0].strip() for line in f.readlines()[2:]]


def main(argv: Sequence[str] = ()) -> int:
    names = [f"rawns-demo-{os.getpid()}-red", f"rawns-demo-{os.getpid()}-blue"]
    home = os.stat("/proc/thread-self/ns/net").st_ino
    _say("rawns demo: two network namespaces, made with unshare(2) and a bind mount")
    try:
        for name in names:
            netns.add(name)
            inode = os.stat(os.path.join(netns.RUN_DIR, name)).st_ino
            _say(f"  created {name!r} at {netns.path_of(name)} (namespace inode {inode})")
        _say(f"  this thread's own namespace is inode {home}")
        _say(f"  named namespaces now: {', '.join(n for n in netns.list() if n in names)}")
        for name in names:
            with netns.enter(name):
                _say(f"  inside {name!r} (setns(2), this thread only): "
                     f"interfaces {_interfaces()}")
        back = os.stat("/proc/thread-self/ns/net").st_ino
        _say(f"  back home: inode {back} ({'same' if back == home else 'DIFFERENT'})")
    finally:
        for name in names:
            if netns.exists(name):
                netns.delete(name)
                _say(f"  deleted {name!r}")
    return 0
