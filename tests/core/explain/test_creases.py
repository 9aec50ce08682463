"""A small random-init ReLU network in the free style: the adaptive search stuck on a crease goes on and flips.

A Hugging Face ResNet with 8 and 16 channels (random init, as ``save_pretrained`` writes it) is piecewise
linear with few, large pieces. Lowering the log-odds drives its units onto their kinks, where a step along
-∇S raises the score however short (the first-order prediction holds on one side of the crease only): the
adaptive rule shrank ε ×0.7 step after step to EPS_MIN and the run ended "stalled … (a local optimum)"
(on this 32 px photo after 119 steps, L2 1.98; on the full 600 × 400 coffee photo after 148, L2 27), though
the score still fell along other directions. The free style can change any pixel, so a search whose ε
shrank 8x now goes on in whole steps of the longest ε it had accepted (search.py), and flips.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.explain.search import GROW, SHRINK, STUCK
from gradflip_desktop.core.options import ExplainOptions, Status

transformers = pytest.importorskip("transformers")  # the `hf` extra (part of `test`)


def tiny_hf_resnet(folder, seed: int = 1, size: int = 32) -> None:
    """A random-init ResNetForImageClassification (8/16 channels, 10 classes) saved with ``save_pretrained``,
    with a preprocessor config: ``size`` x ``size`` input, mean = std = 0.5."""
    torch.manual_seed(seed)
    cfg = transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic",
                                    num_labels=10)
    transformers.ResNetForImageClassification(cfg).eval().save_pretrained(str(folder))
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "do_resize": True, "size": {"height": size, "width": size}, "resample": 2,
        "do_normalize": True, "image_mean": [0.5] * 3, "image_std": [0.5] * 3,
    }))


def coffee(side: int = 32) -> np.ndarray:
    from PIL import Image
    from skimage import data

    return np.asarray(Image.fromarray(data.coffee()).resize((side, side), Image.BILINEAR), dtype=np.float32) / 255


def test_a_small_random_hf_resnet_stuck_on_a_crease_flips_in_the_free_style(tmp_path):
    from gradflip_desktop.core.models import load_classifier

    tiny_hf_resnet(tmp_path / "resnet")
    clf = load_classifier(str(tmp_path / "resnet"))
    photo = coffee()
    res = run(clf, photo, ExplainOptions(style="free", key_pixels=False))
    assert res.status == Status.FLIPPED, res.message
    assert res.final.index != res.original.index == clf.classify(photo, k=1)[0].index
    # the saved 8-bit image is classified differently too
    assert clf.classify(res.adjusted_uint8.astype(np.float32) / 255, k=1)[0].index != res.original.index
    steps = [s for s in res.steps if s.phase == "search"]
    eps0 = res.options.epsilon
    # the adaptive steps first: ε grew (the first steps worked), then shrank step after step at the crease, to
    # below STUCK of its start without a flip (before: on to EPS_MIN, "stalled … (a local optimum)") ...
    k = next(i for i in range(1, len(steps)) if steps[i].epsilon > GROW * steps[i - 1].epsilon * (1 + 1e-9))
    adaptive, whole = steps[:k], steps[k:]
    peak = max(s.epsilon for s in adaptive if s.accepted)
    assert peak > 10 * eps0 and len(adaptive) >= 20 and not any(s.flipped for s in adaptive)
    assert SHRINK * adaptive[-1].epsilon < STUCK * eps0 <= adaptive[-1].epsilon
    assert adaptive[-1].score - adaptive[-5].score > -1e-3  # crawling: the last 4 steps lowered S by < 0.001
    # ... then whole steps of that longest accepted ε, every one accepted, until the flip
    assert all(s.accepted and s.epsilon == pytest.approx(peak, rel=1e-12) for s in whole)
    assert whole[-1].flipped and len(steps) <= res.options.max_steps
    # the minimise pass still looks for the smallest flipping change on the line to the change found
    assert 0 < res.l2_minimal_float <= steps[-1].l2 + 1e-6 and np.isfinite(res.delta).all()
