"""The engine side of the window's model: a load replaced before it finished is not kept, and a failed load says
which model the engine still has."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from helpers import make_tiny

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.ui.controllers import model_session
from gradflip_desktop.ui.controllers.model_session import ModelSession, load_model_task


class _Task:
    def __init__(self, cancelled: bool) -> None:
        self.cancelled = cancelled


def test_a_load_replaced_before_it_finished_is_not_kept(monkeypatch):
    """The window drops a replaced load's answer; the engine kept its model all the same, so a later failed load
    left the engine explaining with a model the window never showed."""
    old, new = make_tiny(seed=1), make_tiny(classes=3, seed=2)
    session = ModelSession()
    session.classifier, session.source = old, "old.pt"
    monkeypatch.setattr(model_session, "_load", lambda source, dev: new)
    assert load_model_task(_Task(cancelled=True), session, "new.pt", "cpu") is None
    assert session.classifier is old and session.source == "old.pt"
    info = load_model_task(_Task(cancelled=False), session, "new.pt", "cpu")
    assert session.classifier is new and session.source == "new.pt"
    assert info.labels == ["class0", "class1", "class2"] and info.key == "new.pt" and info.identity


def test_a_failed_load_names_the_model_the_engine_still_has(monkeypatch):
    old = make_tiny(seed=1)
    session = ModelSession()

    def broken(source, dev):
        raise ModelError(f"{source} is not a model file")

    monkeypatch.setattr(model_session, "_load", broken)
    with pytest.raises(ModelError) as first:
        load_model_task(_Task(cancelled=False), session, "a.pt", "cpu")
    assert not hasattr(first.value, "still_loaded")  # nothing loaded yet: nothing to name
    session.classifier, session.source = old, "old.pt"
    with pytest.raises(ModelError) as err:
        load_model_task(_Task(cancelled=False), session, "b.pt", "cpu")
    still = err.value.still_loaded
    assert (still.key, still.name, len(still.labels)) == ("old.pt", "tiny", 4) and session.classifier is old


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_model_that_answers_nan_is_an_error_not_a_class_of_nan_percent(bad):
    """The class list and the status line showed "nan %" as the top class: the classification fails, saying why."""
    import numpy as np

    from gradflip_desktop.ui.controllers.model_session import classify_task

    session = ModelSession()
    session.classifier = SimpleNamespace(probabilities=lambda pixels: np.array([bad, 0.2, 0.1], np.float32),
                                         top=lambda probs, k: [("class", float(probs[0]))])
    with pytest.raises(ValueError, match=r"^the model produced non-finite outputs \(NaN or infinity\) for this image$"):
        classify_task(None, session, np.zeros((4, 4, 3), np.float32))
