"""The annotated figure (core/figure.py): panels, titles, captions and the words under them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helpers import make_tiny
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status


def drawn_texts(monkeypatch) -> list[str]:
    """The texts the figure draws from now on, in order (Pillow's ImageDraw.text is watched)."""
    from PIL import ImageDraw

    drawn, real = [], ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", lambda self, xy, t, *a, **k: (drawn.append(t), real(self, xy, t, *a, **k))[1])
    return drawn


def test_figure_gives_the_size_of_the_saved_change(tiny, tiny_image):
    # the figure names the saved image's class, and the window shows the saved change's size: the figure's
    # "Where it changed" caption must give the same numbers (not the float change's, e.g. 22.779 vs 22.790)
    from gradflip_desktop.core.figure import describe_change

    result = run(tiny, tiny_image, ExplainOptions(style="blur"))
    assert f"{result.l2:.3f}" != f"{result.l2_saved:.3f}"
    text = describe_change(result)
    rms = result.l2_saved / np.sqrt(result.delta.size)
    assert text == f"L2 {result.l2_saved:.3f} · max {255 * result.linf_saved:.1f}/255 · RMS {255 * rms:.2f}/255"


def test_key_region_caption_says_what_changing_it_gives_and_when_no_region_flips_alone():
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.figure import key_region_caption
    from gradflip_desktop.core.results import KeyRegion

    mask = np.zeros((4, 4), bool)
    mask[:2] = True
    kr = KeyRegion(pixels=8, fraction=0.5, components=1, flips=True, prediction=Prediction(3, "candle", 0.4),
                   mask=mask, ranking=np.arange(16, dtype=np.int32).reshape(4, 4), fill="blur sigma = long side / 8")
    # the share as the sentence writes it; over a quarter of the image it is not called a small part
    assert key_region_caption(kr) == "no small region flips it; removing detail in 50 % → candle"
    assert key_region_caption(replace(kr, fraction=0.2)) == "removing detail in 20 % → candle"
    # most of the image: hatched, and no small region does it (99.8 % was "100 %" in the sentence above)
    most = KeyRegion(pixels=15, fraction=0.998, components=1, flips=True, prediction=Prediction(3, "candle", 0.4),
                     mask=~np.eye(4, dtype=bool), ranking=kr.ranking, fill="blur sigma = long side / 8")
    assert key_region_caption(most) == "no small region flips it; removing detail in 99.8 % (hatched) → candle"
    faded = KeyRegion(pixels=8, fraction=0.47, components=5, flips=True, prediction=Prediction(70, "harvestman", 0.04),
                      mask=mask, ranking=kr.ranking, fill="mean colour amount found by the search")
    assert key_region_caption(faded) == "no small region flips it; fading toward the mean colour in 47 % → harvestman"
    # under 1 % the figure draws a dashed box round the region (it would be lost): the caption says what the box is
    tiny_region = KeyRegion(pixels=3, fraction=0.004, components=1, flips=True, prediction=Prediction(3, "candle", 0.4),
                            mask=mask, ranking=kr.ranking, fill="blur sigma = long side / 8")
    assert key_region_caption(tiny_region) == "removing detail in 0.4 % (in the dashed box) → candle"
    # a targeted run whose target no region reaches: the whole image, not flipping
    whole = KeyRegion(pixels=16, fraction=1.0, components=1, flips=False, prediction=Prediction(2, "espresso", 0.7),
                      mask=np.ones((4, 4), bool), ranking=kr.ranking, fill="mean colour")
    caption = key_region_caption(whole)
    assert caption == "no region alone flips it; filling with the mean colour everywhere gives espresso"
    assert "100.0 %" not in caption


@pytest.mark.parametrize("label", ["Greater Swiss Mountain dog", "A" * 40 + " " + "x" * 200])
def test_figure_text_stays_inside_its_panel_and_the_figure(monkeypatch, label):
    """Long class names (and the key region's caption, long by itself on a portrait photo) wrap inside
    their panel instead of running over the next panel's numbers or off the figure's edge."""
    import dataclasses

    from PIL import ImageDraw

    from gradflip_desktop.core.figure import render_figure
    from helpers import tiny_image_array

    portrait = np.ascontiguousarray(np.transpose(tiny_image_array(), (1, 0, 2)))  # taller than wide
    res = run(make_tiny(), portrait, ExplainOptions())
    assert res.key_region is not None and res.key_pixels is None  # four panels, five with the key region alone
    res = dataclasses.replace(res, original=dataclasses.replace(res.original, label=label))
    drawn = []
    real = ImageDraw.ImageDraw.text

    def text(self, xy, t, *args, **kw):
        drawn.append((xy, t, self.textlength(t, font=kw["font"])))
        return real(self, xy, t, *args, **kw)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    fig = render_figure(res)
    pad, panels = 12, 5 if any(t == "Key region alone" for _, t, _ in drawn) else 4
    pw = (fig.shape[1] - pad) // panels - pad
    below = next(y for (_, y), t, _ in drawn if t == "Original")  # the panels' headings and captions
    for (x, y), t, length in drawn:
        if y < below:  # title, numbers line and sentence, above the panels: the figure's width
            assert x + length <= fig.shape[1] - pad, t
        else:  # a panel's heading or caption: its own column
            left = pad + ((x - pad) // (pw + pad)) * (pw + pad)
            assert x + length <= left + pw, t
        assert y < fig.shape[0]
    joined = " ".join(t for _, t, _ in drawn)
    assert label.split()[0][:20] in joined and "L2 " in joined


@pytest.mark.parametrize("label", [
    "Extremely long class name number one: a small grey-and-white domestic short-haired cat on a windowsill",
    "Supercalifragilisticexpialidocious_without_any_spaces_at_all_to_break_the_line_anywhere",
])
def test_a_long_class_name_is_shortened_and_the_numbers_after_it_stay(monkeypatch, label):
    """A model's own label can be a sentence: the figure cut the caption after its 4th line, in the label, so
    the Original lost its probability, the Adjusted its size of change ("... (39.1 %) ·…") and the title what
    the photo became; a label without spaces broke at any letter ("to_break_th" / "e_line"), a lone "·" took a
    line. Now a long label is cut with "…" and every number after it is drawn."""
    import dataclasses


    from gradflip_desktop.core.viz.text import FIGURE_LABEL_CHARS
    from gradflip_desktop.core.figure import render_figure
    from helpers import tiny_image_array

    portrait = np.ascontiguousarray(np.transpose(tiny_image_array(), (1, 0, 2)))  # narrow columns
    res = run(make_tiny(), portrait, ExplainOptions())
    relabel = lambda p: dataclasses.replace(p, label=label)  # noqa: E731
    res = dataclasses.replace(res, original=relabel(res.original), final=relabel(res.final),
                              key_region=dataclasses.replace(res.key_region, prediction=relabel(res.key_region.prediction)))
    drawn = drawn_texts(monkeypatch)
    render_figure(res, notes=["scaled from 3000×4000 to 768×1024"])
    joined = " ".join(drawn)
    short = label[: FIGURE_LABEL_CHARS - 1].rstrip() + "…"
    assert short in joined.replace("_ ", "_")  # cut once, with "…" (a word wider than its column may still wrap)
    assert f"({res.original.probability * 100:.1f} %)" in joined  # the photo's probability, under the Original
    assert "768×1024" in joined and "RMS " in joined  # the loading note and the size of the change
    assert f"({res.final.probability * 100:.1f} %) (flipped)" in joined  # the title ends with the flip
    assert not any(t.strip() in ("·", "→") for t in drawn), drawn  # a separator never takes a line alone
    assert not any(t.endswith("·…") for t in drawn), drawn
    assert not any(t.endswith("_th") for t in drawn), drawn  # "…_to_break_th" / "e_line…": broken after "_"


def test_the_figures_size_of_change_is_in_the_record(tiny, tiny_image):
    """The "Where it changed" caption (the saved change: L2, max, RMS) can be read back from the record."""
    from gradflip_desktop.core.figure import describe_change
    from gradflip_desktop.core.report import record

    result = run(tiny, tiny_image, ExplainOptions(style="blur"))
    rec = record(result, versions={})
    assert describe_change(result) == (
        f"L2 {rec['l2_saved']:.3f} · max {255 * rec['linf_saved']:.1f}/255 · RMS {255 * rec['rms_saved']:.2f}/255"
    )
    assert rec["rms_saved"] != rec["rms"]  # the float change's RMS is another number


def test_the_figure_title_names_the_group_a_group_run_explained(result):
    from gradflip_desktop.core.figure import figure_title

    title = figure_title(result)
    assert title.startswith(f"GradFlip · tiny · {result.original.label} (") and "(flipped)" in title
    assert "any " not in title
    rng = np.random.default_rng(1)
    pixels = np.kron(rng.uniform(0.3, 0.7, size=(6, 8, 3)).astype(np.float32), np.ones((4, 4, 1), np.float32))
    grouped = run(make_tiny(), pixels, ExplainOptions(style="free", group="low"))
    assert len(grouped.explained) == 2
    title = figure_title(grouped)
    group = sum(float(grouped.original_probabilities[i]) for i in grouped.explained)
    assert title.startswith(f"GradFlip · tiny · any low ({100 * group:.1f} %; {grouped.original.label} ")
    # the group's sum first, the number the sentence under the title gives it ("any vehicle (85 %)": the title
    # read "any vehicle (moped 48.5 %)" above it), then its top class, in one pair of brackets
    assert f"any low ({100 * group:.1f} %; {grouped.original.label} {100 * grouped.original.probability:.1f} %) → " in title
    from gradflip_desktop.core.summary import pct, summary_sentence

    assert f"any low ({pct(group)}" in summary_sentence(grouped)  # the sentence's number for it
    assert f"→ {grouped.final.label} (" in title


def test_the_figure_title_names_the_key_regions_class_when_it_differs(result):
    """The key region alone can give another class than the whole change (coffee: consomme, the region alone
    candle): the title said only the first while the Key region panel said the second."""
    from dataclasses import replace

    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.figure import figure_title
    from gradflip_desktop.core.results import KeyRegion

    other = next(i for i in range(len(result.labels)) if i not in (result.final.index, result.original.index))
    mask = np.zeros(result.delta.shape[:2], bool)
    mask[:4, :4] = True
    kr = KeyRegion(pixels=16, fraction=16 / mask.size, components=1, flips=True,
                   prediction=Prediction(other, result.labels[other], 0.4), mask=mask, ranking=mask.astype(np.int32))
    title = figure_title(replace(result, key_region=kr))
    assert title.endswith(f"(flipped) · key region alone → {result.labels[other]}"), title
    same = replace(kr, prediction=result.final)
    assert figure_title(replace(result, key_region=same)).endswith("(flipped)")  # the same class: said once
    assert figure_title(replace(result, key_region=replace(kr, flips=False))).endswith("(flipped)")


def test_the_figures_map_panel_is_named_for_what_it_shows(monkeypatch, result):
    """The region style's third panel is the key-region search's importance map (the sentence above it says
    "the bright areas show how much each part mattered"), not the change: it was headed "Where it changed". It is
    headed with the name the window's Difference box and colour bar give it ("Where it mattered" was a fourth name)."""

    from gradflip_desktop.core.figure import render_figure
    from helpers import tiny_image_array

    drawn = drawn_texts(monkeypatch)
    region = run(make_tiny(), tiny_image_array(), ExplainOptions())
    assert region.region_map is not None
    render_figure(region)
    assert "Importance map" in drawn and "Smoothed magnitude" not in drawn
    text_all = " ".join(drawn)
    # the map's caption says what its colours mean; the change's size sits under the Adjusted image it measures
    assert "bright = mattered most, dark = not at all (full" in text_all  # full brightness at the 99.5th percentile (heat_top)
    from gradflip_desktop.core.figure import _fmt_pred, describe_change

    assert f"{_fmt_pred(region.final)} · change: {describe_change(region)}".split(" · max")[0] in text_all
    drawn.clear()
    render_figure(result)  # the textbook change: the map is the smoothed |change|, headed as the window heads it
    assert "Difference" in drawn and "Smoothed magnitude" not in drawn and "Importance map" not in drawn
    assert "smoothed magnitude: bright = changed most, dark = unchanged" in " ".join(drawn)
    drawn.clear()  # a centre-cropping model: the textbook change is dark outside the crop too, and the caption says why
    render_figure(replace(result, model_settings={**(result.model_settings or {}), "resize": "center-crop 256"}))
    assert "crops: it never sees that, so nothing changes there" in " ".join(drawn).replace("\n", " ")


@pytest.mark.parametrize("shape", [(160, 12), (12, 160)])
def test_tall_and_panorama_figures_keep_their_text_apart_and_their_panels_visible(monkeypatch, shape):
    """A 300 x 2000 photo drew its panels 54 px wide: the headings "Importance map" and "Key region" were
    drawn over each other and the numbers line ran off the figure. A 4000 x 300 panorama drew four strips
    39 px high. Now a narrow photo sits in a column wide enough for its words, and a panorama gets one
    panel per row."""
    from PIL import Image, ImageDraw

    from gradflip_desktop.core.figure import render_figure

    rng = np.random.default_rng(3)
    h, w = shape
    pixels = np.kron(rng.uniform(0.2, 0.8, size=(h // 4, w // 4, 3)), np.ones((4, 4, 1))).astype(np.float32)
    res = run(make_tiny(), pixels, ExplainOptions())
    drawn, pasted = [], []
    real_text, real_paste = ImageDraw.ImageDraw.text, Image.Image.paste

    def text(self, xy, t, *args, **kw):
        drawn.append((xy, t, self.textlength(t, font=kw["font"])))
        return real_text(self, xy, t, *args, **kw)

    def paste(self, im, box=None, *args, **kw):
        pasted.append(im.size)
        return real_paste(self, im, box, *args, **kw)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    monkeypatch.setattr(Image.Image, "paste", paste)
    fig = render_figure(res)
    for (x, y), t, length in drawn:
        assert x + length <= fig.shape[1] - 12 and y < fig.shape[0], t  # nothing runs off the figure
    for i, ((x1, y1), t1, l1) in enumerate(drawn):  # texts on one line never overlap
        for (x2, y2), t2, l2 in drawn[i + 1:]:
            assert y1 != y2 or x1 + l1 <= x2 or x2 + l2 <= x1, (t1, t2)
    from gradflip_desktop.core.summary import alone_text

    assert len(pasted) == 4 + (alone_text(res) is not None)  # and the key region alone, when it flips
    if w > h:  # the panorama: panels high enough to see something (the tall photo keeps its 360 px height)
        assert min(height for _, height in pasted) >= 60
    else:
        assert all(height == 360 for _, height in pasted)


def test_the_figure_title_does_not_round_an_almost_sure_class_to_certain(result):
    import dataclasses

    from gradflip_desktop.core.figure import figure_title

    sure = dataclasses.replace(result, original=dataclasses.replace(result.original, probability=0.9997))
    title = figure_title(sure)
    assert f"{result.original.label} (99.9 %) →" in title and "100.0 %" not in title


def test_a_run_with_nothing_to_flip_says_no_change_instead_of_sizing_the_rounding(tiny, tiny_image):
    """Targeting the class the model already predicts changes nothing: the map panel's caption says so,
    and when the photo is not 8-bit (a float image) the saved image's rounding is named as such, not as a change."""
    from gradflip_desktop.core.figure import describe_change

    top = int(np.argmax(tiny.probabilities(tiny_image)))
    result = run(tiny, tiny_image, ExplainOptions(target=top))
    assert result.status == Status.ALREADY and not result.steps
    text = describe_change(result)
    if result.l2_saved == 0.0:
        assert text == "no change (nothing to flip)"
    else:
        assert text.startswith("no change (nothing to flip); 8-bit rounding only: L2 ")
    # a float photo off the 8-bit lattice: the rounding is there, and it is labelled as rounding
    off = np.clip(np.asarray(tiny_image, dtype=np.float32) + 0.3 / 255, 0, 1)
    result = run(tiny, off, ExplainOptions(target=top))
    assert result.l2_saved > 0
    assert describe_change(result) == (
        "no change (nothing to flip); 8-bit rounding only: "
        f"L2 {result.l2_saved:.3f} · max {255 * result.linf_saved:.1f}/255 · "
        f"RMS {255 * result.l2_saved / np.sqrt(result.delta.size):.2f}/255"
    )
    # a run that flipped keeps the plain sizes
    flipped = run(tiny, tiny_image, ExplainOptions(style="blur"))
    assert describe_change(flipped).startswith("L2 ")


def test_the_figure_of_a_run_with_nothing_to_flip_gives_its_empty_map_no_brightness_scale(monkeypatch, tiny, tiny_image):
    """Nothing to flip: the figure's map is all zero, and its caption said "bright = changed most ... (full
    brightness: this photo's top 0.5 %)" over it; it says there is no map, as the window's Difference row does."""

    from gradflip_desktop.core.figure import render_figure

    drawn = drawn_texts(monkeypatch)
    top = int(np.argmax(tiny.probabilities(tiny_image)))
    render_figure(run(tiny, tiny_image, ExplainOptions(target=top)))
    text = " ".join(drawn).replace("\n", " ")
    assert "no map: nothing to flip, so the photo was not changed" in text and "full brightness" not in text
    drawn.clear()
    render_figure(run(tiny, tiny_image, ExplainOptions(style="blur")))  # a run that changed the photo keeps its scale
    assert "full brightness" in " ".join(drawn).replace("\n", " ")


def test_the_figure_subtitle_counts_one_step_and_one_evaluation_in_the_singular(tiny, tiny_image):
    # a 1-step budget run's figure said "1 steps, 2 gradient + 3 forward evaluations"
    from dataclasses import replace

    from gradflip_desktop.core.figure import figure_subtitle

    result = run(tiny, tiny_image, ExplainOptions(mode="fixed", epsilon=1e-6, max_steps=1))
    assert len(result.steps) == 1
    text = figure_subtitle(result)
    assert text.startswith("1 step, ") and "1 steps" not in text
    one = replace(result, steps=[], gradient_evaluations=0, forward_evaluations=1)
    assert figure_subtitle(one).startswith("0 steps, 0 gradient + 1 forward evaluation, ")
    many = figure_subtitle(replace(result, gradient_evaluations=2, forward_evaluations=3))
    assert "2 gradient + 3 forward evaluations, " in many and "mode fixed, epsilon 1e-06" in many


def test_every_figure_panel_has_a_visible_edge_on_the_white_page(tiny):
    """A PNG with transparency is composited on white: on the white figure its Original seemed cropped (no edge)."""
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.figure import render_figure

    white = np.ones((24, 32, 3), np.float32)
    white[8:16, 10:22] = 0.3  # something to explain on a white page
    res = run(tiny, white, ExplainOptions(style="free", max_steps=50))
    fig = render_figure(res)
    grey = np.all(fig == 200, axis=2)
    runs = [int(grey[r].sum()) for r in range(fig.shape[0])]
    edges = [r for r, n in enumerate(runs) if n >= 0.5 * fig.shape[1] / 4]  # a frame's top or bottom edge
    assert len(edges) >= 2  # the panels' frames: above and below the images
    top = edges[0]
    assert not grey[top + 1: top + 3].all(axis=1).any()  # a 1 px line, not a grey band


def test_a_group_run_on_another_class_and_a_targeted_run_are_titled_for_what_they_are(result):
    """"--group cat" on Grace Hopper: the title read "any cat (military uniform 39.31 %) -> military uniform
    (nothing to flip)", a uniform called a cat. A targeted run's figure never said the class was chosen: it read as
    if the model had drifted to "cup" by itself."""
    from dataclasses import replace

    from gradflip_desktop.core.figure import figure_subtitle, figure_title

    others = [i for i in range(len(result.labels)) if i != result.original.index][:2]
    outside = replace(result, explained=others, explained_name="low")
    group = sum(float(result.original_probabilities[i]) for i in others)
    title = figure_title(outside)
    assert "any low (" not in title.split(" → ")[0]
    assert title.split(" · ")[2].startswith(f"{result.original.label} (") and "any low " in title
    from gradflip_desktop.core.summary import pct

    assert f"{result.original.label} (" in title and f"; any low {pct(group)}) → " in title
    assert not figure_subtitle(result).startswith("target chosen")
    targeted = replace(result, target=result.final)
    assert figure_subtitle(targeted).startswith(f"target chosen: {result.final.label} · ")


def test_two_far_apart_specks_are_in_the_dashed_boxes_plural():
    """Under 1 % each group of blobs gets its own dashed box: two far apart drew two boxes, and the caption said
    "(in the dashed box)" (a newcomer's walk)."""
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.figure import key_region_caption
    from gradflip_desktop.core.results import KeyRegion
    from gradflip_desktop.core.viz import maps

    def region(points):
        mask = np.zeros((200, 200), bool)
        for y, x in points:
            mask[y:y + 3, x:x + 3] = True
        return KeyRegion(pixels=int(mask.sum()), fraction=float(mask.mean()), components=len(points), flips=True,
                         prediction=Prediction(3, "candle", 0.4), mask=mask, ranking=np.zeros((200, 200), np.int32),
                         fill="blur sigma = long side / 8")

    apart = region([(10, 10), (180, 180)])
    near = region([(100, 100), (104, 108)])
    assert maps.dashed_boxes(apart.mask) == 2 and maps.dashed_boxes(near.mask) == 1
    layer = maps.key_region_layer(apart.mask)
    assert layer[..., 3][:60, :60].max() == 255 and layer[..., 3][140:, 140:].max() == 255  # drawn: a box at each
    assert key_region_caption(apart) == "removing detail in 0.04 % (in the dashed boxes) → candle"
    assert key_region_caption(near).endswith("(in the dashed box) → candle")


@pytest.fixture(scope="module")
def region_result():
    """A region-style run on the tiny model whose key region (about 8 % of the photo) flips alone."""
    rng = np.random.default_rng(1)
    pixels = np.kron(rng.uniform(0.2, 0.8, size=(8, 8, 3)), np.ones((6, 6, 1))).astype(np.float32)
    res = run(make_tiny(), pixels, ExplainOptions())
    assert res.key_region is not None and res.key_region.flips and 0 < res.key_region.fraction < 0.5
    return res


def _panels(monkeypatch, res):
    """The headings and captions the figure draws (render_figure's text calls)."""

    from gradflip_desktop.core.figure import render_figure

    drawn = drawn_texts(monkeypatch)
    return render_figure(res), drawn


def test_the_figure_shows_the_image_the_key_regions_claim_is_about(monkeypatch, region_result):
    """The sentence says what removing detail in the key region alone turns the photo into; the figure showed
    the region outlined on the untouched photo only. A fifth panel, "Key region alone", is that very image (the
    8-bit one the key-region search classified), outlined, captioned with the class it gets."""
    from gradflip_desktop.core.summary import alone_text
    from gradflip_desktop.core.viz import maps

    res = region_result
    seen = []
    real = maps.key_region_overlay
    monkeypatch.setattr(maps, "key_region_overlay",
                        lambda img, mask, scale=1, veil=True: seen.append((np.array(img), veil)) or real(img, mask, scale, veil))
    fig, drawn = _panels(monkeypatch, res)
    assert "Key region alone" in drawn
    said = alone_text(res)
    assert said is not None and said.startswith(f"{res.key_region.prediction.label} (")
    assert said in " ".join(drawn)
    assert [veil for _, veil in seen] == [True, False]  # the key region (veiled), then the region alone (outline only)
    alone = seen[1][0]
    np.testing.assert_array_equal(alone, res.key_region_image())
    inside, outside = res.key_region.mask, ~res.key_region.mask
    assert not np.allclose(alone[inside], res.original_pixels[inside], atol=1 / 255)  # the region's detail is gone
    np.testing.assert_allclose(alone[outside], res.original_pixels[outside], atol=0.5 / 255)  # the rest untouched
    without = replace(res, fill_pixels=None)  # a stored result without its fill-in: four panels, as before
    narrow, drawn4 = _panels(monkeypatch, without)
    assert "Key region alone" not in drawn4 and narrow.shape[1] < fig.shape[1]


def test_no_key_region_alone_panel_when_no_region_alone_flips(monkeypatch, region_result):
    from dataclasses import replace as swap

    res = replace(region_result, key_region=swap(region_result.key_region, flips=False))
    _, drawn = _panels(monkeypatch, res)
    assert "Key region alone" not in drawn and "Key region" in drawn


# F06 (original_caption: the `if str(n).strip()` filter dropped): an empty or blank loading note adds nothing
def test_the_original_caption_leaves_out_blank_notes(result):
    from gradflip_desktop.core.figure import original_caption

    plain = original_caption(result)
    assert original_caption(result, ["", "  "]) == plain
    assert original_caption(result, ["", "scaled to 16 px", " "]) == f"{plain} · scaled to 16 px"


# F09 (render_figure: slot = max(pw, MIN_SLOT) -> slot = pw): a tall, narrow photo's panels sit in columns at least
# MIN_SLOT wide, so that their headings are drawn whole (in a 27 px column "Importance map" was cut to a stub)
def test_a_tall_narrow_photos_panels_keep_columns_wide_enough_for_their_headings(monkeypatch):
    import numpy as np

    from helpers import make_tiny
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.figure import MIN_SLOT, render_figure
    from gradflip_desktop.core.options import ExplainOptions

    rng = np.random.default_rng(3)
    pixels = np.kron(rng.uniform(0.2, 0.8, size=(40, 3, 3)), np.ones((4, 4, 1))).astype(np.float32)  # 160 x 12
    res = run(make_tiny(), pixels, ExplainOptions())
    drawn = drawn_texts(monkeypatch)
    fig = render_figure(res)
    panels = 4 + ("Key region alone" in drawn)
    assert fig.shape[1] >= 12 + panels * (MIN_SLOT + 12)
    assert {"Original", "Adjusted", "Key region"} <= set(drawn), drawn


def test_the_original_caption_says_the_working_size_once(result):
    """The figure's Original caption said "scaled from 451×300 to 224×149 …" and then the model's note that the
    working size reduced it from 451×300: the second names both sizes, so the first is left out (said_notes)."""
    from gradflip_desktop.core.figure import original_caption

    plain = original_caption(result)
    scaled = "scaled from 451×300 to 224×149 (working size 224 px)"
    enlarged = ("the model enlarges it 1.5× along a side to see its 224×224 input after the working size reduced it "
                "from 451×300 to 224×149: a larger working size keeps detail")
    assert original_caption(result, [scaled, enlarged]) == f"{plain} · {enlarged}"
    assert original_caption(result, [scaled]) == f"{plain} · {scaled}"
