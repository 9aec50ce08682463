"""Faithfulness of importance maps: deletion and insertion AUC (Petsiuk et al., RISE, 2018).

    pip install -e ".[bench]"        # captum, scikit-image, scikit-learn (benchmark only)
    python benchmarks/faithfulness.py [--steps 50] [--baseline blur|mean] [--blur 10]

Protocol (same for every method, same model: the default EfficientNet-Lite0):
- each photo is resized to 224 x 224 (the model's input size), so all maps rank the same pixels;
- the explained class is the model's top class on the photo;
- pixels are ranked by the method's map (descending, ties broken by a fixed random order);
- **deletion**: the top-k pixels are replaced by a strongly blurred copy of the photo (Gaussian,
  sigma = --blur px; or, with --baseline mean, by the photo's mean colour) and the explained class's probability is recorded for k = 0 ... all pixels in
  --steps equal increments; AUC = area under that curve over the deleted fraction (lower is better);
- **insertion**: start from the blurred copy and put the top-k original pixels back (higher is better).

Methods: GradFlip maps derived from the flipping change delta (the exported importance map of the
default free style = smoothed |delta|; raw |delta| of a textbook fixed-step run; a coarse-to-fine delta;
the blur style's per-pixel blur amount, its own sigma = 224/24 = 9.3 px), vanilla gradient saliency,
Integrated Gradients (black baseline, 32 steps) and Grad-CAM (last feature map), all via captum.
Prints per-photo rows and a table of medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from PIL import Image

from gradflip_desktop.core import explain as ex
from gradflip_desktop.core import maps
from gradflip_desktop.core.filters import blur_array
from gradflip_desktop.core.models import load_default_model

SIZE = 224


def photos() -> list[tuple[str, np.ndarray]]:
    """Real photos that ship inside packages (scikit-image, scikit-learn)."""
    import skimage.data as data

    out = []
    for name in ("chelsea", "coffee", "rocket", "astronaut", "motorcycle_left", "hubble_deep_field", "retina", "cat"):
        try:
            arr = getattr(data, name)()
        except Exception:  # noqa: BLE001 - not in this scikit-image version
            continue
        if name == "cat" and any(n == "chelsea" for n, _ in out):
            continue
        out.append((name, arr))
    try:
        from sklearn.datasets import load_sample_images

        for fname, arr in zip(load_sample_images().filenames, load_sample_images().images):
            out.append((fname.split("/")[-1].split(".")[0], arr))
    except Exception:  # noqa: BLE001 - scikit-learn not installed
        pass
    return out


def to_input(arr: np.ndarray) -> np.ndarray:
    im = Image.fromarray(arr[..., :3] if arr.ndim == 3 else np.stack([arr] * 3, 2))
    im = im.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 255.0


def gradflip_maps(clf, x: np.ndarray) -> dict[str, np.ndarray]:
    """The exported importance map (``ExplainResult.importance_map()``) of each explanation style."""
    runs = {
        "GradFlip free (default, exported map)": ex.run(clf, x, ex.ExplainOptions()),
        "GradFlip raw |delta| (textbook fixed)": ex.run(
            clf, x, ex.ExplainOptions(mode="fixed", minimise=False, eight_bit=False, key_pixels=False)
        ),
        "GradFlip coarse-to-fine x8": ex.run(clf, x, ex.ExplainOptions(coarse=8, key_pixels=False)),
        "GradFlip blur style (exported map)": ex.run(clf, x, ex.ExplainOptions(style="blur", key_pixels=False)),
    }
    out = {name: r.importance_map() for name, r in runs.items()}
    out["GradFlip raw |delta| (textbook fixed)"] = maps.pixel_magnitude(runs["GradFlip raw |delta| (textbook fixed)"].delta)
    out["_flipped"] = np.array([r.flipped for r in runs.values()])
    return out


def baseline_maps(clf, x: np.ndarray, target: int) -> dict[str, np.ndarray]:
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency

    model = clf.module
    xt = torch.from_numpy(x).permute(2, 0, 1)[None].contiguous()
    sal = Saliency(model).attribute(xt.clone().requires_grad_(True), target=target, abs=True)
    ig = IntegratedGradients(model).attribute(xt, baselines=torch.zeros_like(xt), target=target, n_steps=32,
                                             internal_batch_size=8)
    gc = LayerGradCam(model, model.net._bn1).attribute(xt, target=target, relu_attributions=True)
    gc = LayerAttribution.interpolate(gc, (SIZE, SIZE), interpolate_mode="bilinear")
    return {
        "Saliency (|gradient|)": sal[0].abs().sum(0).detach().numpy(),
        "Integrated Gradients": ig[0].abs().sum(0).detach().numpy(),
        "Grad-CAM": gc[0, 0].detach().numpy(),
    }


@torch.no_grad()
def curves(clf, x: np.ndarray, blurred: np.ndarray, imp: np.ndarray, target: int, steps: int) -> tuple[float, float]:
    n = SIZE * SIZE
    tiebreak = np.random.default_rng(0).random(n) * 1e-12
    flat = imp.astype(np.float64).flatten()
    flat = flat / (np.abs(flat).max() or 1.0) + tiebreak
    order = np.argsort(-flat, kind="stable")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    rank = rank.reshape(SIZE, SIZE)
    ks = np.linspace(0, n, steps + 1).round().astype(int)
    xt = torch.from_numpy(x).permute(2, 0, 1)
    bt = torch.from_numpy(blurred).permute(2, 0, 1)
    rt = torch.from_numpy(rank)
    dels, ins = [], []
    for chunk in np.array_split(ks, max(1, len(ks) // 17)):
        masks = torch.stack([(rt < k).float() for k in chunk])[:, None]
        deleted = xt * (1 - masks) + bt * masks
        inserted = bt * (1 - masks) + xt * masks
        dels += torch.softmax(clf.module(deleted), 1)[:, target].tolist()
        ins += torch.softmax(clf.module(inserted), 1)[:, target].tolist()
    fr = ks / n
    return float(np.trapezoid(dels, fr)), float(np.trapezoid(ins, fr))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50, help="points per curve (default 50)")
    ap.add_argument("--baseline", choices=("blur", "mean"), default="blur", help="what deleted pixels become")
    ap.add_argument("--blur", type=float, default=10.0, help="sigma of the blurred baseline, px (default 10)")
    args = ap.parse_args()
    torch.manual_seed(0)
    clf = load_default_model()
    table: dict[str, list[tuple[float, float]]] = {}
    key_fracs, key_flips = [], []
    t0 = time.perf_counter()
    for name, arr in photos():
        x = to_input(arr)
        target = int(np.argmax(clf.probabilities(x)))
        if args.baseline == "blur":
            blurred = np.clip(blur_array(x, args.blur), 0, 1)
        else:
            blurred = np.ascontiguousarray(np.broadcast_to(x.mean((0, 1)), x.shape), dtype=np.float32)
        m = gradflip_maps(clf, x)
        flipped = m.pop("_flipped")
        m.update(baseline_maps(clf, x, target))
        res = ex.run(clf, x, ex.ExplainOptions())
        if res.key_pixels is not None:
            key_fracs.append(res.key_pixels.fraction)
            key_flips.append(res.key_pixels.flips)
        print(f"{name:18} top: {clf.label(target)!r:28} flipped: {flipped.tolist()}")
        for method, imp in m.items():
            d, i = curves(clf, x, blurred, imp, target, args.steps)
            table.setdefault(method, []).append((d, i))
            print(f"    {method:34} deletion {d:.3f}   insertion {i:.3f}")
    what = f"Gaussian blur sigma {args.blur:g} px" if args.baseline == "blur" else "the mean colour"
    print(f"\n{len(next(iter(table.values())))} photos, 224 x 224, deleted pixels -> {what}, "
          f"{args.steps} steps per curve, {time.perf_counter() - t0:.0f} s")
    print(f"{'method':36} {'deletion AUC (lower better)':>28} {'insertion AUC (higher better)':>30}")
    for method, vals in table.items():
        d = statistics.median(v[0] for v in vals)
        i = statistics.median(v[1] for v in vals)
        print(f"{method:36} {d:28.3f} {i:30.3f}")
    if key_fracs:
        print(f"\nkey pixels (default run): median fraction {100 * statistics.median(key_fracs):.2f} % of the image; "
              f"key-pixel-only image flips in {sum(key_flips)}/{len(key_flips)} photos")


if __name__ == "__main__":
    main()
