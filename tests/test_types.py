"""The package type-checks under ``mypy --strict`` (configured in pyproject.toml).

Checks the rawns that the tests import: the source tree, or the installed
wheel when the suite runs against it (.ci/run), so what users install is
held to the same bar.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import rawns

TOP = Path(__file__).resolve().parent.parent
PACKAGE_PARENT = Path(rawns.__file__).resolve().parent.parent


def test_the_package_passes_mypy_strict(tmp_path: Path) -> None:
    # -p rawns from an empty directory with the package's parent on PYTHONPATH:
    # mypy finds the very copy that was imported, and only through py.typed.
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_PARENT)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(TOP / "pyproject.toml"),
         "--cache-dir", str(tmp_path / "cache"), "-p", "rawns"],
        cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
    assert "source files" in result.stdout and " 1 source file" not in result.stdout
