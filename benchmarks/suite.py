"""The benchmark suite: csoftmax against its peers, written to Markdown tables and PNG figures.

    python benchmarks/suite.py                       # everything; writes docs/benchmarks/
    python benchmarks/suite.py --sections kernels,training
    python benchmarks/suite.py --quick --out /tmp/bench   # tiny smoke run, a few minutes
    python benchmarks/suite.py --render              # only re-render the quoted figures

Sections: kernels (softmax, log_softmax, softmax_vjp, cross-entropy + gradient against
NumPy, SciPy, PyTorch and a plain copy), training (seconds per epoch and test accuracy
against scikit-learn, a PyTorch loop and the time of the matrix products alone),
contention (fit, partial_fit, predict_proba and softmax, default threads and
n_threads=1, quiet and while another process keeps a core busy, each in its own process),
latency (predict_proba on 1, 10 and 1,000 rows), calls (partial_fit of 10 and 200 rows and
predict_proba of 1 and 1,000 rows, each library in its own process), grid (GridSearchCV in a fresh
process, n_jobs 1 and 2), scaling (threads, samples, classes, hidden width) and streaming
(out_of_core.py: partial_fit from a memmap against fit, 1,000,000 rows). PyTorch is
compared with when it is installed.

Besides the tables and figures, a run writes results.json: the machine (its CPU flags and
SIMD path too) and every figure under a stable key. When the run writes to docs/benchmarks,
it also re-renders from that file every figure the README and docs/performance.rst quote
(their blocks between ``suite:`` markers, see bench/blocks.py); with another --out it
writes those blocks into <out>/quoted/ instead. ``--render`` does only that, from the
results.json already there.

It prints figures and never asserts them: run it on a quiet machine, and repeat a run
before trusting one. The full run takes some 20 to 40 minutes on two cores (an estimate)
and needs Fashion-MNIST (``--data-dir``) and about 4 GB of memory; ``--quick`` uses tiny shapes and scikit-learn's digits, and writes to a
temporary folder unless given ``--out``, so that a smoke run cannot overwrite the
committed figures.
"""

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from bench import (blocks, calls, contention, grid, kernels, latency, machine, record, report,
                   scaling, streaming, training)
from bench.context import Context, import_torch

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "benchmarks"
SECTIONS = {"kernels": kernels, "training": training, "contention": contention,
            "latency": latency, "calls": calls, "grid": grid, "scaling": scaling,
            "streaming": streaming}


def _default_data_dir():
    return Path(os.environ.get("CSOFTMAX_FASHION_MNIST_DIR")
                or ROOT.parent / "shared" / "data" / "fashion-mnist")


def _sections(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(SECTIONS)}")
    return names


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes and data, few repeats (a smoke run)")
    parser.add_argument("--sections", type=_sections, default=list(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for results.md and the PNGs (default: {DEFAULT_OUT}; "
                             "with --quick a new temporary folder)")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: re-render the figures quoted by the README "
                             "and the docs from <out>/results.json")
    parser.add_argument("--data-dir", type=Path, default=_default_data_dir(),
                        help="Fashion-MNIST IDX files (default: $CSOFTMAX_FASHION_MNIST_DIR "
                             "or ../shared/data/fashion-mnist beside the checkout); "
                             "unused with --quick")
    parser.add_argument("--repeats", type=int, default=None,
                        help="measurements per figure (default 3 per fit and 7 per "
                             "kernel call; 2 and 3 with --quick)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per training run (default 3; 1 with --quick)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = (Path(tempfile.mkdtemp(prefix="csoftmax-bench-"))
                    if args.quick and not args.render else DEFAULT_OUT)
    elif args.quick and args.out.resolve() == DEFAULT_OUT.resolve():
        parser.error(f"--quick figures are not fit for {DEFAULT_OUT}: give another --out")
    return args


def make_context(args, argv):
    command = shlex.join(["python", "benchmarks/suite.py", *argv])
    return Context(
        quick=args.quick,
        repeats=args.repeats or (2 if args.quick else 3),
        call_repeats=args.repeats or (3 if args.quick else 7),
        epochs=args.epochs or (1 if args.quick else 3),
        data_dir=args.data_dir, out=args.out, command=command, torch=import_torch())


def render_quoted(out):
    """Re-render the quoted figures from ``out/results.json``: in the README and the docs
    when ``out`` is docs/benchmarks, else into ``out/quoted/<block>.txt``."""
    found = record.load(Path(out) / "results.json")
    if found is None:
        raise SystemExit(f"{out}/results.json not found: run the suite first")
    if Path(out).resolve() == DEFAULT_OUT.resolve():
        changed = blocks.update(ROOT, found)
        print("re-rendered the quoted figures: "
              + (", ".join(str(p.relative_to(ROOT)) for p in changed) or "no change"))
        return
    folder = Path(out) / "quoted"
    folder.mkdir(exist_ok=True)
    for names in blocks.FILES.values():
        for name in names:
            (folder / f"{name}.txt").write_text(blocks.render(name, found) + "\n")
    print(f"wrote the quoted figures to {folder}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.render:
        render_quoted(args.out)
        return
    ctx = make_context(args, argv)
    ctx.out.mkdir(parents=True, exist_ok=True)
    described = machine.describe(ctx.torch)
    print("\n".join(f"{label}: {value}" for label, value in described))
    machine_record = record.machine_record(described, record.cpu_flags())
    date = dict(described)["date"]
    for name in args.sections:
        print(f"\n== {name} ==")
        start = time.perf_counter()
        section = SECTIONS[name].run(ctx)
        if section is None:  # skipped: it printed why
            continue
        stamp = f"Measured {dict(described)['date']} by `{ctx.command}`" + (
            " (a quick run: tiny shapes and data, whose figures only show that the suite "
            "runs)." if ctx.quick else ".")
        report.write_section(section, ctx.out, stamp)
        # Recorded as soon as written, so that a section that fails later leaves the
        # record and the tables of those before it in agreement.
        measured = {section.key: record.section_record(section, machine_record, date,
                                                       ctx.command)}
        record.write(ctx.out / "results.json", machine_record, ctx.command, date, measured)
        print(f"({name}: {time.perf_counter() - start:.1f} s)")
    path = report.write_results(ctx.out, described, ctx.command)
    print(f"\nwrote {path}, results.json and the figures")
    if (ctx.out / "results.json").is_file():  # not when every section was skipped
        render_quoted(ctx.out)


if __name__ == "__main__":
    main()
