"""How small a region alone flips the decision when the key-region search ranks pixels by each method's map.

    OMP_NUM_THREADS=1 python benchmarks/region_peers.py                       # every method, 10 photos
    python benchmarks/region_peers.py --photos 3 --methods gradflip,gradcam    # quick look

The question the default explanation answers is "which smallest region alone flips the decision". Its
answer depends on the map that ranks the pixels, so the same search is run with every method's map: for
each photo (224 x 224, the default EfficientNet-Lite0, the model's top class), GradFlip's default run gives
its key region and its fill-in (the detail-removed copy it chose); then
``core.explain.key_region.find_key_region`` — the default's own search: the smallest top-k region by the map
whose 8-bit image with the region replaced by that fill-in flips, less the blobs the flip does not need — is
run with each peer's map (``benchmarks/faithfulness.py``'s Saliency, Integrated Gradients, Grad-CAM, RISE,
centred Gaussian, random). Same fill-in, same search, same photos: only the ranking differs. A smaller
region that flips is a more specific answer. Medians over the photos; "flips" counts the photos on which
the region alone flips (the search ends at the whole image when none does).
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

from benchmarks.faithfulness import methods as peer_methods  # noqa: E402
from benchmarks.photos import SETS, benchmark_photos, to_input  # noqa: E402


def drain(gen):
    """Run a core generator (yields progress) to its return value."""
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


def region_by_map(clf, result, importance: np.ndarray):
    """The default run's key-region search with ``importance`` as the ranking, the run's own fill-in."""
    from gradflip_desktop.core.explain.key_region import find_key_region
    from gradflip_desktop.core.explain.objective import Objective

    x0 = clf.image_tensor(result.original_pixels)
    fill = torch.from_numpy(np.ascontiguousarray(result.fill_pixels, dtype=np.float32)).permute(2, 0, 1)[None].to(x0.device)
    obj = Objective(clf, result.explained, None, x0)
    return drain(find_key_region(obj, x0, fill, np.asarray(importance, dtype=np.float32), lambda: False,
                                 result.key_region.fill))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=None, help="use only the first N photos")
    ap.add_argument("--set", default="benchmark", choices=tuple(SETS))
    ap.add_argument("--methods", default="gradflip,saliency,ig,gradcam,rise,centre,random",
                    help="comma-separated; gradflip is always run (its run gives the fill-in)")
    ap.add_argument("--rise-masks", type=int, default=1000)
    args = ap.parse_args(argv)

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.options import ExplainOptions

    clf = load_default_model()
    peers = peer_methods(args.rise_masks)
    wanted = [m for m in args.methods.split(",") if m and m != "gradflip"]
    unknown = [m for m in wanted if m not in peers]
    if unknown:
        sys.exit(f"unknown method(s): {', '.join(unknown)}; choose from gradflip, {', '.join(peers)}")
    rows: dict[str, list[tuple[float, bool, int]]] = {"gradflip": []}
    rows.update({m: [] for m in wanted})
    times: dict[str, list[float]] = {m: [] for m in rows}
    photos = benchmark_photos(args.photos, args.set)
    for name, arr in photos:
        x = to_input(arr)
        t = time.perf_counter()
        res = run(clf, x, ExplainOptions())
        times["gradflip"].append(time.perf_counter() - t)
        kr = res.key_region
        if kr is None or res.fill_pixels is None:
            print(f"{name}: the default run did not flip ({res.status}); skipped", flush=True)
            continue
        rows["gradflip"].append((kr.fraction, kr.flips, kr.components))
        line = [f"{name:22s} gradflip {100 * kr.fraction:5.1f} %"]
        for m in wanted:
            t = time.perf_counter()
            imp = peers[m][1](clf, x, res.original.index)
            peer = region_by_map(clf, res, imp)
            times[m].append(time.perf_counter() - t)
            rows[m].append((peer.fraction, peer.flips, peer.components))
            line.append(f"{m} {100 * peer.fraction:5.1f} %{'' if peer.flips else ' (no flip)'}")
        print(" | ".join(line), flush=True)

    n = len(rows["gradflip"])
    print(f"\n{n} photos, 224 x 224, the default run's fill-in and key-region search, ranked by each map; medians\n")
    print("| map | key region (median share) | flips alone | areas (median) | smaller than GradFlip's | s / photo |")
    print("|---|---|---|---|---|---|")
    ours = [r[0] for r in rows["gradflip"]]
    for m, rs in rows.items():
        if not rs:
            continue
        label = "GradFlip default (its own key region)" if m == "gradflip" else peers[m][0]
        smaller = "" if m == "gradflip" else f"{sum(r[0] < o for r, o in zip(rs, ours))}/{len(rs)}"
        print(f"| {label} | {100 * statistics.median(r[0] for r in rs):.1f} % | {sum(r[1] for r in rs)}/{len(rs)} "
              f"| {statistics.median(r[2] for r in rs):g} | {smaller} | {statistics.median(times[m]):.2f} |")


if __name__ == "__main__":
    main()
