"""Memory over a long folder run: RSS after every 100 images of one `explain` job (issue 14: flat).

    python benchmarks/folder_memory.py [--images 1000] [--size 64] [--batch-size 1] [--progress FILE]

The folder: ``--images`` small crops (``--size`` px) of the fixed photos of benchmarks/photos.py, each
crop at its own position, so no two images are the same. One job in this process
(:func:`gradflip_desktop.core.dataset.job.explain_inputs`, the code behind `gradflip explain DIR`,
with the default model and options) writes the result sets, summary and gallery; RSS is read after every
image (the job gives freed heap pages back to the OS after every image, :mod:`gradflip_desktop.core.memory`,
so RSS follows the memory in use and swings by ~±100 MiB with what is in flight at that moment). Prints, per
100 images, RSS at the 100th and the lowest and highest RSS read after any image of those 100; then the
growth from image 100 to the last and the growth of the window peak (images 101–200 to the last 100: the
first window holds the warm-up). With ``--progress FILE`` every 10th image's RSS is also appended to FILE as
it happens (flushed), so a run stopped part-way still shows RSS at image 100 and at the last image it reached.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.photos import benchmark_photos  # noqa: E402
from benchmarks.resources import rss_mb  # noqa: E402


def make_crops(folder: Path, count: int, size: int) -> None:
    photos = [arr for _, arr in benchmark_photos()]
    rng = np.random.default_rng(0)
    for i in range(count):
        arr = photos[i % len(photos)]
        h, w = arr.shape[:2]
        side = int(rng.integers(size, min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = Image.fromarray(arr[y : y + side, x : x + side]).resize((size, size), Image.Resampling.BILINEAR)
        crop.save(folder / f"img{i:05d}.png")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--progress", default=None, help="append 'images RSS seconds' every 10th image to this file")
    args = ap.parse_args()
    from gradflip_desktop.core.dataset import collect_inputs
    from gradflip_desktop.core.dataset.job import JobSettings, explain_inputs
    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.options import ExplainOptions

    print(f"command: python benchmarks/folder_memory.py --images {args.images} --size {args.size} "
          f"--batch-size {args.batch_size}" + (f" --progress {args.progress}" if args.progress else ""))
    progress = open(args.progress, "a", encoding="utf-8", buffering=1) if args.progress else None  # noqa: SIM115
    if progress:
        progress.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} images={args.images} size={args.size} "
                       f"batch={args.batch_size}\n# images RSS_MiB seconds\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "in", Path(tmp) / "out"
        folder.mkdir()
        make_crops(folder, args.images, args.size)
        inputs, _ = collect_inputs([folder])
        clf = load_default_model()
        marks: list[tuple[int, float, float]] = []
        window: list[float] = []  # RSS after each image of the current 100
        peaks: list[tuple[int, float, float]] = []  # (last image of the window, lowest, highest)
        flipped = [0]
        t0 = time.perf_counter()

        def on_outcome(o, done, total):
            flipped[0] += o.flipped
            window.append(rss_mb() or float("nan"))
            if progress and (done % 10 == 0 or done == total):
                progress.write(f"{done} {rss_mb() or float('nan'):.1f} {time.perf_counter() - t0:.1f}\n")
            if done % 100 == 0 or done == total:
                marks.append((done, window[-1], time.perf_counter() - t0))
                peaks.append((done, min(window), max(window)))
                window.clear()
                print(f"  {done:5d} images  RSS {marks[-1][1]:8.1f} MiB  (this 100: {peaks[-1][1]:7.1f} to "
                      f"{peaks[-1][2]:7.1f})  {marks[-1][2]:7.1f} s", flush=True)

        explain_inputs(clf, inputs, ExplainOptions(), JobSettings(out=out, batch_size=args.batch_size),
                       on_outcome=on_outcome)
        first = next((m for m in marks if m[0] >= 100), marks[0])
        line = (f"flipped {flipped[0]}/{len(inputs)}; RSS growth from image {first[0]} to {marks[-1][0]}: "
                f"{marks[-1][1] - first[1]:+.1f} MiB")
        if len(peaks) >= 3:
            line += (f"; window peak, images {peaks[0][0] + 1}-{peaks[1][0]} to {peaks[-2][0] + 1}-{peaks[-1][0]}: "
                     f"{peaks[-1][2] - peaks[1][2]:+.1f} MiB")
        print(line)
        if progress:
            progress.write(f"# {line}\n")


if __name__ == "__main__":
    main()
