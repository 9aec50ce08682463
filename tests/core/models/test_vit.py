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
    # the last layer's layernorm_before (Hugging Face declares it after the attention: the previous layer's
    # layernorm_after was taken, whose tokens the last attention mixes before they reach the class token)
    clf = mf.load_model_file(tmp_path / "hf")
    befores = [n for n, _ in clf.module.named_modules() if n.endswith("layernorm_before")]
    assert len(befores) >= 2 and befores[-1].startswith("net.model.vit")
    return clf, befores[-1]


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
    assert name == prefix and token_layer(clf.module)[1] is layer
    assert type(layer).__name__ == "LayerNorm"
    cam = gradcam_map(clf, image, 0)
    assert cam.shape == image.shape[:2] and np.isfinite(cam).all() and cam.min() >= 0
    assert cam.max() > 0 and cam.std() > 0  # a map that varies over the image, not a constant


def test_token_grids_and_the_plain_not_available_message():
    import torch
    from torch import nn

    from gradflip_desktop.core.attributions import _token_grid
    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing

    assert _token_grid(torch.zeros(1, 197, 8), 1.0) == (1, 14, 14)  # ViT-B/16 at 224: class token + 14 x 14
    assert _token_grid(torch.zeros(1, 198, 8), 1.0) == (2, 14, 14)  # DeiT distilled: class + distillation token
    assert _token_grid(torch.zeros(1, 196, 8), 1.0) == (0, 14, 14)  # no class token (average-pooled)
    assert _token_grid(torch.zeros(1, 1 + 24 * 16, 8), 1.5) == (1, 24, 16)  # a 384 x 256 input
    assert _token_grid(torch.zeros(1, 3, 8), 1.0) is None

    class ThreeTokens(nn.Module):
        """Attention over 3 tokens that are no patch grid."""

        def __init__(self):
            super().__init__()
            self.norm = nn.LayerNorm(3)
            self.attn = nn.MultiheadAttention(3, 1, batch_first=True)
            self.head = nn.Linear(3, 2)

        def forward(self, x):
            t = self.norm(x[:, :, 0, :3].transpose(1, 2))
            return self.head(self.attn(t, t, t)[0].mean(1))

    clf = Classifier(PixelSpaceModel(ThreeTokens(), Preprocessing(input_size=(4, 4))), ["a", "b"], "three")
    assert feature_layer(clf.module)[0] == "net.norm"
    with pytest.raises(ModelError, match=r"^Grad-CAM is not available for this model: the 3 tokens of layer net\.norm do not form a patch grid$"):
        gradcam_map(clf, np.full((8, 8, 3), 0.5, np.float32), 0)
