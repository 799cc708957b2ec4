"""Wall-clock timing: best and median of repeated calls, and rounds that alternate peers."""

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Seconds per call over several samples: the best (least disturbed) and the median."""

    best: float
    median: float

    @classmethod
    def of(cls, seconds):
        return cls(float(np.min(seconds)), float(np.median(seconds)))


def measure(f, repeats, *, number=1, warmup=1):
    """Time ``f()``: ``repeats`` samples of ``number`` calls each, after ``warmup`` calls.

    Returns the :class:`Timing` of one call. ``number`` > 1 averages calls too short for the
    clock (a prediction on one row) within each sample.
    """
    for _ in range(warmup):
        f()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            f()
        samples.append((time.perf_counter() - t0) / number)
    return Timing.of(samples)


def alternate(runs, repeats):
    """Call each of ``runs`` (name -> function returning seconds) once per round.

    Alternating spreads a change in the machine's load over every peer alike, which
    timing one peer's repeats after another's does not. Returns name -> :class:`Timing`.
    """
    seconds = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            seconds[name].append(run())
    return {name: Timing.of(s) for name, s in seconds.items()}


def timed(f):
    """Seconds one call of ``f()`` takes."""
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0
