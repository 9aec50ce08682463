"""The window's own remedies for typed model errors, and which dropped paths open Load Model."""

from __future__ import annotations

import pytest

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.ui.controllers.images import is_model_path
from gradflip_desktop.ui.controllers.models import gui_remedy

pytestmark = pytest.mark.gui


def test_model_setting_errors_get_the_windows_remedy_not_a_flag():
    arch = gui_remedy(ModelSettingError("the weights do not fit resnet34", "architecture", ["resnet18"]))
    assert "File ▸ Load Model…" in arch and "resnet18 fits" in arch and "--" not in arch
    # an ellipsis is not followed by a full stop ("File ▸ Load Model…." in the error box)
    for exc in (ModelSettingError("x", "architecture"), ModelSettingError("wrong input size", "preprocessing")):
        assert gui_remedy(exc).endswith("Load Model…"), gui_remedy(exc)
    assert "input size" in gui_remedy(ModelSettingError("wrong input size", "preprocessing"))
    assert "CPU" in gui_remedy(ModelSettingError("no such device: mps", "device"))
    assert gui_remedy(ModelError("broken file")) == "" and gui_remedy(ValueError("x")) == ""


def test_dropped_model_files_and_hugging_face_folders_go_to_load_model(tmp_path):
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "photos").mkdir()
    assert is_model_path(str(tmp_path / "hf"))
    assert not is_model_path(str(tmp_path / "photos"))
    for name in ("net.pth", "NET.PT", "m.onnx", "w.safetensors"):
        assert is_model_path(str(tmp_path / name)), name
    for name in ("cat.jpg", "cat.png", "notes.txt"):
        assert not is_model_path(str(tmp_path / name)), name


def test_timm_training_checkpoints_open_load_model_and_are_listed(tmp_path):
    """timm's train.py writes model_best.pth.tar (the core loads it): `gradflip model_best.pth.tar`, a drop or a paste
    said "is a ZIP archive, not an image", and the Load Model dialog's filter hid the file."""
    from gradflip_desktop.ui.widgets.model_dialog import MODEL_FILTER

    for name in ("model_best.pth.tar", "last.pth.tar", "CHECKPOINT-9.PTH.TAR"):
        assert is_model_path(str(tmp_path / name)), name
    assert not is_model_path(str(tmp_path / "photos.tar"))  # an archive, not a checkpoint
    assert "*.pth.tar" in MODEL_FILTER.split(";;")[0] and "*.PTH.TAR" in MODEL_FILTER.split(";;")[0]


def test_the_words_before_a_run_follow_the_style_and_the_target(qtbot, window):
    """The sentence and the Adjusted caption before a run were written when the photo was classified: choosing
    Key region, a class to reach or a group afterwards left "find the smallest change that makes it see something
    else" (and "flips this decision" for a chosen class the model already sees, where there is nothing to flip)."""
    c = window.controls
    top = window.models.classification.top[0].label

    def words():
        return window.views.summary.text(), window.views.adjusted.caption.text()

    c.style.setCurrentIndex(c.style.findData("free"))
    assert "the smallest change that makes it see something else" in words()[0]
    c.style.setCurrentIndex(c.style.findData("region"))
    summary, caption = words()
    assert "the regions whose detail the decision depends on" in summary and "removing it there" in caption
    c.target_mode.setCurrentIndex(c.target_mode.findData("class"))
    other = next(c.target_class.itemText(i) for i in range(c.target_class.count()) if c.target_class.itemText(i) != top)
    c.target_class.setCurrentText(other)
    summary, caption = words()
    assert f"makes it see <b>{other}</b>" in summary and "something else" not in summary
    assert caption == f"Explain changes the photo until the model sees {other}."
    c.target_class.setCurrentText(top)
    summary, caption = words()
    assert "nothing to flip" in summary and "flips this decision" not in caption
    c.target_mode.setCurrentIndex(c.target_mode.findData("group"))
    group = c.group.currentText()
    assert f"stop seeing <b>{group}</b>" in words()[0]


def test_load_model_asks_in_the_last_model_folder_or_home_when_it_is_gone(qtbot, window, tmp_path, monkeypatch):
    """A last model folder gone since (an unplugged stick) or never set started Qt's dialog in the working
    directory; it starts at home then, and in the last model folder while it exists."""
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog

    starts = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda parent, title, start, filt: (starts.append(start), ("", ""))[1]))
    window.settings.remove("model/folder")
    window.models.load_dialog()
    window.settings.setValue("model/folder", str(tmp_path / "unplugged"))
    window.models.load_dialog()
    window.settings.setValue("model/folder", str(tmp_path))
    window.models.load_dialog()
    assert starts == [str(Path.home()), str(Path.home()), str(tmp_path)]


def test_a_loads_notes_are_said_after_one_model_label(qtbot, window, tmp_path):
    """The status bar said "Model: architecture resnet18 recognised from the weights. Model: 1000 classes: …", one
    "Model:" per note."""
    from helpers import RUN_TIMEOUT_MS, make_image_file, make_tiny

    from gradflip_desktop.ui.controllers.model_session import ModelInfo

    clf = make_tiny(seed=1)
    window.models.session.classifier = clf  # no engine task holds it between runs
    notes = ["architecture resnet18 recognised from the weights", "1000 classes: assuming ImageNet-1k labels"]
    window.models._on_loaded(ModelInfo(clf.name, list(clf.labels), dict(clf.groups), ["cpu"], "cpu", {},
                                       key=clf.name, warnings=notes))
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(make_image_file(tmp_path / "p.png")))
    text = window.status_label.text()
    assert text.count("Model:") == 1 and f"Model: {notes[0]}; {notes[1]}." in text, text


def test_a_failed_load_shows_the_model_the_engine_kept(qtbot, window):
    """Load A, then B before A reported: A's answer is dropped but A finished loading; when B fails, the window
    said "Still using <the model before A>" while the engine explained with A."""
    from helpers import make_tiny

    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.ui.controllers.model_session import ModelSession, _describe

    kept = ModelSession()
    kept.classifier, kept.source = make_tiny(classes=3, seed=5), "/models/kept.pt"
    exc = ModelError("b.pt is not a model file")
    exc.still_loaded = _describe(kept, 0.0)
    before = window.models.info.key
    window.models._on_load_failed(exc)
    assert before != "/models/kept.pt" and window.models.info.key == "/models/kept.pt"
    assert window.models.info.labels == ["class0", "class1", "class2"]
    assert "Still using tiny." in window.last_error_box.text() and "b.pt is not a model file" in window.last_error_box.text()
    window.last_error_box.close()


def test_a_near_tie_at_the_start_is_said_before_explain(qtbot, window):
    """"The model sees nematode (8.9 %)" while bubble stood at 8.9 % in the table: only the finished answer said
    "a near tie"; any change may flip such a photo, so the words before Explain say it too."""
    import numpy as np

    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.ui.controllers.model_session import Classification

    m = window.models
    window.clear_result()
    tie = [Prediction(3, "nematode", 0.0893), Prediction(7, "bubble", 0.0889), Prediction(1, "jellyfish", 0.05)]
    m.classification = Classification(tie, _probs(tie, 10))
    m.show_hint()
    assert "The model sees <b>nematode</b> (8.93 %, a near tie with <b>bubble</b> at 8.89 %)." in window.views.summary.text()
    clear = [Prediction(3, "nematode", 0.40), Prediction(7, "bubble", 0.30)]
    m.classification = Classification(clear, _probs(clear, 10))
    m.show_hint()
    assert "The model sees <b>nematode</b> (40.0 %). Press" in window.views.summary.text()


def _probs(top, n):
    """The probability vector of a classification whose top classes are ``top`` (the rest share what is left)."""
    import numpy as np

    probs = np.full(n, (1.0 - sum(p.probability for p in top)) / (n - len(top)), np.float32)
    for p in top:
        probs[p.index] = p.probability
    return probs


def test_a_random_weights_model_is_described_before_explain_as_its_answer_will(qtbot, window):
    """A random-weights model: "rose (20.3 %, a near tie with sunflower at 20.2 %)" before Explain, "every class is
    between 19.7 % and 20.3 %: the model hardly tells them apart" after it, for the same photo and model."""
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.ui.controllers.model_session import Classification

    m = window.models
    window.clear_result()
    flat = [Prediction(2, "rose", 0.203), Prediction(4, "sunflower", 0.202), Prediction(0, "daisy", 0.199),
            Prediction(1, "tulip", 0.198)]
    m.classification = Classification(flat, _probs(flat, 5))
    m.show_hint()
    text = window.views.summary.text()
    assert "The model sees <b>rose</b> (20.3 %; every class is between 19.8 % and 20.3 %: the model hardly tells " \
           "them apart on this photo)." in text, text
    assert "near tie" not in text
    # a random 1,000-class model: the top class in the range's two decimals, as the answer says it (it read "0.2 %"
    # beside "between 0.03 % and 0.24 %")
    import numpy as np

    top = [Prediction(7, "cock", 0.0024), Prediction(1, "goldfish", 0.0023)]
    probs = np.full(1000, 0.001, np.float32)
    probs[7], probs[1], probs[0] = 0.0024, 0.0023, 0.0003
    m.classification = Classification(top, probs)
    m.show_hint()
    text = window.views.summary.text()
    assert "<b>cock</b> (0.24 %; every class is between 0.03 % and 0.24 %: the model hardly tells" in text, text


def test_a_near_tie_inside_the_chosen_group_is_not_said_before_a_group_run(qtbot, window):
    """Explaining "any cat" on a photo of tabby 40.0 % beside tiger cat 39.5 %: the words before Explain said "a near
    tie with tiger cat" (any change may flip it), while the group run's answer weighs the cats' sum ("any cat (80 %)")
    and says no near tie: a rival inside the group is none."""
    import numpy as np

    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.ui.controllers.model_session import Classification

    m, c = window.models, window.controls
    window.clear_result()
    m.classification = Classification([Prediction(281, "tabby", 0.400), Prediction(282, "tiger cat", 0.395),
                                       Prediction(1, "goldfish", 0.05)], _probs([Prediction(281, "tabby", 0.400),
                                       Prediction(282, "tiger cat", 0.395), Prediction(1, "goldfish", 0.05)], 1000))
    c.target_mode.setCurrentIndex(c.target_mode.findData("group"))
    c.group.setCurrentIndex(c.group.findData("cat"))
    m.show_hint()
    text = window.views.summary.text()
    assert "near tie" not in text and "any cat" in text, text
    c.target_mode.setCurrentIndex(c.target_mode.findData("top"))
    m.show_hint()
    assert "a near tie with <b>tiger cat</b>" in window.views.summary.text()


def test_the_architecture_remedy_does_not_repeat_the_fitting_architecture():
    # a resnet18 state dict loaded as resnet50 said "… The weights fit resnet18\n\nChoose the architecture in
    # File ▸ Load Model… (resnet18 fits)." (the sentence unfinished, the architecture named twice)
    exc = ModelSettingError("The weights in m.pth do not fit the torchvision architecture resnet50: 165 missing keys"
                            ". The weights fit resnet18", "architecture", ["resnet18"])
    message = str(exc) + gui_remedy(exc)
    assert message.count("resnet18") == 1, message
    assert "resnet18.\n\nChoose the architecture in File ▸ Load Model…" in message, message
    ended = ModelSettingError("The weights do not fit resnet50. Is the architecture right?", "architecture")
    assert not gui_remedy(ended).startswith(".")
    # no torchvision architecture fits (a model of the user's own class): "Choose the architecture in File ▸ Load
    # Model…" right after "the weights fit none of them" sent the user to a list with nothing to pick
    none = ModelSettingError("Cannot tell which architecture m.pth is for (…); the weights fit none of them: a model of "
                             "your own class loads as TorchScript", "architecture")
    assert "Choose the architecture" not in gui_remedy(none) and "timm:NAME" in gui_remedy(none)
    # no torchvision architecture, a timm one named like the file fits: named once, and chosen in the dialog
    timm_fit = ModelSettingError("Cannot tell which architecture vit_tiny_3.safetensors is for (…); the weights fit no "
                                 "torchvision architecture; they fit timm:vit_tiny_patch16_224", "architecture",
                                 ["timm:vit_tiny_patch16_224"])
    message = str(timm_fit) + gui_remedy(timm_fit)
    assert message.count("timm:vit_tiny_patch16_224") == 1, message
    assert message.endswith("they fit timm:vit_tiny_patch16_224.\n\nChoose the architecture in File ▸ Load Model…"), message


def test_a_failed_load_reads_as_sentences_in_the_status_bar(qtbot, window):
    # 4 labels for a 3-class state dict: the status bar (the message's lines joined) read "… has 3 classes Still
    # using EfficientNet-Lite0 (ImageNet)."
    shown = []
    window.error_shown.connect(lambda title, message: shown.append(message))
    window.models._on_load_failed(ModelError("4 labels were given but m.pth has 3 classes"))
    assert shown and "has 3 classes.\n\nStill using" in shown[-1], shown
    assert window.models.info is not None and "Still using" in shown[-1]


def test_the_picker_names_model_files_as_they_loaded_without_a_doubled_suffix(qtbot, window, tmp_path):
    """A loaded file read "resnet18 (3 classes, r18.pth) (file)" (cut to "… 4 classes) (file" in the box) while the
    other files read "r18.pth (file)", and a file's name went back to its file name once another model loaded."""
    import torch
    from helpers import RUN_TIMEOUT_MS, TinyNet

    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.core.models import files as model_files

    specs = []
    for name, seed in (("first", 1), ("second", 2)):
        path = tmp_path / f"{name}.pt"
        torch.jit.save(torch.jit.script(TinyNet(4, seed=seed).eval()), str(path))
        specs.append(model_files.ModelSpec(str(path), "torchscript", labels=list("abcd"),
                                           preprocessing=Preprocessing(input_size=(16, 16))))
    for spec in specs:
        with qtbot.waitSignal(window.model_ready, timeout=RUN_TIMEOUT_MS):
            window.models.load_spec(spec)
    box = window.controls.model_box
    titles = {box.itemData(i): box.itemText(i) for i in range(box.count())}
    assert titles[str(tmp_path / "first.pt")] == "first.pt (TorchScript, 4 classes)"  # as it loaded, once "(file)"-free
    assert titles[str(tmp_path / "second.pt")] == "second.pt (TorchScript, 4 classes)"
    assert not any(t.endswith(") (file)") for t in titles.values()), titles


def test_a_device_change_while_another_model_loads_keeps_that_model(qtbot, window, tmp_path):
    """A device chosen while a newly picked model was still loading reloaded the *previous* model on that
    device: its load took the slot, the picked model's load was dropped, and the window stayed on the old one.
    (Reachable with two devices, e.g. CPU and a GPU; here the loaded model's device is made to differ.)"""
    from dataclasses import replace

    from model_helpers import SmallCNN, script

    w = window
    path = tmp_path / "small.pt"
    script(SmallCNN(channels=3, classes=4, size=32), path)
    w.models.info = replace(w.models.info, device="cuda")  # as if the default model had been loaded on a GPU
    w.models.load(str(path), "cpu")  # the picked model starts loading ...
    with qtbot.waitSignal(w.model_ready, timeout=60_000) as ready:
        w.models.device_changed("cpu")  # ... when the device box changes
    qtbot.wait(500)
    assert ready.args[0].key == str(path) and w.models.info.key == str(path)


def test_picking_the_loaded_model_again_while_another_loads_keeps_it(qtbot, window, tmp_path):
    """Back to the model that is loaded, chosen in the picker while another one was still loading: the choice
    was ignored (the key is the loaded model's), and the other model replaced it when its load finished."""
    from model_helpers import SmallCNN, script

    w = window
    path = tmp_path / "small.pt"
    script(SmallCNN(channels=3, classes=4, size=32), path)
    loaded = w.models.info.key
    w.models.chosen(str(path))  # picked: loading ...
    with qtbot.waitSignal(w.model_ready, timeout=60_000):
        w.models.chosen(loaded)  # ... the user goes back to the loaded one
    qtbot.wait(500)
    assert w.models.info.key == loaded


def test_a_model_loaded_during_a_run_stops_it_and_never_shows_its_result(qtbot, window, tmp_path):
    """Another model picked while a run is under way cancels that run: the old model's result never arrives in
    the window (its classes and numbers would be shown beside the new model's)."""
    from helpers import RUN_TIMEOUT_MS, watch_run
    from model_helpers import SmallCNN, script

    w = window
    path = tmp_path / "small.pt"
    script(SmallCNN(channels=3, classes=4, size=32), path)
    heard, ended = watch_run(w)
    with qtbot.waitSignal(w.model_ready, timeout=60_000):
        w.models.load(str(path), "cpu")
    qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT_MS)  # the old run has ended ...
    qtbot.wait(300)  # ... and anything it sent has been delivered
    assert w.models.info.key == str(path)
    assert w.result is None and not heard and not w.runs.running


def test_a_classification_arriving_under_a_shown_result_keeps_the_results_status(qtbot, window):
    """A tile's explanation opened from the gallery is shown before the photo's classification (queued behind the
    folder run's image) arrives: the status keeps saying what the result found, not "Press Explain"."""
    from helpers import RUN_TIMEOUT_MS, make_tiny, tiny_image_array

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    from gradflip_desktop.ui.settings import RunSettings

    w = window
    w.controls.set_settings(RunSettings(style="free"))  # the result's settings: no "Settings changed" note
    w.runs._show_result(run(make_tiny(), tiny_image_array(), ExplainOptions(style="free")))
    status = w.status_label.text()
    assert status.startswith("Done: ")
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.models.classify(w.image.pixels)
    assert w.status_label.text() == status
