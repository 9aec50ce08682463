"""The arguments of a run, checked: one readable line for a wrong kind of classifier, options or image, and the
image's pixels as the search takes them (H x W x 3 float32 in [0, 1])."""

from __future__ import annotations

import functools
import os

import numpy as np
import torch
from PIL import Image

from ..errors import PixelsError
from ..images import ImageData, from_array, load_image
from ..images.pixels import ROUNDING
from ..models import Classifier
from ..options import ExplainOptions


def check_arguments(classifier, image, options) -> None:
    """One readable line for arguments of the wrong kind (swapped, a dict of options), not float()'s or
    AttributeError's words from deep inside."""
    if not isinstance(classifier, Classifier):
        swapped = " (the order is run(classifier, image, options))" if isinstance(image, Classifier) else ""
        raise TypeError(f"classifier must be a Classifier (load_default_model() or load_classifier(path)), "
                        f"not {type(classifier).__name__}{swapped}")
    if options is not None and not isinstance(options, ExplainOptions):
        hint = ": write ExplainOptions(**options)" if isinstance(options, dict) else ""
        raise TypeError(f"options must be an ExplainOptions, not {type(options).__name__}{hint}")


def as_image(image):
    """A Pillow image as :func:`~..images.from_array` reads it (as a file's pixels: palette, CMYK, alpha, 16-bit;
    the working size), so that its record has the image's notes; a path (``str`` or ``os.PathLike``) as
    :func:`~..images.load_image` loads it (``run(model, "photo.jpg")`` was refused: "load it first"); anything else
    as it is."""
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)
    return from_array(image) if isinstance(image, Image.Image) else image


def pixels_of(image: ImageData | np.ndarray) -> np.ndarray:
    if isinstance(image, (bytes, bytearray)):  # was numpy's "could not convert string to float" (a path is loaded)
        raise PixelsError(f"image must be pixels (an ImageData or an H x W x 3 array in [0, 1]) or a path, not "
                         f"{len(image):,} bytes: a file's bytes are read by gradflip_desktop.core.load_image(data)")
    if isinstance(image, torch.Tensor):  # one that requires grad or is on a GPU: torch's error, not an array
        image = image.detach().cpu()
        image = image.float() if image.dtype == torch.bfloat16 else image  # numpy has no bfloat16: torch's TypeError
        if image.ndim == 4 and image.shape[0] == 1 and image.shape[1] == 3:  # one image as a model takes it, as
            image = image[0].permute(1, 2, 0)  # classify() takes it (run() said "a batch: one image at a time")
    raw = image.pixels if isinstance(image, ImageData) else np.asarray(image)
    pixels = np.asarray(raw, dtype=np.float32)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        hint = (" (grayscale, or 1 or 4 channels: gradflip_desktop.core.images.from_array(array) makes an RGB ImageData)"
                if pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (1, 4)) else
                " (channels first: the channels go last, e.g. tensor.permute(1, 2, 0))"
                if pixels.ndim == 3 and pixels.shape[0] == 3 else
                f" (a batch: one image at a time, e.g. x[0]{'.permute(1, 2, 0)' if pixels.shape[1] == 3 else ''})"
                if pixels.ndim == 4 and 3 in (pixels.shape[1], pixels.shape[3]) else "")
        raise PixelsError(f"image must be H x W x 3, got {pixels.shape}{hint}")
    if pixels.size == 0:
        raise PixelsError(f"image is empty (shape {pixels.shape})")
    low, high = float(pixels.min()), float(pixels.max())  # NaN and infinity reach these
    finite = bool(np.isfinite(low) and np.isfinite(high))
    if finite and -ROUNDING <= low and high <= 1 + ROUNDING:  # float rounding (one float32 step above 1): clipped,
        return pixels if 0 <= low and high <= 1 else np.clip(pixels, 0.0, 1.0)  # as classify() takes it
    levels = raw.dtype.kind in "iu" or (finite and low >= 0 and 20 < high <= 255)
    hint = (f" (these are {raw.dtype} values{f' up to {high:.0f}' if high > 1 else ''}: divide by 255, or use "
            "gradflip_desktop.core.images.from_array)") if levels else (
            f" (values down to {low:.4g}: give the photo before normalisation, or use "
            "gradflip_desktop.core.images.from_array)") if finite and low < 0 else ""
    raise PixelsError(f"image pixels must be finite and lie in [0, 1]{hint}")


class CallerError(BaseException):
    """An exception raised by the caller's ``should_stop``, carried through the run (a BaseException: past the
    handlers that turn a model's exception into the status ``model_error``, and past those that let an optional
    pass fail quietly) and raised again, as it was, by :func:`callers_errors_raised`."""


def callers_errors_raised(explain_fn):
    """``explain_fn(classifier, image, options, should_stop)`` (a generator) with its ``should_stop`` guarded: an
    exception of the caller's callback reaches the caller as itself. It was reported as the model's fault ("the model
    failed during the run: ZeroDivisionError …", status ``model_error``), hiding the caller's bug."""

    @functools.wraps(explain_fn)
    def explain(classifier, image, options=None, should_stop=None):
        def stop() -> bool:
            try:
                return bool(should_stop()) if should_stop is not None else False
            except Exception as exc:  # noqa: BLE001 - raised again by the caller's own frame, below
                raise CallerError() from exc

        try:
            return (yield from explain_fn(classifier, image, options, should_stop=stop))
        except CallerError as carried:
            raise carried.__cause__ from None

    return explain
