"""Before a group run, the sentence says when the model does not see the group at all (ui/controllers/models.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_group_the_photo_is_not_in_is_said_to_have_nothing_to_flip(window):
    """Before: with "any cat" remembered from the last session, a coffee photo read "The model sees espresso
    (88.2 %). Press Explain to find what makes it stop seeing any cat."; Explain then ended at once with
    "nothing to flip". A chosen class the model already sees was said to have nothing to flip; a group now too,
    without inviting Explain ("Press Explain to find what makes it stop seeing any dog, which it does not see")."""
    from gradflip_desktop.ui.settings import RunSettings

    top = window.models.classification.top[0]
    assert top.label == "Egyptian cat"  # the sample photo
    window.controls.set_settings(RunSettings(target_mode="group", group="dog"))
    text = window.views.summary.text()
    assert text.endswith(" It does not see <b>any dog</b>: nothing to flip.") and "Press" not in text, text
    assert window.views.adjusted.caption.text().startswith("The model does not see any dog here")
    window.controls.set_settings(RunSettings(target_mode="group", group="cat"))  # a group it sees: as before
    text = window.views.summary.text()
    assert "stop seeing <b>any cat</b>." in text and "nothing to flip" not in text, text


def test_a_chosen_class_the_model_already_sees_is_said_without_inviting_explain(window):
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings(target_mode="class", target_class="Egyptian cat"))
    text = window.views.summary.text()
    assert text.endswith("That is the class Explain would reach: nothing to flip.") and "Press" not in text, text
