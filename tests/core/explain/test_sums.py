"""Sums over whole images that do not depend on the thread count (core/explain/sums.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from gradflip_desktop.core.explain import sums


def _big(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, 160, 160, generator=g)


def test_the_sums_are_torchs_own_on_one_thread_at_any_thread_count():
    a, b = _big(0), _big(1)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        want = (float((a * b).sum()), float(a.norm()), a.mean(dim=(2, 3), keepdim=True))
        got = []
        for n in (1, 2, 3):
            torch.set_num_threads(n)
            got.append((sums.dot(a, b), sums.norm(a), sums.channel_means(a)))
            assert torch.get_num_threads() == n  # given back
            if n == 2:
                split = float((a * b).sum())  # torch's own at 2 threads: in 2 chunks
    finally:
        torch.set_num_threads(before)
    for dot, norm, means in got:
        assert dot == want[0] and norm == want[1] and torch.equal(means, want[2])
    assert split != want[0]  # the check can fail: two threads add this sum in another order
    assert torch.equal(sums.unit(a), a / want[1])


def test_a_small_tensor_is_summed_without_switching(monkeypatch):
    """Below torch's grain size a sum runs in one chunk at any thread count: no switch (nor its ~25 µs)."""
    switched = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n: switched.append(n))
    a, b = torch.rand(1, 1, 20, 20), torch.rand(1, 1, 20, 20)
    assert sums.dot(a, b) == float((a * b).sum()) and sums.norm(a) == float(a.norm()) and not switched
    sums.dot(_big(0), _big(1))
    assert switched == ([1, torch.get_num_threads()] if torch.get_num_threads() > 1 else [])


# the smallest change and the blur style's change of the sample photo at 128 x 128, at 1 and at 2 threads
_RUNS_AT = """
import sys, hashlib, numpy as np, torch
from PIL import Image
from gradflip_desktop.core import load_default_model, load_image, run
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.core.resources import sample_image_path
model = load_default_model()
pixels = load_image(sample_image_path()).pixels
x = np.asarray(Image.fromarray((pixels * 255).round().astype(np.uint8)).resize((128, 128)), dtype=np.float32) / 255
for style in ("free", "blur"):
    out = []
    for n in (1, 2):
        torch.set_num_threads(n)
        r = run(model, x, ExplainOptions(style=style))
        kp = r.key_pixels.mask.tobytes() if r.key_pixels is not None else b""
        out.append(hashlib.sha256(r.delta.tobytes() + kp + repr((r.status, r.final.index, r.l2)).encode()).hexdigest())
    print(f"{style} {r.status} {out[0] == out[1]}")
"""


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="MKL's reproducibility mode: only where torch uses MKL")
def test_the_free_and_blur_styles_answer_the_same_at_one_thread_and_two():
    """The smallest change of a photo moved by a level in some pixels, and its key pixels by a few dozen, between one
    thread and two (the searches' dot products and norms were torch's float32 sums, which split by thread), although
    the README says an answer is the same bit for bit at any thread count (and the app chooses each run's count)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", _RUNS_AT], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.split("\n")
    assert lines[0].startswith("free flipped") and lines[0].endswith("True"), out.stdout
    assert lines[1].startswith("blur flipped") and lines[1].endswith("True"), out.stdout


def test_a_sum_switches_from_torchs_grain_size_on_and_when_any_tensor_is_large(monkeypatch):
    """torch may split a sum of GRAIN elements or more by thread: a tensor of exactly GRAIN elements switches, one of
    GRAIN - 1 does not; and a small tensor beside a large one (a scalar weight times an image) still switches."""
    switched = []
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: switched.append(n))
    grain = 32768  # torch's at::internal::GRAIN_SIZE
    sums.norm(torch.ones(grain - 1))
    assert switched == []
    assert sums.norm(torch.ones(grain)) == pytest.approx(grain ** 0.5)
    assert switched == [1, 2]
    switched.clear()
    assert sums.dot(torch.full((1,), 2.0), torch.ones(1, 3, 128, 128)) == 2.0 * 3 * 128 * 128
    assert switched == [1, 2]
    switched.clear()
    with sums.one_thread(torch.ones(4), torch.ones(grain)):
        pass
    assert switched == [1, 2]
    with sums.one_thread(torch.ones(4), torch.ones(grain - 1)):
        pass
    assert switched == [1, 2]
