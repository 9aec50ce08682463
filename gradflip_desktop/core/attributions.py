"""Classic attribution maps for comparison with GradFlip's importance map: gradient saliency, Grad-CAM, RISE.

Both take a :class:`~gradflip_desktop.core.models.Classifier` and an image as the rest of the core
does (``pixels``: H x W x 3 float32 in [0, 1] at working resolution) and return an H x W float32 map
at that same resolution, so the three maps can be shown side by side over the photo.

- :func:`saliency_map`: |∂z_t/∂x| summed over the colour channels (Simonyan et al. 2014), where z_t is
  the logit of class ``target`` (a group of classes: the log-sum-exp of their logits). Gradients reach the user's own pixels (resizing and normalisation are
  inside the pixel-space module).
- :func:`gradcam_map`: Grad-CAM (Selvaraju et al. 2017) at a feature layer: ReLU(Σ_k w_k·A_k) with
  w_k the spatial mean of ∂z_t/∂A_k, upsampled bilinearly to the image size. By default the layer is
  the last Conv2d/BatchNorm layer the network runs (for the default EfficientNet-Lite0 ``net._bn1``);
  for a vision transformer the LayerNorm before its last attention layer, its patch tokens reshaped to
  the patch grid (the class token dropped), as is usual for ViT Grad-CAM.
- :func:`rise_map`: RISE (Petsiuk et al. 2018), as published: N random binary 7 x 7 grids (p = 0.5),
  upsampled bilinearly with a random shift, multiplied into the photo (black where a mask is 0); the map is
  Σ P(explained | x·M_i)·M_i / (N·p). Forward passes only (N of them: about 25 s for 1,000 at 224 px on
  two CPU cores), so it is the strongest and the slowest peer; the same fixed seed gives the same map.

Plain Python + torch; no Qt (the GUI computes these in its worker thread).
"""

from __future__ import annotations

import math
import operator
import re
import weakref

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .viz.maps import heat_overlay  # noqa: F401 - re-exported for the comparison panel
from .errors import ModelError
from .models import Classifier

__all__ = ["MAX_RISE_MASKS", "RISE_CELLS", "RISE_MASKS", "feature_layer", "gradcam_map", "heat_overlay", "rise_map", "rise_steps",
           "saliency_map", "token_layer"]

# layer types Grad-CAM may hook: convolutions and the normalisation layers that follow them
_FEATURE_TYPES: tuple[type, ...] = (nn.Conv2d, nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.InstanceNorm2d)


def _check_target(classifier: Classifier, target: int | str) -> int:
    if not hasattr(classifier, "num_classes") or not hasattr(classifier, "module"):  # (pixels, model, ...) swapped
        raise TypeError("the first argument must be the model (a Classifier: load_default_model(), load_model_file()), "
                        f"not {type(classifier).__name__}; then the photo, then the class")
    if isinstance(target, str):  # a label ("tiger cat", "#3") as --target takes it, not int()'s "invalid literal"
        return classifier.find_class(target)
    try:  # an int, a NumPy integer, or a one-element integer tensor (logits.argmax(): accepted before, as int())
        t = operator.index(target)
    except TypeError:
        raise TypeError(f"target must be a class index or label, not {type(target).__name__}") from None
    if not 0 <= t < classifier.num_classes:
        raise ModelError(f"class index {t} out of range (0–{classifier.num_classes - 1})")
    return t


def _input(classifier: Classifier, pixels: np.ndarray) -> torch.Tensor:
    pixels = getattr(pixels, "pixels", pixels)  # an ImageData, as run() takes it
    if isinstance(pixels, (str, bytes)) or not isinstance(pixels, (np.ndarray, torch.Tensor, list, tuple)):
        raise TypeError(f"pixels must be an H x W x 3 array in [0, 1] or an ImageData, not {type(pixels).__name__}")
    a = np.asarray(pixels, dtype=np.float32)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"pixels must be H x W x 3, not {a.shape}")
    return classifier.image_tensor(a).requires_grad_(True)


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    """``values`` when every one is a finite number, else a :class:`ModelError` (as :func:`rise_steps` raises for
    non-finite outputs): a map of NaN ranked as it came, and check_maps refuses it with every other map of the photo."""
    if not np.all(np.isfinite(values)):
        raise ModelError(f"the model's {what} map holds values that are not finite (NaN or infinity)")
    return values


def _targets(classifier: Classifier, target) -> list[int]:
    """One class (an index or a label) or a group of them (a list or tuple of indices, a group run's classes)."""
    if isinstance(target, (list, tuple)):
        if not target:
            raise ModelError("no class to explain: the group is empty")
        return [_check_target(classifier, t) for t in target]
    return [_check_target(classifier, target)]


def _score(z: torch.Tensor, targets: list[int]) -> torch.Tensor:
    """The class's logit; a group's, log Σ exp of its members' logits (the log of its share of the softmax up to
    the same normaliser: what "any cat" is, as one score), so Grad-CAM and saliency explain what a group run does."""
    return z[0, targets[0]] if len(targets) == 1 else torch.logsumexp(z[0, targets], 0)


def saliency_map(classifier: Classifier, pixels: np.ndarray, target) -> np.ndarray:
    """Vanilla gradient saliency: |∂z_target/∂x| summed over channels, H x W float32 >= 0.

    ``pixels``: H x W x 3 float32 in [0, 1]; ``target``: class index (or label), or a list of indices (a group:
    the score is the log-sum-exp of their logits). For one class it equals captum's
    ``Saliency(classifier.module).attribute(x, target=target).sum(1)`` (abs=True).
    """
    targets = _targets(classifier, target)
    x = _input(classifier, pixels)
    with torch.enable_grad():
        z = _score(classifier.module(x), targets)
        (g,) = torch.autograd.grad(z, x)
    return _finite(g.abs().sum(1)[0].detach().float().cpu().numpy().astype(np.float32), "saliency")


def is_attention(m: nn.Module) -> bool:
    """An attention layer: torch's own, or a class named "...Attention" or "...AttentionV2" (torchvision's Swin V2:
    its ShiftedWindowAttentionV2 was missed, so Grad-CAM took Swin V2's patch embedding and the feature-group half
    its position-bias MLP); not a block named "...AttentionBlock" that holds one."""
    return isinstance(m, nn.MultiheadAttention) or re.search(r"Attention(V\d+)?$", type(m).__name__) is not None


FIRST_NORM = re.compile(r"(^|_)(layer_?norm|norm|ln)_?1$")  # a pre-norm layer's first norm: norm1, layer_norm1, ln_1


def token_layer(module: nn.Module) -> tuple[str, nn.Module] | None:
    """For a transformer (a model with attention layers: timm ViT/DeiT/Swin, Hugging Face ViT): the last
    LayerNorm that runs before the last attention layer (timm: ``blocks[-1].norm1``), whose patch tokens
    still reach the class score through that attention; ``None`` for a model without attention."""
    mods = list(module.named_modules())
    last = max((i for i, (_, m) in enumerate(mods) if is_attention(m)), default=None)
    if last is None:
        return None
    # Hugging Face declares a layer's norms after its attention (ViTLayer: attention, …, layernorm_before,
    # layernorm_after): in declaration order the last norm before it was the previous layer's layernorm_after. The
    # layer holding the last attention (transformers 4 nests it one level deeper: layer.N.attention.attention) names
    # the norm that runs before it
    # (CLIP and SigLIP declare self_attn, layer_norm1, mlp, layer_norm2: their first norm, "…norm1", "ln_1", runs
    # before the attention, as timm's norm1 does; the previous layer's layer_norm2 was taken)
    by_name, parent = dict(mods), mods[last][0]
    while "." in parent:
        parent = parent.rpartition(".")[0]
        before = [(f"{parent}.{n}", m) for n, m in by_name[parent].named_children()
                  if isinstance(m, nn.LayerNorm) and ("before" in n or FIRST_NORM.search(n))]
        if before:
            return before[0]
    norms = [(n, m) for n, m in mods[:last] if isinstance(m, nn.LayerNorm)]
    return norms[-1] if norms else None


def _token_grid(t: torch.Tensor, aspect: float) -> tuple[int, int, int] | None:
    """(prefix tokens, grid height, grid width) of ``N x T x D`` tokens: the class/distillation/register
    tokens come first, then a grid of patches whose shape follows the network input's ``aspect`` (h / w)."""
    n_tokens = t.shape[1]
    for prefix in range(0, min(17, n_tokens)):
        cells = n_tokens - prefix
        gh = max(1, round(math.sqrt(cells * aspect)))
        if cells % gh == 0 and min(gh, cells // gh) >= 2 and abs(cells // gh * aspect - gh) < 0.5:
            return prefix, gh, cells // gh
    return None


def _as_grid(act: torch.Tensor, layer: nn.Module, name: str, aspect: float) -> torch.Tensor:
    """A layer output as ``N x C x h x w``: convolution maps as they are, transformer tokens reshaped to
    their patch grid (``N x T x D``, or ``N x h x w x D`` from a LayerNorm as in Swin)."""
    if act.dim() == 4 and isinstance(layer, nn.LayerNorm) and act.shape[-1] == layer.normalized_shape[-1]:
        return act.permute(0, 3, 1, 2)
    if act.dim() == 4:
        return act
    if act.dim() == 3:
        grid = _token_grid(act, aspect)
        if grid is None:
            raise ModelError(
                f"Grad-CAM is not available for this model: the {act.shape[1]} tokens of layer {name} do not form a patch grid"
            )
        prefix, gh, gw = grid
        return act[:, prefix:].reshape(act.shape[0], gh, gw, act.shape[2]).permute(0, 3, 1, 2)
    raise ModelError(f"Grad-CAM is not available for this model: layer {name} gives {act.dim()}-D output, not a feature map")


def hookable(module: nn.Module) -> bool:
    """False for TorchScript (its layers run no Python hooks): Grad-CAM and the importance map's feature-group half
    need hooks."""
    return not any(isinstance(m, torch.jit.ScriptModule) for m in module.modules())


def feature_layer(module: nn.Module) -> tuple[str, nn.Module]:
    """The layer Grad-CAM uses, as (name, layer): for a transformer :func:`token_layer` (its tokens are
    reshaped to the patch grid), else the last Conv2d/BatchNorm-like layer (registration order).

    Raises :class:`ModelError` when there is none (a network without convolutions, or TorchScript,
    whose layers cannot be hooked).
    """
    if not hookable(module):
        raise ModelError(
            "Grad-CAM cannot hook a TorchScript model's layers; a state dict or ONNX file of it can be compared"
        )
    tokens = token_layer(module)
    if tokens is not None:
        return tokens
    found: tuple[str, nn.Module] | None = None
    for name, m in module.named_modules():
        if isinstance(m, _FEATURE_TYPES):
            found = (name, m)
    if found is None:
        raise ModelError("Grad-CAM needs a convolutional layer, and this model has no Conv2d or BatchNorm layer")
    return found


def no_evidence(cam) -> bool:
    """A Grad-CAM map that is zero everywhere (the ReLU of a negative weighted sum at every cell; a fresh timm
    ResNet's zero-initialised norms): ranked by a random tie order it would be scored as if it were a map."""
    return not np.any(np.asarray(cam) > 0)


def gradcam_map(
    classifier: Classifier, pixels: np.ndarray, target, layer: nn.Module | str | None = None
) -> np.ndarray:
    """Grad-CAM of class ``target`` (an index or label; a list of indices: a group, scored by the log-sum-exp of
    their logits) at ``layer``, upsampled bilinearly to H x W; float32 >= 0.

    ``layer``: a submodule of ``classifier.module`` or its dotted name (``"net._bn1"``); ``None`` picks
    :func:`feature_layer`. The map is ReLU(Σ_k mean_ij(∂z_t/∂A_k) · A_k) on the layer's grid, then
    ``F.interpolate(..., mode="bilinear", align_corners=False)`` to the image size: the same as captum's
    ``LayerGradCam(...).attribute(x, target, relu_attributions=True)`` followed by
    ``LayerAttribution.interpolate(..., (H, W), "bilinear")``.
    Raises :class:`ModelError` when no convolutional layer can be hooked.
    """
    targets = _targets(classifier, target)
    module = classifier.module
    if layer is None:
        _, layer = feature_layer(module)
    elif isinstance(layer, str):
        try:
            layer = module.get_submodule(layer)
        except AttributeError:
            raise ModelError(f"the model has no layer named {layer!r}") from None
    x = _input(classifier, pixels)
    h, w = x.shape[-2:]
    saved: list[torch.Tensor] = []

    def hook(_m, _inp, out):
        if not isinstance(out, torch.Tensor) or out.dim() not in (3, 4):
            raise ModelError("Grad-CAM needs a layer with a N x C x H x W output (or transformer tokens)")
        saved.append(out)
        return out.clone()  # later in-place operations (x += identity, ReLU(inplace)) must not change `out`

    try:
        handle = layer.register_forward_hook(hook)
    except Exception as exc:  # noqa: BLE001 - e.g. a scripted layer
        raise ModelError(f"cannot hook the layer for Grad-CAM: {exc}") from None
    try:
        with torch.enable_grad():
            z = _score(module(x), targets)
            if not saved:
                raise ModelError("the Grad-CAM layer was not used by the model's forward pass")
            act = saved[-1]
            (g,) = torch.autograd.grad(z, act)
    finally:
        handle.remove()
    layer_name = next((n for n, m in module.named_modules() if m is layer), "?")
    aspect = classifier.preprocessing.input_size[0] / classifier.preprocessing.input_size[1]
    act, g = _as_grid(act.detach(), layer, layer_name, aspect), _as_grid(g, layer, layer_name, aspect)
    weights = g.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * act).sum(1, keepdim=True))
    top, left, bottom, right = _seen_part(classifier.preprocessing, h, w)
    out = torch.zeros(1, 1, h, w, dtype=cam.dtype, device=cam.device)
    out[..., top:bottom, left:right] = F.interpolate(cam, size=(bottom - top, right - left), mode="bilinear",
                                                      align_corners=False)
    return _finite(out[0, 0].detach().float().cpu().numpy().astype(np.float32), "Grad-CAM")


def _seen_part(pre, h: int, w: int) -> tuple[int, int, int, int]:
    """The part of an h x w image the network's input covers, (top, left, bottom, right): all of it, or the centre
    crop of a cropping model. The layer's grid covers that part only: stretched over the whole image, a ViT's or a
    ConvNeXt's Grad-CAM put 45 % of its weight on the sides the model never sees (saliency is zero there)."""
    from .models.prep_fields import CROPS  # noqa: PLC0415

    if getattr(pre, "resize", None) not in CROPS:
        return 0, 0, h, w
    top, left, bottom, right = pre.crop_bounds(h, w)
    t, l_ = min(h - 1, max(0, round(top))), min(w - 1, max(0, round(left)))
    # at least one pixel: a crop narrower than a pixel of a thin photo (1 x 300) rounded to nothing
    return t, l_, max(t + 1, min(h, round(bottom))), max(l_ + 1, min(w, round(right)))


RISE_MASKS = 1000  # masks of the published RISE (Petsiuk et al. 2018, ImageNet)
MAX_RISE_MASKS = 100_000  # ~40 min per photo at 224 px on two CPU cores; --rise 1e9 ran for weeks with a progress line
RISE_CELLS = 7  # its grid: 7 x 7 cells, each kept with probability RISE_KEEP
RISE_KEEP = 0.5
RISE_BATCH_VALUES = 16 * 3 * 224 * 224  # masked images per model call: as many as fit in this many values
_ONE_AT_A_TIME: "weakref.WeakSet[nn.Module]" = weakref.WeakSet()  # networks found to refuse batches


def batch_scores(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` for N images, N x C. A network that takes one image at a time (an export whose batch is
    fixed at 1, as torch.onnx's dynamo exporter writes: it fails on a batch of several, or answers fewer rows)
    is called image by image, as the folder runs' batcher does; it is remembered (once images one by one worked),
    so the batch is tried once. Running out of memory is not remembered: that batch only goes image by image."""
    remember = False
    if len(x) > 1 and module not in _ONE_AT_A_TIME:
        try:
            z = module(x)
        except Exception as exc:  # noqa: BLE001 - one image at a time only (a genuine fault shows again below)
            z, text = None, str(exc).lower()
            remember = not (isinstance(exc, MemoryError) or any(w in text for w in ("out of memory", "allocate memory",
                                                                                     "not enough memory")))
        else:
            remember = True
        if isinstance(z, torch.Tensor) and z.ndim >= 1 and z.shape[0] == len(x):
            return z
    out = torch.cat([module(x[i : i + 1]) for i in range(len(x))])
    if remember:
        _ONE_AT_A_TIME.add(module)
    return out


def rise_masks(h: int, w: int, count: int, generator: torch.Generator, cells: int = RISE_CELLS,
               keep: float = RISE_KEEP) -> torch.Tensor:
    """``count`` RISE masks for an H x W image (count x H x W float32 in [0, 1]): binary ``cells`` x ``cells``
    grids, upsampled bilinearly to (cells + 1) cells of ceil(H / cells) x ceil(W / cells) px, then cropped
    at a random shift of up to one cell, so the cell borders fall anywhere."""
    ch, cw = math.ceil(h / cells), math.ceil(w / cells)
    grid = (torch.rand(count, 1, cells, cells, generator=generator) < keep).float()
    big = F.interpolate(grid, size=((cells + 1) * ch, (cells + 1) * cw), mode="bilinear", align_corners=False)
    dy = torch.randint(0, ch, (count,), generator=generator).tolist()
    dx = torch.randint(0, cw, (count,), generator=generator).tolist()
    return torch.stack([big[i, 0, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(count)])


def rise_steps(classifier: Classifier, pixels: np.ndarray, explained, masks: int = RISE_MASKS, seed: int = 0,
               stop=None, state: dict | None = None):
    """:func:`rise_map` as a generator: yields (masks done, masks) after each model call and returns the map
    (``None`` when ``stop()``, polled before each model call, said stop). For a worker thread that reports
    progress between model calls. ``state``: a dict kept by the caller; a run that was stopped goes on from
    where it stopped when given the same dict (and the same image, classes, masks and seed): the same map as
    one run without a stop."""
    classes = sorted({_check_target(classifier, t) for t in (explained if isinstance(explained, (list, tuple, set))
                                                               else [explained])})
    if not classes:
        raise ValueError("no class to explain")
    if not 1 <= int(masks) <= MAX_RISE_MASKS:
        raise ValueError(f"RISE takes 1 to {MAX_RISE_MASKS:,} masks, not {masks}")
    x = classifier.image_tensor(np.asarray(pixels, dtype=np.float32))
    h, w = x.shape[-2:]
    # a centre-cropping model sees only its crop: the masks cover that part (the rest kept), and the map is zero
    # outside it, as GradFlip's and Grad-CAM's are (RISE's mean probability there drew a frame the model never saw)
    pre = getattr(classifier, "preprocessing", None)
    top, left, bottom, right = _seen_part(pre, int(h), int(w))
    # as many masked images per call as fit in RISE_BATCH_VALUES at the size the network computes on: a 40 px photo
    # went 501 per call to a 224 px network, one progress report every ~30 s (the caption said "computing" alone)
    ih, iw = tuple(getattr(pre, "input_size", None) or (h, w))
    per_call = max(1, RISE_BATCH_VALUES // max(1, 3 * max(int(h) * int(w), int(ih) * int(iw))))
    key = (int(h), int(w), int(masks), int(seed), tuple(classes), (top, left, bottom, right))
    if state is not None and state.get("key") == key:  # a stopped run of the same map: on from where it stopped
        gen, acc, done = state["gen"], state["acc"], state["done"]
    else:
        gen = torch.Generator().manual_seed(int(seed))
        acc = torch.zeros(bottom - top, right - left, dtype=torch.float64)
        done = 0
        if state is not None:
            state.clear()
            state.update(key=key, gen=gen, acc=acc, done=0)
    while done < masks:
        if stop is not None and stop():
            return None
        try:
            m = rise_masks(bottom - top, right - left, min(per_call, int(masks) - done), gen)
            full = m if m.shape[-2:] == (h, w) else F.pad(m, (left, w - right, top, h - bottom), value=1.0)
            with torch.no_grad():
                z = batch_scores(classifier.module, x * full[:, None].to(x.device, x.dtype)).double()
            if not bool(torch.isfinite(z).all()):
                raise ModelError("the model produced non-finite outputs (NaN or infinity) on a RISE mask")
            p = torch.softmax(z, 1)[:, classes].sum(1).cpu()
        except BaseException:  # the generator moved on without the sum: a later run starts again
            if state is not None:
                state.clear()
            raise
        acc += (p[:, None, None] * m.double()).sum(0)
        done += len(m)
        if state is not None:
            state["done"] = done
        yield done, int(masks)
    seen = (acc / (int(masks) * RISE_KEEP)).float()
    if seen.shape == (h, w):
        return seen.numpy()
    out = torch.zeros(int(h), int(w), dtype=torch.float32)
    out[top:bottom, left:right] = seen
    return out.numpy()


def rise_map(classifier: Classifier, pixels: np.ndarray, explained, masks: int = RISE_MASKS, seed: int = 0,
             stop=None, progress=None, state: dict | None = None) -> np.ndarray | None:
    """RISE of the classes ``explained`` (an index, or several: their probabilities summed, a group) on
    ``pixels`` (H x W x 3 float32 in [0, 1]); H x W float32 >= 0, or ``None`` when ``stop()`` (polled before
    each model call) said stop. ``progress(done, masks)`` is called after each model call. Raises
    :class:`ModelError` for a class out of range or non-finite model outputs. ``state``: see :func:`rise_steps`."""
    steps = rise_steps(classifier, pixels, explained, masks, seed, stop, state)
    while True:
        try:
            done, total = next(steps)
        except StopIteration as end:
            return end.value
        if progress is not None:
            progress(done, total)
