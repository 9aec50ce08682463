"""Vision transformers end to end (timm ViT, Hugging Face ViT): classify, explain with key pixels, export,
and Grad-CAM on the patch-token grid of the layer before the last attention."""

from __future__ import annotations

import json

import numpy as np
import pytest
from model_helpers import hf_vit_folder, timm_checkpoint

from gradflip_desktop.core.attributions import feature_layer, gradcam_map, token_layer
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core.report import write_result_set


@pytest.fixture(params=["timm", "hf"])
def vit(request, tmp_path):
    if request.param == "timm":
        pytest.importorskip("timm")
        path = tmp_path / "vit.pth"
        timm_checkpoint(path, "test_vit", classes=4, seed=3)
        return mf.load_model_file(path, arch="timm:test_vit"), "net.blocks.5.norm1"
    pytest.importorskip("transformers")
    hf_vit_folder(tmp_path / "hf", labels=("a", "b", "c", "d"), seed=3)
    return mf.load_model_file(tmp_path / "hf"), "net.model.vit"


def test_vit_explains_with_key_pixels_and_exports(vit, image, tmp_path):
    clf, _ = vit
    res = run(clf, image, ExplainOptions(max_steps=40, key_pixels=True))
    assert res.status in (Status.FLIPPED, Status.BUDGET), res.message
    assert res.l2 > 0 and np.isfinite(res.delta).all()
    if res.flipped:
        assert res.final.index != res.original.index
        assert res.key_pixels is not None and res.key_pixels.count > 0
    written = write_result_set(res, tmp_path / "out", "photo", force=True)
    record = json.loads(written[-1].read_text(encoding="utf-8"))
    assert record["model"]["name"] == clf.name
    assert [p.suffix for p in written].count(".png") >= 2  # the figure and the adjusted image at least


def test_vit_gradcam_uses_the_token_grid(vit, image):
    clf, prefix = vit
    name, layer = feature_layer(clf.module)
    assert name.startswith(prefix) and token_layer(clf.module)[1] is layer
    assert type(layer).__name__ == "LayerNorm"
    cam = gradcam_map(clf, image, 0)
    assert cam.shape == image.shape[:2] and np.isfinite(cam).all() and cam.min() >= 0
    assert cam.max() > 0 and cam.std() > 0  # a map that varies over the image, not a constant
