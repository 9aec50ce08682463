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


def test_the_count_line_leaves_out_the_counts_that_are_zero():
    """"3/22 done: 3 flipped, 0 not flipped, 0 err…" was cut there at the window's first width: the time left and
    "(cancelled: Continue explains the rest)" after it were never seen."""
    from gradflip_desktop.ui.controllers.folder_tasks import summary_text
    from gradflip_desktop.ui.widgets.gallery import ERROR, FLIPPED, NOT_FLIPPED

    def line(flipped, not_flipped, errors, total):
        return summary_text({FLIPPED: flipped, NOT_FLIPPED: not_flipped, ERROR: errors}, total)

    assert line(3, 0, 0, 22) == "3/22 done: 3 flipped"
    assert line(2, 0, 1, 5) == "3/5 done: 2 flipped, 1 error"
    assert line(1, 2, 3, 6) == "6/6 done: 1 flipped, 2 not flipped, 3 errors"
    assert line(0, 0, 0, 4) == "0/4 done"


def test_a_model_that_fails_makes_an_error_tile_and_the_page_counts_it_so(tmp_path):
    """A model that raised whenever gradients were asked for: the tiles read "not flipped (model error)" in the
    not-flipped colour over a strip of no real map, the title "3/3 done: 3 not flipped", and index.html "0 flipped,
    1 not flipped, 0 could not be read or explained"."""
    from types import SimpleNamespace

    import torch

    from gradflip_desktop.core.dataset.inputs import Input
    from gradflip_desktop.core.dataset.job import write_run_summary
    from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.controllers.folder_tasks import explain_one_task
    from gradflip_desktop.ui.widgets.gallery import ERROR

    class Breaks(torch.autograd.Function):  # the forward pass works, the backward pass raises
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("simulated failure in backward")

    class FailsOnGradients(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 4)

        def forward(self, x):
            return self.fc(Breaks.apply(x).mean((2, 3)))

    pre = Preprocessing(input_size=(16, 16), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(module=PixelSpaceModel(FailsOnGradients(), pre).eval(), labels=list("abcd"), name="fails",
                     preprocessing=pre)
    photo, out = tmp_path / "p.png", tmp_path / "out"
    Image.new("RGB", (24, 24), (200, 30, 30)).save(photo)
    out.mkdir()
    inp = Input(photo, "p")
    done = explain_one_task(SimpleNamespace(cancelled=False), SimpleNamespace(classifier=clf), inp, str(out),
                            ExplainOptions(style="free"), None)
    assert done.state == ERROR and done.text.startswith("model error: ") and "simulated failure" in done.text
    assert done.strip is None
    write_run_summary(out, [inp], {inp: done.outcome})
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "1 inputs: 0 flipped, 0 not flipped, 1 could not be read or explained" in page
    row = page[page.index("<tr class=\"error\">"):]
    assert "simulated failure" in row[:row.index("</tr>")] and "not flipped" not in row[:row.index("</tr>")]
    assert "<img" not in row[:row.index("</tr>")]  # no strip of a map that is not one


def test_thumbnails_stop_at_once_when_cancelled(qapp, tmp_path):
    """A new folder, or closing, cancels the decoding of a chunk of thumbnails: none more is decoded."""
    from types import SimpleNamespace

    from helpers import photo_folder

    from gradflip_desktop.ui.controllers.folder_tasks import photo_thumbnails_task

    folder = photo_folder(tmp_path / "photos")
    items = [(str(p), str(p)) for p in sorted(folder.glob("*.png"))]
    assert len(items) == 3
    assert photo_thumbnails_task(SimpleNamespace(cancelled=True), items) == []
    assert [key for key, _ in photo_thumbnails_task(SimpleNamespace(cancelled=False), items)] == [k for k, _ in items]


def test_an_earlier_runs_results_in_the_folder_are_not_called_a_subfolder(tmp_path):
    """Results exported into the photo folder itself, opened again: the title said "1 subfolder skipped" (the folder
    itself, where its results lie, was counted as one); the command line said what it was."""
    from gradflip_desktop.ui.controllers.folder_tasks import listing_note

    photos, out = tmp_path / "photos", tmp_path / "out"
    (photos / "sub").mkdir(parents=True)
    out.mkdir()
    for i, name in enumerate(("a.png", "b.png", "sub/c.png", "old.adjusted.png")):
        Image.new("RGB", (32, 32), (40 * i, 0, 0)).save(photos / name)
    (photos / "old.gradflip.json").write_text("{}", encoding="utf-8")  # with its record: an earlier run's set
    listing = list_folder_task(None, str(photos), False, str(out))
    assert sorted(i.path.name for i in listing.inputs) == ["a.png", "b.png"]
    assert (listing.subfolders, listing.results, listing.skipped) == (1, 1, 0)
    assert listing_note(listing, False) == "; 1 subfolder not included; an earlier run's results skipped"
    (photos / "sub" / "c.png").unlink()
    (photos / "sub").rmdir()
    alone = list_folder_task(None, str(photos), True, str(out))  # no subfolder at all: none is named
    assert listing_note(alone, True) == "; an earlier run's results skipped"
