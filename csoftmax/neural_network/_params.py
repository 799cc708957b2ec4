"""Validation of MLPClassifier's parameters.

A small public-API equivalent of scikit-learn's private ``_param_validation``: each
parameter has a list of constraints, and the first parameter that none of its
constraints accepts raises :class:`InvalidParameterError` with scikit-learn's message.

``fit`` validates the parameters on every call, as scikit-learn does, but the check runs
once per set of values: values that cannot change without being set again (numbers,
strings, None, tuples of them, NumPy scalars and dtypes) and were found valid are
remembered, so an unchanged estimator skips the check, and any change (``set_params`` or
an assignment such as ``clf.alpha = -1``) is checked on the next call. Other values
(a list, a dict) are checked every time.
"""

import numbers
import operator

import numpy as np
import scipy.sparse as sp
from sklearn import get_config, set_config
from sklearn.base import BaseEstimator


class InvalidParameterError(ValueError, TypeError):
    """Raised when a parameter of :class:`MLPClassifier` has an invalid type or value.

    It subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's own
    ``InvalidParameterError`` does, and its messages use the same format.
    """


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


def any_not_positive(sizes):
    """``np.any(np.array(sizes) <= 0)``, without NumPy for a list of Python ints."""
    if all(type(size) is int for size in sizes):
        return any(size <= 0 for size in sizes)
    return np.any(np.array(sizes) <= 0)


# Parameter names of each estimator class (scikit-learn's ``_get_param_names``, which reads
# the signature of ``__init__``): looked up once per class, not on every call. The estimator's
# own ``_get_param_names`` (used by ``get_params``, so by ``clone`` and grid searches) returns
# them from here.
_PARAM_NAMES = {}
_SIGNATURE_PARAM_NAMES = BaseEstimator.__dict__["_get_param_names"].__func__


def param_names(cls):
    """(sorted tuple, frozenset) of the parameter names of the estimator class ``cls``:
    those of ``__init__``'s signature, or those a subclass's own ``_get_param_names`` lists."""
    names = _PARAM_NAMES.get(cls)
    if names is None:
        own = getattr(cls._get_param_names, "__func__", None)
        if own is cached_param_names or own is _SIGNATURE_PARAM_NAMES:
            ordered = tuple(_SIGNATURE_PARAM_NAMES(cls))
        else:
            ordered = tuple(cls._get_param_names())
        names = _PARAM_NAMES[cls] = (ordered, frozenset(ordered))
    return names


def cached_param_names(cls):
    """``__init__``'s parameter names, read from its signature once per class (the
    estimator's ``_get_param_names``: for ``get_params``, so ``clone`` and each candidate of
    a grid search)."""
    return list(param_names(cls)[0])


# Types whose values cannot change in place (a RandomState can, but it is valid by its type
# alone, and its type cannot change); tuples are taken with the types of their items.
_FROZEN_TYPES = frozenset({int, float, str, bool, type(None), type, tuple, np.random.RandomState})
_FROZEN_NUMPY = (np.number, np.bool_, np.dtype)


def _key(values):
    """A hashable key of parameter ``values`` that is equal only for values every constraint
    treats alike (their types are part of it: ``1 == True``, but 1 is no bool), or None
    when a value could change in place (a list, a dict): such values are not remembered."""
    types = tuple(map(type, values))
    if not _FROZEN_TYPES.issuperset(types) and not all(
            t in _FROZEN_TYPES or issubclass(t, _FROZEN_NUMPY) for t in types):
        return None
    items = tuple(tuple(map(type, v)) for v in values if type(v) is tuple)
    key = (types, values, items)
    try:
        hash(key)
    except TypeError:  # a tuple holding a list
        return None
    return key


# Keys of the parameter values found valid (a dict used as an ordered set).
_VALID = {}
_MAX_VALID = 256
# Per class: a reader of the parameter values, and the last values found valid. Values
# that are the very objects found valid last time (the common case, an estimator called
# again unchanged) skip even the key, which compares them by value and type.
_READERS = {}
_LAST_VALID = {}


def _values_reader(cls):
    """A function of an estimator of class ``cls``: the tuple of its parameter values."""
    reader = _READERS.get(cls)
    if reader is None:
        names = param_names(cls)[0]
        if len(names) >= 2:
            reader = operator.attrgetter(*names)  # a tuple, read in C
        else:
            reader = lambda estimator: tuple(getattr(estimator, n) for n in names)  # noqa: E731
        _READERS[cls] = reader
    return reader


def validate_parameters_once(estimator):
    """``_validate_parameters`` of the estimator's parameters, unless these values were
    found valid before."""
    cls = type(estimator)
    if cls.get_params is BaseEstimator.get_params:
        values = _values_reader(cls)(estimator)
        last = _LAST_VALID.get(cls)
        if last is not None and all(map(operator.is_, values, last)):
            return
        params = dict(zip(param_names(cls)[0], values))
    else:
        params = estimator.get_params(deep=False)
        values = tuple(params.values())
    key = _key(values)
    if key is not None:
        key = (tuple(params), key)
        if key in _VALID:
            _LAST_VALID[cls] = values
            return
    _validate_parameters(params, cls.__name__)
    if key is not None:
        if len(_VALID) >= _MAX_VALID:
            _VALID.clear()
        _VALID[key] = None
        _LAST_VALID[cls] = values


class SkipNestedValidation:
    """``config_context(skip_parameter_validation=True)`` around a fit whose parameters were
    checked, so that the scikit-learn functions it calls skip their own checks, as
    scikit-learn's estimators do. Only that flag is set, and put back as it was found on
    exit (also on an error): config_context copies, sets and restores every setting, which
    cost a tenth of a small ``partial_fit``. The setting is per thread, as in scikit-learn.
    """

    __slots__ = ("_was_set",)

    def __enter__(self):
        self._was_set = get_config()["skip_parameter_validation"]
        if not self._was_set:
            set_config(skip_parameter_validation=True)
        return self

    def __exit__(self, exc_type, exc, traceback):
        if not self._was_set:
            set_config(skip_parameter_validation=False)
        return False
