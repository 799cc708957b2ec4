"""Build hygiene of the compiled csoftmax extensions.

This module proves that

- importing csoftmax, and running its kernels, leaves the floating-point
  environment in IEEE mode: no flush-to-zero or denormals-are-zero, as an
  extension built with ``-ffast-math`` would switch on for the whole process;
- the SIMD dispatch is sound: the paths are those of the architecture (portable, avx2
  and avx512 on x86-64; portable elsewhere), each holds the instructions it is named
  after (read back from the object with objdump), ``csoftmax.simd_backend()`` names one,
  ``csoftmax.set_simd_backend`` validates its argument, ``CSOFTMAX_SIMD`` takes
  exactly the same names at import and warns about any other, and the portable C
  path gives the same results as every vectorised path this CPU supports, within
  a tolerance far tighter than the accuracy contract (and bitwise identical across
  ``n_threads``); the MLP engine trains bitwise identical weights on every path;
- ``import csoftmax`` stays light: scikit-learn and SciPy load only when the
  estimator or the datasets are first used.
"""

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special

import csoftmax
from csoftmax import _core

from helpers import isa
from helpers.numerics import prob_atol

X86_64 = platform.machine().lower() in {"x86_64", "amd64"}
BACKENDS = set(_core.simd_names())

# Different SIMD paths may use different exp approximations and partial-sum
# widths. Each is within a few ulps of the truth, so they agree to a few ulps:
# ~8 ulps for float32 and, allowing for long-row summation order, 1e-12 for
# float64 -- both 20-100x tighter than the documented rtol (2e-5 / 1e-10).
PATH_RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


# ---------------------------------------------------------------------------
# No flush-to-zero / denormals-are-zero
# ---------------------------------------------------------------------------


def assert_ieee_subnormals():
    for dtype in [np.float64, np.float32]:
        tiny = np.finfo(dtype).tiny
        assert tiny / dtype(2) != 0, f"{dtype.__name__}: flush-to-zero is on"
        smallest = np.finfo(dtype).smallest_subnormal
        assert smallest * dtype(2) == 2 * smallest != 0, f"{dtype.__name__}: denormals-are-zero is on"
        arr = np.full(4, tiny, dtype=dtype)
        assert np.all(arr / dtype(2) > 0), f"{dtype.__name__}: vectorised flush-to-zero is on"


def test_import_does_not_enable_flush_to_zero():
    assert "csoftmax" in sys.modules
    assert_ieee_subnormals()


def test_kernels_do_not_enable_flush_to_zero():
    x = np.random.default_rng(0).standard_normal((64, 1000))
    for dtype in [np.float32, np.float64]:
        xd = x.astype(dtype)
        csoftmax.softmax(xd, n_threads=2)
        csoftmax.log_softmax(xd, n_threads=2)
        csoftmax.cross_entropy(xd, np.arange(64), return_grad=True, n_threads=2)
    assert_ieee_subnormals()


def test_kernels_compute_subnormal_probabilities():
    # softmax([0, -720]) = [1, exp(-720)] with exp(-720) ~ 2.1e-313, a float64
    # subnormal; flush-to-zero or a fast-math exp would give 0.
    x = np.array([[0.0, -720.0]])
    s = csoftmax.softmax(x)
    expected = np.exp(-720.0) / (1 + np.exp(-720.0))
    assert 0 < expected < np.finfo(np.float64).tiny
    assert s[0, 1] > 0
    np.testing.assert_allclose(s[0, 1], expected, rtol=1e-3)  # subnormals keep few digits
    # float32: exp(-95) ~ 5.5e-42 is a float32 subnormal
    s32 = csoftmax.softmax(np.array([[0.0, -95.0]], dtype=np.float32))
    assert s32[0, 1] > 0
    np.testing.assert_allclose(s32[0, 1], np.exp(-95.0), rtol=1e-2)


def test_nan_and_inf_checks_survive_the_build():
    # -ffast-math (-ffinite-math-only) lets the compiler delete isnan/isinf checks.
    x = np.array([[0.0, np.nan, 1.0], [0.0, np.inf, 1.0], [-np.inf] * 3, [0.0, -np.inf, 1.0]])
    s = csoftmax.softmax(x)
    assert np.all(np.isnan(s[:3]))
    assert s[3, 1] == 0.0 and np.all(np.isfinite(s[3]))


# ---------------------------------------------------------------------------
# SIMD dispatch
# ---------------------------------------------------------------------------


@pytest.fixture
def restore_simd_backend():
    """Yield the active backend; restore it whatever the test does."""
    previous = csoftmax.simd_backend()
    try:
        yield previous
    finally:
        csoftmax.set_simd_backend(previous)
    assert csoftmax.simd_backend() == previous


def available_backends():
    """The backends this CPU accepts (set_simd_backend raises ValueError otherwise)."""
    names = []
    previous = csoftmax.simd_backend()
    try:
        for name in reversed(_core.simd_names()):
            try:
                csoftmax.set_simd_backend(name)
            except ValueError:
                continue
            assert csoftmax.simd_backend() == name
            names.append(name)
    finally:
        csoftmax.set_simd_backend(previous)
    return names


def test_simd_backend_names_a_known_path():
    assert csoftmax.simd_backend() in BACKENDS


def test_the_paths_are_those_of_the_architecture():
    expected = ("portable", "avx2", "avx512") if X86_64 else ("portable",)
    assert _core.simd_names() == expected


def test_each_path_holds_the_instructions_it_is_named_after():
    # A compiler that ignored a target pragma would build the avx512 path as plain code
    # while simd_backend() still said "avx512": read the instructions back.
    objdump = isa.find_objdump()
    if objdump is None:
        pytest.skip("objdump is not installed")
    counts = isa.register_counts(_core.__file__, objdump)
    assert set(counts) == BACKENDS, isa.describe(counts)
    widest = {level: isa.widest(c) for level, c in counts.items()}
    if X86_64:
        assert widest == {"portable": "xmm", "avx2": "ymm", "avx512": "zmm"}, isa.describe(counts)
    elif platform.machine().lower() in {"aarch64", "arm64"}:
        assert widest == {"portable": "neon"}, isa.describe(counts)


def test_the_extension_holds_only_the_shipped_kernels():
    # The row-loop-only copy of the kernels (-DCS_FORCE_ROW_PATH, kernels/narrow.h) is
    # for the C tests; a build that linked it in would carry a second set of kernels.
    data = Path(_core.__file__).read_bytes()
    if b"softmax_block_f32_portable" not in data:
        pytest.skip("the extension's symbols are stripped")
    assert b"_rowpath_" not in data


def test_set_simd_backend_switches_and_validates(restore_simd_backend):
    csoftmax.set_simd_backend("portable")
    assert csoftmax.simd_backend() == "portable"
    csoftmax.set_simd_backend("auto")
    assert csoftmax.simd_backend() in BACKENDS
    for bad in ["sse9", "", "AVX3"]:
        with pytest.raises(ValueError):
            csoftmax.set_simd_backend(bad)
    assert csoftmax.simd_backend() in BACKENDS
    assert "portable" in available_backends()


def test_backend_name_with_a_nul_is_refused(restore_simd_backend):
    before = csoftmax.simd_backend()
    for name in ("portable\x00garbage", "auto\x00", "\x00"):
        with pytest.raises(ValueError, match="name must be one of"):
            csoftmax.set_simd_backend(name)
        assert csoftmax.simd_backend() == before
    assert csoftmax._core.simd_parse("portable\x00") == -2
    assert csoftmax._core.simd_parse("portable") >= 0


def test_auto_picks_a_vector_path_when_the_cpu_has_avx2(restore_simd_backend):
    # The architecture is the interpreter's, not the host's: under an emulator (qemu-user
    # running aarch64 on x86-64) /proc/cpuinfo describes a CPU this process does not run on.
    if not X86_64:
        pytest.skip(f"AVX2 is an x86-64 extension; this interpreter runs on {platform.machine()}")
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo to read CPU features from")
    if " sse2" not in flags:
        pytest.skip("/proc/cpuinfo does not describe an x86-64 CPU (an emulator's?)")
    if " avx2" not in flags or " fma" not in flags:
        pytest.skip("CPU lacks AVX2/FMA")
    csoftmax.set_simd_backend("auto")
    assert csoftmax.simd_backend() in {"avx2", "avx512"}


def _run_python(code, **env_vars):
    root = Path(csoftmax.__file__).resolve().parent.parent
    env = dict(os.environ, **env_vars)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )


def test_env_var_forces_portable_path_at_import():
    proc = _run_python("import csoftmax; print(csoftmax.simd_backend())", CSOFTMAX_SIMD="portable")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "portable"
    assert proc.stderr == ""


def test_env_var_takes_auto_as_set_simd_backend_does(restore_simd_backend):
    proc = _run_python("import csoftmax; print(csoftmax.simd_backend())", CSOFTMAX_SIMD="auto")
    assert proc.returncode == 0, proc.stderr
    csoftmax.set_simd_backend("auto")  # this process may run under another CSOFTMAX_SIMD
    assert proc.stdout.strip() == csoftmax.simd_backend() and proc.stderr == ""


@pytest.mark.parametrize("value", ["avx9", "Portable", "", "1"])
def test_env_var_with_an_unknown_name_warns_and_uses_the_best_path(value):
    code = "import csoftmax; csoftmax.set_simd_backend('auto'); print(csoftmax.simd_backend())"
    best = _run_python(code).stdout.strip()
    proc = _run_python("import csoftmax; print(csoftmax.simd_backend())", CSOFTMAX_SIMD=value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == best
    assert "RuntimeWarning" in proc.stderr and f"CSOFTMAX_SIMD={value!r}" in proc.stderr
    assert ", ".join(map(repr, ("auto",) + _core.simd_names())) in proc.stderr


def test_env_var_naming_a_path_the_cpu_lacks_warns(restore_simd_backend):
    missing = BACKENDS - set(available_backends())
    if not missing:
        pytest.skip("this CPU runs every path")
    proc = _run_python("import csoftmax; print(csoftmax.simd_backend())",
                       CSOFTMAX_SIMD=sorted(missing)[0])
    assert proc.returncode == 0, proc.stderr
    assert "does not support" in proc.stderr and "RuntimeWarning" in proc.stderr


def test_import_loads_neither_scikit_learn_nor_scipy_until_needed():
    code = (
        "import sys, numpy as np, csoftmax\n"
        "heavy = lambda: sorted(m for m in ('sklearn', 'scipy') if m in sys.modules)\n"
        "csoftmax.softmax(np.ones((2, 3))); csoftmax.cross_entropy(np.ones((2, 3)), [0, 1])\n"
        "print(heavy())\n"
        "assert 'MLPClassifier' in dir(csoftmax) and 'datasets' in dir(csoftmax)\n"
        "from csoftmax import MLPClassifier\n"
        "assert MLPClassifier is csoftmax.neural_network.MLPClassifier\n"
        "assert csoftmax.datasets.load_mnist\n"
        "print(heavy())\n"
    )
    proc = _run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["[]", "['scipy', 'sklearn']"]


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        csoftmax.nope  # noqa: B018


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_mlp_trains_identical_weights_on_every_path(solver, restore_simd_backend):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    fits = {}
    for backend in available_backends():
        csoftmax.set_simd_backend(backend)
        clf = csoftmax.MLPClassifier(hidden_layer_sizes=(12,), activation="logistic",
                                     solver=solver, max_iter=3, random_state=0,
                                     dtype=np.float32)
        with pytest.warns(Warning):  # not converged in 3 iterations
            clf.fit(X[:300] / 16, y[:300])
        fits[backend] = clf.coefs_ + clf.intercepts_
    for backend, params in fits.items():
        for a, b in zip(params, fits["portable"]):
            np.testing.assert_array_equal(a, b, err_msg=backend)


def _all_outputs(dtype, n_threads=None):
    """Outputs of every kernel on ordinary, wide, extreme and non-finite input."""
    rng = np.random.default_rng(1)
    x = (3.0 * rng.standard_normal((37, 203))).astype(dtype)
    x[5] = -np.inf
    x[6, 3] = np.inf
    x[7, 9] = np.nan
    x[8, ::4] = -np.inf
    x[9] = (1e4 * rng.choice([-1.0, 1.0], size=203) + rng.standard_normal(203)).astype(dtype)
    wide = (3.0 * rng.standard_normal((2, 50_000))).astype(dtype)
    small = x[10:20, :9]
    dy = rng.standard_normal(x.shape).astype(dtype)
    labels = rng.integers(0, 203, size=37)
    probs = rng.dirichlet(np.ones(203), size=37).astype(dtype)
    out = {}
    for tag, a in [("x", x), ("wide", wide), ("fortran", np.asfortranarray(x))]:
        out[f"softmax_{tag}"] = csoftmax.softmax(a, n_threads=n_threads)
        out[f"log_softmax_{tag}"] = csoftmax.log_softmax(a, n_threads=n_threads)
    out["softmax_axis0"] = csoftmax.softmax(x, axis=0, n_threads=n_threads)
    out["jacobian"] = csoftmax.softmax_jacobian(small, n_threads=n_threads)
    s = out["softmax_x"]
    out["softmax_vjp"] = csoftmax.softmax_vjp(s, dy, n_threads=n_threads)
    out["log_softmax_vjp"] = csoftmax.log_softmax_vjp(out["log_softmax_x"], dy, n_threads=n_threads)
    loss, grad = csoftmax.cross_entropy(x, labels, reduction="none", return_grad=True, n_threads=n_threads)
    out["xent_loss"], out["xent_grad"] = loss, grad
    loss, grad = csoftmax.cross_entropy(
        x, probs, label_smoothing=0.1, reduction="none", return_grad=True, n_threads=n_threads
    )
    out["xent_probs_loss"], out["xent_probs_grad"] = loss, grad
    wide_labels = np.array([3, 49_999])
    loss, grad = csoftmax.cross_entropy(wide, wide_labels, reduction="none", return_grad=True, n_threads=n_threads)
    out["xent_wide_loss"], out["xent_wide_grad"] = loss, grad
    return out


def assert_paths_agree(a, b, dtype):
    """a ~ b within PATH_RTOL, relative to the size of what was computed.

    Quantities that cancel (Jacobian, VJPs, gradients) get an absolute slack of
    PATH_RTOL times the largest magnitude in their row; everything else is
    compared relatively, with NaN/inf required at the same places.
    """
    rtol = PATH_RTOL[np.dtype(dtype)]
    tiny = prob_atol(dtype)
    assert a.keys() == b.keys()
    for key in a:
        x, y = np.asarray(a[key], dtype=np.float64), np.asarray(b[key], dtype=np.float64)
        assert a[key].dtype == b[key].dtype == dtype, key
        if key in {"jacobian", "softmax_vjp", "log_softmax_vjp"} or key.endswith("grad"):
            finite_abs = np.where(np.isfinite(y), np.abs(y), 0.0)
            atol = rtol * finite_abs.max(axis=-1, keepdims=True) + tiny
            np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=key)
            diff = np.where(np.isnan(y), 0.0, np.abs(x - y))
            assert np.all(diff <= atol), f"{key}: max diff {diff.max()}"
        else:
            atol = 8 * np.finfo(dtype).eps if key.startswith(("log_softmax", "xent")) else tiny
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_portable_path_matches_every_vector_path(dtype, restore_simd_backend):
    backends = available_backends()
    results = {}
    for name in backends:
        csoftmax.set_simd_backend(name)
        assert csoftmax.simd_backend() == name
        results[name] = _all_outputs(dtype)
    portable = results["portable"]
    # the portable path itself is right (spot check against scipy)
    rng = np.random.default_rng(1)
    x = (3.0 * rng.standard_normal((37, 203))).astype(dtype).astype(np.float64)
    rows = slice(10, 37)
    np.testing.assert_allclose(
        portable["softmax_x"][rows],
        scipy.special.softmax(x[rows], axis=1),
        rtol=2e-5 if dtype == np.float32 else 1e-10,
        atol=1e-30,
    )
    assert np.all(np.isnan(portable["softmax_x"][5:8]))
    assert np.all(portable["softmax_x"][8, ::4] == 0.0)
    for name in backends:
        assert_paths_agree(results[name], portable, dtype)


def test_default_path_matches_portable_path(restore_simd_backend):
    # the path picked at import (whatever it is) against the portable one
    default = {dt: _all_outputs(dt) for dt in (np.float32, np.float64)}
    csoftmax.set_simd_backend("portable")
    assert csoftmax.simd_backend() == "portable"
    for dt in (np.float32, np.float64):
        assert_paths_agree(default[dt], _all_outputs(dt), dt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_portable_path_is_bitwise_identical_across_n_threads(dtype, restore_simd_backend):
    csoftmax.set_simd_backend("portable")
    one = _all_outputs(dtype, n_threads=1)
    two = _all_outputs(dtype, n_threads=2)
    for key in one:
        np.testing.assert_array_equal(two[key], one[key], strict=True, err_msg=key)


def test_import_leaves_the_openmp_wait_policy_as_it_found_it():
    # csoftmax's OpenMP threads spin briefly when idle (set while the extension loads), but
    # the process environment is put back: unset stays unset, a user's value is kept.
    code = ("import os, csoftmax; "
            "print(os.environ.get('GOMP_SPINCOUNT', 'unset'), "
            "os.environ.get('OMP_WAIT_POLICY', 'unset'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    root = Path(csoftmax.__file__).resolve().parent.parent
    env["PYTHONPATH"] = str(root)
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["unset", "unset"]
    proc = _run_python(code, OMP_WAIT_POLICY="active")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[1] == "active"
    proc = _run_python(code, GOMP_SPINCOUNT="7")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "7"
