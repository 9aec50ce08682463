"""A model's own labels can be long sentences: the plot's legend cuts them, so the curves keep their room."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from gradflip_desktop.ui.widgets.elision import LEGEND_CHARS, elide_end, elide_middle

pytestmark = pytest.mark.gui

LONG = [
    "Extremely long class name number one: a small grey-and-white domestic short-haired cat sitting on a windowsill",
    "Coffee cup (espresso, doppio, with saucer and spoon) — 日本語の説明付きの非常に長いクラス名",
    "Supercalifragilisticexpialidocious_without_any_spaces_at_all_to_break_the_line_anywhere",
    "dog",
]


def test_long_names_are_cut_and_short_ones_kept():
    assert elide_end("tiger cat", LEGEND_CHARS) == "tiger cat" == elide_middle("tiger cat", 8 + 1)
    cut = elide_end(LONG[0], LEGEND_CHARS)
    assert len(cut) <= LEGEND_CHARS and cut.endswith("…") and LONG[0].startswith(cut[:-1])
    mid = elide_middle("holiday photo from the beach with grandma and grandpa.png", 30)
    assert len(mid) == 30 and mid.startswith("holiday photo") and mid.endswith("grandpa.png"[-9:]) and "…" in mid


def test_long_class_names_leave_the_curves_most_of_the_plot(qtbot, shown_plot):
    # a 4-class model with sentence-long labels in a 1280x820 window: the legend took ~700 of the plot's
    # 900 px and the curves were squeezed into ~110 px
    plot = shown_plot(900, 220)
    plot.start(LONG, [1], LONG[1], np.array([0.25, 0.26, 0.25, 0.24], np.float32))
    plot.add_steps([SimpleNamespace(index=i, probabilities=np.array([0.25, 0.26 - 0.01 * i, 0.25, 0.24 + 0.01 * i],
                                                                     np.float32), flipped=i == 3, phase="search")
                    for i in (1, 2, 3)])
    plot.saved = np.array([0.25, 0.23, 0.25, 0.27], np.float32)
    plot._legend_key = ()
    plot._redraw()
    for _ in range(3):
        QApplication.processEvents()
    view = plot.plot.getPlotItem().vb.sceneBoundingRect().width()
    assert view >= 0.5 * plot.plot.width(), (view, plot.plot.width())
    texts = [label.text for _, label in plot.legend.items]
    assert all(len(t) < LEGEND_CHARS + 20 for t in texts), texts
