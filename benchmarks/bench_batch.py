"""``rawns -batch FILE`` on a W2-shaped file against ``ip -batch`` and ``rawns.Batch``.

    python benchmarks/bench_batch.py [-n 500] [--rounds 2] [--python V/bin/python]
                                     [--baseline OTHER_CHECKOUT]

The file makes N pods, one line per step, any line naming its namespace with
``-n``: ``netns add POD``; ``-n HOST link add vhI up type veth peer name eth0
netns POD``; ``-n POD addr add 10.0.x.y/16 dev eth0``; ``-n POD link set eth0
up``; ``-n POD link set lo up``. The same work is timed three more ways:

- ``ip-batch``: iproute2 as the W2 benchmark runs it, ``ip -batch`` of the
  ``netns add`` lines, ``ip -n HOST -batch`` of the veth lines, then one ``ip -n
  POD -batch`` per pod (an ip batch line cannot take ``-n``);
- ``python-batch``: a Python process that imports rawns and makes the same
  ``rawns.Batch`` (its start-up counted, as the CLI's is);
- ``batch-inside``: that process's own clock around ``Batch`` alone;
- ``rawns-inside``: the same for the command line, from the same runs as
  ``rawns -batch``: that process is ``python -c`` importing ``rawns.cli`` (and
  the modules ``-batch`` loads) and then timing ``rawns.cli.main(["-batch",
  FILE])`` on its own clock, the code ``python -m rawns -batch FILE`` runs
  (``rawns/__main__.py``: those lines, and ``gc.freeze()`` before the exit
  where the checkout's entry point does it): what the ``-batch`` runner
  costs in-process (reading, planning, the Batch), start-up left out;
- ``baseline -batch`` (``--baseline DIR``): ``rawns -batch`` of another
  checkout, in the same runs (before and after, side by side).

Each rawns peer also reports the wall-clock split of its whole run: the
interpreter until the script's first line (``start``: the interpreter and
``site``), the imports, the work (``inside``), and from the work's end until
the process was reaped (``exit``). ``--python`` runs the rawns peers with
another interpreter: a venv's (``python -m venv V; V/bin/pip install cffi``)
has none of the ``.pth`` files this machine's interpreter runs at start-up
(an editable install's finder, a CA bundle hook: ~45-80 ms per process here,
against ~15-20 ms for a bare start), as a user's installed rawns would not.

Start-up (the interpreter and the imports) is counted in ``rawns -batch`` and
``python-batch`` and left out of the two ``-inside`` figures: compare each
with its kind. The children run with the bytecode cache on, warmed once before
the first run (a shell that sets PYTHONDONTWRITEBYTECODE, as this project's
does, would otherwise have every run compile rawns from source, which an
installed package never does).

``--plan-only`` leaves the kernel out: in this process, A B B A, it times
reading and planning the file (``rawns.cli.batch.fast_batch``, what ``rawns
-batch`` does before ``commit``; and the general reader, ``read_lines`` then
``fast_plan``) against a Python loop making the same ``rawns.Batch``.

Each run starts from nothing with the run's prefix and waits for the kernel to
free the previous run's namespaces; the host namespace is made before the
clock starts and everything is removed after it stops. Peers run A B B A;
the medians are printed with their ratio to ``rawns -batch``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))  # the checkout's rawns

from rawns import netns  # noqa: E402
sys.path.insert(0, str(CHECKOUT / "benchmarks"))
from harness.kernel import netns_objects, wait_for_kernel  # noqa: E402

ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(CHECKOUT)


def pods(prefix: str, n: int) -> list[tuple[str, str, str]]:
    """(namespace, host end, address/prefix) of each pod, numbered as W2's."""
    out = []
    for i in range(n):
        host = 0x0A000000 + 2 + i
        address = ".".join(str((host >> s) & 255) for s in (24, 16, 8, 0))
        out.append((f"{prefix}p{i}", f"vh{i}", f"{address}/16"))
    return out


def batch_file(host: str, items: list[tuple[str, str, str]]) -> str:
    lines = []
    for pod, vh, address in items:
        lines += [f"netns add {pod}",
                  f"-n {host} link add {vh} up type veth peer name eth0 netns {pod}",
                  f"-n {pod} addr add {address} dev eth0",
                  f"-n {pod} link set eth0 up",
                  f"-n {pod} link set lo up"]
    return "\n".join(lines) + "\n"


PYTHON_BATCH = """
import sys, time
begun = time.time()
items = [line.split() for line in sys.stdin.read().splitlines()]
host = sys.argv[1]
from rawns import Batch
import rawns.batch
imported = time.time()
started = time.perf_counter()
with Batch() as batch:
    for pod, vh, address in items:
        batch.netns_add(pod)
        batch.veth(vh, "eth0", netns=host, peer_netns=pod, up=True, peer_up=False)
        batch.addr_add("eth0", address, netns=pod)
        batch.link_set("eth0", up=True, netns=pod)
        batch.link_set("lo", up=True, netns=pod)
print(time.perf_counter() - started, begun, imported, time.time())
"""


RAWNS_BATCH = """
import sys, time
begun = time.time()
from rawns.cli import main
import rawns.batch, rawns.cli.batch
imported = time.time()
started = time.perf_counter()
status = main(["-batch", sys.argv[1]])
print(time.perf_counter() - started, begun, imported, time.time())
import gc, os, rawns
with open(os.path.join(os.path.dirname(rawns.__file__), "__main__.py")) as entry:
    if "gc.freeze()" in entry.read():
        gc.freeze()  # as this checkout's python -m rawns (and scripts/rawns) does
raise SystemExit(status)
"""

#: The interpreter of the two rawns peers (``--python``).
PYTHON = sys.executable


def run(argv: list[str], stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    # cwd "/": ``python -c`` puts the working directory first on sys.path, and
    # run from a checkout it would import that checkout's rawns, not PYTHONPATH's
    result = subprocess.run(argv, input=stdin, text=True, capture_output=True,
                            env=ENV if env is None else env, cwd="/")
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}: {result.stderr.strip()[:400]}")
    return result.stdout


def _split(name: str, launched: float, ended: float, whole: float, output: str
           ) -> dict[str, float]:
    """The whole run, its in-process figure, and the wall-clock split of the
    rest: the interpreter until the script's first line (``-start``), the
    imports (``-imports``), and from the work's end until the process was
    reaped (``-exit``)."""
    inside, begun, imported, done = (float(x) for x in output.split())
    return {name: whole, f"{name}:inside": inside, f"{name}:start": begun - launched,
            f"{name}:imports": imported - begun, f"{name}:exit": ended - done}


def peer_rawns_batch(host: str, items: list, path: str) -> dict[str, float]:
    launched, started = time.time(), time.perf_counter()
    output = run([PYTHON, "-c", RAWNS_BATCH, path])
    whole, ended = time.perf_counter() - started, time.time()
    return _split("rawns -batch", launched, ended, whole, output)


#: ``--baseline DIR``: another checkout whose ``rawns -batch`` runs beside this one's.
BASELINE: str | None = None


def peer_baseline_batch(host: str, items: list, path: str) -> dict[str, float]:
    launched, started = time.time(), time.perf_counter()
    output = run([PYTHON, "-c", RAWNS_BATCH, path], env={**ENV, "PYTHONPATH": str(BASELINE)})
    whole, ended = time.perf_counter() - started, time.time()
    return _split("baseline -batch", launched, ended, whole, output)


def peer_python_batch(host: str, items: list, path: str) -> dict[str, float]:
    text = "".join(" ".join(item) + "\n" for item in items)
    launched, started = time.time(), time.perf_counter()
    output = run([PYTHON, "-c", PYTHON_BATCH, host], text)
    whole, ended = time.perf_counter() - started, time.time()
    return _split("python-batch", launched, ended, whole, output)


def peer_ip_batch(host: str, items: list, path: str) -> dict[str, float]:
    started = time.perf_counter()
    run(["ip", "-batch", "-"], "".join(f"netns add {pod}\n" for pod, _, _ in items))
    run(["ip", "-n", host, "-batch", "-"],
        "".join(f"link add {vh} up type veth peer name eth0 netns {pod}\n"
                for pod, vh, _ in items))
    for pod, _, address in items:
        run(["ip", "-n", pod, "-batch", "-"],
            f"addr add {address} dev eth0\nlink set eth0 up\nlink set lo up\n")
    return {"ip-batch": time.perf_counter() - started}


PEERS = {"rawns -batch": peer_rawns_batch, "python-batch": peer_python_batch,
         "ip-batch": peer_ip_batch}


def settle(seconds: float, baseline: int | None, n: int) -> None:
    """Let the kernel finish freeing the last run's namespaces (``wait_for_kernel``:
    its netns work idle and the ``struct net`` count back to ``baseline``, with
    the slack bench.py allows), then ``seconds`` more: the peer that follows
    ip's many processes must not pay for their cleanup."""
    wait_for_kernel(None if baseline is None else baseline + 8 + n // 100)
    time.sleep(seconds)


def plan_only(n: int, rounds: int) -> int:
    """Reading and planning the file against building the same Batch, no kernel."""
    from rawns import Batch
    from rawns.cli.batch import Line, fast_batch, fast_plan, read_lines
    from rawns.cli.grammar import Options

    host = "rnsbbplan-host"
    items = pods("rnsbbplan-", n)
    text = batch_file(host, items)

    def python_batch() -> object:
        batch = Batch()
        for pod, vh, address in items:
            batch.netns_add(pod)
            batch.veth(vh, "eth0", netns=host, peer_netns=pod, up=True, peer_up=False)
            batch.addr_add("eth0", address, netns=pod)
            batch.link_set("eth0", up=True, netns=pod)
            batch.link_set("lo", up=True, netns=pod)
        return batch

    def one_pass() -> object:
        return fast_batch(text, Options())

    def general() -> object:
        return fast_plan([line for line in read_lines(text, Options())
                          if isinstance(line, Line)])

    peers = {"python-batch": python_batch, "fast_batch": one_pass, "general": general}
    made = {name: peer() for name, peer in peers.items()}
    assert len({tuple(b.ops) for b in made.values()}) == 1  # type: ignore[attr-defined]
    times: dict[str, list[float]] = {}
    order = list(peers) + list(reversed(peers))
    for _ in range(rounds * 5):
        for name in order:
            started = time.perf_counter()
            peers[name]()
            times.setdefault(name, []).append(time.perf_counter() - started)
    base = statistics.median(times["python-batch"])
    print(f"planning a W2-shaped file of N={n} pods ({5 * n} lines), no kernel; median of "
          f"{len(times['python-batch'])} runs each, A B B A")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:14} {median * 1000:9.2f} ms {median / n * 1e6:8.1f} us/pod "
              f"{median / base:6.2f}x")
    return 0


def imports_only(runs: int) -> int:
    """What -batch's start-up costs without its work: ``python -c pass``, and the
    imports of ``rawns -batch`` for this checkout (and ``--baseline``'s), each
    a fresh process, A B B A; wall clock and CPU (user + system) medians."""
    code = "from rawns.cli import main; import rawns.batch, rawns.cli.batch"
    peers = {"python -c pass": ("pass", ENV),
             "imports of -batch": (code, ENV)}
    if BASELINE:
        peers["imports, baseline"] = (code, {**ENV, "PYTHONPATH": BASELINE})
    for _, env in peers.values():
        run([PYTHON, "-c", code], env=env)  # bytecode written once
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    order = list(peers) + list(reversed(peers))
    for _ in range(runs):
        for name in order:
            source, env = peers[name]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            run([PYTHON, "-c", source], env=env)
            wall.setdefault(name, []).append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.setdefault(name, []).append(after.ru_utime - before.ru_utime
                                            + after.ru_stime - before.ru_stime)
    print(f"start-up of -batch without its work, {PYTHON}; median of {2 * runs} runs each")
    print(f"{'':22} {'wall ms':>8} {'CPU ms':>8}")
    for name in peers:
        print(f"{name:22} {statistics.median(wall[name]) * 1000:8.1f} "
              f"{statistics.median(cpu[name]) * 1000:8.1f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="pods (default 500)")
    parser.add_argument("--rounds", type=int, default=2, help="A B B A rounds")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds between runs, once the kernel has freed the last's")
    parser.add_argument("--plan-only", action="store_true",
                        help="time reading and planning only, no kernel (see above)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter of the rawns peers (default: this one); e.g. a "
                             "venv's, whose start-up has none of this machine's .pth files")
    parser.add_argument("--baseline", metavar="DIR",
                        help="another checkout (with its built extension): its rawns -batch "
                             "runs as one more peer, side by side (before/after)")
    parser.add_argument("--imports-only", action="store_true",
                        help="time start-up alone: python -c pass, and -batch's imports "
                             "(this checkout's and --baseline's), --rounds x 10 runs each")
    args = parser.parse_args(argv)
    global PYTHON, BASELINE
    PYTHON = args.python
    if args.baseline:
        BASELINE = args.baseline
        # beside rawns -batch, away from ip-batch (whose namespaces the kernel
        # is still freeing when the next peer starts)
        peers = list(PEERS.items())
        PEERS.clear()
        PEERS.update([peers[0], ("baseline -batch", peer_baseline_batch), *peers[1:]])
    if args.plan_only:
        return plan_only(args.n, args.rounds)
    if args.imports_only:
        return imports_only(args.rounds * 10)
    prefix = f"rnsbb{os.getpid()}-"
    host = prefix + "host"
    items = pods(prefix, args.n)
    order = list(PEERS) + list(reversed(PEERS))
    times: dict[str, list[float]] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False) as handle:
        handle.write(batch_file(host, items))
        path = handle.name
    baseline = netns_objects()
    # compile rawns's bytecode once, outside the clock (see the module docstring)
    run([PYTHON, "-c", "import rawns.batch, rawns.cli.batch, rawns.cli.dispatch"])
    if BASELINE:
        run([PYTHON, "-c", "import rawns.batch, rawns.cli.batch, rawns.cli.dispatch"],
            env={**ENV, "PYTHONPATH": BASELINE})
    try:
        for _ in range(args.rounds):
            for peer in order:
                settle(args.settle, baseline, args.n)
                netns.add(host)
                try:
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    for key, value in PEERS[peer](host, items, path).items():
                        times.setdefault(key, []).append(value)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    times.setdefault(f"{peer}:cpu", []).append(
                        after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                finally:
                    netns.delete_many([pod for pod, _, _ in items], missing_ok=True)
                    netns.delete(host)
                print(f"{peer}: {times[peer][-1] * 1000:.0f} ms", file=sys.stderr)
    finally:
        os.unlink(path)
    base = statistics.median(times["rawns -batch"])
    print(f"W2-shaped batch file, N={args.n} pods ({5 * args.n} lines); median of "
          f"{len(times['rawns -batch'])} runs each, A B B A; rawns peers run by {PYTHON}")
    print(f"{'peer':22} {'total ms':>9} {'us/pod':>8} {'ratio':>7} {'CPU ms':>8} {'ratio':>7}")
    medians = {peer: statistics.median(values) for peer, values in times.items()}
    cpu_base = medians["rawns -batch:cpu"]
    for peer, median in medians.items():
        if ":" not in peer:
            cpu = medians[f"{peer}:cpu"]
            print(f"{peer:22} {median * 1000:9.1f} {median / args.n * 1e6:8.0f} "
                  f"{median / base:6.2f}x {cpu * 1000:8.1f} {cpu / cpu_base:6.2f}x")
    print("(CPU: user + system time of the peer's processes, getrusage of the children;"
          " the kernel's own threads are not in it)")
    print("wall-clock split, medians ms: start (interpreter and site) + imports + "
          "inside (the work) + exit")
    for peer in [p for p in PEERS if p != "ip-batch"]:
        parts = [medians[f"{peer}:{part}"] * 1000
                 for part in ("start", "imports", "inside", "exit")]
        print(f"{peer:22} " + " + ".join(f"{part:.1f}" for part in parts))
    medians["rawns-inside"] = medians["rawns -batch:inside"]
    medians["batch-inside"] = medians["python-batch:inside"]
    print(f"whole command: ip-batch / rawns -batch = "
          f"{medians['ip-batch'] / medians['rawns -batch']:.2f} (target >= 4); "
          f"rawns -batch / python-batch = "
          f"{medians['rawns -batch'] / medians['python-batch']:.2f} (target <= 1.3)")
    if BASELINE:
        print(f"baseline ({BASELINE}): ip-batch / baseline -batch = "
              f"{medians['ip-batch'] / medians['baseline -batch']:.2f}; "
              f"baseline -batch / rawns -batch = "
              f"{medians['baseline -batch'] / medians['rawns -batch']:.2f}")
    print(f"in-process: rawns-inside / batch-inside = "
          f"{medians['rawns-inside'] / medians['batch-inside']:.2f}; "
          f"ip-batch / rawns-inside = {medians['ip-batch'] / medians['rawns-inside']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
