"""Per-call speed of each way to serve a fitted MLPClassifier (docs/deployment.rst).

    python benchmarks/deployment.py [--hidden 100] [--rows 1,10,1000] [--repeats 30]
                                    [--dtype float32] [--threads N] [--quick]

One model is fitted by csoftmax on scikit-learn's 8x8 digits (1,797 rows of 64 features,
up-sampled by repetition for the 1,000-row calls) and served four ways, on the same rows
of the model's dtype:

* csoftmax: ``clf.predict_proba(X)``;
* scikit-learn: ``clf.to_sklearn().predict_proba(X)``;
* scikit-learn unpickled: the same, loaded from a pickle, as a service without csoftmax
  would hold it (a check that the round trip costs nothing per call);
* onnxruntime: ``session.run`` of ``skl2onnx.to_onnx(clf.to_sklearn(), X)``, when the
  ``export`` extra is installed (skipped otherwise), with onnxruntime's default threads.

For each number of rows it prints microseconds per call, best and median of
``--repeats`` samples of several calls each (a one-row request pays every check, every
allocation and the Python calls), and each route's median over csoftmax's. The figures
describe the machine it runs on; run it on the serving machine. ``--quick`` is a smoke run
(tiny network, few samples) whose figures mean nothing.
"""

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the `bench` helpers

from bench.timing import measure  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hidden", type=int, default=100, help="hidden units (one layer)")
    p.add_argument("--rows", default="1,10,1000", help="rows per call, comma-separated")
    p.add_argument("--repeats", type=int, default=30, help="timed samples per route")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=None,
                   help="csoftmax's n_threads (default: all usable cores)")
    p.add_argument("--quick", action="store_true", help="smoke run: figures mean nothing")
    args = p.parse_args(argv)
    args.rows = [int(r) for r in args.rows.split(",")]
    if args.quick:
        args.hidden, args.repeats = 8, 2
    return args


def routes(clf, X_fit):
    """name -> predict function of each available route."""
    sk = clf.to_sklearn()
    served = pickle.loads(pickle.dumps(sk))
    out = {
        "csoftmax": clf.predict_proba,
        "scikit-learn": sk.predict_proba,
        "scikit-learn unpickled": served.predict_proba,
    }
    try:
        import onnxruntime
        from skl2onnx import to_onnx
    except ImportError:
        print("onnxruntime: skipped (pip install \"csoftmax[export]\")")
        return out
    onx = to_onnx(sk, X_fit[:1], options={"zipmap": False})
    session = onnxruntime.InferenceSession(onx.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out["onnxruntime"] = lambda X: session.run(None, {name: X})[1]
    return out


def main(argv=None):
    args = parse_args(argv)
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning

    from csoftmax import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(args.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((args.hidden,), max_iter=5 if args.quick else 50, random_state=0,
                            dtype=args.dtype, n_threads=args.threads).fit(X, y)
    funcs = routes(clf, X)

    print(f"predict_proba of a 64-{args.hidden}-10 network, {args.dtype} rows; "
          f"microseconds per call, best / median of {args.repeats} samples")
    header = ["rows"] + [f"{name} best / median" for name in funcs]
    rows = []
    for n in args.rows:
        Xn = np.ascontiguousarray(np.resize(X, (n, X.shape[1])))
        reference = clf.predict_proba(Xn)
        number = max(1, (20 if args.quick else 200) // n)
        cells, medians = [f"{n:,}"], {}
        for name, f in funcs.items():
            got = f(Xn)
            if np.abs(got - reference).max() > 1e-5:  # a route that predicts otherwise
                raise SystemExit(f"{name} predicts differently from csoftmax on {n} rows")
            t = measure(lambda f=f: f(Xn), args.repeats, number=number)
            medians[name] = t.median
            cells.append(f"{t.best * 1e6:.1f} / {t.median * 1e6:.1f}")
        rows.append(cells)
        rows.append(["  vs csoftmax"] + [f"{medians[name] / medians['csoftmax']:.2f}x"
                                         for name in funcs])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
