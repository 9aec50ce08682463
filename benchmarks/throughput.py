"""Images per second of `gradflip explain DIR` at several batch sizes, end to end (model load included).

    python benchmarks/throughput.py [--images 16] [--batch-sizes 1 8 32] [--threads 1 2] [--device cpu]
                                    [--repeats 1] [--ray]

The folder: the fixed photos of benchmarks/photos.py at 224 x 224 (each also mirrored, and cropped twice,
until ``--images`` are there), the same files for every run. Each (threads, batch size) pair runs
``python -m gradflip_desktop.cli explain DIR --out TMP --batch-size N -q --device D`` in a fresh process
with ``OMP_NUM_THREADS`` set to the thread count (``--threads 0``: unset, torch's default); the wall time
of that process is the measure (model load, image loading, explanation, result sets, summary and gallery).
The runs are interleaved (``--repeats`` rounds; the median is reported), so a change in machine load hits
every configuration. Prints images/second and the ratio to batch 1 at the same thread count; the rows of
summary.csv are checked (every input has a result) and the flipped counts are printed, so a faster run
that flips less shows. ``--ray`` adds ``--ray local`` runs (a local Ray instance started by the command,
at the first batch size > 1) next to the local run of the same batch size, and compares their answers.
The load average of the machine before and after is printed.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
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
        variants.append((f"{name}-crop2", im.crop((w - s * 3 // 4, h - s * 3 // 4, w, h))))
    variants = variants[0::4] + variants[1::4] + variants[2::4] + variants[3::4]  # every photo first
    if count > len(variants):
        raise SystemExit(f"at most {len(variants)} images from the fixed photo list, not {count}")
    paths = []
    for name, im in variants[:count]:
        p = folder / f"{name}.png"
        im.resize((size, size), Image.Resampling.BILINEAR).save(p)
        paths.append(p)
    return paths


def run_once(folder: Path, batch: int, device: str, threads: int, ray: bool = False) -> tuple[float, list[dict]]:
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ)
        # the code measured is this checkout's (also in Ray's workers), whatever is installed
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env.pop("OMP_NUM_THREADS", None)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        cmd = [sys.executable, "-m", "gradflip_desktop.cli", "explain", str(folder), "--out", out,
               "--batch-size", str(batch), "-q", "--device", device] + (["--ray", "local"] if ray else [])
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        seconds = time.perf_counter() - t
        if proc.returncode not in (0, 1):
            raise SystemExit(f"batch {batch}{' ray' if ray else ''}: exit {proc.returncode}: {proc.stderr[-2000:]}")
        with open(Path(out) / "summary.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    return seconds, rows


def same_answers(a: list[dict], b: list[dict], rel: float = 0.03) -> tuple[int, list[str]]:
    """How many rows agree (status and final class; l2_saved within ``rel``) and the names that differ."""
    rb = {r["name"]: r for r in b}
    differ = []
    for r in a:
        o = rb.get(r["name"])
        ok = o is not None and o["status"] == r["status"] and o["final_index"] == r["final_index"]
        if ok and r["l2_saved"] and o["l2_saved"]:
            x, y = float(r["l2_saved"]), float(o["l2_saved"])
            ok = abs(x - y) <= rel * max(abs(x), abs(y), 1e-12)
        if not ok:
            differ.append(r["name"])
    return len(a) - len(differ), differ


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, nargs="+", default=[0],
                    help="OMP_NUM_THREADS of the runs, one or more (0: unset, torch's default)")
    ap.add_argument("--repeats", type=int, default=1, help="rounds of runs, interleaved; the median is reported")
    ap.add_argument("--ray", action="store_true", help="also run --ray local at the first batch size > 1")
    args = ap.parse_args()
    import torch

    print(f"command: python benchmarks/throughput.py --images {args.images} --batch-sizes "
          f"{' '.join(map(str, args.batch_sizes))} --threads {' '.join(map(str, args.threads))} "
          f"--device {args.device} --repeats {args.repeats}" + (" --ray" if args.ray else ""))
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") and torch.cuda.is_available() else "none"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, GPU {gpu}, "
          f"Python {platform.python_version()}, torch {torch.__version__}"
          + (f" (torch's default: {torch.get_num_threads()} threads)" if "OMP_NUM_THREADS" not in os.environ else ""))
    print("load average before: " + " ".join(f"{v:.2f}" for v in os.getloadavg()), flush=True)
    ray_batch = next((b for b in args.batch_sizes if b > 1), args.batch_sizes[0])
    configs = [(t, b, False) for t in args.threads for b in args.batch_sizes]
    if args.ray:
        configs += [(t, ray_batch, True) for t in args.threads]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        make_folder(folder, args.images)
        times: dict[tuple, list[float]] = {c: [] for c in configs}
        rows: dict[tuple, list[dict]] = {}
        for _ in range(args.repeats):  # interleaved, so a change in machine load hits every configuration
            for c in configs:
                seconds, rs = run_once(folder, c[1], args.device, c[0], ray=c[2])
                if len(rs) != args.images or any(r["status"] == "error" for r in rs):
                    raise SystemExit(f"{c}: not every image has a result: {[r['status'] for r in rs]}")
                times[c].append(seconds)
                rows[c] = rs
                print(f"  threads {c[0] or 'default'} batch {c[1]}{' ray local' if c[2] else ''}: {seconds:.1f} s",
                      flush=True)
    print("load average after: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(f"{'threads':>7} {'batch':>5} {'engine':>9} {'seconds':>8} {'images/s':>9} {'vs batch 1':>10} "
          f"{'flipped':>8} {'same answers as batch 1':>24}")
    for c in configs:
        t, b, ray = c
        sec = float(np.median(times[c]))
        ips = args.images / sec
        base_c = (t, args.batch_sizes[0], False)
        base = args.images / float(np.median(times[base_c]))
        agree, differ = same_answers(rows[base_c], rows[c])
        flipped = sum(r["status"] == "flipped" for r in rows[c])
        print(f"{t or 'default':>7} {b:5d} {'ray local' if ray else 'local':>9} {sec:8.1f} {ips:9.2f} "
              f"{ips / base:9.2f}x {flipped:>4}/{args.images} {agree:>20}/{args.images}"
              + (f"  (differ: {', '.join(differ)})" if differ else ""))
    for t in args.threads if args.ray else []:
        loc, rem = (t, ray_batch, False), (t, ray_batch, True)
        agree, differ = same_answers(rows[loc], rows[rem])
        print(f"ray local vs local (threads {t or 'default'}, batch {ray_batch}): "
              f"{np.median(times[rem]):.1f} s vs {np.median(times[loc]):.1f} s "
              f"({np.median(times[rem]) / np.median(times[loc]):.2f}x the time); same answers {agree}/{args.images}"
              + (f"; differ: {', '.join(differ)}" if differ else ""))


if __name__ == "__main__":
    main()
