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
# operations that only reshape a sigmoid's output (``torch.sigmoid(z).squeeze(1)``, a binary model's [N] output)
SHAPE_OPS_TS = ("aten::squeeze", "aten::unsqueeze", "aten::view", "aten::reshape", "aten::flatten", "aten::contiguous",
                "aten::clone")
SHAPE_METHODS = ("squeeze", "unsqueeze", "view", "reshape", "flatten", "contiguous", "clone")
SHAPE_FUNCTIONS = (torch.squeeze, torch.unsqueeze, torch.reshape, torch.flatten, torch.clone)
SHAPE_MODULE_PREFIXES = ("OnnxSqueeze", "OnnxUnsqueeze", "OnnxReshape", "OnnxFlatten")  # onnx2torch's converters


def are_probabilities(out: torch.Tensor) -> bool:
    """Outputs that are already probabilities (a model ending in softmax): in [0, 1], summing to 1."""
    out = out.double()
    return out.shape[1] > 1 and bool(out.min() >= 0 and out.max() <= 1 and (out.sum(1) - 1).abs().max() < 1e-3)


def _is_shape_op(net: torch.fx.GraphModule, node) -> bool:
    """An fx node that only reshapes its first argument (squeeze, view, flatten; onnx2torch's Squeeze modules)."""
    if not isinstance(node, torch.fx.Node) or not node.args:
        return False
    if node.op == "call_method":
        return node.target in SHAPE_METHODS
    if node.op == "call_function":
        return node.target in SHAPE_FUNCTIONS
    if node.op == "call_module":
        mod = net.get_submodule(str(node.target))
        return isinstance(mod, (nn.Flatten, nn.Identity)) or type(mod).__name__.startswith(SHAPE_MODULE_PREFIXES)
    return False


def _before_shape_ops(net: torch.fx.GraphModule, node):
    """The node whose output ``node`` reshapes (through any number of shape-only operations), else ``node``."""
    while _is_shape_op(net, node):
        node = node.args[0]
    return node


def ends_in_sigmoid(net: nn.Module, pre: Preprocessing) -> bool:
    """Whether ``net``'s output is computed by a sigmoid as its last operation (then a single output is a
    probability, not a logit: read as a logit, every image would be class 1 at 50-73 %). Read from the graph
    of a TorchScript or torch.fx module (ONNX files arrive as the latter); for other modules, by running a
    grey image and checking that the output is a sigmoid's output (an ``nn.Sigmoid``, or ``torch.sigmoid(z)`` called
    in ``forward``: seen through a TorchFunctionMode; that one was missed, and such a binary model read as class 1 at
    50-73 % on every photo, without a word), or only its reshape."""
    if isinstance(net, torch.jit.ScriptModule):
        try:
            graph = net.inlined_graph  # keep a reference: the nodes die with the graph
            outs = list(graph.return_node().inputs())
            if len(outs) != 1:
                return False
            node = outs[0].node()
            while node.kind() in SHAPE_OPS_TS:  # sigmoid(z).squeeze(1): a binary model's [N] output
                node = next(node.inputs()).node()
            return node.kind() == "aten::sigmoid"
        except Exception:  # noqa: BLE001 - an unusual graph: treat as logits
            return False
    if isinstance(net, torch.fx.GraphModule):
        out = next((n for n in net.graph.nodes if n.op == "output"), None)
        src = out.args[0] if out is not None and out.args else None
        src = _before_shape_ops(net, src)
        if not isinstance(src, torch.fx.Node):
            return False
        if src.op == "call_function":
            return src.target in SIGMOID_FUNCTIONS
        if src.op == "call_method":
            return src.target in ("sigmoid", "sigmoid_")
        if src.op == "call_module":
            return isinstance(net.get_submodule(str(src.target)), nn.Sigmoid)
        return False
    seen: list[torch.Tensor] = []  # every sigmoid's output in the probe: nn.Sigmoid's, and torch.sigmoid(z) in forward

    class Sigmoids(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if (func in SIGMOID_FUNCTIONS or getattr(func, "__name__", "") in ("sigmoid", "sigmoid_")) and \
                    isinstance(out, torch.Tensor):
                seen.append(out.detach())
            return out

    final: list[torch.Tensor] = []
    hook = net.register_forward_hook(lambda _m, _i, o: final.append(o))
    try:
        with torch.no_grad(), Sigmoids():
            PixelSpaceModel(net, pre).eval()(grey_image(pre))
    except Exception:  # noqa: BLE001 - the loader's own probe reports what fails
        return False
    finally:
        hook.remove()
    last = final[-1] if final else None  # the sigmoid's output itself, reshaped (squeeze), or cast (a float64 network's)
    return isinstance(last, torch.Tensor) and any(
        o.numel() == last.numel() and torch.equal(o.reshape(last.shape).to(last), last) for o in seen)


SOFTMAX_FUNCTIONS = (torch.softmax, F.softmax, torch.Tensor.softmax, torch.special.softmax)


def scores_before_final_activation(net: nn.Module, single: bool) -> str | None:
    """Rewrite, in place, a torch.fx GraphModule (an ONNX file arrives as one) that ends in a sigmoid or a softmax
    so that it returns class scores computed from that last operation's input: the logit itself for a single
    sigmoid output (read as p(class 1) = sigmoid(logit)), ``log_softmax`` for a softmax, ``logsigmoid`` for
    several sigmoids (multi-label). Their softmax is what the probabilities' logarithm gives, but they keep
    their gradient where the probability rounds to exactly 1 (or 0) in float32: a sigmoid past a logit of
    about 17, a softmax past a margin of about 104, i.e. a confident trained model, whose log(p) then has a
    zero gradient and cannot be explained. Returns what the scores are now ("logit", "log-softmax",
    "log-sigmoid"), or None when the network is not such a graph (TorchScript, eager modules: unchanged)."""
    inner = net
    while type(inner).__name__ in ("ChannelsLast", "FixedBatch"):  # the converted graph inside the ONNX wrappers
        inner = inner.net
    if not isinstance(inner, torch.fx.GraphModule):
        return None
    graph = inner.graph
    out = next((n for n in graph.nodes if n.op == "output"), None)
    src = _before_shape_ops(inner, out.args[0] if out is not None and out.args else None)
    if not isinstance(src, torch.fx.Node) or not src.args or not isinstance(src.args[0], torch.fx.Node):
        return None
    kind, dim = None, None
    if src.op == "call_module":
        mod = inner.get_submodule(str(src.target))
        if isinstance(mod, nn.Sigmoid):
            kind = "sigmoid"
        elif isinstance(mod, nn.Softmax) and mod.dim is not None:
            kind, dim = "softmax", mod.dim
    elif src.op == "call_function" and src.target in SIGMOID_FUNCTIONS or src.op == "call_method" and src.target == "sigmoid":
        kind = "sigmoid"
    elif src.op == "call_function" and src.target in SOFTMAX_FUNCTIONS or src.op == "call_method" and src.target == "softmax":
        dim = src.kwargs.get("dim", src.args[1] if len(src.args) > 1 else None)
        kind = "softmax" if isinstance(dim, int) else None
    if kind is None or len(src.users) != 1:
        return None
    x = src.args[0]
    with graph.inserting_after(src):
        if kind == "sigmoid" and single:
            new, what = x, "logit"
        elif kind == "sigmoid":
            new, what = graph.call_function(F.logsigmoid, (x,)), "log-sigmoid"
        else:
            new, what = graph.call_function(F.log_softmax, (x,), {"dim": dim}), "log-softmax"
    src.replace_all_uses_with(new)
    graph.erase_node(src)
    graph.lint()
    inner.recompile()
    return what


def read_scores(net: nn.Module, pre: Preprocessing, name: str, probe: torch.Tensor, notes: list[str]) -> tuple[bool, bool]:
    """How the network's output (``probe``: its output for one grey image) becomes class scores:
    ``(probabilities, rewritten)``. Probabilities (a softmax's, or a sigmoid's: the last operation) are read
    through their logarithm; where the graph allows, the network is rewritten to return the same scores
    from that last operation's input (:func:`scores_before_final_activation`), and ``rewritten`` is True.
    Each reading adds its note to ``notes``."""
    outputs = int(probe.shape[1])
    probabilities = are_probabilities(probe)
    # a sigmoid's output lies in [0, 1]: outside it the probe's extra forward pass (every operation seen) is not needed;
    # asked once (it was asked again for a single output that did not end in one)
    sigmoid = not probabilities and bool(torch.isfinite(probe).all() and probe.min() >= 0 and probe.max() <= 1) \
        and ends_in_sigmoid(net, pre)
    if probabilities:  # softmax(softmax(z)) would show 12 % for a 55 % decision: take their logarithm
        notes.append(f"{name} outputs probabilities (they sum to 1): their logarithm is used as class scores")
    elif outputs == 1 and sigmoid:  # sigmoid(sigmoid(z)) is always class 1
        probabilities = True
        notes.append(f"{name} ends in a sigmoid: its output is read as p(class 1), and log(1 - p), log(p) are "
                     "used as the class scores")
    elif sigmoid:  # multi-label: a softmax of sigmoids shows 43 % for 0.9 among three 0.1s
        probabilities = True
        notes.append(f"{name} ends in a sigmoid: its {outputs} outputs are read as per-class probabilities "
                     "(multi-label), their logarithm is used as class scores, and the shares shown are p / sum(p)")
    if not probabilities:
        return False, False
    # the same scores from the last operation's input, where the graph allows: a confident output that rounds
    # to exactly 1 in float32 has no gradient through log(p) (nothing could be explained)
    what = scores_before_final_activation(net, single=outputs == 1)
    if what is None:
        return True, False
    notes[-1] += (f" (computed from the input of that last operation, as {what}, so outputs that round to "
                  "100 % keep their gradient)")
    return False, True


def grey_image(pre: Preprocessing) -> torch.Tensor:
    """The loader's plain grey probe image (1 x 3 x H x W, pixel space) at the network's input size."""
    h, w = pre.input_size
    return torch.full((1, 3, h, w), 0.5)


def random_image(pre: Preprocessing) -> torch.Tensor:
    """The loader's second test image: seeded uniform noise, the same at every load."""
    h, w = pre.input_size
    return torch.rand((1, 3, h, w), generator=torch.Generator().manual_seed(0))


def check_batch_independent(net: nn.Module, pre: Preprocessing, name: str, single: torch.Tensor) -> None:
    """Refuse a network whose output for one image changes with the other images of its batch: batch-norm
    traced or exported in training mode keeps using batch statistics. Folder runs batch images, and their
    answers would then depend on which photos share a batch. ``single``: its output (1 x C) for the grey
    probe image alone. A network that takes one image at a time (it fails, or answers [1, C], on two) passes:
    the batched engine runs it one image at a time."""
    module = PixelSpaceModel(net, pre).eval()
    try:
        with torch.no_grad():
            out = module(torch.cat([grey_image(pre), random_image(pre)]))
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


def _random_output(net: nn.Module, pre: Preprocessing, like: torch.Tensor) -> torch.Tensor | None:
    """``net``'s output for :func:`random_image`, or None where it cannot take one or answers in another shape."""
    try:
        with torch.no_grad():
            out = PixelSpaceModel(net, pre).eval()(random_image(pre))
    except Exception:  # noqa: BLE001 - said by the probe's own checks
        return None
    return out if torch.is_tensor(out) and out.shape == like.shape else None


def _unusable(z: torch.Tensor) -> bool:
    """Scores no class can be read from: a NaN or +infinity (softmax makes every share NaN), or nothing finite."""
    return bool(torch.isnan(z).any() or torch.isposinf(z).any() or not torch.isfinite(z).any())


def refuse_never_finite(net: nn.Module, pre: Preprocessing, name: str, probe: torch.Tensor) -> None:
    """Refuse a network whose scores are NaN (or +infinity, or nothing finite) for the grey probe image (``probe``,
    1 x C) and for a random one too: it can classify nothing (a diverged training run saves NaN weights), and it
    loaded, joined the app's model list and failed on every photo after. A grey image alone is not enough: a network
    that standardises each image by its own spread divides by zero there. A class masked to -infinity is no reason:
    the others' shares are read."""
    if not _unusable(probe):
        return
    other = _random_output(net, pre, probe)
    if other is not None and _unusable(other):
        raise ModelError(f"{name} returns NaN or infinity for every test image (a plain grey one and a random one), "
                         "so it can classify nothing: weights from a training run that diverged hold NaN or infinity, "
                         "and so does code that divides by zero")


def constant_note(net: nn.Module, pre: Preprocessing, name: str, probe: torch.Tensor, notes: list[str]) -> None:
    """A warning in ``notes`` when the network's scores are the very same for a plain grey image (``probe``: its
    output there, 1 x C) and a random one: they may not depend on the image at all (a freshly initialised Hugging
    Face MobileViT returns 0 for every class of every image), and then every run ends without a flip (its gradient
    is zero); it loaded without a word. A warning, not a refusal: the classification is still what the model says.
    Called on the scores as they will be read (after :func:`read_scores`): a softmax the graph lets be read from its
    input differs there, while its saturated probabilities can be exactly alike on two such images; one logit (a
    sigmoid rounds alike as easily) is not compared."""
    if probe.numel() < 2:
        return
    other = _random_output(net, pre, probe)
    if other is not None and torch.equal(other, probe):
        notes.append(f"{name} returns the very same scores for a plain grey image and a random one: they may not "
                     "depend on the image at all (an output layer of zeros, or a forward that ignores its input), "
                     "and then there is nothing to explain")


class PickOutput(nn.Module):
    """A network returning several tensors (``(features, logits)``) read at item ``index`` of its output."""

    def __init__(self, net: nn.Module, index: int):
        super().__init__()
        self.net = net
        self.index = index

    def forward(self, x):
        return self.net(x)[self.index]


class Recorded(nn.Module):
    """``net`` that keeps its last raw output in ``raw`` (a tuple stays a tuple; TorchScript modules take no
    forward hooks): what :func:`choose_tuple_output` reads from a probe the loader runs anyway."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.raw = None

    def forward(self, x):
        self.raw = self.net(x)
        return self.raw


def choose_tuple_output(net: nn.Module, out, name: str, classes: int | None, notes: list[str]) -> nn.Module:
    """``net`` itself, or ``net`` read at another item of its raw output ``out`` (for one image). A network
    returning a tuple of several ``[1, k]`` tensors is read at its first item; when a label count is known and
    exactly one other item has that many columns (``(features, logits)`` with 4 labels, features first), that item.
    A note names the items and the choice, so that 1152 features are never explained silently as 1152 classes."""
    if not isinstance(out, (tuple, list)) or len(out) < 2:
        return net
    widths = [int(o.shape[1]) if isinstance(o, torch.Tensor) and o.ndim == 2 and o.shape[0] == 1 else None for o in out]
    if sum(wd is not None for wd in widths) < 2:
        return net
    shapes = ", ".join(f"[{i}] {tuple(o.shape) if isinstance(o, torch.Tensor) else type(o).__name__}"
                       for i, o in enumerate(out))
    fits = [i for i, wd in enumerate(widths) if classes is not None and wd == classes]
    if len(fits) == 1 and fits[0] != 0:
        notes.append(f"{name} returns {len(out)} outputs ({shapes}): item [{fits[0]}] has one score per label "
                     f"({classes}), so it is read as the class scores")
        return PickOutput(net, fits[0]).eval()
    notes.append(f"{name} returns {len(out)} outputs ({shapes}): the first is read as the class scores; if the "
                 "scores are another item, give a labels file with that many labels")
    return net


def refuse_non_scores(probe: torch.Tensor, name: str) -> None:
    """A model whose output is not floating point returns decisions, not the scores they are made from (an
    export ending in argmax gives class indices, [N, 1] int64, once read as one logit; a one-hot decision was
    taken for probabilities): :class:`ModelError` saying so. Complex outputs are refused too: their imaginary part
    was dropped with a torch warning and explaining ended in an internal error (argmax of complex)."""
    if probe.is_complex():
        raise ModelError(f"{name} returns complex values ({str(probe.dtype).replace('torch.', '')}), not real class "
                         "scores; GradFlip needs the real scores (logits or probabilities) the decision is made from: "
                         "return .abs() or .real of them")
    if not probe.is_floating_point():
        raise ModelError(f"{name} returns {str(probe.dtype).replace('torch.', '')} values (class indices or "
                         "decisions?), not class scores; GradFlip needs the scores (logits or probabilities) the "
                         "decision is made from: export the model without its final argmax")
