"""Shared fixtures: where the real data sets are, when this machine has them."""

import os
from pathlib import Path

import pytest

_SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _data_dir(env_var, name):
    candidates = [os.environ.get(env_var), _SHARED / name]
    for c in candidates:
        if c and Path(c).is_dir() and any(Path(c).glob("*-idx3-ubyte*")):
            return Path(c)
    pytest.skip(f"{name} IDX files not found (set {env_var} to a folder holding them)")


@pytest.fixture(scope="session")
def mnist_dir():
    """Folder with the MNIST IDX files (the official 10,000-image test set here)."""
    return _data_dir("CSOFTMAX_MNIST_DIR", "mnist")


@pytest.fixture(scope="session")
def fashion_mnist_dir():
    """Folder with the four Fashion-MNIST IDX files."""
    return _data_dir("CSOFTMAX_FASHION_MNIST_DIR", "fashion-mnist")
