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
