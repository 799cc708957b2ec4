"""scikit-learn's estimator API checks for ``csoftmax.MLPClassifier``.

Run with pandas installed so that the DataFrame/Series checks run too.

The default-constructed estimator must pass every check with no expected
failures.  Note that scikit-learn's own MLPClassifier is exempted from nothing
either, but scikit-learn silently adjusts parameters for its own estimators
(``max_iter=100`` and ``solver="lbfgs"`` for the sample-weight equivalence
check); a third-party class gets no such help, so the checks run here with
the real defaults (``max_iter=200``, ``solver="adam"``).  On 2 cores the whole
set takes about 10-20 s, so no ``max_iter`` reduction is needed.

Because our estimator has a ``class_weight`` parameter, the checks also run
``check_class_weight_classifiers``, which scikit-learn's MLPClassifier never
sees.
"""

import numpy as np
import pandas  # noqa: F401  (the pandas checks must not be skipped)
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from csoftmax import MLPClassifier

# Default max_iter=200 on tiny noisy data often ends without convergence:
# expected, and only noise in the report.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([MLPClassifier()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# float32 training from any input.  The two sample-weight equivalence checks
# compare two 200-epoch Adam fits (weighted rows vs repeated rows) with
# assert_allclose(rtol=1e-7); float32 rounding (eps 1.2e-7) of the differently
# ordered sums, amplified by Adam's normalised steps, moves predict_proba by
# one float32 ulp (dense) up to ~1e-3 (sparse), so those two checks cannot
# hold in float32 and are declared expected failures for this instance only
# (they run and must pass in float64 above). check_methods_subset_invariance
# feeds float64 rows: the float32 model computes in float32 and returns float64,
# scikit-learn's dtype, which sets the check's rtol to float64's 1e-7, while
# batches of other sizes move a float32 probability by one ulp (~1.2e-7).
_FLOAT32_XFAIL = {
    "check_methods_subset_invariance":
        "float32 probabilities, in float64 for float64 rows, against rtol=1e-7",
    "check_sample_weight_equivalence_on_dense_data":
        "float32 training cannot meet the check's rtol=1e-7",
    "check_sample_weight_equivalence_on_sparse_data":
        "float32 training cannot meet the check's rtol=1e-7",
}


@parametrize_with_checks(
    [MLPClassifier(dtype=np.float32)],
    expected_failed_checks=lambda est: _FLOAT32_XFAIL,
)
def test_sklearn_compatible_estimator_float32(estimator, check):
    check(estimator)
