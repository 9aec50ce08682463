"""Explaining many images at once: folders in, result sets + ``summary.csv`` + ``index.html`` out.

- :mod:`.inputs`   which files of the given paths are images (by content), the result name of each
- :mod:`.summary`  complete result sets on disk, ``summary.csv`` (one row per input, failures included)
- :mod:`.gallery`  thumbnails of a result, the self-contained ``index.html``
- :mod:`.job`      the run: resume, batched engine, atomic result sets, summary and gallery rebuilt at the end

Torch-free to import (the engine is imported when a run starts).
"""

from .inputs import Input, collect_inputs, is_image_file
from .summary import SUMMARY_COLUMNS, complete_record, read_summary, summary_row, write_summary

__all__ = [
    "Input",
    "collect_inputs",
    "is_image_file",
    "SUMMARY_COLUMNS",
    "complete_record",
    "read_summary",
    "summary_row",
    "write_summary",
]
