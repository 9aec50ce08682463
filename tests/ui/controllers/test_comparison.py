"""The Compare Methods task (ui/controllers/comparison.py) without a window."""

from __future__ import annotations

import pytest
from helpers import make_tiny, tiny_image_array

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.ui.controllers.comparison import compare_task
from gradflip_desktop.ui.controllers.model_session import ModelSession

pytestmark = pytest.mark.gui


def test_a_result_of_another_model_gets_no_maps_of_the_loaded_one():
    """A comparison asked for while another model loaded runs after that load: Grad-CAM and saliency of the loaded
    model were drawn for a result (and classes) of the previous one. The panels say why they are empty."""
    result = run(make_tiny(), tiny_image_array(), ExplainOptions(style="free"))
    session = ModelSession()
    session.classifier = make_tiny(classes=5, seed=3)  # another model, other classes
    gen = compare_task(None, session, result, result.original.index)
    with pytest.raises(StopIteration) as ended:
        next(gen)  # nothing to compute: no partial comparison
    comparison = ended.value.value
    note = "the model that made this result is no longer loaded"
    assert comparison.check_note == note and comparison.check is None
    assert [(p.title, p.rgb, p.caption) for p in comparison.panels[1:]] == [("Grad-CAM", None, note),
                                                                           ("Gradient saliency", None, note)]


def test_a_check_stopped_at_its_first_map_has_no_numbers(monkeypatch):
    """Hiding Compare Methods (or a key-set answer) stops the check between model calls: a check of some of the maps
    is never shown as the check of all of them."""
    from types import SimpleNamespace

    from gradflip_desktop.core import faithfulness

    measured = []

    def stopped_first(clf, original, maps, *args, **kwargs):
        (title,) = maps
        measured.append(title)
        return None if title == "GradFlip" else SimpleNamespace(curves=(title,), fill="blur", explained=[0])

    monkeypatch.setattr(faithfulness, "check_maps", stopped_first)
    result = run(make_tiny(), tiny_image_array(), ExplainOptions(style="free"))
    session = ModelSession()
    session.classifier = make_tiny()
    gen = compare_task(SimpleNamespace(cancelled=False), session, result, result.original.index)
    while True:
        try:
            next(gen)
        except StopIteration as ended:
            comparison = ended.value
            break
    assert measured == ["GradFlip"]
    assert comparison.check is None and comparison.check_note == "the deletion and insertion check was stopped"


def test_a_group_runs_grad_cam_and_saliency_explain_the_group_as_its_other_maps_and_its_check_do():
    """"Explain 'any cat'", then Compare Methods: Grad-CAM and saliency were of the top class (Egyptian cat) beside
    GradFlip's and RISE's maps of the group, and the check (which scores every map by the group) named a winner among
    maps of two questions. They now explain the group too: the log-sum-exp of its logits, one score."""
    import numpy as np

    from gradflip_desktop.core.attributions import gradcam_map, saliency_map

    clf = make_tiny()
    photo = tiny_image_array()
    top = clf.classify(photo, k=1)[0].index
    group = sorted({top, (top + 1) % 4})
    result = run(clf, photo, ExplainOptions(style="free", group=group))
    assert sorted(result.explained) == group and result.target is None
    session = ModelSession()
    session.classifier = clf
    comparison = next(compare_task(None, session, result, result.original.index))  # the maps, before the check
    cam, sal = (next(p for p in comparison.panels if p.title == t) for t in ("Grad-CAM", "Gradient saliency"))
    np.testing.assert_allclose(cam.values, gradcam_map(clf, photo, group), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sal.values, saliency_map(clf, photo, group), rtol=1e-5, atol=1e-7)
    assert not np.allclose(sal.values, saliency_map(clf, photo, top), rtol=1e-3, atol=1e-6)  # not the top class's
    name = f"<b>any of classes {group[0]}-{group[1]}</b>"  # the group, as the heading and the check name it
    assert cam.caption.startswith(f"of {name} at layer") and f"|∂z/∂x| of {name}" in sal.caption


def test_what_a_comparison_explains_is_named_once_for_heading_captions_and_check():
    from types import SimpleNamespace

    from gradflip_desktop.ui.controllers.comparison import explained_label

    labels = ["tabby", "tiger cat", "lynx"]
    one = SimpleNamespace(target=None, explained=[0], explained_name="tabby", label=lambda i: labels[i])
    group = SimpleNamespace(target=None, explained=[0, 1], explained_name="cat", label=lambda i: labels[i])
    targeted = SimpleNamespace(target=SimpleNamespace(index=2), explained=[0], explained_name="tabby", label=lambda i: labels[i])
    assert explained_label(one, 0) == "tabby" and explained_label(targeted, 2) == "lynx"
    assert explained_label(group, 0) == "any cat"  # the "Computing …" heading said "tabby" after "Explain 'any cat'"
