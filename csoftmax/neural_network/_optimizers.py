"""Optimizer state of the stochastic solvers: SGD with momentum, and Adam.

The state (velocities, or Adam's moments and step count, and the current learning
rate) lives in a small picklable object on the estimator, so that ``partial_fit``
continues it across calls, pickles and joblib memmap reloads.  Each class also owns its
solver's learning-rate schedule ('invscaling', 'adaptive') and its reaction to a
stalled loss or validation score (``trigger_stopping``).  The updates themselves run in
the engine: one ``engine.sgd_epoch`` or ``engine.adam_epoch`` call per epoch.
"""

import numpy as np

from csoftmax.neural_network._engine import _engine_array

_STOCHASTIC_SOLVERS = ("sgd", "adam")


class _SGDState:
    """Velocities and learning-rate schedule of minibatch SGD with momentum."""

    def __init__(self, params, learning_rate_init, lr_schedule, momentum, nesterov,
                 power_t):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocities = [np.zeros_like(p) for p in params]

    def prepare(self, dtype):
        self.velocities = [_engine_array(v, dtype) for v in self.velocities]

    def run_epoch(self, engine, X, y, sample_weight, order, batch_size, alpha):
        return engine.sgd_epoch(
            X, y, sample_weight, order, batch_size, alpha,
            float(self.learning_rate), float(self.momentum), bool(self.nesterov),
            self.velocities,
        )

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
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def prepare(self, dtype):
        self.ms = [_engine_array(m, dtype) for m in self.ms]
        self.vs = [_engine_array(v, dtype) for v in self.vs]

    def run_epoch(self, engine, X, y, sample_weight, order, batch_size, alpha):
        loss, t = engine.adam_epoch(
            X, y, sample_weight, order, batch_size, alpha,
            float(self.learning_rate_init), float(self.beta_1), float(self.beta_2),
            float(self.epsilon), int(self.t), self.ms, self.vs,
        )
        self.t = int(t)
        if self.t > 0:
            self.learning_rate = (
                self.learning_rate_init
                * np.sqrt(1 - self.beta_2**self.t)
                / (1 - self.beta_1**self.t)
            )
        return loss

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True
