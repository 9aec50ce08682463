"""The gallery page (core/dataset/gallery.py): its numbers are worded as the figure's."""

from __future__ import annotations

from gradflip_desktop.core.dataset.gallery import write_gallery


def _row(name: str, p: float, fraction: float) -> dict:
    return {"file": f"{name}.png", "name": name, "status": "flipped", "message": "", "original_label": "yurt",
            "original_probability": p, "final_label": "patio", "final_probability": 0.163, "l2_saved": 46.5,
            "key_fraction": fraction, "steps": 34}


def test_an_almost_sure_class_is_not_called_certain_and_the_drawing_is_explained(tmp_path):
    """A photo the model is 99.97 % sure of: the figure's title says "yurt (99.9 %)", the gallery said
    "yurt (100.0 %)". The page also says how a key region over most of the image (hatched) and one of a few
    pixels (a dashed box) are drawn in its thumbnails."""
    rows = [_row("sure", 0.9997, 0.144), _row("plain", 0.79, 0.004), _row("one", 0.79, 2e-5)]
    page = write_gallery(tmp_path, rows, {}).read_text("utf-8")
    assert "yurt (99.9 %) → patio (16.3 %)" in page and "100.0 %" not in page
    assert "yurt (79.0 %)" in page and ">0.4 %<" in page  # the key set's share as the sentence writes it
    assert ">0.002 %<" in page and "0.00 %" not in page  # a 1-pixel key set is not "0.00 %"
    assert "hatched when it covers most of the image" in page and "dashed box" in page


def test_a_run_that_did_not_flip_is_not_sorted_as_the_easiest_to_flip(tmp_path):
    """Nothing to flip (or out of budget): the saved change is only 8-bit rounding or one step (L2 0.24),
    which sorted the photo first in "how easily each photo flips" and read "bobsled → bobsled" under
    "class → flipped to". Its L2 is left out of the sortable column and the row says it did not flip."""
    rows = [_row("cat", 0.79, 0.44),
            {**_row("sled", 0.381, ""), "status": "nothing_to_flip", "original_label": "bobsled",
             "final_label": "bobsled", "final_probability": 0.381, "l2_saved": 0.238},
            {**_row("stop", 0.5, 0.031), "status": "cancelled", "l2_saved": 3.5}]
    page = write_gallery(tmp_path, rows, {}).read_text("utf-8")
    sled = page[page.index(">sled.png<"):]
    sled = sled[: sled.index("</tr>")]
    assert "bobsled (38.1 %) → bobsled (38.1 %), not flipped" in sled
    assert 'data-v=""' in sled and "0.238" not in sled
    cat = page[page.index(">cat.png<"):]
    assert 'data-v="46.5">46.5<' in cat[: cat.index("</tr>")] and "not flipped</td>" not in cat[: cat.index("</tr>")]
    stop = page[page.index(">stop.png<"):]
    stop = stop[: stop.index("</tr>")]  # cancelled past its flip: neither its change nor its key set is ranked
    assert "3.10 %" not in stop and ">3.5<" not in stop and "not flipped" in stop


def test_a_panorama_thumbnail_does_not_widen_the_gallery(tmp_path):
    """A 4000 x 300 panorama (1024 x 77 at working size) made a 3,837 px wide strip at the gallery's 96 px
    height: the results table grew as wide and every row's class, L2 and key set went off the page. Each
    panel is at most three times as wide as it is high now; the photo sits on white, centred."""
    from types import SimpleNamespace

    import numpy as np

    from gradflip_desktop.core.dataset.gallery import THUMB_HEIGHT, thumbnail_strip
    from gradflip_desktop.core.results import KeyRegion

    rng = np.random.default_rng(0)

    def result(h, w, region=False):
        mask = np.zeros((h, w), bool)
        mask[h // 4: h // 2, w // 3: w // 2] = True
        kr = KeyRegion(pixels=int(mask.sum()), fraction=float(mask.mean()), components=1, flips=True,
                       prediction=None, mask=mask, ranking=np.zeros((h, w), np.int32)) if region else None
        return SimpleNamespace(original_pixels=rng.random((h, w, 3), dtype=np.float32), key_pixels=None,
                               key_region=kr, importance_map=lambda: rng.random((h, w), dtype=np.float32))

    for region in (False, True):
        wide = thumbnail_strip(result(77, 1024, region))
        assert wide.shape[0] == THUMB_HEIGHT and wide.shape[1] <= 3 * 3 * THUMB_HEIGHT + 6, wide.shape
        assert (wide[:10] == 255).all() and (wide[-10:] == 255).all()  # letterboxed on white
        assert not (wide[THUMB_HEIGHT // 2] == 255).all()  # the photo is there
        usual = thumbnail_strip(result(300, 400, region))  # a 4:3 photo is drawn as before
        assert usual.shape == (THUMB_HEIGHT, 3 * 128 + 6, 3)
    # a strip (10,000 x 10: 1,024 x 1 at the working size) was a line one pixel high on white: stretched to 1/16 of
    # its panel's width, as the window draws it
    strip = thumbnail_strip(result(1, 1024))
    drawn = ~(strip[:, : 3 * THUMB_HEIGHT] == 255).all(axis=(1, 2))
    assert drawn.sum() == round(3 * THUMB_HEIGHT / 16), drawn.sum()
    tall = thumbnail_strip(result(1024, 1))  # and the other way round: a panel 1/16 as wide as it is high
    assert tall.shape[1] == 3 * round(THUMB_HEIGHT / 16) + 6, tall.shape


def test_sets_made_with_other_styles_are_told_apart(tmp_path):
    """A folder holding key-region sets and smallest-change sets (another run into the same --out): the page
    listed both without saying which was which, so sorting by L2 put every smallest change first as "easiest",
    and the per-class median mixed them (drilling platform: median of 16.32 and 0.172 = 8.245)."""
    rows = [{**_row("rocket", 0.536, 0.029), "original_label": "drilling platform", "l2_saved": 16.32, "style": "region"},
            {**_row("rocket_free", 0.536, 0.0069), "original_label": "drilling platform", "l2_saved": 0.172,
             "style": "free"},
            {**_row("cat", 0.79, 0.48), "original_label": "Egyptian cat", "l2_saved": 43.9, "style": "region",
             "group": "cat"}]
    page = write_gallery(tmp_path, rows, {}).read_text("utf-8")
    assert ">made with<" in page
    assert ">rocket_free.png</td><td>flipped</td><td>free</td>" in page
    assert ">cat.png</td><td>flipped</td><td>region · any cat</td>" in page
    assert "8.245" not in page  # no median across the two styles
    assert "drilling platform (region)" in page and "drilling platform (free)" in page


def test_inputs_an_interrupted_run_never_reached_are_not_counted_as_not_flipped(tmp_path):
    """Stopped (Ctrl+C, SIGTERM) before any image was done, the page read "13 inputs: 0 flipped, 13 not flipped":
    none of them was explained at all."""
    rows = [_row("done", 0.79, 0.4)] + [
        {**_row(f"p{i}", 0.5, ""), "status": "not run", "message": "the run stopped before this input",
         "original_label": "", "final_label": "", "l2_saved": ""} for i in range(3)]
    page = write_gallery(tmp_path, rows, {}).read_text("utf-8")
    assert "4 inputs: 1 flipped, 0 not flipped, 0 could not be read or explained, 3 not run" in page


def test_photos_of_other_sizes_compare_by_rms(tmp_path):
    """L2 grows with the number of pixels (the same cat: 23.0 at 451 px, 47.6 at 1,024 px; an 8 × 8 photo 0.064),
    so in a folder of mixed sizes sorting by L2 sorted by size. The page gives the RMS of the saved change per
    value in 8-bit levels (the record's ``rms_saved``) beside it, sortable."""
    rows = [_row("big", 0.79, 0.3), _row("small", 0.79, 0.3), {**_row("not", 0.5, ""), "status": "nothing_to_flip"}]
    records = {"big": {"rms_saved": 9.17 / 255}, "small": {"rms_saved": 12.5 / 255}, "not": {"rms_saved": 0.01}}
    page = write_gallery(tmp_path, rows, records).read_text("utf-8")
    assert ">RMS saved (/255)<" in page and "sortBy(results,6,true)" in page
    assert 'data-v="9.17">9.17<' in page and 'data-v="12.5">12.50<' in page
    assert page.count('data-v=""></td>') >= 2  # a run that did not flip: no RMS, as no L2 (never "the easiest")


def test_the_pages_rms_is_the_apps_tile_rms_to_the_last_digit(tmp_path):
    """chelsea's tile read "RMS 8.85/255" and index.html 8.86: the page rounded to 4 decimals, then to 2."""
    from gradflip_desktop.ui.widgets.gallery import outcome_text

    record = {"rms_saved": 8.854996 / 255, "flipped": True, "final": {"label": "tabby"}}
    page = write_gallery(tmp_path, [_row("cat", 0.79, 0.3)], {"cat": record}).read_text("utf-8")
    assert ">8.85<" in page and ">8.86<" not in page
    assert "(RMS 8.85/255)" in outcome_text(record)


def test_inputs_are_named_below_their_shared_folder_and_thumbnails_open_the_figures(tmp_path):
    """Two photos called x.png in subfolders a/ and b/ both read "x.png" on the page (summary.csv had the
    paths), and nothing on the page led to the figures. Each input is now shown by its path below the folder
    the inputs share, the full path as the cell's tooltip, and a thumbnail is a relative link to the figure."""
    from gradflip_desktop.core.dataset.gallery import THUMB_DIR

    rows = [{**_row("a_x", 0.79, 0.1), "file": "/data/run/a/x.png"}, {**_row("b_x", 0.7, 0.2), "file": "/data/run/b/x.png"}]
    (tmp_path / THUMB_DIR).mkdir()
    for r in rows:
        (tmp_path / THUMB_DIR / f"{r['name']}.jpg").write_bytes(b"jpeg")
        (tmp_path / f"{r['name']}.figure.png").write_bytes(b"png")
    records = {r["name"]: {"files": {"figure": f"{r['name']}.figure.png"}} for r in rows}
    records["b_x"]["files"]["figure"] = "gone b_x.figure.png"  # a figure that is not there is not linked
    page = write_gallery(tmp_path, rows, records).read_text("utf-8")
    assert '<td title="/data/run/a/x.png">a/x.png</td>' in page and '<td title="/data/run/b/x.png">b/x.png</td>' in page
    assert page.count('<a href="a_x.figure.png" title="open the figure"><img') == 1 and "gone" not in page
    lone = write_gallery(tmp_path, rows[:1], records).read_text("utf-8")
    assert ">x.png</td>" in lone  # one input: its file name


def test_a_thumbnails_veil_is_the_one_the_window_and_the_figure_draw():
    """Dark or not is decided on the photo, as the window and the figure decide it: the shrunk thumbnail's median
    differs (a fine texture of 60 % mid-grey and 40 % black pixels averages to dark), and its key panel was lifted
    while the figure dimmed the same photo."""
    from types import SimpleNamespace

    import numpy as np

    from gradflip_desktop.core.dataset.gallery import THUMB_HEIGHT, thumbnail_strip
    from gradflip_desktop.core.results import KeyRegion
    from gradflip_desktop.core.viz.maps import is_dark

    rng = np.random.default_rng(0)
    h, w = 300, 400
    photo = np.where(rng.random((h, w, 1)) < 0.6, 0.3, 0.0).repeat(3, axis=2).astype(np.float32)
    assert not is_dark(photo)
    mask = np.zeros((h, w), bool)
    mask[100:200, 150:250] = True
    kr = KeyRegion(pixels=int(mask.sum()), fraction=float(mask.mean()), components=1, flips=True, prediction=None,
                   mask=mask, ranking=np.zeros((h, w), np.int32))
    strip = thumbnail_strip(SimpleNamespace(original_pixels=photo, key_pixels=None, key_region=kr,
                                            importance_map=lambda: np.zeros((h, w), np.float32)))
    corner = strip[: THUMB_HEIGHT // 8, -THUMB_HEIGHT // 3:]  # the key panel's top right: outside the region
    assert corner.mean() / 255 < 0.3  # dimmed, as key_region_overlay(photo, mask) draws it (lifted: ~0.6)


def test_the_key_set_column_names_what_the_key_set_alone_gives_when_it_is_another_class(tmp_path):
    # "Egyptian cat → tiger cat | key set 36 %" hid that the region alone gives fox squirrel (the sentence's headline)
    base = {"file": "a.png", "name": "a", "status": "flipped", "original_label": "Egyptian cat",
            "original_probability": "0.79", "final_label": "tiger cat", "final_probability": "0.38", "l2_saved": "20",
            "key_fraction": "0.36", "steps": "19"}
    other = {**base, "key_label": "fox squirrel", "key_probability": "0.085"}
    same = {**base, "file": "b.png", "name": "b", "key_label": "tiger cat", "key_probability": "0.2"}
    html_text = write_gallery(tmp_path, [other, same], {}).read_text(encoding="utf-8")
    assert "→ fox squirrel (8.5 %)" in html_text
    assert "→ tiger cat (20" not in html_text  # the same class as the whole photo's: nothing to add


def test_a_near_tie_reads_as_a_flip_with_two_decimals_as_on_the_cli_line(tmp_path):
    """skimage's hubble_deep_field at 384 px: the CLI line and the figure's title said "bubble 8.80 % → nematode
    8.76 %", the gallery "bubble (8.8 %) → nematode (8.8 %)", which reads as no change."""
    rows = [{**_row("deep", 0.0880008, 0.005), "original_label": "bubble", "final_label": "nematode",
             "final_probability": 0.0875808}]
    page = write_gallery(tmp_path, rows, {}).read_text("utf-8")
    assert "bubble (8.80 %) → nematode (8.76 %)" in page


def test_a_thumbs_link_in_the_output_folder_is_not_followed(tmp_path):
    """An output folder holding a link `.thumbs` -> another folder (a results folder unzipped from elsewhere): each
    set's thumbnail, NAME.jpg, was written through it, replacing that folder's p0.jpg. The link is replaced by a
    folder of the run's own; what it pointed to is left as it was."""
    import os
    from types import SimpleNamespace

    import numpy as np
    import pytest

    from gradflip_desktop.core.dataset.gallery import THUMB_DIR, write_thumbnail

    other = tmp_path / "other"
    other.mkdir()
    (other / "p0.jpg").write_bytes(b"someone's photo")
    out = tmp_path / "out"
    out.mkdir()
    try:
        os.symlink(other, out / THUMB_DIR, target_is_directory=True)
    except OSError:
        pytest.skip("no symbolic links here")
    rng = np.random.default_rng(0)
    result = SimpleNamespace(original_pixels=rng.random((30, 40, 3), dtype=np.float32), key_pixels=None, key_region=None,
                             importance_map=lambda: rng.random((30, 40), dtype=np.float32))
    written = write_thumbnail(out, "p0", result)
    assert (other / "p0.jpg").read_bytes() == b"someone's photo"
    assert not (out / THUMB_DIR).is_symlink() and written.parent == out / THUMB_DIR and written.is_file()


def test_the_windows_strip_is_transparent_between_its_panels_and_the_pages_white():
    """The window's tiles drew index.html's strip: its white 3 px bars stood out on a dark theme's background."""
    from types import SimpleNamespace

    import numpy as np

    from gradflip_desktop.core.dataset.gallery import thumbnail_strip

    h, w = 60, 80
    photo = np.full((h, w, 3), 0.2, np.float32)
    result = SimpleNamespace(original_pixels=photo, key_pixels=None, key_region=None,
                             importance_map=lambda: np.zeros((h, w), np.float32))
    page = thumbnail_strip(result, height=48)
    tile = thumbnail_strip(result, height=48, gap=None)
    assert page.shape[2] == 3 and tile.shape == page.shape[:2] + (4,)
    gaps = np.all(page == 255, axis=(0, 2))  # the columns white from top to bottom: the two bars
    assert gaps.sum() == 6
    assert np.all(tile[:, gaps, 3] == 0)  # transparent there
    assert np.all(tile[:, ~gaps, 3] == 255) and np.array_equal(tile[:, ~gaps, :3], page[:, ~gaps])  # the panels alike


def test_the_per_class_table_counts_explained_images_and_takes_the_median_of_flips_only(tmp_path):
    """A set that did not flip keeps a small saved change (L2 0.2) out of its class's median, and a model that failed
    on a photo is no image of the class; a tie of exactly three classes names all three, a fourth is "…"."""
    rows = [{**_row("y1", 0.79, 0.1), "l2_saved": 10.0}, {**_row("y2", 0.79, 0.1), "l2_saved": 20.0},
            {**_row("y3", 0.79, ""), "status": "nothing_to_flip", "final_label": "yurt", "l2_saved": 0.2},
            {**_row("y4", 0.79, ""), "status": "model_error", "message": "the model failed", "l2_saved": ""}]
    rows += [{**_row(f"k{i}", 0.6, 0.1), "original_label": "kite", "final_label": to} for i, to in enumerate("abc")]
    rows += [{**_row(f"s{i}", 0.6, 0.1), "original_label": "sail", "final_label": to} for i, to in enumerate("abcd")]
    page = write_gallery(tmp_path, rows, {}).read_text("utf-8")
    table = page[page.index("<h2>Per class</h2>"):]
    assert ('<tr><td>yurt</td><td class=n>3</td><td class=n>2</td><td class=n data-v="15">15</td><td>patio</td></tr>'
            in table)
    assert "<td>a, b, c (1 each)</td>" in table
    assert "<td>a, b, c, … (1 each)</td>" in table


def test_a_photo_a_bit_over_three_times_as_wide_as_high_is_letterboxed_too():
    import numpy as np

    from gradflip_desktop.core.dataset.gallery import _resize

    img = np.zeros((96, 300, 3), np.float32)  # 3.125 : 1
    panel = _resize(img, 96)
    assert panel.shape == (96, 288, 3)  # 3 x 96 wide, 92 px high on white
    assert (panel[:2] == 255).all() and (panel[-2:] == 255).all() and (panel[48] == 0).all()
    assert _resize(np.zeros((96, 288, 3), np.float32), 96).shape == (96, 288, 3)  # exactly 3 : 1: as it is
    assert (_resize(np.zeros((96, 288, 3), np.float32), 96) == 0).all()


def test_an_input_the_run_never_reached_shows_no_thumbnail_of_a_set_of_its_name(tmp_path):
    """An interrupted run's "not run" row: a set of that name in the folder is another image's (an earlier run's)."""
    from gradflip_desktop.core.dataset.gallery import THUMB_DIR

    (tmp_path / THUMB_DIR).mkdir()
    for name in ("done", "later"):
        (tmp_path / THUMB_DIR / f"{name}.jpg").write_bytes(b"jpeg")
    rows = [_row("done", 0.79, 0.4), {**_row("later", 0.5, ""), "status": "not run", "message": "the run stopped",
                                       "original_label": "", "final_label": "", "l2_saved": ""}]
    records = {"done": {"files": {}}, "later": {"files": {}}}
    page = write_gallery(tmp_path, rows, records).read_text("utf-8")
    assert page.count("<img src=") == 1 and 'alt="done"' in page and 'alt="later"' not in page
