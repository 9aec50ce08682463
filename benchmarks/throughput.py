"""Images per second of `gradflip explain DIR` at several batch sizes, end to end (model load included).

    python benchmarks/throughput.py [--images 32] [--batch-sizes 1 8 32] [--device cpu] [--repeats 1]

The folder: the fixed photos of benchmarks/photos.py at 224 x 224 (each also mirrored, and cropped, until
``--images`` are there), the same files for every batch size. Each batch size runs
``python -m gradflip_desktop.cli explain DIR --out TMP --batch-size N -q --device D`` in a fresh process;
the wall time of that process is the measure (model load, image loading, explanation, result sets,
summary and gallery). Prints images/second and the ratio to batch 1; the rows of summary.csv are checked
(every input has a result) and the flipped counts are printed, so a faster run that flips less shows.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.photos import benchmark_photos  # noqa: E402


def make_folder(folder: Path, count: int, size: int = 224) -> list[Path]:
    photos = benchmark_photos()
    variants = []
    for name, arr in photos:
        im = Image.fromarray(arr).convert("RGB")
        w, h = im.size
        s = min(w, h)
        square = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        variants.append((f"{name}", square))
        variants.append((f"{name}-mirror", square.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
        variants.append((f"{name}-crop", im.crop((0, 0, s * 3 // 4, s * 3 // 4))))
    if count > len(variants):
        raise SystemExit(f"at most {len(variants)} images from the fixed photo list, not {count}")
    paths = []
    for name, im in variants[:count]:
        p = folder / f"{name}.png"
        im.resize((size, size), Image.Resampling.BILINEAR).save(p)
        paths.append(p)
    return paths


def run_once(folder: Path, batch: int, device: str, threads: int | None) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        cmd = [sys.executable, "-m", "gradflip_desktop.cli", "explain", str(folder), "--out", out,
               "--batch-size", str(batch), "-q", "--device", device]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - t
        if proc.returncode not in (0, 1):
            raise SystemExit(f"batch {batch}: exit {proc.returncode}: {proc.stderr[-2000:]}")
        with open(Path(out) / "summary.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        stats = {"rows": len(rows), "flipped": sum(r["status"] == "flipped" for r in rows),
                 "errors": sum(r["status"] == "error" for r in rows)}
    return seconds, stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS of the runs (default: unset)")
    ap.add_argument("--repeats", type=int, default=1, help="runs per batch size, interleaved; the median is reported")
    args = ap.parse_args()
    import torch

    print(f"command: python benchmarks/throughput.py --images {args.images} --batch-sizes "
          f"{' '.join(map(str, args.batch_sizes))} --device {args.device} --repeats {args.repeats}"
          + (f" --threads {args.threads}" if args.threads else ""))
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") and torch.cuda.is_available() else "none"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, GPU {gpu}, "
          f"Python {platform.python_version()}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        make_folder(folder, args.images)
        times: dict[int, list[float]] = {b: [] for b in args.batch_sizes}
        stats: dict[int, dict] = {}
        for _ in range(args.repeats):  # interleaved, so a change in machine load hits every batch size
            for b in args.batch_sizes:
                seconds, st = run_once(folder, b, args.device, args.threads)
                if st["rows"] != args.images or st["errors"]:
                    raise SystemExit(f"batch {b}: {st} — not every image has a result")
                times[b].append(seconds)
                stats[b] = st
        base = None
        print(f"{'batch':>5} {'seconds':>8} {'images/s':>9} {'vs batch 1':>10} {'flipped':>8}")
        for b in args.batch_sizes:
            sec = float(np.median(times[b]))
            ips = args.images / sec
            base = base or (ips if b == args.batch_sizes[0] else None)
            ratio = f"{ips / base:.2f}x" if base else ""
            print(f"{b:5d} {sec:8.1f} {ips:9.2f} {ratio:>10} {stats[b]['flipped']:>4}/{args.images}")


if __name__ == "__main__":
    main()
