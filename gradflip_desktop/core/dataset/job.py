"""One run over many inputs: resume, the (batched) engine, atomic result sets, summary and gallery.

    outcomes = explain_inputs(classifier, inputs, ExplainOptions(), JobSettings(out="results", resume=True))

Every input gets one :class:`Outcome`: ``flipped`` or another run status, ``done`` (``--resume`` found its
complete set), or ``error`` with the exception (unreadable image, existing results, a bad target ...).
Result sets are written by one background writer thread (:class:`SetWriter`), in the order the results
come, so the figure and PNG encoding overlap the next explanations; each file atomically and the record
last. An interrupt (Ctrl+C) stops the run: the results already computed are still written (complete sets),
and an interrupt inside a set's writing removes that set's new files, so no half-written set is left. A
process killed mid-set leaves files without a record: not a complete set, recomputed by ``resume``.
``summary.csv`` and ``index.html`` are rebuilt from the records on disk at the end, also after an interrupt.
After each image the C heap's free pages go back to the OS (:mod:`..memory`), so RSS stays flat. An output
folder that cannot be created or written is refused (``ExportError``) before any image is explained.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import DiskFullError, ExportError, ResultExistsError, files_exist
from ..images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, load_image
from ..memory import release_free_memory
from ..options import ExplainOptions, Status
from ..report import make_folder, result_paths, safe_name, write_failure, write_result_set
from .inputs import Input, file_fingerprint, kept_batch_note
from .interrupts import interrupts_held
from .record_match import changed_file, made_otherwise, other_image
from .summary import NOT_RUN, complete_record, stored_record, summary_row, write_summary

DONE = "done"  # resumed: the complete result set was already on disk
ERROR = "error"  # the input could not be read or explained


@dataclass
class JobSettings:
    out: str | Path = "gradflip-results"
    force: bool = False  # overwrite existing result sets
    resume: bool = False  # keep complete sets, recompute missing or partial ones
    batch_size: int = 1
    max_side: int | None = DEFAULT_MAX_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS
    summary: bool = True  # write summary.csv, index.html and the thumbnails


@dataclass
class Outcome:
    input: Input
    status: str  # a run status ("flipped", "budget_exhausted", ...), DONE or ERROR
    message: str = ""
    record: dict | None = None
    error: BaseException | None = None
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # loading notes of the image (scaled, ICC, ...)

    @property
    def flipped(self) -> bool:
        return bool(self.record and self.record.get("flipped"))


# an engine: (classifier, jobs, options, batch_size, on_step, should_stop) -> (job, result | exception)
Engine = Callable[..., Iterator[tuple[Any, Any]]]


def local_engine(classifier, jobs, options, batch_size, on_step=None, should_stop=None):
    from ..explain.batch import explain_batched  # noqa: PLC0415 - imports torch

    return explain_batched(classifier, jobs, options, batch_size=batch_size, on_step=on_step, should_stop=should_stop)


# statuses of complete sets that --resume explains again instead of keeping: what ended them may not happen
# again (a model error such as running out of GPU memory; a run cancelled by the user). A run that ran to
# its end without a flip (budget, stalled, nothing to flip) would end the same way: those sets are kept.
RETRIED = frozenset({Status.MODEL_ERROR.value, Status.CANCELLED.value})
AGAIN = {Status.CANCELLED.value: "its set was cancelled", Status.MODEL_ERROR.value: "its set ended with a model error"}


def plan(inputs: Iterable[Input], settings: JobSettings, options: ExplainOptions | None = None,
         model: dict | str | None = None, again: dict | None = None) -> tuple[list[Outcome], list[tuple[Input, bool]]]:
    """Sort the inputs into those settled before any run (resumed, duplicate, existing results) and
    those to explain, with whether their files may be overwritten. With ``options`` (and ``model``: its
    name, or :func:`model_description`) a complete set is kept by ``resume`` only when it was made with them
    (else it is refused, named), and only when its photo is still the file it was made from (else it is
    explained again). A file listed twice (also through a link or under another name) is explained once.
    ``again``: filled with why ``resume`` explains a complete set again (input -> a note: the photo changed, or
    what ended the set may not happen again); it did so without a word."""
    settled: list[Outcome] = []
    todo: list[tuple[Input, bool]] = []
    claimed: dict[str, Input] = {}
    files: set[Path] = set()
    out = Path(settings.out)
    inputs = list(inputs)
    given = {_real(i.path) for i in inputs}  # a result file never replaces a photo of this run (--force or not)
    for inp in inputs:
        real = _real(inp.path)
        if real in files:
            continue  # the same file listed twice (or through a link): explained once
        files.add(real)
        key = safe_name(inp.name).casefold()
        first = claimed.get(key)
        if first is not None:
            if Path(first.path).resolve() == Path(inp.path).resolve():
                continue  # the same file listed twice: explained once
            settled.append(Outcome(inp, ERROR, error=ValueError(
                f"{inp.path}: its results would be named {safe_name(inp.name)!r} like those of {first.path} in this run; "
                "rename one or explain them into different output folders")))
            continue
        claimed[key] = inp
        try:
            existing = [p for p in result_paths(out, inp.name).values() if p.exists()]
        except OSError as exc:  # e.g. a name too long for the file system
            settled.append(Outcome(inp, ERROR, error=OSError(f"cannot write the results to {out}: {exc.strerror or exc}")))
            continue
        photo = next((p for p in existing if _real(p) in given), None)
        if photo is not None:  # holiday.png's figure is holiday.figure.png, a photo given too: never overwritten
            settled.append(Outcome(inp, ERROR, error=ValueError(
                f"{inp.path}: its result file {photo.name} would replace {photo}, an image of this run; "
                "rename one or explain them into another output folder")))
            continue
        if existing and settings.resume:
            rec, unreadable = stored_record(out, inp.name)
            if rec is not None:
                try:  # a hand-edited record (an Infinity, as json.dumps writes it): explained again, said
                    source = other_image(rec, inp)
                    other = made_otherwise(rec, options, model, settings.max_side)
                    if source:
                        settled.append(Outcome(inp, ERROR, error=ResultExistsError(
                            f"the result set {safe_name(inp.name)!r} in {out} is of another image ({source}), not of "
                            f"{inp.path}; explain them into different output folders", [])))
                    elif other:
                        settled.append(Outcome(inp, ERROR, error=ResultExistsError(
                            f"the result set for {inp.name!r} in {out} was made with other settings ({other}); "
                            "--resume keeps only sets made with the same ones", [])))
                    elif rec.get("status") in RETRIED or changed_file(rec, inp):  # a failure of the moment (the model
                        todo.append((inp, True))  # raised: out of memory; a cancelled run) or a photo edited since: again
                        if again is not None:
                            why = AGAIN.get(rec.get("status"), "the photo changed since its set was made")
                            again[inp] = f"{why}: explained again"
                    else:  # kept (one made with another --batch-size: noted)
                        settled.append(Outcome(inp, DONE, rec.get("message", ""), rec,
                                               notes=kept_batch_note(rec, settings.batch_size)))
                except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
                    todo.append((inp, True))
                    if again is not None:
                        again[inp] = f"its record is damaged ({exc.__class__.__name__}: {exc}): explained again"
                continue
            todo.append((inp, True))  # a partial set: recompute, replacing its files
            if again is not None and unreadable:  # not an interrupted one: said
                again[inp] = f"{unreadable}: explained again"
        elif existing and not settings.force:
            settled.append(Outcome(inp, ERROR, error=ResultExistsError(
                f"{files_exist(len(existing), f' for {inp.name!r}')} in {out}", existing)))
        else:
            todo.append((inp, settings.force))
    return settled, todo


def _real(path) -> Path:
    """The file ``path`` names, links resolved (the path itself when it cannot be resolved: a link loop)."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path)


def model_description(classifier) -> dict | None:
    """The record's ``model`` entry for ``classifier``: its name and :meth:`Classifier.settings` (None: unknown)."""
    if classifier is None or not getattr(classifier, "name", None):
        return None
    settings = classifier.settings() if hasattr(classifier, "settings") else {}
    return {"name": classifier.name, **settings}


def explain_inputs(
    classifier,
    inputs: list[Input],
    options: ExplainOptions,
    settings: JobSettings,
    on_outcome: Callable[[Outcome, int, int], None] | None = None,
    on_step: Callable[[Any, Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    engine: Engine | None = None,
) -> list[Outcome]:
    """Explain ``inputs`` into ``settings.out``; ``on_outcome(outcome, done, total)`` after each input.

    Returns the outcomes in input order (inputs not reached after an interrupt have none). Raises what
    interrupted it (KeyboardInterrupt) after the summary and gallery are written. A folder it created for
    ``settings.out`` (and any it created around it) is removed again when nothing was written there (every input
    unreadable, say).
    """
    created, folder = [], Path(settings.out)  # the folders it makes, innermost first (--out a/b/new: b and new too)
    while not os.path.lexists(folder) and folder != folder.parent:
        created.append(folder)
        folder = folder.parent
    out = make_folder(settings.out, probe=True)  # an unusable --out fails now, not after hours of explaining
    try:
        return _explained(out, classifier, inputs, options, settings, on_outcome, on_step, should_stop, engine)
    finally:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:  # not empty: kept, and the folders around it
                break


def _explained(out, classifier, inputs, options, settings, on_outcome, on_step, should_stop, engine) -> list[Outcome]:
    """:func:`explain_inputs` into the folder ``out``, made."""
    again: dict[Input, str] = {}  # why --resume explains a complete set again: said with its outcome
    settled, todo = plan(inputs, settings, options, model_description(classifier), again)
    total = len(settled) + len(todo)
    outcomes: dict[Input, Outcome] = {}
    images: dict[Input, Any] = {}

    def report(o: Outcome) -> None:
        if o.input in again:
            o.notes = [again.pop(o.input), *o.notes]
        outcomes[o.input] = o
        if on_outcome is not None:
            on_outcome(o, len(outcomes), total)

    try:
        for o in settled:
            report(o)
        if todo:
            from ..explain.batch import BatchJob  # noqa: PLC0415 - imports torch

            overwrite = {inp: ow for inp, ow in todo}

            def loader(inp: Input):
                def load():
                    # the record's fingerprint is the file as it was loaded, taken now: taken when the set is
                    # written, a photo replaced while it was explained got the new file's digest, and --resume
                    # then kept the old photo's answer for it
                    fingerprint = file_fingerprint(inp.path)
                    img = load_image(inp.path, max_side=settings.max_side, max_pixels=settings.max_pixels)
                    img.file_stat, images[inp] = None, (img, fingerprint)  # fingerprinted: run() reads it not again
                    return img
                return load

            jobs = (BatchJob(inp, loader(inp)) for inp, _ in todo)
            run_engine = engine or local_engine
            writer = SetWriter(out, settings.summary)
            # never more images in flight than there are images (the local engine starts one thread per slot:
            # --batch-size 1000000 on one photo started a million threads, 2.9 GB and minutes before any step)
            batch = max(1, min(int(settings.batch_size), len(todo)))
            completed = False
            try:
                for job, result in run_engine(classifier, jobs, options, batch, on_step, should_stop):
                    inp = job.key
                    img, fingerprint = images.pop(inp, (None, None))
                    if isinstance(result, BaseException):
                        report(Outcome(inp, ERROR, error=result))
                    else:
                        info = img.to_dict() if img is not None else job.info
                        if img is not None and fingerprint is not None:
                            info["file"] = fingerprint
                        writer.put(result, inp, overwrite[inp], info)
                    for o in writer.written():
                        report(o)
                    release_free_memory()  # keeps RSS flat over thousands of images (see core/memory.py)
                completed = True
            finally:
                for o in writer.close():  # the sets already computed are written, also after an interrupt
                    report(o)
            if completed:
                writer.raise_error()  # e.g. the disk filled up at the last set
    except BaseException as exc:
        if settings.summary and (outcomes or inputs):
            try:
                with interrupts_held():  # a second Ctrl+C acts once the summary is whole
                    write_run_summary(out, inputs, outcomes, getattr(exc, "input", None))
            except Exception:  # noqa: BLE001, S110 - what stopped the run is reported, not the summary too
                pass
        if isinstance(exc, DiskFullError) and total > 1:  # every further set would fail the same way: stop
            raise DiskFullError(f"{exc}; the run stopped there: {_disk_full_counts(outcomes.values(), total)}") from None
        raise
    if settings.summary and (outcomes or inputs):
        try:
            with interrupts_held():  # an interrupt then left the last run's summary, or none, unsaid
                write_run_summary(out, inputs, outcomes)
        except OSError as exc:  # e.g. the disk filled up: a clear error, not an internal one
            raise ExportError(f"cannot write the summary to {out}: {write_failure(exc)}") from None
    return [outcomes[i] for i in inputs if i in outcomes]


def _disk_full_counts(outcomes, total: int) -> str:
    """"15 result sets whole, 2 inputs failed (said above), 3 not written": "15 of 17 whole" counted the inputs
    that failed for their own reasons (an unreadable file) among the sets the full disk cost."""
    from ..percent import count_text  # noqa: PLC0415

    failed = sum(o.status == ERROR for o in outcomes)
    kept = sum(1 for _ in outcomes) - failed
    return ", ".join([f"{count_text(kept, 'result set')} whole"] + [f"{count_text(failed, 'input')} failed (said above)"]
                     * bool(failed) + [f"{total - kept - failed} not written"])


class SetWriter:
    """Writes result sets on one background thread, in order, while the engine computes the next ones.

    ``put`` hands over a result (it waits while :data:`DEPTH` sets are queued, so memory stays bounded);
    ``written()`` returns the outcomes finished since the last call; ``close()`` writes what is queued
    (also when an interrupt reaches it while it waits), stops the thread and returns the last outcomes. An
    exception that is not an ``Exception`` (an interrupt inside a set's writing: that set's new files are
    removed) is raised again by ``written()``/``close()`` in the caller's thread.
    """

    DEPTH = 2

    def __init__(self, out: Path, thumbs: bool):
        self.out, self.thumbs = out, thumbs
        self._todo: queue.Queue = queue.Queue(maxsize=self.DEPTH)
        self._done: queue.Queue = queue.Queue()
        self._raised: BaseException | None = None  # a writer's exception held back behind finished outcomes
        self.error: BaseException | None = None  # the first one close() met
        self._finished = threading.Event()  # waited on instead of join(): a join that Ctrl+C interrupts marks
        # the thread stopped while it still runs (Python 3.11), and a second join() then returns at once
        self._thread = threading.Thread(target=self._loop, name="gradflip-set-writer", daemon=True)
        self._thread.start()

    def put(self, result, inp: Input, overwrite: bool, info: dict | None) -> None:
        self._todo.put((result, inp, overwrite, info))

    def _loop(self) -> None:
        try:
            while (item := self._todo.get()) is not None:
                result, inp, overwrite, info = item
                try:
                    self._done.put(_write(result, inp, self.out, overwrite, info, self.thumbs))
                except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
                    self._done.put(exc)
        finally:
            self._finished.set()

    def written(self) -> list[Outcome]:
        """The outcomes finished since the last call; an exception of the writer is raised once the outcomes
        finished before it have been returned (a full disk at the third set still reports the first two)."""
        if self._raised is not None:
            exc, self._raised = self._raised, None
            raise exc
        done = []
        while True:
            try:
                item = self._done.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                if done:
                    self._raised = item  # the next call raises it
                    break
                raise item
            done.append(item)
        return done

    def close(self) -> list[Outcome]:
        self._todo.put(None)
        try:
            self._finished.wait()
        except BaseException:  # Ctrl+C reaches this (main) thread: the sets handed over are finished whole
            self._finished.wait()  # first, else the process would end with one half-renamed
            raise
        done: list[Outcome] = []
        while True:  # every finished outcome, also those behind a failed set; the first failure is kept
            try:
                more = self.written()
            except BaseException as exc:  # noqa: BLE001 - raised by raise_error() once the outcomes are reported
                self.error = self.error or exc
                continue
            if not more and self._raised is None:
                return done
            done += more

    def raise_error(self) -> None:
        """Raise the first exception ``close()`` met among the writer's sets (after its outcomes were reported)."""
        if self.error is not None:
            raise self.error


def _write(result, inp: Input, out: Path, overwrite: bool, info: dict | None, thumbs: bool) -> Outcome:
    before = {p for p in result_paths(out, inp.name).values() if p.exists()}
    notes = list((info or {}).get("warnings") or [])
    if info is not None and inp.path is not None and not info.get("file"):  # --resume then knows whether
        info = {**info, "file": file_fingerprint(inp.path)}  # the photo changed since (else taken at loading)
    try:
        written = write_result_set(result, out, inp.name, force=overwrite, image_info=info)
    except DiskFullError as exc:  # not this input's fault: the run stops (see run); its summary row says why
        exc.input = inp
        raise
    except Exception as exc:  # noqa: BLE001 - ExportError / ResultExistsError: this input failed
        return Outcome(inp, ERROR, error=exc, notes=notes)
    except BaseException:  # interrupted while writing: leave no half-written set
        for p in result_paths(out, inp.name).values():
            if p not in before:
                p.unlink(missing_ok=True)
        raise
    if thumbs:
        from .gallery import write_thumbnail  # noqa: PLC0415

        try:
            write_thumbnail(out, safe_name(inp.name), result)
        except Exception:  # noqa: BLE001 - a missing thumbnail only costs the gallery a picture
            pass
    rec = json.loads(written[-1].read_text(encoding="utf-8"))
    return Outcome(inp, str(result.status), result.message, record=rec, written=written, notes=notes)


def write_run_summary(out: Path, inputs: list[Input], outcomes: dict[Input, Outcome], unwritten: Input | None = None) -> None:
    """``summary.csv`` and ``index.html`` for ``inputs``: records from disk, errors from this run. ``unwritten``: the
    input explained whose set the full disk stopped (it read "not run: the run stopped before this input")."""
    from .gallery import write_gallery  # noqa: PLC0415

    if not out.is_dir():
        return
    rows, records = [], {}
    seen = set()
    for inp in inputs:
        name, real = safe_name(inp.name), _real(inp.path)
        if real in seen:  # a file listed twice (also through a link): one row, as it ran once
            continue
        seen.add(real)
        o = outcomes.get(inp)
        if o is not None and o.status == ERROR and not _kept(o, out, name):
            rows.append(summary_row(inp.path, name, status=ERROR, message=_message(o.error)))
            continue
        rec = complete_record(out, name)
        if rec is not None and o is None and other_image(rec, inp):
            rec = None  # not reached, and the set of its name is another image's (another folder's china.jpg): listed
            # as that earlier set below, not credited to this input (the app passes no outcome for what it explained:
            # a photo edited since it was explained keeps its row)
        if rec is None:
            why = ("explained, but the disk was full when its result set was written" if inp == unwritten
                   else "the run stopped before this input")
            rows.append(summary_row(inp.path, name, status=NOT_RUN, message=why))
        else:
            records[name] = rec
            rows.append(summary_row(inp.path, name, rec))
    rows += _earlier_rows(out, run_names(rows) | set(records), records)
    write_summary(out, rows)
    write_gallery(out, rows, records)


def run_names(rows: list[dict]) -> set[str]:
    """The result-set names the summary's rows of a run stand for: not an error's or a "not run" input's (the set
    of that name in the folder, if any, is another's: an earlier run's, listed by :func:`_earlier_rows`)."""
    return {r["name"] for r in rows if r["status"] not in (ERROR, NOT_RUN)}


def _earlier_rows(out: Path, listed: set[str], records: dict) -> list[dict]:
    """Rows for the complete result sets in ``out`` that earlier runs left there (another folder explained
    into the same ``--out``): the summary and the gallery list everything the folder holds, not only the last
    run's inputs, also the set of another image an input was refused for. Their ``file`` is the record's source."""
    rows = []
    suffix = ".gradflip.json"
    try:
        names = sorted(p.name[: -len(suffix)] for p in out.glob("*" + suffix))
    except OSError:
        return rows
    for name in names:
        if name in listed:
            continue
        rec = complete_record(out, name)
        if rec is None:
            continue
        records[name] = rec
        image = rec.get("image") if isinstance(rec.get("image"), dict) else {}
        rows.append(summary_row(str(image.get("source") or name), name, rec))
    return rows


def _kept(o: Outcome, out: Path, name: str) -> bool:
    """An input refused because its result set exists: the summary keeps that set's row (when complete)
    instead of replacing it with the refusal."""
    rec = complete_record(out, name) if isinstance(o.error, ResultExistsError) else None
    return rec is not None and not other_image(rec, o.input)


def _message(exc: BaseException | None) -> str:
    return str(exc) if exc is not None else ""


def rate_text(done: int, total: int, started: float, kept: int = 0, batch: int = 1) -> str:
    """"12/200 (6 %) · 1.3 images/s · ETA 2:24". ``kept`` of the ``done`` inputs (kept by ``--resume``) took no time;
    the ``batch`` − 1 others in flight are half done on average (the first ETA was ``batch`` × too high)."""
    elapsed = max(time.perf_counter() - started, 1e-9)
    explained = done - kept
    rate = (explained + max(0, min(batch - 1, total - done)) / 2) / elapsed if explained > 0 else 0.0
    left = 0.0 if done >= total else (total - done) / rate if explained > 0 else float("inf")
    eta = "--:--" if left == float("inf") else f"{int(left) // 60}:{int(left) % 60:02d}"
    pct = 100 * done / total if total else 100
    speed = f"{rate:.2f}" if explained > 0 else "--"
    return f"{done}/{total} ({pct:.0f} %) · {speed} images/s · ETA {eta}"
