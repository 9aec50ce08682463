"""ONNX model files, converted to PyTorch with onnx2torch (optional extra ``onnx``) so that gradients exist."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
from torch import nn

from ...errors import ModelError, install_hint
from ..classifier import Preprocessing
from .safety import short_reason

__all__ = ["input_guess", "input_preprocessing", "load_onnx"]

_ONNX_EXTRA = install_hint("onnx onnx2torch", "onnx")


def _onnx_modules():
    try:
        import onnx  # noqa: PLC0415 - optional extra
        import onnx2torch  # noqa: PLC0415
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "onnx2torch"
        raise ModelError(f"loading ONNX files needs the optional extra 'onnx' ({missing} is not installed): {_ONNX_EXTRA}") from None
    return onnx, onnx2torch


EIGHT_BIT_TYPES = {2: "uint8", 3: "int8"}  # onnx.TensorProto.UINT8, INT8


def onnx_input_type(model) -> str | None:
    """``"uint8"``/``"int8"`` when the image input is 8-bit (TensorFlow/TFLite models converted with tf2onnx often take
    0-255 pixels and normalise inside the graph), else None."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    return EIGHT_BIT_TYPES.get(inputs[0].type.tensor_type.elem_type) if len(inputs) == 1 else None


def _onnx_input_shape(model) -> tuple[int, ...] | None:
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise ModelError(f"the ONNX model has {len(inputs)} inputs; GradFlip needs exactly one image input")
    dims = inputs[0].type.tensor_type.shape.dim
    return tuple(int(d.dim_value) if d.HasField("dim_value") else 0 for d in dims)


# ops whose weight inputs onnx2torch expects as initializers (not node outputs)
WEIGHT_OPS = frozenset(
    {"Conv", "ConvTranspose", "Gemm", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization", "PRelu"}
)
ONNX2TORCH_MAX_OPSET = 17  # highest opset whose operators onnx2torch converts (ReduceMean-18 etc. are not)


def fold_weight_nodes(model) -> int:
    """Turn ``Identity`` nodes of initializers, and ``Constant`` nodes that feed weight inputs, back into
    initializers, in place; returns how many were folded.

    The legacy exporter deduplicates equal initializers and routes the copies through ``Identity``
    (``onnx::Conv_197``); onnx2torch needs Conv/Gemm weights as initializers.
    """
    import onnx  # noqa: PLC0415 - optional extra (checked by the caller)

    g = model.graph
    by_name = {i.name: i for i in g.initializer}
    outputs = {o.name for o in g.output}
    consumers: dict[str, set[str]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, set()).add(n.op_type)
    keep, folded = [], 0
    for n in g.node:
        tensor = None
        if n.domain in ("", "ai.onnx") and len(n.output) == 1 and n.output[0] not in outputs:
            if n.op_type == "Identity" and len(n.input) == 1 and n.input[0] in by_name:
                tensor = by_name[n.input[0]]
            elif (
                n.op_type == "Constant"
                and len(n.attribute) == 1
                and n.attribute[0].name == "value"
                and consumers.get(n.output[0], set()) & WEIGHT_OPS
            ):
                tensor = n.attribute[0].t
        if tensor is None:
            keep.append(n)
            continue
        t = onnx.TensorProto()
        t.CopyFrom(tensor)
        t.name = n.output[0]
        g.initializer.append(t)
        by_name[t.name] = t
        folded += 1
    if folded:
        del g.node[:]
        g.node.extend(keep)
    return folded


def _drop_needless_allowzero(model) -> None:
    """``Reshape(allowzero=1)`` (what the dynamo exporter writes) with a constant shape without zeros means
    the same as ``allowzero=0``, which onnx2torch converts."""
    from onnx import numpy_helper  # noqa: PLC0415

    by_name = {i.name: i for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Reshape" and len(n.input) > 1 and n.input[1] in by_name:
            if 0 not in numpy_helper.to_array(by_name[n.input[1]]).tolist():
                attrs = [a for a in n.attribute if a.name != "allowzero"]
                del n.attribute[:]
                n.attribute.extend(attrs)


def decompose_gelu(model) -> int:
    """Write each ``Gelu`` node (opset 20: the dynamo exporter's GELU of transformers and ConvNeXts; no earlier
    version to convert down to, and onnx2torch has no converter) out in Div/Erf/Tanh/Add/Mul, in place;
    returns how many. ``approximate="none"``: x/2 (1 + erf(x/√2)); ``"tanh"``: x/2 (1 + tanh(√(2/π)(x + 0.044715 x³)))."""
    import numpy as np  # noqa: PLC0415
    from onnx import helper, numpy_helper  # noqa: PLC0415

    g = model.graph
    nodes, count, made = [], 0, {}

    def const(value: float) -> str:
        name = made.get(value)
        if name is None:
            name = made[value] = f"gradflip_gelu_const_{len(made)}"
            g.initializer.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
        return name

    for n in g.node:
        if n.op_type != "Gelu" or n.domain not in ("", "ai.onnx") or len(n.input) != 1 or len(n.output) != 1:
            nodes.append(n)
            continue
        approx = next((a.s.decode() for a in n.attribute if a.name == "approximate"), "none")
        x, y, t = n.input[0], n.output[0], f"gradflip_gelu_{count}_"
        if approx == "tanh":
            inner = [helper.make_node("Mul", [x, x], [t + "x2"]), helper.make_node("Mul", [t + "x2", x], [t + "x3"]),
                     helper.make_node("Mul", [t + "x3", const(0.044715)], [t + "a"]),
                     helper.make_node("Add", [x, t + "a"], [t + "b"]),
                     helper.make_node("Mul", [t + "b", const(float(np.sqrt(2.0 / np.pi)))], [t + "c"]),
                     helper.make_node("Tanh", [t + "c"], [t + "s"])]
        else:
            inner = [helper.make_node("Div", [x, const(float(np.sqrt(2.0)))], [t + "c"]),
                     helper.make_node("Erf", [t + "c"], [t + "s"])]
        nodes.extend(inner + [helper.make_node("Add", [t + "s", const(1.0)], [t + "p"]),
                              helper.make_node("Mul", [x, t + "p"], [t + "q"]),
                              helper.make_node("Mul", [t + "q", const(0.5)], [y])])
        count += 1
    if count:
        del g.node[:]
        g.node.extend(nodes)
    return count


def split_to_slices(model) -> int:
    """Write each ``Split`` node whose piece sizes are known (a constant ``split`` input, or ``num_outputs`` and a
    static size of the split axis) out as ``Slice`` nodes, in place; returns how many. ONNX's version converter has
    no adapter for Split-18 (what the dynamo exporter writes for ``torch.chunk``/``torch.split``: ShuffleNet's
    channel shuffle, EfficientViT's attention) down to opset 17, so such a graph could not be converted at all;
    Slice is the same from opset 13 to 20."""
    import numpy as np  # noqa: PLC0415
    from onnx import helper, numpy_helper, shape_inference  # noqa: PLC0415

    g = model.graph
    if not any(n.op_type == "Split" and n.domain in ("", "ai.onnx") for n in g.node):
        return 0
    try:
        inferred = shape_inference.infer_shapes(model).graph
    except Exception:  # noqa: BLE001 - no shapes: only constant split sizes can be used
        inferred = g
    dims = {}
    for vi in (*inferred.value_info, *inferred.input, *inferred.output):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
            dims[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim]
    consts = {i.name: i for i in g.initializer}
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            consts[n.output[0]] = n.attribute[0].t
    nodes, count, made = [], 0, 0

    def const(values) -> str:
        nonlocal made
        name = f"gradflip_split_const_{made}"
        made += 1
        g.initializer.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    for n in g.node:
        sizes = None
        if n.op_type == "Split" and n.domain in ("", "ai.onnx"):
            axis = next((a.i for a in n.attribute if a.name == "axis"), 0)
            shape = dims.get(n.input[0])
            if axis < 0 and shape is not None:
                axis += len(shape)
            if len(n.input) > 1 and n.input[1]:
                if n.input[1] in consts:
                    sizes = [int(v) for v in numpy_helper.to_array(consts[n.input[1]]).reshape(-1)]
            elif shape is not None and 0 <= axis < len(shape) and shape[axis]:
                parts = next((a.i for a in n.attribute if a.name == "num_outputs"), len(n.output))
                step = -(-shape[axis] // parts)  # Split-18: pieces of ceil(size / parts), the last one smaller
                sizes = [min(step, shape[axis] - k * step) for k in range(parts)]
            if sizes is not None and (len(sizes) != len(n.output) or axis < 0 or min(sizes) < 0):
                sizes = None
        if sizes is None:
            nodes.append(n)
            continue
        start = 0
        for out, size in zip(n.output, sizes):
            if out:
                nodes.append(helper.make_node("Slice", [n.input[0], const([start]), const([start + size]), const([axis])], [out]))
            start += size
        count += 1
    if count:
        del g.node[:]
        g.node.extend(nodes)
    return count


_HIDDEN_DOMAIN = "gradflip.unchanged"
OPSET9_TYPES = frozenset(range(1, 14))  # TensorProto FLOAT ... UINT64 (no bfloat16, no float8)


def _at_opset17(onnx, path: Path, opset: int):
    """The ONNX file at ``path`` (read again, unchanged) converted to opset 17 with ONNX's version converter, then
    simplified as :func:`load_onnx` does. Going down (the dynamo exporter's opset 18+, the legacy one's 20): ``Split``
    nodes become ``Slice`` nodes, and ``Pad`` nodes without an ``axes`` input (the same operator at opset 13) and
    ``ConstantOfShape`` nodes of the old types are kept out of the converter's way, since it has no adapter down for
    any of them. Going up (opset 7-9 files, e.g. the ONNX
    model zoo's): converted first, as the converter needs the weights where the old exporter put them."""
    from onnx import helper  # noqa: PLC0415

    model = onnx.load(str(path))
    if opset > ONNX2TORCH_MAX_OPSET:
        fold_weight_nodes(model)
        decompose_gelu(model)
        split_to_slices(model)
        hidden = [n for n in model.graph.node if n.domain in ("", "ai.onnx") and (
            (n.op_type == "Pad" and len([i for i in n.input if i]) <= 3) or _same_at_opset9(n))]
        for n in hidden:
            n.domain = _HIDDEN_DOMAIN
        if hidden:
            model.opset_import.append(helper.make_opsetid(_HIDDEN_DOMAIN, 1))
        other = onnx.version_converter.convert_version(model, ONNX2TORCH_MAX_OPSET)
        for n in other.graph.node:
            if n.domain == _HIDDEN_DOMAIN:
                n.domain = ""
        kept = [o for o in other.opset_import if o.domain != _HIDDEN_DOMAIN]
        del other.opset_import[:]
        other.opset_import.extend(kept)
    else:
        other = onnx.version_converter.convert_version(model, ONNX2TORCH_MAX_OPSET)
        fold_weight_nodes(other)
        decompose_gelu(other)
    _drop_needless_allowzero(other)
    return other


def _same_at_opset9(node) -> bool:
    """A ``ConstantOfShape`` whose value has a type opset 9 knows: opset 20 added only types, and the converter has no
    20 -> 19 adapter (a ViT exported by ``torch.onnx.export(..., dynamo=False)`` at its default opset 20 was refused)."""
    if node.op_type != "ConstantOfShape":
        return False
    value = next((a.t for a in node.attribute if a.name == "value"), None)
    return value is None or value.data_type in OPSET9_TYPES


def _default_opset(model) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)


def refuse_training_export(model, path: Path) -> None:
    """An ONNX file exported from a model in training mode (``model.train()``): its Dropout nodes also output their
    mask and take a training flag, its BatchNormalization nodes carry ``training_mode`` 1 and output running
    statistics. Converted, such a network drops activations at random and normalises by each batch; the loader said
    "returned shape (10,)" (the Dropout's) or "uses an ONNX operator, which onnx2torch cannot convert"."""
    from onnx import numpy_helper

    consts = {t.name: t for t in model.graph.initializer}
    consts.update({n.output[0]: a.t for n in model.graph.node if n.op_type == "Constant" and n.output
                   for a in n.attribute if a.name == "value"})

    def on(name: str) -> bool:  # a training flag that is a constant True (a graph input: not judged)
        return name in consts and bool(numpy_helper.to_array(consts[name]).any())

    trained = sorted({n.op_type for n in model.graph.node if
                      (n.op_type == "Dropout" and len(n.input) > 2 and on(n.input[2]))
                      or (n.op_type == "BatchNormalization" and any(a.name == "training_mode" and a.i == 1 for a in n.attribute))})
    if trained:
        raise ModelError(f"{path.name} was exported from a model in training mode (its {' and '.join(trained)} nodes "
                         "train): export it again after model.eval()")


def _unsupported(path: Path, exc: Exception) -> ModelError:
    m = re.search(r"operation_type='([^']+)'.*?version=(\d+)", str(exc))
    what = f"the ONNX operator {m.group(1)} (opset {m.group(2)})" if m else "an ONNX operator"
    return ModelError(
        f"{path.name} uses {what}, which onnx2torch cannot convert to PyTorch, so GradFlip cannot take "
        f"gradients through it. Re-export the model without it or with another opset ({short_reason(exc, 200)})"
    )


class ChannelsLast(nn.Module):
    """A network that takes N x H x W x C input (TensorFlow's layout, kept by tf2onnx) fed N x C x H x W."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x.permute(0, 2, 3, 1))


class FixedBatch(nn.Module):
    """A network exported with a fixed batch size ``size`` > 1 (its Reshape nodes keep it: ``x.view(4, -1)``) fed
    any number of images: in batches of exactly ``size``, the last one filled up with copies of its last image,
    whose rows are dropped again."""

    def __init__(self, net: nn.Module, size: int):
        super().__init__()
        self.net = net
        self.size = size

    def forward(self, x):
        n, outs = x.shape[0], []
        for start in range(0, n, self.size):
            part = x[start : start + self.size]
            fill = self.size - part.shape[0]
            if fill:
                part = torch.cat([part, part[-1:].expand(fill, *part.shape[1:])])
            out = self.net(part)
            outs.append(out[: self.size - fill])
        return torch.cat(outs)


def input_preprocessing(shape: tuple[int, ...] | None, eight_bit: bool) -> Preprocessing | None:
    """The input settings an ONNX file's input shape (N x C x H x W) gives: its fixed height and width (224 x 224 when
    dynamic), its channel count; an 8-bit input takes 0-255 and normalises inside (mean 0, std 1/255), else ImageNet's
    mean and std (averaged for one channel, by Preprocessing, as for every other format). None: not 4-dimensional."""
    if shape is None or len(shape) != 4:
        return None
    c, h, w = shape[1], shape[2], shape[3]
    mean, std = ((0.0,), (1 / 255,)) if eight_bit else ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    return Preprocessing(input_size=(h, w) if h > 0 and w > 0 else (224, 224), channels=c if c in (1, 3) else 3,
                         mean=mean, std=std)


def input_guess(path: Path) -> Preprocessing | None:
    """What the loader will take from the ONNX file at ``path`` (:func:`input_preprocessing`), read from its graph
    without its weights, for the Load model dialog; None when the input's height and width are not fixed (the
    loader then finds them by trying) or the file cannot be read (loading it says why)."""
    try:
        _not_protobuf(path)
        onnx, _ = _onnx_modules()
        model = onnx.load(str(path), load_external_data=False)
        shape, eight_bit = _onnx_input_shape(model), onnx_input_type(model) == "uint8"
    except Exception:  # noqa: BLE001 - shown, not needed: the load reports the file's problem
        return None
    shape = as_nchw(shape)
    if shape is None or len(shape) != 4 or not (shape[2] > 0 and shape[3] > 0):
        return None
    return input_preprocessing(shape, eight_bit)


def _not_protobuf(path: Path) -> None:
    """ModelError when the file's first byte names no protobuf field (never 0): a file of zeros named .onnx was read
    whole (3 GiB: 18 s, 3.9 GB of memory) to say so."""
    with open(path, "rb") as f:
        first = f.read(1)
    if first[:1] in (b"", b"\x00") or first[0] & 7 in (3, 4, 6, 7):
        raise ModelError(f"cannot read ONNX file {path.name}: it is not an ONNX model (its first byte is no "
                         "protobuf field)")


def as_nchw(shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """A channels-last input shape (:func:`is_channels_last`) as N x C x H x W, as the wrapped network takes it; any
    other shape as it is."""
    return (shape[0], shape[3], shape[1], shape[2]) if is_channels_last(shape) else shape


def is_channels_last(shape: tuple[int, ...] | None) -> bool:
    """An input shape N x H x W x C: 1 or 3 last, and the second dimension not a channel count (0 = dynamic)."""
    return shape is not None and len(shape) == 4 and shape[3] in (1, 3) and shape[1] not in (1, 3)


def _missing_external_data(onnx, path: Path) -> str | None:
    """The name of the external data file that ``path``'s weights refer to and that is not there, or None."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - not readable even so: the load's own reason stands
        return None
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            where = next((e.value for e in tensor.external_data if e.key == "location"), "")
            if where and not (path.parent / where).is_file():
                return where
    return None


def load_onnx(path: Path, notes: list[str] | None = None) -> tuple[nn.Module, tuple[int, ...] | None]:
    """Convert the ONNX file at ``path`` to a PyTorch module; returns (module, input shape N x C x H x W or None;
    a channels-last input, N x H x W x C, is wrapped to take N x C x H x W).

    Before conversion: weights routed through Identity/Constant nodes are folded back into
    initializers, Gelu nodes (opset 20) are written out in older operators; a model above opset 17 (the dynamo exporter writes 18+) whose operators onnx2torch
    does not convert is converted down to opset 17 with ONNX's version converter.
    """
    notes = notes if notes is not None else []
    onnx, onnx2torch = _onnx_modules()
    # onnx2torch's Slice indexes with a list (torch deprecates it): printed on every run of every such model,
    # a warning about onnx2torch's code that the user can do nothing about
    warnings.filterwarnings("ignore", message="Using a non-tuple sequence for multidimensional indexing",
                            category=UserWarning)
    _not_protobuf(path)  # an ONNX file is a protobuf message, whose first byte names a field
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001
        missing = _missing_external_data(onnx, path)
        if missing:  # torch.onnx.export writes NAME.onnx.data next to NAME.onnx; copying the .onnx alone is easy
            raise ModelError(f"cannot read ONNX file {path.name}: its weights are in a separate file, {missing}, "
                             f"which is not next to it; put {missing} in the folder of {path.name}") from None
        raise ModelError(f"cannot read ONNX file {path.name}: {short_reason(exc)}") from None
    refuse_training_export(model, path)
    shape = _onnx_input_shape(model)
    eight_bit = onnx_input_type(model) == "uint8"  # the loader feeds 0-255 (mean 0, std 1/255); said here
    if eight_bit:
        notes.append(f"{path.name} takes 8-bit input (uint8, 0–255, normalised inside the model): pixels are fed as "
                     "0–255 (mean 0, std 1/255) unless the mean and std are set")
    try:
        folded = fold_weight_nodes(model)
        _drop_needless_allowzero(model)
        decompose_gelu(model)
    except Exception as exc:  # noqa: BLE001 - a malformed graph: let the converter name the problem
        folded = 0
        notes.append(f"could not simplify the ONNX graph before conversion: {short_reason(exc, 120)}")
    if folded:
        notes.append(f"{folded} weight node{'' if folded == 1 else 's'} of {path.name} (Identity/Constant) folded into initializers")
    try:
        net = onnx2torch.convert(model)
    except NotImplementedError as exc:
        opset = _default_opset(model)
        if opset == ONNX2TORCH_MAX_OPSET or opset < 1:
            raise _unsupported(path, exc) from None
        try:  # e.g. ReduceMean-18 (axes as an input), or BatchNormalization-7 (ONNX model zoo files): at opset 17 it converts
            net = onnx2torch.convert(_at_opset17(onnx, path, opset))
        except NotImplementedError as exc2:
            raise _unsupported(path, exc2) from None
        except Exception:  # noqa: BLE001 - the version converter could not do it: report the first problem
            raise _unsupported(path, exc) from None
        notes.append(f"{path.name} (opset {opset}) converted to opset {ONNX2TORCH_MAX_OPSET} for onnx2torch")
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot convert ONNX file {path.name} to PyTorch: {short_reason(exc)}") from None
    if shape is not None and len(shape) >= 1 and shape[0] > 1:  # a fixed batch of 4: one image could not pass
        notes.append(f"{path.name} takes a fixed batch of {shape[0]} images: each image is fed in a batch of "
                     f"{shape[0]} (filled up with copies)")
        net = FixedBatch(net, shape[0])
    if is_channels_last(shape):  # N x H x W x C: fed permuted; the shape returned is the N x C x H x W one
        notes.append(f"{path.name} takes channels-last input (N×H×W×C, as TensorFlow models do): images are fed that way")
        net, shape = ChannelsLast(net), as_nchw(shape)
    net.eight_bit_input = eight_bit  # read by the loader: its default mean and std
    return net, shape
