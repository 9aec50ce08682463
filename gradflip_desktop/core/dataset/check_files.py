"""The files ``gradflip check`` writes beside result sets (``NAME.faithfulness.json``, the folder's
``faithfulness.csv``), and dropping a set's when the set is written over. Torch-free; the result set's writer
(:mod:`gradflip_desktop.core.report`) and Export All's copy (:mod:`.copy`) call :func:`forget_checks`."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ..images.loading import read_regular
from ..images.writing import atomic_write_bytes

CHECK_SUFFIX = ".faithfulness.json"  # a set's check, beside its record
CSV_NAME = "faithfulness.csv"  # the folder's rows: one per set, fill-in and map


def forget_checks(folder: str | os.PathLike, names) -> None:
    """The checks of the sets ``names`` in ``folder`` go (``NAME.faithfulness.json``, their rows of
    ``faithfulness.csv``): a set written over had kept the check of the set it replaced, numbers of another map.
    Best effort: a check that cannot be removed stays (``check --resume`` measures a set whose map changed again)."""
    folder, names = Path(folder), set(names)
    for name in names:
        try:
            (folder / f"{name}{CHECK_SUFFIX}").unlink(missing_ok=True)
        except OSError:
            pass
    table = folder / CSV_NAME
    try:
        if not table.is_file():
            return
        rows = list(csv.reader(io.StringIO(read_regular(table).decode("utf-8"), newline="")))
        kept = [r for r in rows[1:] if not r or r[0] not in names]
        if len(kept) == len(rows) - 1:
            return
        if not kept:
            table.unlink()
            return
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([rows[0], *kept])
        atomic_write_bytes(table, buf.getvalue().encode("utf-8"), overwrite=True)
    except (OSError, ValueError, csv.Error):
        pass


__all__ = ["CHECK_SUFFIX", "CSV_NAME", "forget_checks"]
