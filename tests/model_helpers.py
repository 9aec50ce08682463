"""Helpers for the model tests (tests/core/models, tests/test_cli_model_files.py): small real networks
built here, saved in the formats GradFlip loads. Plain functions; fixtures live in tests/core/models/conftest.py.

Imports torch (unlike helpers.py): only model tests import this module.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

RESNET18_FILE = "resnet18-f37072fd.pth"  # torchvision's own file name for ResNet18_Weights.IMAGENET1K_V1


class SmallCNN(nn.Module):
    """conv 3x3 -> relu -> 2x2 max-pool -> linear; needs exactly ``size`` x ``size`` input."""

    def __init__(self, channels: int = 1, classes: int = 10, size: int = 28, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(channels, 4, 3, padding=1)
        self.fc = nn.Linear(4 * (size // 2) ** 2, classes)

    def forward(self, x):
        return self.fc(torch.flatten(torch.max_pool2d(torch.relu(self.conv(x)), 2), 1))


class PicklePayload:
    """Unpickling this creates the marker file: proof that the pickle ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def seeded_resnet18(num_classes: int = 1000, seed: int = 0) -> nn.Module:
    import torchvision as tv

    torch.manual_seed(seed)
    return tv.models.resnet18(num_classes=num_classes).eval()


def make_resnet_files(root) -> dict:
    """A seeded ResNet18 saved under torchvision's file name inside a fake torch hub cache under ``root``,
    and a 10-class fine-tuned ResNet18 (its state dict is saved by the tests that need a file)."""
    cache = root / "torch_home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    net = seeded_resnet18()
    torch.save(net.state_dict(), cache / RESNET18_FILE)
    ft = seeded_resnet18(10, seed=1)
    return {"root": root, "torch_home": root / "torch_home", "imagenet": cache / RESNET18_FILE, "net": net, "ft": ft}


def script(model: nn.Module, path) -> None:
    """Save ``model`` as TorchScript at ``path``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(model.eval()).save(str(path))


def export_onnx(model: nn.Module, path, size: int, channels: int = 3) -> None:
    """Export ``model`` to ONNX with the legacy (TorchScript-based) exporter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), torch.zeros(1, channels, size, size), str(path), dynamo=False,
                          input_names=["image"], output_names=["logits"])


def short_options():
    from gradflip_desktop.core.options import ExplainOptions

    return ExplainOptions(max_steps=5, key_pixels=False, extra_steps=5)


def assert_short_run(clf, image):
    """A 5-step explanation runs, changes the image through real gradients, and ends as it should."""
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import Status

    from gradflip_desktop.core.explain.restore import PAST_FLIP, RESTORE_PAST_FLIP

    opts = short_options()
    res = run(clf, image, opts)
    assert res.status in (Status.FLIPPED, Status.BUDGET), res.message
    # the search and its 8-bit extension; the default (key region) style adds the sharpening steps past the
    # flip and a flip-back search of at most max_steps with its own sharpening
    budget = opts.max_steps + opts.extra_steps
    if opts.style == "region":
        budget += PAST_FLIP + opts.max_steps + RESTORE_PAST_FLIP
    assert 1 <= res.gradient_evaluations <= budget
    assert res.l2 > 0 and np.isfinite(res.delta).all()
    assert res.original.index == clf.classify(image, k=1)[0].index
    assert res.model_name == clf.name
    return res


def pixel_gradient(clf, image) -> torch.Tensor:
    """Gradient of the top logit with respect to the input pixels."""
    x = clf.image_tensor(image).requires_grad_(True)
    clf.module(x)[0].max().backward()
    return x.grad


# --- timm / Hugging Face / safetensors / ONNX: tiny random-init models written to a folder -------------


def timm_checkpoint(path, name: str = "test_vit", classes: int = 5, wrap: str | None = None, labels=None, seed: int = 0):
    """A random-init timm model ``name`` with ``classes`` outputs saved at ``path`` (.pth, .bin or .safetensors;
    ``wrap``: a checkpoint entry such as ``"ema"`` or ``"state_dict"``); returns the model (eval mode)."""
    import timm

    torch.manual_seed(seed)
    model = timm.create_model(name, pretrained=False, num_classes=classes).eval()
    sd = model.state_dict()
    if str(path).endswith(".safetensors"):
        import json

        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, str(path), metadata={"labels": json.dumps(labels)} if labels else None)
    else:
        obj = {wrap: sd, "epoch": 3} if wrap else dict(sd)
        if labels:
            obj["labels"] = list(labels)
        torch.save(obj, path)
    return model


def hf_vit_folder(folder, labels=("ant", "bee", "cat"), size: int = 32, weights: str = "safetensors", seed: int = 0,
                  preprocessor: bool = True):
    """A tiny random-init Hugging Face ViT classifier saved with ``save_pretrained`` in ``folder``
    (``weights``: "safetensors" or "bin"), with ``id2label`` and a ``preprocessor_config.json``; returns the model."""
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(seed)
    cfg = ViTConfig(image_size=size, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, num_labels=len(labels), id2label=dict(enumerate(labels)),
                    label2id={lab: i for i, lab in enumerate(labels)})
    model = ViTForImageClassification(cfg).eval()
    model.save_pretrained(str(folder))
    if weights == "bin":  # the older format: a weights-only pickle (transformers 5 writes safetensors itself)
        from pathlib import Path

        (Path(folder) / "model.safetensors").unlink()
        torch.save(model.state_dict(), Path(folder) / "pytorch_model.bin")
    if preprocessor:
        ViTImageProcessor(size={"height": size, "width": size}, image_mean=[0.5, 0.5, 0.5], image_std=[0.25, 0.25, 0.25],
                          resample=3).save_pretrained(str(folder))
    return model


def assert_same_logits(clf, net, size: int, seed: int = 1, atol: float = 1e-5) -> None:
    """``clf`` (a loaded model file) gives ``net``'s logits on a random image normalised with ``clf``'s own
    mean and std: the file was converted/built without changing what the network computes."""
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))
    mean = torch.tensor(clf.preprocessing.mean).view(1, 3, 1, 1)
    std = torch.tensor(clf.preprocessing.std).view(1, 3, 1, 1)
    with torch.no_grad():
        ref = net((x - mean) / std)
    torch.testing.assert_close(clf.module(x), ref, atol=atol, rtol=atol)


def make_classifier(logits, labels=None, groups=None):
    """A Classifier whose logits are ``logits`` for every image (labels ``c0``, ``c1``, … unless given)."""
    from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing

    class Fixed(nn.Module):
        def forward(self, x):
            return torch.tensor([logits], dtype=torch.float32).expand(x.shape[0], -1)

    labels = labels or [f"c{i}" for i in range(len(logits))]
    return Classifier(PixelSpaceModel(Fixed(), Preprocessing(input_size=(2, 2))), labels, "fixed", groups or {})
