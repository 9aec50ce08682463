"""A Lightning state dict holding the model twice, ``model.*`` and its moving average ``model_ema.module.*``
(timm's ModelEmaV2/V3; ``ema.module.*`` and ``ema.n_averaged`` for torch's AveragedModel): the moving average is
loaded, with a note, not refused as an unknown architecture or 244 unexpected keys."""

from __future__ import annotations

import pytest
import torch
from model_helpers import assert_same_logits, seeded_resnet18

from gradflip_desktop.core.models import files as mf

pytest.importorskip("torchvision")


def _two_copies(root: str, counters: dict | None = None) -> tuple[dict, torch.nn.Module]:
    net, ema = seeded_resnet18(5, seed=1), seeded_resnet18(5, seed=2)
    sd = {f"model.{k}": v for k, v in net.state_dict().items()}
    sd.update({f"{root}{k}": v for k, v in ema.state_dict().items()})
    sd.update(counters or {})
    return sd, ema


@pytest.mark.parametrize("arch", [None, "resnet18"])
@pytest.mark.parametrize("wrapped", [False, True])
def test_model_and_model_ema_loads_the_moving_average(tmp_path, arch, wrapped):
    sd, ema = _two_copies("model_ema.module.")
    path = tmp_path / "lightning.ckpt"
    torch.save({"state_dict": sd, "epoch": 7} if wrapped else sd, path)
    clf = mf.load_model_file(path, arch=arch)
    assert clf.num_classes == 5
    assert any("model_ema.module.*): using the moving average" in w for w in clf.warnings), clf.warnings
    assert_same_logits(clf, ema, 224)


def test_averaged_model_with_its_counter(tmp_path):
    sd, ema = _two_copies("ema.module.", {"ema.n_averaged": torch.tensor(12)})
    path = tmp_path / "swa.pth"
    torch.save(sd, path)
    assert_same_logits(mf.load_model_file(path), ema, 224)


def test_two_different_networks_are_not_taken_for_copies(tmp_path):
    """An 'ema' whose tensors are not those of the model is no moving average of it: left as it was (refused)."""
    sd, _ = _two_copies("model_ema.module.")
    sd = {k: v for k, v in sd.items() if not k.startswith("model_ema.module.layer4")}
    path = tmp_path / "mixed.pth"
    torch.save(sd, path)
    with pytest.raises(Exception, match="cannot tell which architecture"):
        mf.load_model_file(path)
