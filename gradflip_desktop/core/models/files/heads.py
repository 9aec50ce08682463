"""Fine-tuned heads replaced by an ``nn.Sequential``: ``model.fc = nn.Sequential(nn.Dropout(p), nn.Linear(512, C))``,
the most common fine-tune head, saves ``fc.1.weight``/``fc.1.bias`` where the architecture has ``fc.weight``.

A state dict holds no layer without weights, so the layers around that Linear are not in the file: a Dropout and a
ReLU at index 0 look the same. Only the one case whose meaning is settled is read: the architecture's head Linear
(``fc``, ``classifier.1``, ``heads.head``…) replaced, within the module the file's Sequential stands for, by a
Sequential whose only weights are one Linear of the same input size at index 1 (one layer without weights before
it). At eval a Dropout there does nothing, so the head computes ``Linear(features)``, and the file's Linear is
loaded as the architecture's head. Any other index, or more than one layer with weights, is refused with a message
that says the head was replaced (its layers cannot be read from the weights: export TorchScript or ONNX).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import torch

__all__ = ["ReplacedHead", "accepted", "collapse", "collapsed_for_guess", "head_note", "head_refusal", "replaced_head", "stack_refusal"]

# head index of the one accepted layout: Sequential(Dropout, Linear)
ACCEPTED_INDEX = 1
# torchvision architectures whose head Linear sees features >= 0 (after a ReLU/ReLU6 and pooling): a ReLU before the
# Linear would do nothing there either
_NON_NEGATIVE = re.compile(r"(resnet|wide_resnet|resnext|regnet_|densenet|shufflenet_v2|mnasnet|mobilenet_v2|vgg|alexnet"
                           r"|googlenet|inception_v3).*")
_INDEXED = re.compile(r"^(.+)\.(\d+)\.(weight|bias)$")


@dataclass(frozen=True)
class ReplacedHead:
    head: str  # the architecture's head Linear, e.g. "fc", "classifier.1", "heads.head"
    replaced: str  # the module the file's Sequential replaced, e.g. "fc", "heads"
    index: int  # the Linear's index inside that Sequential

    @property
    def file_prefix(self) -> str:
        return f"{self.replaced}.{self.index}"


def replaced_head(ref: Mapping[str, tuple[int, ...]], sd: Mapping[str, torch.Tensor], missing: Sequence[str],
                  unexpected: Sequence[str]) -> ReplacedHead | None:
    """The replaced head when the only keys that do not fit are the architecture's head Linear (missing) and one
    Linear-shaped pair ``P.k.weight``/``P.k.bias`` (unexpected) under a module ``P`` that holds only that head in the
    architecture; None otherwise. The index is not checked here (see :func:`head_note` / :func:`head_refusal`)."""
    miss = [k for k in missing if not k.endswith("num_batches_tracked")]
    if not miss or not unexpected or len(miss) > 2 or len(unexpected) != len(miss):
        return None
    head = miss[0].rsplit(".", 1)[0]
    if sorted(miss) != sorted(f"{head}.{t}" for t in ("weight", "bias")[: len(miss)]):
        return None
    m = _INDEXED.match(unexpected[0])
    if m is None:
        return None
    replaced, index = m.group(1), int(m.group(2))
    if sorted(unexpected) != sorted(f"{replaced}.{index}.{t}" for t in ("weight", "bias")[: len(unexpected)]):
        return None
    if not (head == replaced or head.startswith(replaced + ".")):
        return None
    if any(k.startswith(replaced + ".") and not k.startswith(head + ".") for k in ref):
        return None  # the architecture has other layers with weights there (mobilenet_v3's classifier.0)
    w, ref_w = sd[f"{replaced}.{index}.weight"], ref.get(f"{head}.weight")
    if ref_w is None or w.ndim != 2 or len(ref_w) != 2 or int(w.shape[1]) != int(ref_w[1]):
        return None
    bias = sd.get(f"{replaced}.{index}.bias")
    if (bias is None) != (f"{head}.bias" not in ref) or (bias is not None and tuple(bias.shape) != (int(w.shape[0]),)):
        return None
    return ReplacedHead(head, replaced, index)


def collapse(sd: Mapping[str, torch.Tensor], found: ReplacedHead) -> dict[str, torch.Tensor]:
    """``sd`` with the file's ``P.k.weight``/``P.k.bias`` named as the architecture's head."""
    pre = found.file_prefix + "."
    return {(found.head + "." + k[len(pre):] if k.startswith(pre) else k): v for k, v in sd.items()}


def accepted(found: ReplacedHead) -> bool:
    return found.index == ACCEPTED_INDEX


def head_note(name: str, arch: str, found: ReplacedHead) -> str:
    relu = ", nor would a ReLU (the features are ≥ 0)" if _NON_NEGATIVE.fullmatch(arch) else ""
    return (f"{name}: its head {found.replaced} is read as nn.Sequential(Dropout, Linear) (weights {found.file_prefix}.*) "
            f"and loaded as {arch}'s {found.head}, the same at eval, where a Dropout does nothing{relu}. A state dict "
            "holds no layer without weights: if that head has another one (a Softmax after the Linear), export the model "
            "to TorchScript or ONNX instead")


def head_refusal(name: str, arch: str, found: ReplacedHead) -> str:
    before = "no layer" if found.index == 0 else f"{found.index} layers"
    return (f"{name}'s head {found.replaced} was replaced by an nn.Sequential with its Linear at index {found.index} "
            f"({found.file_prefix}.weight where {arch} has {found.head}.weight), {before} before it. Layers without "
            "weights (Dropout, ReLU, Flatten, Softmax…) are not in a state dict and can change what the model computes: "
            "export the model to TorchScript (torch.jit.script) or ONNX and load that file")


def stack_refusal(name: str, arch: str, missing: Sequence[str], unexpected: Sequence[str]) -> str | None:
    """The message for a head replaced by a stack with more than one layer with weights
    (``nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(), nn.Linear(256, C))``): the architecture's head
    Linear is what is missing and every unexpected key lies under a module holding it; None otherwise."""
    miss = [k for k in missing if not k.endswith("num_batches_tracked")]
    heads = {k.rsplit(".", 1)[0] for k in miss}
    if len(heads) != 1 or not unexpected or not all(k.rsplit(".", 1)[-1] in ("weight", "bias") for k in miss):
        return None
    head = heads.pop()
    parts = head.split(".")
    owner = next((".".join(parts[:i]) for i in range(len(parts), 0, -1)
                  if all(k.startswith(".".join(parts[:i]) + ".") for k in unexpected)), None)
    if owner is None:
        return None
    shown = ", ".join(k for k in unexpected if k.endswith(".weight"))
    return (f"{name}'s head {owner} was replaced by a stack of layers ({shown}) where {arch} has one Linear "
            f"({head}). Layers without weights between them (ReLU, Dropout…) are not in a state dict, so GradFlip "
            "cannot rebuild that head: export the model to TorchScript (torch.jit.script) or ONNX and load that file")


def collapsed_for_guess(sd: Mapping[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    """Copies of ``sd`` with one replaced head named as an architecture's plain Linear would be (``fc.1.*`` →
    ``fc.*``, ``heads.1.*`` → ``heads.head.*``… as guessed from the names), to recognise the architecture of a
    fine-tune whose head was replaced; what fits is then checked by :func:`replaced_head`."""
    last = next((k for k in reversed(list(sd)) if _INDEXED.match(k) and k.endswith(".weight") and sd[k].ndim == 2), None)
    if last is None:  # the head is the network's last Linear
        return []
    m = _INDEXED.match(last)
    parent, pre = m.group(1), f"{m.group(1)}.{m.group(2)}."
    if any(k.startswith(parent + ".") and not k.startswith(pre) for k in sd):
        return []  # the module holds other layers with weights
    return [{(head + "." + k[len(pre):] if k.startswith(pre) else k): v for k, v in sd.items()}
            for head in (parent, f"{parent}.head") if f"{head}.weight" not in sd]  # fc, classifier.1…; ViT's heads.head
