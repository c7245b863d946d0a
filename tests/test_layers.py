"""The package's imports obey ARCHITECTURE.md: downward only, no cycle, no private names.

Reads the source with ``ast`` (imports inside functions and under TYPE_CHECKING
included); runs nothing of the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import rawns

# The package under test, wherever it was imported from: the source tree, or
# an installed wheel (whose .py files are the same).
PACKAGE = Path(rawns.__file__).resolve().parent

# A module may import modules of its own layer or of a lower one, never of a
# higher one. Names are module paths relative to the package; a name ending in
# "." is a prefix (a whole subpackage).
LAYERS: list[tuple[str, ...]] = [
    ("_native", "errors", "records"),
    ("netlink.",),
    ("syscalls", "model"),
    ("nlsock", "convert", "convert_fast"),
    ("fanout", "netns"),
    ("handle", "ping"),
    ("batch", "batch_plan", "snapshot"),
    ("show", "show_fast", "link_fast", "route_fast"),
    ("topology.spec", "topology.state", "topology.build", "topology.render"),
    ("demo", "cli.", "cni.", "__main__", "", "topology", "topology.lab", "pytest_plugin"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
EXTENSION = "_native"  # compiled from csrc/ by cffi: imports nothing of rawns


def layer_of(module: str) -> int:
    for rank, members in enumerate(LAYERS):
        for member in members:
            if module == member or (member.endswith(".") and
                                    (module + ".").startswith(member)):
                return rank
    raise AssertionError(f"rawns.{module} has no layer in tests/test_layers.py: "
                         f"add it (and to ARCHITECTURE.md)")


def imports_of(module: str) -> Iterator[tuple[str, str | None, int]]:
    """``(imported module, imported name or None, line)`` of rawns' own imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return imports_in(path.read_text(), package)


def imports_in(source: str, package: str) -> Iterator[tuple[str, str | None, int]]:
    """:func:`imports_of` for ``source`` of a module in ``package``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "rawns" or alias.name.startswith("rawns."):
                    yield alias.name.removeprefix("rawns").lstrip("."), None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            elif node.module == "rawns" or (node.module or "").startswith("rawns."):
                base = (node.module or "").removeprefix("rawns").lstrip(".")
            else:
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}".lstrip(".")
                if full in MODULES:
                    yield full, None, node.lineno
                else:
                    yield base, alias.name, node.lineno


def edges() -> Iterator[tuple[str, str, str | None, int]]:
    for module in MODULES:
        for target, name, line in imports_of(module):
            while target not in MODULES and target != EXTENSION:
                target = target.rpartition(".")[0]
            yield module, target, name, line


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_imports_go_downward() -> None:
    wrong = []
    for module, target, _, line in edges():
        if target == module or module == "":  # the package's lazy __init__
            continue
        if module.startswith(target + "."):  # a subpackage's own __init__
            continue
        if layer_of(target) > layer_of(module):
            wrong.append(f"rawns.{module}:{line} imports rawns.{target}, a higher layer")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {module: set() for module in [*MODULES, EXTENSION]}
    for module, target, _, _ in edges():
        if target == module or module == "" or module.startswith(target + "."):
            continue
        if target.startswith(module + ".") and MODULES[module].name == "__init__.py":
            continue  # a package importing its own children
        graph[module].add(target)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(f"rawns.{m}" for m in cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_no_private_name_taken_from_another_module() -> None:
    taken = [f"rawns.{module}:{line} takes rawns.{target}.{name}"
             for module, target, name, line in edges()
             if name and name.startswith("_") and not name.startswith("__")
             and target != module]
    assert not taken, "\n".join(taken)


def test_the_walker_sees_every_form_of_import() -> None:
    source = (
        "import os\n"
        "import rawns.netns\n"
        "from rawns import netlink\n"
        "from .constants import RTM\n"
        "if TYPE_CHECKING:\n"
        "    from rawns.model import Link\n"
        "def later():\n"
        "    from ..errors import _hidden\n"
    )
    # As if it were a module of rawns.netlink: relative imports resolve from there.
    found = sorted((module, name) for module, name, _ in imports_in(source, "netlink"))
    assert ("netns", None) in found
    assert ("netlink", None) in found
    assert ("model", "Link") in found
    assert ("netlink.constants", "RTM") in found
    assert all(module != "os" for module, _ in found)
    assert ("errors", "_hidden") in found


# rawns.netlink, from the bottom up, as its package docstring lists it: each
# module imports only those before it.
NETLINK_ORDER = ["names", "constants", "attrs", "structs", "codecs", "tables", "message", "fast",
                 "explain", "capture", "requests", "conversation"]


def test_netlink_modules_import_only_those_before_them() -> None:
    modules = {module.removeprefix("netlink.") for module in MODULES
               if module.startswith("netlink.")}
    assert modules == set(NETLINK_ORDER), "update NETLINK_ORDER and the package docstring"
    docstring = (PACKAGE / "netlink" / "__init__.py").read_text()
    listed = [name for name in NETLINK_ORDER if f":mod:`{name}`" in docstring]
    assert sorted(listed, key=lambda name: docstring.index(f":mod:`{name}`")) == NETLINK_ORDER
    wrong = []
    for module, target, _, line in edges():
        if not module.startswith("netlink.") or not target.startswith("netlink."):
            continue
        me = NETLINK_ORDER.index(module.removeprefix("netlink."))
        if NETLINK_ORDER.index(target.removeprefix("netlink.")) >= me:
            wrong.append(f"rawns.{module}:{line} imports rawns.{target}")
    assert not wrong, "\n".join(wrong)
