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
  GEMMs, the L2 term and the SGD/Adam update -- runs in the C engine of
  src_c/cs_mlp.h (``csoftmax._core.MLPEngine``), without the GIL.  An engine is built once per
  ``fit``/``partial_fit``/predict call and is never stored on the estimator (engines
  are not picklable).  It updates ``coefs_`` and ``intercepts_`` in place.
* Optimizer state (velocities, or Adam's moments and step count, and the current
  learning rate) lives in a picklable C optimizer (src_c/cs_optim.h) on the estimator
  so that ``partial_fit`` continues it across calls, pickles and joblib memmap reloads.
* Only public scikit-learn API is used, with one exception: ``to_sklearn`` and
  ``from_sklearn`` build and read scikit-learn's optimizer objects, the state its
  ``partial_fit`` continues (see ``_export``).  Parameter validation, the sample-weight
  check, the ``partial_fit`` first-call logic and the L-BFGS result check are small
  local equivalents of scikit-learn's private helpers.

Modules, one job each:

``_estimator``
    :class:`MLPClassifier`: its parameters and documentation, ``fit``,
    ``partial_fit`` and the predict methods.
``_training``
    ``_BaseMLP``, the fitting machinery ``MLPClassifier`` inherits: input and target
    checks, class weights, weight initialization, the L-BFGS solver and the epoch loop
    of the stochastic solvers (early-stopping split, batch size, one epoch and its
    bookkeeping, the stopping decision), and the output layer's labels and logistic
    probabilities.
``_optimizers``
    The optimizer state of 'sgd' and 'adam' (``_SGDState``, ``_AdamState``) around the
    C optimizer: learning-rate schedules, the reaction to a stalled loss, and the one
    engine call per epoch.
``_engine``
    Engine inputs, prepared in one place: the arrays, data and targets the engine
    accepts, the engines for training and for prediction, and the packed parameter
    vector of L-BFGS.  The only module that builds an engine.
``_export``
    ``to_sklearn`` and ``from_sklearn``: a fitted model, its optimizer state included,
    copied to scikit-learn's ``MLPClassifier`` and back.
``_params``
    Parameter validation and :class:`InvalidParameterError`.
``_sklearn_compat``
    Public-API equivalents of private scikit-learn helpers.
"""

from csoftmax.neural_network._estimator import MLPClassifier
from csoftmax.neural_network._params import InvalidParameterError

__all__ = ["MLPClassifier", "InvalidParameterError"]
