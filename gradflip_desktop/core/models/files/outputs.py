"""What a loaded network's outputs are: class scores (logits), probabilities that sum to 1 (it ends in
softmax), or one sigmoid probability (a binary classifier that ends in a sigmoid). GradFlip works on logits:
the loader turns the other two back into them (:class:`..classifier.PixelSpaceModel`). And whether one
image's output depends on the other images of its batch (:func:`check_batch_independent`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ModelError
from ..classifier import PixelSpaceModel, Preprocessing

SIGMOID_FUNCTIONS = (torch.sigmoid, F.sigmoid, torch.special.expit, torch.Tensor.sigmoid)


def are_probabilities(out: torch.Tensor) -> bool:
    """Outputs that are already probabilities (a model ending in softmax): in [0, 1], summing to 1."""
    out = out.double()
    return out.shape[1] > 1 and bool(out.min() >= 0 and out.max() <= 1 and (out.sum(1) - 1).abs().max() < 1e-3)


def ends_in_sigmoid(net: nn.Module, pre: Preprocessing) -> bool:
    """Whether ``net``'s output is computed by a sigmoid as its last operation (then a single output is a
    probability, not a logit: read as a logit, every image would be class 1 at 50-73 %). Read from the graph
    of a TorchScript or torch.fx module (ONNX files arrive as the latter); for other modules, by running a
    grey image and checking that the output is the output of an ``nn.Sigmoid``. A sigmoid called as a function
    inside a plain module's ``forward`` is not seen."""
    if isinstance(net, torch.jit.ScriptModule):
        try:
            graph = net.inlined_graph  # keep a reference: the nodes die with the graph
            outs = list(graph.return_node().inputs())
            return len(outs) == 1 and outs[0].node().kind() == "aten::sigmoid"
        except Exception:  # noqa: BLE001 - an unusual graph: treat as logits
            return False
    if isinstance(net, torch.fx.GraphModule):
        out = next((n for n in net.graph.nodes if n.op == "output"), None)
        src = out.args[0] if out is not None and out.args else None
        if not isinstance(src, torch.fx.Node):
            return False
        if src.op == "call_function":
            return src.target in SIGMOID_FUNCTIONS
        if src.op == "call_method":
            return src.target in ("sigmoid", "sigmoid_")
        if src.op == "call_module":
            return isinstance(net.get_submodule(str(src.target)), nn.Sigmoid)
        return False
    seen: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: seen.append(o)) for m in net.modules() if isinstance(m, nn.Sigmoid)]
    if not hooks:
        return False
    final: list[torch.Tensor] = []
    hooks.append(net.register_forward_hook(lambda _m, _i, o: final.append(o)))
    try:
        h, w = pre.input_size
        with torch.no_grad():
            PixelSpaceModel(net, pre).eval()(torch.full((1, 3, h, w), 0.5))
    except Exception:  # noqa: BLE001 - the loader's own probe reports what fails
        return False
    finally:
        for hook in hooks:
            hook.remove()
    return bool(final) and any(o is final[-1] for o in seen)


def check_batch_independent(net: nn.Module, pre: Preprocessing, name: str, single: torch.Tensor) -> None:
    """Refuse a network whose output for one image changes with the other images of its batch: batch-norm
    traced or exported in training mode keeps using batch statistics. Folder runs batch images, and their
    answers would then depend on which photos share a batch. ``single``: its output (1 x C) for the grey
    probe image alone. A network that takes one image at a time (it fails, or answers [1, C], on two) passes:
    the batched engine runs it one image at a time."""
    module = PixelSpaceModel(net, pre).eval()
    h, w = pre.input_size
    other = torch.rand((1, 3, h, w), generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            out = module(torch.cat([torch.full((1, 3, h, w), 0.5), other]))
    except Exception:  # noqa: BLE001 - one image at a time only
        return
    if out.shape != (2, single.shape[1]):
        return
    if not torch.allclose(out[:1], single, rtol=1e-3, atol=1e-5, equal_nan=True):
        diff = float((out[:1].double() - single.double()).abs().max())
        raise ModelError(
            f"{name} gives another output for an image when other images share its batch (by up to {diff:.3g}): "
            "it was probably traced or exported in training mode, with batch-norm using batch statistics. "
            "Export it again after model.eval()"
        )


def refuse_non_scores(probe: torch.Tensor, name: str) -> None:
    """A model whose output is not floating point returns decisions, not the scores they are made from (an
    export ending in argmax gives class indices, [N, 1] int64, once read as one logit; a one-hot decision was
    taken for probabilities): :class:`ModelError` saying so."""
    if not (probe.is_floating_point() or probe.is_complex()):
        raise ModelError(f"{name} returns {str(probe.dtype).replace('torch.', '')} values (class indices or "
                         "decisions?), not class scores; GradFlip needs the scores (logits or probabilities) the "
                         "decision is made from: export the model without its final argmax")
