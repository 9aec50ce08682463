"""The side panel (ui/widgets/controls.py) on its own: what reaches the run (settings()), what a new model keeps and
drops, Explain/Cancel's states, the progress bar's text and colour, the top-5 and the model picker. Found by a
hand-made mutation audit (2026-12-06): each test fails on a single-point mutation the other tests let through."""

from __future__ import annotations

from collections import namedtuple

import pytest
from PySide6.QtCore import Qt

from gradflip_desktop.ui.settings import TARGET_CLASS, TARGET_GROUP, TARGET_TOP, RunSettings
from gradflip_desktop.ui.widgets.controls import WARNING_BAR, ControlsPanel

pytestmark = pytest.mark.gui

LABELS = ["tabby", "tiger cat", "espresso", "beagle"]
Prediction = namedtuple("Prediction", "index label probability")


@pytest.fixture
def panel(qtbot) -> ControlsPanel:
    p = ControlsPanel()
    qtbot.addWidget(p)
    p.set_model(LABELS, ["cat", "dog"], ["cpu", "cuda"], "cpu")
    return p


def test_explain_and_cancel_follow_the_run_state(panel):
    panel.set_run_state(ready=False, running=False)
    assert (panel.explain_button.isEnabled(), panel.explain_button.text(), panel.cancel_button.isEnabled()) == (
        False, "Explain", False)
    panel.set_run_state(ready=True, running=True)
    assert (panel.explain_button.isEnabled(), panel.explain_button.text(), panel.cancel_button.isEnabled()) == (
        True, "Restart", True)
    panel.set_run_state(ready=True, running=False, stoppable=True)  # RISE computing: Cancel stops it
    assert (panel.explain_button.text(), panel.cancel_button.isEnabled()) == ("Explain", True)
    panel.set_run_state(ready=True, running=True, stoppable=False)
    assert panel.cancel_button.isEnabled() is False


def test_the_progress_bar_shows_steps_a_busy_phase_and_a_failed_run_in_orange(panel):
    panel.show_progress(3, 10, "%v / %m steps")
    assert (panel.progress.value(), panel.progress.maximum(), panel.progress.text()) == (3, 10, "3 / 10 steps")
    panel.show_progress(0, 0, "restoring detail …")  # busy: Qt's own text() is empty then
    assert panel.progress.text() == "restoring detail …"
    panel.show_outcome(40, 60, "no flip in 60 steps", ok=False)
    assert (panel.progress.styleSheet(), panel.progress.property("outcome")) == (WARNING_BAR, "warning")
    panel.show_outcome(60, 60, "flipped", ok=True)
    assert (panel.progress.styleSheet(), panel.progress.property("outcome")) == ("", "")


def test_the_top_classes_show_percentages_and_each_class_index(panel):
    panel.show_predictions([Prediction(281, "tabby", 0.6123), Prediction(282, "tiger cat", 0.0449)])
    table = panel.top5
    assert [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())] == [
        ("tabby", "61.2 %"), ("tiger cat", "4.5 %")]
    assert table.item(1, 0).toolTip() == "class 282: tiger cat"


def test_a_refused_value_names_its_box(panel, qtbot):
    said = []
    panel.message.connect(said.append)
    for box in (panel.coarse, panel.max_steps):  # typed as a user types it ("99" is refused as it is typed: not 64 …)
        box.selectAll()
        qtbot.keyClicks(box, "0")
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert said == ["Coarse-to-fine: '× 0 blocks' is outside 1–64; kept 1",  # as the box shows it
                    f"Step budget: '0' is outside {panel.max_steps.minimum()}–{panel.max_steps.maximum()}; "
                    f"kept {panel.max_steps.value()}"]


def test_reset_restores_the_defaults_keeps_the_device_and_reloads_only_for_a_new_working_size(panel, qtbot):
    reloads = []
    panel.working_size_changed.connect(reloads.append)
    panel.set_settings(RunSettings(target_mode=TARGET_CLASS, target_class="beagle", style="free", epsilon=0.003,
                                   max_steps=77, smoothing=2.5, coarse=4, device="cuda", working_size=512))
    assert reloads == []  # showing stored settings asks for no reload
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert panel.settings() == RunSettings(device="cuda")
    assert reloads == [RunSettings().working_size]
    panel.reset()  # the working size did not change: no reload
    assert reloads == [RunSettings().working_size]


def test_a_working_size_typed_reloads_once_when_the_typing_is_done(panel, qtbot):
    reloads = []
    panel.working_size_changed.connect(reloads.append)
    panel.working_size.lineEdit().selectAll()
    qtbot.keyClicks(panel.working_size.lineEdit(), "512")
    assert reloads == []  # not one reload per digit (5, 51, 512)
    qtbot.keyClick(panel.working_size.lineEdit(), Qt.Key.Key_Return)
    assert reloads == [512]
    panel.working_size.stepBy(1)
    assert reloads == [512, 576]  # steps of 64 px


def test_the_model_picker_adds_a_current_model_not_listed_and_says_which_was_chosen(panel):
    chosen = []
    panel.model_chosen.connect(chosen.append)
    panel.set_model_choices([("efficientnet", "EfficientNet", "the default"), ("resnet18", "ResNet-18", "torchvision")],
                            "/models/net.pth")
    box = panel.model_box
    assert [box.itemData(i) for i in range(box.count())] == ["efficientnet", "resnet18", "/models/net.pth"]
    assert box.currentIndex() == 2
    assert box.itemData(1, Qt.ItemDataRole.ToolTipRole) == "torchvision\nresnet18"
    panel.select_model("efficientnet")
    assert box.currentIndex() == 0
    box.activated.emit(1)
    assert chosen == ["resnet18"]


def test_a_new_model_keeps_the_choices_it_has_and_drops_the_others(panel):
    panel.set_settings(RunSettings(target_mode=TARGET_CLASS, target_class="beagle", group="dog", device="cuda"))
    panel.set_model(LABELS, ["cat", "dog"], ["cpu", "cuda"], "cuda")
    s = panel.settings()
    assert (s.target_class, s.group, s.device) == ("beagle", "dog", "cuda")
    panel.set_model(["class 0", "class 1"], ["odd", "even"], ["cpu"], "cpu")  # other labels, other groups
    s = panel.settings()
    assert (s.target_mode, s.target_class, s.group, s.device) == (TARGET_CLASS, "", "odd", "cpu")


def test_a_model_on_another_device_selects_it(qtbot):
    p = ControlsPanel()
    qtbot.addWidget(p)
    p.set_model(LABELS, ["cat"], ["cpu", "cuda"], "cuda")
    assert p.settings().device == "cuda"


def test_group_members_outside_the_labels_are_left_out_of_the_tooltip(panel):
    panel.set_model(LABELS, ["cat"], ["cpu"], "cpu", members={"cat": [0, 1, 4, -1]})
    assert panel.group.itemData(0, Qt.ItemDataRole.ToolTipRole) == "any cat: tabby, tiger cat"


def test_a_group_of_twelve_lists_them_all(panel):
    labels = [f"c{i}" for i in range(13)]
    panel.set_model(labels, ["twelve", "thirteen"], ["cpu"], "cpu",
                    members={"twelve": list(range(12)), "thirteen": list(range(13))})
    assert panel.group.itemData(0, Qt.ItemDataRole.ToolTipRole) == "any twelve: " + ", ".join(labels[:12])
    assert panel.group.itemData(1, Qt.ItemDataRole.ToolTipRole) == ("any thirteen: " + ", ".join(labels[:12])
                                                                      + " and 1 more")


def test_what_reaches_the_run_is_the_class_without_spaces_and_the_groups_key(panel):
    panel.set_settings(RunSettings(target_mode=TARGET_GROUP, group="dog"))
    assert panel.settings().group == "dog"  # not the entry's title "any dog"
    panel.set_settings(RunSettings(target_mode=TARGET_CLASS))
    panel.target_class.setEditText("  espresso ")
    assert panel.settings().target_class == "espresso"


def test_stored_settings_are_shown_as_they_were_saved(panel):
    stored = RunSettings(target_mode=TARGET_GROUP, group="bird", style="blur", mode="fixed", epsilon=1.5e-5,
                         max_steps=321, smoothing=1.5, coarse=8, device="cuda", working_size=640)
    panel.set_settings(stored)
    assert panel.settings() == stored  # a group this model lacks is kept as "any bird"
    assert panel.group.currentText() == "any bird"
    panel.set_settings(RunSettings())  # the first entry of each box, the cpu
    assert panel.settings() == RunSettings()
    assert (panel.smoothing.text(), panel.coarse.text()) == ("off", "off")  # 0 px, 1 block


def test_a_class_typed_is_cleared_by_settings_without_one(panel):
    panel.set_settings(RunSettings(target_mode=TARGET_CLASS))
    panel.target_class.setEditText("beagle")
    panel.set_settings(RunSettings(target_mode=TARGET_CLASS, target_class=""))
    assert panel.target_class.currentText() == ""


@pytest.mark.parametrize("mode, class_shown, group_shown", [(TARGET_TOP, False, False), (TARGET_CLASS, True, False),
                                                            (TARGET_GROUP, False, True)])
def test_only_the_targets_own_box_is_shown(panel, mode, class_shown, group_shown):
    panel.set_settings(RunSettings(target_mode=mode))
    assert (not panel.target_class.isHidden(), not panel.class_label.isHidden()) == (class_shown, class_shown)
    assert (not panel.group.isHidden(), not panel.group_label.isHidden()) == (group_shown, group_shown)


def test_the_memory_note_follows_the_photo_opened(panel):
    panel.set_settings(RunSettings(working_size=1024))
    assert "a 4:3 photo" in panel.working_size_note.text()
    panel.set_photo_size((1000, 1000))
    assert panel.working_size_note.text().startswith("≈\u00a012\u00a0MB per copy of this photo")
