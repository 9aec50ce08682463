"""Minimal ICC v2 display profiles made in code (matrix/TRC RGB, TRC grey), for the loader's colour tests."""

from __future__ import annotations

import struct


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(v) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(c) for c in v)


def _common(description: str, gamma: float) -> tuple[bytes, bytes, bytes]:
    """The description, white point and tone curve tags."""
    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 79
    return desc, _xyz((0.9642, 1.0, 0.8249)), b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))


def rgb_icc_profile(description: str, gamma: float, red, green, blue) -> bytes:
    """A minimal ICC v2 matrix/TRC RGB display profile (D50-adapted colorants, one gamma for all channels)."""
    desc, white, trc = _common(description, gamma)
    tags = [
        (b"desc", desc), (b"wtpt", white), (b"rXYZ", _xyz(red)), (b"gXYZ", _xyz(green)),
        (b"bXYZ", _xyz(blue)), (b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc), (b"cprt", b"text\0\0\0\0none\0"),
    ]
    return _profile(tags, b"RGB ")


def gray_icc_profile(description: str, gamma: float) -> bytes:
    """A minimal ICC v2 grey display profile (one tone curve)."""
    desc, white, trc = _common(description, gamma)
    return _profile([(b"desc", desc), (b"wtpt", white), (b"kTRC", trc), (b"cprt", b"text\0\0\0\0none\0")], b"GRAY")


def _profile(tags, space: bytes) -> bytes:
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        body += b"\0" * (-(offset + len(body)) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    body += b"\0" * (-len(body) % 4)
    header = (
        struct.pack(">I", offset + len(body)) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntr" + space + b"XYZ "
        + bytes(12) + b"acsp" + b"APPL" + bytes(24) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + bytes(48)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


SRGB_D50 = dict(red=(0.4361, 0.2225, 0.0139), green=(0.3851, 0.7169, 0.0971), blue=(0.1431, 0.0606, 0.7141))
ADOBE_D50 = dict(red=(0.6097, 0.3111, 0.0195), green=(0.2053, 0.6257, 0.0609), blue=(0.1492, 0.0632, 0.7446))


def srgb_encode(linear: float) -> float:
    return 255 * (1.055 * linear ** (1 / 2.4) - 0.055) if linear > 0.0031308 else 255 * 12.92 * linear


