"""A group run ("any cat") is named as the group in the Adjusted caption and the status bar, as in the
summary and the plot (ui/controllers/runs.py)."""

from __future__ import annotations

import pytest

from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


def test_a_group_run_says_any_cat_flipped_everywhere(qtbot, window):
    # the summary said "turns any cat (95 %) into ...", the plot "explained: any cat", while the caption said
    # "flipped from Egyptian cat at step 23" and the status bar "Done: “Egyptian cat” flipped to “lynx”"
    from helpers import RUN_TIMEOUT_MS

    window.controls.set_settings(RunSettings(target_mode="group", group="cat", style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    result = blocker.args[0]
    assert result.flipped and sorted(result.explained) == [281, 282, 283, 284, 285]
    assert "any cat" in window.views.summary.text()
    caption = window.views.adjusted.caption.text()
    assert "flipped from any cat at step" in caption and "flipped from Egyptian cat" not in caption
    status = window.status_label.text()
    assert f"“any cat” flipped to “{result.final.label}”" in status and "Egyptian cat" not in status


def test_the_progress_text_names_the_key_region_while_the_map_and_region_are_built(qtbot, window):
    """After the flip, the default run restores detail (steps of the "restore" phase) and then finds the key
    region with forward passes only (no steps): the busy bar's text must cover both, and be shown (Qt's
    progress bar has no text while busy; the panel's bar keeps it)."""
    from helpers import RUN_TIMEOUT_MS

    seen = []
    window.run_progress.connect(lambda batch: seen.append((batch.phase, window.controls.progress.text())))
    window.controls.set_settings(RunSettings())
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    restore = [t for phase, t in seen if phase == "restore"]
    sharpen = [t for phase, t in seen if phase == "sharpen"]
    assert restore and all("importance map (restoring detail)" in t for t in restore)
    assert sharpen and all("sharpening the map past the flip" in t for t in sharpen)  # not the bare phase name
    assert all(len(t) <= 50 for _, t in seen)  # fits the bar of a 1,024 px window on one line


def test_the_key_region_passes_keep_the_progress_text_live(qtbot, window):
    """The key region and the map's feature regions take forward passes only (1.2-1.6 s and ~0.5 s at the
    1,024 px working size): the run reports each pass, and the busy bar's text names the phase and counts them."""
    from gradflip_desktop.core.results import Progress
    from helpers import RUN_TIMEOUT_MS

    texts = []
    original = window.runs._on_partial

    def spy(value):
        original(value)
        if isinstance(value, Progress):
            texts.append(window.controls.progress.text())

    window.runs._slot.on_partial = spy
    window.controls.set_settings(RunSettings())
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert texts and all("pass" in t for t in texts)
    phases = [t.split(":")[0] for t in texts]
    # the feature regions' 16 masks in 4 passes of 4, then the key region's passes; passes are shown at most ~20 times
    # a second (a fast CPU's passes come closer: a CI run saw 3 of the 4), each phase's first at once
    regions = phases.count("importance map (feature regions)")
    assert 1 <= regions <= 4 and phases[:regions] == ["importance map (feature regions)"] * regions
    counts = [int(t.split("pass ")[1].split()[0]) for t in texts[:regions]]
    assert counts[0] == 1 and counts == sorted(set(counts)) and counts[-1] <= 4
    assert phases[regions:] and set(phases[regions:]) == {"finding the key region"}
    assert texts[regions].endswith("pass 1 …")  # the key region's first pass, shown at once


def test_a_target_the_model_already_predicts_shows_no_change_not_a_size(qtbot, window):
    """Targeting the class on top: nothing is searched, so the Difference caption says "no change (nothing to
    flip)" (and names any difference as the 8-bit rounding), not "change: at most ... L2 ..." as for a run."""
    from helpers import RUN_TIMEOUT_MS

    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as first:
        window.explain()
    label = first.args[0].original.label
    assert window.views.difference.caption.text().startswith("change: ")
    window.controls.set_settings(RunSettings(target_mode="class", target_class=label, style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    result = blocker.args[0]
    assert result.status.value == "nothing_to_flip" and not result.steps
    caption = window.views.difference.caption.text()
    assert caption.startswith("no change (nothing to flip)"), caption
    assert ("8-bit rounding only" in caption) == (result.l2_saved > 0.0)
    # the Adjusted caption says "nothing to flip", not "nothing to flip after 0 steps"
    adjusted = window.views.adjusted.caption.text()
    assert "nothing to flip" in adjusted and "after 0 steps" not in adjusted, adjusted
