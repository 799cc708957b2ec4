"""benchmarks/out_of_core.py, small: streaming from a memmap keeps memory bounded.

Trains by ``partial_fit`` over 1,000-row chunks of a 40,000 x 784 float32 memmap (125 MB)
and by ``fit`` on the same data loaded whole, each in its own process, and compares their
peak resident memory above the baseline and their accuracy. Linux only (/proc).

Under AddressSanitizer (.ci/sanitize.sh preloads its runtime), freed memory is held in a
quarantine of up to 256 MB, resident, to catch uses after free: every chunk read and freed
would count in the peak (49 MiB over the baseline measured that way, against 6 MiB without
the sanitizer). The workers then run with the quarantine off (quarantine_size_mb=0), so that
their peak is again the memory in use: 7 MiB measured so.
"""

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from helpers.checkout import needs_checkout_file

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="reads /proc/self/status (Linux)"),
    needs_checkout_file("benchmarks", "out_of_core.py"),
]


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "out_of_core", ROOT / "benchmarks" / "out_of_core.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _under_asan():
    """Whether AddressSanitizer's runtime is loaded in this process (preloaded or linked)."""
    try:
        return hasattr(ctypes.CDLL(None), "__asan_init")
    except OSError:
        return False


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    ooc = _benchmark()
    with pytest.MonkeyPatch.context() as patch:
        if _under_asan():  # the workers inherit the environment (see the module docstring)
            options = os.environ.get("ASAN_OPTIONS", "")
            patch.setenv("ASAN_OPTIONS", f"{options}:quarantine_size_mb=0".lstrip(":"))
        # Each worker process is killed by subprocess.run if it outlives the timeout.
        # One thread: the test must stay fast on a busy machine too.
        return ooc.run(40_000, chunk_rows=1_000, epochs=1, hidden=16, threads=1,
                       data_dir=tmp_path_factory.mktemp("ooc"), timeout=120)


def test_streaming_peak_memory_does_not_grow_with_the_data(figures):
    data = figures["data_bytes"]
    stream, memory = figures["stream"], figures["memory"]
    print(f"data {data / 2**20:.0f} MiB; growth of peak RSS over the baseline: "
          f"stream {(stream['peak'] - stream['rss_start']) / 2**20:.1f} MiB, "
          f"in memory {(memory['peak'] - memory['rss_start']) / 2**20:.1f} MiB")
    # One chunk (3 MiB), the labels and the model's buffers, not the 120 MiB of data.
    assert stream["peak"] - stream["rss_start"] < data / 4
    if memory["peak_reset"]:  # the measurement sees the data when it is loaded whole
        assert memory["peak"] - memory["rss_start"] > 0.9 * data


def test_streaming_learns_as_well_as_fitting_in_memory(figures):
    stream, memory = figures["stream"]["accuracy"], figures["memory"]["accuracy"]
    assert stream > 0.3 and memory > 0.3  # 10 classes: chance is 0.1
    assert abs(stream - memory) < 0.03
