"""A network of your own, in memory (a notebook's ``nn.Module``), as a :class:`~.classifier.Classifier`: what
``--model FILE`` does for a file, without saving one.

    from gradflip_desktop.core import classifier_from_module, load_image, run
    model = classifier_from_module(my_net, labels=["cat", "dog"], preprocessing=Preprocessing(input_size=(64, 64)))
    result = run(model, load_image("cat.jpg"))
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..errors import ModelError
from .classifier import Classifier, PixelSpaceModel, Preprocessing
from .devices import resolve_device
from .files.load import probe_network
from .files.outputs import Recorded, check_batch_independent, choose_tuple_output, read_scores, refuse_non_scores
from .files.spec import parse_groups
from .labels import IMAGENET_GROUPS, imagenet_labels, read_labels


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
    normalised); ``preprocessing`` says how pixels in [0, 1] become it (default: 224 × 224, RGB, ImageNet's mean
    and std). Its output is read as ``--model`` reads a file's: class scores [N, C] (logits, or probabilities,
    read through their logarithm), the first item of a tuple (or the one with as many columns as ``labels``), a
    dict's ``"logits"``, one logit as a binary classifier. ``labels``: class names or a labels file; without them
    1000 outputs are ImageNet's classes (with its groups: "any cat"), others "class 0" … ``groups``: name →
    class indices ("3-5,9" or a list). The network is switched to evaluation mode and moved to ``device`` in
    place; its own parameters are never changed. The notes on how it was read are in the classifier's
    ``warnings``. A :class:`~gradflip_desktop.core.errors.ModelError` says what does not fit."""
    if not isinstance(net, nn.Module):
        raise ModelError(f"classifier_from_module needs a torch.nn.Module, not {type(net).__name__}")
    pre = preprocessing if preprocessing is not None else Preprocessing()
    if not isinstance(pre, Preprocessing):
        raise ModelError(f"preprocessing must be a Preprocessing, not {type(pre).__name__}")
    title = name or type(net).__name__
    dev = resolve_device(device)
    net.eval()
    notes: list[str] = []
    given = list(read_labels(labels)) if isinstance(labels, (str, os.PathLike)) else (
        [str(x) for x in labels] if labels is not None else None)
    recorded = Recorded(net)  # the raw output: a tuple's items, to choose the scores among them
    probe_network(recorded, pre, title)
    net = choose_tuple_output(net, recorded.raw, title, len(given) if given else None, notes)
    probe = probe_network(net, pre, title)
    if probe.ndim != 2 or probe.shape[0] != 1:
        raise ModelError(f"{title} returned shape {tuple(probe.shape)} for one image; GradFlip needs class scores of "
                         "shape [N, C], one row per image")
    refuse_non_scores(probe, title)
    check_batch_independent(net, pre, title, probe)
    outputs = int(probe.shape[1])
    if outputs < 1:
        raise ModelError(f"{title} returns no outputs")
    probabilities, _ = read_scores(net, pre, title, probe, notes)
    single = outputs == 1
    classes = 2 if single else outputs
    imagenet = False
    if given is None:
        if classes == 1000:
            given, imagenet = imagenet_labels(), True
            notes.append("1000 outputs and no labels: assuming ImageNet-1k labels")
        else:
            given = [f"class {i}" for i in range(classes)]
    if len(given) != classes:
        raise ModelError(f"{len(given)} labels were given but {title} has {classes} classes"
                         + (" (a single-logit binary classifier needs 2 labels: negative, then positive)" if single else ""))
    grp = {k: list(v) for k, v in IMAGENET_GROUPS.items()} if imagenet else {}
    grp.update(parse_groups(groups or {}))
    for gname, idx in grp.items():
        bad = [i for i in idx if not 0 <= i < classes]
        if bad:
            raise ModelError(f"class group {gname!r} lists class {bad[0]}, but {title} has only {classes} classes")
    module = PixelSpaceModel(net, pre, single_logit=single, probabilities=probabilities).eval()
    clf = Classifier(module=module, labels=given, name=name or f"{title} ({classes} classes)", groups=grp,
                     preprocessing=pre, warnings=notes)
    return clf.to(dev)
