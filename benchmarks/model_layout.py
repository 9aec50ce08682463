"""The default model's speed on CPU: how its weights are laid out and how its convolutions pad.

    python benchmarks/model_layout.py [--threads 2] [--rounds 8] [--photos 4]

Side by side in one run, interleaved round by round (this machine is noisy; the ratios are what count):

* **before**: weights N x C x H x W (PyTorch's default) and every "same"-padded convolution copying its
  input into a padded tensor first (``F.pad``);
* **layout**: channels-last weights only;
* **folded**: channels-last weights, the symmetric paddings (every stride-1 convolution) done by the
  convolution itself, and each batch norm folded into the convolution before it (cached folded weights);
* **now**: as *folded*, and each 1x1 convolution one matrix product over the channels (``F.linear`` on the
  channels-last tensor), and without autograd ReLU6 clamping in place
  (``core/models/efficientnet_lite.py``, ``core/models/registry.py``).

For each: a gradient evaluation (forward + backward to the input) and a forward pass at 224 x 224, and one
whole default explanation per photo. Prints medians and the paired median ratio to *before*, and the largest
logit difference (the three compute the same function up to float rounding).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.photos import benchmark_photos, to_input  # noqa: E402
from gradflip_desktop.core.models.efficientnet_lite import (  # noqa: E402
    Conv2dSame, EfficientNetLite0, MBConvBlock, folded,
)


class PadCopyConv(Conv2dSame):
    """The convolution as it was: always pads by copying the input (F.pad), then convolves unpadded."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad_h, pad_w = self.pads(x)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def conv_bn_separate(conv, bn, x: torch.Tensor) -> torch.Tensor:
    """The convolution and its batch norm as they were at first: two layers."""
    return bn(conv(x))


def conv_bn_folded(conv, bn, x: torch.Tensor) -> torch.Tensor:
    """The folded convolution as it was before the matrix product: a convolution for every kernel."""
    return conv.same(x, *folded(conv, bn))


class PlainBlock(MBConvBlock):
    """The block with ReLU6 never in place and each convolution + batch norm run by ``conv_bn`` (a variant's)."""

    conv_bn = staticmethod(conv_bn_separate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand:
            y = F.relu6(self.conv_bn(self._expand_conv, self._bn0, y))
        y = F.relu6(self.conv_bn(self._depthwise_conv, self._bn1, y))
        y = self.conv_bn(self._project_conv, self._bn2, y)
        return y + x if self.residual else y


class PlainNet(EfficientNetLite0):
    conv_bn = staticmethod(conv_bn_separate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self.conv_bn(self._conv_stem, self._bn0, x))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self.conv_bn(self._conv_head, self._bn1, x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self._fc(self._dropout(x))


class SeparateBlock(PlainBlock):
    """The block as it was: each batch norm a separate layer after its convolution."""


class SeparateNet(PlainNet):
    pass


class FoldedBlock(PlainBlock):
    conv_bn = staticmethod(conv_bn_folded)


class FoldedNet(PlainNet):
    conv_bn = staticmethod(conv_bn_folded)


def retype(module, classes: dict) -> None:
    """Give each layer of exactly a class in ``classes`` the class it maps to (same weights, other forward)."""
    for m in module.modules():
        if type(m) in classes:
            m.__class__ = classes[type(m)]


def as_folded(module) -> None:
    retype(module, {MBConvBlock: FoldedBlock, EfficientNetLite0: FoldedNet})


def as_before(module) -> None:
    """Turn the model's layers back into what they were: pad copies and separate batch norms."""
    retype(module, {Conv2dSame: PadCopyConv, MBConvBlock: SeparateBlock, EfficientNetLite0: SeparateNet})


def variants(clf):
    """(name, classifier) for before / layout / folded / now; the classifiers share nothing but the weights' values."""
    now = clf
    fold = copy.copy(clf)
    fold.module = copy.deepcopy(clf.module)
    as_folded(fold.module)
    layout = copy.copy(clf)
    layout.module = copy.deepcopy(clf.module)
    before = copy.copy(clf)
    before.module = copy.deepcopy(clf.module).to(memory_format=torch.contiguous_format)
    as_before(before.module)
    as_before(layout.module)
    return [("before", before), ("layout", layout), ("folded", fold), ("now", now)]


def gradient_ms(module, x, k: int) -> float:
    t = time.perf_counter()
    for _ in range(k):
        xg = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(module(xg)[0].max(), xg)
    return (time.perf_counter() - t) / k * 1000.0


def forward_ms(module, x, k: int) -> float:
    t = time.perf_counter()
    with torch.no_grad():
        for _ in range(k):
            module(x)
    return (time.perf_counter() - t) / k * 1000.0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=8, help="interleaved rounds of 5 evaluations each")
    ap.add_argument("--photos", type=int, default=4, help="photos for the whole-explanation timing (0: skip)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.options import ExplainOptions

    vs = variants(load_default_model())
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = vs[0][1].module(x)
        diff = max(float((c.module(x) - ref).abs().max()) for _, c in vs[1:])
    times: dict[str, dict[str, list[float]]] = {n: {"grad": [], "fwd": [], "run": []} for n, _ in vs}
    for n, c in vs:  # warm-up
        gradient_ms(c.module, x, 2)
    for _ in range(args.rounds):
        for n, c in vs:
            times[n]["grad"].append(gradient_ms(c.module, x, 5))
            times[n]["fwd"].append(forward_ms(c.module, x, 5))
    for _, img in benchmark_photos(args.photos) if args.photos else []:
        xi = to_input(img, 224)
        for n, c in vs:
            t = time.perf_counter()
            run(c, xi, ExplainOptions())
            times[n]["run"].append(time.perf_counter() - t)
    print(f"threads {args.threads}, {args.rounds} rounds, {args.photos} photos; largest logit difference {diff:.2e}")
    print(f"{'variant':8} {'gradient ms':>12} {'ratio':>6} {'forward ms':>11} {'ratio':>6} {'explain s':>10} {'ratio':>6}")
    for n, _ in vs:
        cells = []
        for key in ("grad", "fwd", "run"):
            v, b = times[n][key], times["before"][key]
            if not v:
                cells += ["-", "-"]
                continue
            ratio = statistics.median(a / c for a, c in zip(v, b))
            cells += [f"{statistics.median(v):.1f}" if key != "run" else f"{statistics.median(v):.2f}", f"{ratio:.2f}"]
        print(f"{n:8} {cells[0]:>12} {cells[1]:>6} {cells[2]:>11} {cells[3]:>6} {cells[4]:>10} {cells[5]:>6}")


if __name__ == "__main__":
    main()
