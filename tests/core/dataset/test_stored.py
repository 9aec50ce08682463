"""core/dataset/stored.py: a result read back from its result set and side file equals the result shown
when the run finished (what the gallery opens on a click), for the region style and the free style."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gradflip_desktop.core.dataset.stored import load_result, save_extras
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.core.report import write_result_set
from gradflip_desktop.core.summary import summary_sentence

from helpers import make_tiny, tiny_image_array


@pytest.mark.parametrize("style", ["region", "free"])
def test_a_stored_result_reads_back_as_the_result_of_the_run(tmp_path, style):
    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions(style=style))
    assert res.flipped
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "cache" / "photo.npz")
    back = load_result(tmp_path, "photo", pixels.copy(), tmp_path / "cache" / "photo.npz")
    assert back.status == res.status and back.message == res.message
    assert back.original == res.original and back.final == res.final and back.target == res.target
    assert back.explained == res.explained and back.explained_name == res.explained_name
    np.testing.assert_array_equal(back.adjusted_uint8, res.adjusted_uint8)
    np.testing.assert_array_equal(back.delta, res.delta)
    np.testing.assert_allclose(back.adjusted_pixels, res.adjusted_pixels, atol=1e-6)
    np.testing.assert_array_equal(back.importance_map(), res.importance_map())
    assert len(back.steps) == len(res.steps) > 0
    for a, b in zip(back.steps, res.steps):
        assert (a.index, a.phase, a.flipped, a.accepted) == (b.index, b.phase, b.flipped, b.accepted)
        assert a.score == b.score and a.l2 == b.l2 and a.epsilon == b.epsilon
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
    np.testing.assert_array_equal(back.final_probabilities, res.final_probabilities)
    assert back.l2_saved == pytest.approx(res.l2_saved) and back.labels == res.labels
    assert back.options == res.options
    assert back.run_on == res.run_on == {"device": "cpu", "batch_size": "1",  # exported again: the record still says so
                                         "torch_threads": str(torch.get_num_threads())}
    if style == "region":
        with np.load(tmp_path / "cache" / "photo.npz") as z:  # the fill-in is recomputed, not stored
            assert "fill_name" in z.files and "fill_pixels" not in z.files
        np.testing.assert_array_equal(back.fill_pixels, res.fill_pixels)
        assert back.key_region is not None and back.key_pixels is None
        assert back.key_region.pixels == res.key_region.pixels and back.key_region.fill == res.key_region.fill
        np.testing.assert_array_equal(back.key_region.mask, res.key_region.mask)
        np.testing.assert_array_equal(back.key_region_image(), res.key_region_image())
        assert back.region_map is not None
    else:
        assert back.key_pixels is not None and back.key_region is None and back.region_map is None
        assert back.key_pixels.count == res.key_pixels.count
        assert back.key_pixels.explained_probability == res.key_pixels.explained_probability is not None
        np.testing.assert_array_equal(back.key_pixels.mask, res.key_pixels.mask)
        np.testing.assert_array_equal(back.key_pixel_image(), res.key_pixel_image())
    assert summary_sentence(back) == summary_sentence(res)


def test_a_result_set_for_another_image_size_is_refused(tmp_path):
    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions(style="free", key_pixels=False))
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    with pytest.raises(ValueError, match="results of 'photo' are for a 32×24 image"):
        load_result(tmp_path, "photo", pixels[:, :16], tmp_path / "photo.npz")


def test_a_fill_in_that_cannot_be_recomputed_is_stored(tmp_path):
    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions())
    res.fill_pixels = res.fill_pixels * np.float32(0.5)  # not one of the region style's fill-ins
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    with np.load(tmp_path / "photo.npz") as z:
        assert "fill_pixels" in z.files
    back = load_result(tmp_path, "photo", pixels, tmp_path / "photo.npz")
    np.testing.assert_array_equal(back.fill_pixels, res.fill_pixels)


def test_a_stored_group_run_reads_back_with_its_group_clause(tmp_path):
    clf, pixels = make_tiny(), tiny_image_array()
    clf.groups = {"pair": [0, 1], "wild": [2, 3]}
    res = run(clf, pixels, ExplainOptions(style="free", group="pair"))
    assert res.flipped and "is in the group “any wild”" in summary_sentence(res)
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "cache" / "photo.npz")
    back = load_result(tmp_path, "photo", pixels.copy(), tmp_path / "cache" / "photo.npz")
    assert summary_sentence(back) == summary_sentence(res)


def test_a_stored_blur_run_keeps_each_steps_sizes_and_its_blur_amount(tmp_path):
    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions(style="blur"))
    assert res.blur_amount is not None and len(res.steps) > 0
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    back = load_result(tmp_path, "photo", pixels.copy(), tmp_path / "photo.npz")
    assert [(s.l2, s.linf) for s in back.steps] == [(s.l2, s.linf) for s in res.steps]
    assert any(s.l2 != s.linf for s in res.steps)
    np.testing.assert_array_equal(back.blur_amount, res.blur_amount)


def test_a_saved_image_of_another_size_is_refused(tmp_path):
    """The set's saved image replaced by another's (its change still this photo's size): refused, never shown over
    this photo."""

    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions(style="free", key_pixels=False))
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    Image.new("RGB", (16, 16)).save(tmp_path / "photo.adjusted.png")
    with pytest.raises(ValueError, match="^the results of 'photo' are for a "):
        load_result(tmp_path, "photo", pixels, tmp_path / "photo.npz")


def test_a_stored_key_set_is_its_count_of_top_ranked_pixels_not_one_more(tmp_path):
    """The ranking goes on past the key set (every changed pixel is ranked): the set read back is the ``count`` first."""
    import dataclasses

    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions(style="free"))
    h, w = pixels.shape[:2]
    ranking = np.arange(h * w, dtype=np.int32).reshape(h, w)
    res.key_pixels = dataclasses.replace(res.key_pixels, count=5, fraction=5 / (h * w), mask=ranking < 5, ranking=ranking)
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    back = load_result(tmp_path, "photo", pixels, tmp_path / "photo.npz")
    assert back.key_pixels.count == 5 and int(back.key_pixels.mask.sum()) == 5
    np.testing.assert_array_equal(back.key_pixels.mask, ranking < 5)


def test_a_fill_in_a_hair_off_the_recomputed_one_is_stored_exactly(tmp_path):
    """Only a bit-for-bit match is stored by name: one value 1/1000 off is kept as it was, not replaced by the fill-in
    it nearly equals."""
    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions())
    res.fill_pixels = res.fill_pixels.copy()
    res.fill_pixels[0, 0, 0] += np.float32(1e-3)
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    with np.load(tmp_path / "photo.npz") as z:
        assert "fill_pixels" in z.files and "fill_name" not in z.files
    back = load_result(tmp_path, "photo", pixels, tmp_path / "photo.npz")
    np.testing.assert_array_equal(back.fill_pixels, res.fill_pixels)


def test_a_saved_image_of_another_size_is_refused_naming_that_size(tmp_path):
    """The check compares the saved image's size too, but the message named the change's: a 16 x 16 saved
    image over a 32 x 24 photo read "the results of 'photo' are for a 32×24 image, not 32×24"."""
    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions(style="free", key_pixels=False))
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    Image.new("RGB", (16, 16)).save(tmp_path / "photo.adjusted.png")
    with pytest.raises(ValueError) as refused:
        load_result(tmp_path, "photo", pixels, tmp_path / "photo.npz")
    assert str(refused.value) == "the results of 'photo' are for a 16×16 image, not 32×24"


def test_a_set_written_before_the_key_pixels_explained_share_reads_back_without_it(tmp_path):
    """A record written before ``key_pixels.explained_probability`` existed lacks it (README: "null in records written
    before it existed"): its key pixels read back, with no share (the key-pixel line then gives the class's alone)."""
    import json

    clf, pixels = make_tiny(), tiny_image_array()
    res = run(clf, pixels, ExplainOptions(style="free"))
    write_result_set(res, tmp_path, "photo")
    save_extras(res, tmp_path / "photo.npz")
    path = tmp_path / "photo.gradflip.json"
    rec = json.loads(path.read_text(encoding="utf-8"))
    del rec["key_pixels"]["explained_probability"]
    path.write_text(json.dumps(rec), encoding="utf-8")
    back = load_result(tmp_path, "photo", pixels, tmp_path / "photo.npz")
    assert back.key_pixels is not None and back.key_pixels.count == res.key_pixels.count > 0
    assert back.key_pixels.explained_probability is None
