"""The links after the summary (ui/controllers/runs.py ``suggestions``) offer only runs that can find something: a
model whose class scores never change (a constant TorchScript model) was offered "Key region" (or "Textbook change")
after a run that could not take a step, though no style has a key region to find there."""

from __future__ import annotations

from gradflip_desktop.core.viz.difference import KEY_PIXELS

import pytest
import torch
from helpers import RUN_TIMEOUT_MS, make_tiny

from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


class Fixed(torch.nn.Module):
    """The same logits whatever the photo: no gradient at all."""

    def forward(self, x):
        return torch.tensor([[2.0, 0.5, 0.1]]).expand(x.shape[0], 3)


class Flat(torch.nn.Module):
    """The same logits whatever the photo, through the graph: a gradient that is zero everywhere."""

    def forward(self, x):
        return torch.tensor([[2.0, 0.5, 0.1]]) + 0.0 * x.mean(dim=(1, 2, 3)).unsqueeze(1)


class MeanOnly(torch.nn.Module):
    """Logits from the photo's mean colour only: removing detail (a blur, the mean colour) leaves them as they are,
    while a change of any pixel moves them."""

    def forward(self, x):
        m = x.mean(dim=(2, 3))
        return torch.stack([m[:, 0] * 4.0, m[:, 1] * 3.0, m[:, 2] * 2.0], dim=1)


def _constant(net) -> Classifier:
    scripted = torch.jit.script(net)  # as a TorchScript model file loads
    return Classifier(PixelSpaceModel(scripted, Preprocessing(input_size=(8, 8))), ["a", "b", "c"], "constant.pt", {})


def _explain_with(qtbot, w, clf, style):
    from gradflip_desktop.ui.controllers.model_session import ModelInfo

    w.models.session.classifier = clf  # no engine task holds it between runs
    w.models._on_loaded(ModelInfo(clf.name, list(clf.labels), dict(clf.groups), ["cpu"], "cpu", {}, key=clf.name))
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(w.photo))
    w.controls.set_settings(RunSettings(style=style, max_steps=30))
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.explain()
    return w.result, w.views.summary.text()


@pytest.mark.parametrize("net, style", [(Fixed, "free"), (Fixed, "region"), (Flat, "free")])
def test_a_constant_model_is_offered_no_other_run(qtbot, tiny_window, net, style):
    result, summary = _explain_with(qtbot, tiny_window, _constant(net()), style)
    assert not result.steps and result.key_region is None and result.key_pixels is None
    assert "<a " not in summary and "Key&nbsp;region" not in summary and "Textbook" not in summary
    assert "first step" in summary  # the sentence still says why nothing was found


def test_a_model_that_does_change_keeps_its_way_to_the_other_style(qtbot, tiny_window):
    _, summary = _explain_with(qtbot, tiny_window, make_tiny(seed=1), "free")
    assert "href='style:region'" in summary  # the textbook run's one click back to the key region
    # a model that barely goes by detail keeps its link to the textbook change, which can move any pixel
    from gradflip_desktop.core.explain.runner import IGNORES_PIXELS

    result, summary = _explain_with(qtbot, tiny_window, _constant(MeanOnly()), "region")
    assert result.message != IGNORES_PIXELS and "href='style:free'" in summary
    # a zero gradient of the key-region search whose pixels' gradient is zero too: the textbook link stopped at once
    # ("gradient is zero"), after advice to use it; the message says no style can flip it, and no link is offered

    result, summary = _explain_with(qtbot, tiny_window, _constant(Flat()), "region")
    assert str(result.status) == "zero_gradient" and result.message == IGNORES_PIXELS
    assert "href='style:free'" not in summary and "no style can flip it" in summary


def test_a_style_link_is_for_this_photo_only(qtbot, tiny_window, tmp_path):
    """"Textbook change" ran the textbook style and saved it: the next photo, and the next session, started in it."""
    from helpers import make_image_file

    w = tiny_window
    _explain_with(qtbot, w, make_tiny(seed=1), "region")
    assert "href='style:free'" in w.views.summary.text()
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        w.views.summary.linkActivated.emit("style:free")
    assert blocker.args[0].options.style == "free" and w.controls.settings().style == "free"  # the panel says what ran
    assert w.settings.value("run/style") == "region"  # what is saved is the user's choice
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):  # the same photo (96 × 64) at another working size
        w.controls.working_size.setValue(64)  # that scales it: loaded again (whole at both sizes, it would not be)
    assert w.controls.settings().style == "free"
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(make_image_file(tmp_path / "next.png", 64, 48)))
    assert w.controls.settings().style == "region"
    # and the Difference mode names the region style's set again (it read "Key-pixel outline" until the next run)
    box = w.views.mode_box
    assert box.itemText(box.findData(KEY_PIXELS)) == "Key region alone" and w.views.key_set_is_region
    w.views.summary.linkActivated.emit("style:free")
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        pass
    w.close()
    assert w.settings.value("run/style") == "region"


def test_reset_after_a_link_leaves_the_defaults_as_the_users_choice(qtbot, tiny_window):
    w = tiny_window
    _explain_with(qtbot, w, make_tiny(seed=1), "free")
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.views.summary.linkActivated.emit("style:region")  # the link: for this photo only, "free" is saved
    assert w.runs.one_off.to_save(w.controls.settings()).style == "free"
    w.controls.reset_button.click()  # the defaults (the key-region style, as the link chose) are the user's now
    assert w.controls.settings().style == "region" and w.runs.one_off.to_save(w.controls.settings()).style == "region"
