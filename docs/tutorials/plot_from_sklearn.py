"""
Switching from scikit-learn
===========================

:class:`csoftmax.MLPClassifier` is a drop-in replacement for
:class:`sklearn.neural_network.MLPClassifier`: change the import, keep the code. This
page shows what stays identical, what is added, and what the change buys.
"""

# %%
# Change the import
# -----------------
# The parameters, their defaults and their validation are scikit-learn's; so are the
# fitted attributes (``coefs_``, ``intercepts_``, ``loss_curve_``, ``n_iter_``...), the
# verbose output and the warnings. The random numbers are drawn exactly as scikit-learn
# draws them, so the same ``random_state`` gives the same initial weights, the same
# minibatch order and the same early-stopping split.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP

from csoftmax import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)

params = dict(hidden_layer_sizes=(64,), max_iter=40, random_state=0)
ours, theirs = MLPClassifier(**params), SklearnMLP(**params)
assert ours.get_params() == {**theirs.get_params(), "class_weight": None, "dtype": None,
                             "n_threads": None}

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    ours.fit(X_train, y_train)
    theirs.fit(X_train, y_train)

# %%
# The same training, to rounding
# ------------------------------
# Both fits start from the same weights and see the same minibatches, so their loss
# curves lie on top of each other. They differ only by rounding: the fused kernels sum in
# a different order, and their loss is the log-sum-exp cross-entropy without
# scikit-learn's clipping of probabilities.
fig, (ax, ax_diff) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
epochs = np.arange(1, len(ours.loss_curve_) + 1)
ax.plot(epochs, theirs.loss_curve_, lw=4, alpha=0.4, label="scikit-learn")
ax.plot(epochs, ours.loss_curve_, "k--", label="csoftmax")
ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="loss_curve_")
ax.legend()
diff = np.abs(np.array(ours.loss_curve_) - np.array(theirs.loss_curve_))
ax_diff.semilogy(epochs, np.maximum(diff, 1e-17))
ax_diff.set(xlabel="epoch", ylabel="|difference| (0 drawn at 1e-17)",
            title="difference of the two curves")

agree = np.mean(ours.predict(X_test) == theirs.predict(X_test))
print(f"test accuracy: csoftmax {ours.score(X_test, y_test):.4f}, "
      f"scikit-learn {theirs.score(X_test, y_test):.4f}")
print(f"the two agree on {agree:.1%} of the test predictions")
print("largest weight difference:",
      max(np.abs(a - b).max() for a, b in zip(ours.coefs_, theirs.coefs_)))

# %%
# What is added
# -------------
# Three parameters that scikit-learn's estimator does not have:
#
# - ``class_weight``: ``{label: weight}`` or ``"balanced"``, as in scikit-learn's linear
#   models; it weights the loss, its gradient and the early-stopping score.
# - ``dtype``: train in float32 from float64 input (half the memory traffic) or the
#   reverse; ``None`` keeps the input's float type, as scikit-learn does.
# - ``n_threads``: the OpenMP threads of the kernels; results do not depend on it.
clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=40, random_state=0,
                    class_weight="balanced", dtype=np.float32, n_threads=1)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf.fit(X_train, y_train)
print(clf.coefs_[0].dtype, f"accuracy {clf.score(X_test, y_test):.4f}")

# %%
# What it buys
# ------------
# Each epoch runs in one compiled call: the matrix products, the fused softmax
# cross-entropy gradient, the activations and the optimizer update, without the GIL and
# without returning to Python between minibatches. The :doc:`/performance` page shows
# what that gives on Fashion-MNIST's 60,000 training images with a 784-100-10 network:
# seconds per epoch against scikit-learn and PyTorch, as the benchmark suite
# (``python benchmarks/suite.py``) last measured them, with the machine it ran on. This
# page times nothing: the machines that build it are shared.
