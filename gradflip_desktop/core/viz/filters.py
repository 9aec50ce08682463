"""Small image filters shared by the algorithm and the maps (torch, separable, reflect-padded)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_kernel1d(sigma: float, dtype=torch.float32, device=None) -> torch.Tensor:
    radius = max(1, int(math.ceil(3.0 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _pad_mode(radius: int, h: int, w: int) -> str:
    """Reflect padding needs a radius under both sides; a thinner image is padded by repeating its edge."""
    return "reflect" if radius < h and radius < w else "replicate"


def gaussian_blur(t: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur an ``N x C x H x W`` tensor with a Gaussian of ``sigma`` pixels (no-op for sigma <= 0)."""
    if sigma <= 0:
        return t
    n, c, h, w = t.shape
    k = gaussian_kernel1d(sigma, t.dtype, t.device)
    r = k.numel() // 2
    x = t.reshape(n * c, 1, h, w)
    mode = _pad_mode(r, h, w)
    x = F.pad(x, (r, r, 0, 0), mode=mode)
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, r, r), mode=mode)
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return x.reshape(n, c, h, w)


def gaussian_blur_fft(t: torch.Tensor, sigma: float, rows: int = 256) -> torch.Tensor:
    """:func:`gaussian_blur` (the same kernel and padding) computed by FFT, in float64: equal to it within
    float rounding, for the wide blurs whose direct convolution is slow (σ = 128 px at 1,024 px: 0.2 s, not
    12 s). ``rows``: rows transformed at once (memory)."""
    if sigma <= 0:
        return t
    if t.device.type == "mps":  # no float64 on Apple GPUs: computed on the CPU
        return gaussian_blur_fft(t.cpu(), sigma, rows).to(t.device)
    n, c, h, w = t.shape
    k = gaussian_kernel1d(sigma, torch.float64, t.device)
    r = k.numel() // 2
    mode = _pad_mode(r, h, w)

    def along_last(x: torch.Tensor) -> torch.Tensor:  # x: M x L, blurred along L
        size = _fast_length(x.shape[-1] + 4 * r)  # the padded row and the kernel, without wrap-around
        kf = torch.fft.rfft(k, size)
        out = torch.empty(x.shape, dtype=torch.float64, device=x.device)
        for i in range(0, x.shape[0], rows):
            part = F.pad(x[i:i + rows].to(torch.float64)[:, None], (r, r), mode=mode)[:, 0]
            out[i:i + rows] = torch.fft.irfft(torch.fft.rfft(part, size) * kf, size)[:, 2 * r: 2 * r + x.shape[-1]]
        return out

    x = along_last(t.reshape(n * c * h, w)).reshape(n * c, h, w).transpose(1, 2).reshape(n * c * w, h)
    x = along_last(x).reshape(n * c, w, h).transpose(1, 2)
    return x.reshape(n, c, h, w).to(t.dtype).contiguous()


def _fast_length(n: int) -> int:
    """The smallest 2^a·3^b·5^c >= ``n``: an FFT of a length with a large prime factor is up to 10x slower
    (2,219 = 7·317 for a 683 px side)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def blur_array(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an H x W or H x W x C float array (numpy in, numpy out)."""
    if sigma <= 0:
        return np.asarray(a, dtype=np.float32)
    arr = np.asarray(a, dtype=np.float32)
    t = torch.from_numpy(np.ascontiguousarray(arr))
    t = t[None, None] if arr.ndim == 2 else t.permute(2, 0, 1)[None]
    with torch.no_grad():
        out = gaussian_blur(t, sigma)[0]
    return (out[0] if arr.ndim == 2 else out.permute(1, 2, 0)).numpy()
