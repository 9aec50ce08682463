"""A group's entry names its classes: "any cat" is ImageNet's five house cats (281-285), so a run on the sample
photo said it turned "any cat" into lynx (a big cat), which read as nonsense with no way to see the members."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_group_entries_list_their_classes(qtbot):
    from gradflip_desktop.core.models.labels import IMAGENET_GROUPS, imagenet_labels
    from gradflip_desktop.ui.widgets.controls import ControlsPanel

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    labels = imagenet_labels()
    panel.set_model(labels, list(IMAGENET_GROUPS), ["cpu"], "cpu", members=IMAGENET_GROUPS)
    tip = panel.group.itemData(panel.group.findData("cat"), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("any cat: ") and "Egyptian cat" in tip and "lynx" not in tip
    dogs = panel.group.itemData(panel.group.findData("dog"), Qt.ItemDataRole.ToolTipRole)
    assert dogs.endswith(f"and {len(IMAGENET_GROUPS['dog']) - 12} more")


def test_without_members_there_is_no_tooltip(qtbot):
    from gradflip_desktop.ui.widgets.controls import ControlsPanel

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_model(["tabby", "tiger cat", "espresso"], ["cat"], ["cpu"], "cpu")
    assert not panel.group.itemData(0, Qt.ItemDataRole.ToolTipRole)
