"""The common case of a small call, checked without scikit-learn's general validation.

``validate_data`` and ``LabelBinarizer`` handle every container, dtype and label type, and
for a few rows they cost far more than the C work: each looks for DataFrame feature names
and runs ``check_array``, and ``unique_labels``/``type_of_target`` run it again on ``y``.
For the input of a streaming ``partial_fit`` or a ``predict`` on a fitted model (a plain
ndarray, integer labels already in ``classes_``) the answer is known from a few flags, and
so are the labels ``predict`` makes of the output layer.
Each function here returns that answer, or None when the input is anything else; the
caller then runs scikit-learn's validation, which converts it or raises with its usual
message. So no input is accepted here that validation would reject or convert.
"""

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import validate_data

from csoftmax.neural_network._engine import _checked_input


def known_features(estimator, X):
    """Whether ``validate_data(estimator, X, reset=False)`` has nothing to do but confirm
    the feature count: ``X`` is a 2-D ndarray (which has no feature names), the estimator
    was fitted without feature names, on ``X.shape[1]`` features."""
    state = vars(estimator)
    return (type(X) is np.ndarray and X.ndim == 2 and "feature_names_in_" not in state
            and state.get("n_features_in_") == X.shape[1])


def _binarizer_classes(estimator):
    """``classes_`` when the estimator's label binarizer is the plain one-of-K (or binary)
    encoder of integer classes that ``fit``/``partial_fit`` made, else None."""
    state = vars(estimator)
    binarizer, classes = state.get("_label_binarizer"), state.get("classes_")
    if type(binarizer) is not LabelBinarizer or type(classes) is not np.ndarray:
        return None
    b = vars(binarizer)
    if b.get("classes_") is not classes and not np.array_equal(b.get("classes_"), classes):
        return None
    if (b.get("neg_label"), b.get("pos_label"), b.get("sparse_output")) != (0, 1, False):
        return None
    n = classes.shape[0]
    y_type = b.get("y_type_")
    if classes.ndim != 1 or classes.dtype.kind not in "iu" or not (
            (y_type == "multiclass" and n >= 3) or (y_type == "binary" and n == 2)):
        return None
    return classes


def known_labels(estimator, y, n_samples):
    """``Y``, the one-of-K boolean matrix (one column for two classes) that validation and
    the label binarizer make of ``y``, when ``y`` is a 1-D integer ndarray of ``n_samples``
    labels that are all in the estimator's integer ``classes_``; else None.

    The caller must have checked that the call keeps ``classes_``: a continued call
    (partial_fit without ``warm_start``, where scikit-learn only checks that ``y`` has no
    other label), or one whose label binarizer was just fitted on ``y`` or checked against it.
    """
    if (type(y) is not np.ndarray or y.ndim != 1 or y.shape[0] != n_samples
            or y.dtype.kind not in "iu"):
        return None
    classes = _binarizer_classes(estimator)
    if classes is None:
        return None
    n_classes = classes.shape[0]
    index = np.searchsorted(classes, y)
    np.minimum(index, n_classes - 1, out=index)
    if not (classes[index] == y).all():
        return None  # a label not in classes_: validation raises its error
    if n_classes == 2:
        return (index == 1).reshape(-1, 1)
    Y = np.zeros((n_samples, n_classes), dtype=bool)
    Y[np.arange(n_samples), index] = True
    return Y


def known_labels_of_logits(estimator, logits):
    """The labels ``estimator._label_binarizer.inverse_transform`` makes of the output
    layer's values ``logits`` (n_samples, n_outputs), for a multiclass (softmax) or binary
    (one logistic output, threshold 0) model whose binarizer ``fit`` made; else None.

    Multiclass: ``classes_`` at the first largest value of each row (NaN first, as
    ``argmax``). Binary: ``classes_[1]`` where the logit is above 0, else ``classes_[0]``.
    """
    binarizer = vars(estimator).get("_label_binarizer")
    if type(binarizer) is not LabelBinarizer or logits.ndim != 2:
        return None
    b = vars(binarizer)
    classes = b.get("classes_")
    if (type(classes) is not np.ndarray or classes.ndim != 1 or b.get("sparse_input_", True)
            or (b.get("neg_label"), b.get("pos_label")) != (0, 1)):
        return None
    y_type, out = b.get("y_type_"), vars(estimator).get("out_activation_")
    if y_type == "multiclass" and out == "softmax" and logits.shape[1] == classes.shape[0]:
        return classes[logits.argmax(axis=1)]
    if y_type == "binary" and out == "logistic" and logits.shape[1] == 1 == classes.shape[0] - 1:
        return classes[(logits[:, 0] > 0).astype(np.intp)]
    return None


def validated_input(estimator, X):
    """X checked by ``validate_data`` for a fitted estimator, as its engine reads it.

    One C pass checks that a C-contiguous 2-D float array is finite, and casts it to the
    weights' dtype if needed (``_checked_input``). Such an array then has nothing left
    for ``check_array`` to check or convert, so ``validate_data`` checks only its
    feature count and names; and a plain ndarray for a model fitted without feature
    names has none, so its feature count is compared here (``known_features``), without
    ``validate_data``'s search for DataFrame column names. Anything else is checked and
    converted by ``check_array``.
    """
    dtype = np.asarray(estimator.coefs_[0]).dtype
    X_engine, finite = _checked_input(X, dtype, estimator.n_threads)
    if finite:
        if not known_features(estimator, X):  # feature names, or a wrong feature count
            validate_data(estimator, X, reset=False, skip_check_array=True)
        return X_engine
    return validate_data(
        estimator, X, accept_sparse=["csr", "csc"], dtype=dtype, order="C", reset=False,
    )
