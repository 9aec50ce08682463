"""Colour profiles judged by what they do: a linear profile named "sRGB" is converted, grey profiles apply to grey
images, a 16-bit grey image's profile is said to be left unapplied."""

from __future__ import annotations

import numpy as np
from icc_profiles import SRGB_D50, gray_icc_profile, rgb_icc_profile, srgb_encode
from PIL import Image, ImageCms

from gradflip_desktop.core.images import load_image


def test_a_linear_profile_named_srgb_is_converted_as_any_linear_profile(tmp_path):
    grey = Image.new("RGB", (4, 2), (128, 128, 128))
    loaded = {}
    for name in ("Linear sRGB", "sRGB-elle-V4-g10", "Linear RGB"):
        p = tmp_path / f"{name}.png"
        grey.save(p, icc_profile=rgb_icc_profile(name, 1.0, **SRGB_D50))
        loaded[name] = load_image(p)
    for name, img in loaded.items():  # the name no longer decides: every one converted, and said
        assert img.warnings == [f"converted from the embedded colour profile “{name}” to sRGB"]
        assert abs(img.pixels[0, 0, 0] * 255 - srgb_encode(128 / 255)) <= 1.0  # 187.8, not 128 as stored


def test_a_profile_that_is_srgb_in_effect_under_another_name_leaves_the_pixels_alone(tmp_path):
    a = (np.arange(4 * 6 * 3).reshape(4, 6, 3) * 11 % 256).astype(np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = tmp_path / "camera.png"
    Image.fromarray(a).save(p, icc_profile=srgb.replace(b"sRGB", b"cam1"))  # the name changed, not the curves
    img = load_image(p)
    assert img.warnings == []
    np.testing.assert_array_equal(img.pixels, a.astype(np.float32) / np.float32(255))


def test_a_grey_image_with_a_grey_profile_is_converted(tmp_path):
    p = tmp_path / "grey.png"
    Image.new("L", (3, 2), 128).save(p, icc_profile=gray_icc_profile("Gray Gamma 1.0", 1.0))
    img = load_image(p)
    assert img.warnings == ["converted from the embedded colour profile “Gray Gamma 1.0” to sRGB"]
    assert abs(img.pixels[0, 0, 0] * 255 - srgb_encode(128 / 255)) <= 1.5  # was left at 128
    assert np.all(img.pixels[..., 0] == img.pixels[..., 2])  # still grey
    la = tmp_path / "grey_alpha.png"
    Image.merge("LA", (Image.new("L", (2, 1), 128), Image.frombytes("L", (2, 1), bytes([255, 0])))).save(
        la, icc_profile=gray_icc_profile("Gray Gamma 1.0", 1.0))
    img = load_image(la)
    assert "converted from the embedded colour profile “Gray Gamma 1.0” to sRGB" in img.warnings
    assert abs(img.pixels[0, 0, 0] * 255 - srgb_encode(128 / 255)) <= 1.5 and img.pixels[0, 1].tolist() == [1.0] * 3


def test_a_16_bit_grey_image_s_profile_is_said_to_be_left_unapplied(tmp_path):
    p = tmp_path / "g16.png"
    Image.fromarray(np.full((2, 3), 30000, np.uint16)).save(p, icc_profile=gray_icc_profile("Gray Gamma 1.0", 1.0))
    img = load_image(p)
    assert ("its embedded colour profile “Gray Gamma 1.0” was not applied (a grey image of more than 8 bits is read as "
            "stored)") in img.warnings
    assert abs(img.pixels[0, 0, 0] - 30000 / 65535) < 1e-6


def test_a_grey_image_with_an_rgb_profile_is_converted_or_left_silently(tmp_path):
    """A photo made grey keeps its colour profile (Pillow saves ``info``'s): an sRGB one was called "unreadable or
    unsuitable" (no grey transform can be built from an RGB profile); it is sRGB in effect, and a linear RGB one
    converts the grey as the RGB photo's greys are converted."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = tmp_path / "grey_srgb.png"
    Image.new("L", (3, 2), 128).save(p, icc_profile=srgb)
    img = load_image(p)
    assert img.warnings == [] and img.pixels[0, 0, 0] * 255 == 128
    p = tmp_path / "grey_linear.png"
    Image.new("L", (3, 2), 128).save(p, icc_profile=rgb_icc_profile("Linear RGB", 1.0, **SRGB_D50))
    img = load_image(p)
    assert img.warnings == ["converted from the embedded colour profile “Linear RGB” to sRGB"]
    assert abs(img.pixels[0, 0, 0] * 255 - srgb_encode(128 / 255)) <= 1.5
    p = tmp_path / "g16_srgb.png"
    Image.fromarray(np.full((2, 3), 30000, np.uint16)).save(p, icc_profile=srgb)
    assert load_image(p).warnings == []  # sRGB in effect: nothing to say about leaving it
