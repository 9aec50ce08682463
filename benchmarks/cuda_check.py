"""The same explanations on the CPU and on a CUDA GPU, side by side in one run: answers and times.

    python benchmarks/cuda_check.py [--photos 6] [--size 224] [--styles region free blur] [--tf32 on]

For the bundled sample cat (at its working size) and the first ``--photos`` photos of benchmarks/photos.py
(squashed to ``--size``), each style runs once on ``cpu`` and once on ``cuda`` (after one warm-up run per
device, so CUDA's start-up stays out), with the public API (``load_default_model(device)``, ``run``).
Prints per photo and style: the class before and after on each device, whether both flipped, the key
region's area (region style) or the saved 8-bit L2 (other styles), and the times; then a summary: how
many answers agree (same flipped class; key areas within 25 % of each other), the median time ratio
cpu / cuda, and the GPU's peak memory. A different answer is not a bug by itself (float sums run in
another order on a GPU, and the search circles the decision boundary), but every run must finish, flip
where the CPU flips, and never return NaN. Exit 1 if CUDA is missing or any run fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.photos import benchmark_photos  # noqa: E402


def _photos(count: int, size: int):
    from gradflip_desktop.core import load_image
    from gradflip_desktop.core.resources import sample_image_path

    out = [("sample-cat", load_image(sample_image_path()).pixels)]
    for name, arr in benchmark_photos()[:count]:
        im = Image.fromarray(arr).convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
        out.append((name, np.asarray(im, dtype=np.float32) / 255.0))
    return out


def _one(model, pixels, style):
    import torch

    from gradflip_desktop.core import run
    from gradflip_desktop.core.options import ExplainOptions

    if model.device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    res = run(model, pixels, ExplainOptions(style=style))
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    key = res.key_region.fraction if res.key_region is not None else None
    l2 = res.l2_saved if res.flipped else None
    finite = bool(np.isfinite(res.adjusted_pixels).all() and np.isfinite(res.final_probabilities).all())
    return {"status": str(res.status.value if hasattr(res.status, "value") else res.status), "before": res.original.label, "after": res.final.label, "key": key,
            "l2": l2, "time": dt, "finite": finite, "message": res.message}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=6)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--styles", nargs="+", default=["region", "free", "blur"])
    ap.add_argument("--tf32", choices=["off", "on"], default="off",
                    help="off: as shipped (a model put on CUDA turns TF32 off in cuDNN); on: TF32 in cuDNN convolutions "
                         "again after loading (torch's default), to see what it changes")
    ap.add_argument("--device", default="cuda", help="the device compared with the CPU (cpu: a dry run of the script)")
    args = ap.parse_args(argv)

    import torch

    from gradflip_desktop.core import load_default_model

    gpu = args.device.startswith("cuda")
    if gpu and not torch.cuda.is_available():
        print("cuda_check: no CUDA device here", file=sys.stderr)
        return 1
    name = torch.cuda.get_device_name(0) if gpu else "no GPU"
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {name}, CPU threads {torch.get_num_threads()}")
    models = {"cpu": load_default_model("cpu"), "cuda": load_default_model(args.device)}
    if args.tf32 == "on":  # after loading: Classifier.to turned it off (core/models/devices.full_float32)
        torch.backends.cudnn.allow_tf32 = True
    print(f"TF32: cuDNN {torch.backends.cudnn.allow_tf32}, matmul {torch.backends.cuda.matmul.allow_tf32}")
    photos = _photos(args.photos, args.size)
    for d, m in models.items():  # warm-up: CUDA context, cuDNN choice, allocator
        _one(m, photos[1][1] if len(photos) > 1 else photos[0][1], "region")
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    rows, failures, mismatched = [], 0, 0
    for name, pixels in photos:
        for style in args.styles:
            r = {}
            for d, m in models.items():
                try:
                    r[d] = _one(m, pixels, style)
                except Exception as exc:  # noqa: BLE001 - a benchmark reports every failure and goes on
                    r[d] = None
                    failures += 1
                    print(f"FAIL {name} {style} {d}: {type(exc).__name__}: {exc}")
            if r["cpu"] is None or r["cuda"] is None:
                continue
            c, g = r["cpu"], r["cuda"]
            failures += not (g["finite"] and c["finite"])
            mismatched += (c["status"] == "flipped") != (g["status"] == "flipped")
            same = c["after"] == g["after"]
            if style == "region" and c["key"] and g["key"]:
                close = abs(c["key"] - g["key"]) <= 0.25 * max(c["key"], g["key"])
                size = f"key {c['key']:6.1%} / {g['key']:6.1%}"
            else:
                close = True
                size = f"l2 {c['l2'] or 0:.4f} / {g['l2'] or 0:.4f}" if c["l2"] is not None else ""
            rows.append((name, style, same, close, c["time"] / max(g["time"], 1e-9)))
            print(f"{name:16s} {style:6s} {c['before'][:18]:18s} -> cpu {c['after'][:18]:18s} {c['status']:9s}"
                  f" cuda {g['after'][:18]:18s} {g['status']:9s} {size:24s}"
                  f" {c['time']:6.2f} s / {g['time']:6.2f} s")
            for d, x in (("cpu", c), ("cuda", g)):
                if x["status"] != "flipped":
                    print(f"    {d}: {x['status']}: {x['message']}")
    agree = sum(1 for r in rows if r[2] and r[3])
    ratios = [r[4] for r in rows]
    print(f"\nanswers agree (same final class, key areas within 25 %): {agree}/{len(rows)}")
    for style in args.styles:
        s = [r[4] for r in rows if r[1] == style]
        if s:
            print(f"  {style}: median time cpu/cuda {statistics.median(s):.2f}x over {len(s)} photos")
    if ratios:
        print(f"median time cpu/cuda over all: {statistics.median(ratios):.2f}x")
    peak = torch.cuda.max_memory_allocated() / 2**20 if gpu else 0.0
    print(f"GPU peak memory: {peak:.0f} MiB; runs that flipped on one device only: {mismatched}; failures: {failures}")
    return 1 if failures or mismatched else 0


if __name__ == "__main__":
    raise SystemExit(main())
