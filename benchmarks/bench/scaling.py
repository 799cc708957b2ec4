"""Scaling: with threads, training samples, classes (kernels) and hidden width."""

import numpy as np

from bench import data, fits, gemm, peers
from bench.report import Figure, Section, Table, print_table
from bench.timing import Timing, alternate, interleave, measure

INTRO = (
    "How the times grow. *Threads*: the kernels on {kernel_shape} float32 logits and a "
    "csoftmax fit ({fit_rows:,} rows, {layers}) at each `n_threads`. *Samples*: one "
    "epoch of csoftmax (`dtype=np.float32`) and scikit-learn on the training set tiled "
    "to more rows. *Classes*: the kernels on {class_rows:,} rows of float32 logits, "
    "nanoseconds per logit, against NumPy and PyTorch, taking turns as in the kernels "
    "section. *Hidden width*: seconds per epoch "
    "on {fit_rows:,} rows as the hidden layer widens, with the time of its matrix "
    "products alone (GEMM bound). Best and median of {repeats} runs, or best of "
    "{call_repeats} calls for kernels."
)


def _sizes(ctx, ds):
    """The sizes each part runs at, tiny on a quick run."""
    if ctx.quick:
        return dict(kernel_shape=(256, 100), fit_rows=len(ds.y_train), factors=(1, 2),
                    class_rows=64, classes=(10, 100, 1000), widths=(16, 64))
    return dict(kernel_shape=(4096, 1000), fit_rows=10000, factors=(1, 2, 5, 10),
                class_rows=1024, classes=(10, 33, 100, 128, 129, 256, 257, 1000, 10000, 50000),
                widths=(100, 250, 500, 1000))


def _csoftmax_fit(ctx, X, y, n_threads=None, hidden=100):
    est = fits.estimator("csoftmax", n_threads=n_threads, max_iter=ctx.epochs,
                         hidden_layer_sizes=(hidden,), dtype=np.float32)
    return lambda: fits.epoch_seconds(est, X, y, n_threads)


def threads_table(ctx, ds, sizes):
    x, y, s, g = peers.kernel_inputs(sizes["kernel_shape"], np.float32)
    table = Table("Threads", ["what", "threads", "best", "median", "speed-up"], n_labels=2)
    X, labels = ds.X_train[:sizes["fit_rows"]], ds.y_train[:sizes["fit_rows"]]
    found = {}
    for n in ctx.threads:
        calls = peers.csoftmax_calls(x, y, s, g, n_threads=n)
        for op in ("softmax", "xent+grad"):
            found[(f"{op} {sizes['kernel_shape']}, ms", n)] = measure(calls[op],
                                                                       ctx.call_repeats)
        fit = _csoftmax_fit(ctx, X, labels, n)
        found[("csoftmax fit, s/epoch", n)] = Timing.of([fit() for _ in range(ctx.repeats)])
    whats = list(dict.fromkeys(what for what, _ in found))  # in the order measured
    for (what, n), t in sorted(found.items(), key=lambda item: whats.index(item[0][0])):
        one = found[(what, 1)]
        scale = 1e3 if what.endswith("ms") else 1
        table.rows.append([what, n, f"{t.best * scale:.3f}", f"{t.median * scale:.3f}",
                           f"{one.best / t.best:.2f}x"])
    table.note = "*speed-up*: the best time on one thread over the best time."
    return table, found


def samples_table(ctx, ds, sizes):
    table = Table("Samples", ["rows", "csoftmax s/epoch", "scikit-learn s/epoch",
                              "csoftmax µs/row", "scikit-learn / csoftmax"])
    found = {}
    for factor in sizes["factors"]:
        X, y = data.tile(ds.X_train, ds.y_train, factor * len(ds.y_train))
        runs = {lib: (lambda lib=lib: fits.epoch_seconds(
                    fits.estimator(lib, max_iter=1, **params), X, y))
                for lib, params in (("csoftmax", {"dtype": np.float32}), ("scikit-learn", {}))}
        t = found[len(y)] = alternate(runs, ctx.repeats)
        cs, sk = t["csoftmax"].median, t["scikit-learn"].median
        table.rows.append([f"{len(y):,}", f"{cs:.3f}", f"{sk:.3f}", f"{cs / len(y) * 1e6:.2f}",
                           f"{sk / cs:.2f}x"])
    table.note = "Medians of one-epoch fits."
    return table, found


def classes_table(ctx, sizes):
    names = ("csoftmax", "NumPy") + (("PyTorch",) if ctx.torch is not None else ())
    table = Table("Classes", ["classes", "op", *(f"{n} ns/logit" for n in names),
                              "speed-up"], n_labels=2)
    found = {}
    for n_classes in sizes["classes"]:
        x, y, s, g = peers.kernel_inputs((sizes["class_rows"], n_classes), np.float32)
        calls = {"csoftmax": peers.csoftmax_calls(x, y, s, g),
                 "NumPy": peers.numpy_calls(x, y, s, g)}
        if ctx.torch is not None:
            calls["PyTorch"] = peers.torch_calls(ctx.torch, x, y, s, g)
        for op in ("xent+grad", "softmax"):
            # The libraries take turns, as in the kernels section, so that a slow stretch of
            # the shared machine falls on all of them. A row once read 0.06x (softmax on 100
            # classes, csoftmax 8 times slower a logit than on 10 or 1,000 classes, though
            # callgrind counts 12 instructions a logit there against 8 on 1,000): while
            # another process keeps the second core busy, a two-thread call of this size
            # waits for its descheduled partner, and takes several times as long as on one
            # thread. Back-to-back calls put all of one library's samples in such a stretch.
            times = interleave({n: calls[n][op] for n in names}, ctx.call_repeats,
                               min_seconds=0.0 if ctx.quick else 0.3)
            ns = {n: times[n].best / x.size * 1e9 for n in names}
            found[(n_classes, op)] = ns
            peer = min(v for n, v in ns.items() if n != "csoftmax")
            table.rows.append([f"{n_classes:,}", op, *(f"{ns[n]:.2f}" for n in names),
                               f"{peer / ns['csoftmax']:.2f}x"])
    return table, found


def width_table(ctx, ds, sizes):
    table = Table("Hidden width", ["hidden", "csoftmax s/epoch", "scikit-learn s/epoch",
                                   "GEMM bound", "scikit-learn / csoftmax"])
    X, y = ds.X_train[:sizes["fit_rows"]], ds.y_train[:sizes["fit_rows"]]
    found = {}
    for width in sizes["widths"]:
        runs = {"csoftmax": _csoftmax_fit(ctx, X, y, hidden=width),
                "scikit-learn": lambda w=width: fits.epoch_seconds(fits.estimator(
                    "scikit-learn", max_iter=ctx.epochs, hidden_layer_sizes=(w,)), X, y),
                "GEMM bound": lambda w=width: gemm.epoch_seconds(X, w, ds.n_classes, 1).best}
        t = found[width] = alternate(runs, ctx.repeats)
        cs, sk = t["csoftmax"].median, t["scikit-learn"].median
        table.rows.append([width, f"{cs:.3f}", f"{sk:.3f}", f"{t['GEMM bound'].median:.4f}",
                           f"{sk / cs:.2f}x"])
    table.note = "Medians."
    return table, found


def run(ctx):
    ds = ctx.dataset
    if ds is None:
        print("scaling: skipped (no data; see above)")
        return None
    sizes = _sizes(ctx, ds)
    parts = [threads_table(ctx, ds, sizes), samples_table(ctx, ds, sizes),
             classes_table(ctx, sizes), width_table(ctx, ds, sizes)]
    for table, _ in parts:
        print_table(table)
    intro = INTRO.format(layers=ds.layers(100), repeats=ctx.repeats,
                         call_repeats=ctx.call_repeats, **sizes)
    figure = Figure("scaling", "Scaling with threads, samples, classes and width",
                    _draw([found for _, found in parts]), size=(7.8, 6.6))
    return Section("scaling", "Scaling", intro, [t for t, _ in parts], [figure])


def _draw(found):
    """Four panels, sized to be shown at their own width on the performance page (about
    860 px at 110 dpi), so that no text reads smaller than about 11 px."""
    threads, samples, classes, widths = found

    def draw(fig):
        axes = fig.subplots(2, 2)
        _draw_threads(axes[0, 0], threads)
        _draw_lines(axes[0, 1], samples, "training rows", "seconds per epoch", thousands=True)
        _draw_classes(axes[1, 0], classes)
        _draw_lines(axes[1, 1], widths, "hidden units", "seconds per epoch")
        for ax, title in zip(axes.flat, ("Threads", "Samples", "Classes", "Hidden width")):
            ax.set_title(title, fontsize=10)
    return draw


def _draw_threads(ax, found):
    whats = list(dict.fromkeys(what for what, _ in found))
    counts = sorted({n for _, n in found})
    for k, n in enumerate(counts):
        ax.bar(np.arange(len(whats)) + (k - (len(counts) - 1) / 2) * 0.35,
               [found[(what, 1)].best / found[(what, n)].best for what in whats], 0.35,
               label=f"{n} thread(s)")
    ax.set_xticks(np.arange(len(whats)), [w.rsplit(",", 1)[0].replace(" (", "\n(")
                                          for w in whats], fontsize=8)
    ax.set_ylabel("speed-up over 1 thread")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # headroom, so that the legend covers no bar
    ax.legend(fontsize=8, loc="upper center", ncols=len(counts))


def _draw_lines(ax, found, xlabel, ylabel, thousands=False):
    from matplotlib.ticker import EngFormatter

    xs = list(found)
    for lib in next(iter(found.values())):
        ax.plot(xs, [found[x][lib].median for x in xs], marker="o", label=lib)
    if thousands:
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 600k, not 600000
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def _draw_classes(ax, found):
    counts = sorted({c for c, _ in found})
    for op, style in (("xent+grad", "-"), ("softmax", "--")):
        for lib in found[(counts[0], op)]:
            ax.plot(counts, [found[(c, op)][lib] for c in counts], style, marker="o",
                    label=f"{lib} {op}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("classes")
    ax.set_ylabel("ns per logit")
    # Below the panel: inside, six entries would cover the lines.
    ax.legend(fontsize=7.5, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.2),
              frameon=False)
