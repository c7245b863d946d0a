"""rawns.netns against the real kernel, cross-checked with iproute2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest

from rawns import netns
from conftest import RUN_DIR, own_mounts, run_ip


def thread_netns_inode() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def netns_inode(name: str) -> int:
    return os.stat(os.path.join(RUN_DIR, name)).st_ino


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


# --- names -----------------------------------------------------------------

@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "../etc", "/abs", "nul\0x", "x" * 256])
def test_bad_names_are_refused_before_anything_is_created(bad, monkeypatch):
    before = set(os.listdir(RUN_DIR)) if os.path.isdir(RUN_DIR) else set()
    with pytest.raises(ValueError):
        netns.add(bad)
    with pytest.raises(ValueError):
        netns.add_many(["fine-name-never-created", bad])
    with pytest.raises(ValueError):
        netns.delete(bad)
    after = set(os.listdir(RUN_DIR)) if os.path.isdir(RUN_DIR) else set()
    # other processes may add or remove their own namespaces meanwhile
    assert "fine-name-never-created" not in after
    assert not {name for name in after - before if name in (bad, bad.strip("/"))}


def test_longest_name_is_accepted(prefix):
    name = prefix + "n" * (255 - len(prefix))
    netns.add(name)
    assert name in netns.list()
    netns.delete(name)


def test_duplicate_names_in_one_call_are_refused(prefix):
    with pytest.raises(ValueError):
        netns.add_many([prefix + "a", prefix + "a"])
    assert not [n for n in netns.list() if n.startswith(prefix)]


# --- interoperability with iproute2 -----------------------------------------

def test_rawns_add_is_seen_and_entered_by_ip(prefix):
    name = prefix + "a"
    netns.add(name)
    assert name in run_ip("netns", "list").stdout.split()
    links = json.loads(run_ip("netns", "exec", name, "ip", "-j", "link", "show").stdout)
    assert [link["ifname"] for link in links] == ["lo"]
    # It is a namespace of its own, not the caller's.
    assert netns_inode(name) != thread_netns_inode()


def test_ip_netns_add_is_listed_entered_and_deleted_by_rawns(prefix):
    name = prefix + "b"
    run_ip("netns", "add", name)
    assert name in netns.list()
    assert netns.exists(name)
    home = thread_netns_inode()
    with netns.enter(name):
        assert thread_netns_inode() == netns_inode(name)
        with open("/proc/thread-self/net/dev") as f:
            assert [line.split(":")[0].strip() for line in f.readlines()[2:]] == ["lo"]
    assert thread_netns_inode() == home
    netns.delete(name)
    assert name not in run_ip("netns", "list").stdout.split()
    assert not os.path.lexists(os.path.join(RUN_DIR, name))


def test_list_is_sorted(prefix):
    names = [prefix + s for s in ("c", "a", "b")]
    for name in names:
        netns.add(name)
    mine = [n for n in netns.list() if n.startswith(prefix)]
    assert mine == sorted(names)


def test_run_dir_is_a_shared_mount(prefix):
    netns.add(prefix + "s")
    with open("/proc/self/mountinfo") as f:
        entries = [line.split() for line in f]
    run_dir = [e for e in entries if e[4] == RUN_DIR]
    assert run_dir, "/run/netns is not a mount point"
    assert any(field.startswith("shared:") for field in run_dir[-1][6:])


def test_namespace_mount_propagates_to_ip_netns_exec(prefix):
    # ip netns exec runs in a new mount namespace (rslave of ours): a
    # namespace added afterwards must still be reachable from a child process.
    first, second = prefix + "p1", prefix + "p2"
    netns.add(first)
    netns.add(second)
    out = run_ip("netns", "exec", first, "ls", RUN_DIR).stdout.split()
    assert second in out


# --- errors -------------------------------------------------------------------

def test_existing_name_raises_file_exists(prefix):
    name = prefix + "dup"
    netns.add(name)
    with pytest.raises(FileExistsError) as info:
        netns.add(name)
    assert name in str(info.value)
    # the original is untouched
    assert netns.exists(name)


def test_missing_name_raises_file_not_found(prefix):
    with pytest.raises(FileNotFoundError) as info:
        netns.delete(prefix + "missing")
    assert "missing" in str(info.value)
    with pytest.raises(FileNotFoundError):
        with netns.enter(prefix + "missing"):
            pass


def test_unprivileged_caller_gets_permission_error_with_hint(prefix):
    script = textwrap.dedent(f"""
        import os, sys
        from rawns import netns  # before dropping root: the interpreter may be unreadable
        os.setgid(65534); os.setuid(65534)
        try:
            netns.add({prefix + 'unpriv'!r})
        except PermissionError as err:
            print("PERM", err)
            sys.exit(0)
        sys.exit("no PermissionError")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "CAP_SYS_ADMIN" in result.stdout
    assert not os.path.lexists(os.path.join(RUN_DIR, prefix + "unpriv"))


def test_plain_file_at_a_name_is_not_entered(prefix):
    path = os.path.join(RUN_DIR, prefix + "plain")
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(path, "w"):
        pass
    with pytest.raises(netns.NotANetnsError):
        with netns.enter(prefix + "plain"):
            pass
    # delete removes a stale file that is not a mount, as ip netns delete does
    netns.delete(prefix + "plain")
    assert not os.path.lexists(path)


def test_symlink_at_a_name_is_not_followed(prefix, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = os.path.join(RUN_DIR, prefix + "link")
    os.symlink(victim, link)
    with pytest.raises(netns.NotANetnsError):
        with netns.enter(prefix + "link"):
            pass
    netns.delete(prefix + "link")
    assert not os.path.lexists(link)
    assert victim.read_text() == "keep me"


# --- enter and threads --------------------------------------------------------

def test_enter_by_name_path_fd_and_pid(prefix):
    name = prefix + "e"
    netns.add(name)
    target = netns_inode(name)
    home = thread_netns_inode()
    fd = os.open(os.path.join(RUN_DIR, name), os.O_RDONLY)
    try:
        for how in ({"target": name}, {"target": os.path.join(RUN_DIR, name)},
                    {"target": fd}):
            with netns.enter(**how):
                assert thread_netns_inode() == target
            assert thread_netns_inode() == home
    finally:
        os.close(fd)
    sleeper = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "30"])
    try:
        for _ in range(100):  # wait until the child is inside
            try:
                if os.stat(f"/proc/{sleeper.pid}/ns/net").st_ino == target:
                    break
            except FileNotFoundError:
                pass
            threading.Event().wait(0.02)
        with netns.enter(pid=sleeper.pid):
            assert thread_netns_inode() == target
        assert thread_netns_inode() == home
    finally:
        sleeper.kill()
        sleeper.wait()


def test_enter_restores_on_exception_and_keyboard_interrupt(prefix):
    name = prefix + "x"
    netns.add(name)
    home = thread_netns_inode()
    for exc in (RuntimeError, KeyboardInterrupt):
        with pytest.raises(exc):
            with netns.enter(name):
                assert thread_netns_inode() != home
                raise exc()
        assert thread_netns_inode() == home


STRANDING_CHILD = """
import os, sys, threading
from rawns import Handle, netns, syscalls

def inode():
    return os.stat("/proc/thread-self/ns/net").st_ino

home = inode()
links = [link.name for link in Handle().link_list()]
# A namespace this user namespace owns: entering it works, coming back does not.
made = []
def make():
    syscalls.unshare(syscalls.CLONE_NEWNET)
    made.append(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
t = threading.Thread(target=make)
t.start(); t.join()
own = made[0]
calls = {
    "add": lambda: netns.add(P + "a"),
    "add_many": lambda: netns.add_many([P + "b", P + "c", P + "d"], threads=2),
    "open_many": lambda: netns.open_many(2),
    "enter": lambda: netns.enter(own).__enter__(),
    "Handle": lambda: Handle(own),
    "read_many": lambda: __import__("rawns").read_many([own]),
}
for name, call in calls.items():
    try:
        call()
        print(name, "NO ERROR")
    except PermissionError as err:
        print(name, "PERM", err)
    except BaseException as err:
        print(name, "OTHER", type(err).__name__, err)
    print(name, "HOME", inode() == home)
print("MADE", sorted(n for n in os.listdir("/run/netns") if n.startswith(P)))
print("LINKS", [link.name for link in Handle().link_list()] == links)
"""


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_a_thread_that_could_not_come_back_is_refused_before_it_moves(prefix):
    # In a user namespace that does not own the caller's network namespace
    # (unshare -U -r -m, as some rootless setups run), leaving works and
    # coming back does not: every call that moves the thread must refuse
    # before it moves, and create nothing.
    script = f"P = {prefix!r}\n" + STRANDING_CHILD
    result = subprocess.run(["unshare", "-U", "-r", "-m", sys.executable, "-c", script],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for call in ("add", "add_many", "open_many", "enter", "Handle", "read_many"):
        outcome = next(line for line in lines if line.startswith(call + " ") and
                       " HOME " not in line)
        assert outcome.startswith(f"{call} PERM"), outcome
        assert "also over the caller's own netns" in outcome, outcome
        assert f"{call} HOME True" in lines, result.stdout
    assert f"add PERM netns '{prefix}a'" in result.stdout
    assert "MADE []" in lines and "LINKS True" in lines, result.stdout
    assert not [n for n in netns.list() if n.startswith(prefix)]


def test_a_failed_way_back_is_thread_stranded_error_not_an_os_error(prefix, monkeypatch):
    # After the check that it could come back, the way back can still fail
    # (another thread dropped the process's privileges; ENOMEM): that is not
    # an ordinary refusal that a caller may catch and carry on from.
    from rawns import syscalls
    from rawns.errors import KernelError, ThreadStrandedError

    name = prefix + "strand"
    netns.add(name)
    home = thread_netns_inode()
    home_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    real_setns = syscalls.setns
    calls = []

    def setns(fd, nstype, *, subject=None):
        calls.append(subject)
        if len(calls) == 3:  # check, enter, then the way back fails
            raise KernelError(1, syscall="setns", subject=subject)
        real_setns(fd, nstype, subject=subject)

    monkeypatch.setattr(syscalls, "setns", setns)
    try:
        with pytest.raises(ThreadStrandedError) as stranded:
            with netns.enter(name):
                pass
        assert not isinstance(stranded.value, OSError)
        assert "could not return to its own network namespace" in str(stranded.value)
        assert isinstance(stranded.value.__cause__, OSError)
        assert thread_netns_inode() != home  # where it was left (the test moves it back)
    finally:
        monkeypatch.undo()
        syscalls.setns(home_fd, syscalls.CLONE_NEWNET)
        os.close(home_fd)
    assert thread_netns_inode() == home


def test_entering_in_one_thread_does_not_move_another(prefix):
    names = [prefix + f"t{i}" for i in range(8)]
    netns.add_many(names)
    main_home = thread_netns_inode()
    barrier = threading.Barrier(len(names) + 1)
    seen: dict[str, tuple[int, int, int]] = {}

    def worker(name: str) -> None:
        home = thread_netns_inode()
        with netns.enter(name):
            barrier.wait(timeout=10)  # every thread is inside at once
            inside = thread_netns_inode()
            barrier.wait(timeout=10)
        seen[name] = (home, inside, thread_netns_inode())

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    barrier.wait(timeout=10)
    assert thread_netns_inode() == main_home  # while they are all inside
    barrier.wait(timeout=10)
    for t in threads:
        t.join()
    assert thread_netns_inode() == main_home
    for name in names:
        home, inside, after = seen[name]
        assert inside == netns_inode(name)
        assert home == after == main_home


def test_add_from_another_thread_binds_that_threads_namespace(prefix):
    # /proc/self would name the main thread's namespace: the bind must use
    # the creating thread's own.
    name = prefix + "thr"
    main_home = thread_netns_inode()
    errors = []

    def worker():
        try:
            netns.add(name)
        except BaseException as err:  # reported below
            errors.append(err)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert not errors
    assert netns_inode(name) != main_home
    assert thread_netns_inode() == main_home


def test_add_inside_an_entered_namespace_returns_there(prefix):
    outer, inner = prefix + "outer", prefix + "inner"
    netns.add(outer)
    with netns.enter(outer):
        netns.add(inner)
        assert thread_netns_inode() == netns_inode(outer)
    assert netns_inode(inner) not in (netns_inode(outer), thread_netns_inode())


def test_delete_while_a_thread_is_inside_is_safe(prefix):
    name = prefix + "busy"
    netns.add(name)
    home = thread_netns_inode()
    with netns.enter(name):
        inside = thread_netns_inode()
        netns.delete(name)
        assert thread_netns_inode() == inside
        with open("/proc/thread-self/net/dev") as f:
            assert "lo:" in f.read()
    assert thread_netns_inode() == home
    assert name not in netns.list()


# --- bulk -------------------------------------------------------------------

def test_add_many_and_delete_many(prefix):
    names = [f"{prefix}{i}" for i in range(150)]
    calls = []
    netns.add_many(names, progress=lambda done, total: calls.append((done, total)))
    listed = set(run_ip("netns", "list").stdout.split())
    assert set(names) <= listed
    inodes = {netns_inode(n) for n in names}
    assert len(inodes) == len(names)
    assert calls[-1] == (150, 150) and len(calls) >= 2
    netns.delete_many(names)
    assert not set(names) & set(netns.list())


def net_fds() -> set[int]:
    """Inodes of the network namespaces this process holds open (an O_PATH
    fd reads as a path in /proc/self/fd while mounted: stat, not readlink)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            info = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if info.st_dev == NSFS_DEV:
            inodes.add(info.st_ino)
    return inodes


NSFS_DEV = os.stat("/proc/self/ns/net").st_dev


def test_delete_many_holds_the_namespaces_until_its_loop_ends(prefix):
    """The loop keeps each namespace open from just before its unmount to the
    end of the loop (so the kernel frees them together, afterwards): a thread
    watching this process's fds sees many held at once while the C loop runs,
    and none once it has returned."""
    names = [f"{prefix}{i}" for i in range(400)]
    netns.add_many(names)
    inodes = {netns_inode(n) for n in names}
    held_before = net_fds()
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(net_fds() & inodes)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        netns.delete_many(names)
    finally:
        done.set()
        watcher.join()
    assert not set(names) & set(netns.list())
    assert len(seen) > 1  # held together, not one at a time
    assert net_fds() == held_before


def test_deleting_holds_what_delete_deletes_until_the_block_ends(prefix):
    """In a ``deleting()`` block each ``delete`` removes the name at once and
    keeps the namespace held (one fd each) until the block ends; a nested
    block is part of the outer one, and nothing is held after it."""
    names = [f"{prefix}{i}" for i in range(5)]
    netns.add_many(names)
    inodes = [netns_inode(n) for n in names]
    held_before = net_fds()
    with netns.deleting():
        for name in names[:3]:
            netns.delete(name)
        with netns.deleting():
            netns.delete(names[3])
        assert net_fds() - held_before == set(inodes[:4])
        assert set(netns.list()) & set(names) == {names[4]}
    assert net_fds() == held_before
    netns.delete(names[4])  # outside a block: held by nothing
    assert net_fds() == held_before
    assert not set(netns.list()) & set(names)


def test_deleting_releases_on_failure_and_holds_only_its_threads_deletes(prefix):
    names = [f"{prefix}{i}" for i in range(3)]
    netns.add_many(names)
    inodes = [netns_inode(n) for n in names]
    held_before = net_fds()
    other = threading.Thread(target=netns.delete, args=(names[2],))
    with pytest.raises(FileNotFoundError, match="never"):
        with netns.deleting():
            netns.delete(names[0])
            other.start()
            other.join()  # deleted by another thread: not held by this block
            assert net_fds() - held_before == {inodes[0]}
            netns.delete(prefix + "never")
    assert net_fds() == held_before
    assert set(netns.list()) & set(names) == {names[1]}


def test_delete_many_failing_midway_names_the_failure_and_holds_nothing(prefix):
    names = [f"{prefix}{i}" for i in range(6)]
    netns.add_many(names[:3] + names[4:])  # names[3] does not exist
    fds = fd_count()
    with pytest.raises(FileNotFoundError) as caught:
        netns.delete_many(names)
    assert repr(names[3]) in str(caught.value)
    assert set(netns.list()) & set(names) == set(names[4:])  # stopped at the missing one
    assert fd_count() == fds
    netns.add(names[3])
    netns.delete_many(names[3:] + [prefix + "never"], missing_ok=True)
    assert not set(netns.list()) & set(names)
    assert fd_count() == fds


def test_delete_many_removes_a_fifo_at_a_name_without_blocking(prefix):
    """A FIFO planted at a name (no mount) is removed as a stale file; holding
    the namespaces must not open it for reading (which would block)."""
    names = [prefix + "a", prefix + "fifo", prefix + "b"]
    netns.add_many([names[0], names[2]])
    os.mkfifo(os.path.join(RUN_DIR, names[1]))
    fds = fd_count()
    netns.delete_many(names)
    assert not any(os.path.lexists(os.path.join(RUN_DIR, n)) for n in names)
    assert fd_count() == fds


def test_delete_many_with_few_free_fds_deletes_in_rounds(prefix):
    """With an fd limit that leaves room to hold only a few namespaces at a
    time, the loop releases them in rounds and still deletes every one."""
    script = textwrap.dedent(f"""
        import os, resource
        from rawns import netns
        names = [{prefix!r} + str(i) for i in range(60)]
        netns.add_many(names)
        in_use = len(os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 256 + 7, resource.getrlimit(
            resource.RLIMIT_NOFILE)[1]))
        netns.delete_many(names)
        print(sum(n in netns.list() for n in names), len(os.listdir("/proc/self/fd")) - in_use)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["0", "0"]


def test_add_many_with_threads(prefix):
    names = [f"{prefix}{i}" for i in range(200)]
    home = thread_netns_inode()
    netns.add_many(names, threads=2)
    assert len({netns_inode(n) for n in names}) == len(names)
    assert home not in {netns_inode(n) for n in names}
    assert thread_netns_inode() == home
    netns.delete_many(names)


@pytest.mark.parametrize("threads", [1, 2])
def test_add_many_rolls_back_when_a_name_exists(prefix, threads):
    names = [f"{prefix}{i}" for i in range(200)]
    run_ip("netns", "add", names[150])
    taken = netns_inode(names[150])
    with pytest.raises(FileExistsError) as info:
        netns.add_many(names, threads=threads)
    assert names[150] in str(info.value)
    assert [n for n in netns.list() if n.startswith(prefix)] == [names[150]]
    assert netns_inode(names[150]) == taken  # someone else's: untouched


def test_add_many_rolls_back_on_keyboard_interrupt(prefix):
    names = [f"{prefix}{i}" for i in range(200)]
    home = thread_netns_inode()

    def interrupt(done, total):
        if done >= 64:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        netns.add_many(names, progress=interrupt)
    assert not [n for n in netns.list() if n.startswith(prefix)]
    assert thread_netns_inode() == home


def mine(prefix: str) -> list[str]:
    return sorted(n for n in netns.list() if n.startswith(prefix))


def test_adding_lets_a_watcher_use_each_namespace_as_soon_as_it_exists(prefix):
    names = [f"{prefix}{i}" for i in range(300)]
    home = thread_netns_inode()
    adding = netns.Adding(names)
    with pytest.raises(RuntimeError):
        adding.ready(1)  # not started
    adding.start()
    try:
        adding.ready(1)
        assert adding.made >= 1
        first = netns_inode(names[0])  # exists, and is a namespace of its own
        assert first != home
        adding.ready(100)
        assert netns.exists(names[99])
        adding.finish()
        assert adding.made == len(adding) == 300 and adding.over
        assert mine(prefix) == sorted(names)
        assert len({netns_inode(name) for name in names}) == 300
        with pytest.raises(RuntimeError):
            adding.start()
    finally:
        adding.stop()
        adding.undo()
    assert mine(prefix) == []
    assert thread_netns_inode() == home


def test_adding_stopped_midway_makes_no_more_and_undoes_what_it_made(prefix):
    names = [f"{prefix}{i}" for i in range(2000)]
    adding = netns.Adding(names)
    adding.start()
    adding.ready(3)
    adding.stop()
    made = adding.made
    assert adding.over and 3 <= made < 2000
    assert mine(prefix) == sorted(names[:made])
    with pytest.raises(RuntimeError, match="stopped"):
        adding.ready(made + 1)
    adding.undo()
    adding.undo()  # idempotent
    assert mine(prefix) == []


def test_adding_reports_a_name_that_exists_and_undoes_only_its_own(prefix):
    names = [f"{prefix}{i}" for i in range(40)]
    run_ip("netns", "add", names[25])
    taken = netns_inode(names[25])
    adding = netns.Adding(names)
    adding.start()
    adding.ready(25)  # those before it are fine
    with pytest.raises(FileExistsError) as info:
        adding.ready(26)
    assert names[25] in str(info.value)
    with pytest.raises(FileExistsError):
        adding.finish()
    adding.stop()
    adding.undo()
    assert mine(prefix) == [names[25]]
    assert netns_inode(names[25]) == taken  # someone else's: untouched


def test_adding_refuses_bad_and_duplicate_names_before_anything(prefix):
    with pytest.raises(ValueError):
        netns.Adding([prefix + "a", prefix + "a"])
    with pytest.raises(ValueError):
        netns.Adding([prefix + "a", "no/slash"])
    assert mine(prefix) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_ctrl_c_while_waiting_for_adding_lands_before_the_loop_ends(prefix):
    """The wait returns on a signal, so Ctrl-C reaches its handler at once,
    not when the last namespace is made; stop and undo leave nothing."""
    script = textwrap.dedent(f"""
        import os, signal, threading
        from rawns import netns
        names = [f"{prefix}{{i}}" for i in range(3000)]
        adding = netns.Adding(names)
        adding.start()
        adding.ready(1)
        threading.Timer(0.05, signal.pthread_kill,
                        (threading.main_thread().ident, signal.SIGINT)).start()
        try:
            adding.ready(len(names))
            print("WAITED")
        except KeyboardInterrupt:
            print("INTERRUPTED", adding.made < len(names))
        adding.stop()
        adding.undo()
        print("LEFT", len([n for n in os.listdir("/run/netns") if n.startswith("{prefix}")]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["INTERRUPTED", "True", "LEFT", "0"]


def test_add_many_rolls_back_when_the_kernel_limit_is_hit(prefix):
    # In a user namespace of its own the child can lower
    # user.max_net_namespaces without touching the machine's limit, and mount
    # a private /run/netns.
    script = textwrap.dedent(f"""
        import os, sys
        from rawns import syscalls, netns
        uid, gid = os.getuid(), os.getgid()
        syscalls.unshare(syscalls.CLONE_NEWUSER)
        open("/proc/self/setgroups", "w").write("deny")
        open("/proc/self/uid_map", "w").write(f"0 {{uid}} 1")
        open("/proc/self/gid_map", "w").write(f"0 {{gid}} 1")
        syscalls.unshare(syscalls.CLONE_NEWNS | syscalls.CLONE_NEWNET)
        syscalls.mount("", "/", "none", syscalls.MS_PRIVATE | syscalls.MS_REC)
        syscalls.mount("tmpfs", "/run", "tmpfs", 0)
        with open("/proc/sys/user/max_net_namespaces", "w") as f:
            f.write("5")
        names = ["{prefix}lim%d" % i for i in range(10)]
        try:
            netns.add_many(names)
        except OSError as err:
            left = os.listdir("/run/netns")
            print("ERR", err.errno, err, "LEFT", left)
            sys.exit(0)
        sys.exit("limit not hit")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    if "Operation not permitted" in result.stderr and "uid_map" in result.stderr:
        pytest.fail("user namespaces unavailable: " + result.stderr)
    assert result.returncode == 0, result.stderr
    assert "ERR 28" in result.stdout  # ENOSPC
    assert "from unshare" in result.stdout
    assert result.stdout.rstrip().endswith("LEFT []")


def test_open_many_makes_distinct_namespaces_without_names():
    home = thread_netns_inode()
    fds = netns.open_many(20)
    try:
        inodes = {os.fstat(fd).st_ino for fd in fds}
        assert len(inodes) == 20 and home not in inodes
        named = set()
        for name in netns.list():  # other processes' names may come and go meanwhile
            try:
                named.add(netns_inode(name))
            except FileNotFoundError:
                pass
        assert not inodes & named
        for fd in fds:
            assert os.get_inheritable(fd) is False
        with netns.enter(fds[3]):
            assert thread_netns_inode() == os.fstat(fds[3]).st_ino
    finally:
        for fd in fds:
            os.close(fd)
    assert thread_netns_inode() == home


# --- run (ip netns exec) ------------------------------------------------------

def test_run_sees_the_namespace_and_its_sysfs(prefix, tmp_path):
    name = prefix + "run"
    netns.add(name)
    out = tmp_path / "out"
    status = netns.run(name, ["sh", "-c", f"ls /sys/class/net > {out}"])
    assert status == 0
    assert out.read_text().split() == ["lo"]
    assert netns.run(name, ["sh", "-c", "exit 3"]) == 3
    with pytest.raises(FileNotFoundError) as info:
        netns.run(name, ["/nonexistent/program"])
    assert "/nonexistent/program" in str(info.value)
    assert netns.run(name, ["sh", "-c", "kill -TERM $$"]) == 128 + 15


def test_run_overlays_etc_netns(prefix, tmp_path):
    name = prefix + "etc"
    netns.add(name)
    etc_dir = os.path.join(netns.ETC_DIR, name)
    os.makedirs(etc_dir)
    try:
        with open(os.path.join(etc_dir, "hosts"), "w") as f:
            f.write("10.9.9.9 rawns-overlay-test\n")
        out = tmp_path / "hosts"
        assert netns.run(name, ["sh", "-c", f"cat /etc/hosts > {out}"]) == 0
        assert "rawns-overlay-test" in out.read_text()
    finally:
        os.unlink(os.path.join(etc_dir, "hosts"))
        os.rmdir(etc_dir)
    with open("/etc/hosts") as f:
        assert "rawns-overlay-test" not in f.read()


def test_run_takes_a_signal_that_lands_during_fork_after_it(prefix):
    """A handler that raises (as a face's Ctrl-C and SIGTERM do) does not run
    inside fork()'s at-fork hooks, where Python would drop its exception and
    print a traceback: the signal waits until the fork is over and raises
    from ``run``, and the child is still waited for."""
    name = prefix + "sig"
    netns.add(name)
    script = textwrap.dedent(f"""\
        import os, signal, sys
        from rawns import netns

        def interrupt(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)
        os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGTERM))
        try:
            netns.run({name!r}, ["true"])
        except KeyboardInterrupt:
            try:
                os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                sys.exit(0)  # interrupted, and the child was reaped
            sys.exit(2)
        sys.exit(1)
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(
                              os.path.abspath(netns.__file__)))})
    assert (done.returncode, done.stderr) == (0, "")


def test_run_missing_namespace_fails_in_the_caller(prefix):
    with pytest.raises(FileNotFoundError):
        netns.run(prefix + "nope", ["true"])


# --- leaks ----------------------------------------------------------------------

def test_no_fd_or_mount_leaks_over_many_cycles(prefix):
    netns.add(prefix + "warm")  # first call may set up /run/netns
    netns.delete(prefix + "warm")
    fds, mounts = fd_count(), own_mounts(prefix)
    for i in range(300):
        name = f"{prefix}{i}"
        netns.add(name)
        with netns.enter(name):
            pass
        netns.delete(name)
    netns.add(prefix + "keep")
    for _ in range(20):
        with pytest.raises(FileExistsError):
            netns.add(prefix + "keep")
        with pytest.raises(FileNotFoundError):
            netns.delete(prefix + "gone")
        with pytest.raises(netns.NotANetnsError):
            netns.open_fd("/proc/self/ns/mnt")
    netns.delete(prefix + "keep")
    assert fd_count() == fds
    assert own_mounts(prefix) == mounts


def test_identify_names_the_namespace_of_a_process(prefix):
    name = prefix + "id"
    netns.add(name)
    assert netns.identify(name) == [name]
    assert name not in netns.identify(pid=os.getpid())
    sleeper = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "30"])
    try:
        for _ in range(100):
            if netns.identify(pid=sleeper.pid) == [name]:
                break
            threading.Event().wait(0.02)
        assert netns.identify(pid=sleeper.pid) == [name]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_visiting_steps_through_namespaces_and_always_returns(prefix):
    names = [prefix + f"v{i}" for i in range(3)]
    netns.add_many(names)
    home = thread_netns_inode()
    fds = [netns.open_fd(n) for n in names]
    try:
        with netns.visiting() as go:
            for name, fd in zip(names, fds):
                go(fd)
                assert thread_netns_inode() == netns_inode(name)
        assert thread_netns_inode() == home
        with pytest.raises(KeyboardInterrupt):
            with netns.visiting() as go:
                go(fds[0])
                raise KeyboardInterrupt
        assert thread_netns_inode() == home
    finally:
        for fd in fds:
            os.close(fd)


# --- ids given to named namespaces ---------------------------------------------------

def test_nsids_and_nsid_names_are_what_ip_netns_list_shows(ns):
    from rawns import Handle

    a, b, c = ns(), ns(), ns()
    run_ip("-n", a, "netns", "set", b, "5")
    run_ip("-n", a, "netns", "set", c, "9")
    shown = json.loads(run_ip("-n", a, "-j", "netns", "list").stdout)
    expected = {entry["name"]: entry["id"] for entry in shown if "id" in entry}
    with Handle(a) as handle:
        ids = netns.nsids(handle)
        assert ids == expected and {ids[b], ids[c]} == {5, 9}
        assert netns.nsids(handle, [b, a]) == {b: 5}  # a gives itself no id here
        assert netns.nsid_names(handle) == {5: b, 9: c}
        assert netns.nsid_names(handle, [c]) == {9: c}
