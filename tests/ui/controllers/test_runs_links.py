"""The links after the summary (ui/controllers/runs.py ``suggestions``) offer only runs that can find something: a
model whose class scores never change (a constant TorchScript model) was offered "Key region" (or "Textbook change")
after a run that could not take a step, though no style has a key region to find there."""

from __future__ import annotations

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
    # a zero gradient of the key-region search is the mask's: the textbook change can still move any pixel
    result, summary = _explain_with(qtbot, tiny_window, _constant(Flat()), "region")
    assert str(result.status) == "zero_gradient" and "href='style:free'" in summary
