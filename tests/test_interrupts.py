"""Ctrl-C and SIGTERM against the calls that make many things: whatever lands
when, nothing is left behind, and the library installs no signal handler.

Each check runs in a child process (a signal, and a thread left running by a
bug, must not reach the test runner) and looks at ``/run/netns`` afterwards.
The randomized ones, many runs with random signal timing, are marked slow:
``.ci/run`` runs them with everything else; ``-m 'not slow'`` skips them.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import rawns

from conftest import RUN_DIR

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def leftovers(prefix: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(RUN_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def run_child(script: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=timeout)


# The child: makes NAMES with WHAT, has its main thread interrupted by a
# worker (progress) or a timer at a chosen moment, then waits a while so that
# a worker a bug left running can finish making what it was making.
ADD_MANY_CHILD = """
    import os, signal, sys, threading, time
    from rawns import netns
    names = [f"{prefix}{{i}}" for i in range({count})]
    main = threading.main_thread().ident
    home = os.stat("/proc/thread-self/ns/net").st_ino
    sent = []

    def progress(done, total):
        if done >= {after} and not sent:
            sent.append(done)
            signal.pthread_kill(main, signal.SIGINT)

    try:
        netns.add_many(names, threads={threads}, progress=progress)
        print("COMPLETED")
    except KeyboardInterrupt:
        print("INTERRUPTED")
    time.sleep(0.5)
    print("LEFT", len([n for n in os.listdir("/run/netns") if n.startswith("{prefix}")]))
    print("THREAD HOME", os.stat("/proc/thread-self/ns/net").st_ino == home)
"""


@needs_root
@pytest.mark.parametrize("threads", [2, 3])
def test_add_many_in_threads_interrupted_while_the_workers_run(prefix, threads):
    # The interrupt reaches the caller's thread while it waits for workers
    # that are inside their C loops: a Thread.join() interrupted there can
    # mark a running thread stopped (CPython), and a rollback that trusts it
    # misses that worker's chunk.
    for run in range(3):
        own = f"{prefix}{run}-"
        result = run_child(ADD_MANY_CHILD.format(prefix=own, count=900, after=64,
                                                 threads=threads))
        assert result.returncode == 0, result.stderr
        assert "INTERRUPTED" in result.stdout, result.stdout
        assert "LEFT 0" in result.stdout, result.stdout
        assert "THREAD HOME True" in result.stdout
        assert leftovers(own) == []


BATCH_CHILD = """
    import os, signal, sys, threading, time
    from rawns import Batch
    main = threading.main_thread().ident
    armed = []

    def progress(phase, done, total):
        # the interrupt is timed from the start of the namespaces' phase, not
        # from the start of the script: a faster Batch would otherwise finish first
        if phase == "namespaces" and not armed:
            armed.append(threading.Timer({delay}, signal.pthread_kill, (main, signal.SIGINT)))
            armed[0].start()

    batch = Batch(threads={threads}, progress=progress)
    for i in range({count}):
        batch.netns_add(f"{prefix}{{i}}")
        batch.link_set("lo", up=True, netns=f"{prefix}{{i}}")
    try:
        batch.commit()
        print("COMPLETED")
    except KeyboardInterrupt:
        print("INTERRUPTED")
    time.sleep(0.5)
    print("LEFT", len([n for n in os.listdir("/run/netns") if n.startswith("{prefix}")]))
"""


@needs_root
@pytest.mark.parametrize("threads", [1, 2])
def test_batch_interrupted_while_making_its_namespaces(prefix, threads):
    """threads=1: namespaces made by a C loop in a helper thread while the
    caller encodes; threads=2: by add_many's workers."""
    for run, delay in enumerate((0.01, 0.05, 0.1)):
        own = f"{prefix}{run}-"
        result = run_child(BATCH_CHILD.format(prefix=own, count=1500, delay=delay,
                                              threads=threads))
        assert result.returncode == 0, result.stderr
        assert "INTERRUPTED" in result.stdout, result.stdout
        assert "LEFT 0" in result.stdout, result.stdout
        assert leftovers(own) == []


# --- the library installs no signal handler ---------------------------------------------

NO_HANDLERS_CHILD = """
    import signal, threading
    before = {{s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE,
                                              signal.SIGHUP, signal.SIGALRM)}}
    import rawns
    from rawns import Batch, Handle, netns, read_many
    names = [f"{prefix}{{i}}" for i in range(40)]
    netns.add_many(names, threads=2)
    b = Batch(threads=2)
    b.netns_add("{prefix}b")
    b.commit()
    read_many(names)
    with Handle(names[0]) as h, h.monitor(["link"]) as m:
        h.link_add_bridge("br0")
        h.link_wait("lo", running=False, timeout=1)
    with netns.enter(names[1]):
        pass
    netns.delete_many(names + ["{prefix}b"])
    after = {{s: signal.getsignal(s) for s in before}}
    print("SAME" if after == before else f"CHANGED {{before}} {{after}}")
"""


@needs_root
def test_the_library_installs_no_signal_handler(prefix):
    result = run_child(NO_HANDLERS_CHILD.format(prefix=prefix))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "SAME"


#: Where a module may set signal handlers: the faces (commands), never the library.
FACES = ("cli/", "cni/", "demo.py", "__main__.py")


def test_only_faces_touch_signal_handlers():
    # The package under test, wherever it is installed (the CI runs the suite
    # against an installed wheel too, with no rawns/ beside the tests).
    package = os.path.dirname(os.path.abspath(rawns.__file__))
    touching = []
    for folder, _, files in os.walk(package):
        for file in files:
            path = os.path.join(folder, file)
            if file.endswith(".py") and "signal.signal(" in open(path).read():
                touching.append(os.path.relpath(path, package))
    assert "cli/interrupts.py" in touching
    assert [path for path in touching if not path.startswith(FACES)] == []


# --- after SIGKILL: what is left, and how a caller recovers ---------------------------

KILLED_CHILD = """
    from rawns import netns
    netns.add_many([f"{prefix}{{i}}" for i in range({count})], threads={threads})
"""


def kill_during_add_many(prefix: str, count: int, threads: int, delay: float) -> None:
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(
        KILLED_CHILD.format(prefix=prefix, count=count, threads=threads))])
    time.sleep(delay)
    child.kill()
    child.wait()


@needs_root
def test_after_sigkill_delete_many_with_missing_ok_removes_what_is_left(prefix):
    # SIGKILL cannot be caught: what add_many had made stays, possibly with a
    # file at the name being made that is not a mount. The README's recovery:
    # delete the same names with missing_ok, which removes both kinds.
    from rawns import netns

    kill_during_add_many(prefix, 3000, 2, 0.6)
    left = leftovers(prefix)
    assert left, "killed before it made anything: the test proves nothing"
    netns.delete_many([f"{prefix}{i}" for i in range(3000)], missing_ok=True)
    assert leftovers(prefix) == []
    with open("/proc/self/mountinfo") as f:
        assert prefix not in f.read()


# --- the slow, randomized checks: many runs, random signal timing ----------------------

DEMO_NAMES = "rawns-demo-{pid}-"


def run_randomly(rng: random.Random, prefix: str, scenario: str) -> str:
    """One run of ``scenario`` with a random signal timing; returns what was
    left behind ('' if nothing), each time cleaned up."""
    from rawns import netns

    if scenario in ("add_many", "batch"):
        script = (ADD_MANY_TIMED_CHILD if scenario == "add_many" else BATCH_CHILD).format(
            prefix=prefix, count=1500, threads=rng.choice((1, 2)), delay=rng.uniform(0.0, 1.0))
        result = run_child(script)
        if "COMPLETED" in result.stdout:  # the signal came too late: all made, as asked
            netns.delete_many([n for n in leftovers(prefix)])
            return ""
        left = leftovers(prefix) + ([f"status {result.returncode}: {result.stderr[-300:]}"]
                                    if result.returncode else [])
    elif scenario == "demo":
        sig = rng.choice((signal.SIGINT, signal.SIGTERM))
        proc = subprocess.Popen([sys.executable, "-m", "rawns", "demo"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.15, 1.2))
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        left = leftovers(DEMO_NAMES.format(pid=proc.pid))
        # -sig: the signal came before the demo took it over (Python was
        # starting): it had made nothing yet, which ``left`` checks
        if proc.returncode == -sig:
            pass
        elif proc.returncode not in (0, 130) or "Traceback" in err or "could not" in err:
            left.append(f"{sig.name}: status {proc.returncode}: {err[-300:]}")
        elif proc.returncode == 0 and "3/3 replies" not in out:  # it ran to its end
            left.append("a run that finished lost an echo")
        for name in leftovers(DEMO_NAMES.format(pid=proc.pid)):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    else:  # SIGKILL, then the documented recovery
        kill_during_add_many(prefix, 1500, rng.choice((1, 2)), rng.uniform(0.1, 0.8))
        netns.delete_many([f"{prefix}{i}" for i in range(1500)], missing_ok=True)
        left = leftovers(prefix)
    for name in leftovers(prefix):
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    return " ".join(left)


ADD_MANY_TIMED_CHILD = """
    import os, signal, threading, time
    from rawns import netns
    main = threading.main_thread().ident
    threading.Timer({delay}, signal.pthread_kill, (main, signal.SIGINT)).start()
    try:
        netns.add_many([f"{prefix}{{i}}" for i in range({count})], threads={threads})
        print("COMPLETED")
    except KeyboardInterrupt:
        print("INTERRUPTED")
    time.sleep(0.3)
"""


@needs_root
@pytest.mark.slow
def test_random_signal_timing_leaves_nothing_behind(prefix):
    """add_many and Batch in threads (SIGINT), the demo (SIGINT or SIGTERM,
    at any moment, cleanup included) and SIGKILL then recovery: round after
    round for about a minute, each run with a random signal timing."""
    seed = int(os.environ.get("RAWNS_SIGNAL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    scenarios = ["add_many", "batch", "demo", "sigkill"]
    failures, runs = [], 0
    deadline = time.monotonic() + 55
    while time.monotonic() < deadline or runs < 8:
        scenario = scenarios[runs % len(scenarios)]
        left = run_randomly(rng, f"{prefix}{runs}-", scenario)
        if left:
            failures.append(f"run {runs} ({scenario}): {left}")
        runs += 1
    assert not failures, f"seed {seed}: " + "; ".join(failures)


# --- exec of a str: CPython's sticky "ended by Ctrl-C" ------------------------------

EXEC_STR_CHILD = """
    import signal, sys, threading
    threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident,
                                               signal.SIGINT)).start()
    source = "import time\\nfor _ in range(500): time.sleep(0.01)\\n"
    try:
        exec({how})
    except KeyboardInterrupt:
        pass
    sys.exit(130)
"""


def test_a_keyboard_interrupt_through_exec_of_a_str_ends_the_process_by_sigint(tmp_path):
    """Why rawns never execs a str: CPython marks the process as ended by
    Ctrl-C when a KeyboardInterrupt passes through exec(str), even if it is
    caught, and exits by SIGINT (-2) instead of the status the command chose
    (130). A lazy import that builds a record class while Ctrl-C lands did
    just that to ``rawns up`` (test_sigterm_during_up_leaves_nothing)."""
    codes = {}
    package = tmp_path / "execchild"
    package.mkdir()
    for how in ("source", "compile(source, 'x', 'exec')"):
        # run as ``python -m``, as ``python -m rawns``: the flag is read on
        # the way out of Py_RunMain, which a script's sys.exit skips
        (package / "__main__.py").write_text(textwrap.dedent(EXEC_STR_CHILD.format(how=how)))
        codes[how] = subprocess.run([sys.executable, "-m", "execchild"], cwd=tmp_path,
                                    timeout=60).returncode
    assert codes == {"source": -signal.SIGINT, "compile(source, 'x', 'exec')": 130}


def test_rawns_execs_only_code_objects():
    """Every exec in the package runs a code object made by compile()."""
    import ast
    from pathlib import Path

    offenders = []
    for path in Path(rawns.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        compiled = {node.targets[0].id for node in ast.walk(tree)
                    if isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "compile"}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("exec", "eval")):
                first = node.args[0]
                if isinstance(first, ast.Call) and getattr(first.func, "id", None) == "compile":
                    continue
                if isinstance(first, ast.Name) and first.id in compiled:
                    continue
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
