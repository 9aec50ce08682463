"""Class labels and class groups: the packaged ImageNet labels and groups, index ranges, labels files.

Torch-free: the GUI's dialogs and the CLI's option parsing use it without importing torch.
"""

from __future__ import annotations

import csv
import json
import numbers
import os
import re
from pathlib import Path
from typing import Any, Sequence

from ..errors import ModelError, json_loads
from ..resources import resource_path

__all__ = [
    "IMAGENET_GROUPS",
    "MAX_RANGE",
    "class_indices",
    "format_ranges",
    "imagenet_labels",
    "labels_from",
    "parse_ranges",
    "read_labels",
]

MAX_RANGE = 1_000_000  # widest index range parse_ranges expands without a class count


class BackwardsRange(ValueError):
    """An index range written high to low ("285-281"): said as such, not as an unknown group."""


def parse_ranges(text: str, limit: int | None = None) -> list[int]:
    """``"281-285, 290"`` -> ``[281, 282, 283, 284, 285, 290]``.

    ``limit``: the number of classes; a range reaching past it is not expanded beyond ``limit`` (its
    end is kept as the one out-of-range index, for the caller's message), so ``0-99999999999`` cannot
    exhaust memory; without ``limit`` a range wider than ``MAX_RANGE`` is a ValueError.
    """
    out: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
            lo, hi = int(a), int(b)
            if hi < lo:
                raise BackwardsRange(f"the range {part} runs backwards (write {hi}-{lo})")
            if limit is not None and hi >= limit:
                out.add(hi)  # out of range: reported by the caller
                hi = max(lo - 1, limit - 1)
            elif limit is None and hi - lo >= MAX_RANGE:
                raise ValueError(f"{part}: a range of more than {MAX_RANGE:,} classes")
            out.update(range(lo, hi + 1))
        else:
            out.add(int(part))
    if not out:
        raise ValueError(text)
    return sorted(out)


def class_indices(spec: Any) -> list[int]:
    """The class indices of a group given as a list (or one index) by a caller or a settings file, sorted, each
    once; a :class:`ModelError` for anything else (true was class 1 to Python, 2.5 class 2, and ``group=5`` ended
    the run with "'int' object is not iterable")."""
    def index(i: Any) -> int:
        boolean = isinstance(i, bool) or getattr(getattr(i, "dtype", None), "kind", "") == "b"  # numpy's too
        if boolean or isinstance(i, float) and not i.is_integer():
            raise TypeError
        return int(i)

    items = [spec] if isinstance(spec, numbers.Real) and not isinstance(spec, bool) else spec
    try:
        if isinstance(items, (str, bytes, dict)):
            raise TypeError
        return sorted({index(i) for i in items})
    except (TypeError, ValueError, OverflowError):
        raise ModelError(f"{spec!r} is not a list of class indices") from None


def format_ranges(indices: Sequence[int]) -> str:
    idx = sorted(set(int(i) for i in indices))
    parts, start = [], None
    for a, b in zip(idx, idx[1:] + [None]):
        start = a if start is None else start
        if b != a + 1:
            parts.append(str(start) if start == a else f"{start}-{a}")
            start = None
    return ",".join(parts)


# ImageNet-1k class groups (index ranges follow the WordNet hierarchy of the 1000 classes).
IMAGENET_GROUPS: dict[str, list[int]] = {
    "cat": list(range(281, 286)),
    "big cat": list(range(286, 294)),
    "dog": list(range(151, 269)),
    "bird": list(range(7, 25)) + list(range(80, 101)) + list(range(127, 147)),
    "fish": list(range(0, 7)) + list(range(389, 398)),
    "reptile": list(range(33, 69)),
    "insect": list(range(300, 320)),
    "primate": list(range(365, 385)),
    "vehicle": [
        403, 407, 408, 436, 444, 468, 511, 555, 561, 565, 569, 573, 575, 586, 595, 603,
        609, 612, 627, 654, 656, 661, 665, 670, 671, 675, 705, 717, 734, 751, 757, 779, 802, 803, 817,
        820, 829, 847, 856, 864, 866, 867, 870, 874, 880, 895,
    ],
}


def imagenet_labels() -> list[str]:
    labels = resource_path("imagenet_classes.txt").read_text(encoding="utf-8").splitlines()
    labels = [lab for lab in labels if lab.strip()]
    if len(labels) != 1000:
        raise ModelError(f"packaged ImageNet label file has {len(labels)} lines, expected 1000")
    return labels


MAX_LABELS_BYTES = 64 << 20  # ImageNet-21k's 21,843 labels with their synonyms are under 1 MB


def labels_from(value: Any, base_dir: Path | None = None) -> list[str] | None:
    """Labels given as a file (a path, relative to ``base_dir``: a sidecar's folder) or as a list of names; None: none."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        p = Path(value)
        if base_dir is not None and not p.is_absolute():
            p = base_dir / p  # relative to the sidecar
        return read_labels(p)
    labels = [str(x) for x in value]
    if not labels:
        raise ModelError("the label list is empty")
    return labels


def read_labels(path: str | os.PathLike) -> list[str]:
    """Class names from a text file (one per line) or a JSON file.

    JSON may be a list of names, ``{"labels": [...]}``, or an index → name mapping
    (``{"0": "cat", ...}``; Keras-style ``{"0": ["n02123045", "tabby"]}`` takes the last item).
    """
    p = Path(path)
    if p.is_dir():
        raise ModelError(f"labels file {p} is a folder; give the labels file inside it")
    if not p.is_file():  # a pipe or a device exists but is no file to read ("not found" sent the user looking)
        raise ModelError(f"labels file {p} is not a regular file" if os.path.lexists(p) and p.exists()
                         else f"labels file {p} not found")
    try:
        size = p.stat().st_size
        if size > MAX_LABELS_BYTES:  # read whole first: a 1 GB file took 18 s and 2.8 GB of memory to be refused
            raise ModelError(f"labels file {p.name} is {size / 2**20:,.0f} MB, too large for class names (at most "
                             f"{MAX_LABELS_BYTES >> 20} MB): is it the labels file?")
        raw = p.read_bytes()
        # UTF-16 with its byte-order mark: Windows PowerShell 5's `>` and Out-File, Notepad's "Unicode" (was refused)
        text = raw.decode("utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelError(f"labels file {p.name} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                         f"position {exc.start}); save it with UTF-8 encoding") from None
    except OSError as exc:
        raise ModelError(f"cannot read labels file {p.name}: {exc.strerror or exc}") from None
    if "\x00" in text:  # UTF-16 without its mark read as UTF-8: "c\0a\0t\0" labels, or a count off by one
        raise ModelError(f"labels file {p.name} holds NUL characters (UTF-16 text without a byte-order mark?); "
                         "save it with UTF-8 encoding")
    if p.suffix.lower() == ".json":
        try:
            data = json_loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"labels file {p.name} is not valid JSON: {exc}") from None
        labels = _labels_from_json(data, p.name)
    elif p.suffix.lower() in (".csv", ".tsv"):
        labels = _labels_from_table(text, p.name, "\t" if p.suffix.lower() == ".tsv" else ",")
    else:
        labels = _python_dict_lines(text) or [line.strip() for line in text.splitlines()]
        while labels and not labels[-1]:
            labels.pop()
        if any(not lab for lab in labels):
            blank = labels.index("") + 1
            raise ModelError(f"labels file {p.name} has an empty line {blank}; give one label per line")
    if not labels:
        raise ModelError(f"labels file {p.name} has no labels")
    return labels


_PY_DICT_LINE = re.compile(r"""\s*\{?\s*(\d+)\s*:\s*(['"])(.*)\2\s*,?\s*\}?\s*""")


def _python_dict_lines(text: str) -> list[str] | None:
    """A Python dict written one entry a line (``{0: 'tench, Tinca tinca',`` …, the widely shared
    imagenet1000_clsidx_to_labels.txt): its labels in index order, else None."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    found = [_PY_DICT_LINE.fullmatch(ln) for ln in lines]
    if not lines or not all(found) or not lines[0].lstrip().startswith("{"):
        return None
    items = sorted((int(m.group(1)), m.group(3)) for m in found)
    return [v for _, v in items] if [k for k, _ in items] == list(range(len(items))) else None


def _labels_from_table(text: str, name: str, delimiter: str) -> list[str]:
    """A CSV/TSV file: one row (the labels), one column (one label a line), or ``index,label`` rows with or
    without a header row."""
    rows = [[c.strip() for c in r] for r in csv.reader(text.splitlines(), delimiter=delimiter) if any(c.strip() for c in r)]
    if len(rows) == 1:
        return rows[0]
    if all(len(r) == 1 for r in rows):
        return [r[0] for r in rows]
    body = rows[1:] if rows and not rows[0][0].isdigit() else rows  # a header: "index,label"
    if body and all(len(r) >= 2 and r[0].isdigit() for r in body):
        items = sorted((int(r[0]), r[1]) for r in body)
        if [k for k, _ in items] != list(range(len(items))):
            raise ModelError(f"labels file {name}: class indices must run 0…{len(items) - 1} without gaps")
        return [v for _, v in items]
    raise ModelError(f"labels file {name}: expected one label a row, or rows of class index and label")


def _labels_from_json(data: Any, name: str) -> list[str]:
    if isinstance(data, dict) and "labels" in data:
        data = data["labels"]
    elif isinstance(data, dict) and isinstance(data.get("id2label"), dict):  # a Hugging Face config's mapping
        data = data["id2label"]
    if isinstance(data, list):
        return [_label_item(x, f"labels file {name}") for x in data]
    if isinstance(data, dict):
        return labels_from_mapping(data, f"labels file {name}")
    raise ModelError(f"labels file {name} must hold a list of labels or an index → label mapping")


def labels_from_mapping(data: dict, where: str) -> list[str]:
    """Labels from an index → label mapping (``{"0": "cat"}``, ``{0: "cat"}``: a Hugging Face ``id2label``) or a
    label → index one (Keras' class_indices), in index order; ``where`` begins its errors ("labels file x.json")."""
    if data and all(isinstance(v, int) and not isinstance(v, bool) for v in data.values()) \
            and not all(str(k).strip().isdigit() for k in data):  # label → index (Keras' class_indices)
        data = {str(v): k for k, v in data.items()}
    try:
        items = sorted((int(k), v) for k, v in data.items())
    except (TypeError, ValueError):
        raise ModelError(f"{where}: keys must be class indices (\"0\", \"1\", ...)") from None
    idx = [k for k, _ in items]
    if idx != list(range(len(idx))):
        raise ModelError(f"{where}: class indices must run 0…{len(idx) - 1} without gaps")
    return [_label_item(v, where) for _, v in items]


def _label_item(x: Any, where: str) -> str:
    if isinstance(x, (list, tuple)) and x:
        x = x[-1]
    if not isinstance(x, (str, int, float)):
        raise ModelError(f"{where}: {x!r} is not a label")
    return str(x)
