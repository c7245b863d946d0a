"""ADD and DEL latency per pod of rawns-cni against the reference CNI plugins, as a runtime sees it.

    python benchmarks/bench_cni.py [-n 50] [--rounds 2] [--json FILE]

A runtime execs the plugin once per pod, so every ADD and every DEL here is a
fresh process, given the CNI environment variables and the network config on
stdin, and timed from spawn to exit. Peers, in one run, in A B B A order
(the second round runs them in reverse):

- ``ref-ptp`` and ``ref-bridge``: Debian's containernetworking-plugins
  (``/usr/lib/cni``), each exec'ing ``host-local`` for IPAM;
- ``rawns-ptp`` and ``rawns-bridge``: ``python -m rawns.cni`` (what the
  ``rawns-cni`` script runs), host-local in-process;
- ``python -c pass``: the interpreter's own start-up under the same
  conditions, the floor under any Python plugin; ``python -S -c pass`` the
  same without ``site`` (the .pth files of the installed packages);
- ``imports-ptp``: a fresh interpreter importing what a ptp ADD imports,
  and doing nothing else: the library's share of the start-up;
- ``rawns-inproc-ptp``: the same ADD and DEL as ``rawns-ptp`` called in this
  process (``rawns.cni.main.main``), modules already loaded: the work itself,
  without start-up.

Every plugin runs inside a namespace made for the benchmark that stands for
the host (the benchmark's thread enters it and the children inherit it); each
pod has its own namespace. Nothing reaches the machine's own namespace.
Prints the median per peer and its ratio to ``ref-ptp``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's rawns

from rawns import Handle, netns  # noqa: E402

REFERENCE_DIR = "/usr/lib/cni"
PEERS = ["ref-ptp", "rawns-ptp", "ref-bridge", "rawns-bridge", "python -c pass",
         "python -S -c pass", "imports-ptp", "rawns-inproc-ptp"]
#: What ``imports-ptp`` loads: the modules of a ptp ADD, doing nothing with them.
PTP_MODULES = "import rawns.cni.main, rawns.cni.config, rawns.cni.ipam, rawns.cni.ptp"
#: Peers that only start (and import), making nothing.
NO_WORK = ("python -c pass", "python -S -c pass", "imports-ptp")


def config(peer: str, data_dir: str) -> dict[str, Any]:
    bridge = "bridge" in peer
    conf: dict[str, Any] = {
        "cniVersion": "1.0.0", "name": "benchnet",
        "type": ("bridge" if bridge else "ptp") if peer.startswith("ref") else "rawns",
        "ipam": {"type": "host-local", "subnet": "10.124.0.0/16" if bridge else "10.123.0.0/16",
                 "routes": [{"dst": "0.0.0.0/0"}], "dataDir": data_dir},
    }
    if not peer.startswith("ref"):
        conf["mode"] = "bridge" if bridge else "ptp"
    if bridge:
        conf.update(bridge="cnibench0", isGateway=True)
    return conf


def argv_of(peer: str) -> list[str]:
    if peer.startswith("ref-"):
        return [os.path.join(REFERENCE_DIR, peer.removeprefix("ref-"))]
    if peer == "python -c pass":
        return [sys.executable, "-c", "pass"]
    if peer == "python -S -c pass":
        return [sys.executable, "-S", "-c", "pass"]
    if peer == "imports-ptp":
        return [sys.executable, "-c", PTP_MODULES]
    return [sys.executable, "-m", "rawns.cni"]


def environment(command: str, pod: str, index: int) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO),
            "CNI_COMMAND": command, "CNI_CONTAINERID": f"bench-{index}",
            "CNI_NETNS": f"/run/netns/{pod}", "CNI_IFNAME": "eth0",
            "CNI_PATH": REFERENCE_DIR}


def exec_once(argv: list[str], env: dict[str, str], data: bytes) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, input=data, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stdout!r} {done.stderr!r}")
    return elapsed


def in_process(env: dict[str, str], data: bytes) -> float:
    from rawns.cni import main as plugin

    out = io.StringIO()
    started = time.perf_counter()
    status = plugin.main(env, io.BytesIO(data), out)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"in-process plugin failed: {out.getvalue()}")
    return elapsed


def run_peer(peer: str, host: str, pods: list[str], work: str
             ) -> tuple[list[float], list[float]]:
    """ADD every pod, then DEL every pod; the time of each, in seconds."""
    data_dir = os.path.join(work, peer.replace(" ", "_"))
    data = json.dumps(config(peer, data_dir)).encode()
    call: Callable[[dict[str, str], bytes], float]
    if peer == "rawns-inproc-ptp":
        call = in_process
    else:
        argv = argv_of(peer)

        def call(env: dict[str, str], data: bytes) -> float:
            return exec_once(argv, env, data)

    adds, dels = [], []
    with netns.enter(host):
        for i, pod in enumerate(pods):
            adds.append(call(environment("ADD", pod, i), data))
        if peer not in NO_WORK:
            check_made(host, pods, peer)
        for i, pod in enumerate(pods):
            dels.append(call(environment("DEL", pod, i), data))
        if "bridge" in peer:
            with Handle() as handle:  # each bridge peer starts on a bare host
                handle.link_delete("cnibench0")
    shutil.rmtree(data_dir, ignore_errors=True)
    return adds, dels


def check_made(host: str, pods: list[str], peer: str) -> None:
    """The pods were wired in the benchmark's host namespace (not elsewhere)."""
    with Handle(host) as handle:
        veths = [link for link in handle.link_list(kind="veth")]
    if len(veths) != len(pods):
        raise SystemExit(f"{peer}: {len(veths)} host veths for {len(pods)} pods")


def settle(seconds: float) -> None:
    time.sleep(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=50, help="pods per peer and round")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds; even ones run the peers in reverse (A B B A)")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated, of: {', '.join(PEERS)}")
    parser.add_argument("--json", help="write every timing to this file")
    args = parser.parse_args(argv)
    peers = args.peers.split(",")
    unknown = set(peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}")
    for peer in peers:
        if peer.startswith("ref-") and not os.access(argv_of(peer)[0], os.X_OK):
            parser.error(f"{argv_of(peer)[0]} is missing: apt-get install "
                         "containernetworking-plugins")
    prefix = f"rawns-bench-cni-{os.getpid()}-"
    host = prefix + "host"
    pods = [f"{prefix}p{i}" for i in range(args.n)]
    work = tempfile.mkdtemp(prefix="rawns-bench-cni-")
    timings: dict[str, dict[str, list[float]]] = {p: {"add": [], "del": []} for p in peers}
    netns.add_many([host, *pods])
    try:
        for round_ in range(args.rounds):
            order = peers if round_ % 2 == 0 else peers[::-1]
            for peer in order:
                adds, dels = run_peer(peer, host, pods, work)
                timings[peer]["add"] += adds
                timings[peer]["del"] += dels
                print(f"round {round_ + 1} {peer:18} ADD {statistics.median(adds) * 1e3:7.1f} ms"
                      f"  DEL {statistics.median(dels) * 1e3:7.1f} ms", file=sys.stderr)
                settle(0.5)
    finally:
        netns.delete_many([host, *pods], missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    base = {kind: statistics.median(timings.get("ref-ptp", {kind: [float("nan")]})[kind]
                                    or [float("nan")]) for kind in ("add", "del")}
    print(f"{args.n} pods x {args.rounds} rounds, medians in ms; ratio to ref-ptp")
    print(f"{'peer':20} {'ADD':>8} {'ratio':>6} {'DEL':>8} {'ratio':>6}")
    for peer in peers:
        add = statistics.median(timings[peer]["add"])
        delete = statistics.median(timings[peer]["del"])
        print(f"{peer:20} {add * 1e3:8.1f} {add / base['add']:6.2f} "
              f"{delete * 1e3:8.1f} {delete / base['del']:6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": args.n, "rounds": args.rounds, "python": sys.version,
                       "timings": timings}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
