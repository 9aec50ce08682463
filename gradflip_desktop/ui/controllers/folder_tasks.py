"""The work of a folder run that happens off the GUI thread (:mod:`.folders` starts it through its task slots):
listing the folder, decoding thumbnails, explaining one image, reading a stored explanation back, writing the
summary, Export All; and what each hands back to the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from gradflip_desktop.core.images import from_array, safe_formats, to_uint8
from gradflip_desktop.core.summary import count_text
from ..widgets.gallery import ERROR, FLIPPED, NOT_FLIPPED, WAITING, outcome_text
from ..widgets.tile_image import Picture, device_size, pack
from ..worker import error_message


@dataclass
class FolderListing:
    folder: str
    inputs: list  # core.dataset.Input, in input order
    skipped: int
    settled: list  # core.dataset.job.Outcome of inputs that fail before any run (two images, one result name)
    entries: list  # (key, path, name shown) per input, built here rather than on the GUI thread
    subfolders: int = 0  # subfolders left out (not recursive)
    twice: int = 0  # photos listed again (a link to one, or the same file twice): explained once
    added: list | None = None  # listed again with subfolders: the new inputs to explain (None: a new run)
    results: int = 0  # folders of an earlier run's result sets left out (the folder itself, where results went)


@dataclass
class ImageDone:
    key: str
    state: str  # FLIPPED, NOT_FLIPPED, ERROR, or WAITING when it was cancelled before it finished
    text: str
    label: str = ""
    size: float | None = None
    strip: Picture | None = None  # original | difference | key set, made and packed in the worker
    outcome: Any = None  # core.dataset.job.Outcome (for the summary: errors of this run)
    stored: str = ""  # the result set's name when the explanation can be shown again (load_result_task)


def list_folder_task(task, folder: str, recursive: bool, out: str, known: list | None = None) -> FolderListing:
    """Background thread: the images of ``folder`` by content (other files are counted as skipped), and
    the command line's plan for them (an image whose results would overwrite another's fails at once).
    ``known``: the run's inputs so far (Include subfolders ticked): they stay as they are, the others are ``added``."""
    from gradflip_desktop.core.dataset import collect_inputs
    from gradflip_desktop.core.dataset.job import JobSettings, _real, plan

    if not Path(folder).is_dir():
        raise ValueError(f"{folder} is not a folder")
    listed, skipped = collect_inputs([folder], recursive=recursive, out=out)  # a photo keeps its set's name in out
    if known is not None:  # the run's inputs keep their names (explained or still queued): a new photo whose
        from gradflip_desktop.core.dataset.inputs import distinct_names  # name one holds gets another

        was = {str(i.path) for i in known}
        named = {str(i.path): i for i in distinct_names([*known, *(i for i in listed if str(i.path) not in was)])}
        listed = [named[str(i.path)] for i in listed]
    settled, todo = plan(listed, JobSettings(out=out))
    kept = {i for i, _ in todo} | {o.input for o in settled}  # a photo listed twice (a link to it): explained once,
    inputs = [i for i in listed if i in kept]  # as the command line does (the gallery explained both)
    twice, added = len(listed) - len(inputs), None
    if known is not None:  # the finished sets in out are kept, not refused as existing results
        old, files = {str(i.path): i for i in known}, {_real(i.path) for i in known}
        inputs = [i for i in inputs if str(i.path) in old or _real(i.path) not in files]  # a run's photo under
        # another path (the file of a link the run explained, now in a subfolder): explained once, as it was
        settled = [o for o in settled if str(o.input.path) not in old and _real(o.input.path) not in files]
        failed = {o.input for o in settled}  # the new ones that fail at once
        added = [i for i in inputs if str(i.path) not in old and i not in failed]
        inputs = [old.pop(str(i.path), i) for i in inputs] + list(old.values())  # a photo gone since stays listed
    entries = [(str(i.path), str(i.path), str(Path(i.path).relative_to(folder))) for i in inputs]
    from gradflip_desktop.core.dataset.inputs import EARLIER_RESULTS

    # a folder's line each: its subfolders left out, or (the folder itself too, where results were exported into
    # it) an earlier run's results, which "1 subfolder skipped" named wrongly
    earlier = sum(1 for _, why in skipped if why.startswith(EARLIER_RESULTS))
    dirs = sum(1 for path, why in skipped if Path(path).is_dir() and not why.startswith(EARLIER_RESULTS))
    return FolderListing(folder, inputs, len(skipped) - dirs - earlier, settled, entries, dirs, twice, added, earlier)


def _qimage(pixels) -> QImage:
    """An H x W x 3 (RGB) or H x W x 4 (RGBA) uint8 array as a QImage."""
    h, w, c = pixels.shape
    fmt = QImage.Format.Format_RGBA8888 if c == 4 else QImage.Format.Format_RGB888
    return QImage(pixels.tobytes(), w, h, c * w, fmt).copy()


EIGHT_BIT_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"})


def photo_thumbnails_task(task, items: list[tuple[str, str]], ratio: float = 1.0) -> list[tuple[str, Picture]]:
    """Background thread: decode (JPEG: at a reduced size) and shrink each photo to the tile size (in device
    pixels at the screen's ``ratio``: sharp on a HiDPI screen), packed (the GUI decodes the tiles it shows)."""
    import numpy as np
    from PIL import Image, ImageOps

    out = []
    for key, path in items:
        if task.cancelled:
            break
        try:
            with Image.open(path, formats=safe_formats()) as im:  # never EPS (Ghostscript would run it)
                size = device_size(ratio)
                im.draft("RGB", (size.width(), size.height()))
                im = ImageOps.exif_transpose(im)
                if im.mode not in EIGHT_BIT_MODES:  # 16-bit or float pixels: thumbnail() refused them ("wrong mode")
                    # and convert("RGB") clipped them white; read as the run reads them
                    im = Image.fromarray(to_uint8(from_array(im, max_side=max(size.width(), size.height())).pixels))
                im.thumbnail((size.width(), size.height()), Image.Resampling.BILINEAR)
                rgb = np.asarray(im.convert("RGB"))
        except Exception:  # noqa: BLE001, S112 - an unreadable file keeps the placeholder; its run says why
            continue
        out.append((key, pack(_qimage(np.ascontiguousarray(rgb)), ratio)))
    return out


class RunModel:
    """A folder run's model: the session's when its first image is explained (read on the engine thread, so after a
    model load queued before it: `gradflip FOLDER` lists the folder before the default model is loaded), then
    kept for the rest of the run and its Continue, whatever model is chosen meanwhile."""

    def __init__(self, session) -> None:
        self._session, self._classifier = session, None
        self.identity: dict | None = None  # its records' "model" entry, once known (the gallery marks another model's)

    @property
    def classifier(self):
        if self._classifier is None:
            self._classifier = clf = self._session.classifier
            if clf is not None:  # the engine thread; the GUI reads it once an image of the run is done
                from gradflip_desktop.core.dataset.job import model_description

                self.identity = model_description(clf)
        return self._classifier


def explain_one_task(task, session, inp, out: str, options, max_side: int | None, views: str | None = None,
                     ratio: float = 1.0) -> ImageDone:
    """Engine thread: explain one input into ``out`` with the command line's job runner (and, with ``views``,
    the side file that lets a click show the explanation again); the tile's strip made at the screen's ``ratio``."""
    import numpy as np

    from gradflip_desktop.core.dataset.gallery import thumbnail_strip, write_thumbnail
    from gradflip_desktop.core.dataset.stored import save_extras
    from gradflip_desktop.core.dataset.job import ERROR as JOB_ERROR
    from gradflip_desktop.core.dataset.job import (
        JobSettings,
        explain_inputs,
        local_engine,
    )
    from gradflip_desktop.core.options import Status
    from gradflip_desktop.core.report import safe_name

    key = str(inp.path)
    if session.classifier is None:
        raise ValueError("no model is loaded")
    results: dict = {}

    def engine(classifier, jobs, opts, batch_size, on_step, should_stop):
        for job, result in local_engine(classifier, jobs, opts, 1, on_step, should_stop):
            if not isinstance(result, BaseException):
                if result.status == Status.CANCELLED:
                    return  # cancelled: nothing is written, the tile goes back to waiting
                results[job.key] = result
            yield job, result

    settings = JobSettings(out=out, force=True, summary=False, max_side=max_side)
    outcomes = explain_inputs(session.classifier, [inp], options, settings, should_stop=lambda: task.cancelled,
                              engine=engine)
    if not outcomes:
        return ImageDone(key, WAITING, "not run")
    o = outcomes[0]
    if o.status == JOB_ERROR:
        return ImageDone(key, ERROR, error_message(o.error, "could not explain"), outcome=o)
    rec = o.record or {}
    flipped = bool(rec.get("flipped"))
    text = outcome_text(rec, str(o.status))
    strip, stored = None, ""
    result = results.get(inp)
    if result is not None:
        try:
            write_thumbnail(out, safe_name(inp.name), result)  # index.html's; the tile's is made at its own size
            strip = pack(_qimage(np.ascontiguousarray(thumbnail_strip(result, device_size(ratio).height(), gap=None))),
                         ratio)  # transparent between the panels: the tile's background, light or dark
        except Exception:  # noqa: BLE001 - a missing strip only costs the tile its picture
            strip = None
        if views is not None:
            try:
                save_extras(result, Path(views) / f"{safe_name(inp.name)}.npz")
                stored = safe_name(inp.name)
            except Exception:  # noqa: BLE001, S110 - without it a click opens the photo only
                pass
    if rec.get("status") == "model_error":  # the model failed: an error, not "not flipped (model error)" in amber
        # over a strip of no real map
        message = " ".join(str(rec.get("message") or "the model failed").split())
        return ImageDone(key, ERROR, f"model error: {message}", (rec.get("original") or {}).get("label", ""), None, None,
                         o, stored)
    return ImageDone(key, FLIPPED if flipped else NOT_FLIPPED, text, (rec.get("original") or {}).get("label", ""),
                     rec.get("rms_saved", rec.get("l2_saved")), strip, o, stored)


def load_result_task(task, path: str, out: str, name: str, views: str, max_side: int | None):
    """Background thread: the photo (as the run loaded it), its explanation read back from the result set and its
    classes (:func:`classes_of`)."""
    from gradflip_desktop.core.dataset.stored import load_result

    from .images import load_image_task
    from .runs import RunOutcome

    loaded = load_image_task(task, path, "", None, max_side)  # a tile is not a recent file
    result = load_result(out, name, loaded.image.pixels, Path(views) / f"{name}.npz")
    return loaded, RunOutcome.of(result), classes_of(result)


def classes_of(result):
    """The photo's top-5 (a :class:`.models.Classification`) from the result's own probabilities (the same model, the
    same pixels), or None: the classification queued behind the run's current image left "classifying …" beside the
    shown explanation for a whole image's time (seconds at 1,024 px)."""
    import numpy as np

    from gradflip_desktop.core.models.classifier import Prediction  # torch is loaded: a result exists

    from .model_session import Classification

    probs = np.asarray(result.original_probabilities, dtype=np.float32)
    labels = list(result.labels)
    if probs.shape != (len(labels),) or not np.all(np.isfinite(probs)):
        return None
    order = np.argsort(-probs, kind="stable")[:5]
    return Classification([Prediction(int(i), labels[i], float(probs[i])) for i in order], probs)


def summary_task(task, out: str, inputs: list, outcomes: dict) -> Path:
    """Background thread: ``summary.csv`` and ``index.html`` of the session folder, from the records."""
    from gradflip_desktop.core.dataset.job import write_run_summary
    write_run_summary(Path(out), inputs, outcomes)
    return Path(out)


def export_task(task, source: str, dest: str, overwrite: bool) -> list[Path]:
    """Background thread: Export All (:func:`~gradflip_desktop.core.dataset.copy.copy_run_folder`)."""
    from gradflip_desktop.core.dataset.copy import copy_run_folder

    return copy_run_folder(source, dest, overwrite)


def summary_text(counts: dict, total: int) -> str:
    """The run's count line: "3/5 done: 2 flipped, 1 error"; the counts that are 0 left out ("3/22 done: 3 flipped,
    0 not flipped, 0 err…" was cut there in a window 1,022 px wide, the time left and "cancelled" unseen)."""
    parts = [text for n, text in ((counts[FLIPPED], f"{counts[FLIPPED]} flipped"),
                                  (counts[NOT_FLIPPED], f"{counts[NOT_FLIPPED]} not flipped"),
                                  (counts[ERROR], f"{counts[ERROR]} error{'s' if counts[ERROR] != 1 else ''}")) if n]
    return f"{sum(counts.values())}/{total} done" + (f": {', '.join(parts)}" if parts else "")


def listing_note(listing: FolderListing, recursive: bool) -> str:
    """What a folder's listing left out, as its title line says it: "; 1 other file skipped; 2 subfolders not included"."""
    note = f"; {count_text(listing.skipped, 'other file')} skipped" if listing.skipped else ""
    if listing.twice:
        note += f"; {listing.twice} listed twice (a link), explained once"
    if listing.subfolders:
        note += f"; {count_text(listing.subfolders, 'subfolder')} {'skipped' if recursive else 'not included'}"
    if listing.results:
        note += "; an earlier run's results skipped" + (f" ({listing.results} folders)" if listing.results > 1 else "")
    return note


def aim_text(options) -> str:
    """A Target other than the top class (a link's "any cat" stays chosen), said in the panel's title."""
    from gradflip_desktop.core.summary import any_of  # noqa: PLC0415

    aim = any_of(options.group) if getattr(options, "group", None) else getattr(options, "target", None)
    return f" · explaining “{aim}” (Target)" if aim else ""


def remove_folders(*folders: str | None) -> None:
    """The session's folders (results, the views' side files), gone with what is in them."""
    import shutil  # noqa: PLC0415

    for folder in folders:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def settle(panel, outcomes: dict, counts: dict, settled: list) -> None:
    """Inputs that fail before any run (two images, one result name): error tiles, and rows of the summary."""
    for o in settled:
        outcomes[o.input] = o
        counts[ERROR] += 1
        panel.set_state(str(o.input.path), ERROR, error_message(o.error, "could not explain"))
