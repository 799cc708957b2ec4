"""Small public-API equivalents of private scikit-learn helpers.

Each function behaves, and words its errors and warnings, as the scikit-learn helper of
the same name: the sample-weight check, the ``partial_fit`` first-call logic and the
L-BFGS result check.
"""

import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_array


def _check_sample_weight(sample_weight, n_samples):
    """Validate sample_weight as scikit-learn does (finite; here also non-negative, as
    with its ``ensure_non_negative=True``); return None or float64 (n,)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    else:
        sample_weight = check_array(
            sample_weight,
            accept_sparse=False,
            ensure_2d=False,
            dtype=[np.float64, np.float32],
            order="C",
            input_name="sample_weight",
        )
        if sample_weight.ndim != 1:
            raise ValueError(
                f"Sample weights must be 1D array or scalar, got "
                f"{sample_weight.ndim}D array. Expected either a scalar value "
                f"or a 1D array of length {n_samples}."
            )
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                "sample_weight.shape == {}, expected {}!".format(
                    sample_weight.shape, (n_samples,)
                )
            )
    if np.any(sample_weight < 0):
        raise ValueError("Negative values in data passed to sample_weight")
    if np.all(sample_weight == 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return np.asarray(sample_weight, dtype=np.float64)


def _check_partial_fit_first_call(clf, classes=None):
    """Return True on the first partial_fit call (and set ``clf.classes_``)."""
    if getattr(clf, "classes_", None) is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    elif classes is not None:
        if getattr(clf, "classes_", None) is not None:
            if not np.array_equal(clf.classes_, unique_labels(classes)):
                raise ValueError(
                    "`classes=%r` is not the same as on last call "
                    "to partial_fit, was: %r" % (classes, clf.classes_)
                )
        else:
            clf.classes_ = unique_labels(classes)
            return True
    return False


def _check_optimize_result(result, max_iter):
    """Return lbfgs' iteration count; warn (ConvergenceWarning) if it did not converge."""
    n_iter = min(result.nit, max_iter)
    if result.status != 0:
        warning_msg = (
            f"lbfgs failed to converge after {n_iter} iteration(s) "
            f"(status={result.status}):\n"
            f"{result.message}\n"
        )
        if n_iter == max_iter:
            warning_msg += (
                "\nIncrease the number of iterations to improve the "
                f"convergence (max_iter={max_iter})."
            )
        warning_msg += (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )
        warnings.warn(warning_msg, ConvergenceWarning, stacklevel=3)
    return n_iter
