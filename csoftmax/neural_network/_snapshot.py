"""The state a ``fit`` or ``partial_fit`` can change, saved before it and put back if it raises.

A call changes the estimator in three ways: it binds attributes to new objects (weights
of a first fit, ``classes_``, counters, ``loss_``); it changes lists in place (the weight
lists, ``loss_curve_``, ``validation_scores_``); and it writes arrays in place (the C
epoch updates the weights in ``coefs_`` and ``intercepts_`` and the optimizer's state
arrays, advances its step count, and may lower SGD's learning rate), while shuffling
advances a random generator that the estimator may share (``random_state=None`` uses
NumPy's global one, a ``RandomState`` is used itself).

So a snapshot keeps a shallow copy of the estimator's non-parameter attributes and of
every list among them, a copy of each array the C epoch can write, the optimizer's scalar
state, and the shared generator's state: about one copy of the weights and of the
optimizer's arrays, whatever else the estimator holds. Putting it back rebinds the
attributes, refills the lists and arrays in place (a reference kept to ``coefs_[0]``
sees the old values again), rebuilds the C optimizer and gives ``_random_state`` a
generator in the saved state. Arrays that are not writeable are not copied: the call
replaces them (``np.require``) before it writes.
"""

import copy

import numpy as np

from csoftmax._core import Optimizer
from csoftmax.neural_network._params import param_names


def _writeable_arrays(items, out):
    for a in items:
        if isinstance(a, np.ndarray) and a.flags.writeable and id(a) not in out:
            out[id(a)] = (a, a.copy())


class Snapshot:
    """What ``estimator`` holds now, to be put back by :meth:`restore`."""

    __slots__ = ("_attrs", "_lists", "_arrays", "_optimizer", "_rng")

    def __init__(self, estimator):
        params = param_names(type(estimator))[1]
        self._attrs = {k: v for k, v in vars(estimator).items() if k not in params}
        self._lists = [(v, v[:]) for v in self._attrs.values() if type(v) is list]
        arrays = {}
        for name in ("coefs_", "intercepts_"):
            held = self._attrs.get(name)
            if type(held) is list:
                _writeable_arrays(held, arrays)
        self._optimizer = None
        state = self._attrs.get("_optimizer")
        optimizer = getattr(state, "optimizer", None)
        if isinstance(optimizer, Optimizer):
            rebuild, args = optimizer.__reduce__()
            arrays_list = args[1]
            _writeable_arrays(arrays_list, arrays)
            self._optimizer = (state, dict(vars(state)), rebuild, args, arrays_list[:])
        self._arrays = list(arrays.values())
        self._rng = None
        rng = self._attrs.get("_random_state")
        if isinstance(rng, np.random.RandomState) and (
                rng is np.random.mtrand._rand or rng is getattr(estimator, "random_state", None)):
            self._rng = rng.get_state(legacy=False)

    def restore(self, estimator):
        """Put ``estimator`` back as it was when the snapshot was taken."""
        params = param_names(type(estimator))[1]
        for key in [k for k in vars(estimator) if k not in params]:
            delattr(estimator, key)
        for key, value in self._attrs.items():
            setattr(estimator, key, value)
        for held, items in self._lists:
            held[:] = items
        for a, saved in self._arrays:
            np.copyto(a, saved)
        if self._optimizer is not None:
            state, state_vars, rebuild, args, arrays_list = self._optimizer
            args[1][:] = arrays_list
            vars(state).clear()
            vars(state).update(state_vars)
            state.optimizer = rebuild(*args)
        if self._rng is not None:
            # a copy (with the generator's seed sequence) put in the saved state
            rng = copy.deepcopy(self._attrs["_random_state"])
            rng.set_state(self._rng)
            estimator._random_state = rng
