"""The key-set explorer's answer (ui/controllers/difference.py): worded as the figure's caption."""

from __future__ import annotations

import numpy as np
import pytest

from gradflip_desktop.core.models import Prediction
from gradflip_desktop.ui.controllers.difference import key_answer_text

pytestmark = pytest.mark.gui

VELVET = Prediction(885, "velvet", 0.0168)


def test_a_region_filled_with_the_mean_colour_is_not_called_removing_detail():
    # a targeted run whose blur cannot reach the target fills with the mean colour: the figure said
    # "filling with the mean colour everywhere gives velvet", the window "removing its detail does not flip it"
    text = key_answer_text("region", 100, 100, VELVET, False, "mean colour", "tiger cat")
    assert "removing its detail" not in text
    assert "filling it with the mean colour" in text
    assert "does not make it tiger cat: <b>velvet</b> (1.7 %)" in text


def test_blur_and_untargeted_wording_stays():
    text = key_answer_text("region", 1956, 50176, Prediction(470, "candle", 0.401), True, "blur sigma = long side / 8")
    assert text == ("key region: 3.9 % of the image (1,956 pixels; the Original is dimmed outside it), removing its detail "
                    "flips it to <b>candle</b> (40.1 %)")
    # a dark photo's veil lightens the rest (core.viz.maps.is_dark): "dimmed" named the opposite of what is shown
    dark = key_answer_text("region", 1956, 50176, Prediction(470, "candle", 0.401), True, dark=True)
    assert "the Original is lightened outside it" in dark and "dimmed" not in dark
    miss = key_answer_text("pixels", 1, 400, Prediction(285, "Egyptian cat", 0.5), False)
    assert miss == "key pixels: 1 pixel, 0.2 % of the image, do not flip it: <b>Egyptian cat</b> (50.0 %)"
    target = key_answer_text("pixels", 4, 400, Prediction(285, "Egyptian cat", 0.5), False, target="tiger cat")
    assert target.endswith("do not make it tiger cat: <b>Egyptian cat</b> (50.0 %)")


def test_key_pixels_spread_over_much_of_the_photo_point_to_the_difference_view():
    """"Explain any cat" then the textbook change on the sample: key pixels 52.1 % of the image, but the Original showed
    three small marks (over a quarter they are not tinted, and their closed region's edge is the photo's own). The
    answer says where they are drawn one by one; a small set, tinted on the Original, needs no pointer."""
    many = key_answer_text("pixels", 70440, 135300, Prediction(534, "dishwasher", 0.013), True)
    assert many == ("key pixels: 70,440 pixels, 52 % of the image (Difference ▸ Key-pixel outline shows each), "
                    "flip it to <b>dishwasher</b> (1.3 %)")
    few = key_answer_text("pixels", 11893, 135300, Prediction(282, "tiger cat", 0.343), True)
    assert "Key-pixel outline" not in few


def test_moving_the_region_slider_says_key_region_while_it_classifies(qtbot, window):
    """The interim answer named "key pixels" while the explorer showed a key region."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings())  # the default: key region
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert window.difference.keys is not None and window.difference.keys.kind == "region"
    found = window.views.key_count
    with qtbot.waitSignal(window.key_answer_shown, timeout=30_000):
        window.views.key_slider.setValue(window.views.key_slider.value() // 2)
        interim = window.views.key_answer.text()
    assert interim.startswith("key region: ") and "classifying" in interim
    assert window.views.key_count < found
    assert window.views.key_answer.text().startswith("key region: ")


def test_the_summary_never_wraps_a_number_away_from_its_percent_sign(qtbot, window):
    """"over the whole photo (Adjusted) it becomes eggnog (9.5" at a line's end and "%)" on the next one."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings())
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    text = window.views.summary.text()
    assert "%" in text and " %" not in text and "&nbsp;%" in text


def test_a_region_run_in_the_key_set_mode_never_speaks_of_key_pixels(qtbot, window):
    """After a textbook run the Difference mode stayed "Key-pixel outline"; the next key-region run showed
    that name and "key pixels are found after the flip" in the status bar while it ran (the region style
    finds no key pixels), and only its result renamed the mode "Key region outline" (now "Key region alone")."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.core.viz.difference import KEY_PIXELS
    from gradflip_desktop.ui.settings import RunSettings

    views = window.views
    window.controls.set_settings(RunSettings(style="free", max_steps=20))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    views.mode_box.setCurrentIndex(views.mode_box.findData(KEY_PIXELS))
    assert views.mode_box.currentText() == "Key-pixel outline"
    statuses, names = [], []
    window.difference_shown.connect(lambda diff: (statuses.append(window.status_label.text()),
                                                  names.append(views.mode_box.currentText())))
    window.controls.set_settings(RunSettings())  # the default: key region
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
        assert views.mode_box.currentText() == "Key region alone"  # named as soon as the run starts
    qtbot.wait(300)
    assert statuses and not any("key pixel" in s.lower() for s in statuses), statuses
    # a sentence that says why the panel shows the change (it read "the key region is found after the flip")
    assert any(s == "The key region is found after the flip: until then the third panel shows the change so far"
               for s in statuses), statuses
    assert set(names) == {"Key region alone"}, names
    # and back: a textbook run names key pixels again from its start
    window.controls.set_settings(RunSettings(style="free", max_steps=20))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
        assert views.mode_box.currentText() == "Key-pixel outline"


def test_before_any_run_the_key_set_mode_is_named_by_the_chosen_style(qtbot, window):
    """At start-up (Difference mode remembered as the key-set view, style key region) the mode read
    "Key-pixel outline" until a run began."""
    from gradflip_desktop.core.viz.difference import KEY_PIXELS

    views, style = window.views, window.controls.style
    name = lambda: views.mode_box.itemText(views.mode_box.findData(KEY_PIXELS))  # noqa: E731
    assert window.result is None and style.currentData() == "region"
    assert name() == "Key region alone"
    style.setCurrentIndex(style.findData("free"))
    assert name() == "Key-pixel outline"
    style.setCurrentIndex(style.findData("region"))
    assert name() == "Key region alone"


def test_a_region_over_most_of_the_image_is_named_as_drawn_hatched():
    # the overlay hatches a region over half of the image (core.viz.maps.key_region_layer); the answer says so
    text = key_answer_text("region", 39187, 50176, Prediction(470, "candle", 0.401), True, "blur sigma = long side / 8")
    assert text == ("key region: 78 % of the image, hatched: most of it (39,187 pixels), "
                    "removing its detail flips it to <b>candle</b> (40.1 %)")
    assert "hatched" not in key_answer_text("region", 25088, 50176, VELVET, True)  # half: outlined only
    assert "hatched" not in key_answer_text("region", 50176, 50176, VELVET, False)  # all of it: nothing to hatch


def test_the_app_draws_a_region_over_most_of_the_image_hatched_as_the_figure_does():
    """The overlay over the Original (outline_task, the explorer's too) is the core's key_region_layer: a
    region over half of the image gets the figure's yellow stripes, not just outlines round the holes."""
    import numpy as np

    from gradflip_desktop.core.viz.maps import REGION_LINE_RGB, key_region_layer, outline_scale, upscale
    from gradflip_desktop.ui.controllers.difference import outline_task

    mask = np.ones((90, 120), bool)
    mask[30:50, 40:70] = False  # the region: 94 % of the image
    layer = outline_task(None, mask, "region")
    f = outline_scale(mask.shape)  # a photo this small is drawn larger (the next test)
    assert np.array_equal(layer, key_region_layer(mask, f))
    stripes = (layer[..., :3] == REGION_LINE_RGB).all(-1) & (layer[..., 3] > 0) & (layer[..., 3] < 255)
    big = upscale(mask, f)
    assert stripes[big].mean() > 0.15 and not stripes[~big].any()


def test_a_small_photos_key_region_shows_its_pixels_inside_a_thin_outline():
    """An 8 x 8 photo's 3-pixel key region was drawn on the photo's own grid: the 1 px outline made the
    region's pixels solid yellow and its 1 px dark edge blacked out their neighbours, so the Original showed
    nothing of what the region holds (a 32 x 32, CIFAR-sized photo alike). The layer is drawn finer."""
    import numpy as np

    from gradflip_desktop.core.viz.maps import REGION_EDGE_RGB, REGION_LINE_RGB
    from gradflip_desktop.ui.controllers.difference import outline_task

    for side, cells in ((8, [(0, 4), (2, 3), (2, 4)]), (32, [(10, 10), (10, 11), (11, 10), (20, 25)])):
        mask = np.zeros((side, side), bool)
        for y, x in cells:
            mask[y, x] = True
        layer = outline_task(None, mask, "region")
        f = layer.shape[0] // side
        assert layer.shape[:2] == (side * f, side * f) and layer.shape[0] >= 128, layer.shape
        for y, x in cells:  # the middle of each region pixel: the photo as it is
            assert layer[y * f + f // 2, x * f + f // 2, 3] == 0, (side, y, x)
        # the pixels next to the region are veiled as the rest is, not blacked out by the outline's edge
        y, x = cells[0]
        x_next = x + 1 if not mask[y, x + 1] else x - 1
        assert not mask[y, x_next]
        centre = layer[y * f + f // 2, x_next * f + f // 2]
        assert tuple(centre[:3]) != REGION_EDGE_RGB and tuple(centre[:3]) != REGION_LINE_RGB and centre[3] < 255


def test_a_region_the_search_faded_toward_the_mean_colour_is_named_so():
    text = key_answer_text("region", 4896, 10404, Prediction(70, "harvestman", 0.045), True,
                           "mean colour amount found by the search")
    assert text == ("key region: 47 % of the image (4,896 pixels; the Original is dimmed outside it), no small region "
                    "does it: fading it toward the mean colour flips it to <b>harvestman</b> (4.5 %)")


def test_a_broad_slider_choice_is_not_called_no_small_region_when_a_small_one_flipped():
    # astronaut: the run found 1.7 % flips it; the slider at 38 % said "no small region does it"
    candle = Prediction(470, "candle", 0.401)
    text = key_answer_text("region", 19000, 50176, candle, True, "blur sigma = long side / 8", smallest_flip=850)
    assert "no small region" not in text
    alone = key_answer_text("region", 19000, 50176, candle, True, "blur sigma = long side / 8", smallest_flip=15000)
    assert "no small region does it: removing its detail" in alone


def test_the_key_sets_share_reads_as_in_the_sentence_the_figure_and_the_cli():
    """coffee.png, --style blur: the sentence, the figure's caption and the CLI said "27,833 px (12 %)", the key row
    under them "11.6 % of the image"; the region style's "16 %" read "16.0 %" there. One rounding (core.summary.share)."""
    from gradflip_desktop.core.summary import share

    text = key_answer_text("pixels", 27833, 240000, Prediction(925, "consomme", 0.111), True)
    assert text.startswith(f"key pixels: 27,833 pixels, {share(27833 / 240000)} of the image") and "12 %" in text
    region = key_answer_text("region", 38380, 240000, Prediction(470, "candle", 0.13), True, "blur sigma = long side / 8")
    assert region.startswith("key region: 16 % of the image (38,380 pixels") and "16.0 %" not in region
    assert "0.2 % of the image" in key_answer_text("pixels", 1, 400, Prediction(285, "Egyptian cat", 0.5), False)


def test_the_key_region_mode_shows_the_key_region_alone_and_gives_the_panel_back(qtbot, window):
    """The key-region line ("removing its detail flips it to …") spoke of an image no panel showed: in the key
    region's mode the third panel is that image (titled and captioned so), and any other mode gives it back to
    the difference with the change's caption."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.core.viz.difference import KEY_PIXELS, MAGNITUDE, SIGNED

    views = window.views
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    qtbot.wait(300)
    result = window.result
    assert result.key_region is not None
    change = views.difference.caption.text()
    assert change.startswith("change:")
    with qtbot.waitSignal(window.difference_shown, timeout=10_000) as shown:
        views.mode_box.setCurrentIndex(views.mode_box.findData(KEY_PIXELS))
    assert shown.args[0].alone
    assert views.difference.title.text() == "<b>Key region alone</b>"
    assert not views.slider.isEnabled()  # no map there: an opacity slider that moved nothing (it set the next mode's)
    assert "only the outlined region" in views.difference.caption.text()
    inside = result.key_region.mask_for(result.key_region.pixels)
    alone = np.round(result.key_region_image() * 255).astype(int)
    drawn = shown.args[0].rgb.astype(int)
    line = np.all(drawn == (255, 217, 26), axis=-1) | np.all(drawn == (26, 26, 26), axis=-1)
    assert np.abs(drawn - alone)[inside & ~line].max() <= 1  # the image the key region's answer classified
    with qtbot.waitSignal(window.difference_shown, timeout=10_000) as shown:
        views.mode_box.setCurrentIndex(views.mode_box.findData(MAGNITUDE))
    assert not shown.args[0].alone
    # titled by what it shows, as the figure's heading of it: the run's map, not a "Difference"
    assert views.mode_box.currentText() == "Importance map"
    assert views.difference.title.text() == "<b>Importance map</b>"
    assert views.slider.isEnabled()
    assert views.difference.caption.text() == change
    with qtbot.waitSignal(window.difference_shown, timeout=10_000):
        views.mode_box.setCurrentIndex(views.mode_box.findData(SIGNED))  # the change itself
    assert views.difference.title.text() == "<b>Difference</b>"


def test_the_difference_opacity_is_remembered_as_the_mode_is(qtbot, settings):
    """The Difference mode came back after a restart, its Opacity did not (75 % again)."""
    from gradflip_desktop.ui.main_window import MainWindow

    settings.setValue("view/difference_mode", "signed")
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.views.slider.setValue(40)
    assert w.views.opacity == pytest.approx(0.40)
    w.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert again.views.mode == "signed" and again.views.opacity == pytest.approx(0.40)
    assert again.views.slider.value() == 40 and again.views.slider_label.text() == "Opacity 40 %"
    again.close()
    settings.setValue("view/difference_opacity", "not a number")  # an unreadable value keeps the default
    third = MainWindow(settings=settings)
    qtbot.addWidget(third)
    assert third.views.opacity == pytest.approx(0.75)
    third.close()


def test_a_remembered_key_region_mode_says_before_a_run_when_it_applies(qtbot, settings):
    """At start-up with the mode remembered as "Key region alone", the box said so over a panel titled Difference
    with Opacity live and nothing else: until a run finds the region the panel shows the change (its Opacity
    applies), and now its caption says so; the mode's own title and greyed-out Opacity come with the result."""
    from gradflip_desktop.core.viz.difference import MAGNITUDE
    from gradflip_desktop.ui.main_window import MainWindow

    settings.setValue("view/difference_mode", "key")
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    views = w.views
    assert views.mode_box.currentText() == "Key region alone"
    caption = views.difference.caption.text()
    assert caption.startswith("<i>Key region alone: shown once a run has found the key region.")
    assert "Opacity applies" in caption and views.slider.isEnabled()
    assert views.difference.title.text() == "<b>Difference</b>"
    style = w.controls.style
    style.setCurrentIndex(style.findData("free"))  # the textbook style finds key pixels: the words follow
    assert views.difference.caption.text().startswith("<i>Key-pixel outline: shown once a run has found the key pixels.")
    views.set_mode(MAGNITUDE)
    assert views.difference.caption.text() == ""
    views.set_mode("key")
    views.set_change_caption("change: L2 1.0")  # a run's change: its caption, not the note
    assert views.difference.caption.text() == "change: L2 1.0"
    views.clear_result()  # a new photo: before a result again
    assert views.difference.caption.text().startswith("<i>Key-pixel outline: shown once")
    w.close()


def test_the_key_region_line_gives_the_explained_class_there_as_the_sentence_and_the_figure_do(qtbot, window):
    """The sentence says "into missile (26 %; drilling platform now 18 %)"; the key-region line said only "missile
    (26.0 %)", so the 18 % stood nowhere else in the window. The line words it as the sentence (the figure's
    "Key region alone" panel too), and a region the user sets with the slider gets the same words."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.core.summary import alone_text

    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    qtbot.wait(300)
    result = window.result
    region = result.key_region
    assert region is not None and region.flips and region.explained_probability is not None
    line = window.views.key_answer.text().replace("&nbsp;", " ")
    words = alone_text(result)  # "<new class> (<its %>; <explained class> now <%>)"
    label, paren = words.split(" (", 1)
    assert f"flips it to <b>{label}</b> ({paren}" in line and " now " in paren, (line, words)
    with qtbot.waitSignal(window.key_answer_shown, timeout=30_000) as answer:
        window.views.set_key_count(max(1, region.pixels // 2))
    there = answer.args[0]
    probs = window.models.session.classifier.probabilities(result.key_region_image(there.count))
    assert there.explained == pytest.approx(float(sum(probs[i] for i in result.explained)), abs=1e-6)
    line = window.views.key_answer.text().replace("&nbsp;", " ")
    if result.is_flip(there.top[0].index):
        assert f"<b>{there.top[0].label}</b> (" in line and f"; {result.original.label}" in line, line
    for count in (0, region.pixels):  # nothing changed: the explained class itself, no "now"; the region again
        with qtbot.waitSignal(window.key_answer_shown, timeout=30_000) as answer:
            window.views.set_key_count(count)
        line = window.views.key_answer.text().replace("&nbsp;", " ")
        assert (" now " in line or "just below it" in line) == (count > 0), line


def test_the_colour_bar_says_what_full_brightness_is_as_the_figure_does(qtbot, window):
    """The bar ended at about 83 % under "importance map (%)" with no word why; the figure says "full brightness:
    this photo's top 0.5 %". The bar's tooltip says so, and the bar ends at that value of the map."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.core.viz import maps

    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    # the run's last live map first, then the result's importance map
    qtbot.waitUntil(lambda: "importance map (%)" in window.views.colorbar_view.toolTip(), timeout=10_000)
    tip = window.views.colorbar_view.toolTip()
    assert "Full brightness is this photo's top 0.5 % of the map" in tip and "importance map (%)" in tip, tip
    top = maps.heat_top(window.result.importance_map())
    assert window.views.colorbar.levels()[1] == pytest.approx(100 * top, rel=1e-4)


def test_a_group_runs_key_region_line_names_the_group_where_it_does_not_flip(qtbot, window):
    """An "any cat" run: a slider region that does not flip it said "does not flip it: Egyptian cat (82.5 %)", one
    member of the group, while the same line at the region's size said "any cat now 0.2 %". It names the group."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings(target_mode="group", group="cat"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    result = window.result
    assert len(result.explained) == 5 and result.key_region is not None
    with qtbot.waitSignal(window.key_answer_shown, timeout=30_000) as answer:
        window.views.set_key_count(0)
    assert result.original.index in result.explained and not result.is_flip(answer.args[0].top[0].index)
    line = window.views.key_answer.text().replace("&nbsp;", " ")
    assert f"does not flip it: <b>any cat</b> ({100 * answer.args[0].explained:.1f} %)" in line, line


def test_ticking_rise_too_is_remembered_for_the_next_window(qtbot, settings):
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert not w.compare.rise_box.isChecked()
    w.compare.rise_box.setChecked(True)  # the user ticks "RISE too"
    w.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert again.compare.rise_box.isChecked()
    again.close()


def test_the_key_set_answer_of_a_group_run_weighs_the_whole_group():
    """A group run's key-set line gives the group's probability there: the sum of its classes, as the sentence does."""
    import dataclasses

    from helpers import make_tiny, tiny_image_array

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.controllers.difference import key_pixels_task
    from gradflip_desktop.ui.controllers.model_session import ModelSession

    clf = make_tiny()
    result = run(clf, tiny_image_array(), ExplainOptions(style="free"))
    assert result.key_pixels is not None
    group = dataclasses.replace(result, explained=[0, 1, 2])
    session = ModelSession()
    session.classifier = clf
    count = result.key_pixels.count
    answer = key_pixels_task(None, session, group, count)
    probs = clf.probabilities(result.key_pixel_image(count))
    assert answer.count == count and answer.explained == pytest.approx(float(probs[[0, 1, 2]].sum()), abs=1e-6)
    assert answer.explained > float(probs[[0, 1, 2]].max()) + 1e-3  # not its strongest class alone


def test_the_key_pixel_line_gives_the_explained_class_there_as_the_key_region_line_does(qtbot, settings):
    """The textbook style's key-pixel line said only "flip it to tabby (41.0 %)", while the key region's says what the
    explained class still has there ("41 %; Egyptian cat now 23 %"): the key pixels carry that share too (the record's
    ``key_pixels.explained_probability``) and the line words it as the key region's."""
    from types import SimpleNamespace

    from helpers import make_tiny, tiny_image_array

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.summary import alone_probabilities
    from gradflip_desktop.ui.main_window import MainWindow

    pixels = tiny_image_array()
    result = run(make_tiny(), pixels, ExplainOptions(style="free"))
    kp = result.key_pixels
    assert kp is not None and kp.flips and kp.explained_probability is not None
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.image = SimpleNamespace(size=(pixels.shape[1], pixels.shape[0]), name="tiny.png")
    w.result = result
    w.difference.set_result(result)
    line = w.views.key_answer.text().replace("&nbsp;", " ")
    paren = alone_probabilities(result, kp.prediction, kp.explained_probability)
    assert f"flip it to <b>{kp.prediction.label}</b> ({paren})" in line, (line, paren)
    assert f"; {result.original.label} " in paren, paren  # "now 23 %" or, on a near tie, "just below it"
    w.close()
