"""The run task (ui/controllers/runs.py) without a window: throttled previews, cancel within one step."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from gradflip_desktop.ui.controllers.model_session import ModelSession
from gradflip_desktop.ui.controllers.runs import PREVIEW_INTERVAL_S, PreviewSize, RunOutcome, RunStart, StepBatch, explain_task
from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


def drive(gen):
    values = []
    while True:
        try:
            values.append((time.perf_counter(), next(gen)))
        except StopIteration as done:
            return values, done.value


def test_previews_are_throttled_and_every_step_arrives(tiny, tiny_image):
    session = ModelSession()
    session.classifier = tiny
    task = SimpleNamespace(cancelled=False)
    settings = RunSettings(style="free", mode="fixed", epsilon=1e-6, max_steps=400)
    t0 = time.perf_counter()
    values, outcome = drive(explain_task(task, session, tiny_image, settings, PreviewSize(2)))
    seconds = time.perf_counter() - t0
    assert isinstance(values[0][1], RunStart) and values[0][1].budget == 400
    batches = [v for _, v in values if isinstance(v, StepBatch)]
    steps = [s.index for b in batches for s in b.steps]
    assert isinstance(outcome, RunOutcome) and steps == [s.index for s in outcome.result.steps]  # all, in order
    previews = [t for t, v in values if isinstance(v, StepBatch) and v.preview is not None]
    assert len(previews) <= seconds / PREVIEW_INTERVAL_S + 3  # about 10 a second, not one per step
    assert len(steps) > len(previews)
    with_preview = next(v for _, v in values if isinstance(v, StepBatch) and v.preview is not None)
    assert with_preview.preview_uint8.shape == tiny_image.shape
    assert (2, 2) in with_preview.preview_reduced  # reduced to the panel's size off the GUI thread
    assert outcome.summary and outcome.linf_saved == outcome.result.linf_saved


def test_cancel_stops_within_one_step(tiny, tiny_image):
    session = ModelSession()
    session.classifier = tiny
    task = SimpleNamespace(cancelled=False)
    gen = explain_task(task, session, tiny_image, RunSettings(style="free", mode="fixed", epsilon=1e-6, max_steps=5000),
                       PreviewSize())
    seen = 0
    while True:
        value = next(gen)
        if isinstance(value, StepBatch):
            seen = value.steps[-1].index
            task.cancelled = True
            break
    rest, outcome = drive(gen)
    later = [s.index for _, v in rest if isinstance(v, StepBatch) for s in v.steps]
    assert outcome.result.status == "cancelled"
    assert len(outcome.result.steps) <= seen + 1 and all(i <= seen + 1 for i in later)
