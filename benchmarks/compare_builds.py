"""Kernel times of two built checkouts of csoftmax, measured in turn: before and after.

Each round runs one fresh process per checkout, alternating, so that a noisy stretch of a
shared machine falls on both; every process times each op as the best of several calls,
and the table reports the median of the rounds. Build each checkout in place first
(``python setup.py build_ext --inplace``), for example an older commit in a worktree:

    git worktree add /tmp/old <commit> && (cd /tmp/old && python setup.py build_ext --inplace)
    python benchmarks/compare_builds.py /tmp/old . --rounds 3
    python benchmarks/compare_builds.py /tmp/old . --training --rounds 5
    python benchmarks/compare_builds.py /tmp/old . --shapes 4096x10,4096x128,4096x129

``--shapes`` replaces the three default shapes (rows x columns, comma-separated).

``--training`` times epochs of the suite's training instead (784-100-10, Adam, float32, on
Fashion-MNIST from ``--data-dir``; the quick run tiles scikit-learn's digits): each
process fits one warm-up epoch, then times five more with ``warm_start``, and reports
their median; the table has the median over rounds.

Figures, not assertions: ``old/new`` above 1 means the second checkout is faster.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

SHAPES = [(60000, 10), (4096, 1000), (512, 50257)]
OPS = ["softmax", "log_softmax", "xent+grad", "softmax_vjp", "log_vjp"]

_CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import csoftmax
assert csoftmax.__file__.startswith(sys.argv[1]), csoftmax.__file__
shapes = json.loads(sys.argv[2])

def best(f, repeats):
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)

rng = np.random.default_rng(0)
res = {}
for dtype in (np.float32, np.float64):
    for shape in shapes:
        x = (3 * rng.standard_normal(tuple(shape))).astype(dtype)
        out = np.empty_like(x)
        y = rng.integers(0, shape[1], shape[0])
        s, ls = csoftmax.softmax(x), csoftmax.log_softmax(x)
        dy = rng.standard_normal(tuple(shape)).astype(dtype)
        r = 5 if x.size > 1e7 else 11
        key = f"{np.dtype(dtype).name} {tuple(shape)}"
        res[key] = [best(lambda: csoftmax.softmax(x, out=out), r),
                    best(lambda: csoftmax.log_softmax(x, out=out), r),
                    best(lambda: csoftmax.cross_entropy(x, y, return_grad=True), r),
                    best(lambda: csoftmax.softmax_vjp(s, dy, out=out), r),
                    best(lambda: csoftmax.log_softmax_vjp(ls, dy, out=out), r)]
print(json.dumps(res))
"""


_TRAINING_CHILD = r"""
import json, statistics, sys, time, warnings
import numpy as np
sys.path.insert(0, sys.argv[1])
import csoftmax
assert csoftmax.__file__.startswith(sys.argv[1]), csoftmax.__file__
from csoftmax import MLPClassifier
folder = sys.argv[2]
if folder:
    from csoftmax.datasets import load_mnist
    X, y = load_mnist(path=folder)
    X, y = np.ascontiguousarray(X[:60000], dtype=np.float32), y[:60000]
else:
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X, y = np.tile(X, (4, 1)).astype(np.float32) / 16, np.tile(y, 4)
warnings.simplefilter("ignore")
clf = MLPClassifier(hidden_layer_sizes=(100,), max_iter=1, random_state=0, tol=0,
                    dtype=np.float32, warm_start=True)
clf.fit(X, y)
seconds = []
for _ in range(5):
    t0 = time.perf_counter()
    clf.fit(X, y)
    seconds.append(time.perf_counter() - t0)
print(json.dumps({"float32 " + str(X.shape): [statistics.median(seconds)]}))
"""


def _run(checkout, child, arg):
    out = subprocess.run(
        [sys.executable, "-c", child, os.path.abspath(checkout), arg],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def _default_data_dir():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return (os.environ.get("CSOFTMAX_FASHION_MNIST_DIR")
            or os.path.join(os.path.dirname(root), "shared", "data", "fashion-mnist"))


def parse_shapes(text):
    """'4096x10,512x129' -> [(4096, 10), (512, 129)]"""
    try:
        shapes = [tuple(int(v) for v in item.lower().split("x")) for item in text.split(",")]
    except ValueError:
        shapes = None
    if not shapes or any(len(s) != 2 or min(s) < 1 for s in shapes):
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLUMNS[,...], got {text!r}")
    return shapes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="path of the first (before) checkout, built in place")
    parser.add_argument("new", help="path of the second (after) checkout, built in place")
    parser.add_argument("--rounds", type=int, default=3, help="alternations (default 3)")
    parser.add_argument("--quick", action="store_true", help="small shapes only (a smoke run)")
    parser.add_argument("--shapes", type=parse_shapes, default=None,
                        help="rows x columns, comma-separated (default: 60000x10, 4096x1000, "
                             "512x50257)")
    parser.add_argument("--training", action="store_true",
                        help="time training epochs instead of the kernels")
    parser.add_argument("--data-dir", default=_default_data_dir(),
                        help="Fashion-MNIST IDX files for --training (default: "
                             "$CSOFTMAX_FASHION_MNIST_DIR or ../shared/data/fashion-mnist)")
    args = parser.parse_args(argv)
    if args.training:
        data = "" if args.quick else args.data_dir
        child, arg, ops, unit = _TRAINING_CHILD, data, ["epoch"], "s"
    else:
        shapes = args.shapes or ([(2000, 10), (64, 1000)] if args.quick else SHAPES)
        child, arg, ops, unit = _CHILD, json.dumps(shapes), OPS, "ms"
    runs = {"old": [], "new": []}
    for _ in range(args.rounds):
        for name in ("old", "new"):
            runs[name].append(_run(getattr(args, name), child, arg))
    print(f"median of {args.rounds} rounds, each the best or median of several; {unit}")
    print(f"{'dtype, shape':24s} {'op':12s} {'old':>9s} {'new':>9s} {'old/new':>8s}")
    scale = 1.0 if args.training else 1e3
    for key in runs["old"][0]:
        for k, op in enumerate(ops):
            old = statistics.median(r[key][k] for r in runs["old"]) * scale
            new = statistics.median(r[key][k] for r in runs["new"]) * scale
            print(f"{key:24s} {op:12s} {old:9.3f} {new:9.3f} {old / new:7.2f}x")


if __name__ == "__main__":
    main()
