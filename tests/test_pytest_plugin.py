"""rawns.pytest_plugin, run by pytest's own pytester: fixtures, cleanup after failures, skips, leftovers."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

# Imported here, before any inline run: pytester forgets the modules an inline run
# imports, and a second import of rawns' modules would make classes that the first
# ones' users do not recognise.
import rawns.batch
import rawns.cli.dispatch
import rawns.handle
import rawns.ping
import rawns.pytest_plugin
import rawns.snapshot
import rawns.topology
from rawns import netns
from rawns.pytest_plugin import PREFIX, SKIP_REASON

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def run(pytester, monkeypatch):
    """Run pytest on the files made with pytester, with the plugin as its
    entry point would load it (and no other plugin loaded automatically)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def runner(*args: str) -> pytest.RunResult:
        # (this module imported the plugin already: it cannot be rewritten, and need not)
        return pytester.runpytest("-p", "rawns.pytest_plugin", "-p", "no:cacheprovider",
                                  "-W", "ignore::pytest.PytestAssertRewriteWarning", *args)

    return runner


@root_only
def test_fixtures_make_what_they_say_and_remove_it(pytester, run, tmp_path):
    record = tmp_path / "names"
    pytester.makefile(".clab.yml", lab=textwrap.dedent("""\
        name: plug
        topology:
          nodes:
            a: {kind: linux, exec: ["ip addr add 10.42.0.1/32 dev lo"]}
            b: {kind: linux}
          links:
            - endpoints: ["a:eth1", "b:eth1"]
              ipv4: [10.42.1.1/24, 10.42.1.2/24]
        """))
    pytester.makepyfile(test_inner=textwrap.dedent(f"""\
        import pytest
        from rawns import Handle, netns as ns_api
        from rawns.ping import ping

        RECORD = {str(record)!r}

        def note(*names):
            with open(RECORD, "a") as f:
                f.write(" ".join(names) + "\\n")

        def test_netns(netns):
            note(netns)
            with Handle(netns) as h:
                assert [l.name for l in h.link_list()] == ["lo"]
                assert h.link_get("lo").is_up

        def test_factory(netns_factory):
            names = [netns_factory() for _ in range(3)]
            note(*names)
            assert len(set(names)) == 3 and all(n in ns_api.list() for n in names)

        def test_veth(veth):
            note(veth.netns, veth.peer_netns)
            assert ping(veth.peer_ip, netns=veth.netns, timeout=3)[0].rtt is not None

        @pytest.mark.topology("lab.clab.yml", host=True, unique=True)
        def test_marked(topology):
            note(*topology.namespaces, topology.host)
            assert topology.status().up
            assert ping("10.42.1.2", netns=topology.netns_of("a"), timeout=3)

        @pytest.mark.parametrize("topology", [
            {{"source": {{"name": "d", "topology": {{"nodes": {{"x": {{"kind": "linux"}}}}}}}},
              "unique": True}},
            {{"source": "lab.clab.yml", "unique": True}},
        ], indirect=True)
        def test_indirect(topology):
            note(*topology.namespaces)
            assert all(ns_api.exists(n) for n in topology.namespaces)
        """))
    result = run("-v")
    result.assert_outcomes(passed=6)
    made = record.read_text().split()
    assert len(made) == 1 + 3 + 2 + 3 + 1 + 2
    assert len(set(made)) == len(made)
    assert all(name.startswith(f"{PREFIX}-{os.getpid()}-") for name in made)
    assert not set(made) & set(netns.list())


@root_only
def test_a_failing_test_is_still_cleaned_up(pytester, run, tmp_path):
    record = tmp_path / "names"
    pytester.makepyfile(test_inner=textwrap.dedent(f"""\
        import pytest

        @pytest.mark.topology({{"name": "f", "topology": {{"nodes": {{"x": {{"kind": "linux"}}}},
                                "links": [{{"endpoints": ["x:e1", "host:hx"]}}]}}}},
                              host=True, unique=True)
        def test_fails(netns, veth, topology):
            with open({str(record)!r}, "w") as f:
                f.write(" ".join([netns, veth.netns, veth.peer_netns, topology.host,
                                  *topology.namespaces]))
            assert False, "this test fails on purpose"
        """))
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*this test fails on purpose*"])
    made = record.read_text().split()
    assert len(made) == 5 and all(name not in netns.list() for name in made)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_without_privileges_the_tests_are_skipped_saying_why(pytester):
    """Run without CAP_SYS_ADMIN and CAP_NET_ADMIN (out of the bounding set;
    still uid 0 if we are, so everything stays readable)."""
    pytester.makepyfile(test_inner=textwrap.dedent("""\
        def test_uses_netns(netns):
            raise AssertionError("never runs")

        def test_plain():
            pass
        """))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(["setpriv", "--bounding-set", "-sys_admin,-net_admin",
                             sys.executable, "-m", "pytest", "-p", "rawns.pytest_plugin",
                             "-p", "no:cacheprovider", "-rs", str(pytester.path)],
                            capture_output=True, text=True, env=env, cwd=pytester.path,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert SKIP_REASON in result.stdout


@root_only
def test_leftovers_are_reported(pytester, run):
    left = f"{PREFIX}-{os.getpid()}-left"
    pytester.makepyfile(test_inner=textwrap.dedent(f"""\
        from rawns import netns as ns_api

        def test_leaves_one(netns):
            ns_api.add({left!r})   # made by the test itself: nobody removes it
        """))
    try:
        result = run("--rawns-leftovers")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*rawns leftovers*", f"namespaces left (*{left}*"])
        # the fixture's own namespace is gone: only the test's is reported as ours
        reported = " ".join(line for line in result.stdout.lines
                            if line.startswith("namespaces left")).split()
        assert [name for name in reported if name.startswith(f"{PREFIX}-{os.getpid()}-")] \
            == [left]
    finally:
        netns.delete_many([left], missing_ok=True)
    pytester.makepyfile(test_inner="def test_clean(netns):\n    pass\n")
    clean = run("--rawns-leftovers")
    clean.assert_outcomes(passed=1)
    clean.stdout.fnmatch_lines(["*rawns leftovers*"])
    assert not any(f"{PREFIX}-{os.getpid()}-" in line for line in clean.stdout.lines)


@root_only
def test_the_topology_fixture_says_what_it_needs(pytester, run):
    pytester.makepyfile(test_inner="def test_bare(topology):\n    pass\n")
    result = run()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*needs @pytest.mark.topology*"])


def test_registered_as_a_pytest11_entry_point_without_clashing_with_the_projects_fixtures():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # named as the module: `-p rawns.pytest_plugin` (or pytest_plugins = [...]) then
    # finds it loaded, where any other name would register it twice (an error)
    assert project["entry-points"]["pytest11"] == {"rawns.pytest_plugin": "rawns.pytest_plugin"}
    # (the installed module: CI also runs this suite against the wheel, without rawns/ here)
    plugin_source = Path(rawns.pytest_plugin.__file__).read_text()
    theirs = set()
    for path in (ROOT / "tests").rglob("conftest.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                    "fixture" in ast.unparse(d) for d in node.decorator_list):
                theirs.add(node.name)
    ours = {node.name for node in ast.walk(ast.parse(plugin_source))
            if isinstance(node, ast.FunctionDef)
            and any("fixture" in ast.unparse(d) for d in node.decorator_list)}
    assert ours == {"netns", "netns_factory", "veth", "topology"}
    assert not ours & theirs


@root_only
@pytest.mark.parametrize("extra, outcome", [
    ([], "1 passed"),                                   # loaded by its entry point
    (["-p", "rawns.pytest_plugin"], "1 passed"),        # and named again: no clash
    (["-p", "no:rawns.pytest_plugin"], "1 error"),      # turned off: no fixture
])
def test_the_entry_point_loads_it(pytester, tmp_path, extra, outcome):
    """The entry point as pyproject.toml declares it, installed in a throwaway
    dist-info directory (rawns itself is not reinstalled)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    info = tmp_path / "site" / "rawns_entry_point-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rawns-entry-point\n"
                                   "Version: 0.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\n" + "".join(
        f"{name} = {target}\n" for name, target in project["entry-points"]["pytest11"].items()))
    pytester.makepyfile(test_inner="def test_uses(netns):\n    assert netns\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}:{ROOT}"}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *extra,
                             str(pytester.path)], capture_output=True, text=True, env=env,
                            cwd=pytester.path, timeout=120)
    assert outcome in result.stdout.splitlines()[-1], result.stdout + result.stderr
