"""Faithfulness of importance maps: deletion/insertion AUC under three fill-ins, and ROAD. All methods in one run.

    pip install -e ".[bench]"      # captum, grad-cam, scikit-image, scikit-learn, scipy (benchmark only)
    OMP_NUM_THREADS=1 python benchmarks/faithfulness.py                 # every method, every photo
    python benchmarks/faithfulness.py --photos 4 --methods gradflip,gradcam --rise-masks 200   # quick look

Protocol (the same for every method; the default EfficientNet-Lite0; the photos of benchmarks/photos.py):
- each photo is resized to 224 x 224 (the model's input size), so every map ranks the same pixels;
  the explained class is the model's top class on the photo;
- pixels are ranked by the method's map (descending; ties broken by one fixed random order);
- **deletion** (Petsiuk et al. 2018): the top-k pixels are replaced by a fill-in and the explained
  class's probability is recorded at k = 0, n/32, ..., n (33 points); AUC over the deleted fraction,
  lower is better. **Insertion**: start from the fill-in and put the top-k original pixels back,
  higher is better. Fill-ins: a Gaussian-blurred copy (sigma 10 px, scipy), the photo's mean colour, black.
- **ROAD** (Rong et al. 2022) with pytorch-grad-cam's ``ROADMostRelevantFirstAverage`` /
  ``ROADLeastRelevantFirstAverage`` / ``ROADCombined`` as shipped (noisy linear imputation, percentiles
  10 ... 90, the change of the class probability): MoRF lower is better, LeRF higher is better, combined
  = (LeRF - MoRF) / 2 higher is better.
- The table shows medians over the photos and the median time per photo of each method (2 CPU cores).

Methods: GradFlip default style and its "smallest change" style (the exported importance map of each,
``ExplainResult.importance_map()``), vanilla gradient saliency, Integrated Gradients (captum; black
baseline, 32 steps), Grad-CAM (last feature layer), RISE (Petsiuk 2018: N random 7 x 7 masks, p = 0.5,
black fill-in, the probability-weighted mean mask), a centred Gaussian (the centre prior) and a random map.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.photos import SETS, benchmark_photos, to_input  # noqa: E402

SIZE = 224
POINTS = 33
FILLS = ("blur", "mean", "black")
ROAD_PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)  # pytorch-grad-cam's default
Map = Callable[[object, np.ndarray, int], np.ndarray]


# ---- methods -------------------------------------------------------------------------------------------

def gradflip_style(style: str | None) -> Map:
    def method(clf, x, target):
        from gradflip_desktop.core.explain import run
        from gradflip_desktop.core.options import ExplainOptions

        opts = ExplainOptions() if style is None else ExplainOptions(style=style)
        res = run(clf, x, opts)
        return res.importance_map()
    return method


def saliency(clf, x, target):
    from gradflip_desktop.core.attributions import saliency_map
    return saliency_map(clf, x, target)


def integrated_gradients(clf, x, target):
    from captum.attr import IntegratedGradients

    xt = torch.from_numpy(x).permute(2, 0, 1)[None].contiguous()
    ig = IntegratedGradients(clf.module).attribute(xt, baselines=torch.zeros_like(xt), target=target, n_steps=32,
                                                  internal_batch_size=8)
    return ig[0].abs().sum(0).detach().numpy()


def gradcam(clf, x, target):
    from gradflip_desktop.core.attributions import gradcam_map
    return gradcam_map(clf, x, target)


def rise(masks: int, cells: int = 7, p: float = 0.5, batch: int = 50) -> Map:
    """RISE (Petsiuk et al. 2018), as published: random binary cells x cells grids, upsampled bilinearly
    with a random shift, multiplied into the image (black fill-in); importance = sum_i P(class | x*M_i) M_i / (N p)."""
    @torch.no_grad()
    def method(clf, x, target):
        gen = torch.Generator().manual_seed(0)
        cell = int(np.ceil(SIZE / cells))
        up = (cells + 1) * cell
        xt = torch.from_numpy(x).permute(2, 0, 1)[None]
        acc = torch.zeros(SIZE, SIZE, dtype=torch.float64)
        for start in range(0, masks, batch):
            b = min(batch, masks - start)
            grid = (torch.rand(b, 1, cells, cells, generator=gen) < p).float()
            big = F.interpolate(grid, size=(up, up), mode="bilinear", align_corners=False)
            dx = torch.randint(0, cell, (b,), generator=gen)
            dy = torch.randint(0, cell, (b,), generator=gen)
            m = torch.stack([big[i, 0, dy[i]:dy[i] + SIZE, dx[i]:dx[i] + SIZE] for i in range(b)])
            probs = torch.softmax(clf.module(xt * m[:, None]), 1)[:, target]
            acc += (probs[:, None, None].double() * m.double()).sum(0)
        return (acc / (masks * p)).float().numpy()
    return method


def centre_gaussian(clf, x, target):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    c = (SIZE - 1) / 2
    return np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / (2 * (SIZE / 4) ** 2)).astype(np.float32)


def random_map(clf, x, target):
    seed = int(np.asarray(x * 255, np.uint8).sum()) % (2**31)
    return np.random.default_rng(seed).random((SIZE, SIZE)).astype(np.float32)


def methods(rise_masks: int) -> dict[str, tuple[str, Map]]:
    return {
        "gradflip": ("GradFlip default", gradflip_style(None)),
        "gradflip-free": ("GradFlip smallest change", gradflip_style("free")),
        "saliency": ("Saliency", saliency),
        "ig": ("Integrated Gradients", integrated_gradients),
        "gradcam": ("Grad-CAM", gradcam),
        "rise": (f"RISE ({rise_masks} masks)", rise(rise_masks)),
        "centre": ("centred Gaussian", centre_gaussian),
        "random": ("random map", random_map),
    }


# ---- metrics -------------------------------------------------------------------------------------------

def fill_in(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "blur":
        from scipy.ndimage import gaussian_filter
        return np.clip(gaussian_filter(x, sigma=(10, 10, 0), mode="reflect"), 0, 1).astype(np.float32)
    if kind == "mean":
        return np.ascontiguousarray(np.broadcast_to(x.mean((0, 1)), x.shape), dtype=np.float32)
    if kind == "black":
        return np.zeros_like(x)
    raise ValueError(kind)


def ranks(imp: np.ndarray) -> np.ndarray:
    """H x W rank of each pixel (0 = most important); ties broken by one fixed random order."""
    n = imp.size
    v = np.nan_to_num(np.asarray(imp, np.float64)).ravel()
    v = v / (np.abs(v).max() or 1.0)
    tie = np.random.default_rng(0).random(n)
    order = np.lexsort((tie, -v))
    r = np.empty(n, np.int64)
    r[order] = np.arange(n)
    return r.reshape(imp.shape)


@torch.no_grad()
def deletion_insertion(clf, x: np.ndarray, base: np.ndarray, imp: np.ndarray, target: int) -> tuple[float, float]:
    n = x.shape[0] * x.shape[1]
    ks = np.linspace(0, n, POINTS).round().astype(int)
    rt = torch.from_numpy(ranks(imp))
    xt = torch.from_numpy(x).permute(2, 0, 1)
    bt = torch.from_numpy(base).permute(2, 0, 1)
    dels, ins = [], []
    for chunk in np.array_split(ks, 3):
        m = torch.stack([(rt < k).float() for k in chunk])[:, None]
        dels += torch.softmax(clf.module(xt * (1 - m) + bt * m), 1)[:, target].tolist()
        ins += torch.softmax(clf.module(bt * (1 - m) + xt * m), 1)[:, target].tolist()
    fr = ks / n
    return float(np.trapezoid(dels, fr)), float(np.trapezoid(ins, fr))


def road(clf, x: np.ndarray, imps: list[np.ndarray], target: int,
         percentiles: tuple[int, ...] = ROAD_PERCENTILES) -> list[tuple[float, float, float]]:
    """(MoRF, LeRF, combined) per map, pytorch-grad-cam as shipped; maps passed as ranks so ties cannot
    shift the percentile thresholds."""
    from pytorch_grad_cam.metrics.road import (ROADCombined, ROADLeastRelevantFirstAverage,
                                               ROADMostRelevantFirstAverage)
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    n = x.shape[0] * x.shape[1]
    cams = np.stack([1.0 - ranks(m) / (n - 1) for m in imps]).astype(np.float32)
    inp = torch.from_numpy(x).permute(2, 0, 1)[None].repeat(len(imps), 1, 1, 1).contiguous()
    targets = [ClassifierOutputSoftmaxTarget(target)] * len(imps)
    torch.manual_seed(0)
    morf = ROADMostRelevantFirstAverage(list(percentiles))(inp, cams, targets, clf.module)
    torch.manual_seed(0)
    lerf = ROADLeastRelevantFirstAverage(list(percentiles))(inp, cams, targets, clf.module)
    assert ROADCombined  # the combined score is (LeRF - MoRF) / 2, computed from the two runs above
    return [(float(a), float(b), float((b - a) / 2)) for a, b in zip(morf, lerf)]


def evaluate(clf, x, target, imps: dict[str, np.ndarray], with_road: bool = True,
             percentiles: tuple[int, ...] = ROAD_PERCENTILES, known: dict[str, dict[str, float]] | None = None
             ) -> dict[str, dict[str, float]]:
    """Every metric of every map; ``known[k]`` (from the cache) holds metrics already measured for map k."""
    known = known or {}
    out: dict[str, dict[str, float]] = {k: dict(known.get(k, {})) for k in imps}
    for kind in FILLS:
        base = fill_in(x, kind)
        for k, imp in imps.items():
            if f"{kind} ins" in out[k]:
                continue
            d, i = deletion_insertion(clf, x, base, imp, target)
            out[k][f"{kind} del"] = d
            out[k][f"{kind} ins"] = i
    todo = [k for k in imps if "ROAD comb" not in out[k]]
    if with_road and todo:
        for k, (m, l, c) in zip(todo, road(clf, x, [imps[k] for k in todo], target, percentiles)):
            out[k].update({"ROAD MoRF": m, "ROAD LeRF": l, "ROAD comb": c})
    return out


class Cache:
    """``--cache DIR``: the maps of the deterministic peer methods (not GradFlip's) and their metrics, per
    photo, keyed by the protocol (points, ROAD percentiles), so a rerun measures only what changed. Every
    metric is recomputed when its map's bytes differ."""

    def __init__(self, root: str | None, protocol: str):
        self.root = Path(root) if root else None
        self.protocol = protocol

    def _paths(self, photo: str, method: str) -> tuple[Path, Path]:
        d = self.root / photo
        return d / f"{method}.npy", d / f"{method}.{self.protocol}.json"

    def load(self, photo: str, method: str) -> tuple[np.ndarray | None, float | None, dict]:
        if self.root is None or method.startswith("gradflip"):
            return None, None, {}
        import json

        npy, js = self._paths(photo, method)
        if not npy.exists():
            return None, None, {}
        meta = json.loads(js.read_text()) if js.exists() else {}
        seconds = meta.get("time")
        if seconds is None:  # the map was cached under another protocol: its time is the same
            others = sorted(npy.parent.glob(f"{method}.*.json"))
            seconds = json.loads(others[0].read_text()).get("time") if others else None
        return np.load(npy), seconds, meta.get("metrics", {})

    def save(self, photo: str, method: str, imp: np.ndarray, seconds: float, metrics: dict) -> None:
        if self.root is None or method.startswith("gradflip"):
            return
        import json

        npy, js = self._paths(photo, method)
        npy.parent.mkdir(parents=True, exist_ok=True)
        np.save(npy, imp)
        js.write_text(json.dumps({"time": seconds, "metrics": metrics}))


COLUMNS = [f"{k} {c}" for k in FILLS for c in ("del", "ins")] + ["ROAD MoRF", "ROAD LeRF", "ROAD comb"]
LOWER_BETTER = {c for c in COLUMNS if c.endswith("del") or c == "ROAD MoRF"}


def table(rows: dict[str, list[dict[str, float]]], names: dict[str, str], times: dict[str, list[float]]) -> str:
    cols = [c for c in COLUMNS if any(c in r for rs in rows.values() for r in rs)]
    # medians over the photos that have the metric (ROAD may have been run on a subset: --no-road)
    med = {k: {c: statistics.median([r[c] for r in rs if c in r] or [float("nan")]) for c in cols} for k, rs in rows.items()}
    best = {c: (min if c in LOWER_BETTER else max)(med[k][c] for k in med if med[k][c] == med[k][c]) for c in cols}
    lines = ["| method | " + " | ".join(c + (" ↓" if c in LOWER_BETTER else " ↑") for c in cols) + " | s / photo |",
             "|---" * (len(cols) + 2) + "|"]
    for k in rows:
        cells = [f"**{med[k][c]:.3f}**" if med[k][c] == best[c] else f"{med[k][c]:.3f}" for c in cols]
        lines.append(f"| {names[k]} | " + " | ".join(cells) + f" | {statistics.median(times[k]):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=None, help="use only the first N photos of the fixed list")
    ap.add_argument("--set", default="benchmark", choices=tuple(SETS),
                    help="photo set of benchmarks/photos.py (held-out: photos no setting was chosen on, but for the feature-group half's share: all 18)")
    ap.add_argument("--methods", default=None, help="comma-separated subset of: " + ",".join(methods(1000)))
    ap.add_argument("--rise-masks", type=int, default=1000, help="RISE masks per photo (default 1000)")
    ap.add_argument("--no-road", action="store_true", help="skip ROAD (slow: sparse imputation)")
    ap.add_argument("--road-percentiles", default=",".join(map(str, ROAD_PERCENTILES)),
                    help="ROAD removal percentiles (default: pytorch-grad-cam's 10,20,...,90)")
    ap.add_argument("--only", default=None, help="comma-separated photo names of the fixed list (default: all)")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write the per-photo numbers to FILE")
    ap.add_argument("--merge", nargs="+", default=None, metavar="FILE",
                    help="print the table of several --json files (photo subsets run in parallel) and exit")
    ap.add_argument("--cache", default=None, metavar="DIR",
                    help="reuse the peer methods' maps and metrics stored in DIR by an earlier run (GradFlip is always recomputed)")
    args = ap.parse_args(argv)
    if args.merge:
        import json

        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        names = parts[0]["names"]
        rows = {k: [r for p in parts for r in p["rows"][k]] for k in names}
        times = {k: [t for p in parts for t in p["times"][k]] for k in names}
        photos = [n for p in parts for n in p["photos"]]
        print(f"{len(photos)} photos ({', '.join(photos)}); " + "; ".join(p["protocol"] for p in parts[:1]) + "\n")
        print(table(rows, names, times))
        return
    percentiles = tuple(int(p) for p in args.road_percentiles.split(","))
    cache = Cache(args.cache, f"p{POINTS}-road{'-'.join(map(str, percentiles))}")
    torch.manual_seed(0)
    from gradflip_desktop.core.models import load_default_model

    clf = load_default_model()
    all_methods = methods(args.rise_masks)
    keys = list(all_methods) if args.methods is None else [k.strip() for k in args.methods.split(",")]
    unknown = [k for k in keys if k not in all_methods]
    if unknown:
        ap.error(f"unknown method(s) {unknown}; choose from {list(all_methods)}")
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in keys}
    times: dict[str, list[float]] = {k: [] for k in keys}
    t0 = time.perf_counter()
    photos = benchmark_photos(args.photos, args.set)
    if args.only:
        wanted = [n.strip() for n in args.only.split(",")]
        unknown = sorted(set(wanted) - {n for n, _ in photos})
        if unknown:
            ap.error(f"unknown photo(s) {unknown}")
        photos = [(n, a) for n, a in photos if n in wanted]
    for name, arr in photos:
        x = to_input(arr, SIZE)
        target = int(np.argmax(clf.probabilities(x)))
        imps, known = {}, {}
        for k in keys:
            imp, seconds, known[k] = cache.load(name, k)
            if imp is None:
                t = time.perf_counter()
                imp = np.asarray(all_methods[k][1](clf, x, target), np.float32)
                seconds = time.perf_counter() - t
            imps[k] = imp
            times[k].append(float("nan") if seconds is None else seconds)  # cached without a time
        res = evaluate(clf, x, target, imps, with_road=not args.no_road, percentiles=percentiles, known=known)
        for k in keys:
            cache.save(name, k, imps[k], times[k][-1], res[k])
        print(f"{name:22} top: {clf.label(target)!r}", flush=True)
        for k in keys:
            rows[k].append(res[k])
            print(f"    {all_methods[k][0]:28} " + "  ".join(f"{c} {v:.3f}" for c, v in res[k].items())
                  + f"  ({times[k][-1]:.2f} s)", flush=True)
    print(f"\n{len(photos)} photos at {SIZE} x {SIZE}, {POINTS} points per curve, medians; "
          f"torch threads {torch.get_num_threads()}; {time.perf_counter() - t0:.0f} s in all\n")
    print(table(rows, {k: all_methods[k][0] for k in keys}, times))
    if args.json:
        import json

        protocol = (f"{SIZE} x {SIZE}, {POINTS} points per curve, ROAD percentiles "
                    f"{','.join(map(str, percentiles)) if not args.no_road else 'none'}")
        Path(args.json).write_text(json.dumps({
            "photos": [n for n, _ in photos], "protocol": protocol, "names": {k: all_methods[k][0] for k in keys},
            "rows": rows, "times": times}, indent=1))


if __name__ == "__main__":
    main()
