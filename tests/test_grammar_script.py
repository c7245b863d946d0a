"""tests/grammar_script.sh, run once with ip and once with rawns in namespaces of the
same names: the two outputs must be equal, byte for byte (issue 15's "a script that
uses only these commands gives the same output under ip and under rawns")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_ip

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

SCRIPT = Path(__file__).resolve().parent / "grammar_script.sh"
CHECKOUT = Path(__file__).resolve().parent.parent


def _run(tool: str, a: str, b: str) -> str:
    for name in (a, b):
        run_ip("netns", "add", name)
    try:
        env = {**os.environ, "IP": tool,
               "PYTHONPATH": os.pathsep.join([str(CHECKOUT), *sys.path])}
        result = subprocess.run(["sh", str(SCRIPT), a, b], capture_output=True, text=True,
                                env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout
    finally:
        for name in (a, b):
            run_ip("netns", "delete", name, check=False)


def test_the_script_prints_the_same_under_ip_and_rawns(prefix) -> None:
    a, b = prefix + "a", prefix + "b"
    by_ip = _run("ip", a, b)
    by_rawns = _run(f"{sys.executable} -m rawns", a, b)
    assert by_ip.count("\n$ ") > 80 and "nexthop" in by_ip and "lookup" in by_ip
    assert by_rawns == by_ip
