"""Moving a fitted model between csoftmax's and scikit-learn's ``MLPClassifier``.

:meth:`MLPClassifier.to_sklearn` and :meth:`MLPClassifier.from_sklearn` rest on this
module. The two classes compute the same network from the same fitted state, so a
conversion copies state rather than refitting:

* the parameters that both classes have (``get_params``); the ones only the source has
  are dropped (csoftmax's ``class_weight``, ``dtype`` and ``n_threads``: they shape
  training, never a prediction);
* the fitted attributes, deep-copied together so that lists the source shares (after
  early stopping ``coefs_`` *is* ``_best_coefs``) are shared in the copy too;
* the optimizer state of 'sgd' and 'adam': SGD's velocities and current learning rate,
  Adam's moments, step count and learning rate, so that ``partial_fit`` continues where
  the source stopped (a ``fit``, warm-started or not, starts a new optimizer in both
  libraries; a warm start goes on from the weights and stopping counters).

The optimizer is the one private part of scikit-learn used here, and only because it is
unavoidable: scikit-learn's ``partial_fit`` continues the object in ``_optimizer``, which
must be of its own classes (``sklearn.neural_network._stochastic_optimizers``) for the
converted model to pickle and load without csoftmax. csoftmax's optimizer state keeps the
same names (``velocities``, ``ms``, ``vs``, ``t``, ...). Should a scikit-learn release move those classes, the models convert
without the optimizer state (with a warning) and a later ``partial_fit`` starts a new one.
"""

import copy
import warnings

from sklearn.utils.validation import check_is_fitted

from csoftmax._core import Optimizer
from csoftmax.neural_network._optimizers import _AdamState, _SGDState

# The fitted state both classes keep, by the name both use. Attributes a model lacks
# (the curves of an 'lbfgs' fit, feature_names_in_ without named features) are skipped.
_FITTED = (
    "coefs_", "intercepts_", "n_layers_", "n_outputs_", "out_activation_", "classes_",
    "_label_binarizer", "n_features_in_", "feature_names_in_", "n_iter_", "t_", "loss_",
    "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_",
    "_no_improvement_count", "_best_coefs", "_best_intercepts",
)


def _sklearn_mlp_classifier():
    """scikit-learn's MLPClassifier, imported on first conversion rather than with csoftmax
    (a process that only fits, such as a grid search's worker, does not load it)."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier


def _sklearn_optimizers():
    """scikit-learn's SGDOptimizer and AdamOptimizer classes, or None if they moved."""
    try:
        from sklearn.neural_network._stochastic_optimizers import (
            AdamOptimizer,
            SGDOptimizer,
        )
    except ImportError:
        return None
    return SGDOptimizer, AdamOptimizer


def _common_params(source, target_class):
    """Deep copies of ``source``'s parameters that ``target_class`` also takes."""
    names = set(target_class().get_params(deep=False))
    params = source.get_params(deep=False)
    return copy.deepcopy({k: v for k, v in params.items() if k in names})


def _fitted_state(source):
    """The fitted attributes of ``source``, deep-copied together (aliases kept)."""
    state = {k: source.__dict__[k] for k in _FITTED if k in source.__dict__}
    state["_optimizer"] = source.__dict__.get("_optimizer")
    return copy.deepcopy(state)


def _optimizer_warning(why):
    warnings.warn(
        f"{why}: the model is converted without its optimizer state, and a later "
        "partial_fit starts a new one.",
        UserWarning,
        stacklevel=4,
    )


_MOVED = ("scikit-learn's optimizer classes are not in "
          "sklearn.neural_network._stochastic_optimizers")


def _to_sklearn_optimizer(state, params):
    """scikit-learn's optimizer holding ``state`` (csoftmax's, already a copy)."""
    classes = _sklearn_optimizers()
    if state is None:
        return None
    if classes is None:
        _optimizer_warning(_MOVED)
        return None
    sgd_class, adam_class = classes
    opt = state.optimizer
    h = opt.hyperparameters
    if isinstance(state, _SGDState):
        sk = sgd_class(
            params, state.learning_rate_init, state.lr_schedule, h["momentum"],
            h["nesterov"], state.power_t,
        )
        sk.velocities = list(opt.state)
        sk.learning_rate = float(opt.learning_rate)
        return sk
    if not isinstance(state, _AdamState):
        raise TypeError(f"unknown optimizer state {type(state).__name__!r}")
    n = len(opt.state) // 2
    sk = adam_class(params, state.learning_rate_init, h["beta_1"], h["beta_2"], h["epsilon"])
    sk.t = int(opt.t)
    sk.ms, sk.vs = list(opt.state[:n]), list(opt.state[n:])
    sk.learning_rate = opt.learning_rate
    return sk


def _from_sklearn_optimizer(sk):
    """csoftmax's optimizer state holding ``sk`` (scikit-learn's, already a copy)."""
    classes = _sklearn_optimizers()
    if sk is None:
        return None
    if classes is None:
        _optimizer_warning(_MOVED)
        return None
    sgd_class, adam_class = classes
    if isinstance(sk, sgd_class):
        return _sgd_state(vars(sk))
    if isinstance(sk, adam_class):
        return _adam_state(vars(sk))
    _optimizer_warning(f"unknown optimizer {type(sk).__name__!r}")
    return None


def _sgd_state(sk):
    """csoftmax's SGD state from the attributes of scikit-learn's ``SGDOptimizer``."""
    state = _SGDState.__new__(_SGDState)
    state.learning_rate_init = sk["learning_rate_init"]
    state.lr_schedule = sk["lr_schedule"]
    state.power_t = sk["power_t"]
    state.optimizer = Optimizer(
        "sgd", list(sk["velocities"]), learning_rate=float(sk["learning_rate"]),
        momentum=float(sk["momentum"]), nesterov=bool(sk["nesterov"]),
    )
    return state


def _adam_state(sk):
    """csoftmax's Adam state from the attributes of scikit-learn's ``AdamOptimizer``.

    The C optimizer applies the bias correction to ``learning_rate_init`` itself, from its
    step count ``t``.
    """
    state = _AdamState.__new__(_AdamState)
    state.learning_rate_init = sk["learning_rate_init"]
    state.optimizer = Optimizer(
        "adam", list(sk["ms"]) + list(sk["vs"]), int(sk["t"]),
        learning_rate=float(sk["learning_rate_init"]), beta_1=float(sk["beta_1"]),
        beta_2=float(sk["beta_2"]), epsilon=float(sk["epsilon"]),
    )
    return state


def to_sklearn(estimator):
    """A fitted ``sklearn.neural_network.MLPClassifier`` equal to ``estimator``."""
    check_is_fitted(estimator)
    sklearn_class = _sklearn_mlp_classifier()
    model = sklearn_class(**_common_params(estimator, sklearn_class))
    state = _fitted_state(estimator)
    optimizer = state.pop("_optimizer")
    model.__dict__.update(state)
    optimizer = _to_sklearn_optimizer(optimizer, model.coefs_ + model.intercepts_)
    if optimizer is not None:
        model._optimizer = optimizer
    return model


def from_sklearn(cls, estimator):
    """A fitted ``cls`` (csoftmax's MLPClassifier) equal to the scikit-learn ``estimator``."""
    if not isinstance(estimator, _sklearn_mlp_classifier()):
        raise TypeError(
            "estimator must be a fitted sklearn.neural_network.MLPClassifier; got "
            f"{type(estimator).__module__}.{type(estimator).__qualname__}"
        )
    check_is_fitted(estimator)
    model = cls(**_common_params(estimator, cls))
    state = _fitted_state(estimator)
    optimizer = _from_sklearn_optimizer(state.pop("_optimizer"))
    model.__dict__.update(state)
    if optimizer is not None:
        model._optimizer = optimizer
    return model


class _ExportMixin:
    """The conversions of :class:`csoftmax.MLPClassifier` to and from scikit-learn's."""

    def to_sklearn(self):
        """A fitted :class:`sklearn.neural_network.MLPClassifier` equal to this model.

        It predicts the same labels and, to rounding, the same probabilities, pickles and
        loads where csoftmax is not installed, converts to ONNX with ``skl2onnx``, and
        continues training as this model would: ``partial_fit`` from its optimizer state,
        a warm-started ``fit`` from its weights. Nothing is shared with this model.

        Returns
        -------
        estimator : sklearn.neural_network.MLPClassifier

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If this model is not fitted.

        Notes
        -----
        ``class_weight``, ``dtype`` and ``n_threads``, which scikit-learn lacks, are
        dropped: they shape training, never a prediction. Weights keep their dtype.
        See :doc:`/deployment`.

        Examples
        --------
        >>> import pickle
        >>> from sklearn.datasets import load_iris
        >>> from csoftmax import MLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifier((8,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
        >>> sk = clf.to_sklearn()
        >>> type(sk).__module__
        'sklearn.neural_network._multilayer_perceptron'
        >>> bool((sk.predict(X) == clf.predict(X)).all())
        True
        >>> b"csoftmax" in pickle.dumps(sk)
        False
        """
        return to_sklearn(self)

    @classmethod
    def from_sklearn(cls, estimator):
        """A model equal to a fitted :class:`sklearn.neural_network.MLPClassifier`.

        It predicts as ``estimator`` does, and its ``partial_fit`` and warm-started
        ``fit`` continue training as ``estimator``'s would, optimizer state included.
        ``class_weight``, ``dtype`` and ``n_threads`` keep their defaults; weights keep
        their dtype. ``from_sklearn(clf.to_sklearn())`` has exactly the weights of ``clf``.

        Parameters
        ----------
        estimator : sklearn.neural_network.MLPClassifier
            A fitted estimator; it is left unchanged, and nothing is shared with it.

        Returns
        -------
        model : MLPClassifier

        Raises
        ------
        TypeError
            If ``estimator`` is not scikit-learn's ``MLPClassifier``.
        sklearn.exceptions.NotFittedError
            If ``estimator`` is not fitted.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.neural_network import MLPClassifier as SklearnMLP
        >>> from csoftmax import MLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> sk = SklearnMLP((8,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
        >>> clf = MLPClassifier.from_sklearn(sk)
        >>> bool((clf.predict(X) == sk.predict(X)).all())
        True
        """
        return from_sklearn(cls, estimator)
