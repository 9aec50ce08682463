"""benchmarks/photos.py: the fixed photo list every benchmark uses, and its loud failure."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.photos import PHOTOS, PhotoMissing, benchmark_photos, load_photo, to_input


def test_the_list_is_fixed_and_unique():
    names = [n for n, _ in PHOTOS]
    assert len(names) == len(set(names)) == 10
    assert names[:3] == ["chelsea", "coffee", "astronaut"]


def test_the_first_photos_load_as_uint8_rgb():
    got = benchmark_photos(limit=3)
    assert [n for n, _ in got] == ["chelsea", "coffee", "astronaut"]
    for _, arr in got:
        assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3 and min(arr.shape[:2]) >= 300


def test_a_missing_photo_fails_loudly():
    # scikit-image dropped `motorcycle_left`; the old benchmark skipped it silently
    with pytest.raises(PhotoMissing, match=r"'motorcycle_left'.*scikit-image"):
        load_photo("motorcycle_left", "skimage")
    with pytest.raises(PhotoMissing, match="unknown photo source"):
        load_photo("chelsea", "nowhere")


def test_greyscale_photos_become_three_equal_channels_and_to_input_resizes():
    cam = load_photo("camera", "skimage")
    assert cam.shape[2] == 3 and np.array_equal(cam[..., 0], cam[..., 2])
    x = to_input(cam, 64)
    assert x.shape == (64, 64, 3) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1


def test_the_held_out_set_loads_and_shares_no_photo_with_the_benchmark_set():
    """``--set held-out``: photos no setting was chosen on; every one loads (matplotlib's sample data and a
    tuple-returning skimage loader included), none is in the benchmark list, unknown set names are refused."""
    from benchmarks.photos import HELD_OUT, photo_set

    assert not {n for n, _ in HELD_OUT} & {n for n, _ in PHOTOS}
    got = benchmark_photos(which="held-out")
    assert [n for n, _ in got] == [n for n, _ in HELD_OUT] and len(got) == 8
    for _, arr in got:
        assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3 and min(arr.shape[:2]) >= 300
    assert len(photo_set("all")) == len(PHOTOS) + len(HELD_OUT)
    assert [n for n, _ in benchmark_photos(limit=2, which="all")] == ["chelsea", "coffee"]
    with pytest.raises(ValueError, match="held-out"):
        photo_set("nope")


def test_the_imagenet_set_is_foolboxs_twenty_validation_photos():
    """``--set imagenet``: the model's own kind of photo (one object large in the frame), loaded from the foolbox
    package (the bench and test extras); every one loads as uint8 RGB and shares no name with the other sets."""
    from benchmarks.photos import HELD_OUT, IMAGENET, photo_set

    names = [n for n, _ in IMAGENET]
    assert len(names) == len(set(names)) == 20 and names[0] == "imagenet_00_243"
    assert not set(names) & {n for n, _ in PHOTOS + HELD_OUT} and photo_set("imagenet") == IMAGENET
    got = benchmark_photos(limit=2, which="imagenet")
    assert [n for n, _ in got] == names[:2]
    for _, arr in got:
        assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3 and min(arr.shape[:2]) >= 224
