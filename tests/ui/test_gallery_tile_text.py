"""Every gallery tile shows its state line ("waiting", "explaining …", "→ tiger cat (L2 …)", an error), whatever
its file's name: a name that wrapped to two lines (or a CJK name, set in a taller fallback font) took the
tile's second line and the state was cut off ("holiday photo … grandma.png...")."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QStyledItemDelegate, QStyleOptionViewItem

from gradflip_desktop.ui.widgets.gallery import GalleryPanel

pytestmark = pytest.mark.gui

NAMES = [
    "short.png",
    "holiday photo from the beach in summer 2024 number 17 with grandma.png",
    "日本語 猫.png",
    "a_really_long_file_name_for_a_cat_photo_" * 4 + ".png",
    "a really long file name for a cat photo " * 4 + ".png",
]


def test_each_tile_has_room_for_its_name_and_state(qtbot):
    panel = GalleryPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 400)
    panel.show()
    panel.start("folder", [(n, f"/photos/{n}", n) for n in NAMES])
    QApplication.processEvents()
    view = panel.list
    delegate = QStyledItemDelegate()  # what the icon and the wrapped text need
    for row, name in enumerate(NAMES):
        index = panel.model.index(row)
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        option.rect = view.visualRect(index)
        delegate.initStyleOption(option, index)
        need = delegate.sizeHint(option, index).height()
        assert need <= view.visualRect(index).height(), (name, need, view.visualRect(index).height())
        text = index.data()
        assert text.endswith("\nwaiting") and len(text.split("\n")[0]) <= 56, text
        assert name in index.data(3)  # the tooltip has the whole name  (Qt.ItemDataRole.ToolTipRole)


def test_a_tile_says_why_a_group_or_targeted_run_had_nothing_to_flip():
    """After "Explain any cat" (the group stays chosen) a folder's espresso tile said only "not flipped (nothing to
    flip)"; it names the class the model sees there."""
    from gradflip_desktop.ui.widgets.gallery import outcome_text

    group = {"flipped": False, "status": "nothing_to_flip", "original": {"label": "espresso"}, "target": None,
             "explained": {"name": "cat", "indices": [281, 282, 283, 284, 285]}}
    assert outcome_text(group) == "not any cat: espresso (nothing to flip)"
    ranges = {**group, "explained": {"name": "classes 281-285", "indices": [281, 282, 283, 284, 285]}}
    assert outcome_text(ranges) == "not any of classes 281-285: espresso (nothing to flip)"
    targeted = {**group, "target": {"label": "espresso"}, "explained": {"name": "espresso", "indices": [967]}}
    assert outcome_text(targeted) == "already espresso (nothing to flip)"
    single = {**group, "explained": {"name": "espresso", "indices": [967]}}
    assert outcome_text(single) == "not flipped (nothing to flip)"
    assert outcome_text({"flipped": False, "status": "budget_exhausted"}) == "not flipped (budget exhausted)"
    assert outcome_text({}, "error") == "not flipped (error)"
    assert outcome_text({"flipped": True, "final": {"label": "tiger cat"}, "l2_saved": 0.1234}) == "→ tiger cat (L2 0.123)"
    # a record with the change per value: the tile shows it (and sorts by it), as the Difference caption: the L2
    # grows with the photo's size, so "smallest change first" put a 1,000 px photo (L2 12.3) before a 224 px one
    # with a far larger change per value (L2 25.9)
    assert outcome_text({"flipped": True, "final": {"label": "tiger cat"}, "l2_saved": 12.3,
                         "rms_saved": 0.0136}) == "→ tiger cat (RMS 3.47/255)"


def test_a_tile_names_the_key_regions_class_when_it_differs_from_the_whole_changes():
    """china: the tile said "→ boathouse" beside a strip whose key region alone gives beacon (the sentence's class)."""
    from gradflip_desktop.ui.widgets.gallery import outcome_text

    rec = {"flipped": True, "final": {"index": 1, "label": "boathouse"}, "rms_saved": 0.01,
           "key_region": {"flips": True, "prediction": {"index": 2, "label": "beacon"}}}
    assert outcome_text(rec) == "→ boathouse (RMS 2.55/255)\nkey region → beacon"
    same = {**rec, "key_region": {"flips": True, "prediction": {"index": 1, "label": "boathouse"}}}
    assert outcome_text(same) == "→ boathouse (RMS 2.55/255)"
    assert outcome_text({**rec, "key_region": {**rec["key_region"], "flips": False}}) == "→ boathouse (RMS 2.55/255)"
    long = {**rec, "key_region": {"flips": True, "prediction": {"index": 2, "label": "Chesapeake Bay retriever dog"}}}
    assert len(outcome_text(long).split("\n")[1]) <= len("key region → ") + 24


def test_a_tile_does_not_call_a_tiny_change_none():
    # a textbook run on a near tie at 1,000 px: "→ bubble (RMS 0.00/255)" read as no change at all
    from gradflip_desktop.ui.widgets.gallery import outcome_text

    rec = {"flipped": True, "final": {"index": 971, "label": "bubble"}, "rms_saved": 1.2e-5}
    assert outcome_text(rec) == "→ bubble (RMS <0.01/255)"
    assert outcome_text({**rec, "rms_saved": 0.69 / 255}) == "→ bubble (RMS 0.69/255)"
