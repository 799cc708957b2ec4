"""Contention: seconds per epoch while another process keeps one core busy."""

import subprocess
import sys
import time
from contextlib import contextmanager

from bench import fits
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
    intro = INTRO.format(layers=ds.layers(100), data=ds.description, epochs=ctx.epochs,
                         repeats=ctx.repeats)
    figure = Figure("contention", "Seconds per epoch, quiet and busy",
                    _draw([_name(*k) for k in quiet], quiet, busy), size=(7, 2.6))
    return Section("contention", "Contention", intro, [table], [figure])


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
