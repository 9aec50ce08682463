"""Qt-free core of GradFlip: images, models, the explanation algorithm and export.

Nothing under ``gradflip_desktop.core`` imports Qt; the package is importable without a display, and
importing it (or :mod:`gradflip_desktop.core.options`) does not import torch: the names below are
loaded on first use.

Explain one photo in five lines::

    from gradflip_desktop.core import ExplainOptions, load_default_model, load_image, run
    model = load_default_model()                      # EfficientNet-Lite0, shipped weights, offline
    image = load_image("cat.jpg")                     # ImageData: .pixels float32 H x W x 3 in [0, 1]
    result = run(model, image, ExplainOptions(max_steps=200))
    print(result.status, result.original.label, "->", result.final.label)

``gradflip_desktop.core.explain.explain`` is the same run as a generator of :class:`Step` (for live
progress and cancellation; ``core.explain`` itself is the subpackage, so it is not re-exported here);
``write_result_set(result, out_dir, name)`` writes the figure, the adjusted PNG, the maps and the record.
"""

from __future__ import annotations

from .lazy import lazy_names

# public name -> module that defines it (one place for each fact)
_EXPORTS = {
    "load_image": "images",
    "from_array": "images",  # the error messages for an array given to run() name it (a reviewer: not exported)
    "ImageData": "images",
    "load_classifier": "models",
    "load_default_model": "models",
    "classifier_from_module": "models",
    "Preprocessing": "models",
    "Classifier": "models",
    "ExplainOptions": "options",
    "Status": "options",
    "run": "explain",
    "Step": "results",
    "ExplainResult": "results",
    "write_result_set": "report",
    "GradFlipError": "errors",
    "ImageError": "errors",
    "PixelsError": "errors",
    "ModelError": "errors",
    "ExportError": "errors",
    "ResultExistsError": "errors",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
