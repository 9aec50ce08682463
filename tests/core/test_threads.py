"""OpenMP's wait policy: the app and the command line make torch's threads sleep when waiting (core/threads.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gradflip_desktop.core.threads import sleep_when_waiting

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "chelsea.png"


def _run(code: str, **env_changes: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_DISPLAY_ENV")}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_a_policy_the_user_set_is_kept():
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert sleep_when_waiting(env) is False
    assert env == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_nothing_is_set_once_torch_is_loaded():
    # OpenMP read its settings when torch loaded it: setting the variable then would only mislead
    done = _run("import torch, os\nfrom gradflip_desktop.core.threads import sleep_when_waiting\n"
                "print(sleep_when_waiting(), os.environ.get('OMP_WAIT_POLICY'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "None"]


def test_the_command_line_makes_openmp_threads_sleep_when_waiting():
    # OMP_DISPLAY_ENV makes OpenMP print the settings it started with: the policy really reached it
    code = f"from gradflip_desktop.cli import main\nraise SystemExit(main(['classify', {str(SAMPLE)!r}]))"
    done = _run(code, OMP_DISPLAY_ENV="TRUE")
    assert done.returncode == 0, done.stderr
    assert "Egyptian cat" in done.stdout
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in done.stderr
    kept = _run(code, OMP_DISPLAY_ENV="TRUE", OMP_WAIT_POLICY="ACTIVE")
    assert kept.returncode == 0, kept.stderr
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in kept.stderr


def test_the_app_entry_point_sets_it_before_torch_loads():
    done = _run("import os, sys\nfrom gradflip_desktop import app\n"
                "app.main(['--help'])\nprint(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["PASSIVE", "False"]
