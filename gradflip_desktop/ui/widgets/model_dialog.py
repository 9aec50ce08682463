"""The "Load model…" dialog: the settings of a model file, pre-filled by ``inspect_model_file``.

The file was inspected in the background thread (:class:`~gradflip_desktop.ui.controllers.model_session.ModelFileFacts`);
the dialog only edits plain values and builds a :class:`~gradflip_desktop.core.models.files.ModelSpec`
(:meth:`LoadModelDialog.spec`). The window writes it as the model's sidecar and loads it in the engine
thread. Core modules are imported inside methods: by the time the dialog exists, the background
thread has imported them, and importing this module must not import torch.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QLocale, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .scrolling import ScrollArea

MODEL_PATTERNS = ("pth", "pt", "bin", "safetensors", "onnx")
# timm's train.py names its checkpoints model_best.pth.tar, last.pth.tar, checkpoint-9.pth.tar (the core reads
# them): by the whole ending, as a plain .tar is an archive
MODEL_ENDINGS = ("pth.tar",)
# both cases: the non-native Qt dialog filters case-sensitively on Linux ("NET.PTH"); a Hugging Face
# model folder is chosen by its config.json (the core loads the folder)
MODEL_FILTER = (
    "Model files (" + " ".join(f"*.{e} *.{e.upper()}" for e in (*MODEL_PATTERNS, *MODEL_ENDINGS)) + " config.json);;"
    "Hugging Face model folder (config.json);;All files (*)"
)
LABELS_FILTER = "Labels (*.txt *.json *.TXT *.JSON);;All files (*)"
FORMAT_TITLES = {
    "state_dict": "State dict (torchvision or timm architecture + weights)",
    "torchscript": "TorchScript",
    "onnx": "ONNX",
    "huggingface": "Hugging Face folder (transformers)",
}
DETECT_ARCH = "(detect from the weights)"
TORCHSCRIPT_WARNING = (
    "<b>Loading TorchScript runs code stored in the file.</b> Load it only if you trust where it came from."
)


def _numbers(text: str, what: str) -> tuple[float, ...]:
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{what}: expected numbers separated by commas, not {text!r}") from None
    if not values:
        raise ValueError(f"{what}: give 1 or 3 numbers")
    return values


def parse_groups(text: str) -> dict[str, list[int]]:
    """``"odd: 1,3,5; small: 0-4"`` → ``{"odd": [1, 3, 5], "small": [0, 1, 2, 3, 4]}``."""
    from gradflip_desktop.core.models.labels import BackwardsRange, parse_ranges

    out: dict[str, list[int]] = {}
    for part in [p.strip() for p in text.split(";") if p.strip()]:
        name, sep, ranges = part.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"class groups: write name: indices, e.g. 'odd: 1,3,5; small: 0-4' (not {part!r})")
        try:
            idx = parse_ranges(ranges)
        except BackwardsRange as exc:  # "5-3": said as such
            raise ValueError(f"class group {name.strip()!r}: {exc}") from None
        except ValueError:  # not "invalid literal for int() with base 10: 'x'"
            raise ValueError(f"class group {name.strip()!r}: {ranges.strip()!r} is not a list of class indices "
                             "(e.g. 1,3,5 or 0-4)") from None
        if not idx:
            raise ValueError(f"class group {name.strip()!r} is empty")
        out[name.strip()] = idx
    return out


def format_groups(groups: dict[str, list[int]]) -> str:
    from gradflip_desktop.core.models.labels import format_ranges

    return "; ".join(f"{k}: {format_ranges(v)}" for k, v in groups.items())


class FormScrollArea(ScrollArea):
    """The dialog's fields, scrolled where the screen is too short for them: on 1280x720 at QT_SCALE_FACTOR=1.5
    (480 px) the dialog got less height than they need and drew the input-settings note with its lines cut in half.
    Its size hint is the whole form's (QScrollArea's stops at 24 lines: a scroll bar in a dialog that had room)."""

    def __init__(self, widget: QWidget):
        super().__init__(widget, horizontal=False)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = self.widget().sizeHint()
        return QSize(hint.width() + self.verticalScrollBar().sizeHint().width(), hint.height())


def _guess_note(info, guess, arch: str | None = None) -> str:
    """The note under input settings the file does not name: where the fields' values come from, and that the
    loader, left alone, uses the network's own. ``arch``: the timm architecture ``guess`` is for (else the file's)."""
    if guess is not None and info.format == "onnx":
        c, (h, w) = guess.channels, guess.input_size
        eight_bit = all(v == 0.0 for v in guess.mean) and all(abs(v * 255 - 1) < 1e-6 for v in guess.std)
        values = ("it takes 8-bit pixels, 0–255, normalised inside: mean 0, std 1/255" if eight_bit
                  else f"mean and std assumed ImageNet's{', averaged' if c == 1 else ''}")
        shape = "\u00a0×\u00a0".join(map(str, (c, h, w)))  # one piece: "1" ended a line, "× 28 × 28" began the next
        return (f"The file names no input settings: its ONNX graph fixes the input at {shape} ({values}). "
                "Left as they are, the loader uses these; change any to set them.")
    if guess is not None:
        return (f"The file names no input settings: these are timm's for {(arch or info.arch)[len('timm:'):]} (its pretrained "
                "configuration). Left as they are, the loader uses the network's own (these, with the channel count its "
                "weights have), with a note; change any to set them.")
    known = ("a timm architecture's; a torchvision architecture's ImageNet settings when its head has 1,000 classes (a "
             "ResNet: short side to 256, the centre 224 cropped); else " if info.format == "state_dict" else "")
    return ("The file names no input settings: these are a generic guess. Left as they are, the loader finds the "
            f"model's own where it can, with a note: {known}the input size and channels the network runs on. Change any "
            "to set them.")


class LoadModelDialog(QDialog):
    """Format, architecture, labels, preprocessing and class groups of one model file.

    ``facts``: a ModelFileFacts (``info``: ModelFileInfo, ``architectures``: torchvision names and
    ``timm:NAME`` for timm's).
    After OK, :attr:`result_spec` holds the ModelSpec. :meth:`accept` validates and keeps the dialog
    open with a message when something is wrong.
    """

    def __init__(self, facts, parent: QWidget | None = None):
        super().__init__(parent)
        from gradflip_desktop.core.models import Preprocessing

        self.info = info = facts.info
        self.result_spec = None
        side = info.sidecar
        self.setWindowTitle(f"Load Model – {Path(info.path).name}")
        self.setMinimumWidth(520)

        self.path_label = QLabel(str(info.path))
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_edit = QLineEdit(side.name if side and side.name else "")
        self.name_edit.setPlaceholderText("shown in the window (default: from the file)")

        self.format_box = QComboBox()
        for key, title in FORMAT_TITLES.items():
            self.format_box.addItem(title, key)
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(info.format)))

        self.arch_box = QComboBox()
        self.arch_box.setEditable(True)
        self.arch_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.arch_box.addItem(DETECT_ARCH, "")
        for a in facts.architectures:
            self.arch_box.addItem(a, a)
        if info.arch:
            i = self.arch_box.findData(info.arch)
            if i < 0:
                self.arch_box.addItem(info.arch, info.arch)
                i = self.arch_box.count() - 1
            self.arch_box.setCurrentIndex(i)
        self.arch_box.setToolTip(
            "The architecture the weights belong to: torchvision (e.g. resnet18) or timm:NAME "
            "(e.g. timm:vit_small_patch16_224); type part of a name to see matches"
        )
        completer = self.arch_box.completer()  # any part of the name matches, in a popup (timm has >1000 names)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.arch_label = QLabel("&Architecture")
        self.arch_label.setBuddy(self.arch_box)
        self.weights_note = QLabel(f"recognised torchvision weights: {info.weights}" if info.weights else "")
        self.weights_note.setWordWrap(True)

        self.labels_edit = QLineEdit(side.labels_path if side and side.labels_path else "")
        self._inline_labels = side.labels if side and side.labels is not None else None
        # labels listed in the saved settings are kept when the field stays empty: say so (the field read
        # "optional: …", as if the model had none, and its classes would be "class 0", "class 1", …)
        if self._inline_labels:
            first = ", ".join(self._inline_labels[:2])
            more = ", …" if len(self._inline_labels) > 2 else ""
            hint = f"from the saved settings ({len(self._inline_labels)} classes: {first}{more})"
        elif info.labels:
            hint = f"from the weights ({len(info.labels)} classes)"
        else:
            hint = "optional: text (one per line) or JSON"
        self.labels_edit.setPlaceholderText(hint)
        self.labels_edit.setToolTip("\n".join(self._inline_labels[:20]) if self._inline_labels else "")
        self.labels_button = QPushButton("Browse…")
        labels_row = QHBoxLayout()
        labels_row.addWidget(self.labels_edit, 1)
        labels_row.addWidget(self.labels_button)

        guess = None if info.preprocessing is not None else getattr(info, "guess", None)
        self._pre_known = info.preprocessing is not None
        self.height_box = QSpinBox()
        self.width_box = QSpinBox()
        for box in (self.height_box, self.width_box):
            box.setLocale(QLocale.c())  # Latin digits, as the settings' boxes (LANG=ar_EG.UTF-8 showed "٢٢٤")
            box.setRange(1, 8192)
        size_row = QHBoxLayout()
        size_row.addWidget(self.height_box)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.width_box)
        size_row.addWidget(QLabel("(height × width)"))
        size_row.addStretch(1)
        self.resize_box = QComboBox()
        self.resize_box.addItem("Squash to the input size", "squash")
        self.resize_box.addItem("Resize the short side, crop the centre", "center-crop")
        self.resize_box.addItem("Squash to the resize size, crop the centre", "squash-crop")
        self.mean_edit = QLineEdit()
        self.std_edit = QLineEdit()
        self.channels_box = QComboBox()
        self.channels_box.addItem("3 (RGB)", 3)
        self.channels_box.addItem("1 (grayscale)", 1)
        self._fill(info.preprocessing or guess or Preprocessing())
        # nothing known: the fields show a generic guess, but left as they are the loader keeps its own (a timm
        # architecture's pretrained_cfg, e.g. 176 px centre crop; a 1-channel network gets grayscale), so say so
        self.pre_note = QLabel(_guess_note(info, guess))
        self.pre_note.setWordWrap(True)
        self.pre_note.setVisible(not self._pre_known)
        self.groups_edit = QLineEdit(format_groups(side.groups) if side and side.groups else "")
        self.groups_edit.setPlaceholderText("optional, e.g. odd: 1,3,5,7,9; small: 0-4")

        self.trust_label = QLabel(TORCHSCRIPT_WARNING)
        self.trust_label.setWordWrap(True)
        self.trust_label.setStyleSheet("color: #b35900")
        self.trust_box = QCheckBox("I trust this file: load it")
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b")
        self.error_label.hide()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("File", self.path_label)
        form.addRow("&Name", self.name_edit)
        form.addRow("&Format", self.format_box)
        form.addRow(self.arch_label, self.arch_box)
        form.addRow("", self.weights_note)
        labels_label = QLabel("&Labels")
        labels_label.setBuddy(self.labels_edit)
        size_label = QLabel("&Input size")
        size_label.setBuddy(self.height_box)
        form.addRow(labels_label, labels_row)
        form.addRow(size_label, size_row)
        form.addRow("&Resize", self.resize_box)
        form.addRow("&Mean", self.mean_edit)
        form.addRow("&Std", self.std_edit)
        form.addRow("&Channels", self.channels_box)
        form.addRow("", self.pre_note)
        form.addRow("Class &groups", self.groups_edit)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Load")
        note = QLabel("Once the model loads, the settings are saved next to the model file, so the next load needs no questions.")
        note.setWordWrap(True)
        body = QWidget()  # the fields and notes scroll on a short screen; Load and Cancel stay in view below them
        fields = QVBoxLayout(body)
        fields.setContentsMargins(0, 0, 0, 0)
        fields.addLayout(form)
        for w in (self.trust_label, self.trust_box, self.error_label, note):
            fields.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(FormScrollArea(body), 1)
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.labels_button.clicked.connect(self._browse_labels)
        self.format_box.currentIndexChanged.connect(self._update)
        self.arch_box.currentTextChanged.connect(self._arch_chosen)
        self.trust_box.toggled.connect(self._update)
        self._update()

    # -- state -------------------------------------------------------------------------------------------
    @property
    def format(self) -> str:
        return self.format_box.currentData()

    def _update(self) -> None:
        state_dict = self.format == "state_dict"
        for w in (self.arch_box, self.arch_label):
            w.setVisible(state_dict)
        self.weights_note.setVisible(state_dict and bool(self.info.weights))
        script = self.format == "torchscript"
        self.trust_label.setVisible(script)
        self.trust_box.setVisible(script)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not script or self.trust_box.isChecked())

    def _shown(self) -> tuple:
        return (self.height_box.value(), self.width_box.value(), self.resize_box.currentData(),
                self.channels_box.currentData(), self.mean_edit.text(), self.std_edit.text())

    def _arch_chosen(self, text: str) -> None:
        """A timm architecture chosen or typed after the dialog opened (a state dict that does not name its own)
        fills the input fields with its pretrained settings, as a checkpoint naming it does; another name puts the
        generic guess back. Only while the fields are as the dialog filled them: a value typed stays."""
        import sys

        from gradflip_desktop.core.models import Preprocessing

        if self._pre_known or self.info.format == "onnx" or self._shown() != self._filled:
            return
        name = text.strip()
        name = self.info.arch or "" if name in ("", DETECT_ARCH) else name  # detected: the file's own, if it names one
        guess = None
        if name.startswith("timm:") and "timm" in sys.modules:  # the list's timm names imported it: no wait
            from gradflip_desktop.core.models.files.timm import pretrained_guess

            guess = pretrained_guess(name)
        self.pre_note.setText(_guess_note(self.info, guess, name))  # (timm:B with timm:A's settings: B's note)
        pre = guess or Preprocessing()
        if pre != self._prefilled_pre:
            self._fill(pre)

    def _fill(self, pre) -> None:
        """The input fields show ``pre``; :meth:`preprocessing` and :meth:`_arch_chosen` compare the fields with
        what was filled (``_filled``: nothing typed since)."""
        self._prefilled_pre = pre
        self.height_box.setValue(pre.input_size[0])
        self.width_box.setValue(pre.input_size[1])
        self.resize_box.setCurrentIndex(max(0, self.resize_box.findData(pre.resize)))
        self.channels_box.setCurrentIndex(max(0, self.channels_box.findData(pre.channels)))
        self.mean_edit.setText(", ".join(f"{v:g}" for v in pre.mean))
        self.std_edit.setText(", ".join(f"{v:g}" for v in pre.std))
        self._filled = self._shown()

    def _browse_labels(self) -> None:
        start = str(Path(self.info.path).parent)
        path, _ = QFileDialog.getOpenFileName(self, "Labels File", start, LABELS_FILTER)
        if path:
            self.labels_edit.setText(path)

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    # -- the result ----------------------------------------------------------------------------------------
    def preprocessing(self):
        """The Preprocessing shown, or None when it is the untouched guess for a file that has none."""
        from gradflip_desktop.core.errors import ModelError
        from gradflip_desktop.core.models import Preprocessing

        from gradflip_desktop.core.models.files.spec import scaled_resize_size
        from gradflip_desktop.core.models.prep_fields import CROPS

        base = self._prefilled_pre
        size = (self.height_box.value(), self.width_box.value())
        try:
            pre = Preprocessing(
                input_size=size,
                mean=_numbers(self.mean_edit.text(), "mean"),
                std=_numbers(self.std_edit.text(), "std"),
                resize=self.resize_box.currentData(),
                resize_size=scaled_resize_size(base, size) if self.resize_box.currentData() in CROPS else None,
                channels=int(self.channels_box.currentData()),
                interpolation=base.interpolation,
                antialias=base.antialias,
            )
        except ModelError as exc:
            raise ValueError(str(exc)) from None
        if not self._pre_known and (pre == base or self._shown() == self._filled):  # (1/255 is shown to 6 digits)
            return None  # nothing known and nothing chosen: the loader's own guess (and its note)
        return pre

    def spec(self):
        """The ModelSpec the dialog describes; ValueError with a readable message when a field is wrong."""
        from gradflip_desktop.core.models.files import ModelSpec

        fmt = self.format
        if fmt == "torchscript" and not self.trust_box.isChecked():
            raise ValueError("TorchScript runs code stored in the file: tick 'I trust this file' to load it")
        arch = None
        if fmt == "state_dict":
            text = self.arch_box.currentText().strip()
            arch = None if text in ("", DETECT_ARCH) else text
        labels_path = self.labels_edit.text().strip() or None
        if labels_path is not None and not Path(labels_path).is_file():
            raise ValueError(f"the labels file {labels_path} does not exist")
        return ModelSpec(
            path=str(self.info.path),
            format=fmt,
            arch=arch,
            labels=self._inline_labels if labels_path is None else None,
            labels_path=labels_path,
            preprocessing=self.preprocessing(),
            groups=parse_groups(self.groups_edit.text()),
            name=self.name_edit.text().strip() or None,
        )

    def accept(self) -> None:  # noqa: D401 - Qt API
        """Validate; on success keep the spec in :attr:`result_spec` and close with Accepted."""
        try:
            self.result_spec = self.spec()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        super().accept()
