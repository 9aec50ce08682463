"""The folder gallery's panel and model (ui/widgets/gallery.py, gallery_mark.py) on their own, no folder run: its
buttons' states, the tiles' lines, colours and order, the marks of another model or other settings. Found by a
hand-made mutation audit (2026-12-06): each test fails on a single-point mutation the other tests let through."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QModelIndex, Qt
from PySide6.QtGui import QColor, QFocusEvent, QPixmap

from gradflip_desktop.ui.widgets.gallery import ERROR, FLIPPED, NOT_FLIPPED, RUNNING, WAITING, GalleryPanel
from gradflip_desktop.ui.widgets.gallery_colours import state_colour
from gradflip_desktop.ui.widgets.gallery_mark import AGAIN, CONTINUE, MARKED_TEXT, marked_pixmap, show_mark, show_settings_mark

pytestmark = pytest.mark.gui


def _entries(*keys):
    return [(k, f"/photos/{k}.png", f"{k}.png") for k in keys]


@pytest.fixture
def panel(qtbot) -> GalleryPanel:
    p = GalleryPanel()
    qtbot.addWidget(p)
    p.start("folder", _entries("a", "b", "c"))
    return p


def test_a_new_run_can_be_cancelled_not_continued_nor_exported_and_has_no_mark(panel):
    panel.finish("done", exportable=True)
    show_settings_mark(panel, ("with 200 steps", "with 500 steps"), running=False)
    assert panel.continue_button.text() == AGAIN
    panel.start("again", _entries("a", "b"))
    assert (panel.cancel_button.isEnabled(), panel.continue_button.isEnabled(), panel.export_button.isEnabled()) == (
        True, False, False)
    assert panel.continue_button.text() == CONTINUE and panel.title.text() == "again"
    show_mark(panel, "old.pt", "new.pt", running=True)
    panel.start("third", _entries("a"))
    assert (panel.model.marks.model, panel.title.text()) == (None, "third")  # no mark of the old model
    panel.finish("done", exportable=True)
    panel.add("more", _entries("a", "b", "d"))  # Include subfolders: the run goes on
    assert (panel.cancel_button.isEnabled(), panel.export_button.isEnabled()) == (True, False)


def test_finish_leaves_the_tiles_not_reached_as_not_run_and_continue_for_them(panel):
    panel.set_state("a", FLIPPED, "→ tiger cat")
    panel.set_state("b", RUNNING, "explaining …")
    panel.finish("cancelled", resumable=True)
    assert [(panel.tiles[k].state, panel.tiles[k].text) for k in "abc"] == [
        (FLIPPED, "→ tiger cat"), (WAITING, "not run"), (WAITING, "not run")]
    assert (panel.cancel_button.isEnabled(), panel.continue_button.isEnabled(), panel.export_button.isEnabled()) == (
        False, True, True)
    assert panel.resumable is True


def test_a_run_with_nothing_left_has_no_continue_and_not_flipped_results_are_exportable(panel):
    for k in "abc":
        panel.set_state(k, NOT_FLIPPED, "not flipped (budget exhausted)")
    panel.finish("done", resumable=True)
    assert (panel.resumable, panel.continue_button.isEnabled(), panel.export_button.isEnabled()) == (False, False, True)
    panel.finish("export failed", exportable=False)  # the controller's word wins
    assert panel.export_button.isEnabled() is False


def test_results_made_with_other_settings_offer_explain_again_once_the_run_ended(panel):
    show_settings_mark(panel, ("with 200 steps", "with 500 steps"), running=True)
    assert (panel.continue_button.text(), panel.continue_button.isEnabled()) == (AGAIN, False)
    for k in "abc":
        panel.set_state(k, FLIPPED, "→ x")
    panel.finish("3 flipped")
    assert panel.continue_button.isEnabled() is True
    assert panel.title.text() == "3 flipped · explained with 200 steps, not with 500 steps as now chosen"


def test_the_mark_of_another_model_wins_over_other_settings(panel):
    show_settings_mark(panel, ("with 100 steps", "with 500 steps"), running=False)
    show_mark(panel, "first.pt (TorchScript, 4 classes)", "second.pt (ONNX, 4 classes)", running=False)
    show_settings_mark(panel, ("with 200 steps", "with 500 steps"), running=False)
    assert panel.model.marks.settings is None and panel.continue_button.text() == AGAIN
    assert panel.title.text() == "folder · explained with first.pt, not the loaded second.pt"
    assert panel.continue_button.toolTip() == (
        "Explain every image of the folder again, with the loaded second.pt (ONNX, 4 classes) (the results of first.pt "
        "(TorchScript, 4 classes) are dropped: if never exported you are asked first)")


def test_a_cancelled_runs_title_says_what_explain_again_does(panel):
    panel.set_title("2 of 3 · Continue explains the rest")
    show_mark(panel, "a.pt", "b.pt", running=False)
    assert panel.title.text() == "2 of 3 · Explain Again explains all with b.pt · explained with a.pt, not the loaded b.pt"
    show_mark(panel, None, "b.pt", running=False)
    show_settings_mark(panel, ("with 200 steps", "with 500 steps"), running=False)
    assert panel.title.text() == ("2 of 3 · Explain Again explains all with 500 steps · explained with 200 steps, "
                                  "not with 500 steps as now chosen")


def test_models_of_one_file_name_are_told_apart_by_their_details_and_long_names_are_cut(panel):
    show_mark(panel, "net.pt (TorchScript, 4 classes)", "net.pt (ONNX, 4 classes)", running=True)
    assert panel.title.text() == ("folder · explained with net.pt (TorchScript, 4 clas…, not the loaded "
                                  "net.pt (ONNX, 4 classes)")
    assert panel.continue_button.isEnabled() is False  # Explain Again waits for the run's end


def test_marked_tiles_are_grey_and_say_whose_they_are_waiting_ones_are_not(panel):
    panel.set_state("a", FLIPPED, "→ tiger cat")
    panel.set_state("b", NOT_FLIPPED, "not flipped (budget exhausted)")
    index = panel.model.index_of
    assert index("a").data(Qt.ItemDataRole.ForegroundRole) == state_colour(FLIPPED)
    changed = []
    panel.model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
    show_mark(panel, "first.pt", "second.pt", running=False)
    assert changed == [(0, 2)]  # every tile drawn again, with its mark
    assert [index(k).data(Qt.ItemDataRole.ForegroundRole) for k in "abc"] == [QColor(MARKED_TEXT), QColor(MARKED_TEXT), None]
    assert index("a").data(Qt.ItemDataRole.ToolTipRole) == (
        "/photos/a.png\n→ tiger cat\nExplained with first.pt, not the loaded second.pt: Explain Again explains the "
        "folder with second.pt (Export All keeps these first).")
    assert index("c").data(Qt.ItemDataRole.ToolTipRole) == "/photos/c.png\nwaiting"


def test_a_badge_of_nothing_to_flip_alone_leaves_the_picture_undimmed(qtbot):
    plain = QPixmap(120, 60)
    plain.fill(QColor(200, 40, 40))
    corner = lambda pm: pm.toImage().pixelColor(pm.width() - 3, pm.height() - 3)  # noqa: E731 - outside every badge
    assert corner(marked_pixmap(plain, None, nothing=True)) == QColor(200, 40, 40)  # opaque
    assert corner(marked_pixmap(plain, "first.pt")).alpha() == 88  # another model's: dimmed (35 %)


def test_a_label_given_once_is_kept_and_a_not_flipped_result_moves_into_its_class(panel):
    panel.sort.setCurrentIndex(2)  # class
    panel.set_state("c", RUNNING, "explaining …", label="Bee")
    panel.set_state("c", NOT_FLIPPED, "not flipped (budget exhausted)")  # its label was given when it started
    assert panel.tiles["c"].label == "Bee"
    assert panel.ordered_keys() == ["c", "a", "b"]
    panel.set_state("b", NOT_FLIPPED, "not flipped (budget exhausted)", label="ant")
    assert panel.ordered_keys() == ["b", "c", "a"]  # "ant" before "Bee": case does not count; no class last


def test_a_longer_listing_keeps_input_order_and_puts_tiles_it_lacks_last(panel):
    panel.add("more", _entries("a", "x", "c"))
    assert panel.ordered_keys() == ["a", "x", "c", "b"]


def test_sorting_keeps_the_tile_shown_in_the_views_selected(panel):
    panel.select("c")
    panel.set_state("c", FLIPPED, "→ x", size=0.1)
    panel.sort.setCurrentIndex(1)
    assert panel.ordered_keys()[0] == "c"
    assert panel.list.currentIndex().data(Qt.ItemDataRole.UserRole) == "c"


def test_focus_on_the_list_keeps_its_current_tile(panel):
    panel.select("b")
    panel.eventFilter(panel.list, QFocusEvent(QEvent.Type.FocusIn))
    assert panel.list.currentIndex().row() == 1
    panel.clear_selection()
    panel.eventFilter(panel.list, QFocusEvent(QEvent.Type.FocusIn))
    assert panel.list.currentIndex().row() == 0 and panel.list.currentIndex() != QModelIndex()


@pytest.mark.parametrize("running", [False, True])
def test_leaving_out_subfolders_asks_about_the_explanations_done(panel, running, monkeypatch):
    asked = []
    monkeypatch.setattr(panel, "confirm", lambda question, **k: asked.append((question, sorted(k))) or False)
    toggled = []
    panel.subfolders_toggled.connect(toggled.append)
    panel.set_state("a", FLIPPED, "→ x")
    if not running:
        panel.finish("done")
    panel.subfolders.click()  # ticked: nothing dropped, nothing asked
    assert (asked, toggled) == ([], [True])
    panel.subfolders.click()  # cleared: 1 done would be dropped; the user says no
    assert asked == [("Leave out subfolders: the folder is listed and explained again, and the 1 explanation done "
                      "so far is dropped (Export All keeps it first). Go on?", ["live"] if running else [])]
    assert toggled == [True] and panel.subfolders.isChecked()


def test_a_tiles_line_names_a_long_key_region_class_cut_at_24_and_the_records_own_status():
    from gradflip_desktop.ui.widgets.gallery import outcome_text

    rec = {"flipped": True, "final": {"index": 1, "label": "boathouse"}, "rms_saved": 0.01,
           "key_region": {"flips": True, "prediction": {"index": 2, "label": "Chesapeake Bay retriever dog"}}}
    assert outcome_text(rec) == "→ boathouse (RMS 2.55/255)\nkey region → Chesapeake Bay retrieve…"
    assert outcome_text({"flipped": False, "status": "budget_exhausted"}, "error") == "not flipped (budget exhausted)"
    nothing = {"flipped": False, "status": "nothing_to_flip"}
    assert outcome_text({**nothing, "target": {"label": "espresso"}}) == "not flipped (nothing to flip)"  # no class seen
    pair = {**nothing, "original": {"label": "espresso"}, "explained": {"name": "classes 1-2", "indices": [1, 2]}}
    assert outcome_text(pair) == "not any of classes 1-2: espresso (nothing to flip)"


def test_progress_without_a_summary_keeps_the_title(panel):
    panel.set_progress(1, 3, "1 of 3 explained")
    panel.set_progress(2, 3)
    assert (panel.title.text(), panel.progress.text()) == ("1 of 3 explained", "2 / 3 images")


def test_a_click_on_another_tile_leaves_one_selected(panel, qtbot):
    panel.resize(900, 300)
    panel.show()
    qtbot.waitUntil(lambda: panel.list.visualRect(panel.model.index(1)).isValid())
    for row in (0, 1):
        qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.list.visualRect(panel.model.index(row)).center())
    assert [i.row() for i in panel.list.selectionModel().selectedIndexes()] == [1]


def test_each_finished_or_running_state_has_its_own_colour_on_a_light_and_a_dark_list():
    from PySide6.QtGui import QPalette

    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    light = QPalette()
    light.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    for palette in (light, dark):
        names = [state_colour(s, palette).name() for s in (FLIPPED, NOT_FLIPPED, ERROR, RUNNING)]
        assert len(set(names)) == 4, names
    assert state_colour(WAITING) is None
