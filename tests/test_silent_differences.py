"""Where csoftmax and the libraries it stands in for could differ without a word: each
difference is either gone (tested here against the library) or stated in the docstring and
README (tested here as it is stated)."""

import numpy as np
import pandas as pd
import pytest
import scipy.special
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP

import csoftmax


def test_the_default_axis_differs_from_scipy_as_stated():
    z = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(csoftmax.softmax(z), scipy.special.softmax(z, axis=-1))
    np.testing.assert_allclose(csoftmax.softmax(z, axis=None), scipy.special.softmax(z))
    assert not np.allclose(csoftmax.softmax(z), scipy.special.softmax(z))
    doc = " ".join(csoftmax.softmax.__doc__.split())
    assert "the defaults differ" in doc and "normalises each row" in doc


def test_a_0d_input_gives_a_0d_array_as_stated():
    got, ref = csoftmax.softmax(np.float64(3.0)), scipy.special.softmax(np.float64(3.0))
    assert isinstance(got, np.ndarray) and got.shape == () and got == 1.0
    assert not isinstance(ref, np.ndarray) and ref == 1.0
    assert "0-d input gives a 0-d array" in " ".join(csoftmax.softmax.__doc__.split())


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


@pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)
@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
def test_probabilities_come_in_scikit_learns_dtype(digits, fit_dtype):
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    cs = csoftmax.MLPClassifier(**params).fit(X.astype(fit_dtype), y)
    sk = SkMLP(**params).fit(X.astype(fit_dtype), y)
    inputs = [X.astype(np.float32), X, (X * 16).astype(np.int64), X.tolist(),
              pd.DataFrame(X.astype(np.float32)), pd.DataFrame(X)]
    for Xp in inputs:
        for method in ("predict_proba", "predict_log_proba"):
            got, ref = getattr(cs, method)(Xp), getattr(sk, method)(Xp)
            assert got.dtype == ref.dtype, (method, type(Xp), fit_dtype)
    binary = csoftmax.MLPClassifier(**params).fit(X.astype(np.float32), y % 2)
    assert binary.predict_proba(X).dtype == np.float64
    assert binary.predict_proba(X.astype(np.float32)).dtype == np.float32
