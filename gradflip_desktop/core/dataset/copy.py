"""Copying a finished run's folder (result sets, ``summary.csv``, ``index.html``) into another folder without
ever leaving a half-written result set there: the app's Export All of a folder run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import ResultExistsError, files_exist
from ..report import make_folder
from .check_files import forget_checks

RECORD = ".gradflip.json"  # a set's record: what makes it complete


def copy_run_folder(source: str | os.PathLike, dest: str | os.PathLike, overwrite: bool) -> list[Path]:
    """Copy ``source``'s files into ``dest``; return the paths written. Everything is first copied into a hidden
    staging folder inside ``dest`` (same file system), then moved in by renames: files of no set first, then set by
    set, each set's record (``NAME.gradflip.json``, what makes a set complete) after its files,
    ``summary.csv``/``index.html`` last. A replaced set's old record goes before any file moves (never an old record over new files). An
    interruption leaves whole files only, and a set without its record is not a complete set. Raises
    :class:`ResultExistsError` when files of those names exist and ``overwrite`` is False, and
    :class:`ExportError` for a ``dest`` that cannot be written."""
    src, dst = Path(source), make_folder(dest, probe=True)  # ExportError: a file of that name, read-only ...
    names = sorted(p.name for p in src.iterdir())
    clash = [n for n in names if (dst / n).exists() and not (dst / n).is_dir()]
    if clash and not overwrite:
        raise ResultExistsError(f"{files_exist(len(clash))} in {dst} (e.g. {clash[0]})",
                                [dst / n for n in clash])
    # the process id in its name: a killed export's folder is swept (images/writing.py's sweep_stale) by the next
    # export or run into this folder (it stayed for good, 13-21 MB)
    staging = Path(tempfile.mkdtemp(prefix=f".gradflip-export-{os.getpid()}-", dir=dst))
    moved: list[Path] = []
    try:
        shutil.copytree(src, staging, dirs_exist_ok=True)
        files = [p for p in staging.rglob("*") if p.is_file()]
        records = {p.name[: -len(RECORD)] for p in files if p.parent == staging and p.name.endswith(RECORD)}

        def rank(p: Path) -> tuple:
            """Files of no set (thumbnails) first, then set by set, each set's record after its files (a kill
            leaves at most one set without its record: it scattered pieces of 14 sets, moved by kind), the
            summary and the gallery page last."""
            if p.parent == staging and p.name in ("summary.csv", "index.html"):
                return (2, "", 0)
            cuts = [i for i, ch in enumerate(p.name) if ch == "."] if p.parent == staging else []
            name = next((p.name[:i] for i in reversed(cuts) if p.name[:i] in records), None)
            return (0, "", 0) if name is None else (1, name, p.name.endswith(RECORD))

        for p in (p for p in files if p.parent == staging and p.name.endswith(RECORD)):
            (dst / p.relative_to(staging)).unlink(missing_ok=True)
        forget_checks(dst, records)  # a replaced set's check described the old set (the run's own come with it)
        for p in sorted(files, key=rank):
            target = dst / p.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, target)
            moved.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if "summary.csv" in names:
        try:
            _list_earlier_sets(dst)
        except OSError:  # the sets are copied whole; the summary then lists the run's sets only
            pass
    return moved


def _list_earlier_sets(dst: Path) -> None:
    """The copied ``summary.csv`` and ``index.html`` list the run's sets only: the complete sets ``dst`` held
    before (a command line run into the same folder) get their rows after them, as ``explain --out`` lists them
    (before: the export dropped them from both, though their files stayed)."""
    from .gallery import write_gallery  # noqa: PLC0415
    from .job import _earlier_rows, run_names  # noqa: PLC0415
    from .summary import complete_record, read_summary, write_summary  # noqa: PLC0415

    rows = read_summary(dst / "summary.csv")
    # a "not run" row's name stands for no set of the run: a set of that name here is an earlier one, listed (before:
    # it was hidden from both, its files still there)
    names = run_names(rows)
    records = {name: rec for name in names if (rec := complete_record(dst, name))}
    earlier = _earlier_rows(dst, names, records)
    if earlier:
        write_summary(dst, rows + earlier)
        write_gallery(dst, rows + earlier, records)
