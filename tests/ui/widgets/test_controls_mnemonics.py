"""Every setting's Alt+letter can be typed: the mnemonic is an ASCII letter or digit, one per setting."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLabel

from gradflip_desktop.ui.widgets.controls import ControlsPanel


def test_every_setting_has_a_typeable_alt_key_of_its_own(qtbot):
    # "&ε (step)" made Alt+ε the way to the step length: no Latin keyboard has an ε key, so Help's promise
    # "Alt + an underlined letter moves to a setting" did not hold for it
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    keys = {}
    for label in panel.findChildren(QLabel):
        if label.buddy() is None:
            continue
        m = re.search(r"&(.)", label.text().replace("&&", ""))
        assert m is not None, f"{label.text()!r} has no Alt key"
        key = m.group(1).lower()
        assert re.fullmatch(r"[a-z0-9]", key), f"{label.text()!r}: Alt+{key} cannot be typed on most keyboards"
        assert key not in keys, f"Alt+{key}: {keys.get(key)!r} and {label.text()!r}"
        assert key not in "ferv h", f"{label.text()!r}: Alt+{key} opens a menu"
        keys[key] = label.text()
    assert panel.epsilon in [lab.buddy() for lab in panel.findChildren(QLabel)]


def test_the_class_table_says_it_is_the_photos(qtbot):
    """After Explain the table still lists the photo's classes beside the Adjusted image's other class: its box
    says whose they are (a user read "bulletproof vest 8.5 %" there against "17.3 %" under the Adjusted view)."""
    from PySide6.QtWidgets import QGroupBox

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    assert "What the model sees in the photo" in [box.title() for box in panel.findChildren(QGroupBox)]


def test_the_coarse_to_fine_tooltip_says_what_it_averages_in_each_style(qtbot):
    """It said "f × f pixel blocks" only; in the default key-region style the factor averages the mask's cells
    (core/explain/search.direction runs on the search's coordinates), so --coarse 8 there is not 8-px blocks."""
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    tip = panel.coarse.toolTip()
    assert "f × f pixels" in tip and "cells of its mask" in tip and "Key region" in tip, tip
    assert "f × f pixel blocks" not in tip
