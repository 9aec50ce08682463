"""The checks of :class:`~.classifier.Preprocessing`'s fields, and the forms a Python caller writes them in made
the one form the rest reads: ``input_size=224`` or a list or numpy array → ``(224, 224)``; ``mean=0.5``, a
list, a numpy array or a tensor → a tuple of floats; numpy integers → int. A value of the wrong kind is one
:class:`ModelError` naming the form it needs (``mean=0.5`` was "object of type 'float' has no len()",
``input_size="32x32"`` "too many values to unpack", and ``input_size=(32.5, 32)`` was taken)."""

from __future__ import annotations

import math
import numbers

from ..errors import ModelError

RESIZES = ("squash", "center-crop", "squash-crop")  # how a photo reaches the input size (Preprocessing's doc)
INTERPOLATIONS = ("bilinear", "bicubic")  # the resize's kernels; "nearest" passes the gradient to 1 pixel in n², and
# torch's nearest is not Pillow's: refused by name, it was silently bilinear
MAX_SIDE = 8192  # the largest input size and resize size, in pixels
# the end of the note on a model file's own kernel that GradFlip cannot take (timm's "nearest", Pillow's Lanczos):
# the loader drops the note when the settings then choose bicubic, as it advises (it went on saying "bilinear")
RESIZE_NOTE = "; GradFlip resizes with bilinear (or bicubic: \"interpolation\" in the model's .gradflip.json sidecar)"
CROPS = RESIZES[1:]  # the modes that crop the centre: the rest of the photo is not seen


def _whole(value, what: str) -> int:
    if isinstance(value, (bool, str)) or not isinstance(value, numbers.Real) or not float(value).is_integer():
        raise ModelError(f"{what} must be a whole number, not {value!r}")
    return int(value)


def _numbers(value, what: str) -> tuple[float, ...]:
    items = [value] if isinstance(value, numbers.Real) or getattr(value, "ndim", None) == 0 else value
    try:
        if isinstance(items, (str, bytes)):
            raise TypeError
        return tuple(float(v) for v in items)
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be a number or a list of numbers, e.g. (0.5, 0.5, 0.5), not {value!r}") from None


def checked_fields(pre) -> dict:
    """``pre``'s fields in their one form (see the module), or a :class:`ModelError` for a value that cannot be."""
    size = pre.input_size
    size = [size, size] if isinstance(size, numbers.Real) or getattr(size, "ndim", None) == 0 else size
    if isinstance(size, (str, bytes)) or not hasattr(size, "__len__") or len(size) != 2:  # noqa: PLR2004
        raise ModelError(f"input size must be (height, width) in whole pixels, e.g. (224, 224), not {pre.input_size!r}")
    out = {"input_size": tuple(_whole(v, "input size") for v in size), "mean": _numbers(pre.mean, "mean"),
           "std": _numbers(pre.std, "std"), "channels": _whole(pre.channels, "channels")}
    if pre.resize_size is not None:
        out["resize_size"] = _whole(pre.resize_size, "resize size")
        if out["resize_size"] < 1:
            raise ModelError(f"resize size must be at least 1 pixel, not {pre.resize_size!r}")
        if out["resize_size"] > MAX_SIDE:  # 10**8 asked for a 10**17-byte tensor, blamed on the model's code
            raise ModelError(f"resize size {out['resize_size']} out of range (1 to {MAX_SIDE} px)")
    if pre.resize not in RESIZES:
        raise ModelError(f"unknown resize mode {pre.resize!r} (use 'squash', 'center-crop' or 'squash-crop')")
    interp = pre.interpolation
    if not isinstance(interp, str) or interp.strip().lower() not in INTERPOLATIONS:
        raise ModelError(f"interpolation {interp!r} is not supported (use {' or '.join(map(repr, INTERPOLATIONS))})")
    out["interpolation"] = interp.strip().lower()
    channels, mean, std = out["channels"], out["mean"], out["std"]
    if channels not in (1, 3):
        raise ModelError(f"channels must be 1 or 3, not {pre.channels}")
    if channels == 1:  # Preprocessing(channels=1) kept ImageNet's three values and was refused: their average, as a
        # dict or --channels 1 gives (models/files/spec.py); three values of one's own are still refused
        mean, std = (tuple(v) if len(v) != 3 or v != tuple(getattr(type(pre), k)) else (sum(v) / 3,)  # noqa: PLR2004
                     for k, v in (("mean", mean), ("std", std)))
        out["mean"], out["std"] = mean, std
    if len(mean) not in (1, channels) or len(std) not in (1, channels):  # it said "need 1 or 1 values"
        raise ModelError(f"mean/std need {'1 value' if channels == 1 else f'1 or {channels} values'} for "
                         f"{channels} channel{'s' if channels > 1 else ''}, not {len(mean)} / {len(std)}")
    if not all(math.isfinite(v) for v in (*mean, *std)):  # a NaN mean made every output NaN
        raise ModelError(f"mean and std must be finite numbers, not {list(mean)} / {list(std)}")
    if any(s <= 0 for s in std):
        raise ModelError("std values must be positive")
    if max(mean) > 1:  # mmpretrain's/Caffe's 123.675: pixels here are in [0, 1], so every input was near -2
        # a std on that scale too (58.395; Caffe's 1) is divided with it; one under 1 (ImageNet's 0.229, the default
        # when only --mean was given) is on the [0, 1] scale already: dividing it made the hint 0.000898
        both = max(std) >= 1
        scaled = ",".join(f"{v / 255:.4g}" for v in mean), ",".join(f"{v / 255 if both else v:.4g}" for v in std)
        raise ModelError(f"mean {list(mean)} is on the 0-255 scale, but pixels here are in [0, 1]: divide "
                         f"{'mean and std' if both else 'mean'} by 255 (mean {scaled[0]}, std {scaled[1]})")
    h, w = out["input_size"]
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise ModelError(f"input size {'×'.join(map(str, out['input_size']))} out of range (1 to {MAX_SIDE} px per side)")
    return out
