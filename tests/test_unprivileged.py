"""Every public call made without privileges raises PermissionError with a
hint, and creates nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import RUN_DIR, run_ip

CALLS = {
    "netns.add": "netns.add(P + 'a')",
    "netns.add_many": "netns.add_many([P + 'b', P + 'c'])",
    "netns.delete": "netns.delete(EXISTING)",
    "netns.delete_many": "netns.delete_many([EXISTING])",
    "netns.enter": "netns.enter(EXISTING).__enter__()",
    "netns.open_many": "netns.open_many(3)",
    "netns.run": "netns.run(EXISTING, ['true'])",
    "Handle(existing)": "Handle(EXISTING)",
    "link_add_veth": "Handle().link_add_veth('rnsu0', 'rnsu1')",
    "link_add_bridge": "Handle().link_add_bridge('rnsu2')",
    "link_set": "Handle().link_set('lo', mtu=65536)",
    "link_delete": "Handle().link_delete('lo')",
    "addr_add": "Handle().addr_add('lo', '127.0.0.9/8')",
    "route_add": "Handle().route_add('10.99.0.0/16', dev='lo', table=4242)",
    "neigh_add": "Handle().neigh_add('lo', '10.99.0.1', '02:00:00:00:00:01')",
    "nsid_set": "Handle().nsid_set(EXISTING, 77)",
    "Batch": "b = Batch(); b.netns_add(P + 'd'); b.commit()",
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_unprivileged_call_raises_permission_error(name, ns, prefix):
    existing = ns()
    script = textwrap.dedent(f"""
        import os, sys
        from rawns import netns, Handle, Batch  # before dropping root
        import rawns.handle, rawns.batch, rawns.nlsock, rawns.convert, rawns.netlink
        # rawns imports contextlib on a context manager's first use (start-up);
        # here the interpreter's library may be unreadable once root is dropped
        # (a pyenv under /root), and a venv's site does not load it for us
        import contextlib
        P, EXISTING = {prefix!r}, {existing!r}
        os.setgroups([]); os.setgid(65534); os.setuid(65534)
        try:
            {CALLS[name]}
        except PermissionError as err:
            print("PERM", err)
            sys.exit(0)
        except BaseException as err:
            print("OTHER", type(err).__name__, err)
            sys.exit(1)
        print("NO ERROR")
        sys.exit(1)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "root or CAP_SYS_ADMIN/CAP_NET_ADMIN" in result.stdout
    # nothing was made, nothing was removed
    assert sorted(n for n in os.listdir(RUN_DIR) if n.startswith(prefix)) == [existing]
    assert "rnsu" not in run_ip("-br", "link").stdout
    assert run_ip("route", "show", "table", "4242", check=False).stdout == ""


@pytest.mark.parametrize("call", ["netns.add(P + 'a')", "netns.add_many([P + 'b', P + 'c'])"])
def test_unprivileged_add_names_the_namespace_being_added(call, prefix):
    script = textwrap.dedent(f"""
        import os
        from rawns import netns
        P = {prefix!r}
        os.setgroups([]); os.setgid(65534); os.setuid(65534)
        try:
            {call}
        except PermissionError as err:
            print(err)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=30)
    first = prefix + ("a" if "add(" in call else "b")
    assert result.stdout.startswith(f"netns {first!r}: [Errno 1] Operation not permitted"), \
        result.stdout + result.stderr
    assert "/run/netns" in result.stdout  # what could not be done
