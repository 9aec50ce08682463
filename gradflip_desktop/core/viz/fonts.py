"""The exported figure's typeface: DejaVu Sans (shipped), or a system font that has every character a text needs.

Pillow's own default face (Aileron) has ASCII and little else: "1600×1200", "é" in a label, an en dash or a
Japanese file name came out as boxes. DejaVu Sans (resources/fonts, its licence beside it) covers Latin,
Greek, Cyrillic, arrows and math signs. Text it cannot draw (Chinese, Japanese, Korean, …) is drawn in the
first known system font that has all of it (when none has, the one that lacks the fewest characters); the
figure uses one face throughout.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from PIL import ImageFont

from ..resources import resource_path

__all__ = ["figure_font", "missing_characters"]

SHIPPED = ("fonts", "DejaVuSans.ttf")
# wide-coverage system fonts, tried in order when the shipped face lacks a character (none is required)
FALLBACKS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/unifont/unifont.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    os.path.join(os.environ.get("WINDIR", "C:/Windows"), "Fonts", "msyh.ttc"),
    os.path.join(os.environ.get("WINDIR", "C:/Windows"), "Fonts", "meiryo.ttc"),
    os.path.join(os.environ.get("WINDIR", "C:/Windows"), "Fonts", "malgun.ttf"),
    os.path.join(os.environ.get("WINDIR", "C:/Windows"), "Fonts", "seguisym.ttf"),
)
PROBE_SIZE = 15


@functools.lru_cache(maxsize=64)
def _face(path: str | None, size: int):
    if path is None:
        try:
            return ImageFont.load_default(size=size)
        except TypeError:  # Pillow without FreeType
            return ImageFont.load_default()
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=4096)
def _has(path: str | None, ch: str) -> bool:
    """Whether the face draws ``ch`` as itself, not as its "missing glyph" box."""
    face = _face(path, PROBE_SIZE)
    try:
        mask = face.getmask(ch)
        box = face.getmask("\U0010fffd")  # a private-use code point: no face has it
    except Exception:  # noqa: BLE001 - a bitmap face without Unicode: only ASCII counts as drawn
        return ch.isascii()
    return (mask.size, bytes(mask)) != (box.size, bytes(box))


def _candidates() -> list[str | None]:
    shipped = resource_path(*SHIPPED)
    out: list[str | None] = [str(shipped)] if shipped.is_file() else []
    return out + [p for p in FALLBACKS if Path(p).is_file()] + [None]


def missing_characters(text: str, path: str | None) -> str:
    """The characters of ``text`` the face at ``path`` (None: Pillow's default) cannot draw, in order."""
    seen: dict[str, None] = {}
    for ch in text:
        if not ch.isspace() and ch not in seen and not _has(path, ch):
            seen[ch] = None
    return "".join(seen)


def figure_font(texts: list[str] | tuple[str, ...] = ()):
    """A function ``size -> font`` for a figure whose texts are ``texts``: the shipped DejaVu Sans, or the
    first fallback that draws every character of them; when none draws them all (labels mixing Chinese and
    Hebrew), the first face that lacks the fewest (it used to be the shipped one: every Chinese character a box)."""
    wanted = "".join(texts)
    candidates = _candidates()
    lacking = []
    for path in candidates:
        lacking.append(len(missing_characters(wanted, path)))
        if not lacking[-1]:
            break
    return functools.partial(_face, candidates[lacking.index(min(lacking))])
