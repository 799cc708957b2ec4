"""Seconds per training epoch: csoftmax against scikit-learn, in one process.

    python benchmarks/bench_training.py [--data-dir ../shared/data/fashion-mnist]
                                        [--repeats 3] [--epochs 3]

Fits MLPClassifier((100,), Adam, batch 200, float32) on the 60,000 training rows of
(Fashion-)MNIST for a few epochs, `--repeats` times per library (alternating), and prints
the best and the median seconds per epoch of each and their ratio. The machines here are
shared: compare the ratio, and repeat the run.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier as SklearnMLP

import csoftmax
from csoftmax.datasets import load_mnist


def _epoch_seconds(make, X, y, epochs):
    clf = make(max_iter=epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged after a few epochs
        t0 = time.perf_counter()
        clf.fit(X, y)
    return (time.perf_counter() - t0) / epochs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data/fashion-mnist")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    X, y = load_mnist(path=args.data_dir)
    X, y = X[:60000], y[:60000]
    common = dict(hidden_layer_sizes=(100,), random_state=0, tol=0.0)
    makers = {
        "csoftmax": lambda **kw: csoftmax.MLPClassifier(dtype=np.float32, **common, **kw),
        "scikit-learn": lambda **kw: SklearnMLP(**common, **kw),
    }
    times = {name: [] for name in makers}
    for _ in range(args.repeats):
        for name, make in makers.items():
            times[name].append(_epoch_seconds(make, X, y, args.epochs))
    for name, t in times.items():
        print(f"{name:13s} s/epoch: best {min(t):.3f}  median {np.median(t):.3f}")
    ratio = np.median(times["scikit-learn"]) / np.median(times["csoftmax"])
    print(f"speed-up (median scikit-learn / median csoftmax): {ratio:.2f}x")


if __name__ == "__main__":
    main()
