"""core/models/efficientnet_lite.py: TensorFlow "same" padding without copies, and the default model's layout."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gradflip_desktop.core.models.efficientnet_lite import Conv2dSame


def _same_by_copy(conv: Conv2dSame, x: torch.Tensor) -> torch.Tensor:
    """TF "SAME": output ceil(in / stride), total padding split with the odd pixel at the end."""
    ih, iw = x.shape[-2:]
    kh, kw = conv.weight.shape[-2:]
    sh, sw = conv.stride
    ph = max((-(-ih // sh) - 1) * sh + kh - ih, 0)
    pw = max((-(-iw // sw) - 1) * sw + kw - iw, 0)
    return F.conv2d(F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2]), conv.weight, conv.bias, conv.stride,
                    0, 1, conv.groups)


@pytest.mark.parametrize("kernel,stride,groups", [(3, 1, 1), (5, 1, 4), (3, 2, 1), (5, 2, 4), (1, 1, 1)])
@pytest.mark.parametrize("size", [(9, 9), (10, 7), (224, 224), (17, 32)])
def test_same_padding_matches_the_padded_copy(kernel, stride, groups, size):
    torch.manual_seed(0)
    conv = Conv2dSame(4, 8, kernel, stride=stride, groups=groups, bias=True)
    x = torch.randn(2, 4, *size)
    y = conv(x)
    assert y.shape[-2:] == (-(-size[0] // stride), -(-size[1] // stride))
    torch.testing.assert_close(y, _same_by_copy(conv, x), rtol=1e-5, atol=1e-5)
    # and with channels-last weights and inputs (the default model's layout)
    conv_cl = conv.to(memory_format=torch.channels_last)
    torch.testing.assert_close(conv_cl(x.contiguous(memory_format=torch.channels_last)), y, rtol=1e-5, atol=1e-5)


def test_the_default_model_is_channels_last_and_gives_the_same_logits_as_the_plain_layout():
    from gradflip_desktop.core.models import load_default_model

    module = load_default_model().module
    convs = [m for m in module.modules() if isinstance(m, Conv2dSame)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    plain = __import__("copy").deepcopy(module).to(memory_format=torch.contiguous_format)
    assert all(c.weight.is_contiguous() for c in plain.modules() if isinstance(c, Conv2dSame))
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(module(x), plain(x), rtol=1e-4, atol=1e-4)


def _separate(module):
    """The same network with every batch norm run as its own layer (a no-op hook forces that path)."""
    from torch import nn

    handles = [m.register_forward_hook(lambda *_: None) for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    return handles


def test_folded_batch_norms_give_the_same_logits_and_gradients_and_follow_weight_changes():
    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.models.efficientnet_lite import EfficientNetLite0

    net = load_default_model().module.net
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(2)) * 2 - 1

    def logits_and_grad():
        xg = x.clone().requires_grad_(True)
        z = net(xg)
        (g,) = torch.autograd.grad(z[:, 3].sum(), xg)
        return z.detach(), g

    z_fold, g_fold = logits_and_grad()
    assert any("_folded" in bn.__dict__ for bn in net.modules() if isinstance(bn, torch.nn.BatchNorm2d))
    handles = _separate(net)
    z_sep, g_sep = logits_and_grad()
    for h in handles:
        h.remove()
    torch.testing.assert_close(z_fold, z_sep, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(g_fold, g_sep, rtol=1e-3, atol=1e-5)
    # re-initialising a layer in place (as the sanity benchmark does) is seen: no stale folded weights
    with torch.no_grad():
        net._blocks[3]._bn1.running_var.mul_(4.0)
        net._blocks[5]._depthwise_conv.weight.mul_(-1.0)
    z_changed, _ = logits_and_grad()
    handles = _separate(net)
    z_changed_sep, _ = logits_and_grad()
    for h in handles:
        h.remove()
    assert not torch.allclose(z_changed, z_fold, atol=1e-3)
    torch.testing.assert_close(z_changed, z_changed_sep, rtol=1e-4, atol=1e-4)
    # in training mode the batch norms use the batch's statistics, not the folded running ones
    fresh = EfficientNetLite0(num_classes=10).train()
    y = fresh(x)
    assert not any("_folded" in bn.__dict__ for bn in fresh.modules() if isinstance(bn, torch.nn.BatchNorm2d))
    assert y.shape == (2, 10)


def test_pointwise_convolutions_as_matrix_products_and_in_place_relu6_change_nothing(monkeypatch):
    """The 1x1 convolutions of a channels-last CPU tensor run as one matrix product each and, without
    autograd, ReLU6 clamps in place: logits and input gradients are those of plain convolutions."""
    from gradflip_desktop.core.models import efficientnet_lite as lite
    from gradflip_desktop.core.models import load_default_model

    net = load_default_model().module.net
    x = (torch.rand(2, 3, 96, 80, generator=torch.Generator().manual_seed(3)) * 2 - 1).contiguous(
        memory_format=torch.channels_last
    )
    taken = []
    real = lite.pointwise
    monkeypatch.setattr(lite, "pointwise", lambda conv, t: taken.append(real(conv, t)) or taken[-1])

    def logits_and_grad():
        xg = x.clone().requires_grad_(True)
        z = net(xg)
        (g,) = torch.autograd.grad(z[:, 7].sum() - z[:, 2].sum(), xg)
        with torch.no_grad():
            z_plain = net(x)
        return z.detach(), g, z_plain

    z_mm, g_mm, z_mm_nograd = logits_and_grad()
    # every expand, project and head convolution (1x1) took the matrix product; the 3x3/5x5 ones did not
    n_pointwise = sum(1 for m in net.modules() if isinstance(m, Conv2dSame) and m.kernel_size == (1, 1))
    assert taken.count(True) == 2 * n_pointwise and taken.count(False) > 0
    monkeypatch.setattr(lite, "pointwise", lambda conv, t: False)
    z_conv, g_conv, z_conv_nograd = logits_and_grad()
    torch.testing.assert_close(z_mm, z_conv, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(g_mm, g_conv, rtol=1e-3, atol=1e-5)
    # without autograd (ReLU6 in place) the logits are those with autograd, to float rounding
    torch.testing.assert_close(z_mm_nograd, z_mm, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(z_conv_nograd, z_conv, rtol=1e-5, atol=1e-5)
    # a batch norm's own layer (hooked, as Grad-CAM hooks a layer) keeps its output: nothing clamps it in place
    seen = []
    h = net._blocks[4]._bn0.register_forward_hook(lambda m, i, o: seen.append(o.clone()) or None)
    outs = []
    h2 = net._blocks[4]._bn0.register_forward_hook(lambda m, i, o: outs.append(o))
    with torch.no_grad():
        net(x)
    h.remove(), h2.remove()
    torch.testing.assert_close(outs[0], seen[0])
    assert float(seen[0].min()) < 0.0  # the batch norm's output before ReLU6, not clamped afterwards


def test_a_first_call_in_inference_mode_leaves_the_model_differentiable():
    """The folded batch norms are cached on the first call: made inside ``torch.inference_mode`` (a classification
    there, a common idiom) they were inference tensors, and every later gradient failed ("Inference tensors cannot
    be saved for backward": each explanation ended as model_error, Grad-CAM raised)."""
    from gradflip_desktop.core.models import load_default_model

    net = load_default_model().module.net
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(3)).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        z_inf = net(x)
    xg = x.clone().requires_grad_(True)
    z = net(xg)
    (g,) = torch.autograd.grad(z[:, 3].sum(), xg)
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    torch.testing.assert_close(z.detach(), z_inf)


def test_a_hook_of_another_thread_leaves_this_threads_pass_on_the_folded_layers():
    """Two runs at once sharing the model: one's feature-group probe hooked every layer, and the other's passes then
    left the folded layers (a hooked layer is computed unfolded), which moved its answer in the last bits on half of
    the tries (a library user's check, 2026-12-07). A hook marked ``thread_owned`` counts only in its own thread; an
    unmarked hook (Grad-CAM's, a user's) still unfolds every thread's pass."""
    import threading

    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.models.efficientnet_lite import thread_owned

    net = load_default_model().module.net
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.no_grad():
        alone = net(x)
    layers = [m for m in net.modules() if m is not net]
    marked = []
    ready, done = threading.Event(), threading.Event()

    def other():  # hooks every layer from another thread, as the probe does, and holds them
        marked.extend(m.register_forward_hook(thread_owned(lambda m_, i, o: None)) for m in layers)
        ready.set()
        done.wait(60)

    t = threading.Thread(target=other)
    t.start()
    ready.wait(60)
    try:
        with torch.no_grad():
            beside = net(x)
        plain = [m.register_forward_hook(lambda m_, i, o: None) for m in layers[:3]]  # an unmarked hook: unfolded
        with torch.no_grad():
            unfolded = net(x)
        for h in plain:
            h.remove()
    finally:
        done.set()
        t.join()
        for h in marked:
            h.remove()
    assert torch.equal(beside, alone)  # the folded layers, bit for bit
    assert not torch.equal(unfolded, alone) and torch.allclose(unfolded, alone, atol=1e-4)
