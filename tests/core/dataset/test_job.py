"""SetWriter: the result sets written on a background thread, in order, and what happens when one fails."""

from __future__ import annotations

from gradflip_desktop.core.dataset.inputs import Input


def test_the_set_writer_reports_the_sets_finished_before_a_failure(monkeypatch, tmp_path):
    """A full disk at the third set: the first two are still reported (before: written() raised at once and
    dropped them whenever all three had finished before the caller looked, so the count said 1 or 0 of 5)."""
    import time

    from gradflip_desktop.core.dataset import job
    from gradflip_desktop.core.errors import DiskFullError

    def write(result, inp, out, overwrite, info, thumbs):
        if result == 3:
            raise DiskFullError("cannot write the results: the disk is full")
        return job.Outcome(inp, "flipped")

    monkeypatch.setattr(job, "_write", write)
    w = job.SetWriter(tmp_path, False)
    for i in (1, 2, 3):
        w.put(i, Input(tmp_path / f"{i}.png", str(i)), False, None)
    time.sleep(0.3)  # all three finished before the caller looks
    assert [o.input.name for o in w.written()] == ["1", "2"]
    try:
        w.written()
        raise AssertionError("the failure was lost")
    except DiskFullError:
        pass
    w2 = job.SetWriter(tmp_path, False)
    for i in (1, 3, 2):
        w2.put(i, Input(tmp_path / f"{i}.png", str(i)), False, None)
    assert [o.input.name for o in w2.close()] == ["1", "2"]  # close() reports every finished set ...
    assert isinstance(w2.error, DiskFullError)  # ... and keeps the failure for raise_error()


def test_resume_tells_a_set_made_with_another_weights_file():
    from gradflip_desktop.core.dataset.job import made_otherwise

    rec = {"model": {"name": "my classifier", "classes": 10, "file": "ft_v1.pth", "file_bytes": 100}}
    now = {"name": "my classifier", "classes": 10, "file": "ft_v2.pth", "file_bytes": 100}
    assert made_otherwise(rec, None, now, None) == "model file ft_v1.pth, not ft_v2.pth"
    assert made_otherwise(rec, None, {**now, "file": "ft_v1.pth"}, None) == ""
    older = {"model": {"name": "my classifier", "classes": 10}}  # a record made before the file was recorded: kept
    assert made_otherwise(older, None, now, None) == ""
