"""core/viz/filters.py: the FFT blur is the direct blur, at transform lengths that are fast, on every device."""

from __future__ import annotations

import pytest
import torch

from gradflip_desktop.core.viz import filters
from gradflip_desktop.core.viz.filters import gaussian_blur, gaussian_blur_fft


def _smooth(n: int) -> bool:
    for p in (2, 3, 5):
        while n % p == 0:
            n //= p
    return n == 1


@pytest.mark.parametrize("h, w", [(61, 130), (3, 700), (1, 1)])  # rows of 326 = 2 x 163, 1,055 = 5 x 211 ... points
def test_the_fft_blur_transforms_at_fast_lengths_and_equals_the_direct_blur(monkeypatch, h, w):
    """A 683 x 1024 photo (3:2) was transformed at 2,219 = 7 x 317 points and a 3 x 4,096 strip at 6,147 = 3 x 2,049:
    an FFT length with a large prime factor is up to 10x slower (the wide blur of a 3 x 5,000 strip took 7 s, 1 s
    now); the transforms are now zero-padded to the next 2^a 3^b 5^c points, the same blur."""
    lengths = []
    real = torch.fft.rfft

    def spy(x, n=None, *a, **k):
        lengths.append(n)
        return real(x, n, *a, **k)

    monkeypatch.setattr(torch.fft, "rfft", spy)
    t = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    sigma = max(h, w) / 8
    out = gaussian_blur_fft(t, sigma)
    assert lengths and all(_smooth(n) for n in lengths), sorted(set(lengths))
    assert float((out - gaussian_blur(t.double(), sigma)).abs().max()) < 1e-5


def test_fast_length():
    assert [filters._fast_length(n) for n in (1, 2, 7, 2219, 2560, 6147)] == [1, 2, 8, 2250, 2560, 6250]


@pytest.mark.skipif(not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()), reason="needs MPS")
def test_the_fft_blur_runs_on_an_apple_gpu():
    # float64 does not exist on MPS: the fill-in of every photo over 512 px raised "Cannot convert a MPS Tensor to float64"
    t = torch.rand(1, 3, 600, 800)
    out = gaussian_blur_fft(t.to("mps"), 100.0)
    assert out.device.type == "mps" and float((out.cpu() - gaussian_blur(t, 100.0)).abs().max()) < 1e-5


def test_the_gaussian_kernel_reaches_three_sigma_with_the_gaussians_own_falloff():
    import math

    k = filters.gaussian_kernel1d(2.0, torch.float64)
    assert k.numel() == 13 and float(k.sum()) == pytest.approx(1.0)  # radius ceil(3 sigma) = 6
    assert float(k[6] / k[8]) == pytest.approx(math.exp(0.5))  # one sigma out: e^(-1/2)
    assert float(k[6] / k[12]) == pytest.approx(math.exp(4.5))  # three sigma out


def test_a_blur_of_sigma_zero_is_the_image_itself():
    t = torch.rand(1, 3, 5, 7)
    assert gaussian_blur(t, 0.0) is t and gaussian_blur_fft(t, 0.0) is t
    assert (filters.blur_array(t[0].permute(1, 2, 0).numpy(), 0.0) == t[0].permute(1, 2, 0).numpy()).all()


def test_blur_array_blurs_at_a_sigma_of_one_too():
    import numpy as np

    a = np.zeros((9, 9, 3), np.float32)
    a[4, 4] = 1.0
    k = filters.gaussian_kernel1d(1.0)
    out = filters.blur_array(a, 1.0)
    assert out.shape == (9, 9, 3) and out[4, 4, 0] == pytest.approx(float(k[3] ** 2))
