"""The side panel: the model's top-5, the run settings, Explain/Cancel and progress."""

from __future__ import annotations

from typing import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gradflip_desktop.core import options as core_options

from ..settings import TARGET_CLASS, TARGET_GROUP, TARGET_TOP, RunSettings
from .spinboxes import CheckedDoubleSpinBox, CheckedSpinBox
from .wheel_guard import WheelGuard
from .working_size import memory_note


class TopClasses(QTableWidget):
    """The model's top-k classes of the current image, with probabilities."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Class", "Probability"])
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a screen reader moving by Tab hears the model's answer
        self.setTabKeyNavigation(False)  # one Tab in, the next one out (Tab went round its 10 cells, never out)
        self.setAccessibleName("Top classes")
        self.setShowGrid(False)
        self.setToolTip("The model's five most likely classes for the photo and the probability it gives each "
                        "(softmax, summing to 100 % over all its classes).")
        rows = 5
        h = self.verticalHeader().defaultSectionSize() * rows + self.horizontalHeader().sizeHint().height() + 4
        self.setFixedHeight(h)
        self.placeholder("no photo open")  # "classifying …" when one is (it stayed so beside an empty folder)

    def placeholder(self, text: str) -> None:
        self.setRowCount(1)
        item = QTableWidgetItem(text)
        item.setForeground(self.palette().placeholderText())
        self.setItem(0, 0, item)
        self.setItem(0, 1, QTableWidgetItem(""))

    def set_predictions(self, predictions: Sequence) -> None:
        self.setRowCount(len(predictions))
        for r, p in enumerate(predictions):
            name = QTableWidgetItem(p.label)
            name.setToolTip(f"class {p.index}: {p.label}")
            prob = QTableWidgetItem(f"{100 * p.probability:.1f} %")
            prob.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(r, 0, name)
            self.setItem(r, 1, prob)

    def labels(self) -> list[str]:
        return [self.item(r, 0).text() for r in range(self.rowCount()) if self.item(r, 0) is not None]


STYLE_TITLES = {  # the window's names of the core's styles (core.options.STYLES)
    "region": "Key region (remove detail)",
    "free": "Smallest change (textbook)",
    "blur": "Blur per pixel",
}
# a focused button looks focused (keyboard users): a highlight frame
FOCUS_FRAME = "QPushButton:focus, QToolButton:focus { border: 2px solid palette(highlight); border-radius: 4px; padding: 3px 8px; }"
WARNING_BAR = "QProgressBar { text-align: center; } QProgressBar::chunk { background-color: #d98c00; }"  # a run that did not flip


class BusyTextBar(QProgressBar):
    """A progress bar that keeps its text while busy (range 0-0): Qt's own returns no text then, so the
    phases after the flip (restoring detail, the key region's passes) showed a bare moving bar."""

    def text(self) -> str:  # noqa: D102 - Qt's virtual, read by the style when painting
        if self.minimum() == 0 and self.maximum() == 0:
            return self.format()
        return super().text()


class ControlsPanel(QWidget):
    explain_clicked = Signal()
    cancel_clicked = Signal()
    device_changed = Signal(str)
    model_chosen = Signal(str)  # a picker key (registry name or model file path)
    load_model_clicked = Signal()
    message = Signal(str)  # something the user should read in the status bar (a refused value)
    working_size_changed = Signal(int)  # the long side photos are explained at (px)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._setting = False
        self._photo: tuple[int, int] | None = None  # (width, height) of the photo on screen: the memory note's
        self.top5 = TopClasses()
        self.model_box = QComboBox()
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(12)
        self.model_box.setToolTip("The classifier to explain: the default model, torchvision weights already "
                                  "downloaded, or model files you loaded")
        self.load_model_button = QToolButton()
        self.load_model_button.setText("Load…")
        self.load_model_button.setToolTip("Load your own model file (.pth, .pt, .onnx) (Ctrl+M)")
        # wide enough for FOCUS_FRAME's padding and border: focused in a narrow panel it read "L......"
        self.load_model_button.setMinimumWidth(self.load_model_button.fontMetrics().horizontalAdvance("Load…") + 28)
        self.model_label = QLabel("Loading the model …")
        self.model_label.setWordWrap(True)
        top_box = QGroupBox("What the model sees in the photo")  # the photo's classes, not the Adjusted image's
        tl = QVBoxLayout(top_box)
        self.model_box.setAccessibleName("Model")
        picker = QHBoxLayout()
        picker.addWidget(self.model_box, 1)
        picker.addWidget(self.load_model_button)
        tl.addLayout(picker)
        tl.addWidget(self.top5)
        tl.addWidget(self.model_label)

        self.target_mode = QComboBox()
        self.target_mode.addItem("Top class (push it down)", TARGET_TOP)
        self.target_mode.addItem("A chosen class (reach it)", TARGET_CLASS)
        self.target_mode.addItem("A class group (e.g. any cat)", TARGET_GROUP)
        self.target_class = QComboBox()
        self.target_class.setEditable(True)
        self.target_class.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target_class.lineEdit().setPlaceholderText("type a class name")
        self.group = QComboBox()
        self.style = QComboBox()
        for key in core_options.STYLES:  # the core's styles, in its order, named for what they do
            self.style.addItem(STYLE_TITLES.get(key, core_options.STYLE_NAMES.get(key, key)), key)
        self.mode = QComboBox()
        self.mode.addItem("Adaptive", "adaptive")
        self.mode.addItem("Fixed ε", "fixed")
        self.mode.setToolTip("Adaptive grows ε while the score falls slowly and backs off on overshoot")
        self.epsilon = CheckedDoubleSpinBox()
        self.epsilon.setDecimals(7)  # EPS_MIN is 1e-7
        self.epsilon.setRange(core_options.EPS_MIN, core_options.EPS_MAX)
        self.epsilon.setSingleStep(0.0001)
        self.max_steps = CheckedSpinBox()
        self.max_steps.setRange(core_options.MAX_STEPS_MIN, core_options.MAX_STEPS_MAX)
        self.smoothing = CheckedDoubleSpinBox()
        self.smoothing.setDecimals(1)
        self.smoothing.setRange(core_options.SMOOTHING_MIN, core_options.SMOOTHING_MAX)
        self.smoothing.setSuffix(" px")
        self.smoothing.setSpecialValueText("off")
        self.coarse = CheckedSpinBox()
        self.coarse.setRange(core_options.COARSE_MIN, core_options.COARSE_MAX)
        self.coarse.setSpecialValueText("off")
        self.coarse.setPrefix("× ")
        self.coarse.setSuffix(" blocks")
        self._set_tooltips()
        self.working_size = CheckedSpinBox()
        self.working_size.setRange(core_options.WORKING_SIZE_MIN, core_options.WORKING_SIZE_MAX)
        self.working_size.setSingleStep(64)
        self.working_size.setSuffix(" px")
        self.working_size.setKeyboardTracking(False)  # one reload when the typing is done, not per digit
        self.working_size_note = QLabel("")
        self.working_size_note.setWordWrap(True)
        self.device = QComboBox()
        self.device.addItem("cpu", "cpu")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Restore the default settings")

        settings_box = QGroupBox("Explanation settings")
        form = QFormLayout(settings_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Target", self.target_mode)
        self.class_label = QLabel("&Class")
        self.class_label.setBuddy(self.target_class)
        form.addRow(self.class_label, self.target_class)
        self.group_label = QLabel("&Group")
        self.group_label.setBuddy(self.group)
        form.addRow(self.group_label, self.group)
        form.addRow("St&yle", self.style)
        form.addRow("Step &mode", self.mode)
        form.addRow("ε (ste&p)", self.epsilon)  # not &ε: no Latin keyboard types Alt+ε
        form.addRow("Step &budget", self.max_steps)
        form.addRow("&Smoothing σ", self.smoothing)
        form.addRow("Coarse-to-fi&ne", self.coarse)  # not Alt+F: that opens the File menu
        self.working_size_label = QLabel("Working si&ze")
        self.working_size_label.setBuddy(self.working_size)
        form.addRow(self.working_size_label, self.working_size)
        form.addRow("", self.working_size_note)
        form.addRow("&Device", self.device)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.reset_button)
        form.addRow(row)

        self.explain_button = QPushButton("Explain")
        self.explain_button.setDefault(True)
        self.explain_button.setMinimumHeight(32)
        self.explain_button.setToolTip("Explain the decision: change the photo step by step until the model sees "
                                       "something else (Ctrl+Return)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setMinimumHeight(32)
        self.cancel_button.setToolTip("Stop the run within one step (Esc)")
        self.progress = BusyTextBar()
        self.reset_progress()
        self.progress.setTextVisible(True)
        self.progress.setToolTip("Gradient steps taken of the step budget. Orange: the run ended without a flip.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.explain_button, 2)
        buttons.addWidget(self.cancel_button, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(top_box)
        layout.addWidget(settings_box)
        layout.addStretch(1)
        # Explain, Cancel and the progress bar: a bar of their own that the window keeps below the scrolling
        # settings, so they stay in view in a small window (a panel the window does not place keeps it)
        self.run_bar = QWidget(self)
        bar = QVBoxLayout(self.run_bar)
        m = layout.contentsMargins()
        bar.setContentsMargins(m.left(), 4, m.right(), m.bottom())  # lined up with the settings above it
        bar.addLayout(buttons)
        bar.addWidget(self.progress)
        layout.addWidget(self.run_bar)
        self.setMinimumWidth(250)
        # a focused button must look focused (keyboard users): a highlight frame. The window moves the run bar
        # (Explain, Cancel) out of this panel, out of reach of this panel's sheet: the bar gets its own copy
        self.setStyleSheet(FOCUS_FRAME)
        self.run_bar.setStyleSheet(FOCUS_FRAME)
        self.working_size.valueChanged.connect(self._working_size_changed)
        for box, what in ((self.epsilon, "ε"), (self.max_steps, "Step budget"), (self.smoothing, "Smoothing σ"),
                          (self.coarse, "Coarse-to-fine"), (self.working_size, "Working size")):
            box.refused.connect(lambda text, what=what: self.message.emit(f"{what}: {text}"))

        self.target_mode.currentIndexChanged.connect(self._update_enabled)
        self.explain_button.clicked.connect(self.explain_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.reset_button.clicked.connect(self.reset)
        self.device.activated.connect(lambda _i: self.device_changed.emit(self.device.currentData()))
        self.model_box.activated.connect(self._model_activated)
        self.load_model_button.clicked.connect(self.load_model_clicked)
        self.set_settings(RunSettings())
        self._wheel_guard = WheelGuard(self)
        for box in self.findChildren(QComboBox) + self.findChildren(QAbstractSpinBox):
            box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            box.installEventFilter(self._wheel_guard)

    def _set_tooltips(self) -> None:
        d = core_options.ExplainOptions().to_dict()  # the core's defaults

        def default(key: str, fmt=str) -> str:
            return f" Default: {fmt(d[key])}."

        eps = float(d["epsilon"])
        self.epsilon.setToolTip(
            "Step length ε in RMS pixel units: one step changes the image by ε·√n in L2 (n values), so ε "
            f"means the same on any image size; ε = {eps:g} is about {eps * 255:.2g}/255 per value per step. "
            "Adaptive mode grows and shrinks it as it goes." + default("epsilon", lambda v: f"{v:g}")
        )
        self.max_steps.setToolTip("Most gradient steps before giving up." + default("max_steps"))
        self.smoothing.setToolTip(
            "Gaussian σ (pixels) applied to the gradient before each step. The raw gradient (off) finds the "
            "smallest change, but it looks like noise; a larger σ gives a smoother change that reads as "
            "shapes, at a larger L2 (more change is needed to flip)." + default("smoothing", lambda v: "off" if not v else f"{v:g} px")
        )
        self.style.setToolTip(
            "Key region: a smooth, low-resolution mask removes detail (blurs) where it matters; the mask is "
            "the importance map and the result outlines the smallest region that flips the decision on its own. "
            "Free: the textbook method, every pixel may move in any direction (the smallest change, which "
            "looks like noise). Blur: each pixel may only move toward a blurred copy of the photo, by its own "
            "amount; the change removes detail, and the blur amount per pixel is the importance map (larger "
            "L2, but it points at regions a person can read)." + default("style")
        )
        self.coarse.setToolTip(
            "Coarse-to-fine factor f: each step is the gradient averaged over f × f blocks and upsampled, so "
            "the change lives at 1/f resolution. Smallest change and blur per pixel: blocks of f × f pixels; 4, 8 "
            "or 16 give a smooth, readable change (blobs instead of noise) at a larger L2. Key region: blocks of "
            "f × f cells of its mask (14 cells along the long side), so 2 or 3 already make it coarser and 14 "
            "or more leave one cell. Off (1): no averaging (each pixel, or each mask cell, on its own)."
            + default("coarse", lambda v: "off" if int(v) <= 1 else f"{v}")
        )

    # -- what the window shows here ------------------------------------------------------------------------
    def set_run_state(self, ready: bool, running: bool, stoppable: bool | None = None) -> None:
        """Explain is enabled when an image and a model are there; it reads Restart during a run. Cancel: while
        something it stops runs (``stoppable``: the run, or RISE; it was greyed out while RISE computed)."""
        self.explain_button.setEnabled(ready)
        self.explain_button.setText("Restart" if running else "Explain")
        self.cancel_button.setEnabled(running if stoppable is None else stoppable)

    def show_progress(self, value: int, maximum: int, text: str) -> None:
        """The progress bar at ``value`` of ``maximum`` (maximum 0: busy, no known end) with ``text``."""
        self._warn(False)
        self.progress.setRange(0, maximum)
        if maximum:
            self.progress.setValue(value)
        self.progress.setFormat(text)

    def show_outcome(self, value: int, maximum: int, text: str, ok: bool) -> None:
        """How a run ended: a flip fills the bar; anything else shows the share of the budget used, in
        the warning colour (a failed run never looks like a success)."""
        self.show_progress(value, maximum, text)
        self._warn(not ok)

    def _warn(self, on: bool) -> None:
        sheet = WARNING_BAR if on else ""
        if self.progress.styleSheet() != sheet:
            self.progress.setStyleSheet(sheet)
        self.progress.setProperty("outcome", "warning" if on else "")

    def set_progress_text(self, text: str) -> None:
        self.progress.setFormat(text)

    def show_model(self, text: str, tooltip: str | None = None) -> None:
        """The line under the top-5: which model is loaded (rich text)."""
        self.model_label.setText(text)
        if tooltip is not None:
            self.model_label.setToolTip(tooltip)

    def show_predictions(self, predictions: Sequence) -> None:
        self.top5.set_predictions(predictions)

    def show_predictions_placeholder(self, text: str) -> None:
        self.top5.placeholder(text)

    def select_device(self, device: str) -> None:
        _select(self.device, device)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # the note keeps its wrapped text's height: a group target's row squeezed its 3 lines to 2 at 1280×768
        super().resizeEvent(event)
        self.working_size_note.setMinimumHeight(self.working_size_note.heightForWidth(self.working_size_note.width()))

    def _working_size_changed(self, value: int) -> None:
        self._show_working_size_note(value)
        if not self.signalsBlocked() and not self._setting:
            self.working_size_changed.emit(int(value))

    def set_photo_size(self, size: tuple[int, int] | None) -> None:
        """The photo on screen (width, height as stored): the memory note is about it (a square 4,000 px photo
        held 6.2 GB at 4,096 px where the note, for a 4:3 one, said 4.5 GB)."""
        self._photo = None if size is None else (int(size[0]), int(size[1]))
        self._show_working_size_note(self.working_size.value())

    def _show_working_size_note(self, side: int) -> None:
        self.working_size_note.setText(memory_note(side, self._photo))
        self.working_size.setToolTip(
            "Photos larger than this (long side) are scaled down to it before they are explained; the status bar "
            "says so. Larger: finer detail and a sharper map, but slower and more memory (memory grows with the "
            f"square of the size). Default: {core_options.WORKING_SIZE_DEFAULT} px. Changing it reloads the photo."
        )

    def reset_progress(self, text: str = "") -> None:
        """An empty progress bar showing ``text`` (no run, or a failed one)."""
        self._warn(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(text)

    def reset(self) -> None:
        """The core's default explanation settings (ExplainOptions()), the default target; same device."""
        before = self.working_size.value()
        self.set_settings(RunSettings(device=self.settings().device))
        if self.working_size.value() != before:
            self.working_size_changed.emit(int(self.working_size.value()))

    # -- model picker -----------------------------------------------------------------------------------
    def set_model_choices(self, entries: Sequence[tuple[str, str, str]], current: str) -> None:
        """Fill the picker with (key, title, description) entries and select ``current`` (a key)."""
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for key, title, description in entries:
            self.model_box.addItem(title, key)
            self.model_box.setItemData(self.model_box.count() - 1, f"{description}\n{key}", Qt.ItemDataRole.ToolTipRole)
        i = self.model_box.findData(current)
        if i < 0:
            self.model_box.addItem(current, current)
            i = self.model_box.count() - 1
        self.model_box.setCurrentIndex(i)
        self.model_box.blockSignals(False)

    def select_model(self, key: str) -> None:
        i = self.model_box.findData(key)
        if i >= 0:
            self.model_box.blockSignals(True)
            self.model_box.setCurrentIndex(i)
            self.model_box.blockSignals(False)

    def _model_activated(self, index: int) -> None:
        key = self.model_box.itemData(index)
        if key:
            self.model_chosen.emit(str(key))

    # -- model-dependent choices ------------------------------------------------------------------------
    def set_model(self, labels: Sequence[str], groups: Sequence[str], devices: Sequence[str], device: str,
                  members: Mapping[str, Sequence[int]] | None = None) -> None:
        """``members``: each group's class indices; each group's entry names its classes in a tooltip ("any cat"
        is ImageNet's five house cats: a run that flipped "any cat" to lynx read as nonsense without it)."""
        current = self.settings()
        self.target_class.blockSignals(True)
        self.target_class.clear()
        self.target_class.addItems(list(labels))
        completer = QCompleter(list(labels), self.target_class)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.target_class.setCompleter(completer)
        self.target_class.blockSignals(False)
        self.group.clear()
        for g in groups:
            self.group.addItem(f"any {g}", g)
            names = [labels[i] for i in (members or {}).get(g, ()) if 0 <= i < len(labels)]
            if names:
                shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
                self.group.setItemData(self.group.count() - 1, f"any {g}: {shown}", Qt.ItemDataRole.ToolTipRole)
        self.device.clear()
        for d in devices:
            self.device.addItem(d, d)
        current.device = device if device in devices else current.device
        # choices of the previous model that this one lacks are dropped (another model, other labels)
        if current.group not in groups:
            current.group = groups[0] if groups else ""
        # a model without groups (its own labels) has none to choose: "A class group" left Explain refusing with
        # "choose a class group" and an empty box; it is greyed out and the target goes back to the top class
        item = self.target_mode.model().item(self.target_mode.findData(TARGET_GROUP))
        item.setEnabled(bool(groups))
        item.setToolTip("" if groups else "This model's classes have no built-in groups (such as any cat or any dog).")
        if current.target_mode == TARGET_GROUP and not groups:
            current.target_mode = TARGET_TOP
        if current.target_class and current.target_class not in labels:
            current.target_class = ""
        self.set_settings(current)

    # -- settings <-> widgets --------------------------------------------------------------------------
    def settings(self) -> RunSettings:
        """The settings shown."""
        return RunSettings(
            target_mode=self.target_mode.currentData(),
            target_class=self.target_class.currentText().strip(),
            group=self.group.currentData() or self.group.currentText(),
            style=self.style.currentData(),
            mode=self.mode.currentData(),
            epsilon=float(self.epsilon.value()),
            max_steps=int(self.max_steps.value()),
            smoothing=float(self.smoothing.value()),
            coarse=int(self.coarse.value()),
            device=self.device.currentData() or "cpu",
            working_size=int(self.working_size.value()),
        )

    def set_settings(self, s: RunSettings) -> None:
        _select(self.target_mode, s.target_mode)
        if s.target_class:
            i = self.target_class.findText(s.target_class)
            if i >= 0:
                self.target_class.setCurrentIndex(i)
            else:
                self.target_class.setEditText(s.target_class)
        else:
            self.target_class.setEditText("")
        if self.group.findData(s.group) < 0 and s.group:
            self.group.addItem(f"any {s.group}", s.group)
        _select(self.group, s.group)
        _select(self.style, s.style)
        _select(self.mode, s.mode)
        self.epsilon.setValue(s.epsilon)
        self.max_steps.setValue(s.max_steps)
        self.smoothing.setValue(s.smoothing)
        self.coarse.setValue(int(s.coarse))
        self._setting = True  # showing stored settings is no request to reload the photo
        self.working_size.setValue(int(s.working_size))
        self._setting = False
        self._show_working_size_note(int(s.working_size))
        if self.device.findData(s.device) >= 0:
            _select(self.device, s.device)
        self._update_enabled()

    def _update_enabled(self) -> None:
        mode = self.target_mode.currentData()
        for w in (self.target_class, self.class_label):
            w.setVisible(mode == TARGET_CLASS)
        for w in (self.group, self.group_label):
            w.setVisible(mode == TARGET_GROUP)


def _select(box: QComboBox, data) -> None:
    i = box.findData(data)
    if i >= 0:
        box.setCurrentIndex(i)
