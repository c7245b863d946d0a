"""The benchmarks keep up with the library: every file of benchmarks/ imports
and every script answers ``--help``; none takes a private name of rawns,
patches a rawns module at run time, or uses a rawns name that does not exist.

Needs no root and creates nothing: a refactor of rawns that would break a
benchmark fails here, not months later on the machine that runs them.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
FILES = sorted(BENCHMARKS.rglob("*.py"))
SCRIPTS = sorted(path for path in BENCHMARKS.glob("*.py")
                 if "__main__" in path.read_text())


def _rel(path: Path) -> str:
    return str(path.relative_to(BENCHMARKS.parent))


def test_the_benchmarks_are_found():
    names = {_rel(path) for path in FILES}
    assert {"benchmarks/bench.py", "benchmarks/harness/peers.py",
            "benchmarks/w3_anatomy.py"} <= names
    assert "benchmarks/bench.py" in {_rel(path) for path in SCRIPTS}


@pytest.fixture
def benchmarks_on_path(monkeypatch):
    """benchmarks/ first on sys.path, as for a script run from there; sys.path
    and the modules imported meanwhile are put back afterwards."""
    monkeypatch.setattr(sys, "path", [str(BENCHMARKS), *sys.path])
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name == "harness" or name.startswith(("harness.", "_benchmark_")):
            del sys.modules[name]


def _load(path: Path) -> Any:
    name = "_benchmark_" + "_".join(path.relative_to(BENCHMARKS).with_suffix("").parts)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_every_file_imports(path, benchmarks_on_path):
    _load(path)


@pytest.mark.parametrize("path", SCRIPTS, ids=_rel)
def test_every_script_answers_help(path, benchmarks_on_path, capsys):
    module = _load(path)
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out


# --- public names only -------------------------------------------------------------

def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _chain(node: ast.AST) -> list[str] | None:
    """``['netns', 'add_many']`` for ``netns.add_many``; None unless the
    expression is names and attributes only."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _resolve(dotted: str) -> Any:
    """The object at ``rawns.x.y``, importing modules on the way.

    A module must come from the rawns package under test: an editable install
    of another checkout can otherwise supply a submodule this one removed."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    home = Path(obj.__file__).resolve().parent
    for i, part in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[:i + 1]))
        where = getattr(obj, "__file__", None) if isinstance(obj, type(sys)) else None
        if where is not None and home not in Path(where).resolve().parents:
            raise ImportError(f"{'.'.join(parts[:i + 1])} comes from {where}, not {home}")
    return obj


def problems(source: str, check_exists: bool = True) -> list[str]:
    """What a benchmark must not do with rawns, as ``line: text`` strings."""
    tree = ast.parse(source)
    found: list[str] = []
    bound: dict[str, str] = {}  # local name -> dotted rawns path

    def complain(node: ast.AST, text: str) -> None:
        found.append(f"{getattr(node, 'lineno', '?')}: {text}")

    def exists(node: ast.AST, dotted: str) -> None:
        if not check_exists:
            return
        try:
            _resolve(dotted)
        except (ImportError, AttributeError):
            complain(node, f"{dotted} does not exist")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] != "rawns":
                    continue
                if any(_private(p) for p in parts):
                    complain(node, f"import {alias.name}: a private module")
                exists(node, alias.name)
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    bound["rawns"] = "rawns"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "rawns":
            if any(_private(p) for p in node.module.split(".")):
                complain(node, f"from {node.module}: a private module")
            for alias in node.names:
                if _private(alias.name):
                    complain(node, f"from {node.module} import {alias.name}: a private name")
                dotted = f"{node.module}.{alias.name}"
                exists(node, dotted)
                bound[alias.asname or alias.name] = dotted
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and re.match(r"rawns(\.\w+)*\._", node.value):
            complain(node, f"{node.value!r}: names a private module")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain = _chain(node)
            if chain is not None and chain[0] in bound:
                dotted = ".".join([bound[chain[0]], *chain[1:]])
                if any(_private(p) for p in chain[1:]):
                    complain(node, f"{'.'.join(chain)}: a private name of {bound[chain[0]]}")
                elif isinstance(node.ctx, (ast.Store, ast.Del)):
                    complain(node, f"{'.'.join(chain)}: patches a rawns module")
                else:
                    exists(node, dotted)
            elif _private(node.attr) and not (isinstance(node.value, ast.Name)
                                              and node.value.id in ("self", "cls")):
                complain(node, f".{node.attr}: a private attribute of another object")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("setattr", "delattr") and node.args:
            chain = _chain(node.args[0])
            if chain is not None and chain[0] in bound:
                complain(node, f"{node.func.id}({'.'.join(chain)}, ...): patches rawns")
    return found


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_public_rawns_names_only(path):
    assert problems(path.read_text()) == []


@pytest.mark.parametrize("source, expected", [
    ("from rawns.convert import _interface", "a private name"),
    ("from rawns._native import lib", "a private module"),
    ("import rawns._native", "a private module"),
    ("from rawns import syscalls\nsyscalls.lib = None", "patches a rawns module"),
    ("from rawns import netns\nnetns._run_dir_ready = True", "a private name of rawns.netns"),
    ("import rawns\nrawns.netns._path_bytes('x')", "a private name of rawns"),
    ("from rawns import syscalls\nsetattr(syscalls, 'lib', None)", "patches rawns"),
    ("from rawns import netns\nnetns.no_such_function()", "does not exist"),
    ("from rawns.netlink import no_such_name", "does not exist"),
    ("from rawns.bench import pods", "does not exist"),  # moved to benchmarks/harness
    ("header = object()\nheader._DECODE(b'')", "a private attribute of another object"),
    ("import importlib\nimportlib.import_module('rawns._native')", "names a private module"),
])
def test_the_checker_sees(source, expected):
    assert any(expected in problem for problem in problems(source)), problems(source)


def test_the_checker_lets_public_use_pass():
    source = ("import rawns\nfrom rawns import netns, Batch\n"
              "from rawns.netlink import decode\n"
              "rawns.read_many\nnetns.add_many([])\nself._own = 1\n")
    assert problems(source) == []
