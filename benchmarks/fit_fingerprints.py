"""Fingerprints of fitted MLPClassifier weights, to show that a refactor changed no bit.

For a fixed seed, fits one small network per configuration (every solver x activation x
dtype x dense/sparse input x softmax/logistic output, plus the optimizer options: SGD
schedules and momentum, early stopping, sample and class weights, partial_fit and
warm_start) and prints a SHA-256 of the bytes of ``coefs_`` + ``intercepts_`` and, as a
separate column, of ``loss_curve_`` / ``loss_``.

    python benchmarks/fit_fingerprints.py --save before.json     # on the old code
    python benchmarks/fit_fingerprints.py --check before.json    # on the new code

``--check`` exits 1 if any weights differ. The bits depend on the BLAS kernels OpenBLAS
picks for the CPU, so compare two runs on the same machine; the file records the SIMD path
and CPU so that a mismatch from a different machine is recognisable.
"""

import argparse
import hashlib
import json
import platform
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits

import csoftmax


def _digest(arrays):
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _data():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16.0, y[:600]
    Y = np.stack([y % 2 == 0, y > 4, y % 3 == 0], axis=1).astype(int)  # multilabel
    return X, y, Y


def _configs():
    base = dict(hidden_layer_sizes=(16, 8), max_iter=4, random_state=0, tol=0.0)
    for solver in ("lbfgs", "sgd", "adam"):
        for act in ("identity", "logistic", "tanh", "relu"):
            for dtype in ("float32", "float64"):
                for sparse in (False, True):
                    for target in ("multiclass", "multilabel", "binary"):
                        name = f"{solver}-{act}-{dtype}-{'csr' if sparse else 'dense'}-{target}"
                        params = dict(base, solver=solver, activation=act, dtype=dtype)
                        yield name, params, dict(sparse=sparse, target=target)
    extra = {
        "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling"),
        "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", max_iter=30,
                             n_iter_no_change=2, tol=0.5),
        "sgd-no-nesterov": dict(solver="sgd", nesterovs_momentum=False),
        "sgd-no-momentum": dict(solver="sgd", momentum=0.0),
        "adam-early-stopping": dict(solver="adam", early_stopping=True, max_iter=8),
        "sgd-early-stopping": dict(solver="sgd", early_stopping=True, max_iter=8),
        "adam-batch-37": dict(solver="adam", batch_size=37),
        "adam-no-shuffle": dict(solver="adam", shuffle=False),
        "adam-alpha-0.1": dict(solver="adam", alpha=0.1),
        "adam-class-weight": dict(solver="adam", class_weight="balanced"),
        "lbfgs-class-weight": dict(solver="lbfgs", class_weight={0: 3.0, 1: 0.5}),
    }
    for name, p in extra.items():
        for dtype in ("float32", "float64"):
            yield f"{name}-{dtype}", dict(base, dtype=dtype, **p), dict(sparse=False,
                                                                        target="multiclass")
    for mode in ("sample-weight", "partial-fit", "warm-start"):
        for solver in (("sgd", "adam") if mode != "sample-weight" else ("lbfgs", "sgd", "adam")):
            for dtype in ("float32", "float64"):
                yield (f"{mode}-{solver}-{dtype}", dict(base, solver=solver, dtype=dtype),
                       dict(sparse=False, target="multiclass", mode=mode))


def _fit(params, sparse, target, mode=None):
    X, y, Y = _data()
    if sparse:
        X = sp.csr_matrix(np.where(X > 0.3, X, 0.0))
    t = {"multiclass": y, "multilabel": Y, "binary": (y > 4).astype(int)}[target]
    clf = csoftmax.MLPClassifier(**params)
    if mode == "sample-weight":
        w = np.random.RandomState(1).uniform(0.1, 2.0, size=X.shape[0])
        clf.fit(X, t, sample_weight=w)
    elif mode == "partial-fit":
        for start in range(0, X.shape[0], 150):
            clf.partial_fit(X[start:start + 150], t[start:start + 150], classes=np.unique(t))
    elif mode == "warm-start":
        clf.set_params(warm_start=True).fit(X, t)
        clf.fit(X[::2], t[::2])
    else:
        clf.fit(X, t)
    return clf


def fingerprints():
    out = {}
    for name, params, kw in _configs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = _fit(params, **kw)
        losses = list(getattr(clf, "loss_curve_", None) or []) + [clf.loss_]
        out[name] = {
            "coefs": _digest(clf.coefs_ + clf.intercepts_),
            "loss": _digest([np.asarray(losses, dtype=np.float64)]),
        }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--save", metavar="FILE", help="write the fingerprints to FILE")
    group.add_argument("--check", metavar="FILE", help="compare with the fingerprints in FILE")
    args = parser.parse_args(argv)

    fp = fingerprints()
    meta = {"simd": csoftmax.simd_backend(), "machine": platform.machine(),
            "processor": platform.processor(), "numpy": np.__version__}
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"meta": meta, "fits": fp}, f, indent=1, sort_keys=True)
        print(f"{len(fp)} fits written to {args.save}")
        return 0
    if not args.check:
        for name, d in fp.items():
            print(f"{name:45s} coefs {d['coefs']}  loss {d['loss']}")
        return 0
    with open(args.check) as f:
        ref = json.load(f)
    if ref["meta"] != meta:
        print(f"note: reference made with {ref['meta']}, this run {meta}")
    coef_diff = [k for k in fp if ref["fits"].get(k, {}).get("coefs") != fp[k]["coefs"]]
    loss_diff = [k for k in fp if ref["fits"].get(k, {}).get("loss") != fp[k]["loss"]]
    print(f"{len(fp)} fits: {len(fp) - len(coef_diff)} with bitwise equal coefs_/intercepts_, "
          f"{len(fp) - len(loss_diff)} with bitwise equal losses")
    for k in coef_diff:
        print(f"  coefs differ: {k}")
    for k in loss_diff:
        print(f"  loss differs: {k}")
    return 1 if coef_diff else 0


if __name__ == "__main__":
    sys.exit(main())
