"""The pytest configuration in pyproject.toml matches what the tests use.

A declared marker that no test carries promises a selection (``-m NAME``) that
selects nothing, and ``--strict-markers`` turns a marker used without being
declared, a typo for instance, into an error instead of a silent no-op.
"""

import re
from pathlib import Path

import pytest

from helpers.checkout import needs_checkout_file

ROOT = Path(__file__).resolve().parents[1]
pytestmark = needs_checkout_file("pyproject.toml")


def pytest_options():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["pytest"]["ini_options"]


def test_every_declared_marker_is_used():
    declared = {m.split(":")[0].strip() for m in pytest_options().get("markers", [])}
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    used = set(re.findall(r"pytest\.mark\.(\w+)", sources))

    assert declared <= used, f"declared but unused markers: {sorted(declared - used)}"


def test_undeclared_markers_are_errors():
    assert "--strict-markers" in pytest_options()["addopts"].split()
