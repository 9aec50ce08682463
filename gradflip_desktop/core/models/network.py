"""A network of your own, in memory (a notebook's ``nn.Module``), as a :class:`~.classifier.Classifier`: what
``--model FILE`` does for a file, without saving one.

    from gradflip_desktop.core import Preprocessing, classifier_from_module, load_image, run
    model = classifier_from_module(my_net, labels=["cat", "dog"], preprocessing=Preprocessing(input_size=(64, 64)))
    result = run(model, load_image("cat.jpg"))
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ..errors import ModelError, ModelSettingError
from ..percent import count_text
from .classifier import Classifier, PixelSpaceModel, Preprocessing
from .devices import resolve_device
from .files.load import probe_network
from .files.outputs import (Recorded, check_batch_independent, choose_tuple_output, constant_note, read_scores,
                            refuse_never_finite, refuse_non_scores)
from .files.spec import checked_groups, parse_groups, scaled_resize_size
from .labels import IMAGENET_GROUPS, imagenet_labels, labels_from_mapping, read_labels


# layers that compute otherwise in training mode (a fresh nn.Sequential is in it too: no note for that alone)
MODE_DEPENDENT = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._NormBase)


class WeightsDigest(Mapping):
    """The record's ``weights_sha256`` for a network in memory, which has no file to take a digest of: the first 16 hex
    digits of the SHA-256 of its state (names, dtypes, shapes, values). Two networks of one architecture (two random
    initialisations, two fine-tunes) gave the same ``model`` entry, so a record could not say which one made it. Taken
    each time a record is written, from the weights as they are then (a notebook may train the network on between
    runs): one pass over the weights (0.1 s for a ResNet-50), less than one step of a run. Not cached by the tensors'
    version counters: ``p.data.mul_(2)``, ``p.detach().numpy()[:] = …`` change values without counting a version."""

    def __init__(self, net: nn.Module):
        self._net = net

    def _digest(self) -> str:
        h = hashlib.sha256()
        try:
            for name, t in self._net.state_dict().items():
                h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
                h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        except (RuntimeError, TypeError, ValueError):  # a tensor that cannot be read as bytes: no digest, still a record
            return ""
        return h.hexdigest()[:16]

    def __getitem__(self, key: str) -> str:
        if key != "weights_sha256":
            raise KeyError(key)
        return self._digest()

    def __iter__(self):
        return iter(("weights_sha256",))

    def __len__(self) -> int:
        return 1


def _back(out: Any, like: torch.Tensor) -> Any:
    """A network's output with its floating tensors as float32 on ``like``'s device (tuples, lists and dicts
    item by item; a Hugging Face ModelOutput, a dict, keeps its class and its ``.logits``)."""
    if isinstance(out, torch.Tensor):
        return out.to(like.device, torch.float32 if out.is_floating_point() else out.dtype)
    if isinstance(out, dict):
        for key in list(out):
            out[key] = _back(out[key], like)
        return out
    if isinstance(out, tuple) and hasattr(out, "_fields"):  # a namedtuple
        return type(out)(*(_back(o, like) for o in out))
    if isinstance(out, (tuple, list)):
        return type(out)(_back(o, like) for o in out)
    return out


class OwnPrecision(nn.Module):
    """``net`` computing in its own weights' dtype and device (float64 or half weights, a network already on a
    GPU): the float32 pixels are cast to them, its outputs come back as float32 where the pixels are. Its
    weights are not converted: they are the user's."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        weight = next(p for p in self.net.parameters() if p.is_floating_point())
        return _back(self.net(x.to(weight.device, weight.dtype)), x)


def _own_precision(net: nn.Module, title: str, notes: list[str]) -> nn.Module:
    """``net``, or ``net`` in :class:`OwnPrecision` when its weights are not float32 or not on the CPU (where the
    loader's probes run), with a note for weights that are not float32."""
    weight = next((p for p in net.parameters() if p.is_floating_point()), None)
    if weight is None or (weight.dtype == torch.float32 and weight.device.type == "cpu"):
        return net
    if weight.dtype != torch.float32:
        kind = str(weight.dtype).replace("torch.", "")
        notes.append(f"{title} has {kind} weights: it computes in {kind} (the pixels are cast to it, its scores read "
                     "as float32)" + ("" if weight.dtype == torch.float64 else
                                      "; half precision rounds the small changes the search makes, so a float32 copy "
                                      "(copy.deepcopy(net).float()) explains more exactly"))
    return OwnPrecision(net)


def _labels(labels: Any) -> list[str] | None:
    """The labels given: a list, a labels file, or an index → label mapping (a Hugging Face config's ``id2label``:
    listing it gave its indices as the labels)."""
    if isinstance(labels, (str, os.PathLike)):
        return list(read_labels(labels))
    if isinstance(labels, Mapping):
        return labels_from_mapping(dict(labels), "the labels mapping")
    return None if labels is None else [str(x) for x in labels]


def _config_labels(net: nn.Module, classes: int) -> list[str] | None:
    """A Hugging Face model's own labels (``config.id2label``), as ``--model`` reads a model folder's: None when
    they are transformers' placeholders (``LABEL_0`` …) or not one per class."""
    own = getattr(getattr(net, "config", None), "id2label", None)
    if not isinstance(own, Mapping) or len(own) != classes or all(re.fullmatch(r"LABEL_\d+", str(v)) for v in own.values()):
        return None
    try:
        return labels_from_mapping(dict(own), "the model's config.id2label")
    except ModelError:
        return None


def classifier_from_module(
    net: nn.Module,
    labels: Sequence[str] | str | os.PathLike | None = None,
    *,
    preprocessing: Preprocessing | None = None,
    name: str | None = None,
    groups: Mapping[str, object] | None = None,
    device: str | torch.device = "cpu",
) -> Classifier:
    """``net`` as a classifier GradFlip explains. ``net`` takes the input it was trained on (N x C x H x W,
    normalised); ``preprocessing`` says how pixels in [0, 1] become it (default: a timm network's own
    ``pretrained_cfg``, else 224 × 224, RGB, ImageNet's mean and std; a note says which). Its output is read as
    ``--model`` reads a file's: class scores [N, C] (logits, or probabilities, read through their logarithm), the
    first item of a tuple (or the one with as many columns as ``labels``), a dict's ``"logits"``, one logit as a
    binary classifier. ``labels``: class names, a labels file or an index →
    label mapping (``model.config.id2label``); without them a Hugging Face model's own ``id2label``, else 1000
    outputs are ImageNet's classes (with its groups: "any cat"), others "class 0" … ``groups``: name → class
    indices ("3-5,9" or a list). The network is switched to evaluation mode (a note says so when it was
    training; a refused network keeps its mode) and moved to ``device`` in place; its own parameters are never
    changed, nor their dtype (float64 or half weights compute in it). The notes on how it was read are in the
    classifier's ``warnings``. A :class:`~gradflip_desktop.core.errors.ModelError` says what does not fit."""
    if not isinstance(net, nn.Module):
        raise ModelError(f"classifier_from_module needs a torch.nn.Module, not {type(net).__name__}")
    notes: list[str] = []
    pre = preprocessing if preprocessing is not None else _assumed_preprocessing(net, notes)
    if not isinstance(pre, Preprocessing):
        raise ModelError(f"preprocessing must be a Preprocessing, not {type(pre).__name__}")
    if type(net).__name__ == "OptimizedModule" and isinstance(getattr(net, "_orig_mod", None), nn.Module):
        net = net._orig_mod  # torch.compile's wrapper: its forward hooks never ran (Grad-CAM's "layer was not used")
        notes.append("a torch.compile'd module: its original module is explained (the same weights, run eagerly)")
    title = name or type(net).__name__
    dev = resolve_device(device)
    given = _labels(labels)
    modes = {m: m.training for m in net.modules()}
    if any(m.training for m in net.modules() if isinstance(m, MODE_DEPENDENT)):  # a notebook may train it on: say so
        notes.append("the model was in training mode: switched to evaluation mode (no dropout, batch-norm running "
                     "statistics), as for inference; call .train() on it to train it again")
    net.eval()
    try:
        return _classifier(net, given, pre, title, name, groups, dev, notes)
    except BaseException as exc:  # the user's network as it was: a refused call leaves it in its mode
        for m, training in modes.items():
            m.train(training)
        if isinstance(exc, ModelSettingError) and exc.setting == "preprocessing":  # the remedy, in this API's words
            own = _own_input_size(net)
            size = f"input_size={own}" if own else "input_size=(H, W)"
            said = f" (its own {'config' if hasattr(net, 'config') else 'patch embedding'} says {own})" if own else ""
            raise ModelSettingError(f"{exc}: give preprocessing=Preprocessing({size}, channels=…, mean=…, std=…), the "
                                    f"input it was trained on{said}", setting="preprocessing",
                                    suggestions=[own] if own else []) from None
        raise


def _assumed_preprocessing(net: nn.Module, notes: list[str]) -> Preprocessing:
    """The preprocessing of a network given without one: a timm network's own ``pretrained_cfg`` (its crop,
    interpolation, mean and std, at the input size it was built for), as ``--arch timm:NAME`` reads a file of it;
    else 224 × 224 RGB with ImageNet's mean and std. Either way a note says what was assumed (a timm ViT was read
    with ImageNet's mean and squashed, silently, while the same weights from a file got timm's settings)."""
    cfg = getattr(net, "pretrained_cfg", None)
    if isinstance(cfg, Mapping) and cfg.get("input_size"):
        from .files.timm import timm_preprocessing  # noqa: PLC0415

        try:
            pre = timm_preprocessing(cfg, notes)
            own = _own_input_size(net)
            if own is not None and own != tuple(pre.input_size):  # built for another size (img_size=384)
                pre = dataclasses.replace(pre, input_size=own, resize_size=scaled_resize_size(pre, own)
                                          if pre.resize_size is not None else None)
        except (ModelError, TypeError, ValueError):  # an odd config: the generic assumption below
            pass
        else:
            notes.append(f"no preprocessing given: using the network's timm pretrained_cfg ({_described(pre)}); "
                         "give preprocessing=Preprocessing(...) for another")
            return pre
    pre = Preprocessing()
    notes.append(f"no preprocessing given: assuming {_described(pre)}; give preprocessing=Preprocessing(input_size=…, "
                 "mean=…, std=…) for the input it was trained on")
    return pre


def _described(pre: Preprocessing) -> str:
    """"224×224 RGB, centre crop of 248, bicubic, mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5]"."""
    h, w = pre.input_size
    frame = "squashed" if pre.resize == "squash" else f"centre crop of {pre.resize_size}"
    colour = "grayscale" if pre.channels == 1 else "RGB"
    return (f"{h}×{w} {colour}, {frame}, {pre.interpolation}, mean {[round(v, 4) for v in pre.mean]}, "
            f"std {[round(v, 4) for v in pre.std]}")


def _own_input_size(net: nn.Module) -> tuple[int, int] | None:
    """The input size a network states itself: a Hugging Face model's ``config.image_size``, a timm ViT's
    ``patch_embed.img_size`` (what it was built for, not its ``pretrained_cfg``'s 224), else None."""
    for size in (getattr(getattr(net, "config", None), "image_size", None),
                 getattr(getattr(net, "patch_embed", None), "img_size", None)):
        if isinstance(size, int) and size > 0:
            return size, size
        if isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size):
            return int(size[0]), int(size[1])
    return None


def _classifier(net, given, pre, title, name, groups, dev, notes) -> Classifier:
    """The rest of :func:`classifier_from_module`, on the network in evaluation mode."""
    user = net
    if isinstance(net, torch.fx.GraphModule):  # read_scores rewrites a traced graph's final softmax or sigmoid in
        # place: on a copy of the graph (the same weights), or the user's own net(x) returned log-softmax afterwards
        net = torch.fx.GraphModule(net, copy.deepcopy(net.graph), class_name=type(net).__name__)
    net = _own_precision(net, title, notes)
    recorded = Recorded(net)  # the raw output: a tuple's items, to choose the scores among them
    probe_network(recorded, pre, title)
    net = choose_tuple_output(net, recorded.raw, title, len(given) if given else None, notes)
    probe = probe_network(net, pre, title)
    if probe.ndim != 2 or probe.shape[0] != 1:
        raise ModelError(f"{title} returned shape {tuple(probe.shape)} for one image; GradFlip needs class scores of "
                         "shape [N, C], one row per image")
    refuse_non_scores(probe, title)
    refuse_never_finite(net, pre, title, probe)
    check_batch_independent(net, pre, title, probe)
    outputs = int(probe.shape[1])
    if outputs < 1:
        raise ModelError(f"{title} returns no outputs")
    probabilities, rewritten = read_scores(net, pre, title, probe, notes)
    if not probabilities:  # (probabilities read as they are can saturate alike on two images)
        constant_note(net, pre, title, probe_network(net, pre, title) if rewritten else probe, notes)
    single = outputs == 1
    classes = 2 if single else outputs
    imagenet = False
    given = given if given is not None else _config_labels(user, classes)
    if given is None:
        if classes == 1000:
            given, imagenet = imagenet_labels(), True
            notes.append("1000 outputs and no labels: assuming ImageNet-1k labels")
        else:
            given = [f"class {i}" for i in range(classes)]
    if len(given) != classes:
        raise ModelError(f"{count_text(len(given), 'label')} {'was' if len(given) == 1 else 'were'} given but {title} has "
                         f"{classes} classes"
                         + (" (a single-logit binary classifier needs 2 labels: negative, then positive)" if single else ""))
    grp = {k: list(v) for k, v in IMAGENET_GROUPS.items()} if imagenet else {}
    grp.update(parse_groups(groups or {}))
    checked_groups(grp, classes, title)
    module = PixelSpaceModel(net, pre, single_logit=single, probabilities=probabilities).eval()
    clf = Classifier(module=module, labels=given, name=name or f"{title} ({classes} classes)", groups=grp,
                     preprocessing=pre, warnings=notes)
    clf.weights_file = WeightsDigest(user)  # no file: the record names the weights by their digest
    return clf.to(dev)
