"""Speed of the default explanation (region style) at 224 x 224 and at the 1,024 px working size.

    python benchmarks/region_speed.py [--threads 2] [--photos N]

For each photo of benchmarks/photos.py: wall time and process CPU time of one default run (the model
already loaded and warmed up), gradient/forward evaluations, the key region's share, and — for live
progress — the time to the first Step, the longest gap between two Steps, and the longest gap between two
updates of any kind (a Step or a key-region pass's Progress; the app's progress bar shows each).
Medians at the end. Wall time depends on what else the machine runs; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.photos import SETS, benchmark_photos, to_input  # noqa: E402


def one(clf, x) -> dict:
    from gradflip_desktop.core.explain import explain
    from gradflip_desktop.core.options import ExplainOptions

    from gradflip_desktop.core.results import Step

    marks, updates = [], []
    t0, c0 = time.perf_counter(), time.process_time()
    gen = explain(clf, x, ExplainOptions())
    while True:
        try:
            value = next(gen)
            now = time.perf_counter() - t0
            updates.append(now)
            if isinstance(value, Step):
                marks.append(now)
        except StopIteration as done:
            res = done.value
            break
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    gaps = np.diff([0.0, *marks, wall])
    update_gaps = np.diff([0.0, *updates, wall])
    return {"wall": wall, "cpu": cpu, "first": marks[0] if marks else wall, "gap": float(gaps.max()),
            "update_gap": float(update_gaps.max()),
            "grad": res.gradient_evaluations, "fwd": res.forward_evaluations, "flipped": res.flipped,
            "region": None if res.key_region is None else res.key_region.fraction,
            "region_flips": bool(res.key_region and res.key_region.flips)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2: the machine's cores)")
    ap.add_argument("--photos", type=int, default=None, help="use only the first N photos")
    ap.add_argument("--set", default="benchmark", choices=tuple(SETS),
                    help="photo set of benchmarks/photos.py (held-out: photos no setting was chosen on, but for the feature-group half's share: all 18)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from gradflip_desktop.core.models import load_default_model

    clf = load_default_model()
    photos = benchmark_photos(args.photos, args.set)
    one(clf, to_input(photos[0][1], 224))  # warm-up
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    for size in (224, 1024):
        rows = []
        for name, arr in photos:
            r = one(clf, to_input(arr, size))
            rows.append(r)
            share = "-" if r["region"] is None else f"{100 * r['region']:.1f} %"
            print(f"{size:5} {name:22} wall {r['wall']:5.2f} s  cpu {r['cpu']:5.2f} s  first step {r['first']:4.2f} s  "
                  f"longest gap {r['gap']:4.2f} s (updates {r['update_gap']:4.2f} s)  {r['grad']} grad + {r['fwd']} fwd  "
                  f"key region {share} "
                  f"flips {r['region_flips']}", flush=True)
        med = {k: statistics.median(r[k] for r in rows) for k in ("wall", "cpu", "first", "gap", "update_gap", "grad", "fwd")}
        print(f"{size:5} MEDIAN wall {med['wall']:.2f} s, cpu {med['cpu']:.2f} s, first step {med['first']:.2f} s, "
              f"longest gap {med['gap']:.2f} s (between any updates {med['update_gap']:.2f} s, at most "
              f"{max(r['update_gap'] for r in rows):.2f} s), {med['grad']:.0f} grad + {med['fwd']:.0f} fwd; "
              f"flipped {sum(r['flipped'] for r in rows)}/{len(rows)}; load average {os.getloadavg()[0]:.1f}", flush=True)
        shares = [r["region"] for r in rows if r["region"] is not None]
        if shares:
            print(f"{size:5} key region: median {100 * statistics.median(shares):.1f} % of the image, "
                  f"flips alone in {sum(r['region_flips'] for r in rows)}/{len(rows)}\n", flush=True)


if __name__ == "__main__":
    main()
