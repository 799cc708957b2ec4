"""Prediction latency: ``predict_proba`` on 1, 10 and 1,000 rows of a fitted network."""

import numpy as np

from bench import fits, gemm
from bench.report import Figure, Section, Table, print_table
from bench.timing import measure

ROWS = (1, 10, 1000)
INTRO = (
    "`predict_proba` of a {layers} network fitted briefly ({fit_rows:,} rows, 2 epochs) "
    "by csoftmax (`dtype=np.float32`) and by scikit-learn on the same float32 data, on "
    "float32 rows of the test set; microseconds per call, best and median of "
    "{samples} samples of several calls each (a user's one-row request pays every "
    "check, every allocation and the Python calls). *GEMM floor* is "
    "`relu(X @ W1) @ W2` alone in float32 NumPy into preallocated arrays."
)


def _fitted(ds):
    X, y = ds.X_train[:2000], ds.y_train[:2000]
    return {lib: fits.fit(fits.estimator(lib, max_iter=2, **params), X, y)
            for lib, params in (("csoftmax", {"dtype": np.float32}), ("scikit-learn", {}))}


def _calls_per_sample(n_rows, quick):
    """Calls timed together: about 200 rows' worth, 20 on a quick run."""
    return max(1, (20 if quick else 200) // n_rows)


def run(ctx):
    ds = ctx.dataset
    if ds is None:
        print("latency: skipped (no data; see above)")
        return None
    models = _fitted(ds)
    samples = 10 * ctx.call_repeats
    table = Table("Microseconds per predict_proba call",
                  ["rows", "csoftmax best", "median", "scikit-learn best", "median",
                   "speed-up", "GEMM floor"])
    medians = {}
    for n in ROWS:
        X = np.ascontiguousarray(np.resize(ds.X_test, (n, ds.X_test.shape[1])))
        number = _calls_per_sample(n, ctx.quick)
        t = {lib: measure(lambda m=m: m.predict_proba(X), samples, number=number)
             for lib, m in models.items()}
        floor = measure(gemm.predict_products(X, 100, ds.n_classes), samples, number=number)
        medians[n] = t
        cs, sk = t["csoftmax"], t["scikit-learn"]
        table.rows.append([f"{n:,}", f"{cs.best * 1e6:.1f}", f"{cs.median * 1e6:.1f}",
                           f"{sk.best * 1e6:.1f}", f"{sk.median * 1e6:.1f}",
                           f"{sk.median / cs.median:.2f}x", f"{floor.best * 1e6:.1f}"])
    table.note = "*speed-up*: scikit-learn's median over csoftmax's."
    print_table(table)
    intro = INTRO.format(layers=ds.layers(100), fit_rows=min(2000, len(ds.y_train)),
                         samples=samples)
    return Section("latency", "Prediction latency", intro, [table],
                   [Figure("latency", "predict_proba latency", _draw(medians), size=(6, 3))])


def _draw(medians):
    def draw(fig):
        ax = fig.subplots()
        x = np.arange(len(medians))
        for k, (lib, color) in enumerate((("csoftmax", "#1f77b4"),
                                          ("scikit-learn", "#9e9e9e"))):
            ax.bar(x + (k - 0.5) * 0.4, [t[lib].median * 1e6 for t in medians.values()],
                   0.4, label=lib, color=color)
        ax.set_xticks(x, [f"{n:,} rows" for n in medians])
        ax.set_yscale("log")
        ax.set_ylabel("µs per call (median), lower is better")
        ax.legend(fontsize=8)
    return draw
