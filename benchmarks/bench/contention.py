"""Contention: seconds per epoch, and per call, while another process keeps one core busy."""

import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import numpy as np

from bench import fits
from bench.calls import alternate_processes, run_child, save_npz
from bench.report import Figure, Section, Table, print_table
from bench.timing import alternate

INTRO = (
    "The training of the *Training* section ({layers}, {data}, {epochs} epoch(s) per "
    "fit, {repeats} fits each, alternating) on a quiet machine, then while a second "
    "process runs `while True: pass` (one core kept busy, as another user's job would). "
    "csoftmax runs on every usable core (`n_threads=None`) and on one; scikit-learn on "
    "its defaults (BLAS on every core). A team of OpenMP threads waits for its slowest "
    "member, so a busy core can slow a parallel step by more than its share."
)
LIBRARIES = (("csoftmax", None), ("csoftmax", 1), ("scikit-learn", None))
PROCESS_INTRO = (
    "*Each in its own process*: csoftmax's `fit` (seconds per epoch, {fit_rows:,} rows, "
    "one epoch a fit), `partial_fit` of 200 rows, `predict_proba` of 1,000 rows and "
    "`softmax` of {kernel} float32 logits, with the default thread count "
    "(`n_threads=None`) and with `n_threads=1`; each in a fresh process "
    "(`benchmarks/bench/call_child.py`), the two thread counts in turn, {rounds} "
    "processes each, quiet and then beside the spinning process. *best* is the best "
    "process's median call, *median* the median of the processes' medians; *vs 1 thread* "
    "is the busy median over that of `n_threads=1`, busy."
)
OPS = (("fit", "fit"), ("partial_fit", "partial_fit200"), ("predict_proba", "predict_proba1000"),
       ("softmax", "softmax"))


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


def _runs(ctx, ds):
    def runner(library, n_threads):
        params = {"dtype": "float32"} if library == "csoftmax" else {}
        return lambda: fits.epoch_seconds(
            fits.estimator(library, n_threads=n_threads, max_iter=ctx.epochs, **params),
            ds.X_train, ds.y_train)
    return {(lib, n): runner(lib, n) for lib, n in LIBRARIES}


def _name(library, n_threads):
    return f"{library} ({'all cores' if n_threads is None else f'{n_threads} thread'})"


def run(ctx):
    ds = ctx.dataset
    if ds is None:
        print("contention: skipped (no data; see above)")
        return None
    quiet = alternate(_runs(ctx, ds), ctx.repeats)
    with busy_process():
        busy = alternate(_runs(ctx, ds), ctx.repeats)
    table = Table("Seconds per epoch, quiet and with one core busy",
                  ["library", "quiet best", "quiet median", "busy best", "busy median",
                   "slow-down"])
    for key in quiet:
        q, b = quiet[key], busy[key]
        table.rows.append([_name(*key), f"{q.best:.3f}", f"{q.median:.3f}", f"{b.best:.3f}",
                           f"{b.median:.3f}", f"{b.median / q.median:.2f}x"])
    print_table(table)
    processes, process_intro = _in_processes(ctx, ds)
    print_table(processes)
    intro = INTRO.format(layers=ds.layers(100), data=ds.description, epochs=ctx.epochs,
                         repeats=ctx.repeats) + "\n\n" + process_intro
    figure = Figure("contention", "Seconds per epoch, quiet and busy",
                    _draw([_name(*k) for k in quiet], quiet, busy), size=(7, 2.6))
    return Section("contention", "Contention", intro, [table, processes], [figure])


def _in_processes(ctx, ds):
    """The table of csoftmax's calls, each in its own process, quiet and busy."""
    fit_rows = min(len(ds.y_train), 20000)
    kernel = (256, 100) if ctx.quick else (4096, 1000)
    rounds = max(ctx.repeats, 2 if ctx.quick else 3)
    calls = 10 if ctx.quick else 100
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"fit": save_npz(tmp, ds.X_train[:fit_rows], ds.y_train[:fit_rows], "fit.npz"),
                 "softmax": save_npz(tmp, 3 * rng.standard_normal(kernel, np.float32),
                                     np.zeros(kernel[0], np.int64), "logits.npz")}
        paths["other"] = save_npz(tmp, ds.X_train[:5000], ds.y_train[:5000], "other.npz")

        def jobs():
            return {(name, threads): (lambda op=op, threads=threads: run_child(
                        op, "csoftmax", threads, paths.get(op, paths["other"]),
                        ctx.repeats if op == "fit" else calls))
                    for name, op in OPS for threads in ("default", "1")}
        quiet = alternate_processes(jobs(), rounds)
        with busy_process():
            busy = alternate_processes(jobs(), rounds)
    table = Table("Milliseconds per call, each in its own process",
                  ["call", "n_threads", "quiet best", "quiet median", "busy best",
                   "busy median", "slow-down", "vs 1 thread"], n_labels=2)
    for (name, threads), q in quiet.items():
        b = busy[(name, threads)]
        one = busy[(name, "1")]
        table.rows.append([name, threads] + [f"{t * 1e3:.3f}" for t in (q.best, q.median,
                                                                          b.best, b.median)]
                          + [f"{b.median / q.median:.2f}x", f"{b.median / one.median:.2f}x"])
    intro = PROCESS_INTRO.format(fit_rows=fit_rows, kernel=f"{kernel[0]} x {kernel[1]}",
                                 rounds=rounds)
    return table, intro


def _draw(names, quiet, busy):
    def draw(fig):
        ax = fig.subplots()
        y = range(len(names))
        ax.barh([i - 0.2 for i in y], [t.median for t in quiet.values()], 0.4, label="quiet",
                color="#1f77b4")
        ax.barh([i + 0.2 for i in y], [t.median for t in busy.values()], 0.4,
                label="one core busy", color="#d62728")
        ax.set_yticks(list(y), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("seconds per epoch (median), lower is better")
        ax.legend(fontsize=8)
    return draw
