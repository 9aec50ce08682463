"""Speed and size of the change per step mode and explanation style (default model, CPU).

    python benchmarks/explain_speed.py [--max-side 1024]

Configurations: the fixed and adaptive step modes (free style, the textbook change), and the readable
styles on top of the adaptive mode: gradient smoothing sigma 3 px, coarse-to-fine x8, blur.
Prints one row per photo and configuration: steps, gradient/forward evaluations, L2 of the saved
change, key-pixel fraction and wall time, then the medians per configuration (the cost in L2 of
each style). Photos ship inside scikit-image.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import skimage.data as data

from gradflip_desktop.core import explain as ex

from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.core.images import from_array
from gradflip_desktop.core.models import load_default_model

CONFIGS = {
    "fixed": dict(mode="fixed"),
    "adaptive": dict(mode="adaptive"),
    "smooth3": dict(smoothing=3.0),
    "coarse8": dict(coarse=8),
    "blur": dict(style="blur"),
}
PHOTOS = ("chelsea", "coffee", "rocket", "astronaut", "motorcycle_left", "hubble_deep_field")


def photos(max_side):
    for name in PHOTOS:
        try:
            arr = getattr(data, name)()
        except Exception:  # noqa: BLE001 - a photo missing from this scikit-image
            continue
        yield from_array(arr, name=name, max_side=max_side)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-side", type=int, default=1024)
    ap.add_argument("--epsilon", type=float, default=ExplainOptions.epsilon)
    args = ap.parse_args()
    clf = load_default_model()
    clf.classify(np.zeros((224, 224, 3), np.float32))  # warm-up
    rows = []
    print(f"{'photo':18} {'size':>9} {'mode':8} {'status':9} {'steps':>5} {'grad':>4} {'fwd':>4} {'L2 saved':>8} {'key %':>6} {'s':>6}")
    for img in photos(args.max_side):
        for mode, extra in CONFIGS.items():
            t = time.perf_counter()
            r = ex.run(clf, img, ExplainOptions(epsilon=args.epsilon, **extra))
            dt = time.perf_counter() - t
            kp = 100 * r.key_pixels.fraction if r.key_pixels else float("nan")
            rows.append((mode, len(r.steps), r.gradient_evaluations, r.forward_evaluations, r.l2_saved, kp, dt, r.flipped))
            w, h = img.size
            print(f"{img.name:18} {w:>4}x{h:<4} {mode:9} {r.status[:9]:9} {len(r.steps):5d} {r.gradient_evaluations:4d} "
                  f"{r.forward_evaluations:4d} {r.l2_saved:8.3f} {kp:6.2f} {dt:6.2f}")
    print("\nmedians")
    for mode in CONFIGS:
        sel = [r for r in rows if r[0] == mode]
        med = [statistics.median(r[i] for r in sel) for i in range(1, 7)]
        flips = sum(r[7] for r in sel)
        print(f"  {mode:9} steps {med[0]:.0f}  grad {med[1]:.0f}  fwd {med[2]:.0f}  L2 saved {med[3]:.3f}  "
              f"key {med[4]:.2f} %  {med[5]:.2f} s  flipped {flips}/{len(sel)}")


if __name__ == "__main__":
    main()
