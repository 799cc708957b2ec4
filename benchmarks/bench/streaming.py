"""Out of core: ``partial_fit`` over chunks of a memmap against ``fit`` on the data loaded.

Runs ``benchmarks/out_of_core.py``'s measurement (each way in its own process; see its
docstring) on 1,000,000 synthetic rows of 784 float32 features (20,000 on a quick run),
two passes, on one thread.
"""

from bench.report import Section, Table, print_table

INTRO = (
    "`MLPClassifier((100,))` trained for {epochs} passes over {rows:,} synthetic rows of "
    "784 float32 features ({gb:.2f} GB, 10 classes), each way in its own process, on one "
    "thread (`python benchmarks/out_of_core.py --rows {rows} --threads 1`): streamed "
    "through `partial_fit` in chunks of {chunk:,} rows ({chunk_mb:.0f} MB), each read "
    "through a memmap of its own, against `fit` on the array loaded whole. *peak RSS* is "
    "the process's high-water mark of resident memory while it loads and trains, "
    "*before* its resident memory before loading the data (Python, NumPy, SciPy, "
    "scikit-learn); *seconds* to load and train; accuracy on 10,000 held-out rows."
)
ROWS = (("stream", "partial_fit, {chunk:,}-row chunks from the memmap"),
        ("memory", "fit on the array loaded whole"))


def run(ctx):
    import out_of_core  # benchmarks/out_of_core.py, beside suite.py

    rows = 20_000 if ctx.quick else 1_000_000
    chunk = 2_000 if ctx.quick else 10_000
    found = out_of_core.run(rows, chunk, epochs=2, threads=1, timeout=3600)
    table = Table("Memory and seconds", ["way", "peak RSS GB", "before GB", "accuracy",
                                         "seconds"])
    for mode, label in ROWS:
        w = found[mode]
        table.rows.append([label.format(chunk=chunk), f"{w['peak'] / 1e9:.2f}",
                           f"{w['rss_start'] / 1e9:.2f}", f"{w['accuracy']:.4f}",
                           f"{w['seconds']:.1f}"])
    print_table(table)
    intro = INTRO.format(epochs=2, rows=rows, gb=found["data_bytes"] / 1e9, chunk=chunk,
                         chunk_mb=chunk * 784 * 4 / 1e6)
    return Section("streaming", "Out of core", intro, [table])
