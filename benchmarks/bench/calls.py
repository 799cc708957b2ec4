"""Small calls: ``partial_fit`` of 10 and 200 rows, ``predict_proba`` of 1 and 1,000 rows.

Each (call, library) runs in a fresh process (``bench/call_child.py``), the libraries in
turn, round after round: a streaming user pays the fixed cost of every call (validation,
the snapshot that keeps a failed call from changing the model, Python), which large
batches hide.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench import data
from bench.report import Section, Table, print_table
from bench.timing import Timing

CHILD = Path(__file__).with_name("call_child.py")
CALLS = (("partial_fit, 10 rows", "partial_fit10"), ("partial_fit, 200 rows", "partial_fit200"),
         ("predict_proba, 1 row", "predict_proba1"),
         ("predict_proba, 1,000 rows", "predict_proba1000"))
LIBRARIES = ("csoftmax", "scikit-learn")
INTRO = (
    "An MLP 64-100-10 (Adam, the default parameters) on scikit-learn's 8x8 digits "
    "(1,797 rows, float64): `partial_fit` with 10 and with 200 rows a call, cycling "
    "through the data after a first call with `classes`, and `predict_proba` of one row "
    "and of 1,000 rows of a network fitted for 2 epochs. Each library runs in its own fresh Python process "
    "(`benchmarks/bench/call_child.py`) which times {calls} calls after one untimed; the "
    "libraries take turns, {rounds} processes each. *best* is the best process's "
    "median call, *median* the median of the processes' medians; *x* is scikit-learn's "
    "median over csoftmax's."
)


def run_child(op, library, n_threads, data_path, calls, epochs=1, timeout=600):
    """Run ``call_child.py`` once: its {"best", "median"} seconds per call."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, str(CHILD), op, library, str(n_threads), str(data_path),
         "--calls", str(calls), "--epochs", str(epochs)],
        capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{CHILD.name} {op} {library} {n_threads} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def alternate_processes(jobs, rounds):
    """``jobs`` is key -> a function running one child; per round each runs once, in
    turn. Returns key -> :class:`Timing` over the children's median calls."""
    medians = {key: [] for key in jobs}
    for _ in range(rounds):
        for key, job in jobs.items():
            medians[key].append(job()["median"])
    return {key: Timing.of(m) for key, m in medians.items()}


def save_npz(folder, X, y, name="data.npz"):
    path = Path(folder) / name
    np.savez(path, X=X, y=y)
    return path


def run(ctx):
    ds = data.digits()
    X = np.concatenate([ds.X_train, ds.X_test]).astype(np.float64)
    y = np.concatenate([ds.y_train, ds.y_test])
    calls = 20 if ctx.quick else 300
    rounds = max(ctx.repeats, 2 if ctx.quick else 3)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_npz(tmp, X, y)
        jobs = {(label, lib): (lambda op=op, lib=lib: run_child(op, lib, "default", path,
                                                               calls))
                for label, op in CALLS for lib in LIBRARIES}
        found = alternate_processes(jobs, rounds)
    table = Table("Microseconds per call", ["call", "csoftmax best", "median", "scikit-learn best",
                                       "median", "x"])
    for label, _ in CALLS:
        cs, sk = found[(label, "csoftmax")], found[(label, "scikit-learn")]
        table.rows.append([label] + [f"{t * 1e6:.1f}" for t in (cs.best, cs.median, sk.best,
                                                                 sk.median)]
                          + [f"{sk.median / cs.median:.2f}x"])
    print_table(table)
    return Section("calls", "Small calls", INTRO.format(calls=calls, rounds=rounds), [table])
