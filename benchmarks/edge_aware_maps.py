"""Edge-aware refinements of the default map (guided filter, superpixels), measured (session 27, not adopted): deletion/insertion under three fill-ins.

Also blends of the default map with Grad-CAM's (a coarse map that ranks the whole photo; 0.04 s).

    OMP_NUM_THREADS=1 python benchmarks/edge_aware_maps.py --cache DIR          # 10 photos, ~10 min (RISE: 30 s each)

The default map is a smooth 14-cell mask (blobs that ignore object edges). Does snapping it to the photo's edges
rank pixels better? Each variant post-processes the same default map of the same run (so only the refinement
differs): a guided filter (He, Sun, Tang 2010; grey or colour guide, box radius r, regulariser eps), the map's mean in
each SLIC superpixel (scikit-image, n segments), half of each, and "top k % first": the default map's top k % of
pixels keep their order and rank first, the rest follow the edge-aware map (deletion is decided early, insertion late?).
RISE (1,000 masks) and Grad-CAM side by side, the protocol of benchmarks/faithfulness.py (33 points, medians; no ROAD).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.faithfulness import FILLS, evaluate, gradcam, gradflip_style, ranks, rise  # noqa: E402
from benchmarks.photos import benchmark_photos, to_input  # noqa: E402


def box(t: torch.Tensor, r: int) -> torch.Tensor:
    return F.avg_pool2d(F.pad(t, (r, r, r, r), mode="reflect"), 2 * r + 1, stride=1)


def guided_grey(img: np.ndarray, p: np.ndarray, r: int, eps: float) -> np.ndarray:
    """The guided filter of map ``p`` (H x W) with the photo's grey levels as the guide."""
    g = torch.from_numpy(img).permute(2, 0, 1).mean(0)[None, None].double()
    q = torch.from_numpy(p)[None, None].double()
    mg, mq = box(g, r), box(q, r)
    a = (box(g * q, r) - mg * mq) / (box(g * g, r) - mg * mg + eps)
    b = mq - a * mg
    return (box(a, r) * g + box(b, r))[0, 0].float().numpy()


def guided_colour(img: np.ndarray, p: np.ndarray, r: int, eps: float) -> np.ndarray:
    """The guided filter with the photo's three channels as the guide (a 3 x 3 solve per pixel)."""
    g = torch.from_numpy(img).permute(2, 0, 1)[None].double()
    q = torch.from_numpy(p)[None, None].double()
    mg, mq = box(g, r), box(q, r)
    cov = box(g * q, r) - mg * mq
    h, w = q.shape[-2:]
    s = torch.empty(h, w, 3, 3, dtype=torch.float64)
    for i in range(3):
        for j in range(3):
            s[..., i, j] = (box(g[:, i:i + 1] * g[:, j:j + 1], r) - mg[:, i:i + 1] * mg[:, j:j + 1])[0, 0]
    a = torch.linalg.solve(s + eps * torch.eye(3, dtype=torch.float64), cov[0].permute(1, 2, 0)[..., None])[..., 0]
    a = a.permute(2, 0, 1)[None]
    b = mq - (a * mg).sum(1, keepdim=True)
    return ((box(a, r) * g).sum(1, keepdim=True) + box(b, r))[0, 0].float().numpy()


def superpixel_mean(img: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """The map's mean in each SLIC superpixel of the photo (about ``n`` of them)."""
    from skimage.segmentation import slic

    seg = slic(img, n_segments=n, compactness=10, start_label=0).ravel()
    sums = np.bincount(seg, weights=p.ravel().astype(np.float64))
    return (sums / np.maximum(np.bincount(seg), 1))[seg].reshape(p.shape).astype(np.float32)


def top_first(base: np.ndarray, other: np.ndarray, k: float) -> np.ndarray:
    """``base``'s top ``k`` of pixels first, in its order; then the rest in ``other``'s order."""
    top = ranks(base) < k * base.size
    return np.where(top, 2.0 + base, normalised(other)).astype(np.float32)


def either(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A pixel ranks where the better of its two ranks puts it (the union of both maps' top sets, grown together)."""
    return -np.minimum(ranks(a), ranks(b)).astype(np.float32)


def mean_rank(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return -(ranks(a) + ranks(b)).astype(np.float32)


def normalised(m: np.ndarray) -> np.ndarray:
    m = np.nan_to_num(np.asarray(m, np.float32))
    m = m - m.min()
    return m / (m.max() or 1.0)


VARIANTS = {
    "default map": lambda x, m, cam: m,
    "guided grey r4 eps 1e-2": lambda x, m, cam: guided_grey(x, m, 4, 1e-2),
    "guided grey r8 eps 1e-2": lambda x, m, cam: guided_grey(x, m, 8, 1e-2),
    "guided grey r8 eps 1e-3": lambda x, m, cam: guided_grey(x, m, 8, 1e-3),
    "guided colour r8 eps 1e-2": lambda x, m, cam: guided_colour(x, m, 8, 1e-2),
    "guided colour r8 eps 1e-3": lambda x, m, cam: guided_colour(x, m, 8, 1e-3),
    "guided colour r16 eps 1e-2": lambda x, m, cam: guided_colour(x, m, 16, 1e-2),
    "SLIC 200 mean": lambda x, m, cam: superpixel_mean(x, m, 200),
    "half SLIC 100 mean": lambda x, m, cam: 0.5 * superpixel_mean(x, m, 100) + 0.5 * m,
    "top 3 % first, then SLIC 200": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 200), 0.03),
    "top 5 % first, then SLIC 200": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 200), 0.05),
    "top 10 % first, then SLIC 200": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 200), 0.10),
    "top 5 % first, then SLIC 400": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 400), 0.05),
    "top 5 % first, then SLIC 100": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 100), 0.05),
    "top 5 % first, then guided colour r16": lambda x, m, cam: top_first(m, guided_colour(x, m, 16, 1e-2), 0.05),
    "top 20 % first, then SLIC 400": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 400), 0.20),
    "top 30 % first, then SLIC 400": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 400), 0.30),
    "top 5 % first, then SLIC 800": lambda x, m, cam: top_first(m, superpixel_mean(x, m, 800), 0.05),
    "either ranks it high (SLIC 400)": lambda x, m, cam: either(m, superpixel_mean(x, m, 400)),
    "mean rank with SLIC 400": lambda x, m, cam: mean_rank(m, superpixel_mean(x, m, 400)),
    # not edge-aware: the coarse map of another method, blended in (Grad-CAM, 0.04 s; the tail of the ranking?)
    "map + 0.1 Grad-CAM": lambda x, m, cam: m + 0.1 * cam,
    "map + 0.25 Grad-CAM": lambda x, m, cam: m + 0.25 * cam,
    "map + 0.5 Grad-CAM": lambda x, m, cam: m + 0.5 * cam,
    "map x (0.5 + Grad-CAM)": lambda x, m, cam: m * (0.5 + cam),
    "ranks 0.8 map + 0.2 Grad-CAM": lambda x, m, cam: -(0.8 * ranks(m) + 0.2 * ranks(cam)).astype(np.float32),
}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=None, help="only the first N photos of the fixed list")
    ap.add_argument("--cache", default=None, metavar="DIR", help="keep the default, RISE and Grad-CAM maps in DIR")
    args = ap.parse_args(argv)
    from gradflip_desktop.core.models import load_default_model

    torch.manual_seed(0)
    clf = load_default_model()
    cache = Path(args.cache) if args.cache else None
    peers = {"GradFlip": gradflip_style(None), "RISE (1000 masks)": rise(1000), "Grad-CAM": gradcam}
    rows: dict[str, list[dict]] = {k: [] for k in [*VARIANTS, "RISE (1000 masks)", "Grad-CAM"]}
    for name, arr in benchmark_photos(args.photos):
        x = to_input(arr)
        with torch.no_grad():
            target = int(clf.module(torch.from_numpy(x).permute(2, 0, 1)[None])[0].argmax())
        maps = {}
        for k, fn in peers.items():
            f = cache / f"{name}.{k.split()[0]}.npy" if cache else None
            if f is not None and f.exists():
                maps[k] = np.load(f)
                continue
            maps[k] = fn(clf, x, target)
            if f is not None:
                f.parent.mkdir(parents=True, exist_ok=True)
                np.save(f, maps[k])
        base = normalised(maps["GradFlip"])
        cam = normalised(maps["Grad-CAM"])
        imps = {k: v(x, base, cam) for k, v in VARIANTS.items()}
        imps.update({k: maps[k] for k in ("RISE (1000 masks)", "Grad-CAM")})
        res = evaluate(clf, x, target, imps, with_road=False)
        for k in rows:
            rows[k].append(res[k])
        print(name, flush=True)
    cols = [f"{f} {c}" for f in FILLS for c in ("del", "ins")]
    print("| map | " + " | ".join(c + (" ↓" if c.endswith("del") else " ↑") for c in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for k, rs in rows.items():
        print(f"| {k} | " + " | ".join(f"{statistics.median(r[c] for r in rs):.4f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
