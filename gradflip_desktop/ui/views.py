"""Original | Adjusted | Difference, side by side, with synchronised zoom and pan and captions."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from .background import AMPLIFIED, DIFF_MODES, KEY_PIXELS, MAGNITUDE, ColorBar, DiffImage

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


_COLORMAPS: dict[int, pg.ColorMap] = {}


def colormap_from_lut(lut: np.ndarray) -> pg.ColorMap:
    """A pyqtgraph ColorMap of an N x 3 float LUT (cached: the core's LUTs are module constants)."""
    key = id(lut)
    if key not in _COLORMAPS:
        a = np.asarray(lut, dtype=np.float32)
        _COLORMAPS[key] = pg.ColorMap(np.linspace(0.0, 1.0, len(a)), np.clip(np.rint(a * 255), 0, 255).astype(np.uint8))
    return _COLORMAPS[key]


class ImagePanel(QWidget):
    """A title, an image in a pan/zoom view (y down, square pixels) and a caption."""

    def __init__(self, title: str, parent: QWidget | None = None, header: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setObjectName(f"title-{title.lower()}")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(180, 140)
        self.graphics.setAcceptDrops(False)  # files dropped here go to the window
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view: pg.ViewBox = self.graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.0)
        self.image_item = pg.ImageItem()
        self.view.addItem(self.image_item)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setMinimumHeight(self.caption.fontMetrics().lineSpacing() * 2 + 4)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        if header is not None:
            top.addWidget(header)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)
        self._shape: tuple[int, ...] | None = None

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show an H x W x 3 uint8 image (None clears)."""
        if rgb is None:
            self.image_item.clear()
            self._shape = None
            return
        self.image_item.setImage(rgb, autoLevels=False, levels=(0, 255))
        if rgb.shape != self._shape:
            self._shape = rgb.shape
            self.view.autoRange(padding=0.0)

    def image(self) -> np.ndarray | None:
        return self.image_item.image

    def set_background(self, color) -> None:
        self.graphics.setBackground(color)


class ResultViews(QWidget):
    """The three image panels. Difference mode and the opacity/gain slider live above the Difference."""

    diff_settings_changed = Signal()

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
        header = QWidget()
        h = QHBoxLayout(header)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.mode_box)
        h.addWidget(self.slider_label)
        h.addWidget(self.slider)

        self.original = ImagePanel("Original")
        self.adjusted = ImagePanel("Adjusted")
        self.difference = ImagePanel("Difference", header=header)
        self.colorbar = pg.ColorBarItem(values=(0, 1), width=14, interactive=False, colorMapMenu=False)
        self.colorbar.axis.setWidth(62)
        self.difference.graphics.addItem(self.colorbar, row=0, col=1)
        self.colorbar.hide()
        for panel in (self.adjusted, self.difference):
            panel.view.setXLink(self.original.view)
            panel.view.setYLink(self.original.view)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for panel in (self.original, self.adjusted, self.difference):
            layout.addWidget(panel, 1)

        self._opacity = 0.75
        self._gain: float | None = None  # None = automatic
        self._auto_gain = 1.0
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.slider.valueChanged.connect(self._slider_moved)

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
        self.diff_settings_changed.emit()

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
        self.adjusted.set_image(None)
        self.difference.set_image(None)
        self.adjusted.caption.setText("")
        self.difference.caption.setText("")
        self.colorbar.hide()

    def show_difference(self, diff: DiffImage) -> None:
        self.difference.set_image(diff.rgb)
        self._set_colorbar(diff.colorbar)
        if diff.gain is not None:
            if self._gain is None:
                self._auto_gain = diff.gain
            if self.mode == AMPLIFIED:
                self._sync_slider()

    def _set_colorbar(self, bar: ColorBar | None) -> None:
        if bar is None:
            self.colorbar.hide()
            return
        cmap = colormap_from_lut(bar.lut)
        if self.colorbar.colorMap() is not cmap:
            self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels(values=(bar.low, bar.high))
        if self.colorbar.axis.labelText != bar.label:
            self.colorbar.axis.setLabel(bar.label)
        self.colorbar.show()

    def set_background(self, color, foreground) -> None:
        for panel in (self.original, self.adjusted, self.difference):
            panel.set_background(color)
        for name in ("left", "right", "top", "bottom"):
            ax = self.colorbar.getAxis(name)
            ax.setPen(foreground)
            ax.setTextPen(foreground)

    def fit(self) -> None:
        self.original.view.autoRange(padding=0.0)


__all__ = ["ImagePanel", "ResultViews", "MAGNITUDE", "KEY_PIXELS", "AMPLIFIED"]
