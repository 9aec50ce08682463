"""The feature-group half of the region style's importance map: which of the regions the network's own
features outline, kept alone with the rest of the photo's detail removed, bring the explained class back?

After the two mask searches (:mod:`.restore`), one gradient at the photo, at a layer one grid finer than the
network's last feature grid (EfficientNet-Lite0: block 10, 14 x 14 at 224 px; :func:`group_layer`), gives
gradient x activation at every cell of every channel; the channels are split into :data:`GROUPS` groups in
order, and each group's sum (ReLU) is one smooth region mask, upsampled to the image and scaled to [0, 1].
Each mask keeps the photo inside it and the run's own fill-in (the detail-removed copy) outside; one forward
pass scores it by how much probability of the explained class(es) it brings back over the fill-in alone. The
half is the score-weighted sum of the masks (ReLU). It asks the flip-back question of :mod:`.restore` of the
network's own regions instead of the mask grid's cells (after Group-CAM, Zhang et al. 2021, whose masks weigh
whole channels by their mean gradient; per cell, as LayerCAM does, the masks lie where the class reads the
features, not wherever the features fire: on a network whose features there do not depend on the class, the
per-channel weights drew the photo's own texture). It costs one gradient and :data:`GROUPS` + 2 forward passes
(~0.25 s at 224 px on two cores).

Why (docs/benchmarks.md, "Feature groups"): added to the two searches' map (a :data:`SHARE` of the sum) it beat
RISE's medians under every fill-in, both curves, on the 18 benchmark and held-out photos, where the searches' map
alone lost black insertion by a third; the map still depends on the model (cascading randomisation, see there). A
share of 0.35 rather than half (session 36, "All 18 photos with ROAD"): photo by photo as faithful as 0.5, and the key
region it ranks is smaller (median 2.7 % of the image over the 18 photos instead of 3.8 %).

A model whose layers cannot be hooked (TorchScript; an ONNX file, converted by onnx2torch, has layers), a
transformer (tokens, no finer grid; or tokens that go on to a coarser grid than its last: a convolutional stem), a network with no layer at a finer grid than its last, or a photo where no mask
brings the class back has no such half: the map is the searches' alone.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

import torch
import torch.nn.functional as F
from torch import nn

from ..attributions import is_attention, batch_scores, hookable
from ..models.efficientnet_lite import thread_owned
from ..results import Progress

SHARE = 0.35  # the feature-group half's weight in the region style's map (the searches' map has 1 - SHARE; 0.5 until session 36)
GROUPS = 16  # channel groups, one region mask and one forward pass each
BATCH_BYTES = 200 * 2**20  # masked images per forward pass: at most this many bytes of them (at least one)
MAX_BATCH = 4  # and at most this many: a Cancel is answered, and progress reported, after each pass (~0.25 s at 1,024 px)
PHASE = "feature_groups"  # the Progress phase of the scoring passes


def group_layer(module: nn.Module, x: torch.Tensor) -> nn.Module | None:
    """The layer the masks come from: of the layers with a feature-grid output (N x C x h x w, h, w >= 2) in one
    forward pass at ``x``, those whose grid is at least twice as fine each way as the last such output's (rounded
    up: 15 x 15 before 8 x 8), at the coarsest such grid (a stride finer, not the stem's); of these the one that
    holds the most of them (the stage at that grid, not a stem, block or norm beside it), of equals the outermost
    (fewest dots in its name), the last to run. None when there is none, the layers
    cannot be hooked, or tokens (an N x L x C output, L >= 4) after the last grid go on to a coarser grid than it
    (fewer than half its cells): a hybrid whose convolutions are only its stem (LeViT) subsamples its tokens as a
    ViT's stages would, so its stem's grid is not the last grid it reads. Tokens at the last grid's size keep it:
    an attention-pooling head (CLIP's ResNets: 7 x 7 + 1 tokens), a last stage of attention (EfficientFormer), a
    transformer inside a stage that ends on a grid (MobileViT). A 4-D output is read channels first or, where
    only that reading has the aspect of the network's first convolution's output, channels last (Swin's stages:
    N x h x w x C); the layers of an attention layer (:func:`..attributions.is_attention`) are not grids
    (attention maps, Swin V2's position-bias table)."""
    found = _probe(module, x)
    return found[0] if found else None


def _probe(module: nn.Module, x: torch.Tensor) -> tuple[nn.Module, bool] | None:
    """(:func:`group_layer`'s layer, whether its output is channels last), or None."""
    if not hookable(module):
        return None
    # the layers of an attention layer (Swin V2's holds a position-bias MLP, a 15 x 15 'grid' the same for every image)
    inner = {id(m) for a in module.modules() if is_attention(a) for m in a.modules()}
    events: list[tuple[nn.Module, int, tuple[int, ...]] | int] = []  # 4-D outputs (layer, depth, shape); token counts
    calls: dict[int, int] = {}  # a module called more than once (a shared activation): its last output is another's
    first_conv: list[tuple[int, ...]] = []  # the grid the network itself sees (after any crop or resize inside it)
    def hook(m, _inp, out, depth):  # called in this thread only (thread_owned)
        if not isinstance(out, torch.Tensor):
            return
        calls[id(m)] = calls.get(id(m), 0) + 1
        if isinstance(m, nn.Conv2d) and out.dim() == 4 and not first_conv:
            first_conv.append(tuple(out.shape[2:]))
        if out.dim() == 4 and id(m) not in inner:
            events.append((m, depth, tuple(out.shape[1:])))
        elif out.dim() == 3 and out.shape[1] >= 4:
            events.append(out.shape[1])

    handles = []
    try:
        for name, m in module.named_modules():
            if m is not module:
                handles.append(m.register_forward_hook(thread_owned(lambda m_, i, o, d=name.count("."): hook(m_, i, o, d))))
        with torch.no_grad():
            module(x)
    except Exception:  # noqa: BLE001 - a model that refuses hooks or this pass simply has no such half
        return None
    finally:
        for h in handles:
            h.remove()
    # no convolution: the first 4-D output's grid (a wrapper may resize the photo to the network's input), else x's
    first_4d = next((e[2][1:] for e in events if not isinstance(e, int)), None)
    h0, w0 = first_conv[0] if first_conv else first_4d if first_4d is not None else x.shape[-2:]
    seen: list[tuple[nn.Module, int, tuple[int, int], bool]] = []
    fewest_tokens = None  # the fewest tokens of an N x L x C output since the last grid output
    for e in events:
        if isinstance(e, int):
            fewest_tokens = min(e, fewest_tokens or e)
            continue
        m, depth, (c, a, b) = e
        last = _channels_last(c, a, b, h0 / w0)
        if last is not None:
            seen.append((m, depth, (c, a) if last else (a, b), last))
            fewest_tokens = None
    if not seen:
        return None
    fh, fw = seen[-1][2]
    if fewest_tokens is not None and fewest_tokens * 2 < fh * fw:  # the tokens go on to a coarser grid
        return None
    finer = [(m, depth, h * w, last) for m, depth, (h, w), last in seen  # 2 x as fine, rounded up: 15 -> 8
             if h >= 2 * fh - 1 and w >= 2 * fw - 1 and calls[id(m)] == 1]
    if not finer:
        return None
    level = min(area for _, _, area, _ in finer)  # the grid just finer than the last, not the stem's
    at_level = [(m, depth, last) for m, depth, area, last in finer if area == level]
    inside = {id(m): {id(x) for x in m.modules()} for m, _, _ in at_level}
    held = [sum(id(x) in inside[id(m)] for x, _, _ in at_level) for m, _, _ in at_level]
    most = max(held)  # the stage: the layer holding the most layers at this grid (not the stem or a norm after it)
    outer = min(depth for (m, depth, _), n in zip(at_level, held) if n == most)
    m, _, last = [f for f, n in zip(at_level, held) if n == most and f[1] == outer][-1]
    return m, last


def _channels_last(c: int, a: int, b: int, aspect: float) -> bool | None:
    """How to read a 4-D output N x c x a x b as a feature grid (h, w >= 2) at ``aspect`` (height / width, to
    within a cell's rounding): False channels first (a x b cells of c channels), True channels last (c x a cells
    of b channels) where only that reading fits, None neither."""

    def fits(h: int, w: int) -> bool:  # a cell's rounding either way: in w it counts aspect times (tall inputs)
        return min(h, w) >= 2 and abs(h - w * aspect) <= 1.0 + aspect + 0.05 * h

    return False if fits(a, b) else True if fits(c, a) else None


def feature_group_map(module: nn.Module, x0: torch.Tensor, fill: torch.Tensor, explained: torch.Tensor,
                      stop: Callable[[], bool], box: tuple[int, int, int, int] | None = None,
                      counter: Callable[[int, int], None] | None = None):
    """The feature-group half (a generator: yields a :class:`~..results.Progress` after each scoring pass; returns
    the half): an H x W map in [0, 1] (maximum 1), or None when the model has no layer for it
    (:func:`group_layer`), the run is stopped, no region brings the class back, or the model fails here.

    ``module``: the network (pixels in, logits out); ``x0`` / ``fill``: 1 x 3 x H x W, the photo and the run's
    detail-removed copy; ``explained``: the boolean class mask of the explained class(es); ``box``: the part of
    the image the network sees (top, left, bottom, right; None: all of it), where the masks are placed;
    ``counter(gradients, forwards)``: told the model evaluations made."""
    module = getattr(module, "unbatched", module)  # a batched run's stand-in: the real network, in this thread
    try:
        if not hookable(module):
            return None
        found = _probe(module, x0)
        if counter:
            counter(0, 1)
        if found is None or stop():
            return None
        return (yield from _scored_masks(module, found, x0, fill, explained, stop, box, counter))
    except Exception:  # noqa: BLE001 - the searches' map stands on its own
        return None


def _scored_masks(module, found, x0, fill, explained, stop, box, counter):
    layer, channels_last = found
    saved: list[torch.Tensor] = []

    def keep(_m, _inp, out):  # called in this thread only (thread_owned)
        saved.append(out)

    handle = layer.register_forward_hook(thread_owned(keep))
    try:
        with torch.enable_grad():
            z = module(x0.detach().requires_grad_(True))  # the weights need no gradient; the graph does
            if not saved or not z.requires_grad:
                return None
            score = torch.logsumexp(z[0][explained], 0)
            (g,) = torch.autograd.grad(score, saved[-1])
    finally:
        handle.remove()
    if counter:
        counter(1, 0)
    act, g = saved[-1].detach()[0], g[0]
    if channels_last:
        act, g = act.permute(2, 0, 1), g.permute(2, 0, 1)
    weighted = g * act  # gradient x activation at each cell: where the class reads this channel, not all of it
    parts = F.relu(torch.stack([c.sum(0) for c in weighted.tensor_split(min(GROUPS, weighted.shape[0]), 0)]))
    h, w = x0.shape[-2:]
    top, left, bottom, right = box or (0, 0, h, w)
    per = max(1, min(len(parts), MAX_BATCH, BATCH_BYTES // max(1, x0.numel() * x0.element_size())))
    wide = torch.float32 if x0.device.type == "mps" else torch.float64  # Apple GPUs have no float64
    out = torch.zeros((h, w), dtype=wide, device=x0.device)
    with torch.no_grad():
        p_fill = torch.softmax(module(fill).to(wide), 1)[0][explained].sum()
    for s in range(0, len(parts), per):  # the masks of one batch at a time: an 8,192 px photo's 16 are 4 GB
        if stop():
            return None
        with torch.no_grad():  # not across the yield: the run's consumer keeps its own grad mode
            inner = F.interpolate(parts[None, s:s + per], size=(bottom - top, right - left), mode="bilinear",
                                  align_corners=False)[0]
            lo, hi = inner.amin(dim=(1, 2), keepdim=True), inner.amax(dim=(1, 2), keepdim=True)
            masks = torch.zeros((inner.shape[0], 1, h, w), dtype=x0.dtype, device=x0.device)
            masks[:, 0, top:bottom, left:right] = ((inner - lo) / (hi - lo).clamp_min(1e-12)).to(x0.dtype)
            # a network that takes one image at a time (a dynamo ONNX export) is asked image by image
            z = batch_scores(module, x0 * masks + fill * (1 - masks))
            gain = torch.softmax(z.to(wide), 1)[:, explained].sum(1) - p_fill
            out += (gain[:, None, None] * masks[:, 0].to(wide)).sum(0)
        yield Progress(PHASE, s // per + 1)  # passes made (of ⌈masks / per⌉)
    if counter:
        counter(0, len(parts) + 1)
    out = F.relu(out)
    peak = out.max()
    if not torch.isfinite(peak) or peak <= 0:
        return None
    return (out / peak).to(x0.dtype)


def blend(searches: np.ndarray, half: torch.Tensor | None) -> np.ndarray:
    """(1 − :data:`SHARE`) · the searches' map + :data:`SHARE` · the feature-group half, each min-max scaled to
    [0, 1], the sum scaled to a maximum of 1 (float32, H x W); ``searches`` unchanged when there is no half."""
    if half is None:
        return searches
    a = searches.astype(np.float64)
    a = (a - a.min()) / max(float(a.max() - a.min()), 1e-12)
    g = half.detach().cpu().double().numpy()
    g = (g - g.min()) / max(float(g.max() - g.min()), 1e-12)
    out = (1.0 - SHARE) * a + SHARE * g
    return (out / max(float(out.max()), 1e-12)).astype(np.float32)
