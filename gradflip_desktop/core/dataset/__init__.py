"""Explaining many images at once: folders in, result sets + ``summary.csv`` + ``index.html`` out.

- :mod:`.inputs`   which files of the given paths are images (by content), the result name of each
- :mod:`.summary`  complete result sets on disk, ``summary.csv`` (one row per input, failures included)
- :mod:`.gallery`  thumbnails of a result, the self-contained ``index.html``
- :mod:`.job`      the run: resume, batched engine, atomic result sets, summary and gallery rebuilt at the end
- :mod:`.eta`      how long a run has left, in words (the app's Folder panel)

Torch-free to import, and so are its light modules (:mod:`.eta`, :mod:`.inputs`): the names below are imported when
first used (:mod:`.summary` reads records through the report, whose figure imports torch), so the window that
imports :mod:`.eta` still shows before torch is loaded.
"""

from __future__ import annotations

from ..lazy import lazy_names

_EXPORTS = {
    "Input": "inputs",
    "collect_inputs": "inputs",
    "is_image_file": "inputs",
    "SUMMARY_COLUMNS": "summary",
    "complete_record": "summary",
    "read_summary": "summary",
    "summary_row": "summary",
    "write_summary": "summary",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
