"""The Folder panel's background tasks (no window)."""

from __future__ import annotations

from PIL import Image

from gradflip_desktop.core.report import safe_name
from gradflip_desktop.ui.controllers.folder_tasks import list_folder_task


def test_a_subfolders_photo_never_takes_the_result_name_of_a_photo_still_queued(tmp_path):
    """Include subfolders ticked before ``sub_a.png`` was explained: ``sub/a.png`` was added under the same result
    name ``sub_a``, and the run (force=True) wrote both into one set, the tile of the first opened the second's."""
    photos, out = tmp_path / "photos", tmp_path / "out"
    (photos / "sub").mkdir(parents=True)
    out.mkdir()
    for i, name in enumerate(("sub_a.png", "sub/a.png", "b.png")):
        Image.new("RGB", (32, 32), (40 * i, 0, 0)).save(photos / name)
    first = list_folder_task(None, str(photos), False, str(out))  # nothing explained yet: no set in out
    more = list_folder_task(None, str(photos), True, str(out), list(first.inputs))
    names = [safe_name(i.name).casefold() for i in more.inputs]
    assert len(names) == len(set(names)), [(str(i.path), i.name) for i in more.inputs]
    assert [i.path.name for i in more.added] == ["a.png"] and more.added[0].name != "sub_a"
    assert {str(i.path): i.name for i in first.inputs}.items() <= {str(i.path): i.name for i in more.inputs}.items()
