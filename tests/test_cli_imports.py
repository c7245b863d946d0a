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
                  "rawns.cli.explain",
                  "rawns.cli.rule", "rawns.cli.tuntap", "rawns.cli.batch", "rawns.cli.sysctl"}


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
    modules = loaded("-n", a, "sysctl", "net.ipv4.ip_forward", "net.core")
    assert modules & OBJECT_MODULES == {"rawns.cli.sysctl"}
    assert not {"rawns.handle", "rawns.netlink", "rawns.show", "rawns.nlsock"} & modules


def test_explain_loads_the_protocol_only(tmp_path):
    path = tmp_path / "ack.bin"
    path.write_bytes(bytes.fromhex("24000000020000010a000000b32e00000000000038000000"
                                   "100005060a00000000000000"))
    modules = loaded("explain", str(path))
    assert modules & OBJECT_MODULES == {"rawns.cli.explain"}
    assert not {"rawns.handle", "rawns.nlsock", "rawns.netns", "rawns.syscalls",
                "rawns.show"} & modules


def new_modules(code: str) -> set[str]:
    """Every module (the standard library's too) that ``code`` adds to a fresh
    interpreter, beyond what ``python -c pass`` already has."""
    probe = ("import sys\nbefore = set(sys.modules)\n" + code +
             "\nprint(' '.join(sorted(set(sys.modules) - before)))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_import_rawns_loads_nothing_else():
    assert new_modules("import rawns") == {"rawns"}
    assert new_modules("import rawns; rawns.__version__") == {"rawns"}


def test_version_and_help_load_neither_typing_nor_dataclasses():
    for args in (["-V"], ["help"]):
        modules = new_modules(f"from rawns.cli import main\nmain({args!r})")
        assert not {"typing", "dataclasses", "inspect", "socket", "enum", "re", "functools",
                    "collections", "fcntl", "_cffi_backend"} & modules, args
        assert {m for m in modules if m.startswith("rawns")} <= {
            "rawns", "rawns.cli", "rawns.cli.dispatch", "rawns.cli.grammar", "rawns.errors"}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_netns_add_and_del_load_no_netlink(prefix):
    name = f"{prefix}cli"
    for verb in ("add", "del"):
        modules = new_modules(f"from rawns.cli import main\n"
                              f"assert main(['netns', {verb!r}, {name!r}]) == 0")
        rawns_modules = {m for m in modules if m.startswith("rawns")}
        assert rawns_modules == {"rawns", "rawns.cli", "rawns.cli.dispatch",
                                 "rawns.cli.grammar", "rawns.cli.session",
                                 "rawns.cli.netns", "rawns.errors", "rawns.netns",
                                 "rawns.syscalls", "rawns._native", "rawns._native.lib"}, verb
        # the costly parts of the standard library stay unloaded too
        assert not {"typing", "dataclasses", "inspect", "socket", "ipaddress", "json",
                    "threading", "enum", "re", "functools", "collections", "struct",
                    "_socket"} & modules, verb


# What the netlink commands must not load: dataclasses (and with it inspect, ast,
# dis, tokenize), socket (selectors), threading, json unless -j. typing, enum, and
# with typing re and contextlib, are left out while rawns.netlink.constants
# imports typing and enum (its constants without enum are another branch's
# work). Measured with that branch merged: typing, enum and re stay unloaded but
# for -j (json imports re); contextlib too but for netns list, whose namespace
# visits are a context manager (contextlib is imported on its first call).
COSTLY = {"dataclasses", "inspect", "ast", "dis", "tokenize", "socket", "selectors",
          "threading", "subprocess"}


def command_modules(argv: list[str]) -> set[str]:
    """:func:`new_modules` of the command line running ``argv`` (its output dropped)."""
    return new_modules(f"import sys, io\nfrom rawns.cli import main\n"
                       f"out, sys.stdout = sys.stdout, io.StringIO()\n"
                       f"status = main({argv!r})\nsys.stdout = out\nassert status == 0")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("args", [["-n", "{ns}", "addr", "show"]])
def test_netlink_commands_load_none_of_the_costly_standard_library(ns, args):
    a = ns()
    argv = [arg.replace("{ns}", a) for arg in args]
    modules = command_modules(argv)
    assert "rawns.records" in modules and "rawns.handle" in modules
    assert not COSTLY & modules, sorted(COSTLY & modules)
    if "-j" in argv:
        assert "json" in modules
    else:
        assert "json" not in modules


# What the lean read path (rawns.link_fast) loads: the netns add/del set, its own
# module and the object's; no protocol package, no models, no show.
LEAN = {"rawns", "rawns.cli", "rawns.cli.dispatch", "rawns.cli.grammar", "rawns.cli.session",
        "rawns.errors", "rawns.netns", "rawns.syscalls", "rawns._native", "rawns._native.lib",
        "rawns.link_fast"}
# ... and of the standard library, no more than these (the C modules of netns
# add's path, and struct and _socket for the dump)
LEAN_STDLIB = {"__future__", "errno", "fcntl", "_cffi_backend", "struct", "_struct", "_socket"}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("args", [["-n", "{ns}", "link", "show"], ["link", "show"],
                                  ["-n", "{ns}", "-j", "link", "show"],
                                  ["-n", "{ns}", "-br", "link", "show"],
                                  ["-n", "{ns}", "-o", "link", "show", "up"],
                                  ["-n", "{ns}", "link", "show", "dev", "lo"],
                                  ["netns", "list"], ["-j", "netns", "list"]])
def test_read_commands_take_the_lean_path(ns, args):
    a = ns()
    argv = [arg.replace("{ns}", a) for arg in args]
    modules = command_modules(argv)
    ours = {m for m in modules if m.startswith("rawns")}
    assert ours == LEAN | {"rawns.cli.netns" if "netns" in argv else "rawns.cli.link"}
    assert modules - ours <= LEAN_STDLIB, sorted(modules - ours - LEAN_STDLIB)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_batch_loads_no_typing_enum_re_nor_concurrent_futures(prefix, tmp_path):
    """``rawns -batch`` of a W2-shaped file (what bench_batch.py times) loads
    neither typing (and with it re, enum, contextlib) nor concurrent.futures
    (and with it logging, traceback...), nor the read side (handle, convert,
    show). Run without site (-S; site-packages on the path by hand): this
    machine's .pth files import typing and re before any code of rawns."""
    import sysconfig

    import rawns

    host, pod = f"{prefix}host", f"{prefix}pod"
    path = tmp_path / "w2.batch"
    path.write_text(f"netns add {host}\nnetns add {pod}\n"
                    f"-n {host} link add vh0 up type veth peer name eth0 netns {pod}\n"
                    f"-n {pod} addr add 10.0.0.2/16 dev eth0\n-n {pod} link set eth0 up\n"
                    f"-n {pod} link set lo up\n")
    probe = ("import sys\nbefore = set(sys.modules)\nfrom rawns.cli import main\n"
             f"status = main(['-batch', {str(path)!r}])\n"
             "print(' '.join(sorted(set(sys.modules) - before)))\nraise SystemExit(status)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(rawns.__file__)))
    paths = [root] + sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    result = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)})
    assert result.returncode == 0, result.stderr
    modules = set(result.stdout.split())
    assert {"rawns.batch", "rawns.fanout", "rawns.cli.batch"} <= modules
    unwanted = {"typing", "enum", "re", "contextlib", "concurrent.futures", "logging",
                "traceback", "rawns.convert", "rawns.handle", "rawns.show", "socket",
                "dataclasses", "inspect"}
    assert not unwanted & modules, sorted(unwanted & modules)


# What the lean route listing (rawns.route_fast) loads: link_fast's set, its
# own module and show_fast's printers; no protocol package, no models, no show.
LEAN_ROUTES = (LEAN - {"rawns.cli.netns"}) | {"rawns.cli.route", "rawns.route_fast",
                                              "rawns.show_fast"}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("args", [["-n", "{ns}", "route", "show"], ["route", "show"],
                                  ["-n", "{ns}", "-j", "route", "show"],
                                  ["-n", "{ns}", "-6", "route", "show", "table", "all"],
                                  ["-n", "{ns}", "-o", "-4", "route", "show", "table", "all"],
                                  ["-n", "{ns}", "-d", "-j", "route", "list", "table", "main"]])
def test_route_show_takes_the_lean_path(ns, args):
    a = ns()
    argv = [arg.replace("{ns}", a) for arg in args]
    modules = command_modules(argv)
    ours = {m for m in modules if m.startswith("rawns")}
    assert ours == (LEAN_ROUTES if "-n" in argv else LEAN_ROUTES - {"rawns.netns"})
    assert modules - ours <= LEAN_STDLIB, sorted(modules - ours - LEAN_STDLIB)
