#!/usr/bin/env python3
"""Topologies of N nodes (line, star, Clos) up: rawns.topology against ip -batch, A B B A.

    python benchmarks/bench_topology.py -n 1000 --runs 3        (as root; --help)

Each shape is a containerlab topology of ``-n`` linux nodes, every link a
veth with a /30 on each end (and containerlab's MTU 9500), every interface
and ``lo`` up:

- line: n0 - n1 - ... (N-1 links);
- star: one hub, N-1 leaves (N-1 links; the hub holds N-1 interfaces);
- clos: 4 spines, 16 leaves each linked to every spine, the other nodes
  hosts, each linked to one leaf (64 + N-20 links);
- pods: W2's shape, for the C reference's prices: each node linked to the
  host (``host:vhI``, in a namespace of ours standing for the host), its
  end addressed.

Peers, each run in turn (rotated A B B A), the kernel left to finish
freeing namespaces between runs (``harness.kernel.wait_for_kernel``):

- ``rawns``: ``rawns.topology.load(FILE).up()`` in a fresh Python process
  (imports excluded, reading the JSON file included), then ``down()``;
- ``batch``: the same operations written by hand as one ``rawns.Batch`` (what
  a program would do without topology files), in a fresh Python process: the
  cost of the topology layer is the difference;
- ``ip-batch``: as the issue asks, one ``ip -batch`` for the namespaces and
  links (``netns add``; ``link add A netns X mtu 9500 type veth peer name B
  netns Y mtu 9500``), then one ``ip -n NODE -batch`` per node for what goes
  inside it (``link set ... up``, ``addr add``); ``netns delete`` to finish;
- ``rawns@DIR``: as ``rawns``, with the rawns of another checkout ``DIR``
  (its own ``benchmarks/bench_topology.py`` worker): two versions side by side;
- ``c``: the C reference's W2 (``benchmarks/c/ref.c``) with N pods: what it
  pays per namespace, per veth pair and per pod's inside, to price the same
  topology ("C equivalent": namespaces x ns + links x veth + nodes x inside).

Prints, per shape, the median time to bring the topology up and down, the
ratio of each peer to rawns, and rawns against the C equivalent. Timings are
ratios measured side by side: never a pass/fail.

Invariants: nothing is made in the machine's root network namespace (the
topologies have no host links; C's W2 host is a namespace of ours); everything
named with this run's prefix is removed in a ``finally``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rawns, not an installed one

from harness.kernel import enter_private_tmpfs, fstype_of, machine, netns_objects, \
    sweep, wait_for_kernel  # noqa: E402
from harness.peers import build_reference, find_c_source, run_ip, run_json  # noqa: E402
from harness.report import order  # noqa: E402

__all__ = ["main", "topology", "SHAPES"]

SHAPES = ("line", "star", "clos", "pods")
PEERS = ("rawns", "batch", "ip-batch", "c")
_ENV_PRIVATE = "RAWNS_BENCH_PRIVATE_MNTNS"
_SPINES, _LEAVES = 4, 16


# -- the topologies ---------------------------------------------------------------------

def _pair(k: int) -> tuple[str, str]:
    """The two addresses of link ``k``: its own /30 in 10.0.0.0/8."""
    base = k * 4
    a, b, c = base >> 16 & 255, base >> 8 & 255, base & 255
    return f"10.{a}.{b}.{c + 1}/30", f"10.{a}.{b}.{c + 2}/30"


def topology(shape: str, n: int, prefix: str) -> dict[str, Any]:
    """The containerlab topology (as a dict) of ``shape`` with ``n`` nodes."""
    if shape == "line":
        names = [f"n{i}" for i in range(n)]
        ends = [(f"n{i}:east", f"n{i + 1}:west") for i in range(n - 1)]
    elif shape == "star":
        names = ["hub"] + [f"n{i}" for i in range(1, n)]
        ends = [(f"hub:e{i}", f"n{i}:eth0") for i in range(1, n)]
    elif shape == "clos":
        if n <= _SPINES + _LEAVES:
            raise ValueError(f"a Clos fabric here has more than {_SPINES + _LEAVES} nodes")
        spines = [f"s{i}" for i in range(_SPINES)]
        leaves = [f"l{i}" for i in range(_LEAVES)]
        hosts = [f"h{i}" for i in range(n - _SPINES - _LEAVES)]
        names = spines + leaves + hosts
        ends = [(f"{leaf}:up{j}", f"{spine}:down{i}")
                for i, leaf in enumerate(leaves) for j, spine in enumerate(spines)]
        ends += [(f"{leaves[i % _LEAVES]}:h{i}", f"{host}:eth0") for i, host in enumerate(hosts)]
    elif shape == "pods":
        names = [f"p{i}" for i in range(n)]
        links = [{"endpoints": [f"p{i}:eth0", f"host:vh{i}"], "ipv4": [_pair(i)[0], None]}
                 for i in range(n)]
        return {"name": shape, "prefix": prefix.rstrip("-"),
                "topology": {"nodes": {name: {"kind": "linux"} for name in names},
                             "links": links}}
    else:
        raise ValueError(f"unknown shape {shape!r}")
    links = [{"endpoints": list(pair), "ipv4": list(_pair(k))} for k, pair in enumerate(ends)]
    return {"name": shape, "prefix": prefix.rstrip("-"),
            "topology": {"nodes": {name: {"kind": "linux"} for name in names},
                         "links": links}}


def ip_commands(data: dict[str, Any], host: str) -> tuple[str, dict[str, str]]:
    """What ``ip`` is given for the topology: the one batch of namespaces and
    links, and each namespace's own batch (``host``'s too, for host links)."""
    prefix, lab = data["prefix"], data["name"]

    def netns(node: str) -> str:
        return host if node == "host" else f"{prefix}-{lab}-{node}"

    first = [f"netns add {netns(node)}\n" for node in data["topology"]["nodes"]]
    inside = {netns(node): ["link set lo up\n"] for node in data["topology"]["nodes"]}
    for link in data["topology"]["links"]:
        (na, ia), (nb, ib) = (end.split(":") for end in link["endpoints"])
        first.append(f"link add {ia} netns {netns(na)} mtu 9500 type veth peer name {ib} "
                     f"netns {netns(nb)} mtu 9500\n")
        for node, dev, address in ((na, ia, link["ipv4"][0]), (nb, ib, link["ipv4"][1])):
            lines = inside.setdefault(netns(node), [])
            lines.append(f"link set {dev} up\n")
            if address is not None:
                lines.append(f"addr add {address} dev {dev}\n")
    return "".join(first), {name: "".join(lines) for name, lines in inside.items()}


# -- the peers ---------------------------------------------------------------------------

def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_rawns(path: Path, host: str) -> dict[str, float]:
    """One run in a fresh Python process (imports excluded)."""
    return run_json([sys.executable, str(Path(__file__).resolve()), "--_worker", str(path),
                     "--host", host])


def _warm() -> None:
    """Import before the clock starts what a run uses, as the other benchmarks do."""
    import rawns.batch
    import rawns.fanout
    import rawns.handle
    import rawns.netlink.requests
    import rawns.topology.lab

    del rawns  # (only imported)


def _worker(path: str, host: str) -> dict[str, float]:
    _warm()
    from rawns import topology as rawns_topology

    lab: list[Any] = []
    up = _timed(lambda: lab.append(rawns_topology.load(path, host=host)) or lab[0].up())
    down = _timed(lab[0].down)
    return {"up": up, "down": down}


def run_other(tree: str, path: Path, host: str) -> dict[str, float]:
    """One run of another checkout's rawns (``rawns@DIR``), as ``run_rawns``."""
    worker = Path(tree).resolve() / "benchmarks" / "bench_topology.py"
    return run_json([sys.executable, str(worker), "--_worker", str(path), "--host", host])


def run_batch(path: Path, host: str) -> dict[str, float]:
    """One run of the hand-written Batch, in a fresh Python process."""
    return run_json([sys.executable, str(Path(__file__).resolve()), "--_worker", str(path),
                     "--host", host, "--batch"])


def _worker_batch(path: str, host: str) -> dict[str, float]:
    """The topology's operations as a program would write them on a Batch."""
    _warm()
    from rawns import netns
    from rawns.batch import Batch

    data = json.loads(Path(path).read_text())
    prefix, lab = data["prefix"], data["name"]

    def where(node: str) -> str:
        return host if node == "host" else f"{prefix}-{lab}-{node}"

    def up() -> None:
        with Batch() as batch:
            for node in data["topology"]["nodes"]:
                batch.netns_add(where(node))
                batch.link_set("lo", up=True, netns=where(node))
            for link in data["topology"]["links"]:
                (na, ia), (nb, ib) = (end.split(":") for end in link["endpoints"])
                batch.veth(ia, ib, netns=where(na), peer_netns=where(nb), mtu=9500)
                for node, dev, address in ((na, ia, link["ipv4"][0]), (nb, ib, link["ipv4"][1])):
                    if address is not None:
                        batch.addr_add(dev, address, netns=where(node))

    names = [where(node) for node in data["topology"]["nodes"]]
    return {"up": _timed(up), "down": _timed(lambda: netns.delete_many(names))}


def run_ip_batch(data: dict[str, Any], host: str) -> dict[str, float]:
    first, inside = ip_commands(data, host)  # made before the clock starts

    def up() -> None:
        run_ip(["-batch", "-"], first)
        for name, text in inside.items():
            run_ip(["-n", name, "-batch", "-"], text)

    names = [name for name in inside if name != host]
    return {"up": _timed(up),
            "down": _timed(lambda: run_ip(["-batch", "-"],
                                          "".join(f"netns delete {n}\n" for n in names)))}


def run_c(binary: str, prefix: str, n: int, host: str) -> dict[str, float]:
    """W2 of the C reference, N pods: its per-item costs, in seconds."""
    phases = run_json([binary, "w2", prefix, str(n), host])["phases"]
    return {"ns": phases["setup_ns"]["wall"] / n, "veth": phases["setup_veth"]["wall"] / n,
            "inside": phases["setup_inside"]["wall"] / n}


# -- the run -----------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench_topology.py", description=__doc__.split("\n")[0])
    p.add_argument("-n", type=int, default=1000, help="nodes per topology (default 1000)")
    p.add_argument("--runs", type=int, default=3, help="runs of each peer per shape")
    p.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated: line,star,clos")
    p.add_argument("--peers", default=",".join(PEERS),
                   help="comma-separated: rawns,batch,ip-batch,c, and rawns@DIR: another "
                   "checkout's rawns")
    p.add_argument("--mode", choices=("tmpfs", "disk"), default="tmpfs",
                   help="tmpfs: /run/netns is a tmpfs in a private mount namespace; disk: "
                   "as it is here")
    p.add_argument("--json", metavar="FILE", help="also write every measurement here")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--_worker", dest="worker", help=argparse.SUPPRESS)
    p.add_argument("--host", help=argparse.SUPPRESS)
    p.add_argument("--batch", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.worker:
        work = _worker_batch if args.batch else _worker
        print(json.dumps(work(args.worker, args.host)))
        return 0
    if os.geteuid() != 0:
        print("bench_topology: needs root", file=sys.stderr)
        return 2
    if args.mode == "tmpfs" and os.environ.get(_ENV_PRIVATE) != "tmpfs":
        env = {**os.environ, _ENV_PRIVATE: "tmpfs"}
        child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv],
                                 env=env)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # the child got it too, and cleans up
                continue
    if args.mode == "tmpfs":
        enter_private_tmpfs()
    return _bench(args)


def _bench(args: argparse.Namespace) -> int:
    prefix = f"rnsbtopo{os.getpid()}-"
    host = f"{prefix}host"
    shapes = [s for s in args.shapes.split(",") if s]
    peers = [p for p in args.peers.split(",") if p]
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    binary = None
    if "c" in peers:
        source = find_c_source()
        binary = build_reference(source, args.quiet) if source else None
        if binary is None:
            peers.remove("c")
    info = machine()
    mode = ("tmpfs (private mount namespace)" if args.mode == "tmpfs"
            else f"disk ({fstype_of('/run/netns')})")
    header = (f"rawns bench_topology, N={args.n} nodes, {args.runs} runs per peer and shape, "
              f"/run/netns: {mode}\nmachine: {info['nproc']} cpus, {info['cpu']}, Linux "
              f"{info['kernel']}, Python {info['python']}, {info['iproute2']}")
    log(header)
    baseline: list[int | None] = [None]

    def settle() -> dict[str, Any]:
        target = None if baseline[0] is None else baseline[0] + 8 + args.n // 100
        state = wait_for_kernel(target=target)
        baseline[0] = state["netns_objects"]
        return state

    results: list[dict[str, Any]] = []
    previous = signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="rawns-bench-topology-"))
    try:
        for shape in shapes:
            data = topology(shape, args.n, prefix)
            path = tmp / f"{shape}.json"
            path.write_text(json.dumps(data))
            links = len(data["topology"]["links"])
            for run in range(args.runs):
                for peer in order(peers, run):
                    sweep(prefix)
                    from rawns import netns
                    netns.add(host)  # the host of W2, and of host links
                    state = settle()
                    if peer == "rawns":
                        measured = run_rawns(path, host)
                    elif peer == "batch":
                        measured = run_batch(path, host)
                    elif peer.startswith("rawns@"):
                        measured = run_other(peer.removeprefix("rawns@"), path, host)
                    elif peer == "ip-batch":
                        measured = run_ip_batch(data, host)
                    else:
                        assert binary is not None
                        measured = run_c(binary, f"{prefix}c", args.n, host)
                    sweep(prefix)
                    results.append({"shape": shape, "peer": peer, "run": run,
                                    "nodes": args.n, "links": links, **measured,
                                    "waited_s": state["waited"]})
                    log(f"{shape} run {run + 1} {peer}: " + ", ".join(
                        f"{k} {v * 1e3:.1f} ms" for k, v in measured.items()))
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        sweep(prefix)
        for file in tmp.iterdir():
            file.unlink()
        tmp.rmdir()
        signal.signal(signal.SIGTERM, previous)
    print(header)
    print(f"order: rotated A B B A ({', '.join(peers)}); waited for the kernel before each run")
    print(report(results, shapes, peers))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "mode": args.mode, "argv": sys.argv,
                       "results": results}, f, indent=1)
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def report(results: list[dict[str, Any]], shapes: Sequence[str], peers: Sequence[str]) -> str:
    """Per shape: medians of up and down (ms, and us per node), each peer's
    ratio to rawns, and rawns against the C equivalent of the topology."""
    lines = []
    for shape in shapes:
        runs = [r for r in results if r["shape"] == shape]
        if not runs:
            continue
        nodes, links = runs[0]["nodes"], runs[0]["links"]
        lines += ["", f"{shape}: {nodes} nodes, {links} links",
                  "| peer | up ms | min-max | us/node | x rawns | down ms |",
                  "|---|---|---|---|---|---|"]
        ups = {peer: [r["up"] for r in runs if r["peer"] == peer] for peer in peers
               if peer != "c"}
        rawns_up = statistics.median(ups["rawns"]) if ups.get("rawns") else None
        for peer, values in ups.items():
            if not values:
                continue
            up = statistics.median(values)
            down = statistics.median(r["down"] for r in runs if r["peer"] == peer)
            ratio = f"{up / rawns_up:.2f}" if rawns_up else "-"
            lines.append(f"| {peer} | {up * 1e3:.0f} | {min(values) * 1e3:.0f}-"
                         f"{max(values) * 1e3:.0f} | {up * 1e6 / nodes:.0f} | {ratio} | "
                         f"{down * 1e3:.0f} |")
        c_runs = [r for r in runs if r["peer"] == "c"]
        if c_runs and rawns_up:
            per = {key: statistics.median(r[key] for r in c_runs)
                   for key in ("ns", "veth", "inside")}
            equivalent = nodes * (per["ns"] + per["inside"]) + links * per["veth"]
            lines.append(f"C reference (W2, {nodes} pods): {per['ns'] * 1e6:.0f} us/ns, "
                         f"{per['veth'] * 1e6:.0f} us/veth, {per['inside'] * 1e6:.0f} us/pod "
                         f"inside; the topology's C equivalent {equivalent * 1e3:.0f} ms; "
                         f"rawns = {rawns_up / equivalent:.2f}x that")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
