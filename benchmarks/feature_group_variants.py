"""Variants of the importance map's feature-group half, measured (session 36, not adopted): every metric of faithfulness.py.

    OMP_NUM_THREADS=1 python benchmarks/faithfulness.py --set all --road-percentiles 20,50,80 --cache C   # the peers, once
    OMP_NUM_THREADS=1 python benchmarks/feature_group_variants.py --set all --out V --only A,B,...       # one process per half
    python benchmarks/feature_group_variants.py --set all --out V --summary --cache C                     # the tables

Each photo is explained once as shipped (``core.explain.run``, the default style); the searches' map and the
inputs of the half (the photo, the run's detail-removed fill-in, the explained classes, the visible box) are caught
on the way, so every variant differs from the shipped map only in its half and its share:

- ``shipped``: the half as shipped (block 10 at 224 px, 16 channel groups in order, each mask scored by the
  probability it brings back over the fill-in alone), re-computed here (the first check: it equals the run's map);
- ``g8`` / ``g32``: 8 or 32 groups; ``cluster16``: 16 groups by k-means of the channels' positive maps (channels
  that light the same region together) instead of in order; ``last16``: the last feature grid (7 x 7) instead of the
  one finer; ``both16``: the mean of the two layers' halves;
- ``drop_sum``: each mask also scored by what removing it costs (the photo with the fill-in inside the mask), the
  score the sum of gain and drop (the deletion question beside the insertion one; 16 more forward passes);
- ``multi``: the masks scored against three fill-ins (the run's, black, the mean colour), the halves summed;
- each at a share of 0.35 (shipped since session 36), 0.5 (before: the share this study ran at) and 0.65 of the map; and the shipped map smoothed (Gaussian, sigma 3, 6,
  12 px) or with a broad copy of itself (sigma 24 px, weight 0.1) added as a tie-breaker.

The summary prints, per photo set, the medians and how many of the 9 columns beat every peer's median (and RISE's),
then each variant against the shipped map (the run's, at ``feature_groups.SHARE``) photo by photo (``k/18``: photos where it is better), and a bootstrap of
the shipped map against RISE (how often, over 2,000 resamples of the photos, its median is the better one).
ROAD's noisy imputation is seeded per batch position: the same map at another position moves by ~0.01.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.faithfulness import COLUMNS, LOWER_BETTER, POINTS, SIZE, Cache, evaluate  # noqa: E402
from benchmarks.photos import SETS, benchmark_photos, to_input  # noqa: E402

PERCENTILES = (20, 50, 80)
PEERS = ("saliency", "ig", "gradcam", "rise", "centre", "random")
VARIANTS = {
    "shipped": {}, "g8": {"groups": 8}, "g32": {"groups": 32}, "cluster16": {"grouping": "cluster"},
    "last16": {"layer": "last"}, "both16": {"layer": "both"}, "drop_sum": {"drop": True}, "multi": {"fills": "three"},
}
SHARES = (0.35, 0.5, 0.65)


def last_layer(module, x):
    """The outermost module, called once, whose output is the last N x C x h x w grid of a forward pass."""
    seen, calls = [], {}

    def hook(m, _i, o, depth):
        calls[id(m)] = calls.get(id(m), 0) + 1
        if isinstance(o, torch.Tensor) and o.dim() == 4 and min(o.shape[-2:]) >= 2:
            seen.append((m, depth, tuple(o.shape[-2:])))
    hs = [m.register_forward_hook(lambda m_, i, o, d=n.count("."): hook(m_, i, o, d))
          for n, m in module.named_modules() if m is not module]
    with torch.no_grad():
        module(x)
    for h in hs:
        h.remove()
    grid = seen[-1][2]
    cands = [(m, d) for m, d, s in seen if s == grid and calls[id(m)] == 1]
    outer = min(d for _, d in cands)
    return [m for m, d in cands if d == outer][-1]


def weighted_activation(module, layer, x0, explained):
    saved = []
    h = layer.register_forward_hook(lambda m, i, o: saved.append(o))
    try:
        with torch.enable_grad():
            z = module(x0.detach().requires_grad_(True))
            (g,) = torch.autograd.grad(torch.logsumexp(z[0][explained], 0), saved[-1])
    finally:
        h.remove()
    return g[0] * saved[-1].detach()[0]


def group_parts(w, groups, grouping):
    if grouping == "order":  # as shipped
        return F.relu(torch.stack([c.sum(0) for c in w.tensor_split(min(groups, w.shape[0]), 0)]))
    m = F.relu(w).flatten(1).double()  # k-means (cosine) of the channels' positive maps
    m = m[m.sum(1) > 0]
    n = m / m.norm(dim=1, keepdim=True)
    k = min(groups, len(m))
    cent = n[torch.randperm(len(m), generator=torch.Generator().manual_seed(0))[:k]].clone()
    for _ in range(20):
        a = (n @ cent.T).argmax(1)
        for j in range(k):
            if (a == j).any():
                cent[j] = n[a == j].mean(0)
                cent[j] /= cent[j].norm().clamp_min(1e-12)
    return torch.stack([m[a == j].sum(0) for j in range(k) if (a == j).any()]).reshape(-1, *w.shape[1:]).float()


@torch.no_grad()
def scored_half(module, x0, fill, explained, parts, box, drop=False, fills="run"):
    h, w = x0.shape[-2:]
    top, left, bottom, right = box or (0, 0, h, w)
    inner = F.interpolate(parts[None], size=(bottom - top, right - left), mode="bilinear", align_corners=False)[0]
    lo, hi = inner.amin(dim=(1, 2), keepdim=True), inner.amax(dim=(1, 2), keepdim=True)
    masks = torch.zeros((inner.shape[0], 1, h, w))
    masks[:, 0, top:bottom, left:right] = (inner - lo) / (hi - lo).clamp_min(1e-12)

    def p(t):
        return torch.cat([torch.softmax(module(t[s:s + 4]).double(), 1)[:, explained].sum(1) for s in range(0, len(t), 4)])
    out = torch.zeros((h, w), dtype=torch.float64)
    others = [torch.zeros_like(x0), x0.mean((2, 3), keepdim=True).expand_as(x0)] if fills == "three" else []
    for fl in [fill, *others]:
        score = p(x0 * masks + fl * (1 - masks)) - p(fl)[0]
        if drop:
            score = score + p(x0)[0] - p(fl * masks + x0 * (1 - masks))
        out += (score[:, None, None] * masks[:, 0].double()).sum(0)
    out = F.relu(out)
    return (out / out.max()).float() if out.max() > 0 else None


def half(module, caught, layer="fine", groups=16, grouping="order", drop=False, fills="run"):
    from gradflip_desktop.core.explain import feature_groups as fg

    x0, explained = caught["x0"], caught["explained"]
    halves = []
    for which in (("fine", "last") if layer == "both" else (layer,)):
        lay = fg.group_layer(module, x0) if which == "fine" else last_layer(module, x0)
        parts = group_parts(weighted_activation(module, lay, x0, explained), groups, grouping)
        one = scored_half(module, x0, caught["fill"], explained, parts, caught["box"], drop, fills)
        if one is not None:
            halves.append(one)
    return sum(halves) / len(halves) if halves else None


def explain_caught(clf, x):
    """The shipped default run, with the searches' map and the half's inputs caught on the way."""
    from gradflip_desktop.core.explain import feature_groups as fg, run
    from gradflip_desktop.core.options import ExplainOptions

    caught = {}
    real_map, real_blend = fg.feature_group_map, fg.blend

    def catch_map(module, x0, fill, explained, stop, box=None, counter=None):
        caught.update(x0=x0, fill=fill, explained=explained, box=box)
        return (yield from real_map(module, x0, fill, explained, stop, box, counter))

    def catch_blend(searches, h):
        caught["searches"] = searches
        return real_blend(searches, h)
    fg.feature_group_map, fg.blend = catch_map, catch_blend
    try:
        res = run(clf, x, ExplainOptions())
    finally:
        fg.feature_group_map, fg.blend = real_map, real_blend
    return np.asarray(res.importance_map(), np.float32), caught


def variant_maps(clf, x) -> dict[str, np.ndarray]:
    from scipy.ndimage import gaussian_filter

    from gradflip_desktop.core.explain import feature_groups as fg

    shipped, caught = explain_caught(clf, x)
    maps = {"shipped map": shipped}
    for name, kw in VARIANTS.items():
        h = half(clf.module, caught, **kw)
        for share in SHARES:
            old, fg.SHARE = fg.SHARE, share
            try:
                maps[f"{name}@{share}"] = fg.blend(caught["searches"], h)
            finally:
                fg.SHARE = old
    same = maps.get(f"shipped@{fg.SHARE}")
    assert same is None or np.abs(same - shipped).max() < 1e-4, "the re-computed half is not the shipped one"
    m = shipped.astype(np.float64)
    for s in (3, 6, 12):
        maps[f"smooth {s} px"] = gaussian_filter(m, s, mode="nearest").astype(np.float32)
    maps["+ broad copy"] = (m + 0.1 * gaussian_filter(m, 24, mode="nearest")).astype(np.float32)
    return maps


def better(c, a, b):
    return a < b if c in LOWER_BETTER else a > b


def summary(out: Path, cache: Cache, set_name: str) -> None:
    rng = np.random.default_rng(0)
    for label, photos in (("benchmark", SETS["benchmark"]), ("held-out", SETS["held-out"]), ("all", SETS[set_name])):
        names = [n for n, _ in photos if (out / f"{n}.json").exists()]
        if not names:
            continue
        rows = {n: json.loads((out / f"{n}.json").read_text()) for n in names}
        peers = {p: {n: cache.load(n, p)[2] for n in names} for p in PEERS}
        missing = [f"{n}/{p}" for p in PEERS for n in names if "ROAD comb" not in peers[p][n]]
        if missing:
            sys.exit(f"peers missing from the cache ({', '.join(missing[:4])}...): run faithfulness.py --cache first")
        med = {p: {c: statistics.median(peers[p][n][c] for n in names) for c in COLUMNS} for p in PEERS}
        best = {c: (min if c in LOWER_BETTER else max)(med[p][c] for p in PEERS) for c in COLUMNS}
        print(f"\n{label}: {len(names)} photos; medians; columns better than every peer's / RISE's median; "
              f"photos better than the shipped map (blur del, blur ins, mean del, mean ins, black del, black ins, ROAD comb)\n")
        print("| map | " + " | ".join(COLUMNS) + " | > all | > RISE | photos > shipped |\n" + "|---" * (len(COLUMNS) + 4) + "|")
        print("| RISE | " + " | ".join(f"{med['rise'][c]:.3f}" for c in COLUMNS) + " | | | |")
        cols7 = [c for c in COLUMNS if "ROAD" not in c] + ["ROAD comb"]
        for k in rows[names[0]]:
            m = {c: statistics.median(rows[n][k][c] for n in names) for c in COLUMNS}
            wins = sum(better(c, m[c], best[c]) for c in COLUMNS)
            wr = sum(better(c, m[c], med["rise"][c]) for c in COLUMNS)
            paired = "/".join(str(sum(better(c, rows[n][k][c], rows[n]["shipped map"][c]) for n in names)) for c in cols7)
            print(f"| {k} | " + " | ".join(f"{m[c]:.3f}" for c in COLUMNS) + f" | {wins}/9 | {wr}/9 | {paired} |")
        boot = []
        idx = rng.integers(0, len(names), (2000, len(names)))
        for c in COLUMNS:
            a = np.array([rows[n]["shipped map"][c] for n in names])
            b = np.array([peers["rise"][n][c] for n in names])
            per = int(sum(better(c, u, v) for u, v in zip(a, b)))
            share = float(better(c, np.median(a[idx], 1), np.median(b[idx], 1)).mean())
            boot.append(f"{c} {per}/{len(names)}, {share:.2f}")
        print("\nshipped map against RISE (photos better; share of bootstrap resamples with the better median): "
              + "; ".join(boot))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="all", choices=tuple(SETS), help="photo set of benchmarks/photos.py")
    ap.add_argument("--only", default=None, help="comma-separated photo names (default: the whole set)")
    ap.add_argument("--out", required=True, metavar="DIR", help="per-photo metrics (JSON) and maps (npz) go here")
    ap.add_argument("--cache", default=None, metavar="DIR", help="faithfulness.py's --cache (the peers, for --summary)")
    ap.add_argument("--summary", action="store_true", help="print the tables of what --out holds and exit")
    args = ap.parse_args(argv)
    out = Path(args.out)
    cache = Cache(args.cache, f"p{POINTS}-road{'-'.join(map(str, PERCENTILES))}")
    if args.summary:
        if args.cache is None:
            ap.error("--summary needs --cache (faithfulness.py's peers)")
        return summary(out, cache, args.set)
    from gradflip_desktop.core.models import load_default_model

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    clf = load_default_model()
    wanted = set(args.only.split(",")) if args.only else None
    for name, arr in benchmark_photos(None, args.set):
        if wanted and name not in wanted:
            continue
        x = to_input(arr, SIZE)
        target = int(np.argmax(clf.probabilities(x)))
        maps = variant_maps(clf, x)
        metrics = evaluate(clf, x, target, maps, with_road=True, percentiles=PERCENTILES)
        (out / f"{name}.json").write_text(json.dumps(metrics))
        np.savez_compressed(out / f"{name}.npz", **maps)
        print(f"{name}: {len(maps)} maps", flush=True)


if __name__ == "__main__":
    main()
