"""Sums over whole images that come out the same at any thread count.

torch adds a large CPU tensor's elements in chunks, one per thread, so ``(a * b).sum()`` and ``a.norm()`` change in
their last bits with the thread count (the model's own products do not: MKL's strict mode, ``gradflip_desktop/
__init__.py``). The searches walk the decision boundary, where the last bits decide: the smallest change of a photo
moved by a level in some pixels, and its key pixels by a few dozen, between one thread and two, and the app and the
command line choose the thread count before every pass from the cores other programs leave free. So the searches'
dot products, norms and means are torch's own, computed on one thread (:func:`one_thread`): the same bits at any
count, and the bits a one-thread run always had. A tensor of fewer than :data:`GRAIN` elements, or on a GPU (one
device's order does not depend on a thread count), needs no switch.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

GRAIN = 32768  # torch's at::internal::GRAIN_SIZE: a reduction over fewer elements runs in one chunk


def _split(t: torch.Tensor) -> bool:
    """Whether torch may split a sum of ``t`` by thread (a large CPU tensor)."""
    return t.device.type == "cpu" and t.numel() >= GRAIN


@contextmanager
def one_thread(*tensors: torch.Tensor):
    """Inside, torch computes on this thread alone when any of ``tensors`` is one whose sums it may split by thread
    (switching costs microseconds); the thread count is given back after. ``torch.set_num_threads`` also sets the
    count a thread started meanwhile begins with (one thread for good, a matter of speed only)."""
    threads = torch.get_num_threads()
    switch = threads > 1 and any(_split(t) for t in tensors)
    if switch:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if switch:
            torch.set_num_threads(threads)


def dot(a: torch.Tensor, b: torch.Tensor) -> float:
    """The sum of ``a * b`` over every element."""
    with one_thread(a, b):
        return float((a * b).sum())


def norm(a: torch.Tensor) -> float:
    """The L2 norm over every element, in ``a``'s dtype."""
    with one_thread(a):
        return float(a.norm())


def unit(a: torch.Tensor) -> torch.Tensor:
    """``a`` divided by its L2 norm."""
    return a / norm(a)


def channel_means(x: torch.Tensor) -> torch.Tensor:
    """``x.mean(dim=(2, 3), keepdim=True)`` of an N x C x H x W tensor."""
    with one_thread(x):
        return x.mean(dim=(2, 3), keepdim=True)


__all__ = ["GRAIN", "channel_means", "dot", "norm", "one_thread", "unit"]
