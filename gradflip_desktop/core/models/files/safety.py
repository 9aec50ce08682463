"""Reading weights files without running code from them.

safetensors files through the ``safetensors`` package (no pickle); everything else with
``torch.load(weights_only=True)`` only; when it refuses a file, the pickle is scanned (never
unpickled) to say why: a whole pickled ``nn.Module``, or other Python objects. Checkpoints that wrap
the state dict (``{"state_dict": ..., "epoch": 3}``) and wrapper prefixes are unwrapped here.
"""

from __future__ import annotations

import io
import json
import os
import pickletools
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch

from ...errors import ModelError, json_loads, install_hint

__all__ = [
    "ALWAYS_STRIP",
    "WRAPPER_KEYS",
    "checkpoint_labels",
    "error_line",
    "extract_state_dict",
    "is_safetensors",
    "load_safetensors",
    "load_weights",
    "short_reason",
    "torch_reason",
]

SAFETENSORS_EXTRA = install_hint("safetensors", "safetensors")

# checkpoint entries that may hold the state dict, in the order they are tried
WRAPPER_KEYS = (
    "state_dict", "model_state_dict", "model", "net", "network", "weights", "params", "module",
    "state_dict_ema", "model_ema", "ema",  # exponential moving averages (timm's train script): used when no plain entry exists
)
# prefixes that wrappers add to every key: DataParallel/DDP, torch.compile
ALWAYS_STRIP = ("module.", "_orig_mod.")


# the legacy format's pickles come before its tensors' bytes: its first bytes hold all of them (a scan at inspection
# read a 4 GB legacy file whole into memory before the Load model dialog opened)
LEGACY_SCAN_BYTES = 64 << 20


def _pickle_streams(path: Path, limit: int | None = None) -> list[bytes]:
    """The raw pickles inside a torch file (zip ``data.pkl`` or the legacy concatenated pickles: their first
    ``limit`` bytes when given)."""
    if zipfile.is_zipfile(path):  # its pickles whole (a state dict's: kilobytes), but never more than 64 MB in all:
        budget = LEGACY_SCAN_BYTES  # a 4 MB file whose data.pkl inflates to 4 GB of zeros was a MemoryError, exit 3
        streams = []
        with zipfile.ZipFile(path) as zf:
            for n in (n for n in zf.namelist() if n.endswith(".pkl") and budget > 0):
                with zf.open(n) as member:
                    streams.append(member.read(budget))
                budget -= len(streams[-1])
        return streams
    with open(path, "rb") as fh:
        return [fh.read(-1 if limit is None else limit)]


def _pickle_globals(path: Path, limit: int | None = None) -> tuple[list[str], set[str]]:
    """Globals (``module.name``) a pickle would import, and its short strings, read WITHOUT unpickling."""
    found: list[str] = []
    strings: set[str] = set()
    for data in _pickle_streams(path, limit):
        bio = io.BytesIO(data)
        while bio.tell() < len(data):
            recent: list[str] = []
            memo: dict[int, Any] = {}
            last = None
            try:
                for op, arg, _pos in pickletools.genops(bio):
                    name = op.name
                    if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8", "SHORT_BINSTRING", "BINSTRING", "STRING"):
                        last = str(arg)
                        recent.append(last)
                        if len(last) < 80:
                            strings.add(last)
                    elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                        memo[int(arg)] = last
                    elif name == "MEMOIZE":
                        memo[len(memo)] = last
                    elif name in ("BINGET", "LONG_BINGET", "GET"):
                        last = memo.get(int(arg))
                        if isinstance(last, str):
                            recent.append(last)
                    elif name in ("GLOBAL", "INST"):
                        found.append(str(arg).replace(" ", "."))
                        last = None
                    elif name == "STACK_GLOBAL":
                        if len(recent) >= 2:
                            found.append(f"{recent[-2]}.{recent[-1]}")
                        last = None
                    else:
                        last = None
                    if name == "STOP":
                        break
            except Exception:  # noqa: BLE001 - a damaged stream: keep what was found
                break
    return list(dict.fromkeys(found)), strings


_SAFE_GLOBAL_PREFIXES = ("torch.", "collections.OrderedDict", "_codecs.encode", "builtins.set", "builtins.frozenset",
                         "__builtin__.set", "__builtin__.frozenset")  # (protocol 2 names builtins __builtin__)
# what a training checkpoint may also hold (:func:`_training_extras`): left to the load, never refused at inspection
# and what torch's weights-only unpickler itself allows besides torch.* (Counter, bytearray, complex: the load
# accepts them, so inspection must not refuse them)
_EXTRA_GLOBAL_PREFIXES = ("argparse.Namespace", "numpy.", "collections.Counter", "builtins.bytearray",
                          "builtins.complex", "__builtin__.bytearray", "__builtin__.complex")
_LIBRARY_PREFIXES = ("torch.", "collections.", "builtins.", "__builtin__.", "_codecs.", "copyreg.")


def refuse_pickled(path: Path) -> None:
    """Raises the refusal of ``path`` as weights when its pickle's opcodes alone (nothing is unpickled) show a whole
    pickled model, or objects the load never allows (``posix.system``); anything else passes (a training
    checkpoint's allowed extras, argparse and numpy: the load decides). The Load model dialog asks it before it
    opens (it used to refuse such a file only after Load)."""
    if is_safetensors(path):
        return
    try:
        globals_, strings = _pickle_globals(path, LEGACY_SCAN_BYTES)
    except Exception:  # noqa: BLE001 - unreadable: the load says why
        return
    refusal = _module_refusal(path, globals_, strings)
    if refusal is None and any(not g.startswith(_SAFE_GLOBAL_PREFIXES + _EXTRA_GLOBAL_PREFIXES) for g in globals_):
        refusal = _scan_refusal(path, globals_, strings)  # e.g. posix.system: the load refuses it whatever is chosen
    if refusal is not None:
        raise refusal


def _refusal(path: Path, exc: Exception) -> ModelError:
    """Explain why ``torch.load(weights_only=True)`` refused ``path``."""
    try:
        globals_, strings = _pickle_globals(path)
    except Exception:  # noqa: BLE001
        globals_, strings = [], set()
    return _scan_refusal(path, globals_, strings) or ModelError(f"cannot read {path.name} as PyTorch weights: {torch_reason(exc)}")


def _scan_refusal(path: Path, globals_: list[str], strings: set[str]) -> ModelError | None:
    """The refusal a pickle's globals and strings call for: a whole pickled model, or objects that are not tensors."""
    module = _module_refusal(path, globals_, strings)
    if module is not None:
        return module
    unsafe = [g for g in globals_ if not g.startswith(_SAFE_GLOBAL_PREFIXES)]
    if unsafe:
        shown = ", ".join(unsafe[:5]) + (" …" if len(unsafe) > 5 else "")
        return ModelError(
            f"refused to load {path.name}: it contains pickled Python objects that are not tensors ({shown}). "
            "GradFlip never unpickles arbitrary objects, because unpickling can run code. "
            "Save only the weights: torch.save(model.state_dict(), PATH)."
        )
    return None


def _module_refusal(path: Path, globals_: list[str], strings: set[str]) -> ModelError | None:
    """The refusal of a whole pickled model (an ``nn.Module`` or fx GraphModule), or None."""
    is_module = any(g.startswith("torch.nn.modules.") for g in globals_) or "_modules" in strings and "_parameters" in strings
    if is_module:
        own = [g for g in globals_ if not g.startswith(_LIBRARY_PREFIXES)]
        if own:
            cls = own[0]
        elif any(g.startswith("torch.fx.graph_module.") for g in globals_):
            cls = "torch.fx.GraphModule"
        else:
            cls = next((g for g in globals_ if g.startswith("torch.nn.modules.")), "nn.Module")
        return ModelError(
            f"{path.name} holds a whole pickled model ({cls}), not a state dict. Loading it would run code "
            "from the file, which GradFlip never does. Save the weights instead, "
            f"torch.save(model.state_dict(), '{path.stem}.state_dict.pth'), and load that file naming its "
            "architecture (for a torchvision architecture), or export the model to TorchScript or ONNX."
        )
    return None


def torch_reason(exc: Exception) -> str:
    """``torch.load``'s reason without its weights-only boilerplate, which advises ``weights_only=False``
    (running code from the file): only the unpickler's own error is kept."""
    text = str(exc)
    marker = "WeightsUnpickler error:"
    if marker in text:
        reason = short_reason(Exception(text.split(marker, 1)[1].split("Check the documentation of torch.load", 1)[0]), 200)
        if reason.startswith("Unsupported global"):  # "GLOBAL io.open", not torch's advice to allow it
            found = re.search(r"GLOBAL ([\w.]+)", reason)
            return f"it holds pickled objects that only an unsafe load could read ({found.group(0) if found else reason})"
        return f"the file is damaged or not a PyTorch checkpoint ({reason or 'unreadable pickle'})"
    if "weights_only" in text:  # another wording of the same refusal ("Trying to load unsupported GLOBAL posix.system
        # whose module posix is blocked"), after the plea to load with weights_only=False: never passed on
        found = re.search(r"unsupported GLOBAL ([\w.]+)", text, re.IGNORECASE)
        what = f"GLOBAL {found.group(1)}" if found else "an object a weights-only load refuses"
        return f"it holds pickled objects that only an unsafe load could read ({what})"
    return short_reason(exc)


def short_reason(exc: Exception, limit: int = 300) -> str:
    """``exc`` as one line of at most ``limit`` characters, without torch's plea to report its message to PyTorch
    (the user's file is what is wrong, not torch)."""
    text = " ".join(str(exc).split())
    text = re.sub(r"\s*\(?\s*Could this error message be improved\?.*$", "", text, flags=re.IGNORECASE | re.DOTALL)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TYPED = re.compile(r"^(\w+\.)*\w+(Error|Exception|Interrupt|Exit)\b:?")


def error_line(exc: BaseException, limit: int = 300) -> str:
    """A model's error as one line, ``Type: message``, for a run's message, its record and summary.csv. An error in a
    TorchScript model carries both its tracebacks (dozens of lines) with the real error last ("RuntimeError: mat1
    and mat2 shapes cannot be multiplied (1x8 and 4x3)"): that line; any other error keeps its first part (CUDA's
    errors put theirs first, then advice), through :func:`short_reason`."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if len(lines) > 1 and any(ln.startswith("Traceback of TorchScript") for ln in lines):
        last = short_reason(Exception(lines[-1]), limit)
        return last if _TYPED.match(last) else short_reason(Exception(f"{type(exc).__name__}: {last}"), limit)
    return short_reason(Exception(f"{type(exc).__name__}: {exc}"), limit)


def holds_nothing(path: Path) -> bool:
    """Whether a file whose size is 0 reads as nothing: a /proc or /sys file says 0 bytes and has content (it was
    "empty (0 bytes)"; read on, it is said for what it is). Never blocks (a pipe is not a regular file)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return True  # unreadable: said as before
    try:
        return not os.read(fd, 1)
    except OSError:
        return True
    finally:
        os.close(fd)


def is_safetensors(path: Path) -> bool:
    """A safetensors file: by its name, or by its header (8-byte little-endian length, then a JSON object)."""
    if path.suffix.lower() == ".safetensors":
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(9)
        size = path.stat().st_size
    except OSError:
        return False
    if len(head) < 9 or head[8:9] != b"{":
        return False
    n = int.from_bytes(head[:8], "little")
    return 2 <= n <= size - 8


def _safetensors():
    try:
        import safetensors.torch  # noqa: PLC0415 - optional extra
    except ImportError:
        raise ModelError(f"reading .safetensors files needs the safetensors package, which is not installed: {SAFETENSORS_EXTRA}") from None
    return safetensors


def load_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the metadata (str → str) of a safetensors file; no pickle is involved."""
    st = _safetensors()
    try:
        with st.safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # noqa: BLE001 - SafetensorError, header errors, OSError
        raise ModelError(f"cannot read {path.name} as safetensors: {short_reason(exc)}") from None
    if not tensors:
        raise ModelError(f"{path.name} holds no tensors")
    return tensors, meta


def load_weights(path: Path, extras: bool = True) -> Any:
    """The object stored in a weights file, never unpickling arbitrary objects.

    safetensors files are read with the ``safetensors`` package (no pickle at all); anything else with
    ``torch.load(weights_only=True)``; a refusal says why (see :func:`_refusal`). A training checkpoint
    that keeps its settings next to its weights (timm's ``train.py`` saves ``args``, an
    ``argparse.Namespace``, and numpy scalars) is read again, still with torch's weights-only unpickler,
    with those few classes allowed too (``extras``; :func:`_training_extras`); anything else in it, and a
    whole pickled model, is refused. (A custom unpickler that replaced unknown classes by stand-ins was
    tried and dropped: the stock unpickler's other opcodes could still set attributes on torch's own
    functions and, through a legacy file's ``persistent_load``, write files.)
    """
    if is_safetensors(path):
        return load_safetensors(path)[0]
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": noise for users
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError, EOFError ...
        refusal = _refusal(path, exc)
    if extras and str(refusal).startswith("refused to load"):  # other objects than tensors, not a module
        try:
            with warnings.catch_warnings(), torch.serialization.safe_globals(_training_extras()):
                warnings.simplefilter("ignore", UserWarning)
                obj = torch.load(path, map_location="cpu", weights_only=True)
            extract_state_dict(obj, path.name)  # it must hold a state dict
            return obj
        except Exception:  # noqa: BLE001 - anything else pickled in it, or no state dict: the refusal stands
            pass
    raise refusal


def _training_extras() -> list:
    """The classes a training checkpoint keeps next to its weights that torch's weights-only unpickler may
    also build: ``argparse.Namespace`` (its attributes set, nothing called) and numpy scalars and dtypes
    (under the names numpy 1 and numpy 2 pickle them with)."""
    import argparse

    import numpy as np

    core = getattr(np, "_core", None) or np.core
    extras: list = [argparse.Namespace, np.dtype]
    for name in ("numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"):
        extras.append((core.multiarray.scalar, name))
    for name in dir(getattr(np, "dtypes", object())):
        if name.endswith("DType"):
            extras.append(getattr(np.dtypes, name))
    return extras


LABEL_KEYS = ("labels", "class_names", "classes", "id2label")


def _as_labels(value: Any) -> list[str] | None:
    if isinstance(value, str):
        try:
            value = json_loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, Mapping):  # {"0": "cat", ...} / {0: "cat", ...}
        try:
            items = sorted((int(k), v) for k, v in value.items())
        except (TypeError, ValueError):
            return None
        if [k for k, _ in items] != list(range(len(items))):
            return None
        value = [v for _, v in items]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def checkpoint_labels(obj: Any, path: Path | None = None) -> list[str] | None:
    """Class names a checkpoint carries: a ``labels``/``class_names``/``classes``/``id2label`` entry next
    to the weights, or (safetensors) the same key in the file's metadata as JSON. ``None`` when absent."""
    if path is not None and is_safetensors(path):
        try:
            meta = load_safetensors(path)[1]
        except ModelError:
            return None
        for key in LABEL_KEYS:
            labels = _as_labels(meta.get(key))
            if labels:
                return labels
        return None
    if isinstance(obj, Mapping):
        for key in LABEL_KEYS:
            labels = _as_labels(obj.get(key))
            if labels:
                return labels
    return None


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


# where a training module keeps a moving average of its model next to it (timm's ModelEmaV2/V3 and torch's
# AveragedModel wrap it: model_ema.module.*, with AveragedModel's n_averaged next to it)
EMA_ROOTS = ("model_ema.", "ema_model.", "ema.")


def _shapes(sd: Mapping[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in sd.items() if not k.endswith("num_batches_tracked")}


def _ema_copy(sd: dict[str, torch.Tensor], name: str, notes: list[str]) -> dict[str, torch.Tensor]:
    """A flat state dict holding a model twice, its weights (``model.*``) and their exponential moving average
    (``model_ema.module.*``), as a Lightning module with ``self.model`` and ``self.model_ema`` saves it: the moving
    average, the copy usually evaluated (timm's own loader prefers it too), with a note. ``sd`` unchanged otherwise."""
    for root in EMA_ROOTS:
        ema = {k[len(root):]: v for k, v in sd.items() if k.startswith(root)}
        rest = {k: v for k, v in sd.items() if not k.startswith(root)}
        if not ema or not rest:
            continue
        ema = {k: v for k, v in ema.items() if "." in k or v.ndim > 0}  # the wrapper's counters (n_averaged)
        inner = "module." if ema and all(k.startswith("module.") for k in ema) else ""
        ema = {k[len(inner):]: v for k, v in ema.items()}
        outer = next((p for p in ("model.", "net.", "network.", "") if all(k.startswith(p) for k in rest)))
        plain = {k[len(outer):]: v for k, v in rest.items()}
        if _shapes(plain) == _shapes(ema):
            notes.append(f"{name} holds the model twice, its weights ({outer or 'unprefixed'}*) and their moving average "
                         f"({root}{inner}*): using the moving average, the copy usually evaluated (the other is not used)")
            return ema
    return sd


def extract_state_dict(obj: Any, name: str) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The tensors of a state dict or of a checkpoint that wraps one (``{"state_dict": ..., "epoch": 3}``)."""
    notes: list[str] = []
    for _depth in range(3):
        if _is_tensor_dict(obj):
            break
        if isinstance(obj, Mapping):
            key = next((k for k in WRAPPER_KEYS if k in obj and isinstance(obj[k], Mapping)), None)
            if key is not None:
                notes.append(f"weights taken from the checkpoint entry '{key}'")
                obj = obj[key]
                continue
            # a state dict with a few non-tensor extras (e.g. a saved "epoch" next to the tensors)
            tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
            if tensors and len(tensors) >= 0.9 * len(obj) and all(isinstance(k, str) for k in tensors):
                obj = tensors
                break
            if not obj:
                raise ModelError(f"{name} holds an empty dictionary: no weights were saved in it")
            keys = ", ".join(map(str, list(obj)[:8]))
            raise ModelError(
                f"{name} holds a checkpoint with entries ({keys}) but none of them is a state dict of tensors; "
                f"expected the weights themselves or an entry named {', '.join(WRAPPER_KEYS[:3])}"
            )
        what = type(obj).__name__
        raise ModelError(f"{name} holds a {what}, not a state dict (a mapping of parameter names to tensors)")
    if not _is_tensor_dict(obj):
        raise ModelError(f"{name} does not hold a state dict (a mapping of parameter names to tensors)")
    sd = _ema_copy(dict(obj), name, notes)
    stripped = True
    while stripped:  # wrappers nest: torch.compile of a DDP model saves "_orig_mod.module.", an EMA of one "module.module."
        stripped = False
        for prefix in ALWAYS_STRIP:
            if all(k.startswith(prefix) and len(k) > len(prefix) for k in sd):
                sd = {k[len(prefix):]: v for k, v in sd.items()}
                note = f"removed the '{prefix}' prefix of the weight names"
                if note not in notes:
                    notes.append(note)
                stripped = True
    note = float32_note(name, sd.values())  # as for a TorchScript file: the network they load into computes in float32
    if note:
        notes.append(note)
    return sd, notes


def float32_note(name: str, tensors) -> str:
    """"NAME stores float16 and bfloat16 weights: computing in float32" for tensors of another float type (images
    come in float32: CPUs lack many half-precision kernels, float64 weights refuse float32 input); else ""."""
    low = sorted({str(t.dtype).replace("torch.", "") for t in tensors
                  if t.dtype in (torch.float16, torch.bfloat16, torch.float64)})
    return f"{name} stores {' and '.join(low)} weights: computing in float32" if low else ""
