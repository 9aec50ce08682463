"""The read-out under the plot (``ui/widgets/readout.py``): its room fits the text it shows (mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_the_room_kept_fits_the_text_shown_as_well_as_the_texts_to_come(qtbot):
    from gradflip_desktop.ui.widgets.readout import ReadOut

    readout = ReadOut()
    qtbot.addWidget(readout)
    readout.resize(200, 20)
    shown = "<b>step 3</b> (the 8-bit pass) · " + " · ".join(f"class {i} 12.{i} %" for i in range(8))
    readout.setText(shown)
    readout.reserve(["<b>step 1</b>"])
    assert readout.minimumHeight() == readout.heightForWidth(200) > 3 * readout.fontMetrics().height()
