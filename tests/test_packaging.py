"""The front doors: one version, types for users, a clear error without the extension.

Run against whichever rawns the tests import (the source tree, or the wheel
installed into a fresh venv by .ci/run).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

import rawns
from rawns.errors import ExtensionMissingError, RawnsError

TESTS = Path(__file__).resolve().parent
TOP = TESTS.parent
PACKAGE = Path(rawns.__file__).resolve().parent
USER_PROGRAM = TESTS / "typing" / "user_program.py"

# A mistake a user could make; caught only if mypy reads rawns' annotations.
MISTAKES = '''\
from rawns import Handle, netns
from rawns.netlink import decode

with Handle("x") as h:
    h.link_set("eth0", mtu="big")
count: int = netns.list()
decode("not bytes")
'''


def mypy(tmp_path: Path, program: Path) -> subprocess.CompletedProcess[str]:
    """``mypy --strict program`` from an empty directory, finding rawns as a
    user's checker would: installed (site-packages) or on PYTHONPATH, and
    only through its py.typed marker."""
    env = dict(os.environ)
    if str(PACKAGE.parent) not in site.getsitepackages():
        env["PYTHONPATH"] = str(PACKAGE.parent)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / "cache"), program.name],
        cwd=program.parent, env=env, capture_output=True, text=True, timeout=300)


def test_a_users_program_passes_mypy_strict(tmp_path: Path) -> None:
    program = tmp_path / "user_program.py"
    shutil.copy(USER_PROGRAM, program)
    result = mypy(tmp_path, program)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout


def test_a_users_mistakes_are_caught(tmp_path: Path) -> None:
    program = tmp_path / "mistakes.py"
    program.write_text(MISTAKES)
    result = mypy(tmp_path, program)
    lines = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(lines) == 3, result.stdout
    assert 'mistakes.py:5: error: Argument "mtu" to "link_set" of "Handle" has incompatible ' \
        'type "str"' in lines[0]
    assert "mistakes.py:6: error: Incompatible types in assignment" in lines[1]
    assert 'mistakes.py:7: error: Argument 1 to "decode" has incompatible type "str"' in lines[2]


def test_py_typed_ships_with_the_package() -> None:
    assert (PACKAGE / "py.typed").is_file()
    assert (PACKAGE / "_native.pyi").is_file()


def test_one_version_for_the_cli_the_module_and_the_metadata() -> None:
    cli = subprocess.run([sys.executable, "-m", "rawns", "-V"], capture_output=True, text=True,
                         cwd=TESTS)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == f"rawns {rawns.__version__}\n"
    assert rawns.__version__.count(".") >= 2
    installed = _installed_distribution()
    if installed is not None:
        # Running against an installed rawns: its metadata came from the same string.
        assert installed.version == rawns.__version__
    else:
        # The source tree: pyproject.toml has no version of its own, it reads this one.
        pyproject = (TOP / "pyproject.toml").read_text()
        assert 'dynamic = ["version"]' in pyproject
        assert 'version = { attr = "rawns.__version__" }' in pyproject
        assert "\nversion =" not in pyproject.split("[project]")[1].split("\n[")[0]


def _installed_distribution() -> importlib.metadata.Distribution | None:
    """The distribution whose files are the rawns imported here, if any
    (not an editable install pointing elsewhere, not the bare source tree)."""
    try:
        dist = importlib.metadata.distribution("rawns")
    except importlib.metadata.PackageNotFoundError:
        return None
    init = Path(str(dist.locate_file("rawns/__init__.py"))).resolve()
    return dist if init == PACKAGE / "__init__.py" else None


@pytest.fixture
def unbuilt_tree(tmp_path: Path) -> Path:
    """A copy of the package without its compiled extension, in a tree that
    looks like a checkout (setup.py beside it)."""
    shutil.copytree(PACKAGE, tmp_path / "rawns",
                    ignore=shutil.ignore_patterns("_native*.so", "__pycache__"))
    (tmp_path / "setup.py").write_text("# a checkout's setup.py\n")
    return tmp_path


def _run_in(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -S: no site-packages, so no installed rawns (nor an editable install's
    # finder) can supply the missing extension; these paths need the stdlib only.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("RAWNS_DEBUG", None)
    return subprocess.run([sys.executable, "-S", *args], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=60)


def test_without_the_extension_the_error_names_the_fix(unbuilt_tree: Path) -> None:
    script = "import rawns.netns\n"
    result = _run_in(unbuilt_tree, "-c", script)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rawns.errors.ExtensionMissingError: rawns' C extension "
                           f"rawns._native is not built in {unbuilt_tree / 'rawns'}: ")
    assert "is a source tree" in last
    assert "python setup.py build_ext --inplace" in last
    assert f"run from outside {unbuilt_tree}" in last


def test_without_the_extension_the_cli_says_so_in_one_line(unbuilt_tree: Path) -> None:
    result = _run_in(unbuilt_tree, "-m", "rawns", "netns", "list")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("rawns: rawns' C extension rawns._native is not built")
    assert "build_ext --inplace" in result.stderr


def test_without_the_extension_an_installed_copy_says_reinstall(unbuilt_tree: Path) -> None:
    (unbuilt_tree / "setup.py").unlink()
    result = _run_in(unbuilt_tree, "-c", "import rawns.handle")
    assert "this installation is incomplete; reinstall rawns" in result.stderr


def test_without_the_extension_the_protocol_layer_still_works(unbuilt_tree: Path) -> None:
    script = ("import rawns, rawns.netlink as nl\n"
              "data = nl.encode(nl.requests.link_get(ifname='lo'))\n"
              "print(nl.decode(data)[0].get('IFLA_IFNAME'), rawns.__version__)\n")
    result = _run_in(unbuilt_tree, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"lo {rawns.__version__}\n"


def test_extension_missing_is_a_rawns_error_and_an_import_error() -> None:
    err = ExtensionMissingError("/nowhere/rawns")
    assert isinstance(err, RawnsError) and isinstance(err, ImportError)
    assert err.name == "rawns._native"
    assert "reinstall rawns" in str(err)
