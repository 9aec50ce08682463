"""A centre-cropping model never sees the sides of a wide photo: the importance map is zero there and the key
region lies inside what it sees (core/explain/restore.py ``only_seen``, ``Preprocessing.visible_box``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.core.options import ExplainOptions, Status

SIZE = 64
WIDE = 2 * SIZE  # a 64 x 128 photo; the model crops its centre 64 x 64


class LooksAtACentreSquare(torch.nn.Module):
    """Class 0's logit grows with the local contrast inside a 24 x 24 square of its 64 x 64 input (class 1: 0);
    ``reference``: the photo's contrast there, so the photo is class 0 and removing detail there flips it."""

    reference = 0.0

    def energy(self, x):
        detail = (x - torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)).abs()
        return detail.mean(1)[:, 20:44, 20:44].mean((1, 2))

    def forward(self, x):
        e = self.energy(x)
        return torch.stack([40.0 * (e - 0.5 * self.reference), torch.zeros_like(e)], 1)


def test_visible_box_follows_the_crop_of_the_forward_pass():
    pre = Preprocessing(input_size=(224, 224), resize="center-crop", resize_size=256)
    assert Preprocessing(input_size=(224, 224)).visible_box(300, 600) is None  # squash sees everything
    top, left, bottom, right = pre.visible_box(480, 640)
    # shorter side 480 -> 256, the centre 224 x 224 of 256 x 341 (rows 16..240, columns 58..282 there): rows
    # 30..450 and columns 108.9..529.3 of the photo, widened by the shrinking resize's reach (2 + 2 px)
    assert (top, left, bottom, right) == (26, 104, 454, 534)
    # the pixels it reports unseen change nothing the network gets
    net = torch.nn.Flatten()  # the network gets exactly the crop
    module = PixelSpaceModel(net, Preprocessing(input_size=(16, 16), resize="center-crop", mean=(0.0,), std=(1.0,)))
    x = torch.rand(1, 3, 20, 40)
    top, left, bottom, right = module.pre.visible_box(20, 40)
    y = x.clone()
    y[..., :, :left] = 0.0
    y[..., :, right:] = 0.0
    assert torch.equal(module(x), module(y)) and (left, right) != (0, 40)
    assert right - left <= 40 * 16 / 20 + 2 * (2 + 2)  # the 32 columns the crop takes, its reach on both sides


@pytest.fixture(scope="module")
def cropped():
    rng = np.random.default_rng(3)
    photo = rng.uniform(0.15, 0.85, size=(SIZE, WIDE, 3)).astype(np.float32)
    net = LooksAtACentreSquare()
    with torch.no_grad():
        net.reference = float(net.energy(torch.from_numpy(photo[:, SIZE // 2: SIZE // 2 + SIZE]).permute(2, 0, 1)[None]))
    pre = Preprocessing(input_size=(SIZE, SIZE), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), resize="center-crop")
    clf = Classifier(module=PixelSpaceModel(net, pre).eval(), labels=["detailed", "smooth"], name="cropped",
                     groups={}, preprocessing=pre)
    top, left, bottom, right = pre.visible_box(SIZE, WIDE)
    assert (top, bottom) == (0, SIZE) and SIZE // 2 - 4 <= left < SIZE // 2 and SIZE // 2 + SIZE < right <= 3 * SIZE // 2 + 4
    return photo, run(clf, photo, ExplainOptions()), slice(left, right)


def test_the_map_is_zero_where_a_centre_crop_never_looks(cropped):
    photo, res, seen = cropped
    assert res.status == Status.FLIPPED
    m = res.importance_map()
    assert m.shape == photo.shape[:2] and m.max() == pytest.approx(1.0)
    assert m[:, : seen.start].max() == 0.0 and m[:, seen.stop:].max() == 0.0
    assert m[:, seen].max() == pytest.approx(1.0)


def test_the_key_region_lies_where_the_model_looks(cropped):
    _, res, seen = cropped
    kr = res.key_region
    assert kr is not None and kr.flips
    inside = kr.mask_for(kr.pixels)
    cols = np.nonzero(inside.any(0))[0]
    assert cols.min() >= seen.start and cols.max() < seen.stop


def test_the_figure_says_the_model_never_sees_outside_its_centre_crop(cropped, monkeypatch):
    from PIL import ImageDraw

    from gradflip_desktop.core.figure import render_figure

    drawn = []
    real = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", lambda self, xy, t, *a, **k: (drawn.append(t), real(self, xy, t, *a, **k))[1])
    _, res, _ = cropped
    render_figure(res)
    assert "none outside the centre the model crops: it never sees that" in " ".join(drawn)
