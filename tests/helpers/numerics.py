"""Dtypes, thread counts, tolerances and assertions shared by the kernel tests.

The kernels are held to one accuracy: a float32 result within rtol 2e-5 of a
float64 reference computed from the same float32 values, a float64 result
within rtol 1e-10 (softmax, log_softmax, their derivatives, and the
cross-entropy loss and gradient alike).
"""

import numpy as np

DTYPES = [np.float32, np.float64]
N_THREADS = [1, 2]

RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-10}

# Probabilities (and so gradient entries) may underflow. float32 holds nothing
# below ~1.4e-45 and loses relative precision below 1.2e-38 (subnormals);
# float64 likewise below 2.2e-308. An atol far below every normal number
# forgives only that.
PROB_ATOL = {np.dtype(np.float32): 1e-30, np.dtype(np.float64): 1e-300}


def rtol(dtype):
    return RTOL[np.dtype(dtype)]


def prob_atol(dtype):
    return PROB_ATOL[np.dtype(dtype)]


# log_softmax_j = (x_j - max) - log(S), S = sum_k exp(x_k - max) in [1, C].
# Both terms are <= 0, so there is no cancellation, but log(S) carries an
# *absolute* error equal to the relative error of S: entries near 0 (a dominant
# class, e.g. -9.36e-14 for the row [0, -30]) can only be checked absolutely.
# S accumulates in double (or wider) in any order: its relative error is at most
# gamma_C ~ C * eps64 (Higham's bound for summing C positive terms), plus a few
# ulps of the result dtype when rounding. Scipy itself is off by 1e-16 there.
#
# The cross-entropy loss sum_j t'_j [(max - z_j) + log(S)] has only terms >= 0,
# so it is relatively accurate except for that same absolute error of log(S): a
# near-zero loss (dominant correct class) is checked absolutely, per unit of
# target mass.
def log_atol(dtype, n_classes=1):
    return 8 * np.finfo(dtype).eps + n_classes * np.finfo(np.float64).eps


def assert_close_scaled(actual, desired, tol):
    """Assert ``|actual - desired| <= tol`` elementwise, with ``tol`` an array.

    NaN must match NaN and infinities must match exactly.
    """
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(desired), err_msg="NaN positions")
    np.testing.assert_array_equal(np.isinf(actual), np.isinf(desired), err_msg="inf positions")
    inf = np.isinf(desired)
    np.testing.assert_array_equal(actual[inf], desired[inf], err_msg="inf values")
    finite = np.isfinite(desired)
    err = np.abs(actual - desired)
    tol = np.broadcast_to(tol, desired.shape)
    bad = finite & ~(err <= tol)
    if bad.any():
        idx = np.argwhere(bad)[:5].tolist()
        ratio = np.max(err[bad] / tol[bad])
        raise AssertionError(
            f"{bad.sum()} of {desired.size} entries outside tolerance; first at {idx}; "
            f"worst err/tol = {ratio:.3g}; actual={actual[bad][:5]}, desired={desired[bad][:5]}"
        )
