"""The annotated figure (core/figure.py), continued from test_figure.py (near its length limit): the words a caption
and the title say in less common cases, where each panel sits, and what is drawn at all. Each test here was
written for a mutant of figure.py that the other tests let through (hand-made mutation audit "mutF", 2026-12-06)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from helpers import make_tiny
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.models import Prediction
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.core.results import KeyRegion


def _region(**kw) -> KeyRegion:
    mask = np.zeros((4, 5), bool)
    mask[:1] = True  # a fifth of the image: outlined, and a small part
    return KeyRegion(pixels=4, fraction=0.2, components=1, flips=True, prediction=Prediction(3, "candle", 0.4),
                     mask=mask, ranking=np.zeros((4, 5), np.int32), fill="blur sigma = long side / 8", **kw)


def _drawn(monkeypatch) -> list[tuple[tuple, str]]:
    from PIL import ImageDraw

    drawn, real = [], ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, t, *a, **k: (drawn.append((tuple(xy), t)), real(self, xy, t, *a, **k))[1])
    return drawn


def _pasted(monkeypatch) -> list[tuple[tuple, tuple]]:
    from PIL import Image

    pasted, real = [], Image.Image.paste
    monkeypatch.setattr(Image.Image, "paste",
                        lambda self, im, box=None, *a, **k: (pasted.append((im.size, tuple(box))), real(self, im, box, *a, **k))[1])
    return pasted


# FIG-05 (the window test read `off_map`), FIG-06 (the off-map words dropped): a region found in a ninth of the photo,
# or away from the map's bright parts, says so under its panel (the sentence does; the caption must not contradict it)
def test_a_region_found_by_windows_or_off_the_map_says_so_in_its_caption():
    from gradflip_desktop.core.figure import key_region_caption

    assert key_region_caption(_region(window=True)) == \
        "removing detail in 20 % (found by trying ninths of the photo alone) → candle"
    assert key_region_caption(_region(off_map=True)) == "removing detail in 20 % (away from the map's brightest parts) → candle"
    assert key_region_caption(_region(window=True, off_map=True)).endswith(" alone) → candle")  # the window's words win
    assert key_region_caption(_region()) == "removing detail in 20 % → candle"


def _titled(status: str, flipped: bool = False) -> SimpleNamespace:
    return SimpleNamespace(flipped=flipped, status=status, model_name="m", explained=[1], explained_name="espresso",
                           original=Prediction(1, "espresso", 0.62), final=Prediction(1, "espresso", 0.41), key_region=None)


# FIG-07 (the status printed as stored): a run that did not flip ends its title with how it ended, in words
def test_the_title_says_how_an_unflipped_run_ended_in_words():
    from gradflip_desktop.core.figure import figure_title

    assert figure_title(_titled("budget_exhausted")) == \
        "GradFlip · m · espresso (62.0 %) → espresso (41.0 %) (budget exhausted)"
    assert figure_title(_titled("nothing_to_flip")).endswith("(nothing to flip)")
    assert figure_title(_titled("zero_gradient")).endswith("(zero gradient)")


# FIG-11 (whole seconds): the subtitle's time has one decimal, as the CLI's line and the record's "seconds"
def test_the_subtitle_gives_the_time_to_a_tenth_of_a_second(result):
    from gradflip_desktop.core.figure import figure_subtitle

    text = figure_subtitle(replace(result, seconds=2.46))
    assert f", 2.5 s · mode {result.options.mode}, epsilon " in text


# FIG-12 (the plural read from the forward count alone): "2 gradient + 1 forward evaluations", one for any other sum
def test_the_subtitle_counts_evaluations_in_the_plural_unless_there_is_one(result):
    from gradflip_desktop.core.figure import figure_subtitle

    assert "2 gradient + 1 forward evaluations, " in figure_subtitle(replace(result, gradient_evaluations=2, forward_evaluations=1))
    assert "1 gradient + 0 forward evaluation, " in figure_subtitle(replace(result, gradient_evaluations=1, forward_evaluations=0))


# FIG-16 (the share of the key pixels' complement): the Key pixels caption counts them and gives their share
def test_the_key_pixels_caption_gives_their_count_share_and_class(monkeypatch, result):
    from gradflip_desktop.core.figure import render_figure
    from gradflip_desktop.core.summary import share

    kp = result.key_pixels
    assert kp is not None and share(kp.fraction) != share(1 - kp.fraction)
    drawn = _drawn(monkeypatch)
    render_figure(result)
    texts = [t for _, t in drawn]
    assert "Key pixels" in texts
    caption = f"{kp.count:,} px ({share(kp.fraction)}) alone give {kp.prediction.label}"
    assert caption in " ".join(texts[texts.index("Key pixels") + 1:])


def test_the_key_pixels_caption_says_how_close_the_explained_class_is_as_the_window_does(monkeypatch, result):
    """A set that wins by 0.02 points read as a clear flip in the figure ("alone give consomme") while the window's
    explorer said "(37.28 %; espresso now 37.26 %)": the caption gives the same parenthesis."""
    from gradflip_desktop.core.figure import render_figure
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.summary import alone_probabilities

    kp = result.key_pixels
    assert kp is not None and kp.flips
    close = replace(kp, prediction=Prediction(kp.prediction.index, kp.prediction.label, 0.37277),
                    explained_probability=0.37262)
    tied = replace(result, key_pixels=close)
    words = alone_probabilities(tied, close.prediction, close.explained_probability)
    assert words.startswith("37.28 %; ") and "now 37.26 %" in words
    drawn = _drawn(monkeypatch)
    render_figure(tied)
    texts = [t for _, t in drawn]
    after = " ".join(texts[texts.index("Key pixels") + 1:])
    assert f"alone give {kp.prediction.label} ({words})" in after
    drawn.clear()
    render_figure(replace(result, key_pixels=replace(kp, flips=False)))  # a set that does not flip: no such words
    after = " ".join(t for _, t in drawn)
    assert f"alone give {kp.prediction.label} (" not in after



def _free_run(seed: int, rows: int, cols: int):
    """A textbook run of the tiny model on a photo of rows x cols random 4 x 4 px blocks."""
    rng = np.random.default_rng(seed)
    pixels = np.kron(rng.uniform(0.2, 0.8, size=(rows, cols, 3)), np.ones((4, 4, 1))).astype(np.float32)
    return run(make_tiny(), pixels, ExplainOptions(style="free", max_steps=30))

# FIG-17 (the photo pasted at the column's left edge): a narrow photo sits in the middle of its column, inside the
# grey frame drawn round it (the frame is centred); at the left it stood 96 px left of its own frame
def test_a_narrow_photo_sits_centred_in_its_column_inside_its_frame(monkeypatch):
    from gradflip_desktop.core.figure import MIN_SLOT, render_figure

    res = _free_run(3, 40, 3)  # 160 x 12
    pasted = _pasted(monkeypatch)
    fig = render_figure(res)
    pw = round(12 * 360 / 160)  # 27 px wide, 360 high
    assert [size for size, _ in pasted] == [(pw, 360)] * len(pasted)
    left = 12 + (MIN_SLOT - pw) // 2
    assert [x for _, (x, _) in pasted] == [left + i * (MIN_SLOT + 12) for i in range(len(pasted))]
    y = pasted[0][1][1]
    assert tuple(fig[y + 180, left - 1]) == (200, 200, 200)  # the frame's left edge, just outside the photo
    assert tuple(fig[y + 180, left + pw]) == (200, 200, 200)  # and its right edge


# FIG-13 (no width limit): a wide photo (4:1, not a panorama) is drawn at most 520 px wide, its height to scale
def test_a_wide_photo_is_drawn_at_most_520_px_wide(monkeypatch):
    from gradflip_desktop.core.figure import render_figure

    res = _free_run(2, 6, 24)  # 24 x 96
    pasted = _pasted(monkeypatch)
    fig = render_figure(res)
    assert [size for size, _ in pasted] == [(520, 130)] * len(pasted)
    assert fig.shape[1] == 12 + len(pasted) * (520 + 12)


# FIG-18 (only the sentence's first line drawn): the summary sentence above the panels is drawn whole, every line
def test_the_whole_summary_sentence_is_drawn_above_the_panels(monkeypatch):
    from gradflip_desktop.core.figure import render_figure
    from gradflip_desktop.core.summary import summary_sentence

    res = _free_run(3, 40, 3)  # narrow: wraps
    drawn = _drawn(monkeypatch)
    render_figure(res)
    said = summary_sentence(res)
    lines = [t for (x, y), t in drawn if 54 <= y < 54 + 20 * 8 and t in said]  # the sentence's place, under the numbers
    assert len(lines) >= 2 and " ".join(lines) == said


# FIG-26 (the title drawn white on white): the title is dark on the white page
def test_the_title_is_drawn_dark_on_the_white_page(result):
    from gradflip_desktop.core.figure import render_figure

    fig = render_figure(result)
    band = fig[10:32, 12:400]  # the title's first line (the numbers line starts at y = 34)
    assert band.min() <= 40 and tuple(fig[2, 2]) == (255, 255, 255)
