"""Property-based tests and a time-capped fuzz run of the image loader.

The contract: ``load_image`` either returns a finite float32 H x W x 3 array in [0, 1], or raises
``ImageError`` -- never another exception, never a hang.
"""

from __future__ import annotations

import io
import os
import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gradflip_desktop.core.images import ImageData, ImageError, load_image

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

FUZZ_INPUTS = int(os.environ.get("GRADFLIP_FUZZ_INPUTS", "5000"))  # a fixed budget: the same inputs every run


def check_contract(data: bytes, max_side: int | None = 64) -> ImageData | None:
    t = time.perf_counter()
    try:
        img = load_image(data, max_side=max_side, max_pixels=4_000_000, name="fuzz")
    except ImageError as exc:
        msg = str(exc)
        assert msg and "Traceback" not in msg
        return None
    finally:
        # generous (a busy 2-core CI): a hang or a pathological decode takes far longer
        assert time.perf_counter() - t < 30.0, "the loader took too long on a small input"
    p = img.pixels
    assert isinstance(p, np.ndarray) and p.dtype == np.float32
    assert p.ndim == 3 and p.shape[2] == 3 and p.shape[0] >= 1 and p.shape[1] >= 1
    assert np.isfinite(p).all()
    assert p.min() >= 0.0 and p.max() <= 1.0
    return img


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=2048))
def test_random_bytes_load_or_image_error(data):
    check_contract(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"II*\x00", b"BM", b"RIFF\0\0\0\0WEBP"]),
    st.binary(min_size=0, max_size=512),
)
def test_known_signature_with_random_tail(sig, tail):
    check_contract(sig + tail)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**31 - 1) | st.integers(0, 300),
    st.integers(0, 2**31 - 1) | st.integers(0, 300),
    st.sampled_from([1, 2, 4, 8, 16, 3, 0]),
    st.sampled_from([0, 2, 3, 4, 6, 1, 7]),
    st.integers(0, 2),
    st.binary(max_size=4096),
    st.booleans(),
)
def test_png_with_valid_crcs_and_random_header_fields(width, height, depth, colour, interlace, payload, plte):
    """Structure-aware: every chunk CRC is valid, so the decoder itself meets the random sizes and data."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    body = _chunk(b"IHDR", ihdr)
    if plte:
        body += _chunk(b"PLTE", bytes(range(48)))
    data = b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IDAT", zlib.compress(payload)) + _chunk(b"IEND", b"")
    img = check_contract(data)
    if width * height > 4_000_000:
        assert img is None  # over the pixel limit: refused from the header


FORMATS = {
    "PNG": {"RGB", "RGBA", "L", "LA", "P", "1", "I;16"},
    "TIFF": {"RGB", "RGBA", "L", "LA", "P", "1", "I;16", "F", "CMYK"},
    "BMP": {"RGB", "L", "P", "1"},
    "GIF": {"L", "P"},
    "WEBP": {"RGB", "RGBA"},
    "JPEG": {"RGB", "L", "CMYK"},
}


@st.composite
def valid_images(draw):
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(sorted(FORMATS[fmt])))
    w = draw(st.integers(1, 40))
    h = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if mode == "F":
        arr = rng.random((h, w), dtype=np.float32)
        im = Image.fromarray(arr, "F")
    elif mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    else:
        bands = len(Image.new(mode, (1, 1)).getbands())
        raw = rng.integers(0, 256, (h, w, bands), dtype=np.uint8)
        base = Image.fromarray(raw[..., 0] if bands == 1 else raw, {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[bands])
        im = base.convert(mode) if mode not in ("L", "LA", "RGB", "RGBA") else base
        if mode == "CMYK":
            im = Image.frombytes("CMYK", (w, h), raw.reshape(-1)[: w * h * 4].tobytes().ljust(w * h * 4, b"\0"))
    buf = io.BytesIO()
    im.save(buf, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return fmt, mode, (w, h), buf.getvalue()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_images())
def test_valid_images_always_load(case):
    fmt, mode, (w, h), data = case
    img = check_contract(data, max_side=None)
    assert img is not None, f"a valid {fmt} {mode} {w}x{h} image was refused"
    assert img.pixels.shape == (h, w, 3)
    assert img.original_size == (w, h)
    assert img.format == fmt


def _seeds() -> list[bytes]:
    rng = np.random.default_rng(11)
    arr = (rng.random((12, 17, 3)) * 255).astype(np.uint8)
    out = []
    for fmt, mode, kw in [
        ("PNG", "RGB", {}), ("PNG", "P", {"transparency": 0}), ("JPEG", "RGB", {"quality": 80}),
        ("GIF", "P", {}), ("TIFF", "RGB", {"compression": "tiff_lzw"}), ("BMP", "RGB", {}),
        ("WEBP", "RGB", {"lossless": True}),
    ]:
        buf = io.BytesIO()
        Image.fromarray(arr).convert(mode).save(buf, format=fmt, **kw)
        out.append(buf.getvalue())
    frames = [Image.fromarray(np.roll(arr, i, axis=1)).convert("P") for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    out.append(buf.getvalue())
    return out


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 6))):
        op = int(rng.integers(0, 5))
        i = int(rng.integers(0, len(b))) if b else 0
        if op == 0 and b:  # flip a byte
            b[i] ^= int(rng.integers(1, 256))
        elif op == 1 and b:  # interesting values (sizes, lengths)
            b[i : i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\x7f\xff\xff\xff", b"\0\0\x01\0"])
        elif op == 2:  # truncate
            b = b[:i]
        elif op == 3 and b:  # duplicate a span
            j = int(rng.integers(i, len(b) + 1))
            b[j:j] = b[i : i + int(rng.integers(1, 64))]
        elif op == 4 and b:  # delete a span
            del b[i : i + int(rng.integers(1, 32))]
    return bytes(b) or b"\0"


def test_mutation_fuzz():
    """Mutate valid PNG/JPEG/GIF/TIFF/BMP/WebP files: a fixed number of inputs (GRADFLIP_FUZZ_INPUTS, default
    5000) from a fixed seed (GRADFLIP_FUZZ_SEED), so every run checks the same inputs whatever the machine's speed."""
    rng = np.random.default_rng(int(os.environ.get("GRADFLIP_FUZZ_SEED", "1234")))
    seeds = _seeds()
    for s in seeds:
        assert check_contract(s) is not None  # the seeds themselves load
    loaded = 0
    for runs in range(FUZZ_INPUTS):
        data = _mutate(seeds[runs % len(seeds)], rng)
        try:
            loaded += check_contract(data) is not None
        except AssertionError:
            raise
        except Exception as exc:  # report the input that broke the contract
            pytest.fail(f"load_image raised {type(exc).__name__}: {exc} on input {data[:64]!r}... ({len(data)} bytes)")
    # the mutations reach both outcomes (a fuzzer whose inputs all load, or all fail, tests one path only)
    assert 0 < loaded < FUZZ_INPUTS
    print(f"fuzz: {FUZZ_INPUTS} inputs, {loaded} loaded, {FUZZ_INPUTS - loaded} refused with ImageError")
