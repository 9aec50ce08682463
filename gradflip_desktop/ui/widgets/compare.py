"""The comparison panel (View ▸ Compare Methods): GradFlip's map next to Grad-CAM and gradient saliency (and
RISE, when its box is ticked), and how faithful each map is on this photo (deletion and insertion areas)."""

from __future__ import annotations

import html

import pyqtgraph as pg

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from gradflip_desktop.core.faithfulness import FILL_NAMES, area_text, same_area

from .fitted_label import FittedLabel
from .image_panel import ImagePanel

RISE_STOP = " · Esc or unticking “RISE too” stops it: the masks so far are kept, and ticking it again goes on from them"

CHECK_TIP = (
    "Deletion: the map's top pixels are replaced by the fill-in, 5 % more at each point, and the probability of the "
    "explained class is read; the area under that curve is lower when the map puts first what the model needs. "
    "Insertion: from the fill-in, the top pixels are put back; the area is higher when the class returns sooner "
    "(Petsiuk et al. 2018). Bold: the best of the maps. Gradient saliency is scored unsmoothed (|∂z/∂x|, as "
    "gradflip check and benchmarks/faithfulness.py score it); the panel shows it smoothed. The fill-in here is the "
    "blurred photo, which removes detail as GradFlip's key region and blur styles do, so it suits GradFlip's map: "
    "gradflip check also measures the mean colour and black (all three by default), over a folder of results too "
    "(with RISE: --rise 1000). Under black, Grad-CAM's broad blobs often bring the class back sooner."
)
# after the fill-in's name when it is the blur: the numbers' one condition that favours GradFlip
BLUR_NOTE = ", which removes detail as GradFlip does; gradflip check also measures the mean colour and black"


COMPARE_TIPS = {
    "GradFlip": "GradFlip's map. Key-region style: how much each region's detail had to go for the class to flip, "
                "and had to stay for it to come back (the two mask searches). Other styles: where the flipping "
                "change is largest (smoothed), or how much each pixel was blurred.",
    "Grad-CAM": "Grad-CAM weights the feature maps of one layer of the network (named in the caption: the last "
                "block before the classifier) by how much they raise the class. Its map is as coarse as that "
                "layer's grid (e.g. 7×7 cells), upsampled to the photo.",
    "Gradient saliency": "Gradient saliency: how strongly each pixel's value moves the class score (|∂z/∂x|), "
                         "shown smoothed like GradFlip's map; the numbers below score it as computed, unsmoothed "
                         "(as gradflip check does).",
    "RISE": "RISE (Petsiuk et al. 2018), the strongest and slowest of the usual methods: the photo is shown to the "
            "model through 1,000 random masks of 7×7 soft cells (black elsewhere); each pixel's importance is the mean "
            "probability of the explained class over the masks that kept it. 1,000 model calls: tens of seconds.",
}
RISE_BOX = "RISE too (1,000 model calls)"
RISE_BOX_TIP = ("Also compute RISE's map, the strongest of the usual methods and the slowest (1,000 model calls: "
                "about 25 s at 224 px on two CPU cores, more at larger working sizes), and measure it beside the other maps. Remembered.")


# each map is drawn to its own scale (core.viz.maps: full brightness at its top 0.5 %), as the figure says: without
# a colour bar the heading says it (maps of different units side by side)
SCALE = "(brighter = more important; each map at full brightness in its own top 0.5 %)"

class CompareViews(QWidget):
    """The comparison panel: GradFlip's importance map next to Grad-CAM and gradient saliency of the
    same image and class, each as a heat overlay over the greyscale photo with a caption."""

    TITLES = ("GradFlip", "Grad-CAM", "Gradient saliency", "RISE")  # RISE's panel only while its box is ticked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.heading = FittedLabel(min_lines=1)  # as tall as its lines: a wrapped QLabel's second line squeezed the maps
        self.rise_box = QCheckBox(RISE_BOX)  # the controller connects it (setting, panel, a new comparison)
        self.rise_box.setToolTip(RISE_BOX_TIP)
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
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.rise_box)
        layout.addLayout(top)
        layout.addLayout(row, 1)
        layout.addWidget(self.check)
        self.panel("RISE").hide()
        self.clear()

    def set_rise_shown(self, shown: bool) -> None:
        """RISE's panel and its box (the box's signal is not emitted)."""
        self.rise_box.blockSignals(True)
        self.rise_box.setChecked(bool(shown))
        self.rise_box.blockSignals(False)
        self.panel("RISE").setVisible(bool(shown))

    def link_to(self, view: pg.ViewBox) -> None:
        """Zoom and pan with the main panels."""
        for panel in self.panels:
            panel.view.setXLink(view)
            panel.view.setYLink(view)

    def panel(self, title: str) -> ImagePanel:
        return self.panels[self.TITLES.index(title)]

    def clear(self, text: str = "Press Explain: the maps of the methods appear here after the run.") -> None:
        self.heading.setText(text)
        self._set_check("")
        for panel in self.panels:
            panel.set_image(None)
            panel.caption.setText("")

    def show_comparison(self, comparison, class_label: str) -> None:
        """``class_label``: what every map explains, a class or a group run's group ("any cat": Grad-CAM and saliency
        of the group too, controllers.comparison)."""
        rise = any(p.title == "RISE" and (p.rgb is not None or p.caption.startswith("computing")) for p in comparison.panels)
        maps = sum(p.rgb is not None for p in comparison.panels if p.title != "RISE") + rise  # it said "Three" over two
        count = {2: "Two", 3: "Three", 4: "Four"}.get(maps)
        self.heading.setText(f"{f'{count} explanations' if count else 'Explanations'} of <b>{class_label}</b> on "
                             f"the same image {SCALE}")
        present = {p.title for p in comparison.panels}
        for title, panel in zip(self.TITLES, self.panels):  # a panel without a map here (RISE's) shows nothing old
            if title not in present:
                panel.set_image(None)
                panel.caption.setText("")
        for item in comparison.panels:
            if item.title not in self.TITLES:
                continue
            panel = self.panel(item.title)
            panel.set_image(item.rgb)
            pending = item.rgb is None and item.caption.startswith("computing")
            stop = RISE_STOP if pending and item.title == "RISE" else ""  # say how to stop it (Esc, or its box)
            panel.caption.setText(item.caption + stop if item.rgb is not None or pending else f"not available: {item.caption}")
            # a narrow panel cut the stop note ("…the masks so far are kept, and…"): its tooltip has it whole
            panel.caption.setToolTip("\n\n".join(t for t in (COMPARE_TIPS.get(item.title, ""), stop.strip(" ·")) if t))
        pending = next((p.caption for p in comparison.panels if p.title == "RISE" and p.rgb is None and p.values is None
                        and p.caption.startswith("computing")), "")
        measured = getattr(comparison, "measured", "")
        self._set_check(f"RISE's map first ({pending}), then how fast each map's top pixels remove the class and bring "
                        "it back …" if pending else "Measuring how fast each map's top pixels remove the class and bring it back …"
                        + (f" ({measured} done)" if measured else ""))
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
        bold = not check.flat()  # "the curves cannot tell the maps apart": no number in bold either
        parts = []
        for c in check.curves:  # the best of each curve in bold, every map that ties with it too
            d, i = area_text(c.deletion_auc), area_text(c.insertion_auc)
            d = f"<b>{d}</b>" if bold and same_area(c.deletion_auc, dele.deletion_auc) else d
            i = f"<b>{i}</b>" if bold and same_area(c.insertion_auc, ins.insertion_auc) else i
            parts.append(f"{html.escape(c.name, quote=False)} {d} / {i}")
        points = len(check.curves[0].fractions) if check.curves else 0
        verdict = check.verdict()  # "" with one map only (Grad-CAM and saliency unavailable): nothing to compare
        fill = f"{html.escape(FILL_NAMES.get(check.fill, check.fill))} as fill-in{BLUR_NOTE if check.fill == 'blur' else ''}"
        head = f"On this photo, {html.escape(verdict, quote=False)}. Deletion" if verdict else "On this photo: deletion"
        self._set_check(
            f"{head} ↓ / insertion ↑ area (under each curve: lower / higher is better): {' · '.join(parts)} "
            f"({points} points, {fill})"
        )  # the blur alone flatters GradFlip: said where the numbers are, not only in the tooltip

    def set_background(self, color) -> None:
        for panel in self.panels:
            panel.set_background(color)


__all__ = ["CompareViews", "COMPARE_TIPS", "RISE_BOX"]
