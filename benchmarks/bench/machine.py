"""What the figures were measured on: the CPU, its cores, the SIMD path and the versions."""

import datetime
import os
import platform
from importlib import metadata

import csoftmax
from csoftmax import _core
from csoftmax._utils import _usable_cores


def _proc_field(path, key):
    """The value of the first ``key: value`` line of a /proc file, or None."""
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:  # not Linux
        pass
    return None


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe(torch):
    """The machine as (label, value) pairs, in the order a reader wants them."""
    memory = _proc_field("/proc/meminfo", "MemTotal")
    if memory:
        memory = f"{int(memory.split()[0]) / 2**20:.1f} GiB"
    openmp = "OpenMP" if _core.openmp_enabled() else "serial (no OpenMP)"
    return [
        ("CPU", _proc_field("/proc/cpuinfo", "model name") or platform.processor()
         or platform.machine()),
        ("cores", f"{os.cpu_count()} ({_usable_cores()} usable by this process)"),
        ("memory", memory or "unknown"),
        ("SIMD path", f"`{csoftmax.simd_backend()}` (`csoftmax.simd_backend()`)"),
        ("build", f"{_core.compiler()}, {openmp}"),
        ("system", f"{platform.system()} {platform.release()}, Python "
                   f"{platform.python_version()}"),
        ("versions", f"csoftmax {csoftmax.__version__}, NumPy {_version('numpy')}, SciPy "
                     f"{_version('scipy')}, scikit-learn {_version('scikit-learn')}, PyTorch "
                     f"{torch.__version__ if torch else 'not installed'}"),
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]
