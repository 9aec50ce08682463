"""Ablation of the region style's flip-back search: each variant's importance map, deletion/insertion AUC.

    OMP_NUM_THREADS=1 python benchmarks/region_ablation.py --cache DIR     # RISE maps from faithfulness.py's cache
    python benchmarks/region_ablation.py --rise-masks 1000                 # or compute RISE here (slow)
    OMP_NUM_THREADS=1 python benchmarks/region_ablation.py --cache DIR --variants averaging --stability

Same protocol and functions as ``benchmarks/faithfulness.py`` (10 photos at 224 x 224, 33 points, fill-ins
blurred copy / mean colour / black; no ROAD). Each variant sets the flip-back search's step rule
(``restore.RESTORE_MODE``), how many steps it continues past its flip (``restore.RESTORE_PAST_FLIP``) and
whether the steps past a flip answer with the mean or the last of their masks
(``restore.AVERAGE_PAST_FLIP``); everything else is the default run. ``--variants averaging``: only the
last-mask / mean rows. ``--stability``: each variant also explains every photo with the same weights laid
out as before ``benchmarks/model_layout.py``'s change (logits equal to ~1e-6) and reports the median Spearman
correlation of the two maps (1 = the answer does not depend on float rounding), and the deletion/insertion
numbers are the mean over the two maps (less noise from where each run happens to circle). Prints the medians, the median wall time and gradient evaluations
per photo, the key region's median share, and on how many photos each variant beats RISE per column.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import faithfulness as fb  # noqa: E402
from benchmarks.photos import benchmark_photos, to_input  # noqa: E402

VARIANTS = {  # name -> (RESTORE_MODE, RESTORE_PAST_FLIP, AVERAGE_PAST_FLIP)
    "adaptive steps, 3 past the flip, last mask": ("adaptive", 3, False),
    "fixed steps, 3 past, last mask": ("fixed", 3, False),
    "fixed steps, 6 past, last mask": ("fixed", 6, False),
    "fixed steps, 10 past, last mask (before)": ("fixed", 10, False),
    "fixed steps, 10 past, mean past the flip (default)": ("fixed", 10, True),
}
AVERAGING = ["fixed steps, 10 past, last mask (before)", "fixed steps, 10 past, mean past the flip (default)"]
COLS = [f"{k} {c}" for k in fb.FILLS for c in ("del", "ins")]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=None, metavar="DIR", help="faithfulness.py's --cache DIR (RISE maps and metrics)")
    ap.add_argument("--rise-masks", type=int, default=1000, help="RISE masks when a photo's map is not cached")
    ap.add_argument("--photos", type=int, default=None, help="only the first N photos")
    ap.add_argument("--variants", choices=["all", "averaging"], default="all")
    ap.add_argument("--stability", action="store_true", help="also explain with the weights laid out as before (see the doc)")
    args = ap.parse_args(argv)
    variants = VARIANTS if args.variants == "all" else {k: VARIANTS[k] for k in AVERAGING}
    from gradflip_desktop.core.explain import restore, run
    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.options import ExplainOptions

    clf = load_default_model()
    other = None
    if args.stability:
        from scipy.stats import spearmanr

        from benchmarks.model_layout import variants as layouts

        other = layouts(clf)[0][1]
    cache = fb.Cache(args.cache, f"p{fb.POINTS}-road{'-'.join(map(str, (20, 50, 80)))}")
    rows: dict[str, list[dict]] = {v: [] for v in [*variants, "RISE"]}
    saved = restore.RESTORE_MODE, restore.RESTORE_PAST_FLIP, restore.AVERAGE_PAST_FLIP
    for name, arr in benchmark_photos(args.photos):
        x = to_input(arr, fb.SIZE)
        target = int(np.argmax(clf.probabilities(x)))
        rise_map, _, known = cache.load(name, "rise")
        if rise_map is None:
            rise_map = fb.rise(args.rise_masks)(clf, x, target)
            known = {}
        rows["RISE"].append(fb.evaluate(clf, x, target, {"rise": rise_map}, with_road=False, known={"rise": known})["rise"])
        for v, setting in variants.items():
            restore.RESTORE_MODE, restore.RESTORE_PAST_FLIP, restore.AVERAGE_PAST_FLIP = setting
            try:
                t = time.perf_counter()
                res = run(clf, x, ExplainOptions())
                seconds = time.perf_counter() - t
                again = run(other, x, ExplainOptions()) if other is not None else None
            finally:
                restore.RESTORE_MODE, restore.RESTORE_PAST_FLIP, restore.AVERAGE_PAST_FLIP = saved
            maps = {"m": res.importance_map()}
            if again is not None:
                maps["again"] = again.importance_map()
            ev = fb.evaluate(clf, x, target, maps, with_road=False)
            m = {c: statistics.fmean(e[c] for e in ev.values()) for c in COLS}
            m.update(seconds=seconds, gradients=res.gradient_evaluations,
                     region=res.key_region.fraction if res.key_region else float("nan"))
            if again is not None:
                m["stability"] = float(spearmanr(maps["m"].ravel(), maps["again"].ravel())[0])
            rows[v].append(m)
            print(f"{name:22} {v:42} " + " ".join(f"{m[c]:.3f}" for c in COLS)
                  + f"  {seconds:.2f} s  {res.gradient_evaluations} gradients", flush=True)
    n = len(rows["RISE"])
    print(f"\nmedians over {n} photos; wins = photos on which the variant beats RISE in that column\n")
    stab = args.stability
    first = next(iter(variants))
    print("| variant | " + " | ".join(COLS) + " | s / photo | gradients | key region | wins vs RISE | better than the first row"
          + (" | map stability |" if stab else " |"))
    print("|---|" + "---|" * (len(COLS) + 5 + stab))
    for v, rs in rows.items():
        med = [statistics.median(r[c] for r in rs) for c in COLS]
        if v == "RISE":
            print("| RISE (cached map) | " + " | ".join(f"{x:.3f}" for x in med) + " |" * (6 + stab))
            continue
        wins = [sum((r[c] < q[c]) if c.endswith("del") else (r[c] > q[c]) for r, q in zip(rs, rows["RISE"])) for c in COLS]
        better = [sum((r[c] < q[c]) if c.endswith("del") else (r[c] > q[c]) for r, q in zip(rs, rows[first])) for c in COLS]
        print(f"| {v} | " + " | ".join(f"{x:.3f}" for x in med)
              + f" | {statistics.median(r['seconds'] for r in rs):.2f} | {statistics.median(r['gradients'] for r in rs):g}"
              + f" | {100 * statistics.median(r['region'] for r in rs):.1f} % | {'/'.join(map(str, wins))}"
              + f" | {'/'.join(map(str, better)) if v != first else ''}"
              + (f" | {statistics.median(r['stability'] for r in rs):.3f} |" if stab else " |"))

if __name__ == "__main__":
    torch.manual_seed(0)
    main()
