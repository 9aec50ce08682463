"""What the Load model dialog shows for an ONNX file with no saved settings: the input its graph fixes, the same as
the loader then uses (a 28 x 28 grayscale file showed 3 x 224 x 224 as a "generic guess")."""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch
from model_helpers import SmallCNN, export_onnx

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import files as mf

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
pytestmark = pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra (onnx, onnx2torch) is not installed")


class PooledCNN(torch.nn.Module):
    """Runs on any input size (global pooling): exported with a dynamic height and width."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


class Uint8ChannelsLast(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = SmallCNN(channels=3, classes=5, size=40, seed=3)

    def forward(self, x):
        return self.cnn(x.permute(0, 3, 1, 2).float() / 255.0)


def _same(shown, loaded):
    assert tuple(shown.input_size) == tuple(loaded.input_size)
    assert shown.channels == loaded.channels
    assert shown.mean == pytest.approx(loaded.mean) and shown.std == pytest.approx(loaded.std)


def test_a_fixed_grayscale_input_is_shown_as_the_loader_uses_it(tmp_path):
    path = tmp_path / "mnist_like.onnx"
    export_onnx(SmallCNN(channels=1, classes=10, size=28, seed=1), path, size=28, channels=1)
    info = mf.inspect_model_file(path)
    assert info.preprocessing is None and info.guess is not None
    assert tuple(info.guess.input_size) == (28, 28) and info.guess.channels == 1
    _same(info.guess, mf.load_model_file(path).preprocessing)


def test_an_8bit_channels_last_input_is_shown_as_the_loader_uses_it(tmp_path):
    path = tmp_path / "tf_uint8.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Uint8ChannelsLast().eval(), torch.zeros(1, 40, 40, 3, dtype=torch.uint8), str(path),
                          dynamo=False, input_names=["image"])
    guess = mf.inspect_model_file(path).guess
    assert guess is not None and tuple(guess.input_size) == (40, 40) and guess.channels == 3  # N x H x W x C read
    assert guess.mean == pytest.approx((0.0,) * len(guess.mean)) and guess.std[0] == pytest.approx(1 / 255)
    _same(guess, mf.load_model_file(path).preprocessing)


def test_a_dynamic_input_size_is_left_to_the_loader(tmp_path):
    path = tmp_path / "pooled.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(PooledCNN().eval(), torch.zeros(1, 3, 64, 64), str(path), dynamo=False, input_names=["image"],
                          dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}})
    assert mf.inspect_model_file(path).guess is None  # no size to show: the dialog says its values are a guess


def test_a_file_that_is_no_onnx_model_gives_no_guess_and_no_error(tmp_path, monkeypatch):
    import onnx

    path = tmp_path / "zeros.onnx"
    path.write_bytes(b"\0" * (1 << 20))
    parsed = []
    monkeypatch.setattr(onnx, "load", lambda *a, **k: parsed.append(a) or pytest.fail("parsed"))
    info = mf.inspect_model_file(path)
    assert info.guess is None and info.format == "onnx"
    assert parsed == []  # the first byte says it: a file of zeros is not parsed (3 GiB took 18 s)
    with pytest.raises(ModelError, match="not an ONNX model"):
        mf.load_model_file(path)


# O01 (is_channels_last: the test that the second dimension is no channel count dropped): an N x C x H x W input whose
# width happens to be 1 or 3 (a 3 x 32 x 3 strip, a 1 x 28 x 1 column) is read as it is, not as N x H x W x C
def test_an_input_with_a_channel_count_second_is_not_read_as_channels_last():
    from gradflip_desktop.core.models.files.onnx import input_preprocessing, is_channels_last

    assert is_channels_last((1, 224, 224, 3)) and is_channels_last((1, 28, 28, 1))
    for shape in ((1, 3, 32, 3), (1, 1, 28, 1), (1, 3, 3, 3)):
        assert not is_channels_last(shape), shape
    pre = input_preprocessing((1, 3, 32, 3), False)
    assert pre.input_size == (32, 3) and pre.channels == 3


# O02 (input_preprocessing: channels=c if c in (1, 3) else 3 -> channels=c): a dynamic (0) or unusual channel
# dimension is read as 3 channels (an RGB photo), not taken as is
def test_a_dynamic_or_odd_channel_count_is_read_as_rgb():
    from gradflip_desktop.core.models.files.onnx import input_preprocessing

    for c in (0, 4):
        pre = input_preprocessing((1, c, 0, 0), False)
        assert pre.channels == 3 and tuple(pre.input_size) == (224, 224)
    assert input_preprocessing((1, 1, 28, 28), True).channels == 1


# O03 (input_guess: a channels-last shape's H and W swapped when it is turned to N x C x H x W): the Load model dialog
# shows a 24 x 32 (height x width) TensorFlow-layout file's input as 24 x 32, as the loader takes it
def test_a_channels_last_files_guess_keeps_its_height_and_width(tmp_path):
    import importlib.util

    import pytest

    if not all(importlib.util.find_spec(m) for m in ("onnx", "onnx2torch")):
        pytest.skip("the 'onnx' extra is not installed")
    import onnx
    from onnx import TensorProto, helper

    from gradflip_desktop.core.models.files.onnx import input_guess

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 24, 32, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 24, 32, 3])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "nhwc.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    pre = input_guess(path)
    assert pre is not None and tuple(pre.input_size) == (24, 32) and pre.channels == 3


# O04 (input_guess: only the height checked for a fixed size): a file whose width is dynamic gets no guess (the loader
# finds the size by trying); the mutant showed 224 x 224 for a file fixed at 24 px high
def test_a_file_with_a_dynamic_width_gets_no_guess(tmp_path):
    import importlib.util

    import pytest

    if not all(importlib.util.find_spec(m) for m in ("onnx", "onnx2torch")):
        pytest.skip("the 'onnx' extra is not installed")
    import onnx
    from onnx import TensorProto, helper

    from gradflip_desktop.core.models.files.onnx import input_guess

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 24, "width"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 24, "width"])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "dynamic_width.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    assert input_guess(path) is None
