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
    torch.save({}, path)  # it said "with entries ()"
    with pytest.raises(ModelError, match=r"^ckpt\.pth holds an empty dictionary: no weights were saved in it$"):
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


def test_pickled_fx_graph_module_is_refused_naming_it(tmp_path):
    """torch.fx.symbolic_trace(model) saved whole: refused (unpickling it runs the graph's code), and named as
    the GraphModule it is, not by the first helper class of its pickle (it said "__builtin__.set")."""
    path = tmp_path / "traced.pt"
    torch.save(torch.fx.symbolic_trace(SmallCNN()), path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path)
    msg = str(err.value)
    assert msg.startswith("traced.pt holds a whole pickled model (torch.fx.GraphModule), not a state dict"), msg
    assert "__builtin__" not in msg


def test_damaged_pickle_is_named_damaged_without_torchs_advice_to_load_unsafely(tmp_path):
    # a zip laid out like a torch file whose data.pkl is garbage: torch's own message advises
    # weights_only=False ("will likely succeed"), advice GradFlip must not pass on
    import zipfile  # noqa: PLC0415

    path = tmp_path / "garbage.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("garbage/data.pkl", bytes([191, 7, 200, 3]) * 50)
        zf.writestr("garbage/version", "3\n")
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet18")
    msg = str(err.value)
    assert msg.startswith("cannot read garbage.pt as PyTorch weights: the file is damaged or not a PyTorch checkpoint (")
    assert "weights_only" not in msg and "will likely succeed" not in msg


@pytest.mark.parametrize("legacy", [False, True])
def test_training_checkpoint_with_its_args_loads_its_weights_and_runs_nothing(tmp_path, legacy):
    """timm's train.py saves {"state_dict", "state_dict_ema", "optimizer", "args": argparse.Namespace, ...}
    and numpy scalars: the weights load (torch's weights-only unpickler, those classes allowed too). Any
    other object next to the weights is refused, never run."""
    import argparse

    import torchvision

    net = torchvision.models.resnet18(weights=None, num_classes=3).eval()
    ckpt = {"epoch": 7, "arch": "resnet18", "state_dict": net.state_dict(), "version": 2,
            "args": argparse.Namespace(model="resnet18", lr=0.1), "metric": torch.tensor(0.5).numpy()[()]}
    path = tmp_path / "checkpoint-7.pth.tar"
    torch.save(ckpt, path, _use_new_zipfile_serialization=not legacy)
    clf = mf.load_model_file(path, arch="resnet18")
    assert clf.num_classes == 3
    x = torch.rand(1, 3, 224, 224)
    pre = clf.preprocessing
    mean, std = torch.tensor(pre.mean).view(1, 3, 1, 1), torch.tensor(pre.std).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(clf.logits(x), net((x - mean) / std))
    # an object of any other class next to the weights, or among them: refused, never run
    marker = tmp_path / "PAYLOAD_RAN"
    for name, obj in (("beside.pth", {**ckpt, "hook": PicklePayload(marker)}),
                      ("among.pth", {**net.state_dict(), "fc.weight": PicklePayload(marker)})):
        torch.save(obj, tmp_path / name, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(ModelError, match=rf"refused to load {name}: it contains pickled Python objects"):
            mf.load_model_file(tmp_path / name, arch="resnet18")
    assert not marker.exists()


def test_a_legacy_checkpoint_cannot_use_allowed_functions_to_write_files(tmp_path):
    """A legacy (non-zip) file that needs a training extra (argparse.Namespace) to load, then BUILDs
    attributes onto torch's own _rebuild_tensor_v2 and hands it to persistent_load ('module' records write
    NAME.patch when dump_patches is set): refused, no file written, torch left as it was."""
    import pickle
    import struct
    import sys

    import torch._utils as tu

    target = tmp_path / "PWNED"

    def text(v: str) -> bytes:
        b = v.encode()
        return b"X" + struct.pack("<I", len(b)) + b

    main = (b"\x80\x02" + b"cargparse\nNamespace\n" + b")\x81" + b"0"
            + b"(" + text("module") + b"ctorch._utils\n_rebuild_tensor_v2\n" + b"N}("
            + text("dump_patches") + b"\x88" + text("__name__") + text(str(target)) + b"u\x86b"
            + text("x.py") + text("written by a checkpoint\n") + b"tQ0}.")
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        for head in (0x1950A86A20F9469CFC6C, 1001,
                     {"protocol_version": 1001, "little_endian": sys.byteorder == "little",
                      "type_sizes": {"short": 2, "int": 4, "long": 4}}):
            f.write(pickle.dumps(head, protocol=2))
        f.write(main)
        f.write(pickle.dumps([], protocol=2))
    name = tu._rebuild_tensor_v2.__name__
    with pytest.raises(ModelError):
        mf.load_model_file(path, arch="resnet18")
    assert not target.with_suffix(".patch").exists() and not list(tmp_path.glob("*.patch"))
    assert tu._rebuild_tensor_v2.__name__ == name and not getattr(tu._rebuild_tensor_v2, "dump_patches", False)


def test_short_reason_drops_torchs_plea_to_report_its_message():
    from gradflip_desktop.core.models.files.safety import short_reason

    exc = RuntimeError("PytorchStreamReader failed reading zip archive: failed finding central directory (Could this "
                       "error message be improved? If so, please report an enhancement request to PyTorch.)")
    assert short_reason(exc) == "PytorchStreamReader failed reading zip archive: failed finding central directory"
    assert short_reason(ValueError("a\n  b")) == "a b"


def test_inspection_refuses_a_whole_pickled_model_before_any_dialog_and_runs_nothing(tmp_path):
    """The app's Load model dialog opened such a file pre-filled as "State dict" and refused it only after Load;
    the inspection that fills the dialog refuses it now, from the pickle's opcodes (nothing is unpickled). Other
    pickled objects are left to the load, which allows a training checkpoint's few extras and refuses the rest."""
    import argparse

    path = tmp_path / "model.pth"
    torch.save(SmallCNN(), path)
    with pytest.raises(ModelError, match="model.pth holds a whole pickled model"):
        mf.inspect_model_file(path)
    marker = tmp_path / "PAYLOAD_RAN"
    payload = tmp_path / "payload.pth"
    torch.save({"w": torch.zeros(1), "x": PicklePayload(marker)}, payload)
    with pytest.raises(ModelError, match="not tensors"):  # refused at inspection now (see the test below)
        mf.inspect_model_file(payload)
    assert not marker.exists()  # nothing ran
    with pytest.raises(ModelError, match="not tensors"):  # the load refuses it
        mf.load_model_file(payload, arch="resnet18")
    assert not marker.exists()
    ckpt = tmp_path / "train.pth"  # timm's train.py: args next to the weights
    torch.save({"state_dict": SmallCNN().state_dict(), "args": argparse.Namespace(lr=0.1)}, ckpt)
    assert mf.inspect_model_file(ckpt).format == "state_dict"


def test_inspection_scans_only_the_start_of_a_large_legacy_file_and_still_refuses_a_pickled_model(tmp_path):
    """The scan read a legacy (non-zip) torch file whole into memory before the dialog opened (a 400 MB file:
    +380 MB); its pickles come before the tensors' bytes, so its first bytes are enough."""
    import tracemalloc

    from gradflip_desktop.core.models.files import safety

    big = tmp_path / "big.pth"
    torch.save({"fc.weight": torch.zeros(25_000_000)}, big, _use_new_zipfile_serialization=False)  # 100 MB
    tracemalloc.start()
    try:
        safety.refuse_pickled(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 80e6, f"{peak / 1e6:.0f} MB allocated to scan a 100 MB file"
    whole = tmp_path / "whole.pth"
    torch.save(SmallCNN(), whole, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelError, match="holds a whole pickled model"):
        mf.inspect_model_file(whole)


def test_inspection_refuses_a_pickle_that_calls_a_function_before_the_dialog_and_runs_nothing(tmp_path):
    """A state dict with a code-running object in it (``posix.system``, ``builtins.open``) opened the Load model
    dialog, pre-filled as "State dict", and was refused only after Load, whatever was chosen in it; a training
    checkpoint's extras (argparse, numpy) still pass to the load."""
    import argparse

    import numpy as np

    marker = tmp_path / "PAYLOAD_RAN"
    payload = tmp_path / "payload.pth"
    torch.save({"w": torch.zeros(1), "x": PicklePayload(marker)}, payload)
    with pytest.raises(ModelError, match="refused to load payload.pth: it contains pickled Python objects"):
        mf.inspect_model_file(payload)
    assert not marker.exists()
    ckpt = tmp_path / "train.pth"
    torch.save({"state_dict": SmallCNN().state_dict(), "args": argparse.Namespace(lr=0.1),
                "best": np.float64(0.5)}, ckpt)
    assert mf.inspect_model_file(ckpt).format == "state_dict"


@pytest.mark.parametrize("extra", [__import__("collections").Counter({"a": 1}), bytearray(b"x"), complex(1, 2)])
def test_checkpoint_torch_loads_is_not_refused_at_inspection(tmp_path, extra):
    """Objects torch's weights-only load accepts (Counter, bytearray, complex) were refused by the new inspection."""
    from gradflip_desktop.core.models.files.safety import load_weights, refuse_pickled

    p = tmp_path / "ckpt.pth"
    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 3)}, "extra": extra}, p)
    load_weights(p)  # the load accepts it (torch's weights-only unpickler)
    refuse_pickled(p)  # so inspection must not refuse it


def test_a_code_running_global_is_still_refused_at_inspection(tmp_path):
    import os

    from gradflip_desktop.core.models.files.safety import refuse_pickled

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    p = tmp_path / "evil.pth"
    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 3)}, "x": Evil()}, p)
    with pytest.raises(Exception, match="refused to load"):
        refuse_pickled(p)


def test_a_zip_whose_pickle_inflates_to_gigabytes_is_scanned_within_64_mb_and_refused(tmp_path, monkeypatch):
    """A small .pt whose deflated data.pkl (a payload, then zeros) inflates to 256 MB: the scan read every .pkl member
    whole (a 4 MB file of 4 GB: MemoryError, "internal error", exit 3). It reads at most 64 MB now (8 MB, patched)."""
    import zipfile

    from gradflip_desktop.core.models.files import safety

    monkeypatch.setattr(safety, "LEGACY_SCAN_BYTES", 8 << 20)
    marker = tmp_path / "PAYLOAD_RAN"
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/version", "3\n")
        with zf.open("archive/data.pkl", "w", force_zip64=True) as f:
            f.write(pickle.dumps({"evil": PicklePayload(marker)}, protocol=2))
            for _ in range(16):
                f.write(bytes(1 << 24))  # 256 MB of zeros in all
    assert path.stat().st_size < 1e6
    streams = safety._pickle_streams(path)
    assert sum(map(len, streams)) == 8 << 20
    with pytest.raises(ModelError, match="refused to load bomb.pt: it contains pickled Python objects that are not tensors"):
        mf.load_model_file(path, arch="resnet18")
    assert not marker.exists()
