"""The gallery's marks: for results of a model that is no longer loaded (:mod:`.gallery` draws it,
:mod:`gradflip_desktop.ui.controllers.folder_model` decides when), and for a photo with nothing to flip.

After a folder run, loading another model left every tile saying "→ tabby cat" with nothing to tell that the
answer was the earlier model's. Marked, a finished tile is dimmed with a badge naming its model, its tooltip says
so, the panel's title starts with it, and Continue becomes Explain Again (the folder with the loaded model).
A photo with nothing to flip has no change and no map: its strip is the photo beside two grey copies, which looked
like a result; it carries a "nothing to flip" badge over them.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

from gradflip_desktop.core.summary import count_text

from .elision import elide_end

MARK_CHARS = 28  # a model's name on a badge or in the title ("resnet50 (ImageNet, 1000 classes, weights.pth)")
MARKED_TEXT = QColor(128, 128, 128)  # a marked tile's lines: grey on light and dark alike
AGAIN, CONTINUE = "Explain Again", "Continue"
NOTHING = "nothing to flip"  # a tile's line says it (gallery.outcome_text); its picture carries it as a badge


def short_names(model: str, loaded: str) -> tuple[str, str]:
    """The two models' names without their details ("first.pt (TorchScript, 4 classes)": "first.pt") where that
    still tells them apart, each at most ``MARK_CHARS`` long."""
    a, b = model.split(" (")[0], loaded.split(" (")[0]
    a, b = (a, b) if a and b and a != b else (model, loaded)
    return elide_end(a, MARK_CHARS), elide_end(b, MARK_CHARS)


def marked_pixmap(pixmap: QPixmap, model: str | None, nothing: bool = False) -> QPixmap:
    """``pixmap`` (a tile's strip or photo) dimmed, with a badge naming ``model`` in its top left corner (None: as it
    is); ``nothing``: a "nothing to flip" badge in its middle, over the strip's empty map."""
    out = QPixmap(pixmap.size())  # device pixels, at the pixmap's ratio (a HiDPI tile); drawn in the tile's pixels
    out.setDevicePixelRatio(pixmap.devicePixelRatio())
    out.fill(Qt.GlobalColor.transparent)
    width, height = pixmap.deviceIndependentSize().toSize().width(), pixmap.deviceIndependentSize().toSize().height()
    p = QPainter(out)
    p.setOpacity(0.35 if model else 1.0)
    p.drawPixmap(0, 0, pixmap)
    p.setOpacity(1.0)
    font = QFont(p.font())
    font.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
    p.setFont(font)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    fm = p.fontMetrics()
    for text, centred in ((model, False), (NOTHING if nothing else None, True)):
        if not text:
            continue
        w, h = min(fm.horizontalAdvance(text) + 10, width - 4), fm.height() + 2
        box = QRect((width - w) // 2, (height - h) // 2, w, h) if centred else QRect(2, 2, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(40, 40, 40, 230))  # white on near-black: the same on a light and a dark window
        p.drawRoundedRect(box, 3, 3)
        p.setPen(QColor(255, 255, 255))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, fm.elidedText(text, Qt.TextElideMode.ElideRight, box.width() - 6))
    p.end()
    return out


class TileMarks:
    """A gallery's mark: the model its finished tiles come from while another is loaded (None: unmarked); its
    tiles' badged pixmaps are kept with their plain ones (:class:`.tile_cache.TileCache`), by :meth:`look`."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.loaded = ""
        self.settings: tuple[str, str] | None = None  # (the run's settings, the panel's) in words while they differ

    @property
    def again(self) -> bool:
        """Continue is Explain Again: the results are another model's or were made with other settings."""
        return self.model is not None or self.settings is not None

    def look(self, marked: bool = True, nothing: bool = False) -> tuple:
        """What a tile's badges say: another mark (another model) is another look, drawn anew."""
        return (self.model, self.loaded) if marked else None, nothing

    def pixmap(self, pixmap: QPixmap, marked: bool = True, nothing: bool = False) -> QPixmap:
        """``pixmap`` with its badges: the model's when ``marked``, "nothing to flip" when ``nothing``."""
        return marked_pixmap(pixmap, short_names(self.model or "", self.loaded)[0] if marked else None, nothing)

    def tip(self) -> str:
        return (f"\nExplained with {self.model}, not the loaded {self.loaded}: Explain Again explains the folder with "
                f"{self.loaded} (Export All keeps these first)." if self.model else "")


def mark_title(text: str, marks: TileMarks) -> str:
    """The panel's title, then which model the results are from, while another is loaded, or which settings, while
    the panel's differ; a cancelled run's "Continue explains the rest" reads as the button does now."""
    if marks.model:
        made, now = short_names(marks.model, marks.loaded)
    elif marks.settings:
        made, now = marks.settings
    else:
        return text
    # the count first: at 1366 px "Explained with the key region style, not with the smallest change s…" left
    # out how many were done (the whole title is the tooltip; the tiles and Explain Again say the rest)
    if marks.model:
        text = text.replace("Continue explains the rest", f"{AGAIN} explains all with {now}")
        return f"{text} · explained with {made}, not the loaded {now}"
    text = text.replace("Continue explains the rest", f"{AGAIN} explains all {now}")
    return f"{text} · explained {made}, not {now} as now chosen"


def show_mark(panel, model: str | None, loaded: str, running: bool) -> None:
    """Mark ``panel`` (a :class:`.gallery.GalleryPanel`) for results of ``model`` while ``loaded`` is loaded (None:
    unmarked): its tiles, title, Continue button (Explain Again, once the run has stopped) and tooltips."""
    marks = panel.model.marks
    if (model, loaded if model else "") == (marks.model, marks.loaded):
        return
    marks.model, marks.loaded = model, loaded if model else ""
    if panel.model.rows:
        panel.model.dataChanged.emit(panel.model.index(0), panel.model.index(len(panel.model.rows) - 1))
    panel.title.setText(mark_title(panel.title_text, marks))
    _again(panel, f"with the loaded {loaded} (the results of {model} are dropped" if model else None, running)
    panel.export_button.setToolTip(
        f"Copy every result set (explained with {model}), summary.csv and index.html to a folder; each record and "
        "summary.csv name that model" if model else "Copy every result set, summary.csv and index.html to a folder")


def show_settings_mark(panel, settings: tuple[str, str] | None, running: bool) -> None:
    """Mark ``panel`` while the side panel's settings differ from those of its run: ``settings`` = (the run's, the
    panel's) in words, None: the same. Its title says so and Continue becomes Explain Again (the folder with the
    panel's settings); the tiles stay as they are: they are the run's answers. A model mark says more: it wins."""
    marks = panel.model.marks
    settings = None if marks.model else settings
    if settings == marks.settings:
        return
    marks.settings = settings
    panel.title.setText(mark_title(panel.title_text, marks))
    if marks.model:
        return
    _again(panel, f"{settings[1]} (the results made {settings[0]} are dropped" if settings else None, running)


def _again(panel, how: str | None, running: bool) -> None:
    """Continue becomes Explain Again, the folder explained ``how`` ("with the loaded x.pt (the results of y.pt are
    dropped"), or stays Continue (None); enabled once the run has stopped."""
    panel.continue_button.setText(AGAIN if how else CONTINUE)
    panel.continue_button.setToolTip(
        f"Explain every image of the folder again, {how}: if never exported you are asked first)" if how else
        "Explain the images the cancelled run did not reach; the finished ones are kept")
    panel.continue_button.setEnabled(not running and (bool(how) or panel.resumable))


def ask_explain_again(panel, done: int, model: str, loaded: str) -> str:
    """Explain Again over ``done`` explanations of ``model`` never exported: "export" (Export All first, then
    explain again), "drop" or "" (stay). The question Open Folder asks; tests answer it themselves."""
    def text(n: int) -> str:
        one = n == 1
        return (f"Explain the folder again with {loaded}: the {count_text(n, 'explanation')} made with {model} "
                f"{'was' if one else 'were'} never exported and {'is' if one else 'are'} dropped. "
                f"Export {'it' if one else 'them'} first?")

    answer, _ = panel._ask_export(AGAIN, text, done, False, ("drop", "Explain Again Without Exporting"))
    return answer
