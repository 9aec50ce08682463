"""Classify and explain times per model source, peers side by side in one run (random-init weights).

    python benchmarks/model_sources.py [--device cpu] [--steps 20] [--photos 3]

Models (built in a temp folder, loaded through the public path ``load_classifier``/``load_model_file``):
the bundled default (EfficientNet-Lite0, the reference), torchvision ResNet-18 (.pth), timm ResNet-18
(.safetensors, ``timm:resnet18``), timm ViT-Ti/16 (``timm:vit_tiny_patch16_224``), timm's tiny test ViT
(``timm:test_vit``, 0.4 M parameters), and a tiny Hugging Face ViT folder. Weights are random (nothing
is downloaded): times do not depend on the weight values, but the number of steps to a flip does, so
the explain cost is reported per gradient evaluation, with a fixed budget (``--steps``, no minimise
pass, no key-pixel search). Per model: load time, classify time (median of 5 after one warm-up),
explain wall time and gradient evaluations summed over the photos, ms per evaluation, and the ratio
of each to the default model's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/model_sources.py` from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from benchmarks.photos import PHOTOS, load_photo  # noqa: E402
from gradflip_desktop.core.explain import run as explain_run  # noqa: E402
from gradflip_desktop.core.images import from_array  # noqa: E402
from gradflip_desktop.core.models import load_classifier  # noqa: E402
from gradflip_desktop.core.models.files import load_model_file  # noqa: E402
from gradflip_desktop.core.options import ExplainOptions  # noqa: E402
from model_helpers import hf_vit_folder, timm_checkpoint  # noqa: E402


def build(folder: Path) -> list[tuple[str, callable]]:
    import torchvision

    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(num_classes=1000).state_dict(), folder / "tv_resnet18.pth")
    timm_checkpoint(folder / "timm_resnet18.safetensors", "resnet18", classes=1000)
    timm_checkpoint(folder / "vit_tiny.safetensors", "vit_tiny_patch16_224", classes=1000)
    timm_checkpoint(folder / "test_vit.pth", "test_vit", classes=10)
    with contextlib.redirect_stderr(io.StringIO()):
        hf_vit_folder(folder / "hf_vit", labels=tuple(f"c{i}" for i in range(10)))
    return [
        ("default efficientnet-lite0", lambda d: load_classifier(None, device=d)),
        ("torchvision resnet18 .pth", lambda d: load_model_file(folder / "tv_resnet18.pth", device=d, arch="resnet18")),
        ("timm:resnet18 .safetensors", lambda d: load_model_file(folder / "timm_resnet18.safetensors", device=d, arch="timm:resnet18")),
        ("timm:vit_tiny_patch16_224", lambda d: load_model_file(folder / "vit_tiny.safetensors", device=d, arch="timm:vit_tiny_patch16_224")),
        ("timm:test_vit (tiny ViT)", lambda d: load_model_file(folder / "test_vit.pth", device=d, arch="timm:test_vit")),
        ("HF ViT folder (tiny)", lambda d: load_model_file(folder / "hf_vit", device=d)),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--photos", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    images = [from_array(load_photo(n, s), name=n) for n, s in PHOTOS[: args.photos]]
    opts = ExplainOptions(max_steps=args.steps, minimise=False, key_pixels=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, loader in build(Path(tmp)):
            t0 = time.perf_counter()
            clf = loader(args.device)
            load_s = time.perf_counter() - t0
            clf.classify(images[0].pixels)  # warm-up
            times = []
            for img in images:
                for _ in range(5 // len(images) + 1):
                    t0 = time.perf_counter()
                    clf.classify(img.pixels)
                    if args.device.startswith("cuda"):
                        torch.cuda.synchronize()
                    times.append(time.perf_counter() - t0)
            evals, wall = 0, 0.0
            for img in images:
                t0 = time.perf_counter()
                res = explain_run(clf, img, opts)
                wall += time.perf_counter() - t0
                evals += res.gradient_evaluations
            params = sum(p.numel() for p in clf.module.parameters())
            rows.append((name, params, load_s, statistics.median(times), wall, evals))
            print(f"done {name}", file=sys.stderr, flush=True)
    ref = rows[0]
    print(f"device {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{len(images)} photos ({', '.join(i.name for i in images)}, working size {images[0].pixels.shape[1]}x{images[0].pixels.shape[0]}...), "
          f"explain budget {args.steps} steps (no minimise, no key pixels)")
    print(f"{'model':30s} {'params':>8s} {'load s':>7s} {'classify ms':>11s} {'x ref':>6s} {'explain s':>9s} {'evals':>5s} {'ms/eval':>8s} {'x ref':>6s}")
    for name, params, load_s, cls, wall, evals in rows:
        per = 1000 * wall / max(evals, 1)
        ref_per = 1000 * ref[4] / max(ref[5], 1)
        print(f"{name:30s} {params / 1e6:7.2f}M {load_s:7.2f} {1000 * cls:11.1f} {cls / ref[3]:6.2f} {wall:9.2f} {evals:5d} {per:8.1f} {per / ref_per:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
