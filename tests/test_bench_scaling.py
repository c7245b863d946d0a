"""benchmarks/bench_scaling.py's pure parts: its options, the JSON's summary and
the plot (no namespace is made here; the measuring itself needs root and minutes)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def scaling(monkeypatch):
    """The script as a module, benchmarks/ first on sys.path as when it runs."""
    monkeypatch.setattr(sys, "path", [str(BENCHMARKS), *sys.path])
    before = set(sys.modules)
    spec = importlib.util.spec_from_file_location("_bench_scaling", BENCHMARKS / "bench_scaling.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name in set(sys.modules) - before:
        if name == "harness" or name.startswith("harness."):
            del sys.modules[name]


def test_default_sizes_tools_and_order(scaling):
    args = scaling.parse_args([])
    assert args.sizes == [100, 300, 1000, 3000, 10000]
    assert args.tools == ["rawns", "rawns-loop", "c", "ip-batch"]
    assert args.workloads == ["W1", "W2"]
    assert args.runs == 2


def test_quick_subset_tools_and_workloads(scaling):
    assert scaling.parse_args(["--quick"]).sizes == [100, 300]
    args = scaling.parse_args(["--sizes", "1000,3000", "--tools", "rawns, c",
                               "--workloads", "w1", "--runs", "4"])
    assert (args.sizes, args.tools, args.workloads, args.runs) == (
        [1000, 3000], ["rawns", "c"], ["W1"], 4)


@pytest.mark.parametrize("bad", [["--sizes", "10,x"], ["--sizes", "0"], ["--tools", "pyroute2"],
                                 ["--tools", ""], ["--workloads", "W3"], ["--runs", "0"]])
def test_bad_options_are_refused(scaling, bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        scaling.parse_args(bad)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def _results() -> list[dict]:
    """Runs as the harness returns them: seconds per phase for N items."""
    def run(tool, workload, n, **walls):
        return {"tool": tool, "workload": workload, "n": n, "run": 0,
                "phases": {name: {"wall": wall, "user": 0.0, "sys": 0.0}
                           for name, wall in walls.items()}}
    return [
        run("c", "W1", 100, create=0.05, delete=0.002),
        run("c", "W1", 100, create=0.07, delete=0.004),
        run("c", "W1", 100, create=0.06, delete=0.003),
        run("rawns", "W1", 100, create=0.06, delete=0.003),
        run("c", "W2", 1000, setup=1.0, setup_ns=0.5, teardown=0.03),
        run("ip-batch", "W2", 1000, setup=7.0, teardown=0.04),
    ]


def test_summary_is_per_phase_tool_and_n_in_microseconds(scaling):
    summary = scaling.summarize(_results())
    assert set(summary) == {"create", "delete", "plumb", "teardown"}
    assert summary["create"]["c"]["100"] == pytest.approx(
        {"median_us": 600.0, "min_us": 500.0, "max_us": 700.0, "runs": 3})
    assert summary["delete"]["rawns"]["100"]["median_us"] == pytest.approx(30.0)
    assert summary["plumb"]["ip-batch"]["1000"]["median_us"] == pytest.approx(7000.0)
    assert summary["teardown"]["c"]["1000"]["median_us"] == pytest.approx(30.0)
    # the JSON written is plain data, and reads back equal
    assert json.loads(json.dumps(summary)) == summary
    lines = {tuple(line.split()[:2]): line for line in
             scaling.format_table(summary).splitlines()[1:-1]}
    assert "600.0 1.00x" in lines[("create", "rawns")]  # ratios are to the C loop
    assert "7000.0 7.00x" in lines[("plumb", "ip-batch")]
    assert lines[("teardown", "ip-batch")].split()[2:] == ["-", "40.0", "1.33x"]
    assert lines[("create", "c")].split()[2:] == ["600.0", "-"]  # no ratio to itself


def test_plot_writes_svg_and_png(scaling, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib, the benchmarks' "
                        "optional extra (pip install -e '.[bench]')")
    written = scaling.plot(scaling.summarize(_results()), tmp_path / "out" / "scaling", "title")
    assert [p.name for p in written] == ["scaling.svg", "scaling.png"]
    assert written[0].read_text().lstrip().startswith(("<?xml", "<svg"))
    assert written[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_names_the_extra(scaling, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises ImportError
    with pytest.raises(scaling.PlotUnavailable, match=r"matplotlib.*\[bench\]"):
        scaling.plot(scaling.summarize(_results()), tmp_path / "scaling")
    assert not list(tmp_path.iterdir())


def test_a_stopped_pass_is_read_back_from_its_log(scaling):
    log = ("building the C reference: cc ...\n"
           "N=1000 W1 run 1 c: create 769.7, delete 162.8 us (load 4.60, waited 0.9 s)\n"
           "N=1000 W2 run 2 rawns-loop: setup 1499.4, teardown 271.8 us (load 4.17, waited 1.4 s)\n"
           "bench_scaling: interrupted (cleaned up)\n")
    results = scaling.parse_log(log)
    assert [(r["tool"], r["workload"], r["n"], r["run"]) for r in results] == [
        ("c", "W1", 1000, 0), ("rawns-loop", "W2", 1000, 1)]
    summary = scaling.summarize(results)
    assert summary["delete"]["c"]["1000"]["median_us"] == pytest.approx(162.8)
    assert summary["teardown"]["rawns-loop"]["1000"]["median_us"] == pytest.approx(271.8)
    assert results[0]["loadavg"] == [4.6]
