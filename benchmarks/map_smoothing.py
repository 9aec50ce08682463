"""The default map smoothed round (a Gaussian of a fraction of a cell), measured (sessions 53-54, not adopted): deletion/insertion under three fill-ins

sigma = s x cell (cell = 224 px / 14); the three fill-ins of benchmarks/faithfulness.py, no ROAD.

    OMP_NUM_THREADS=1 python benchmarks/map_smoothing.py [--set all|imagenet|...] [--only A,B] [--tag T]   # default: the 18
    OMP_NUM_THREADS=1 python benchmarks/map_smoothing.py --dilate [...]   # max(map, a x smoothed map) instead
    ... --road   # ROAD at 20, 50, 80 % too (benchmarks/faithfulness.py's road(): MoRF, LeRF, combined)

--dilate (session 54): each pixel keeps the larger of its own value and a times the map smoothed with sigma s cells,
so the map's order at its top stays and the pixels round a bright area rise above the far ones (a soft dilation).

The window's importance map shows cross-shaped bands (a reviewer, 2026-12-07): the mask's 14 cells are upsampled
bilinearly, and a bilinear tent is a product of two ramps, so an isolated bright cell draws a plus. A Gaussian of
about half a cell would draw round blobs; this measures what it does to the curves. Writes map_smoothing_TAG.json
(per photo, per sigma, the six areas) in the current folder, the maps it makes in map_smoothing_maps/ there.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scipy.ndimage import gaussian_filter  # noqa: E402

from benchmarks.faithfulness import FILLS, deletion_insertion, fill_in, road  # noqa: E402
from benchmarks.photos import benchmark_photos, to_input  # noqa: E402
from gradflip_desktop.core.explain import run  # noqa: E402
from gradflip_desktop.core.models import load_default_model  # noqa: E402
from gradflip_desktop.core.options import ExplainOptions  # noqa: E402

S = [0.0, 0.25, 0.4, 0.6]  # sigma in cells; 0 = the map as shipped
DILATE = [(0.0, 1.0), (0.3, 1.0), (0.4, 1.0), (0.5, 1.0), (0.6, 1.0), (0.5, 1.5)]  # --dilate: (a, sigma in cells); a 0 = as shipped
COLUMNS = ("blur del", "blur ins", "mean del", "mean ins", "black del", "black ins")


def main() -> None:
    import argparse

    from benchmarks.photos import SETS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="all", choices=tuple(SETS))
    ap.add_argument("--only", default=None, help="comma-separated photo names of the set")
    ap.add_argument("--tag", default=None, help="the JSON's name: map_smoothing_TAG.json (default: the set's name)")
    ap.add_argument("--road", action="store_true", help="ROAD at 20, 50, 80 %% too (slow: ~20 s per map)")
    ap.add_argument("--dilate", action="store_true", help="max(map, a x map smoothed by sigma cells) for (a, sigma) in " + str(DILATE[1:]))
    args = ap.parse_args()
    variants = ([(str(a) if s == 1.0 else f"{a}@{s}", a, s) for a, s in DILATE] if args.dilate
                else [(str(s), s, s) for s in S])  # (key, 0 = as shipped, sigma in cells)
    out = Path.cwd() / "map_smoothing_maps"  # the shipped maps, made once (delete the folder after a code change)
    out.mkdir(exist_ok=True)
    clf = load_default_model()
    names = args.only.split(",") if args.only else None
    rows = {}
    for name, arr in benchmark_photos(None, args.set):
        if names and name not in names:
            continue
        x = to_input(arr, 224)
        t = int(np.argmax(clf.probabilities(x)))
        f = out / f"{name}.npy"
        if f.exists():
            imp = np.load(f)
        else:
            imp = run(clf, x, ExplainOptions()).importance_map().astype(np.float32)
            np.save(f, imp)
        res, made = {}, {}
        for key, a, s in variants:
            m = imp if a == 0 else gaussian_filter(imp.astype(np.float64), s * 224 / 14, mode="nearest")
            if args.dilate and a:
                m = np.maximum(imp / imp.max(), a * (m - m.min()) / (np.ptp(m) + 1e-12))
            r = {}
            for kind in FILLS:
                r[f"{kind} del"], r[f"{kind} ins"] = deletion_insertion(clf, x, fill_in(x, kind), m, t)
            res[key], made[key] = r, m.astype(np.float32)
        if args.road:
            for key, scores in zip(made, road(clf, x, list(made.values()), t, (20, 50, 80))):
                res[key].update(zip(("ROAD MoRF", "ROAD LeRF", "ROAD comb"), map(float, scores)))
        rows[name] = res
        print(name, {s: " ".join(f"{v:.3f}" for v in r.values()) for s, r in res.items()}, flush=True)
    Path(f"map_smoothing_{args.tag or args.set}.json").write_text(json.dumps(rows))
    summary(rows, [k for k, _, _ in variants], split=args.set == "all")


def summary(rows: dict, keys: list[str], split: bool = True) -> None:
    """Medians per variant (``split``: the 10 benchmark photos, the 8 held-out ones, all; else all) and on how many
    photos each column is better than the shipped map's (variant "0.0")."""
    import statistics

    names = list(rows)
    columns = COLUMNS + tuple(c for c in ("ROAD MoRF", "ROAD LeRF", "ROAD comb") if c in rows[names[0]][keys[0]])
    for s in keys:
        meds = []
        for sub in ((names[:10], names[10:], names) if split else (names,)):
            if sub:
                meds.append(" ".join(f"{statistics.median(rows[n][s][c] for n in sub):.3f}" for c in columns))
        better = ["%d" % sum((rows[n][s][c] < rows[n]["0.0"][c]) == c.endswith(("del", "MoRF"))
                             and rows[n][s][c] != rows[n]["0.0"][c] for n in names) for c in columns]
        print(f"{s}: medians " + " | ".join(meds) + " ; better than shipped on " + "/".join(better))


if __name__ == "__main__":
    main()
