"""A csoftmax model runs in onnxruntime, through ``to_sklearn`` and ``skl2onnx.to_onnx``.

Needs the ``export`` extra (skl2onnx, onnxruntime); skipped without it. CI installs the
extra and runs this file with the imports checked first, so there it cannot skip.

Tolerances, measured on these data (``helpers.estimator.TARGETS``, one hidden layer of
16): labels equal (string class labels and labels that are not 0..n-1 included); probabilities within 1.0e-6 of csoftmax's for float32 input (the graph
computes in float32, csoftmax in the model's dtype; the largest difference is for the
float64 L-BFGS models, whose logits are the largest) and 1.7e-16 for float64 input to a
float64 model. The tests allow 1e-5 and 8 ulp of float64.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from csoftmax import MLPClassifier

from helpers.estimator import IGNORE_CONVERGENCE, TARGETS

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")

FLOAT32_INPUT_TOL = 1e-5
FLOAT64_INPUT_TOL = 8 * np.finfo(np.float64).eps


def run_onnx(model, X):
    """Labels and probabilities of ``model`` (scikit-learn's) run by onnxruntime."""
    onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False})
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    labels, proba = session.run(None, {session.get_inputs()[0].name: X})
    return labels, proba


def fitted(target, solver, dtype):
    X, y = TARGETS[target]
    return MLPClassifier((16,), solver=solver, max_iter=20, random_state=0,
                         dtype=dtype).fit(X, y)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("model_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel", "string",
                                    "odd-int-labels"])
def test_onnx_float32_predicts_as_csoftmax(target, solver, model_dtype):
    clf = fitted(target, solver, model_dtype)
    X = TARGETS[target][0].astype(np.float32)

    labels, proba = run_onnx(clf.to_sklearn(), X)

    assert proba.dtype == np.float32
    assert_array_equal(labels, clf.predict(X))
    assert np.abs(proba - clf.predict_proba(X)).max() <= FLOAT32_INPUT_TOL


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", ["multiclass", "binary"])
def test_onnx_float64_predicts_as_csoftmax(target):
    # (onnxruntime has no double Binarizer, which the multilabel graph uses.)
    clf = fitted(target, "adam", np.float64)
    X = TARGETS[target][0]

    labels, proba = run_onnx(clf.to_sklearn(), X)

    assert proba.dtype == np.float64
    assert_array_equal(labels, clf.predict(X))
    assert np.abs(proba - clf.predict_proba(X)).max() <= FLOAT64_INPUT_TOL


@IGNORE_CONVERGENCE
def test_csoftmax_model_itself_is_not_convertible():
    # The reason to_sklearn exists: skl2onnx knows scikit-learn's classes only.
    clf = MLPClassifier((4,), solver="lbfgs", max_iter=5).fit(*TARGETS["binary"])
    with pytest.raises(Exception, match="MLPClassifier"):
        skl2onnx.to_onnx(clf, TARGETS["binary"][0][:1])
