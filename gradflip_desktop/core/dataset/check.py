"""``gradflip check``: how faithful the maps of stored result sets are, next to Grad-CAM and gradient saliency (and RISE).

For each result set (``NAME.gradflip.json`` with its ``NAME.importance.npy``) the photo is loaded again as the
run loaded it (same file, by its SHA-256; same working size), Grad-CAM and gradient saliency of the explained
class (a group run: of the group, as its map) are computed with the same model, and the three maps' deletion and insertion curves are measured
(:mod:`gradflip_desktop.core.faithfulness`). Each set gets ``NAME.faithfulness.json`` (written whole or not at
all); the folder gets ``faithfulness.csv`` (one row per set and map) and the medians over the sets. With
``reuse=True`` a set's JSON is kept when it was measured from the same record, map, photo, model and options
(:mod:`.check_stamp`): its checks are read back, nothing is measured.

    checks = [check_set(classifier, record) for record in stored_records(["results/"])]
    print(format_table(checks))
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..errors import json_loads
from ..faithfulness import same_area
from .check_files import CHECK_SUFFIX, CSV_NAME
from .check_stamp import FORMAT, file_sha256, kept_checks, make_stamp, resume_entry

RECORD_SUFFIX = ".gradflip.json"
HINT_DEPTH = 2  # "no result sets in this folder" counts those this many folders down (a home folder is not walked)
MAPS = ("GradFlip", "RISE", "Grad-CAM", "Gradient saliency")  # RISE only when asked for (``rise=N`` masks)


@dataclass
class SetCheck:
    """One result set's check: ``check`` (a :class:`~gradflip_desktop.core.faithfulness.FaithfulnessCheck`),
    or ``skipped``: why it has none."""

    name: str
    record: Path
    check: object | None = None  # the first fill-in's check
    skipped: str | None = None  # None: checked (a script tests `is None`, as the JSON's null)
    notes: tuple[str, ...] = ()
    checks: tuple = ()  # one check per fill-in asked for (the maps are made once), ``check`` first
    rise_masks: int = 0  # RISE's masks when its map was measured (0: not asked for)
    kept: bool = False  # read back from its NAME.faithfulness.json (``reuse``), not measured again
    style: str = ""  # the record's options.style: whose map "GradFlip" is (format_table says when sets mix them)
    unwritten: str = ""  # why its NAME.faithfulness.json could not be written ("No space left on device"): not kept
    nothing: bool = False  # skipped with nothing to check (no flip, no finished map, a targeted run): not a problem


def stored_records(paths: Iterable[str | os.PathLike], recursive: bool = False) -> tuple[list[Path], list[str]]:
    """The records named by ``paths`` (record files, or folders holding them; their subfolders too with
    ``recursive``), sorted by folder and name; and one line per path that names none (a folder whose subfolders
    hold records says so: ``--recursive`` checks them)."""
    found: list[Path] = []
    problems: list[str] = []
    for p in map(Path, paths):
        try:  # a name too long (ENAMETOOLONG), a folder that may not be listed (EACCES): that path's line
            if p.is_dir():
                here = _records_in(p, recursive)
                if not here:
                    below = [] if recursive else _records_in(p, True, depth=HINT_DEPTH)
                    where = len({q.parent for q in below})
                    problems.append(f"{p}: no result sets ({RECORD_SUFFIX} files) in this folder" + (
                        f"; {len(below):,} in {where:,} of its subfolders: --recursive (-r) checks them" if below else
                        (" or its subfolders" if recursive else "")))
                found += here
            elif p.is_file() and p.name.endswith(RECORD_SUFFIX):
                found.append(p)
            elif p.exists():
                problems.append(f"{p}: not a result set record ({RECORD_SUFFIX}) or a folder of them")
            else:
                problems.append(f"{p}: does not exist")
        except OSError as exc:
            problems.append(f"{p}: cannot be read ({exc.strerror or exc})")
    unique = list(dict.fromkeys(q.resolve() for q in found))
    return unique, problems


def _records_in(folder: Path, recursive: bool, depth: int | None = None) -> list[Path]:
    """The records in ``folder`` (OSError when it cannot be listed), with ``recursive`` its subfolders' too, ``depth``
    levels down at most, by folder (no links followed: none loops; hidden ones skipped; unreadable ones passed over)."""
    def listed(paths) -> list[Path]:
        return sorted(q for q in paths if q.name.endswith(RECORD_SUFFIX) and q.is_file())

    def unreadable(exc: OSError) -> None:
        if Path(exc.filename) == folder:
            raise exc
    if not recursive:
        return listed(folder.iterdir())
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=unreadable):
        below = len(Path(root).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth is None or below < depth else []
        found += listed(Path(root) / f for f in files)
    return found


def _model_differs(rec: dict, classifier) -> str:
    from .inputs import same_weights
    from .job import model_description

    stored = rec.get("model") or {}
    now = json.loads(json.dumps(model_description(classifier) or {}))  # as the record stores it (tuples -> lists)
    if not isinstance(stored, dict):
        return ""
    then = stored.get("weights_sha256")  # a network given in memory (classifier_from_module): no file names it
    if then and then != now.get("weights_sha256"):
        if now.get("weights_sha256"):
            return f"made with other weights of the network in memory (weights sha256 {then}, not {now['weights_sha256']})"
        return (f"made with a network given in memory ({stored.get('name') or 'classifier_from_module'}), which no --model "
                "loads: check it from Python with that network, gradflip_desktop.core.dataset.check.check_set(model, record)")
    same = same_weights(stored, now)  # the same weights copied to another file name: the same model
    for key, what in (("name", "model"), ("labels_sha256", "labels"), ("classes", "number of classes")):
        if stored.get(key) and now.get(key) and stored[key] != now[key] and key not in same:
            if key == "labels_sha256":  # the model is the run's (its name matched): its labels are not
                return (f"made with labels {stored[key]}, not {now[key]} (the model is the run's; pass the labels the "
                        "run used: --labels FILE, or the sidecar it read)")
            return f"made with {what} {stored[key]}, not {now[key]} ({_run_model_hint(stored)})"
    # the same model file read otherwise (--mean, --std, --input-size, --channels, --resize) is another model
    for key, v in now.items():
        if key not in ("name", "labels_sha256", "classes", *same) and v and stored.get(key) and stored[key] != v:
            return (f"made with model {key.replace('_', ' ')} {stored[key]}, not {v} "
                    "(pass the run's --model and its options)")
    return ""


def _run_model_hint(stored: dict) -> str:
    """What to pass for the run's model, from its record: "pass the run's model, the file rn18.pth by its path: --model
    …/rn18.pth --arch resnet18, with its options" (it said "pass the run's --model" while the record names the file and its architecture)."""
    from ..models.registry import DEFAULT_MODEL_NAME  # noqa: PLC0415

    file, arch = stored.get("file"), stored.get("arch")
    if stored.get("name") == DEFAULT_MODEL_NAME and not arch and not stored.get("weights_sha256"):
        return "the built-in model made it: leave out --model and the model options"
    if not isinstance(file, str) or not file:
        return "pass the run's --model and its options"
    # the record keeps the file's name, not where it lay: "--model ts.pt" as said failed from another folder
    shown = f"…/{shlex.quote(file)}"
    flags = f"--model {shown}" + (f" --arch {shlex.quote(arch)}" if isinstance(arch, str) and arch
                                  and arch not in ("torchscript", "onnx", "huggingface") else "")
    return f"pass the run's model, the file {file} by its path: {flags}, with its options"


def _as_stored(name: str) -> str:
    """A file name as a record stores it: one that is not UTF-8 (b"caf\\xe9.png", lone surrogates here) with U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in name)


def _photo(source: str, photos: str | os.PathLike | None, digest: str | None = None) -> Path:
    """The photo a record names: its stored path (relative ones to the current folder, as the run read them),
    else, when ``photos`` is given, the file in ``photos`` at the end of that path (``photos/b/x.png``, then
    ``photos/x.png`` for ``tree/b/x.png``: a ``--recursive`` run's photos keep their subfolders). A name that
    was not UTF-8 was stored with U+FFFD: the file of its folder whose name reads so. Of several, the one
    whose SHA-256 is ``digest``; a stored path that holds another photo gives way to one in ``photos`` that is the run's."""
    src = Path(source)
    if src.exists() and (photos is None or not digest or _same_file(src, digest)):
        return src
    candidates = []
    if photos is not None:
        parts = src.parts[1:] if src.is_absolute() else src.parts
        candidates += [Path(photos).joinpath(*parts[i:]) for i in range(len(parts))]
    if "\ufffd" in src.name:
        for c in [src, *candidates]:
            try:
                candidates += sorted(q for q in c.parent.iterdir() if q.name != src.name and _as_stored(q.name) == src.name)
            except OSError:
                continue
    found = list(dict.fromkeys(q for q in candidates if q.is_file()))
    if digest:
        for q in found:
            try:
                if file_sha256(q) == digest:
                    return q
            except OSError:
                continue
    if src.exists():
        return src
    if found:
        return found[0]
    return src if photos is None else Path(photos) / src.name


def _same_file(path: Path, digest: str) -> bool:
    try:
        return file_sha256(path) == digest
    except OSError:
        return False


def _stored_map(path: Path) -> np.ndarray:
    """A set's importance map, mapped rather than read: a damaged or edited header (a 200000×200000 shape in a
    100-byte file) was allocated first, a MemoryError that ended the whole check as an internal error."""
    try:
        with open(path, "rb") as fh:
            if fh.read(6) != b"\x93NUMPY":  # numpy would read it as a pickle and advise loading it unsafely
                raise ValueError("not a NumPy .npy file")
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError) as exc:  # EOFError: an empty or cut-short file ("No data left in file")
        objects = "pickle" in str(exc) or "Python objects" in str(exc)
        why = "it holds Python objects, not numbers (never unpickled)" if objects else exc
        raise ValueError(f"its map ({path.name}) is damaged: {why}") from None


def check_set(classifier, record: str | os.PathLike, fill: str | Iterable[str] = "blur", points: int | None = None,
              write: bool = True, stop: Callable[[], bool] | None = None,
              photos: str | os.PathLike | None = None, rise: int = 0,
              progress: Callable[[str], None] | None = None, max_pixels: int | None = None,
              reuse: bool = False) -> SetCheck:
    """Check one result set (see the module doc); never raises for a set that cannot be checked: says why in
    ``skipped``. ``write``: write ``NAME.faithfulness.json`` next to the record (atomically, replacing an
    older one). ``stop()``: polled between model calls (``skipped`` = "stopped"). ``photos``: a folder to
    look in for the photo when the path the record names does not exist (moved, or relative to another
    folder); the file must still be the one the run read (its SHA-256). ``fill``: one fill-in or several (each
    measured with the same maps, made once: ``checks``). ``rise``: also RISE's map of the
    explained classes with this many masks (0: none; :func:`~gradflip_desktop.core.attributions.rise_map`:
    ``rise`` forward passes). ``progress(text)``: told what the slow part is doing ("RISE 200/1000 masks").
    ``max_pixels``: the photo's pixel limit (None: the loader's default), as the explain run's ``--max-pixels``.
    ``reuse``: keep the set's ``NAME.faithfulness.json`` when a check now would measure what it holds (same record,
    map, photo, model, options and check protocol: :mod:`.check_stamp`; ``kept``); the set is still read and
    verified first, so a set a new check would skip is skipped."""
    from ..attributions import gradcam_map, no_evidence, rise_map, saliency_map
    from ..errors import GradFlipError
    from ..faithfulness import FILLS, MAX_POINTS, POINTS, check_maps
    from ..images import atomic_write_bytes, load_image
    from ..images.loading import read_regular
    from ..summary import any_of

    # a caller's arguments, checked as the command line checks them (points=2.5 scored 2 points, 0 gave 21; fill=[])
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, np.integer)) or not 2 <= points <= MAX_POINTS):
        raise ValueError(f"points must be a whole number from 2 to {MAX_POINTS:,}, not {points!r}")
    kinds = [fill] if isinstance(fill, str) else list(dict.fromkeys(fill)) if isinstance(fill, Iterable) else []
    if not kinds or any(k not in FILLS for k in kinds):
        raise ValueError(f"fill must be one of {', '.join(FILLS)}, or a list of them, not {fill!r}")
    path = Path(record)
    name = path.name[: -len(RECORD_SUFFIX)]
    out = SetCheck(name, path)
    try:
        raw = read_regular(path)  # the bytes read are the bytes the stamp names; a pipe: OSError, not a wait
        rec, record_sha256 = json_loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()
    except (OSError, ValueError) as exc:
        out.skipped = f"its record cannot be read ({exc.strerror or exc})" if isinstance(exc, OSError) else \
            f"its record cannot be read: not valid JSON ({exc})"
        return out
    if not isinstance(rec, dict) or "explained" not in rec:
        out.skipped = "not a GradFlip record"
        return out
    if not rec.get("flipped") and rec.get("status") == "cancelled" and rec.get("flip_step") is not None:
        out.skipped = "the run was stopped after its flip, before its map was finished: no map to check"
        out.nothing = True
        return out
    if not rec.get("flipped"):
        out.skipped = f"the run did not flip ({str(rec.get('status')).replace('_', ' ')}): no map to check"
        out.nothing = True
        return out
    if rec.get("target"):
        out.skipped = "a targeted run: its map ranks what brings the target on top, not the explained class's evidence"
        out.nothing = True
        return out
    options = rec.get("options")
    out.style = str(options.get("style") or "") if isinstance(options, dict) else ""
    why = _model_differs(rec, classifier)
    if why:
        out.skipped = why
        return out
    try:  # a hand-edited or foreign record: skipped with a reason, the other sets are still checked
        image = rec.get("image") or {}
        source, work = image.get("source"), image.get("working_size")
        if source and work:
            work = [int(v) for v in work]
            if len(work) != 2:
                raise ValueError(f"working size {work}")
        explained = rec["explained"]
        classes = [int(i) for i in explained.get("indices") or [rec["original"]["index"]]]
        top = int(rec["original"]["index"])
        file = image.get("file") or {}
        digest = file.get("sha256")
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:  # Overflow: an Infinity, as json.dumps writes
        out.skipped = f"not a GradFlip record ({exc.__class__.__name__}: {exc})"
        return out
    n = getattr(classifier, "num_classes", None)
    if n is not None and not all(0 <= i < n for i in [*classes, top]):
        out.skipped = f"its classes {sorted({*classes, top})} are not all among the model's {n} classes"
        return out
    if not source or not work:
        out.skipped = "the record does not name the photo it was made from"
        return out
    try:
        src = _photo(str(source), photos, digest)
    except OSError as exc:  # a path no file system takes (5,000 characters): said without it
        out.skipped = f"the photo's path in its record cannot be used ({exc.strerror or exc.__class__.__name__})"
        return out
    try:
        if digest and file_sha256(src) != digest:
            relative = "" if src.is_absolute() or photos is not None else (
                " (the record names it relative to the folder the run started in: is this that folder? or give --photos DIR)")
            out.skipped = (f"the photo {src} changed since the run{relative}" if src == Path(str(source)) else
                           f"{src} is not the photo the run read ({source}: another content)")
            return out
        photo_sha256 = digest or file_sha256(src)  # each file's digest before it is read: a later edit is never stamped as read
        data = load_image(src, max_side=max(int(v) for v in work), **({"max_pixels": int(max_pixels)} if max_pixels else {}))
        pixels = data.pixels
        map_sha256 = file_sha256(path.with_name(name + ".importance.npy"))
        importance = _stored_map(path.with_name(name + ".importance.npy"))
    except FileNotFoundError as exc:
        missing = Path(exc.filename or src)
        hint = "" if missing != src or src.is_absolute() or photos is not None else \
            " (the record names it relative to the folder the run started in: run check there, or give --photos DIR)"
        out.skipped = f"{missing} is missing{hint}"
        return out
    except (OSError, ValueError, GradFlipError) as exc:  # the OS's words, not "[Errno 22] …"
        why = getattr(exc, "strerror", None) or exc
        out.skipped = f"cannot read {exc.filename}: {why}" if getattr(exc, "filename", None) else f"cannot read it: {why}"
        return out
    if pixels.shape[:2] != (int(work[1]), int(work[0])) or importance.shape != pixels.shape[:2]:
        size = f"{importance.shape[1]}×{importance.shape[0]} px" if importance.ndim == 2 else f"of shape {importance.shape}"
        out.skipped = f"the photo loads at {pixels.shape[1]}×{pixels.shape[0]} px, the run's map is {size}"
        return out
    if importance.dtype.kind not in "biuf" or not np.all(np.isfinite(importance)):  # scored as a map, silently
        out.skipped = (f"its map ({name}.importance.npy) holds {importance.dtype} values that are not all finite real "
                       "numbers: damaged or edited, not a map GradFlip wrote")
        return out
    stamp = make_stamp(classifier, record_sha256, map_sha256, photo_sha256, kinds, points or POINTS, int(rise or 0),
                       group=len(classes) > 1)
    if reuse and (found := kept_checks(path.with_name(name + CHECK_SUFFIX), path.name, stamp)) is not None:
        out.checks, out.notes = found
        out.check, out.rise_masks, out.kept = out.checks[0], stamp["rise"], True
        return out
    maps = {"GradFlip": importance.astype(np.float32)}
    notes = []
    for title, fn in (("Grad-CAM", gradcam_map), ("Gradient saliency", saliency_map)):
        try:
            found = fn(classifier, pixels, classes)  # the explained class, or a group run's group
        except Exception as exc:  # noqa: BLE001 - a model Grad-CAM cannot hook (TorchScript), a map of NaN: without it
            notes.append(f"no {title} map ({exc})")
            continue
        if no_evidence(found):
            notes.append(f"no {title} map (zero everywhere: no positive evidence at its layer), so it is not measured")
            continue
        maps[title] = found
    group = len(classes) > 1
    if rise:
        tell = None if progress is None else (lambda done, total: progress(f"RISE {done}/{total} masks"))
        try:
            cam = rise_map(classifier, pixels, classes, masks=int(rise), stop=stop, progress=tell)
        except (GradFlipError, RuntimeError, ValueError) as exc:
            out.skipped = f"its RISE map could not be made ({exc})"
            return out
        if cam is None:
            out.skipped = "stopped"
            return out
        maps = {"GradFlip": maps["GradFlip"], "RISE": cam, **{k: v for k, v in maps.items() if k != "GradFlip"}}
        out.rise_masks = int(rise)
    done = []
    for j, kind in enumerate(kinds, 1):
        which = f" ({kind}, {j}/{len(kinds)})" if len(kinds) > 1 else ""
        tell = None if progress is None else (lambda k, n, which=which: progress(f"curves{which} {k}/{n} images"))
        try:  # non-finite outputs (ModelError), a torch error on this photo: this set is skipped, not the command
            check = check_maps(classifier, pixels, maps, classes, fill=kind, points=points or POINTS, stop=stop,
                               progress=tell,
                               explained_name=any_of(str(explained.get("name"))) if group else str(explained.get("name")))
        except (GradFlipError, RuntimeError, ValueError) as exc:
            out.skipped = f"its maps could not be measured ({exc})"
            return out
        if check is None:
            out.skipped = "stopped"
            return out
        done.append(check)
    out.check, out.checks, out.notes = done[0], tuple(done), tuple(notes)
    if write:  # the first fill-in's check at the top (as with one), every fill-in's under "checks"
        doc = {"format": FORMAT, "record": path.name, **done[0].to_dict(), "notes": notes,
               **({"rise_masks": out.rise_masks} if out.rise_masks else {}),
               **({"checks": [c.to_dict() for c in done]} if len(done) > 1 else {}),
               "resume": resume_entry(stamp, done)}  # what it was measured from, and its curves unrounded
        try:
            atomic_write_bytes(path.with_name(name + CHECK_SUFFIX),
                               json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"), overwrite=True)
        except OSError as exc:  # a read-only result folder: the numbers are still measured and printed
            out.unwritten = str(exc.strerror or exc)
            out.notes += (f"{name + CHECK_SUFFIX} not written ({out.unwritten})",)
    return out


def _of(c: SetCheck, fill: str | None):
    """The set's check with fill-in ``fill`` (None: its first), or None."""
    if c.check is None:
        return None
    return c.check if fill is None else next((k for k in (c.checks or (c.check,)) if k.fill == fill), None)


def medians(checks: list[SetCheck], fill: str | None = None) -> dict[str, tuple[float, float, int]]:
    """Per map: (median deletion area, median insertion area, number of sets) over the checked sets, with fill-in
    ``fill`` (None: each set's first)."""
    out = {}
    for title in MAPS:
        found = [_of(c, fill) for c in checks]
        curves = [k.curve(title) for k in found if k is not None and k.curve(title) is not None]
        if curves:
            out[title] = (float(np.median([c.deletion_auc for c in curves])),
                          float(np.median([c.insertion_auc for c in curves])), len(curves))
    return out


def gradflip_better(checks: list[SetCheck], peer: str, fill: str | None = None) -> tuple[int, int, int]:
    """(sets where GradFlip's deletion area is lower than ``peer``'s, where its insertion area is higher, sets
    with both maps), with fill-in ``fill`` (None: each set's first). Areas that print alike are a tie, as in
    each set's own verdict (the table counted "better on 1 of 1" under a line saying the maps tie)."""
    d = i = n = 0
    for c in checks:
        k = _of(c, fill)
        ours, theirs = (k.curve("GradFlip"), k.curve(peer)) if k is not None else (None, None)
        if ours is None or theirs is None:
            continue
        n += 1
        if k.flat():  # the set's verdict: "the curves cannot tell the maps apart", so not a win either
            continue
        d += ours.deletion_auc < theirs.deletion_auc and not same_area(ours.deletion_auc, theirs.deletion_auc)
        i += ours.insertion_auc > theirs.insertion_auc and not same_area(ours.insertion_auc, theirs.insertion_auc)
    return d, i, n


def format_table(checks: list[SetCheck]) -> str:
    """The medians over the checked sets and, per peer, on how many sets GradFlip's map is better; one block per
    fill-in."""
    done = [c for c in checks if c.check is not None]
    if not done:
        return "no result set could be checked"
    from ..faithfulness import FILL_NAMES

    fills = list(dict.fromkeys(k.fill for c in done for k in (c.checks or (c.check,))))
    blocks = []
    for fill in fills:
        first = next(k for c in done if (k := _of(c, fill)) is not None)
        n = sum(_of(c, fill) is not None for c in done)
        rows = [f"faithfulness of {n} result set{'s' if n != 1 else ''} "
                f"({len(first.curves[0].fractions)} points, {FILL_NAMES.get(fill, fill)} as fill-in; medians)",
                f"{'map':<18} {'deletion ↓':>10} {'insertion ↑':>11}   GradFlip better (deletion, insertion)"]
        for title, (d, i, _) in medians(done, fill).items():
            if title == "GradFlip":
                better = "—"
            else:
                bd, bi, bn = gradflip_better(done, title, fill)
                better = f"on {bd} and {bi} of {bn}"
            if title == "RISE":  # its mask count: 50 masks are not the published 1,000
                counts = sorted({c.rise_masks for c in done if c.rise_masks})
                title = f"RISE ({'/'.join(f'{m:,}' for m in counts)} masks)" if counts else title
            rows.append(f"{title:<18} {d:>10.3f} {i:>11.3f}   {better}")
        blocks.append("\n".join(rows))
    styles = Counter(c.style for c in done if c.style)
    if len(styles) > 1:  # `gradflip check region_out free_out`: one "GradFlip" row of two styles' maps, said nowhere
        from ..options import STYLE_NAMES

        made = ", ".join(f"{STYLE_NAMES.get(k, k)} on {n}" for k, n in styles.most_common())
        blocks.append(f"GradFlip's maps here come from {len(styles)} styles ({made}): its medians mix them; "
                      "check each style's sets alone to compare them")
    return "\n\n".join(blocks)


def write_csv(folder: str | os.PathLike, checks: list[SetCheck]) -> Path | None:
    """``faithfulness.csv`` in ``folder``: one row per checked set and map (written whole or not at all);
    None when no set was checked. The rows of the folder's other sets (checked by an earlier run: ``gradflip
    check FOLDER`` then ``gradflip check FOLDER/one.gradflip.json``) are kept while their records exist."""
    from ..images import atomic_write_bytes
    from ..images.loading import read_regular
    from ..images.writing import sweep_stale

    sweep_stale(folder)  # a killed check's staged files (only explain swept them: they stayed for good)
    done = [c for c in checks if c.check is not None]
    if not done:
        return None
    path = Path(folder) / CSV_NAME
    header = ["name", "map", "fill", "points", "deletion_auc", "insertion_auc", "explained", "masks"]
    rows = [[c.name, curve.name, k.fill, len(curve.fractions), f"{curve.deletion_auc:.6f}",
             f"{curve.insertion_auc:.6f}", k.explained, c.rise_masks if curve.name == "RISE" else ""]
            for c in done for k in (c.checks or (c.check,)) for curve in k.curves]
    now = {c.name for c in checks}
    try:
        old = list(csv.reader(io.StringIO(read_regular(path).decode("utf-8"), newline="")))  # a pipe: never waited on
        if old and old[0] in (header, header[:-1]):  # a CSV written before "masks" gets an empty one
            rows += [r + [""] * (len(header) - len(r)) for r in old[1:] if len(r) == len(old[0]) and r[0] not in now
                     and (Path(folder) / (r[0] + RECORD_SUFFIX)).is_file()]
    except (OSError, ValueError, csv.Error):  # none yet, or unreadable: this run's rows only
        pass
    rows.sort(key=lambda r: r[0])  # stable: each set's maps stay in their order
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return atomic_write_bytes(path, buf.getvalue().encode("utf-8"), overwrite=True)


__all__ = ["CHECK_SUFFIX", "CSV_NAME", "SetCheck", "check_set", "format_table", "gradflip_better", "medians",
           "stored_records", "write_csv"]
