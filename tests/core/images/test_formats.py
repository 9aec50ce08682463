"""Every conversion of the loader, checked on real generated files against independently computed pixels."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin, features

from icc_profiles import ADOBE_D50, SRGB_D50, rgb_icc_profile, srgb_encode

from gradflip_desktop.core.images import ImageError, from_array, load_image, quantize, save_png, to_uint8

U8 = np.float32(255.0)


def asym(h: int = 3, w: int = 5) -> np.ndarray:
    """An H x W x 3 uint8 image in which every pixel differs (so every flip/rotation is visible)."""
    v = np.arange(h * w * 3, dtype=np.int64).reshape(h, w, 3)
    return ((v * 37) % 251).astype(np.uint8)


def save(tmp_path, name, im: Image.Image, **kw):
    p = tmp_path / name
    im.save(p, **kw)
    return p


def exact(img, expected_uint8: np.ndarray) -> None:
    e = expected_uint8.astype(np.float32) / U8
    if e.ndim == 2:
        e = np.repeat(e[..., None], 3, axis=2)
    assert img.pixels.dtype == np.float32
    np.testing.assert_array_equal(img.pixels, e)


# ---- EXIF orientation ----------------------------------------------------------------------------------

# What the viewer shows for each EXIF orientation value, given the stored pixels a (TIFF/EXIF spec).
ORIENT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored horizontally
    3: lambda a: a[::-1, ::-1],  # rotated 180
    4: lambda a: a[::-1, :],  # mirrored vertically
    5: lambda a: a.transpose(1, 0, 2),  # transposed (mirror along the main diagonal)
    6: lambda a: np.rot90(a, -1),  # stored rotated 90° counter-clockwise: shown rotated 90° clockwise
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),  # transverse (mirror along the anti-diagonal)
    8: lambda a: np.rot90(a, 1),  # shown rotated 90° counter-clockwise
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_all_eight_values_png(tmp_path, orientation):
    a = asym()
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = save(tmp_path, f"o{orientation}.png", Image.fromarray(a), exif=exif)
    img = load_image(p)
    expected = ORIENT[orientation](a)
    exact(img, expected)
    assert img.original_size == (expected.shape[1], expected.shape[0])
    # said, as the other loading notes are (the record's image.warnings, the figure's Original caption): the
    # arrays are not the file's stored layout
    turned = [w for w in img.warnings if "turned upright by its EXIF orientation" in w]
    assert len(turned) == (orientation != 1)


def test_exif_orientation_jpeg_portrait_phone_photo(tmp_path):
    a = np.zeros((40, 60, 3), np.uint8)
    a[:10, :20] = (255, 0, 0)  # red block top-left of the stored (landscape) pixels
    exif = Image.Exif()
    exif[0x0112] = 6
    p = save(tmp_path, "phone.jpg", Image.fromarray(a), exif=exif, quality=95)
    img = load_image(p)
    assert img.pixels.shape == (60, 40, 3) and img.original_size == (40, 60)
    # rotated 90° clockwise: the red block is now at the top right
    assert np.allclose(img.pixels[2:8, -8:-2], (1, 0, 0), atol=0.1)
    assert np.allclose(img.pixels[2:8, 2:8], 0, atol=0.1)
    big = np.zeros((1200, 3000, 3), np.uint8)  # decoded at reduced scale (draft), then rotated
    img = load_image(save(tmp_path, "phone_big.jpg", Image.fromarray(big), exif=exif), max_side=500)
    assert img.original_size == (1200, 3000) and img.pixels.shape == (500, 200, 3)


def test_damaged_exif_is_a_note_not_a_python_warning_on_stderr(tmp_path, recwarn):
    """A camera JPEG whose EXIF block is cut short: Pillow warns ("Corrupt EXIF data"); the loader keeps
    that as one of the image's notes (the CLI prints "gradflip: note: ..."), never a raw Python warning."""
    a = asym(8, 12)
    good = save(tmp_path, "ok.jpg", Image.fromarray(a), quality=95).read_bytes()
    app1 = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\xff" * 32  # a TIFF header, then garbage
    p = tmp_path / "cut_exif.jpg"
    p.write_bytes(good[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + good[2:])
    img = load_image(p)
    assert img.pixels.shape == (8, 12, 3)
    assert img.warnings == ["while reading the file: Corrupt EXIF data. Expecting to read 12 bytes but only got 6."]
    assert not [w for w in recwarn.list if "EXIF" in str(w.message)]


# ---- bit depths ------------------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def test_16bit_gray_png_and_tiff_are_scaled_not_clipped(tmp_path):
    a = np.array([[0, 1, 1000, 32768], [40000, 65280, 65534, 65535]], np.uint16)
    for name in ("g16.png", "g16.tif"):
        p = save(tmp_path, name, Image.fromarray(a))
        img = load_image(p)
        assert img.mode.startswith("I;16")
        expected = (a.astype(np.float64) / 65535.0).astype(np.float32)
        np.testing.assert_array_equal(img.pixels, np.repeat(expected[..., None], 3, axis=2))
        assert img.warnings == []


def _gray16_png_with_transparent(values: np.ndarray, transparent: int) -> bytes:
    h, w = values.shape
    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in values)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0))
            + png_chunk(b"tRNS", struct.pack(">H", transparent)) + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IEND", b""))


def test_a_16bit_grey_png_s_transparent_value_is_white_as_alpha_is(tmp_path):
    # the 8-bit file's transparent grey became white with a note; the 16-bit file's came out near black, unsaid
    for a, scale in ((np.array([[1234, 40000, 1234], [0, 65535, 20000]]), 65535.0),
                     (np.array([[1234, 4000, 1234], [0, 100, 2000]]), 4095.0)):  # 12-bit data: its own scale
        p = tmp_path / "g16t.png"
        p.write_bytes(_gray16_png_with_transparent(a, 1234))
        img = load_image(p)
        assert "transparent areas were composited on white" in img.warnings
        expected = np.where(a == 1234, 1.0, a / scale).astype(np.float32)
        np.testing.assert_allclose(img.pixels[..., 0], expected, atol=1e-6)
    p.write_bytes(_gray16_png_with_transparent(np.array([[5, 6]]), 1234))  # the value unused: nothing said
    assert "transparent areas were composited on white" not in load_image(p).warnings


def test_12bit_data_in_a_16bit_file_is_read_at_its_own_scale(tmp_path):
    """An X-ray's 12-bit values in a 16-bit PNG (at most 4095) were scaled by 1/65535: the model saw at most 6 %
    of white, a nearly black image, and a 0.3 % key region "flipped" it. Read by 1/4095, with a note, whatever the
    brightest value (one scale for every image of a device, not a depth guessed per image: 999 read as 10-bit data
    was 4x too bright); the Python API's uint16 arrays alike. A file whose values pass 4095 keeps 1/65535 (above)."""
    from gradflip_desktop.core.images import from_array

    for hi in (4095, 999, 249):
        a = np.array([[0, 17, hi // 2], [hi // 3, hi - 1, hi]], np.uint16)
        img = load_image(save(tmp_path, f"x{hi}.png", Image.fromarray(a)))
        expected = (a.astype(np.float64) / 4095.0).astype(np.float32)
        np.testing.assert_array_equal(img.pixels, np.repeat(expected[..., None], 3, axis=2))
        note = (f"16-bit pixel values reach at most {hi}: read as 12-bit data (scaled by 1/4095, not 1/65535, which "
                "would show a nearly black image)")
        if hi < 1024:  # still under a quarter of white: the note does not read as if the image were now bright
            note += f"; still dark: its brightest value is {round(100 * hi / 4095)} % of white"
        assert img.warnings == [note]
        api = from_array(a, max_side=None)
        np.testing.assert_allclose(api.pixels, img.pixels, atol=1e-6)
        assert note in api.warnings


def test_16bit_rgb_png_keeps_its_range(tmp_path):
    """Pillow decodes 48-bit PNG to 8 bits per channel (high byte): scaled, never clipped (error < 1/255)."""
    a = np.array([[[0, 1000, 65535], [256, 32768, 65280]]], dtype=">u2")
    raw = b"".join(b"\0" + row.tobytes() for row in a)
    ihdr = struct.pack(">IIBBBBB", 2, 1, 16, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    (tmp_path / "rgb48.png").write_bytes(data)
    img = load_image(tmp_path / "rgb48.png")
    true = a.astype(np.float64) / 65535.0
    assert np.abs(img.pixels - true).max() < 1 / 255
    np.testing.assert_array_equal(img.pixels, (a >> 8).astype(np.float32) / U8)


def test_32bit_integer_tiff_outside_16bit_is_min_max_scaled_with_warning(tmp_path):
    a = np.array([[-100000, 0], [100000, 300000]], np.int32)
    p = save(tmp_path, "i32.tif", Image.fromarray(a, "I"))
    img = load_image(p)
    expected = ((a - a.min()) / (a.max() - a.min())).astype(np.float32)
    np.testing.assert_allclose(img.pixels[..., 0], expected, atol=1e-7)
    assert img.warnings == ["integer pixel values in [-100000, 300000] were scaled to [0, 1]"]


def test_32bit_integer_tiff_of_8bit_values_reads_as_8bit_and_says_32bit(tmp_path):
    """A mode-I 32-bit TIFF holding 0–247 (an 8-bit image widened by numpy, saved by Pillow) was read by 1/4095 (6 %
    of white at most) with the note "16-bit pixel values reach at most 247". A 32-bit container tells no bit depth:
    values that fit 8 bits read by 1/255, as from_array reads the int32 array it was saved from; 12-bit values keep
    1/4095, and every note says 32-bit. A 16-bit TIFF or PNG of the same values keeps the 16-bit rule (above)."""
    a = np.array([[0, 17, 100], [200, 246, 247]], np.int32)
    img = load_image(save(tmp_path, "i32.tif", Image.fromarray(a, "I")))
    assert img.mode == "I"
    np.testing.assert_allclose(img.pixels[..., 0], a / 255.0, atol=1e-7)
    assert img.warnings == ["32-bit integer pixel values reach at most 247: read as 8-bit data (scaled by 1/255)"]
    np.testing.assert_allclose(from_array(a, max_side=None).pixels, img.pixels, atol=1e-7)
    b = a * 10  # at most 2470: 12-bit data
    img = load_image(save(tmp_path, "i32b.tif", Image.fromarray(b, "I")))
    np.testing.assert_allclose(img.pixels[..., 0], b / 4095.0, atol=1e-7)
    assert img.warnings == ["32-bit integer pixel values reach at most 2470: read as 12-bit data (scaled by 1/4095, not "
                            "1/65535, which would show a nearly black image)"]
    img = load_image(save(tmp_path, "u16.tif", Image.fromarray(a.astype(np.uint16))))
    assert img.warnings[0].startswith("16-bit pixel values reach at most 247: read as 12-bit data")


def test_a_signed_8bit_tiff_is_read_by_its_values_not_its_bytes(tmp_path):
    """Pillow opens a TIFF of signed 8-bit samples as mode L with its bytes as they are: -1 read as white and -128 as
    mid-grey, with no note (a helper's camera photo came out correlated -0.61 with itself). Read by value as a
    signed 16-bit TIFF is: negative values scale the range to [0, 1] with a note, non-negative ones are 8-bit data."""
    import tifffile

    a = np.array([[-128, -1, 0], [1, 64, 127]], np.int8)
    tifffile.imwrite(tmp_path / "i8.tif", a)
    img = load_image(tmp_path / "i8.tif")
    np.testing.assert_allclose(img.pixels[..., 0], (a.astype(np.float64) + 128) / 255.0, atol=1e-6)
    assert img.warnings == ["integer pixel values in [-128, 127] were scaled to [0, 1]"]
    b = np.array([[0, 17, 100], [50, 90, 120]], np.int8)
    tifffile.imwrite(tmp_path / "i8pos.tif", b)
    img = load_image(tmp_path / "i8pos.tif")
    np.testing.assert_allclose(img.pixels[..., 0], b / 255.0, atol=1e-7)
    assert img.warnings == ["signed 8-bit pixel values reach at most 120: read as 8-bit data (scaled by 1/255)"]
    tifffile.imwrite(tmp_path / "u8.tif", b.astype(np.uint8))  # unsigned: unchanged, no note
    img = load_image(tmp_path / "u8.tif")
    np.testing.assert_allclose(img.pixels[..., 0], b / 255.0, atol=1e-7)
    assert img.warnings == []


def test_a_16bit_pgm_of_8bit_values_keeps_the_16bit_rule_and_says_16bit(tmp_path):
    """Pillow opens a 16-bit PGM as mode I; load_image's EXIF step hands on a copy without the file's format, so the
    PGM was taken for a 32-bit integer file: 8-bit values read by 1/255 (16x brighter than before), 12-bit ones with
    the note "32-bit integer pixel values …". A 16-bit file keeps the 16-bit rule, EXIF-rotated 32-bit TIFFs theirs."""
    a = np.array([[0, 17, 100], [200, 246, 247]], np.uint16)
    p = tmp_path / "g16.pgm"
    Image.fromarray(a).save(p)
    img = load_image(p)
    np.testing.assert_allclose(img.pixels[..., 0], a / 4095.0, atol=1e-7)
    assert img.warnings[0].startswith("16-bit pixel values reach at most 247: read as 12-bit data")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°
    i32 = tmp_path / "i32r.tif"
    Image.fromarray(a.astype(np.int32), "I").save(i32, exif=exif)
    img = load_image(i32)
    assert img.pixels.shape[:2] == (3, 2)
    assert "32-bit integer pixel values reach at most 247: read as 8-bit data (scaled by 1/255)" in img.warnings


def test_float_tiff_in_unit_range_is_used_as_is(tmp_path):
    a = np.array([[0.0, 0.25, 1e-6], [0.5, 0.999, 1.0]], np.float32)
    p = save(tmp_path, "f.tif", Image.fromarray(a, "F"))
    img = load_image(p)
    assert img.mode == "F" and img.warnings == []
    np.testing.assert_array_equal(img.pixels, np.repeat(a[..., None], 3, axis=2))


def test_float_tiff_out_of_range_is_scaled_with_warning(tmp_path):
    a = np.array([[-2.0, 0.0], [2.0, 6.0]], np.float32)
    p = save(tmp_path, "hdr.tif", Image.fromarray(a, "F"))
    img = load_image(p)
    np.testing.assert_allclose(img.pixels[..., 1], [[0.0, 0.25], [0.5, 1.0]], atol=1e-7)
    assert img.warnings == ["float pixel values in [-2, 6] were scaled to [0, 1]"]


def test_a_constant_image_outside_the_range_is_mid_grey_not_black(tmp_path):
    """Nothing to scale: min-max scaling used to give all zeros (a black image the note did not explain)."""
    p = save(tmp_path, "seven.tif", Image.fromarray(np.full((4, 6), 7.0, np.float32), "F"))
    img = load_image(p)
    np.testing.assert_array_equal(img.pixels, np.full((4, 6, 3), 0.5, np.float32))
    assert img.warnings == ["every pixel value is 7, outside [0, 1]: shown as mid-grey"]
    p = save(tmp_path, "big.tif", Image.fromarray(np.full((4, 6), 300000, np.int32), "I"))
    img = load_image(p)
    np.testing.assert_array_equal(img.pixels, np.full((4, 6, 3), 0.5, np.float32))
    assert img.warnings == ["every pixel value is 300000, outside 0–65535: shown as mid-grey"]


# ---- colour models ---------------------------------------------------------------------------------------


def test_cmyk_tiff_and_jpeg(tmp_path):
    cmyk = Image.new("CMYK", (4, 2), (0, 255, 0, 0))  # pure magenta ink
    img = load_image(save(tmp_path, "m.tif", cmyk))
    assert img.mode == "CMYK"
    exact(img, np.full((2, 4, 3), (255, 0, 255), np.uint8))
    cmyk = Image.new("CMYK", (16, 16), (255, 0, 0, 0))  # cyan
    img = load_image(save(tmp_path, "c.jpg", cmyk, quality=95))
    assert img.mode == "CMYK"
    assert np.allclose(img.pixels, (0, 1, 1), atol=0.02)
    assert img.warnings == ["converted from CMYK to RGB without a colour profile"]  # it was converted silently


def test_a_16_bit_colour_png_says_it_was_read_as_8_bits(tmp_path):
    """Pillow keeps the high byte of a 16-bit RGB PNG: the Original's caption says so (a 16-bit gray one is scaled
    in full and said no more)."""
    rgb16 = np.zeros((3, 5, 3), ">u2")
    rgb16[..., 0], rgb16[..., 1], rgb16[..., 2] = 0xFF00, 0x8080, 0x00FF
    raw = b"".join(b"\x00" + row.tobytes() for row in rgb16)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 3, 16, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    path = tmp_path / "c16.png"
    path.write_bytes(png)
    img = load_image(path)
    assert img.warnings == ["16 bits per colour channel read as 8"]
    exact(img, np.broadcast_to(np.array((255, 128, 0), np.uint8), (3, 5, 3)))
    assert load_image(save(tmp_path, "c8.png", Image.new("RGB", (5, 3)))).warnings == []


def test_a_16_bit_per_pixel_bmp_is_not_called_16_bits_per_colour(tmp_path):
    """A BMP of 16 bits per pixel (5-6-5, Pillow's raw mode "BGR;16") holds 5 or 6 bits per colour, not 16."""
    w, h = 4, 2
    pix = b"".join(struct.pack("<H", (x << 11) | (y << 5) | x) for y in range(h) for x in range(w))
    off = 14 + 40 + 12
    bmp = (b"BM" + struct.pack("<IHHI", off + len(pix), 0, 0, off)
           + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 16, 3, len(pix), 2835, 2835, 0, 0)
           + struct.pack("<III", 0xF800, 0x07E0, 0x001F) + pix)
    path = tmp_path / "rgb565.bmp"
    path.write_bytes(bmp)
    assert load_image(path).warnings == []


def test_palette_with_transparency_is_composited_on_white(tmp_path):
    pal = Image.new("P", (3, 1))
    pal.putpalette([255, 0, 0, 0, 0, 255, 10, 20, 30] + [0] * (256 * 3 - 9))
    pal.putdata([0, 1, 2])
    p = save(tmp_path, "pal.png", pal, transparency=1)  # index 1 (blue) is fully transparent
    img = load_image(p)
    exact(img, np.array([[[255, 0, 0], [255, 255, 255], [10, 20, 30]]], np.uint8))
    assert img.warnings == ["transparent areas were composited on white"]
    gif = save(tmp_path, "pal.gif", pal, transparency=1)
    exact(load_image(gif), np.array([[[255, 0, 0], [255, 255, 255], [10, 20, 30]]], np.uint8))


def test_a_fully_transparent_image_is_said_to_be_plain_white(tmp_path):
    """Alpha 0 everywhere: the note said only "transparent areas were composited on white", which did not explain an
    answer about a plain white image. Any mode with alpha, a huge one reduced first, and an array alike."""
    whole = "the image is fully transparent: composited on white, it is plain white"
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 255, (20, 30, 4), dtype=np.uint8)
    rgba[..., 3] = 0
    for mode, arr in (("RGBA", rgba), ("LA", rgba[..., [0, 3]])):
        img = load_image(save(tmp_path, f"{mode}.png", Image.fromarray(arr, mode)))
        assert img.warnings == [whole] and np.all(img.pixels == 1.0), mode
        assert load_image(save(tmp_path, f"{mode}_big.png", Image.fromarray(np.tile(arr, (60, 60, 1)), mode)),
                          max_side=64).warnings[0] == whole  # box-reduced on white first
    assert from_array(rgba).warnings == [whole]
    rgba[0, 0, 3] = 1  # one pixel barely there: some areas are transparent, as before
    assert load_image(save(tmp_path, "some.png", Image.fromarray(rgba, "RGBA"))).warnings == [
        "transparent areas were composited on white"]
    assert from_array(rgba).warnings == ["transparent areas were composited on white"]


def test_palette_with_partial_alpha(tmp_path):
    pal = Image.new("P", (2, 1))
    pal.putpalette([200, 100, 0, 0, 0, 0] + [0] * (256 * 3 - 6))
    pal.putdata([0, 1])
    p = save(tmp_path, "pa.png", pal, transparency=bytes([128, 255]))
    a = 128 / 255
    expected = np.array([[[200 / 255 * a + (1 - a), 100 / 255 * a + (1 - a), 1 - a], [0, 0, 0]]], np.float32)
    np.testing.assert_allclose(load_image(p).pixels, quantize(expected), atol=1e-6)  # flattened to whole levels


def test_rgba_and_la_are_composited_on_white(tmp_path):
    rgba = np.array([[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 255, 51], [20, 40, 60, 200]]], np.uint8)
    img = load_image(save(tmp_path, "rgba.png", Image.fromarray(rgba, "RGBA")))
    a = rgba[..., 3:].astype(np.float32) / U8
    expected = rgba[..., :3].astype(np.float32) / U8 * a + (1 - a)
    np.testing.assert_allclose(img.pixels, quantize(expected), atol=1e-6)
    assert img.pixels[0, 1].tolist() == [1.0, 1.0, 1.0]
    la = np.array([[[0, 0], [0, 255], [100, 128]]], np.uint8)
    img = load_image(save(tmp_path, "la.png", Image.fromarray(la, "LA")))
    a = la[..., 1].astype(np.float32) / U8
    g = la[..., 0].astype(np.float32) / U8 * a + (1 - a)
    np.testing.assert_allclose(img.pixels, quantize(np.repeat(g[..., None], 3, axis=2)), atol=1e-6)
    assert img.warnings == ["transparent areas were composited on white"]


def test_opaque_rgba_has_no_warning(tmp_path):
    a = np.dstack([asym(), np.full((3, 5), 255, np.uint8)])
    img = load_image(save(tmp_path, "opaque.png", Image.fromarray(a, "RGBA")))
    exact(img, asym())
    assert img.warnings == []


def test_grayscale_and_bilevel_are_replicated(tmp_path):
    g = asym()[..., 0]
    exact(load_image(save(tmp_path, "g.png", Image.fromarray(g))), g)
    bits = Image.fromarray(np.array([[0, 255, 0]], np.uint8)).convert("1")
    exact(load_image(save(tmp_path, "b.png", bits)), np.array([[0, 255, 0]], np.uint8))


@pytest.mark.parametrize("fmt, ext", [("GIF", "gif"), ("PNG", "png"), ("TIFF", "tif"), ("WEBP", "webp")])
def test_multi_frame_files_use_the_first_frame(tmp_path, fmt, ext):
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200)]
    frames = [Image.new("RGB", (6, 4), c) for c in colours]
    kw = {"lossless": True} if fmt == "WEBP" else {}
    p = save(tmp_path, f"anim.{ext}", frames[0], format=fmt, save_all=True, append_images=frames[1:], **kw)
    img = load_image(p)
    exact(img, np.full((4, 6, 3), colours[0], np.uint8))
    assert img.warnings == ["the file has 3 frames; using the first"]


# ---- ICC profiles ----------------------------------------------------------------------------------------


def test_icc_linear_rgb_profile_is_converted_to_srgb(tmp_path):
    """sRGB primaries with a linear (gamma 1) curve: the conversion is exactly the sRGB encoding curve."""
    assert features.check("littlecms2")
    icc = rgb_icc_profile("Linear RGB (test)", 1.0, **SRGB_D50)
    p = save(tmp_path, "linear.png", Image.new("RGB", (3, 2), (128, 128, 128)), icc_profile=icc)
    img = load_image(p)
    assert img.warnings == ["converted from the embedded colour profile “Linear RGB (test)” to sRGB"]
    assert abs(img.pixels[0, 0, 0] * 255 - srgb_encode(128 / 255)) <= 1.0  # 187.8, not 128


def test_icc_wide_gamut_profile_changes_colours(tmp_path):
    icc = rgb_icc_profile("Wide RGB (test)", 2.2, **ADOBE_D50)
    a = np.array([[[128, 128, 128], [60, 160, 90]]], np.uint8)
    p = save(tmp_path, "wide.tif", Image.fromarray(a), tiffinfo={34675: icc})
    img = load_image(p)
    assert img.warnings == ["converted from the embedded colour profile “Wide RGB (test)” to sRGB"]
    gray = srgb_encode((128 / 255) ** 2.2)  # gamma-2.2 gray in sRGB: 129
    assert np.allclose(img.pixels[0, 0] * 255, gray, atol=1.0)
    # a saturated green in a wide gamut is more saturated in sRGB terms: red drops, green rises
    r, g, b = img.pixels[0, 1] * 255
    assert r < 60 - 10 and g > 160


def test_icc_srgb_profile_passes_through_and_rgba_keeps_alpha(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = save(tmp_path, "srgb.png", Image.fromarray(asym()), icc_profile=srgb)
    img = load_image(p)
    exact(img, asym())
    assert img.warnings == []
    icc = rgb_icc_profile("Linear RGB (test)", 1.0, **SRGB_D50)
    rgba = np.array([[[128, 128, 128, 255], [0, 0, 0, 0]]], np.uint8)
    img = load_image(save(tmp_path, "lin_rgba.png", Image.fromarray(rgba, "RGBA"), icc_profile=icc))
    assert abs(img.pixels[0, 0, 0] * 255 - srgb_encode(128 / 255)) <= 1.0
    assert img.pixels[0, 1].tolist() == [1.0, 1.0, 1.0]


def test_broken_icc_profile_is_a_warning(tmp_path):
    p = save(tmp_path, "badicc.png", Image.fromarray(asym()), icc_profile=b"not a profile" * 20)
    img = load_image(p)
    exact(img, asym())
    assert len(img.warnings) == 1
    assert img.warnings[0].startswith("ignored an unreadable or unsuitable embedded colour profile")


def test_icc_profile_of_the_wrong_colour_space_is_a_warning(tmp_path):
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    p = save(tmp_path, "labicc.png", Image.fromarray(asym()), icc_profile=lab)
    img = load_image(p)
    exact(img, asym())
    assert img.warnings[0].startswith("ignored an unreadable or unsuitable embedded colour profile")


# ---- every lossless format Pillow writes, pixel-exact ----------------------------------------------------

LOSSLESS = [
    ("PNG", "png", {}), ("BMP", "bmp", {}), ("TIFF", "tif", {}), ("TIFF", "lzw.tif", {"compression": "tiff_lzw"}),
    ("TIFF", "zip.tif", {"compression": "tiff_adobe_deflate"}), ("WEBP", "webp", {"lossless": True}),
    ("PPM", "ppm", {}), ("TGA", "tga", {}), ("PCX", "pcx", {}), ("SGI", "sgi", {}), ("QOI", "qoi", {}),
    ("JPEG2000", "j2k", {}), ("ICO", "ico", {"sizes": [(5, 3)]}), ("DDS", "dds", {}),
]


@pytest.mark.parametrize("fmt, ext, kw", LOSSLESS, ids=[x[1] for x in LOSSLESS])
def test_lossless_formats_load_pixel_exact(tmp_path, fmt, ext, kw):
    a = asym(3, 5)
    p = save(tmp_path, f"x.{ext}", Image.fromarray(a), format=fmt, **kw)
    img = load_image(p)
    exact(img, a)
    assert img.original_size == (5, 3)


@pytest.mark.parametrize("fmt, ext", [("JPEG", "jpg"), ("WEBP", "webp"), ("AVIF", "avif")])
def test_lossy_formats_load_close(tmp_path, fmt, ext):
    a = np.kron(asym(4, 6), np.ones((8, 8, 1), np.uint8))
    p = save(tmp_path, f"x.{ext}", Image.fromarray(a), format=fmt, quality=95)
    img = load_image(p)
    assert img.pixels.shape == a.shape
    assert np.abs(img.pixels - a / 255).mean() < 0.03


# ---- sizes -----------------------------------------------------------------------------------------------


def test_one_pixel(tmp_path):
    img = load_image(save(tmp_path, "dot.png", Image.new("RGB", (1, 1), (10, 20, 30))))
    exact(img, np.array([[[10, 20, 30]]], np.uint8))


def test_extreme_aspect_ratios(tmp_path):
    tall = np.zeros((5000, 1, 3), np.uint8)
    tall[:, 0, 0] = np.arange(5000) % 256
    img = load_image(save(tmp_path, "tall.png", Image.fromarray(tall)))
    assert img.pixels.shape == (1024, 1, 3) and img.original_size == (1, 5000) and img.scaled
    assert np.isfinite(img.pixels).all() and img.pixels.min() >= 0 and img.pixels.max() <= 1
    exact(load_image(save(tmp_path, "tall2.png", Image.fromarray(tall)), max_side=None), tall)
    wide = np.full((1, 10000, 3), 77, np.uint8)
    img = load_image(save(tmp_path, "wide.png", Image.fromarray(wide)))
    assert img.pixels.shape == (1, 1024, 3) and img.original_size == (10000, 1)
    np.testing.assert_allclose(img.pixels, 77 / 255, atol=1e-6)


def test_working_size_is_configurable(tmp_path):
    a = np.full((300, 400, 3), 90, np.uint8)
    p = save(tmp_path, "m.png", Image.fromarray(a))
    native = load_image(p)
    assert native.pixels.shape == (300, 400, 3) and native.warnings == []  # below the default 1024: native
    img = load_image(p, max_side=100)
    assert img.pixels.shape == (75, 100, 3) and img.original_size == (400, 300)
    np.testing.assert_allclose(img.pixels, 90 / 255, atol=1e-6)
    assert img.warnings == ["scaled from 400×300 to 100×75 (working size 100 px)"]  # said, in the record too
    assert from_array(a, max_side=100).warnings == ["scaled from 400×300 to 100×75 (working size 100 px)"]
    assert from_array(a).warnings == []


def test_a_panorama_scaled_to_a_sliver_says_so():
    """Before: a 10000×20 strip was explained at 1024×2 px with only the usual "scaled from" note."""
    pano = from_array(np.full((20, 10000, 3), 90, np.uint8))
    assert pano.pixels.shape == (2, 1024, 3)
    assert pano.warnings == ["scaled from 10000×20 to 1024×2 (working size 1024 px); its short side is only 2 px "
                             "there, so a classifier sees little of it (crop it, or raise the working size)"]
    assert from_array(np.full((8, 8, 3), 90, np.uint8)).warnings == []  # small as given: not the scaling's doing
    assert from_array(np.full((40, 2000, 3), 90, np.uint8)).warnings == [
        "scaled from 2000×40 to 1024×20 (working size 1024 px)"]  # 20 px: thin, not a sliver


def test_large_png_is_box_reduced_before_float(tmp_path):
    """A 5000 x 3000 PNG with max_side 1024: reduced 2x in 8 bits, then Lanczos; the colour is kept."""
    a = np.zeros((3000, 5000, 3), np.uint8)
    a[:, :2500] = (200, 40, 90)
    a[:, 2500:] = (10, 250, 30)
    p = save(tmp_path, "big.png", Image.fromarray(a), compress_level=1)
    img = load_image(p)
    assert img.pixels.shape == (614, 1024, 3) and img.original_size == (5000, 3000)
    np.testing.assert_allclose(img.pixels[:, :500], np.broadcast_to(np.array([200, 40, 90]) / 255, (614, 500, 3)), atol=1e-6)
    np.testing.assert_allclose(img.pixels[:, -500:], np.broadcast_to(np.array([10, 250, 30]) / 255, (614, 500, 3)), atol=1e-6)


def test_large_16bit_and_float_images_are_box_reduced_before_float_at_the_full_images_scale(tmp_path):
    """16-bit grey and float TIFF/PNG skipped the box reduction 8-bit images get: a 196-megapixel 16-bit grey PNG
    (1.5 MB on disk, under the pixel limit) took 6.7 GB as float64 copies. Reduced first, in float32; the scale
    comes from the whole image, so one bright pixel above 4095 still keeps 1/65535 (the reduced image's own range
    would read it as 12-bit data, 16x too bright), and a float image's range note is the file's."""
    a = np.full((3000, 5000), 1000, np.uint16)
    a[:, 2500:] = 3000
    a[10, 10] = 60000  # one pixel past 12 bits: the file is 16-bit data
    img = load_image(save(tmp_path, "big16.png", Image.fromarray(a), compress_level=1))
    assert img.pixels.shape == (614, 1024, 3) and img.original_size == (5000, 3000)
    np.testing.assert_allclose(img.pixels[300, :500], 1000 / 65535, atol=1e-5)
    np.testing.assert_allclose(img.pixels[300, -500:], 3000 / 65535, atol=1e-5)
    assert not any("12-bit" in w for w in img.warnings)
    f = (a.astype(np.float32) / 1000 - 1).astype(np.float32)  # values in [0, 59]
    img = load_image(save(tmp_path, "bigf.tif", Image.fromarray(f)))
    assert img.pixels.shape == (614, 1024, 3)
    assert "float pixel values in [0, 59] were scaled to [0, 1]" in img.warnings
    np.testing.assert_allclose(img.pixels[300, -500:], 2 / 59, atol=1e-5)
    import tracemalloc  # numpy's arrays are traced (Pillow's own image memory is not, before or after)

    tracemalloc.start()
    try:
        load_image(tmp_path / "big16.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 15 megapixels: the float64 copies at full size were 120 MB each, 450 MB at once; reduced 2x first, 122 MB
    assert peak < 200e6, peak



@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_large_transparent_images_are_box_reduced_on_white_before_float(tmp_path, mode):
    """RGBA, LA and palette images with transparency were flattened onto white as float32 at full size before any
    reduction (a 196-megapixel RGBA PNG: 16 GB, 58 s). Reduced first, premultiplied by alpha: the result is the
    box average of the flattened image, to within a level, with the note said; numpy holds no full-size copy."""
    a = np.zeros((3000, 5000, 4), np.uint8)
    a[:, :2500] = (200, 40, 90, 255)  # opaque
    a[:, 2500:] = (10, 250, 30, 64)  # a quarter opaque: on white 0.25 * c + 0.75 * 255
    a[:1500, 2500:, 3] = 0  # clear: white
    im = Image.fromarray(a, "RGBA")
    if mode == "LA":
        im = im.convert("LA")
    elif mode == "P":  # one palette entry per colour, the clear one marked transparent
        im = im.convert("RGB").quantize(4)
        clear = im.getpixel((4000, 10))
        im.info["transparency"] = clear
    p = save(tmp_path, f"big_{mode}.png", im, compress_level=1, **({"transparency": clear} if mode == "P" else {}))
    import tracemalloc

    tracemalloc.start()
    try:
        img = load_image(p, max_side=256)  # box-reduced 9x, then Lanczos
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    h, w = img.pixels.shape[:2]
    assert (w, img.pixels.shape[2]) == (256, 3) and abs(h - 154) <= 1 and "transparent areas were composited on white" in img.warnings
    full = np.asarray(im.convert("RGBA"), np.float64) / 255
    flat = full[..., :3] * full[..., 3:] + (1 - full[..., 3:])
    if mode == "LA":
        flat = flat[..., :1]
    for y, x in ((70, 60), (40, 190), (120, 200)):  # the working image's px -> the photo's, box of the area
        ys, xs = slice(int(y * 3000 / h) - 9, int(y * 3000 / h) + 10), slice(int(x * 5000 / w) - 9, int(x * 5000 / w) + 10)
        np.testing.assert_allclose(img.pixels[y, x], np.broadcast_to(flat[ys, xs].mean((0, 1)), (3,)), atol=1.5 / 255)
    assert peak < 20e6, peak  # a float32 RGBA copy of the 15 megapixels is 240 MB

_MEASURE = r"""
import json, resource, sys, time
from gradflip_desktop.core.images import load_image

def high_water_mb():  # VmHWM, reset below: ru_maxrss keeps the parent's (pytest's) mark across fork + exec
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak resident size to the current one (Linux)
except OSError:
    pass
base = high_water_mb()
t = time.perf_counter()
img = load_image(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t, "shape": img.pixels.shape, "original": img.original_size,
                  "base_mb": base, "peak_mb": high_water_mb()}))
"""


def test_24_megapixel_jpeg_time_and_peak_memory(tmp_path):
    rng = np.random.default_rng(3)
    small = (rng.random((250, 375, 3)) * 255).astype(np.uint8)
    big = Image.fromarray(small).resize((6000, 4000), Image.Resampling.BILINEAR)
    p = save(tmp_path, "24mp.jpg", big, quality=90)
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(p)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    m = json.loads(out.stdout)
    assert m["shape"] == [683, 1024, 3]
    assert m["original"] == [6000, 4000]  # the stored size, not the reduced size it was decoded at
    assert m["seconds"] < 60  # generous, for a loaded CI; the speed itself is measured in benchmarks/resources.py
    # a float32 copy at full size alone would be 288 MB; the loader decodes at 1/2 scale (draft): ~150 MB in all.
    # Measured by the peak reset in the child (ru_maxrss kept pytest's mark, so this never failed): the 8-bit check
    # of the 3,000 x 2,000 decode in float64 at once made it 390 MB
    assert m["peak_mb"] - m["base_mb"] < 250, m


# ---- arrays, saving ----------------------------------------------------------------------------------------


def test_from_array_reads_integer_dtypes_by_their_values_and_refuses_non_numbers():
    """int64 or uint32 arrays of 0–255 said "float pixel values must lie in [0, 1]"; a string array raised numpy's
    ValueError, a complex one was taken with a ComplexWarning, a ragged list was numpy's ValueError. Integers of any
    width read as 8-bit data when they fit 0–255, as 16-bit data (uint16's rule) up to 65535; others, and what is
    not a number, are one ImageError naming the dtype; bool reads as black and white."""
    import warnings

    for dtype in (np.int64, np.uint32, np.int16, np.int8, np.uint64):
        img = from_array(np.array([[0, 51], [100, 127]], dtype))
        np.testing.assert_allclose(img.pixels[..., 0], [[0, 0.2], [100 / 255, 127 / 255]], atol=1e-7)
        assert img.warnings == [f"{np.dtype(dtype)} pixel values reach at most 127: read as 8-bit data (scaled by 1/255)"]
    img = from_array(np.array([[0, 4095]], np.int32))
    np.testing.assert_allclose(img.pixels[0, :, 0], [0, 1])
    assert img.warnings[0].startswith("int32 pixel values reach at most 4095: read as 12-bit data (scaled by 1/4095")
    np.testing.assert_allclose(from_array(np.array([[0, 65535]], np.int64)).pixels[0, :, 0], [0, 1])
    for a, words in ((np.array([[-3, 5]], np.int8), "int8 pixel values in [-3, 5] fit neither 8-bit (0–255) nor 16-bit"),
                     (np.array([[0, 70000]], np.int64), "int64 pixel values in [0, 70000] fit neither"),
                     (np.array([["a", "b"]]), "pixel values must be numbers (integers, floats or booleans), not dtype <U1"),
                     (np.ones((2, 2), complex), "not dtype complex128"),
                     (np.array([[None, 1]], dtype=object), "not dtype object"),
                     ([[1, 2], [3]], "cannot read a list as an array of pixels"),
                     (np.full((2, 2), 200.0), r"float pixel values must lie in [0, 1], not [200, 200] (8-bit values? "
                                               "divide them by 255)"),
                     (np.zeros((3, 8, 8), np.float32), "(channels first? put them last: .transpose(1, 2, 0))")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy's ComplexWarning was the only word on a complex array
            with pytest.raises(ImageError) as info:
                from_array(a)
        assert words in str(info.value) and "\n" not in str(info.value), str(info.value)
    np.testing.assert_array_equal(from_array(np.array([[False, True]])).pixels[0, :, 0], [0, 1])  # a mask: black, white


def test_from_array_converts_a_pillow_image_as_a_file_is_converted(tmp_path):
    """np.asarray of a palette image is its indices, of a CMYK one four channels read as RGBA: from_array(Image)
    gave a grey image of palette indices and wrong colours. A Pillow image is converted as load_image converts
    the same pixels from a file."""
    rgb = Image.new("RGB", (6, 4), (200, 30, 90))
    for im in (rgb.convert("P"), rgb.convert("CMYK"), rgb.convert("RGBA"), rgb.convert("I;16")):
        from_file = load_image(save(tmp_path, f"x.{'tif' if im.mode in ('CMYK', 'I;16') else 'png'}", im))
        img = from_array(im)
        assert img.mode == im.mode and img.warnings == from_file.warnings
        np.testing.assert_allclose(img.pixels, from_file.pixels, atol=1e-6)


def test_from_array_checks():
    with pytest.raises(ImageError, match="contains non-finite pixel values"):
        from_array(np.full((2, 2, 3), np.nan, np.float32), name="nan")
    with pytest.raises(ImageError, match=r"float pixel values must lie in \[0, 1\], not \[2, 2\]"):
        from_array(np.full((2, 2, 3), 2.0, np.float32))
    with pytest.raises(ImageError, match=r"expected an H×W or H×W×\(1, 3, 4\) array, got shape \(2, 2, 5\)"):
        from_array(np.zeros((2, 2, 5), np.uint8))
    img = from_array(np.array([[[0, 0, 0, 0], [255, 0, 0, 255]]], np.uint8))
    np.testing.assert_array_equal(img.pixels, [[[1, 1, 1], [1, 0, 0]]])
    np.testing.assert_array_equal(from_array(np.array([[0, 65535]], np.uint16)).pixels, [[[0, 0, 0], [1, 1, 1]]])


def test_save_png_roundtrip_is_quantize(tmp_path):
    x = np.random.default_rng(0).random((7, 9, 3)).astype(np.float32)
    p = save_png(tmp_path / "x.png", x)
    np.testing.assert_array_equal(load_image(p).pixels, quantize(x))
    np.testing.assert_array_equal(np.asarray(Image.open(p)), to_uint8(x))
    with pytest.raises(FileExistsError):
        save_png(p, x)


def test_images_loaded_in_threads_keep_their_own_notes(tmp_path):
    """Batched folder runs load images in several threads at once: a damaged-EXIF note stays with its image,
    and a clean image gets none."""
    import threading

    a = asym(8, 12)
    good = save(tmp_path, "ok.jpg", Image.fromarray(a), quality=95).read_bytes()
    app1 = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\xff" * 32
    bad = tmp_path / "cut_exif.jpg"
    bad.write_bytes(good[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + good[2:])
    clean = save(tmp_path, "clean.png", Image.fromarray(a))
    notes: dict[str, list] = {"bad": [], "clean": []}

    def work(kind, path):
        for _ in range(25):
            notes[kind].append(load_image(path).warnings)

    threads = [threading.Thread(target=work, args=(k, p)) for k, p in (("bad", bad), ("clean", clean)) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(notes["bad"]) == len(notes["clean"]) == 75
    assert all(n == [] for n in notes["clean"])
    assert all(len(n) == 1 and "Corrupt EXIF" in n[0] for n in notes["bad"])


def test_an_array_with_transparency_says_it_was_composited_on_white_as_a_file_does():
    """A pasted image (Edit > Paste Image of a PNG with transparency) goes through from_array: it was
    composited on white without a word, while the same PNG opened as a file said so under the Original."""
    rgba = np.zeros((30, 40, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    rgba[:, :10, 3] = 0  # a transparent strip
    img = from_array(rgba)
    assert img.warnings == ["transparent areas were composited on white"]
    np.testing.assert_allclose(img.pixels[:, :10], 1.0)  # white where it was transparent
    rgba[..., 3] = 255  # opaque: nothing to say
    assert from_array(rgba).warnings == []
    big = np.zeros((300, 400, 4), np.uint8)
    big[..., 3] = 128
    assert from_array(big, max_side=100).warnings == [
        "transparent areas were composited on white", "scaled from 400×300 to 100×75 (working size 100 px)"]


def test_a_scaled_8bit_photo_stays_8bit(tmp_path, tiny):
    """A photo larger than the working size was scaled in float and left between 8-bit levels: every value then
    differed from the 8-bit adjusted PNG by up to half a level before the explanation changed anything, and the
    smallest change (--style free) showed that rounding: skimage's chelsea at 1,600 px had key pixels over 95 %
    of the image and a map of flat noise (8.6 % and a map of the cat for the same photo saved at 1,024 px)."""
    rng = np.random.default_rng(3)
    big = (rng.uniform(0, 1, (300, 400, 3)) * 255).astype(np.uint8)
    Image.fromarray(big).save(tmp_path / "big.png")
    for img in (load_image(tmp_path / "big.png", max_side=128), from_array(big, max_side=128)):
        assert img.size == (128, 96)
        assert np.array_equal(quantize(img.pixels), img.pixels)  # whole levels
        reference = np.asarray(Image.fromarray(big).resize((128, 96), Image.Resampling.LANCZOS), np.float32) / 255
        assert np.abs(img.pixels - reference).mean() <= 1 / 255  # the same scaling (the file is box-reduced first)
    # a 16-bit photo keeps its precision (README: scaled by 1/65535)
    deep = (rng.uniform(0, 1, (300, 400)) * 65535).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert not np.array_equal(quantize(load_image(tmp_path / "deep.png", max_side=128).pixels),
                              load_image(tmp_path / "deep.png", max_side=128).pixels)
    # and the smallest change of a scaled 8-bit photo touches only the pixels it moves: none by rounding alone
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    smooth = np.kron((rng.uniform(0.3, 0.7, (6, 8, 3)) * 255).astype(np.uint8), np.ones((8, 8, 1), np.uint8))
    result = run(tiny, from_array(smooth, max_side=32).pixels, ExplainOptions(style="free"))
    assert result.flipped
    moved = np.abs(result.saved_delta).sum(2) > 0
    assert np.array_equal(moved, np.abs(result.adjusted_uint8.astype(int) - to_uint8(result.original_pixels)).sum(2) > 0)


def test_an_image_prints_as_one_line_with_its_shape_not_its_pixels(tmp_path):
    """``image`` in a notebook cell (or a log line) printed the whole pixel array: 50 lines for a 224 px photo."""
    path = save(tmp_path, "p.png", Image.fromarray(np.full((30, 40, 3), 128, np.uint8)))
    text = repr(load_image(path))
    assert "\n" not in text and "array" not in text and len(text) < 300, text
    assert text.startswith("ImageData(name='p', pixels 30×40×3 float32, original_size=(40, 30), source=")
    assert "pixels 6×7×3 float32" in repr(from_array(np.zeros((6, 7, 3), np.float32)))


def test_a_semi_transparent_8bit_png_stays_8bit(tmp_path, tiny):
    """skimage's coffee with a 50 % transparent band, explained in the smallest change style: composited on white
    between 8-bit levels, the photo differed from the 8-bit adjusted PNG by up to half a level before the
    explanation changed anything; the Difference view showed the band as changed and the key pixels lay in it
    ("changing pixels by at most 1/255" beside a caption "at most 0.5/255"). Flattened as an editor would, the
    photo is whole levels, at its own size and scaled, from a file and from an array (a pasted PNG)."""
    rng = np.random.default_rng(5)
    rgba = (rng.uniform(0, 1, (96, 128, 4)) * 255).astype(np.uint8)
    rgba[..., 3] = 255
    rgba[:, 40:80, 3] = 128  # a semi-transparent band
    Image.fromarray(rgba, "RGBA").save(tmp_path / "band.png")
    la = np.dstack([rgba[..., 0], rgba[..., 3]])
    Image.fromarray(la, "LA").save(tmp_path / "band_la.png")
    for img in (load_image(tmp_path / "band.png"), load_image(tmp_path / "band.png", max_side=64),
                load_image(tmp_path / "band_la.png"), from_array(rgba), from_array(rgba, max_side=64)):
        assert img.warnings[0] == "transparent areas were composited on white"
        assert np.array_equal(quantize(img.pixels), img.pixels)  # whole levels
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    smooth = np.kron((rng.uniform(0.3, 0.7, (6, 8, 3)) * 255).astype(np.uint8), np.ones((8, 8, 1), np.uint8))
    band = np.dstack([smooth, np.full(smooth.shape[:2], 255, np.uint8)])
    band[:, 16:32, 3] = 128
    Image.fromarray(band, "RGBA").save(tmp_path / "smooth.png")
    result = run(tiny, load_image(tmp_path / "smooth.png"), ExplainOptions(style="free"))
    assert result.flipped
    moved = np.abs(result.saved_delta).sum(2) > 0  # the change the run made: none by rounding alone
    assert np.array_equal(moved, np.abs(result.adjusted_uint8.astype(int) - to_uint8(result.original_pixels)).sum(2) > 0)
    assert np.array_equal(to_uint8(result.original_pixels).astype(np.float32) / 255, result.original_pixels)


def test_a_large_jpeg_is_decoded_at_no_less_than_twice_the_working_size(tmp_path, monkeypatch):
    """Pillow's draft decodes a JPEG at 1/2, 1/4 or 1/8 scale; GradFlip asks for at least twice the working size, so
    the working image is resized down from real detail (asked at the working size, it was the DCT's 1/8 preview)."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (384, 512, 3), dtype=np.uint8)).save(tmp_path / "big.jpg", quality=90)
    asked, real = [], JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size, *args, **kwargs):
        asked.append(tuple(size))
        return real(self, mode, size, *args, **kwargs)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    img = load_image(tmp_path / "big.jpg", max_side=64)
    assert img.pixels.shape[:2] == (48, 64) and img.original_size == (512, 384)
    assert asked and asked[0][0] >= 2 * 64 and asked[0][1] >= 2 * 48


def test_a_16bit_grey_pngs_transparent_value_does_not_set_the_scale_of_the_opaque_ones(tmp_path):
    """12-bit data whose transparent value is 65535: the opaque values' range (at most 4000) sets the scale, 1/4095,
    not the transparent value's (1/65535 showed a nearly black image)."""
    a = np.array([[65535, 4000, 100], [0, 65535, 2000]])
    p = tmp_path / "g12t.png"
    p.write_bytes(_gray16_png_with_transparent(a, 65535))
    img = load_image(p)
    expected = np.where(a == 65535, 1.0, a / 4095.0).astype(np.float32)
    np.testing.assert_allclose(img.pixels[..., 0], expected, atol=1e-6)
    assert any("read as 12-bit data" in w for w in img.warnings), img.warnings


def test_wide_integers_of_at_most_255_are_8_bit_data_up_to_255_itself():
    """An int32 or int64 array whose brightest value is 255 (white) is 8-bit data: by 1/255, not by 1/4095."""
    for dtype in (np.int32, np.int64):
        img = from_array(np.array([[0, 51], [204, 255]], dtype))
        np.testing.assert_allclose(img.pixels[..., 0], [[0.0, 0.2], [0.8, 1.0]], atol=1e-6)
        assert img.warnings == [f"{np.dtype(dtype)} pixel values reach at most 255: read as 8-bit data (scaled by 1/255)"]


def test_the_thin_side_note_is_given_only_where_the_scaling_made_the_image_thinner():
    """1025 × 12 scaled to 1024 × 12 keeps its 12 px short side: scaled, and not made thin. 4000 × 40 to 1024 × 10 is."""
    assert from_array(np.zeros((12, 1025), np.uint8)).warnings == ["scaled from 1025×12 to 1024×12 (working size 1024 px)"]
    thin = from_array(np.zeros((40, 4000), np.uint8)).warnings
    assert thin == ["scaled from 4000×40 to 1024×10 (working size 1024 px); its short side is only 10 px there, so a "
                    "classifier sees little of it (crop it, or raise the working size)"]


def test_a_camera_raw_dng_and_a_marked_preview_say_what_is_read(tmp_path):
    """A DNG is a TIFF whose first image is often a thumbnail and whose raw sensor data Pillow does not decode: a
    helper's DNG was explained from its 96 x 64 preview with no note. A TIFF whose first image is marked as a
    reduced-resolution copy (NewSubfileType bit 0) holds the full one elsewhere. Both are read, and said; a plain
    TIFF has no such note."""
    from PIL import TiffImagePlugin

    photo = Image.fromarray(np.full((64, 96, 3), 90, np.uint8))
    dng = TiffImagePlugin.ImageFileDirectory_v2()
    dng[254], dng[50706] = 1, b"\x01\x04\x00\x00"
    dng.tagtype[50706] = 1
    photo.save(tmp_path / "shot.dng", format="TIFF", tiffinfo=dng)
    img = load_image(tmp_path / "shot.dng")
    assert img.pixels.shape[:2] == (64, 96)
    assert img.warnings == ["a camera RAW (DNG) file: only its embedded 96×64 preview is read, not the raw sensor "
                            "data; convert it to TIFF, PNG or JPEG in a raw converter to explain the photo itself"]
    marked = TiffImagePlugin.ImageFileDirectory_v2()
    marked[254] = 1
    photo.save(tmp_path / "marked.tif", tiffinfo=marked)
    assert load_image(tmp_path / "marked.tif").warnings == [
        "its first image is marked as a reduced-resolution copy (96×64) of one the file holds elsewhere: the copy is read"]
    photo.save(tmp_path / "plain.tif")
    assert load_image(tmp_path / "plain.tif").warnings == []
