"""The ``rawns`` command line, with iproute2's grammar: ``main``.

    rawns [-n NS] [-j [-p]] [-4|-6] [-br|-o] [-s] [-d] [--trace] OBJECT COMMAND ...
    rawns [-n NS] [-force] -batch FILE|-

Invariants:
- It only parses arguments and prints; every action is one public library
  call (``rawns.netns``, ``rawns.Handle``, ``rawns.ping``), so whatever the
  command line can do, a program can do too.
- ``-j`` prints the keys and value formats of ``ip -j`` for the same objects;
  plain output reads like ``ip``'s (both through :mod:`rawns.show`).
- User mistakes and kernel refusals print one line ``rawns: ...`` on stderr
  and exit non-zero (1: the command line is wrong, 2: the kernel or the
  system refused, 130: interrupted); a traceback is a bug.

Modules: :mod:`grammar` (options, words, values, usage text), :mod:`session`
(the Handle of ``-n``/``--trace`` and ``-j`` output), :mod:`interrupts`
(SIGTERM as Ctrl-C for commands that make many things), :mod:`dispatch`
(``main``: OBJECT -> its module, errors -> exit status), :mod:`batch`
(``-batch FILE``), and one module per OBJECT, imported only when that object
is asked for: :mod:`link`, :mod:`addr`, :mod:`route`, :mod:`rule`,
:mod:`neigh`, :mod:`tuntap`, :mod:`netns`, :mod:`monitor`, :mod:`ping`,
:mod:`demo`, :mod:`explain`, :mod:`sysctl`; :mod:`topology` serves ``up``, ``down``, ``show`` and
``graph`` (``grammar.OBJECT_MODULES``).
"""

from rawns.cli.dispatch import main

__all__ = ["main"]
