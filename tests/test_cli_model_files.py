"""The CLI's model-file options (--arch, --labels, --input-size ...), `gradflip models`, and the remedies
the CLI adds to the core's ModelSettingError (the core never names flags)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from model_helpers import RESNET18_FILE, SmallCNN, make_resnet_files, script

from gradflip_desktop import cli
from gradflip_desktop import cli as mf  # add_model_arguments / model_options_from_args live in the CLI now

tv = pytest.importorskip("torchvision")  # part of the `test` extra


@pytest.fixture(scope="module")
def resnet_files(tmp_path_factory):
    return make_resnet_files(tmp_path_factory.mktemp("tv"))


def test_cli_model_options_become_load_arguments():
    import argparse

    parser = argparse.ArgumentParser()
    mf.add_model_arguments(parser)
    args = parser.parse_args(
        "--arch resnet18 --labels l.txt --input-size 28x32 --resize center-crop --mean 0.1307 --std 0.3081 "
        "--channels 1".split()
    )
    assert mf.model_options_from_args(args) == {
        "arch": "resnet18",
        "labels": "l.txt",
        "preprocessing": {"input_size": [28, 32], "resize": "center-crop", "mean": [0.1307], "std": [0.3081], "channels": 1},
    }
    assert mf.model_options_from_args(parser.parse_args([])) == {}
    with pytest.raises(SystemExit):
        parser.parse_args(["--input-size", "big"])
    from gradflip_desktop.core.models.prep_fields import RESIZES

    resize = next(a for a in parser._actions if "--resize" in a.option_strings)
    assert tuple(resize.choices) == RESIZES  # the command line (torch-free) offers every mode the core knows


def test_cli_classify_and_explain_with_model_files(resnet_files, tmp_path, capsys, monkeypatch):
    from gradflip_desktop.core.images import save_png

    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    save_png(photo, rng.uniform(0.2, 0.8, size=(40, 56, 3)).astype(np.float32))
    digits = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), digits)
    code = cli.main(["classify", str(photo), "--model", str(digits), "--input-size", "28", "--channels", "1", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    top = json.loads(out.out)["top"]
    assert len(top) == 5 and top[0]["label"].startswith("class ")
    assert "gradflip: warning: digits.pt is TorchScript: loading it runs code stored in the file" in out.err
    code = cli.main(["explain", str(photo), "--model", str(digits), "--input-size", "28",
                     "--channels", "1", "--out", str(tmp_path / "out"), "--max-steps", "3", "--no-key-pixels",
                     "--quiet", "--json"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    assert "digits.pt" in json.dumps(json.loads(out.out))
    # torchvision weights by their file name, found in the hub cache
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["classify", str(photo), "--model", RESNET18_FILE, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    labels = tv.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    assert all(p["label"] == labels[p["index"]] for p in json.loads(out.out)["top"])
    assert cli.main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "efficientnet-lite0" in listing and RESNET18_FILE in listing and "ResNet18_Weights.IMAGENET1K_V1" in listing


def photo_file(tmp_path):
    from gradflip_desktop.core.images import save_png

    photo = tmp_path / "photo.png"
    save_png(photo, np.random.default_rng(0).uniform(0.2, 0.8, size=(40, 56, 3)).astype(np.float32))
    return photo


def test_cli_adds_the_flag_to_model_setting_errors(resnet_files, tmp_path, capsys):
    """The core names the problem; the CLI names the flag that fixes it (these were core messages before)."""
    photo = photo_file(tmp_path)
    ft = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), ft)
    assert cli.main(["classify", str(photo), "--model", str(ft), "--arch", "resnet34"]) == 2
    err = capsys.readouterr().err
    assert "do not fit the torchvision architecture resnet34" in err and "use --arch resnet18" in err
    own = tmp_path / "own_cnn.pth"
    torch.save(SmallCNN().state_dict(), own)
    assert cli.main(["classify", str(photo), "--model", str(own)]) == 2
    err = capsys.readouterr().err
    assert "cannot tell which architecture own_cnn.pth is for" in err and "choose it with --arch NAME" in err
    assert "a model of your own class loads as TorchScript" in err  # no --arch fits a class of one's own
    # the flag follows what it is for (it followed "loads as TorchScript … instead", as if --arch loaded one's own class)
    assert "instead, a timm model by its architecture's name; choose it with --arch NAME" in err
    odd = tmp_path / "odd.pt"  # 30 px: none of the sizes tried without a setting
    script(SmallCNN(channels=1, classes=10, size=30), odd)
    assert cli.main(["classify", str(photo), "--model", str(odd)]) == 2
    err = capsys.readouterr().err
    assert "odd.pt failed on a 1×3×224×224 input" in err and err.rstrip().endswith("check the input size and channel count (--input-size, --channels)")
    # a torchvision state dict with a channel count the network cannot take: the same words, not an internal error
    assert cli.main(["classify", str(photo), "--model", str(ft), "--channels", "1"]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "ft.pth failed on a 1×1×224×224 input" in err
    assert err.rstrip().endswith("check the input size and channel count (--input-size, --channels)")
    assert cli.main(["classify", str(photo), "--arch", "resnet18"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("gradflip: error: the model options (--arch) apply to model files only, not to the built-in "
                           "model 'efficientnet-lite0'; pass --model FILE")


def test_model_error_text_remedies():
    from gradflip_desktop.core.errors import ModelError, ModelSettingError

    assert cli.model_error_text(ModelError("plain")) == "plain"
    assert cli.model_error_text(ModelSettingError("no GPU", setting="device", suggestions=["cpu"])) == "no GPU; use --device cpu"
    assert cli.model_error_text(ModelSettingError("x. The weights fit a, b", setting="architecture", suggestions=["a", "b"])) == "x. The weights fit a, b: use --arch a"
    assert cli.model_error_text(ModelSettingError("Is the architecture right?", setting="architecture")) == (
        "Is the architecture right? Choose it with --arch NAME (a torchvision name, or timm:NAME).")
    assert cli.model_error_text(ModelSettingError("unknown timm architecture 'x'; did you mean y?", setting="architecture", suggestions=["timm:y"])) == (
        "unknown timm architecture 'x'; did you mean y? Use --arch timm:y.")
    assert cli.model_error_text(ModelSettingError("failed; check the input size and channel count", setting="preprocessing")) == (
        "failed; check the input size and channel count (--input-size, --channels)")
    assert cli.model_error_text(ModelSettingError("options for the built-in model", setting="model")) == "options for the built-in model; pass --model FILE"


def test_cli_refuses_a_model_whose_output_is_not_class_scores(tmp_path, capsys):
    class Seg(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 10, 1)

        def forward(self, x):
            return self.conv(x)

    path = tmp_path / "seg.pt"
    script(Seg(), path)
    photo = photo_file(tmp_path)
    assert cli.main(["classify", str(photo), "--model", str(path), "--input-size", "7"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "gradflip: error: the model returned shape (1, 10, 7, 7); GradFlip needs class scores of shape [N, C]"


def test_what_was_read_or_recognised_is_a_note_and_an_assumption_names_its_options(resnet_files, tmp_path, capsys):
    """"warning: architecture resnet18 recognised from the weights" and "warning: settings read from …" are notes;
    "no preprocessing settings … assuming 224×224" named no option to set them."""
    from gradflip_desktop.core.models import files as mf

    photo = photo_file(tmp_path)
    ft = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), ft)
    assert cli.main(["classify", str(photo), "--model", str(ft)]) == 0
    err = capsys.readouterr().err
    assert "gradflip: note: architecture resnet18 recognised from the weights" in err
    assert "gradflip: warning: no preprocessing settings for ft.pth: assuming 224×224" in err
    assert "give --input-size, --mean, --std, --channels" in err
    mf.write_sidecar(mf.ModelSpec(str(ft), "state_dict", arch="resnet18"))
    assert cli.main(["classify", str(photo), "--model", str(ft)]) == 0
    assert "gradflip: note: settings read from ft.gradflip.json" in capsys.readouterr().err
    # what a checkpoint says of itself is read too (a models review found these printed as warnings)
    from gradflip_desktop.cli import _read_from_the_file

    for line in ("weights taken from the checkpoint entry 'state_dict'",
                 "architecture timm:convnext_nano named by the checkpoint's 'args.model' entry (as timm's train.py saves it)",
                 "b.pt ends in a sigmoid: its output is read as p(class 1), and log(1 - p), log(p) are used as the class scores",
                 "m.pt outputs probabilities (they sum to 1): their logarithm is used as class scores"):
        assert _read_from_the_file(line), line
    assert not _read_from_the_file("no preprocessing settings for ft.pth: assuming 224×224 input")
    assert not _read_from_the_file("b.pt is TorchScript: loading it runs code stored in the file; use only model files you trust")


def test_a_model_file_name_with_escape_sequences_is_printed_escaped(tmp_path, capsys):
    """A model file's name (or its labels) may hold terminal escape sequences: the warnings and the error named
    "m\\x1b[31m.pt" raw, so loading a downloaded model recoloured the terminal or set its title; image names were
    already escaped. Every loading line and the error line show "\\x1b"; the labels' control characters are U+FFFD."""
    from gradflip_desktop.core.images import save_png

    photo = tmp_path / "photo.png"
    save_png(photo, np.random.default_rng(0).uniform(0.2, 0.8, size=(20, 20, 3)).astype(np.float32))
    model = tmp_path / "m\x1b[31mred\x1b]0;title\x07.pt"
    script(SmallCNN(channels=3, classes=3, size=16), model)
    labels = tmp_path / "l.txt"
    labels.write_text("\x1b[2Jcat\ndog\nbird\n", encoding="utf-8")
    code = cli.main(["classify", str(photo), "--model", str(model), "--input-size", "16", "--labels", str(labels)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "\x1b" not in out.err + out.out and "\x07" not in out.err
    assert "m\\x1b[31mred\\x1b]0;title\\x07.pt is TorchScript" in out.err
    assert "\ufffd[2Jcat" in out.out
    code = cli.main(["classify", str(photo), "--model", str(model), "--input-size", "16", "--labels",
                     str(labels), "--channels", "1"])  # an RGB network fed one channel: the error names the file
    out = capsys.readouterr()
    assert code == 2 and "\x1b" not in out.err and "m\\x1b[31mred" in out.err


def test_a_name_given_to_the_runs_model_file_later_keeps_its_sets_for_resume_and_check(tmp_path, capsys):
    """`explain --model m.pt --input-size 16`, then a sidecar with the same settings and a "name" (README's
    sidecar, or the app's Load model dialog): --resume refused every set ("model m.pt (TorchScript, 3 classes),
    not My digits") and check skipped them, though weights and settings were the run's. The record's `arch`
    and the weights' digest say which model it is; another name is a label."""
    path = tmp_path / "m.pt"
    script(SmallCNN(channels=3, classes=3, size=16), path)
    photo = photo_file(tmp_path)
    out = tmp_path / "out"
    argv = ["explain", str(photo), "--model", str(path), "--out", str(out), "--style", "free", "-q"]
    assert cli.main([*argv, "--input-size", "16"]) in (0, 1)
    rec = json.loads((out / "photo.gradflip.json").read_text(encoding="utf-8"))
    assert rec["model"]["arch"] == "torchscript"
    written = (out / "photo.gradflip.json").stat().st_mtime_ns
    (tmp_path / "m.gradflip.json").write_text(json.dumps(
        {"kind": "gradflip-model", "version": 1, "name": "My digits", "preprocessing": {"input_size": [16, 16]}}))
    capsys.readouterr()
    assert cli.main([*argv, "--resume"]) in (0, 1)
    assert "made with other settings" not in capsys.readouterr().err
    assert (out / "photo.gradflip.json").stat().st_mtime_ns == written
    cli.main(["check", str(out), "--model", str(path), "--points", "3", "-q"])
    assert "made with model" not in capsys.readouterr().err


def test_a_sidecar_with_input_size_true_is_one_line_and_exit_2(tmp_path, capsys):
    """``"input_size": true`` was read as a 1×1 input (true is 1 to Python): the model saw one pixel of every photo."""
    photo = photo_file(tmp_path)
    digits = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), digits)
    side = tmp_path / "digits.gradflip.json"
    for pre, words in (({"input_size": True, "channels": 1}, "input_size: True is not a whole number"),
                       ({"input_size": 28, "channels": 1, "interpolation": "nearest"}, "interpolation 'nearest' is not supported")):
        side.write_text(json.dumps({"kind": "gradflip-model", "preprocessing": pre}), encoding="utf-8")
        assert cli.main(["classify", str(photo), "--model", str(digits)]) == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if "warning: digits.pt is TorchScript" not in line]
        assert len(lines) == 1 and lines[0].startswith("gradflip: error: digits.gradflip.json: ") and words in lines[0], err


class _Chatty(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.fc = torch.nn.Linear(4, 5)

    def forward(self, x):
        print("forward", x.shape)  # a debugging print left in a model
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def test_a_model_that_prints_leaves_json_on_stdout_alone(tmp_path):
    """A TorchScript model with a print in its forward put 4 (classify) or 58 (explain) "forward …" lines before
    the --json document on stdout: ``json.load`` and ``jq`` failed. They go to stderr now; without --json they stay
    on stdout, as the model wrote them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import gradflip_desktop

    torch.manual_seed(0)
    photo = photo_file(tmp_path)
    root = str(Path(gradflip_desktop.__file__).resolve().parent.parent)  # this checkout's package, installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    model = tmp_path / "chatty.pt"
    torch.jit.script(_Chatty().eval()).save(str(model))
    base = [sys.executable, "-m", "gradflip_desktop"]
    done = subprocess.run(base + ["classify", str(photo), "--model", str(model), "--input-size", "32", "--json"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["top"]) == 5 and "forward" in done.stderr
    done = subprocess.run(base + ["explain", str(photo), "--model", str(model), "--input-size", "32",
                                  "--max-side", "32", "--max-steps", "3", "--out", str(tmp_path / "out"), "--json"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert "status" in json.loads(done.stdout), done.stderr
    assert done.stderr.count("forward") > 3
    plain = subprocess.run(base + ["classify", str(photo), "--model", str(model), "--input-size", "32"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert plain.returncode == 0 and "forward" in plain.stdout
