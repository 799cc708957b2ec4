"""Soak: every kernel, and fit/predict, run many times; resident memory must not grow.

Resident set size is read from /proc/self/statm (Linux; skipped elsewhere) after a warm-up
that lets allocator pools and caches settle, then again after the loop; the growth per
call must stay under a small bound (a leak of even one buffer per call would exceed it).
Run with `-s` to see the figures.
"""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import csoftmax

STATM = Path("/proc/self/statm")
pytestmark = [
    pytest.mark.skipif(not STATM.exists(), reason="needs /proc/self/statm (Linux)"),
    # AddressSanitizer quarantines freed memory (hundreds of MB) to catch use after free, so
    # resident memory grows under it by design; .ci/sanitize.sh checks memory safety instead.
    pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                       reason="resident memory under AddressSanitizer includes its quarantine"),
]


def _rss_bytes():
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _growth_per_call(step, n_calls, warmup):
    for _ in range(warmup):
        step()
    before = _rss_bytes()
    for _ in range(n_calls):
        step()
    return (_rss_bytes() - before) / n_calls


def test_kernels_do_not_leak():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 100)).astype(np.float32)
    labels = rng.integers(0, 100, 64)
    g = rng.standard_normal(x.shape).astype(np.float32)

    def step():
        s = csoftmax.softmax(x, n_threads=2)
        ls = csoftmax.log_softmax(x)
        csoftmax.softmax_vjp(s, g)
        csoftmax.log_softmax_vjp(ls, g)
        csoftmax.softmax_jacobian(x[:4, :10])
        csoftmax.cross_entropy(x, labels, weight=np.ones(100), ignore_index=3, return_grad=True)
        csoftmax.cross_entropy(x, s, label_smoothing=0.1, return_grad=True)

    per_call = _growth_per_call(step, n_calls=3000, warmup=300)
    print(f"kernels: {per_call:.1f} bytes of resident memory per call")
    assert per_call < 64


@pytest.mark.parametrize("sparse", [False, True])
def test_fit_and_predict_do_not_leak(sparse):
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 20))
    X = sp.csr_matrix(np.where(X > 0.5, X, 0)) if sparse else X
    y = rng.integers(0, 3, 120)

    def step():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = csoftmax.MLPClassifier((16,), max_iter=3, random_state=0).fit(X, y)
        clf.predict_proba(X)
        clf.partial_fit(X, y)

    per_call = _growth_per_call(step, n_calls=300, warmup=200)
    print(f"fit + predict ({'CSR' if sparse else 'dense'}): {per_call:.1f} bytes per call")
    # Resident memory moves by whole 4 KiB pages, so a few pages of allocator drift show as
    # ~100 B per call here; a leaked engine buffer would be 1 KiB or more per call.
    assert per_call < 1024
