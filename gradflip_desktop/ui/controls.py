"""The side panel: the model's top-5, the run settings, Explain/Cancel and progress."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .settings import TARGET_CLASS, TARGET_GROUP, TARGET_TOP, RunSettings


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
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setShowGrid(False)
        rows = 5
        h = self.verticalHeader().defaultSectionSize() * rows + self.horizontalHeader().sizeHint().height() + 4
        self.setFixedHeight(h)
        self.placeholder("classifying …")

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


class ControlsPanel(QWidget):
    explain_clicked = Signal()
    cancel_clicked = Signal()
    device_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.top5 = TopClasses()
        self.model_label = QLabel("Loading the model …")
        self.model_label.setWordWrap(True)
        top_box = QGroupBox("What the model sees")
        tl = QVBoxLayout(top_box)
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
        self.mode = QComboBox()
        self.mode.addItem("Adaptive", "adaptive")
        self.mode.addItem("Fixed ε", "fixed")
        self.mode.setToolTip("Adaptive grows ε while the score falls slowly and backs off on overshoot")
        self.epsilon = QDoubleSpinBox()
        self.epsilon.setDecimals(5)
        self.epsilon.setRange(0.00001, 0.25)
        self.epsilon.setSingleStep(0.0005)
        self.epsilon.setToolTip("Step length in RMS pixel units (0.001 ≈ 0.26/255 per value per step)")
        self.max_steps = QSpinBox()
        self.max_steps.setRange(1, 100_000)
        self.max_steps.setToolTip("Most gradient steps before giving up")
        self.smoothing = QDoubleSpinBox()
        self.smoothing.setDecimals(1)
        self.smoothing.setRange(0.0, 100.0)
        self.smoothing.setSuffix(" px")
        self.smoothing.setToolTip("Gaussian σ applied to the gradient: smoother, more readable changes")
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
        form.addRow("Step &mode", self.mode)
        form.addRow("&ε (step)", self.epsilon)
        form.addRow("Step &budget", self.max_steps)
        form.addRow("&Smoothing σ", self.smoothing)
        form.addRow("&Device", self.device)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.reset_button)
        form.addRow(row)

        self.explain_button = QPushButton("Explain")
        self.explain_button.setDefault(True)
        self.explain_button.setMinimumHeight(32)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setMinimumHeight(32)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.explain_button, 2)
        buttons.addWidget(self.cancel_button, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(top_box)
        layout.addWidget(settings_box)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        self.setMinimumWidth(250)

        self.target_mode.currentIndexChanged.connect(self._update_enabled)
        self.explain_button.clicked.connect(self.explain_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.reset_button.clicked.connect(lambda: self.set_settings(RunSettings(device=self.settings().device)))
        self.device.activated.connect(lambda _i: self.device_changed.emit(self.device.currentData()))
        self.set_settings(RunSettings())

    # -- model-dependent choices ------------------------------------------------------------------------
    def set_model(self, labels: Sequence[str], groups: Sequence[str], devices: Sequence[str], device: str) -> None:
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
        self.device.clear()
        for d in devices:
            self.device.addItem(d, d)
        current.device = device if device in devices else current.device
        self.set_settings(current)

    # -- settings <-> widgets --------------------------------------------------------------------------
    def settings(self) -> RunSettings:
        return RunSettings(
            target_mode=self.target_mode.currentData(),
            target_class=self.target_class.currentText().strip(),
            group=self.group.currentData() or self.group.currentText(),
            mode=self.mode.currentData(),
            epsilon=float(self.epsilon.value()),
            max_steps=int(self.max_steps.value()),
            smoothing=float(self.smoothing.value()),
            device=self.device.currentData() or "cpu",
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
        _select(self.mode, s.mode)
        self.epsilon.setValue(s.epsilon)
        self.max_steps.setValue(s.max_steps)
        self.smoothing.setValue(s.smoothing)
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
