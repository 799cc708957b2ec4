"""Files of the source checkout that some tests read, and their skip when they are absent.

The suite also runs against an installed wheel, from a copy of ``tests/`` outside the
source tree (``pytest /path/to/tests``). The package is then whatever ``import csoftmax``
finds, and the files beside the tests in a checkout (README.md, pyproject.toml, docs/,
benchmarks/) are not there. Tests of those files skip, saying which file they need; every
other test runs as in a checkout.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the checkout holding tests/


def checkout_file(*parts):
    """``ROOT / parts``; pytest.skip when it does not exist (no source checkout here)."""
    path = ROOT.joinpath(*parts)
    if not path.exists():
        pytest.skip(_reason(parts))
    return path


def needs_checkout_file(*parts):
    """A skipif mark for tests (or, as ``pytestmark``, modules) that read ``ROOT / parts``."""
    return pytest.mark.skipif(not ROOT.joinpath(*parts).exists(), reason=_reason(parts))


def _reason(parts):
    return (f"{'/'.join(parts)} is not beside the tests: it is read from a source checkout "
            "(running against an installed package)")
