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


class _Call:
    """Pickles as a call of ``func(*args)`` (what a malicious checkpoint holds); never called here."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def test_a_protocol_4_pickle_names_each_code_running_global_at_inspection_and_load(tmp_path):
    """Protocol 4 and later (pickle's default, torch.save(pickle_protocol=4)) import globals with STACK_GLOBAL from
    the two strings before it, the second global of a module re-reading its name from the memo (BINGET): both are
    found, named, and refused before anything is unpickled."""
    import os

    from gradflip_desktop.core.models.files.safety import load_weights, refuse_pickled

    mod = os.system.__module__  # posix (nt on Windows)
    p = tmp_path / "evil.pth"
    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 3)}, "x": _Call(os.system, ("true",)),
                "y": _Call(os.getcwd, ())}, p, pickle_protocol=4)
    words = (f"refused to load evil.pth: it contains pickled Python objects that are not tensors "
             f"({mod}.system, {mod}.getcwd)")
    with pytest.raises(ModelError) as err:
        refuse_pickled(p)
    assert str(err.value).startswith(words), str(err.value)
    with pytest.raises(ModelError) as err:
        load_weights(p)
    assert str(err.value).startswith(words), str(err.value)


class _Bare(torch.nn.Module):
    """A model whose pickle names no torch.nn.modules class: only its own and its parameters'."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(2, 3))


def test_a_pickled_module_without_torch_layers_is_still_named_a_whole_pickled_model(tmp_path):
    """Told apart by its attributes (_modules, _parameters), not only by the torch.nn layers it holds."""
    from gradflip_desktop.core.models.files.safety import refuse_pickled

    p = tmp_path / "bare.pth"
    torch.save(_Bare(), p)
    with pytest.raises(ModelError) as err:
        refuse_pickled(p)
    assert str(err.value).startswith(f"bare.pth holds a whole pickled model ({__name__}._Bare), not a state dict"), str(err.value)


def test_a_training_checkpoint_without_weights_is_refused_not_returned(tmp_path):
    """The second read, with argparse and numpy allowed, is for a checkpoint that holds weights: one with only its
    args and epoch is refused as the first read refused it."""
    import argparse

    from gradflip_desktop.core.models.files.safety import load_weights

    p = tmp_path / "args.pth"
    torch.save({"args": argparse.Namespace(lr=0.1), "epoch": 3}, p)
    with pytest.raises(ModelError, match=r"^refused to load args\.pth: it contains pickled Python objects that are "
                                         r"not tensors \(argparse\.Namespace\)"):
        load_weights(p)


def test_a_dict_of_mostly_other_values_is_not_read_as_a_state_dict():
    """A state dict may carry a few non-tensor extras (a saved "epoch"): at least 90 % of its entries are tensors.
    One tensor among a checkpoint's settings is not its weights."""
    from gradflip_desktop.core.models.files.safety import extract_state_dict

    weights = {f"layer{i}.weight": torch.zeros(2) for i in range(9)}
    sd, notes = extract_state_dict({**weights, "epoch": 3}, "ckpt.pth")
    assert sd.keys() == weights.keys() and notes == []
    with pytest.raises(ModelError, match=r"^ckpt\.pth holds a checkpoint with entries \(w, epoch, lr\) but none of "
                                         r"them is a state dict of tensors"):
        extract_state_dict({"w": torch.zeros(2), "epoch": 3, "lr": 0.1}, "ckpt.pth")


def test_checkpoint_labels_by_index_must_number_every_class_from_0():
    """{"0": "cat", "1": "dog"} in any order names the classes; with a gap ({"0", "2"}) no index order is known."""
    from gradflip_desktop.core.models.files.safety import checkpoint_labels

    assert checkpoint_labels({"labels": {"1": "dog", "0": "cat"}}) == ["cat", "dog"]
    assert checkpoint_labels({"id2label": {0: "cat", 1: "dog"}}) == ["cat", "dog"]
    assert checkpoint_labels({"labels": {"0": "cat", "2": "dog"}}) is None
    assert checkpoint_labels({"labels": {"1": "cat", "2": "dog"}}) is None


def test_a_file_is_taken_for_safetensors_by_its_header_only_when_the_length_fits_the_file(tmp_path):
    """8 bytes of little-endian length, then "{": the length must lie within the file (2 to size - 8)."""
    from gradflip_desktop.core.models.files.safety import is_safetensors

    body = b'{"__metadata__":{}}'
    good, long = tmp_path / "w.bin", tmp_path / "x.bin"
    good.write_bytes(len(body).to_bytes(8, "little") + body)
    long.write_bytes((len(body) + 1).to_bytes(8, "little") + body)
    assert is_safetensors(good) and not is_safetensors(long)


def test_a_moving_average_is_taken_only_when_its_tensors_match_the_models():
    """model.* and model_ema.module.* of the same shapes: the moving average, with a note; of other shapes the two are
    not copies of one model, and the state dict is left as it was."""
    from gradflip_desktop.core.models.files.safety import extract_state_dict

    same = {"model.fc.weight": torch.zeros(2, 3), "model_ema.module.fc.weight": torch.ones(2, 3)}
    sd, notes = extract_state_dict(same, "l.ckpt")
    assert list(sd) == ["fc.weight"] and bool(sd["fc.weight"].eq(1).all())
    assert len(notes) == 1 and "model_ema.module.*): using the moving average" in notes[0]
    other = {"model.fc.weight": torch.zeros(2, 3), "model_ema.module.fc.weight": torch.ones(4, 3)}
    sd, notes = extract_state_dict(other, "l.ckpt")
    assert list(sd) == list(other) and notes == []


def test_half_and_double_precision_weights_are_said_to_be_computed_in_float32():
    from gradflip_desktop.core.models.files.safety import extract_state_dict, float32_note

    _, notes = extract_state_dict({"fc.weight": torch.zeros(2, 3, dtype=torch.float64)}, "d.pth")
    assert notes == ["d.pth stores float64 weights: computing in float32"]
    mixed = [torch.zeros(1, dtype=torch.float16), torch.zeros(1, dtype=torch.bfloat16), torch.zeros(1)]
    assert float32_note("h.pth", mixed) == "h.pth stores bfloat16 and float16 weights: computing in float32"
    assert float32_note("f.pth", [torch.zeros(1), torch.zeros(1, dtype=torch.int64)]) == ""



def test_torchs_refusal_of_a_global_is_said_as_an_object_only_an_unsafe_load_could_read(tmp_path):
    """torch.load's own words for a class it does not allow, without its advice to load with weights_only=False."""
    import argparse

    from gradflip_desktop.core.models.files.safety import torch_reason

    p = tmp_path / "args.pth"
    torch.save({"args": argparse.Namespace(lr=0.1)}, p)
    with pytest.raises(Exception) as err:
        torch.load(p, weights_only=True)
    reason = torch_reason(err.value)
    assert reason == "it holds pickled objects that only an unsafe load could read (GLOBAL argparse.Namespace)", reason
    assert "will likely succeed" not in reason and "weights_only" not in reason and "safe_globals" not in reason


def test_a_wrapper_prefix_is_removed_only_when_every_weight_name_has_it():
    from gradflip_desktop.core.models.files.safety import extract_state_dict

    sd, notes = extract_state_dict({"module.fc.weight": torch.zeros(2, 3), "head.weight": torch.zeros(2)}, "m.pth")
    assert list(sd) == ["module.fc.weight", "head.weight"] and notes == []
    sd, notes = extract_state_dict({"module.fc.weight": torch.zeros(2, 3), "module.fc.bias": torch.zeros(2)}, "m.pth")
    assert list(sd) == ["fc.weight", "fc.bias"] and notes == ["removed the 'module.' prefix of the weight names"]


def test_a_global_past_the_scan_is_refused_without_torchs_advice_to_load_unsafely(tmp_path, monkeypatch):
    """A checkpoint whose code-running global lies past the opcode scan's limit (64 MB; 1 MB here) reaches
    torch.load(weights_only=True), whose refusal on torch 2.14 reads "… Re-running `torch.load` with `weights_only`
    set to `False` will likely succeed … Trying to load unsupported GLOBAL builtins.open whose module builtins is
    blocked" without the "WeightsUnpickler error:" the message was trimmed at: the user was told to load it unsafely."""
    from gradflip_desktop.core.models.files import safety

    import os

    monkeypatch.setattr(safety, "LEGACY_SCAN_BYTES", 1 << 20)
    marker = tmp_path / "PAYLOAD_RAN"
    for name, payload, named in (("opens.pth", PicklePayload(marker), "GLOBAL io.open"),
                                 ("system.pth", _Call(os.system, (f"touch '{marker}'",)), f"GLOBAL {os.system.__module__}.system")):
        path = tmp_path / name
        torch.save({"pad": bytes(2 << 20), "x": payload}, path)
        with pytest.raises(ModelError) as caught:
            mf.load_model_file(path, arch="resnet18")
        text = str(caught.value)
        assert "weights_only" not in text and "likely succeed" not in text and "safe_globals" not in text, text
        assert text == f"cannot read {name} as PyTorch weights: it holds pickled objects that only an unsafe load " \
                       f"could read ({named})", text
        assert not marker.exists()
    assert safety.torch_reason(Exception("Weights only load failed. Re-running `torch.load` with `weights_only` set to "
                                         "`False` will likely succeed.")) == \
        "it holds pickled objects that only an unsafe load could read (an object a weights-only load refuses)"
