"""Pixels for the screen: 8-bit conversion and block-mean downsampling (Qt-free)."""

from __future__ import annotations

import numpy as np
import pytest

from gradflip_desktop.core.viz.display import box_downsample, display_uint8


def test_display_uint8_rounds_and_clips():
    x = np.array([[-0.5, 0.0, 0.5 / 255, 1.49 / 255, 1.0, 2.0]], dtype=np.float64)
    assert display_uint8(x).tolist() == [[0, 0, 0, 1, 255, 255]]
    rng = np.random.default_rng(0)
    f = rng.random((40, 50, 3), dtype=np.float32)
    got = display_uint8(f)
    ref = np.clip(np.rint(f.astype(np.float64) * 255), 0, 255)
    assert got.dtype == np.uint8 and got.shape == f.shape
    assert np.abs(got.astype(np.int16) - ref).max() <= 1  # float32 rounding: at most one level off


def test_box_downsample_is_the_block_mean_rounded():
    rng = np.random.default_rng(3)
    u8 = rng.integers(0, 256, (61, 95, 3), dtype=np.uint8)
    got = box_downsample(u8, 3, 2)
    assert got.dtype == np.uint8 and got.shape == (30, 31, 3)  # partial blocks dropped
    blocks = u8[:60, :93].astype(np.float64).reshape(30, 2, 31, 3, 3).mean(axis=(1, 3))
    assert np.abs(got.astype(np.float64) - blocks).max() <= 0.5
    # float images: the exact mean, as float32
    f = rng.random((8, 12), dtype=np.float32)
    small = box_downsample(f, 4)
    assert small.dtype == np.float32 and small.shape == (2, 3)
    assert small[1, 2] == pytest.approx(float(f[4:8, 8:12].mean()), rel=1e-6)
    # factor 1 is the image itself; a view smaller than one block is empty, not an error
    assert box_downsample(u8, 1) is u8
    assert box_downsample(u8[:2, :2], 4).shape == (0, 0, 3)


def test_box_downsample_of_large_blocks_does_not_overflow():
    white = np.full((32, 32, 3), 255, np.uint8)
    assert (box_downsample(white, 32) == 255).all()  # 1024 values per block: a uint32 accumulator


def test_display_uint8_rounds_to_the_nearest_level_not_down():
    x = np.array([0.6 / 255, 1.6 / 255, 127.7 / 255, 254.6 / 255], dtype=np.float32)
    assert display_uint8(x).tolist() == [1, 2, 128, 255]


@pytest.mark.parametrize("block", [16, 17])
def test_box_downsample_just_past_a_uint16_sum_does_not_overflow(block):
    """256 white values sum to 65,280 (+ 128 to round): uint16 holds it; 289 (17 x 17) need more."""
    white = np.full((block, block), 255, np.uint8)
    assert box_downsample(white, block).tolist() == [[255]]


def test_box_downsample_along_one_axis_only():
    u8 = np.arange(4 * 6, dtype=np.uint8).reshape(4, 6)
    assert box_downsample(u8, 1, 2).tolist() == [[3, 4, 5, 6, 7, 8], [15, 16, 17, 18, 19, 20]]
    assert box_downsample(u8, 2, 1).tolist() == [[1, 3, 5], [7, 9, 11], [13, 15, 17], [19, 21, 23]]
