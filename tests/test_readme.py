"""The README's Python examples run as written (with this test's names and
smaller counts), so that the documentation stays true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rawns import netns

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def adapt(code: str, prefix: str) -> str:
    for name in ("red", "blue", "host", "pod"):
        code = code.replace(f'"{name}', f'"{prefix}{name}')
    code = code.replace("range(5000)", "range(5)").replace("range(500)", "range(5)")
    # the monitor example waits for events forever: stop where it starts
    lines = code.splitlines()
    cut = next((i for i, line in enumerate(lines) if ".monitor(" in line), len(lines))
    return "\n".join(lines[:cut])


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, prefix, capsys):
    code = "from rawns import netns\n" + adapt(BLOCKS[index], prefix)
    if "Batch()" in code:
        netns.add(prefix + "host")
    try:
        exec(compile(code, f"README block {index}", "exec"), {})
    finally:
        for name in netns.list():
            if name.startswith(prefix):
                netns.delete(name)
