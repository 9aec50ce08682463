"""The window's own keys: a text field must not swallow a window shortcut (Ctrl+E on X11), and the window is
active again once a dialog closes (without a window manager nothing else makes it so)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QWidget


def clipboard_is_not_for(field: QWidget) -> bool:
    """Is the clipboard something ``field`` cannot take, which Ctrl+V then opens as the photo (Paste Image)? An image
    or files and no text for a text field; anything but a number for a spin box. With the focus in Step budget (Tab
    goes through the settings first), Ctrl+V pasted a copied image into the box, which went blank, and opened nothing."""
    mime = QGuiApplication.clipboard().mimeData()
    if mime is None:
        return False
    text = mime.text().strip() if mime.hasText() else ""
    spin = field if isinstance(field, QAbstractSpinBox) else field.parentWidget()
    if not text:
        return mime.hasImage() or mime.hasUrls()
    if isinstance(spin, QAbstractSpinBox):  # "512 px", "off", "0,5" and an out-of-range number are the box's
        bare = text.removeprefix(spin.prefix()).removesuffix(spin.suffix()).strip()
        if spin.validate(text, 0)[0] != QValidator.State.Invalid or bare == spin.specialValueText():
            return False
        try:
            float(bare.replace(",", "."))
            return False
        except ValueError:
            return True
    return False


class WindowKeysFirst(QObject):
    """Lets the window's own keys through its text fields. On X11 (and with KDE's or GNOME's key scheme) a
    line edit claims Ctrl+E as "end of line" (End does the same), so Export's Ctrl+E did nothing while the
    focus sat in the class field or a spin box, and the folder typed next went into that field."""

    def __init__(self, keys, parent: QObject) -> None:
        super().__init__(parent)
        self.keys = {QKeySequence(k)[0].toCombined() for k in keys}

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.parent():
            if event.type() == QEvent.Type.Show:
                QTimer.singleShot(0, self, self._activate)
            return False
        if event.type() == QEvent.Type.ShortcutOverride and (
                event.keyCombination().toCombined() in self.keys
                or (event.matches(QKeySequence.StandardKey.Paste) and clipboard_is_not_for(obj))):
            event.ignore()  # not claimed: the shortcut map runs the window's action
            return True
        return False

    def _focus_moved(self, before, now) -> None:
        """The focus left a dialog of the window: once that dialog is closed (Open, Export, a message, Help), the
        window is made active again, as a window manager does. Without one, Qt took the window for active once
        more while X had given the keyboard to the screen's root window."""
        dialog = before.window() if before is not None else self.parent()
        parent = dialog.parentWidget() if dialog is not self.parent() else None
        while parent is not None and parent is not self.parent():
            parent = parent.parentWidget()
        if parent is not None:  # one of the window's dialogs: hidden (or deleted) once this signal is handled
            QTimer.singleShot(0, self, lambda: self._closed(dialog))

    def _closed(self, dialog) -> None:
        try:
            gone = not dialog.isVisible()
        except RuntimeError:  # deleted: QFileDialog.getOpenFileName() and the like, WA_DeleteOnClose
            gone = True
        if gone and QApplication.activeWindow() in (None, self.parent()):
            self._activate(again=True)

    def _activate(self, again: bool = False) -> None:
        """A window shortcut works only in the active window. Without a window manager (Xvfb, a kiosk) nothing
        activated the window when it was shown, nor again after a dialog (Open, Export, a message) closed:
        every shortcut (Ctrl+Q, Ctrl+Shift+C, Esc, …) did nothing until a click in the window, while the menus
        still worked. With a window manager the window is active by then (``again``: asked once more, which
        changes nothing); a dialog closed while another application has the focus changes nothing either."""
        window, active = self.parent(), QApplication.activeWindow()
        if (window.isVisible() and not window.isMinimized() and QApplication.activeModalWidget() is None
                and (again or active is None or not active.isVisible())):
            window.activateWindow()

    @classmethod
    def install(cls, window: QWidget, keys) -> "WindowKeysFirst":
        """The filter on every text field, spin box and combo box of ``window`` (as built now), and on the
        window itself (activated when shown, and when a dialog of it closes)."""
        keys_first = cls(keys, window)
        window.installEventFilter(keys_first)
        QApplication.instance().focusChanged.connect(keys_first._focus_moved)
        for field in window.findChildren(QLineEdit) + window.findChildren(QAbstractSpinBox) + window.findChildren(QComboBox):
            field.installEventFilter(keys_first)
        return keys_first


def say_why_disabled(window, actions, why=None) -> list[QShortcut]:
    """The keys of ``actions`` while they are disabled: a disabled action's shortcut does nothing at all, so Ctrl+E
    or Ctrl+Shift+C before the first result (or Ctrl+Return before a photo) looked broken. These shortcuts hold the
    same keys only while their action is disabled (never ambiguous) and call ``why`` (default: say in the status bar
    why there is nothing to export or copy)."""
    def export_why() -> None:
        if window.runs.running:
            window.set_status("An explanation is running: export or copy its figure once it ends.")
        elif window.folders.running:  # not "Explain first" while a folder's images are being explained
            window.set_status("A folder run is going: export or copy a figure once one of its results is shown.")
        else:
            window.set_status("Nothing to export or copy yet: Explain (Ctrl+Return) first.")

    shortcuts = []
    for action in actions:
        keys = [QShortcut(key, window, why or export_why) for key in action.shortcuts()]

        def sync(enabled: bool, keys=keys) -> None:
            for key in keys:
                key.setEnabled(not enabled)

        action.enabledChanged.connect(sync)
        sync(action.isEnabled())
        shortcuts += keys
    return shortcuts


__all__ = ["WindowKeysFirst", "say_why_disabled"]
