"""The key region's flip with and without a margin, side by side: how large, and whether it hangs on 8-bit rounding.

    OMP_NUM_THREADS=1 python benchmarks/key_region_margin.py [--set all] [--margins 0,0.1]

Photos: ``benchmarks/photos.py``'s set (default ``all``: the 10 benchmark photos and 8 held out), squashed to
224 x 224 as ``benchmarks/faithfulness.py`` does. Per photo and margin (``key_region.KEY_MARGIN``), one after the
other in one process: the default explanation; the key region's share of the image, whether it flips alone as the
8-bit image (what the search tests and the app saves), and whether its float composite (the region replaced by the
fill-in before rounding) flips too. Prints one line per photo, then the medians and counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.photos import benchmark_photos, to_input  # noqa: E402

SIZE = 224


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="all", help="photo set of benchmarks/photos.py (default: all)")
    ap.add_argument("--margins", default="0,0.1", help="margins in logits, comma-separated (default: 0,0.1)")
    args = ap.parse_args(argv)
    import torch

    import gradflip_desktop.core.explain.key_region as key_region
    from gradflip_desktop.core import load_default_model, run

    clf = load_default_model()
    margins = [float(m) for m in args.margins.split(",")]
    shares: dict[float, list[float]] = {m: [] for m in margins}
    flips = {m: 0 for m in margins}
    floats = {m: 0 for m in margins}
    for name, arr in benchmark_photos(None, args.set):
        x = to_input(arr, SIZE)
        line = f"{name:22}"
        for m in margins:
            key_region.KEY_MARGIN = m
            res = run(clf, x)
            kr = res.key_region
            mask = kr.mask_for(kr.pixels)
            composite = np.where(mask[..., None], res.fill_pixels, res.original_pixels).astype(np.float32)
            in_float = int(np.argmax(clf.probabilities(composite))) not in list(res.explained)
            shares[m].append(kr.fraction)
            flips[m] += bool(kr.flips)
            floats[m] += in_float
            line += f" | margin {m:g}: {100 * kr.fraction:6.2f} % flips={kr.flips} float={in_float} -> {kr.prediction.label}"
        print(line, flush=True)
    n = len(shares[margins[0]])
    for m in margins:
        print(f"margin {m:g}: key region median {100 * statistics.median(shares[m]):.2f} %, flips alone {flips[m]}/{n}, "
              f"float composite flips {floats[m]}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
