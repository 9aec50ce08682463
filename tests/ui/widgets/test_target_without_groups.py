"""A model without class groups (its own labels) cannot explain "a class group": after "Explain any cat" and a model
load, Target stayed "A class group" with an empty box and Explain answered "choose a class group"."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_loading_a_model_without_groups_sets_the_target_back_to_the_top_class(qtbot):
    from gradflip_desktop.ui.settings import TARGET_GROUP, TARGET_TOP, RunSettings
    from gradflip_desktop.ui.widgets.controls import ControlsPanel

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_model(["tabby", "tiger cat", "espresso"], ["cat"], ["cpu"], "cpu")
    panel.set_settings(RunSettings(target_mode=TARGET_GROUP, group="cat"))
    assert panel.settings().target_mode == TARGET_GROUP and panel.settings().group == "cat"
    group_item = panel.target_mode.model().item(panel.target_mode.findData(TARGET_GROUP))
    assert group_item.isEnabled()

    panel.set_model(["class 0", "class 1", "class 2"], [], ["cpu"], "cpu")
    assert panel.settings().target_mode == TARGET_TOP
    assert not group_item.isEnabled() and "no built-in groups" in group_item.toolTip()
    assert panel.group.isHidden()
    panel.settings().to_options()  # Explain can run: no "choose a class group"

    panel.set_model(["tabby", "tiger cat", "espresso"], ["cat"], ["cpu"], "cpu")  # the groups come back with a model
    assert group_item.isEnabled() and panel.settings().target_mode == TARGET_TOP
