"""The probability plot's legend (``ui/widgets/legend.py``) alone: in a cramped plot it keeps the explained class
and the one it flips to, counting the others, and a new photo forgets their tooltip (mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_cramped_legend_keeps_its_two_first_entries_and_counts_the_rest_and_forgets_them(qtbot):
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.legend import FittedLegend

    legend = FittedLegend()
    curves = [pg.PlotDataItem() for _ in range(4)]
    legend.set_entries([(curves[0], "explained: tabby", 0), (curves[1], "flips to: lynx", 1),
                        (curves[2], "tiger cat", 4), (curves[3], "saved image (8-bit)", 3)])
    assert legend.fit(1.0, 10.0)  # room for nothing: the two that matter, the count after them
    assert [label.text for _, label in legend.items] == ["explained: tabby", "flips to: lynx · +2 more"]
    assert legend.toolTip().startswith("<p>Not in this legend, for want of room: tiger cat, saved image (8-bit).")
    legend.forget()
    assert legend.items == [] and legend.toolTip() == ""


def test_an_entry_too_wide_for_one_column_is_cut_rather_than_given_way_where_lines_of_room_are_left(qtbot):
    """The bundled cat's plot at 502 px showed two entries and "+3 more" with three lines of room under them: the
    third-ranked entry ("key region alone: jigsaw puzzle", 195 px) was wider than the legend's share, so it and all
    after it gave way. It is now cut to the share with "…" (the tooltip names it whole) and the rest follow."""
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.legend import LEGEND_SHARE, FittedLegend

    legend = FittedLegend()
    curves = [pg.PlotDataItem() for _ in range(4)]
    wide = "key region alone: a very long class name of some model"
    legend.set_entries([(curves[0], "explained: tabby", 0), (curves[1], "flips to: lynx", 1),
                        (curves[2], wide, 2), (curves[3], "saved image (8-bit)", 3)])
    whole = legend._sizes[2][0]
    plot_width = 1.6 * whole  # one column of the whole entry needs more than the share (0.45) of this
    assert legend.fit(500.0, plot_width)
    texts = [label.text for _, label in legend.items]
    assert texts[:2] == ["explained: tabby", "flips to: lynx"] and texts[3] == "saved image (8-bit)"
    assert texts[2].endswith("…") and wide.startswith(texts[2][:-1].rstrip()) and len(texts[2]) > 5
    assert all(label.item.boundingRect().width() <= whole * 0.75 for _, label in legend.items)
    assert legend.boundingRect().width() <= LEGEND_SHARE * plot_width + 1
    assert "Shortened: " + wide in legend.toolTip()
    assert legend.fit(500.0, 4 * whole)  # room for it whole: whole again, no tooltip
    assert [label.text for _, label in legend.items][2] == wide and legend.toolTip() == ""


def test_a_cut_legend_is_not_rebuilt_at_every_pixel_of_a_resize(qtbot):
    """The cut width followed the plot's width to the pixel: each pixel of a resize cleared and re-added the legend and
    measured its texts again (500 rebuilds over 500 widths, ~5 ms each). It moves in steps of CUT_STEP_PX now."""
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.legend import CUT_STEP_PX, LEGEND_SHARE, FittedLegend

    legend = FittedLegend()
    curves = [pg.PlotDataItem() for _ in range(3)]
    legend.set_entries([(curves[0], "explained: tabby", 0), (curves[1], "flips to: lynx", 1),
                        (curves[2], "key region alone: a very long class name of some model", 2)])
    start = int(1.6 * legend._sizes[2][0])
    rebuilt = sum(legend.fit(500.0, float(w)) for w in range(start, start + 100))
    assert legend.items[2][1].text.endswith("…")  # cut all along
    assert rebuilt <= 100 * LEGEND_SHARE / CUT_STEP_PX + 2, rebuilt


def test_the_entry_the_count_follows_is_cut_to_leave_the_count_room(qtbot):
    """Three lines of room: two entries and "+3 more" hid the key region's star, whose entry, cut, fits with the count
    after it ("key region alone: a ve… · +2 more")."""
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.legend import LEGEND_SHARE, FittedLegend

    legend = FittedLegend()
    curves = [pg.PlotDataItem() for _ in range(5)]
    wide = "key region alone: a very long class name of some model"
    legend.set_entries([(curves[0], "explained: tabby", 0), (curves[1], "flips to: lynx", 1), (curves[2], wide, 2),
                        (curves[3], "saved image (8-bit)", 3), (curves[4], "tiger cat", 4)])
    _, top, _, bottom = legend.layout.getContentsMargins()
    three_lines = 3 * max(h for _, h in legend._sizes) + top + bottom
    plot_width = 1.6 * legend._sizes[2][0]
    assert legend.fit(three_lines, plot_width)
    texts = [label.text for _, label in legend.items]
    assert texts[:2] == ["explained: tabby", "flips to: lynx"] and len(texts) == 3
    assert texts[2].endswith("… · +2 more") and wide.startswith(texts[2].split("…")[0].rstrip())
    assert legend.boundingRect().width() <= LEGEND_SHARE * plot_width + 1


def test_what_gives_way_first_comes_last_so_a_short_runner_up_takes_the_counts_place(qtbot):
    """The bundled cat's plot at the default window size: two columns, the third row holding only "+1 more", and the
    entry it stood for, "tabby", shorter than it. In their own order the entries did not fit two columns (tabby sat
    in the first, beside the long key-region entry); in the order of their ranks the runner-up comes last, where the
    count would be, and all five are shown."""
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.legend import LEGEND_SHARE, SAMPLE_PX, FittedLegend

    legend = FittedLegend()
    texts = [("explained: Egyptian cat", 0), ("flips to: tiger cat", 1), ("tabby", 4),
             ("key region alone: jigsaw puzzle", 2), ("saved image (8-bit)", 3)]
    legend.set_entries([(pg.PlotDataItem(), t, r) for t, r in texts])
    w = [size[0] for size in legend._sizes]
    own_order = max(w[0], w[2], w[4]) + max(w[1], w[3])  # two columns filled row by row, in the entries' order
    by_rank = max(w[0], w[3], w[2]) + max(w[1], w[4])  # explained, flips to | key region, saved | tabby
    assert by_rank < own_order  # the premise
    left, top, right, bottom = legend.layout.getContentsMargins()
    three_rows = 3 * max(h for _, h in legend._sizes) + top + bottom
    two_columns = 2 * SAMPLE_PX + by_rank + 3 * legend.layout.horizontalSpacing() + left + right
    legend.fit(three_rows, two_columns / LEGEND_SHARE + 1)  # room for five in rank order, not in their own
    assert [label.text for _, label in legend.items] == [t for t, _ in sorted(texts, key=lambda e: e[1])]
    assert legend.toolTip() == ""
