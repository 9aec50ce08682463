"""Model picker, the Load model dialog (your own classifier), device changes and the comparison panel."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog
from torch import nn

from gradflip_desktop.ui.main_window import MainWindow
from gradflip_desktop.ui.widgets.model_dialog import MODEL_FILTER, TORCHSCRIPT_WARNING, LoadModelDialog, parse_groups
from gradflip_desktop.ui.settings import RunSettings

from helpers import RUN_TIMEOUT_MS

pytestmark = pytest.mark.gui

DEFAULT_NAME = "EfficientNet-Lite0 (ImageNet)"
FRUIT = ["apple", "banana", "cherry"]


class TinyCNN(nn.Module):
    """3 -> 6 conv, ReLU, global average pool, 3 logits; seeded weights."""

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.7)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


@pytest.fixture
def torchscript_model(tmp_path):
    path = tmp_path / "fruit.pt"
    torch.jit.save(torch.jit.script(TinyCNN().eval()), str(path))
    labels = tmp_path / "fruit.txt"
    labels.write_text("\n".join(FRUIT) + "\n", encoding="utf-8")
    return path, labels


@pytest.fixture(scope="module")
def resnet_state_dict(tmp_path_factory):
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=3)
    path = tmp_path_factory.mktemp("models") / "my_resnet.pth"
    torch.save(net.state_dict(), path)
    return path


def open_dialog(qtbot, window, path) -> LoadModelDialog:
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as blocker:
        window.open_model_file(str(path))
    dlg = blocker.args[0]
    assert dlg.isVisible()
    return dlg


def fill_fruit(dlg: LoadModelDialog, labels) -> None:
    dlg.labels_edit.setText(str(labels))
    dlg.height_box.setValue(32)
    dlg.width_box.setValue(32)
    dlg.mean_edit.setText("0.5, 0.5, 0.5")
    dlg.std_edit.setText("0.25")
    dlg.groups_edit.setText("sweet: 1-2")
    dlg.name_edit.setText("Fruit net")


def test_picker_lists_the_default_model(window):
    c = window.controls
    assert c.model_box.count() >= 1
    assert c.model_box.currentText() == DEFAULT_NAME
    assert c.model_box.currentData() == window.model_info.key == "efficientnet-lite0"
    assert window.load_model_action.shortcut().toString() == "Ctrl+M"
    assert "*.pth" in MODEL_FILTER and "*.PT" in MODEL_FILTER and "*.onnx" in MODEL_FILTER and "*.ONNX" in MODEL_FILTER
    assert parse_groups("odd: 1,3; small: 0-2") == {"odd": [1, 3], "small": [0, 1, 2]}
    with pytest.raises(ValueError, match="name: indices"):
        parse_groups("1,3")


def test_a_typo_in_the_class_groups_is_named_in_words():
    # the Load Model dialog showed "class group 'odd': invalid literal for int() with base 10: 'x'"
    with pytest.raises(ValueError, match=r"class group 'odd': '1,3,x' is not a list of class indices") as bad:
        parse_groups("odd: 1,3,x; big: 0-9")
    assert "int()" not in str(bad.value)
    with pytest.raises(ValueError, match="runs backwards"):
        parse_groups("odd: 5-3")


def test_load_torchscript_model_through_the_dialog(qtbot, window, torchscript_model, monkeypatch):
    path, labels = torchscript_model
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), MODEL_FILTER)))
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as blocker:
        window.load_model_action.trigger()  # File ▸ Load Model… → file dialog → inspection → settings dialog
    dlg = blocker.args[0]
    assert dlg.format == "torchscript"
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    # TorchScript runs code from the file: a clear warning, and Load only after the user agrees
    assert not dlg.trust_label.isHidden() and "runs code stored in the file" in dlg.trust_label.text()
    assert dlg.trust_label.text() == TORCHSCRIPT_WARNING
    assert not ok.isEnabled()
    assert dlg.arch_box.isHidden()  # no architecture for TorchScript
    fill_fruit(dlg, labels)
    dlg.mean_edit.setText("half")  # a wrong field keeps the dialog open with a message
    dlg.trust_box.setChecked(True)
    assert ok.isEnabled()
    dlg.accept()
    assert dlg.result_spec is None and "mean" in dlg.error_label.text() and not dlg.error_label.isHidden()
    dlg.mean_edit.setText("0.5, 0.5, 0.5")
    with qtbot.waitSignal(window.model_ready, timeout=RUN_TIMEOUT_MS) as ready:
        with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS) as classified:
            dlg.accept()  # the dialog's OK
    info = ready.args[0]
    assert info.name == "Fruit net" and info.labels == FRUIT
    assert "Fruit net" in window.controls.model_label.text()
    assert window.controls.model_box.currentData() == str(path)
    assert window.controls.model_box.currentText() == "Fruit net (file)"  # the name given, not "fruit.pt (file)"
    assert any("runs code stored in the file" in w for w in info.warnings)
    # the top-k table shows the new model's labels (3 classes); target and groups follow the model
    shown = window.controls.top5.labels()
    assert sorted(shown) == FRUIT and [p.label for p in classified.args[0]] == shown
    assert window.controls.target_class.count() == 3
    assert [window.controls.group.itemData(i) for i in range(window.controls.group.count())] == ["sweet"]
    # the sidecar was written: the next load needs no questions
    side = path.with_name("fruit.gradflip.json")
    data = json.loads(side.read_text(encoding="utf-8"))
    assert data["format"] == "torchscript" and data["name"] == "Fruit net"
    assert data["preprocessing"]["input_size"] == [32, 32] and data["preprocessing"]["std"] == [0.25]
    assert data["labels_file"] == "fruit.txt" and data["groups"] == {"sweet": [1, 2]}
    # an explanation runs to the end on the new model
    window.controls.set_settings(RunSettings(style="free"))  # the textbook style flips this tiny model
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        window.explain()
    result = done.args[0]
    assert result.model_name == "Fruit net" and result.labels == FRUIT
    assert result.flipped and result.final.label in FRUIT and result.final.label != result.original.label
    assert result.final.label in window.views.adjusted.caption.text()
    # the comparison panel: Grad-CAM cannot hook a TorchScript model and says so; saliency works
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS) as cmp:
        window.compare_action.trigger()
    panels = {p.title: p for p in cmp.args[0].panels}
    assert panels["Grad-CAM"].rgb is None and "TorchScript" in panels["Grad-CAM"].caption
    assert "not available" in window.compare.panel("Grad-CAM").caption.text()
    assert panels["Gradient saliency"].rgb.shape == result.original_pixels.shape
    # the picker lists the file: choosing the default model again reloads it
    assert window.controls.model_box.findData(str(path)) >= 0
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.controls.model_chosen.emit("efficientnet-lite0")
    assert window.model_info.name == DEFAULT_NAME and len(window.controls.top5.labels()) == 5
    assert window.result is None and window.views.adjusted.image() is None  # the old result is gone


def test_sidecar_is_used_and_a_write_failure_is_not_fatal(qtbot, window, torchscript_model, monkeypatch):
    path, labels = torchscript_model
    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.core.models import files as model_files

    def refuse(spec, path=None):
        raise ModelError("cannot write the model settings: read-only folder")

    monkeypatch.setattr(model_files, "write_sidecar", refuse)
    dlg = open_dialog(qtbot, window, path)
    fill_fruit(dlg, labels)
    dlg.trust_box.setChecked(True)
    with qtbot.waitSignal(window.model_ready, timeout=RUN_TIMEOUT_MS) as ready:
        dlg.accept()
    assert ready.args[0].labels == FRUIT
    assert "not saved" in window.models.sidecar_note and "read-only" in window.models.sidecar_note
    assert not path.with_name("fruit.gradflip.json").exists()
    monkeypatch.undo()
    # with a sidecar, the dialog is pre-filled from it
    model_files.write_sidecar(model_files.ModelSpec(str(path), "torchscript", labels_path=str(labels), name="Fruit",
                                                    groups={"sweet": [1, 2]},
                                                    preprocessing=Preprocessing(input_size=(32, 32))))
    dlg2 = open_dialog(qtbot, window, path)
    assert dlg2.name_edit.text() == "Fruit" and dlg2.height_box.value() == 32
    assert dlg2.labels_edit.text() == str(labels) and dlg2.groups_edit.text() == "sweet: 1-2"
    dlg2.reject()


def test_state_dict_with_architecture_and_a_broken_model(qtbot, window, resnet_state_dict, tmp_path):
    # a state dict whose architecture is unknown: the dialog asks for it (torchvision's list)
    dlg = open_dialog(qtbot, window, resnet_state_dict)
    assert dlg.format == "state_dict" and not dlg.arch_box.isHidden()
    assert dlg.info.needs_arch and dlg.arch_box.findData("resnet18") >= 0
    assert dlg.trust_label.isHidden()
    # the wrong architecture: an error, and the previous model stays
    dlg.arch_box.setCurrentIndex(dlg.arch_box.findData("resnet34"))
    failures = []
    window.model_failed.connect(failures.append)
    with qtbot.waitSignals([window.model_failed, window.classified], timeout=RUN_TIMEOUT_MS):
        dlg.accept()  # the image is classified again, by the model that stayed
    assert len(failures) == 1 and "resnet34" in failures[0] and "fit resnet18" in failures[0]
    # a model that did not load leaves nothing behind: no sidecar with the wrong settings, no picker entry
    assert not resnet_state_dict.with_name("my_resnet.gradflip.json").exists()
    assert window.controls.model_box.findData(str(resnet_state_dict)) < 0
    assert str(resnet_state_dict) not in window.models.model_files()
    assert window.last_error_box.isVisible() and "Still using" in window.last_error_box.text()
    window.last_error_box.close()
    assert window.model_info.name == DEFAULT_NAME
    assert DEFAULT_NAME in window.controls.model_label.text()
    assert window.controls.model_box.currentData() == "efficientnet-lite0"
    assert window.explain_action.isEnabled()
    # the right one loads, with generic labels (no labels file) and the input size chosen
    dlg = open_dialog(qtbot, window, resnet_state_dict)
    assert dlg.arch_box.currentText() == "resnet34"  # pre-filled from the failed attempt (kept in memory, not on disk)
    dlg.arch_box.setCurrentIndex(dlg.arch_box.findData("resnet18"))
    dlg.height_box.setValue(64)
    dlg.width_box.setValue(64)
    with qtbot.waitSignals([window.model_ready, window.classified], timeout=RUN_TIMEOUT_MS):
        dlg.accept()
    assert window.model_error is None, window.model_error
    assert window.model_info.name.startswith("resnet18") and window.model_info.labels == ["class 0", "class 1", "class 2"]
    assert sorted(window.controls.top5.labels()) == ["class 0", "class 1", "class 2"]
    name = window.model_info.name
    # a file that is no model at all: an error, the model stays
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"definitely not a model")
    with qtbot.waitSignal(window.error_shown, timeout=30_000) as err:
        window.open_model_file(str(broken))
    assert "broken.pth" in err.args[1]
    assert window.model_info.name == name


def test_model_change_while_running_cancels_cleanly(qtbot, qtlog, settings, torchscript_model):
    path, labels = torchscript_model
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.start()
    w.controls.set_settings(RunSettings(mode="fixed", epsilon=0.00001, max_steps=5000))
    w.explain()
    first = w.runs.task
    with qtbot.waitSignal(w.run_progress, timeout=RUN_TIMEOUT_MS):
        pass
    assert w.running
    late = []
    w.run_cancelled.connect(late.append)
    w.run_finished.connect(late.append)
    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.core.models.files import ModelSpec

    spec = ModelSpec(str(path), "torchscript", labels_path=str(labels), preprocessing=Preprocessing(input_size=(32, 32)))
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.load_model_spec(spec)
        assert not w.running and first.cancelled
        assert not w.explain_action.isEnabled()  # while the model loads
        assert w.status_label.text().endswith("(the run was cancelled)")  # "Cancelled the run …" was never seen
    assert sorted(w.controls.top5.labels()) == FRUIT
    assert late == []  # the cancelled run's last signals are ignored
    assert w.result is None and w.plot.point_count() == 0
    assert w.explain_action.isEnabled()
    w.close()
    assert w.engine.thread.isFinished() and w.background.thread.isFinished()
    messages = [r.message for r in qtlog.records]
    assert not any("QThread" in m and "Destroyed" in m for m in messages), messages


def test_device_change_to_a_missing_device_keeps_the_model(qtbot, window):
    c = window.controls
    c.device.addItem("mps", "mps")  # never available on this machine (Linux)
    c.device.setCurrentIndex(c.device.findData("mps"))
    with qtbot.waitSignal(window.model_failed, timeout=RUN_TIMEOUT_MS) as failed:
        c.device_changed.emit("mps")
    assert "mps" in failed.args[0].lower()
    assert window.model_info.name == DEFAULT_NAME and window.model_info.device == "cpu"
    assert c.device.currentData() == "cpu"
    window.last_error_box.close()


def test_compare_methods_panel(qtbot, window):
    assert not window.compare_action.isChecked() and window.compare.isHidden()  # off by default
    window.controls.set_settings(RunSettings(style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        window.explain()
    result = done.args[0]
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS) as cmp:
        window.compare_action.trigger()
    assert window.compare.isVisible()
    comparison = cmp.args[0]
    assert comparison.target == result.original.index
    assert [p.title for p in comparison.panels] == ["GradFlip", "Grad-CAM", "Gradient saliency"]
    for p in comparison.panels:
        assert p.rgb is not None and p.rgb.shape == result.original_pixels.shape and p.rgb.dtype == np.uint8
        assert window.compare.panel(p.title).image().shape == p.rgb.shape
    panels = {p.title: p for p in comparison.panels}
    assert "net._bn1" in panels["Grad-CAM"].caption and "Egyptian cat" in panels["Grad-CAM"].caption
    assert "Egyptian cat" in window.compare.heading.text()
    # the maps are the core's, for the explained class
    from gradflip_desktop.core.attributions import gradcam_map, saliency_map

    clf = window.models.classifier
    np.testing.assert_allclose(panels["Grad-CAM"].values, gradcam_map(clf, result.original_pixels, result.original.index), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(panels["Gradient saliency"].values, saliency_map(clf, result.original_pixels, result.original.index), rtol=1e-4, atol=1e-9)
    # different methods, different maps
    assert not np.array_equal(panels["Grad-CAM"].rgb, panels["Gradient saliency"].rgb)
    # then how faithful each map is on this photo: the core's deletion and insertion check of the three maps
    if not comparison.check:
        with qtbot.waitSignal(window.faithfulness_shown, timeout=RUN_TIMEOUT_MS) as checked:
            pass
        comparison = checked.args[0]
    check = comparison.check
    assert check is not None and [c.name for c in check.curves] == ["GradFlip", "Grad-CAM", "Gradient saliency"]
    assert check.explained == "Egyptian cat" and check.fill == "blur"
    shown = window.compare.check.text()
    assert check.verdict() in shown and "Deletion ↓ / insertion ↑ area (under each curve: lower / higher is better)" in shown
    for c in check.curves:
        assert f"{c.deletion_auc:.3f}" in shown and f"{c.insertion_auc:.3f}" in shown
        assert 0.0 <= c.deletion_auc <= 1.0 and 0.0 <= c.insertion_auc <= 1.0
    from gradflip_desktop.core.faithfulness import check_maps

    again = check_maps(clf, result.original_pixels, {"Grad-CAM": panels["Grad-CAM"].values}, result.explained, points=5)
    assert again.curves[0].deletion[0] == pytest.approx(check.curve("Grad-CAM").deletion[0], abs=1e-5)
    # remembered; hiding it again is instant
    assert str(window.settings.value("view/compare")).lower() == "true"
    window.compare_action.trigger()
    assert window.compare.isHidden()


def test_compare_caption_gives_the_same_l2_as_the_difference_caption(tiny, tiny_image):
    # the Difference caption shows the saved change's L2; the GradFlip compare panel must not show another one
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.controllers.difference import compare_task
    from gradflip_desktop.ui.controllers.model_session import ModelSession

    result = run(tiny, tiny_image, ExplainOptions(style="blur"))
    assert f"{result.l2:.3f}" != f"{result.l2_saved:.3f}"  # 8-bit rounding changes the size (as 22.779 -> 22.790)
    gen = compare_task(None, ModelSession(), result, result.original.index)  # no model: GradFlip panel only
    with pytest.raises(StopIteration) as stop:  # nothing to check without the model: the comparison, no partial
        next(gen)
    comparison = stop.value.value
    assert comparison.check is None and "no longer loaded" in comparison.check_note
    caption = comparison.panels[0].caption
    assert f"L2 {result.l2_saved:.3f})" in caption and f"L2 {result.l2:.3f}" not in caption
    assert caption.startswith("where the flipping change concentrates (" if result.flipped
                              else "where the change concentrates, though it did not flip (")
    region = run(tiny, tiny_image, ExplainOptions())  # the default: a key-region run's map says what it ranks
    assert region.region_map is not None
    with pytest.raises(StopIteration) as stop:
        next(compare_task(None, ModelSession(), region, region.original.index))
    assert stop.value.value.panels[0].caption == (
        f"how much each part mattered (importance map; the saved change's L2 {region.l2_saved:.3f})")


def test_a_grad_cam_map_of_nan_fails_its_panel_not_the_whole_check(tiny, tiny_image, monkeypatch):
    """check_maps refuses a map with NaN: one such Grad-CAM map (a model with a NaN in its last block) took the
    deletion and insertion check of every map on the photo with it; its panel now says why and the rest is measured."""
    import types

    from gradflip_desktop.core import attributions
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.controllers.difference import compare_task
    from gradflip_desktop.ui.controllers.model_session import ModelSession

    result = run(tiny, tiny_image, ExplainOptions(style="free"))
    real = attributions._as_grid  # the layer's activations and gradients as Grad-CAM reads them: NaN
    monkeypatch.setattr(attributions, "_as_grid", lambda *a, **k: real(*a, **k) * np.nan)
    session = ModelSession()
    session.classifier = tiny
    gen = compare_task(types.SimpleNamespace(cancelled=False), session, result, result.original.index)
    with pytest.raises(StopIteration) as stop:
        while True:
            next(gen)
    comparison = stop.value.value
    cam = [p for p in comparison.panels if p.title == "Grad-CAM"][0]
    assert cam.values is None and "Grad-CAM map holds values that are not finite" in cam.caption
    assert comparison.check is not None and not comparison.check_note
    measured = {c.name for c in comparison.check.curves}
    assert measured == {p.title for p in comparison.panels if p.values is not None} and len(measured) == 2
    assert "Grad-CAM" not in measured and "Gradient saliency" in measured


def test_a_run_that_did_not_flip_is_not_said_to_have_a_flipping_change(tiny, tiny_image):
    # a budget-exhausted textbook run's panel read "where the flipping change concentrates"
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.controllers.difference import compare_task
    from gradflip_desktop.ui.controllers.model_session import ModelSession

    result = run(tiny, tiny_image, ExplainOptions(style="free", max_steps=1, mode="fixed", epsilon=1e-6))
    assert not result.flipped and result.steps
    with pytest.raises(StopIteration) as stop:
        next(compare_task(None, ModelSession(), result, result.original.index))
    assert stop.value.value.panels[0].caption.startswith("where the change concentrates, though it did not flip (")
    from dataclasses import replace

    from gradflip_desktop.core.options import Status

    flipped = run(tiny, tiny_image, ExplainOptions(style="free"))
    stopped = replace(flipped, status=Status.CANCELLED)  # cancelled after its flip: it did flip
    assert not stopped.flipped and stopped.flip_step is not None
    with pytest.raises(StopIteration) as stop:
        next(compare_task(None, ModelSession(), stopped, stopped.original.index))
    assert stop.value.value.panels[0].caption.startswith("where the flipping change concentrates (")


def test_a_run_that_changed_nothing_has_no_gradflip_map_in_the_comparison(tiny, tiny_image):
    """A run that took no step showed a dark GradFlip panel "where the flipping change concentrates (…, L2 0.000)"."""
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.summary import no_change_reason
    from gradflip_desktop.ui.controllers.difference import compare_task
    from gradflip_desktop.ui.controllers.model_session import ModelSession

    top = run(tiny, tiny_image, ExplainOptions(max_steps=1)).original
    result = run(tiny, tiny_image, ExplainOptions(target=top.index))  # the target is on top already: nothing to flip
    why = no_change_reason(result)
    assert why and not result.steps
    with pytest.raises(StopIteration) as stop:
        next(compare_task(None, ModelSession(), result, result.original.index))
    gradflip = stop.value.value.panels[0]
    assert gradflip.rgb is None and gradflip.caption == f"no map: {why}" and "L2" not in gradflip.caption


def test_the_comparisons_check_counts_the_maps_measured_and_equals_one_check_of_all(tiny, tiny_image, qtbot):
    """At the 1,024 px working size the check takes tens of seconds (one image per model call); the line above the
    maps said only "Measuring …". It is measured map by map, the count shown between maps, and the numbers are those
    of one check of all the maps together."""
    import types

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.faithfulness import check_maps
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.controllers.difference import compare_task
    from gradflip_desktop.ui.controllers.model_session import ModelSession
    from gradflip_desktop.ui.widgets.compare import CompareViews

    result = run(tiny, tiny_image, ExplainOptions(style="free"))
    assert result.flipped
    session = ModelSession()
    session.classifier = tiny
    gen = compare_task(types.SimpleNamespace(cancelled=False), session, result, result.original.index)
    views = CompareViews()
    qtbot.addWidget(views)
    lines, counts = [], []
    try:
        while True:
            comparison = next(gen)
            counts.append(comparison.measured)
            views.show_comparison(comparison, "class")
            lines.append(views.check.text())
    except StopIteration as end:
        comparison = end.value
    titles = [p.title for p in comparison.panels if p.values is not None]
    assert len(titles) == 3
    assert counts == ["", "1 of 3 maps", "2 of 3 maps"] and comparison.measured == ""
    assert lines[0].endswith("bring it back …") and lines[-1].endswith("bring it back … (2 of 3 maps done)")
    together = check_maps(tiny, result.original_pixels, {p.title: p.values for p in comparison.panels
                                                         if p.values is not None}, list(result.explained))
    assert comparison.check.fill == together.fill and comparison.check.explained == together.explained
    assert [c.name for c in comparison.check.curves] == titles
    for a, b in zip(comparison.check.curves, together.curves):
        assert a.deletion == b.deletion and a.insertion == b.insertion


def test_the_comparisons_heading_counts_the_maps_it_shows(qtbot):
    # (a group run's maps all explain the group: tests/ui/controllers/test_comparison.py)
    import types

    from gradflip_desktop.ui.widgets.compare import CompareViews

    views = CompareViews()
    qtbot.addWidget(views)
    import numpy as np

    from gradflip_desktop.ui.controllers.comparison import ComparePanel

    rgb = np.zeros((4, 4, 3), np.uint8)
    three = [ComparePanel(t, rgb, "") for t in ("GradFlip", "Grad-CAM", "Gradient saliency")]
    views.show_comparison(types.SimpleNamespace(panels=three), "Egyptian cat")  # one class: one name for all three
    assert views.heading.text().startswith("Three explanations of <b>Egyptian cat</b>")
    # Grad-CAM unavailable (a TorchScript model) and RISE not run: it said "Three explanations" over two maps
    two = [three[0], ComparePanel("Grad-CAM", None, "cannot hook"), three[2], ComparePanel("RISE", None, "not checked")]
    views.show_comparison(types.SimpleNamespace(panels=two), "Egyptian cat")
    assert views.heading.text().startswith("Two explanations of <b>Egyptian cat</b>")


def test_the_check_line_of_a_single_map_is_a_sentence(qtbot):
    """Grad-CAM and saliency both unavailable (a model they cannot hook or differentiate): only GradFlip's map is
    measured, there is no verdict, and the line read "On this photo, . Deletion ↓ / insertion ↑: …"."""
    from gradflip_desktop.core.faithfulness import Curve, FaithfulnessCheck
    from gradflip_desktop.ui.widgets.compare import CompareViews

    views = CompareViews()
    qtbot.addWidget(views)
    views.show_check(FaithfulnessCheck("blur", "tabby", (Curve("GradFlip", (0.0, 1.0), (0.9, 0.1), (0.1, 0.9)),)))
    assert "On this photo, ." not in views.check.text()
    assert views.check.text().startswith("On this photo: deletion ↓ / insertion ↑ area (under each curve: lower / higher is better): GradFlip")


def test_hiding_compare_methods_stops_its_check_on_the_engine_thread(qtbot, window):
    """The deletion/insertion check runs on the engine thread for seconds (6 s at 451×300, 10 s at 1024 px with
    the default model on one CPU thread); hidden, nobody sees it, but key-pixel answers and model tasks queued
    behind it on the same thread waited for it to finish."""
    window.controls.set_settings(RunSettings(style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS):
        window.compare_action.trigger()
    task = window.difference._compare.task
    window.compare_action.trigger()  # hidden while its check may still run
    assert window.compare.isHidden()
    assert task is None or task.cancelled


def test_the_key_set_slider_is_answered_before_the_comparisons_check(qtbot, window):
    """The comparison's deletion/insertion check holds the engine thread for seconds; a key-set slider answer
    queued behind it. The check gives way (the slider is answered first) and is made again after it."""
    window.controls.set_settings(RunSettings(style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        window.explain()
    result = done.args[0]
    order = []
    window.key_answer_shown.connect(lambda a: order.append("key"))
    window.faithfulness_shown.connect(lambda c: order.append(("check", c.check is not None)))
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS):
        window.compare_action.trigger()
    assert order == []  # the maps are shown, the check is being measured
    with qtbot.waitSignal(window.key_answer_shown, timeout=RUN_TIMEOUT_MS):
        window.difference.key_count_changed(max(1, result.key_pixels.count // 2))
    with qtbot.waitSignal(window.faithfulness_shown, timeout=RUN_TIMEOUT_MS):
        pass
    assert order == ["key", ("check", True)]


def test_a_dialog_load_saves_the_preprocessing_the_model_loaded_with(qtbot, window, resnet_state_dict, tmp_path):
    """Loaded with the dialog's pre-filled settings unchanged, the sidecar held no preprocessing, so every command-line
    use warned "no preprocessing settings … assuming 224×224"; it saves what the model loaded with."""
    import shutil

    from gradflip_desktop.core.models import files as model_files
    from gradflip_desktop.core.models import load_classifier

    path = tmp_path / "r18_3cls.pth"
    shutil.copy(resnet_state_dict, path)
    spec = model_files.ModelSpec(str(path), "state_dict", arch="resnet18")
    assert spec.preprocessing is None
    with qtbot.waitSignal(window.model_ready, timeout=RUN_TIMEOUT_MS) as ready:
        window.models.load_spec(spec)
    assert "settings saved to r18_3cls.gradflip.json" in window.models.sidecar_note
    data = json.loads(path.with_name("r18_3cls.gradflip.json").read_text(encoding="utf-8"))
    assert data["preprocessing"]["input_size"] == list(ready.args[0].preprocessing.input_size)
    again = load_classifier(str(path))  # as the command line loads it: the sidecar's settings, no assumption
    assert not any("no preprocessing settings" in w for w in again.warnings), again.warnings
    assert again.preprocessing == ready.args[0].preprocessing


def test_a_whole_pickled_model_is_refused_before_the_load_dialog_opens(qtbot, window, tmp_path, monkeypatch):
    """It opened the dialog pre-filled as "State dict" and was refused only after Load."""
    from model_helpers import SmallCNN

    path = tmp_path / "whole.pt"
    torch.save(SmallCNN(), path)
    shown, errors = [], []
    window.model_dialog_shown.connect(shown.append)
    monkeypatch.setattr(window, "show_error", lambda title, message, *a, **k: errors.append((title, message)))
    with qtbot.waitSignal(window.model_failed, timeout=30_000) as failed:
        window.open_model_file(str(path))
    assert "whole.pt holds a whole pickled model" in failed.args[0] and not shown
    assert errors and errors[0][0] == "The model could not be loaded" and "torch.save(model.state_dict()" in errors[0][1]
    assert errors[0][1].endswith(f"\n\nStill using {window.model_info.name}.")  # as a failed load's dialog says it


def test_the_sidecar_pins_only_the_preprocessing_the_load_assumed(qtbot, window, tmp_path):
    """A load whose preprocessing came from the file (torchvision weights found from the tensors, a timm checkpoint's
    pretrained config) wrote it into the sidecar too, which then overrides the file when it is replaced or retrained
    (the warning this was made for is only given when the load assumed the preprocessing)."""
    import dataclasses

    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.core.models import files as model_files

    models = window.models
    path = tmp_path / "net.pth"
    side = path.with_name("net.gradflip.json")
    for warnings, pinned in (([], False), (["no preprocessing settings for net.pth: assuming 224×224 input"], True)):
        models.info = dataclasses.replace(models.info, preprocessing=Preprocessing(input_size=(299, 299)),
                                          warnings=warnings)
        models._pending_spec = model_files.ModelSpec(str(path), "state_dict", arch="resnet18")
        assert "settings saved to net.gradflip.json" in models._save_loaded_spec()


def test_a_grad_cam_map_that_is_zero_everywhere_is_said_and_not_checked(tiny, tiny_image, monkeypatch):
    """A timm ResNet-18's Grad-CAM of the cat was 0 everywhere (ReLU of negative evidence): a plain grey panel
    with an ordinary caption, and still scored (0.104 / 0.104) beside the other maps."""
    import types

    from gradflip_desktop.core import attributions
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.controllers.difference import compare_task
    from gradflip_desktop.ui.controllers.model_session import ModelSession

    result = run(tiny, tiny_image, ExplainOptions(style="free"))
    session = ModelSession()
    session.classifier = tiny
    monkeypatch.setattr(attributions, "gradcam_map", lambda clf, pixels, target: np.zeros(pixels.shape[:2], np.float32))
    gen = compare_task(types.SimpleNamespace(cancelled=False), session, result, result.original.index)
    try:
        while True:
            next(gen)
    except StopIteration as end:
        comparison = end.value
    cam = next(p for p in comparison.panels if p.title == "Grad-CAM")
    assert cam.values is None and "zero everywhere" in cam.caption and "not checked" in cam.caption
    assert "Grad-CAM" not in [c.name for c in comparison.check.curves]
    assert [c.name for c in comparison.check.curves] == ["GradFlip", "Gradient saliency"]


def test_the_comparison_bolds_every_area_that_prints_as_the_best(qtbot):
    """Grad-CAM 0.020 was bold and GradFlip 0.020 not (0.0203 against 0.0196, a 5e-4 tolerance), under a verdict
    crowning GradFlip: now areas that print alike tie, in bold and in words."""
    from gradflip_desktop.core.faithfulness import Curve, FaithfulnessCheck
    from gradflip_desktop.ui.widgets.compare import CompareViews

    views = CompareViews()
    qtbot.addWidget(views)
    f = (0.0, 1.0)
    check = FaithfulnessCheck("blur", "bell cote", (Curve("GradFlip", f, (0.0196, 0.0196), (0.40, 0.40)),
                                                    Curve("Grad-CAM", f, (0.0203, 0.0203), (0.30, 0.30))))
    views.show_check(check)
    text = views.check.text()
    assert "GradFlip <b>0.020</b> / <b>0.400</b>" in text and "Grad-CAM <b>0.020</b> / 0.300" in text
    assert "GradFlip and Grad-CAM tie on deletion" in text


def test_a_group_runs_comparison_is_of_the_group_from_its_first_heading(qtbot, window):
    """After "Explain 'any cat'" the tab said "Computing Grad-CAM and gradient saliency of Egyptian cat …" and then
    showed GradFlip's map of the group beside the peers' of the top class; every map and heading now name the group."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.ui.settings import RunSettings

    window.set_compare_visible(True)
    window.controls.set_settings(RunSettings(target_mode="group", group="cat", style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        window.explain()
    assert len(done.args[0].explained) > 1 and window.view_tabs.currentWidget() is window.views
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS) as shown:
        window.view_tabs.setCurrentWidget(window.compare)
        computing = window.compare.heading.text()
    assert computing == "Computing Grad-CAM and gradient saliency of <b>any cat</b> …"
    assert window.compare.heading.text().startswith("Three explanations of <b>any cat</b>")
    captions = {p.title: p.caption for p in shown.args[0].panels}
    assert captions["Grad-CAM"].startswith("of <b>any cat</b>") and "of <b>any cat</b>" in captions["Gradient saliency"]
