"""The feature-group half of the region style's map (core/explain/feature_groups.py): which layer, what it
computes (checked against a plain re-computation), where it is skipped, and that a run with it still finds
a planted region, flips with its key region and follows the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradflip_desktop.core.explain import feature_groups as fg
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.explain.key_region import pixel_ranking
from gradflip_desktop.core.explain.mask import detail_removed
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.core.options import ExplainOptions, Status
from helpers import planted_weight, region_mask

SIZE = 64
REGION = (slice(20, 44), slice(12, 36))  # 24 x 24 px, 14 % of the image


class ConvDetail(nn.Module):
    """Class 0's logit grows with the local contrast that a strided convolution block (32 x 32) sees, pooled to
    16 x 16 and weighted by ``weight`` (where it looks); class 1's logit is a constant."""

    def __init__(self, weight: torch.Tensor, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        with torch.no_grad():
            conv.weight.copy_(torch.rand(conv.weight.shape, generator=g))
        self.block1 = nn.Sequential(conv, nn.ReLU())
        self.block2 = nn.Sequential(nn.AvgPool2d(2))
        self.register_buffer("w", F.avg_pool2d(weight[None, None], 4)[0, 0])
        self.reference = 0.0

    def energy(self, x):
        d = (x - F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)).abs()
        return (self.block2(self.block1(d)).mean(1) * self.w).sum((1, 2)) / self.w.sum()

    def forward(self, x):
        e = self.energy(x)
        return torch.stack([40.0 * (e - 0.5 * self.reference), torch.zeros_like(e)], 1)


def classifier(weight: torch.Tensor, photo: np.ndarray, seed: int = 0) -> Classifier:
    net = ConvDetail(weight, seed)
    with torch.no_grad():  # this photo's energy: the photo is class 0 with a margin
        net.reference = float(net.energy(torch.from_numpy(photo).permute(2, 0, 1)[None]))
    pre = Preprocessing(input_size=(SIZE, SIZE), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    return Classifier(module=PixelSpaceModel(net, pre).eval(), labels=["detailed", "smooth"], name="planted conv",
                      groups={}, preprocessing=pre)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.random.default_rng(3).uniform(0.15, 0.85, size=(SIZE, SIZE, 3)).astype(np.float32)


def planted() -> torch.Tensor:
    return planted_weight(SIZE, REGION)


def inside() -> np.ndarray:
    return region_mask(SIZE, REGION)


def drain(gen):
    """Run a generator to its end: (what it yielded, what it returned)."""
    out = []
    while True:
        try:
            out.append(next(gen))
        except StopIteration as done:
            return out, done.value


def half_of(*args, **kw):
    return drain(fg.feature_group_map(*args, **kw))[1]


def _names(module, layer):
    return [n for n, m in module.named_modules() if m is layer]


def test_the_layer_is_the_outermost_block_one_grid_finer_than_the_last():
    import torchvision

    net = torchvision.models.resnet18(num_classes=10).eval()
    assert _names(net, fg.group_layer(net, torch.rand(1, 3, 224, 224))) == ["layer3"]  # 14 x 14, not layer4's 7 x 7
    flat = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    # the 1 x 1 pool is not a grid; the last grid is 8 x 8, one finer 16 x 16: the ReLU after the strided conv
    assert _names(flat, fg.group_layer(flat, torch.rand(1, 3, 32, 32))) == ["3"]


def test_models_without_a_finer_grid_have_no_half(tiny, tiny_image):
    x = tiny.image_tensor(tiny_image)  # one convolution at the input's grid: nothing finer than the last grid
    assert fg.group_layer(tiny.module, x) is None
    scripted = torch.jit.trace(ConvDetail(planted()).eval(), torch.rand(1, 3, SIZE, SIZE))
    assert fg.group_layer(scripted, torch.rand(1, 3, SIZE, SIZE)) is None
    tokens = nn.Sequential(nn.Flatten(2), nn.Linear(SIZE * SIZE, 8), nn.Flatten(), nn.Linear(24, 2))  # no 4-D output
    assert fg.group_layer(tokens, torch.rand(1, 3, SIZE, SIZE)) is None
    # and a run on the tiny model is the searches' map alone, bit for bit
    res = run(tiny, tiny_image, ExplainOptions())
    assert res.region_map is not None and fg.group_layer(tiny.module, x) is None


# the half in batches of masks against one mask a pass: the same sums in another float order, and the scores are
# differences of near probabilities (p - p_fill), which keep the absolute error but not the relative one: 2e-5 held on
# Intel's AVX-512 and AMD's AVX2 VMs and failed on an AMD AVX-512 one (4.0e-5 at 70 of 4,096 pixels of a [0, 1] map)
FLOAT_ORDER = 1e-4


def _plain_half(module, layer, x0, fill, cls):
    """The half by its definition, one mask at a time."""
    saved = []
    h = layer.register_forward_hook(lambda m, i, o: saved.append(o))
    xg = x0.clone().requires_grad_(True)
    z = module(xg)
    h.remove()
    (g,) = torch.autograd.grad(z[0, cls], saved[0])
    a, g = saved[0].detach()[0], g[0]
    chans = a.shape[0]
    per = -(-chans // min(fg.GROUPS, chans))
    total = torch.zeros(x0.shape[-2:], dtype=torch.float64)
    with torch.no_grad():
        p_fill = torch.softmax(module(fill).double(), 1)[0, cls]
        for s in range(0, chans, per):
            part = torch.relu((g[s:s + per] * a[s:s + per]).sum(0))
            m = F.interpolate(part[None, None], size=x0.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
            m = (m - m.min()) / (m.max() - m.min()).clamp_min(1e-12)
            p = torch.softmax(module(x0 * m + fill * (1 - m)).double(), 1)[0, cls]
            total += (p - p_fill) * m.double()
    total = total.clamp_min(0)
    return (total / total.max()).float()


def test_the_half_is_the_score_weighted_sum_of_the_group_masks(photo, monkeypatch):
    clf = classifier(planted(), photo)
    x0 = clf.image_tensor(photo)
    fill = detail_removed(x0)
    layer = fg.group_layer(clf.module, x0)
    assert _names(clf.module, layer) == ["net.block1"]
    cls = torch.tensor([True, False])
    counts = []
    passes, half = drain(fg.feature_group_map(clf.module, x0, fill, cls, lambda: False,
                                              counter=lambda g, f: counts.append((g, f))))
    # a Progress after each scoring pass of at most MAX_BATCH masks: 8 masks, 2 passes
    assert fg.MAX_BATCH == 4 and [(p.phase, p.passes) for p in passes] == [(fg.PHASE, 1), (fg.PHASE, 2)]
    expected = _plain_half(clf.module, layer, x0, fill, 0)
    torch.testing.assert_close(half, expected, atol=FLOAT_ORDER, rtol=1e-4)
    # the pass that finds the layer, one gradient, 8 channels -> 8 groups of one, and the fill-in alone
    assert counts == [(0, 1), (1, 0), (0, 8 + 1)]
    monkeypatch.setattr(fg, "BATCH_BYTES", 1)  # one masked image per forward pass: the same half
    torch.testing.assert_close(half_of(clf.module, x0, fill, cls, lambda: False), half)
    # a stopped run and a failing model leave no half (the searches' map stands alone); a Cancel during the
    # passes is answered after the pass it came in
    assert half_of(clf.module, x0, fill, cls, lambda: True) is None
    stopped: list[bool] = []
    gen = fg.feature_group_map(clf.module, x0, fill, cls, lambda: bool(stopped))
    next(gen)
    stopped.append(True)
    assert drain(gen) == ([], None)

    class Refuses(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            if x.shape[0] > 1 or not torch.is_grad_enabled():
                raise RuntimeError("batch of one, with gradients, only")
            return self.inner(x)

    monkeypatch.setattr(fg, "BATCH_BYTES", 10**9)
    assert half_of(Refuses(clf.module), x0, fill, cls, lambda: False) is None


def test_the_masks_lie_where_the_network_looks_for_a_centre_cropping_model(photo):
    clf = classifier(planted(), photo)
    wide = np.concatenate([photo, photo[:, :32]], axis=1)  # 64 x 96: a crop would see the middle 64 columns
    x0 = clf.image_tensor(wide)
    box = (0, 16, 64, 80)
    net = clf.module

    class Cropped(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x[..., 16:80])

    half = half_of(Cropped(), x0, detail_removed(x0), torch.tensor([True, False]), lambda: False, box)
    assert half is not None and half.shape == (64, 96)
    assert float(half[:, :16].abs().max()) == 0.0 and float(half[:, 80:].abs().max()) == 0.0
    assert float(half[:, 16:80].max()) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def runs(photo):
    clf = classifier(planted(), photo)
    with_half = run(clf, photo, ExplainOptions())
    share = fg.SHARE
    try:
        fg.SHARE = 0.0
        without = run(clf, photo, ExplainOptions())
    finally:
        fg.SHARE = share
    return clf, with_half, without


def test_a_run_with_the_half_finds_the_planted_region_and_its_key_region_flips(runs):
    clf, res, without = runs
    assert res.status == Status.FLIPPED
    assert not np.allclose(res.importance_map(), without.importance_map(), atol=1e-3)  # the half was used
    imp = res.importance_map()
    assert imp.dtype == np.float32 and imp.min() >= 0 and imp.max() == pytest.approx(1.0)  # in [0, 1], as before
    k = int(inside().sum())
    top = pixel_ranking(res.importance_map()) < k
    assert (top & inside()).sum() / k >= 0.9
    kr = res.key_region
    assert kr.flips and kr.prediction.index == 1
    assert (kr.mask & inside()).sum() / kr.pixels >= 0.9
    assert kr.fraction < inside().mean() * 1.2
    assert res.gradient_evaluations == without.gradient_evaluations + 1  # the half's one gradient is counted


def test_the_map_with_the_half_changes_when_the_model_is_randomised(runs, photo):
    from scipy.stats import spearmanr

    _, res, _ = runs
    # the cascading randomisation of the sanity check re-initialises the top half of the network, the
    # half's layer with it: here the block the masks come from (another seed) and the read-out (a random field,
    # 4 x 4 blocks, contrast raised, instead of the planted square)
    field = torch.rand(4, 4, generator=torch.Generator().manual_seed(0)) ** 4
    other = run(classifier(field.repeat_interleave(SIZE // 4, 0).repeat_interleave(SIZE // 4, 1), photo, seed=1),
                photo, ExplainOptions())
    assert other.status == Status.FLIPPED
    assert spearmanr(res.importance_map().ravel(), other.importance_map().ravel()).statistic < 0.3
    k = int(inside().sum())
    assert ((pixel_ranking(other.importance_map()) < k) & inside()).sum() / k < 0.5


def test_a_batched_run_uses_the_half_as_a_single_run_does(photo):
    from gradflip_desktop.core.explain.batch import BatchJob, explain_batched

    clf = classifier(planted(), photo)
    rng = np.random.default_rng(5)
    images = [photo, np.clip(photo + rng.normal(0, 0.02, photo.shape), 0, 1).astype(np.float32)]
    single = [run(clf, a, ExplainOptions()) for a in images]
    jobs = [BatchJob(key=i, load=lambda a=a: a) for i, a in enumerate(images)]
    got = {job.key: out for job, out in explain_batched(clf, jobs, ExplainOptions(), batch_size=2)}
    for i, s in enumerate(single):
        assert got[i].status == s.status == Status.FLIPPED
        np.testing.assert_allclose(got[i].importance_map(), s.importance_map(), atol=2e-3)


def test_a_run_reports_the_scoring_passes_as_progress(photo):
    from gradflip_desktop.core.explain import explain
    from gradflip_desktop.core.results import Progress

    items, res = drain(explain(classifier(planted(), photo), photo, ExplainOptions()))
    assert res.status == Status.FLIPPED
    assert [p.passes for p in items if isinstance(p, Progress) and p.phase == fg.PHASE] == [1, 2]


def test_a_model_of_one_image_at_a_time_has_the_same_half(photo):
    """A network that refuses a batch, or answers it for its first image only (check_batch_independent lets both
    through: a dynamo ONNX export fixes the batch at 1), is scored one mask at a time, not left without a half."""
    clf = classifier(planted(), photo)
    x0 = clf.image_tensor(photo)
    fill = detail_removed(x0)
    cls = torch.tensor([True, False])
    expected = half_of(clf.module, x0, fill, cls, lambda: False)

    class OneAtATime(nn.Module):
        def __init__(self, inner, refuse):
            super().__init__()
            self.inner, self.refuse = inner, refuse

        def forward(self, x):
            if x.shape[0] > 1 and self.refuse:
                raise RuntimeError("shape '[1, 8]' is invalid for input of size 32")
            return self.inner(x[:1])

    for refuse in (True, False):
        torch.testing.assert_close(half_of(OneAtATime(clf.module, refuse), x0, fill, cls, lambda: False), expected)


def test_a_shared_module_is_not_the_layer():
    """A module called at several grids (one ReLU used after every convolution) hooks the output of its last
    call: the layer is another one, called once, at the grid one finer than the last."""

    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(3, 8, 3, 2, 1), nn.Conv2d(8, 8, 3, 2, 1)
            self.c3, self.act, self.fc = nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU(), nn.Linear(8, 2)

        def forward(self, x):
            x = self.act(self.c3(self.act(self.c2(self.act(self.c1(x))))))
            return self.fc(self.act(x.mean((2, 3))))

    net = Shared().eval()
    assert _names(net, fg.group_layer(net, torch.rand(1, 3, 64, 64))) == ["c2"]  # 16 x 16, called once


class _Hybrid(nn.Module):
    """A conv stem to a 16 x 16 grid, then tokens: subsampled to 8 x 8 through a transformer layer to the head
    (LeViT's shape), kept at 16 x 16 + 1 by an attention-pooling head (CLIP's ResNets), or back to the grid and one
    more strided convolution (MobileViT's)."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.mixer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, dropout=0.0)
        self.down = nn.Conv2d(16, 16, 3, 2, 1)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        g = self.stem(x)
        n, c, h, w = g.shape
        if self.kind == "levit":  # tokens pooled to a coarser grid than the stem's, then a transformer layer
            t = F.avg_pool2d(g, 2).flatten(2).transpose(1, 2)
            return self.fc(self.mixer(t).mean(1))
        t = g.flatten(2).transpose(1, 2)  # N x L x C tokens at the last grid
        if self.kind == "attention pool":
            return self.fc(self.mixer(torch.cat([t.mean(1, keepdim=True), t], 1))[:, 0])
        return self.fc(self.down(self.mixer(t).transpose(1, 2).reshape(n, c, h, w)).mean((2, 3)))


def test_tokens_that_go_on_to_a_coarser_grid_have_no_half_tokens_at_the_last_grid_keep_it():
    x = torch.rand(1, 3, 64, 64)
    assert fg.group_layer(_Hybrid("levit").eval(), x) is None  # the stem's grid is not the last grid it reads
    pooled = _Hybrid("attention pool").eval()  # 16 x 16 + 1 tokens after the last grid: one finer is the first ReLU's
    assert _names(pooled, fg.group_layer(pooled, x)) == ["stem.1"]
    inside = _Hybrid("mobilevit").eval()
    assert _names(inside, fg.group_layer(inside, x)) == ["stem"]  # 16 x 16, one finer than the last 8 x 8


def test_a_torchscript_model_makes_no_pass_and_counts_none():
    scripted = torch.jit.trace(ConvDetail(planted()).eval(), torch.rand(1, 3, SIZE, SIZE))
    counts = []
    x0 = torch.rand(1, 3, SIZE, SIZE)
    assert half_of(scripted, x0, x0, torch.tensor([True, False]), lambda: False,
                   counter=lambda g, f: counts.append((g, f))) is None
    assert counts == []


def test_the_run_consumer_keeps_its_grad_mode_during_the_scoring_passes(photo):
    from gradflip_desktop.core.explain import explain
    from gradflip_desktop.core.results import Progress

    modes = [torch.is_grad_enabled() for p in explain(classifier(planted(), photo), photo, ExplainOptions())
             if isinstance(p, Progress) and p.phase == fg.PHASE]
    assert modes == [True, True]


def test_the_channels_make_sixteen_groups_whatever_their_count(photo):
    net = nn.Sequential(nn.Conv2d(3, 24, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(24, 8, 3, stride=2, padding=1),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2)).eval()  # 24 channels: chunk() made 12
    x0 = torch.rand(1, 3, 32, 32)
    passes, _ = drain(fg.feature_group_map(net, x0, torch.zeros_like(x0), torch.tensor([True, False]), lambda: False))
    assert passes and passes[-1].passes == -(-fg.GROUPS // fg.MAX_BATCH)


def test_the_map_is_the_searches_map_and_the_half_each_scaled_in_the_shares_0_65_and_0_35():
    searches = np.array([[2.0, 4.0], [6.0, 10.0]], np.float32)  # min-max: 0, 0.25, 0.5, 1
    half = torch.tensor([[1.0, 0.0], [0.5, 0.25]])  # min-max: 1, 0, 0.5, 0.25
    mixed = 0.65 * np.array([[0, 0.25], [0.5, 1]]) + 0.35 * np.array([[1, 0], [0.5, 0.25]])
    assert fg.SHARE == 0.35
    np.testing.assert_allclose(fg.blend(searches, half), mixed / mixed.max(), rtol=1e-6)
    assert fg.blend(searches, None) is searches  # no half: the searches' map as it was


class _Swin(nn.Module):
    """Swin's layout on a 64 x 64 input: a patch-embedding convolution to 16 x 16, then stages on channels-last
    grids (N x h x w x C), a patch merging to 8 x 8 and an attention layer over its 64 tokens whose attention map
    (1 x 1 x 64 x 64, through a Dropout layer as in timm) is the last 4-D output. ``channels_first``: the same
    network, the same weights, with every stage's output permuted to N x C x h x w."""

    class _Stage(nn.Module):
        def __init__(self, inner: nn.Module, merge: bool, channels_first: bool):
            super().__init__()
            self.inner, self.merge, self.channels_first = inner, merge, channels_first

        def forward(self, x):
            if self.channels_first:
                x = x.permute(0, 2, 3, 1)
            if self.merge:  # 2 x 2 neighbours into the channels
                n, h, w, c = x.shape
                x = x.reshape(n, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 2, 4, 5).reshape(n, h // 2, w // 2, 4 * c)
            x = self.inner(x)
            return x.permute(0, 3, 1, 2) if self.channels_first else x

    class WindowAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.attn_drop = nn.Linear(16, 48), nn.Dropout(0.0)

        def forward(self, t):  # N x L x C tokens
            q, k, v = self.qkv(t).chunk(3, -1)
            return t + self.attn_drop(torch.softmax(q[:, None] @ k[:, None].transpose(-1, -2) / 4, -1))[:, 0] @ v

    def __init__(self, channels_first: bool = False):
        super().__init__()
        torch.manual_seed(5)
        self.channels_first = channels_first
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.stage1 = self._Stage(nn.Sequential(nn.Linear(8, 8), nn.GELU()), False, channels_first)
        self.stage2 = self._Stage(nn.Sequential(nn.Linear(32, 16), nn.GELU()), True, channels_first)
        self.attn = self.WindowAttention()
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        x = self.stem(x)
        x = self.stage2(self.stage1(x if self.channels_first else x.permute(0, 2, 3, 1)))
        x = x.permute(0, 2, 3, 1) if self.channels_first else x
        return self.fc(self.attn(x.flatten(1, 2)).mean(1))


def test_a_channels_last_network_gets_the_half_of_its_channels_first_twin(photo):
    """Swin's stages put the channels last: the half reads them as N x h x w x C grids, not as an h x w grid of
    w x C 'cells' (which picked the patch embedding, and on Swin V2 the position-bias MLP), and the layers of an
    attention layer are not grids (an attention map read as a 64 x 64 grid left no finer one: no half). The half equals the one of the same network with its stages channels first."""
    last, first = _Swin().eval(), _Swin(channels_first=True).eval()
    first.load_state_dict(last.state_dict())
    x0 = torch.from_numpy(photo).permute(2, 0, 1)[None].contiguous()
    assert _names(last, fg.group_layer(last, x0)) == ["stage1"] == _names(first, fg.group_layer(first, x0))
    torch.testing.assert_close(last(x0), first(x0))
    fill = detail_removed(x0)
    cls = torch.tensor([bool(last(x0).argmax() == 0), bool(last(x0).argmax() == 1)])
    half = half_of(last, x0, fill, cls, lambda: False)
    assert half is not None and half.shape == (SIZE, SIZE)
    torch.testing.assert_close(half, half_of(first, x0, fill, cls, lambda: False))
    torch.testing.assert_close(half, _plain_half(first, first.stage1, x0, fill, int(cls.int().argmax())),
                               atol=FLOAT_ORDER, rtol=1e-4)


class _Staged(nn.Module):
    """timm's layout: a ``stem`` (a strided convolution and a norm) to half the input's grid, then ``stages`` (a
    Sequential): the first at the stem's grid, each further one down by a stride of 2 (rounded up: 30 -> 15 -> 8),
    each a downsampling convolution and two blocks."""

    class Stem(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.norm = nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8)

        def forward(self, x):
            return self.norm(self.conv(x))

    class Stage(nn.Module):
        def __init__(self, stride: int):
            super().__init__()
            self.down = nn.Conv2d(8, 8, 3, stride, 1)
            self.blocks = nn.Sequential(*[nn.Sequential(nn.Conv2d(8, 8, 3, 1, 1), nn.ReLU()) for _ in range(2)])

        def forward(self, x):
            return self.blocks(self.down(x))

    def __init__(self, stages: int):
        super().__init__()
        self.stem = self.Stem()
        self.stages = nn.Sequential(*[self.Stage(1 if k == 0 else 2) for k in range(stages)])
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.stages(self.stem(x)).mean((2, 3)))


@pytest.mark.parametrize("stages, size, expected", [
    (2, 64, "stages.0"),  # 32 x 32 before the last 16 x 16: the stage there, not the stem beside it
    (3, 64, "stages.1"),  # 16 x 16 before 8 x 8
    (3, 60, "stages.1"),  # 15 x 15 before 8 x 8 (rounded up), not 30 x 30 (the stem's)
    (3, 62, "stages.1"),  # 16 x 16 before 8 x 8 from 31 x 31
    (3, (40, 18), "stages.1"),  # tall: 10 x 5 before 5 x 3 (a cell's rounding in the width counts 2.2 x)
    (3, (100, 300), "stages.1"),  # wide
])
def test_the_layer_is_the_stage_one_stride_finer_also_on_odd_grids_not_the_stem(stages, size, expected):
    net = _Staged(stages).eval()
    h, w = size if isinstance(size, tuple) else (size, size)
    assert _names(net, fg.group_layer(net, torch.rand(1, 3, h, w))) == [expected]


def test_torchvisions_swin_v2_takes_stage_3_not_its_position_bias_mlp():
    """ShiftedWindowAttentionV2 (not named "...Attention") holds a 15 x 15 position-bias MLP the same for every image,
    which at 256 px passed for the grid one stride finer than the last 8 x 8 (stage 3's 16 x 16 is coarser)."""
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.swin_v2_t().eval()
    assert _names(net, fg.group_layer(net, torch.rand(1, 3, 256, 256))) == ["features.5"]
