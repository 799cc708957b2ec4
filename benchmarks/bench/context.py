"""What every section is given: the run's settings, PyTorch when installed, the data."""

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bench import data


def import_torch():
    """The torch module, or None: PyTorch is a peer the suite compares with, never needed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def thread_counts():
    """The thread counts compared: 1 and 2, and every usable core, capped to those."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return tuple(sorted({n for n in (1, 2, cores) if n <= cores}))


@dataclass
class Context:
    """The settings of one run of the suite (see ``suite.py --help``).

    ``repeats`` is how many times each fit is timed and ``call_repeats`` how many times
    each fast call (a kernel, a prediction) is (best and median reported); ``epochs`` is how
    many epochs each training run lasts.
    """

    quick: bool
    repeats: int
    call_repeats: int
    epochs: int
    data_dir: Path
    out: Path
    command: str
    torch: object = None
    threads: tuple = field(default_factory=thread_counts)

    @property
    def max_threads(self):
        return self.threads[-1]

    @cached_property
    def dataset(self):
        """The training data, loaded once on first use; None (and a message) without it."""
        if self.quick:
            return data.digits()
        return data.fashion_mnist(self.data_dir)
