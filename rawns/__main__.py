"""``python -m rawns``: the command line."""

from rawns.cli import main

raise SystemExit(main())
