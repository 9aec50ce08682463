"""Export an explanation as a result set (figure, images, arrays, per-step table, JSON record).

For an input called ``NAME`` the set is::

    NAME.gradflip.json     the record (see RECORD_DOC / README)
    NAME.adjusted.png      the adjusted image, 8-bit; re-classifies to ``final``
    NAME.difference.png    the importance map as heat over the greyscale original
    NAME.figure.png        annotated original | adjusted | difference | key region or key pixels
    NAME.delta.npy         float32 change, H x W x 3 (working resolution)
    NAME.importance.npy    float32 H x W importance map, the map the views show (region style: the mask
                           map; free: smoothed |change|; blur: smoothed blur amount)
    NAME.key.png           8-bit H x W mask of the key set the figure outlines: 255 in the key region
                           (region style) or on the key pixels (other styles), 0 elsewhere; all 0 when none
    NAME.steps.csv         one row per step: phase, accepted, epsilon, score, L2, L∞, flipped, top-5 classes

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
from PIL import Image, ImageDraw

from .errors import DiskFullError, ExportError, ResultExistsError, files_exist
from .options import SMALL_REGION, is_broad_region
from .viz.text import fit_lines as _fit, short_labels
from .images import discard, png_bytes, stage_bytes, to_uint8, utf8_bytes
from .images.writing import sweep_stale
from .results import ExplainResult
from .summary import any_of, apart, class_range, fill_verb, levels_text, no_change_reason, pct, pct1, share, steps_text, summary_sentence
from .viz import maps
from .models.prep_fields import CROPS
from .viz.difference import entry, map_name
from .viz.fonts import figure_font

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
        "original": result.original.to_dict(),
        "final": result.final.to_dict(),
        "target": None if result.target is None else result.target.to_dict(),
        "explained": _explained(result),
        "original_range": class_range(result.original_probabilities),  # [lowest, highest] single class: a flat model
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
        "rms_saved": _r(result.l2_saved / max(1.0, float(result.delta.size)) ** 0.5, 8),  # the figure's RMS
        "alpha": _r(result.alpha),
        "key_pixels": (
            {"count": 0, "fraction": 0.0, "flips": False, "prediction": None}
            if kp is None
            else {"count": kp.count, "fraction": _r(kp.fraction, 8), "flips": kp.flips, "prediction": kp.prediction.to_dict()}
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
    header = ["step", "phase", "accepted", "epsilon", "score", "l2", "linf", "flipped"]
    for i in range(1, k + 1):
        header += [f"top{i}_index", f"top{i}_label", f"top{i}_probability"]
    w.writerow(header)
    for s in result.steps:
        row = [s.index, s.phase, int(s.accepted), f"{s.epsilon:.6g}", f"{s.score:.6f}", f"{s.l2:.6f}", f"{s.linf:.6f}", int(s.flipped)]
        for idx, p in s.top(k):
            row += [idx, result.label(idx), f"{p:.6f}"]
        w.writerow(row)
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


# ---- figure -------------------------------------------------------------------------------------------

def _fmt_pred(p) -> str:
    return f"{p.label} ({pct1(p.probability)})"


def difference_overlay(result: ExplainResult, importance: np.ndarray | None = None) -> np.ndarray:
    """``NAME.difference.png`` and the figure's third panel: the importance map as heat over the photo."""
    return maps.heat_overlay(result.original_pixels, result.importance_map() if importance is None else importance)


def describe_change(result: ExplainResult) -> str:
    """The size of the saved 8-bit change (the image whose class the figure names; the window's numbers too).
    The saved change is computed once here (``l2_saved`` and ``linf_saved`` would each compute it again)."""
    d = result.saved_delta.astype(np.float64)
    l2 = float(np.linalg.norm(d))
    linf = float(np.abs(d).max()) if d.size else 0.0
    rms = l2 / max(1.0, float(d.size)) ** 0.5
    sizes = f"L2 {l2:.3f} · max {linf * 255:.1f}/255 · RMS {levels_text(rms * 255)}/255"
    why = no_change_reason(result)
    if why is not None:  # nothing was searched: whatever differs is the saved image's 8-bit rounding
        return f"no change ({why})" if l2 == 0.0 else f"no change ({why}); 8-bit rounding only: {sizes}"
    return sizes


def key_region_caption(kr) -> str:
    """The figure's caption under the key region: what changing it alone gives, or, when no region flips
    alone (a targeted run whose target removing detail does not reach), what changing all of it gives."""
    verb = fill_verb(kr.fill)  # worded as the sentence: a blur, a fill-in, or the search's fade part-way
    if kr.flips and kr.large:  # hatched: most of the image, so no small region does it
        return f"no small region flips it; {verb} in {share(kr.fraction)} (hatched) -> {kr.prediction.label}"
    if kr.flips and is_broad_region(kr.fraction):  # outlined, but too broad to call a small part (summary.py)
        return f"no small region flips it; {verb} in {share(kr.fraction)} -> {kr.prediction.label}"
    if kr.flips:  # under 1 % the region is boxed (dashed) so that it can be found: the caption says what the box is
        boxes = maps.dashed_boxes(kr.mask) if 0.0 < kr.fraction < SMALL_REGION else 0  # far-apart blobs: a box each
        boxed = "" if not boxes else " (in the dashed box)" if boxes == 1 else " (in the dashed boxes)"
        return f"{verb} in {share(kr.fraction)}{boxed} -> {kr.prediction.label}"
    return f"no region alone flips it; {verb} everywhere gives {kr.prediction.label}"


def figure_title(result: ExplainResult) -> str:
    """The figure's first line: model, what was explained -> what it became, and how the run ended. A group
    run names the group ("any cat (Egyptian cat 79.0 %)"), as the sentence and the CLI do."""
    verdict = "flipped" if result.flipped else result.status.replace("_", " ")
    # two decimals where one reads the same for both: a near tie flipped "binoculars (17.1 %) -> tripod (17.1 %)"
    was, now = apart(result.original.probability, result.final.probability)
    before = f"{result.original.label} ({was})"
    group = sum(float(result.original_probabilities[i]) for i in result.explained) if len(result.explained) > 1 else 0
    if len(result.explained) > 1 and result.original.index in result.explained:
        # "any cat (97.2 %; Egyptian cat 79.0 %)": the group's sum first, as the sentence's "any cat (97 %)" below it
        before = f"{any_of(result.explained_name)} ({pct1(group)}; {result.original.label} {was})"
    elif len(result.explained) > 1:  # a group run on a photo of another class: never "any cat (military uniform …)"
        before = f"{result.original.label} ({was}; {any_of(result.explained_name)} {pct(group)})"
    kr = getattr(result, "key_region", None)  # as the CLI ends: the region alone gives another class (its panel)
    alone = f" · key region alone -> {kr.prediction.label}" if kr and kr.flips and kr.prediction.index != result.final.index else ""
    return f"GradFlip · {result.model_name} · {before} -> {result.final.label} ({now}) ({verdict}){alone}"


def figure_subtitle(result: ExplainResult) -> str:
    """The figure's second line: steps, model evaluations, time and step settings ("1 step", not "1 steps")."""
    g, f = result.gradient_evaluations, result.forward_evaluations
    chosen = "" if result.target is None else f"target chosen: {result.target.label} · "  # a targeted run says so
    return chosen + (
        f"{steps_text(len(result.steps))}, {g} gradient + {f} forward evaluation{'' if g + f == 1 else 's'}, "
        f"{result.seconds:.1f} s · mode {result.options.mode}, epsilon {result.options.epsilon:g}"
    )


MIN_SLOT = 220  # px: the narrowest panel column (a tall photo's heading and caption still fit beside the next)
PANORAMA_ASPECT = 5  # wider than this many times its height: the panels go one per row
ROW_WIDTH = 1040  # px: a panorama's panel width (one per row)


def original_caption(result: ExplainResult, notes: list[str] | None = None) -> str:
    """The Original panel's caption: the prediction, then how the file became what the model saw (the
    loading notes: scaled to the working size, composited on white, the first of several frames)."""
    told = [str(n) for n in (notes or []) if str(n).strip()]
    return " · ".join([_fmt_pred(result.original), *told])


def render_figure(result: ExplainResult, panel_height: int = 360, importance: np.ndarray | None = None,
                  notes: list[str] | None = None) -> np.ndarray:
    """Annotated figure: original | adjusted | difference | key pixels, with captions. uint8 H x W x 3.
    A panorama (wider than :data:`PANORAMA_ASPECT` times its height) has one panel per row instead of
    panels squashed to a strip; a tall, narrow photo sits in a column at least :data:`MIN_SLOT` wide.

    ``importance``: ``result.importance_map()`` when the caller has it already (computed here otherwise);
    ``notes``: the image's loading notes, under the Original (:func:`original_caption`).
    """
    result = short_labels(result)  # a model's sentence-long labels: cut, the numbers after them kept
    orig = result.original_pixels
    h, w = orig.shape[:2]
    scale = min(1.0, panel_height / h) if h > panel_height else panel_height / h
    pw, ph = max(1, round(w * scale)), max(1, round(h * scale))
    rows = w > PANORAMA_ASPECT * h  # a panorama: one panel per row, wide enough to see something
    if rows:
        scale = ROW_WIDTH / w
        pw, ph = ROW_WIDTH, max(1, round(h * scale))
    elif pw > 520:  # keep very wide images readable
        pw, ph = 520, max(1, round(h * 520 / w))
    slot = max(pw, MIN_SLOT)  # a tall, narrow image sits in a column wide enough for its heading and caption
    adjusted = result.adjusted_uint8.astype(np.float32) / 255.0
    changed = describe_change(result)
    mattered = result.region_map is not None  # the region style's map is its search's importance, not the change
    crops = str((result.model_settings or {}).get("resize", "")).split(" ")[0] in CROPS  # a map of the crop only
    panels = [
        (orig, "Original", original_caption(result, notes)),
        # the change's size goes with the image it measures (it sat under the map, in other units than the map's)
        (adjusted, "Adjusted", f"{_fmt_pred(result.final)} · change: {changed}" if changed.startswith("L2")
         else f"{_fmt_pred(result.final)} · {changed}"),
        (difference_overlay(result, importance), entry(map_name(result)),  # as the window's Difference mode names it
         f"no map: {why}, so the photo was not changed" if (why := no_change_reason(result)) else  # no 0.5 % scale
         f"bright = {'mattered' if mattered else 'changed'} most, dark = "
         f"{'not at all' if mattered else 'unchanged'} (full brightness: this photo's top 0.5 %)"
         + ("; none outside the centre the model crops: it never sees that" + ("" if mattered else ", so nothing changes there")
            if crops else "")),
    ]
    kp = result.key_pixels
    kr = result.key_region
    if kr is not None:
        # drawn at least at the panel's size: on a small photo's own grid the outline hid the region
        panels.append((maps.key_region_overlay(orig, kr.mask, maps.outline_scale(kr.mask.shape, max(pw, ph))),
                       "Key region", key_region_caption(kr)))
    if kp is not None:
        panels.append(
            (
                # drawn at least at the panel's size, as the key region is: on a small photo's own grid the
                # red outline covered whole pixels beside each key pixel
                maps.key_pixel_overlay(orig, kp.mask, maps.outline_scale(kp.mask.shape, max(pw, ph))),
                "Key pixels",
                f"{kp.count:,} px ({share(kp.fraction)}) alone give {kp.prediction.label}",
            )
        )
    pad, cap_h, title_h = 12, 46, 58
    width = pad + (slot + pad if rows else len(panels) * (slot + pad))

    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title = figure_title(result)
    sub_text = figure_subtitle(result)
    said = summary_sentence(result)
    font = figure_font([title, sub_text, said, *(head + caption for _, head, caption in panels)])
    f_title, f_cap, f_small = font(20), font(15), font(13)
    # every text fits its place (long class names wrap; never drawn over the next panel or off the figure)
    titles = _fit(measure, title, f_title, width - 2 * pad, 3)
    sub = _fit(measure, sub_text, f_small, width - 2 * pad, 3)
    sentence = _fit(measure, said, f_cap, width - 2 * pad, 8)
    heads = [_fit(measure, head, f_cap, slot, 1)[0] for _, head, _ in panels]
    captions = [_fit(measure, caption, f_small, slot, 4) for _, _, caption in panels]
    down = 24 * (len(titles) - 1) + 17 * (len(sub) - 1)
    title_h += down + 20 * len(sentence)
    cap_h += 17 * (max(len(c) for c in captions) - 1)
    height = title_h + (len(panels) * (ph + cap_h) if rows else ph + cap_h) + pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(titles):
        draw.text((pad, 10 + 24 * i), line, fill=(20, 20, 20), font=f_title)
    for i, line in enumerate(sub):
        draw.text((pad, 34 + 24 * (len(titles) - 1) + 17 * i), line, fill=(90, 90, 90), font=f_small)
    for i, line in enumerate(sentence):
        draw.text((pad, 54 + down + 20 * i), line, fill=(20, 20, 20), font=f_cap)
    for i, (img, _, _) in enumerate(panels):
        x, y = (pad, title_h + i * (ph + cap_h)) if rows else (pad + i * (slot + pad), title_h)
        im = Image.fromarray(to_uint8(img))  # (the key region's panel of a small photo is larger than the photo)
        im = im.resize((pw, ph), Image.Resampling.LANCZOS if im.width > pw else Image.Resampling.NEAREST)
        canvas.paste(im, (x + (slot - pw) // 2, y))
        # a thin grey frame: a photo whose transparency was composited on white had no visible edge on the white page
        draw.rectangle((x + (slot - pw) // 2 - 1, y - 1, x + (slot - pw) // 2 + pw, y + ph), outline=(200, 200, 200))
        draw.text((x, y + ph + 5), heads[i], fill=(20, 20, 20), font=f_cap)
        for j, line in enumerate(captions[i]):
            draw.text((x, y + ph + 25 + 17 * j), line, fill=(60, 60, 60), font=f_small)
    return np.asarray(canvas)


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
                    return f"{p} is a link to {os.readlink(p)}, which does not exist"
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
    return written
