"""The working size's memory note (ui/widgets/working_size.py) at its edges. Found by a hand-made mutation audit
(2026-12-06): each test fails on a single-point mutation the other tests let through."""

from __future__ import annotations

import pytest

from gradflip_desktop.ui.widgets.working_size import working_size_megabytes


def test_a_photo_without_pixels_is_taken_as_a_4_3_one():
    assert working_size_megabytes(1024, (0, 0)) == working_size_megabytes(1024) == pytest.approx(1024 * 768 * 12 / 1e6)

