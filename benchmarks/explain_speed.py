"""Speed and size of the change per step mode and explanation style (default model, CPU).

    python benchmarks/explain_speed.py [--max-side 1024]

Configurations: the fixed and adaptive step modes (free style, the textbook change), the readable
variants on top of the adaptive mode: gradient smoothing sigma 3 px, coarse-to-fine x8, and the blur and
key-region (default) styles.
Prints one row per photo and configuration: steps, gradient/forward evaluations, L2 of the saved
change, key-pixel fraction and wall time, then the medians per configuration (the cost in L2 of
each style). Photos: the fixed list of benchmarks/photos.py (a missing photo stops the run loudly).

Medians are taken over the runs that flipped only (the count is printed next to each), and the key-pixel
median over the runs that have key pixels. The fixed mode is run at several step lengths (``--fixed-eps``),
since one untuned ε says little about the textbook method.
"""

from __future__ import annotations

import argparse
import statistics
import time

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/explain_speed.py` from anywhere
from benchmarks.photos import PHOTOS, benchmark_photos  # noqa: E402
from gradflip_desktop.core.explain import run as explain_run  # noqa: E402
from gradflip_desktop.core.images import from_array  # noqa: E402
from gradflip_desktop.core.models import load_default_model  # noqa: E402
from gradflip_desktop.core.options import ExplainOptions  # noqa: E402

CONFIGS = {
    "adaptive": dict(mode="adaptive", style="free"),
    "smooth3": dict(style="free", smoothing=3.0),
    "coarse8": dict(style="free", coarse=8),
    "blur": dict(style="blur"),
    "region": dict(style="region"),  # the default style
}
FIXED_EPS = (0.0005, 0.002, 0.008)  # the fixed mode at three step lengths (RMS pixel units)


def photos(max_side, count):
    for name, arr in benchmark_photos(limit=count):  # raises PhotoMissing: never a silent drop
        yield from_array(arr, name=name, max_side=max_side)


def _median(values) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return statistics.median(vals) if vals else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-side", type=int, default=1024)
    ap.add_argument("--epsilon", type=float, default=ExplainOptions.epsilon, help="initial ε of the adaptive runs")
    ap.add_argument("--fixed-eps", type=float, nargs="+", default=list(FIXED_EPS), help="ε values of the fixed mode")
    ap.add_argument("--photos", type=int, default=6, help=f"the first N photos of benchmarks/photos.py (max {len(PHOTOS)})")
    args = ap.parse_args()
    configs = {f"fixed{e:g}": dict(mode="fixed", style="free", epsilon=e) for e in args.fixed_eps}
    configs.update({k: dict(epsilon=args.epsilon, **v) for k, v in CONFIGS.items()})
    clf = load_default_model()
    clf.classify(np.zeros((224, 224, 3), np.float32))  # warm-up
    print(f"command: python benchmarks/explain_speed.py --max-side {args.max_side} --photos {args.photos} "
          f"--epsilon {args.epsilon:g} --fixed-eps {' '.join(f'{e:g}' for e in args.fixed_eps)}")
    rows = []
    print(f"{'photo':22} {'size':>9} {'config':11} {'status':9} {'steps':>5} {'grad':>4} {'fwd':>4} {'L2 saved':>8} {'key %':>6} {'s':>6}")
    for img in photos(args.max_side, args.photos):
        for mode, extra in configs.items():
            t = time.perf_counter()
            r = explain_run(clf, img, ExplainOptions(**extra))
            dt = time.perf_counter() - t
            kp = 100 * r.key_pixels.fraction if r.key_pixels else float("nan")
            rows.append((mode, len(r.steps), r.gradient_evaluations, r.forward_evaluations, r.l2_saved, kp, dt, r.flipped))
            w, h = img.size
            print(f"{img.name:22} {w:>4}x{h:<4} {mode:11} {str(r.status)[:9]:9} {len(r.steps):5d} {r.gradient_evaluations:4d} "
                  f"{r.forward_evaluations:4d} {r.l2_saved:8.3f} {kp:6.2f} {dt:6.2f}")
    print("\nmedians over the runs that flipped (key %: over those with key pixels)")
    for mode in configs:
        sel = [r for r in rows if r[0] == mode]
        ok = [r for r in sel if r[7]]
        if not ok:
            print(f"  {mode:11} flipped 0/{len(sel)}: no medians")
            continue
        med = [_median(r[i] for r in ok) for i in range(1, 7)]
        print(f"  {mode:11} flipped {len(ok)}/{len(sel)}  steps {med[0]:.0f}  grad {med[1]:.0f}  fwd {med[2]:.0f}  "
              f"L2 saved {med[3]:.3f}  key {'n/a' if math.isnan(med[4]) else f'{med[4]:.2f} %'}  {med[5]:.2f} s")


if __name__ == "__main__":
    main()
