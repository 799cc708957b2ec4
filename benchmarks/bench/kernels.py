"""Kernels: each op in float32 and float64 against NumPy, SciPy, PyTorch and a plain copy."""

import numpy as np

from bench import peers
from bench.report import Figure, Section, Table, print_table
from bench.timing import interleave

SHAPES = ((200, 10), (60000, 10), (4096, 1000), (512, 50257), (64, 262144))
QUICK_SHAPES = ((200, 10), (64, 1000))
PEERS = ("NumPy", "SciPy", "PyTorch")

INTRO = (
    "Each op on logits of scale 3, csoftmax on all usable cores (`n_threads=None`), "
    "PyTorch on its default intra-op threads, NumPy and SciPy on one. The libraries take "
    "turns at an op (and a copy with them): per round one untimed call each, then three "
    "timed, for at least {repeats} rounds and {seconds:g} s (at most 1,000 rounds), so "
    "that a slow stretch of the shared machine falls on all of them; times are the best "
    "call (csoftmax's median too) in ms; every result is a new array for "
    "every library, and *speed-up* is the best peer's time over csoftmax's. *out=* is "
    "csoftmax writing into an array it was given (the gradient, for `xent+grad`), "
    "measured in the same rounds: the kernel without the allocation and the first "
    "writes to new memory, which for the widest shapes cost as much as a pass. *GB/s* "
    "counts the bytes an op must move (the logits in and the result out; the VJP reads "
    "two arrays) at the *out=* time, and *of copy* is that speed as a fraction of "
    "`np.copyto` moving the same bytes into an existing array: a reference, not a bound. "
    "A copy reads each line of its destination before writing it (write-allocate), "
    "traffic the counted bytes leave out; an op that reads two arrays per array it "
    "writes, as the VJP does, pays it on a smaller share of its bytes and can pass 100% "
    "(four transfers for three counted bytes against three for two: 112.5% from that "
    "alone). `xent+grad` is "
    "`cross_entropy(x, y, return_grad=True)`: the mean loss and its gradient; PyTorch's "
    "is `F.cross_entropy` forward and backward on a leaf tensor, its VJP autograd's."
)


def _ms(timing):
    return f"{timing.best * 1e3:.3f}" if timing else "—"


def _seconds(ctx):
    """The least time spent on one op's rounds."""
    return 0.0 if ctx.quick else 0.3


def _measure_shape(ctx, shape, dtype):
    """Rows of the table for one shape, and the speed-ups to plot: (row, {peer: ratio})."""
    x, y, s, g = peers.kernel_inputs(shape, dtype)
    out, given = np.empty_like(x), np.empty_like(x)
    ours = peers.csoftmax_calls(x, y, s, g)
    into = peers.csoftmax_calls(x, y, s, g, out=given)
    theirs = peers.peer_calls(ctx.torch, x, y, s, g)
    measured, copies = [], []
    for op in peers.OPS:
        calls = {"copy": lambda: np.copyto(out, x), "csoftmax": ours[op], "out=": into[op]}
        calls.update((name, c[op]) for name, c in theirs.items() if op in c)
        times = interleave(calls, ctx.call_repeats, min_seconds=_seconds(ctx))
        copies.append(times.pop("copy").best)
        measured.append((op, times.pop("csoftmax"), times.pop("out="), times))
    copy = min(copies)
    results = []
    for op, t, t_out, peer_t in measured:
        fastest = min(p.best for p in peer_t.values())
        moved = peers.bytes_moved(op, x)
        copy_time = copy * moved / (2 * x.nbytes)
        row = [op, np.dtype(dtype).name, str(shape), _ms(t), f"{t.median * 1e3:.3f}",
               *(_ms(peer_t.get(name)) for name in PEERS), f"{fastest / t.best:.2f}x",
               _ms(t_out), f"{moved / t_out.best / 1e9:.1f}", f"{copy_time / t_out.best:.0%}"]
        results.append((row, {name: p.best / t.best for name, p in peer_t.items()}))
    return results, 2 * x.nbytes / copy / 1e9


def _draw(cases, dtype_name):
    """One panel per op, the shapes along x and a bar per peer: the peer's time over
    csoftmax's, drawn from 1 (up where csoftmax is faster, down where it is slower).

    Sized to be shown at its own width on the performance page (about 860 px at the
    report's 110 dpi), so that 8.5-point tick labels read as about 13 px; the legend sits
    below the panels, where it covers no bar."""
    def draw(fig):
        from matplotlib.ticker import FuncFormatter, NullFormatter

        ops = list(dict.fromkeys(op for op, _, _ in cases))
        axes = fig.subplots(2, (len(ops) + 1) // 2, sharey=True, squeeze=False).ravel()
        width = 0.8 / len(PEERS)
        for ax, op in zip(axes, ops):
            mine = [(shape, ratios) for o, shape, ratios in cases if o == op]
            x = np.arange(len(mine))
            for k, name in enumerate(PEERS):
                ratio = np.array([ratios.get(name, np.nan) for _, ratios in mine])
                ax.bar(x + (k - (len(PEERS) - 1) / 2) * width, ratio - 1, width, bottom=1,
                       label=name, color=f"C{k}")
            ax.axhline(1, color="black", linewidth=0.8)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_xticks(x, [" ×\n".join(map(str, shape)) for shape, _ in mine])
            ax.tick_params(labelsize=8.5)
            ax.set_title(op, fontsize=10)
        for ax in axes[len(ops):]:
            ax.set_visible(False)
        for ax in axes[::axes.size // 2 or 1]:
            ax.set_ylabel("peer time / csoftmax time", fontsize=9)
        fig.suptitle(f"Kernels, {dtype_name}: csoftmax's speed-up over each peer "
                     "(above 1: csoftmax faster)", fontsize=10)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(PEERS),
                   fontsize=9, frameon=False)
    return draw


def run(ctx):
    shapes = QUICK_SHAPES if ctx.quick else SHAPES
    intro = INTRO.format(repeats=ctx.call_repeats, seconds=_seconds(ctx))
    section = Section("kernels", "Kernels", intro)
    columns = ["op", "dtype", "shape", "csoftmax ms", "median ms", *(f"{p} ms" for p in PEERS),
               "speed-up", "out= ms", "GB/s", "of copy"]
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        table = Table(f"{name} logits", columns, n_labels=3)
        cases, copies = [], []
        for shape in shapes:
            results, copy_gbs = _measure_shape(ctx, shape, dtype)
            table.rows += [row for row, _ in results]
            cases += [(row[0], shape, ratios) for row, ratios in results]
            copies.append(f"{shape} {copy_gbs:.1f} GB/s")
        table.note = "Copy rate (`np.copyto`, into an existing array): " + ", ".join(copies) + "."
        print_table(table)
        table.figure = Figure(f"kernels_{name}", f"Kernel speed-ups, {name}",
                              _draw(cases, name), size=(7.8, 5.6))
        section.tables.append(table)
    return section
