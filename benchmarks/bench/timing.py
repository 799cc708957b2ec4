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


def interleave(calls, repeats, *, min_seconds=0.0, max_rounds=1000, burst=3):
    """Time the calls of ``calls`` (name -> function) in rounds: per round, each function is
    called once untimed (it finds the caches as the others left them) and then ``burst``
    times, each call timed, as a loop of calls would run.

    At least ``repeats`` rounds, and more (up to ``max_rounds``) until ``min_seconds`` have
    passed: a shared machine has slow stretches of a tenth of a second or more, which
    seven back-to-back calls of a millisecond can fall into entirely, and interleaving puts
    every peer in the same stretches. One warm-up call each. Returns name -> :class:`Timing`
    of one call.
    """
    for f in calls.values():
        f()
    seconds = {name: [] for name in calls}
    start = time.perf_counter()
    rounds = 0
    while rounds < repeats or (time.perf_counter() - start < min_seconds
                               and rounds < max_rounds):
        for name, f in calls.items():
            f()
            for _ in range(burst):
                t0 = time.perf_counter()
                f()
                seconds[name].append(time.perf_counter() - t0)
        rounds += 1
    return {name: Timing.of(s) for name, s in seconds.items()}


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
