"""
Streaming data with partial_fit
===============================

When the data do not fit in memory, or arrive over time, ``partial_fit`` trains on one
chunk at a time. Each call runs one epoch over the chunk it is given, and the optimizer's
state (Adam's moments and step count, or SGD's velocities and learning rate) carries over
from call to call, so a stream of chunks trains the network as minibatches would.
"""

# %%
# A stream of chunks
# ------------------
# Here the stream is a generator over a shuffled array, 250 images at a time; in
# practice it would read files, a database or a memory-mapped array. The first call must
# name every class, since a chunk may not hold them all.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from csoftmax import MLPClassifier
from csoftmax.datasets import load_mnist

if os.environ.get("CSOFTMAX_MNIST_DIR"):
    X, y = load_mnist(path=os.environ["CSOFTMAX_MNIST_DIR"])
    X, y = X[:8000], y[:8000]
else:
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
X_stream, X_test, y_stream, y_test = train_test_split(
    X, y, test_size=0.2, stratify=y, random_state=0)


def chunks(X, y, size, seed):
    order = np.random.default_rng(seed).permutation(len(X))
    for start in range(0, len(X), size):
        rows = order[start:start + size]
        yield X[rows], y[rows]


clf = MLPClassifier(hidden_layer_sizes=(64,), random_state=0)
classes = np.unique(y)
seen, accuracy, losses = [], [], []
for n_pass in range(3):  # three passes over the stream
    for X_chunk, y_chunk in chunks(X_stream, y_stream, 250, seed=n_pass):
        clf.partial_fit(X_chunk, y_chunk, classes=classes)
        seen.append(len(seen) + 1)
        losses.append(clf.loss_)
        accuracy.append(clf.score(X_test, y_test))
print(f"{len(seen)} chunks, test accuracy {accuracy[-1]:.3f}")

# %%
# Learning from the stream
# ------------------------
# ``loss_`` is the loss of the last call; its steady decrease and the test accuracy show
# the optimizer's state carrying over from chunk to chunk.
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
ax_loss.plot(seen, losses)
ax_loss.set(xlabel="chunks seen", ylabel="loss_ after the call", yscale="log")
ax_acc.plot(seen, accuracy, "C1")
ax_acc.set(xlabel="chunks seen", ylabel="test accuracy", ylim=(0, 1))
n_chunks = len(seen) // 3
for ax in (ax_loss, ax_acc):
    for k in (1, 2):
        ax.axvline(k * n_chunks + 0.5, color="gray", ls=":")

# %%
# The optimizer's state survives a pickle, so a stream can be stopped and resumed in
# another process: the network continues exactly where it stopped.
import pickle

resumed = pickle.loads(pickle.dumps(clf))
X_chunk, y_chunk = next(chunks(X_stream, y_stream, 250, seed=99))
clf.partial_fit(X_chunk, y_chunk)
resumed.partial_fit(X_chunk, y_chunk)
assert all(np.array_equal(a, b) for a, b in zip(clf.coefs_, resumed.coefs_))
print("resumed from a pickle: identical weights after the next chunk")
