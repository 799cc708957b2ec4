"""Default threads against one thread, on a quiet machine and beside a busy process.

    python benchmarks/busy.py                  # 20,000 x 784 synthetic rows, 3 rounds
    python benchmarks/busy.py --quick          # tiny sizes: a smoke run, not for figures
    python benchmarks/busy.py --rounds 5 --spinners 2
    python benchmarks/busy.py --only fit,softmax

For each call (``fit``: seconds per epoch; ``partial_fit`` of 200 rows; ``predict`` and
``predict_proba`` of 1,000 rows; ``softmax`` of float32 logits) and each thread setting
(``n_threads=None``, the default, and ``n_threads=1``), one fresh process times the call
(``bench/call_child.py``, the median of its calls). A round runs every (call, threads)
process in turn on the quiet machine, then again while ``--spinners`` processes run
``while True: pass`` (a neighbour keeping a core busy); rounds alternate so that a drift of
the machine falls on both settings alike. The table gives the best and the median over the
rounds, in milliseconds, and two ratios of medians:

- *busy: default / 1 thread*: what the default costs beside a busy process (above 1.00x,
  one thread would have been faster);
- *quiet: 1 thread / default*: the default's speed-up on a quiet machine.

It prints figures and asserts nothing: run it on an otherwise quiet machine.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench.calls import run_child, save_npz  # noqa: E402
from bench.contention import busy_process  # noqa: E402
from bench.timing import Timing  # noqa: E402

# (label, call_child op, data file)
CALLS = (("fit (s/epoch)", "fit", "fit"), ("partial_fit 200", "partial_fit200", "small"),
         ("predict 1000", "predict1000", "small"), ("predict_proba 1000", "predict_proba1000",
                                                    "small"),
         ("softmax", "softmax", "logits"))
THREADS = ("default", "1")


def make_data(folder, rows, features, logits, seed=0):
    """Synthetic classification data (10 classes a linear map of the features decides,
    with noise) and standard-normal logits, saved as .npz files; returns their paths."""
    rng = np.random.default_rng(seed)
    X = rng.random((rows, features), dtype=np.float32).astype(np.float64)
    w = rng.standard_normal((features, 10))
    y = np.argmax(X @ w + rng.standard_normal((rows, 10)), axis=1)
    small = min(rows, 5000)
    return {"fit": save_npz(folder, X, y, "fit.npz"),
            "small": save_npz(folder, X[:small], y[:small], "small.npz"),
            "logits": save_npz(folder, 3 * rng.standard_normal(logits, np.float32),
                               np.zeros(logits[0], np.int64), "logits.npz")}


def measure(paths, args):
    """(label, threads, "quiet" | "busy") -> the per-round medians, in seconds."""
    found = {}

    def one_pass(setting):
        for label, op, data in args.calls_run:
            for threads in THREADS:
                calls = args.fit_repeats if op == "fit" else args.calls
                r = run_child(op, "csoftmax", threads, paths[data], calls, epochs=args.epochs)
                found.setdefault((label, threads, setting), []).append(r["median"])

    for k in range(args.rounds):
        print(f"round {k + 1}/{args.rounds}", flush=True)
        one_pass("quiet")
        with busy_process() if args.spinners >= 1 else _nothing():
            with busy_process() if args.spinners >= 2 else _nothing():
                one_pass("busy")
    return {key: Timing.of(v) for key, v in found.items()}


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def report(found, calls_run):
    head = ("call", "threads", "quiet best", "quiet median", "busy best", "busy median")
    print(" | ".join(head) + " | busy: default / 1 thread | quiet: 1 thread / default")
    for label, _, _ in calls_run:
        for threads in THREADS:
            q, b = found[(label, threads, "quiet")], found[(label, threads, "busy")]
            cells = [label, threads] + [f"{t * 1e3:.3f}" for t in (q.best, q.median, b.best,
                                                                     b.median)]
            if threads == "default":
                one_b, one_q = found[(label, "1", "busy")], found[(label, "1", "quiet")]
                cells += [f"{b.median / one_b.median:.2f}x", f"{one_q.median / q.median:.2f}x"]
            print(" | ".join(cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 rounds: a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 2 quick)")
    parser.add_argument("--rows", type=int, default=None,
                        help="training rows (default 20,000; 1,000 quick)")
    parser.add_argument("--features", type=int, default=None,
                        help="features (default 784; 64 quick)")
    parser.add_argument("--spinners", type=int, default=1, choices=(0, 1, 2),
                        help="busy processes beside the busy pass (default 1)")
    parser.add_argument("--only", default=None,
                        help="comma-separated subset of fit,partial_fit,predict,"
                             "predict_proba,softmax (default: all)")
    args = parser.parse_args(argv)
    names = {"fit": "fit", "partial_fit": "partial_fit200", "predict": "predict1000",
             "predict_proba": "predict_proba1000", "softmax": "softmax"}
    wanted = names.keys() if args.only is None else [w.strip() for w in args.only.split(",")]
    unknown = [w for w in wanted if w not in names]
    if unknown or not wanted:
        parser.error(f"--only: unknown call(s) {unknown}; choose from {','.join(names)}")
    args.calls_run = [c for c in CALLS if c[1] in {names[w] for w in wanted}]
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds: at least 1")
    args.rounds = args.rounds or (2 if args.quick else 3)
    rows = args.rows or (1000 if args.quick else 20000)
    features = args.features or (64 if args.quick else 784)
    logits = (256, 100) if args.quick else (4096, 1000)
    args.calls, args.fit_repeats, args.epochs = (5, 1, 1) if args.quick else (100, 3, 1)
    if args.rounds < 3 and not args.quick:
        parser.error("--rounds: at least 3 for figures (--quick for a smoke run)")
    print(f"fit: {rows:,} x {features}, MLP {features}-100-10, batch 200; softmax "
          f"{logits[0]} x {logits[1]} float32; {args.rounds} rounds, {args.spinners} "
          f"busy process(es)")
    with tempfile.TemporaryDirectory() as tmp:
        found = measure(make_data(tmp, rows, features, logits), args)
    report(found, args.calls_run)


if __name__ == "__main__":
    main()
