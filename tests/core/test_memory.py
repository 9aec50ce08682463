"""core/memory.py: freed heap memory goes back to the OS (glibc), and a folder run asks for it per image."""

from __future__ import annotations

import sys

import pytest

from gradflip_desktop.core import memory


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS from /proc and malloc_trim are Linux-only")
def test_freed_heap_pages_go_back_to_the_os():
    if memory._malloc_trim() is False:
        pytest.skip("this C library has no malloc_trim (not glibc)")
    # 300 MiB in 64 KiB blocks (below glibc's mmap threshold: they live in the heap), the last one kept
    # alive so the heap cannot shrink from its top by itself; the freed blocks stay resident until trimmed
    blocks = [bytearray(64 * 1024) for _ in range(4800)]
    for b in blocks:
        b[::4096] = b"\x01" * len(b[::4096])  # touch every page
    keep = blocks[-1]
    del blocks
    before = _rss_mib()
    assert memory.release_free_memory() is True
    after = _rss_mib()
    assert before - after > 200, (before, after)
    assert keep[0] == 1


def test_without_malloc_trim_it_reports_that_it_did_nothing(monkeypatch):
    monkeypatch.setattr(memory, "_trim", False)
    assert memory.release_free_memory() is False



def test_it_asks_for_every_free_page_with_no_padding_kept(monkeypatch):
    """``malloc_trim(0)``: a pad (its argument) would leave that much free memory at the heap's top resident."""
    asked = []
    monkeypatch.setattr(memory, "_trim", asked.append)
    assert memory.release_free_memory() is True and asked == [0]

def test_a_folder_run_releases_memory_after_every_image(tmp_path, monkeypatch, tiny):
    import numpy as np
    from PIL import Image

    from gradflip_desktop.core.dataset import collect_inputs
    from gradflip_desktop.core.dataset import job as job_mod
    from gradflip_desktop.core.options import ExplainOptions

    calls = []
    monkeypatch.setattr(job_mod, "release_free_memory", lambda: calls.append(1) or True)
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    inputs, _ = collect_inputs([folder])
    outcomes = job_mod.explain_inputs(tiny, inputs, ExplainOptions(max_steps=5),
                                      job_mod.JobSettings(out=tmp_path / "out", batch_size=2, summary=False))
    assert len(outcomes) == 3
    assert len(calls) == 3
