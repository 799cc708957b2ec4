"""
The kernels in your own NumPy network
=====================================

csoftmax's kernels are plain functions of NumPy arrays, so they slot into a network you
write yourself. This tutorial builds a two-layer network, writes its backward pass by
hand with the fused loss gradient, checks that backward pass with
:func:`csoftmax.testing.check_vjp`, and trains it.
"""

# %%
# The network
# -----------
# ``X -> linear -> ReLU -> linear -> softmax cross-entropy``. The forward pass keeps what
# the backward pass needs. :func:`csoftmax.cross_entropy` with ``return_grad=True`` gives
# the loss and its gradient with respect to the logits, ``(softmax(Z2) - onehot(y)) / N``,
# in one pass over the logits.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import csoftmax
from csoftmax.testing import check_vjp


def forward(params, X, y):
    W1, b1, W2, b2 = params
    H = np.maximum(X @ W1 + b1, 0.0)
    Z2 = H @ W2 + b2
    loss, dZ2 = csoftmax.cross_entropy(Z2, y, return_grad=True)
    return loss, (X, H, dZ2)


def backward(params, cache, dloss=1.0):
    W1, b1, W2, b2 = params
    X, H, dZ2 = cache
    dZ2 = dloss * dZ2
    dW2, db2 = H.T @ dZ2, dZ2.sum(axis=0)       # dW = (layer input)ᵀ dZ, db = Σ dZ
    dH = dZ2 @ W2.T
    dZ1 = dH * (H > 0)                         # ReLU passes the gradient where it was active
    dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
    return dW1, db1, dW2, db2


# %%
# Check the backward pass before training
# ---------------------------------------
# ``check_vjp`` differentiates the loss numerically with respect to each of the four
# parameter arrays and compares with ``backward``. A small batch keeps it quick. (Finite
# differences are not derivatives at a ReLU's kink; with random inputs no unit sits
# exactly there.)
rng = np.random.default_rng(0)
n_features, n_hidden, n_classes = 12, 7, 5
Xs = rng.normal(size=(6, n_features))
ys = rng.integers(0, n_classes, 6)
small = [rng.normal(scale=0.5, size=(n_features, n_hidden)), rng.normal(size=n_hidden),
         rng.normal(scale=0.5, size=(n_hidden, n_classes)), rng.normal(size=n_classes)]

result = check_vjp(
    lambda *p: forward(p, Xs, ys)[0],
    lambda dloss, *p: backward(p, forward(p, Xs, ys)[1], dloss),
    tuple(small),
)
print(result)
assert result

# %%
# A bug it catches: forgetting the ReLU's mask in the backward pass.


def backward_no_mask(params, cache, dloss=1.0):
    W1, b1, W2, b2 = params
    X, H, dZ2 = cache
    dZ2 = dloss * dZ2
    dZ1 = dZ2 @ W2.T                           # missing: * (H > 0)
    return X.T @ dZ1, dZ1.sum(axis=0), H.T @ dZ2, dZ2.sum(axis=0)


print(check_vjp(lambda *p: forward(p, Xs, ys)[0],
                lambda dloss, *p: backward_no_mask(p, forward(p, Xs, ys)[1], dloss),
                tuple(small)))

# %%
# Train it
# --------
# Minibatch gradient descent with momentum on the 8x8 digits, in float32. The kernels
# keep float32 as float32, so the whole network trains in float32.
#
# Each epoch splits the shuffled rows into batches of equal size (64 or 65 rows), rather
# than taking 64 at a time: the 1,347 training rows would leave a last batch of 3. The
# mean gradient of 3 rows is far noisier than that of 64, yet it takes a full step, and
# momentum 0.9 carries that step on for about ten more. Taken 64 at a time, one such
# batch (its gradient many times the usual size) threw this network's loss from 0.05 up
# to nearly 0.5 at epoch 12, and it took two epochs to recover.
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

rng = np.random.default_rng(0)
n_hidden = 64
params = [
    (rng.normal(size=(64, n_hidden)) * np.sqrt(2 / 64)).astype(np.float32),
    np.zeros(n_hidden, np.float32),
    (rng.normal(size=(n_hidden, 10)) * np.sqrt(1 / n_hidden)).astype(np.float32),
    np.zeros(10, np.float32),
]
velocity = [np.zeros_like(p) for p in params]
learning_rate, momentum, batch = 0.1, 0.9, 64
n_batches = len(X_train) // batch


def accuracy(params, X, y):
    W1, b1, W2, b2 = params
    logits = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    return np.mean(logits.argmax(axis=1) == y)


history = {"loss": [], "test accuracy": []}
for epoch in range(15):
    order = rng.permutation(len(X_train))
    losses = []
    for rows in np.array_split(order, n_batches):      # equal sizes: no 3-row batch
        loss, cache = forward(params, X_train[rows], y_train[rows])
        grads = backward(params, cache)
        for p, v, g in zip(params, velocity, grads):
            v *= momentum
            v -= learning_rate * g
            p += v
        losses.append(loss)
    history["loss"].append(np.mean(losses))
    history["test accuracy"].append(accuracy(params, X_test, y_test))
print(f"test accuracy after {epoch + 1} epochs: {history['test accuracy'][-1]:.3f}")
print("parameters are", params[0].dtype)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
for ax, (name, values) in zip(axes, history.items()):
    ax.plot(np.arange(1, len(values) + 1), values, "o-")
    ax.set(xlabel="epoch", title=name)
axes[0].set_yscale("log")

# %%
# Where to go from here
# ---------------------
# The same pieces cover other layers: :func:`csoftmax.softmax` with
# :func:`csoftmax.softmax_vjp` for a softmax inside a network (attention weights, a
# mixture's gates), :func:`csoftmax.log_softmax` with :func:`csoftmax.log_softmax_vjp`
# for a log-likelihood you assemble yourself. The guide :doc:`/softmax_backprop` derives
# each of them, and ``check_vjp`` checks whatever you build from them.
