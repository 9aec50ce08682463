"""ONNX model files, converted with onnx2torch so that gradients exist."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import warnings

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_same_logits, assert_short_run, export_onnx, pixel_gradient

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import files as mf

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra (onnx, onnx2torch) is not installed")


@needs_onnx
def test_onnx_model_converts_with_gradients_and_explains(tmp_path, image):
    net = SmallCNN(channels=3, classes=5, size=32, seed=4).eval()
    path = tmp_path / "tiny.onnx"
    export_onnx(net, path, 32)
    labels = tmp_path / "tiny.json"
    labels.write_text(json.dumps(["ant", "bee", "cat", "dog", "eel"]), encoding="utf-8")
    clf = mf.load_model_file(path, labels=labels)
    assert clf.num_classes == 5 and clf.labels[2] == "cat"
    assert clf.preprocessing.input_size == (32, 32)  # from the ONNX input shape
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    mean = torch.tensor(clf.preprocessing.mean).view(1, 3, 1, 1)
    std = torch.tensor(clf.preprocessing.std).view(1, 3, 1, 1)
    torch.testing.assert_close(clf.module(x), net((x - mean) / std), atol=1e-5, rtol=1e-5)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0
    assert_short_run(clf, image)


def test_onnx_missing_extra_says_how_to_install(tmp_path, monkeypatch):
    path = tmp_path / "tiny.onnx"
    path.write_bytes(b"\x08\x07")  # never read: the extra is checked first
    monkeypatch.setitem(sys.modules, "onnx2torch", None)  # import fails as if not installed
    with pytest.raises(ModelError, match=r"loading ONNX files needs the optional extra 'onnx' \(onnx2torch is not installed\): pip install onnx onnx2torch \(GradFlip's extra 'onnx'\)"):
        mf.load_model_file(path)


@needs_onnx
def test_onnx_unsupported_operator_is_named(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("Hardmax", ["flat"], ["logits"]),
        ],
        "hardmax",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])],
    )
    path = tmp_path / "hard.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ModelError, match=r"hard\.onnx uses the ONNX operator Hardmax \(opset 13\), which onnx2torch cannot convert"):
        mf.load_model_file(path)


@needs_onnx
@pytest.mark.parametrize("dynamo", [False, True], ids=["legacy-exporter", "dynamo-exporter"])
def test_torchvision_resnet18_exported_both_ways_matches_torch(tmp_path, image, dynamo):
    """The most common ONNX file: torchvision ResNet-18 from torch.onnx.export. The legacy exporter routes
    deduplicated weights through Identity nodes; the dynamo exporter writes opset 18+ (ReduceMean with
    axes as an input, Reshape allowzero=1). Both convert, and the logits equal the source model's."""
    if dynamo:
        pytest.importorskip("onnxscript")  # the dynamo exporter needs it
    tv = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    net = tv.models.resnet18(num_classes=10).eval()
    path = tmp_path / "r18.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(net, (torch.zeros(1, 3, 64, 64),), str(path), dynamo=True, input_names=["image"], output_names=["logits"])
        else:
            torch.onnx.export(net, torch.zeros(1, 3, 64, 64), str(path), dynamo=False, opset_version=17,
                              input_names=["image"], output_names=["logits"])
    import onnx

    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert ("Identity" in ops) if not dynamo else ("ReduceMean" in ops)  # the graph shapes that used to fail
    clf = mf.load_model_file(path)
    assert clf.num_classes == 10 and clf.preprocessing.input_size == (64, 64)
    if not dynamo:
        assert any("(Identity/Constant) folded into initializers" in w for w in clf.warnings)
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))  # the dynamo export fixes batch 1
    mean = torch.tensor(clf.preprocessing.mean).view(1, 3, 1, 1)
    std = torch.tensor(clf.preprocessing.std).view(1, 3, 1, 1)
    with torch.no_grad():
        ref = net((x - mean) / std)
    torch.testing.assert_close(clf.module(x), ref, atol=1e-4, rtol=1e-4)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0
    assert_short_run(clf, image)


@needs_onnx
def test_constant_weights_are_folded(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).normal(size=(4, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Constant", [], ["w"], value=numpy_helper.from_array(w, "w")),
            helper.make_node("Conv", ["image", "w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("GlobalAveragePool", ["c"], ["p"]),
            helper.make_node("Flatten", ["p"], ["logits"]),
        ],
        "const",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])],
    )
    path = tmp_path / "const.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    clf = mf.load_model_file(path, preprocessing={"mean": [0.0], "std": [1.0]})
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    ref = torch.nn.functional.conv2d(x, torch.from_numpy(w), padding=1).mean((2, 3))
    torch.testing.assert_close(clf.module(x), ref, atol=1e-5, rtol=1e-5)
    assert "1 weight node of const.onnx (Identity/Constant) folded into initializers" in clf.warnings


@needs_onnx
def test_an_onnx_binary_model_ending_in_a_sigmoid_is_read_as_its_probability(tmp_path, image):
    net = SmallCNN(channels=3, classes=1, size=32, seed=4).eval()
    path = tmp_path / "binary.onnx"
    export_onnx(torch.nn.Sequential(net, torch.nn.Sigmoid()).eval(), path, 32)
    clf = mf.load_model_file(path, labels=["no", "yes"])
    assert any(w.startswith("binary.onnx ends in a sigmoid") for w in clf.warnings)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    mean = torch.tensor(clf.preprocessing.mean).view(1, 3, 1, 1)
    std = torch.tensor(clf.preprocessing.std).view(1, 3, 1, 1)
    with torch.no_grad():
        p = float(torch.sigmoid(net((x - mean) / std))[0, 0])
        assert float(torch.softmax(clf.module(x)[0].double(), 0)[1]) == pytest.approx(p, rel=1e-4)


@needs_onnx
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_dynamo_export_with_gelu_converts(tmp_path, image, approximate):
    """Transformers and ConvNeXts use GELU; the dynamo exporter (torch.onnx.export's default) writes it as the
    opset-20 operator Gelu, which has no earlier version to convert down to and which onnx2torch does not
    convert: timm's ViT and ConvNeXt exports were refused. Gelu is written out in operators every opset has."""
    pytest.importorskip("onnxscript")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.conv, self.act, self.fc = torch.nn.Conv2d(3, 8, 3), torch.nn.GELU(approximate=approximate), torch.nn.Linear(8, 5)

        def forward(self, x):
            return self.fc(self.act(self.conv(x)).mean((2, 3)) * 3.0)

    net = Net().eval()
    path = tmp_path / "gelu.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 32, 32),), str(path), dynamo=True, input_names=["image"], output_names=["logits"])
    import onnx

    assert "Gelu" in {n.op_type for n in onnx.load(str(path)).graph.node}  # the graph that used to fail
    clf = mf.load_model_file(path)
    assert_same_logits(clf, net, 32)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0


class _ChannelsLast(torch.nn.Module):
    """Takes N x H x W x C input, as models converted from TensorFlow/Keras (tf2onnx) do."""

    def __init__(self, channels: int = 3):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.fc = torch.nn.Conv2d(channels, 4, 3), torch.nn.Linear(4 * 14 * 14, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x.permute(0, 3, 1, 2))).flatten(1))


@needs_onnx
@pytest.mark.parametrize("channels", [3, 1])
def test_a_channels_last_onnx_model_gets_channels_last_input(tmp_path, image, channels):
    """An ONNX input of shape [1, 16, 16, 3] (TensorFlow's layout) was read as 16 channels of 16 x 3 pixels and
    refused ("failed on a 1×3×16×3 input"); it is fed N x H x W x C, and its logits are the model's."""
    net = _ChannelsLast(channels).eval()
    path = tmp_path / "keras.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 16, 16, channels), str(path), dynamo=False, opset_version=17,
                          input_names=["image"], output_names=["logits"])
    clf = mf.load_model_file(path)
    pre = clf.preprocessing
    assert pre.input_size == (16, 16) and pre.channels == channels and clf.num_classes == 5
    assert any("channels-last" in w for w in clf.warnings), clf.warnings
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    if channels == 1:
        x_in = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    else:
        x_in = x
    x_in = (x_in - torch.tensor(pre.mean).view(1, -1, 1, 1)) / torch.tensor(pre.std).view(1, -1, 1, 1)
    with torch.no_grad():
        ref = net(x_in.permute(0, 2, 3, 1))
    torch.testing.assert_close(clf.module(x), ref, atol=1e-5, rtol=1e-5)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0


class _SplitPad(torch.nn.Module):
    """torch.chunk and F.pad: the dynamo exporter writes Split-18 (num_outputs) and Pad-18, for which ONNX's
    version converter has no adapter down to opset 17 (ShuffleNet's channel shuffle, EfficientViT's attention)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.fc = torch.nn.Conv2d(3, 6, 3), torch.nn.Linear(6, 5)

    def forward(self, x):
        a, b = torch.chunk(self.conv(x), 2, dim=1)
        y = torch.cat([torch.relu(b), a], 1)
        y = torch.nn.functional.pad(y, (1, 1, 1, 1))
        return self.fc(y.mean((2, 3)) * 3.0)


@needs_onnx
def test_dynamo_export_with_split_and_pad_converts(tmp_path, image):
    """A torchvision ShuffleNetV2 or timm EfficientViT exported with torch.onnx.export's default (dynamo) was
    refused ("uses the ONNX operator Reshape (opset 19)"): the conversion to opset 17 failed on Split and Pad."""
    pytest.importorskip("onnxscript")
    net = _SplitPad().eval()
    path = tmp_path / "split.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 32, 32),), str(path), dynamo=True, input_names=["image"], output_names=["logits"])
    import onnx

    assert {"Split", "Pad"} <= {n.op_type for n in onnx.load(str(path)).graph.node}  # the graph that used to fail
    clf = mf.load_model_file(path)
    assert any("converted to opset 17" in w for w in clf.warnings)
    assert_same_logits(clf, net, 32)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0


@needs_onnx
def test_an_old_opset_file_is_converted_up(tmp_path, image):
    """ONNX model zoo classifiers (resnet50-v1-7.onnx, mobilenetv2-7.onnx, ...) are opset 7: onnx2torch has no
    BatchNormalization-7 converter and they were refused; they are converted up to opset 17 first."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 5)).eval()
    net[1].running_mean.uniform_(-1, 1)
    path = tmp_path / "zoo-7.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 3, 32, 32), str(path), dynamo=False, opset_version=7,
                          input_names=["image"], output_names=["logits"])
    clf = mf.load_model_file(path)
    assert "zoo-7.onnx (opset 7) converted to opset 17 for onnx2torch" in clf.warnings
    assert_same_logits(clf, net, 32)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0


def test_onnx2torch_slice_warning_is_not_printed_on_every_run(tmp_path):
    """A model that crops (a multi-axis Slice) printed torch's "non-tuple sequence for multidimensional
    indexing" warning from onnx2torch's code at every pass: a user can do nothing about it."""
    import subprocess

    class Crop(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3 * 8 * 8, 4)

        def forward(self, x):
            return self.fc(x[:, :, 2:10, 3:11].flatten(1))

    path = tmp_path / "crop.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Crop().eval(), torch.rand(1, 3, 16, 16), str(path), dynamo=False, opset_version=13)
    code = ("import numpy as np; from gradflip_desktop.core.models.files.load import load_model_file; "
            f"clf = load_model_file({str(path)!r}); print(clf.classify(np.full((16, 16, 3), 0.5, 'float32'))[0].index)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "non-tuple sequence" not in done.stderr and done.stdout.strip().isdigit()


@needs_onnx
def test_a_file_of_zeros_named_onnx_is_refused_from_its_first_byte(tmp_path, monkeypatch):
    """A 3 GiB file of zeros named .onnx was read whole (18 s, 3.9 GB of memory) before protobuf said "Wire
    format was corrupt"; a protobuf message never starts with field 0, so its first byte refuses it."""
    import onnx

    read = []
    monkeypatch.setattr(onnx, "load", lambda *a, **k: read.append(a))
    path = tmp_path / "zeros.onnx"
    with open(path, "wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: 64 MB of zeros
    with pytest.raises(ModelError, match=r"cannot read ONNX file zeros.onnx: it is not an ONNX model"):
        mf.load_model_file(path)
    assert read == []


@needs_onnx
def test_onnx_file_copied_without_its_external_data_names_the_missing_file(tmp_path):
    # torch.onnx.export (dynamo, torch's default) writes NAME.onnx.data next to NAME.onnx; the .onnx copied alone said
    # "Data of TensorProto ( tensor name: conv.weight) should be stored in /…/m.onnx.data, but it is not regular file."
    import onnx

    path = tmp_path / "m.onnx"
    export_onnx(SmallCNN(channels=3, size=32), path, 32)
    model = onnx.load(str(path))
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="m.onnx.data", size_threshold=0)
    assert mf.load_model_file(path).num_classes > 0  # with its data file: loads
    (tmp_path / "m.onnx.data").unlink()
    with pytest.raises(ModelError, match=r"^cannot read ONNX file m.onnx: its weights are in a separate file, "
                                         r"m.onnx.data, which is not next to it; put m.onnx.data in the folder of m.onnx$"):
        mf.load_model_file(path)


def test_a_torchscript_file_or_state_dict_named_onnx_loads_by_its_bytes(tmp_path):
    """A TorchScript file renamed .onnx gave protobuf's "Wire format was corrupt", with no word of what it is; a
    PyTorch file's bytes (a zip archive, a pickle, safetensors) now say its format, whatever its name says."""
    net = SmallCNN().eval()
    scripted = tmp_path / "scripted.onnx"
    torch.jit.save(torch.jit.script(net), str(scripted))
    assert mf.detect_format(scripted) == "torchscript"
    state = tmp_path / "weights.onnx"
    torch.save(net.state_dict(), state)
    assert mf.detect_format(state) == "state_dict"
    clf = mf.load_model_file(scripted, preprocessing={"input_size": [28, 28], "channels": 1})
    assert clf.num_classes == 10 and clf.name == "scripted.onnx (TorchScript, 10 classes)"
    assert clf.warnings[0].startswith("scripted.onnx is TorchScript: loading it runs code stored in the file")


@needs_onnx
def test_a_legacy_export_at_its_default_opset_20_with_constant_of_shape_loads(tmp_path, image):
    """A ViT exported by ``torch.onnx.export(..., dynamo=False)`` at its default opset (20) was refused: ONNX's
    converter has no 20 -> 19 adapter for ConstantOfShape (its class token's expand), and the message named the
    first operator, Constant. ConstantOfShape of the old types is kept out of the converter's way."""
    import onnx

    class TokenNet(torch.nn.Module):  # a class token expanded over the batch, as ViTs do
        def __init__(self):
            super().__init__()
            self.patch = torch.nn.Conv2d(3, 8, 8, stride=8)
            self.token = torch.nn.Parameter(torch.randn(1, 1, 8))
            self.head = torch.nn.Linear(8, 5)

        def forward(self, x):
            t = self.patch(x).flatten(2).transpose(1, 2)
            t = torch.cat([self.token.expand(x.shape[0], -1, -1), t], dim=1)
            return self.head(t.mean(1))

    torch.manual_seed(0)
    net = TokenNet().eval()
    path = tmp_path / "tokens.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 3, 32, 32), str(path), dynamo=False, opset_version=20,
                          input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "n"}})
    model = onnx.load(str(path))
    assert {n.op_type for n in model.graph.node} >= {"ConstantOfShape"}
    clf = mf.load_model_file(path)
    assert_same_logits(clf, net, 32)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0


@needs_onnx
def test_a_one_channel_file_is_assumed_the_same_preprocessing_as_its_torchscript_twin(tmp_path):
    """The same 28 x 28 grey network: as TorchScript it was assumed ImageNet's mean and std averaged (0.449 / 0.226),
    as ONNX 0.5 / 0.5, and the two files gave another top class on the same photo."""
    from model_helpers import script

    net = SmallCNN(channels=1, classes=10, size=28)
    export_onnx(net, tmp_path / "grey.onnx", 28, channels=1)
    script(net, tmp_path / "grey.pt")
    onnx_clf = mf.load_model_file(tmp_path / "grey.onnx")
    ts_clf = mf.load_model_file(tmp_path / "grey.pt")
    for clf in (onnx_clf, ts_clf):
        pre = clf.preprocessing
        assert pre.channels == 1 and pre.input_size == (28, 28)
        assert pre.mean == pytest.approx((0.449,), abs=1e-3) and pre.std == pytest.approx((0.226,), abs=1e-3)
    photo = np.random.default_rng(1).uniform(0, 1, (40, 40, 3)).astype(np.float32)
    assert onnx_clf.classify(photo)[0].index == ts_clf.classify(photo)[0].index
    # the ONNX file's fixed size is read from it, not assumed (it read "assuming 28×28 input" beside the assumed
    # mean and std); the TorchScript file's is found by trying sizes, and said as assumed
    assert any("no preprocessing settings for grey.onnx: its input is 28×28 (the file says so); assuming grayscale, mean"
               in w for w in onnx_clf.warnings), onnx_clf.warnings
    assert any("no preprocessing settings for grey.pt: assuming 28×28 input, grayscale" in w for w in ts_clf.warnings)


def test_an_onnx_file_exported_in_training_mode_is_refused_saying_so(tmp_path):
    """Exported from model.train(), Dropout nodes take a constant True training flag and BatchNormalization nodes
    carry training_mode 1: the loader said "the model returned shape (10,)" or "uses an ONNX operator, which onnx2torch
    cannot convert". It says what the file is and what to do; the same networks exported in eval mode load."""
    from torch import nn

    nets = {"Dropout": nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 10)),
            "BatchNormalization": nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                                nn.Linear(4, 10))}
    for op, net in nets.items():
        for mode, training in (("train", torch.onnx.TrainingMode.TRAINING), ("eval", torch.onnx.TrainingMode.EVAL)):
            path = tmp_path / f"{op}_{mode}.onnx"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(getattr(net, mode)(), torch.zeros(1, 3, 32, 32), str(path), dynamo=False, training=training,
                                  do_constant_folding=False, input_names=["image"], output_names=["logits"])
            if mode == "train":
                with pytest.raises(ModelError, match=rf"^{op}_train\.onnx was exported from a model in training mode "
                                                     rf"\(its {op} nodes train\): export it again after model\.eval\(\)$"):
                    mf.load_model_file(path)
            else:
                assert mf.load_model_file(path).num_classes == 10
