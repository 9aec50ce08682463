"""Group runs ("any cat") with and without the rescue of a stuck adaptive search, side by side.

    OMP_NUM_THREADS=1 python benchmarks/groups.py [--top 3]

Photos: the 10 of ``benchmarks/photos.py`` (224 x 224), skimage's stereo motorcycle (left, 224 x 224) and
the bundled sample at its own size (451 x 300, as the app runs it). Explained: the built-in group of the
photo's top class (cat, vehicle, ...), else the photo's ``--top`` most probable classes as a group (so that
every photo is a group run). Default style. Per photo, one after the other in one process: the run as
shipped, and the same run with the rescue off (``search.STUCK = 0``: the adaptive rule may shrink ε without
limit, the log-odds throughout). Prints status, search steps, wall time, the key region's share and the
class it flips to, then medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.photos import benchmark_photos, to_input  # noqa: E402


def photos() -> list[tuple[str, np.ndarray]]:
    import skimage.data

    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.resources import sample_image_path

    out = [(name, to_input(arr)) for name, arr in benchmark_photos(None)]
    out.append(("motorcycle", to_input(skimage.data.stereo_motorcycle()[0])))
    out.append(("sample (451 x 300)", load_image(sample_image_path()).pixels))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=3, help="group size for photos whose top class is in no group")
    args = ap.parse_args(argv)
    from gradflip_desktop.core.explain import run, search
    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.options import ExplainOptions

    clf = load_default_model()
    stuck = search.STUCK
    rows: dict[str, list[tuple]] = {"rescue off (before)": [], "as shipped": []}
    print("| photo | group | run | status | search steps | s | key region | key region flips to |")
    print("|---|---|---|---|---|---|---|---|")
    for name, x in photos():
        top = clf.classify(x, args.top)
        named = [g for g, idx in clf.groups.items() if top[0].index in idx]
        group = named[0] if named else [p.index for p in top]
        label = named[0] if named else f"top {args.top}"
        for run_name, value in (("rescue off (before)", 0.0), ("as shipped", stuck)):
            search.STUCK = value
            try:
                t = time.perf_counter()
                res = run(clf, x, ExplainOptions(group=group))
                seconds = time.perf_counter() - t
            finally:
                search.STUCK = stuck
            n = len([s for s in res.steps if s.phase == "search"])
            kr = res.key_region
            share = kr.fraction if kr is not None and kr.flips else float("nan")
            rows[run_name].append((res.flipped, n, seconds, share))
            print(f"| {name} | {label} | {run_name} | {res.status} | {n} | {seconds:.1f} | "
                  f"{'–' if share != share else f'{100 * share:.1f} %'} | {kr.prediction.label if kr else '–'} |",
                  flush=True)
    print("\n| run | flipped | median search steps | max | median s | max s | median key region |")
    print("|---|---|---|---|---|---|---|")
    for run_name, r in rows.items():
        shares = [a[3] for a in r if a[3] == a[3]]
        print(f"| {run_name} | {sum(a[0] for a in r)}/{len(r)} | {statistics.median(a[1] for a in r):g} | "
              f"{max(a[1] for a in r)} | {statistics.median(a[2] for a in r):.1f} | {max(a[2] for a in r):.1f} | "
              f"{100 * statistics.median(shares):.1f} % |")
    print(f"\ncommand: python benchmarks/groups.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
