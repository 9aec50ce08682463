"""An in-memory network of one's own as a classifier (``classifier_from_module``): read as a model file is."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core import ExplainOptions, classifier_from_module, run
from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import Preprocessing


class SmallNet(nn.Module):
    """32 × 32 RGB in, ``classes`` scores out; ``ends`` in nothing, a softmax, or returns (features, scores)."""

    def __init__(self, classes: int = 3, ends: str = "", seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, classes)
        self.ends = ends

    def forward(self, x):
        if tuple(x.shape[-2:]) != (32, 32):
            raise RuntimeError(f"expected input of size 32 x 32, got {tuple(x.shape[-2:])}")
        features = torch.flatten(nn.functional.max_pool2d(torch.relu(self.conv(x)), 4), 1)
        z = self.fc(features)
        if self.ends == "softmax":
            return torch.softmax(z, 1)
        return (features, z) if self.ends == "tuple" else z


PRE = Preprocessing(input_size=(32, 32), mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))


def _photo(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.1, 0.9, (40, 48, 3)).astype(np.float32)


def test_a_network_of_ones_own_is_classified_as_its_preprocessing_says_and_explained():
    net = SmallNet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    clf = classifier_from_module(net, ["cat", "dog", "fox"], preprocessing=PRE)
    assert clf.labels == ["cat", "dog", "fox"] and clf.name == "SmallNet (3 classes)" and clf.preprocessing == PRE
    pixels = _photo()
    x = torch.nn.functional.interpolate(torch.from_numpy(pixels).permute(2, 0, 1)[None], size=(32, 32),
                                        mode="bilinear", antialias=True, align_corners=False)
    mean, std = torch.tensor(PRE.mean).view(1, 3, 1, 1), torch.tensor(PRE.std).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = torch.softmax(net((x - mean) / std), 1)[0].numpy()
    np.testing.assert_allclose(clf.probabilities(pixels), expected, rtol=1e-4, atol=1e-6)
    result = run(clf, pixels, ExplainOptions(style="free", max_steps=60))
    assert result.final.index != result.original.index  # a 3-class net of random weights flips in a few steps
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # its weights are never changed


def test_without_labels_classes_are_numbered_and_a_thousand_outputs_are_imagenets():
    clf = classifier_from_module(SmallNet(classes=4), preprocessing=PRE, name="mine")
    assert clf.labels == [f"class {i}" for i in range(4)] and clf.name == "mine" and clf.groups == {}
    clf = classifier_from_module(SmallNet(classes=1000), preprocessing=PRE)
    assert clf.labels[281] == "tabby" and "cat" in clf.groups and any("ImageNet" in n for n in clf.warnings)
    clf = classifier_from_module(SmallNet(classes=4), preprocessing=PRE, groups={"pets": "0-1"})
    assert clf.groups == {"pets": [0, 1]}


def test_softmax_outputs_and_a_features_first_tuple_are_read_as_class_scores():
    net = SmallNet(ends="softmax")
    clf = classifier_from_module(net, preprocessing=PRE)
    assert any("probabilities" in n for n in clf.warnings)
    plain = classifier_from_module(SmallNet(), preprocessing=PRE)  # the same seed: the same logits
    np.testing.assert_allclose(clf.probabilities(_photo()), plain.probabilities(_photo()), rtol=1e-4, atol=1e-6)
    tup = classifier_from_module(SmallNet(ends="tuple"), ["a", "b", "c"], preprocessing=PRE)  # features have 128 columns
    np.testing.assert_allclose(tup.probabilities(_photo()), plain.probabilities(_photo()), rtol=1e-4, atol=1e-6)


def test_what_does_not_fit_is_one_readable_error():
    with pytest.raises(ModelError, match="needs a torch.nn.Module, not dict"):
        classifier_from_module({"fc.weight": torch.zeros(2, 2)})
    with pytest.raises(ModelError, match="2 labels were given but SmallNet has 3 classes"):
        classifier_from_module(SmallNet(), ["a", "b"], preprocessing=PRE)
    with pytest.raises(ModelError, match="^1 label was given but SmallNet has 3 classes"):  # "1 labels were given"
        classifier_from_module(SmallNet(), ["a"], preprocessing=PRE)
    with pytest.raises(ModelSettingError, match="failed on a 1×3×224×224 input"):
        classifier_from_module(SmallNet())  # the default 224 px input: the network asserts 32 px
    with pytest.raises(ModelError, match=r"returned shape \(1, 3, 32, 32\)"):
        classifier_from_module(nn.Conv2d(3, 3, 1), preprocessing=PRE)  # a map per pixel, not class scores
    with pytest.raises(ModelError, match="class group 'x' lists class 7"):
        classifier_from_module(SmallNet(), preprocessing=PRE, groups={"x": [7]})


def test_float64_and_half_networks_compute_in_their_own_dtype_and_keep_it():
    plain = classifier_from_module(SmallNet(), preprocessing=PRE).probabilities(_photo())
    for dtype, tol in ((torch.float64, 1e-5), (torch.float16, 2e-2), (torch.bfloat16, 5e-2)):
        net = SmallNet().to(dtype)  # was "Input type (float) and bias type (double) should be the same; check the input size"
        before = {k: v.clone() for k, v in net.state_dict().items()}
        clf = classifier_from_module(net, preprocessing=PRE)
        assert any(f"{str(dtype)[6:]} weights" in n for n in clf.warnings)
        np.testing.assert_allclose(clf.probabilities(_photo()), plain, atol=tol)
        assert net.conv.weight.dtype == dtype and all(torch.equal(before[k], v) for k, v in net.state_dict().items())
        result = run(clf, _photo(), ExplainOptions(style="free", max_steps=60))
        assert result.original.index == int(np.argmax(clf.probabilities(_photo())))
    torch.manual_seed(0)  # a float64 network ending in nn.Sigmoid is still read as p(class 1), not as a logit
    binary = nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 1), nn.Sigmoid())
    p = classifier_from_module(binary, ["no", "yes"], preprocessing=PRE).probabilities(_photo())
    p64 = classifier_from_module(binary.double(), ["no", "yes"], preprocessing=PRE).probabilities(_photo())
    np.testing.assert_allclose(p64, p, atol=1e-5)


def test_an_index_to_label_mapping_and_a_hugging_face_config_name_the_classes():
    clf = classifier_from_module(SmallNet(), {2: "fox", 0: "cat", 1: "dog"}, preprocessing=PRE)  # was ["0", "1", "2"]
    assert clf.labels == ["cat", "dog", "fox"]
    net = SmallNet()
    net.config = SimpleNamespace(id2label={0: "cat", 1: "dog", 2: "fox"})  # transformers' model.config
    assert classifier_from_module(net, preprocessing=PRE).labels == ["cat", "dog", "fox"]  # was "class 0" …
    net.config = SimpleNamespace(id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})  # placeholders: no labels
    assert classifier_from_module(net, preprocessing=PRE).labels == ["class 0", "class 1", "class 2"]
    with pytest.raises(ModelError, match="the labels mapping: class indices must run 0…1 without gaps"):
        classifier_from_module(SmallNet(), {0: "cat", 2: "fox"}, preprocessing=PRE)


def test_a_training_network_is_said_to_be_switched_and_a_refused_one_keeps_its_mode():
    net = nn.Sequential(SmallNet(), nn.Dropout(0.5)).train()
    clf = classifier_from_module(net, preprocessing=PRE)
    assert not net.training and any("training mode" in n for n in clf.warnings)
    assert not any("training mode" in n for n in classifier_from_module(SmallNet(), preprocessing=PRE).warnings)
    net.train()
    with pytest.raises(ModelError, match="2 labels were given"):
        classifier_from_module(net, ["a", "b"], preprocessing=PRE)
    assert all(m.training for m in net.modules())  # was left in eval mode by the refused call


def test_a_compiled_module_is_explained_as_its_original_and_grad_cam_reaches_its_layers():
    from gradflip_desktop.core.attributions import gradcam_map  # noqa: PLC0415

    net = SmallNet()
    clf = classifier_from_module(torch.compile(net, backend="eager"), preprocessing=PRE)
    assert clf.module.net is net and clf.name == "SmallNet (3 classes)" and any("torch.compile" in n for n in clf.warnings)
    assert gradcam_map(clf, _photo(), 0).shape == (40, 48)  # was "the Grad-CAM layer was not used by the model's forward pass"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_network_already_on_the_gpu_is_probed_where_it_is():
    net = SmallNet().cuda()  # was "Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) …"
    clf = classifier_from_module(net, preprocessing=PRE, device="cuda")
    plain = classifier_from_module(SmallNet(), preprocessing=PRE)
    np.testing.assert_allclose(clf.probabilities(_photo()), plain.probabilities(_photo()), rtol=1e-4, atol=1e-5)
    assert net.conv.weight.is_cuda


@pytest.mark.parametrize("last", [nn.Softmax(dim=1), nn.Sigmoid()])
def test_a_traced_network_is_read_without_rewriting_the_users_graph(last):
    """A torch.fx GraphModule ending in a softmax (or sigmoid) is read from the input of that last operation: the
    rewrite was made on the user's own graph, whose net(x) returned log-softmax (or the logit) afterwards."""
    torch.manual_seed(0)
    outputs = 1 if isinstance(last, nn.Sigmoid) else 4
    net = torch.fx.symbolic_trace(nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, outputs), last))
    x = torch.rand(2, 3, 8, 8)
    before = net(x).detach()
    clf = classifier_from_module(net, preprocessing=Preprocessing(input_size=(8, 8), mean=(0.0,) * 3, std=(1.0,) * 3))
    assert "computed from the input of that last operation" in " ".join(clf.warnings)  # still read that way
    assert torch.allclose(net(x), before)  # the user's network returns what it returned
    p = clf.probabilities(np.full((8, 8, 3), 0.5, np.float32))
    expected = net(torch.full((1, 3, 8, 8), 0.5)).detach()[0]
    expected = torch.cat([1 - expected, expected]) if outputs == 1 else expected
    assert np.allclose(p, expected.numpy(), atol=1e-5)


def test_the_modules_example_imports_every_name_it_uses():
    """The example read ``preprocessing=Preprocessing(...)`` after ``from gradflip_desktop.core import
    classifier_from_module, load_image, run``: a NameError, and ``Preprocessing`` was not in gradflip_desktop.core."""
    from gradflip_desktop.core.models import network

    lines = [line.strip() for line in network.__doc__.split("\n\n")[1].splitlines()]
    names: dict = {"my_net": nn.Sequential(nn.Flatten(), nn.Linear(3 * 64 * 64, 2))}
    exec(compile("\n".join(lines[:2]), "<network docstring>", "exec"), names)  # the import and the classifier
    assert names["model"].labels == ["cat", "dog"] and names["model"].preprocessing.input_size == (64, 64)


def test_the_record_names_a_networks_weights_by_their_digest():
    """Two networks of one architecture (two random initialisations, two fine-tunes in a notebook) gave the same
    ``model`` entry, name and settings alike: a record could not say which weights made it."""
    import copy

    from gradflip_desktop.core.report import record

    def net(seed):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()

    pre = Preprocessing(input_size=(8, 8))
    a, b = net(0), net(1)
    ca = classifier_from_module(a, ["x", "y", "z"], preprocessing=pre)
    cb = classifier_from_module(b, ["x", "y", "z"], preprocessing=pre)
    da, db = ca.settings()["weights_sha256"], cb.settings()["weights_sha256"]
    assert len(da) == 16 and da != db
    assert classifier_from_module(copy.deepcopy(a), ["x", "y", "z"], preprocessing=pre).settings()["weights_sha256"] == da
    with torch.no_grad():  # trained on in place after wrapping: the next record names the weights it was made with
        a[3].bias.add_(1.0)
    assert ca.settings()["weights_sha256"] not in ("", da)
    rec = record(run(cb, np.full((8, 8, 3), 0.5, np.float32), ExplainOptions(max_steps=2)), versions={})
    assert rec["model"]["weights_sha256"] == db and "file_sha256" not in rec["model"]


def test_the_weights_digest_follows_changes_no_version_counter_sees():
    """The digest was kept while the state's version counters stood still; ``p.data.mul_()`` (old-style SGD, the
    tutorials' weight surgery) and writes through a numpy view change values without counting a version: the next
    record named the old weights."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2)).eval()
    clf = classifier_from_module(net, ["x", "y"], preprocessing=Preprocessing(input_size=(8, 8)))
    seen = {clf.settings()["weights_sha256"]}
    net[1].weight.data.mul_(2.0)
    seen.add(clf.settings()["weights_sha256"])
    net[1].bias.detach().numpy()[:] = 5.0
    seen.add(clf.settings()["weights_sha256"])
    assert len(seen) == 3 and "" not in seen


def test_a_network_that_does_not_take_the_default_input_says_how_to_give_its_own():
    """The error said "check the input size and channel count", the command line's words with no command line to
    add its flags: a notebook was not told which argument gives them, nor the size the network itself states."""
    with pytest.raises(ModelSettingError) as info:
        classifier_from_module(SmallNet())
    assert str(info.value).endswith("; check the input size and channel count: give preprocessing=Preprocessing("
                                    "input_size=(H, W), channels=…, mean=…, std=…), the input it was trained on")
    assert info.value.setting == "preprocessing" and info.value.suggestions == []
    net = SmallNet()
    net.config = SimpleNamespace(image_size=32)  # a Hugging Face model states its own (config.image_size)
    with pytest.raises(ModelSettingError) as info:
        classifier_from_module(net)
    assert "give preprocessing=Preprocessing(input_size=(32, 32), " in str(info.value)
    assert str(info.value).endswith("(its own config says (32, 32))") and info.value.suggestions == [(32, 32)]
    assert classifier_from_module(net, preprocessing=Preprocessing(input_size=(32, 32))).num_classes == 3


def test_a_network_given_without_preprocessing_says_what_is_assumed_and_a_timm_network_uses_its_own():
    """A timm ViT given without preprocessing was read squashed with ImageNet's mean and no note, while the same
    weights from a file (--arch timm:NAME) used timm's crop, bicubic and mean 0.5: the two answered differently. Now
    a network's own ``pretrained_cfg`` is used (at the size it was built for), and either way a note says it."""
    timm = pytest.importorskip("timm")
    from gradflip_desktop.core.models.files.timm import timm_preprocessing

    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=3, depth=1)
    clf = classifier_from_module(vit)
    own = timm_preprocessing(vit.pretrained_cfg)
    assert own.resize == "center-crop" and own.mean == (0.5, 0.5, 0.5) and own.interpolation == "bicubic"
    assert clf.preprocessing == own
    assert any(n.startswith("no preprocessing given: using the network's timm pretrained_cfg (224×224 RGB, centre "
                            "crop of 248, bicubic, mean [0.5, 0.5, 0.5]") for n in clf.warnings), clf.warnings
    small = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=3, depth=1, img_size=160)
    pre = classifier_from_module(small).preprocessing  # built for 160 px: its size, the crop's share kept
    assert pre.input_size == (160, 160) and pre.resize_size == 177 and pre.mean == (0.5, 0.5, 0.5)
    given = classifier_from_module(vit, preprocessing=PRE.__class__(input_size=(224, 224)))
    assert given.preprocessing.resize == "squash" and not any("no preprocessing" in n for n in given.warnings)
    plain = classifier_from_module(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 4)))
    assert plain.preprocessing == Preprocessing()
    assert ("no preprocessing given: assuming 224×224 RGB, squashed, bilinear, mean [0.485, 0.456, 0.406], std "
            "[0.229, 0.224, 0.225]; give preprocessing=Preprocessing(input_size=…, mean=…, std=…) for the input it "
            "was trained on") in plain.warnings


def test_a_config_whose_labels_are_not_one_per_class_is_not_used():
    """A network whose config.id2label names 3 classes but which returns 2 scores gets "class 0", "class 1", as a model
    folder's would (mutation audit: using them whatever their count survived; the load then said "3 labels were
    given" though none were)."""
    net = SmallNet(classes=2)
    net.config = SimpleNamespace(id2label={0: "ant", 1: "bee", 2: "cat"})
    assert classifier_from_module(net, preprocessing=PRE).labels == ["class 0", "class 1"]
    net.config = SimpleNamespace(id2label={0: "ant", 1: "bee"})
    assert classifier_from_module(net, preprocessing=PRE).labels == ["ant", "bee"]


def test_the_weights_digest_tells_tensors_of_other_shapes_but_the_same_bytes_apart():
    """Two networks whose one tensor holds the same zeros as 2 × 3 and as 3 × 2: another network, another digest
    (mutation audit: digesting the values alone, without names, dtypes and shapes, survived)."""
    from gradflip_desktop.core.models.network import WeightsDigest

    a, b = nn.Module(), nn.Module()
    a.w, b.w = nn.Parameter(torch.zeros(2, 3)), nn.Parameter(torch.zeros(3, 2))
    da, db = WeightsDigest(a)["weights_sha256"], WeightsDigest(b)["weights_sha256"]
    assert len(da) == 16 and da != db
