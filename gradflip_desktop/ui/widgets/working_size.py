"""The working size's memory note: what one explanation holds at a given working size (the Controls panel)."""

from __future__ import annotations

RUN_COPIES = 30  # float copies of the photo an explanation holds at its peak (x, δ, gradients, maps, result)


def working_size_megabytes(side: int, photo: tuple[int, int] | None = None) -> float:
    """Memory of one float32 RGB copy, in MB, of the ``photo`` (width, height) scaled down to the working size
    ``side`` (never up), or of a 4:3 photo whose long side is ``side`` px when none is given."""
    if photo is None or min(photo) < 1:
        return side * round(side * 3 / 4) * 3 * 4 / 1e6
    scale = min(1.0, side / max(photo))
    return max(1, round(photo[0] * scale)) * max(1, round(photo[1] * scale)) * 3 * 4 / 1e6


def memory_note(side: int, photo: tuple[int, int] | None = None) -> str:
    """"≈ 9 MB per copy of this photo; a run holds about 30 copies (≈ 283 MB)" (of a 4:3 photo when none is open)."""
    mb = working_size_megabytes(side, photo)
    what = "this photo" if photo else "a 4:3 photo"
    def size(v: float) -> str:  # one word: a narrow note (QT_SCALE_FACTOR=1.5) put "(≈ 49" and "MB)" on two lines
        return "<\u00a01\u00a0MB" if v < 1 else f"≈\u00a0{v:.0f}\u00a0MB"  # a thumbnail's "≈ 0 MB"

    return f"{size(mb)} per copy of {what}; a run holds about {RUN_COPIES} copies ({size(RUN_COPIES * mb)})"


__all__ = ["RUN_COPIES", "memory_note", "working_size_megabytes"]
