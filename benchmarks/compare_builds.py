"""Kernel times of two built checkouts of csoftmax, measured in turn: before and after.

Each round runs one fresh process per checkout, alternating, so that a noisy stretch of a
shared machine falls on both; every process times each op as the best of several calls,
and the table reports the median of the rounds. Build each checkout in place first
(``python setup.py build_ext --inplace``), for example an older commit in a worktree:

    git worktree add /tmp/old <commit> && (cd /tmp/old && python setup.py build_ext --inplace)
    python benchmarks/compare_builds.py /tmp/old . --rounds 3

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


def _run(checkout, shapes):
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, os.path.abspath(checkout), json.dumps(shapes)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="path of the first (before) checkout, built in place")
    parser.add_argument("new", help="path of the second (after) checkout, built in place")
    parser.add_argument("--rounds", type=int, default=3, help="alternations (default 3)")
    parser.add_argument("--quick", action="store_true", help="small shapes only (a smoke run)")
    args = parser.parse_args(argv)
    shapes = [(2000, 10), (64, 1000)] if args.quick else SHAPES
    runs = {"old": [], "new": []}
    for _ in range(args.rounds):
        for name in ("old", "new"):
            runs[name].append(_run(getattr(args, name), shapes))
    print(f"median of {args.rounds} rounds, each the best of several calls; ms")
    print(f"{'dtype, shape':24s} {'op':12s} {'old':>9s} {'new':>9s} {'old/new':>8s}")
    for key in runs["old"][0]:
        for k, op in enumerate(OPS):
            old = statistics.median(r[key][k] for r in runs["old"]) * 1e3
            new = statistics.median(r[key][k] for r in runs["new"]) * 1e3
            print(f"{key:24s} {op:12s} {old:9.3f} {new:9.3f} {old / new:7.2f}x")


if __name__ == "__main__":
    main()
