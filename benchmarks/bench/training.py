"""Training: seconds per epoch and test accuracy of csoftmax, scikit-learn and PyTorch."""

from dataclasses import dataclass, field

import numpy as np

from bench import fits, gemm
from bench.report import Figure, Section, Table, print_table
from bench.timing import alternate

INTRO = (
    "A {layers} ReLU network, Adam with learning rate 1e-3, minibatches of 200, "
    "shuffled, `alpha=1e-4`, `tol=0`, on {data}: "
    "`csoftmax.MLPClassifier` with `dtype=np.float32` (float32 training from either "
    "input), scikit-learn's `MLPClassifier` (which trains in its input's dtype) and a "
    "PyTorch loop with the same network, optimizer and L2 term (weight decay "
    "`alpha / batch_size` on the weights). Each fit lasts {epochs} epoch(s); the "
    "libraries alternate, {repeats} fits each; test accuracy is that of the last fit. "
    "*threads* limits BLAS and OpenMP (threadpoolctl), csoftmax's `n_threads` and "
    "`torch.set_num_threads`. *GEMM bound* is the time of the matrix products of one "
    "epoch alone (the two forward and three backward products of every minibatch, "
    "float32 NumPy): what no implementation on this BLAS can beat."
)


@dataclass(frozen=True)
class Config:
    library: str
    given: str  # the input's dtype
    trains: str  # the dtype the network is trained in
    threads: int
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def label(self):
        return f"{self.library}, {self.given} in, {self.trains}, {self.threads} thr"


def configs(torch, threads):
    """The rows of the table: float32 at each thread count, then float64 input."""
    rows = []
    for n in reversed(threads):
        rows += [Config("csoftmax", "float32", "float32", n, {"dtype": np.float32}),
                 Config("scikit-learn", "float32", "float32", n)]
        if torch is not None:
            rows.append(Config("PyTorch", "float32", "float32", n))
        rows.append(Config("GEMM bound", "float32", "float32", n))
    n = threads[-1]
    return rows + [Config("csoftmax", "float64", "float32", n, {"dtype": np.float32}),
                   Config("csoftmax", "float64", "float64", n),
                   Config("scikit-learn", "float64", "float64", n)]


def _runner(ctx, config, X, y, fitted):
    """A function that fits (or runs the products of one epoch) once: seconds per epoch."""
    if config.library == "GEMM bound":
        n_classes = int(y.max()) + 1
        return lambda: gemm.epoch_seconds(X, 100, n_classes, 1, config.threads).best

    def run():
        est = fits.estimator(config.library, ctx.torch, n_threads=config.threads,
                             max_iter=ctx.epochs, **config.params)
        seconds = fits.epoch_seconds(est, X, y, config.threads)
        fitted[config] = est
        return seconds

    return run


def _table(rows, timings, fitted, ds):
    table = Table("Seconds per epoch", ["library", "input", "trains in", "threads",
                                        "s/epoch best", "median", "vs csoftmax",
                                        "test accuracy"], n_labels=4)
    for c in rows:
        t = timings[c]
        ours = timings.get(Config("csoftmax", "float32", "float32", c.threads))
        est = fitted.get(c)
        accuracy = f"{est.score(ds.X_test, ds.y_test):.4f}" if est is not None else "—"
        table.rows.append([c.library, c.given, c.trains, c.threads, f"{t.best:.3f}",
                           f"{t.median:.3f}", f"{t.median / ours.median:.2f}", accuracy])
    table.note = ("*vs csoftmax*: the median over csoftmax's median (float32, same "
                  "threads); above 1 is slower than csoftmax.")
    return table


def _draw(rows, timings):
    def draw(fig):
        ax = fig.subplots()
        medians = [timings[c].median for c in rows]
        colors = [{"csoftmax": "#1f77b4", "scikit-learn": "#9e9e9e", "PyTorch": "#ff7f0e"}
                  .get(c.library, "#2ca02c") for c in rows]
        bars = ax.barh([c.label for c in rows], medians, color=colors)
        ax.bar_label(bars, labels=[f"{m:.3f} s" for m in medians], padding=3, fontsize=7)
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("seconds per epoch (median), lower is better")
        ax.set_xlim(0, 1.2 * max(medians))
    return draw


def run(ctx):
    ds = ctx.dataset
    if ds is None:
        print("training: skipped (no data; see above)")
        return None
    inputs = {"float32": ds.X_train, "float64": ds.X_train.astype(np.float64)}
    rows, fitted = configs(ctx.torch, ctx.threads), {}
    runs = {c: _runner(ctx, c, inputs[c.given], ds.y_train, fitted) for c in rows}
    timings = alternate(runs, ctx.repeats)
    table = _table(rows, timings, fitted, ds)
    print_table(table)
    intro = INTRO.format(layers=ds.layers(100), data=ds.description, epochs=ctx.epochs,
                         repeats=ctx.repeats)
    return Section("training", "Training", intro, [table],
                   [Figure("training", "Seconds per epoch", _draw(rows, timings),
                           size=(7, 0.3 * len(rows) + 1))])
