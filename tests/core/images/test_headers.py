"""What is read from a file's headers before decoding: an icon's frame sizes (a bomb refused before Pillow decodes
it), a progressive JPEG's scans, a PPM's bit depth, a TIFF's orientation, a cut-off AVIF named as one."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, features

from gradflip_desktop.core.images import ImageError, load_image
from gradflip_desktop.core.images.headers import MAX_SCANS, icon_frame_sizes, scan_count


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _icon_of_png(png: bytes) -> bytes:
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22) + png


def test_an_icon_whose_png_frame_declares_a_bomb_is_refused_from_its_header(tmp_path):
    # a 256 x 256 directory entry over a PNG frame that says 20000 x 20000 (its pixel data cut short: decoding it
    # whole took 2 GB and 14 s before the size was refused)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 6, 0, 0, 0)) + \
        _chunk(b"IDAT", zlib.compress(b"\0" * 4000))
    p = tmp_path / "bomb.ico"
    p.write_bytes(_icon_of_png(png))
    with pytest.raises(ImageError) as e:
        load_image(p)
    assert str(e.value).startswith("“bomb.ico” declares 20000×20000 = 400 megapixels, more than the limit of 200")
    assert icon_frame_sizes(io.BytesIO(p.read_bytes())) == [(20000, 20000)]


def test_an_ordinary_icon_loads_and_its_frames_are_read(tmp_path):
    p = tmp_path / "icon.ico"
    Image.new("RGB", (32, 32), (200, 30, 10)).save(p, sizes=[(16, 16), (32, 32)])
    with open(p, "rb") as fp:
        assert sorted(icon_frame_sizes(fp)) == [(16, 16), (32, 32)]
        assert fp.tell() == 0  # the position is kept for Pillow
    img = load_image(p)
    assert img.pixels.shape == (32, 32, 3) and abs(img.pixels[5, 5, 0] * 255 - 200) <= 1


def test_a_cut_off_icon_is_called_truncated(tmp_path):
    b = io.BytesIO()
    noise = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(b, format="ICO", sizes=[(64, 64)])
    p = tmp_path / "cut.ico"
    p.write_bytes(b.getvalue()[: len(b.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"“cut.ico” is truncated or incomplete"):
        load_image(p)


def _progressive(size: int = 64) -> bytes:
    b = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(b, "JPEG", progressive=True, quality=90)
    return b.getvalue()


def _with_repeated_scan(jpeg: bytes, times: int) -> bytes:
    """The JPEG with its last scan repeated ``times`` times (a valid file that libjpeg decodes once per scan)."""
    last = jpeg.rindex(b"\xff\xda")
    return jpeg[:-2] + jpeg[last:-2] * times + b"\xff\xd9"


def test_a_progressive_jpeg_of_too_many_scans_is_refused_before_decoding(tmp_path):
    plain = _progressive()
    assert 2 <= scan_count(io.BytesIO(plain)) <= 20  # a real progressive JPEG's few scans
    p = tmp_path / "ok.jpg"
    p.write_bytes(_with_repeated_scan(plain, 20))
    assert load_image(p).pixels.shape == (64, 64, 3)  # a few more scans are fine
    p = tmp_path / "scans.jpg"
    p.write_bytes(_with_repeated_scan(plain, MAX_SCANS + 1))
    assert scan_count(io.BytesIO(p.read_bytes())) > MAX_SCANS
    with pytest.raises(ImageError, match=rf"“scans.jpg” is a progressive JPEG of more than {MAX_SCANS} scans"):
        load_image(p)


@pytest.mark.parametrize("maxval,bits", [(1023, 10), (65535, 16)])
def test_a_ppm_of_more_than_8_bits_says_it_was_read_as_8(tmp_path, maxval, bits):
    ramp = np.linspace(0, maxval, 8 * 3).round().astype(">u2").reshape(1, 8, 3)
    p = tmp_path / "deep.ppm"
    p.write_bytes(f"P6 8 1 {maxval}\n".encode() + ramp.tobytes())
    img = load_image(p)
    assert f"{bits} bits per colour channel read as 8" in img.warnings
    assert abs(img.pixels[0, -1, 2] - 1.0) < 1e-6
    p8 = tmp_path / "plain.ppm"
    Image.new("RGB", (2, 2)).save(p8)
    assert load_image(p8).warnings == []


def test_a_tiff_turned_upright_by_its_orientation_says_so(tmp_path):
    a = (np.arange(3 * 5 * 3).reshape(3, 5, 3) * 13 % 256).astype(np.uint8)
    p = tmp_path / "o6.tif"
    Image.fromarray(a).save(p, tiffinfo={0x0112: 6})
    img = load_image(p)
    assert "turned upright by its EXIF orientation (rotated 90° clockwise)" in img.warnings
    np.testing.assert_array_equal(img.pixels, np.rot90(a, -1).astype(np.float32) / np.float32(255))


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow build has no AVIF codec")
def test_a_cut_off_avif_is_named_as_one(tmp_path):
    b = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 99, 199)).save(b, "AVIF")
    p = tmp_path / "cut.avif"
    p.write_bytes(b.getvalue()[: len(b.getvalue()) // 2])
    with pytest.raises(ImageError, match="“cut.avif” starts like an AVIF file but its header is truncated or corrupt"):
        load_image(p)


def test_ff_da_outside_the_scans_is_no_scan(tmp_path):
    """Counting every FF DA pair refused valid JPEGs: an APP segment holding the bytes (an ICC profile, XMP, a
    thumbnail) and data appended after the end-of-image marker (a phone's video) counted as scans."""
    plain = _progressive()
    scans = scan_count(io.BytesIO(plain))
    app = b"\xff\xef" + (2 + 600 * 2).to_bytes(2, "big") + b"\xff\xda" * 600  # an APP15 segment of 600 FF DA pairs
    p = tmp_path / "app.jpg"
    p.write_bytes(plain[:2] + app + plain[2:] + b"\xff\xda\x00\x08" * 700)  # and 700 more after the image's end
    assert scan_count(io.BytesIO(p.read_bytes())) == scans
    assert load_image(p).pixels.shape == (64, 64, 3)


def test_a_cut_off_webp_is_named_as_one_and_another_riff_file_is_not():
    """WebP: "RIFF", the file's size, then "WEBP" at byte 8; a WAV file is RIFF too."""
    from gradflip_desktop.core.images.headers import signature, sniff_unidentified

    webp = b"RIFF" + struct.pack("<I", 100) + b"WEBPVP8 " + bytes(8)
    assert signature(webp) == "WebP"
    assert sniff_unidentified(webp) == "starts like a WebP file but its header is truncated or corrupt"
    assert signature(b"RIFF" + struct.pack("<I", 100) + b"WAVEfmt " + bytes(8)) is None


def _tiff_header(tags: dict[int, int]) -> bytes:
    """A little-endian TIFF whose first directory holds ``tags`` (one SHORT each) and no image data."""
    entries = b"".join(struct.pack("<HHII", tag, 3, 1, value) for tag, value in sorted(tags.items()))
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(tags)) + entries + struct.pack("<I", 0)


@pytest.mark.parametrize("tags, words", [
    ({256: 4, 257: 3, 258: 8, 262: 2, 277: 5}, "5 channels of 8-bit integers"),
    ({256: 4, 257: 3, 258: 16, 262: 2, 277: 16}, "16 channels of 16-bit integers"),
    ({256: 4, 257: 3, 258: 32, 262: 1, 277: 1, 339: 3}, "1 channel of 32-bit floats"),
    ({256: 4, 257: 3, 258: 16, 262: 1, 277: 1, 339: 2}, "1 channel of 16-bit signed integers"),
    ({256: 4, 257: 3, 258: 8, 262: 2, 277: 17}, None),  # more than 16 samples: a directory that makes no sense
    ({256: 0, 257: 3, 258: 8, 262: 2, 277: 3}, None),  # no width
    ({256: 4, 257: 3, 258: 8, 262: 7, 277: 3}, None),  # no such colour model
])
def test_a_tiffs_first_directory_is_said_in_words_up_to_16_channels(tags, words):
    from gradflip_desktop.core.images.headers import tiff_kind

    assert tiff_kind(io.BytesIO(_tiff_header(tags))) == words


def test_an_icons_bitmap_frames_are_read_at_their_own_height_not_with_their_mask():
    """A bitmap frame's header counts its AND mask's rows in its height (32 × 64 for a 32 × 32 frame)."""
    b = io.BytesIO()
    Image.new("RGBA", (48, 48), (200, 30, 10, 255)).save(b, "ICO", sizes=[(16, 16), (32, 32), (48, 48)], bitmap_format="bmp")
    b.seek(0)
    assert sorted(icon_frame_sizes(b)) == [(16, 16), (32, 32), (48, 48)]
    assert b.tell() == 0


def test_fill_bytes_before_a_marker_and_a_video_after_the_image_do_not_change_the_scan_count():
    """Any number of FF fill bytes may stand before a marker (the scan is still counted); data appended after the
    end-of-image marker whose first bytes read as a short segment length (an MP4 box: 00 00 00 18 ftyp) is not
    walked as this image's segments."""
    plain = _progressive()
    scans = scan_count(io.BytesIO(plain))
    assert scans > 1
    filled = plain[:2] + plain[2:].replace(b"\xff\xda", b"\xff\xff\xda")  # one fill byte before each scan
    assert scan_count(io.BytesIO(filled)) == scans
    video = b"\x00\x00\x00\x18ftypmp42" + b"\xff\xda\x00\x08" * 50
    assert scan_count(io.BytesIO(plain + video)) == scans


def test_a_plain_text_ppm_of_8_bits_says_nothing_and_one_of_10_bits_says_so(tmp_path):
    """A plain (P3) PPM names its maxval in its tile even at 255: only one over 255 is more than 8 bits."""
    p = tmp_path / "plain.ppm"
    p.write_bytes(b"P3 2 1 255\n0 0 0 255 255 255\n")
    img = load_image(p)
    assert img.warnings == [] and img.pixels[0, 1].tolist() == [1.0, 1.0, 1.0]
    p.write_bytes(b"P3 2 1 1023\n0 0 0 1023 1023 1023\n")
    assert "10 bits per colour channel read as 8" in load_image(p).warnings


def test_only_bytes_that_are_all_printable_are_called_a_text_file():
    from gradflip_desktop.core.images.headers import sniff_unidentified

    assert sniff_unidentified(b"name,width\r\ncat,3\t\n") == "is a text file, not an image"
    unknown = "is not an image format GradFlip can read (unknown or corrupt file header)"
    assert sniff_unidentified(b"\x00\x01\x02\x03text after a binary header") == unknown
