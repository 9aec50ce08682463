"""The run task (ui/controllers/runs.py) without a window: throttled previews, cancel within one step; and what the
run controller shows of its steps, its links and its end."""

from __future__ import annotations

import time
from dataclasses import replace
from types import SimpleNamespace

import pytest

from gradflip_desktop.core.errors import ModelError
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


def test_the_step_that_flips_is_sent_with_its_image_at_once(tiny, tiny_image, monkeypatch):
    """Previews are throttled, but the flipped step's image is always sent: the Adjusted panel shows the flip."""
    from gradflip_desktop.ui.controllers import runs

    monkeypatch.setattr(runs, "PREVIEW_INTERVAL_S", 1e12)  # no preview is ever due by time
    session = ModelSession()
    session.classifier = tiny
    values, outcome = drive(explain_task(SimpleNamespace(cancelled=False), session, tiny_image, RunSettings(style="free"),
                                         PreviewSize()))
    assert outcome.result.flipped
    first_flip = next(s.index for s in outcome.result.steps if s.flipped)
    batch = next(v for _, v in values if isinstance(v, StepBatch) and any(s.index == first_flip for s in v.steps))
    assert batch.steps[-1].index == first_flip and batch.preview is not None
    assert batch.preview_uint8.shape == tiny_image.shape


def _step(index, probabilities, flipped=False):
    import numpy as np

    return SimpleNamespace(index=index, phase="search", probabilities=np.asarray(probabilities, np.float32),
                           flipped=flipped, l2=0.5, linf=0.01)


def test_the_live_caption_names_the_class_the_step_ranks_first(qtbot, tiny_window):
    tiny_window.runs._on_steps(StepBatch([_step(3, [0.1, 0.7, 0.2])], None, 50))  # no model: classes by index
    assert tiny_window.views.adjusted.caption.text() == "step 3: <b>class 1</b> — 70.0 %"


@pytest.mark.parametrize(("members", "offered"), [("both", True), ("original only", False)])
def test_explain_the_group_is_offered_only_when_the_flip_stayed_inside_it(qtbot, tiny_window, monkeypatch, members,
                                                                           offered):
    from helpers import make_tiny, tiny_image_array

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    result = run(make_tiny(), tiny_image_array(), ExplainOptions(style="free"))
    assert result.flipped and result.original.index != result.final.index
    other = next(i for i in range(4) if i not in (result.original.index, result.final.index))
    group = [result.original.index, result.final.index if members == "both" else other]
    monkeypatch.setattr(tiny_window.models, "info", SimpleNamespace(groups={"pair": group}))
    links = " ".join(tiny_window.runs.suggestions(result))
    assert ("group:pair" in links) is offered
    # a model that hardly tells its classes apart (every class within a point: a random-weights model) is not offered
    # the group either: the sentence says its flip says little, and the group's would say no more
    even = result.original_probabilities.copy()
    even[:] = 0.25
    even[result.original.index] += 0.004
    links = " ".join(tiny_window.runs.suggestions(replace(result, original_probabilities=even)))
    assert "group:pair" not in links


def test_a_targeted_run_draws_its_target_from_the_first_step(qtbot, tiny_window, monkeypatch):
    """A run toward a chosen class (the top class explained): the plot draws that class as the one it flips to."""
    import numpy as np

    from gradflip_desktop.core.models.classifier import Prediction
    from gradflip_desktop.ui.controllers.model_session import Classification

    w = tiny_window
    monkeypatch.setattr(w.models, "info", SimpleNamespace(labels=["a", "b", "c", "d"], groups={}))
    w.models.classification = Classification([Prediction(0, "a", 0.6)], np.array([0.6, 0.2, 0.1, 0.1], np.float32))
    w.runs._on_started(RunStart([], "", 2, 50))
    assert (w.plot.explained, w.plot.flip_to, w.plot.targeted) == ([0], 2, True)


def test_a_new_photo_never_gets_the_last_results_sentence_back(qtbot, tiny_window):
    """The sentence follows the Difference mode; a mode chosen after the result was cleared (another photo) must not
    bring the cleared result's sentence back."""
    from helpers import make_tiny, tiny_image_array

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    w = tiny_window
    result = run(make_tiny(), tiny_image_array(), ExplainOptions(style="free"))
    w.runs._show_result(result)
    assert w.views.summary.text().startswith("Changing pixels")  # the run's sentence
    w.clear_result()
    w.views.set_summary("another photo")
    box = w.views.mode_box
    box.setCurrentIndex((box.currentIndex() + 1) % box.count())
    assert w.views.summary.text() == "another photo"


def test_a_run_goes_to_the_device_chosen_in_the_panel(tiny, tiny_image, monkeypatch):
    """The panel's device is the run's: a model on another device is moved before the run (never when it is there)."""
    moved = []
    monkeypatch.setattr(tiny, "to", lambda device: moved.append(device) or tiny)
    session = ModelSession()
    session.classifier = tiny
    for device in ("cpu", "cuda:1"):  # the tiny model is on the CPU; "cuda:1" is only recorded here
        gen = explain_task(SimpleNamespace(cancelled=False), session, tiny_image, RunSettings(style="free", device=device),
                           PreviewSize())
        assert isinstance(next(gen), RunStart)
    assert moved == ["cuda:1"]


def test_the_progress_text_of_a_run_whose_last_step_flipped_says_no_later_steps():
    from gradflip_desktop.ui.controllers.runs import progress_text

    def result(n):
        return SimpleNamespace(steps=[None] * n, flipped=True, seconds=1.25, status="flipped")

    assert progress_text(result(9), 9) == "flipped · 9 steps · 1.2 s"  # steps 1-9 all searched for the flip
    assert progress_text(result(19), 3) == "flipped at step 3 · 19 steps in all · 1.2 s"


@pytest.mark.parametrize("error, said", [
    (RuntimeError("out of memory"), "the explanation failed: RuntimeError: out of memory"),
    (ModelError("the model produced non-finite outputs (NaN or infinity) for this image"),
     "the model produced non-finite outputs (NaN or infinity) for this image"),
])
def test_a_run_that_fails_in_the_engine_says_so_once_and_leaves_explain_usable(qtbot, window, monkeypatch, error, said):
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.ui.controllers import runs

    def broken(task, *args):
        raise error

    monkeypatch.setattr(runs, "explain_task", broken)
    with qtbot.waitSignal(window.run_failed, timeout=RUN_TIMEOUT_MS) as failed:
        window.explain()
    assert failed.args == [said]
    # said once (it read "The explanation failed: the explanation failed: RuntimeError: …"), and the Adjusted panel
    # is empty: it kept the photo the run started from, under no caption, as if a change had changed nothing
    assert window.views.summary.text() == "The explanation failed: " + said.removeprefix("the explanation failed: ")
    assert window.views.adjusted.image() is None and window.views.original.image() is not None
    assert not window.running and window.explain_action.isEnabled()


def test_a_run_that_fails_after_its_first_steps_leaves_no_map_or_change_behind(qtbot, window, monkeypatch):
    """The Difference panel kept the last live preview's map and its "… so far" caption after the dialog said the
    explanation failed (and drew it again on a mode change): cleared with the Adjusted panel."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.ui.controllers import runs

    real = runs.explain_task

    def fails_midway(task, *args):
        for item in real(task, *args):
            yield item
            if isinstance(item, runs.StepBatch) and item.preview_uint8 is not None:
                raise RuntimeError("out of memory")

    monkeypatch.setattr(runs, "explain_task", fails_midway)
    monkeypatch.setattr(runs, "PREVIEW_INTERVAL_S", 0.0)  # a preview with the first batch
    with qtbot.waitSignal(window.run_failed, timeout=RUN_TIMEOUT_MS):
        window.explain()
    qtbot.wait(200)  # a live map rendered off the GUI thread would arrive after the failure
    assert window.views.adjusted.image() is None and window.views.difference.image() is None
    assert window.difference.source is None
    assert "so far" not in window.views.difference.caption.text()


def _sent_in_one_instant(monkeypatch, events) -> list:
    """What the run task sends to the window when the core's run yields ``events`` all in the same instant (a fixed
    clock) and then fails (no result needed: the tests read what was sent)."""
    from gradflip_desktop.core import explain as core_explain
    from gradflip_desktop.ui.controllers import runs as runs_module
    from gradflip_desktop.ui.controllers.model_session import ModelSession
    from gradflip_desktop.ui.controllers.runs import PreviewSize, explain_task
    from gradflip_desktop.ui.settings import RunSettings
    from helpers import make_tiny, tiny_image_array

    def run(clf, pixels, options, should_stop):
        yield from events
        raise RuntimeError("end")

    monkeypatch.setattr(core_explain, "explain", run)
    monkeypatch.setattr(runs_module.time, "perf_counter", lambda: 100.0)
    session = ModelSession()
    session.classifier = make_tiny()
    sent = []
    with pytest.raises(RuntimeError, match="end"):
        for item in explain_task(SimpleNamespace(cancelled=False), session, tiny_image_array(),
                                 RunSettings(style="free"), PreviewSize()):
            sent.append(item)
    return sent


def test_each_phase_s_first_pass_is_shown_at_once_and_later_ones_at_most_20_times_a_second(monkeypatch):
    """The run task sends a phase's passes at most every BATCH_INTERVAL_S; a new phase's first pass went the same way,
    so on a fast CPU the busy bar could skip from "importance map (feature regions): pass 3" past the key region's
    first pass (a CI run saw 3 of the feature regions' 4 passes). A new phase is now sent at once."""
    from gradflip_desktop.core.results import Progress

    events = [Progress(phase, i) for phase, n in (("feature_groups", 4), ("key_region", 3)) for i in range(1, n + 1)]
    shown = [(p.phase, p.passes) for p in _sent_in_one_instant(monkeypatch, events) if isinstance(p, Progress)]
    assert shown == [("feature_groups", 1), ("key_region", 1)]  # each phase's first; the rest in the same instant


def test_a_batch_of_steps_holds_one_phase(monkeypatch):
    """Steps are sent in batches at most 20 times a second, each named by its last step's phase: on a fast CPU the
    three "sharpen" steps could go out with the first "restore" ones, and the bar never said "sharpening"."""
    import numpy as np

    from gradflip_desktop.core.results import Step
    from gradflip_desktop.ui.controllers.runs import StepBatch

    probs = np.full(4, 0.25, np.float32)
    phases = ["search", "sharpen", "sharpen", "sharpen", "restore", "restore", "eight_bit"]
    events = [Step(i, 0.1, 0.0, probs, 0.0, 0.0, False, phase=phase) for i, phase in enumerate(phases, 1)]
    batches = [b for b in _sent_in_one_instant(monkeypatch, events) if isinstance(b, StepBatch)]
    assert [(b.phase, [s.index for s in b.steps]) for b in batches] == [
        ("search", [1]), ("sharpen", [2, 3, 4]), ("restore", [5, 6])]  # the last phase's steps: not sent before the end
