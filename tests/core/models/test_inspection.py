"""inspect_model_file: what the Load model dialog prefills from a model file and its sidecar (no network built)."""

from __future__ import annotations

import json

import pytest
from model_helpers import hf_vit_folder, timm_checkpoint

from gradflip_desktop.core.models import files as mf


def _sidecar(model, **fields):
    (model.parent / f"{model.stem}.gradflip.json").write_text(json.dumps({"kind": "gradflip-model", "version": 1, **fields}))


def test_a_sidecar_naming_some_settings_prefills_them_over_the_timm_architectures_own(tmp_path):
    """A hand-written sidecar {"arch": "timm:…", "preprocessing": {"input_size": …}} was prefilled as ImageNet's mean,
    squash and bilinear: the app loaded the model with those (the command line with timm's own 0.5 mean, crop and
    bicubic) and saved them over the sidecar. The dialog now shows what the command line computes with."""
    pytest.importorskip("timm")
    path = tmp_path / "tr.pth"
    timm_checkpoint(path, "test_resnet", classes=3)
    _sidecar(path, arch="timm:test_resnet", preprocessing={"input_size": [128, 128]})
    loaded = mf.load_model_file(path).preprocessing
    prefilled = mf.inspect_model_file(path).preprocessing
    assert prefilled == loaded and loaded.input_size == (128, 128)
    assert loaded.resize == "center-crop"  # timm's crop_pct kept, as on the command line; not a squash
    spec = mf.ModelSpec(path=str(path), format="state_dict", arch="timm:test_resnet", preprocessing=prefilled)
    assert mf.load_model_spec(spec).preprocessing == loaded  # what the dialog's Load does with the prefill


def test_a_sidecar_naming_some_settings_keeps_a_hf_folders_processor(tmp_path):
    pytest.importorskip("transformers")
    folder = tmp_path / "vit"
    hf_vit_folder(folder)
    _sidecar(folder, preprocessing={"input_size": [32, 32]})
    loaded = mf.load_model_file(folder).preprocessing
    assert mf.inspect_model_file(folder).preprocessing == loaded
    assert (loaded.mean, loaded.std, loaded.interpolation) == ((0.5,) * 3, (0.25,) * 3, "bicubic")  # the processor's


def test_the_apps_unsaved_last_attempt_is_prefilled_over_the_sidecar(tmp_path):
    """A load that failed this session is not saved: a retry starts from what was typed (``unsaved``), not from the
    older sidecar, its architecture and its preprocessing whole (mutation audit: the sidecar winning, and the typed
    preprocessing merged into the file's own, each survived)."""
    import torch

    from gradflip_desktop.core.models import Preprocessing

    path = tmp_path / "mine.pth"
    torch.save({}, path)  # only the name and the sidecar are read
    _sidecar(path, arch="resnet34", preprocessing={"input_size": [128, 128]})
    typed = Preprocessing(input_size=(64, 64), mean=(0.5,) * 3, std=(0.5,) * 3)
    unsaved = mf.ModelSpec(path=str(path), arch="resnet18", preprocessing=typed)
    info = mf.inspect_model_file(path, unsaved=unsaved)
    assert info.sidecar is unsaved and info.arch == "resnet18" and info.preprocessing == typed
    saved = mf.inspect_model_file(path)
    assert saved.arch == "resnet34" and saved.preprocessing.input_size == (128, 128)


def test_a_sidecar_whose_format_the_file_contradicts_is_not_prefilled(tmp_path):
    """A model saved again as a state dict beside a sidecar that says TorchScript: the dialog was pre-filled with the
    sidecar's format, and its Load then failed as "corrupted" TorchScript. It starts from the file instead (its Load
    saves the settings anew); a sidecar that fits is still read."""
    import torch

    path = tmp_path / "mine.pth"
    torch.save({}, path)
    _sidecar(path, format="state_dict", arch="resnet34", preprocessing={"input_size": [128, 128]})
    kept = mf.inspect_model_file(path)
    assert kept.sidecar is not None and kept.arch == "resnet34" and kept.preprocessing.input_size == (128, 128)
    _sidecar(path, format="torchscript", arch="resnet34", preprocessing={"input_size": [128, 128]})
    info = mf.inspect_model_file(path)
    assert info.sidecar is None and info.format == "state_dict" and not info.runs_code
    assert info.arch != "resnet34" and (info.preprocessing is None or info.preprocessing.input_size != (128, 128))
