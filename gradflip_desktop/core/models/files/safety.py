"""Reading weights files without running code from them.

``torch.load(weights_only=True)`` only; when it refuses a file, the pickle is scanned (never
unpickled) to say why: a whole pickled ``nn.Module``, or other Python objects. Checkpoints that wrap
the state dict (``{"state_dict": ..., "epoch": 3}``) and wrapper prefixes are unwrapped here.
"""

from __future__ import annotations

import io
import pickletools
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch

from ...errors import ModelError

__all__ = ["ALWAYS_STRIP", "WRAPPER_KEYS", "extract_state_dict", "load_weights", "short_reason"]

# checkpoint entries that may hold the state dict, in the order they are tried
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "network", "weights", "params", "module")
# prefixes that wrappers add to every key: DataParallel/DDP, torch.compile
ALWAYS_STRIP = ("module.", "_orig_mod.")


def _pickle_streams(path: Path) -> list[bytes]:
    """The raw pickles inside a torch file (zip ``data.pkl`` or the legacy concatenated pickles)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n) for n in zf.namelist() if n.endswith(".pkl")]
    return [path.read_bytes()]


def _pickle_globals(path: Path) -> tuple[list[str], set[str]]:
    """Globals (``module.name``) a pickle would import, and its short strings, read WITHOUT unpickling."""
    found: list[str] = []
    strings: set[str] = set()
    for data in _pickle_streams(path):
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


_SAFE_GLOBAL_PREFIXES = ("torch.", "collections.OrderedDict", "_codecs.encode", "builtins.set", "builtins.frozenset")


def _refusal(path: Path, exc: Exception) -> ModelError:
    """Explain why ``torch.load(weights_only=True)`` refused ``path``."""
    try:
        globals_, strings = _pickle_globals(path)
    except Exception:  # noqa: BLE001
        globals_, strings = [], set()
    is_module = any(g.startswith("torch.nn.modules.") for g in globals_) or "_modules" in strings and "_parameters" in strings
    if is_module:
        own = [g for g in globals_ if not g.startswith(("torch.", "collections.", "builtins.", "_codecs."))]
        cls = own[0] if own else next((g for g in globals_ if g.startswith("torch.nn.modules.")), "nn.Module")
        return ModelError(
            f"{path.name} holds a whole pickled model ({cls}), not a state dict. Loading it would run code "
            "from the file, which GradFlip never does. Save the weights instead, "
            f"torch.save(model.state_dict(), '{path.stem}.state_dict.pth'), and load that file naming its "
            "architecture (for a torchvision architecture), or export the model to TorchScript or ONNX."
        )
    unsafe = [g for g in globals_ if not g.startswith(_SAFE_GLOBAL_PREFIXES)]
    if unsafe:
        shown = ", ".join(unsafe[:5]) + (" …" if len(unsafe) > 5 else "")
        return ModelError(
            f"refused to load {path.name}: it contains pickled Python objects that are not tensors ({shown}). "
            "GradFlip never unpickles arbitrary objects, because unpickling can run code. "
            "Save only the weights: torch.save(model.state_dict(), PATH)."
        )
    return ModelError(f"cannot read {path.name} as PyTorch weights: {short_reason(exc)}")


def short_reason(exc: Exception, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_weights(path: Path) -> Any:
    """``torch.load(weights_only=True)`` with user-facing errors; never unpickles arbitrary objects."""
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": noise for users
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError, EOFError ...
        raise _refusal(path, exc) from None


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


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
            keys = ", ".join(map(str, list(obj)[:8]))
            raise ModelError(
                f"{name} holds a checkpoint with entries ({keys}) but none of them is a state dict of tensors; "
                f"expected the weights themselves or an entry named {', '.join(WRAPPER_KEYS[:3])}"
            )
        what = type(obj).__name__
        raise ModelError(f"{name} holds a {what}, not a state dict (a mapping of parameter names to tensors)")
    if not _is_tensor_dict(obj):
        raise ModelError(f"{name} does not hold a state dict (a mapping of parameter names to tensors)")
    sd = dict(obj)
    for prefix in ALWAYS_STRIP:
        if all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix):]: v for k, v in sd.items()}
            notes.append(f"removed the '{prefix}' prefix of the weight names")
    return sd, notes
