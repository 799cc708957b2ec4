"""Contention: csoftmax's calls while another process keeps one core busy, each in its own
process, with the default thread count and with one thread."""

import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import numpy as np

from bench.calls import alternate_processes, run_child, save_npz
from bench.report import Figure, Section, Table, print_table

INTRO = (
    "csoftmax's `fit` ({layers}, {fit_rows:,} rows of {data}, {epochs} epoch(s) a fit; "
    "seconds per epoch), `partial_fit` of 200 rows, `predict_proba` of 1,000 rows and "
    "`softmax` of {kernel} float32 logits, with the default thread count "
    "(`n_threads=None`, every usable core) and with `n_threads=1`, and scikit-learn's "
    "`fit` on its defaults (BLAS on every core): on a quiet machine, then while a second "
    "process runs `while True: pass` (one core kept busy, as another user's job would). "
    "Each row runs in a fresh process (`benchmarks/bench/call_child.py`), so that no "
    "library's thread pool disturbs another's; the rows take turns, {rounds} processes "
    "each. *best* is the best process's median call, *median* the median of the "
    "processes' medians, in milliseconds; *slow-down* is the busy median over the quiet "
    "one, *vs 1 thread* the busy median over that of `n_threads=1`, busy. A team of "
    "OpenMP threads waits for its slowest member, so a busy core can slow a parallel "
    "step by more than its share."
)
# (row name, call_child op, library, thread counts)
ROWS = (("fit", "fit", "csoftmax", ("default", "1")),
        ("scikit-learn fit", "fit", "scikit-learn", ("default",)),
        ("partial_fit", "partial_fit200", "csoftmax", ("default", "1")),
        ("predict_proba", "predict_proba1000", "csoftmax", ("default", "1")),
        ("softmax", "softmax", "csoftmax", ("default", "1")))


@contextmanager
def busy_process():
    """A Python process spinning on one core for as long as the block runs."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it start spinning
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


def run(ctx):
    ds = ctx.dataset
    if ds is None:
        print("contention: skipped (no data; see above)")
        return None
    fit_rows = min(len(ds.y_train), 20000)
    kernel = (256, 100) if ctx.quick else (4096, 1000)
    rounds = max(ctx.repeats, 2 if ctx.quick else 3)
    calls = 10 if ctx.quick else 100
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"fit": save_npz(tmp, ds.X_train[:fit_rows], ds.y_train[:fit_rows], "fit.npz"),
                 "softmax": save_npz(tmp, 3 * rng.standard_normal(kernel, np.float32),
                                     np.zeros(kernel[0], np.int64), "logits.npz"),
                 "other": save_npz(tmp, ds.X_train[:5000], ds.y_train[:5000], "other.npz")}

        def job(op, library, threads):
            path = paths.get(op, paths["other"])
            if op == "fit":
                return lambda: run_child(op, library, threads, path, 1, epochs=ctx.epochs)
            return lambda: run_child(op, library, threads, path, calls)

        def jobs():
            return {(name, threads): job(op, library, threads)
                    for name, op, library, counts in ROWS for threads in counts}
        quiet = alternate_processes(jobs(), rounds)
        with busy_process():
            busy = alternate_processes(jobs(), rounds)
    table = Table("Milliseconds per call, each in its own process",
                  ["call", "n_threads", "quiet best", "quiet median", "busy best",
                   "busy median", "slow-down", "vs 1 thread"], n_labels=2)
    for (name, threads), q in quiet.items():
        b = busy[(name, threads)]
        one = busy.get((name, "1"))
        table.rows.append([name, threads] + [f"{t * 1e3:.3f}" for t in (q.best, q.median,
                                                                          b.best, b.median)]
                          + [f"{b.median / q.median:.2f}x",
                             f"{b.median / one.median:.2f}x" if one else "—"])
    print_table(table)
    table.figure = Figure("contention", "Slow-down with one core busy",
                          _draw(quiet, busy), size=(7, 3.0))
    intro = INTRO.format(layers=ds.layers(100), fit_rows=fit_rows, data=ds.name,
                         epochs=ctx.epochs, kernel=f"{kernel[0]} x {kernel[1]}",
                         rounds=rounds)
    return Section("contention", "Contention", intro, [table])


def _draw(quiet, busy):
    """The busy median over the quiet one, per row: the calls' times differ by 10^4."""
    def draw(fig):
        ax = fig.subplots()
        names = [f"{name} ({'default' if t == 'default' else 'n_threads=1'})"
                 for name, t in quiet]
        y = np.arange(len(names))
        ax.barh(y, [busy[k].median / quiet[k].median for k in quiet], 0.6, color="#d62728")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("busy median / quiet median, lower is better")
    return draw
