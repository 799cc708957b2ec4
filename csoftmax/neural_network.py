"""Multi-layer perceptron classifier trained by csoftmax's fused kernels.

``MLPClassifier`` is a drop-in replacement for
:class:`sklearn.neural_network.MLPClassifier`: same parameters, defaults, validation
errors, fitted attributes, verbose output, warnings and random-number consumption.

Design
------
* Python runs once per epoch (or per ``partial_fit`` call): input validation,
  shuffling of the sample order, the early-stopping split and score, the
  learning-rate schedule, verbose output and stopping decisions.
* Everything that runs per minibatch -- forward pass, fused output deltas, backward
  GEMMs, the L2 term and the SGD/Adam update -- is delegated to
  ``csoftmax._mlp.MLPEngine``, which releases the GIL.  An engine is built once per
  ``fit``/``partial_fit``/predict call and is never stored on the estimator (engines
  are not picklable).  It updates ``coefs_`` and ``intercepts_`` in place.
* Optimizer state (velocities, or Adam's moments and step count, and the current
  learning rate) lives in a small picklable object on the estimator so that
  ``partial_fit`` continues it across calls, pickles and joblib memmap reloads.
* Only public scikit-learn API is used.  Parameter validation, the sample-weight
  check, the ``partial_fit`` first-call logic and the L-BFGS result check are small
  local equivalents of scikit-learn's private helpers.
"""

import numbers
import warnings
from itertools import chain

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit
from sklearn import config_context, get_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d, compute_class_weight, shuffle
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from csoftmax._core import MLPEngine, Optimizer
from csoftmax._utils import check_n_threads
from csoftmax.functional import log_softmax, softmax

__all__ = ["MLPClassifier", "InvalidParameterError"]

_STOCHASTIC_SOLVERS = ("sgd", "adam")

# Largest number of rows a predict-time engine processes at once.
_PREDICT_BATCH_ROWS = 4096


class InvalidParameterError(ValueError, TypeError):
    """Raised when a parameter of :class:`MLPClassifier` has an invalid type or value.

    It subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's own
    ``InvalidParameterError`` does, and its messages use the same format.
    """


# --------------------------------------------------------------------------------------
# Parameter validation (a small public-API equivalent of sklearn's _param_validation)
# --------------------------------------------------------------------------------------


class _Constraint:
    """A named predicate; ``str(constraint)`` is the phrase used in error messages."""

    def __init__(self, predicate, description):
        self.predicate = predicate
        self.description = description

    def is_satisfied_by(self, value):
        return self.predicate(value)

    def __str__(self):
        return self.description


def _interval(kind, left, right, closed):
    """Numbers of ``kind`` ("int" or "float") in an interval, as sklearn's Interval."""
    number_type = numbers.Integral if kind == "int" else numbers.Real
    lo = -np.inf if left is None else left
    hi = np.inf if right is None else right
    left_closed = closed in ("left", "both")
    right_closed = closed in ("right", "both")

    def predicate(value):
        if not isinstance(value, number_type):
            return False
        if not isinstance(value, numbers.Integral) and np.isnan(value):
            return False
        if value < lo or (value == lo and not left_closed):
            return False
        if value > hi or (value == hi and not right_closed):
            return False
        return True

    def bound(b, default):
        if b is None:
            return default
        return b if kind == "int" else float(b)

    description = (
        f"{'an int' if kind == 'int' else 'a float'} in the range "
        f"{'[' if left_closed else '('}{bound(left, '-inf')}, "
        f"{bound(right, 'inf')}{']' if right_closed else ')'}"
    )
    return _Constraint(predicate, description)


def _str_options(*options):
    return _Constraint(
        lambda v: isinstance(v, str) and v in options,
        "a str among {" + ", ".join(repr(o) for o in options) + "}",
    )


def _instance_of(types, name):
    return _Constraint(lambda v: isinstance(v, types), f"an instance of {name!r}")


_NONE = _Constraint(lambda v: v is None, "None")
_BOOL = _instance_of(bool, "bool")
_NP_BOOL = _instance_of(np.bool_, "numpy.bool")
_ARRAY_LIKE = _Constraint(
    lambda v: (
        not sp.issparse(v)
        and (hasattr(v, "__len__") or hasattr(v, "shape") or hasattr(v, "__array__"))
        and not np.isscalar(v)
    ),
    "an array-like",
)
_WORKING_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _is_valid_dtype(value):
    if isinstance(value, str):
        return value in ("float32", "float64")
    if isinstance(value, type):
        return value in (np.float32, np.float64)
    return isinstance(value, np.dtype) and value in _WORKING_DTYPES


_PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": [_ARRAY_LIKE, _interval("int", 1, None, "left")],
    "activation": [_str_options("identity", "logistic", "tanh", "relu")],
    "solver": [_str_options("lbfgs", "sgd", "adam")],
    "alpha": [_interval("float", 0, None, "left")],
    "batch_size": [_str_options("auto"), _interval("int", 1, None, "left")],
    "learning_rate": [_str_options("constant", "invscaling", "adaptive")],
    "learning_rate_init": [_interval("float", 0, None, "neither")],
    "power_t": [_interval("float", 0, None, "left")],
    "max_iter": [_interval("int", 1, None, "left")],
    "shuffle": [_BOOL, _NP_BOOL],
    "random_state": [
        _interval("int", 0, 2**32 - 1, "both"),
        _instance_of(np.random.RandomState, "numpy.random.mtrand.RandomState"),
        _NONE,
    ],
    "tol": [_interval("float", 0, None, "left")],
    "verbose": [_interval("int", 0, None, "left"), _BOOL, _NP_BOOL],
    "warm_start": [_BOOL, _NP_BOOL],
    "momentum": [_interval("float", 0, 1, "both")],
    "nesterovs_momentum": [_BOOL, _NP_BOOL],
    "early_stopping": [_BOOL, _NP_BOOL],
    "validation_fraction": [_interval("float", 0, 1, "left")],
    "beta_1": [_interval("float", 0, 1, "left")],
    "beta_2": [_interval("float", 0, 1, "left")],
    "epsilon": [_interval("float", 0, None, "neither")],
    "n_iter_no_change": [
        _interval("int", 1, None, "left"),
        _Constraint(
            lambda v: isinstance(v, numbers.Real) and v == np.inf, "a float among {inf}"
        ),
    ],
    "max_fun": [_interval("int", 1, None, "left")],
    # csoftmax extras
    "class_weight": [_instance_of(dict, "dict"), _str_options("balanced"), _NONE],
    "dtype": [
        _Constraint(
            _is_valid_dtype,
            "a str among {'float32', 'float64'}, numpy.float32, numpy.float64",
        ),
        _NONE,
    ],
    "n_threads": [
        _Constraint(
            lambda v: (
                isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
                and v != 0
            ),
            "a nonzero int",
        ),
        _NONE,
    ],
}


def _validate_parameters(params, caller_name):
    """Raise InvalidParameterError for the first parameter no constraint accepts."""
    for name, value in params.items():
        constraints = _PARAMETER_CONSTRAINTS.get(name)
        if constraints is None or any(c.is_satisfied_by(value) for c in constraints):
            continue
        if len(constraints) == 1:
            expected = str(constraints[0])
        else:
            expected = (
                ", ".join(str(c) for c in constraints[:-1]) + f" or {constraints[-1]}"
            )
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller_name} must be {expected}. "
            f"Got {value!r} instead."
        )


# --------------------------------------------------------------------------------------
# Small public-API equivalents of private scikit-learn helpers
# --------------------------------------------------------------------------------------


def _check_sample_weight(sample_weight, n_samples):
    """Validate sample_weight as scikit-learn does; return None or float64 (n,)."""
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


def _engine_array(a, dtype):
    """``a`` itself if the engine can use it (C-contiguous, writeable, dtype), or a copy."""
    return np.require(a, dtype=dtype, requirements=["C", "A", "W", "E"])


def _engine_input(X, dtype):
    """X as the engine wants it: C-contiguous ndarray or CSR matrix of ``dtype``."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=dtype)
        X.indices = X.indices.astype(np.int64)
        X.indptr = X.indptr.astype(np.int64)
        return X
    return np.ascontiguousarray(X, dtype=dtype)


# --------------------------------------------------------------------------------------
# Optimizer state (kept on the estimator between partial_fit calls; picklable)
# --------------------------------------------------------------------------------------


class _SGDState:
    """Velocities and learning-rate schedule of minibatch SGD with momentum."""

    def __init__(self, params, learning_rate_init, lr_schedule, momentum, nesterov,
                 power_t):
        self.learning_rate_init = learning_rate_init
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.optimizer = Optimizer("sgd", [np.zeros_like(p) for p in params],
                                   float(learning_rate_init), float(momentum), bool(nesterov))

    @property
    def learning_rate(self):
        return self.optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.optimizer.learning_rate = value

    def prepare(self, dtype):
        self.optimizer.state = [_engine_array(v, dtype) for v in self.optimizer.state]

    def run_epoch(self, engine, X, y, sample_weight, order, batch_size, alpha):
        return engine.epoch(X, y, sample_weight, order, batch_size, alpha, self.optimizer)

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class _AdamState:
    """First and second moments and step count of Adam."""

    def __init__(self, params, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate_init
        state = [np.zeros_like(p) for p in params] + [np.zeros_like(p) for p in params]
        self.optimizer = Optimizer("adam", state, float(learning_rate_init), beta_1=beta_1,
                                   beta_2=beta_2, epsilon=epsilon)

    @property
    def learning_rate(self):
        return self.optimizer.learning_rate

    @property
    def t(self):
        return self.optimizer.t

    def prepare(self, dtype):
        self.optimizer.state = [_engine_array(v, dtype) for v in self.optimizer.state]

    def run_epoch(self, engine, X, y, sample_weight, order, batch_size, alpha):
        return engine.epoch(X, y, sample_weight, order, batch_size, alpha, self.optimizer)

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


def _check_solver(estimator):
    if estimator.solver not in _STOCHASTIC_SOLVERS:
        raise AttributeError(
            "partial_fit is only available for stochastic"
            " optimizers. %s is not stochastic." % estimator.solver
        )
    return True


# --------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer Perceptron classifier trained by csoftmax's fused C kernels.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the
    same parameters, defaults, validation errors, fitted attributes, verbose output,
    warnings and random-number consumption, so that the same ``random_state`` gives
    the same initial weights, minibatch order and early-stopping split.  Each
    minibatch step (GEMMs, fused bias + activation, fused softmax/sigmoid
    cross-entropy gradient, activation derivatives, L2 term and optimizer update)
    runs in compiled code without the GIL; Python runs once per epoch.

    This model optimizes the log-loss function using LBFGS or stochastic gradient
    descent.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element represents the number of neurons in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function for the hidden layer.

        - 'identity', no-op activation, useful to implement linear bottleneck,
          returns f(x) = x
        - 'logistic', the logistic sigmoid function,
          returns f(x) = 1 / (1 + exp(-x)).
        - 'tanh', the hyperbolic tan function, returns f(x) = tanh(x).
        - 'relu', the rectified linear unit function, returns f(x) = max(0, x)

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver for weight optimization.

        - 'lbfgs' is an optimizer in the family of quasi-Newton methods
          (``scipy.optimize.minimize(method="L-BFGS-B")`` on the fused full-batch
          loss and gradient).
        - 'sgd' refers to stochastic gradient descent.
        - 'adam' refers to a stochastic gradient-based optimizer proposed by
          Kingma, Diederik, and Jimmy Ba.

        The default solver 'adam' works well on relatively large datasets (thousands
        of training samples or more). For small datasets, 'lbfgs' can converge
        faster and perform better.

    alpha : float, default=0.0001
        Strength of the L2 regularization term. The L2 regularization term is
        divided by the sample size (the sum of the sample weights) when added to the
        loss.

    batch_size : int, default='auto'
        Size of minibatches for stochastic optimizers. If the solver is 'lbfgs',
        the classifier will not use minibatch. When set to "auto",
        `batch_size=min(200, n_samples)`.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning rate schedule for weight updates.

        - 'constant' is a constant learning rate given by 'learning_rate_init'.
        - 'invscaling' gradually decreases the learning rate at each time step
          't' using an inverse scaling exponent of 'power_t'.
          effective_learning_rate = learning_rate_init / pow(t, power_t)
        - 'adaptive' keeps the learning rate constant to 'learning_rate_init' as
          long as training loss keeps decreasing. Each time two consecutive epochs
          fail to decrease training loss by at least tol, or fail to increase
          validation score by at least tol if 'early_stopping' is on, the current
          learning rate is divided by 5.

        Only used when ``solver='sgd'``.

    learning_rate_init : float, default=0.001
        The initial learning rate used. It controls the step-size in updating the
        weights. Only used when solver='sgd' or 'adam'.

    power_t : float, default=0.5
        The exponent for inverse scaling learning rate. It is used in updating
        effective learning rate when the learning_rate is set to 'invscaling'.
        Only used when solver='sgd'.

    max_iter : int, default=200
        Maximum number of iterations. The solver iterates until convergence
        (determined by 'tol') or this number of iterations. For stochastic solvers
        ('sgd', 'adam'), note that this determines the number of epochs (how many
        times each data point will be used), not the number of gradient steps.

    shuffle : bool, default=True
        Whether to shuffle samples in each iteration. Only used when solver='sgd'
        or 'adam'.

    random_state : int, RandomState instance, default=None
        Determines random number generation for weights and bias initialization,
        train-test split if early stopping is used, and batch sampling when
        solver='sgd' or 'adam'. Pass an int for reproducible results across
        multiple function calls. The random numbers are drawn exactly as
        scikit-learn draws them.

    tol : float, default=1e-4
        Tolerance for the optimization. When the loss or score is not improving by
        at least ``tol`` for ``n_iter_no_change`` consecutive iterations, unless
        ``learning_rate`` is set to 'adaptive', convergence is considered to be
        reached and training stops.

    verbose : bool, default=False
        Whether to print progress messages to stdout.

    warm_start : bool, default=False
        When set to True, reuse the solution of the previous call to fit as
        initialization, otherwise, just erase the previous solution.

    momentum : float, default=0.9
        Momentum for gradient descent update. Should be between 0 and 1. Only used
        when solver='sgd'.

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum. Only used when solver='sgd' and
        momentum > 0.

    early_stopping : bool, default=False
        Whether to use early stopping to terminate training when validation score
        is not improving. If set to True, it will automatically set aside
        ``validation_fraction`` of training data as validation and terminate
        training when validation score is not improving by at least ``tol`` for
        ``n_iter_no_change`` consecutive epochs. The split is stratified, except in
        a multilabel setting. The best weights seen are restored at the end.
        If early stopping is False, then the training stops when the training loss
        does not improve by more than ``tol`` for ``n_iter_no_change`` consecutive
        passes over the training set. Only effective when solver='sgd' or 'adam'.

    validation_fraction : float, default=0.1
        The proportion of training data to set aside as validation set for early
        stopping. Must be between 0 and 1. Only used if early_stopping is True.

    beta_1 : float, default=0.9
        Exponential decay rate for estimates of first moment vector in adam, should
        be in [0, 1). Only used when solver='adam'.

    beta_2 : float, default=0.999
        Exponential decay rate for estimates of second moment vector in adam,
        should be in [0, 1). Only used when solver='adam'.

    epsilon : float, default=1e-8
        Value for numerical stability in adam. Only used when solver='adam'.

    n_iter_no_change : int, default=10
        Maximum number of epochs to not meet ``tol`` improvement. Only effective
        when solver='sgd' or 'adam'.

    max_fun : int, default=15000
        Only used when solver='lbfgs'. Maximum number of loss function calls. The
        solver iterates until convergence (determined by 'tol'), number of
        iterations reaches max_iter, or this number of loss function calls.

    class_weight : dict, 'balanced' or None, default=None
        Weights associated with classes in the form ``{class_label: weight}``
        (classes not in the dict get weight one). The "balanced" mode uses the
        values of y to automatically adjust weights inversely proportional to
        class frequencies in the input data, as
        ``sum(sample_weight) / (n_classes * weighted_bincount(y))``
        (see :func:`sklearn.utils.compute_class_weight`). The effective weight of a
        sample is ``sample_weight * class_weight[y]``; it is used by the loss, its
        gradient and the early-stopping validation score. Not supported for
        multilabel targets, and "balanced" is not supported by ``partial_fit``.
        Not available in scikit-learn's MLPClassifier.

    dtype : {None, 'float32', 'float64', numpy.float32, numpy.float64}, \
            default=None
        Floating-point type in which the network is trained and its weights are
        stored. None keeps the input's float dtype (float32 stays float32, float64
        stays float64, anything else becomes float64), as scikit-learn does; on a
        warm start or ``partial_fit`` the dtype of the existing weights is kept.
        ``np.float32`` trains in float32 even from float64 input (about twice the
        GEMM throughput, half the memory). Not available in scikit-learn.

    n_threads : int, default=None
        Number of OpenMP threads used by the kernels. None means all usable cores
        (respecting ``OMP_NUM_THREADS``, ``threadpoolctl`` limits and the thread
        limit of a joblib worker); a negative value counts back from that (-1 all,
        -2 all but one); 0 is an error. The fitted weights do not depend on it.
        Not available in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.

    loss_ : float
        The current loss computed with the loss function (the exact cross-entropy,
        see Notes, plus the L2 term).

    best_loss_ : float or None
        The minimum loss reached by the solver throughout fitting. If
        `early_stopping=True`, this attribute is set to `None`. Refer to the
        `best_validation_score_` fitted attribute instead.

    loss_curve_ : list of shape (`n_iter_`,)
        The ith element in the list represents the loss at the ith iteration.

    validation_scores_ : list of shape (`n_iter_`,) or None
        The score at each iteration on a held-out validation set. The score
        reported is the (weighted) accuracy score. Only available if
        `early_stopping=True`, otherwise the attribute is set to `None`.

    best_validation_score_ : float or None
        The best validation score (i.e. accuracy score) that triggered the early
        stopping. Only available if `early_stopping=True`, otherwise the attribute
        is set to `None`.

    t_ : int
        The number of training samples seen by the solver during fitting.

    coefs_ : list of shape (n_layers - 1,)
        The ith element in the list represents the weight matrix corresponding to
        layer i, of the working dtype.

    intercepts_ : list of shape (n_layers - 1,)
        The ith element in the list represents the bias vector corresponding to
        layer i + 1, of the working dtype.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has
        feature names that are all strings.

    n_iter_ : int
        The number of iterations the solver has run.

    n_layers_ : int
        Number of layers.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation function.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The scikit-learn estimator this class
        replaces.
    csoftmax.cross_entropy : The fused softmax + cross-entropy loss and gradient.
    csoftmax.log_softmax : Used by :meth:`predict_log_proba`.

    Notes
    -----
    Differences from scikit-learn 1.9's ``MLPClassifier``:

    - The reported loss (``loss_``, ``loss_curve_``, ``best_loss_``) is the exact
      cross-entropy computed from the logits with a fused log-sum-exp
      (``logsumexp(z) - z_y`` for softmax outputs, ``log(1 + exp(-+z))`` for
      logistic outputs), with no clipping of probabilities to ``[eps, 1 - eps]``.
      Values can therefore differ from scikit-learn's where a predicted
      probability is below machine epsilon; the gradients are the same.
    - :meth:`predict_log_proba` is ``log_softmax`` of the logits (softmax output)
      or a stable log-sigmoid (logistic output), so it stays finite where
      ``log(predict_proba(X))`` would be ``-inf``.
    - ``class_weight``, ``dtype`` and ``n_threads`` are extra parameters.
    - Weights and predictions are in the working dtype: a float32 model returns
      float32 probabilities for any input, and the 'lbfgs' solver keeps float32
      weights (scikit-learn silently switches them to float64).
    - Speed: one minibatch step is a handful of BLAS calls plus fused passes,
      without the GIL and without per-batch allocations.

    With float64 data and the same ``random_state`` the fitted ``coefs_`` match
    scikit-learn's to rounding error. The same ``random_state`` gives bitwise
    identical ``coefs_`` across runs and across ``n_threads``.

    References
    ----------
    Hinton, Geoffrey E. "Connectionist learning procedures."
    Artificial intelligence 40.1 (1989): 185-234.

    Glorot, Xavier, and Yoshua Bengio. "Understanding the difficulty of training
    deep feedforward neural networks." International Conference on Artificial
    Intelligence and Statistics. 2010.

    He, Kaiming, et al (2015). "Delving deep into rectifiers: Surpassing
    human-level performance on imagenet classification." arXiv:1502.01852

    Kingma, Diederik, and Jimmy Ba (2014). "Adam: A method for stochastic
    optimization." arXiv:1412.6980

    Examples
    --------
    >>> from csoftmax import MLPClassifier
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X / 16, y, stratify=y, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=500, random_state=0)
    >>> clf = clf.fit(X_train, y_train)
    >>> clf.predict(X_test[:5])
    array([2, 0, 4, 9, 4])
    >>> clf.predict_proba(X_test[:5]).shape
    (5, 10)
    >>> bool(clf.score(X_test, y_test) > 0.95)
    True
    >>> clf.coefs_[0].shape, clf.coefs_[0].dtype, clf.out_activation_
    ((64, 64), dtype('float64'), 'softmax')
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        dtype=None,
        n_threads=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.class_weight = class_weight
        self.dtype = dtype
        self.n_threads = n_threads

    # ------------------------------------------------------------------ helpers
    def _validate_params(self):
        _validate_parameters(self.get_params(deep=False), type(self).__name__)

    def _is_fitted(self):
        try:
            check_is_fitted(self)
        except NotFittedError:
            return False
        return True

    def _working_dtype(self, first_pass):
        """dtype argument for validate_data: a dtype, or sklearn's float default."""
        if self.dtype is not None:
            return np.dtype(self.dtype)
        if not first_pass:
            return self.coefs_[0].dtype
        return (np.float64, np.float32)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=self._working_dtype(first_pass=reset),
            order="C",
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # incremental warm_start classes_ defined -> action
        #   0 0 0 / 0 1 0 / 0 0 1 -> (re)define classes_
        #   0 1 1 / 1 1 1         -> check compatibility with the warm start
        #   1 0 1                 -> check compatibility with the last fit
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )

        # bool keeps float32 training from being upcast
        Y = self._label_binarizer.transform(y)
        if sp.issparse(Y):
            Y = Y.toarray()
        return X, y, np.asarray(Y).astype(bool)

    def _effective_sample_weight(self, y, Y, sample_weight, incremental):
        """sample_weight * class_weight[y] (None when both are None)."""
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError(
                "class_weight is not supported for multilabel targets; use "
                "sample_weight instead."
            )
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight '{0}' is not supported for partial_fit. In order to "
                "use '{0}' weights, use compute_class_weight('{0}', classes=classes, "
                "y=y). In place of y you can use a large enough sample of the full "
                "training set target to properly estimate the class frequency "
                "distributions. Pass the resulting weights as the class_weight "
                "parameter.".format(self.class_weight)
            )
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight
        )
        if Y.shape[1] == 1:
            class_index = Y[:, 0].astype(np.intp)
        else:
            class_index = Y.argmax(axis=1)
        per_sample = np.asarray(weights, dtype=np.float64)[class_index]
        if sample_weight is not None:
            per_sample = per_sample * sample_weight
        return per_sample

    def _engine_targets(self, Y, dtype):
        """Targets in the engine's format: class indices (softmax) or 0/1 matrix."""
        if self.out_activation_ == "softmax":
            return np.ascontiguousarray(Y.argmax(axis=1), dtype=np.int64)
        return np.ascontiguousarray(Y, dtype=dtype)

    def _prepare_params(self, dtype):
        """Make coefs_/intercepts_ writeable C-contiguous arrays of ``dtype``.

        The lists are updated in place (not rebound), as scikit-learn updates them,
        so that list aliasing between ``coefs_`` and the early-stopping copies
        behaves the same.  Read-only arrays (e.g. after ``joblib.load(...,
        mmap_mode="r")``) are copied.
        """
        for params in (self.coefs_, self.intercepts_):
            for i, p in enumerate(params):
                params[i] = _engine_array(p, dtype)
        for name in ("_best_coefs", "_best_intercepts"):
            best = getattr(self, name, None)
            if best is not None:
                for i, p in enumerate(best):
                    if p.dtype != dtype:
                        best[i] = p.astype(dtype)

    def _init_coef(self, fan_in, fan_out, dtype):
        # Glorot-uniform initialization, drawn in float64 as scikit-learn does.
        factor = 6.0
        if self.activation == "logistic":
            factor = 2.0
        init_bound = np.sqrt(factor / (fan_in + fan_out))
        coef_init = self._random_state.uniform(-init_bound, init_bound, (fan_in, fan_out))
        intercept_init = self._random_state.uniform(-init_bound, init_bound, fan_out)
        return coef_init.astype(dtype, copy=False), intercept_init.astype(dtype, copy=False)

    def _initialize(self, Y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        if self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        self.coefs_ = []
        self.intercepts_ = []
        for i in range(self.n_layers_ - 1):
            coef_init, intercept_init = self._init_coef(
                layer_units[i], layer_units[i + 1], dtype
            )
            self.coefs_.append(coef_init)
            self.intercepts_.append(intercept_init)

        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]

        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    # ----------------------------------------------------------------- training
    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError(
                "hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes
            )
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )

        X, y, Y = self._validate_input(X, y, incremental, reset=first_pass)
        dtype = X.dtype
        n_samples, n_features = X.shape
        sample_weight = _check_sample_weight(sample_weight, n_samples)
        sample_weight = self._effective_sample_weight(y, Y, sample_weight, incremental)

        self.n_outputs_ = Y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]

        self._random_state = check_random_state(self.random_state)

        if first_pass:
            self._initialize(Y, layer_units, dtype)
        self._prepare_params(dtype)

        n_threads = check_n_threads(self.n_threads)
        X = _engine_input(X, dtype)
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, Y, sample_weight, incremental, n_threads)
        elif self.solver == "lbfgs":
            self._fit_lbfgs(X, Y, sample_weight, layer_units, n_threads)

        weights = chain(self.coefs_, self.intercepts_)
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _fit_lbfgs(self, X, Y, sample_weight, layer_units, n_threads):
        dtype = self.coefs_[0].dtype
        shapes = [(a, b) for a, b in zip(layer_units[:-1], layer_units[1:])]
        sizes = [a * b for a, b in shapes] + [b for _, b in shapes]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        n_layers = len(shapes)

        # Parameters and gradients are views into two packed vectors, so scipy's
        # iterate is copied in once and the gradient is read out once per call.
        packed = np.empty(offsets[-1], dtype=dtype)
        packed_grad = np.empty(offsets[-1], dtype=dtype)

        def views(vector):
            coefs = [
                vector[offsets[i]:offsets[i + 1]].reshape(shapes[i])
                for i in range(n_layers)
            ]
            intercepts = [
                vector[offsets[n_layers + i]:offsets[n_layers + i + 1]]
                for i in range(n_layers)
            ]
            return coefs, intercepts

        coefs, intercepts = views(packed)
        coef_grads, intercept_grads = views(packed_grad)
        for i in range(n_layers):
            coefs[i][...] = self.coefs_[i]
            intercepts[i][...] = self.intercepts_[i]
            self.coefs_[i] = coefs[i]
            self.intercepts_[i] = intercepts[i]

        y_engine = self._engine_targets(Y, dtype)
        engine = MLPEngine(
            coefs, intercepts, self.activation, self.out_activation_,
            max(X.shape[0], 1), n_threads,
        )
        alpha = float(self.alpha)

        def loss_grad(x):
            packed[...] = x
            loss = engine.loss_grad(
                X, y_engine, sample_weight, alpha, coef_grads + intercept_grads
            )
            return float(loss), packed_grad.astype(np.float64)

        opt_res = scipy.optimize.minimize(
            loss_grad,
            packed.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
        )
        self.n_iter_ = _check_optimize_result(opt_res, self.max_iter)
        self.loss_ = opt_res.fun
        packed[...] = opt_res.x

    def _fit_stochastic(self, X, Y, sample_weight, incremental, n_threads):
        dtype = self.coefs_[0].dtype
        params = self.coefs_ + self.intercepts_
        if not incremental or not hasattr(self, "_optimizer"):
            if self.solver == "sgd":
                self._optimizer = _SGDState(
                    params, self.learning_rate_init, self.learning_rate,
                    self.momentum, self.nesterovs_momentum, self.power_t,
                )
            elif self.solver == "adam":
                self._optimizer = _AdamState(
                    params, self.learning_rate_init, self.beta_1, self.beta_2,
                    self.epsilon,
                )
        self._optimizer.prepare(dtype)

        # early_stopping in partial_fit doesn't make sense
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            # Stratify only single-output (binary) targets, as scikit-learn does.
            # Splitting the row indices consumes the random state exactly as
            # splitting X and y does.
            stratify = Y if self.n_outputs_ == 1 else None
            idx_train, idx_val = train_test_split(
                np.arange(X.shape[0]),
                random_state=self._random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if idx_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            X_train, X_val = X[idx_train], X[idx_val]
            Y_train = Y[idx_train]
            y_val = self._label_binarizer.inverse_transform(Y[idx_val])
            if sample_weight is None:
                sample_weight_train = sample_weight_val = None
            else:
                sample_weight_train = sample_weight[idx_train]
                sample_weight_val = sample_weight[idx_val]
            val_logits = np.empty((X_val.shape[0], self.n_outputs_), dtype=dtype)
        else:
            X_train, Y_train, sample_weight_train = X, Y, sample_weight
            X_val = y_val = sample_weight_val = val_logits = None

        y_train = self._engine_targets(Y_train, dtype)
        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=np.intp)

        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = np.clip(self.batch_size, 1, n_samples)
        batch_size = int(batch_size)

        engine = MLPEngine(
            self.coefs_, self.intercepts_, self.activation, self.out_activation_,
            batch_size, n_threads,
        )
        alpha = float(self.alpha)

        try:
            self.n_iter_ = 0
            for it in range(self.max_iter):
                if self.shuffle:
                    # Shuffle indices only; the engine gathers the rows per batch.
                    sample_idx = shuffle(sample_idx, random_state=self._random_state)
                order = np.ascontiguousarray(sample_idx, dtype=np.int64)

                accumulated_loss = self._optimizer.run_epoch(
                    engine, X_train, y_train, sample_weight_train, order,
                    batch_size, alpha,
                )

                self.n_iter_ += 1
                self.loss_ = float(accumulated_loss) / X_train.shape[0]

                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                # update no_improvement_count based on training loss or
                # validation score according to early_stopping
                self._update_no_improvement_count(
                    early_stopping, engine, X_val, y_val, sample_weight_val, val_logits
                )

                # for learning rate that needs to be updated at iteration end
                self._optimizer.iteration_ends(self.t_)

                if self._no_improvement_count > self.n_iter_no_change:
                    # not better than last `n_iter_no_change` iterations by tol
                    # stop or decrease learning rate
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )

                    is_stopping = self._optimizer.trigger_stopping(msg, self.verbose)
                    if is_stopping:
                        break
                    else:
                        self._no_improvement_count = 0

                if incremental:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        if early_stopping:
            # restore best weights
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _update_no_improvement_count(self, early_stopping, engine, X_val, y_val,
                                     sample_weight_val, val_logits):
        if early_stopping:
            # compute validation score (can be NaN), use that for stopping
            y_pred = self._logits_to_labels(engine.forward(X_val, val_logits))
            if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
                val_score = np.nan
            else:
                val_score = accuracy_score(y_val, y_pred, sample_weight=sample_weight_val)

            self.validation_scores_.append(val_score)

            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            # update best parameters, using validation_scores_, not loss_curve_
            last_valid_score = self.validation_scores_[-1]

            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0

            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. Sparse CSR/CSC input is supported.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values: class labels, or a label indicator matrix for
            multilabel classification.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, multiplied by the ``class_weight`` of each sample's
            class.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        if not get_config()["skip_parameter_validation"]:
            self._validate_params()
        # Parameters are valid: skip the nested validation of the scikit-learn
        # functions used during fit, as scikit-learn's own estimators do.
        with config_context(skip_parameter_validation=True):
            return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_check_solver)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit. Can be obtained via
            `np.unique(y_all)`, where y_all is the target vector of the entire
            dataset. This argument is required for the first call to partial_fit
            and can be omitted in the subsequent calls. Note that y doesn't need to
            contain all labels in `classes`.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        # As scikit-learn, validate the parameters only until the model is fitted.
        if not get_config()["skip_parameter_validation"] and not self._is_fitted():
            self._validate_params()
        with config_context(skip_parameter_validation=True):
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    # --------------------------------------------------------------- prediction
    def _forward_logits(self, X, check_input=True):
        """Output-layer values (before softmax/logistic), in the weights' dtype."""
        dtype = self.coefs_[0].dtype
        if check_input:
            X = validate_data(
                self, X, accept_sparse=["csr", "csc"], dtype=dtype, order="C",
                reset=False,
            )
        X = _engine_input(X, dtype)
        n_samples = X.shape[0]
        engine = MLPEngine(
            [_engine_array(c, dtype) for c in self.coefs_],
            [_engine_array(b, dtype) for b in self.intercepts_],
            self.activation,
            self.out_activation_,
            max(1, min(n_samples, _PREDICT_BATCH_ROWS)),
            check_n_threads(self.n_threads),
        )
        out = np.empty((n_samples, self.n_outputs_), dtype=dtype)
        return engine.forward(X, out)

    def _logits_to_labels(self, logits):
        if self.out_activation_ == "softmax":
            scores = logits
        else:
            # p > 0.5 (LabelBinarizer's threshold) <=> logit > 0
            scores = (logits > 0).astype(logits.dtype)
        if self.n_outputs_ == 1:
            scores = scores.ravel()
        return self._label_binarizer.inverse_transform(scores)

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray, shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        check_is_fitted(self)
        return self._logits_to_labels(self._forward_logits(X))

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of the sample for each class in the model,
            where classes are ordered as they are in `self.classes_`. For
            multilabel targets, the probability of each label.
        """
        check_is_fitted(self)
        logits = self._forward_logits(X)
        if self.out_activation_ == "softmax":
            return softmax(
                logits, axis=1, out=logits, n_threads=check_n_threads(self.n_threads)
            )
        proba = expit(logits, out=logits)
        if self.n_outputs_ == 1:
            proba = proba.ravel()
            return np.vstack([1 - proba, proba]).T
        return proba

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Computed from the logits (``log_softmax``, or a stable log-sigmoid for
        logistic outputs), so it is finite where ``log(predict_proba(X))`` would
        be ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of the sample for each class in the
            model, where classes are ordered as they are in `self.classes_`.
            Equivalent to `log(predict_proba(X))`, more accurately.
        """
        check_is_fitted(self)
        logits = self._forward_logits(X)
        if self.out_activation_ == "softmax":
            return log_softmax(
                logits, axis=1, out=logits, n_threads=check_n_threads(self.n_threads)
            )
        if self.n_outputs_ == 1:
            z = logits.ravel()
            # log(1 - sigmoid(z)) = -log(1 + e^z), log(sigmoid(z)) = -log(1 + e^-z)
            return np.vstack([-np.logaddexp(0, z), -np.logaddexp(0, -z)]).T
        return -np.logaddexp(0, -logits)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags
