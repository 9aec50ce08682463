"""The plot's step axis (``ui/widgets/step_axis.py``): plain whole steps, and "saved" only where it is in view
(mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _ticks(axis, lo, hi, size):
    return sorted(v for _spacing, values in axis.tickValues(lo, hi, size) for v in values)


def test_steps_read_as_whole_numbers_and_saved_only_at_its_point(qtbot):
    from gradflip_desktop.ui.widgets.step_axis import StepAxis

    axis = StepAxis(orientation="bottom")
    assert axis.tickStrings([0.0, 3.0, 12.0], 1, 1) == ["0", "3", "12"]
    assert _ticks(axis, -0.05, 1.05, 400) == [0.0, 1.0]  # a run of one step: both ends named
    axis.saved_x = 10.0
    assert 10.0 not in _ticks(axis, -0.2, 5.2, 400)  # the saved point beyond the range shown: no "saved" tick
    assert axis.tickStrings([9.0, 10.0], 1, 1) == ["9", "saved"]
