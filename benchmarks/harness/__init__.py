"""The benchmark harness of rawns (not part of the library; never installed).

``python benchmarks/bench.py`` is the runner; the scripts beside it import
these modules, found because a script's own directory is first on sys.path:

- :mod:`harness.workloads` -- W1, W2, W3: names, pods, phases, rawns' hooks.
- :mod:`harness.peers` -- who is measured: rawns, the C reference, ``ip``,
  pyroute2; each run in its own process, returning its phases' times.
- :mod:`harness.measure` -- timing a phase, progress, counting syscalls.
- :mod:`harness.kernel` -- the machine: waiting for the kernel to free
  namespaces, sweeping leftovers, a private /run/netns, kernel memory.
- :mod:`harness.report` -- the A B B A order, the tables.

Invariants:
- rawns is used through its public API only (a test parses every file of
  benchmarks/ to check); the harness runs ``ip``, ``strace`` and ``cc``, the
  library never does.
- Nothing is ever made in the machine's root network namespace; everything a
  run makes carries its prefix and is removed in a ``finally``.
"""
