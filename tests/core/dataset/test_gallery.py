"""The gallery page (core/dataset/gallery.py): its numbers are worded as the figure's."""

from __future__ import annotations

from gradflip_desktop.core.dataset.gallery import write_gallery


def _row(name: str, p: float, fraction: float) -> dict:
    return {"file": f"{name}.png", "name": name, "status": "flipped", "message": "", "original_label": "yurt",
            "original_probability": p, "final_label": "patio", "final_probability": 0.163, "l2_saved": 46.5,
            "key_fraction": fraction, "steps": 34}


def test_an_almost_sure_class_is_not_called_certain_and_the_drawing_is_explained(tmp_path):
    """A photo the model is 99.97 % sure of: the figure's title says "yurt (99.9 %)", the gallery said
    "yurt (100.0 %)". The page also says how a key region over most of the image (hatched) and one of a few
    pixels (a dashed box) are drawn in its thumbnails."""
    page = write_gallery(tmp_path, [_row("sure", 0.9997, 0.144), _row("plain", 0.79, 0.004)], {}).read_text("utf-8")
    assert "yurt (99.9 %) → patio (16.3 %)" in page and "100.0 %" not in page
    assert "yurt (79.0 %)" in page and ">0.40 %<" in page  # other probabilities and the key set's share as before
    assert "hatched when it covers most of the image" in page and "dashed box" in page
