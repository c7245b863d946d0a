"""The command line loads what a command needs and no more (start-up is part
of the product): only the module of the object asked for, and no netlink
code for ``-V`` or ``help``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

OBJECT_MODULES = {"rawns.cli.link", "rawns.cli.addr", "rawns.cli.route", "rawns.cli.neigh",
                  "rawns.cli.netns", "rawns.cli.monitor", "rawns.cli.ping", "rawns.cli.demo",
                  "rawns.cli.rule", "rawns.cli.tuntap", "rawns.cli.batch"}


def loaded(*args: str) -> set[str]:
    """The rawns modules imported by ``rawns ARGS``, run in a fresh interpreter."""
    code = ("import sys\nfrom rawns.cli import main\nstatus = main(sys.argv[1:])\n"
            "print(' '.join(m for m in sys.modules if m.startswith('rawns')), "
            "file=sys.stderr)\nraise SystemExit(status)\n")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return set(result.stderr.split("\n")[-2].split())


@pytest.mark.parametrize("args", [["-V"], ["help"], ["help", "link"], ["route", "--help"],
                                  ["rule", "--help"], ["tuntap", "--help"]])
def test_version_and_help_load_no_object_and_no_netlink(args):
    modules = loaded(*args)
    assert not modules & OBJECT_MODULES
    assert not {"rawns.handle", "rawns.netlink", "rawns.netns", "rawns.show"} & modules


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_a_command_loads_only_its_objects_module(ns):
    a = ns()
    modules = loaded("-n", a, "link", "show")
    assert modules & OBJECT_MODULES == {"rawns.cli.link"}
    assert "rawns.demo" not in modules and "rawns.ping" not in modules
    modules = loaded("-n", a, "-j", "addr")
    assert modules & OBJECT_MODULES == {"rawns.cli.addr"}
    modules = loaded("-n", a, "rule")
    assert modules & OBJECT_MODULES == {"rawns.cli.rule"}
