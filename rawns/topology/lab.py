"""A topology against the kernel: ``Topology.up()``, ``down()`` and ``status()``.

Invariants:
- ``up`` is all or nothing. Everything that can be checked is checked before
  anything is made (the file by ``spec``; exec lines; the link kinds the
  kernel has); then one ``rawns.Batch`` makes the namespaces, bridges,
  links, addresses and states (it undoes itself on any failure, Ctrl-C
  included); then the exec lines run, node by node in file order. If one
  fails or is interrupted, everything ``up`` made is removed before the
  exception propagates.
- Exec lines in ip's grammar (``ip addr add ...``) run through rawns' own
  command line, in this process, inside the node's namespace; no ip binary
  is involved. Other lines run in the namespace as ``ip netns exec`` runs
  them (``rawns.netns.run``), without a shell.
- ``down`` is idempotent and removes only what the topology names: its
  macvlans and vxlans (at once), its namespaces, its bridges in the host's
  namespace, and its interfaces there only while their peer is still the
  topology's.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional, Union

from rawns import netns as netns_module
from rawns.batch import Batch
from rawns.errors import KernelError, RawnsError
from rawns.topology.build import describe, removal
from rawns.topology.spec import Link, Spec, TopologyError, read
from rawns.topology.state import InterfaceStatus, NodeStatus, Status

__all__ = ["Topology", "load", "ExecFailed", "Status", "NodeStatus", "InterfaceStatus",
           "Progress"]

#: ``progress(phase, done, total)``, each phase in turn: "namespaces" (as
#: they are made, some 64 at a time), "links" (the requests that make and set
#: links, addresses and routes, as they are written), "exec" (each line run).
Progress = Callable[[str, int, int], None]

# Objects of rawns' command line an exec line may not name: they replace the
# process, run until interrupted, or make topologies themselves.
_EXEC_REFUSED = ("netns", "monitor", "demo", "up", "down", "show", "graph")


class ExecFailed(RawnsError):
    """An exec line of a node failed: ``node``, ``line``, its exit ``status``
    and what it said on stderr (for ip lines), in ``output``."""

    def __init__(self, node: str, line: str, status: int, output: str = "") -> None:
        said = " ".join(output.split())
        super().__init__(f"node {node!r}: exec {line!r} exited with status {status}"
                         + (f": {said}" if said else ""))
        self.node = node
        self.line = line
        self.status = status
        self.output = output


class Topology:
    """A topology read from a file or dict (``load``); ``host`` is the
    namespace that stands for the host (None: the caller's).

    As a context manager it is up inside the block and down after it."""

    def __init__(self, spec: Spec, *, host: Optional[str] = None) -> None:
        if host is not None:
            netns_module.validate_name(host)
        self.spec = spec
        self.host = host

    def __repr__(self) -> str:
        return f"<Topology {self.spec.name!r} from {self.spec.source}>"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def namespaces(self) -> list[str]:
        """The namespaces of the linux nodes, in file order."""
        return [node.netns for node in self.spec.nodes if node.netns is not None]

    def netns_of(self, node: str) -> Optional[str]:
        """The namespace node ``node``'s interfaces live in (None: the caller's)."""
        place = self.spec.place(node)
        return self.host if place is None else place

    # -- up ---------------------------------------------------------------------------

    def up(self, *, progress: Optional[Progress] = None) -> None:
        """Make the whole topology, or nothing (see the module docstring).
        Raises TopologyError (a ValueError) for what cannot be made, before
        anything is; the KernelError of a refusal; ExecFailed."""
        commands = self._exec_lines()
        self._check_kernel()
        if self.host is not None:
            os.close(netns_module.open_fd(self.host))  # it exists: refused now, not midway
        batch = Batch(progress=progress)
        describe(self.spec, batch, self.host)
        total = len(commands)
        try:
            batch.commit()  # undoes itself if it fails: then there is nothing to remove
            if progress is not None and total:
                progress("exec", 0, total)
            for done, (node, netns, line, words) in enumerate(commands, 1):
                _run_line(node, netns, line, words)
                if progress is not None:
                    progress("exec", done, total)
        except BaseException:
            # batch.made, not a flag set after commit() returns: an interrupt
            # landing between the two would leave everything behind
            while batch.made:  # all of it made by this call
                try:
                    with contextlib.suppress(Exception):
                        self.down()
                    break
                except KeyboardInterrupt:
                    continue  # to its end, even if another Ctrl-C lands in it
            raise

    def _exec_lines(self) -> list[tuple[str, str, str, list[str]]]:
        """(node, namespace, line, words) of every exec line, in file order,
        each checked: it splits as a shell would, and an ip line names an
        object rawns' command line can run here."""
        found = []
        for node in self.spec.nodes:
            for i, line in enumerate(node.exec):
                path = f"topology.nodes.{node.name}.exec[{i}]"
                try:
                    words = shlex.split(line)
                except ValueError as err:
                    raise TopologyError(f"{line!r}: {err}", source=self.spec.source,
                                        line=node.line, path=path) from None
                if not words:
                    raise TopologyError("an empty command", source=self.spec.source,
                                        line=node.line, path=path)
                if os.path.basename(words[0]) == "ip":
                    from rawns.cli.grammar import (
                        OBJECT_TABLE, UsageError, parse_options, resolve,
                    )

                    rest = words[1:]
                    try:
                        opts = parse_options(rest)
                        obj = resolve(rest[0], OBJECT_TABLE, "object") if rest else None
                    except UsageError as err:
                        raise TopologyError(f"{line!r}: {err}", source=self.spec.source,
                                            line=node.line, path=path) from None
                    if obj is None or obj in _EXEC_REFUSED or opts.netns is not None:
                        what = "-n" if opts.netns is not None else f"{obj or 'nothing'!r}"
                        raise TopologyError(f"{line!r}: an exec line in ip's grammar runs "
                                            f"inside its node and may not use {what}",
                                            source=self.spec.source, line=node.line,
                                            path=path)
                assert node.netns is not None  # only linux nodes have exec lines
                found.append((node.name, node.netns, line, words))
        return found

    def _check_kernel(self) -> None:
        """Refuse, before anything is made, the links this kernel or rawns
        cannot make."""
        from rawns.topology.build import BUILT_LINKS

        known: dict[str, bool] = {"veth": True}  # (rawns cannot run without veth)
        for link in self.spec.links:
            if link.type not in known:
                known[link.type] = kernel_has(link.type)
            if not known[link.type]:
                raise _link_error(self.spec, link, f"this kernel has no {link.type!r} links "
                                  f"(is its module, {link.type}.ko, available?)")
            if link.type not in BUILT_LINKS:
                raise _link_error(self.spec, link, f"rawns cannot make {link.type} links yet")

    # -- down -------------------------------------------------------------------------

    def down(self) -> None:
        """Remove what the topology names (nothing if it is not up); see the
        module docstring."""
        from rawns.handle import Handle

        what = removal(self.spec)
        _delete_placed(what.placed)
        if not (what.host_ends or what.bridges):
            netns_module.delete_many(what.namespaces, missing_ok=True)
            return
        with Handle(self.host) as handle:
            links = {link.name: link for link in handle.link_list()}
            by_index = {link.index: link.name for link in links.values()}
            present = [name for name in what.namespaces if netns_module.exists(name)]
            nsids = netns_module.nsids(handle, present) if present else {}
            # veths whose peer is in one of our namespaces go with it, in the
            # kernel's cleanup of the namespaces (one pass for all: deleting
            # each here would wait for an RCU grace period each)
            going: list[str] = []
            doomed: list[str] = []
            for end in what.host_ends:
                link = links.get(end.interface)
                if link is None or link.kind != "veth":
                    continue
                if end.peer_netns is None:
                    if link.link_netnsid is None and by_index.get(link.link or 0) == end.peer:
                        doomed.append(end.interface)
                elif end.peer_netns in nsids and link.link_netnsid == nsids[end.peer_netns]:
                    going.append(end.interface)
            doomed += [name for name in what.bridges
                       if name in links and links[name].kind == "bridge"]
            netns_module.delete_many(what.namespaces, missing_ok=True)
            doomed += _wait_gone(handle, going)
            for name in doomed:
                try:
                    handle.link_delete(name)
                except KernelError as err:
                    if err.errno not in (errno.ENODEV, errno.ENOENT):
                        raise  # (gone meanwhile: a veth goes with its peer)

    # -- status -----------------------------------------------------------------------

    def status(self) -> Status:
        """What the kernel has of the topology now: each node, whether it is
        there, and its interfaces (all of a linux node's; those the topology
        names for a bridge or the host) with their state and addresses."""
        from rawns.handle import Handle
        from rawns.snapshot import read_many

        present = [name for name in self.namespaces if netns_module.exists(name)]
        snapshots = {str(snap.netns): snap for snap in read_many(present, ("link", "addr"))}
        named: dict[str, list[str]] = {node.name: [node.name] if node.kind == "bridge" else []
                                       for node in self.spec.nodes}
        for link in self.spec.links:
            for end in link.endpoints:
                named.setdefault(end.node, []).append(end.interface)
        host_links: Sequence[Any] = ()
        host_addrs: dict[int, list[str]] = {}
        if any(self.spec.place(node) is None for node in named):
            with Handle(self.host) as handle:
                host_links = handle.link_list()
                host_addrs = _addresses(handle.addr_list())
        nodes = []
        for node in self.spec.nodes:
            place = self.spec.place(node.name)
            if place is None:
                interfaces = _interfaces(host_links, host_addrs, named[node.name])
            elif place in snapshots:
                snap = snapshots[place]
                links = snap.links or ()
                interfaces = _interfaces(links, _addresses(snap.addresses or ()),
                                         [link.name for link in links]
                                         if node.kind == "linux" else named[node.name])
            else:
                interfaces = tuple(InterfaceStatus(name=name, state="ABSENT")
                                   for name in named[node.name])
            if node.kind == "linux":
                there = place in snapshots
            elif node.kind == "bridge":
                there = any(i.name == node.name and i.state != "ABSENT" for i in interfaces)
            else:
                there = True  # the host
            nodes.append(NodeStatus(name=node.name, kind=node.kind,
                                    netns=self.netns_of(node.name), present=there,
                                    interfaces=interfaces))
        return Status(name=self.spec.name, nodes=tuple(nodes))

    # -- pictures ---------------------------------------------------------------------

    def dot(self) -> str:
        """The topology as Graphviz DOT text."""
        from rawns.topology.render import dot

        return dot(self.spec)

    def mermaid(self) -> str:
        """The topology as Mermaid flowchart text."""
        from rawns.topology.render import mermaid

        return mermaid(self.spec)

    # -- context manager --------------------------------------------------------------

    def __enter__(self) -> Topology:
        self.up()
        return self

    def __exit__(self, *_: object) -> None:
        self.down()


def load(source: Union[str, "os.PathLike[str]", Mapping[str, Any]], *,
         host: Optional[str] = None, prefix: Optional[str] = None) -> Topology:
    """The topology in ``source``: a containerlab file (YAML, which needs
    PyYAML, or JSON by its ``.json`` name) or a dict. ``host`` is the
    namespace that stands for the host (None: the caller's); ``prefix``, if
    given, replaces the file's (namespaces are named PREFIX-LAB-NODE). Raises
    TopologyError (a ValueError) naming the key and line of any mistake."""
    return Topology(read(source, prefix=prefix), host=host)


def kernel_has(kind: str) -> bool:
    """Whether this kernel can make links of ``kind`` (a module it can load
    counts), asked in a throwaway namespace held by an fd: nothing visible
    is made, and whatever the probe made dies with it."""
    from rawns.netlink import requests
    from rawns.nlsock import RouteSocket

    (fd,) = netns_module.open_many(1)
    try:
        with RouteSocket(fd) as sock:
            (outcome,) = sock.exchange([requests.link_add("probe0", kind)])
    finally:
        os.close(fd)
    return outcome.error is None or outcome.error.errno != errno.EOPNOTSUPP


def _delete_placed(placed: Sequence[tuple[str, str]]) -> None:
    """Delete each (namespace, interface) that is there: macvlans and vxlans
    go at once, not with their namespace's later cleanup (until which they
    would still hold their MAC on the host's interface, their VNI and port)."""
    from rawns.handle import Handle

    by_netns: dict[str, list[str]] = {}
    for where, name in placed:
        by_netns.setdefault(where, []).append(name)
    for where, names in by_netns.items():
        try:
            handle = Handle(where)
        except FileNotFoundError:
            continue  # not up
        with handle:
            for name in names:
                try:
                    handle.link_delete(name)
                except KernelError as err:
                    if err.errno not in (errno.ENODEV, errno.ENOENT):
                        raise


def _wait_gone(handle: Any, names: Sequence[str], timeout: float = 10.0) -> list[str]:
    """Wait until none of the links ``names`` is in ``handle``'s namespace
    (the kernel removes them as it cleans up deleted namespaces); returns
    those still there after ``timeout`` seconds, for the caller to delete."""
    left = set(names)
    deadline = time.monotonic() + timeout
    while left:
        left &= {link.name for link in handle.link_list()}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return sorted(left)


def _run_line(node: str, netns: str, line: str, words: Sequence[str]) -> None:
    """One exec line of ``node``, inside ``netns``; ExecFailed unless it exits 0."""
    output = ""
    if os.path.basename(words[0]) == "ip":
        from rawns.cli.dispatch import EXIT_INTERRUPTED, main

        errors = io.StringIO()
        with contextlib.redirect_stderr(errors):
            status = main(["-n", netns, *words[1:]])
        output = errors.getvalue()
        if status == EXIT_INTERRUPTED:
            raise KeyboardInterrupt
    else:
        status = netns_module.run(netns, words)
    if status != 0:
        raise ExecFailed(node, line, status, output)


def _addresses(addresses: Sequence[Any]) -> dict[int, list[str]]:
    """ifindex -> its addresses, as text with their prefix length."""
    out: dict[int, list[str]] = {}
    for address in addresses:
        out.setdefault(address.index, []).append(str(address.address))
    return out


def _interfaces(links: Sequence[Any], addresses: Mapping[int, list[str]],
                names: Sequence[str]) -> tuple[InterfaceStatus, ...]:
    """The status of each of ``names`` among ``links``, in that order."""
    by_name = {link.name: link for link in links}
    by_index = {link.index: link.name for link in links}
    out = []
    for name in dict.fromkeys(names):
        link = by_name.get(name)
        if link is None:
            out.append(InterfaceStatus(name=name, state="ABSENT"))
            continue
        out.append(InterfaceStatus(
            name=name, state=link.operstate, up=link.is_up, mtu=link.mtu, mac=link.address,
            master=None if link.master is None else by_index.get(link.master),
            addresses=tuple(addresses.get(link.index, ()))))
    return tuple(out)


def _link_error(spec: Spec, link: Link, message: str) -> TopologyError:
    index = spec.links.index(link)
    return TopologyError(f"{link}: {message}", source=spec.source, line=link.line,
                         path=f"topology.links[{index}]")
