"""index.html names the model that made its sets: the page never said, so a folder explained with one model and exported
after loading another (or merged from two runs) read as whichever model the reader assumed."""

from __future__ import annotations

import html
import re

from gradflip_desktop.core.dataset.gallery import write_gallery


def _row(name: str, model: str) -> dict:
    return {"file": f"{name}.png", "name": name, "status": "flipped", "message": "", "original_label": "Egyptian cat",
            "original_probability": 0.79, "final_label": "tiger cat", "final_probability": 0.386, "l2_saved": 22.96,
            "key_fraction": 0.04, "steps": 19, "style": "region", "model": model}


def _cells(page: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<td>([^<]*)</td>", page)]


def test_one_model_is_named_once_above_the_table(tmp_path):
    page = write_gallery(tmp_path, [_row("a", "resnet18 (10 classes, r.pth)"), _row("b", "resnet18 (10 classes, r.pth)")],
                         {}).read_text("utf-8")
    intro = page.split("<table", 1)[0]
    assert "explained with resnet18 (10 classes, r.pth)." in html.unescape(intro)
    assert "region" in _cells(page) and not any("resnet18" in c for c in _cells(page))  # the column stays short


def test_several_models_are_named_in_each_row(tmp_path):
    page = write_gallery(tmp_path, [_row("a", "first.pt"), _row("b", "second.pt <2>")], {}).read_text("utf-8")
    assert "explained with 2 models" in page.split("<table", 1)[0]
    assert {"first.pt · region", "second.pt <2> · region"} <= set(_cells(page))  # escaped, read back whole


def test_rows_without_a_model_say_nothing_about_it(tmp_path):
    row = _row("a", "")
    page = write_gallery(tmp_path, [row], {}).read_text("utf-8")
    assert "explained with" not in page and "region" in _cells(page)


def test_the_per_class_table_keeps_the_models_apart(tmp_path):
    # "Egyptian cat: 2 images, median L2 saved 12.48" was the median of one set of each model, whose L2s the rows
    # above now tell apart; the table keeps the ways sets were made apart already (style, group, target)
    a, b = _row("a", "first.pt"), _row("b", "second.pt")
    b["l2_saved"] = 2.0
    page = write_gallery(tmp_path, [a, b], {}).read_text("utf-8")
    classes = _cells(page.split('id="classes"', 1)[1])
    assert {"Egyptian cat (first.pt · region)", "Egyptian cat (second.pt · region)"} <= set(classes), classes
    page = write_gallery(tmp_path, [a, _row("b", "first.pt")], {}).read_text("utf-8")  # one model: one line, as before
    assert "Egyptian cat" in _cells(page.split('id="classes"', 1)[1])
