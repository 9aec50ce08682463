"""Weights files are read with torch.load(weights_only=True): pickled code never runs, and a refusal says why."""

from __future__ import annotations

import pickle

import pytest
import torch
from model_helpers import SmallCNN, PicklePayload

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import files as mf


def test_checkpoint_without_a_state_dict_is_refused(tmp_path):
    path = tmp_path / "ckpt.pth"
    torch.save({"epoch": 3, "optimizer": {"lr": 0.1}}, path)
    with pytest.raises(ModelError, match=r"checkpoint with entries \(epoch, optimizer\) but none of them is a state dict"):
        mf.load_model_file(path, arch="resnet18")


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_malicious_pickle_is_refused_and_its_payload_never_runs(tmp_path, writer):
    marker = tmp_path / "PAYLOAD_RAN"
    path = tmp_path / "weights.pth"
    if writer == "pickle":
        path.write_bytes(pickle.dumps(PicklePayload(marker), protocol=2))
    else:
        torch.save({"conv.weight": torch.zeros(1), "evil": PicklePayload(marker)}, path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet18")
    assert not marker.exists()
    msg = str(err.value)
    assert msg.startswith("refused to load weights.pth: it contains pickled Python objects that are not tensors (io.open)")
    assert "never unpickles arbitrary objects" in msg
    assert not marker.exists()


def test_whole_pickled_module_is_refused_with_how_to_save_a_state_dict(tmp_path):
    path = tmp_path / "whole.pth"
    torch.save(SmallCNN(), path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet18")
    msg = str(err.value)
    assert "whole.pth holds a whole pickled model (" in msg and "SmallCNN)" in msg
    assert "torch.save(model.state_dict(), 'whole.state_dict.pth')" in msg
