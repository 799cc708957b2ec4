"""The fuzzing harnesses of fuzz/: their seeds, their oracles, and a short run of each.

fuzz/fuzz_idx.py fuzzes the IDX reader, fuzz/fuzz_kernels.py the public kernel API,
fuzz/fuzz_state.py a fitted MLPClassifier's state. The short runs are the fixed-seed runs
CI does (fuzz/run.sh TARGET 20 1): 20 seconds of atheris each, on this checkout's build,
in a child process under a timeout, which must end without a finding. They are skipped
without atheris (pip install -e ".[fuzz]"), and everything here outside a source checkout.
"""

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

FUZZ_DIR = Path(__file__).resolve().parents[1] / "fuzz"
TARGETS = ("idx", "kernels", "state")

pytestmark = pytest.mark.skipif(
    not (FUZZ_DIR / "run.sh").is_file(), reason="fuzz/ is not here (not a source checkout)"
)


def _load(target):
    path = FUZZ_DIR / f"fuzz_{target}.py"
    spec = importlib.util.spec_from_file_location(f"fuzz_{target}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=TARGETS)
def harness(request):
    return _load(request.param)


@pytest.fixture(scope="module")
def kernels():
    module = _load("kernels")
    module._import_api()
    return module


@pytest.fixture(scope="module")
def state():
    return _load("state")


def test_seeds_pass_the_harness(harness):
    seeds = harness.seeds()

    assert len(seeds) > 30
    for seed in seeds:
        harness.check_input(seed)


def test_idx_harness_catches_a_reader_that_accepts_too_much(monkeypatch):
    # The oracle must be able to fail: a reader that ignores trailing bytes.
    idx = _load("idx")
    idx._import_reader()
    content = idx._idx(np.array([1, 2], dtype=np.uint8))
    monkeypatch.setattr(idx.datasets, "read_idx",
                        lambda path, max_bytes: np.array([1, 2], "u1"))

    with pytest.raises(AssertionError, match="accepted a file the reference refuses"):
        idx.check_input(b"\x00" + content + b"\x00")


def test_kernel_seeds_reach_results_and_refusals(kernels):
    kernels.STATS.clear()
    for seed in kernels.seeds():
        kernels.check_input(seed)

    results = {op for (op, outcome) in kernels.STATS if outcome == "result"}
    assert results == set(kernels.OPS)
    assert {outcome for (_, outcome) in kernels.STATS} >= {"result", "TypeError", "ValueError"}


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmax_vjp", "cross_entropy"])
def test_kernel_harness_catches_wrong_values(kernels, monkeypatch, op):
    # The oracle must be able to fail: a function whose result is off by a little.
    real = getattr(kernels.csoftmax, op)

    def off(*args, **kwargs):
        res = real(*args, **kwargs)
        if isinstance(res, tuple):
            return (res[0] * 1.01, res[1])
        res[...] = res * 1.01 + 1e-3  # in place: out= is still returned
        return res

    monkeypatch.setattr(kernels.csoftmax, op, off)
    with pytest.raises(AssertionError, match="float64 reference"):
        for seed in kernels.seeds():
            kernels.check_input(seed)


def test_kernel_harness_catches_an_undocumented_exception(kernels, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("prepared rows are not in the kernel's layout")

    monkeypatch.setattr(kernels.csoftmax, "softmax", broken)
    with pytest.raises(AssertionError, match="softmax raised RuntimeError"):
        kernels.check_input(bytes([0]))


def test_kernel_harness_catches_a_changed_input(kernels, monkeypatch):
    real = kernels.csoftmax.softmax

    def scribbles(x, *args, **kwargs):
        res = real(x, *args, **kwargs)
        if isinstance(x, np.ndarray) and x.size and x.flags.writeable and kwargs["out"] is None:
            x.reshape(-1)[0] += 1
        return res

    monkeypatch.setattr(kernels.csoftmax, "softmax", scribbles)
    with pytest.raises(AssertionError, match="changed input"):
        for seed in kernels.seeds():
            kernels.check_input(seed)


def test_state_seeds_reach_every_action(state):
    state.STATS.clear()
    for seed in state.seeds():
        state.check_input(seed)

    assert {a for (a, outcome) in state.STATS if outcome == "result"} == set(state.ACTIONS)


def test_state_harness_catches_wrong_probabilities(state, monkeypatch):
    import csoftmax.neural_network._estimator as estimator

    real = estimator.MLPClassifier.predict_proba
    monkeypatch.setattr(estimator.MLPClassifier, "predict_proba",
                        lambda self, X: real(self, X)[:, ::-1])
    with pytest.raises(AssertionError, match="NumPy forward pass"):
        for seed in state.seeds():
            state.check_input(seed)


@pytest.mark.parametrize("target", TARGETS)
def test_short_fixed_seed_run_finds_nothing(tmp_path, target):
    pytest.importorskip("atheris")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    env = {
        **os.environ,
        "FUZZ_CORPUS": str(tmp_path / "corpus"),
        "FUZZ_ARTIFACTS": str(tmp_path / "artifacts"),
    }
    env.pop("FUZZ_SANITIZED", None)

    completed = subprocess.run(
        [bash, str(FUZZ_DIR / "run.sh"), target, "20", "1"],
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
    assert n_runs > 200
    assert coverage > 50
