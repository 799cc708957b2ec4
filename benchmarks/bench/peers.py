"""The kernel operations, as csoftmax and each peer compute them.

Every ``*_calls`` function returns op name -> a function of no argument that computes the
op on the arrays it was given, so that a section times them alike. The NumPy versions are
the stable formulas (row max subtracted); SciPy has no VJP nor cross-entropy of its own, so
its cross-entropy is built on ``scipy.special.log_softmax``; PyTorch's run on tensors that
share the NumPy arrays' memory, with autograd for the VJP and the gradient.
"""

import numpy as np
import scipy.special

import csoftmax

OPS = ("softmax", "log_softmax", "softmax_vjp", "xent+grad")


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


def numpy_log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def numpy_softmax_vjp(s, g):
    return s * (g - np.einsum("ij,ij->i", g, s)[:, None])


def _xent_from_log_proba(log_proba, y):
    """Mean cross-entropy and its gradient (softmax - onehot) / N, from log-probabilities."""
    rows = np.arange(len(y))
    loss = -log_proba[rows, y].mean()
    grad = np.exp(log_proba)
    grad[rows, y] -= 1
    grad /= len(y)
    return loss, grad


def csoftmax_calls(x, y, s, g, n_threads=None, out=None):
    """csoftmax's ops, each returning a new array, or writing into ``out`` (the result,
    or the gradient of ``xent+grad``) when it is given."""
    return {
        "softmax": lambda: csoftmax.softmax(x, out=out, n_threads=n_threads),
        "log_softmax": lambda: csoftmax.log_softmax(x, out=out, n_threads=n_threads),
        "softmax_vjp": lambda: csoftmax.softmax_vjp(s, g, out=out, n_threads=n_threads),
        "xent+grad": lambda: csoftmax.cross_entropy(x, y, return_grad=True, out=out,
                                                    n_threads=n_threads),
    }


def numpy_calls(x, y, s, g):
    return {
        "softmax": lambda: numpy_softmax(x),
        "log_softmax": lambda: numpy_log_softmax(x),
        "softmax_vjp": lambda: numpy_softmax_vjp(s, g),
        "xent+grad": lambda: _xent_from_log_proba(numpy_log_softmax(x), y),
    }


def scipy_calls(x, y, s, g):
    return {
        "softmax": lambda: scipy.special.softmax(x, axis=1),
        "log_softmax": lambda: scipy.special.log_softmax(x, axis=1),
        "xent+grad": lambda: _xent_from_log_proba(scipy.special.log_softmax(x, axis=1), y),
    }


def torch_calls(torch, x, y, s, g):
    """PyTorch's ops; the VJP and the loss's gradient by autograd on a leaf tensor."""
    tx = torch.from_numpy(x)
    vjp_leaf = torch.from_numpy(x).requires_grad_()
    vjp_out = torch.softmax(vjp_leaf, 1)
    tg = torch.from_numpy(g)
    xent_leaf = torch.from_numpy(x).requires_grad_()
    ty = torch.from_numpy(np.asarray(y, dtype=np.int64))

    def xent():
        xent_leaf.grad = None
        loss = torch.nn.functional.cross_entropy(xent_leaf, ty)
        loss.backward()
        return loss, xent_leaf.grad

    return {
        "softmax": lambda: torch.softmax(tx, 1),
        "log_softmax": lambda: torch.log_softmax(tx, 1),
        "softmax_vjp": lambda: torch.autograd.grad(vjp_out, vjp_leaf, tg, retain_graph=True),
        "xent+grad": xent,
    }


def peer_calls(torch, x, y, s, g):
    """Peer name -> its ``*_calls`` dict, PyTorch's only when it is installed."""
    calls = {"NumPy": numpy_calls(x, y, s, g), "SciPy": scipy_calls(x, y, s, g)}
    if torch is not None:
        calls["PyTorch"] = torch_calls(torch, x, y, s, g)
    return calls


def kernel_inputs(shape, dtype, seed=0):
    """Logits ``x`` (scale 3), labels ``y``, their softmax ``s`` and an upstream gradient ``g``."""
    rng = np.random.default_rng(seed)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    y = rng.integers(0, shape[1], shape[0])
    g = rng.standard_normal(shape).astype(dtype)
    return x, y, csoftmax.softmax(x), g


def bytes_moved(op, x):
    """Bytes an op must read and write at least: the VJP reads two arrays, the others one."""
    return (3 if op == "softmax_vjp" else 2) * x.nbytes
