"""The :class:`MLPClassifier` estimator: parameters, fit, partial_fit and predict.

The fitting machinery is inherited from ``_BaseMLP`` (``_training``); predictions run
in an engine built by ``_engine``.
"""

import numpy as np
from sklearn import get_config
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from csoftmax.functional import log_softmax, softmax
from csoftmax.neural_network._export import _ExportMixin
from csoftmax.neural_network._engine import (
    _predict_logits,
    _proba_dtype,
    prediction_cache,
)
from csoftmax.neural_network._optimizers import _STOCHASTIC_SOLVERS
from csoftmax.neural_network._params import (
    SkipNestedValidation,
    cached_param_names,
    validate_parameters_once,
)
from csoftmax.neural_network._plain_input import validated_input
from csoftmax.neural_network._sklearn_compat import _check_partial_fit_first_call
from csoftmax.neural_network._training import _BaseMLP


def _check_solver(estimator):
    if estimator.solver not in _STOCHASTIC_SOLVERS:
        raise AttributeError(
            "partial_fit is only available for stochastic"
            " optimizers. %s is not stochastic." % estimator.solver
        )
    return True


class MLPClassifier(ClassifierMixin, _ExportMixin, _BaseMLP):
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
        GEMM throughput, half the memory); a C-contiguous float64 array is then cast
        in one pass that also checks it is finite. Not available in scikit-learn.

    n_threads : int, default=None
        Number of OpenMP threads used by the kernels. None means all usable cores
        (respecting ``OMP_NUM_THREADS``, ``threadpoolctl`` limits and the thread
        limit of a joblib worker); a negative value counts back from that (-1 all,
        -2 all but one); 0 is an error. When SciPy's BLAS is OpenBLAS, the matrix
        products run on these threads too, with OpenBLAS set to one thread for the
        duration of each fit or predict step (other threads' SciPy BLAS calls run on
        one thread meanwhile). The fitted weights do not depend on it.
        Not available in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.

    loss_ : numpy.float64
        The current loss computed with the loss function (the unclipped cross-entropy,
        see Notes, plus the L2 term).

    best_loss_ : numpy.float64 or None
        The minimum loss reached by the solver throughout fitting. If
        `early_stopping=True`, this attribute is set to `None`. Refer to the
        `best_validation_score_` fitted attribute instead.

    loss_curve_ : list of numpy.float64 of shape (`n_iter_`,)
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
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X` has
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

    - The reported loss (``loss_``, ``loss_curve_``, ``best_loss_``) is the unclipped
      cross-entropy computed from the logits with a fused log-sum-exp
      (``logsumexp(z) - z_y`` for softmax outputs, ``log(1 + exp(-+z))`` for
      logistic outputs), with no clipping of probabilities to ``[eps, 1 - eps]``.
      Values can therefore differ from scikit-learn's where a predicted
      probability is below machine epsilon; the gradients are the same.
    - :meth:`predict_log_proba` stays finite where ``log(predict_proba(X))``
      would be ``-inf``: for softmax outputs it is ``log_softmax`` of the logits;
      for logistic outputs it equals ``log(predict_proba(X))`` wherever that is
      finite (so both give the same ``argmax``) and is the log-sigmoid of the
      logit where the probability underflowed to 0.
    - ``class_weight``, ``dtype`` and ``n_threads`` are extra parameters.
    - ``partial_fit`` checks the parameters on every call, not only until fitted.
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
    _get_param_names = classmethod(cached_param_names)

    def _validate_params(self):
        validate_parameters_once(self)

    def _check_fitted(self):
        """check_is_fitted, without its scan of every attribute when coefs_ is there."""
        if "coefs_" not in self.__dict__:
            check_is_fitted(self)

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

        Notes
        -----
        A call that raises (bad input, MemoryError, Ctrl-C with 'lbfgs', ...) leaves the
        estimator exactly as it was before it. Ctrl-C (in the main thread) stops 'sgd' and
        'adam' before the next minibatch and returns with a warning, as scikit-learn does:
        the weights, optimizer state and ``t_`` include the finished minibatches,
        ``n_iter_`` and ``loss_curve_`` the finished epochs only.

        The parameters are checked on every call (``clf.alpha = -1`` raises
        ``InvalidParameterError`` on the next one), but once per set of values: valid
        numbers, strings, tuples, ... are remembered; a list or dict is checked each time.
        """
        if not get_config()["skip_parameter_validation"]:
            self._validate_params()
        # Parameters are valid: skip the nested validation of the scikit-learn
        # functions used during fit, as scikit-learn's own estimators do.
        with SkipNestedValidation(), self._restore_on_error():
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

        Notes
        -----
        A call that raises leaves the estimator exactly as it was before it. Ctrl-C stops
        the epoch before its next minibatch, as in :meth:`fit`.

        The parameters are checked as by :meth:`fit`, also once the model is fitted
        (scikit-learn stops checking them then).
        """
        # Every call checks the parameters (once per set of values, see fit's Notes);
        # scikit-learn checks them only until the model is fitted.
        if not get_config()["skip_parameter_validation"]:
            self._validate_params()
        with SkipNestedValidation(), self._restore_on_error():
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
        if check_input:
            X = validated_input(self, X)
        return _predict_logits(
            X, self.coefs_, self.intercepts_, self.activation, self.out_activation_,
            self.n_outputs_, self.n_threads, cache=prediction_cache(self),
        )

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
        self._check_fitted()
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
            multilabel targets, the probability of each label. float32 only when X and
            the weights are (scikit-learn's dtype; float32 weights compute in float32).
        """
        self._check_fitted()
        logits = self._forward_logits(X)
        if self.out_activation_ == "softmax":
            p = softmax(logits, axis=1, out=logits, n_threads=self.n_threads)
        else:
            p = self._logistic_proba(logits, out=logits)
        return p.astype(_proba_dtype(X, p.dtype), copy=False)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        For softmax outputs (multiclass targets) it is ``log_softmax`` of the
        logits. For logistic outputs (binary and multilabel targets) it is
        ``log(predict_proba(X))`` wherever that probability is above 0, so
        both rank the classes alike, and the log-sigmoid of the logit where
        the probability underflowed to 0. Either way it is finite where
        ``log(predict_proba(X))`` would be ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of the sample for each class in the
            model, where classes are ordered as they are in `self.classes_`.
            It agrees with `log(predict_proba(X))` where that is finite and is
            finite everywhere; of `predict_proba`'s dtype.
        """
        self._check_fitted()
        logits = self._forward_logits(X)
        if self.out_activation_ == "softmax":
            p = log_softmax(logits, axis=1, out=logits, n_threads=self.n_threads)
        else:
            p = self._logistic_log_proba(logits)
        return p.astype(_proba_dtype(X, p.dtype), copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags
