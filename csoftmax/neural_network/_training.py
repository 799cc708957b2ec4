"""How MLPClassifier trains: input and target checks, weight initialization, solvers.

``_BaseMLP`` holds the fitting machinery of :class:`MLPClassifier`, as scikit-learn's
``BaseMultilayerPerceptron`` does for its estimator.  Python runs here once per epoch
(or per ``partial_fit`` call): input validation, shuffling of the sample order, the
early-stopping split and score, the learning-rate schedule (through the optimizer
state), verbose output and stopping decisions.  The per-minibatch work runs in the
engine built by ``_engine``.  The output layer's values become labels and logistic
probabilities here too.
"""

import contextlib
import warnings
from collections import namedtuple
from itertools import chain

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d, compute_class_weight
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import validate_data

from csoftmax._core import SigintGuard
from csoftmax._utils import check_n_threads
from csoftmax.neural_network._engine import (
    _checked_input,
    _engine_array,
    _engine_input,
    _engine_targets,
    _lbfgs_loss_grad,
    _PackedParameters,
    _training_engine,
)
from csoftmax.neural_network._optimizers import _STOCHASTIC_SOLVERS, _AdamState, _SGDState
from csoftmax.neural_network._params import any_not_positive
from csoftmax.neural_network._plain_input import (
    known_features,
    known_labels,
    known_labels_of_logits,
)
from csoftmax.neural_network._random import random_state_of
from csoftmax.neural_network._sklearn_compat import (
    _check_optimize_result,
    _check_sample_weight,
)
from csoftmax.neural_network._snapshot import Snapshot

# The rows a stochastic solver trains on; ``y`` in the engine's target format.
_TrainingSet = namedtuple("_TrainingSet", ["X", "y", "sample_weight"])
# The early-stopping validation rows; ``y`` as labels, ``logits`` an output buffer.
_ValidationSet = namedtuple("_ValidationSet", ["X", "y", "sample_weight", "logits"])


class _BaseMLP(BaseEstimator):
    """Fitting machinery of :class:`MLPClassifier` (its parameters live there)."""

    def _working_dtype(self, first_pass):
        """dtype argument for validate_data: a dtype, or sklearn's float default."""
        if self.dtype is not None:
            return np.dtype(self.dtype)
        if not first_pass:
            return self.coefs_[0].dtype
        return (np.float64, np.float32)

    def _validate_input(self, X, y, incremental, reset):
        dtype = self._working_dtype(first_pass=reset)
        # one pass checks a plain array is finite (and casts float64 data for float32
        # training), so that validation need not pass over it again
        X, finite = _checked_input(X, dtype, self.n_threads)
        # partial_fit keeps classes_: labels in it make one-of-K rows with no more checks
        continued = incremental and not self.warm_start and hasattr(self, "classes_")
        if finite and continued and not reset and known_features(self, X):
            # a streaming partial_fit's plain arrays: nothing for validate_data to do
            Y = known_labels(self, y, X.shape[0])
            if Y is not None:
                return X, y, Y
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=dtype,
            order="C",
            reset=reset,
            ensure_all_finite=not finite,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = known_labels(self, y, X.shape[0]) if continued else None
        if Y is not None:
            return X, y, Y

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

        # integer labels of a plain binarizer: the one-of-K rows without transform's
        # second and third pass of type_of_target over y
        Y = known_labels(self, y, X.shape[0])
        if Y is not None:
            return X, y, Y
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
    @contextlib.contextmanager
    def _restore_on_error(self):
        """Leave the estimator exactly as it was if the block raises.

        A :class:`~csoftmax.neural_network._snapshot.Snapshot` of what the call can
        change (its attributes, lists, the arrays the C epoch writes, the optimizer and a
        shared random generator: about a copy of the weights and the optimizer's arrays)
        is taken first and put back on any exception, MemoryError and KeyboardInterrupt
        included.
        """
        snapshot = Snapshot(self)
        try:
            yield
        except BaseException:
            snapshot.restore(self)
            raise

    def _check_warm_shape(self, layer_units, incremental):
        """A warm start or partial_fit continues the fitted network: its shape is fixed."""
        fitted = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        if fitted[1:-1] != layer_units[1:-1]:
            how = "partial_fit" if incremental else "warm_start=True"
            raise ValueError(
                f"hidden_layer_sizes={tuple(layer_units[1:-1])} does not match the fitted "
                f"network's hidden layers {tuple(fitted[1:-1])}: {how} continues training "
                "that network. Set warm_start=False (or fit a new estimator) to train "
                "another shape."
            )

    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if any_not_positive(hidden_layer_sizes):
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

        if not first_pass:
            self._check_warm_shape(layer_units, incremental)
        self._random_state = random_state_of(self.random_state)

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
        import scipy.optimize  # only this solver needs it

        dtype = self.coefs_[0].dtype
        packed = _PackedParameters(layer_units, dtype)
        packed.take_over(self.coefs_, self.intercepts_)
        y_engine = _engine_targets(Y, self.out_activation_, dtype)
        engine = _training_engine(
            packed.coefs, packed.intercepts, self.activation, self.out_activation_,
            max(X.shape[0], 1), n_threads,
        )
        loss_grad = _lbfgs_loss_grad(
            packed, engine, X, y_engine, sample_weight, float(self.alpha)
        )
        opt_res = scipy.optimize.minimize(
            loss_grad,
            packed.values.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
        )
        self.n_iter_ = _check_optimize_result(opt_res, self.max_iter)
        # numpy.float64, as scikit-learn's; scipy passes on what loss_grad returns
        self.loss_ = np.float64(opt_res.fun)
        packed.values[...] = opt_res.x

    def _fit_stochastic(self, X, Y, sample_weight, incremental, n_threads):
        dtype = self.coefs_[0].dtype
        self._init_optimizer(incremental, dtype)

        # early_stopping in partial_fit doesn't make sense
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            X, Y, sample_weight, validation = self._split_validation(X, Y, sample_weight)
        else:
            validation = None
        train = _TrainingSet(X, _engine_targets(Y, self.out_activation_, dtype),
                             sample_weight)
        sample_idx = np.arange(X.shape[0], dtype=np.intp)
        batch_size = self._resolve_batch_size(X.shape[0])
        engine = _training_engine(
            self.coefs_, self.intercepts_, self.activation, self.out_activation_,
            batch_size, n_threads, X,
        )
        alpha = float(self.alpha)

        # Ctrl-C stops an epoch at a batch boundary; KeyboardInterrupt is raised by the
        # guard's check, in the epoch or between epochs, or at its exit, and nowhere else
        guard = SigintGuard()
        try:
            with guard:
                self._epochs(engine, train, validation, sample_idx, batch_size, alpha,
                             incremental, guard)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        if early_stopping:
            # restore best weights
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _epochs(self, engine, train, validation, sample_idx, batch_size, alpha, incremental,
                guard):
        """The epochs of _fit_stochastic, and the decisions between them."""
        early_stopping = validation is not None
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            guard.check()
            sample_idx = self._run_epoch(engine, train, sample_idx, batch_size, alpha, guard)

            # update no_improvement_count based on training loss or
            # validation score according to early_stopping
            self._update_no_improvement_count(early_stopping, engine, validation)

            # for learning rate that needs to be updated at iteration end
            self._optimizer.iteration_ends(self.t_)

            if self._stop_after_no_improvement(early_stopping):
                break

            if incremental:
                break

            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) "
                    "reached and the optimization hasn't converged yet."
                    % self.max_iter,
                    ConvergenceWarning,
                )

    def _init_optimizer(self, incremental, dtype):
        """Start a new optimizer state, unless partial_fit continues the last one."""
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

    def _split_validation(self, X, Y, sample_weight):
        """Set the early-stopping validation rows aside.

        Returns the training rows' ``X``, ``Y`` and ``sample_weight``, and a
        ``_ValidationSet``.
        """
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
        # Row selection of a CSR matrix may narrow its indices: prepare both parts again.
        X_train = _engine_input(X[idx_train], X.dtype)
        X_val = _engine_input(X[idx_val], X.dtype)
        Y_train = Y[idx_train]
        y_val = self._label_binarizer.inverse_transform(Y[idx_val])
        if sample_weight is None:
            sample_weight_train = sample_weight_val = None
        else:
            sample_weight_train = sample_weight[idx_train]
            sample_weight_val = sample_weight[idx_val]
        val_logits = np.empty(
            (X_val.shape[0], self.n_outputs_), dtype=self.coefs_[0].dtype
        )
        validation = _ValidationSet(X_val, y_val, sample_weight_val, val_logits)
        return X_train, Y_train, sample_weight_train, validation

    def _resolve_batch_size(self, n_samples):
        """The minibatch size: 'auto' or ``batch_size`` clipped to [1, n_samples]."""
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = np.clip(self.batch_size, 1, n_samples)
        return int(batch_size)

    def _run_epoch(self, engine, train, sample_idx, batch_size, alpha, guard):
        """One pass over the training set and its loss bookkeeping.

        Returns the sample order, reshuffled from the last epoch's if ``shuffle``. An epoch
        that Ctrl-C stops (KeyboardInterrupt from ``guard``) counts the rows of its finished
        batches in ``t_``, and nothing else: it is not an iteration and has no loss.
        """
        if self.shuffle:
            # Shuffle indices only; the engine gathers the rows per batch. These are the
            # draws of sklearn.utils.shuffle(sample_idx), without its checks of the array.
            permutation = np.arange(sample_idx.shape[0])
            self._random_state.shuffle(permutation)
            sample_idx = sample_idx[permutation]
        order = np.ascontiguousarray(sample_idx, dtype=np.int64)

        try:
            accumulated_loss = self._optimizer.run_epoch(
                engine, train.X, train.y, train.sample_weight, order, batch_size, alpha,
                guard,
            )
        except KeyboardInterrupt:
            self.t_ += engine.rows_done
            raise

        self.n_iter_ += 1
        self.loss_ = np.float64(accumulated_loss) / train.X.shape[0]

        self.t_ += train.X.shape[0]
        self.loss_curve_.append(self.loss_)
        if self.verbose:
            print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
        return sample_idx

    def _stop_after_no_improvement(self, early_stopping):
        """After ``n_iter_no_change`` epochs without improvement, stop or decay.

        Returns True to stop; otherwise the optimizer may have lowered its learning
        rate ('adaptive') and the count of epochs without improvement restarts.
        """
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
                return True
            self._no_improvement_count = 0
        return False

    def _update_no_improvement_count(self, early_stopping, engine, validation):
        if early_stopping:
            # compute validation score (can be NaN), use that for stopping
            logits = engine.forward(validation.X, validation.logits)
            y_pred = self._logits_to_labels(logits)
            if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
                val_score = np.nan
            else:
                val_score = accuracy_score(
                    validation.y, y_pred, sample_weight=validation.sample_weight
                )

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

    def _logits_to_labels(self, logits):
        labels = known_labels_of_logits(self, logits)
        if labels is not None:
            return labels
        if self.out_activation_ == "softmax":
            scores = logits
        else:
            # p > 0.5 (LabelBinarizer's threshold) <=> logit > 0
            scores = (logits > 0).astype(logits.dtype)
        if self.n_outputs_ == 1:
            scores = scores.ravel()
        return self._label_binarizer.inverse_transform(scores)

    def _logistic_proba(self, logits, out=None):
        """``predict_proba`` of logistic outputs: sigmoid of the logits.

        A single output (binary target) gives the two columns ``1 - p, p``, as
        scikit-learn computes them.
        """
        proba = expit(logits, out=out)
        if self.n_outputs_ == 1:
            proba = proba.ravel()
            return np.vstack([1 - proba, proba]).T
        return proba

    def _logistic_log_proba(self, logits):
        """``predict_log_proba`` of logistic outputs.

        The log of exactly what ``predict_proba`` returns keeps its ties and
        its order (a probability that rounds to 1.0 has log 0, as in
        scikit-learn); only where that probability is 0 is the accurate
        log-sigmoid ``log(sigmoid(z)) = -log(1 + exp(-z))`` used instead of -inf.
        """
        proba = self._logistic_proba(logits)
        # Column j of ``proba`` is sigmoid(signed_logits[:, j]); 1 - sigmoid(z) = sigmoid(-z).
        signed_logits = np.hstack([-logits, logits]) if self.n_outputs_ == 1 else logits
        underflow = proba == 0
        with np.errstate(divide="ignore"):
            log_proba = np.log(proba, out=proba)
        log_proba[underflow] = -np.logaddexp(0, -signed_logits[underflow])
        return log_proba
