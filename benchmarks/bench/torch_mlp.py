"""The PyTorch peer of ``MLPClassifier``: the same network trained by a plain PyTorch loop.

One hidden ReLU layer, softmax cross-entropy, Adam (learning rate 1e-3, betas 0.9/0.999,
eps 1e-8), shuffled minibatches, float32. scikit-learn's L2 term ``alpha / 2 * ||W||^2``
per minibatch mean adds ``alpha / batch_size * W`` to each weight's gradient; Adam's
``weight_decay`` on the weights (not the biases) of ``alpha / batch_size`` adds the same.
The weights start from PyTorch's default initialisation, not scikit-learn's.
"""

from contextlib import contextmanager

import numpy as np


@contextmanager
def torch_threads(torch, n_threads):
    """Run PyTorch's intra-op work on ``n_threads`` threads (None: leave it), then restore."""
    before = torch.get_num_threads()
    if n_threads:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class TorchMLPClassifier:
    """``fit``/``score``/``predict_proba`` with the parameters of the suite's MLPs."""

    def __init__(self, torch, *, hidden_layer_sizes=(100,), max_iter=3, batch_size=200,
                 alpha=1e-4, learning_rate_init=1e-3, random_state=0, n_threads=None,
                 **ignored):
        self.torch, self.hidden, self.max_iter = torch, hidden_layer_sizes, max_iter
        self.batch_size, self.alpha, self.lr = batch_size, alpha, learning_rate_init
        self.random_state, self.n_threads = random_state, n_threads

    def _build(self, n_features, n_classes):
        nn = self.torch.nn
        sizes = [n_features, *self.hidden, n_classes]
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.model_ = nn.Sequential(*layers[:-1])
        params = dict(self.model_.named_parameters())
        weights = [p for name, p in params.items() if name.endswith("weight")]
        biases = [p for name, p in params.items() if name.endswith("bias")]
        return self.torch.optim.Adam(
            [{"params": weights, "weight_decay": self.alpha / self.batch_size},
             {"params": biases, "weight_decay": 0.0}], lr=self.lr)

    def fit(self, X, y):
        torch = self.torch
        self.classes_, labels = np.unique(y, return_inverse=True)
        X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        labels = torch.from_numpy(labels.astype(np.int64))
        with torch_threads(torch, self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            optimizer = self._build(X.shape[1], len(self.classes_))
            for _ in range(self.max_iter):
                self._epoch(X, labels, optimizer)
        self.n_iter_ = self.max_iter
        return self

    def _epoch(self, X, labels, optimizer):
        cross_entropy = self.torch.nn.functional.cross_entropy
        order = self.torch.randperm(len(labels))
        for start in range(0, len(labels), self.batch_size):
            batch = order[start:start + self.batch_size]
            loss = cross_entropy(self.model_(X[batch]), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def predict_proba(self, X):
        torch = self.torch
        with torch_threads(torch, self.n_threads), torch.no_grad():
            logits = self.model_(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
            return torch.softmax(logits, 1).numpy()

    def score(self, X, y):
        return float(np.mean(self.classes_[self.predict_proba(X).argmax(axis=1)] == y))
