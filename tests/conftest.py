"""Shared test set-up.

- Qt runs offscreen (no display needed); settings never touch the user's own.
- Every test under tests/ui/ gets the ``gui`` marker and every test under tests/e2e/ the ``e2e`` marker,
  by folder, so ``pytest -m "not gui"`` runs without Qt windows and ``-m "not e2e"`` without the real model.
- Hypothesis: with ``CI`` set (or ``HYPOTHESIS_PROFILE=ci``) property tests are derandomised (fixed seed,
  no example database), so a CI run is reproducible; the example budget is the one each test states.
- The suite runs in parallel (pyproject's addopts: pytest-xdist's ``-n auto --dist loadgroup``): one worker per core
  this process may use, at most 8 (``pytest_xdist_auto_num_workers``); each worker's torch gets its share of the
  cores (``OMP_NUM_THREADS``, unless you set it), so the workers do not crowd each other out. The Qt tests (tests/ui)
  form one group, run by one worker in the order one process runs them (docs/testing.md says why). ``pytest -n 0``
  runs in one process (for ``--pdb`` or a debugger).
- Fixtures shared by core tests: ``tiny`` (a seeded tiny classifier) and ``tiny_image``; the builders are
  plain functions in helpers.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["GRADFLIP_CPU_SHARE"] = "0"  # torch's own thread count in every test (tests/core/test_cpu_share.py enables it)
MAX_WORKERS = 8


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def pytest_xdist_auto_num_workers(config):  # noqa: ARG001 - the hook's signature
    """``-n auto``: one worker per usable core (not per core of the machine, as xdist would count), at most 8."""
    return min(MAX_WORKERS, _usable_cores())


if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
    # before torch is imported: two workers of two threads each on two cores spin against each other
    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    os.environ["OMP_NUM_THREADS"] = str(max(1, _usable_cores() // _workers))

try:  # hypothesis is in the test extra; a missing one only matters to the property tests
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover
    settings = None
else:
    settings.register_profile(
        "ci",
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=100,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("dev", deadline=None)
    _profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    settings.load_profile(_profile)

_TESTS = Path(__file__).resolve().parent
_FOLDER_MARKERS = {"ui": "gui", "gui": "gui", "e2e": "e2e"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        try:
            rel = Path(str(item.path)).resolve().relative_to(_TESTS)
        except ValueError:
            continue
        marker = _FOLDER_MARKERS.get(rel.parts[0]) if len(rel.parts) > 1 else None
        if marker and not item.get_closest_marker(marker):
            item.add_marker(getattr(pytest.mark, marker))
        if marker == "gui":  # --dist loadgroup: every Qt test in one worker, in the order one process runs them
            item.add_marker(pytest.mark.xdist_group("qt"))


@pytest.fixture
def tiny():
    """A tiny seeded 4-class pixel-space classifier (16 x 16 input); see helpers.make_tiny."""
    from helpers import make_tiny

    return make_tiny()


@pytest.fixture
def tiny_image():
    """A smooth 24 x 32 RGB image with values inside (0.2, 0.8), so no step is clipped at first."""
    from helpers import tiny_image_array

    return tiny_image_array()
