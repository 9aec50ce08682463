"""TorchScript model files: trust, grayscale input, input-size errors, single-logit binary classifiers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, pixel_gradient, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import files as mf


def test_torchscript_warns_that_it_runs_code_and_can_be_refused(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(), path)
    assert mf.detect_format(path) == "torchscript"
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert any("runs code stored in the file" in w for w in clf.warnings)
    with pytest.raises(ModelError, match=r"digits\.pt is a TorchScript file\. Loading TorchScript runs code"):
        mf.load_model_file(path, trust_torchscript=False)


def test_torchscript_grayscale_model_with_labels_and_preprocessing(tmp_path, image):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    labels = tmp_path / "digits.txt"
    labels.write_text("".join(f"digit {i}\n" for i in range(10)), encoding="utf-8")
    pre = {"input_size": 28, "channels": 1, "mean": [0.1307], "std": [0.3081]}
    clf = mf.load_model_file(path, trust_torchscript=True, labels=labels, preprocessing=pre)
    assert clf.num_classes == 10 and clf.labels[3] == "digit 3"
    assert clf.preprocessing.channels == 1 and clf.preprocessing.input_size == (28, 28)
    assert clf.preprocessing.mean == (0.1307,) and clf.preprocessing.std == (0.3081,)
    assert "digits.pt is TorchScript: loading it runs code stored in the file; use only model files you trust" in clf.warnings
    g = pixel_gradient(clf, image)
    assert g.shape == (1, 3, 48, 64) and float(g.abs().sum()) > 0
    assert_short_run(clf, image)


def test_torchscript_channel_count_is_detected_when_only_the_size_is_given(tmp_path):
    path = tmp_path / "gray.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing={"input_size": [28, 28]})
    assert clf.preprocessing.channels == 1
    assert "the model takes 1-channel input: using grayscale (luma) input" in clf.warnings
    # three values of one's own for a model found to take one channel are averaged, and the note says so (silent)
    given = {"input_size": [28, 28], "mean": [0.5, 0.5, 0.5], "std": [0.1, 0.2, 0.3]}
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing=given)
    assert clf.preprocessing.mean == (0.5,) and clf.preprocessing.std == pytest.approx((0.2,))
    assert ("the model takes 1-channel input: using grayscale (luma) input, with the average of the mean and std "
            "given for 3 channels (mean 0.5, std 0.2; give one value each for this model)") in clf.warnings
    given = {"input_size": [28, 28], "mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2, 0.2]}  # alike: averaging changes nothing
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing=given)
    assert "the model takes 1-channel input: using grayscale (luma) input" in clf.warnings


def test_model_that_cannot_take_the_input_size_says_so(tmp_path):
    """A model that runs at none of the common sizes (30 px) and was given none is refused, naming the setting;
    one given a size it cannot take is refused at once (no guessing over the user's setting)."""
    path = tmp_path / "odd.pt"
    script(SmallCNN(channels=1, classes=10, size=30), path)
    with pytest.raises(ModelSettingError, match=r"odd\.pt failed on a 1×3×224×224 input .*check the input size and channel count$") as err:
        mf.load_model_file(path, trust_torchscript=True)
    assert err.value.setting == "preprocessing"  # the CLI adds "(--input-size, --channels)"
    digits = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), digits)
    with pytest.raises(ModelSettingError, match=r"digits\.pt failed on a 1×1×64×64 input"):
        mf.load_model_file(digits, trust_torchscript=True, preprocessing={"input_size": [64, 64], "channels": 1})


class _RaisesItsOwnError(torch.nn.Module):
    def forward(self, x):
        if bool(x.mean() > -10.0):
            raise RuntimeError("not initialised: call setup() first")
        return x.flatten(1)[:, :10]


def test_a_model_whose_own_code_raises_is_not_sent_to_the_input_size(tmp_path):
    """Its error is not one of shape: "check the input size and channel count" misled (found in a hunt)."""
    path = tmp_path / "boom.pt"
    torch.jit.script(_RaisesItsOwnError()).save(str(path))
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, trust_torchscript=True, preprocessing={"input_size": [32, 32]})
    text = str(err.value)
    assert "not initialised: call setup() first" in text and "own code raised it" in text
    assert "input size" not in text and not isinstance(err.value, ModelSettingError)


@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 32), (3, 96)])
def test_a_model_file_without_settings_runs_at_the_common_size_it_takes(tmp_path, image, channels, size):
    """A TorchScript MNIST/CIFAR model without a sidecar was refused ("failed on a 1×3×224×224 input"): the
    first common size (and channel count) it runs on is used, and a note says so."""
    path = tmp_path / "small.pt"
    script(SmallCNN(channels=channels, classes=10, size=size), path)
    clf = mf.load_model_file(path, trust_torchscript=True)
    assert clf.preprocessing.input_size == (size, size) and clf.preprocessing.channels == channels
    assert clf.num_classes == 10
    assert any(f"it runs on {size}×{size}: using that" in w for w in clf.warnings)
    assert clf.probabilities(image).shape == (10,)


def test_single_logit_binary_classifier_is_two_classes(tmp_path, image):
    path = tmp_path / "binary.pt"
    script(SmallCNN(channels=3, classes=1, size=16, seed=2), path)
    pre = {"input_size": 16}
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing=pre, labels=["no cat", "cat"])
    assert clf.num_classes == 2 and clf.labels == ["no cat", "cat"]
    bare = mf.load_model_file(path, trust_torchscript=True, preprocessing=pre)
    assert any("classes are named 'class 0' and 'class 1' (give a labels file)" in w for w in bare.warnings)  # not "…"
    with pytest.raises(ModelError, match=r"^1 label was given but binary\.pt has 2 classes"):
        mf.load_model_file(path, trust_torchscript=True, preprocessing=pre, labels=["cat"])
    z = clf.logits(image)
    assert z.shape == (1, 2) and float(z[0, 0]) == 0.0
    p = clf.probabilities(image)
    assert p[1] == pytest.approx(float(torch.sigmoid(z[0, 1].double())), rel=1e-6)
    assert_short_run(clf, image)
    with pytest.raises(ModelError, match=r"3 labels were given but binary\.pt has 2 classes \(a single-logit binary classifier needs 2 labels"):
        mf.load_model_file(path, trust_torchscript=True, preprocessing=pre, labels=["a", "b", "c"])


class _Squeezed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=1, size=16, seed=2)

    def forward(self, x):
        return self.net(x).squeeze(1)  # one score per image, shape [N]: common in binary models


def test_a_binary_model_returning_shape_n_is_read_as_its_single_logit(tmp_path, image):
    """It was refused ("the model returned shape (1,)"); it is the [N, 1] logit it stands for."""
    path = tmp_path / "squeezed.pt"
    torch.jit.save(torch.jit.script(_Squeezed().eval()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": 16}, labels=["no cat", "cat"])
    ref = tmp_path / "binary.pt"
    script(SmallCNN(channels=3, classes=1, size=16, seed=2), ref)
    twin = mf.load_model_file(ref, preprocessing={"input_size": 16}, labels=["no cat", "cat"])
    assert clf.num_classes == 2
    np.testing.assert_allclose(clf.probabilities(image), twin.probabilities(image), rtol=1e-6)
    assert_short_run(clf, image)


def test_half_precision_torchscript_is_computed_in_float32(tmp_path, image):
    """A model scripted after .half(): not refused as if its input size were wrong, but run in float32."""
    path = tmp_path / "half.pt"
    net = SmallCNN(channels=3, classes=4, size=28).eval()
    torch.jit.save(torch.jit.script(net.half()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert "half.pt stores float16 weights: computing in float32" in clf.warnings
    assert all(p.dtype == torch.float32 for p in clf.module.parameters())
    reference = net.float()(torch.full((1, 3, 28, 28), 0.5).sub(torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
                            .div(torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)))
    torch.testing.assert_close(clf.logits(torch.full((1, 3, 28, 28), 0.5)), reference, rtol=0, atol=0)
    g = pixel_gradient(clf, image)
    assert float(g.abs().sum()) > 0


def test_a_model_ending_in_softmax_shows_its_own_probabilities(tmp_path, image):
    """A deployment export that ends in softmax: GradFlip's softmax on top would show a 55 % decision as
    ~15 %; its outputs are recognised as probabilities and their logarithm used (softmax(log p) = p)."""
    net = SmallCNN(channels=3, classes=4, size=28).eval()
    with torch.no_grad():
        net.fc.weight.mul_(40)  # a confident model
    path = tmp_path / "with_softmax.pt"
    torch.jit.save(torch.jit.script(torch.nn.Sequential(net, torch.nn.Softmax(dim=1)).eval()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert "with_softmax.pt outputs probabilities (they sum to 1): their logarithm is used as class scores" in clf.warnings
    x = torch.rand(1, 3, 28, 28)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = torch.softmax(net((x - mean) / std), 1)[0].double().numpy()
    np.testing.assert_allclose(clf.probabilities(x), expected, rtol=1e-4, atol=1e-6)
    g = pixel_gradient(clf, image)
    assert torch.isfinite(g).all() and float(g.abs().sum()) > 0
    # a model giving logits is left alone
    plain = tmp_path / "logits.pt"
    torch.jit.save(torch.jit.script(net), str(plain))
    assert not any("probabilities" in w for w in mf.load_model_file(plain, preprocessing={"input_size": [28, 28]}).warnings)


@pytest.mark.parametrize("how", ["module", "function"])
def test_a_binary_model_ending_in_a_sigmoid_is_read_as_its_probability(tmp_path, image, how):
    """A single output that is already sigmoid(z): read as a logit, every image would be class 1 at
    50-73 % and nothing could flip it. The sigmoid at the end of the graph is recognised and p(class 1) is
    the model's own output; the run can flip the decision."""
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    net = SmallCNN(channels=3, classes=1, size=16, seed=2).eval()

    class WithSigmoid(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return torch.sigmoid(self.net(x))

    model = torch.nn.Sequential(net, torch.nn.Sigmoid()) if how == "module" else WithSigmoid()
    path = tmp_path / "binary_sigmoid.pt"
    torch.jit.save(torch.jit.script(model.eval()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": 16}, labels=["no cat", "cat"])
    assert any(w.startswith("binary_sigmoid.pt ends in a sigmoid") for w in clf.warnings)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        small = torch.nn.functional.interpolate(x, size=(16, 16), mode="bilinear", antialias=True, align_corners=False)
        expected = float(torch.sigmoid(net((small - mean) / std))[0, 0])
    assert clf.probabilities(image)[1] == pytest.approx(expected, rel=1e-4)
    res = run(clf, image, ExplainOptions(style="free"))
    assert res.flipped and res.final.index != res.original.index
    # the same network without the sigmoid stays a single-logit classifier
    plain = tmp_path / "binary_logit.pt"
    torch.jit.save(torch.jit.script(net), str(plain))
    assert not any("ends in a sigmoid" in w for w in mf.load_model_file(plain, preprocessing={"input_size": 16}, labels=["a", "b"]).warnings)


def test_a_multi_label_model_ending_in_a_sigmoid_is_read_as_its_probabilities(tmp_path, image):
    """Several sigmoid outputs (a multi-label classifier, e.g. a chest X-ray DenseNet with 14 findings): their
    softmax was shown, as if they were logits (a 0.9 finding among three 0.1s showed as 43 %, not 75 %). They
    are read as the model's probabilities: log(p) are the class scores, so the shares shown are p / sum(p)."""
    net = SmallCNN(channels=3, classes=4, size=16, seed=3).eval()
    path = tmp_path / "findings.pt"
    torch.jit.save(torch.jit.script(torch.nn.Sequential(net, torch.nn.Sigmoid()).eval()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": 16})
    assert any(w.startswith("findings.pt ends in a sigmoid: its 4 outputs are read as per-class probabilities")
               for w in clf.warnings), clf.warnings
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        small = torch.nn.functional.interpolate(x, size=(16, 16), mode="bilinear", antialias=True, align_corners=False)
        p = torch.sigmoid(net((small - mean) / std))[0].double()
    np.testing.assert_allclose(clf.probabilities(image), (p / p.sum()).numpy(), rtol=1e-4)
    assert clf.classify(image)[0].index == int(p.argmax())


def test_a_model_traced_in_training_mode_is_refused(tmp_path):
    """torch.jit.trace of a model left in train() mode bakes its dropout in (eval() cannot turn it off): every
    classification of the same image differed, and a run followed noise. Refused at load, saying why."""

    class Dropping(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.drop = SmallCNN(channels=3, classes=4, size=16, seed=1), torch.nn.Dropout(0.5)

        def forward(self, x):
            return self.drop(self.net(x) * 5.0)

    path = tmp_path / "traced.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(Dropping().train(), torch.rand(1, 3, 16, 16), check_trace=False), str(path))
    with pytest.raises(ModelError, match=r"^traced\.pt gives different outputs for the same image .*training mode"):
        mf.load_model_file(path, preprocessing={"input_size": 16})
    scripted = tmp_path / "scripted.pt"  # scripted in train mode: eval() turns its dropout off, so it loads
    torch.jit.save(torch.jit.script(Dropping().train()), str(scripted))
    clf = mf.load_model_file(scripted, preprocessing={"input_size": 16})
    image = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    np.testing.assert_array_equal(clf.probabilities(image), clf.probabilities(image))
    # switched to evaluation mode as the README says, with a note (it was silent); none for a file saved in eval()
    assert "scripted.pt was saved in training mode: switched to evaluation mode (no dropout, batch-norm running " \
           "statistics), as for inference" in clf.warnings
    torch.jit.save(torch.jit.script(Dropping().eval()), str(scripted))
    assert not any("training mode" in w for w in mf.load_model_file(scripted, preprocessing={"input_size": 16}).warnings)


def test_a_model_whose_answer_depends_on_its_batch_is_refused_and_one_image_models_still_load(tmp_path):
    """torch.jit.trace of a model with batch-norm left in train() mode keeps using the batch's statistics:
    one image alone gives one answer, the same image in a folder run's batch another (a helper's ResNet-18
    said "butcher shop" at --batch-size 1 and "vacuum" at 8, silently). Refused at load, saying why; a
    network that takes one image at a time (fails on two) is not refused for it."""

    class Normed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.norm = SmallCNN(channels=3, classes=4, size=16, seed=2), torch.nn.BatchNorm1d(4)

        def forward(self, x):
            return self.norm(self.net(x))

    traced = tmp_path / "bn_train.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(Normed().train(), torch.rand(2, 3, 16, 16), check_trace=False), str(traced))
    with pytest.raises(ModelError, match=r"^bn_train\.pt gives another output for an image when other images share "
                                         r"its batch .*batch-norm.*model\.eval\(\)"):
        mf.load_model_file(traced, preprocessing={"input_size": 16})
    evaluated = tmp_path / "bn_eval.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(Normed().eval(), torch.rand(1, 3, 16, 16)), str(evaluated))
    assert mf.load_model_file(evaluated, preprocessing={"input_size": 16}).num_classes == 4

    class OneAtATime(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = SmallCNN(channels=3, classes=4, size=16, seed=2)

        def forward(self, x):
            assert x.shape[0] == 1, "one image at a time"
            return self.net(x)

    single = tmp_path / "single.pt"
    torch.jit.save(torch.jit.script(OneAtATime().eval()), str(single))
    assert mf.load_model_file(single, preprocessing={"input_size": 16}).num_classes == 4


def test_class_scores_in_a_column_are_refused(tmp_path):
    """Scores returned as [C, 1] (transposed) for one image: read as 10 images of one logit, the model was
    loaded as a binary classifier of the first score. Refused, naming the shape."""

    class Column(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = SmallCNN(channels=3, classes=10, size=16)

        def forward(self, x):
            return self.net(x).t()

    path = tmp_path / "column.pt"
    torch.jit.save(torch.jit.script(Column().eval()), str(path))
    with pytest.raises(ModelError, match=r"^column\.pt returned shape \(10, 1\) for one image; GradFlip needs class scores "
                                         r"of shape \[N, C\]"):
        mf.load_model_file(path, preprocessing={"input_size": 16})


def test_a_plain_module_ending_in_nn_sigmoid_is_recognised():
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.files.outputs import ends_in_sigmoid

    pre = Preprocessing(input_size=(16, 16))
    net = SmallCNN(channels=3, classes=1, size=16, seed=2).eval()
    assert ends_in_sigmoid(torch.nn.Sequential(net, torch.nn.Sigmoid()), pre)
    assert not ends_in_sigmoid(net, pre)
    inner = torch.nn.Sequential(torch.nn.Sigmoid(), net)  # a sigmoid that is not the last operation
    assert not ends_in_sigmoid(inner, pre)
    assert ends_in_sigmoid(torch.fx.symbolic_trace(torch.nn.Sequential(net, torch.nn.Sigmoid())), pre)


class _FunctionalSigmoid(torch.nn.Module):
    """A binary model whose forward ends in torch.sigmoid(...) (optionally squeezed), or uses one inside only."""

    def __init__(self, net, how: str):
        super().__init__()
        self.net, self.how = net, how

    def forward(self, x):
        z = self.net(x)
        if self.how == "method":
            return z.sigmoid()
        if self.how == "squeezed":
            return torch.sigmoid(z).squeeze(1)[:, None]
        if self.how == "inside":  # a sigmoid gate, then more: not the last operation
            return z * torch.sigmoid(z) + 1.0
        return torch.sigmoid(z)


@pytest.mark.parametrize("how", ["function", "method", "squeezed", "inside"])
def test_a_sigmoid_called_in_a_plain_modules_forward_is_seen(how, image):
    # classifier_from_module on a binary model ending in torch.sigmoid(z) read p as a logit: class 1 at 50-73 % on
    # every photo, without a word (its TorchScript file was read right)
    from gradflip_desktop.core.models import classifier_from_module
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.files.outputs import ends_in_sigmoid

    net = SmallCNN(channels=3, classes=1, size=16, seed=2).eval()
    with torch.no_grad():
        net.fc.bias.fill_(2.0)  # p(pos) well above 0.73, which a logit read of p can never give
    model = _FunctionalSigmoid(net, how).eval()
    pre = Preprocessing(input_size=(16, 16), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert ends_in_sigmoid(model, pre) is (how != "inside")
    if how == "inside":
        return
    clf = classifier_from_module(model, ["neg", "pos"], preprocessing=pre)
    assert any("ends in a sigmoid" in w for w in clf.warnings)
    logit = classifier_from_module(net, ["neg", "pos"], preprocessing=pre)  # its one logit: p(pos) = sigmoid(z)
    p = float(logit.probabilities(image)[1])
    assert p > 0.8 and clf.probabilities(image)[1] == pytest.approx(p, abs=1e-5)  # the network's own p(pos)


def test_double_precision_torchscript_is_computed_in_float32(tmp_path, image):
    """A model scripted after .double() (float64 weights): refused before with "check the input size and
    channel count" (float input, double bias), though both were right."""
    path = tmp_path / "double.pt"
    net = SmallCNN(channels=3, classes=4, size=28).eval()
    torch.jit.save(torch.jit.script(net.double()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert "double.pt stores float64 weights: computing in float32" in clf.warnings
    assert all(p.dtype == torch.float32 for p in clf.module.parameters())
    assert clf.classify(image)[0].probability > 0
    g = pixel_gradient(clf, image)
    assert float(g.abs().sum()) > 0



class _Argmax(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=10, size=16)

    def forward(self, x):
        return self.net(x).argmax(1, keepdim=True)


class _OneHot(_Argmax):
    def forward(self, x):
        return torch.nn.functional.one_hot(self.net(x).argmax(1), 10)


@pytest.mark.parametrize("net", [_Argmax, _OneHot], ids=["argmax", "one-hot"])
def test_a_model_returning_class_indices_is_refused(tmp_path, net):
    """A deployment export that ends in argmax returns the class index, an integer [N, 1]: it was loaded as a
    single-logit binary classifier ('99.97 % class 1' for class 9 of 10); a one-hot decision was taken for
    probabilities and classifying failed with an internal error (torch.finfo of int64). Both are refused when
    loaded, saying the model returns integers, not scores."""
    path = tmp_path / "argmax.pt"
    torch.jit.save(torch.jit.script(net().eval()), str(path))
    with pytest.raises(ModelError, match=r"^argmax\.pt returns int64 values \(class indices or decisions\?\), not class scores"):
        mf.load_model_file(path, preprocessing={"input_size": 16})


class _Complex(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=10, size=16)

    def forward(self, x):
        z = self.net(x)
        return torch.complex(z, z)


def test_a_model_returning_complex_scores_is_refused(tmp_path):
    """A model whose output is complex (an FFT head) was loaded with torch's "Casting complex values to real
    discards the imaginary part" warning on stderr, classified on the real part, and `gradflip explain` ended in
    "internal error: RuntimeError: argmax(): does not support complex input" (exit 3). It is refused when loaded."""
    path = tmp_path / "fft.pt"
    torch.jit.save(torch.jit.script(_Complex().eval()), str(path))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*imaginary part")  # not said on the way to the refusal
        with pytest.raises(ModelError, match=r"^fft\.pt returns complex values \(complex64\), not real class scores"):
            mf.load_model_file(path, preprocessing={"input_size": 16})
