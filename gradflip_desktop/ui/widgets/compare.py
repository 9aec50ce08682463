"""The comparison panel (View ▸ Compare Methods): GradFlip's map next to Grad-CAM and gradient saliency,
and how faithful each map is on this photo (deletion and insertion areas)."""

from __future__ import annotations

import html

import pyqtgraph as pg

from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from gradflip_desktop.core.faithfulness import FILL_NAMES, TIE

from .fitted_label import FittedLabel
from .image_panel import ImagePanel

CHECK_TIP = (
    "Deletion: the map's top pixels are replaced by the fill-in, 5 % more at each point, and the probability of the "
    "explained class is read; the area under that curve is lower when the map puts first what the model needs. "
    "Insertion: from the fill-in, the top pixels are put back; the area is higher when the class returns sooner "
    "(Petsiuk et al. 2018). Bold: the best of the three. Gradient saliency is scored unsmoothed (|∂z/∂x|, as "
    "gradflip check and benchmarks/faithfulness.py score it); the panel shows it smoothed. gradflip check "
    "measures the same over a folder of results."
)


COMPARE_TIPS = {
    "GradFlip": "GradFlip's map. Key-region style: how much each region's detail had to go for the class to flip, "
                "and had to stay for it to come back (the two mask searches). Other styles: where the flipping "
                "change is largest (smoothed), or how much each pixel was blurred.",
    "Grad-CAM": "Grad-CAM weights the feature maps of one layer of the network (named in the caption: the last "
                "block before the classifier) by how much they raise the class. Its map is as coarse as that "
                "layer's grid (e.g. 7×7 cells), upsampled to the photo.",
    "Gradient saliency": "Gradient saliency: how strongly each pixel's value moves the class score (|∂z/∂x|), "
                         "smoothed like GradFlip's map.",
}


class CompareViews(QWidget):
    """The comparison panel: GradFlip's importance map next to Grad-CAM and gradient saliency of the
    same image and class, each as a heat overlay over the greyscale photo with a caption."""

    TITLES = ("GradFlip", "Grad-CAM", "Gradient saliency")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.heading = FittedLabel(min_lines=1)  # as tall as its lines: a wrapped QLabel's second line squeezed the maps
        self.check = FittedLabel(min_lines=1)  # the maps' deletion and insertion areas on this photo
        self.check.hide()  # shown with text only: an empty line would take the maps' height at small sizes
        self.panels = [ImagePanel(t) for t in self.TITLES]
        row = QHBoxLayout()
        row.setSpacing(4)
        for panel in self.panels:
            panel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            panel.graphics.setMinimumHeight(64)  # smaller than the main panels': 1024×700 fits without scrolling
            row.addWidget(panel, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.heading)
        layout.addLayout(row, 1)
        layout.addWidget(self.check)
        self.clear()

    def link_to(self, view: pg.ViewBox) -> None:
        """Zoom and pan with the main panels."""
        for panel in self.panels:
            panel.view.setXLink(view)
            panel.view.setYLink(view)

    def panel(self, title: str) -> ImagePanel:
        return self.panels[self.TITLES.index(title)]

    def clear(self, text: str = "Press Explain: the maps of the three methods appear here after the run.") -> None:
        self.heading.setText(text)
        self._set_check("")
        for panel in self.panels:
            panel.set_image(None)
            panel.caption.setText("")

    def show_comparison(self, comparison, class_label: str, explained: str | None = None) -> None:
        """``class_label``: the class Grad-CAM and saliency explain; ``explained``: what GradFlip's map
        explains when that differs (a group run: "any cat")."""
        if explained and explained != class_label:
            self.heading.setText(
                f"GradFlip's map of <b>{explained}</b> next to Grad-CAM and gradient saliency of "
                f"<b>{class_label}</b>, the top class (brighter = more important)"
            )
        else:
            self.heading.setText(
                f"Three explanations of <b>{class_label}</b> on the same image (brighter = more important)"
            )
        for item in comparison.panels:
            if item.title not in self.TITLES:
                continue
            panel = self.panel(item.title)
            panel.set_image(item.rgb)
            panel.caption.setText(item.caption if item.rgb is not None else f"not available: {item.caption}")
            panel.caption.setToolTip(COMPARE_TIPS.get(item.title, ""))
        self._set_check("Measuring how fast each map's top pixels remove the class and bring it back …")
        self.check.setToolTip(CHECK_TIP)

    def _set_check(self, text: str) -> None:
        self.check.setText(text)
        self.check.setVisible(bool(text))

    def show_check(self, check, note: str = "") -> None:
        """The maps' deletion and insertion areas on this photo (a
        :class:`~gradflip_desktop.core.faithfulness.FaithfulnessCheck`), or ``note``: why there are none."""
        if check is None:
            self._set_check(html.escape(note))
            return
        dele, ins = (check.curve(name) for name in check.best())
        parts = []
        for c in check.curves:  # the best of each curve in bold, every map that ties with it too
            d = f"<b>{c.deletion_auc:.3f}</b>" if abs(c.deletion_auc - dele.deletion_auc) <= TIE else f"{c.deletion_auc:.3f}"
            i = f"<b>{c.insertion_auc:.3f}</b>" if abs(c.insertion_auc - ins.insertion_auc) <= TIE else f"{c.insertion_auc:.3f}"
            parts.append(f"{html.escape(c.name, quote=False)} {d} / {i}")
        points = len(check.curves[0].fractions) if check.curves else 0
        verdict = check.verdict()  # "" with one map only (Grad-CAM and saliency unavailable): nothing to compare
        head = f"On this photo, {html.escape(verdict, quote=False)}. Deletion" if verdict else "On this photo: deletion"
        self._set_check(
            f"{head} ↓ / insertion ↑: {' · '.join(parts)} "
            f"({points} points, {html.escape(FILL_NAMES.get(check.fill, check.fill))} as fill-in)"
        )

    def set_background(self, color) -> None:
        for panel in self.panels:
            panel.set_background(color)


__all__ = ["CompareViews", "COMPARE_TIPS"]
