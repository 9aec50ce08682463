"""A flip between two classes the model held almost equally (a near tie, as the smallest change of an unsure
photo gives): the figure's title and the CLI's line named both at one decimal, "binoculars (17.1 %) → tripod
(17.1 %)", which reads as no change at all. Where one decimal reads the same for both, two are given."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from gradflip_desktop.core.models import Prediction


def _tie_result():
    return SimpleNamespace(flipped=True, status="flipped", model_name="m", explained=[447], explained_name="binoculars",
                           original=Prediction(447, "binoculars", 0.170554), final=Prediction(872, "tripod", 0.170962))


def test_the_figure_title_tells_a_near_tie_apart():
    from gradflip_desktop.core.figure import figure_title

    title = figure_title(_tie_result())
    assert "binoculars (17.06 %) → tripod (17.10 %) (flipped)" in title
    res = _tie_result()
    res.final = Prediction(872, "tripod", 0.31)  # apart at one decimal: as before
    assert "binoculars (17.1 %) → tripod (31.0 %) (flipped)" in figure_title(res)


def test_the_cli_line_tells_a_near_tie_apart():
    from gradflip_desktop.cli import _outcome_text

    rec = {"flipped": True, "original": {"label": "binoculars", "probability": 0.170554},
           "final": {"label": "tripod", "probability": 0.170962}, "steps": 1, "flip_step": 1, "l2": 0.004,
           "l2_saved": 0.004, "key_pixels": {"count": 1, "fraction": 2e-5}, "key_region": None,
           "explained": {"name": "binoculars", "indices": [447]}}
    line = _outcome_text(SimpleNamespace(record=rec, written=[Path("out/x.gradflip.json")]))
    assert line.startswith("binoculars 17.06 % → tripod 17.10 % in 1 step")
