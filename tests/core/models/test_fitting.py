"""Fitting a state dict to an architecture (core/models/files/fitting.py): what counts as a feature extractor
without its head, and which wrapper prefix is stripped."""

from __future__ import annotations

import pytest

from gradflip_desktop.core.models.files.fitting import headless_message

REF = {"conv.weight": (8, 3, 3, 3), "proj.weight": (16, 8, 1, 1), "fc.weight": (10, 16), "fc.bias": (10,)}


def test_a_head_is_at_most_two_tensors_more_missing_is_a_misfit():
    """The head is a weight and its bias: a file without them is a feature extractor; one that also lacks the layer
    before them is not (mutation audit: accepting three missing tensors as "the head" survived)."""
    said = headless_message("f.pth", "net", REF, ["fc.weight", "fc.bias"], [], [])
    assert said.startswith("f.pth is a net without its classifier head (fc.weight, fc.bias missing): a feature extractor")
    assert headless_message("f.pth", "net", REF, ["proj.weight", "fc.weight", "fc.bias"], [], []) is None


def test_a_prefix_is_stripped_only_when_the_rest_then_fits_better():
    """Keys that fit no better without their shared prefix keep it, and no note claims it was removed (mutation audit:
    stripping on a tie survived: "removed the 'wrap.' prefix" beside weights that fit nothing either way)."""
    import torch

    from gradflip_desktop.core.models.files.fitting import strip_framework_prefix

    t = torch.zeros(1)
    notes: list[str] = []
    sd = {"wrap.other.weight": t, "wrap.other.bias": t}
    assert strip_framework_prefix(sd, REF, notes) is sd and notes == []
    fits = {"wrap.fc.weight": t, "wrap.fc.bias": t}
    assert strip_framework_prefix(fits, REF, notes) == {"fc.weight": t, "fc.bias": t}
    assert notes == ["removed the 'wrap.' prefix of the weight names"]


def test_integer_statistics_are_refused_where_the_network_is_built_without_memory(resnet_files, tmp_path):
    """Integer tensors are refused in buffers too: the network built on the meta device takes an int64 running_var
    by assignment (no error there) and .float() then hid it (mutation audit: the meta path's check dropped survived;
    the test of int8 weights was caught by the fallback build)."""
    import pytest
    import torch

    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models import files as mf

    sd = dict(resnet_files["ft"].state_dict())
    sd["bn1.running_var"] = torch.ones(64, dtype=torch.int64)
    path = tmp_path / "int_stats.pth"
    torch.save(sd, path)
    with pytest.raises(ModelError, match=r"^the weights in int_stats\.pth are int64 where resnet18 needs floating-point "
                                         r"numbers \(1 tensor: bn1\.running_var\)"):
        mf.load_model_file(path, arch="resnet18")


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_a_state_dict_without_batch_norm_counters_loads(resnet_files, tmp_path, suffix):
    """A state dict without the BatchNorm layers' num_batches_tracked counters (older files, a safetensors conversion
    that drops them) is recognised (key_diff and the guess leave the counters out on purpose) but was then refused:
    _with_versions gives the dict the network's own module versions, BatchNorm's version 2, and at version 2
    BatchNorm no longer fills in a missing counter, so load_state_dict(strict=True) fails with "Missing key(s) in
    state_dict: bn1.num_batches_tracked, …". Without that metadata (version None) torch fills them in with 0."""
    import torch

    from gradflip_desktop.core.models import files as mf

    ft = resnet_files["ft"]
    sd = {k: v for k, v in ft.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / f"no_counters{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    else:
        torch.save(sd, path)
    clf = mf.load_model_file(path)  # "architecture resnet18 recognised from the weights", then the load
    assert clf.num_classes == 10 and "architecture resnet18 recognised from the weights" in clf.warnings
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (clf.preprocessing.mean, clf.preprocessing.std))
    with torch.no_grad():
        torch.testing.assert_close(clf.module(x), ft((x - mean) / std), atol=1e-4, rtol=1e-4)


def test_a_misfit_message_lists_four_keys_and_marks_only_more():
    """Four missing keys are all named, a fifth is "…" (mutation audit: the ellipsis after exactly four survived)."""
    from gradflip_desktop.core.models.files.fitting import mismatch_message

    four = mismatch_message("f.pth", "net", ["a", "b", "c", "d"], [], [])
    assert four == "the weights in f.pth do not fit the torchvision architecture net: 4 missing keys (a, b, c, d)"
    five = mismatch_message("f.pth", "net", [], ["a", "b", "c", "d", "e"], [], kind="timm")
    assert five == "the weights in f.pth do not fit the timm architecture net: 5 unexpected keys (a, b, c, d, …)"


def test_a_misfit_message_shows_three_shape_mismatches_and_marks_more():
    """Three shape mismatches are each shown with both shapes; a fourth is "…" (mutation audit: showing the first one
    alone survived)."""
    from gradflip_desktop.core.models.files.fitting import mismatch_message

    bad = [(k, (1,), (2,)) for k in ("a", "b", "c", "d")]
    assert mismatch_message("f.pth", "net", [], [], bad[:3]).endswith(
        "3 shape mismatches (a: file [1] vs net [2]; b: file [1] vs net [2]; c: file [1] vs net [2])")
    assert mismatch_message("f.pth", "net", [], [], bad).endswith(
        "4 shape mismatches (a: file [1] vs net [2]; b: file [1] vs net [2]; c: file [1] vs net [2]; …)")
