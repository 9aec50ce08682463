"""The status bar after a run names both classes even when a model's labels are sentences (ui/controllers/runs.py)."""

from __future__ import annotations

import pytest
from helpers import make_tiny, tiny_image_array

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.ui.widgets.elision import LEGEND_CHARS

pytestmark = pytest.mark.gui

LONG = "Extremely long class name number {}: a small grey-and-white domestic short-haired cat sitting on a windowsill"


def test_long_class_names_are_cut_in_the_status_bar_and_whole_in_its_tooltip(qtbot, window):
    """Uncut, "Done: “<a sentence>” flipped to “dog”" pushed the class it flipped to off an 820 px window."""
    clf = make_tiny(seed=1)
    clf.labels[:] = [LONG.format(i) for i in range(len(clf.labels))]
    result = run(clf, tiny_image_array(), ExplainOptions(style="free"))
    assert result.flipped and LONG.format(result.final.index) in result.message
    window.runs._show_result(result)
    text, tip = window.status_label.text(), window.status_label.toolTip()
    assert text.startswith("Done: ") and LONG.format(result.final.index) not in text
    for index in (result.original.index, result.final.index):  # both named, each cut
        assert "“" + LONG.format(index)[: LEGEND_CHARS - 1].rstrip() + "…”" in text
    assert tip == result.message  # whole on hover
    window.set_status("Explaining …")
    assert window.status_label.toolTip() == "Explaining …"  # a later message does not keep the old tooltip: its own
    # text, whole (a long message was cut mid-word at the window's edge, with nothing to hover)


def test_the_window_names_the_smallest_change_style_without_the_command_lines_flag(qtbot, window):
    """A region run on a flat photo advises the "smallest change" style; the window said "(--style free)", a flag the
    window has no field for (its Style box says "Smallest change (textbook)"). The record keeps the flag."""
    import numpy as np

    flat = np.full((32, 32, 3), 0.5, np.float32)
    result = run(make_tiny(seed=1), flat, ExplainOptions())
    assert "--style free" in result.message  # the command line's words, kept in the record
    window.runs._show_result(result)
    shown = window.status_label.text() + window.status_label.toolTip() + window.views.summary.text()
    assert "“smallest change” style" in shown and "--" not in shown


def test_a_run_cancelled_past_its_flip_names_the_flip_step_the_plot_shows(qtbot, window):
    """Esc while the key region was searched (a 3000 x 400 panorama): the plot's curves end at the flip, step 1,
    but the progress bar said only "cancelled at step 10" and its tooltip nothing of the 9 steps not plotted."""
    import dataclasses

    from gradflip_desktop.core.options import Status
    from gradflip_desktop.ui.controllers.runs import RunOutcome

    result = run(make_tiny(), tiny_image_array(), ExplainOptions())
    flip, n = result.flip_step, len(result.steps)
    assert result.flipped and flip is not None and flip < n
    cancelled = dataclasses.replace(result, status=Status.CANCELLED, key_region=None, key_pixels=None,
                                    message="cancelled after the decision flipped, before the key region was found")
    window.runs._on_done(RunOutcome.of(cancelled))
    progress = window.controls.progress
    assert progress.format() == f"flipped at step {flip} · cancelled at step {n}"
    assert progress.toolTip().startswith(f"Steps 1–{flip} searched for the flip (the plot's curves); steps {flip + 1}–{n} ")
    assert f"after the decision flipped at step {flip}:" in window.views.summary.text()
    before = dataclasses.replace(cancelled, steps=result.steps[:flip - 1])  # cancelled before the flip: as it was
    window.runs._on_done(RunOutcome.of(before))
    assert progress.format() == f"cancelled at step {flip - 1}"


def test_a_run_cancelled_at_the_very_step_it_flipped_says_it_flipped(qtbot, window):
    """Esc at the step that flipped (the key region not searched yet): the sentence says the decision flipped at that
    step and the plot's curves end there, but the progress bar said only "cancelled at step N", as if it had not."""
    import dataclasses

    from gradflip_desktop.core.options import Status
    from gradflip_desktop.ui.controllers.runs import RunOutcome

    result = run(make_tiny(), tiny_image_array(), ExplainOptions())
    flip = result.flip_step
    assert result.flipped and flip is not None and flip < len(result.steps)
    at_flip = dataclasses.replace(result, status=Status.CANCELLED, key_region=None, key_pixels=None,
                                  steps=result.steps[:flip],
                                  message="cancelled after the decision flipped, before the key region was found")
    assert at_flip.flip_step == flip == len(at_flip.steps)
    window.runs._on_done(RunOutcome.of(at_flip))
    assert f"after the decision flipped at step {flip}:" in window.views.summary.text()
    assert window.controls.progress.format() == f"flipped at step {flip} · cancelled at step {flip}"


def test_the_status_bar_names_the_key_regions_class_when_it_is_another(qtbot, window):
    """The sentence leads with the class the key region alone gives (espresso into eggnog), the status bar said only
    the whole change's ("flipped to “stethoscope”"): a walk-through read two answers. It names both now."""
    from dataclasses import replace

    from gradflip_desktop.core.models import Prediction

    result = run(make_tiny(seed=1), tiny_image_array(), ExplainOptions())
    assert result.flipped and result.key_region is not None
    other = next(i for i in range(len(result.final_probabilities)) if i not in (result.final.index, result.original.index))
    label = make_tiny(seed=1).labels[other]
    region = replace(result.key_region, flips=True, fraction=0.05, prediction=Prediction(other, label, 0.4))
    window.runs._show_result(replace(result, key_region=region))
    text = window.status_label.text()
    assert text.startswith(f"Done: “{result.original.label}” flipped to “{result.final.label}”; the key region alone "
                           f"to “{label}” ("), text
    same = replace(region, prediction=result.final)  # the same class: said once
    window.runs._show_result(replace(result, key_region=same))
    assert "key region" not in window.status_label.text()
    unflipping = replace(region, flips=False)  # a key region that does not flip is no answer of its own
    window.runs._show_result(replace(result, key_region=unflipping))
    assert "key region" not in window.status_label.text()
