"""A cramped legend says on itself how many curves it leaves out (1366x768 with Compare Methods on, rocket.png:
the dashed "space shuttle" curve was drawn but neither in the legend nor counted there; only a tooltip said so)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gradflip_desktop.ui.widgets.plot import ProbabilityPlot

pytestmark = pytest.mark.gui

LABELS = ["tabby", "tiger cat", "Egyptian cat", "lynx"] + [f"class {i}" for i in range(6)]
REST = [0.01] * 6


@pytest.mark.parametrize("size", [(980, 120), (700, 120), (526, 140), (620, 100), (980, 400)])
def test_every_curve_drawn_is_in_the_legend_or_counted_on_it(qtbot, size):
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    plot.start(LABELS, [2], "Egyptian cat", np.array([0.05, 0.25, 0.30, 0.04, *REST], np.float32))
    plot.add_steps([SimpleNamespace(index=1, probabilities=np.array([0.05, 0.28, 0.20, 0.04, *REST], np.float32),
                                    flipped=True, phase="search")])
    plot.saved = np.array([0.05, 0.27, 0.21, 0.04, *REST], np.float32)
    plot._legend_key = ()
    plot._redraw()
    qtbot.wait(100)
    shown = [label.text for _, label in plot.legend.items]
    entries = [text for _, text, _ in plot.legend.entries]
    named = [t for t in entries if any(s == t or s.startswith(t + " · +") for s in shown)]  # or "… · +3 more"
    gone = len(entries) - len(named)
    if gone:  # the count, on a line of its own or after the last entry
        assert shown[-1].endswith((f"+{gone} more", f" · +{gone} more")), (size, shown)
    else:
        assert shown == entries
    visible = plot.plot.mapToScene(plot.plot.viewport().rect()).boundingRect()
    for sample, label in plot.legend.items:  # nothing clipped, each label beside its sample
        assert visible.contains(label.item.sceneBoundingRect()), (size, label.text, visible)
        assert abs(label.item.sceneBoundingRect().center().y() - sample.sceneBoundingRect().center().y()) < 3
