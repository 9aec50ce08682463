"""Run settings and Open Recent as the settings file keeps them (ui/settings.py): what a saved value comes back as in
the next session, and what is left out."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from gradflip_desktop.core import options as core_options
from gradflip_desktop.ui.settings import MAX_RECENT, RunSettings, add_recent_file, recent_files

pytestmark = pytest.mark.gui


def _store(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "gradflip.ini"), QSettings.Format.IniFormat)


def _next_session(s: QSettings) -> QSettings:
    """The same file read by a new QSettings, as the next start reads it (values come back as strings)."""
    s.sync()
    return QSettings(s.fileName(), QSettings.Format.IniFormat)


@pytest.mark.parametrize("side", [core_options.WORKING_SIZE_MIN, core_options.WORKING_SIZE_MAX])
def test_a_working_size_at_either_end_of_its_range_is_kept(tmp_path, side):
    s = _store(tmp_path)
    RunSettings(working_size=side).save(s)
    assert RunSettings.load(_next_session(s)).working_size == side


@pytest.mark.parametrize("side", [core_options.WORKING_SIZE_MIN - 1, core_options.WORKING_SIZE_MAX + 1])
def test_a_working_size_outside_its_range_starts_from_the_default(tmp_path, side):
    s = _store(tmp_path)
    RunSettings(working_size=side, max_steps=77).save(s)
    loaded = RunSettings.load(_next_session(s))
    assert loaded.working_size == core_options.WORKING_SIZE_DEFAULT and loaded.max_steps == 77


@pytest.mark.parametrize(("key", "value"), [("epsilon", -0.5), ("max_steps", 0), ("coarse", 0)])
def test_an_explanation_setting_the_core_refuses_starts_from_its_default(tmp_path, key, value):
    s = _store(tmp_path)
    RunSettings(max_steps=77).save(s)
    s.setValue(f"run/{key}", value)  # an edited file, or a range narrowed since
    loaded = RunSettings.load(_next_session(s))
    assert getattr(loaded, key) == getattr(RunSettings(), key)
    assert loaded.max_steps == (77 if key != "max_steps" else RunSettings().max_steps)  # the others are kept


def test_a_settings_file_holding_one_recent_file_as_a_plain_value_keeps_it(tmp_path):
    """A one-item list written as a plain value (``files=/photos/cat.jpg``: by hand, or by a settings backend that
    stores a lone string) comes back as a string; it is still the one recent file, and an empty one is none."""
    (tmp_path / "gradflip.ini").write_text("[recent]\nfiles=/photos/cat.jpg\n")
    assert recent_files(_store(tmp_path)) == ["/photos/cat.jpg"]
    (tmp_path / "gradflip.ini").write_text("[recent]\nfiles=\n")
    assert recent_files(_store(tmp_path)) == []


def test_a_photo_opened_again_moves_to_the_top_of_open_recent_once(tmp_path):
    s = _store(tmp_path)
    for name in ("a", "b", "c"):
        add_recent_file(s, f"/photos/{name}.jpg")
    assert add_recent_file(s, "/photos/a.jpg") == ["/photos/a.jpg", "/photos/c.jpg", "/photos/b.jpg"]
    assert recent_files(_next_session(s)) == ["/photos/a.jpg", "/photos/c.jpg", "/photos/b.jpg"]


def test_open_recent_keeps_the_newest_ten(tmp_path):
    s = _store(tmp_path)
    for i in range(MAX_RECENT + 3):
        add_recent_file(s, f"/photos/{i}.jpg")
    kept = [f"/photos/{i}.jpg" for i in range(MAX_RECENT + 2, 2, -1)]
    assert MAX_RECENT == 10 and s.value("recent/files") == kept  # the file itself holds no more than ten
    assert recent_files(_next_session(s)) == kept
