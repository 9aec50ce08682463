"""The package's import-time set-up (gradflip_desktop/__init__.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

# the default model's logits and input gradient on a fixed random photo, at N threads, as bytes on stdout
_GRADIENT_AT = """
import sys, torch
torch.set_num_threads(int(sys.argv[1]))
from gradflip_desktop.core import load_default_model
net = load_default_model().module
x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(7)).contiguous(memory_format=torch.channels_last)
x.requires_grad_(True)
z = net(x)
g = torch.autograd.grad(z[0].max(), x)[0]
sys.stdout.buffer.write(z.detach().numpy().tobytes() + g.numpy().tobytes())
"""


def _gradient_bytes(threads: int, env: dict) -> bytes:
    out = subprocess.run([sys.executable, "-c", _GRADIENT_AT, str(threads)], capture_output=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    return out.stdout


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="MKL's reproducibility mode: only where torch uses MKL")
def test_the_default_models_answer_does_not_depend_on_the_thread_count():
    """The searches walk the decision boundary, where the last bits decide: at one thread and at two the default
    model's matrix products summed in another order, and the sample cat's key region was 52 % or 57 % of the photo.
    Importing the package asks MKL for its strict reproducibility mode (a value of the user's own wins)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    one, two = _gradient_bytes(1, env), _gradient_bytes(2, env)
    assert len(one) == 4 * (1000 + 3 * 224 * 224) and one == two
    check = "import os, gradflip_desktop; print(os.environ['MKL_CBWR'])"
    said = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env={**env, "MKL_CBWR": "COMPATIBLE"})
    assert said.stdout.strip() == "COMPATIBLE"  # the user's own setting is kept
