"""The command line's progress line for one image (cli_progress.py): what each pass reads as, and silence when asked."""

from __future__ import annotations

import numpy as np

from gradflip_desktop.cli_progress import _Progress
from gradflip_desktop.core.results import Progress, Step


def _step(n: int) -> Step:
    p = np.array([0.7, 0.1, 0.1, 0.1], np.float32)
    return Step(index=n, epsilon=2e-4, score=0.0, probabilities=p, l2=0.5, linf=0.1, flipped=False, phase="search")


def test_the_passes_without_steps_say_which_pass_runs(capsys):
    progress = _Progress("a.png", 200, quiet=False, label=lambda i: f"class{i}")
    progress(Progress("feature_groups", 3))
    progress(Progress("key_region", 7))
    assert capsys.readouterr().err.splitlines() == ["a.png: scoring feature regions: pass 3",
                                                    "a.png: finding the key region: pass 7"]


def test_quiet_prints_nothing(capsys):
    progress = _Progress("a.png", 200, quiet=True, label=lambda i: f"class{i}")
    progress(_step(1))
    progress(Progress("key_region", 1))
    progress.done("flipped")
    assert capsys.readouterr().err == ""


def test_a_targeted_runs_progress_says_the_target_s_probability_while_another_class_leads(capsys, monkeypatch):
    """--target catamaran: the line named only the class on top ("drilling platform 24.9 %"), not the one to reach."""
    monkeypatch.setattr(_Progress, "EVERY_S", 0.0)  # every line (a log gets at most one a second per phase)
    progress = _Progress("a.png", 200, quiet=False, label=lambda i: f"class{i}", target=2)
    progress(_step(1))
    leading = _step(2)
    leading.probabilities = np.array([0.1, 0.1, 0.7, 0.1], np.float32)  # the target on top: said once
    progress(leading)
    assert capsys.readouterr().err.splitlines() == ["a.png: step 1/200  class0 70.0 %  (class2 10.0 %)  L2 0.500",
                                                    "a.png: step 2/200  class2 70.0 %  L2 0.500"]
    untargeted = _Progress("a.png", 200, quiet=False, label=lambda i: f"class{i}")
    untargeted(_step(1))
    assert capsys.readouterr().err.splitlines() == ["a.png: step 1/200  class0 70.0 %  L2 0.500"]


def test_the_command_line_passes_the_target_to_the_progress_line(tmp_path, capsys, monkeypatch):
    from helpers import make_image_file, make_tiny

    from gradflip_desktop import cli

    monkeypatch.setattr(cli._Progress, "EVERY_S", 0.0)
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    made = []
    real = cli._Progress.__init__
    monkeypatch.setattr(cli._Progress, "__init__", lambda self, *a, **k: made.append((a, k)) or real(self, *a, **k))
    import json

    img = make_image_file(tmp_path / "a.png", 40, 30)
    assert cli.main(["classify", str(img), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top"]
    target = top[-1]["label"]  # the 5th class: not on top, to reach
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "--target", target, "--max-steps", "3", "--style", "free"])
    err = capsys.readouterr().err
    assert code in (0, 1) and made and made[-1][0][-1] == make_tiny().labels.index(target), err
    lines = [ln for ln in err.splitlines() if ": step " in ln]
    assert lines and f"{top[0]['label']} " in lines[0] and f"({target} " in lines[0], lines
