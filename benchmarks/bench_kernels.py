"""Kernel speed: csoftmax against NumPy's stable formula and scipy.special in one process.

Prints the best of several repeats per operation and the ratio to the fastest peer, plus
the ratio to a plain copy of the same bytes (the memory roofline). Figures, not assertions:
run it on a quiet machine.

    python benchmarks/bench_kernels.py [--repeats 7] [--quick]
"""

import argparse
import time

import numpy as np
import scipy.special

import csoftmax


def best_time(f, repeats):
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def numpy_xent(z, y):
    lse = scipy.special.logsumexp(z, axis=1)
    loss = np.mean(lse - z[np.arange(len(y)), y])
    g = np.exp(z - lse[:, None])
    g[np.arange(len(y)), y] -= 1
    return loss, g / len(y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="tiny shapes (smoke test)")
    args = parser.parse_args(argv)
    shapes = [(200, 10), (64, 100)] if args.quick else [
        (60000, 10), (200, 10), (4096, 1000), (512, 50257), (64, 262144)]
    print(f"SIMD path: {csoftmax.simd_backend()}, threads: default")
    print(f"{'op':14s} {'dtype':8s} {'shape':>14s} {'csoftmax ms':>12s} {'numpy ms':>10s} "
          f"{'scipy ms':>10s} {'speed-up':>9s} {'GB/s':>7s} {'copy/cs':>8s}")
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for shape in shapes:
            x = rng.normal(size=shape).astype(dtype) * 3
            y = rng.integers(0, shape[1], shape[0])
            out = np.empty_like(x)
            t_copy = best_time(lambda: np.copyto(out, x), args.repeats)
            rows = [
                ("softmax", lambda: csoftmax.softmax(x, out=out), lambda: numpy_softmax(x),
                 lambda: scipy.special.softmax(x, axis=-1)),
                ("log_softmax", lambda: csoftmax.log_softmax(x, out=out),
                 lambda: x - scipy.special.logsumexp(x, axis=-1, keepdims=True),
                 lambda: scipy.special.log_softmax(x, axis=-1)),
                ("xent+grad", lambda: csoftmax.cross_entropy(x, y, return_grad=True),
                 lambda: numpy_xent(x, y), None),
            ]
            for name, ours, np_f, sp_f in rows:
                t = best_time(ours, args.repeats)
                t_np = best_time(np_f, args.repeats)
                t_sp = best_time(sp_f, args.repeats) if sp_f else float("nan")
                peer = np.nanmin([t_np, t_sp])
                gbs = 2 * x.nbytes / t / 1e9
                print(f"{name:14s} {np.dtype(dtype).name:8s} {str(shape):>14s} {t*1e3:12.3f} "
                      f"{t_np*1e3:10.3f} {t_sp*1e3:10.3f} {peer/t:8.1f}x {gbs:7.1f} "
                      f"{t_copy/t:8.2f}")


if __name__ == "__main__":
    main()
