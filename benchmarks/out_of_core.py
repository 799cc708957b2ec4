"""Out-of-core training: partial_fit over chunks of a memmap, against fit on the data in memory.

    python benchmarks/out_of_core.py [--rows 1000000] [--chunk-rows 10000] [--epochs 2]
                                     [--hidden 100] [--threads N] [--data-dir DIR]
                                     [--keep-pages] [--json]

Writes ``--rows`` x 784 float32 rows of synthetic, learnable data (10 classes, each a
mixture of 3 Gaussian prototypes, unit noise) as ``X.npy`` + ``y.npy``, chunk by chunk so
that writing them needs little memory either, in ``--data-dir`` (reused when it already
holds data of that shape) or else in a temporary folder removed at the end. Then, each in
its own process so that each peak is its own:

* stream: ``np.load(X.npy, mmap_mode="r")`` and ``MLPClassifier.partial_fit`` over chunks
  of ``--chunk-rows`` rows, ``--epochs`` passes over the file;
* memory: ``np.load(X.npy)`` whole and ``MLPClassifier.fit`` with ``max_iter=--epochs``:
  the same hyper-parameters, the same number of Adam steps over the same rows.

It prints the data size; each process's peak resident memory while it loads and trains
(``VmHWM``, the high-water mark of its resident set, reset after a warm-up fit on a few rows
that loads the modules fit imports on first use; it counts the memmap's file pages the
process has touched) and its resident memory at that point, before loading the data; the
accuracy on 10,000 held-out rows; and the seconds spent loading and training.

Pages of a memmap stay mapped, so counted in the process's resident set, once read, until
the memmap goes; they are clean page cache the kernel can drop under pressure, but
``VmHWM`` (and memory limits that count resident pages) see them. The stream process
therefore reads each chunk through a memmap of its own, dropped before the next, so that
its peak is one chunk plus the model; ``--keep-pages`` streams through one memmap instead,
to show the difference. Linux only (``/proc/self/status``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 784
N_CLASSES = 10
PROTOTYPES_PER_CLASS = 3
PROTOTYPE_SCALE = 0.13   # per-feature spread of the prototypes; the noise has unit spread
GEN_ROWS = 10_000        # rows generated at a time (the data's bits do not depend on it)
N_TEST = 10_000
SEED = 0
HYPER = dict(batch_size=200, learning_rate_init=1e-3, random_state=0, tol=0.0)


# ------------------------------------------------------------------------------- the data
def _prototypes():
    rng = np.random.default_rng([SEED, 0])
    return (PROTOTYPE_SCALE * rng.standard_normal(
        (N_CLASSES * PROTOTYPES_PER_CLASS, N_FEATURES))).astype(np.float32)


def _rows(stream, block, n, prototypes):
    """``n`` rows and labels from the random stream ``(SEED, stream, block)``."""
    rng = np.random.default_rng([SEED, stream, block])
    which = rng.integers(0, len(prototypes), n)
    X = rng.standard_normal((n, N_FEATURES), dtype=np.float32)
    X += prototypes[which]
    return X, (which // PROTOTYPES_PER_CLASS).astype(np.int64)


def test_set():
    return _rows(2, 0, N_TEST, _prototypes())


def write_data(data_dir, n_rows):
    """Write X.npy (n_rows x 784 float32) and y.npy, GEN_ROWS rows at a time."""
    data_dir = Path(data_dir)
    prototypes = _prototypes()
    y = np.empty(n_rows, dtype=np.int64)
    with open(data_dir / "X.npy", "wb") as f:
        np.lib.format.write_array_header_2_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (n_rows, N_FEATURES)})
        for block, start in enumerate(range(0, n_rows, GEN_ROWS)):
            X_block, y[start:start + GEN_ROWS] = _rows(
                1, block, min(GEN_ROWS, n_rows - start), prototypes)
            f.write(X_block.tobytes())
    np.save(data_dir / "y.npy", y)


def _has_data(data_dir, n_rows):
    try:
        X = np.load(Path(data_dir) / "X.npy", mmap_mode="r")
        y = np.load(Path(data_dir) / "y.npy", mmap_mode="r")
    except (OSError, ValueError):
        return False
    return X.shape == (n_rows, N_FEATURES) and X.dtype == np.float32 and y.shape == (n_rows,)


# ---------------------------------------------------------------------- memory figures
def _status_bytes(field):
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak():
    """Reset VmHWM to the current resident set (Linux >= 4.0); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def memmap_chunks(path, chunk_rows, keep_pages=False):
    """Consecutive ``chunk_rows``-row chunks of the .npy file ``path``, as memmaps.

    Each chunk is a slice of a memmap opened for it alone, so that the pages it read are
    unmapped, and leave the resident set, when the chunk is dropped; with ``keep_pages``
    all are slices of one memmap, which keeps every page read mapped until it goes.
    """
    X = np.load(path, mmap_mode="r")
    for start in range(0, X.shape[0], chunk_rows):
        stop = min(start + chunk_rows, X.shape[0])
        if keep_pages:
            yield start, stop, X[start:stop]
        else:
            yield start, stop, np.load(path, mmap_mode="r")[start:stop]


# ------------------------------------------------------------------------- the workers
def _worker(mode, data_dir, chunk_rows, epochs, hidden, keep_pages, threads=None):
    import warnings

    from threadpoolctl import threadpool_limits

    from csoftmax import MLPClassifier

    if threads:
        threadpool_limits(threads)  # BLAS; the estimator's kernels take n_threads

    X_test, y_test = test_set()
    classes = np.arange(N_CLASSES)
    hyper = dict(HYPER, hidden_layer_sizes=(hidden,), max_iter=epochs, n_threads=threads)
    # Warm up on a few test rows first, so that the modules fit and partial_fit import on
    # first use are loaded before the baseline is read.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(**dict(hyper, max_iter=1)).fit(X_test[:500], y_test[:500])
        MLPClassifier(**hyper).partial_fit(X_test[:500], y_test[:500], classes=classes)
    peak_reset = _reset_peak()  # the test set's generation peaked higher than training
    rss_start = _status_bytes("VmRSS")
    y = np.load(Path(data_dir) / "y.npy")
    clf = MLPClassifier(**hyper)
    t0 = time.perf_counter()
    if mode == "stream":
        for _ in range(epochs):
            for start, stop, chunk in memmap_chunks(Path(data_dir) / "X.npy", chunk_rows,
                                                    keep_pages):
                clf.partial_fit(chunk, y[start:stop], classes=classes)
                del chunk  # unmaps it (but for keep_pages) before the next is read
    else:
        X = np.load(Path(data_dir) / "X.npy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # not converged after a few epochs
            clf.fit(X, y)
    seconds = time.perf_counter() - t0
    return dict(mode=mode, rss_start=rss_start, peak=_status_bytes("VmHWM"),
                peak_reset=peak_reset,
                accuracy=float(clf.score(X_test, y_test)), seconds=seconds)


def run_worker(mode, data_dir, chunk_rows, epochs, hidden, keep_pages=False, threads=None,
               timeout=None):
    """Run one worker in a fresh process; its figures as a dict."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", mode,
           "--data-dir", str(data_dir), "--chunk-rows", str(chunk_rows),
           "--epochs", str(epochs), "--hidden", str(hidden)]
    cmd += ["--keep-pages"] if keep_pages else []
    cmd += ["--threads", str(threads)] if threads else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(n_rows, chunk_rows, epochs, hidden=100, data_dir=None, keep_pages=False, threads=None,
        timeout=None):
    """Write (or reuse) the data, run both workers; a dict of their figures."""
    with tempfile.TemporaryDirectory(prefix="csoftmax-ooc-") as tmp:
        data_dir = Path(data_dir or tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if not _has_data(data_dir, n_rows):
            write_data(data_dir, n_rows)
        write_seconds = time.perf_counter() - t0
        results = {
            mode: run_worker(mode, data_dir, chunk_rows, epochs, hidden, keep_pages, threads,
                             timeout)
            for mode in ("stream", "memory")}
    return dict(rows=n_rows, data_bytes=n_rows * N_FEATURES * 4, chunk_rows=chunk_rows,
                epochs=epochs, hidden=hidden, write_seconds=write_seconds, keep_pages=keep_pages,
                **results)


def _table(r):
    gb = 1e9
    lines = [
        f"data: {r['rows']:,} x {N_FEATURES} float32 = {r['data_bytes'] / gb:.2f} GB; "
        f"MLP ({r['hidden']},), {r['epochs']} passes, chunks of {r['chunk_rows']:,} rows; "
        f"data written in {r['write_seconds']:.0f} s",
        f"{'':36s} {'peak RSS GB':>11s} {'RSS before GB':>13s} {'accuracy':>9s} {'seconds':>8s}",
    ]
    names = {"stream": "partial_fit from memmap", "memory": "fit in memory"}
    if r["keep_pages"]:
        names["stream"] += " (pages kept)"
    for mode in ("stream", "memory"):
        w = r[mode]
        lines.append(f"{names[mode]:36s} {w['peak'] / gb:11.2f} {w['rss_start'] / gb:13.2f} "
                     f"{w['accuracy']:9.4f} {w['seconds']:8.1f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=100, help="hidden units (one layer)")
    parser.add_argument("--data-dir", default=None,
                        help="keep the data here (reused if present); default: a temp dir")
    parser.add_argument("--keep-pages", action="store_true",
                        help="stream from one memmap, keeping the pages read mapped")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for BLAS and the kernels (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--worker", choices=["stream", "memory"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        parser.exit(1, "needs /proc/self/status (Linux)\n")
    if args.worker:
        print(json.dumps(_worker(args.worker, args.data_dir, args.chunk_rows, args.epochs,
                                 args.hidden, args.keep_pages, args.threads)))
        return
    r = run(args.rows, args.chunk_rows, args.epochs, args.hidden, args.data_dir,
            args.keep_pages, args.threads)
    print(json.dumps(r) if args.json else _table(r))


if __name__ == "__main__":
    main()
