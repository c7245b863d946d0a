"""``python -m rawns``: the command line."""

import gc

from rawns.cli import main

status = main()
gc.freeze()  # as scripts/rawns: shutting down skips collecting what the command made
raise SystemExit(status)
