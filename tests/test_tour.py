"""docs/netlink-tour.md cannot go stale: docs/make_tour.py is run again against
the kernel, and what it writes now must have the committed tour's structure
(message types, flags, attributes, offsets, lengths, field names); values that
change from run to run are masked by ``make_tour.normalize``."""

from __future__ import annotations

import difflib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import _remove_netns_with_prefix

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "docs" / "netlink-tour.md"
SCRIPT = ROOT / "docs" / "make_tour.py"

_spec = importlib.util.spec_from_file_location("make_tour", SCRIPT)
assert _spec is not None and _spec.loader is not None
make_tour = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_tour)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the tour makes namespaces")
def test_the_committed_tour_is_what_the_code_does_now(tmp_path: Path) -> None:
    fresh = tmp_path / "tour.md"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(fresh)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        _remove_netns_with_prefix(f"tour{proc.pid % 100000:05d}-")
    assert proc.returncode == 0, err
    committed = make_tour.normalize(TOUR.read_text()).splitlines()
    now = make_tour.normalize(fresh.read_text()).splitlines()
    diff = list(difflib.unified_diff(committed, now, "docs/netlink-tour.md (masked)",
                                     "make_tour.py now (masked)", lineterm="", n=2))
    assert not diff, ("the tour is stale; run 'python docs/make_tour.py' as root and "
                      "commit docs/netlink-tour.md:\n" + "\n".join(diff[:60]))


def test_masking_hides_values_and_keeps_structure() -> None:
    text = TOUR.read_text()
    line = next(line for line in text.splitlines() if "IFLA_IFNAME (3) string" in line)
    pid_line = next(line for line in text.splitlines() if ", pid " in line)
    same = text.replace(pid_line, pid_line.replace(", pid ", ", pid 9"))
    assert make_tour.normalize(same) == make_tour.normalize(text)
    for changed in (line.replace("IFLA_IFNAME (3)", "IFLA_IFALIAS (20)"),
                    line.replace("len ", "len 1"), line.replace("@", "@1", 1),
                    line.replace("'veth", "'eth")):
        assert make_tour.normalize(text.replace(line, changed)) != make_tour.normalize(text)


def test_the_tour_walks_every_step_and_the_readme_links_it() -> None:
    text = TOUR.read_text()
    for needle in ("IFLA_NET_NS_FD", "IFLA_LINK_NETNSID", "RTM_NEWADDR", "ifi_change",
                   "NLM_F_DUMP", "NLM_F_MULTI", "NLMSG_DONE", "RTM_GETNEIGH", "NDA_LLADDR",
                   "NLMSGERR_ATTR_MSG", "NLM_F_DUMP_INTR", "| `ifinfomsg` | `linux/rtnetlink.h`"):
        assert needle in text, needle
    assert "$ ip -n RED link add veth0 type veth peer name eth0 netns BLUE" in text
    assert "docs/netlink-tour.md" in (ROOT / "README.md").read_text()
