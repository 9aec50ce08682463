"""The region style on a model whose decision does not follow "more detail removed": no fill-in flips it
when applied everywhere, but the search's partial removal does (random-weight networks often behave so:
torchvision's ResNet18 and ConvNeXt, a small CIFAR CNN). The key region must still be a region that flips."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.images import to_uint8
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.core.options import ExplainOptions, Status

SIZE = 32


class MiddleDetail(nn.Module):
    """Class 1 wins only when the image's contrast (std) is 60-90 % of the photo's: removing some detail
    flips the decision, removing all of it (any blur of the fill ladder, the mean colour) does not."""

    def __init__(self, s0: float):
        super().__init__()
        self.mid, self.width = 0.75 * s0, 0.1 * s0

    def forward(self, x):
        s = x.flatten(1).std(1, keepdim=True)
        z1 = 1.0 - ((s - self.mid) / self.width) ** 2
        return torch.cat([torch.zeros_like(z1), z1], 1)


def _photo() -> np.ndarray:
    rng = np.random.default_rng(5)
    return rng.uniform(0.2, 0.8, size=(SIZE, SIZE, 3)).astype(np.float32)


def test_key_region_flips_when_no_fill_in_flips_but_the_search_does():
    photo = _photo()
    pre = Preprocessing(input_size=(SIZE, SIZE), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    module = PixelSpaceModel(MiddleDetail(float(photo.std())), pre).eval()
    clf = Classifier(module=module, labels=["detailed", "softened"], name="middle", preprocessing=pre)
    res = run(clf, photo, ExplainOptions())
    assert res.status == Status.FLIPPED, res.message
    kr = res.key_region
    assert kr is not None and kr.flips, kr
    assert kr.prediction.index == 1 and kr.fraction <= 1.0
    from gradflip_desktop.core.explain.key_region import count_components

    assert kr.components == count_components(kr.mask)  # "most of it" too: the record's count is the key.png's
    # the image the key region names (as the app and the result set rebuild it) flips when saved in 8 bits
    only = to_uint8(res.key_region_image()).astype(np.float32) / 255.0
    assert clf.classify(only)[0].index == 1
    # no fill-in flips, so the search faded toward the strongest, the mean colour: the region is filled with the
    # change it found, and the words say "fading toward the mean colour" (they said "removing detail")
    from gradflip_desktop.core.summary import summary_sentence

    assert kr.fill == "mean colour amount found by the search"
    assert "fading the hatched 99 % of the image toward its mean colour turns detailed" in summary_sentence(res)


class ColourBalance(nn.Module):
    """Class 1 wins when the image is redder than green on average: removing detail (blurs, the mean colour)
    keeps the average colour, so the region style cannot flip it; the smallest-change style can."""

    def forward(self, x):
        z1 = 20.0 * (x[:, 0].mean((1, 2)) - x[:, 1].mean((1, 2)))[:, None] - 1.0
        return torch.cat([torch.zeros_like(z1), z1], 1)


def test_a_region_run_no_fill_in_can_flip_says_which_style_can():
    photo = _photo()
    photo[..., 0] = photo[..., 1]  # as red as green: class 0
    pre = Preprocessing(input_size=(SIZE, SIZE), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(module=PixelSpaceModel(ColourBalance(), pre).eval(), labels=["grey", "red"], name="colour",
                     preprocessing=pre)
    res = run(clf, photo, ExplainOptions(max_steps=60))
    assert res.status != Status.FLIPPED
    assert "removing all the detail does not flip it either" in res.message, res.message
    assert "--style free" in res.message
    assert run(clf, photo, ExplainOptions(style="free", max_steps=60)).status == Status.FLIPPED


class FloatOnlyBonus(MiddleDetail):
    """As MiddleDetail, plus a bonus for class 1 that only a float image earns (its values off the 8-bit
    levels): the fully blurred photo flips in float but not as the 8-bit image it is saved as, the case of a
    real photo whose blurred copy is a near tie (skimage's moon on EfficientNet-Lite0: "nematode" 2.4 %)."""

    def forward(self, x):
        off = (x * 255 - torch.round(x * 255)).abs().flatten(1).mean(1, keepdim=True).detach()
        z = super().forward(x)
        return z + torch.cat([torch.zeros_like(off), 200.0 * off], 1)


def test_key_region_flips_when_the_fill_in_flips_only_in_float():
    # the key region (tested as saved, in 8 bits) reached 100 % of the image without a flip: "removing detail
    # in the whole image" was named as the key region although it does not flip
    photo = np.round(_photo() * 255).astype(np.float32) / 255
    pre = Preprocessing(input_size=(SIZE, SIZE), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    module = PixelSpaceModel(FloatOnlyBonus(float(photo.std())), pre).eval()
    clf = Classifier(module=module, labels=["detailed", "softened"], name="float bonus", preprocessing=pre)
    res = run(clf, photo, ExplainOptions())
    assert res.status == Status.FLIPPED, res.message
    kr = res.key_region
    assert kr is not None and kr.flips and kr.fraction < 1.0, kr
    assert kr.fill == "blur amount found by the search"
    only = to_uint8(res.key_region_image()).astype(np.float32) / 255.0
    assert clf.classify(only)[0].index == 1


class RoughAndSure(nn.Module):
    """Class 0 by a wide margin that removing detail lowers but never closes, on a score too rough for the
    adaptive steps (a random ResNet-50 at 99.99997 % crawled 200 steps of ε ~1e-6 toward nothing: 63 s)."""

    def forward(self, x):
        s = x.flatten(1).std(1, keepdim=True)
        ramp = torch.linspace(0, 1, x.shape[-1])
        z0 = 3.0 + 2.0 * s + 0.05 * torch.sin(30000.0 * (x * ramp).mean((1, 2, 3)))[:, None]
        return torch.cat([z0, torch.zeros_like(z0)], 1)


def test_a_region_run_with_no_flip_in_reach_ends_when_its_steps_have_shrunk_not_at_the_budget():
    pre = Preprocessing(input_size=(SIZE, SIZE), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(module=PixelSpaceModel(RoughAndSure(), pre).eval(), labels=["sure", "other"], name="rough",
                     preprocessing=pre)
    res = run(clf, _photo(), ExplainOptions(max_steps=200))
    assert res.status == Status.STALLED, (res.status, res.message)
    assert len(res.steps) < 30  # the budget's 200 steps led nowhere
    assert "shrank 64-fold without a flip" in res.message and "removing all the detail does not flip it either" in res.message
    assert res.original.index == 0 and res.final.index == 0


def test_a_mask_at_its_limit_gives_the_smallest_change_advice_once():
    # a random ViT-Tiny at 160 px stalled so: "…; the “smallest change” style (--style free) can change any pixel;
    # removing all the detail does not flip it either (…): try the “smallest change” style (--style free), …"
    from types import SimpleNamespace

    from gradflip_desktop.core.explain.mask import MaskCoordinates
    from gradflip_desktop.core.explain.runner import _no_region_flip
    from gradflip_desktop.core.explain.search import MASK_AT_LIMIT

    s = SimpleNamespace(coords=object.__new__(MaskCoordinates), classifier=None)
    message = _no_region_flip(s, SimpleNamespace(status=Status.STALLED, message=MASK_AT_LIMIT), reachable=False, stop=lambda: False)
    assert message.count("--style free") == 1, message
    assert message.startswith("every area the gradient points at") and "does not flip it either" in message
