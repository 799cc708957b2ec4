"""The fixed cost of small calls to ``csoftmax.MLPClassifier``, and what it must not change.

A streaming ``partial_fit`` and a ``predict`` on plain arrays skip scikit-learn's general
validation (``_plain_input``). These tests count the validation calls and check that the
short path gives the bits and the errors of the general one, which the same call takes
when the short path is switched off. The parameters are checked on every call, once per
set of values (``_params.validate_parameters_once``), and no call looks up a signature.
"""

import inspect
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn import config_context, get_config
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier as SKMLPClassifier
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, validate_data

from csoftmax import MLPClassifier
from csoftmax.neural_network import _params, _random, _training
from csoftmax.neural_network._params import InvalidParameterError

from helpers.estimator import X_SMALL, Y_BINARY, Y_SMALL

CLASSES = np.unique(Y_SMALL)
CHUNKS = [slice(0, 10), slice(10, 20), slice(20, 220), slice(220, 221), slice(300, 310)]


def _calls_during(fn, codes):
    """{name: number of calls} of the functions in ``codes`` (name -> code object) and of
    any function of the module ``inspect``, while ``fn`` runs."""
    import inspect

    wanted = {code: name for name, code in codes.items()}
    counts = dict.fromkeys(list(codes) + ["inspect"], 0)

    def profile(frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code in wanted:
                counts[wanted[code]] += 1
            elif code.co_filename == inspect.__file__:
                counts["inspect"] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return counts


VALIDATION = {"check_array": check_array.__code__, "validate_data": validate_data.__code__}


def _general_path(monkeypatch):
    """Switch off the short path: every call validates as scikit-learn does."""
    monkeypatch.setattr(_training, "known_features", lambda estimator, X: False)
    monkeypatch.setattr(_training, "known_labels", lambda estimator, y, n: None)


def _stream(est, X, y, chunks=CHUNKS, classes=CLASSES):
    for k, chunk in enumerate(chunks):
        kwargs = dict(classes=classes) if k == 0 else {}
        est.partial_fit(X[chunk], y[chunk], **kwargs)
    return est


LABELS = {
    "int64": (Y_SMALL, CLASSES, {}),
    "int32-labels-int64-classes": (Y_SMALL.astype(np.int32), CLASSES, {}),
    "uint8": (Y_SMALL.astype(np.uint8), CLASSES.astype(np.uint8), {}),
    "binary": (Y_BINARY, np.array([0, 1]), {}),
    "odd-labels": (np.array([-5, 2, 7])[Y_SMALL % 3], np.array([-5, 2, 7]), {}),
    "float32-training": (Y_SMALL, CLASSES, dict(dtype=np.float32)),
    "sgd": (Y_SMALL, CLASSES, dict(solver="sgd", learning_rate="invscaling")),
}


@pytest.mark.parametrize("case", LABELS)
def test_short_partial_fit_gives_the_bits_of_the_general_path(monkeypatch, case):
    y, classes, params = LABELS[case]
    make = lambda: MLPClassifier((8,), random_state=0, **params)  # noqa: E731
    short = _stream(make(), X_SMALL, y, classes=classes)
    _general_path(monkeypatch)
    general = _stream(make(), X_SMALL, y, classes=classes)
    for a, b in zip(short.coefs_ + short.intercepts_, general.coefs_ + general.intercepts_):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
    assert short.loss_curve_ == general.loss_curve_ and short.t_ == general.t_
    assert_array_equal(short._optimizer.optimizer.state[0], general._optimizer.optimizer.state[0])
    assert_array_equal(short.predict_proba(X_SMALL), general.predict_proba(X_SMALL))


def test_plain_partial_fit_and_predict_skip_validation_and_inspect():
    est = MLPClassifier((8,), max_iter=3, random_state=0)
    est.partial_fit(X_SMALL[:10], Y_SMALL[:10], classes=CLASSES)
    X, y = X_SMALL[10:20], Y_SMALL[10:20]
    counts = _calls_during(lambda: est.partial_fit(X, y), VALIDATION)
    assert counts == {"check_array": 0, "validate_data": 0, "inspect": 0}
    for method in (est.predict_proba, est.predict, est.predict_log_proba):
        counts = _calls_during(lambda: method(X[:1]), VALIDATION)
        assert counts == {"check_array": 0, "validate_data": 0, "inspect": 0}, method
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        est.fit(X_SMALL, Y_SMALL)  # the same parameters again: checked once, no inspect
    counts = _calls_during(lambda: est.partial_fit(X, y), VALIDATION)
    assert counts == {"check_array": 0, "validate_data": 0, "inspect": 0}


def test_other_input_is_validated_once_per_array():
    est = MLPClassifier((8,), random_state=0).partial_fit(X_SMALL[:10], Y_SMALL[:10],
                                                         classes=CLASSES)
    X, y = X_SMALL[10:20].tolist(), Y_SMALL[10:20].tolist()  # lists: converted
    counts = _calls_during(lambda: est.partial_fit(X, y), VALIDATION)
    assert counts["validate_data"] == 1 and counts["check_array"] == 2, counts
    labels = Y_SMALL[10:20].astype(np.float64)  # float labels take scikit-learn's checks
    est.partial_fit(X_SMALL[10:20], labels)
    counts = _calls_during(lambda: est.predict_proba(X), VALIDATION)
    assert counts["validate_data"] == 1 and counts["check_array"] == 1, counts


def _error(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            call()
    return type(info.value), str(info.value)


BAD_CALLS = {
    "unknown-label": lambda X, y: (X[:10], np.where(y[:10] == 3, 11, y[:10])),
    "too-few-features": lambda X, y: (X[:10, :-1], y[:10]),
    "nan": lambda X, y: (np.where(np.arange(10)[:, None] == 4, np.nan, X[:10]), y[:10]),
    "inf": lambda X, y: (np.where(np.arange(10)[:, None] == 2, np.inf, X[:10]), y[:10]),
    "beyond-float32": lambda X, y: (np.where(np.arange(10)[:, None] == 2, 1e300, X[:10]),
                                    y[:10]),
    "short-y": lambda X, y: (X[:10], y[:9]),
    "non-integer-labels": lambda X, y: (X[:10], y[:10] + 0.5),
    "2-D-labels": lambda X, y: (X[:10], np.stack([y[:10], y[:10]], axis=1) % 2),
}


@pytest.mark.parametrize("case, dtype", [(case, dtype) for case in BAD_CALLS
                                         for dtype in (None, np.float32)
                                         if (case, dtype) != ("beyond-float32", None)])
def test_bad_partial_fit_input_raises_as_the_general_path(monkeypatch, case, dtype):
    X, y = BAD_CALLS[case](X_SMALL, Y_SMALL)
    make = lambda: MLPClassifier((8,), random_state=0, dtype=dtype).partial_fit(  # noqa: E731
        X_SMALL[:50], Y_SMALL[:50], classes=CLASSES)
    short = _error(lambda: make().partial_fit(X, y))
    with monkeypatch.context() as m:
        _general_path(m)
        general = _error(lambda: make().partial_fit(X, y))
    assert short == general
    if dtype is None:  # and as scikit-learn words it
        sk = SKMLPClassifier((8,), random_state=0).partial_fit(X_SMALL[:50], Y_SMALL[:50],
                                                              classes=CLASSES)
        expected = _error(lambda: sk.partial_fit(X, y))
        assert issubclass(short[0], expected[0]) and short[1] == expected[1]


@pytest.mark.parametrize("call", ["partial_fit", "predict_proba"])
def test_wrong_feature_count_is_scikit_learns_error(call):
    cs = MLPClassifier((8,), random_state=0).partial_fit(X_SMALL, Y_SMALL, classes=CLASSES)
    args = (X_SMALL[:5, :60], Y_SMALL[:5]) if call == "partial_fit" else (X_SMALL[:5, :60],)
    with pytest.raises(ValueError, match="X has 60 features, but MLPClassifier is expecting "
                                         "64 features as input"):
        getattr(cs, call)(*args)


def test_feature_names_are_still_checked():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X_SMALL, columns=[f"pixel{i}" for i in range(64)])
    est = MLPClassifier((8,), random_state=0).partial_fit(frame, Y_SMALL, classes=CLASSES)
    for call in (lambda: est.predict_proba(X_SMALL[:3]),
                 lambda: est.partial_fit(X_SMALL[:3], Y_SMALL[:3])):
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            call()
    with pytest.raises(ValueError, match="feature names should match"):
        est.partial_fit(frame.iloc[:3, ::-1], Y_SMALL[:3])


@pytest.mark.parametrize("classes", [np.array([-5, 2, 7]), np.array(["a", "b", "c", "d"]),
                                     np.array([3, 9]), np.array(["no", "yes"], dtype=object)])
def test_labels_of_the_output_layer_are_the_binarizers(classes):
    from sklearn.preprocessing import LabelBinarizer

    from csoftmax.neural_network._plain_input import known_labels_of_logits

    rng = np.random.default_rng(0)
    n_out = 1 if len(classes) == 2 else len(classes)
    logits = rng.integers(-2, 3, size=(400, n_out)).astype(np.float64)  # many ties, zeros
    logits[rng.random(logits.shape) < 0.05] = np.nan
    logits[rng.random(logits.shape) < 0.05] = np.inf

    class Model:
        pass

    model = Model()
    model._label_binarizer = LabelBinarizer().fit(classes)
    model.out_activation_ = "softmax" if n_out > 1 else "logistic"
    scores = logits if n_out > 1 else (logits > 0).astype(logits.dtype).ravel()
    expected = model._label_binarizer.inverse_transform(scores)
    got = known_labels_of_logits(model, logits)
    assert got.dtype == expected.dtype
    assert_array_equal(got, expected)


def test_a_changed_classes_attribute_is_not_trusted():
    est = MLPClassifier((8,), random_state=0).partial_fit(X_SMALL, Y_SMALL, classes=CLASSES)
    est.classes_ = CLASSES[:5]  # no longer the label binarizer's: the general path decides
    y = Y_SMALL[:10]
    message = "`y` has classes not in `self.classes_`"
    with pytest.raises(ValueError, match=message):
        est.partial_fit(X_SMALL[:10], y)


# ---------------------------------------------------------------------------
# Parameters: checked on every call, once per set of values
# ---------------------------------------------------------------------------
@pytest.fixture
def counted_checks(monkeypatch):
    """The number of times the parameters were really checked, from a fresh memory."""
    monkeypatch.setattr(_params, "_VALID", {})
    monkeypatch.setattr(_params, "_LAST_VALID", {})
    calls = []
    original = _params._validate_parameters
    monkeypatch.setattr(_params, "_validate_parameters",
                        lambda params, name: calls.append(name) or original(params, name))
    return calls


def test_parameters_are_checked_once_per_set_of_values(counted_checks):
    est = MLPClassifier((8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X_SMALL, Y_SMALL)
        est.fit(X_SMALL, Y_SMALL)
        for _ in range(3):
            est.partial_fit(X_SMALL[:10], Y_SMALL[:10])
        assert len(counted_checks) == 1
        est.set_params(alpha=0.01).fit(X_SMALL, Y_SMALL)
        assert len(counted_checks) == 2
        est.set_params(hidden_layer_sizes=[8]).fit(X_SMALL, Y_SMALL)  # a list: every call
        est.partial_fit(X_SMALL[:10], Y_SMALL[:10])
        assert len(counted_checks) == 4


def test_unchanged_parameters_are_known_by_identity(counted_checks, monkeypatch):
    keys = []
    original = _params._key
    monkeypatch.setattr(_params, "_key", lambda values: keys.append(1) or original(values))
    est = MLPClassifier((8,), max_iter=2, random_state=0)
    est.partial_fit(X_SMALL[:10], Y_SMALL[:10], classes=CLASSES)
    assert (len(counted_checks), len(keys)) == (1, 1)
    for _ in range(3):
        est.partial_fit(X_SMALL[:10], Y_SMALL[:10])
    assert (len(counted_checks), len(keys)) == (1, 1)
    est.alpha = float("1e-4")  # equal, another object: found by its key
    est.partial_fit(X_SMALL[:10], Y_SMALL[:10])
    assert (len(counted_checks), len(keys)) == (1, 2)
    other = MLPClassifier((8,), max_iter=2, random_state=1)  # other values: checked
    other.partial_fit(X_SMALL[:10], Y_SMALL[:10], classes=CLASSES)
    assert (len(counted_checks), len(keys)) == (2, 3)
    for name, value in [("max_iter", 2.0), ("shuffle", 1), ("verbose", 0.0)]:
        bad = MLPClassifier((8,), max_iter=2, random_state=1)  # equal values, other types
        setattr(bad, name, value)
        with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter"):
            bad.partial_fit(X_SMALL[:10], Y_SMALL[:10], classes=CLASSES)


@pytest.mark.parametrize("name, value", [
    ("alpha", -1), ("alpha", np.float64(-1.0)), ("shuffle", 1), ("verbose", -1),
    ("learning_rate_init", 0.0), ("batch_size", 0), ("random_state", -1), ("dtype", "int8"),
    ("n_threads", 0), ("n_threads", True), ("hidden_layer_sizes", 0), ("activation", "ReLU"),
])
@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_an_assigned_bad_value_raises_on_the_next_call(counted_checks, name, value, call):
    est = MLPClassifier((8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X_SMALL, Y_SMALL)
        est.partial_fit(X_SMALL[:10], Y_SMALL[:10])  # valid values, remembered
    setattr(est, name, value)
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of "
                                                    "MLPClassifier must be"):
        getattr(est, call)(X_SMALL[:10], Y_SMALL[:10])
    if call == "fit":  # as scikit-learn
        sk = SKMLPClassifier((8,), max_iter=2, random_state=0)
        if hasattr(sk, name):
            setattr(sk, name, value)
            with pytest.raises(ValueError, match=f"The '{name}' parameter of MLPClassifier"):
                sk.fit(X_SMALL[:10], Y_SMALL[:10])


SEEDS = [0, 1, 7, True, np.int64(12345), np.uint32(2**32 - 1), 2**32 - 1]


@pytest.mark.parametrize("seed", SEEDS, ids=repr)
def test_random_state_of_an_int_is_randomstate_of_that_seed(seed):
    rng, reference = _random.random_state_of(seed), np.random.RandomState(seed)
    assert type(rng) is np.random.RandomState and rng is not _random.random_state_of(seed)
    state, expected = rng.get_state(legacy=False), reference.get_state(legacy=False)
    assert state["state"]["pos"] == expected["state"]["pos"]
    assert_array_equal(state["state"]["key"], expected["state"]["key"])
    assert (state["has_gauss"], state["gauss"]) == (expected["has_gauss"], expected["gauss"])
    assert_array_equal(rng.randn(7), reference.randn(7))  # a Gaussian is cached after it
    assert_array_equal(rng.permutation(50), reference.permutation(50))


@pytest.mark.parametrize("seed", [-1, 2**32, np.int8(-3), 1.5, "0", [0]], ids=repr)
def test_random_state_of_a_bad_seed_raises_as_check_random_state(seed):
    with pytest.raises((ValueError, TypeError)) as expected:
        check_random_state(seed)
    with pytest.raises(type(expected.value)) as got:
        _random.random_state_of(seed)
    assert str(got.value) == str(expected.value)


def test_random_state_of_none_and_instances_are_check_random_states():
    assert _random.random_state_of(None) is np.random.mtrand._rand
    rng = np.random.RandomState(3)
    assert _random.random_state_of(rng) is rng


def test_each_partial_fit_draws_from_a_new_generator_of_the_seed(monkeypatch):
    est = MLPClassifier((8,), random_state=4).partial_fit(X_SMALL[:30], Y_SMALL[:30],
                                                           classes=CLASSES)
    for rows in (10, 200, 1):
        before = est._random_state
        est.partial_fit(X_SMALL[:rows], Y_SMALL[:rows])
        assert est._random_state is not before
        reference = np.random.RandomState(4)
        reference.shuffle(np.arange(rows))  # the call's draws
        assert_array_equal(est._random_state.random_sample(5), reference.random_sample(5))
    fast = _stream(MLPClassifier((8,), random_state=4), X_SMALL, Y_SMALL)
    monkeypatch.setattr(_training, "random_state_of", check_random_state)
    general = _stream(MLPClassifier((8,), random_state=4), X_SMALL, Y_SMALL)
    for a, b in zip(fast.coefs_ + fast.intercepts_, general.coefs_ + general.intercepts_):
        assert_array_equal(a, b)


def test_clone_and_get_params_read_no_signature():
    est = MLPClassifier((8,), alpha=0.5, n_threads=1)
    clone(est)  # the first use of the class reads its signature
    signature = {"signature": inspect._signature_from_callable.__code__}
    assert _calls_during(lambda: clone(est).get_params(), signature)["signature"] == 0
    assert clone(est).get_params() == est.get_params()
    expected = sorted(p for p in inspect.signature(MLPClassifier).parameters)
    assert MLPClassifier._get_param_names() == expected


def test_a_subclass_has_its_own_parameter_names():
    class Subclass(MLPClassifier):
        def __init__(self, hidden_layer_sizes=(100,), extra=1, *, alpha=0.0001):
            super().__init__(hidden_layer_sizes, alpha=alpha)
            self.extra = extra

    assert Subclass._get_param_names() == ["alpha", "extra", "hidden_layer_sizes"]
    assert clone(Subclass(extra=3)).get_params() == {
        "alpha": 0.0001, "extra": 3, "hidden_layer_sizes": (100,)}
    assert "extra" not in MLPClassifier._get_param_names()


def test_a_subclass_listing_its_own_parameter_names_has_them_checked():
    # A subclass may list its parameters by overriding _get_param_names (its __init__
    # passing the rest on as **kwargs): they are all validated, and cloned.
    class Listed(MLPClassifier):
        def __init__(self, extra=1, **kwargs):
            super().__init__(**kwargs)
            self.extra = extra

        @classmethod
        def _get_param_names(cls):
            return sorted({*MLPClassifier._get_param_names(), "extra"})

    with pytest.raises(ValueError, match="'alpha' parameter of Listed"):
        Listed(alpha=-1.0).partial_fit(np.zeros((2, 3)), [0, 1], classes=[0, 1])
    assert clone(Listed(extra=2, alpha=0.5)).get_params()["alpha"] == 0.5


@pytest.mark.parametrize("case", ["int64", "binary", "odd-labels", "float32-training"])
def test_fit_makes_the_binarizers_rows_without_transform(monkeypatch, case):
    y, _, params = LABELS[case]
    make = lambda: MLPClassifier((8,), max_iter=3, random_state=0, **params)  # noqa: E731
    counted = {"type_of_target": type_of_target.__code__}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        short = make().fit(X_SMALL, y)
        short_counts = _calls_during(lambda: make().fit(X_SMALL, y), counted)
        _general_path(monkeypatch)
        general = make().fit(X_SMALL, y)
        general_counts = _calls_during(lambda: make().fit(X_SMALL, y), counted)
    assert short_counts["type_of_target"] < general_counts["type_of_target"]
    for a, b in zip(short.coefs_ + short.intercepts_, general.coefs_ + general.intercepts_):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
    assert short.loss_curve_ == general.loss_curve_
    assert_array_equal(short.predict(X_SMALL), general.predict(X_SMALL))


@pytest.mark.parametrize("outer", [False, True])
def test_fit_skips_nested_validation_and_puts_the_setting_back(monkeypatch, outer):
    seen = []
    original = _training.compute_class_weight

    def compute_class_weight(*args, **kwargs):
        seen.append(get_config()["skip_parameter_validation"])
        return original(*args, **kwargs)

    monkeypatch.setattr(_training, "compute_class_weight", compute_class_weight)
    est = MLPClassifier((8,), max_iter=2, random_state=0, class_weight={0: 2.0})
    with config_context(skip_parameter_validation=outer, assume_finite=True), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        before = get_config()
        est.fit(X_SMALL, Y_SMALL)
        assert get_config() == before
        est.partial_fit(X_SMALL[:10], Y_SMALL[:10])
        assert get_config() == before
        for bad in (X_SMALL[:10, :3], np.full_like(X_SMALL[:10], np.nan)):
            with pytest.raises(ValueError):
                est.partial_fit(bad, Y_SMALL[:10])
            assert get_config() == before
    assert len(seen) >= 2 and all(seen)  # inside every call, fit and partial_fit
    assert get_config()["skip_parameter_validation"] is False


def test_random_state_of_falls_back_where_mt19937_refuses_the_words(monkeypatch):
    class Refused(_random.ISeedSequence):
        def generate_state(self, n_words, dtype=np.uint32):
            raise TypeError("an array of words is required")

    monkeypatch.setattr(_random, "_ZEROS", Refused())
    rng = _random.random_state_of(5)
    assert_array_equal(rng.permutation(40), np.random.RandomState(5).permutation(40))
    with pytest.raises(ValueError, match="Seed must be between 0 and 2\\*\\*32 - 1"):
        _random.random_state_of(-1)
