"""The words before a run name what the chosen style does (no Qt needed)."""

from types import SimpleNamespace

from gradflip_desktop.ui.controllers.hint import explain_hint

TOP = SimpleNamespace(label="espresso", index=967)


def _hint(style):
    return explain_hint(TOP, "top", "", False, "", set(), style)[:2]  # (caption, sentence); the flag: nothing to flip


def test_blur_style_is_not_announced_as_the_smallest_change():
    """Blur per pixel's result reads "Removing detail (blurring parts of the photo) turns …": the hint before
    the run said "Explain finds the smallest change that flips this decision", the textbook style's words."""
    caption, goal = _hint("blur")
    assert "smallest change" not in caption and "smallest change" not in goal
    assert "blur" in caption.lower()


def test_textbook_and_region_words_unchanged():
    assert _hint("free") == ("Explain finds the smallest change that flips this decision.",
                             "Press <b>Explain</b> (Ctrl+Return) to find the smallest change that makes it see something else.")
    assert "removing it there" in _hint("region")[0]
