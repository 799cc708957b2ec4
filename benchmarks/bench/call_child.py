"""One measurement in a fresh process: a library's call, timed many times, as JSON.

    python call_child.py OP LIBRARY N_THREADS DATA.npz [--calls N] [--epochs N]

OP is ``partial_fit10``, ``partial_fit200`` (``partial_fit`` of 10 or 200 rows a call,
cycling through the data), ``predict_proba1``, ``predict_proba1000``, ``predict1000`` (a network fitted
for 2 epochs, then one row or 1,000 rows a call), ``fit`` (seconds per epoch of one fit) or
``softmax`` (``csoftmax.softmax`` of DATA's ``X`` as float32). LIBRARY is ``csoftmax`` or
``scikit-learn``; N_THREADS is csoftmax's ``n_threads`` (``default``: None). The parent
(``bench.calls``, ``bench.contention``) runs the libraries in turn, one process each, so
that no library's thread pool disturbs another's. Prints one JSON line: the best and the
median of the timed calls, in seconds per call.
"""

import argparse
import json
import time
import warnings

import numpy as np


def _estimator(library, n_threads, **params):
    params = dict(hidden_layer_sizes=(100,), random_state=0, **params)
    if library == "csoftmax":
        from csoftmax import MLPClassifier
        return MLPClassifier(n_threads=n_threads, **params)
    from sklearn.neural_network import MLPClassifier
    return MLPClassifier(**params)


def _timed_calls(f, calls):
    f()  # warm-up
    seconds = []
    for _ in range(calls):
        t0 = time.perf_counter()
        f()
        seconds.append(time.perf_counter() - t0)
    return seconds


def measure(op, library, n_threads, X, y, calls, epochs):
    classes = np.unique(y)
    if op.startswith("partial_fit"):
        rows = int(op[len("partial_fit"):])
        est = _estimator(library, n_threads)
        est.partial_fit(X[:rows], y[:rows], classes=classes)
        starts = iter(range(0, 10**9, rows))

        def call():
            start = next(starts) % (len(y) - rows)
            est.partial_fit(X[start:start + rows], y[start:start + rows])
        return _timed_calls(call, calls)
    if op.startswith("predict"):
        method = "predict_proba" if op.startswith("predict_proba") else "predict"
        rows = int(op[len(method):])
        est = _estimator(library, n_threads, max_iter=2).fit(X, y)
        batch = np.ascontiguousarray(np.resize(X, (rows, X.shape[1])))
        return _timed_calls(lambda: getattr(est, method)(batch), calls)
    if op == "fit":
        def call():
            est = _estimator(library, n_threads, max_iter=epochs, batch_size=200, tol=0.0)
            t0 = time.perf_counter()
            est.fit(X, y)
            return (time.perf_counter() - t0) / est.n_iter_
        call()  # warm-up
        return [call() for _ in range(calls)]
    if op == "softmax":
        import csoftmax
        x = np.ascontiguousarray(X, dtype=np.float32)
        return _timed_calls(lambda: csoftmax.softmax(x, n_threads=n_threads), calls)
    raise ValueError(f"unknown op {op!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("op")
    parser.add_argument("library", choices=["csoftmax", "scikit-learn"])
    parser.add_argument("n_threads")
    parser.add_argument("data", help=".npz file holding X and y")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    n_threads = None if args.n_threads == "default" else int(args.n_threads)
    with np.load(args.data) as data:
        X, y = data["X"], data["y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of short fits
        seconds = measure(args.op, args.library, n_threads, X, y, args.calls, args.epochs)
    print(json.dumps({"best": float(np.min(seconds)), "median": float(np.median(seconds))}))


if __name__ == "__main__":
    main()
