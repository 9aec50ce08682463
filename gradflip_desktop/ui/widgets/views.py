"""Original | Adjusted | Difference, side by side, with synchronised zoom and pan and captions."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from gradflip_desktop.core.viz.difference import AMPLIFIED, DIFF_MODES, KEY_PIXELS, MAGNITUDE, ColorBar, DiffImage
from gradflip_desktop.core.viz.display import box_downsample

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


_COLORMAPS: dict[int, pg.ColorMap] = {}


def colormap_from_lut(lut: np.ndarray) -> pg.ColorMap:
    """A pyqtgraph ColorMap of an N x 3 float LUT (cached: the core's LUTs are module constants)."""
    key = id(lut)
    if key not in _COLORMAPS:
        a = np.asarray(lut, dtype=np.float32)
        _COLORMAPS[key] = pg.ColorMap(np.linspace(0.0, 1.0, len(a)), np.clip(np.rint(a * 255), 0, 255).astype(np.uint8))
    return _COLORMAPS[key]


class FastImageItem(pg.ImageItem):
    """An ImageItem whose automatic downsampling of 8-bit RGB images is cheap.

    pyqtgraph downsamples a zoomed-out image in ``render()``, on the GUI thread, at the first paint
    after every ``setImage``: a float mean of the whole image, about 15–30 ms for a 1024 px image, and
    the Adjusted and Difference panels each pay it in the same frame. Here an 8-bit image is reduced
    with an integer box filter (the same mean, rounded; ~2 ms), reduced copies are kept per factor
    until the image changes, and a copy made ahead of time (``reduced``, e.g. by a worker thread) is
    used as it is. The full-resolution image stays the item's image: zooming in shows real pixels.
    """

    def __init__(self, *args, **kwargs):
        self._reduced: tuple[object, dict[tuple[int, int], np.ndarray]] = (None, {})
        super().__init__(*args, **kwargs)

    def set_reduced(self, reduced: dict[tuple[int, int], np.ndarray] | None) -> None:
        """Reduced copies of the current image by (x, y) factor, made elsewhere (call after setImage)."""
        self._reduced = (self.image, dict(reduced or {}))

    def render(self):  # noqa: D401 - pyqtgraph API
        image = self.image
        if (
            not self.autoDownsample
            or image is None
            or not isinstance(image, np.ndarray)
            or image.dtype != np.uint8
            or image.ndim != 3
            or image.shape[2] not in (3, 4)
            or self.axisOrder != "row-major"
        ):
            return super().render()
        xds, yds = self._computeDownsampleFactors()
        if xds is None:
            return super().render()
        owner, cache = self._reduced
        if owner is not image:
            cache = {}
            self._reduced = (image, cache)
        small = image
        if (xds, yds) != (1, 1):
            small = cache.get((xds, yds))
            if small is None:
                small = cache[(xds, yds)] = box_downsample(image, xds, yds)
        if small.size == 0:  # a view too small for one block (pyqtgraph: nothing to draw)
            self._unrenderable = True
            return None
        small = np.ascontiguousarray(small)
        levels = self.levels
        if image.shape[2] == 4 and levels is not None:
            return super().render()
        from pyqtgraph import functions_qimage

        qimage = functions_qimage.try_make_qimage(small, levels=levels, lut=None)
        if qimage is None:
            return super().render()
        self._lastDownsample = (xds, yds)
        self._imageNanLocations = None
        self._processingBuffer = None
        self._displayBuffer = None
        self.qimage = qimage
        self._renderRequired = False
        self._unrenderable = False


class ImagePanel(QWidget):
    """A title, an image in a pan/zoom view (y down, square pixels) and a caption."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setObjectName(f"title-{title.lower()}")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(180, 140)
        self.graphics.setAcceptDrops(False)  # files dropped here go to the window
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view: pg.ViewBox = self.graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.0)
        self.image_item = FastImageItem()
        self.image_item.setAutoDownsample(True)  # big images paint fast when zoomed out
        self.view.addItem(self.image_item)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setFixedHeight(self.caption.fontMetrics().lineSpacing() * 2 + 6)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)
        self._shape: tuple[int, ...] | None = None

    def set_image(
        self,
        rgb: np.ndarray | None,
        extent: tuple[int, int] | None = None,
        reduced: dict[tuple[int, int], np.ndarray] | None = None,
    ) -> None:
        """Show an H x W x 3 uint8 image (None clears).

        ``extent``: (width, height) the image stands for when it is a reduced copy (a live preview drawn
        at about the panel's size); it then covers the same area as the full-size image would.
        ``reduced``: ready-made reduced copies of ``rgb`` by (x, y) factor (see :class:`FastImageItem`).
        """
        if rgb is None:
            self.image_item.clear()
            self._shape = None
            return
        w, h = extent if extent is not None else (rgb.shape[1], rgb.shape[0])
        self.image_item.setImage(rgb, autoLevels=False, levels=(0, 255), rect=QRectF(0, 0, w, h))
        self.image_item.set_reduced(reduced)
        shape = (h, w) + rgb.shape[2:]
        if shape != self._shape:
            self._shape = shape
            self.view.autoRange(padding=0.0)

    def display_factor(self) -> int:
        """How many image pixels (of the image's full size) share one screen pixel now, at least 1:
        the factor pyqtgraph downsamples by (1 when zoomed in or nothing is shown)."""
        item = self.image_item
        if item.image is None or self._shape is None:
            return 1
        try:
            xds, yds = item._computeDownsampleFactors()
        except Exception:  # noqa: BLE001 - not on a scene yet
            return 1
        if xds is None:
            return 1
        # relative to the image shown; a reduced image stands for a larger one
        scale = self._shape[1] / max(1, item.image.shape[1])
        return max(1, int(min(xds, yds) * scale))

    def image(self) -> np.ndarray | None:
        return self.image_item.image

    def set_background(self, color) -> None:
        self.graphics.setBackground(color)


class ResultViews(QWidget):
    """The three image panels, and a row above them with the Difference mode, opacity/gain slider, colour
    bar and key-pixel explorer."""

    diff_settings_changed = Signal()
    key_count_changed = Signal(int)  # the key-pixel explorer: show/classify the top-k changed pixels

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mode_box = QComboBox()
        for key, text in DIFF_MODES.items():
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("How the change is shown")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(75)
        self.slider.setMinimumWidth(90)
        self.slider_label = QLabel("Opacity 75 %")
        self.slider_label.setMinimumWidth(self.slider_label.fontMetrics().horizontalAdvance("Gain ×1000.0 "))
        # key-pixel explorer: a slider over k, the number of top-|change| pixels kept
        self.key_row = QWidget()
        kr = QHBoxLayout(self.key_row)
        kr.setContentsMargins(0, 0, 0, 0)
        self.key_slider = QSlider(Qt.Orientation.Horizontal)
        self.key_slider.setRange(0, 1000)
        self.key_slider.setMinimumWidth(80)
        self.key_slider.setToolTip(
            "Keep only the k pixels with the largest change (logarithmic) and see what the model says"
        )
        self.key_label = QLabel("")
        self.key_label.setMinimumWidth(self.key_label.fontMetrics().horizontalAdvance("000,000 px"))
        kr.addWidget(QLabel("Key pixels"))
        kr.addWidget(self.key_slider, 1)
        kr.addWidget(self.key_label)
        self._change_text = ""
        self._key_text = ""
        self.key_row.hide()
        self._key_total = 0
        self._key_count = 0
        self._key_found = 0

        # colour bar of the magnitude and signed maps, horizontal, in real units
        self.colorbar_view = pg.GraphicsLayoutWidget()
        self.colorbar_view.setAcceptDrops(False)
        self.colorbar_view.ci.setContentsMargins(4, 0, 12, 0)
        self.colorbar = pg.ColorBarItem(
            values=(0, 1), width=10, interactive=False, colorMapMenu=False, orientation="horizontal"
        )
        self.colorbar_view.addItem(self.colorbar)
        self.colorbar_view.setFixedHeight(52)
        self.colorbar_view.setMinimumWidth(200)
        self.colorbar_view.hide()

        # one row above the panels: Difference mode, opacity/gain, colour bar or key-pixel explorer
        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(2, 0, 2, 0)
        toolbar.addWidget(QLabel("Difference:"))
        toolbar.addWidget(self.mode_box)
        toolbar.addWidget(self.slider_label)
        toolbar.addWidget(self.slider)
        toolbar.addWidget(self.colorbar_view, 1)
        toolbar.addWidget(self.key_row, 1)
        self._spacer = QWidget()
        self._spacer.setFixedHeight(52)
        toolbar.addWidget(self._spacer, 1)

        self.original = ImagePanel("Original")
        self.adjusted = ImagePanel("Adjusted")
        self.difference = ImagePanel("Difference")
        for panel in (self.adjusted, self.difference):
            panel.view.setXLink(self.original.view)
            panel.view.setYLink(self.original.view)
        panels = QHBoxLayout()
        panels.setSpacing(4)
        for panel in (self.original, self.adjusted, self.difference):
            # equal sizes: linked views with square pixels only show the same region when equally large
            panel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            panels.addWidget(panel, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(toolbar)
        layout.addLayout(panels, 1)

        self._opacity = 0.75
        self._gain: float | None = None  # None = automatic
        self._auto_gain = 1.0
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.slider.valueChanged.connect(self._slider_moved)
        self.key_slider.valueChanged.connect(self._key_slider_moved)

    # -- difference settings ------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.mode_box.currentData()

    def set_mode(self, mode: str) -> None:
        i = self.mode_box.findData(mode)
        if i >= 0:
            self.mode_box.setCurrentIndex(i)

    @property
    def opacity(self) -> float:
        return self._opacity

    @property
    def gain(self) -> float | None:
        return self._gain

    @staticmethod
    def _gain_to_slider(gain: float) -> int:
        return int(round(100 * math.log10(max(1.0, min(1000.0, gain))) / 3))

    @staticmethod
    def _slider_to_gain(value: int) -> float:
        return float(10 ** (3 * value / 100))

    def _sync_slider(self) -> None:
        self.slider.blockSignals(True)
        if self.mode == AMPLIFIED:
            gain = self._gain or self._auto_gain
            self.slider.setValue(self._gain_to_slider(gain))
            self.slider.setToolTip("Gain: how much the change is amplified (logarithmic, ×1 to ×1000)")
            self.slider_label.setText(f"Gain ×{gain:.1f}")
        else:
            self.slider.setValue(int(round(self._opacity * 100)))
            self.slider.setToolTip("Opacity of the map over the greyscale photo")
            self.slider_label.setText(f"Opacity {round(self._opacity * 100)} %")
        self.slider.blockSignals(False)

    def _mode_changed(self) -> None:
        self._sync_slider()
        self._update_key_row()
        self.diff_settings_changed.emit()

    # -- key-pixel explorer ------------------------------------------------------------------------------
    @property
    def key_count(self) -> int | None:
        """k of the key-pixel view, or None when the explorer is off (no key pixels known)."""
        return self._key_count if self._key_total > 0 else None

    def set_key_pixels(self, total: int, found: int) -> None:
        """``total``: pixels that changed at all; ``found``: the smallest flipping set (the slider's start)."""
        self._key_total = max(0, int(total))
        self._key_found = int(found)
        self._key_count = int(found)
        self.key_slider.blockSignals(True)
        self.key_slider.setValue(self._count_to_slider(found))
        self.key_slider.blockSignals(False)
        self._update_key_row()
        self._show_key_count()

    def set_key_count(self, k: int) -> None:
        """Move the explorer to ``k`` pixels (emits key_count_changed)."""
        k = max(0, min(int(k), self._key_total))
        self.key_slider.blockSignals(True)
        self.key_slider.setValue(self._count_to_slider(k))
        self.key_slider.blockSignals(False)
        self._key_count = k
        self._show_key_count()
        self.key_count_changed.emit(k)

    def set_key_answer(self, rich_text: str) -> None:
        """What the model says with only the key pixels changed (second line of the Difference caption)."""
        self._key_text = rich_text
        self._update_difference_caption()

    def set_change_caption(self, rich_text: str) -> None:
        """The size of the change (first line of the Difference caption)."""
        self._change_text = rich_text
        self._update_difference_caption()

    def _update_difference_caption(self) -> None:
        self.set_caption(self.difference, "<br>".join(t for t in (self._change_text, self._key_text) if t))

    # -- captions ------------------------------------------------------------------------------------------
    def set_caption(self, panel: ImagePanel, rich_text: str) -> None:
        panel.caption.setText(rich_text)
        self._sync_caption_heights()

    def _sync_caption_heights(self) -> None:
        """All captions as tall as the tallest (at least 2 lines): equally large views stay aligned."""
        captions = [p.caption for p in (self.original, self.adjusted, self.difference)]
        line = captions[0].fontMetrics().lineSpacing()
        need = max(c.heightForWidth(max(60, c.width())) for c in captions)
        h = max(2 * line + 6, need + 2)
        for c in captions:
            if c.height() != h or c.minimumHeight() != h:
                c.setFixedHeight(h)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._sync_caption_heights()

    def _update_key_row(self) -> None:
        self.key_row.setVisible(self.mode == KEY_PIXELS and self._key_total > 0)
        self._update_spacer()

    def _update_spacer(self) -> None:
        # keeps the row's height and layout when neither the colour bar nor the explorer is shown
        self._spacer.setVisible(self.key_row.isHidden() and self.colorbar_view.isHidden())

    def _count_to_slider(self, k: int) -> int:
        if k <= 0 or self._key_total <= 1:
            return 0 if k <= 0 else 1000
        return int(round(1000 * math.log(k) / math.log(self._key_total)))

    def _slider_to_count(self, v: int) -> int:
        if v <= 0 or self._key_total <= 0:
            return 0
        return max(1, min(self._key_total, int(round(self._key_total ** (v / 1000)))))

    def _key_slider_moved(self, v: int) -> None:
        self._key_count = self._slider_to_count(v)
        self._show_key_count()
        self.key_count_changed.emit(self._key_count)

    def _show_key_count(self) -> None:
        self.key_label.setText(f"{self._key_count:,} px")
        mark = " (smallest flipping set)" if self._key_count == self._key_found else ""
        self.key_slider.setToolTip(f"{self._key_count:,} of {self._key_total:,} changed pixels{mark}")

    def _slider_moved(self, value: int) -> None:
        if self.mode == AMPLIFIED:
            self._gain = self._slider_to_gain(value)
        else:
            self._opacity = value / 100.0
        self._sync_slider()
        self.diff_settings_changed.emit()

    def reset_gain(self) -> None:
        """A new change arrived: amplified mode returns to its automatic gain (set when drawn)."""
        self._gain = None

    # -- content -------------------------------------------------------------------------------------
    def clear_result(self) -> None:
        self._key_total = 0
        self._change_text = self._key_text = ""
        self.key_label.setText("")
        self._update_key_row()
        self.adjusted.set_image(None)
        self.difference.set_image(None)
        self.set_caption(self.adjusted, "")
        self.set_caption(self.difference, "")
        self.colorbar_view.hide()
        self._update_spacer()

    def show_difference(self, diff: DiffImage) -> None:
        self.difference.set_image(diff.rgb, extent=getattr(diff, "extent", None))
        self._set_colorbar(diff.colorbar)
        if diff.gain is not None:
            if self._gain is None:
                self._auto_gain = diff.gain
            if self.mode == AMPLIFIED:
                self._sync_slider()

    def _set_colorbar(self, bar: ColorBar | None) -> None:
        if bar is None:
            self.colorbar_view.hide()
            self._update_spacer()
            return
        cmap = colormap_from_lut(bar.lut)
        if self.colorbar.colorMap() is not cmap:
            self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels(values=(bar.low, bar.high))
        if self.colorbar.axis.labelText != bar.label:
            self.colorbar.axis.setLabel(bar.label)
        self.colorbar_view.show()
        self._update_spacer()

    def set_background(self, color, foreground, bar_background=None) -> None:
        for panel in (self.original, self.adjusted, self.difference):
            panel.set_background(color)
        self.colorbar_view.setBackground(bar_background if bar_background is not None else color)
        for name in ("left", "right", "top", "bottom"):
            ax = self.colorbar.getAxis(name)
            ax.setPen(foreground)
            ax.setTextPen(foreground)

    def fit(self) -> None:
        self.original.view.autoRange(padding=0.0)


class CompareViews(QWidget):
    """The comparison panel: GradFlip's importance map next to Grad-CAM and gradient saliency of the
    same image and class, each as a heat overlay over the greyscale photo with a caption."""

    TITLES = ("GradFlip", "Grad-CAM", "Gradient saliency")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.heading = QLabel("")
        self.heading.setWordWrap(True)
        self.panels = [ImagePanel(t) for t in self.TITLES]
        row = QHBoxLayout()
        row.setSpacing(4)
        for panel in self.panels:
            panel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            row.addWidget(panel, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.heading)
        layout.addLayout(row, 1)
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
        for panel in self.panels:
            panel.set_image(None)
            panel.caption.setText("")

    def show_comparison(self, comparison, class_label: str) -> None:
        self.heading.setText(
            f"Three explanations of <b>{class_label}</b> on the same image (brighter = more important)"
        )
        for item in comparison.panels:
            if item.title not in self.TITLES:
                continue
            panel = self.panel(item.title)
            panel.set_image(item.rgb)
            panel.caption.setText(item.caption if item.rgb is not None else f"not available: {item.caption}")

    def set_background(self, color) -> None:
        for panel in self.panels:
            panel.set_background(color)


__all__ = ["CompareViews", "ImagePanel", "ResultViews", "MAGNITUDE", "KEY_PIXELS", "AMPLIFIED"]
