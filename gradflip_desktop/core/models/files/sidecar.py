"""The sidecar: a model's settings saved as ``MODEL.gradflip.json`` next to the model file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...errors import ModelError, json_loads
from ...images.writing import atomic_write_bytes, utf8_bytes
from .spec import SIDECAR_KIND, SIDECAR_SUFFIX, ModelSpec

__all__ = ["read_sidecar", "read_sidecar_raw", "sidecar_path", "stale_format", "stale_words", "write_sidecar"]


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """Where the settings of ``model_path`` live: ``net.pth`` → ``net.gradflip.json`` (same folder).

    ``net.pth.gradflip.json`` when that one is this file's, or when ``net.gradflip.json`` is another model file's (its
    ``model_file`` names another file beside it: ``net.pth``, ``net.onnx`` and ``net.safetensors`` each keep their own
    settings; one shared sidecar gave the ONNX file the state dict's format and labels, and loading it broke the other).
    A sidecar whose ``model_file`` is not there (the model renamed or copied with it) is still this file's.
    """
    p = Path(model_path)
    full, stem = p.with_name(p.name + SIDECAR_SUFFIX), p.with_name(p.stem + SIDECAR_SUFFIX)
    for candidate in (full, stem):
        if candidate.is_file() and _belongs(candidate, p):
            return candidate
    return next((c for c in (stem, full) if not c.exists()), full)  # to write: a name no other file's settings hold


def _belongs(sidecar: Path, model: Path) -> bool:
    """Whether ``sidecar`` is ``model``'s: it names no model file (written by hand, or before ``model_file`` was
    written), or ``model`` (by name, or the same file: a link, another letter case), or a file that is not there.
    One that cannot be read, or is over 64 MB, is (loading says what is wrong with it)."""
    try:
        if sidecar.stat().st_size > 64 * 2**20:
            return True
        d = json_loads(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return True
    other = d.get("model_file") if isinstance(d, dict) else None
    if not isinstance(other, str) or other in ("", model.name):
        return True
    try:
        named = model.with_name(other)
        return not named.exists() or (model.exists() and named.samefile(model))
    except (OSError, ValueError):
        return True


def read_sidecar_raw(model_path: Path) -> tuple[dict, Path] | None:
    sc = sidecar_path(Path(model_path))  # a link's own settings first (the app writes them by the name it was given)
    if not sc.is_file():
        sc = sidecar_path(Path(model_path).resolve())  # then the file it points to
    if not sc.is_file():
        return None
    try:  # utf-8-sig: written by hand in Notepad or PowerShell (UTF-8 with a BOM), it was "Unexpected UTF-8 BOM"
        d = json_loads(sc.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:  # as a labels file says it, not "'utf-8' codec can't decode byte 0xe9 in …"
        raise ModelError(f"the model settings {sc.name} are not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                         f"position {exc.start}); save them with UTF-8 encoding") from None
    except (OSError, json.JSONDecodeError) as exc:
        # what to do about it too: the settings file stops the model from loading, not the model file
        raise ModelError(f"cannot read the model settings {sc.name}: {exc}; mend it, or delete it to load the model "
                         "without its saved settings") from None
    if not isinstance(d, dict):
        raise ModelError(f"the model settings {sc.name} must hold a JSON object")
    if d.get("kind", SIDECAR_KIND) != SIDECAR_KIND or str(d.get("format", "")).startswith("gradflip-result"):
        return None  # another GradFlip file (a result record) that happens to share the name
    return d, sc


def read_sidecar(model_path: str | os.PathLike) -> ModelSpec | None:
    """The :class:`ModelSpec` stored next to ``model_path``, or ``None`` when there is no sidecar."""
    raw = read_sidecar_raw(Path(model_path))
    if raw is None:
        return None
    d, sc = raw
    try:  # named, as loading names it: the app's Load model dialog said "std values must be positive" and no more
        return ModelSpec.from_dict(d, model_path, base_dir=sc.parent)
    except ModelError as exc:
        raise type(exc)(f"{sc.name}: {exc}") from None


def write_sidecar(spec: ModelSpec, path: str | os.PathLike | None = None) -> Path:
    """Write ``spec`` as JSON next to its model file (or to ``path``); returns the file written."""
    target = Path(path) if path is not None else sidecar_path(spec.path)
    settings = spec.to_dict(base_dir=target.parent.resolve())
    if spec.path:  # the model file it is for: another one of the same stem does not take it (sidecar_path)
        settings["model_file"] = Path(spec.path).name
    data = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    try:  # a temporary file of its own, fsynced, then renamed; removed again on failure
        atomic_write_bytes(target, utf8_bytes(data), overwrite=True)
    except OSError as exc:
        raise ModelError(f"cannot write the model settings {target}: {exc}") from None
    return target


_KINDS = {"state_dict": "a state dict", "torchscript": "a TorchScript file", "onnx": "an ONNX file",
          "huggingface": "a Hugging Face model folder"}


def stale_format(side: dict, sidecar: Path, model: Path, detect) -> None:
    """Refuse a sidecar whose ``format`` the model file's own bytes contradict (``detect``: the loader's
    ``detect_format``): the file was saved again in another form after its settings were (the app writes the format
    into every sidecar). The sidecar's format then won and the file failed as "corrupted" TorchScript, or as a state
    dict "of pickled Python objects" with the advice to save only the weights, and the sidecar went unnamed.
    A file whose format its bytes cannot tell (an ONNX file named ``.bin``) keeps the sidecar's word."""
    said = side.get("format")
    if not said:
        return
    try:
        found = detect(model)
    except ModelError:
        return
    if found != said:
        raise ModelError(f"{sidecar.name} says {model.name} is {_KINDS.get(said, said)}, but it is "
                         f"{_KINDS.get(found, found)}: {stale_words(sidecar)}")


def stale_words(sidecar: Path) -> str:
    """The advice when a sidecar no longer fits its model file."""
    return f"the model file was changed after its settings were saved? Mend or delete {sidecar.name}"
