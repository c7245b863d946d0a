#!/usr/bin/env python3
"""rawns benchmarks (issue 6): ``python benchmarks/bench.py --workload W1 -n 1000``.

The harness itself is ``rawns.bench`` (so that ``python -m rawns bench`` can
offer it too); this script runs it from a source checkout, where it finds the
C reference in ``benchmarks/c/ref.c`` and builds it into ``benchmarks/bin/``.
See ``benchmarks/RESULTS.md`` for what it measures and a recorded run.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from rawns.bench import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(c_source=HERE / "c" / "ref.c"))
