"""The gallery of a run: a thumbnail strip per result (original | difference | key set) and ``index.html``,
one self-contained page (thumbnails inlined as data URIs, no script or style from elsewhere) that opens in
any browser offline: a table sortable by how easily each photo flips (L2 of the saved change, key-set
size) and by class, and a per-class table."""

from __future__ import annotations

import base64
import html
import io
import os
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..images import atomic_write_bytes, safe_formats, utf8_bytes
from ..summary import any_of, apart, levels_text, pct1, share
from ..viz.display import MAX_SHOWN_ASPECT
from .summary import NOT_RUN

THUMB_DIR = ".thumbs"
THUMB_HEIGHT = 96
THUMB_MAX_ASPECT = 3  # a panel at most this many times as wide as the strip is high (a 4000 x 300 panorama
# made a 3,837 px wide strip that pushed every row's numbers off the page); a wider photo is letterboxed


def _shrunk(img: np.ndarray, height: int) -> np.ndarray:
    """``img`` as uint8, ``height`` px high, or, when that would be wider than :data:`THUMB_MAX_ASPECT` x
    ``height``, that wide (and less high); a strip thinner than 1 / :data:`MAX_SHOWN_ASPECT` of that stretched to it."""
    from PIL import Image

    h, w = img.shape[:2]
    width, inner = max(1, round(w * height / h), round(height / MAX_SHOWN_ASPECT)), height
    if width > THUMB_MAX_ASPECT * height:
        width = THUMB_MAX_ASPECT * height
        inner = max(1, round(h * width / w), round(width / MAX_SHOWN_ASPECT))
    arr = img if img.dtype == np.uint8 else np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(arr).resize((width, inner), Image.Resampling.BOX))


def _resize(img: np.ndarray, height: int) -> np.ndarray:
    """A panel of the strip: :func:`_shrunk`, centred on white ``height`` px high when it is less high."""
    small = _shrunk(img, height)
    if small.shape[0] == height:
        return small
    panel = np.full((height,) + small.shape[1:], 255, np.uint8)
    top = (height - small.shape[0]) // 2
    panel[top:top + small.shape[0]] = small
    return panel


def thumbnail_strip(result, height: int = THUMB_HEIGHT, gap: int | None = 255) -> np.ndarray:
    """original | difference (heat over the photo) | key set, uint8. The key region (region style) is drawn
    as the app and the figure draw it (yellow outline, the rest dimmed; the outline drawn at the thumbnail's
    size, so it stays one pixel wide and visible); key pixels (free/blur styles) red on the grey photo.
    ``gap``: the grey level of the 3 px between the panels (white: index.html's page); ``None``: an RGBA strip
    with transparent gaps (the window's tiles, on a dark theme's background too: white bars stood out there)."""
    from ..figure import difference_overlay
    from ..viz.maps import composite, is_dark, key_region_layer

    orig = result.original_pixels
    diff = difference_overlay(result)
    kp, region = result.key_pixels, getattr(result, "key_region", None)
    if kp is None and region is not None:
        from PIL import Image

        small = _shrunk(orig, height)  # a letterboxed panorama's outline is drawn at its own size, then padded
        mask = Image.fromarray(np.asarray(region.mask, dtype=bool))
        small_mask = np.asarray(mask.resize(small.shape[1::-1], Image.Resampling.NEAREST), dtype=bool)
        # dark or not as the window and the figure decide it, on the photo itself: the shrunk copy's median differs
        key = composite(small.astype(np.float32) / 255.0, key_region_layer(small_mask, dark=is_dark(orig)))
    else:
        key = np.repeat(orig.mean(axis=2, keepdims=True), 3, axis=2) * 0.6 + 0.2
        if kp is not None:  # the key pixels
            key[kp.mask] = (1.0, 0.1, 0.1)
    panels = [_resize(p, height) for p in (orig, diff, key)]
    if gap is None:
        panels = [np.concatenate([p, np.full(p.shape[:2] + (1,), 255, np.uint8)], axis=2) for p in panels]
        space = np.zeros((height, 3, 4), np.uint8)
    else:
        space = np.full((height, 3, 3), gap, np.uint8)
    return np.concatenate([panels[0], space, panels[1], space, panels[2]], axis=1)


def write_thumbnail(out_dir: str | Path, name: str, result) -> Path:
    from PIL import Image

    folder = Path(out_dir) / THUMB_DIR
    if folder.is_symlink():  # a link planted in --out (an unzipped results folder) had NAME.jpg written where it points
        folder.unlink()
    folder.mkdir(exist_ok=True)
    buf = io.BytesIO()
    Image.fromarray(thumbnail_strip(result)).save(buf, format="JPEG", quality=85)
    return atomic_write_bytes(folder / f"{name}.jpg", buf.getvalue(), overwrite=True)


def _data_uri(out_dir: Path, name: str, files: dict) -> str:
    """The thumbnail strip of ``name``; else the difference image of its set; else ''."""
    for path, mime in ((out_dir / THUMB_DIR / f"{name}.jpg", "image/jpeg"),
                       (out_dir / str(files.get("difference", "")), "image/png")):
        if path.is_file():
            if mime == "image/png":  # a set written elsewhere (no strip): shrink its difference image
                from PIL import Image

                with Image.open(path, formats=safe_formats()) as im:
                    im.thumbnail((THUMB_HEIGHT * 4, THUMB_HEIGHT))
                    buf = io.BytesIO()
                    im.convert("RGB").save(buf, format="JPEG", quality=85)
                data, mime = buf.getvalue(), "image/jpeg"
            else:
                data = path.read_bytes()
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return ""


_SCRIPT = """
function sortBy(table, col, numeric) {
  const body = table.tBodies[0], rows = Array.from(body.rows);
  const dir = table.dataset.col == col && table.dataset.dir == "asc" ? "desc" : "asc";
  rows.sort((a, b) => {
    let x = a.cells[col].dataset.v ?? a.cells[col].textContent, y = b.cells[col].dataset.v ?? b.cells[col].textContent;
    if (numeric) { x = x === "" ? Infinity : parseFloat(x); y = y === "" ? Infinity : parseFloat(y); }
    return (x < y ? -1 : x > y ? 1 : 0) * (dir == "asc" ? 1 : -1);
  });
  rows.forEach(r => body.appendChild(r));
  table.dataset.col = col; table.dataset.dir = dir;
}
"""
# the thumbnails shrink with the window (at most 32 % of its width): at their full 438 px the page needed 1,086 px
# and a 1024 px browser window scrolled sideways even for one photo
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} table{border-collapse:collapse;margin-bottom:2em}
th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:middle}
th{cursor:pointer;background:#f3f3f3;position:sticky;top:0} td.n{text-align:right;font-variant-numeric:tabular-nums}
.error{color:#a00} img{display:block;max-width:32vw;height:auto}
"""


def _shown_names(files: list[str]) -> dict[str, str]:
    """Each input as the page shows it: its path below the folder all inputs share (``a/x.png`` and ``b/x.png``,
    not ``x.png`` twice); a lone input by its file name."""
    paths = [Path(f) for f in files]
    try:
        root = Path(os.path.commonpath([str(p.parent) for p in paths])) if len(paths) > 1 else None
    except ValueError:  # absolute and relative paths, or other drives: nothing in common
        root = None
    shown = {}
    for f, p in zip(files, paths):
        try:
            shown[f] = p.relative_to(root).as_posix() if root is not None else p.name
        except ValueError:
            shown[f] = p.name
    return shown


def write_gallery(out_dir: str | Path, rows: list[dict], records: dict[str, dict], title: str = "GradFlip results") -> Path:
    """Write ``OUT/index.html`` for the summary ``rows`` (``records``: name -> record, for thumbnails)."""
    out = Path(out_dir)
    e = html.escape
    body = []
    shown = _shown_names([r["file"] for r in rows])
    models = sorted({str(r.get("model") or "") for r in rows} - {""})  # which model made the sets (summary.csv)
    for r in rows:
        # a refused input, or one an interrupted run never reached: not the set of its name (another image's)
        rec = (records.get(r["name"]) if r["status"] not in ("error", "model_error", NOT_RUN) else None) or {}  # (a failed
        # model's strip shows no real map)
        uri = _data_uri(out, r["name"], rec.get("files") or {}) if rec else ""
        img = f'<img src="{uri}" alt="{e(r["name"])}" height="{THUMB_HEIGHT}">' if uri else ""
        figure = str((rec.get("files") or {}).get("figure", ""))
        if img and figure and (out / figure).is_file():  # the thumbnail opens the set's figure (a relative link)
            img = f'<a href="{e(quote(figure))}" title="open the figure">{img}</a>'
        failed = r["status"] in ("error", "model_error")  # a model that failed: its message, not "c → c, not flipped"
        cls = ' class="error"' if failed else ""
        flipped = r["status"] == "flipped"
        was, now = (_pcts if flipped else _pct2)(r["original_probability"], r["final_probability"])
        change = (f'{e(r["original_label"])} ({was}) → {e(r["final_label"])} '
                  f'({now}){"" if flipped else ", not flipped"}') if r["original_label"] and not failed else e(r["message"])
        # "how easily it flips" only for a photo that flipped: a run that did not (nothing to flip, out of
        # budget) has a small saved change (8-bit rounding, one step) that must not sort it first as the easiest
        l2_saved, key = (r["l2_saved"], r["key_fraction"]) if flipped else ("", "")
        rms = rec.get("rms_saved") if flipped and isinstance(rec.get("rms_saved"), (int, float)) else ""
        # per value: photos of other sizes compare; written from the unrounded value, as the app's tile writes it
        # (rounded twice, 8.854996 read 8.86 here and 8.85 on the tile)
        levels = None if rms == "" else 255.0 * float(rms)
        rms_text, rms = ("", "") if levels is None else (e(levels_text(levels)), round(levels, 4))
        body.append(
            f"<tr{cls}><td>{img}</td><td title=\"{e(str(r['file']))}\">{e(shown[r['file']])}</td><td>{e(r['status'])}</td>"
            f"<td>{e(_made(r, len(models) > 1))}</td>"
            f"<td data-v=\"{e(str(r['original_label']))}\">{change}</td>"
            f"<td class=n data-v=\"{l2_saved}\">{_l2(l2_saved)}</td>"
            f"<td class=n data-v=\"{rms}\">{rms_text}</td>"
            f"<td class=n data-v=\"{key}\">{_pct(key, 2)}{_key_to(r) if key else ''}</td>"
            f"<td class=n data-v=\"{r['steps']}\">{r['steps']}</td></tr>"
        )
    per_class = _per_class(rows)
    n_flip = sum(1 for r in rows if r["status"] == "flipped")
    n_err = sum(1 for r in rows if r["status"] in ("error", "model_error"))  # a model that failed: not "not flipped"
    n_skip = sum(1 for r in rows if r["status"] == NOT_RUN)  # an interrupted run: never explained, not "not flipped"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head>
<body><h1>{e(title)}</h1>
<p>{len(rows)} inputs: {n_flip} flipped, {len(rows) - n_flip - n_err - n_skip} not flipped, {n_err} could not be read or explained{
f", {n_skip} not run (the run stopped before them)" if n_skip else ""}{
f"; explained with {e(models[0])}" if len(models) == 1 else f"; explained with {len(models)} models (see made with)" if models else ""}.
Click a column to sort; a small L2 of the saved change or a small key set means the decision flips easily
(both are given for photos that flipped only; compare them between sets made with the same style: the smallest
change's L2 is about a hundredth of a key region's, and its key set is pixels, not a region). L2 grows with the
number of pixels; RMS, the change per value in 8-bit levels, compares photos of different sizes.
Thumbnails (click one for its figure): original | difference | key set (key region outlined in yellow, hatched when it covers most of the image,
a dashed box round one of a few pixels; key pixels red).</p>
<table id="results"><thead><tr><th>result</th><th onclick="sortBy(results,1,false)">file</th>
<th onclick="sortBy(results,2,false)">status</th><th onclick="sortBy(results,3,false)">made with</th>
<th onclick="sortBy(results,4,false)">class → flipped to</th>
<th onclick="sortBy(results,5,true)">L2 saved</th><th onclick="sortBy(results,6,true)">RMS saved (/255)</th>
<th onclick="sortBy(results,7,true)">key set</th><th onclick="sortBy(results,8,true)">steps</th></tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
<h2>Per class</h2>
<table id="classes"><thead><tr><th onclick="sortBy(classes,0,false)">original class</th><th onclick="sortBy(classes,1,true)">images</th>
<th onclick="sortBy(classes,2,true)">flipped</th><th onclick="sortBy(classes,3,true)">median L2 saved</th><th>most often flipped to</th></tr></thead><tbody>
{chr(10).join(per_class)}
</tbody></table></body></html>
"""
    return atomic_write_bytes(out / "index.html", utf8_bytes(page), overwrite=True)


def _l2(value) -> str:
    """An L2 as the per-class table's median shows it (4 significant digits); "" stays ""."""
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return html.escape(str(value))


def _pct(v, digits: int = 1) -> str:
    """A probability as the figure's title writes it (99.97 % is "99.9 %", not "100.0 %"); a key set's share
    with ``digits`` decimals."""
    if v in ("", None):
        return ""
    return pct1(float(v)) if digits == 1 else share(float(v))  # a 1-pixel key set: "0.002 %", not "0.00 %"


def _pcts(a, b) -> tuple[str, str]:
    """Two probabilities as the CLI line and the figure's title write them: two decimals where one reads the same
    for both (a near tie, "bubble (8.80 %) → nematode (8.76 %)", read as no change at "8.8 % → 8.8 %")."""
    return apart(float(a), float(b)) if a not in ("", None) and b not in ("", None) else _pct2(a, b)


def _pct2(a, b) -> tuple[str, str]:
    return _pct(a), _pct(b)


def _most_often(flipped: list[dict], shown: int = 3) -> str:
    """The class the rows flipped to most often; a tie names every class sharing the count ("binoculars,
    harmonica (1 each)"; the first of them alone read as the most frequent), at most ``shown`` of them."""
    counts = Counter(str(r["final_label"]) for r in flipped).most_common()
    if not counts:
        return ""
    best = counts[0][1]
    tied = [label for label, n in counts if n == best]
    if len(tied) == 1:
        return tied[0]
    names = ", ".join(tied[:shown]) + (", …" if len(tied) > shown else "")
    return f"{names} ({best} each)"


def _key_to(row: dict) -> str:
    """What the key set alone flips the photo to (summary.csv's ``key_label``), when it is not the whole photo's
    ``final_label``: the figure's sentence names it first, and a gallery sorted by key set should not let it read as
    the final class."""
    label = str(row.get("key_label") or "")
    if not label or label == str(row.get("final_label") or ""):
        return ""
    return f' → {html.escape(label)} ({_pct(row.get("key_probability"))})'


def _made(row: dict, model: bool = False) -> str:
    """How a row's set was made, as summary.csv says it: its style, and its group or target when it has one
    (``"region"``, ``"free · any cat"``, ``"region · target tiger cat"``), after its model's name when ``model`` (the
    sets of a page were made with several models); '' for a row that does not say."""
    parts = [str(row.get("model") or "") if model else "", str(row.get("style") or "")]
    if row.get("group"):
        group = str(row["group"])  # a name ("cat") or index ranges ("281-285"), worded as the run names it
        parts.append(any_of(f"classes {group}" if group[:1].isdigit() else group))
    if row.get("target"):
        parts.append(f"target {row['target']}")
    return " · ".join(p for p in parts if p)


def _per_class(rows: list[dict]) -> list[str]:
    # one line per class and way of making the set: a median over a key region's L2 (~20) and a smallest
    # change's (~0.2) of the same class measured neither ("drilling platform: median L2 saved 8.245")
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    models = len({str(r.get("model") or "") for r in rows} - {""}) > 1  # sets of several models: neither's median
    for r in rows:
        if r["original_label"] and r["status"] != "model_error":  # it did not run: not an image that did not flip
            groups[(str(r["original_label"]), _made(r, models))].append(r)
    several = len({made for _, made in groups}) > 1
    out = []
    for (label, made), rs in sorted(groups.items()):
        flipped = [r for r in rs if r["status"] == "flipped"]
        l2 = [float(r["l2_saved"]) for r in flipped if r["l2_saved"] != ""]
        med = f"{statistics.median(l2):.4g}" if l2 else ""
        label = f"{label} ({made})" if several and made else label
        out.append(f"<tr><td>{html.escape(label)}</td><td class=n>{len(rs)}</td><td class=n>{len(flipped)}</td>"
                   f"<td class=n data-v=\"{med}\">{med}</td><td>{html.escape(_most_often(flipped))}</td></tr>")
    return out
