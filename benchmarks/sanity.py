"""Sanity check after Adebayo and co-authors (2018): does the map depend on the model? Cascading randomisation.

    OMP_NUM_THREADS=1 python benchmarks/sanity.py                    # every photo, every depth
    python benchmarks/sanity.py --photos 4 --methods gradflip,gradcam

For each photo (benchmarks/photos.py, 224 x 224) and each cascade depth, a copy of the default
EfficientNet-Lite0 has its top layers re-initialised (``reset_parameters()``, fixed seed; batch-norm
statistics reset too), from the logits down: ``fc`` (the classifier), ``head`` (fc + the 1x1 head conv
and its batch norm), ``head+4`` / ``head+8`` / ``head+16`` (and the last 4 / 8 / all 16 MBConv blocks;
``head+8`` is the issue's "top half"), ``all`` (and the stem). Each model explains its own top class (as
the app does). The printed number is the median Spearman rank correlation between |map| of the
trained and of the randomised model over the photos (lower = the map depends more on the model).
When the randomised model leaves GradFlip nothing to flip (its run does not end with a flip), the
photo is counted as "nothing to flip" and no map is compared.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.photos import benchmark_photos, to_input  # noqa: E402

DEPTHS = ("fc", "head", "head+4", "head+8", "head+16", "all")


class NothingToFlip(Exception):
    """The method found no flip on this model (so it draws no map)."""


def randomised(clf, depth: str, seed: int = 0):
    """A deep copy of ``clf`` with the layers of ``depth`` (see DEPTHS) re-initialised."""
    out = copy.deepcopy(clf)
    net = out.module.net
    parts = [net._fc]
    if depth != "fc":
        parts += [net._conv_head, net._bn1]
    if depth.startswith("head+"):
        n = int(depth.split("+")[1])
        parts += list(net._blocks)[len(net._blocks) - n:]
    if depth == "all":
        parts = [net]
    torch.manual_seed(seed)
    for part in parts:
        for m in part.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
            if hasattr(m, "reset_running_stats"):
                m.reset_running_stats()
    out.module.eval()
    return out


def gradflip(clf, x, target):
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    res = run(clf, x, ExplainOptions())
    if not res.flipped:
        raise NothingToFlip(res.status)
    return res.importance_map()


def methods() -> dict[str, tuple[str, Callable]]:
    from benchmarks.faithfulness import gradcam, integrated_gradients, saliency

    return {
        "gradflip": ("GradFlip default", gradflip),
        "saliency": ("Saliency", saliency),
        "ig": ("Integrated Gradients", integrated_gradients),
        "gradcam": ("Grad-CAM", gradcam),
    }


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    r = spearmanr(np.abs(a).ravel(), np.abs(b).ravel()).statistic
    return float(r) if np.isfinite(r) else 0.0


def run(methods_: dict[str, tuple[str, Callable]], photos: int | None, depths: tuple[str, ...]) -> str:
    from gradflip_desktop.core.models import load_default_model

    clf = load_default_model()
    models = {d: randomised(clf, d) for d in depths}
    corr: dict[tuple[str, str], list[float]] = {}
    nothing: dict[tuple[str, str], int] = {}
    t0 = time.perf_counter()
    shots = benchmark_photos(photos)
    for name, arr in shots:
        x = to_input(arr)
        line = [f"{name:22}"]
        for k, (_, fn) in methods_.items():
            target = int(np.argmax(clf.probabilities(x)))
            try:
                ref = fn(clf, x, target)
            except NothingToFlip:
                line.append(f"{k}: trained model has nothing to flip")
                continue
            for d, m in models.items():
                t = int(np.argmax(m.probabilities(x)))
                try:
                    r = spearman(ref, fn(m, x, t))
                except NothingToFlip:
                    nothing[(k, d)] = nothing.get((k, d), 0) + 1
                    line.append(f"{k}/{d}: nothing to flip")
                    continue
                corr.setdefault((k, d), []).append(r)
                line.append(f"{k}/{d} {r:.2f}")
        print("  ".join(line), flush=True)
    out = [f"{len(shots)} photos at 224 x 224; median Spearman of |map| (trained vs randomised); "
           f"{time.perf_counter() - t0:.0f} s", "",
           "| method | " + " | ".join(depths) + " |", "|---" * (len(depths) + 1) + "|"]
    for k, (label, _) in methods_.items():
        cells = []
        for d in depths:
            v = corr.get((k, d), [])
            cell = f"{statistics.median(v):.2f}" if v else "—"
            if nothing.get((k, d)):
                cell += f" (nothing to flip on {nothing[(k, d)]}/{len(shots)})"
            cells.append(cell)
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=None, help="use only the first N photos of the fixed list")
    ap.add_argument("--methods", default=None, help="comma-separated subset of: " + ",".join(methods()))
    ap.add_argument("--depths", default=",".join(DEPTHS), help="cascade depths (default: all of " + ",".join(DEPTHS) + ")")
    args = ap.parse_args(argv)
    all_methods = methods()
    keys = list(all_methods) if args.methods is None else [k.strip() for k in args.methods.split(",")]
    if any(k not in all_methods for k in keys):
        ap.error(f"choose methods from {list(all_methods)}")
    depths = tuple(d.strip() for d in args.depths.split(","))
    if any(d not in DEPTHS for d in depths):
        ap.error(f"choose depths from {DEPTHS}")
    print(run({k: all_methods[k] for k in keys}, args.photos, depths))


if __name__ == "__main__":
    main()
