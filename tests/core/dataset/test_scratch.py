"""The app's scratch folders: named after its process; a killed app's swept when the next one opens a folder."""

from __future__ import annotations

import os
import time

from gradflip_desktop.core.dataset.scratch import scratch_folder, sweep_dead


def _aged(path, seconds: float):
    path.mkdir()
    (path / "p0.gradflip.json").write_text("{}")
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_a_killed_apps_scratch_folders_go_and_no_others(tmp_path, monkeypatch):
    """kill -9 of the app left /tmp/gradflip-folder-XXXX and -views-XXXX for good (11-37 MB, a pair per restart)."""
    dead = 999_999_999  # no such process
    gone = [_aged(tmp_path / f"gradflip-folder-{dead}-abc", 120), _aged(tmp_path / f"gradflip-folder-views-{dead}-xy", 120)]
    kept = [
        _aged(tmp_path / f"gradflip-folder-{os.getppid()}-abc", 120),  # a live process's
        _aged(tmp_path / f"gradflip-folder-{dead}-new", 5),  # too young to judge
        _aged(tmp_path / "gradflip-folder-oldstyle", 3600),  # no process id: only after a day
        _aged(tmp_path / "other-folder", 999_999),
    ]
    old_style = _aged(tmp_path / "gradflip-folder-older", 2 * 86400)
    assert sweep_dead(str(tmp_path)) == 3
    assert not any(p.exists() for p in (*gone, old_style)) and all(p.exists() for p in kept)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    made = scratch_folder("views")
    assert os.path.basename(made).startswith(f"gradflip-folder-views-{os.getpid()}-") and os.path.isdir(made)
    assert sweep_dead(str(tmp_path)) == 0 and os.path.isdir(made)  # its own, never


def test_a_folder_only_named_like_the_apps_is_never_swept(tmp_path):
    """Only a whole ``gradflip-folder-[views-]PID-XXXX`` name is the app's: a folder whose name goes on past it (a
    user's ``...-abc-backup`` copy) stays, even with a dead process's number in it."""
    dead = 999_999_999
    kept = [_aged(tmp_path / f"gradflip-folder-{dead}-abc-backup", 120),
            _aged(tmp_path / f"gradflip-folder-{dead}-abc.old", 120)]
    assert sweep_dead(str(tmp_path)) == 0 and all(p.exists() for p in kept)
