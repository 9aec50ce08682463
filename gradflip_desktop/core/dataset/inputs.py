"""The inputs of a run: files as given, folders expanded to the images they hold (recognised by content)."""

from __future__ import annotations

import errno
import hashlib
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import json_loads, one_line


@dataclass(frozen=True)
class Input:
    """One image to explain: its ``path`` and the ``name`` its result set gets (``NAME.gradflip.json`` ...)."""

    path: Path
    name: str
    shown: str = field(default="", compare=False)  # a folder's image: its path inside the folder ("cats/001.jpg")

    @property
    def display(self) -> str:
        """How messages name this input: its path inside the folder given, else its file name (two
        subfolders may each hold a ``001.jpg``)."""
        return one_line(self.shown or Path(self.path).name)  # b"caf\xe9.png": "caf�.png"; a newline: "\n", one line


EARLIER_RESULTS = "an earlier GradFlip run's results"  # a folder's skip reason (the gallery counts them apart)


def file_fingerprint(path: str | Path) -> dict | None:
    """``{"bytes", "mtime_ns", "sha256"}`` of a file (None when it cannot be read): the record's ``image.file``."""
    try:
        from ..images.loading import open_regular  # noqa: PLC0415

        st = os.stat(path)
        digest = hashlib.sha256()
        with open_regular(path) as fh:  # a pipe that took the photo's name: None, never a wait for a writer
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return {"bytes": int(st.st_size), "mtime_ns": int(st.st_mtime_ns), "sha256": digest.hexdigest()}


def kept_batch_note(rec: dict, batch_size: int) -> list[str]:
    """A note for a set ``--resume`` keeps although it was made with another ``--batch-size`` (an interrupted
    ``--batch-size 4`` run resumed with the default 1): a batch rounds floats otherwise, which can move the key
    region and the class it flips to, so the folder's answers are no longer all those of one batch size."""
    versions = rec.get("versions")  # a hand-edited or foreign record's may be anything: then unknown
    then = str((versions if isinstance(versions, dict) else {}).get("batch_size") or "")
    if not (then.isascii() and then.isdigit()) or int(then) == int(batch_size):
        return []
    return [f"kept a set made with --batch-size {then}, not {batch_size} (a batch can change the answer; "
            "--force explains it again)"]


def same_weights(then: dict, now: dict) -> set[str]:
    """The keys of two ``model`` entries (a record's, this run's) that differ only because the same weights were
    loaded from another file name, a copy of the weights file (the same size and SHA-256): ``file``, and ``name``
    where the names differ only by that file name ("resnet18 (10 classes, copy.pth)") or both entries name the same
    ``arch`` (what built the network: then a name is a label, such as a sidecar's ``"name"``); none for other weights or
    weights without a digest (a model folder). ``--resume`` and ``check`` know weights by their content, not their
    path; what else decides the answers (input size, mean, std, labels, classes) is still compared."""
    digest = then.get("file_sha256")
    if not digest or digest != now.get("file_sha256") or then.get("file_bytes") != now.get("file_bytes"):
        return set()
    old, new = str(then.get("file") or ""), str(now.get("file") or "")
    renamed = bool(old and new) and str(then.get("name", "")).replace(old, new) == str(now.get("name", ""))
    built_alike = bool(then.get("arch")) and then.get("arch") == now.get("arch")
    return {"file", "name"} if renamed or built_alike else {"file"}


def is_image_file(path: Path) -> bool:
    """Whether ``path`` is meant to be an image: Pillow recognises its header (nothing is decoded), or it
    starts with a raster signature or carries an image extension (a broken image is an input that fails
    with its own message, not a file to skip)."""
    from PIL import Image, UnidentifiedImageError

    from ..images.headers import signature
    from ..images.loading import safe_formats

    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return path.suffix.lower() in Image.registered_extensions()
    if signature(head) or path.suffix.lower() in Image.registered_extensions():
        return True
    try:
        with Image.open(path, formats=safe_formats()) as im:
            return bool(im.format)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    except Exception:  # noqa: BLE001 - a plugin choking on a header: not an image we can use
        return False


RESULT_IMAGES = (".adjusted.png", ".difference.png", ".figure.png", ".key.png")  # a result set's images (report.SUFFIXES)


def is_result_image(path: Path) -> bool:
    """An image GradFlip wrote: ``NAME.adjusted.png`` (or difference, figure) next to ``NAME.gradflip.json``."""
    name = path.name
    for suffix in RESULT_IMAGES:
        if name.endswith(suffix):
            return (path.parent / f"{name[: -len(suffix)]}.gradflip.json").is_file()
    return False


RESULT_FILES = (".gradflip.json", ".delta.npy", ".importance.npy", ".steps.csv", *RESULT_IMAGES)  # report.SUFFIXES


def is_result_file(path: Path) -> bool:
    """A file a run wrote into its output folder: a result set's file (next to its record), ``summary.csv``
    or ``index.html``."""
    name = path.name
    if name in ("summary.csv", "index.html"):
        return True
    for suffix in RESULT_FILES:
        if name.endswith(suffix):
            return (path.parent / f"{name[: -len(suffix)]}.gradflip.json").is_file()
    return False


def names_folder(path) -> bool:
    """``path`` names a folder; False also for a name the system refuses to look up (a file name over 255 bytes
    raised "File name too long" from ``Path.is_dir``: an internal error instead of the loader's one line)."""
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False


def collect_inputs(paths: list[str | Path], recursive: bool = False,
                   out: str | Path | None = None) -> tuple[list[Input], list[tuple[Path, str]]]:
    """Expand ``paths`` into inputs. Returns ``(inputs, skipped)``; ``skipped`` lists (path, reason).

    A file given by name is an input whatever it holds (loading it reports any problem). A folder
    contributes the files in it that are images by content, in sorted order; with ``recursive`` its
    subfolders too, and the result name is the path inside the folder ("cats/001.jpg" -> "cats_001").
    Hidden files and folders (".name") are ignored; links to folders are not followed (each is one
    skipped entry). In the run's output folder ``out``, when it is a
    subfolder of a folder given, the files that are not images to explain (the results) are skipped as one
    entry for the folder, not one per result file.
    """
    inputs: list[Input] = []
    skipped: list[tuple[Path, str]] = []
    folders = [Path(raw) for raw in paths if names_folder(raw)]
    for raw in paths:
        p = Path(raw)
        if not names_folder(p):
            inputs.append(Input(p, p.stem or "image"))
            continue
        outer = _given_around(p, folders) if recursive else None
        if outer is not None:  # its images come with the folder around it, named from there: once, one name
            skipped.append((p, f"inside {outer}, also given: its images are explained once, as part of {outer}"))
            continue
        inner = _inside(Path(out), p) if out is not None else None
        said = (len(inputs), len(skipped))  # a folder that adds neither: said (among other inputs it was silent)
        same = out is not None and inner is None and _resolved(Path(out)) == _resolved(p)  # --out the folder itself
        quiet = 0  # result files in the output folder, skipped without a line each
        earlier: dict[Path, list[Path]] = {}  # another run's result files, by folder: one line per folder
        entries = _entries(p, recursive, skipped)
        for f in entries:
            rel = f.relative_to(p)
            if any(part.startswith(".") for part in rel.parts):
                continue
            try:
                is_folder = f.is_dir()
            except OSError as exc:  # e.g. a path longer than the system allows (ENAMETOOLONG)
                if all(where != f for where, _ in skipped):  # not already said by the folder scan
                    skipped.append((f, f"cannot be read: {exc.strerror or exc}"))
                continue
            if is_folder:
                if f.is_symlink():  # never followed (a link can loop or repeat a folder): said, not silent
                    skipped.append((f, "a link to a folder, not followed (give the folder itself to include it)"))
                elif not recursive:  # --recursive would not explain this run's own results either: not offered
                    skipped.append((f, "the output folder of this run" if inner and rel.parts == inner
                                    else "a folder (use --recursive to include subfolders)"))
                continue
            in_out = (bool(inner) and rel.parts[: len(inner)] == inner) or (
                same and len(rel.parts) == 1 and is_result_file(f))  # its results: one line, not one per file
            if not f.is_file():
                skipped.append((f, _not_a_file(f)))
            elif in_out and (is_result_image(f) or not is_image_file(f)):  # never explain the explanations again
                quiet += 1
            elif is_result_file(f):  # an earlier run's set in a subfolder: said once for its folder, not per file
                earlier.setdefault(f.parent, []).append(f)
            elif is_image_file(f):
                inputs.append(Input(f, "_".join([*rel.parts[:-1], f.stem]) or "image", rel.as_posix()))
            else:
                skipped.append((f, "not an image"))
        if quiet:
            skipped.append((p.joinpath(*(inner or ())), f"the output folder of this run ({quiet} result files)" if inner
                            else f"{quiet} result files of this run, which writes here (the photos are explained)"))
        for where, files in earlier.items():
            if any(f.name.endswith(RESULT_FILES) for f in files):  # a folder holding result sets
                skipped.append((where, f"{EARLIER_RESULTS} ({len(files)} result files)"))
            else:  # only a summary.csv or index.html of one's own: not results of a run here
                skipped.extend((f, "not an image") for f in files)
        if (len(inputs), len(skipped)) == said and len(paths) > 1:  # alone, "no images to … in it" says it
            visible = [f for f in entries if not any(part.startswith(".") for part in f.relative_to(p).parts)]
            skipped.append((p, "no files in it" if not entries else "only hidden files in it" if not visible
                            else "only empty folders in it"))
    return distinct_names(_told_apart(_links_last(inputs)), out), skipped


def _links_last(inputs: list[Input]) -> list[Input]:
    """The same file found as itself and through a link (``link.png`` -> ``p0.png`` in one folder): the file
    itself takes the first place, so that the run, which explains a file once, names its results after the
    photo and not after the link (``link.*`` sorted first). Other orders are kept."""
    groups: dict[Path, list[int]] = {}
    for i, inp in enumerate(inputs):
        groups.setdefault(_resolved(inp.path), []).append(i)
    def link(i: int) -> bool:
        try:
            return Path(inputs[i].path).is_symlink()
        except OSError:  # a name the system refuses: the loader says so, later
            return False

    out = list(inputs)
    for at in (at for at in groups.values() if len(at) > 1 and link(at[0])):
        plain = [i for i in at if not link(i)]
        if plain:
            out[at[0]], out[plain[0]] = inputs[plain[0]], inputs[at[0]]
    return out


def _told_apart(inputs: list[Input]) -> list[Input]:
    """Inputs whose messages would name them alike (``a/photo.jpg`` and ``b/photo.jpg`` given by name, or
    two folders given that each hold a ``001.jpg``) are shown by their paths as given instead."""
    seen: dict[str, set[Path]] = {}
    for inp in inputs:
        seen.setdefault(inp.display, set()).add(_resolved(inp.path))
    return [inp if len(seen[inp.display]) < 2 else Input(inp.path, inp.name, Path(inp.path).as_posix())
            for inp in inputs]


def _not_a_file(f: Path) -> str:
    """Why ``f`` (neither a folder nor a regular file) is skipped, in words: a link that loops or leads
    nowhere says so (both used to read "not a regular file")."""
    if f.is_symlink():
        try:
            os.stat(f)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "a link that loops back on itself"
            if exc.errno == errno.ENOENT:
                return f"a broken link: {os.readlink(f)} does not exist"
            return f"a link that cannot be followed: {exc.strerror or exc}"
    return "not a regular file (a device, pipe or socket)"


def _entries(folder: Path, recursive: bool, skipped: list[tuple[Path, str]]) -> list[Path]:
    """What ``folder`` holds (with ``recursive``: its subfolders too, links to folders not entered, hidden
    folders not entered), sorted. A folder that cannot be read is one skipped entry and the scan goes on
    (before: ``rglob`` dropped an unreadable subfolder without a word, and a scan error such as a path
    longer than the system allows, or an unreadable folder given, ended the run as an internal error)."""
    def failed(exc: OSError) -> None:
        where = Path(exc.filename) if getattr(exc, "filename", None) else folder
        skipped.append((where, f"a folder that cannot be read: {exc.strerror or exc}"))

    if not recursive:
        try:
            return sorted(folder.iterdir())
        except OSError as exc:
            failed(exc)
            return []
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=failed):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / n for n in (*dirs, *files)]
    return sorted(found)


def distinct_names(inputs: list[Input], out: str | Path | None = None) -> list[Input]:
    """Give every file its own result name: the first of the files whose names would be the same on a
    case-insensitive file system (``photo.jpg`` and ``photo.png``, ``Cat.png`` and ``cat.jpg``, two ``a.png``
    of different folders) keeps it, each later one gets its extension after it (``photo_png``), then a number.
    The same file listed twice keeps its one name (the run explains it once). With ``out``, the file whose
    result set in ``out`` already holds the name keeps it, first or not (a ``Photo.jpg`` added to a folder
    explained before must not take ``photo.png``'s set's name: ``--resume`` would explain it again as
    ``photo_png`` and list it twice), also a name with its extension (``photo_jpg``, ``photo_jpg-2``)."""
    from ..report import safe_name  # noqa: PLC0415 - report imports torch-free modules only

    claimed: dict[str, Path] = {}
    kept: dict[Path, str] = {}  # a file's result set in out: the name it keeps
    for held, source in (_owners(inputs, out) if out is not None else {}).items():
        claimed[safe_name(held).casefold()] = source
        kept.setdefault(source, held)
    named = []
    for inp in inputs:
        real = _resolved(inp.path)
        name = kept.get(real, inp.name)
        if name != inp.name:
            inp = Input(inp.path, name, inp.shown)
        key = safe_name(name).casefold()
        if key in claimed and claimed[key] != real:
            ext = Path(inp.path).suffix.lstrip(".").lower()[:16]
            tail = f"_{ext}" if ext else "_2"
            name, n = _suffixed(inp.name, tail), 2
            while safe_name(name).casefold() in claimed:
                name, n = _suffixed(inp.name, f"{tail}-{n}"), n + 1
            key = safe_name(name).casefold()
            inp = Input(inp.path, name, inp.shown)
        claimed.setdefault(key, real)
        named.append(inp)
    return named


def _owners(inputs: list[Input], out: str | Path) -> dict[str, Path]:
    """For the files of ``inputs`` whose names would be alike: the result sets in ``out`` made from one of them
    (the record's ``image.source``), by the set's name: the name itself or one with an extension or a number
    after it (``photo``, ``photo_jpg``, ``photo_jpg-2``), the shortest first."""
    from ..images.loading import read_regular  # noqa: PLC0415
    from ..report import safe_name  # noqa: PLC0415

    files: dict[str, set[Path]] = {}
    for inp in inputs:
        files.setdefault(safe_name(inp.name).casefold(), set()).add(_resolved(inp.path))
    alike = [(key[:16], real) for key, real in files.items() if len(real) > 1]  # a cut name keeps its first bytes
    if not alike:
        return {}
    suffix = ".gradflip.json"
    try:
        names = sorted((e.name[: -len(suffix)] for e in os.scandir(out) if e.name.endswith(suffix)),
                       key=lambda n: (len(n), n))
    except OSError:
        return {}
    owners = {}
    for name in names:
        folded = unicodedata.normalize("NFC", name).casefold()  # HFS+ lists names decomposed (NFD)
        group = set().union(*(real for head, real in alike if folded.startswith(head)))
        if not group:
            continue
        try:
            source = _made_from(json_loads(read_regular(Path(out) / f"{name}{suffix}").decode("utf-8")), group)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
        if source is not None:
            owners[name] = source
    return owners


def _made_from(rec: dict, files: set[Path]) -> Path | None:
    """The file of ``files`` a record was made from: its ``image.source``; a source given relative to another
    working folder (``explain photos`` there, ``explain /home/me/photos`` now) is the file of that name with the
    record's size and time (``image.file``)."""
    image = rec["image"]
    source = _resolved(image["source"])
    if source in files:
        return source
    then = image.get("file") or {}
    given = Path(str(image["source"])).parts
    best, best_tail = None, 0
    for f in sorted(files):
        try:
            st = os.stat(f)
        except OSError:
            continue
        tail = _common_tail(f.parts, given)  # a/x.png and b/x.png, copies alike in size and time: the folder tells
        if tail > best_tail and [st.st_size, st.st_mtime_ns] == [then.get("bytes"), then.get("mtime_ns")]:
            best, best_tail = f, tail
    return best


def _common_tail(a: tuple, b: tuple) -> int:
    """How many path parts ``a`` and ``b`` end with alike (0: not even the file's name)."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _suffixed(name: str, suffix: str) -> str:
    """``name`` + ``suffix``, ``name`` shortened where the result name's length bound would cut the suffix off
    (two long names alike in their first 120 bytes: the suffix that tells them apart must survive)."""
    from ..report import MAX_NAME_BYTES, safe_name  # noqa: PLC0415

    if safe_name(name + suffix).endswith(suffix):
        return name + suffix
    stem = safe_name(name)
    while stem and len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def _resolved(path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path)


def _given_around(folder: Path, given: list[Path]) -> Path | None:
    """Another folder of ``given`` that holds ``folder`` as a subfolder (not the same folder), or None."""
    for other in given:
        if _inside(folder, other):
            return other
    return None


def _inside(out: Path, folder: Path) -> tuple[str, ...] | None:
    """The parts of ``out``'s path inside ``folder`` when it is a subfolder of it (not the folder itself)."""
    try:
        parts = out.resolve().relative_to(folder.resolve()).parts
    except (ValueError, OSError):
        return None
    return parts or None
