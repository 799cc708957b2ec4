"""Grid search: GridSearchCV over MLPClassifier in a fresh process, n_jobs 1 and 2."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import Figure, Section, Table, print_table
from bench.timing import Timing

CHILD = Path(__file__).with_name("grid_child.py")
INTRO = (
    "`GridSearchCV(MLPClassifier(max_iter=5), {{'alpha': [1e-4, 1e-3], "
    "'learning_rate_init': [1e-3, 2e-3]}}, cv=3, n_jobs=...)` on {rows:,} rows of {data} "
    "(12 fits and the refit), csoftmax's estimator and scikit-learn's. Each row is a "
    "fresh Python process running a small script (`benchmarks/bench/grid_child.py`), as "
    "a user's script runs: *process* is its whole wall-clock time (interpreter, imports, "
    "loading the data, both searches), *first search* includes starting joblib's worker "
    "processes, *second search* is the same search again in that process, with the "
    "workers running. {rounds} process(es) per row; best and median seconds. With "
    "`n_jobs=2` joblib limits each worker to one thread."
)
LIBRARIES = ("csoftmax", "scikit-learn")


def _child(library, n_jobs, data_path, timeout):
    """Run one child; its wall-clock seconds and its JSON figures."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}  # ConvergenceWarning after 5 epochs
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(CHILD), library, str(n_jobs), str(data_path)],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{CHILD.name} {library} {n_jobs} failed:\n{done.stderr}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def _measure(data_path, jobs, rounds, timeout):
    """(library, n_jobs) -> {"process", "first", "second": Timing}, the rows alternating."""
    found = {(lib, n): {"process": [], "first": [], "second": []}
             for lib in LIBRARIES for n in jobs}
    for _ in range(rounds):
        for (lib, n_jobs), figures in found.items():
            wall, child = _child(lib, n_jobs, data_path, timeout)
            figures["process"].append(wall)
            figures["first"].append(child["first"])
            figures["second"].append(child["second"])
    return {key: {name: Timing.of(s) for name, s in figures.items()}
            for key, figures in found.items()}


def run(ctx):
    ds = ctx.dataset
    if ds is None:
        print("grid: skipped (no data; see above)")
        return None
    # A quick run starts one process per library, the one with joblib's workers.
    rows, jobs, rounds = (300, (2,), 1) if ctx.quick else (12000, (1, 2), ctx.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "data.npz"
        np.savez(data_path, X=ds.X_train[:rows], y=ds.y_train[:rows])
        found = _measure(data_path, jobs, rounds, timeout=60 if ctx.quick else 900)
    table = Table("Seconds per search", ["library", "n_jobs", "process", "first search",
                                         "median", "second search", "median"], n_labels=2)
    for (lib, n_jobs), t in found.items():
        table.rows.append([lib, n_jobs, f"{t['process'].median:.2f}",
                           f"{t['first'].best:.2f}", f"{t['first'].median:.2f}",
                           f"{t['second'].best:.2f}", f"{t['second'].median:.2f}"])
    table.note = "*process*: the median."
    print_table(table)
    intro = INTRO.format(rows=min(rows, len(ds.y_train)), data=ds.name, rounds=rounds)
    return Section("grid", "Grid search", intro, [table],
                   [Figure("grid", "GridSearchCV seconds", _draw(found), size=(7, 2.8))])


def _draw(found):
    def draw(fig):
        ax = fig.subplots()
        labels = [f"{lib}, n_jobs={n}" for lib, n in found]
        y = np.arange(len(labels))
        for k, (name, color) in enumerate((("first", "#1f77b4"), ("second", "#aec7e8"))):
            ax.barh(y + (k - 0.5) * 0.4, [t[name].median for t in found.values()], 0.4,
                    color=color, label=f"{name} search")
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("seconds (median), lower is better")
        ax.legend(fontsize=8)
    return draw
