"""Hostile and broken image inputs: every one gets an ImageError naming the file and the problem.

All files are generated here, in tmp_path. The same ``load_image`` is what the GUI (open, drop, paste)
and the CLI (``classify``/``explain``) call; the CLI path is checked end to end at the bottom.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from gradflip_desktop import cli
from gradflip_desktop.core import images
from gradflip_desktop.core.images import ImageError, load_image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """A PNG whose IHDR (valid CRC) declares width x height, followed by a tiny IDAT and IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")


def gif_header_only(width: int, height: int) -> bytes:
    """A GIF whose logical screen and image descriptor declare width x height (then a minimal LZW stream)."""
    return (
        b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
        + b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00;"
    )


def bmp_header_only(width: int, height: int) -> bytes:
    """A 24-bit BMP header declaring width x height, with almost no pixel data."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 14 + 40) + info + b"\0" * 16


def encoded(fmt: str, array: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def photo() -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.random((48, 64, 3)) * 255).astype(np.uint8)


def write(tmp_path, name: str, data: bytes | str):
    p = tmp_path / name
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    return p


def refused(path_or_bytes, **kw) -> str:
    with pytest.raises(ImageError) as info:
        load_image(path_or_bytes, **kw)
    msg = str(info.value)
    assert "Traceback" not in msg and "\n" not in msg
    return msg


# ---- not files, empty, missing ---------------------------------------------------------------------


def test_nonexistent_path(tmp_path):
    assert refused(tmp_path / "nope.png") == "“nope.png” does not exist"
    # a link that leads nowhere is listed by `ls`: "does not exist" read as wrong (a reviewer, 2026-12-07)
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone" / "cat.png")
    assert refused(tmp_path / "dangling.png") == f"“dangling.png” is a link to {tmp_path / 'gone' / 'cat.png'}, which does not exist"


@pytest.mark.parametrize("url", ["https://example.com/cat.jpg", "HTTP://example.com/a/b.png", "ftp://host/x.gif"])
def test_a_web_address_is_named_whole_as_one(url, capsys):
    """Before: "“cat.jpg” does not exist", the address cut to its last part."""
    assert refused(url) == f"{url} is a web address: GradFlip works offline and does not " \
        "download images; save the image and give the file's path"
    assert cli.main(["classify", url]) == 2
    assert capsys.readouterr().err.strip() == f"gradflip: error: {refused(url)}"


def test_a_png_with_large_metadata_opens_and_a_huge_one_is_named_as_such(tmp_path):
    """A 5 MB XMP chunk (photo editors write them) was refused as "header is truncated or corrupt: Decompressed
    data too large for PngImagePlugin.MAX_TEXT_CHUNK"; over 16 MB it is refused, saying what it is."""
    from PIL import PngImagePlugin

    for size, ok in ((5, True), (40, False)):
        info = PngImagePlugin.PngInfo()
        info.add_text("XML:com.adobe.xmp", "x" * (size * 2**20), zip=True)
        path = tmp_path / f"xmp{size}.png"
        Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(path, pnginfo=info)
        if ok:
            assert load_image(path).pixels.shape == (8, 8, 3)
        else:
            assert refused(path) == (f"“xmp{size}.png” holds a metadata chunk (text or colour profile) of more than "
                                     "16 MB, more than GradFlip reads; save the image again without its metadata")


def test_standard_input_as_a_dash_is_said_to_be_unsupported():
    assert refused("-") == "reading an image from standard input ('-') is not supported; give the file's path"


def test_directory(tmp_path):
    d = tmp_path / "holiday.jpg"
    d.mkdir()
    assert refused(d) == "“holiday.jpg” is a folder, not an image file"


def test_current_directory_is_named():
    assert refused(".") == "“.” is a folder, not an image file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "stream.png"
    os.mkfifo(fifo)
    t = time.perf_counter()
    assert refused(fifo) == "“stream.png” is not a regular file (a device, pipe or socket), not an image file"
    assert time.perf_counter() - t < 30  # generous: a blocking open() would never return


def test_empty_file(tmp_path):
    assert refused(write(tmp_path, "empty.png", b"")) == "“empty.png” is empty (0 bytes)"


@pytest.mark.skipif(not os.path.isfile("/proc/self/status"), reason="needs Linux's /proc")
def test_a_proc_file_says_what_it_is_not_empty():
    """/proc and /sys files report a size of 0 and have content: `gradflip classify /proc/self/status` said "is
    empty (0 bytes)". Read, such a file is said for what it is; a model file alike."""
    assert os.stat("/proc/self/status").st_size == 0
    assert refused("/proc/self/status") == "“status” is a text file, not an image"
    assert cli.main(["classify", "/proc/self/status"]) == 2
    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models.files import load_model_file

    with pytest.raises(ModelError) as info:
        load_model_file("/proc/self/status")
    assert "empty" not in str(info.value) and str(info.value).startswith("cannot tell the format of status")


def test_empty_bytes():
    assert refused(b"") == "the pasted image is empty (0 bytes)"
    assert refused(b"", name="clip") == "“clip” is empty (0 bytes)"


# ---- not images ------------------------------------------------------------------------------------


def test_text_named_as_png(tmp_path):
    assert refused(write(tmp_path, "notes.png", "shopping: milk, eggs\n")) == "“notes.png” is a text file, not an image"


def test_html_named_as_jpg(tmp_path):
    page = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>gone</body></html>\n"
    assert refused(write(tmp_path, "cat.jpg", page)) == "“cat.jpg” is an HTML page, not an image (a failed download?)"


def test_svg(tmp_path):
    svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    assert "is an SVG vector image; GradFlip needs a raster image" in refused(write(tmp_path, "logo.svg", svg))
    # also when named like a raster image, and without the XML declaration
    assert refused(write(tmp_path, "logo.png", svg[22:])).startswith("“logo.png” is an SVG vector image")


def test_pdf_and_zip_and_heic(tmp_path):
    assert refused(write(tmp_path, "scan.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")) == "“scan.jpg” is a PDF document, not an image"
    assert refused(write(tmp_path, "pics.png", b"PK\x03\x04" + bytes(60))) == "“pics.png” is a ZIP archive, not an image"
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0mif1heic" + bytes(40)
    assert "is a HEIC/HEIF image, which this installation cannot read" in refused(write(tmp_path, "IMG_1.HEIC", heic))


def test_radiance_hdr_and_colour_pfm_are_named_not_called_corrupt(tmp_path):
    """Valid high-dynamic-range files Pillow does not read were "unknown or corrupt file header": named now, with what
    to save them as. A grey PFM, which Pillow reads, still loads."""
    hdr = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n" + bytes(16)
    assert refused(write(tmp_path, "sky.hdr", hdr)) == ("“sky.hdr” is a Radiance HDR image, which GradFlip cannot read "
                                                       "(save it as a 16-bit PNG)")
    pfm = b"PF\n2 2\n-1.0\n" + np.full(12, 0.5, "<f4").tobytes()
    assert refused(write(tmp_path, "x.pfm", pfm)) == ("“x.pfm” is a colour PFM (portable float map), which GradFlip "
                                                     "cannot read (save it as a 16-bit PNG)")
    grey = write(tmp_path, "g.pfm", b"Pf\n2 2\n-1.0\n" + np.full(4, 0.5, "<f4").tobytes())
    np.testing.assert_allclose(load_image(grey).pixels, 0.5)


EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n%%EndComments\n"
       b"(GHOSTSCRIPT_RAN_THE_FILE) print flush\n{ } loop\nshowpage\n")


@pytest.mark.parametrize("name", ["figure.eps", "photo.jpg", "scan.ps"])
def test_postscript_is_refused_and_never_handed_to_ghostscript(tmp_path, monkeypatch, name):
    # Pillow renders EPS by running Ghostscript on the file's program: this one prints to stdout (which
    # broke --json) and then loops forever (the run hung). It must never get that far, whatever its name
    from PIL import EpsImagePlugin

    ran = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: ran.append(a) or (_ for _ in ()).throw(
        AssertionError("Ghostscript was asked to run the file")))
    path = write(tmp_path, name, EPS)
    message = refused(path)
    assert message.startswith(f"“{name}” is a PostScript/EPS document") and "export it to PNG" in message
    assert ran == []
    # the DOS-binary EPS header too
    binary = write(tmp_path, "b" + name, b"\xc5\xd0\xd3\xc6" + struct.pack("<IIIIII", 30, len(EPS), 0, 0, 0, 0)
                   + bytes(6) + EPS)
    assert "is a PostScript/EPS document" in refused(binary) and ran == []


def test_no_part_of_gradflip_opens_a_format_that_runs_a_program():
    # every Image.open in the package passes formats=safe_formats(): a file named .png that holds EPS is
    # neither thumbnailed (folder view), nor read back as a result set's image, nor taken for an image
    import pathlib
    import re

    root = pathlib.Path(images.__file__).resolve().parents[2]
    calls = [(p.relative_to(root), line) for p in root.rglob("*.py")
             for line in p.read_text(encoding="utf-8").splitlines() if re.search(r"Image\.open\(", line)]
    assert calls, "no Image.open found: the search is broken"
    assert all("formats=safe_formats()" in line for _, line in calls), calls
    assert "EPS" not in images.safe_formats() and "PNG" in images.safe_formats()


def test_random_bytes_named_as_jpg(tmp_path):
    data = np.random.default_rng(0).bytes(5000)
    assert refused(write(tmp_path, "photo.jpg", data)) == (
        "“photo.jpg” is not an image format GradFlip can read (unknown or corrupt file header)"
    )


# ---- broken images ---------------------------------------------------------------------------------


def test_truncated_png(tmp_path, photo):
    data = encoded("PNG", photo)
    msg = refused(write(tmp_path, "half.png", data[: len(data) // 2]))
    assert msg.startswith("“half.png” is truncated or incomplete (a broken download, or a header that claims more image than "
                          "the file holds)")


def test_truncated_jpeg(tmp_path, photo):
    data = encoded("JPEG", photo, quality=90)
    msg = refused(write(tmp_path, "half.jpg", data[: len(data) // 2]))
    assert msg.startswith("“half.jpg” is truncated or incomplete (a broken download, or a header that claims more image than "
                          "the file holds)")
    # not Pillow's "image file is truncated (33 bytes not processed)", for half of the file gone (walk38)
    assert msg.endswith(": the file ends before the image data does") and "bytes not processed" not in msg


@pytest.mark.parametrize(
    "fmt, name, keep",
    [("PNG", "head.png", 30), ("JPEG", "head.jpg", 6), ("GIF", "head.gif", 8), ("TIFF", "head.tif", 6)],
)
def test_header_cut_short_names_the_format(tmp_path, photo, fmt, name, keep):
    arr = photo if fmt != "GIF" else photo[..., 0]
    data = encoded(fmt, arr)[:keep]
    label = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "TIFF": "TIFF"}[fmt]
    msg = refused(write(tmp_path, name, data))
    assert msg.startswith(f"“{name}” starts like a {label} file but its header is truncated or corrupt")


def test_corrupt_png_data_crc(tmp_path, photo):
    data = bytearray(encoded("PNG", photo))
    idat = data.index(b"IDAT")
    data[idat + 20] ^= 0xFF  # flip bits inside the compressed pixels: the CRC no longer matches
    msg = refused(write(tmp_path, "bitrot.png", bytes(data)))
    assert msg.startswith("“bitrot.png” ")
    assert "corrupt" in msg or "truncated" in msg


def test_corrupt_jpeg_scan_is_refused_or_loaded_finite(tmp_path, photo):
    """Corrupt JPEG entropy data: libjpeg may recover (then the pixels must be sane) or refuse."""
    data = bytearray(encoded("JPEG", photo, quality=90))
    sos = data.index(b"\xff\xda")
    for i in range(sos + 20, len(data) - 4, 7):
        data[i] = 0xFF if data[i] != 0xFF else 0x00
    try:
        img = load_image(write(tmp_path, "noise.jpg", bytes(data)))
    except ImageError as exc:
        assert str(exc).startswith("“noise.jpg” ")
    else:
        assert img.pixels.shape == (48, 64, 3) and np.isfinite(img.pixels).all()


def test_nonfinite_float_tiff(tmp_path):
    for value, name in ((np.nan, "nan.tif"), (np.inf, "inf.tif"), (-np.inf, "neginf.tif")):
        a = np.full((4, 5), 0.5, np.float32)
        a[2, 3] = value
        Image.fromarray(a, "F").save(tmp_path / name)
        assert refused(tmp_path / name) == f"“{name}” contains non-finite pixel values (NaN or infinity)"


# ---- decompression bombs and limits ----------------------------------------------------------------


def _refused_fast(path, **kw) -> tuple[str, float, int]:
    tracemalloc.start()
    t = time.perf_counter()
    try:
        msg = refused(path, **kw)
    finally:
        seconds = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return msg, seconds, peak


@pytest.mark.parametrize(
    "name, data, size",
    [
        ("bomb.png", png_header_only(100_000, 100_000), "100000×100000 = 10,000 megapixels"),
        ("bomb.gif", gif_header_only(65_535, 65_535), "65535×65535 = 4,295 megapixels"),
        ("bomb.bmp", bmp_header_only(50_000, 50_000), "50000×50000 = 2,500 megapixels"),
    ],
)
def test_decompression_bomb_refused_from_header(tmp_path, name, data, size):
    msg, seconds, peak = _refused_fast(write(tmp_path, name, data))
    assert msg == (
        f"“{name}” declares {size}, more than the limit of 200 megapixels "
        "(possible decompression bomb; the command line's --max-pixels raises the limit)"
    )
    assert seconds < 10  # generous (a busy CI); decoding 10 GP would take minutes. Speed: benchmarks/resources.py
    assert peak < 5_000_000  # bytes: nothing the size of the image was allocated


def test_pixel_limit_is_configurable(tmp_path, photo):
    p = write(tmp_path, "small.png", encoded("PNG", photo))
    msg = refused(p, max_pixels=1000)
    assert msg == (
        "“small.png” declares 64×48 = 3,072 pixels, more than the limit of 1,000 pixels "
        "(the limit given, e.g. by --max-pixels)"  # a chosen limit: not told that --max-pixels raises it
    )
    assert load_image(p, max_pixels=64 * 48).pixels.shape == (48, 64, 3)
    # one pixel over the limit is refused; counts that round to the same megapixels are shown exactly
    msg = refused(p, max_pixels=64 * 48 - 1)
    assert "= 3,072 pixels, more than the limit of 3,071 pixels" in msg
    big = write(tmp_path, "big.png", png_header_only(20_010, 10_000))  # 200.1 MP against a 200 MP limit
    assert "= 200,100,000 pixels, more than the limit of 200,000,000 pixels" in refused(big)


def test_bomb_within_pillows_own_limit_uses_ours(tmp_path):
    """Pillow refuses > 179 MP by itself; our (configurable) limit decides instead, and is restored after."""
    before = Image.MAX_IMAGE_PIXELS
    p = write(tmp_path, "wide.png", png_header_only(20_000, 10_000))  # 200 MP exactly: allowed by header
    msg = refused(p, max_pixels=150_000_000)
    assert "declares 20000×10000 = 200 megapixels, more than the limit of 150 megapixels" in msg
    assert Image.MAX_IMAGE_PIXELS == before


def test_concurrent_loads_restore_pillows_limit(tmp_path, photo):
    before = Image.MAX_IMAGE_PIXELS
    p = write(tmp_path, "p.png", encoded("PNG", photo))
    errors = []

    def work():
        try:
            for _ in range(20):
                load_image(p)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert Image.MAX_IMAGE_PIXELS == before


def test_bad_limits_are_refused(tmp_path, photo):
    p = write(tmp_path, "p.png", encoded("PNG", photo))
    assert refused(p, max_side=0) == "the working size (max side) must be at least 1 pixel, not 0"
    assert refused(p, max_pixels=0) == "the pixel limit must be at least 1, not 0"
    # not whole numbers: 1.5 blamed the file ("could not be converted"), NaN raised a bare ValueError, True was 1 px
    for side, limit in ((1.5, 2e8), (float("nan"), 2e8), (True, 2e8), ("2", 2e8), (1024, float("nan")), (1024, 10**400)):
        assert refused(p, max_side=side, max_pixels=limit) == (
            f"the working size and the pixel limit are whole numbers (below 2**53), not {side!r} / {limit!r}")
    assert max(load_image(p, max_side=np.int64(16), max_pixels=2e8).pixels.shape[:2]) == 16  # numpy's, 2e8: whole


def test_memory_error_becomes_a_message(tmp_path, photo, monkeypatch):
    p = write(tmp_path, "huge.png", encoded("PNG", photo))

    def boom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(images.loading, "_to_float", boom)
    assert refused(p) == "“huge.png” is too large to load with the memory available; lower the working size"


def test_broken_exif_is_a_warning_not_a_failure(tmp_path, photo, monkeypatch):
    p = write(tmp_path, "exif.png", encoded("PNG", photo))

    def broken(im):
        raise SyntaxError("bad EXIF IFD")

    monkeypatch.setattr(images.loading.ImageOps, "exif_transpose", broken)
    img = load_image(p)
    assert img.warnings == ["ignored an unreadable EXIF orientation (bad EXIF IFD)"]
    np.testing.assert_array_equal(img.pixels, photo.astype(np.float32) / 255)


# ---- the CLI gives the same answer, exit 2, no traceback ---------------------------------------------


def test_cli_reports_each_bad_file_and_exits_2(tmp_path, capsys, monkeypatch):
    from helpers import make_tiny

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    bad = [
        write(tmp_path, "empty.png", b""),
        write(tmp_path, "notes.png", "just text\n"),
        write(tmp_path, "bomb.png", png_header_only(100_000, 100_000)),
        tmp_path / "missing.jpg",
    ]
    good = write(tmp_path, "ok.png", encoded("PNG", np.full((8, 8, 3), 128, np.uint8)))
    code = cli.main(["classify", *map(str, bad), str(good)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines == [
        "gradflip: error: “empty.png” is empty (0 bytes)",
        "gradflip: error: “notes.png” is a text file, not an image",
        "gradflip: error: “bomb.png” declares 100000×100000 = 10,000 megapixels, more than the limit of 200 "
        "megapixels (possible decompression bomb; the command line's --max-pixels raises the limit)",
        "gradflip: error: “missing.jpg” does not exist",
    ]
    assert f"{good}:" in out  # the good file was still classified


def test_cli_max_pixels_option(tmp_path, capsys, monkeypatch):
    from helpers import make_tiny

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    p = write(tmp_path, "p.png", encoded("PNG", np.zeros((40, 50, 3), np.uint8)))
    assert cli.main(["classify", "--max-pixels", "1000", str(p)]) == 2
    err = capsys.readouterr().err
    assert "“p.png” declares 50×40 = 2,000 pixels, more than the limit of 1,000 pixels" in err
    assert cli.main(["classify", "--max-pixels", "2000", str(p)]) == 0  # the limit is inclusive


_RSS_CHILD = r"""
import json, resource, sys
from gradflip_desktop.core.images import ImageError, load_image

def peak_kib():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform == "darwin" else r  # bytes on macOS, KiB on Linux

load_image(sys.argv[2])  # warm up: plugins imported, first allocations done
before = peak_kib()
for _ in range(5):
    try:
        load_image(sys.argv[1])
    except ImageError:
        pass
    else:
        raise SystemExit("the bomb was loaded")
print(json.dumps({"before_kib": before, "after_kib": peak_kib()}))
"""


def test_peak_rss_is_sane_after_refusals(tmp_path, photo):
    """Refusing a 10-gigapixel header must not move the peak RSS of a fresh process by more than a few MB.

    Measured in a child process: this process's high-water mark was already raised by earlier tests, so
    comparing it before and after could never fail.
    """
    p = write(tmp_path, "bomb.png", png_header_only(100_000, 100_000))
    warm = write(tmp_path, "warm.png", encoded("PNG", photo))
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(p), str(warm)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    m = json.loads(out.stdout)
    assert m["after_kib"] - m["before_kib"] < 20_000, m


def test_the_stale_file_sweep_never_signals_a_process_where_that_would_end_it(tmp_path, monkeypatch):
    """Off POSIX, os.kill(pid, 0) would terminate the process (and a stale file's pid may be reused by now):
    there the sweep goes by age alone (a day), and never calls os.kill."""
    import os
    import time

    from gradflip_desktop.core.images import writing

    def no_kill(*a):
        raise AssertionError("os.kill must not be called here")

    old, older = tmp_path / ".gradflip-12345-a.part", tmp_path / ".gradflip-12345-b.part"
    for p, age in ((old, 7200), (older, 2 * 86400)):
        p.write_bytes(b"half")
        t = time.time() - age
        os.utime(p, (t, t))
    monkeypatch.setattr(writing.os, "kill", no_kill)
    monkeypatch.setattr(writing.os, "name", "nt")
    removed = writing.sweep_stale(tmp_path)
    monkeypatch.undo()
    assert removed == 1 and old.exists() and not older.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_photo_that_became_a_named_pipe_is_never_waited_on(tmp_path):
    """A folder run fingerprints each photo (SHA-256) just before loading it, and `gradflip check` hashes the
    run's photo: both used a plain open(), which blocks on a named pipe until a writer comes. A photo replaced
    by a pipe after the folder was listed (or after the run) hung the run and the check for ever."""
    from gradflip_desktop.core.dataset.check_stamp import file_sha256
    from gradflip_desktop.core.dataset.inputs import file_fingerprint
    from gradflip_desktop.core.images.loading import open_regular

    fifo = tmp_path / "p.png"
    os.mkfifo(fifo)
    seen: list = []

    def attempt():
        seen.append(file_fingerprint(fifo))
        for fn in (file_sha256, open_regular):
            try:
                fn(fifo)
            except OSError as exc:
                seen.append(str(exc))

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "open() waited for a writer on the pipe"
    assert seen[0] is None and all("not a regular file" in s for s in seen[1:]) and len(seen) == 3, seen
    photo = write(tmp_path, "q.png", b"\x89PNG")
    assert file_fingerprint(photo)["bytes"] == 4 and open_regular(photo).read() == b"\x89PNG"


def test_a_newline_in_a_file_name_keeps_every_message_one_line(tmp_path, capsys):
    """'bad<newline>name.png' broke "errors are one line" in two: “bad / name.png” is a text file, not an image;
    classify's notes and its stdout header split the same way (explain's progress lines already wrote "\\n")."""
    bad = write(tmp_path, "bad\nname.png", "not an image at all")
    assert refused(bad) == "“bad\\nname.png” is a text file, not an image"
    assert cli.main(["classify", str(bad)]) == 2
    assert capsys.readouterr().err == "gradflip: error: “bad\\nname.png” is a text file, not an image\n"


def test_one_line_escapes_controls_but_keeps_the_spaces_of_other_scripts():
    """Every message names files through one_line: a newline is "\\n"; an ideographic or no-break space in a
    Japanese or French name stays as it is (it printed as "\\u3000")."""
    from gradflip_desktop.core.errors import one_line

    assert one_line("a\nb\tc\x1b\u2028") == "a\\nb\\tc\\x1b\\u2028"
    assert one_line("日本語\u3000猫 caf\u00e9\u00a0.png") == "日本語\u3000猫 caf\u00e9\u00a0.png"


def test_a_whole_tiff_of_a_kind_pillow_cannot_decode_is_not_called_corrupt(tmp_path, photo):
    """A valid 3-channel 32-bit float TIFF (tifffile writes them; scikit-image, in the test extra, needs tifffile) was
    refused as "starts like a TIFF file but its header is truncated or corrupt"."""
    import tifffile

    path = tmp_path / "float.tif"
    tifffile.imwrite(path, photo.astype(np.float32) / 255.0, photometric="rgb")
    msg = refused(path)
    assert msg.startswith("“float.tif” is a TIFF image of 3 channels of 32-bit floats, which GradFlip cannot read")
    assert "truncated" not in msg and msg.endswith("save it as an 8- or 16-bit PNG")
    grey_alpha = tmp_path / "ga16.tif"  # told to be saved as a 16-bit TIFF, which it is
    tifffile.imwrite(grey_alpha, np.full((8, 8, 2), 30000, np.uint16), photometric="minisblack", extrasamples=["unassalpha"])
    assert refused(grey_alpha).endswith("of 2 channels of 16-bit integers, which GradFlip cannot read (Pillow does not "
                                        "decode it); save it as an 8- or 16-bit PNG")
    data = path.read_bytes()  # the same file cut inside its directory: truncated or corrupt, as before
    cut = write(tmp_path, "cut.tif", data[: int.from_bytes(data[4:8], "little") + 20])
    assert "truncated or corrupt" in refused(cut)
    # a whole directory that makes no sense (an unknown colour model, 99) is corrupt too, not "a TIFF image of 3 channels
    # of 8-bit integers, which GradFlip cannot read; save it as an 8- or 16-bit … TIFF"
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "TIFF")
    odd = bytearray(buf.getvalue())
    at = struct.unpack("<I", odd[4:8])[0]
    for i in range(struct.unpack("<H", odd[at: at + 2])[0]):
        entry = at + 2 + 12 * i
        if struct.unpack("<H", odd[entry: entry + 2])[0] == 262:  # PhotometricInterpretation
            odd[entry + 8: entry + 10] = struct.pack("<H", 99)
    assert "truncated or corrupt" in refused(write(tmp_path, "odd.tif", bytes(odd)))


def test_a_chosen_pixel_limit_is_not_told_that_max_pixels_raises_it(tmp_path, photo):
    """`--max-pixels 1000000` on a 16-megapixel photo said "the command line's --max-pixels raises the limit": the
    user had just lowered it. Only the default limit names a decompression bomb and the way to raise it."""
    p = write(tmp_path, "small.png", encoded("PNG", photo))
    chosen = refused(p, max_pixels=100)
    assert chosen.endswith("more than the limit of 100 pixels (the limit given, e.g. by --max-pixels)"), chosen
    assert "raises" not in chosen and "bomb" not in chosen
