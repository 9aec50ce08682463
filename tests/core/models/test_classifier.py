"""Classifier, PixelSpaceModel, Preprocessing, Prediction: the pixel-space wrapper every model becomes."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Prediction, Preprocessing
from model_helpers import make_classifier


class Mean(nn.Module):
    """Logits = per-channel means of the (normalised) input; lets the tests read what the net saw."""

    def forward(self, x):
        return x.mean((2, 3))


def test_preprocessing_takes_a_python_callers_forms_and_names_a_wrong_one():
    """``Preprocessing(mean=0.5)`` or a numpy scalar std raised "object of type 'float' has no len()",
    ``input_size="32x32"`` "too many values to unpack"; ``input_size=(32.5, 32)``, a negative ``resize_size`` and
    tensors were taken as given. Lists, numpy values and tensors become tuples of numbers; a wrong kind is one
    ModelError naming the form it needs."""
    p = Preprocessing(input_size=np.array([32, 48]), mean=0.5, std=np.float32(0.25), channels=np.int64(3))
    assert (p.input_size, p.mean, p.std, p.channels) == ((32, 48), (0.5,), (0.25,), 3)
    assert type(p.channels) is int and all(type(v) is int for v in p.input_size)
    assert Preprocessing(input_size=[64, 64], mean=[0.5] * 3) == Preprocessing(input_size=(64, 64), mean=(0.5,) * 3)
    assert Preprocessing(input_size=64, mean=torch.tensor([0.5, 0.5, 0.5])).mean == (0.5, 0.5, 0.5)
    for kw, words in (({"input_size": "32x32"}, "input size must be (height, width) in whole pixels"),
                      ({"input_size": (32.5, 32)}, "input size must be a whole number, not 32.5"),
                      ({"mean": "0.5,0.5,0.5"}, "mean must be a number or a list of numbers"),
                      ({"std": None}, "std must be a number or a list of numbers"),
                      ({"channels": "3"}, "channels must be a whole number, not '3'"),
                      ({"resize": "center-crop", "resize_size": -5}, "resize size must be at least 1 pixel")):
        with pytest.raises(ModelError) as info:
            Preprocessing(**kw)
        assert str(info.value).startswith(words), str(info.value)


def test_preprocessing_round_trips_and_validates():
    pre = Preprocessing(input_size=(28, 32), mean=(0.1307,), std=(0.3081,), channels=1, resize="center-crop", resize_size=36)
    assert Preprocessing.from_dict(pre.to_dict()) == pre
    assert Preprocessing.from_dict({"input_size": 64}).input_size == (64, 64)
    assert Preprocessing.from_dict({}) == Preprocessing()
    for kwargs, msg in [
        ({"resize": "stretch"}, r"unknown resize mode 'stretch'"),
        ({"channels": 2}, r"channels must be 1 or 3, not 2"),
        ({"mean": (0.1, 0.2)}, r"mean/std need 1 or 3 values"),
        ({"std": (0.0, 1.0, 1.0)}, r"std values must be positive"),
        ({"input_size": (0, 10)}, r"input size 0×10 out of range"),
    ]:
        with pytest.raises(ModelError, match=msg):
            Preprocessing(**kwargs)
    # a settings file's value of the wrong kind is named with the form it needs, not "invalid literal for int()"
    for d, msg in [
        ({"input_size": "big"}, "input_size: 'big' is not a whole number or [height, width]"),
        ({"input_size": [1, 2, 3]}, "input_size: [1, 2, 3] is not a whole number or [height, width]"),
        ({"mean": "grey"}, "mean: 'grey' is not a number or a list of numbers"),
        ({"channels": "two"}, "channels: 'two' is not a whole number"),
        ({"antialias": "maybe"}, "antialias: 'maybe' is not true or false"),
        ({"input_size": 100000}, "out of range (1 to 8192 px per side)"),
    ]:
        with pytest.raises(ModelError, match=re.escape(msg)):
            Preprocessing.from_dict(d)
    read = Preprocessing.from_dict({"input_size": ["64", 48], "mean": 0.5, "std": [0.25], "antialias": "false"})
    assert (read.input_size, read.mean, read.std, read.antialias) == ((64, 48), (0.5,), (0.25,), False)  # "false" was True


def test_one_channel_without_a_mean_and_std_takes_the_average_of_imagenet_s():
    """The README's ``preprocessing=Preprocessing(input_size=(28, 28), channels=1)`` was refused ("mean/std need 1
    value for 1 channel, not 3 / 3"): the defaults' average, as a dict or ``--channels 1`` gives; a file's sidecar
    and a dict agree with it."""
    pre = Preprocessing(input_size=(28, 28), channels=1)
    assert pre.mean == pytest.approx((0.449,)) and pre.std == pytest.approx((0.226,))
    assert Preprocessing.from_dict({"input_size": 28, "channels": 1}) == pre
    with pytest.raises(ModelError, match="mean/std need 1 value for 1 channel, not 3 / 1"):
        Preprocessing(channels=1, mean=(0.1, 0.2, 0.3))  # three values of one's own: still refused


def test_a_mean_on_the_0_255_scale_is_refused_with_the_values_divided_by_255():
    """mmpretrain's and Caffe's configs write ImageNet's mean and std for 0-255 pixels (123.675, 58.395); given as
    such (sidecar, --mean/--std, Preprocessing) every input was about -2 and the model's answer was silently
    another class (a coffee model said astronaut, 99 %). Refused, naming the values it means."""
    with pytest.raises(ModelError, match=re.escape("is on the 0-255 scale, but pixels here are in [0, 1]: divide mean "
                                                   "and std by 255 (mean 0.485,0.456,0.406, std 0.229,0.224,0.225)")):
        Preprocessing(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))
    with pytest.raises(ModelError, match="0-255 scale"):  # Caffe's BGR means with std 1: the same scale
        Preprocessing.from_dict({"mean": [103.939, 116.779, 123.68], "std": [1, 1, 1]})
    # only the mean on that scale (`--mean 123.675,116.28,103.53`, std left at ImageNet's 0.229): the hint said
    # "std 0.000898,0.0008784,0.0008824", 255 times too small
    with pytest.raises(ModelError, match=re.escape("divide mean by 255 (mean 0.485,0.456,0.406, std 0.229,0.224,0.225)")):
        Preprocessing(mean=(123.675, 116.28, 103.53))
    with pytest.raises(ModelError, match=re.escape("divide mean and std by 255 (mean 0.4076,0.458,0.485, std 0.003922,")):
        Preprocessing.from_dict({"mean": [103.939, 116.779, 123.68], "std": [1, 1, 1]})
    assert Preprocessing(mean=(0.0,) * 3, std=(1 / 255,) * 3).mean == (0.0,) * 3  # a model that takes 0-255 pixels
    assert Preprocessing(mean=(1.0,), std=(0.5,)).mean == (1.0,)


def test_pixel_space_model_normalises_resizes_and_converts_to_gray():
    pre = Preprocessing(input_size=(4, 4), mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 1.0))
    m = PixelSpaceModel(Mean(), pre)
    x = torch.full((1, 3, 10, 6), 0.5)
    torch.testing.assert_close(m(x), torch.tensor([[0.0, 1.0, 0.5]]))
    gray = PixelSpaceModel(Mean(), Preprocessing(input_size=(4, 4), mean=(0.0,), std=(1.0,), channels=1))
    rgb = torch.zeros(1, 3, 4, 4)
    rgb[:, 0], rgb[:, 1], rgb[:, 2] = 1.0, 0.5, 0.25
    torch.testing.assert_close(gray(rgb), torch.tensor([[0.299 + 0.587 * 0.5 + 0.114 * 0.25]]))


def test_center_crop_takes_the_middle_after_resizing_the_short_side():
    pre = Preprocessing(input_size=(2, 2), mean=(0.0,) * 3, std=(1.0,) * 3, resize="center-crop", resize_size=2)

    class Keep(nn.Module):
        def forward(self, x):
            self.seen = x
            return x.flatten(1)

    net = Keep()
    x = torch.arange(2 * 6, dtype=torch.float32).view(1, 1, 2, 6).expand(1, 3, 2, 6).contiguous()
    PixelSpaceModel(net, pre)(x)
    torch.testing.assert_close(net.seen, x[..., :, 2:4])  # short side is 2 already: crop columns 2-3
    squash = Preprocessing(input_size=(2, 2), mean=(0.0,) * 3, std=(1.0,) * 3)
    PixelSpaceModel(net, squash)(x)
    torch.testing.assert_close(net.seen, F.interpolate(x, size=(2, 2), mode="bilinear", antialias=True, align_corners=False))


def test_single_logit_becomes_two_classes_and_dict_outputs_are_read():
    class One(nn.Module):
        def forward(self, x):
            return {"logits": torch.full((x.shape[0], 1), 2.0)}

    m = PixelSpaceModel(One(), Preprocessing(input_size=(2, 2)), single_logit=True)
    torch.testing.assert_close(m(torch.zeros(2, 3, 5, 5)), torch.tensor([[0.0, 2.0], [0.0, 2.0]]))

    class Text(nn.Module):
        def forward(self, x):
            return "cat"

    with pytest.raises(ModelError, match=r"the model returned str, not a tensor of logits"):
        PixelSpaceModel(Text(), Preprocessing(input_size=(2, 2)))(torch.zeros(1, 3, 2, 2))


def test_classify_gives_sorted_probabilities_and_refuses_non_finite():
    clf = make_classifier([0.0, 2.0, 1.0])
    img = np.full((3, 5, 3), 0.5, np.float32)
    probs = clf.probabilities(img)
    expected = np.exp([0.0, 2.0, 1.0]) / np.exp([0.0, 2.0, 1.0]).sum()
    np.testing.assert_allclose(probs, expected, rtol=1e-12)
    top = clf.classify(img, k=2)
    assert [p.index for p in top] == [1, 2] and top[0].label == "c1"
    assert top[0] == Prediction(1, "c1", pytest.approx(expected[1]))
    assert top[0].to_dict() == {"index": 1, "label": "c1", "probability": pytest.approx(expected[1])}
    assert clf.label(7) == "class 7" and clf.num_classes == 3
    with pytest.raises(ModelError, match=r"non-finite outputs"):
        make_classifier([0.0, float("nan")]).classify(img)
    for k in (-1, 0, "3", 2.0, True):  # k=-1 gave every class but one, "3" a slicing TypeError
        with pytest.raises(ValueError, match=rf"^k must be a whole number of classes, 1 or more, not {re.escape(repr(k))}$"):
            clf.classify(img, k=k)
    assert [p.index for p in clf.classify(img, k=np.int64(1))] == [1] and len(clf.classify(img, k=10)) == 3


def test_find_class_by_index_label_case_and_prefix():
    clf = make_classifier([0.0] * 4, labels=["tabby cat", "tiger cat", "dog", "Egyptian cat"])
    assert clf.find_class(2) == 2 and clf.find_class(" 3 ") == 3
    assert clf.find_class("dog") == 2 and clf.find_class("DOG") == 2 and clf.find_class("egy") == 3
    for query, msg in [
        (True, r"a class is an index or a label, not True"),
        (9, r"class index 9 out of range \(0–3\)"),
        ("  ", r"the class name is empty"),
        ("t", r"class 't' is ambiguous: tabby cat \(0\), tiger cat \(1\)"),
        ("horse", r"no class named 'horse' in model fixed$"),
        ("tabyy cat", r"no class named 'tabyy cat' in model fixed; did you mean tabby cat \(0\)\?"),
        ("cat", r"no class named 'cat' in model fixed; did you mean tabby cat \(0\), tiger cat \(1\), Egyptian cat \(3\)\?"),
    ]:
        with pytest.raises(ModelError, match=msg):
            clf.find_class(query)


def test_two_classes_with_the_same_label_are_ambiguous_not_the_first(tmp_path):
    # a user's labels file naming two classes alike: "--target a" silently took class 0 (the exact-match
    # shortcut), while "--target A" said it was ambiguous
    clf = make_classifier([0.0] * 3, labels=["a", "a", "b"])
    for query in ("a", "A"):
        with pytest.raises(ModelError, match=r"class '(a|A)' is ambiguous: the labels name classes 0, 1 alike; write #0 or #1"):
            clf.find_class(query)
    assert clf.find_class("b") == 2 and clf.find_class(1) == 1


def test_a_sidecar_group_written_backwards_is_named_as_backwards():
    from gradflip_desktop.core.models.files.spec import parse_groups

    assert parse_groups({"x": "3-5", "y": [2, 1]}) == {"x": [3, 4, 5], "y": [1, 2]}
    with pytest.raises(ModelError, match=r"^class group 'x': the range 5-3 runs backwards \(write 3-5\)$"):
        parse_groups({"x": "5-3"})
    with pytest.raises(ModelError, match=r"^class group 'x': \['a'\] is not a list of class indices$"):
        parse_groups({"x": ["a"]})


def test_find_group_by_name_ranges_or_indices():
    clf = make_classifier([0.0] * 6, groups={"Low": [1, 0]})
    assert clf.find_group("low") == ("Low", [0, 1])
    assert clf.find_group("2-3,5") == ("classes 2-3,5", [2, 3, 5])
    assert clf.find_group([4, 2, 2]) == ("classes 2,4", [2, 4])
    with pytest.raises(ModelError, match=r"unknown class group 'birds'; known groups: Low; or give index ranges like 0-2$"):
        clf.find_group("birds")  # an example range that fits this model's 6 classes
    with pytest.raises(ModelError, match=r"unknown class group 'Lwo'; did you mean 'Low'\? known groups: Low; "):
        clf.find_group("Lwo")  # a typo, as "--target espreso" gets one
    assert clf.find_group("any low") == ("Low", [0, 1])  # as the figure and the window name a group
    with pytest.raises(ModelError, match=r"class group '3-2': the range 3-2 runs backwards \(write 2-3\)"):
        clf.find_group("3-2")
    with pytest.raises(ModelError, match=r"has indices outside 0–5"):
        clf.find_group("4-9")
    with pytest.raises(ModelError, match=r"cannot contain every class"):
        clf.find_group("0-5")


def test_out_of_range_group_is_named_as_typed():
    # "4-9" reaches past 6 classes; the message must not show the clipped "classes 4-5,9" as if typed so
    clf = make_classifier([0.0] * 6)
    with pytest.raises(ModelError) as err:
        clf.find_group("4-9")
    assert str(err.value) == "class group '4-9' has indices outside 0–5 (e.g. 9)"
    with pytest.raises(ModelError, match=r"^class group '3,7' has indices outside 0–5 \(e\.g\. 7\)$"):
        clf.find_group([7, 3])


def test_outputs_that_are_not_class_scores_are_refused():
    class Seg(nn.Module):
        def forward(self, x):
            return torch.zeros(x.shape[0], 10, 7, 7)

    m = PixelSpaceModel(Seg(), Preprocessing(input_size=(7, 7)))
    with pytest.raises(ModelError, match=r"^the model returned shape \(1, 10, 7, 7\); GradFlip needs class scores of shape \[N, C\]$"):
        m(torch.zeros(1, 3, 7, 7))

    class Flat(nn.Module):
        def forward(self, x):
            return torch.zeros(5 * x.shape[0])  # not one value per image

    with pytest.raises(ModelError, match=r"^the model returned shape \(10,\); GradFlip needs class scores"):
        PixelSpaceModel(Flat(), Preprocessing(input_size=(7, 7)))(torch.zeros(2, 3, 7, 7))

    class Squeezed(nn.Module):  # one value per image: a binary model's logit, squeezed to [N]
        def forward(self, x):
            return torch.full((x.shape[0],), 2.0)

    out = PixelSpaceModel(Squeezed(), Preprocessing(input_size=(7, 7)), single_logit=True)(torch.zeros(2, 3, 7, 7))
    torch.testing.assert_close(out, torch.tensor([[0.0, 2.0], [0.0, 2.0]]))

    class Output:  # like a Hugging Face output object that is not a dict
        def __init__(self, logits):
            self.logits = logits

    class WithLogits(nn.Module):
        def forward(self, x):
            return Output(torch.ones(x.shape[0], 3))

    torch.testing.assert_close(PixelSpaceModel(WithLogits(), Preprocessing(input_size=(2, 2)))(torch.zeros(1, 3, 2, 2)), torch.ones(1, 3))


def test_a_dict_without_logits_is_refused_naming_its_entries():
    """{"features": ..., "out": ...}: the first entry was taken as class scores (here the 3 channel means,
    shown as a 3-class model). One entry is unambiguous; several without "logits" are refused."""

    class Two(nn.Module):
        def forward(self, x):
            return {"features": x.mean((2, 3)), "out": torch.ones(x.shape[0], 10)}

    with pytest.raises(ModelError, match=r"^the model returned a dict with the entries features, out and none named 'logits'"):
        PixelSpaceModel(Two(), Preprocessing(input_size=(2, 2)))(torch.zeros(1, 3, 2, 2))

    class One(nn.Module):
        def forward(self, x):
            return {"scores": torch.ones(x.shape[0], 4)}

    torch.testing.assert_close(PixelSpaceModel(One(), Preprocessing(input_size=(2, 2)))(torch.zeros(1, 3, 2, 2)), torch.ones(1, 4))


def test_a_network_left_in_training_mode_is_put_in_eval_mode():
    """A classifier built on a network in train() mode (dropout active, batch statistics): every
    classification differed (the explained class could change between two calls). The Classifier puts it
    in eval mode and says so."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Dropout(0.5), nn.LazyLinear(5))
    net(torch.zeros(2, 3, 6, 6))  # materialise the lazy layer
    net.train()
    clf = Classifier(PixelSpaceModel(net, Preprocessing(input_size=(6, 6))), [f"c{i}" for i in range(5)], "train-mode")
    assert not any(m.training for m in clf.module.modules())
    image = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(clf.probabilities(image), clf.probabilities(image))
    assert any("training mode" in w for w in clf.warnings), clf.warnings
    quiet = Classifier(PixelSpaceModel(nn.Sequential(nn.Flatten(), nn.Linear(108, 5)).eval(), Preprocessing(input_size=(6, 6))),
                       [f"c{i}" for i in range(5)], "eval-mode")
    assert quiet.warnings == []  # a new wrapper around an eval-mode network is not worth a note


def test_a_label_with_a_lone_surrogate_gets_u_fffd_in_every_output(tmp_path):
    """A JSON labels file may write "\\ud800" (json.loads keeps it: no text). `classify` printed the first classes,
    then stopped with "'utf-8' codec can't encode character '\\ud800'" (exit 2; with --json nothing at all), while
    the record wrote U+FFFD. The label is U+FFFD in every output."""
    import json

    from gradflip_desktop.core.models import labels as lab

    (tmp_path / "l.json").write_text('["a\\ud800cat", "b\\udcffdog", "\\ud83d\\ude00", "d", "e"]', encoding="ascii")
    read = lab.read_labels(tmp_path / "l.json")
    net = nn.Sequential(nn.Flatten(), nn.Linear(108, 5)).eval()
    clf = Classifier(PixelSpaceModel(net, Preprocessing(input_size=(6, 6))), read, "surrogates")
    assert clf.labels == ["a\ufffdcat", "b\ufffddog", "\U0001f600", "d", "e"]  # a real pair stays the emoji
    top = clf.classify(np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32), k=5)
    json.dumps([p.label for p in top], ensure_ascii=False).encode("utf-8")  # printable, writable
    assert "a\ufffdcat" in {p.label for p in top}


def test_a_label_with_control_characters_cannot_drive_the_terminal(tmp_path):
    """A labels file (or a checkpoint's, a Hugging Face config's id2label) may hold escape sequences:
    `gradflip classify` printed "\\x1b]0;pwned\\x07" and "\\x1b[31m" as they stood, so a model's labels set the
    terminal's title and colours. Control characters (C0, DEL, C1) are U+FFFD in every output, as a lone
    surrogate is; printable text, emoji and right-to-left script stay."""
    from gradflip_desktop.core.models import labels as lab

    (tmp_path / "l.txt").write_text("\x1b]0;pwned\x07cat\n\x1b[31mred\x1b[0m\nc1\x9bx\nemoji 🐱 עברית\ne\n",
                                    encoding="utf-8", newline="\n")
    read = lab.read_labels(tmp_path / "l.txt")
    net = nn.Sequential(nn.Flatten(), nn.Linear(108, 5)).eval()
    clf = Classifier(PixelSpaceModel(net, Preprocessing(input_size=(6, 6))), read, "escapes")
    assert clf.labels[0] == "\ufffd]0;pwned\ufffdcat" and clf.labels[1] == "\ufffd[31mred\ufffd[0m"
    assert clf.labels[2:] == ["c1\ufffdx", "emoji 🐱 עברית", "e"]
    top = clf.classify(np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32), k=5)
    assert not any(ch < " " or "\x7f" <= ch <= "\x9f" for p in top for ch in p.label)


def test_the_record_names_the_resize_interpolation_so_resume_and_check_refuse_another():
    """A sidecar's "interpolation": "bicubic" (or "antialias": false; a timm or torchvision model's own transform) changes
    every answer of the same weights (a random resnet18: 37.2 % → 39.5 %), but the record's ``model`` entry did not name
    it: ``--resume`` kept the bilinear run's sets as this run's answers and ``check`` measured them with the bicubic model."""
    from gradflip_desktop.core.dataset.check import _model_differs
    from gradflip_desktop.core.dataset.job import made_otherwise, model_description

    def clf(**pre):
        net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 3))
        p = Preprocessing(input_size=(8, 8), **pre)
        return Classifier(PixelSpaceModel(net, p), ["a", "b", "c"], "tiny", preprocessing=p)

    bilinear, bicubic, sharp = clf(), clf(interpolation="bicubic"), clf(antialias=False)
    assert bilinear.settings()["interpolation"] == "bilinear"
    assert bicubic.settings()["interpolation"] == "bicubic"
    assert sharp.settings()["interpolation"] == "bilinear, no antialias"
    with pytest.raises(ModelError, match=re.escape("interpolation 'nearest' is not supported (use 'bilinear' or 'bicubic')")):
        clf(interpolation="nearest")  # it was silently bilinear
    rec = {"model": model_description(bilinear)}
    assert made_otherwise(rec, None, model_description(bicubic), None) == "model interpolation bilinear, not bicubic"
    assert made_otherwise(rec, None, model_description(sharp), None)
    assert made_otherwise(rec, None, model_description(clf()), None) == ""
    assert _model_differs(rec, bicubic).startswith("made with model interpolation bilinear, not bicubic")
    assert _model_differs(rec, clf()) == ""
    old = {"model": {k: v for k, v in model_description(bilinear).items() if k != "interpolation"}}
    assert made_otherwise(old, None, model_description(bicubic), None) == ""  # a record from before: nothing to compare


def test_a_classifier_prints_as_one_line_without_its_network_and_labels():
    """``model`` in a notebook cell printed the network's module tree and all its labels (24,000 characters for the
    default model); the name, source, preprocessing and device say which model it is."""
    clf = make_classifier([0.0] * 1000)
    text = repr(clf)
    assert "\n" not in text and "c999" not in text and "PixelSpaceModel" not in text and len(text) < 400, text
    assert text.startswith("Classifier(name='fixed', source='', preprocessing=Preprocessing(input_size=")


def test_a_group_of_booleans_or_fractions_is_refused_by_the_classifier(tiny):
    from gradflip_desktop.core import run
    from gradflip_desktop.core.options import ExplainOptions

    for bad in ([True], [0.5], 1.5):
        with pytest.raises(ModelError, match="is not a list of class indices"):
            tiny.find_group(bad)
    with pytest.raises(ModelError):  # it was a TypeError from deep inside the run
        run(tiny, np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32), ExplainOptions(group=1.5))


class _Lin(nn.Module):
    """Flattened pixels through one Linear, then ``last``: "sigmoid", "sigmoid-reshaped" or "none"."""

    def __init__(self, outputs: int, last: str):
        super().__init__()
        self.lin = nn.Linear(3 * 4 * 4, outputs)
        self.last = last
        self.act = nn.Sigmoid()

    def forward(self, x):
        z = self.lin(x.flatten(1))
        if self.last == "sigmoid-reshaped":  # sigmoid(z).squeeze(1).unsqueeze(1): two shape-only steps after it
            return torch.sigmoid(z).squeeze(1).unsqueeze(1)
        return self.act(z) if self.last == "sigmoid" else z


def test_outputs_are_probabilities_only_when_they_sum_to_1_within_a_thousandth():
    from gradflip_desktop.core.models.files.outputs import are_probabilities

    assert are_probabilities(torch.tensor([[0.6, 0.4]])) and are_probabilities(torch.tensor([[0.5, 0.4995]]))
    assert not are_probabilities(torch.tensor([[0.5, 0.45]]))  # 0.95: scores that happen to lie in [0, 1]
    assert not are_probabilities(torch.tensor([[1.0]]))  # one output is never a distribution


def test_a_sigmoid_read_through_several_shape_steps_and_the_notes_of_one_or_many_sigmoid_outputs():
    """A TorchScript network's sigmoid behind squeeze and unsqueeze is its last operation; one sigmoid output is read as
    p(class 1), several as per-class probabilities, and an fx graph's several sigmoids become log-sigmoid scores."""
    from gradflip_desktop.core.models.files.outputs import ends_in_sigmoid, read_scores, scores_before_final_activation

    pre = Preprocessing(input_size=(4, 4))
    torch.manual_seed(0)
    x = torch.rand(2, 3, 4, 4)
    assert ends_in_sigmoid(torch.jit.trace(_Lin(1, "sigmoid-reshaped").eval(), x), pre)
    assert not ends_in_sigmoid(torch.jit.trace(_Lin(1, "none").eval(), x), pre)
    one, notes = _Lin(1, "sigmoid").eval(), []
    with torch.no_grad():
        probe = one(torch.full((1, 3, 4, 4), 0.5))
    assert read_scores(one, pre, "bin.pt", probe, notes) == (True, False)
    assert notes == ["bin.pt ends in a sigmoid: its output is read as p(class 1), and log(1 - p), log(p) are used as "
                     "the class scores"]
    three = _Lin(3, "sigmoid").eval()
    graph = torch.fx.symbolic_trace(three)
    assert scores_before_final_activation(graph, single=False) == "log-sigmoid"
    with torch.no_grad():
        torch.testing.assert_close(graph(x), F.logsigmoid(three.lin(x.flatten(1))))


def test_a_sigmoid_method_at_the_end_of_an_fx_graph_is_seen():
    from gradflip_desktop.core.models.files.outputs import ends_in_sigmoid

    class Method(_Lin):
        def forward(self, x):
            return self.lin(x.flatten(1)).sigmoid()

    pre = Preprocessing(input_size=(4, 4))
    assert ends_in_sigmoid(torch.fx.symbolic_trace(Method(1, "")), pre)
    assert not ends_in_sigmoid(torch.fx.symbolic_trace(_Lin(1, "none")), pre)


def test_a_tuple_with_two_items_of_the_label_count_after_the_first_is_read_at_its_first_item():
    """(features, a, b) with a and b both one score per label: which one holds the scores cannot be told, so the first
    item is read (and the note says how to choose); one such item alone is picked."""
    from gradflip_desktop.core.models.files.outputs import PickOutput, choose_tuple_output

    net, notes = nn.Identity(), []
    out = (torch.zeros(1, 10), torch.zeros(1, 4), torch.ones(1, 4))
    assert choose_tuple_output(net, out, "m.pt", 4, notes) is net
    assert len(notes) == 1 and "the first is read as the class scores" in notes[0]
    picked = choose_tuple_output(net, out[:2], "m.pt", 4, notes)
    assert isinstance(picked, PickOutput) and picked.index == 1


def test_a_network_whose_output_depends_on_its_batch_is_refused():
    """Batch statistics (a network exported in training mode): one image's output changes with the others."""
    from gradflip_desktop.core.models.files.outputs import check_batch_independent

    class BatchCentred(nn.Module):
        def forward(self, x):
            return (x - x.mean(0, keepdim=True)).flatten(1)[:, :3] + x.flatten(1)[:, :3]

    pre = Preprocessing(input_size=(4, 4), mean=(0.0,) * 3, std=(1.0,) * 3)
    single = PixelSpaceModel(BatchCentred(), pre)(torch.full((1, 3, 4, 4), 0.5))
    with pytest.raises(ModelError, match=r"^m\.pt gives another output for an image when other images share its batch"):
        check_batch_independent(BatchCentred(), pre, "m.pt", single)
    check_batch_independent(nn.Flatten(), pre, "flat.pt", PixelSpaceModel(nn.Flatten(), pre)(torch.full((1, 3, 4, 4), 0.5)))


def test_torch_tensors_are_classified_as_their_numpy_twins_and_checked_alike():
    """An H x W x 3 tensor, the layout run() takes, failed inside torch's resize; a 1 x 3 x H x W one went to the
    network as it stood, 0-255 values included (another class, silently); C x H x W was classified too. Both
    tensor forms now give the numpy image's probabilities, and every form passes the same checks."""
    from helpers import make_tiny

    clf = make_tiny()
    img = np.random.default_rng(0).uniform(0, 1, (20, 28, 3)).astype(np.float32)
    want = clf.probabilities(img)
    hwc = torch.from_numpy(img)
    np.testing.assert_allclose(clf.probabilities(hwc), want, rtol=1e-12)
    np.testing.assert_allclose(clf.probabilities(hwc.permute(2, 0, 1)[None]), want, rtol=1e-12)
    assert clf.classify(hwc.requires_grad_(True), k=1) == clf.classify(img, k=1)
    with pytest.raises(ValueError, match=r"got float32 values up to 25\d(\.\d+)?: divide by 255"):
        clf.classify(hwc.detach().permute(2, 0, 1)[None] * 255)
    # an all-black 8-bit array said "uint8 values up to 0: divide by 255"; values of 3 are not levels
    with pytest.raises(ValueError, match=r"got uint8 values: divide by 255"):
        clf.classify(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"got float32 values up to 3: scale them to \[0, 1\]"):
        clf.classify(np.full((8, 8, 3), 3.0, np.float32))
    with pytest.raises(ValueError, match=r"pixels must be H x W x 3 \(RGB\), got shape \(3, 20, 28\)"):
        clf.classify(hwc.detach().permute(2, 0, 1))
    with pytest.raises(ValueError, match=r"pixels must be one image \(H x W x 3, or 1 x 3 x H x W\), got shape \(2, 3, 20, 28\)"):
        clf.classify(hwc.detach().permute(2, 0, 1)[None].repeat(2, 1, 1, 1))
