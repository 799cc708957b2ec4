"""
Train on MNIST with csoftmax.MLPClassifier
==========================================

:class:`csoftmax.MLPClassifier` is a scikit-learn estimator, so it fits in a
:class:`~sklearn.pipeline.Pipeline`, is tuned by :class:`~sklearn.model_selection.GridSearchCV`
and reports its training with the attributes scikit-learn's ``MLPClassifier`` has. This
tutorial trains a small network on handwritten digits, tunes it, plots its loss and
validation curves, and looks at the mistakes it makes.
"""

# %%
# The data
# --------
# :func:`csoftmax.datasets.load_mnist` reads a folder of MNIST's IDX files. Here it reads
# the folder in ``CSOFTMAX_MNIST_DIR`` when that is set; without it, scikit-learn's 8x8
# digits stand in, so the tutorial runs anywhere without a download.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from csoftmax import MLPClassifier
from csoftmax.datasets import load_mnist

if os.environ.get("CSOFTMAX_MNIST_DIR"):
    X, y = load_mnist(path=os.environ["CSOFTMAX_MNIST_DIR"])  # float32 pixels in [0, 1]
    X, y = X[:6000], y[:6000]
    side = 28
else:
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    side = 8
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0)
print(f"{len(X_train)} training and {len(X_test)} test images of {side}x{side} pixels")

fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, image, label in zip(axes, X_train, y_train):
    ax.imshow(image.reshape(side, side), cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")

# %%
# A pipeline, tuned by grid search
# --------------------------------
# A PCA in front of the network keeps the first 40 components of the pixels, which is
# faster to train on and loses little. The grid tries two widths of the hidden layer and
# two strengths of the L2 penalty ``alpha``, with 3-fold cross-validation. A few epochs
# are enough for a comparison; the best setting is then trained longer.
pipe = Pipeline([
    ("pca", PCA(n_components=40, random_state=0)),
    ("mlp", MLPClassifier(max_iter=15, random_state=0)),
])
grid = GridSearchCV(
    pipe,
    {"mlp__hidden_layer_sizes": [(32,), (96,)], "mlp__alpha": [1e-4, 1e-1]},
    cv=3,
)
import warnings

from sklearn.exceptions import ConvergenceWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 15 epochs do not converge
    grid.fit(X_train, y_train)
for params, score in zip(grid.cv_results_["params"], grid.cv_results_["mean_test_score"]):
    print(f"{score:.3f}  {params}")
print("best:", grid.best_params_)

# %%
# Loss and validation curves
# --------------------------
# With ``early_stopping=True`` the estimator sets 10% of the training data aside, scores
# it after every epoch (``validation_scores_``) and keeps the best weights;
# ``loss_curve_`` holds the training loss of each epoch: the cross-entropy computed by
# the fused kernels, plus the L2 term.
best = grid.best_estimator_.set_params(mlp__max_iter=60, mlp__early_stopping=True,
                                       mlp__n_iter_no_change=8)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    best.fit(X_train, y_train)
mlp = best.named_steps["mlp"]

fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
ax_loss.plot(np.arange(1, len(mlp.loss_curve_) + 1), mlp.loss_curve_)
ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss_curve_", yscale="log")
ax_val.plot(np.arange(1, len(mlp.validation_scores_) + 1), mlp.validation_scores_, "C1")
ax_val.axvline(int(np.argmax(mlp.validation_scores_)) + 1, color="gray", ls=":",
               label="best epoch (weights kept)")
ax_val.set(xlabel="epoch", ylabel="accuracy", title="validation_scores_")
ax_val.legend(loc="lower right")
print(f"stopped after {mlp.n_iter_} epochs; test accuracy {best.score(X_test, y_test):.3f}")

# %%
# What it gets wrong
# ------------------
# The confusion matrix counts, for each true digit (rows), the digits predicted
# (columns). The diagonal holds the correct predictions.
fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
ConfusionMatrixDisplay.from_estimator(best, X_test, y_test, ax=ax, colorbar=False)
ax.set_title("confusion matrix on the test images")

# %%
# The fitted network is an ordinary scikit-learn model: ``predict_proba`` gives the
# softmax of the output layer, computed by :func:`csoftmax.softmax`.
proba = best.predict_proba(X_test[:3])
print(proba.round(3))
print("rows sum to", proba.sum(axis=1))
