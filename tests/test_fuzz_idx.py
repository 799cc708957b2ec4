"""The IDX reader's fuzzing harness (fuzz/fuzz_idx.py): its seeds and a short run.

The short run is the fixed-seed run CI does: 20 seconds of atheris, which must
end without a finding. It is skipped without atheris (pip install -e ".[fuzz]")
and, like the seed replay, outside a source checkout.
"""

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

FUZZ_DIR = Path(__file__).resolve().parents[1] / "fuzz"
HARNESS = FUZZ_DIR / "fuzz_idx.py"

pytestmark = pytest.mark.skipif(
    not HARNESS.is_file(), reason="fuzz/ is not here (not a source checkout)"
)


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("fuzz_idx", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seeds_pass_the_harness(harness):
    seeds = harness.seeds()

    assert len(seeds) > 30
    for seed in seeds:
        harness.check_input(seed)


def test_harness_catches_a_reader_that_accepts_too_much(harness, monkeypatch):
    # The oracle must be able to fail: a reader that ignores trailing bytes.
    content = harness._idx(harness.np.array([1, 2], dtype=harness.np.uint8))
    monkeypatch.setattr(
        harness.datasets, "read_idx", lambda path, max_bytes: harness.np.array([1, 2], "u1")
    )

    with pytest.raises(AssertionError, match="accepted a file the reference refuses"):
        harness.check_input(b"\x00" + content + b"\x00")


def test_short_fixed_seed_run_finds_nothing(tmp_path):
    pytest.importorskip("atheris")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    env = {
        **os.environ,
        "FUZZ_CORPUS": str(tmp_path / "corpus"),
        "FUZZ_ARTIFACTS": str(tmp_path / "artifacts"),
    }

    completed = subprocess.run(
        [bash, str(FUZZ_DIR / "run_idx.sh"), "20", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )

    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-3000:]
    assert list((tmp_path / "artifacts").iterdir()) == []
    done = re.search(r"^#(\d+)\s+DONE\s+cov: (\d+)", log, re.MULTILINE)
    assert done, log[-3000:]
    n_runs, coverage = int(done.group(1)), int(done.group(2))
    assert n_runs > 1000
    assert coverage > 50
