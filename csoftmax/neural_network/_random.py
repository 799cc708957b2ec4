"""``check_random_state`` without the cost of building a Mersenne Twister from a seed sequence.

``fit`` and every ``partial_fit`` bind ``_random_state`` to ``check_random_state(random_state)``,
as scikit-learn does: with an int seed, a new ``RandomState(seed)`` on each call. Most of
that object's cost is not the legacy seeding (a few hundred steps in C) but the ``MT19937``
it is built on: its constructor first fills the 624-word key from a ``SeedSequence`` drawn
from the OS, which the legacy seeding then overwrites entirely. For a small
``partial_fit`` that is a large part of the call.

Here the ``MT19937`` is built from a seed sequence whose words are all zero (cheap to
make, and overwritten the same way), and ``RandomState.seed`` then runs the same legacy
seeding as ``RandomState(seed)``: the new generator is in the same state (key, position,
no cached Gaussian) and draws the same numbers. ``None`` and ``RandomState`` instances are
handled by scikit-learn's ``check_random_state``, which also raises for anything else.
"""

import numbers

import numpy as np
from numpy.random.bit_generator import ISeedSequence
from sklearn.utils import check_random_state


class _ZeroSeedSequence(ISeedSequence):
    """A seed sequence of zero words: the initial key of an MT19937 that is reseeded."""

    __slots__ = ()

    def generate_state(self, n_words, dtype=np.uint32):
        # a list: MT19937 reads it word by word, faster than an array's scalars
        return [0] * n_words


_ZEROS = _ZeroSeedSequence()


def random_state_of(seed):
    """``check_random_state(seed)``: a new ``RandomState(seed)`` for an int seed."""
    if isinstance(seed, numbers.Integral):
        try:
            rng = np.random.RandomState(np.random.MT19937(_ZEROS))
        except (TypeError, ValueError):  # a NumPy whose MT19937 wants an array of words
            return np.random.RandomState(seed)
        rng.seed(seed)  # the legacy seeding of RandomState(seed), and its errors
        return rng
    return check_random_state(seed)
