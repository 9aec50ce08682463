"""Saliency and Grad-CAM in core, checked against captum (a benchmark dependency used only here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum import attr as captum_attr  # reference implementation (needs captum in the test extra)
from torch import nn

from gradflip_desktop.core.attributions import feature_layer, gradcam_map, heat_overlay, saliency_map
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing

from helpers import make_tiny



def _x(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None].clone().requires_grad_(True)


def _captum_gradcam(clf: Classifier, pixels: np.ndarray, target: int, layer: nn.Module) -> np.ndarray:
    gc = captum_attr.LayerGradCam(clf.module, layer)
    a = gc.attribute(_x(pixels), target=target, relu_attributions=True)
    up = captum_attr.LayerAttribution.interpolate(a, pixels.shape[:2], "bilinear")
    return up[0, 0].detach().numpy()


@pytest.mark.parametrize("target", [0, 2])
def test_saliency_matches_captum_on_the_tiny_model(tiny, tiny_image, target):
    ours = saliency_map(tiny, tiny_image, target)
    ref = captum_attr.Saliency(tiny.module).attribute(_x(tiny_image), target=target, abs=True).sum(1)[0].numpy()
    assert ours.shape == tiny_image.shape[:2] and ours.dtype == np.float32
    assert ours.max() > 0
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("target", [1, 3])
def test_gradcam_matches_captum_on_the_tiny_model(tiny, tiny_image, target):
    name, layer = feature_layer(tiny.module)
    assert name == "net.conv" and layer is tiny.module.net.conv
    ours = gradcam_map(tiny, tiny_image, target)
    ref = _captum_gradcam(tiny, tiny_image, target, layer)
    assert ours.shape == tiny_image.shape[:2] and ours.dtype == np.float32
    assert (ours >= 0).all()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
    # by name gives the same map; another class gives another map
    np.testing.assert_array_equal(gradcam_map(tiny, tiny_image, target, layer="net.conv"), ours)


def test_gradcam_differs_between_classes(tiny, tiny_image):
    a = gradcam_map(tiny, tiny_image, 0)
    b = gradcam_map(tiny, tiny_image, 1)
    assert not np.allclose(a, b)


def test_gradcam_is_not_changed_by_inplace_operations_after_the_layer(tiny_image):
    class InplaceNet(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.conv = nn.Conv2d(3, 5, 3, padding=1)
            self.bn = nn.BatchNorm2d(5)
            self.fc = nn.Linear(5, 3)

        def forward(self, x):
            y = self.bn(self.conv(x))
            y += 0.5  # in place on the hooked output
            return self.fc(torch.relu_(y).mean((2, 3)))

    net = InplaceNet().eval()
    pre = Preprocessing(input_size=(16, 16), mean=(0.5,), std=(0.25,))
    clf = Classifier(PixelSpaceModel(net, pre).eval(), ["a", "b", "c"], "inplace", preprocessing=pre)
    assert feature_layer(clf.module)[1] is net.bn
    ours = gradcam_map(clf, tiny_image, 2)
    ref = _captum_gradcam(clf, tiny_image, 2, net.bn)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)


def test_gradcam_without_a_conv_layer_is_a_clear_error(tiny_image):
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3 * 8 * 8, 2)

        def forward(self, x):
            return self.fc(x.flatten(1))

    pre = Preprocessing(input_size=(8, 8))
    clf = Classifier(PixelSpaceModel(Flat(), pre).eval(), ["a", "b"], "flat", preprocessing=pre)
    with pytest.raises(ModelError, match="no Conv2d"):
        gradcam_map(clf, tiny_image, 0)
    # saliency needs no layer
    assert saliency_map(clf, tiny_image, 1).shape == tiny_image.shape[:2]


def test_gradcam_of_torchscript_is_a_clear_error(tiny_image):
    tiny = make_tiny()
    scripted = torch.jit.script(tiny.module.net)
    clf = Classifier(PixelSpaceModel(scripted, tiny.preprocessing).eval(), tiny.labels, "ts", preprocessing=tiny.preprocessing)
    with pytest.raises(ModelError, match="TorchScript"):
        gradcam_map(clf, tiny_image, 0)


def test_bad_target_and_layer_name(tiny, tiny_image):
    with pytest.raises(ModelError, match="out of range"):
        saliency_map(tiny, tiny_image, 4)
    with pytest.raises(ModelError, match="no layer named"):
        gradcam_map(tiny, tiny_image, 0, layer="net.nope")


def test_heat_overlay_shows_the_map():
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 1, (20, 30, 3)).astype(np.float32)
    values = np.zeros((20, 30), np.float32)
    values[5:10, 5:10] = 1.0
    out = heat_overlay(img, values)
    assert out.shape == img.shape and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    gray = 0.25 + 0.5 * (img @ np.array([0.299, 0.587, 0.114], np.float32))
    np.testing.assert_allclose(out[0, 0], gray[0, 0], atol=1e-6)  # no heat: the dimmed photo
    assert not np.allclose(out[7, 7], gray[7, 7])
    assert np.isfinite(heat_overlay(img, np.full((20, 30), np.nan, np.float32))).all()


def test_default_model_gradcam_and_saliency_match_captum(default_classifier):
    clf = default_classifier
    rng = np.random.default_rng(3)
    pixels = np.kron(rng.uniform(0.2, 0.8, (12, 16, 3)), np.ones((8, 8, 1))).astype(np.float32)  # 96 x 128
    target = int(np.argmax(clf.probabilities(pixels)))
    name, layer = feature_layer(clf.module)
    assert name == "net._bn1" and layer is clf.module.net._bn1
    ours = gradcam_map(clf, pixels, target)
    ref = _captum_gradcam(clf, pixels, target, clf.module.net._bn1)
    assert ours.shape == (96, 128) and ours.max() > 0
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6 * float(ref.max()))
    sal = saliency_map(clf, pixels, target)
    ref_sal = captum_attr.Saliency(clf.module).attribute(_x(pixels), target=target).sum(1)[0].numpy()
    np.testing.assert_allclose(sal, ref_sal, rtol=1e-4, atol=1e-6 * float(ref_sal.max()))


@pytest.fixture(scope="module")
def default_classifier():
    from gradflip_desktop.core.models import load_default_model

    return load_default_model()


# ---- RISE ----------------------------------------------------------------------------------------------

class BrightRegion(nn.Module):
    """Class 0's logit grows with the brightness of one region, class 1's is a constant: RISE's black
    fill-in takes the class away exactly where the region is masked."""

    def __init__(self, region: tuple[slice, slice]):
        super().__init__()
        self.region = region

    def forward(self, x):
        b = x[:, :, self.region[0], self.region[1]].mean((1, 2, 3))
        return torch.stack([30.0 * (b - 0.3), torch.zeros_like(b)], 1)


def _bright_region_classifier(h: int, w: int, region) -> Classifier:
    pre = Preprocessing(input_size=(h, w), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    return Classifier(module=PixelSpaceModel(BrightRegion(region), pre).eval(), labels=["bright", "dark"],
                      name="bright", groups={}, preprocessing=pre)


def test_rise_finds_the_only_region_the_model_looks_at():
    from gradflip_desktop.core.attributions import rise_map

    h, w, region = 48, 80, (slice(8, 24), slice(48, 72))  # a 16 x 24 px region, 10 % of a wide photo
    clf = _bright_region_classifier(h, w, region)
    photo = np.random.default_rng(0).uniform(0.4, 0.9, size=(h, w, 3)).astype(np.float32)
    m = rise_map(clf, photo, 0, masks=400)
    assert m.shape == (h, w) and m.dtype == np.float32 and np.isfinite(m).all() and m.min() >= 0
    inside = np.zeros((h, w), bool)
    inside[region] = True
    top = m >= np.sort(m.ravel())[-inside.sum()]  # the map's top pixels, as many as the region has
    assert (top & inside).sum() / inside.sum() >= 0.8
    assert m[inside].mean() - m[~inside].mean() > 0.08  # in probability units: masking the region costs the class
    # the same seed gives the same map; another seed another (noisier) estimate of it
    assert np.array_equal(m, rise_map(clf, photo, 0, masks=400))
    other = rise_map(clf, photo, 0, masks=400, seed=1)
    assert not np.array_equal(m, other) and np.corrcoef(m.ravel(), other.ravel())[0, 1] > 0.8


def test_rise_of_a_group_sums_its_probabilities_and_reports_progress(tiny, tiny_image):
    from gradflip_desktop.core.attributions import rise_map

    seen = []
    group = rise_map(tiny, tiny_image, [0, 1], masks=24, progress=lambda done, total: seen.append((done, total)))
    one, two = rise_map(tiny, tiny_image, 0, masks=24), rise_map(tiny, tiny_image, 1, masks=24)
    np.testing.assert_allclose(group, one + two, rtol=1e-5, atol=1e-6)
    assert seen and seen[-1] == (24, 24) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_rise_stops_when_asked_and_refuses_bad_input(tiny, tiny_image):
    from gradflip_desktop.core.attributions import rise_map

    calls = []
    assert rise_map(tiny, tiny_image, 0, masks=10, stop=lambda: calls.append(1) or True) is None and calls == [1]
    with pytest.raises(ModelError):
        rise_map(tiny, tiny_image, tiny.num_classes, masks=4)
    with pytest.raises(ValueError):
        rise_map(tiny, tiny_image, 0, masks=0)


def test_a_stopped_rise_goes_on_from_where_it_stopped_with_its_state(tiny, tiny_image, monkeypatch):
    """The app stops RISE for a key-set answer or a model load and starts it again: with its state it goes on
    (it used to start again from mask 0 at every slider move) and makes the same map as one run."""
    from gradflip_desktop.core import attributions

    monkeypatch.setattr(attributions, "RISE_BATCH_VALUES", 4 * tiny_image.size)  # 4 masks per model call
    whole = attributions.rise_map(tiny, tiny_image, 0, masks=40)
    state, calls = {}, []
    assert attributions.rise_map(tiny, tiny_image, 0, masks=40, state=state,
                                 stop=lambda: calls.append(1) or len(calls) > 2) is None
    stopped_at = state["done"]
    assert 0 < stopped_at < 40
    seen = []
    resumed = attributions.rise_map(tiny, tiny_image, 0, masks=40, state=state,
                                    progress=lambda done, total: seen.append(done))
    assert seen[0] > stopped_at  # not from mask 0
    np.testing.assert_allclose(resumed, whole, rtol=1e-6, atol=1e-7)
    # another class (or image, or mask count) does not take that state: a map of its own
    np.testing.assert_allclose(attributions.rise_map(tiny, tiny_image, 1, masks=40, state=state),
                               attributions.rise_map(tiny, tiny_image, 1, masks=40), rtol=1e-6, atol=1e-7)


def test_rise_of_a_network_that_takes_one_image_at_a_time_is_made_image_by_image(tiny, tiny_image):
    # an export with its batch fixed at 1 (torch.onnx's dynamo exporter) fails on a batch of masked images
    from dataclasses import replace

    from gradflip_desktop.core.attributions import batch_scores, rise_map

    class OneAtATime(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return self.net(x.reshape(1, *x.shape[1:]))

    one = OneAtATime(tiny.module)
    assert np.allclose(rise_map(replace(tiny, module=one), tiny_image, 0, masks=24),
                       rise_map(tiny, tiny_image, 0, masks=24), atol=1e-6)
    calls = one.calls
    batch_scores(one, torch.rand(3, 3, 16, 16))
    assert one.calls == calls + 3, "the batch is not tried again once it failed"


def test_running_out_of_memory_once_does_not_make_a_network_one_at_a_time(tiny):
    """A one-off out-of-memory error on a batch made every later check of that network image by image."""
    from gradflip_desktop.core.attributions import batch_scores

    class OutOfMemoryOnce(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net, self.batches, self.fail = net, 0, True

        def forward(self, x):
            if len(x) > 1:
                self.batches += 1
                if self.fail:
                    self.fail = False
                    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return self.net(x)

    net = OutOfMemoryOnce(tiny.module)
    x = torch.rand(3, 3, 16, 16)
    first = batch_scores(net, x)  # image by image this time
    assert net.batches == 1 and torch.allclose(first, tiny.module(x), atol=1e-6)
    assert torch.allclose(batch_scores(net, x), first, atol=1e-6) and net.batches == 2  # the batch is tried again


def test_a_genuine_fault_is_raised_and_not_remembered_as_one_at_a_time(tiny):
    from gradflip_desktop.core.attributions import batch_scores

    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def forward(self, x):
            self.batches += len(x) > 1
            raise ValueError("weights are corrupt")

    broken = Broken()
    for _ in range(2):
        with pytest.raises(ValueError, match="corrupt"):
            batch_scores(broken, torch.rand(2, 3, 16, 16))
    assert broken.batches == 2


def test_a_map_of_nan_is_a_model_error_not_a_map():
    """A model whose scores go NaN gave Grad-CAM and saliency maps of NaN, returned as maps: the check then refused
    every map of the photo with them (the app's Compare, gradflip check). Like RISE's, they now say so."""
    clf = make_tiny(seed=1)
    pixels = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    clf.module.register_forward_hook(lambda m, i, out: out * float("nan"))
    with pytest.raises(ModelError, match="saliency map holds values that are not finite"):
        saliency_map(clf, pixels, 0)
    with pytest.raises(ModelError, match="Grad-CAM map holds values that are not finite"):
        gradcam_map(clf, pixels, 0)


def test_swin_v2s_attention_is_an_attention_layer_and_gradcam_reads_its_last_norm():
    """torchvision's ShiftedWindowAttentionV2 was not taken for attention (only "...Attention" was): Grad-CAM took Swin
    V2's patch embedding (`features.0.0`) where Swin-T takes its last block's norm; a block named "...AttentionBlock"
    still is not an attention layer."""
    import torchvision

    from gradflip_desktop.core.attributions import is_attention

    torch.manual_seed(0)
    net = torchvision.models.swin_v2_t(num_classes=4).eval()
    assert feature_layer(net)[0] == "features.7.1.norm1"
    pre = Preprocessing(input_size=(64, 64), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    clf = Classifier(module=PixelSpaceModel(net, pre).eval(), labels=list("abcd"), name="swin v2", groups={},
                     preprocessing=pre)
    cam = gradcam_map(clf, np.random.default_rng(0).uniform(0, 1, (64, 64, 3)).astype(np.float32), 0)
    assert cam.shape == (64, 64) and np.isfinite(cam).all()
    assert not is_attention(type("ClassAttentionBlock", (nn.Module,), {})())
    assert is_attention(type("WindowAttention", (nn.Module,), {})()) and is_attention(nn.MultiheadAttention(8, 2))


def test_the_token_layer_of_a_hugging_face_layout_is_the_last_layers_layernorm_before():
    """Hugging Face declares a layer's norms after its attention, and transformers 4 nests the self-attention one level
    deeper (layer.N.attention.attention): in declaration order the norm before the last attention was the previous
    layer's layernorm_after, whose tokens that attention mixes before they reach the class token."""
    from torch import nn

    from gradflip_desktop.core.attributions import token_layer

    class ViTSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(8, 8)

    class ViTAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention, self.output = ViTSelfAttention(), nn.Linear(8, 8)

    class ViTLayer(nn.Module):
        def __init__(self, nested: bool):
            super().__init__()
            self.attention = ViTAttention() if nested else ViTSelfAttention()
            self.intermediate, self.output = nn.Linear(8, 16), nn.Linear(16, 8)
            self.layernorm_before, self.layernorm_after = nn.LayerNorm(8), nn.LayerNorm(8)

    for nested in (True, False):  # transformers 4, 5
        model = nn.Module()
        model.layer = nn.ModuleList([ViTLayer(nested), ViTLayer(nested)])
        name, layer = token_layer(model)
        assert name == "layer.1.layernorm_before" and layer is model.layer[1].layernorm_before


def test_the_token_layer_of_a_clip_layout_is_the_last_layers_first_norm():
    """Hugging Face CLIP and SigLIP layers declare self_attn, layer_norm1, mlp, layer_norm2 (OpenAI's CLIP: attn, ln_1,
    mlp, ln_2): no norm is named "before", and in declaration order the norm before the last attention was the previous
    layer's layer_norm2. The first norm of the last layer runs before its attention."""
    from torch import nn

    from gradflip_desktop.core.attributions import token_layer

    class CLIPAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj = nn.Linear(8, 8)

    class Layer(nn.Module):
        def __init__(self, first: str, second: str):
            super().__init__()
            self.self_attn = CLIPAttention()
            setattr(self, first, nn.LayerNorm(8))
            self.mlp = nn.Linear(8, 8)
            setattr(self, second, nn.LayerNorm(8))

    for first, second in (("layer_norm1", "layer_norm2"), ("ln_1", "ln_2"), ("norm1", "norm2")):
        model = nn.Module()
        model.layers = nn.ModuleList([Layer(first, second), Layer(first, second)])
        name, layer = token_layer(model)
        assert name == f"layers.1.{first}" and layer is getattr(model.layers[1], first), name


def test_gradcam_of_a_cropping_model_lies_in_the_part_it_sees():
    """A ViT or ConvNeXt loaded with its centre crop: Grad-CAM's grid covers the crop, but it was stretched over the
    whole photo, 45 % of its weight on sides the model never sees (saliency is zero there), and the comparison
    scored that map. Now it is placed on the crop and zero outside; a squashing model's map is unchanged."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    pre = Preprocessing(input_size=(16, 16), resize="center-crop", mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(module=PixelSpaceModel(net, pre).eval(), labels=["a", "b", "c"], name="cropping", preprocessing=pre)
    photo = np.random.default_rng(2).uniform(0, 1, (20, 60, 3)).astype(np.float32)  # 3:1, the crop its centre third
    target = int(np.argmax(clf.probabilities(photo)))
    cam = gradcam_map(clf, photo, target, layer=net[0])
    sal = saliency_map(clf, photo, target)
    assert cam.shape == (20, 60) and cam.max() > 0
    seen = sal > 0
    cols = np.flatnonzero(seen.any(axis=0))
    assert cols[0] >= 15 and cols[-1] <= 44  # the crop: the centre 20 of the 60 columns, and its resize's reach
    assert np.all(cam[:, :cols[0] - 1] == 0) and np.all(cam[:, cols[-1] + 2:] == 0)  # nothing where the model never looks
    assert cam[:, 20:40].sum() > 0.95 * cam.sum()
    thin = np.random.default_rng(3).uniform(0, 1, (1, 300, 3)).astype(np.float32)  # a crop under one pixel wide
    lines = [gradcam_map(clf, thin, t, layer=net[0]) for t in range(3)]
    assert any(line.max() > 0 for line in lines)  # (one class's map at least is not all zero)
    for line in lines:  # it was stretched over all 300 columns
        assert line.shape == (1, 300) and np.count_nonzero(line) <= 2 and line[0, 145:155].sum() == line.sum()
    flat = Preprocessing(input_size=(16, 16), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    squash = Classifier(module=PixelSpaceModel(net, flat).eval(), labels=["a", "b", "c"], name="squash", preprocessing=flat)
    assert (gradcam_map(squash, photo, target, layer=net[0])[:, :5] > 0).any()  # a squashed photo is seen whole


def test_rise_of_a_cropping_model_is_zero_where_it_never_looks():
    """RISE masked the whole photo of a centre-cropping model: outside the crop the masks change nothing the model
    sees, and the map there was the class's mean probability, a bright frame on the sides in Compare and in
    `gradflip check --rise`. The masks now cover the crop, the map is zero outside it; a squashed photo's map is
    the one it was (same seed, same masks)."""
    from gradflip_desktop.core.attributions import rise_map, rise_masks

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    pre = Preprocessing(input_size=(16, 16), resize="center-crop", mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(module=PixelSpaceModel(net, pre).eval(), labels=["a", "b", "c"], name="cropping", preprocessing=pre)
    photo = np.random.default_rng(2).uniform(0, 1, (20, 60, 3)).astype(np.float32)  # the crop: the centre 20 columns
    m = rise_map(clf, photo, 0, masks=40)
    assert m.shape == (20, 60) and np.isfinite(m).all()
    assert np.all(m[:, :20] == 0) and np.all(m[:, 40:] == 0) and m[:, 20:40].min() > 0
    flat = Preprocessing(input_size=(16, 16), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    squash = Classifier(module=PixelSpaceModel(net, flat).eval(), labels=["a", "b", "c"], name="squash", preprocessing=flat)
    whole = rise_map(squash, photo, 0, masks=40)
    masks = rise_masks(20, 60, 40, torch.Generator().manual_seed(0))
    with torch.no_grad():
        p = torch.softmax(squash.module(torch.from_numpy(photo).permute(2, 0, 1)[None] * masks[:, None]), 1)[:, 0]
    expected = (p.double()[:, None, None] * masks.double()).sum(0) / (40 * 0.5)
    np.testing.assert_allclose(whole, expected.float().numpy(), rtol=1e-4, atol=1e-6)  # RISE's own sum, every pixel


def test_rise_on_a_photo_smaller_than_the_input_reports_progress_as_often_as_on_a_larger_one(tiny, monkeypatch):
    """A 40 px photo for a 224 px network: the masks per model call were counted at the photo's size (501 of them,
    each enlarged to 224 px), so Compare's RISE caption said "computing" for ~30 s between two reports. A call now
    holds as many masks as fit at the size the network computes on."""
    from gradflip_desktop.core import attributions

    ih, iw = tiny.preprocessing.input_size
    monkeypatch.setattr(attributions, "RISE_BATCH_VALUES", 4 * 3 * ih * iw)  # 4 masks per call at the input's size
    small = np.random.default_rng(0).uniform(0, 1, (ih // 4, iw // 4, 3)).astype(np.float32)
    seen = []
    attributions.rise_map(tiny, small, 0, masks=12, progress=lambda done, total: seen.append(done))
    assert seen == [4, 8, 12], seen  # it was one call of 12 (64 per call at the photo's size)
    large = np.random.default_rng(0).uniform(0, 1, (ih * 2, iw * 2, 3)).astype(np.float32)
    seen.clear()
    attributions.rise_map(tiny, large, 0, masks=3, progress=lambda done, total: seen.append(done))
    assert seen == [1, 2, 3], seen  # a photo larger than the input: its own size counts, as before


def test_pixels_that_are_not_rgb_and_maps_of_infinity_are_refused(tiny):
    from gradflip_desktop.core.attributions import _finite, no_evidence

    rgba = np.random.default_rng(0).random((16, 16, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="H x W x 3"):
        saliency_map(tiny, rgba, 0)
    with pytest.raises(ModelError, match="not finite"):  # infinity as NaN
        _finite(np.array([[0.5, np.inf]], np.float32), "saliency")
    with pytest.raises(ModelError, match="not finite"):
        _finite(np.array([[-np.inf, 0.0]], np.float32), "Grad-CAM")
    assert no_evidence(np.zeros((4, 4))) and not no_evidence(np.array([[0.0, 1e-6]]))


def test_gradcam_of_a_layer_the_network_runs_twice_reads_its_last_run():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(self.conv(torch.relu(self.conv(x))).mean((2, 3)))

    net = Twice().eval()
    pre = Preprocessing(input_size=(16, 16), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(PixelSpaceModel(net, pre).eval(), ["a", "b"], "twice", preprocessing=pre)
    photo = np.random.default_rng(1).random((16, 16, 3), dtype=np.float32)
    outs = []
    handle = net.conv.register_forward_hook(lambda m, i, out: outs.append(out))
    z = clf.module(_x(photo))[0, 1]
    handle.remove()
    (g,) = torch.autograd.grad(z, outs[-1])
    ref = torch.relu((g.mean((2, 3), keepdim=True) * outs[-1]).sum(1))[0].detach().numpy()
    assert not np.allclose(ref, 0)
    np.testing.assert_allclose(gradcam_map(clf, photo, 1, layer=net.conv), ref, rtol=1e-5, atol=1e-7)


def test_a_network_that_answers_fewer_rows_than_images_is_called_image_by_image(tiny):
    from gradflip_desktop.core.attributions import batch_scores

    class FirstOnly(nn.Module):  # a batch fixed at 1 that answers the first image of a batch and no error
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x[:1])

    one = FirstOnly(tiny.module)
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = batch_scores(one, x)
        want = torch.cat([tiny.module(x[i:i + 1]) for i in range(3)])
    assert got.shape == (3, want.shape[1]) and torch.allclose(got, want)


def test_rise_of_a_cropping_model_keeps_the_photo_outside_its_crop(monkeypatch):
    """The masks cover the crop; the rest of each masked image is the photo as it is (not black), so resizing
    before the crop reads the same pixels at its edge as on the photo."""
    from gradflip_desktop.core import attributions

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    pre = Preprocessing(input_size=(16, 16), resize="center-crop", mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(module=PixelSpaceModel(net, pre).eval(), labels=["a", "b", "c"], name="cropping", preprocessing=pre)
    photo = np.random.default_rng(2).uniform(0.2, 1, (20, 60, 3)).astype(np.float32)  # the crop: the centre 20 columns
    seen, real = [], attributions.batch_scores
    monkeypatch.setattr(attributions, "batch_scores", lambda module, x: seen.append(x) or real(module, x))
    attributions.rise_map(clf, photo, 0, masks=8)
    masked = torch.cat(seen).numpy()
    whole = torch.from_numpy(photo).permute(2, 0, 1).numpy()
    for side in (slice(0, 20), slice(40, 60)):
        np.testing.assert_array_equal(masked[:, :, :, side], np.broadcast_to(whole[:, :, side], masked[:, :, :, side].shape))
    assert (masked[:, :, :, 20:40] < whole[None, :, :, 20:40] - 1e-3).any()  # masked inside


def test_the_norm_named_before_is_taken_whatever_order_the_layer_declares_its_norms():
    from gradflip_desktop.core.attributions import token_layer

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(8, 8)

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = SelfAttention()
            self.layernorm_after, self.layernorm_before = nn.LayerNorm(8), nn.LayerNorm(8)

    model = nn.Module()
    model.layer = nn.ModuleList([Layer(), Layer()])
    name, layer = token_layer(model)
    assert name == "layer.1.layernorm_before" and layer is model.layer[1].layernorm_before
