"""Original | Adjusted | Difference, side by side, with synchronised zoom and pan and captions."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from gradflip_desktop.core.viz.difference import AMPLIFIED, DIFF_MODES, KEY_PIXELS, MAGNITUDE, ColorBar, DiffImage, entry

from .bar_label import BarLabel, bar_row_height
from .colormap import colormap_from_lut
from .fitted_label import FittedLabel
from .image_panel import ImagePanel, KeyboardPan
from .slider_scales import KEY_SLIDER_STEPS, count_to_slider, gain_to_slider, slider_to_count, slider_to_gain

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

# the Original's caption's 1st line, one line in a narrow panel (two pushed "espresso — 88.2 %" to the last line, cut)
SLIDER_NOTE = "<i>outlined: the slider's set, not the run's</i><br>"
KEY_TIP = ("Key pixels: the pixels with the largest change, as many as it takes to flip the decision on their own "
           "(the rest of the photo unchanged). They are outlined on the Original. Move the slider to try more or fewer; "
           "the model's answer for that image appears here.")
KEY_REGION_TIP = ("Key region: the smallest top-ranked part of the importance map whose detail, removed alone, flips the "
                  "decision (the rest of the photo unchanged). It is outlined on the Original, and the Original is dimmed "
                  "outside it (lightened on a dark photo). Move the slider to try a larger or smaller region; the model's "
                  "answer for that image appears here.")

# as the exported figure says it ("full brightness: this photo's top 0.5 %"): a bar ending at 83 % read as unexplained
BAR_TIP = ("The Difference map's scale: which colour means how much (the unit is in the label). Full brightness is this "
           "photo's top 0.5 % of the map, as in the exported figure, so the bar may end below the map's largest value.")


class ResultViews(QWidget):
    """The result area: a one-sentence summary, a row with the Difference mode, opacity/gain slider and
    colour bar, the three image panels, and the key-pixel explorer below them (shown with every result
    that has key pixels)."""

    diff_settings_changed = Signal()
    key_count_changed = Signal(int)  # the key-pixel explorer: show/classify the top-k changed pixels

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mode_box = QComboBox()
        for key, text in DIFF_MODES.items():
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("How the change is shown")
        # the Difference row's least width fits the views of an 820 px window (~515 px): at 615 px it ran past them
        # and cut off the colour bar's right end, its largest value
        self.mode_box.setMinimumWidth(100)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(75)
        self.slider.setMinimumWidth(60)
        self.slider_label = QLabel("Opacity 75 %")
        self.slider_label.setMinimumWidth(self.slider_label.fontMetrics().horizontalAdvance("Gain ×1000.0 "))
        # the summary: one plain-language sentence about the result
        self.summary = FittedLabel(min_lines=3)  # 3 lines at 1024 px; more in a narrow window
        self.summary.setObjectName("result-summary")
        self.summary.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.summary.setFont(font)
        # key-pixel explorer: a slider over k, the number of top-|change| pixels kept, and what the
        # model says about the original with only those pixels changed
        self.key_row = QWidget()
        kr = QHBoxLayout(self.key_row)
        kr.setContentsMargins(2, 0, 2, 0)
        self.key_slider = QSlider(Qt.Orientation.Horizontal)
        self.key_slider.setRange(0, KEY_SLIDER_STEPS)
        self.key_slider.setSingleStep(5)  # Qt's 1 and 10 of 1,000: Page Up went from 0 to 54 of 133,000 pixels
        self.key_slider.setPageStep(50)
        self.key_slider.setMinimumWidth(120)
        self.key_slider.setMaximumWidth(320)
        self.key_slider.setToolTip(
            "Keep only the k pixels with the largest change and see what the model says. The slider starts "
            "at the smallest set the search found that flips the decision; they are outlined on the Original."
        )
        self.key_slider.setAccessibleName("Key pixels")
        self.key_label = QLabel("")
        self.key_label.setMinimumWidth(self.key_label.fontMetrics().horizontalAdvance("000,000 px"))
        self.key_answer = FittedLabel(min_lines=2)
        self.key_answer.setToolTip(KEY_TIP)
        self.key_title = QLabel("<b>Key pixels</b>")
        self.key_title.setBuddy(self.key_slider)
        kr.addWidget(self.key_title)
        kr.addWidget(self.key_slider, 1)
        kr.addWidget(self.key_label)
        kr.addWidget(self.key_answer, 3)
        self._change_text = self._change_tip = ""
        # the third panel shows the key region alone, captioned so (the controller words it: set_alone_caption)
        self._alone, self.alone_caption, self._key_text = False, "", ""
        self.key_row.setVisible(False)
        # its room stays when hidden: a run hides the row, and views that grew taller and shrank back when it
        # returned were left zoomed out (the photo in a margin of 28 px a side after the second run)
        policy = self.key_row.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.key_row.setSizePolicy(policy)
        self._key_total = self._key_count = self._key_found = 0
        self._summary_text = ""
        self._original_caption = ("", "")  # (text, tooltip) as last set, without the slider's note

        # colour bar of the magnitude and signed maps, horizontal, in real units
        self.colorbar_view = pg.GraphicsLayoutWidget()
        self.colorbar_view.setAcceptDrops(False)
        self.colorbar_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.colorbar_view.ci.setContentsMargins(4, 0, 12, 0)
        self.colorbar = pg.ColorBarItem(
            values=(0, 1), width=10, interactive=False, colorMapMenu=False, orientation="horizontal"
        )
        self.colorbar.axis.enableAutoSIPrefix(False)  # real units, never "(x0.001)"
        self.colorbar_view.addItem(self.colorbar)
        self.colorbar_view.setFixedHeight(row_height := bar_row_height(self))  # taller with a large font
        self.bar_label = BarLabel(self.colorbar_view, self.colorbar, BAR_TIP)
        self.colorbar_view.setAccessibleName("Colour scale of the map")
        self.colorbar_view.setMinimumWidth(170)
        self.colorbar_view.hide()
        # in the colour bar's place for a result that changed nothing (nothing to flip, no step taken): its all-zero
        # map drew the unit's full 0–255 scale as if there were a map to read
        self.no_map = QLabel()
        self.no_map.setObjectName("no-map-note")
        self.no_map.setWordWrap(True)
        self.no_map.setMinimumWidth(170)
        self.no_map.setFixedHeight(row_height)  # the colour bar's: the row keeps its height (the views never move)
        self.no_map.hide()

        # one row above the panels: Difference mode, opacity/gain, colour bar
        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(2, 0, 2, 0)
        toolbar.addWidget(QLabel("Difference:"))
        toolbar.addWidget(self.mode_box)
        toolbar.addWidget(self.slider_label)
        toolbar.addWidget(self.slider)
        toolbar.addWidget(self.colorbar_view, 1)
        toolbar.addWidget(self.no_map, 1)
        self._spacer = QWidget()
        self._spacer.setFixedHeight(row_height)
        toolbar.addWidget(self._spacer, 1)

        self.original = ImagePanel("Original")
        self.adjusted = ImagePanel("Adjusted")
        self.difference = ImagePanel("Difference")
        KeyboardPan(self.original.view, self.original.graphics)  # the arrows pan all three when zoomed in
        for panel in (self.adjusted, self.difference):
            panel.view.setXLink(self.original.view)
            panel.view.setYLink(self.original.view)
        # the photo fills its panel until the user zooms or pans: a panel that changes height (Compare Methods,
        # the key-region row, the window) fits it again, instead of keeping a zoomed-out range
        self._fit_on_resize = True
        self._user_view: tuple[float, float, float] | None = None
        self._refit_timer = QTimer(self)
        self._refit_timer.setSingleShot(True)
        self._refit_timer.setInterval(0)
        self._refit_timer.timeout.connect(self._refit)
        for panel in (self.original, self.adjusted, self.difference):
            panel.view.sigRangeChangedManually.connect(self._zoomed_by_hand)
            panel.view.sigResized.connect(self._panel_resized)
            panel.fitted.connect(self._refitted)
        panels = QHBoxLayout()
        panels.setSpacing(4)
        for panel in (self.original, self.adjusted, self.difference):
            # equal sizes: linked views with square pixels only show the same region when equally large
            panel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            panels.addWidget(panel, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addLayout(toolbar)
        layout.addLayout(panels, 1)
        layout.addWidget(self.key_row)

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
        if (i := self.mode_box.findData(mode)) >= 0:
            self.mode_box.setCurrentIndex(i)

    @property
    def opacity(self) -> float:
        return self._opacity

    def set_opacity(self, value) -> None:
        """The map's opacity, 0–1 (remembered as the mode is: a saved value that is no number keeps 75 %)."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            return
        if math.isfinite(v):
            self._opacity = min(1.0, max(0.0, v))
        self._sync_slider()

    @property
    def gain(self) -> float | None:
        return self._gain

    def _sync_slider(self) -> None:
        self.slider.blockSignals(True)
        if self.mode == AMPLIFIED:
            gain = self._gain or self._auto_gain
            self.slider.setValue(gain_to_slider(gain))
            self.slider.setToolTip("Gain: how much the change is amplified (logarithmic, ×1 to ×1000)")
            self.slider_label.setText(f"Gain ×{gain:.1f}")
        else:
            self.slider.setValue(int(round(self._opacity * 100)))
            self.slider.setToolTip("Opacity of the map over the greyscale photo")
            self.slider_label.setText(f"Opacity {round(self._opacity * 100)} %")
        self.slider.setAccessibleName(self.slider_label.text().split()[0])  # "Opacity", "Gain": a screen reader said nothing
        self.slider.blockSignals(False)

    def _mode_changed(self) -> None:
        self._retitle()
        self._sync_slider()
        self._show_pending()
        self.diff_settings_changed.emit()

    def _show_pending(self) -> None:
        """Before a result (no change captioned), the key-set mode says that it applies once the set is found: it read
        "Key region alone" over a panel titled Difference with Opacity on, which sets the map a run draws there first.
        Another mode after :meth:`show_no_key_set` gives the change's caption back."""
        if not self._alone and not self._change_text:
            what, key = self.mode_box.currentText(), "key region" if self.key_set_is_region else "key pixels"
            self.set_caption(self.difference, f"<i>{what}: shown once a run has found the {key}. Until then this panel "
                             "shows the change (Opacity applies).</i>" if self.mode == KEY_PIXELS else "")
        elif not self._alone and self.mode != KEY_PIXELS:
            self.set_caption(self.difference, self._change_text, self._change_tip)

    def show_no_key_set(self, note: str) -> None:
        """The key-set mode on a finished run that has none (stopped after the flip, did not flip): the panel shows the
        map, titled by its name, and says so before the change's caption (the status line alone said it, under a combo
        that read "Key region alone"; the title said "Difference" over an "unfinished importance map")."""
        if not self._alone and self.mode == KEY_PIXELS:
            self.set_caption(self.difference, f"<i>{note.split(':')[0]}.</i> " + self._change_text, f"{note}.")  # why: tooltip
            self._retitle(self.mode_box.itemText(self.mode_box.findData(MAGNITUDE)))

    # -- key-pixel explorer ------------------------------------------------------------------------------
    @property
    def key_count(self) -> int | None:
        """k of the key-pixel view, or None when the explorer is off (no key pixels known)."""
        return self._key_count if self._key_total > 0 else None

    def set_key_pixels(self, total: int, found: int, title: str = "Key pixels") -> None:
        """``total``: the largest set (pixels that changed at all, or the whole image for a key region);
        ``found``: the smallest flipping set (the slider's start)."""
        self.key_title.setText(f"<b>{title}</b>")
        self.key_slider.setAccessibleName(title)  # screen readers name the set this run found
        self.key_answer.setToolTip(KEY_TIP if title == "Key pixels" else KEY_REGION_TIP)
        self.name_key_set(title)
        self._key_total = max(0, int(total))
        self._key_found = int(found)
        self._key_count = int(found)
        self.key_slider.blockSignals(True)
        self.key_slider.setValue(self._count_to_slider(found))
        self.key_slider.blockSignals(False)
        self.key_row.setVisible(self._key_total > 0)
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
        """What the model says with only the key pixels changed (two lines, more in a narrow window)."""
        self._key_text = rich_text
        # "candle (19.2" at a line's end and "%)" on the next: a number keeps its percent sign, as in the summary
        self.key_answer.setText(rich_text.replace(" %", "&nbsp;%"))

    def set_alone_caption(self, rich_text: str) -> None:
        """The Key region alone panel's caption (what the model sees there, as the other captions say, and the image)."""
        self.alone_caption = rich_text
        if self._alone:
            self._show_alone(True)

    def set_change_caption(self, rich_text: str, tooltip: str = "") -> None:
        """The size of the change (the Difference caption)."""
        self._change_text, self._change_tip = rich_text, tooltip
        if not self._alone:  # the key region alone keeps its own caption
            self.set_caption(self.difference, rich_text, tooltip)

    def set_summary(self, rich_text: str) -> None:
        """The one-sentence summary above the panels."""
        self._summary_text = rich_text
        self._show_summary()

    @property
    def key_moved(self) -> bool:
        """The key-set slider is off the set the run found (the sentence, the record and an export keep the run's)."""
        return self._key_total > 0 and self._key_count != self._key_found

    def _show_summary(self) -> None:
        # the sentence names the set the run found ("the outlined 42 %"); moved off it, the slider's set is outlined, and
        # the Original's caption (fixed height) says so: a note in the sentence pushed the views and the slider down
        text = self._summary_text
        self.summary.setText(text)
        self.summary.setToolTip(text if len(text) > 120 else "")
        self.set_caption(self.original, *self._original_caption)  # first, so the 3 lines never cut it off

    # -- captions ------------------------------------------------------------------------------------------
    def set_caption(self, panel: ImagePanel, rich_text: str, tooltip: str = "") -> None:
        """A panel's caption, of fixed height (``image_panel.CAPTION_LINES``: no text resizes the views); the tooltip repeats
        a long one. The Original's starts with :data:`SLIDER_NOTE` while the key-set slider is off the run's set."""
        if panel is self.original:
            self._original_caption = (rich_text, tooltip)
            rich_text = (SLIDER_NOTE if self.key_moved and rich_text else "") + rich_text
        panel.caption.setText(rich_text)
        panel.caption.setToolTip(tooltip or (rich_text if len(rich_text) > 80 else ""))

    def _update_spacer(self) -> None:  # keeps the row's height and layout when the colour bar is not shown
        self._spacer.setVisible(self.colorbar_view.isHidden() and self.no_map.isHidden())

    def set_no_map(self, why: str | None) -> None:
        """A result that changed nothing (``why``: "nothing to flip", "no step was taken"): a short text instead of
        the colour bar, in every Difference mode; None: the colour bar again, as the mode draws it."""
        self.no_map.setText(f"<i>No map: {why}, so the photo was not changed.</i>" if why else "")
        self.no_map.setToolTip("The Difference view maps the change a run made. This run made none: there is no "
                               "importance map and no scale to read." if why else "")
        self.no_map.setVisible(bool(why))
        if why:
            self.colorbar_view.hide()
        self._update_spacer()

    def _count_to_slider(self, k: int) -> int:  # quadratic (slider_scales.py)
        return count_to_slider(k, self._key_total)

    def _key_slider_moved(self, v: int) -> None:
        self._key_count = slider_to_count(v, self._key_total)
        self._show_key_count()
        self.key_count_changed.emit(self._key_count)

    def _show_key_count(self) -> None:
        self.key_label.setText(f"{self._key_count:,} px")
        # a key region is ranked over the whole image (its total: every pixel), key pixels over the changed ones
        of = f"the image's {self._key_total:,} pixels" if self.key_set_is_region else f"the {self._key_total:,} pixels the change touches"
        self.key_label.setToolTip(f"{self._key_count:,} of {of}")
        mark = " (smallest flipping set)" if self._key_count == self._key_found else ""
        self.key_slider.setToolTip(f"{self._key_count:,} of {of}{mark}")
        self._show_summary()

    def _slider_moved(self, value: int) -> None:
        if self.mode == AMPLIFIED:
            self._gain = slider_to_gain(value)
        else:
            self._opacity = value / 100.0
        self._sync_slider()
        self.diff_settings_changed.emit()

    def reset_gain(self) -> None:
        """A new change arrived: amplified mode returns to its automatic gain (set when drawn)."""
        self._gain = None

    # -- content -------------------------------------------------------------------------------------
    def name_key_set(self, title: str) -> None:
        """The Difference mode names the same set as the explorer: "Key pixels" or "Key region" (set when a
        run starts, so a key-region run never shows "Key-pixel outline")."""
        i = self.mode_box.findData(KEY_PIXELS)
        if i >= 0:
            self.mode_box.setItemText(i, DIFF_MODES[KEY_PIXELS] if title == "Key pixels" else f"{title} alone")
        self._show_pending()

    def name_magnitude(self, name: str | None = None) -> None:
        """The magnitude mode's entry names what it shows, as its colour bar and the figure do
        (``core.viz.difference.map_name``: "Importance map" after a key-region run); None: the mode's own name."""
        i, text = self.mode_box.findData(MAGNITUDE), entry(name) if name else DIFF_MODES[MAGNITUDE]
        if i >= 0 and self.mode_box.itemText(i) != text:  # a run's previews ask ~3 times a second
            self.mode_box.setItemText(i, text)
            self._retitle()

    def _retitle(self, shown: str | None = None) -> None:
        """The third panel is titled by what it shows, as the figure's heading of it is: the key region alone, a run's
        map in the magnitude mode ("Importance map", "Blur amount"; ``shown``: the map shown in another mode), else
        "Difference" (a map under that title read as a change)."""
        shown, named = shown or self.mode_box.currentText(), shown is not None or self.mode == MAGNITUDE
        named = named and shown != DIFF_MODES[MAGNITUDE]
        self.difference.title.setText(f"<b>{'Key region alone' if self._alone else shown if named else 'Difference'}</b>")

    @property
    def key_set_is_region(self) -> bool:
        return self.mode_box.itemText(max(0, self.mode_box.findData(KEY_PIXELS))).startswith("Key region")

    def clear_result(self) -> None:
        self._key_total = 0
        self._change_text = self._change_tip = self._key_text = ""
        self.key_label.setText("")
        self.key_answer.setText("")
        self.key_row.setVisible(False)
        self.original.set_overlay(None)
        self.adjusted.set_image(None)
        self.difference.set_image(None)
        self._show_alone(False)
        self.set_caption(self.adjusted, "")
        self._show_pending()
        self.colorbar_view.hide()
        self.set_no_map(None)

    def show_difference(self, diff: DiffImage) -> None:
        self.difference.set_image(diff.rgb, extent=getattr(diff, "extent", None))
        if bool(getattr(diff, "alone", False)) != self._alone:  # the image the key-region line is about, or back
            self._show_alone(not self._alone)
        self._set_colorbar(diff.colorbar)
        if diff.gain is not None:
            if self._gain is None:
                self._auto_gain = diff.gain
            if self.mode == AMPLIFIED:
                self._sync_slider()

    def _show_alone(self, alone: bool) -> None:
        """The third panel as the key region alone (titled and captioned so; Opacity greyed out: no map over the
        photo there) or as the difference (the change's caption)."""
        self._alone = alone
        self._retitle()
        for w in (self.slider, self.slider_label):
            w.setEnabled(not alone)
        self.set_caption(self.difference, self.alone_caption if alone else self._change_text,
                         "The photo with only the key region changed: the image the line under the key-region "
                         "slider classifies (move the slider: it follows)." if alone else self._change_tip)

    def _set_colorbar(self, bar: ColorBar | None) -> None:
        if bar is None or not self.no_map.isHidden():
            self.colorbar_view.hide()
            self._update_spacer()
            return
        cmap = colormap_from_lut(bar.lut)
        if self.colorbar.colorMap() is not cmap:
            self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels(values=(bar.low, bar.high))
        self.colorbar_view.show()
        self.bar_label.set_text(bar.label)
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
        self._fit_on_resize = True
        self.original.view.autoRange(padding=0.0)

    def zoom(self, factor: float) -> None:
        """Zoom all linked views by ``factor`` (> 1: in) about the centre of what is shown."""
        if factor < 1 and self.original.view.shows_whole_image():
            return  # zoomed out as far as it goes: the whole photo (as the wheel stops there)
        self.original.view.scaleBy((1.0 / factor, 1.0 / factor))
        self._zoomed_by_hand()

    def _zoomed_by_hand(self, *_) -> None:
        """The user's zoom and pan: its centre and scale (image pixels per screen pixel) outlive a resize."""
        vb = self.original.view
        (x0, x1), (y0, y1) = vb.viewRange()
        self._fit_on_resize = False
        self._user_view = ((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / max(1.0, vb.width()))

    def _refitted(self) -> None:
        self._fit_on_resize = True

    def _panel_resized(self, *_) -> None:
        if self.original.image() is not None:
            self._refit_timer.start()  # once every linked view has its new size

    def _refit(self) -> None:
        """After a resize: the fitted photo fitted again, the user's zoom at its centre and scale (linked
        aspect-locked views left to themselves zoom out when they get shorter)."""
        vb = self.original.view
        if self.original.image() is None:
            return
        if self._fit_on_resize or self._user_view is None:
            vb.autoRange(padding=0.0)
            return
        cx, cy, scale = self._user_view
        ratio = float(vb.state.get("aspectLocked") or 1.0)  # y's scale: x's times the lock's (a stretched strip)
        half_w, half_h = scale * vb.width() / 2, scale * ratio * vb.height() / 2
        vb.setRange(xRange=(cx - half_w, cx + half_w), yRange=(cy - half_h, cy + half_h), padding=0.0)


__all__ = ["ImagePanel", "ResultViews", "MAGNITUDE", "KEY_PIXELS", "AMPLIFIED"]
