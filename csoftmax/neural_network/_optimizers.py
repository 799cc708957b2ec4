"""Optimizer state of the stochastic solvers: SGD with momentum, and Adam.

Each class holds a ``csoftmax._core.Optimizer`` -- the C optimizer of src_c/cs_optim.h,
which owns the update rule, Adam's step count and bias correction, and the learning rate
it reports -- together with its per-parameter arrays (velocities, or Adam's moments).
The object lives on the estimator and pickles, so that ``partial_fit`` continues it
across calls, pickles and joblib memmap reloads. What stays in Python is what runs once
per epoch: SGD's learning-rate schedules ('invscaling', 'adaptive') and each solver's
reaction to a stalled loss or validation score (``trigger_stopping``).
"""

import numpy as np

from csoftmax._core import Optimizer
from csoftmax.neural_network._engine import _engine_array

_STOCHASTIC_SOLVERS = ("sgd", "adam")


class _OptimizerState:
    """The C optimizer and its arrays, as the engine takes them."""

    optimizer: Optimizer

    @property
    def learning_rate(self):
        """The rate of the last step (SGD: the current schedule rate)."""
        return self.optimizer.learning_rate

    def prepare(self, dtype):
        """Make the state arrays engine arrays of ``dtype`` (read-only ones are copied)."""
        self.optimizer.state = [_engine_array(a, dtype) for a in self.optimizer.state]

    def run_epoch(self, engine, X, y, sample_weight, order, batch_size, alpha, guard=None):
        return engine.epoch(X, y, sample_weight, order, batch_size, alpha, self.optimizer,
                            guard)


class _SGDState(_OptimizerState):
    """Minibatch SGD with momentum, and its learning-rate schedule."""

    def __init__(self, params, learning_rate_init, lr_schedule, momentum, nesterov,
                 power_t):
        self.learning_rate_init = learning_rate_init
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.optimizer = Optimizer(
            "sgd", [np.zeros_like(p) for p in params], learning_rate=float(learning_rate_init),
            momentum=float(momentum), nesterov=bool(nesterov),
        )

    @_OptimizerState.learning_rate.setter
    def learning_rate(self, value):
        self.optimizer.learning_rate = value

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


class _AdamState(_OptimizerState):
    """Adam: its first and second moments, step count and bias correction."""

    def __init__(self, params, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate_init
        state = [np.zeros_like(p) for p in params] + [np.zeros_like(p) for p in params]
        self.optimizer = Optimizer(
            "adam", state, learning_rate=float(learning_rate_init), beta_1=float(beta_1),
            beta_2=float(beta_2), epsilon=float(epsilon),
        )

    @property
    def t(self):
        """Steps taken."""
        return self.optimizer.t

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True
