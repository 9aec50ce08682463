"""A group run ("any cat") is named as the group in the Adjusted caption and the status bar, as in the
summary and the plot (ui/controllers/runs.py)."""

from __future__ import annotations

import pytest

from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


def test_a_group_run_says_any_cat_flipped_everywhere(qtbot, window):
    # the summary said "turns any cat (95 %) into ...", the plot "explained: any cat", while the caption said
    # "flipped from Egyptian cat at step 23" and the status bar "Done: “Egyptian cat” flipped to “lynx”"
    from helpers import RUN_TIMEOUT_MS

    window.controls.set_settings(RunSettings(target_mode="group", group="cat", style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    result = blocker.args[0]
    assert result.flipped and sorted(result.explained) == [281, 282, 283, 284, 285]
    assert "any cat" in window.views.summary.text()
    caption = window.views.adjusted.caption.text()
    assert "flipped from any cat at step" in caption and "flipped from Egyptian cat" not in caption
    status = window.status_label.text()
    assert f"“any cat” flipped to “{result.final.label}”" in status and "Egyptian cat" not in status
