"""Resource use: peak memory for a 24-megapixel photo, and RSS over consecutive explanations.

    python benchmarks/resources.py                       # both parts, default model, CPU
    python benchmarks/resources.py --runs 50 --every 5   # the RSS curve only: --skip-large
    python benchmarks/resources.py --threads 1           # be polite on a shared machine

Part 1 runs in a fresh subprocess so that its peak RSS (``ru_maxrss``) is its own: generate a
6000 x 4000 JPEG (the bundled Chelsea photo upscaled, with noise), then load it (working size 1024),
classify it and explain it with the default options, printing current and peak RSS after each stage.
Part 2 loads the model once and explains the bundled Chelsea photo ``--runs`` times in a row (the way
a GUI session does), printing RSS every ``--every`` runs, and the growth from the first to the last.

Only the standard library is used to read memory (``resource`` and ``/proc/self/status``), so no
psutil is needed; on systems without ``/proc`` the current RSS column shows ``n/a``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_mb() -> float | None:
    """Current resident set size in MiB (Linux /proc), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:8.1f}"


def make_large_photo(path: Path, width: int = 6000, height: int = 4000, seed: int = 0) -> Path:
    """The bundled Chelsea photo upscaled to width x height with Gaussian noise, saved as JPEG q=92."""
    import numpy as np
    from PIL import Image

    from gradflip_desktop.core.resources import sample_image_path

    base = Image.open(sample_image_path()).convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    arr = np.asarray(base, dtype=np.int16)
    for r0 in range(0, height, 500):  # add noise in bands: keep the generator's own memory small
        band = arr[r0 : r0 + 500]
        band += rng.normal(0, 6, band.shape).astype(np.int16)
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=92)
    return path


def large_photo_child(path: str, device: str, threads: int | None, max_steps: int) -> dict:
    """Runs in a fresh process: stage-by-stage RSS for load + classify + explain of one large photo."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    from gradflip_desktop.core.explain import run as explain_run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.models import load_classifier

    stages = [("start (imports)", rss_mb(), peak_mb(), 0.0)]
    t = time.perf_counter()
    clf = load_classifier(None, device=device)
    stages.append(("model loaded", rss_mb(), peak_mb(), time.perf_counter() - t))
    t = time.perf_counter()
    img = load_image(path)
    stages.append((f"image loaded {img.original_size[0]}x{img.original_size[1]} -> {img.size[0]}x{img.size[1]}", rss_mb(), peak_mb(), time.perf_counter() - t))
    t = time.perf_counter()
    top = clf.classify(img.pixels, k=1)[0]
    stages.append((f"classified: {top.label} {100 * top.probability:.1f} %", rss_mb(), peak_mb(), time.perf_counter() - t))
    t = time.perf_counter()
    res = explain_run(clf, img, ExplainOptions(max_steps=max_steps))
    stages.append((f"explained: {res.status}, {len(res.steps)} steps -> {res.final.label}", rss_mb(), peak_mb(), time.perf_counter() - t))
    return {"file_mb": os.path.getsize(path) / 2**20, "stages": stages}


def rss_curve(runs: int, every: int, device: str, threads: int | None, max_steps: int) -> list[tuple[int, float | None, float, float, str]]:
    import torch

    if threads:
        torch.set_num_threads(threads)
    from gradflip_desktop.core.explain import run as explain_run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.models import load_classifier
    from gradflip_desktop.core.resources import sample_image_path

    clf = load_classifier(None, device=device)
    img = load_image(sample_image_path())
    rows = [(0, rss_mb(), peak_mb(), 0.0, "model + image loaded")]
    print(f"{'run':>4} {'RSS MiB':>8} {'peak MiB':>8} {'s/run':>6}  status", flush=True)
    print(f"{0:4d} {_fmt(rows[0][1])} {rows[0][2]:8.1f} {'':>6}  {rows[0][4]}", flush=True)
    for i in range(1, runs + 1):
        t = time.perf_counter()
        res = explain_run(clf, img, ExplainOptions(max_steps=max_steps))
        dt = time.perf_counter() - t
        del res
        if i % every == 0 or i == 1:
            row = (i, rss_mb(), peak_mb(), dt, "")
            rows.append(row)
            print(f"{i:4d} {_fmt(row[1])} {row[2]:8.1f} {dt:6.2f}", flush=True)
    gc.collect()
    after_gc = rss_mb()
    print(f"after gc.collect(): RSS {_fmt(after_gc)} MiB", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=50, help="consecutive explanations for the RSS curve (default 50)")
    ap.add_argument("--every", type=int, default=5, help="print RSS every N runs (default 5)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--max-steps", type=int, default=200)
    ap.add_argument("--skip-large", action="store_true", help="skip the 24-megapixel part")
    ap.add_argument("--skip-curve", action="store_true", help="skip the RSS curve")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        print(json.dumps(large_photo_child(args.child, args.device, args.threads, args.max_steps)))
        return 0

    if not args.skip_large:
        with tempfile.TemporaryDirectory() as tmp:
            path = make_large_photo(Path(tmp) / "photo-24mp.jpg")
            cmd = [sys.executable, __file__, "--child", str(path), "--device", args.device, "--max-steps", str(args.max_steps)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return 1
            rep = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"== 24-megapixel photo (6000x4000 JPEG, {rep['file_mb']:.1f} MiB), fresh process, device {args.device}")
        print(f"{'stage':<60} {'RSS MiB':>8} {'peak MiB':>8} {'seconds':>8}")
        for name, rss, peak, secs in rep["stages"]:
            print(f"{name:<60} {_fmt(rss)} {peak:8.1f} {secs:8.2f}")
        base = rep["stages"][1][2]
        print(f"peak RSS {rep['stages'][-1][2]:.1f} MiB; above the loaded model: {rep['stages'][-1][2] - base:.1f} MiB\n")

    if not args.skip_curve:
        print(f"== RSS over {args.runs} consecutive explanations of the bundled Chelsea photo (model loaded once)")
        rows = rss_curve(args.runs, args.every, args.device, args.threads, args.max_steps)
        first = next(r for r in rows if r[0] == 1)
        last = rows[-1]
        if first[1] is not None and last[1] is not None:
            print(f"growth run 1 -> run {last[0]}: {last[1] - first[1]:+.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
