"""Print a SHA-256 digest of every public kernel's output on fixed inputs, one line each.

Run by .ci/arm64-suite.sh on aarch64 (under qemu) and on x86-64 with CSOFTMAX_SIMD=portable:
the two listings must be equal, byte for byte. The inputs are integers scaled by powers of
two (exact in float32 and float64 on any machine, with no libm call in their making), plus
rows of ±1e4, so any difference comes from the kernels. The last line digests all the others.
"""

import hashlib
import itertools

import numpy as np

import csoftmax


def _inputs(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-(2**14), 2**14, size=shape).astype(dtype) / dtype(2**10)
    x[0, :] = dtype(1e4)
    x[-1, ::2] = dtype(-1e4)
    return x


def _digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:20]


def main():
    lines = []
    shapes = [(5, 1), (9, 2), (17, 3), (33, 10), (6, 31), (4, 257), (3, 1000)]
    for dtype, shape, n_threads in itertools.product(
        (np.float32, np.float64), shapes, (1, 2)
    ):
        x = _inputs(shape, dtype, seed=shape[0] * 1000 + shape[1])
        g = _inputs(shape, dtype, seed=shape[1]) / dtype(8)
        labels = np.arange(shape[0]) % shape[1]
        soft = csoftmax.softmax(x[::-1].copy(), n_threads=n_threads)  # a target distribution
        y = csoftmax.softmax(x, n_threads=n_threads)
        results = {
            "input": (x, g),
            "softmax": y,
            "softmax axis=0": csoftmax.softmax(x, axis=0, n_threads=n_threads),
            "log_softmax": csoftmax.log_softmax(x, n_threads=n_threads),
            "softmax_jacobian": csoftmax.softmax_jacobian(x[:4], n_threads=n_threads),
            "softmax_vjp": csoftmax.softmax_vjp(y, g, n_threads=n_threads),
            "log_softmax_vjp": csoftmax.log_softmax_vjp(
                csoftmax.log_softmax(x, n_threads=n_threads), g, n_threads=n_threads
            ),
            "cross_entropy hard": csoftmax.cross_entropy(
                x, labels, reduction="none", return_grad=True, n_threads=n_threads
            ),
            "cross_entropy smoothed, weighted, mean": csoftmax.cross_entropy(
                x, labels, label_smoothing=0.1, weight=np.linspace(0.5, 2, shape[1]),
                return_grad=True, n_threads=n_threads
            ),
            "cross_entropy soft": csoftmax.cross_entropy(
                x, soft, reduction="sum", return_grad=True, n_threads=n_threads
            ),
        }
        for name, value in results.items():
            arrays = value if isinstance(value, tuple) else (value,)
            tag = f"{np.dtype(dtype).name} {shape[0]}x{shape[1]} n_threads={n_threads}"
            lines.append(f"{tag} {name}: {_digest(*arrays)}")
    for line in lines:
        print(line)
    print(f"all: {hashlib.sha256(chr(10).join(lines).encode()).hexdigest()[:20]}")


if __name__ == "__main__":
    main()
