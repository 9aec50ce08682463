"""index.html fits a 1024 px browser window: its 438 px thumbnail strips made the page 1,086 px wide, so the page
scrolled sideways for a folder of one or two photos. The strips now shrink with the window."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from gradflip_desktop.core.dataset.gallery import write_gallery


def _page(tmp_path):
    thumbs = tmp_path / ".thumbs"
    thumbs.mkdir()
    Image.fromarray(np.full((96, 438, 3), 128, np.uint8)).save(thumbs / "chelsea.jpg")  # a 4:3 photo's strip
    row = {"file": "chelsea.png", "name": "chelsea", "status": "flipped", "message": "", "original_label": "Egyptian cat",
           "original_probability": 0.79, "final_label": "tiger cat", "final_probability": 0.386, "l2_saved": 22.96,
           "key_fraction": 0.54, "steps": 19, "style": "region"}
    return write_gallery(tmp_path, [row], {"chelsea": {"files": {}}})


def test_the_thumbnails_shrink_with_the_window(tmp_path):
    page = _page(tmp_path).read_text("utf-8")
    rule = re.search(r"img\{([^}]*)\}", page).group(1)
    assert "max-width:32vw" in rule and "height:auto" in rule, rule
