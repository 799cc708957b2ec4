"""Every performance figure the README and the docs quote is the benchmark suite's latest.

``benchmarks/suite.py`` records its run in ``docs/benchmarks/results.json`` and renders
from it the blocks between ``suite:`` markers in README.md and docs/performance.rst
(``benchmarks/bench/blocks.py``). These tests re-render the blocks from that record and
compare, check that the section files' tables are the record's, that the quoted figures
name the machine, and that no timing is typed into the prose around them. They measure
nothing.
"""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
RESULTS = ROOT / "docs" / "benchmarks" / "results.json"
# Pages whose prose may quote no timing: their figures come from the suite's files.
PROSE = ("README.md", "docs/performance.rst", "docs/changelog.rst", "docs/index.rst",
         "docs/development.rst")
# A figure with a time unit (ms, µs, microseconds, seconds, "0.24 s"), or a speed-up
# ratio such as "2.8x" (dimensions such as "4096 x 1000" have a space before the x).
TIMING = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|µs|us|microseconds?|milliseconds?|seconds?)\b"
                    r"|\b\d+\.\d+ s\b|\b\d+(?:\.\d+)?x\b(?! ?\d)")

if not (ROOT / "README.md").is_file() or not RESULTS.is_file():
    pytest.skip("the repository's README.md and docs/benchmarks/results.json are not here "
                "(an installed package, not a checkout)", allow_module_level=True)


@pytest.fixture(scope="module")
def bench():
    """The suite's ``bench`` package (it is imported by that name from benchmarks/)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from bench import blocks, record
    finally:
        sys.path.remove(str(BENCHMARKS))
    return blocks, record


@pytest.fixture(scope="module")
def results():
    return json.loads(RESULTS.read_text())


def _blocks(bench):
    blocks, _ = bench
    return [(rel, name) for rel, names in blocks.FILES.items() for name in names]


def test_quoted_figures_are_the_latest_run(bench, results):
    blocks, _ = bench
    for rel, name in _blocks(bench):
        found = blocks.current(ROOT / rel, name)
        assert found is not None, f"{rel} lost its block {name!r}"
        assert found == blocks.render(name, results).strip(), (
            f"{rel}'s block {name!r} differs from docs/benchmarks/results.json: run "
            "`python benchmarks/suite.py --render` (or the suite) instead of editing it")


def test_quoted_figures_name_the_machine(bench, results):
    blocks, _ = bench
    machine = results["machine"]
    for rel, name in _blocks(bench):
        found = blocks.current(ROOT / rel, name)
        assert machine["CPU"] in found, (rel, name)
        assert any(f"{s['date']}, by `{s['command']}`" in found.replace("``", "`")
                   for s in [results, *results["sections"].values()]), (rel, name)
        assert "SIMD path" in found and "AVX-512" in found


def test_the_speed_table_quotes_every_section_it_reads(bench, results):
    blocks, _ = bench
    table = blocks.current(ROOT / "README.md", "speed")
    # One row per measure whose section the record holds; at least the big four.
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) - 1 >= 4
    for key in ("training", "grid", "latency", "kernels"):
        assert key in results["sections"]


def test_section_files_hold_the_recorded_tables(bench, results):
    _, record = bench
    for key, section in results["sections"].items():
        text = (ROOT / "docs" / "benchmarks" / f"{key}.md").read_text()
        assert record.tables_from_markdown(text) == section["tables"], key
        assert f"Measured {section['date']}" in text
    # and results.md, which the performance page includes, gathers those files under the
    # recorded machine
    gathered = (ROOT / "docs" / "benchmarks" / "results.md").read_text()
    for label, value in results["machine"].items():
        if label != "cpu_flags":
            assert f"| {label} | {value} |" in gathered, label
    for key in results["sections"]:
        body = (ROOT / "docs" / "benchmarks" / f"{key}.md").read_text().strip()
        assert body in gathered, key


def test_figures_are_the_tables_cells(bench, results):
    _, record = bench
    assert results["figures"] == record.flatten(results["sections"])
    assert len(results["figures"]) > 100


def test_no_timing_is_typed_into_the_prose(bench):
    blocks, _ = bench
    for rel in PROSE:
        text = (ROOT / rel).read_text()
        for name in blocks.FILES.get(rel, ()):
            text = text.replace(blocks.current(ROOT / rel, name), "")
        found = [m.group(0) for m in TIMING.finditer(text)]
        assert not found, f"{rel} quotes timings outside the suite's blocks: {found}"


def test_a_changed_figure_fails_the_comparison(bench, results, tmp_path):
    # The comparison can fail: a record with one figure changed renders another table.
    blocks, record = bench
    changed = json.loads(json.dumps(results))
    table = changed["sections"]["kernels"]["tables"][0]
    row = next(r for r in table["rows"] if r[:3] == ["softmax", "float32", "(60000, 10)"])
    row[3] = "9.999"
    changed["figures"] = record.flatten(changed["sections"])
    assert blocks.render("speed", changed) != blocks.render("speed", results)
    # and update() writes the new one between the markers, nothing else
    for rel in blocks.FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text((ROOT / rel).read_text())
    blocks.update(tmp_path, changed)
    assert blocks.current(tmp_path / "README.md", "speed") == blocks.render(
        "speed", changed).strip()
    outside = blocks._pattern(ROOT / "README.md", "speed")
    assert (outside.sub("", (tmp_path / "README.md").read_text())
            == outside.sub("", (ROOT / "README.md").read_text()))


def test_the_timing_pattern_finds_typed_figures():
    for typed in ("0.24 s an epoch", "17 µs", "1.8 ms", "2.8x faster", "(3.0x)",
                  "took 15 microseconds"):
        assert TIMING.search(typed), typed
    for plain in ("4096 x 1000", "64 x 262,144", "1.5 x 64 bytes", "3.14 GB", "x86-64"):
        assert not TIMING.search(plain), plain
