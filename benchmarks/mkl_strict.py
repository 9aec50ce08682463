"""MKL's strict reproducibility mode, side by side: the same answer at any thread count, and what it costs.

    python benchmarks/mkl_strict.py [--photos 3] [--repeats 2] [--rounds 2]

Importing GradFlip sets ``MKL_CBWR=AUTO,STRICT`` (unless it is set): Intel MKL then adds a matrix product's floats in
one order whatever the thread count. Without it (``MKL_CBWR=`` empty: MKL's default) one thread and two summed the
default model's 1x1 convolutions in other orders, and the searches, which circle the decision boundary, gave other
answers (the bundled cat's key region: 52 % of the photo at one thread, 57 % at two). MKL reads the variable at its
first product, so each configuration runs in its own child process (this script with ``--child``), alternating round by
round; each child explains the same photos (benchmarks/photos.py, 224 x 224, the default explanation; the model
loaded and warmed up first) and prints its wall times and each answer's fingerprint (flip step, key-region fraction,
a digest of the importance map). The table: median wall per configuration, its ratio to the plain mode at the same
thread count, and whether the answers at one and two threads are the same, photo by photo.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {  # name -> (MKL_CBWR, torch threads)
    "plain, 1 thread": ("", 1),
    "strict, 1 thread": ("AUTO,STRICT", 1),
    "plain, 2 threads": ("", 2),
    "strict, 2 threads": ("AUTO,STRICT", 2),
}


def child(photos: int, repeats: int, threads: int) -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.thread_wait import warmed_child

    explain, chosen = warmed_child(photos, threads)
    walls, answers = [], {}
    for _ in range(repeats):
        for name, x in chosen:
            t = time.perf_counter()
            res = explain(x)
            walls.append(time.perf_counter() - t)
            region = res.key_region
            answers[name] = [res.flip_step, None if region is None else round(float(region.fraction), 6),
                             hashlib.sha256(res.importance_map().tobytes()).hexdigest()[:12]]
    print(json.dumps({"walls": walls, "answers": answers}))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=3, help="the first N photos of benchmarks/photos.py")
    ap.add_argument("--repeats", type=int, default=2, help="runs of each photo per child process")
    ap.add_argument("--rounds", type=int, default=2, help="child processes per configuration, alternating")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.photos, args.repeats, args.threads)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    walls: dict[str, list[float]] = {}
    answers: dict[str, dict] = {}
    for rnd in range(args.rounds):
        for name, (cbwr, threads) in CONFIGS.items():
            env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
            env["MKL_CBWR"] = cbwr
            cmd = [sys.executable, __file__, "--child", "--photos", str(args.photos), "--repeats", str(args.repeats),
                   "--threads", str(threads)]
            out = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
                             .strip().splitlines()[-1])
            walls.setdefault(name, []).extend(out["walls"])
            answers[name] = out["answers"]
            print(f"round {rnd + 1}  {name:18} " + " ".join(f"{w:5.2f}" for w in out["walls"])
                  + f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    print("\n| configuration | median wall (s) | / plain at the same threads |\n|---|---|---|")
    for name, w in walls.items():
        plain = statistics.median(walls[name.replace("strict", "plain")])
        print(f"| {name} | {statistics.median(w):.2f} | {statistics.median(w) / plain:.2f} |")
    for mode in ("plain", "strict"):
        one, two = answers[f"{mode}, 1 thread"], answers[f"{mode}, 2 threads"]
        same = [p for p in one if one[p] == two[p]]
        print(f"{mode}: the same answer at 1 and 2 threads on {len(same)} of {len(one)} photos "
              + "; ".join(f"{p}: {one[p][:2]} vs {two[p][:2]}" for p in one))


if __name__ == "__main__":
    main()
