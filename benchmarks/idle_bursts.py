"""Bursts of short calls after an idle gap, default threads against one thread.

    python benchmarks/idle_bursts.py                 # 4096 x 100 float32 softmax_vjp
    python benchmarks/idle_bursts.py --shape 4096x33 --bursts 20 --rounds 5
    python benchmarks/idle_bursts.py --quick         # a smoke run, not for figures

A script that sleeps, then makes a burst of short calls, finds OpenMP's helper threads
asleep: waking one can take longer than the call (on a virtual machine, up to
milliseconds). Each burst here sleeps --gap seconds, then makes --calls calls; its figure is
the median of the calls after the first tenth. One process per thread setting
(``n_threads=None``, the default, then ``n_threads=1``), alternating for --rounds rounds.
It prints each setting's median burst, and how many of the default's bursts ran no faster
than 0.9 times the one-thread median (bursts in which teams stayed off or lost). Figures,
not assertions.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_builds import parse_shapes  # noqa: E402

_CHILD = r"""
import json, sys, time
import numpy as np
import csoftmax
rows, cols, n_threads, bursts, calls, gap = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
x = (3 * rng.standard_normal((rows, cols))).astype(np.float32)
s, g, out = csoftmax.softmax(x), rng.standard_normal(x.shape).astype(np.float32), np.empty_like(x)
medians = []
for _ in range(bursts):
    time.sleep(gap)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        csoftmax.softmax_vjp(s, g, out=out, n_threads=n_threads)
        times.append(time.perf_counter() - t0)
    medians.append(float(np.median(times[calls // 10:])))
print(json.dumps(medians))
"""


def _shape(text):
    """'4096x100' -> (4096, 100), by compare_builds' parser."""
    shapes = parse_shapes(text)
    if len(shapes) != 1:
        raise argparse.ArgumentTypeError(f"expected one ROWSxCOLUMNS, got {text!r}")
    return shapes[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=_shape, default=(4096, 100), help="default 4096x100")
    parser.add_argument("--bursts", type=int, default=12, help="bursts a process (default 12)")
    parser.add_argument("--calls", type=int, default=60, help="calls a burst (default 60)")
    parser.add_argument("--gap", type=float, default=0.3, help="idle seconds before a burst")
    parser.add_argument("--rounds", type=int, default=3, help="processes a setting (default 3)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.shape, args.bursts, args.calls, args.gap, args.rounds = (256, 10), 2, 5, 0.01, 1
    found = {"default": [], "1": []}
    for _ in range(args.rounds):
        for setting, n_threads in (("default", None), ("1", 1)):
            spec = json.dumps([*args.shape, n_threads, args.bursts, args.calls, args.gap])
            done = subprocess.run([sys.executable, "-c", _CHILD, spec], capture_output=True,
                                  text=True, timeout=600, check=True)
            found[setting] += json.loads(done.stdout.strip().splitlines()[-1])
    one = statistics.median(found["1"])
    print(f"softmax_vjp {args.shape[0]} x {args.shape[1]} float32; {args.rounds} process(es) "
          f"a setting, {args.bursts} bursts of {args.calls} calls after {args.gap} s idle")
    default = found["default"]
    slow = sum(m >= 0.9 * one for m in default)
    print(f"n_threads=1: median burst {one * 1e6:.1f} us")
    print(f"n_threads=default: median burst {statistics.median(default) * 1e6:.1f} us; "
          f"{slow} of {len(default)} bursts at 0.9 times the one-thread median or slower")


if __name__ == "__main__":
    main()
