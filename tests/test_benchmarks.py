"""benchmarks/suite.py, tiny: it runs, writes its tables and figures, and keeps them apart.

The suite prints figures and asserts none; these tests check what a user relies on: the
command finishes, results.md holds a table per section it ran and links figures that
exist, a section run alone keeps the others' results, and a quick run cannot overwrite
the committed figures in docs/benchmarks.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.checkout import needs_checkout_file

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
pytestmark = needs_checkout_file("benchmarks", "suite.py")


def _suite():
    sys.path.insert(0, str(BENCHMARKS))  # the suite imports its parts as `bench`
    try:
        spec = importlib.util.spec_from_file_location("suite", BENCHMARKS / "suite.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_quick_run_writes_tables_and_figures(tmp_path):
    pytest.importorskip("matplotlib")
    # The child imports the csoftmax this process imports, built in place or installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "suite.py"), "--quick", "--repeats", "1",
         "--sections", "kernels,latency", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert "softmax_vjp" in done.stdout and "predict_proba" in done.stdout
    results = (tmp_path / "results.md").read_text()
    assert "## Kernels" in results and "## Prediction latency" in results
    assert "## Training" not in results  # not asked for
    assert "SIMD path" in results
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", results)
    assert "latency.png" in figures and "kernels_float32.png" in figures
    assert all((tmp_path / name).stat().st_size > 1000 for name in figures)
    # the record of the run, and the quoted figures rendered from it beside the tables
    recorded = json.loads((tmp_path / "results.json").read_text())
    assert set(recorded["sections"]) == {"kernels", "latency"}
    assert recorded["machine"]["SIMD path"] and "cpu_flags" in recorded["machine"]
    assert any(key.startswith("latency/") for key in recorded["figures"])
    assert "predict_proba" in (tmp_path / "quoted" / "speed.txt").read_text()


def test_a_section_run_alone_keeps_the_others(tmp_path):
    report = _suite().report
    for key, title in (("kernels", "Kernels"), ("latency", "Prediction latency")):
        table = report.Table("t", ["what", "ms"], [["a", "1.0"]])
        report.write_section(report.Section(key, title, "intro", [table]), tmp_path, "stamp")
    report.write_section(report.Section("kernels", "Kernels", "again"), tmp_path, "stamp")
    text = report.write_results(tmp_path, [("CPU", "x")], "cmd").read_text()
    assert text.index("## Kernels") < text.index("## Prediction latency")
    assert "again" in text and "| a    |" in text  # the new kernels, the old latency


def test_quick_run_refuses_the_committed_folder():
    suite = _suite()
    with pytest.raises(SystemExit):
        suite.parse_args(["--quick", "--out", str(ROOT / "docs" / "benchmarks")])
    with pytest.raises(SystemExit):
        suite.parse_args(["--sections", "kernels,nonsense"])
    args = suite.parse_args(["--quick"])
    assert args.out.resolve() != (ROOT / "docs" / "benchmarks").resolve()
    args.out.rmdir()  # the temporary folder it made


def test_compare_builds_runs_two_checkouts_in_turn():
    # The same checkout on both sides: the script runs, and prints one row per op and shape.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "compare_builds.py"), str(ROOT), str(ROOT),
         "--quick", "--rounds", "1"],
        capture_output=True, text=True, env=env, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.endswith("x")]
    assert len(rows) == 2 * 2 * 5, done.stdout  # dtypes x shapes x ops
    for line in rows:
        old, new = (float(v) for v in line.split()[-3:-1])
        assert old > 0 and new > 0


def test_compare_builds_takes_other_shapes_and_rejects_bad_ones():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    script = str(BENCHMARKS / "compare_builds.py")
    done = subprocess.run([sys.executable, script, str(ROOT), str(ROOT), "--rounds", "1",
                           "--shapes", "64x3,8x129"],
                          capture_output=True, text=True, env=env, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.endswith("x")]
    assert len(rows) == 2 * 2 * 5, done.stdout
    assert sum("(8, 129)" in line for line in rows) == 2 * 5
    bad = subprocess.run([sys.executable, script, str(ROOT), str(ROOT), "--shapes", "64x0"],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    assert bad.returncode == 2 and "--shapes" in bad.stderr


def test_compare_builds_times_training_epochs():
    # --training on the quick data (tiled digits): one row, an epoch's seconds per checkout.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "compare_builds.py"), str(ROOT), str(ROOT),
         "--training", "--quick", "--rounds", "1"],
        capture_output=True, text=True, env=env, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.endswith("x")]
    assert len(rows) == 1 and "epoch" in rows[0], done.stdout
    old, new = (float(v) for v in rows[0].split()[-3:-1])
    assert old > 0 and new > 0


@pytest.mark.parametrize("op", ["partial_fit10", "predict_proba1", "predict_proba1000",
                                "predict10", "softmax"])
def test_call_child_times_one_library_in_its_own_process(tmp_path, op):
    # The child the small-call and busy-neighbour rows run: one JSON line, best <= median.
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path / "data.npz"
    np.savez(path, X=rng.random((300, 8)), y=rng.integers(0, 3, 300))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    libraries = ["csoftmax"] + (["scikit-learn"] if op != "softmax" else [])
    for library in libraries:
        done = subprocess.run(
            [sys.executable, str(BENCHMARKS / "bench" / "call_child.py"), op, library, "1",
             str(path), "--calls", "3"],
            capture_output=True, text=True, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout.strip().splitlines()[-1])
        assert 0 < found["best"] <= found["median"]


def test_idle_bursts_prints_both_settings():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(BENCHMARKS / "idle_bursts.py"), "--quick"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("n_threads=1: median burst ") and float(lines[1].split()[3]) > 0
    assert lines[2].startswith("n_threads=default: median burst ")
    assert lines[2].endswith("of 2 bursts at 0.9 times the one-thread median or slower")


def test_busy_runs_every_call_quiet_and_busy_and_prints_the_ratios():
    # benchmarks/busy.py, as small as it goes: each (call, threads) pair in its own process,
    # quiet then beside a spinning process; a row per pair, the ratios on the default's row.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "busy.py"), "--quick", "--rounds", "1", "--rows",
         "400", "--features", "8", "--only", "predict,softmax"],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line.split(" | ") for line in done.stdout.splitlines() if line.count(" | ") >= 5]
    calls = ["predict 1000", "softmax"]
    assert [r[:2] for r in rows[1:]] == [[c, t] for c in calls for t in ("default", "1")]
    for r in rows[1:]:
        assert all(float(v) > 0 for v in r[2:6]), r
        assert len(r) == (8 if r[1] == "default" else 6), r
        assert all(v.endswith("x") and float(v[:-1]) > 0 for v in r[6:]), r


def test_render_writes_the_quoted_blocks_beside_a_run(tmp_path):
    # --render with another --out renders from that folder's results.json, and never
    # touches the README: the blocks land in <out>/quoted/.
    suite = _suite()
    committed = ROOT / "docs" / "benchmarks" / "results.json"
    if not committed.is_file():
        pytest.skip("no docs/benchmarks/results.json in this tree")
    (tmp_path / "results.json").write_text(committed.read_text())
    before = (ROOT / "README.md").read_text()
    suite.main(["--render", "--out", str(tmp_path)])
    assert (ROOT / "README.md").read_text() == before
    speed = (tmp_path / "quoted" / "speed.txt").read_text()
    assert "| measure | csoftmax | peers |" in speed and "SIMD path" in speed
    with pytest.raises(SystemExit):
        suite.main(["--render", "--out", str(tmp_path / "empty")])


def test_call_instructions_reads_callgrind_dumps_in_the_order_written(tmp_path):
    # callgrind.out.<pid>.<n> for each --dump-before, callgrind.out.<pid> at exit: the
    # order is the dumps' "part" numbers, whatever the file names sort to.
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(
            "call_instructions", BENCHMARKS / "call_instructions.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    for name, part, total in [("callgrind.out.77", 11, 5), ("callgrind.out.77.2", 2, 700),
                              ("callgrind.out.77.10", 10, 90), ("callgrind.out.77.1", 1, 3)]:
        (tmp_path / name).write_text(f"version: 1\npart: {part}\nevents: Ir\n"
                                     f"summary: {total}\ntotals: {total}\n")
    assert module._phase_counts(tmp_path) == [3, 700, 90, 5]
