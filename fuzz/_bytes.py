"""Shared pieces of the fuzzing harnesses: a reader of the fuzzer's bytes, the import of
the csoftmax under test and the harnesses' command line.

:class:`Bytes` takes numbers and choices from the input, front to back, and 0 once it is
used up, so every input (the empty one included) is a valid program and a short input is a
simple one. It needs no atheris, so the tests replay inputs without it.
"""

import os
import struct
import sys
from pathlib import Path

#: The source tree the harnesses fuzz: FUZZ_CSOFTMAX_ROOT (fuzz/run.sh points it at the
#: sanitized build) or this checkout.
ROOT = Path(os.environ.get("FUZZ_CSOFTMAX_ROOT") or Path(__file__).resolve().parents[1])

#: Exceptions the public API documents for bad arguments (AxisError is a ValueError).
EXPECTED = (TypeError, ValueError, MemoryError)


def use_source_tree():
    """Put the csoftmax under test first on sys.path."""
    if (ROOT / "csoftmax" / "__init__.py").is_file() and str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def harness_main(argv, seeds, check_input, prepare):
    """A harness's command line. ``--write-seeds DIR`` writes the inputs of ``seeds()`` into
    DIR as ``seed-NN`` (without atheris); otherwise ``prepare()`` imports the code under test
    (instrumented) and atheris fuzzes ``check_input`` with the arguments in argv."""
    if len(argv) == 3 and argv[1] == "--write-seeds":
        corpus = Path(argv[2])
        corpus.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(seeds()):
            (corpus / f"seed-{i:02d}").write_bytes(seed)
        return 0
    import atheris

    prepare()
    atheris.Setup(argv, check_input)
    atheris.Fuzz()
    return 0


class Bytes:
    """Numbers and choices read from the fuzzer's input."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, n):
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk.ljust(n, b"\0")

    def uint(self, n_bytes=1):
        return int.from_bytes(self.take(n_bytes), "little")

    def below(self, n):
        """An int in [0, n)."""
        return self.uint(1 if n <= 256 else 2 if n <= 65536 else 4) % n

    def flag(self, one_in=2):
        """True about once in `one_in` inputs (False when the input is used up)."""
        return self.uint() % one_in == one_in - 1

    def choice(self, options):
        return options[self.below(len(options))]

    def float64(self):
        return struct.unpack("<d", self.take(8))[0]

    def seed(self):
        return self.uint(4)
