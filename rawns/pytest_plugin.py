"""rawns' pytest plugin: fixtures for throwaway namespaces, veth pairs and topologies.

Registered through the ``pytest11`` entry point, so installing rawns is
enough; it only adds fixtures, a marker and an option:

- ``netns``: a fresh named namespace with ``lo`` up (its name, a str);
  ``netns_factory``: ``netns_factory()`` makes more;
- ``veth``: two fresh namespaces joined by a veth pair, addressed and up
  (a ``VethPair``);
- ``topology``: a containerlab topology (``rawns.topology.Topology``), up
  before the test; its file or dict comes from ``@pytest.mark.topology(SOURCE,
  host=..., unique=...)`` or indirect parametrisation
  (``@pytest.mark.parametrize("topology", [SOURCE], indirect=True)``);
- ``--rawns-leftovers``: at the end of the session, report the namespaces
  (and interfaces of pytest's own namespace) that appeared during it and
  are still there.

Invariants:
- Whatever a fixture makes is removed after the test, whether it passed,
  failed or was interrupted. Names are unique to the process (and to the
  pytest-xdist worker), so parallel runs never meet.
- Without the privileges to make namespaces, the tests that use these
  fixtures are skipped, saying so; tests that do not use them are untouched.
- Importing it costs next to nothing: rawns itself is imported by the
  fixtures, when a test uses one.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from rawns.records import record

import pytest

if TYPE_CHECKING:
    from rawns.topology import Topology

__all__ = ["VethPair", "NetnsFactory", "PREFIX", "SKIP_REASON"]

#: Every name the fixtures make starts with this.
PREFIX = "rawns-pt"
SKIP_REASON = ("rawns fixtures make network namespaces: they need root "
               "(or CAP_SYS_ADMIN and CAP_NET_ADMIN)")
_CAP_NET_ADMIN, _CAP_SYS_ADMIN = 12, 21
_counter = itertools.count()
_LEFTOVERS = pytest.StashKey[tuple[set[str], set[str]]]()


def _privileged() -> bool:
    """Whether this process has CAP_SYS_ADMIN and CAP_NET_ADMIN (root has both)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    caps = int(line.split()[1], 16)
                    return all(caps >> cap & 1 for cap in (_CAP_NET_ADMIN, _CAP_SYS_ADMIN))
    except OSError:
        pass
    return os.geteuid() == 0


def _require_privileges() -> None:
    if not _privileged():
        pytest.skip(SKIP_REASON)


def _unique(kind: str) -> str:
    """A name prefix unique to this process and xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{PREFIX}{worker}-{os.getpid()}-{kind}{next(_counter)}"


# -- options, marker, the leftovers report ----------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rawns", "rawns network namespaces")
    group.addoption("--rawns-leftovers", action="store_true", default=False,
                    help="at the end of the session, list the network namespaces (and the "
                         "interfaces of pytest's own namespace) that appeared during it and "
                         "are still there")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "topology(source, host=None, unique=False): the containerlab file "
        "(path relative to the test's file) or dict of the 'topology' fixture; host: a "
        "namespace standing for the host, or True for a fresh one; unique: name its "
        "namespaces uniquely instead of as the file does")
    if config.getoption("--rawns-leftovers") and _privileged():
        config.stash[_LEFTOVERS] = _seen()


def _seen() -> tuple[set[str], set[str]]:
    """The named namespaces, and the interfaces of this namespace, now."""
    from rawns import netns
    from rawns.handle import Handle

    with Handle() as handle:
        return set(netns.list()), {link.name for link in handle.link_list()}


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    before = config.stash.get(_LEFTOVERS, None)
    if before is None:
        return
    namespaces, links = (now - then for now, then in zip(_seen(), before))
    terminalreporter.section("rawns leftovers")
    if not namespaces and not links:
        terminalreporter.write_line("no namespace or interface was left behind")
        return
    if namespaces:
        terminalreporter.write_line(f"namespaces left ({len(namespaces)}): "
                                    f"{' '.join(sorted(namespaces))}")
    if links:
        terminalreporter.write_line(f"interfaces left in pytest's namespace ({len(links)}): "
                                    f"{' '.join(sorted(links))}")
    terminalreporter.write_line("(anything made meanwhile counts, by this session or not)")


# -- fixtures ------------------------------------------------------------------------

class NetnsFactory:
    """Makes fresh named namespaces with ``lo`` up, and removes them all in
    ``cleanup()``. ``factory()`` returns a new namespace's name."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def name(self) -> str:
        """A unique name, to be removed in ``cleanup`` (made by the caller)."""
        name = _unique("ns")
        self.made.append(name)
        return name

    def __call__(self) -> str:
        from rawns.batch import Batch

        name = self.name()
        with Batch() as batch:
            batch.netns_add(name)
            batch.link_set("lo", up=True, netns=name)
        return name

    def cleanup(self) -> None:
        from rawns import netns

        netns.delete_many(self.made, missing_ok=True)
        self.made.clear()


@pytest.fixture
def netns_factory() -> Iterator[Callable[[], str]]:
    """``make()`` -> the name of a fresh namespace with ``lo`` up; all of
    them are removed after the test, whatever happened."""
    _require_privileges()
    factory = NetnsFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture
def netns(netns_factory: NetnsFactory) -> str:
    """The name of a fresh namespace with ``lo`` up, removed after the test."""
    return netns_factory()


@record
class VethPair:
    """Two namespaces joined by a veth pair: ``dev`` in ``netns`` with
    ``address``, ``peer_dev`` in ``peer_netns`` with ``peer_address`` (both
    with their prefix length), both ends up and carrying."""

    netns: str
    dev: str
    address: str
    peer_netns: str
    peer_dev: str
    peer_address: str

    @property
    def ip(self) -> str:
        """``address`` without its prefix length."""
        return self.address.split("/")[0]

    @property
    def peer_ip(self) -> str:
        """``peer_address`` without its prefix length."""
        return self.peer_address.split("/")[0]


@pytest.fixture
def veth(netns_factory: NetnsFactory) -> VethPair:
    """Two fresh namespaces joined by a veth pair (``veth0`` 192.0.2.1/24,
    ``veth1`` 192.0.2.2/24), up, removed after the test."""
    from rawns.batch import Batch

    pair = VethPair(netns=netns_factory.name(), dev="veth0", address="192.0.2.1/24",
                    peer_netns=netns_factory.name(), peer_dev="veth1",
                    peer_address="192.0.2.2/24")
    with Batch() as batch:
        for name in (pair.netns, pair.peer_netns):
            batch.netns_add(name)
            batch.link_set("lo", up=True, netns=name)
        batch.veth(pair.dev, pair.peer_dev, netns=pair.netns, peer_netns=pair.peer_netns)
        batch.addr_add(pair.dev, pair.address, netns=pair.netns)
        batch.addr_add(pair.peer_dev, pair.peer_address, netns=pair.peer_netns)
    _wait_carrier([(pair.netns, pair.dev), (pair.peer_netns, pair.peer_dev)])
    return pair


def _wait_carrier(ends: list[tuple[str, str]], timeout: float = 5.0) -> None:
    """Wait until each (namespace, link) is operationally up: the kernel
    reports a veth's carrier a little after both ends are up."""
    from rawns.handle import Handle

    deadline = time.monotonic() + timeout
    for where, dev in ends:
        with Handle(where) as handle:
            while handle.link_get(dev).operstate != "UP" and time.monotonic() < deadline:
                time.sleep(0.01)


@pytest.fixture
def topology(request: pytest.FixtureRequest, netns_factory: NetnsFactory
             ) -> Iterator[Topology]:
    """A containerlab topology, up during the test and down after it. Its
    file (relative to the test's file) or dict comes from
    ``@pytest.mark.topology(SOURCE, host=None, unique=False)`` or from
    indirect parametrisation (``request.param``: SOURCE or a dict of those
    arguments with ``source``)."""
    from rawns import topology as topology_module

    args: dict[str, Any]
    marker = request.node.get_closest_marker("topology")
    if hasattr(request, "param"):
        param = request.param
        args = dict(param) if isinstance(param, dict) and "source" in param else \
            {"source": param}
    elif marker is not None:
        args = dict(marker.kwargs)
        if marker.args:
            args["source"] = marker.args[0]
    else:
        raise pytest.UsageError(
            "the 'topology' fixture needs @pytest.mark.topology(FILE_OR_DICT) or indirect "
            "parametrisation")
    source = args.pop("source", None)
    host = args.pop("host", None)
    unique = args.pop("unique", False)
    if source is None or args:
        raise pytest.UsageError(f"topology: give a source, and only host= and unique= "
                                f"besides (got {sorted(args)})")
    if isinstance(source, (str, os.PathLike)):
        source = Path(request.path).parent / source
    if host is True:
        host = netns_factory()
    lab = topology_module.load(source, host=host,
                               prefix=_unique("lab") if unique else None)
    lab.up()
    try:
        yield lab
    finally:
        lab.down()
