"""Instructions per small call, counted by callgrind: a figure a busy machine cannot disturb.

    python benchmarks/call_instructions.py                       # every op, both libraries
    python benchmarks/call_instructions.py --ops partial_fit10 --libraries csoftmax
    python benchmarks/call_instructions.py --calls 100 --pythonpath /path/to/a/checkout

The ops are those of ``bench/call_child.py`` (``partial_fit10``, ``partial_fit200``,
``predict_proba1``, ``predict_proba1000``: an MLP 64-100-10 on scikit-learn's digits, as in
the suite's *calls* section). For each library, one process runs under
``valgrind --tool=callgrind`` and, for each op, runs ``call_child.measure`` twice: with
one call after the warm-up, then with ``1 + --calls`` calls. Callgrind writes its counts
at each phase's end (``--dump-before`` a ``getppid`` call made between phases), so the
difference of the two phases' instruction counts (Ir), divided by ``--calls``, is one
call's count: the setup (the estimator, the fit before ``predict_proba``) cancels out.
Unlike a time, it repeats to within a fraction of a percent on a loaded machine, so it
can judge a change to the fixed cost of a call.

csoftmax runs with ``n_threads=1`` and both libraries with one BLAS and OpenMP thread
(passive waiting), so that no thread spins while another works: spinning is counted as
instructions and would vary from run to run. The counts include the kernels (for 10
rows they are a small part; for 200 and 1,000 rows a large one). Needs valgrind; a
library's run takes several minutes.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OPS = ("partial_fit10", "partial_fit200", "predict_proba1", "predict_proba1000")
LIBRARIES = ("csoftmax", "scikit-learn")


def _child(library, ops, calls, data):
    """Under callgrind: the phases of every op, each ended by a dump (os.getppid)."""
    sys.path.insert(0, str(HERE / "bench"))
    import call_child

    with np.load(data) as d:
        X, y = d["X"], d["y"]
    warnings.simplefilter("ignore")
    for op in ops:  # imports, and the first run of every code path
        call_child.measure(op, library, 1, X, y, 1, 1)
    os.getppid()  # dump all that
    for op in ops:
        for n in (1, 1 + calls):
            call_child.measure(op, library, 1, X, y, n, 1)
            os.getppid()


def _phase_counts(folder):
    """Ir of each dump of one run, in the order they were written (their ``part``)."""
    parts = {}
    for f in Path(folder).glob("callgrind.out.*"):
        text = f.read_text()
        part = int(re.search(r"^part:\s*(\d+)", text, re.MULTILINE).group(1))
        parts[part] = int(re.findall(r"^(?:summary|totals):\s*(\d+)", text, re.MULTILINE)[-1])
    return [parts[k] for k in sorted(parts)]


def instructions(library, ops, calls, data, env):
    """{op: Ir per call} of ``library``, from one process under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid",
               f"--callgrind-out-file={tmp}/callgrind.out.%p", sys.executable, __file__,
               "--child", library, "--ops", ",".join(ops), "--calls", str(calls),
               "--data", str(data)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=7200,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        # one dump per getppid, plus the last one at exit; drop the imports' first dump
        phases = _phase_counts(tmp)[1:1 + 2 * len(ops)]
    return {op: (phases[2 * i + 1] - phases[2 * i]) / calls for i, op in enumerate(ops)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--pythonpath", default=None,
                        help="put this checkout first on PYTHONPATH (default: as imported)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    ops = args.ops.split(",")
    if args.child:
        return _child(args.child, ops, args.calls, args.data)
    from sklearn.datasets import load_digits

    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([args.pythonpath, env.get("PYTHONPATH", "")])
    X, y = load_digits(return_X_y=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "digits.npz"
        np.savez(data, X=X.astype(np.float64), y=y)
        print(f"{'op':<18} {'library':<13} {'Ir per call':>12}")
        for library in args.libraries.split(","):
            for op, count in instructions(library, ops, args.calls, data, env).items():
                print(f"{op:<18} {library:<13} {count:>12,.0f}", flush=True)
    return None


if __name__ == "__main__":
    main()
