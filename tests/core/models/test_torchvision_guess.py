"""Guessing the torchvision architecture of a state dict from its tensor names and shapes
(gradflip_desktop/core/models/files/torchvision.py ``guess_architectures``): the exact answer, while
building only the architectures that can fit."""

from __future__ import annotations

import re

import pytest
import torch
from model_helpers import SmallCNN

from gradflip_desktop.core.models.files import torchvision as tvf

tv = pytest.importorskip("torchvision")  # part of the `test` extra


def meta_state_dict(arch: str, **kw) -> dict[str, torch.Tensor]:
    """``arch``'s state dict with shapes only (the meta device: no memory, no time)."""
    with torch.device("meta"):
        return dict(tv.models.get_model(arch, weights=None, **kw).state_dict())


def spy_builds(monkeypatch) -> list[str]:
    """The architectures guessing builds from now on (the slow part), in order."""
    built: list[str] = []
    real = tvf._reference_shapes

    def spy(arch, **kw):
        built.append(arch)
        return real(arch, **kw)

    monkeypatch.setattr(tvf, "_reference_shapes", spy)
    return built


def test_a_resnet18_or_mobilenet_builds_only_its_own_family(monkeypatch):
    """The slow part of guessing is building architectures (~5 s for all of them); one whose
    characteristic tensors the state dict lacks is not built."""
    built = spy_builds(monkeypatch)
    tvf._guess_reference.cache_clear()
    try:
        assert tvf.guess_architectures(meta_state_dict("resnet18")) == ["resnet18"]
        assert {a for a in built if not a.startswith("regnet")} == {"resnet18"}  # RegNets fail at once on meta
        built.clear()
        assert tvf.guess_architectures(meta_state_dict("mobilenet_v3_small")) == ["mobilenet_v3_small"]
        mobilenets = {"mobilenet_v3_small", "mobilenet_v3_large"}
        plain_vggs = {"vgg11", "vgg13", "vgg16", "vgg19"}  # they also have classifier.3 (and take 0.05 s)
        assert {a for a in built if not a.startswith("regnet")} == mobilenets | plain_vggs
        built.clear()
        assert tvf.guess_architectures(meta_state_dict("resnet18")) == ["resnet18"]
        assert built == []  # built once per process
    finally:
        tvf._guess_reference.cache_clear()  # drop what was built through the spy's recording


@pytest.fixture(scope="module")
def references():
    """Every torchvision architecture's tensor shapes (building them all: the one slow step here)."""
    return {a: tvf._guess_reference(a) for a in tvf.torchvision_architectures()}


@pytest.mark.parametrize(
    ("arch", "kw"),
    [
        ("resnet18", {}),
        ("resnet18", {"num_classes": 10}),  # a fine-tuned head: the class count aside
        ("resnet34", {}),
        ("resnet50", {}),
        ("wide_resnet50_2", {"num_classes": 3}),
        ("mobilenet_v3_small", {}),
        ("efficientnet_b0", {"num_classes": 10}),
        ("efficientnet_v2_s", {}),
        ("densenet121", {}),
        ("vit_b_16", {}),
        ("convnext_tiny", {}),
        ("swin_v2_t", {}),
        ("vgg11_bn", {}),
    ],
)
def test_real_architectures_are_recognised_and_only_they(references, arch, kw):
    assert tvf.guess_architectures(meta_state_dict(arch, **kw)) == [arch]


def test_every_architecture_is_found_from_its_own_tensors_exactly_as_by_comparing_with_all(references):
    """The prefilter rows (``_SIGNATURES``) name tensors that every architecture they cover has, with the
    installed torchvision; so the fast answer is the full comparison's, for every architecture."""
    archs = list(references)
    unbuildable = [a for a, r in references.items() if r is None]
    assert unbuildable and all(a.startswith("regnet_") for a in unbuildable), unbuildable  # as documented
    for arch, ref in references.items():
        if ref is None:
            continue
        for pattern, key in tvf._SIGNATURES:
            if pattern.fullmatch(arch):
                assert key in ref[0], f"{arch} has no {key} ({pattern.pattern})"
        sd = {k: torch.empty(s, device="meta") for k, s in ref[1].items()}
        keys = frozenset(k for k in sd if not k.endswith("num_batches_tracked"))
        full = [a for a in archs if tvf._fits(a, sd, keys)]
        assert full == [arch]
        assert tvf.guess_architectures(sd) == full


def test_resnet34_and_resnet50_are_told_apart_and_a_changed_tensor_fits_nothing(references):
    r34, r50 = meta_state_dict("resnet34"), meta_state_dict("resnet50")
    assert len(r34) != len(r50) and tvf.guess_architectures(r34) == ["resnet34"]
    del r34["layer3.5.conv2.weight"]  # resnet34 less a tensor: not resnet18, not resnet34
    assert tvf.guess_architectures(r34) == []
    r50["conv1.weight"] = torch.empty(64, 3, 5, 5, device="meta")  # a shape that is not the head's
    assert tvf.guess_architectures(r50) == []
    no_counters = {k: v for k, v in meta_state_dict("resnet50").items() if not k.endswith("num_batches_tracked")}
    assert tvf.guess_architectures(no_counters) == ["resnet50"]  # older files have no batch counters


def test_densenet_with_torchvision_legacy_names_is_recognised_once_renamed(references):
    """The loader renames ``denselayer1.norm.1`` → ``norm1`` before guessing, as torchvision does."""
    sd = meta_state_dict("densenet121", num_classes=7)
    legacy = {re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v for k, v in sd.items()}
    assert tvf.guess_architectures(legacy) == []
    notes: list[str] = []
    assert tvf.guess_architectures(tvf._densenet_legacy_keys(legacy, notes)) == ["densenet121"] and notes


def test_a_state_dict_of_no_torchvision_architecture_fits_nothing(references):
    assert tvf.guess_architectures(SmallCNN().state_dict()) == []
    assert tvf.guess_architectures({}) == []


def test_a_prefilter_row_gone_stale_costs_time_not_the_answer(references, monkeypatch):
    """With another torchvision a row may name a tensor an architecture no longer has: nothing among the
    candidates fits, and the full comparison still finds it."""
    stale = (re.compile(r"resnet\d+"), "layer1.0.renamed_conv.weight")
    monkeypatch.setattr(tvf, "_SIGNATURES", (*tvf._SIGNATURES, stale))
    monkeypatch.setattr(tvf, "SIGNATURES_CHECKED", ("0.0",))  # the rows were checked against another release
    assert not tvf._could_fit("resnet18", frozenset(meta_state_dict("resnet18")))
    assert tvf.guess_architectures(meta_state_dict("resnet18", num_classes=10)) == ["resnet18"]


def test_a_custom_networks_weights_build_only_the_candidates_on_a_checked_torchvision(monkeypatch):
    """A state dict of the user's own network (no torchvision architecture) built all ~80 architectures, 18 s,
    only to say "name the architecture". On a torchvision whose rows the test above checks, the rows are exact,
    so only the candidates are built; on another release the full comparison still runs."""
    sd = SmallCNN(channels=3, classes=4, size=16).state_dict()
    installed = tv.__version__.split("+")[0]
    built = spy_builds(monkeypatch)
    try:
        monkeypatch.setattr(tvf, "SIGNATURES_CHECKED", (installed,))
        tvf._guess_reference.cache_clear()
        assert tvf.guess_architectures(sd) == []
        candidates = [a for a in tvf.torchvision_architectures()
                      if tvf._could_fit(a, frozenset(k for k in sd if not k.endswith("num_batches_tracked")))]
        assert sorted(set(built)) == sorted(set(candidates)) and len(set(built)) < len(tvf.torchvision_architectures())
        monkeypatch.setattr(tvf, "SIGNATURES_CHECKED", ("0.0",))  # a release the rows were not checked against
        built.clear()
        tvf._guess_reference.cache_clear()
        assert tvf.guess_architectures(sd) == []
        assert set(built) == set(tvf.torchvision_architectures())
    finally:
        tvf._guess_reference.cache_clear()


def test_a_head_with_the_wrong_input_features_fits_nothing(references):
    """A head may have any class count but must take the architecture's features: resnet18 with fc [10, 256] is not
    resnet18 (mutation audit: accepting any head shape survived; the weights were then "recognised" as resnet18 and
    refused by the load for a shape mismatch)."""
    sd = meta_state_dict("resnet18", num_classes=10)
    assert tvf.guess_architectures(sd) == ["resnet18"]
    sd["fc.weight"] = torch.empty(10, 256, device="meta")
    assert tvf.guess_architectures(sd) == []
