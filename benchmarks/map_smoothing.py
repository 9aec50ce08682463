"""The default map smoothed round (a Gaussian of a fraction of a cell), measured (session 53, not adopted): deletion/insertion under three fill-ins

sigma = s x cell (cell = 224 px / 14); the three fill-ins of benchmarks/faithfulness.py, no ROAD.

    OMP_NUM_THREADS=1 python benchmarks/map_smoothing.py [--set all|imagenet|...] [--only A,B] [--tag T]   # default: the 18

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

from benchmarks.faithfulness import FILLS, deletion_insertion, fill_in  # noqa: E402
from benchmarks.photos import benchmark_photos, to_input  # noqa: E402
from gradflip_desktop.core.explain import run  # noqa: E402
from gradflip_desktop.core.models import load_default_model  # noqa: E402
from gradflip_desktop.core.options import ExplainOptions  # noqa: E402

S = [0.0, 0.25, 0.4, 0.6]  # sigma in cells; 0 = the map as shipped
COLUMNS = ("blur del", "blur ins", "mean del", "mean ins", "black del", "black ins")


def main() -> None:
    import argparse

    from benchmarks.photos import SETS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="all", choices=tuple(SETS))
    ap.add_argument("--only", default=None, help="comma-separated photo names of the set")
    ap.add_argument("--tag", default=None, help="the JSON's name: map_smoothing_TAG.json (default: the set's name)")
    args = ap.parse_args()
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
        res = {}
        for s in S:
            m = imp if s == 0 else gaussian_filter(imp.astype(np.float64), s * 224 / 14, mode="nearest")
            r = {}
            for kind in FILLS:
                r[f"{kind} del"], r[f"{kind} ins"] = deletion_insertion(clf, x, fill_in(x, kind), m, t)
            res[str(s)] = r
        rows[name] = res
        print(name, {s: " ".join(f"{v:.3f}" for v in r.values()) for s, r in res.items()}, flush=True)
    Path(f"map_smoothing_{args.tag or args.set}.json").write_text(json.dumps(rows))
    summary(rows, split=args.set == "all")


def summary(rows: dict, split: bool = True) -> None:
    """Medians per sigma (``split``: the 10 benchmark photos, the 8 held-out ones, all; else all) and on how many
    photos each column is better than the shipped map's."""
    import statistics

    names = list(rows)
    for s in map(str, S):
        meds = []
        for sub in ((names[:10], names[10:], names) if split else (names,)):
            if sub:
                meds.append(" ".join(f"{statistics.median(rows[n][s][c] for n in sub):.3f}" for c in COLUMNS))
        better = ["%d" % sum((rows[n][s][c] < rows[n]["0.0"][c]) == c.endswith("del") and rows[n][s][c] != rows[n]["0.0"][c]
                             for n in names) for c in COLUMNS]
        print(f"sigma {s} cell: medians " + " | ".join(meds) + " ; better than shipped on " + "/".join(better))


if __name__ == "__main__":
    main()
