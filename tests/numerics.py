"""Assertion helpers shared by the kernel tests."""

import numpy as np


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
