"""benchmarks/feature_group_variants.py re-computes the shipped feature-group half before it varies it."""

from __future__ import annotations

import torch
from torch import nn

from benchmarks.feature_group_variants import group_parts, half, last_layer
from gradflip_desktop.core.explain import feature_groups as fg


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1), nn.ReLU(), nn.Conv2d(24, 24, 3, 2, 1), nn.ReLU(),
                         nn.Conv2d(24, 24, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(24, 3)).eval()


def _caught(net):
    x0 = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    fill = torch.nn.functional.avg_pool2d(x0, 9, 1, 4)
    cls = int(net(x0).argmax())
    explained = torch.zeros(3, dtype=torch.bool)
    explained[cls] = True
    return {"x0": x0, "fill": fill, "explained": explained, "box": None}


def _shipped(net, c):
    gen = fg.feature_group_map(net, c["x0"], c["fill"], c["explained"], lambda: False)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def test_the_shipped_setting_is_the_shipped_half_and_the_variants_differ():
    net = _net()
    c = _caught(net)
    shipped = _shipped(net, c)
    assert shipped is not None
    torch.testing.assert_close(half(net, c), shipped, atol=1e-4, rtol=0)  # float32 masks, float64 sums: the order differs
    for kw in ({"drop": True}, {"groups": 8}, {"layer": "last"}):
        other = half(net, c, **kw)
        assert other is not None and other.shape == shipped.shape and float((other - shipped).abs().max()) > 1e-3
    assert [n for n, m in net.named_modules() if m is last_layer(net, c["x0"])] == ["5"]  # the last 8 x 8 grid


def test_clustered_groups_split_the_channels_positive_maps():
    w = torch.randn(24, 5, 5, generator=torch.Generator().manual_seed(2))
    parts = group_parts(w, 6, "cluster")
    assert 1 <= len(parts) <= 6 and parts.shape[1:] == (5, 5)
    torch.testing.assert_close(parts.sum(0), torch.relu(w).sum(0))  # every channel in exactly one group
