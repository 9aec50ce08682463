"""Whether a result set on disk is an input's, as made now: of another image (another folder's ``cat.jpg``: a
summary lists it as that image's), of a photo changed since, or made with other settings (``--resume`` keeps only
sets of the same image, file and settings)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..options import ExplainOptions
from .inputs import Input, file_fingerprint, same_weights


def changed_file(rec: dict, inp: Input) -> bool:
    """Is the input no longer the file the record was made from? Same size and time: unchanged; else the digest decides."""
    then = (rec.get("image") or {}).get("file")
    if not isinstance(then, dict) or not then.get("sha256"):
        return False  # a record without a fingerprint (an older version): nothing to compare
    try:
        st = os.stat(inp.path)
    except OSError:
        return False  # gone or unreadable: loading it says so
    if st.st_size != then.get("bytes"):
        return True
    if st.st_mtime_ns == then.get("mtime_ns"):
        return False
    now = file_fingerprint(inp.path)
    return now is not None and now["sha256"] != then["sha256"]


def made_otherwise(rec: dict, options: ExplainOptions | None, model: dict | str | None, max_side: int | None) -> str:
    """How a stored record's run differs from these settings ("style free, not blur; ..."), "" if it does not
    (or nothing is known to compare): the explain options, the model (name and settings) and the working size."""
    diffs = []
    if options is not None:
        now = json.loads(json.dumps(options.to_dict()))  # as the record stores them (tuples -> lists)
        then = rec.get("options") or {}
        unused = options.unused()  # given but ignored (a note said so): no reason to explain it again
        diffs += [f"{k} {_opt(then[k])}, not {_opt(v)}" for k, v in now.items()
                  if k in then and then[k] != v and k not in unused]
    stored = rec.get("model") or {}
    model = {"name": model} if isinstance(model, str) else (model or {})
    for k, v in model.items():  # the same weights copied to another file name are the same model
        if v and stored.get(k) and stored[k] != v and k not in same_weights(stored, model):
            what = "model" if k == "name" else f"model {k.replace('_', ' ')}"
            diffs.append("other labels" if k == "labels_sha256" else f"{what} {stored[k]}, not {v}")
    image = rec.get("image") or {}
    size, work = image.get("original_size"), image.get("working_size")
    if size and work and len(size) == len(work) == 2 and max(size) > 0:
        scale = 1.0 if not max_side or max(size) <= max_side else max_side / max(size)
        expect = [max(1, round(s * scale)) for s in size]
        if any(abs(int(a) - b) > 1 for a, b in zip(work, expect)):
            diffs.append(f"working size {work[0]}×{work[1]} px, not {expect[0]}×{expect[1]} px")
    return "; ".join(diffs)


def other_image(rec: dict, inp: Input) -> str:
    """The image a stored record was made from when it is surely not ``inp`` (another file name, or another
    file that is still there: two folders with a ``cat.jpg`` each, explained into one output folder), else ""."""
    source = str((rec.get("image") or {}).get("source") or "")
    if not source:
        return ""
    # the record is UTF-8: a name that is not (b"caf\xe9.png", a lone surrogate here) was stored with U+FFFD
    name = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in Path(inp.path).name)
    try:
        if Path(source).name != name or (Path(source).is_file() and not Path(source).samefile(inp.path)):
            return source
    except OSError:  # the input is gone or unreadable: loading it says so
        pass
    return ""


def _opt(v) -> str:
    return "none" if v is None else str(v)
