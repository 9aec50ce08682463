"""Export an explanation as a result set (figure, images, arrays, per-step table, JSON record).

For an input called ``NAME`` the set is::

    NAME.gradflip.json     the record (see RECORD_DOC / README)
    NAME.adjusted.png      the adjusted image, 8-bit; re-classifies to ``final``
    NAME.difference.png    the importance map as heat over the greyscale original
    NAME.figure.png        annotated original | adjusted | importance map | key region | key region alone (or key
                           pixels): core/figure.py
    NAME.delta.npy         float32 change, H x W x 3 (working resolution)
    NAME.importance.npy    float32 H x W importance map, the map the views show (region style: the mask
                           map; free: smoothed |change|; blur: smoothed blur amount)
    NAME.key.png           8-bit H x W mask of the key set the figure outlines: 255 in the key region
                           (region style) or on the key pixels (other styles), 0 elsewhere; all 0 when none
    NAME.steps.csv         one row per step: phase, accepted, epsilon, score, L2, L∞, flipped, top-5 classes, top1_is_flip

Every file is written in full to a temporary file, then all are renamed into place (the record last): a failure
while writing leaves the previous set (or none); a replaced set (``force``) loses its old record first, so a failed
rename leaves files without a record (``--resume`` recomputes them), never a new set under an old record. Without
``force`` nothing is overwritten: if any target exists, the whole set is refused before anything is written.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import unicodedata
from pathlib import Path

import numpy as np

from .dataset.check_files import forget_checks
from .errors import DiskFullError, ExportError, ResultExistsError, files_exist
from .figure import difference_overlay, render_figure
from .images import discard, png_bytes, stage_bytes, utf8_bytes
from .images.writing import sweep_stale
from .results import ExplainResult
from .summary import summary_sentence

SUFFIXES = (".gradflip.json", ".adjusted.png", ".difference.png", ".figure.png", ".delta.npy", ".importance.npy",
            ".key.png", ".steps.csv")
MAX_NAME_BYTES = 120


ReportError = ExportError  # the former name of ExportError


def safe_name(name: str) -> str:
    """A file-name stem safe on Linux, macOS and Windows: no separators/control characters, bounded length."""
    n = unicodedata.normalize("NFC", str(name))
    n = n.encode("utf-8", "replace").decode("utf-8")  # a file name that is not UTF-8 (b"caf\xe9"): "?" then "_"
    n = re.sub(r'[\x00-\x1f\x7f<>:"/\\|?*]', "_", n).strip(" .")
    # invisible format characters (a right-to-left override shows "gpj.exe" as "exe.jpg"; zero-width spaces)
    n = "".join("_" if unicodedata.category(ch) == "Cf" else ch for ch in n)
    if n.startswith("-"):  # "-rf.gradflip.json" is read as options by `rm *` and other tools
        n = "_" + n
    if not n or set(n) <= {"_"}:
        n = "image"
    if n.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {
        f"LPT{i}" for i in range(1, 10)
    }:
        n = "_" + n
    while len(n.encode("utf-8")) > MAX_NAME_BYTES:
        n = n[:-1]
    return n.rstrip(" .") or "image"


def result_paths(out_dir: str | os.PathLike, name: str) -> dict[str, Path]:
    stem = safe_name(name)
    out = Path(out_dir)
    return {suffix: out / f"{stem}{suffix}" for suffix in SUFFIXES}


def _r(x: float, digits: int = 6) -> float | None:
    return float(round(x, digits)) if x is not None and math.isfinite(x) else None


def record(result: ExplainResult, image_info: dict | None = None, versions: dict | None = None) -> dict:
    """The JSON record of a run (plain types only)."""
    from .models import model_versions

    kp = result.key_pixels
    return {
        "format": "gradflip-result/1",
        "flipped": result.flipped,
        "status": result.status,
        "message": result.message,
        "sentence": summary_sentence(result),  # the answer in words, the figure's headline: machine-readable with the rest
        "original": result.original.to_dict(),
        "final": result.final.to_dict(),
        "target": None if result.target is None else result.target.to_dict(),
        "explained": _explained(result),
        "original_range": result.original_range,  # [lowest, highest] single class: a flat model
        "steps": len(result.steps),
        "flip_step": result.flip_step,
        "gradient_evaluations": result.gradient_evaluations,
        "forward_evaluations": result.forward_evaluations,
        "l2": _r(result.l2),
        "linf": _r(result.linf),
        "rms": _r(result.rms, 8),
        "l2_saved": _r(result.l2_saved),
        "l2_minimal_float": None if result.l2_minimal_float is None else _r(result.l2_minimal_float),
        "linf_saved": _r(result.linf_saved),
        "rms_saved": _r(result.rms_saved, 8),  # the figure's RMS
        "alpha": _r(result.alpha),
        "key_pixels": (
            {"count": 0, "fraction": 0.0, "flips": False, "prediction": None, "explained_probability": None}
            if kp is None
            else {**kp.to_dict(), "fraction": _r(kp.fraction, 8)}
        ),
        "key_region": (None if result.key_region is None
                       else {**result.key_region.to_dict(), "fraction": _r(result.key_region.fraction, 8)}),
        "seconds": _r(result.seconds, 4),
        "timings": {k: _r(v, 4) for k, v in result.timings.items()},
        "options": result.options.to_dict(),
        "model": {"name": result.model_name, **result.model_settings},
        "image": image_info or {"working_size": [int(result.delta.shape[1]), int(result.delta.shape[0])]},
        "versions": {**(versions or model_versions()), **result.run_on},  # + device, batch size: they move the last bits
    }


def _explained(result: ExplainResult) -> dict:
    """The explained class or group with its probability (a group's: the sum over its classes) in the photo and
    in the saved 8-bit image: the figure's "any cat (93 %)" is this ``probability``."""
    indices = [int(i) for i in result.explained]

    def total(probs) -> float | None:
        probs = np.asarray(probs, dtype=np.float64)
        return _r(float(sum(probs[i] for i in indices)), 8) if probs.size and indices else None

    return {"name": result.explained_name, "indices": indices,
            "probability": total(result.original_probabilities), "final_probability": total(result.final_probabilities)}


def _strict(obj):
    """Non-finite floats (a model that output NaN) become null, so the record is strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    return obj


def steps_csv(result: ExplainResult, k: int = 5) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    # flipped: the phase reached its goal at this step (a restore step's 1 is the class coming back); top1_is_flip, last
    # (the columns before keep their places): the step's top class counts as a flip of the run, whatever the phase (a
    # reader took "flipped" for that: a restore row with Egyptian cat on top read 1, sharpen rows with tiger cat on top 0)
    header = ["step", "phase", "accepted", "epsilon", "score", "l2", "linf", "flipped"]
    for i in range(1, k + 1):
        header += [f"top{i}_index", f"top{i}_label", f"top{i}_probability"]
    w.writerow([*header, "top1_is_flip"])
    for s in result.steps:
        top = s.top(k)
        row = [s.index, s.phase, int(s.accepted), f"{s.epsilon:.6g}", f"{s.score:.6f}", f"{s.l2:.6f}", f"{s.linf:.6f}", int(s.flipped)]
        for idx, p in top:
            row += [idx, result.label(idx), f"{p:.6f}"]
        row += [""] * (len(header) - len(row))  # a model of fewer than k classes: empty cells, the last column in place
        w.writerow([*row, int(bool(top) and result.is_flip(top[0][0]))])
    return buf.getvalue()


def key_mask(result: ExplainResult) -> np.ndarray:
    """H x W uint8 mask of the key set the figure outlines: 255 in the key region (region style) or on the key
    pixels (other styles), 0 elsewhere; all 0 when the run has none (it did not flip)."""
    kr, kp = result.key_region, result.key_pixels
    mask = kr.mask if kr is not None else kp.mask if kp is not None else np.zeros(result.delta.shape[:2], bool)
    return np.where(np.asarray(mask, dtype=bool), np.uint8(255), np.uint8(0))


def _npy_bytes(a: np.ndarray) -> bytes:
    np.save(buf := io.BytesIO(), a, allow_pickle=False)
    return buf.getvalue()


# ---- write ------------------------------------------------------------------------------------------

DISK_FULL = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None)


def write_failure(exc: OSError) -> str:
    """Why a file could not be written, in words ("the disk is full", ...)."""
    if getattr(exc, "errno", None) == errno.ENOSPC:
        return "the disk is full"
    if getattr(exc, "errno", None) in DISK_FULL:
        return "your disk quota is used up"
    if getattr(exc, "errno", None) in (errno.EACCES, errno.EROFS, errno.EPERM):
        return "the folder is read-only or you lack permission"
    return exc.strerror or str(exc)


def _no_folder_why(out: Path, exc: OSError) -> str:
    """Why ``out`` could not be created, in words: mkdir's "File exists" for a link that leads nowhere and "Not a
    directory" for a file on the way named what they are."""
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        try:
            for p in (out, *out.parents):
                if p.is_symlink() and not p.exists():
                    target = os.readlink(p)
                    if os.path.lexists(p.parent / target):  # a link there too: the links lead round in a loop
                        return f"{p} is a link to {target}, and the links lead round in a loop to no folder"
                    return f"{p} is a link to {target}, which does not exist"
                if p.exists():
                    if not p.is_dir():
                        return f"{p} is a file, not a folder"
                    break
        except OSError:  # a name too long, a folder that cannot be read: the OS's words below
            pass
    return exc.strerror or str(exc)


def make_folder(out_dir: str | os.PathLike, probe: bool = False) -> Path:
    """``out_dir``, created if needed; :class:`ExportError` when it cannot be (a file of that name, a
    parent that is a file, no permission). With ``probe`` a temporary file is also written there and
    removed, so a read-only folder is refused before any work is done, not after it; and the staged files a
    killed run left there are removed (:func:`~.images.writing.sweep_stale`)."""
    out = Path(out_dir)
    if "\x00" in str(out):  # os's "embedded null byte", a ValueError, from deep inside
        raise ExportError(f"cannot create the folder {str(out)!r}: its name holds a NUL character")
    try:
        if out.exists() and not out.is_dir():
            raise ExportError(f"cannot create the folder {out}: a file of that name exists (not a folder)")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {out}: {_no_folder_why(out, exc)}") from None
    if not out.is_dir():
        raise ExportError(f"{out} is not a folder")
    if probe:  # before a run's writes: a killed run's staged files go (sweep_stale), then the probe
        sweep_stale(out)
        sweep_stale(out / ".thumbs")  # the gallery's thumbnails (dataset/gallery.py's THUMB_DIR): written staged too
        try:
            discard(stage_bytes(out / "probe", b""))
        except OSError as exc:
            raise ExportError(f"cannot write the results to {out}: {write_failure(exc)}") from None
    return out


def write_result_set(
    result: ExplainResult,
    out_dir: str | os.PathLike,
    name: str,
    force: bool = False,
    image_info: dict | None = None,
) -> list[Path]:
    """Write the result set for ``name`` into ``out_dir`` (created if needed); return the paths written.

    Raises :class:`ResultExistsError` (a ``FileExistsError``; ``existing`` lists the files) when a target
    exists and ``force`` is False, and :class:`ExportError` for folders that cannot be created or written.
    """
    if not isinstance(name, str):  # name=None wrote a set called "None"
        raise TypeError(f"name must be the set's name, a string, not {type(name).__name__}")
    out = make_folder(out_dir)
    paths = result_paths(out, name)
    try:
        existing = [p for p in paths.values() if p.exists()]
    except OSError as exc:  # e.g. ENAMETOOLONG
        raise ExportError(f"cannot write the results to {out}: {exc.strerror or exc}") from None
    if existing and not force:
        raise ResultExistsError(
            f"{files_exist(len(existing))} in {out} (e.g. {existing[0].name})", existing
        )
    rec = record(result, image_info := getattr(result, "image_info", None) if image_info is None else image_info)  # API: run()'s photo
    rec["files"] = {suffix.strip(".").split(".")[0]: p.name for suffix, p in paths.items()}
    importance = result.importance_map()  # one map for the difference image, the figure and the .npy
    payloads = {
        ".adjusted.png": png_bytes(result.adjusted_uint8),
        ".difference.png": png_bytes(difference_overlay(result, importance)),
        ".figure.png": png_bytes(render_figure(result, importance=importance, notes=(image_info or {}).get("warnings"))),
        ".delta.npy": _npy_bytes(result.delta.astype(np.float32)),
        ".importance.npy": _npy_bytes(importance.astype(np.float32)),
        ".key.png": png_bytes(key_mask(result)),
        ".steps.csv": utf8_bytes(steps_csv(result)),
        ".gradflip.json": utf8_bytes(json.dumps(_strict(rec), indent=2, ensure_ascii=False, allow_nan=False) + "\n"),
    }
    # Two phases, so that a failure (disk full, an interrupt) never leaves a set that mixes files of two
    # runs: every file is first written in full to a temporary file next to its target; only then are they
    # renamed into place, the record last. When a set is replaced, its old record goes first: an
    # interruption among the renames leaves a set without a record (incomplete: --resume recomputes it).
    staged: dict[str, Path] = {}
    written: list[Path] = []
    replacing: Path | None = None  # the file being put in place (the second phase), when one is

    def roll_back() -> None:  # temporary files go; new files go; files that existed before stay
        for tmp in staged.values():
            discard(tmp)
        for p in written:
            if p not in existing:
                try:
                    p.unlink()
                except OSError:
                    pass

    try:
        for suffix, data in payloads.items():
            staged[suffix] = stage_bytes(paths[suffix], data)
        appeared = [p for p in paths.values() if p.exists() and p not in existing]
        if appeared and not force:  # another program wrote one while the set was being prepared
            roll_back()
            raise ResultExistsError(f"a result file appeared in {out} while writing: {appeared[0]}", appeared)
        record_path = paths[".gradflip.json"]
        if record_path in existing:
            record_path.unlink(missing_ok=True)
        for suffix in payloads:  # the record is the last payload
            replacing = paths[suffix]
            os.replace(staged[suffix], paths[suffix])
            del staged[suffix]
            written.append(paths[suffix])
    except ResultExistsError:
        raise
    except OSError as exc:
        roll_back()
        error = DiskFullError if getattr(exc, "errno", None) in DISK_FULL else ExportError
        if replacing not in existing:  # before any file was put in place, or a new file refused
            raise error(f"cannot write the results to {out}: {write_failure(exc)}") from None
        # every file was written next to its target, so the folder is writable: an old file refused
        why = ("it is read-only or locked (the folder itself is writable)"
               if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM) else write_failure(exc))
        gone = ("; the earlier result set there is now incomplete (its record was removed first, so a resumed "
                "run explains it again)" if paths[".gradflip.json"] in existing else "")
        raise error(f"cannot replace {replacing.name} in {out}: {why}{gone}") from None
    except BaseException:
        roll_back()
        raise
    # the set's old check (gradflip check's NAME.faithfulness.json, its faithfulness.csv rows) measured the map replaced
    forget_checks(out, [paths[".gradflip.json"].name[: -len(".gradflip.json")]])
    return written
