"""Each run's torch threads: the cores other programs leave free now (core/cpu_share.py)."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from gradflip_desktop.core import cpu_share
from gradflip_desktop.core.cpu_share import CpuShare, Sample, others_busy, threads_for

linux = pytest.mark.skipif(cpu_share.sample() is None, reason="needs /proc (Linux)")


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
    cpu_share.disable()


@pytest.mark.parametrize("others, cores, base, want", [
    (0.0, 2, 2, 2), (0.3, 2, 2, 2), (0.6, 2, 2, 1), (1.0, 2, 2, 1), (3.0, 2, 2, 1), (1.0, 16, 8, 8), (9.2, 16, 8, 7),
    (0.0, 8, 1, 1)])
def test_a_core_other_programs_hold_is_taken_off_the_thread_count(others, cores, base, want):
    assert threads_for(others, cores, base) == want


def test_others_busy_is_the_machines_busy_time_less_this_process(monkeypatch):
    a, b = Sample(10.0, 1000, 100), Sample(11.0, 1150, 150)  # 1.5 cores busy in all, 0.5 of them ours
    assert others_busy(a, b, tick=100) == pytest.approx(1.0)
    assert others_busy(a, Sample(10.01, 1150, 150), tick=100) == 0.0  # too short to say
    assert others_busy(a, Sample(11.0, 1050, 150), tick=100) == 0.0  # never negative
    assert others_busy(a, Sample(11.0, 1030, 150), tick=100) == 0.0  # ours counted ahead of the machine's: not -0.2


def test_enable_keeps_a_count_the_user_fixed(monkeypatch, threads):
    monkeypatch.delenv("GRADFLIP_CPU_SHARE", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert cpu_share.enable() is None and cpu_share.choose() is None
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setenv("GRADFLIP_CPU_SHARE", "0")
    assert cpu_share.enable() is None
    monkeypatch.setenv("GRADFLIP_CPU_SHARE", "1")
    monkeypatch.setattr(cpu_share, "sample", lambda: None)  # no /proc: nothing changes
    assert cpu_share.enable() is None


def test_choose_sets_the_threads_from_the_samples_and_comes_back_when_the_others_stop(monkeypatch, threads):
    seq = iter([Sample(0.0, 0, 0), Sample(1.0, 150, 50), Sample(2.0, 250, 150), Sample(2.01, 260, 160)])
    monkeypatch.setattr(cpu_share, "sample", lambda: next(seq))
    monkeypatch.setattr(cpu_share.os, "sysconf", lambda name: 100)
    share = CpuShare(base=2, cores=2)
    assert share.choose() == 1 and torch.get_num_threads() == 1 and share.others == pytest.approx(1.0)
    assert share.choose() == 2 and torch.get_num_threads() == 2 and share.others == pytest.approx(0.0)  # all ours
    assert share.choose() == 2  # 10 ms later: the last choice stands


@linux
def test_a_busy_program_beside_the_run_takes_a_thread(threads):
    share = CpuShare(base=2, cores=2)
    busy = [subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 3: pass"])
            for _ in range(2)]
    try:
        time.sleep(1.0)
        assert share.choose() == 1, share.others  # two busy processes hold at least one of "2" cores
    finally:
        for p in busy:
            p.kill()
            p.wait()


def test_each_run_on_the_cpu_gets_the_chosen_count(monkeypatch, threads, tiny, tiny_image):
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    now = [Sample(0.0, 0, 0)]  # the machine as sampled now (the same sample again: too soon to say)
    monkeypatch.setattr(cpu_share, "sample", lambda: now[0])
    monkeypatch.setattr(cpu_share.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(cpu_share, "_share", CpuShare(base=2, cores=2))
    now[0] = Sample(1.0, 100, 0)
    run(tiny, tiny_image, ExplainOptions(max_steps=3))
    assert torch.get_num_threads() == 1  # another program held a core: this run had one thread
    now[0] = Sample(2.0, 200, 100)
    run(tiny, tiny_image, ExplainOptions(max_steps=3))
    assert torch.get_num_threads() == 2  # the busy time was this process's own: both


def test_the_count_is_chosen_again_before_every_pass_and_the_answer_stays(monkeypatch, threads, tiny, tiny_image):
    """The count was chosen once, as a run started: a program that got busy mid-run left two threads spinning
    against it (3-15x the time). Now before every model pass of the searches, and the record says the range the run
    had. (The tiny model's sums run in one chunk whatever the count: that the searches' sums on a photo do not depend
    on it is tests/core/explain/test_sums.py's.)"""
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.report import record

    opts = ExplainOptions(style="free", max_steps=40)
    torch.set_num_threads(2)
    fixed = run(tiny, tiny_image, opts)  # nothing enabled: torch's own count throughout
    assert record(fixed)["versions"]["torch_threads"] == "2"
    calls = []

    def sample():  # 0.1 s per call; another program busy for every other interval
        k = len(calls)
        calls.append(k)
        return Sample(0.1 * k, 5 * k + 10 * (k // 2), 5 * k)

    monkeypatch.setattr(cpu_share, "sample", sample)
    monkeypatch.setattr(cpu_share.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(cpu_share, "_share", CpuShare(base=2, cores=2))
    shared = run(tiny, tiny_image, opts)
    passes = shared.forward_evaluations + shared.gradient_evaluations
    assert len(calls) >= passes > 5  # a sample as the run started and one before every pass
    assert record(shared)["versions"]["torch_threads"] == "1-2"
    assert shared.status == fixed.status and np.array_equal(shared.delta, fixed.delta) and shared.l2 == fixed.l2


def test_the_record_names_the_thread_count_the_run_had_when_written_on_another_thread(monkeypatch, threads, tiny,
                                                                                       tiny_image):
    """The app writes Export Results' record on its background thread, not the engine thread that ran: torch's
    thread count is per thread, so the record said 2 threads for a run the CPU share gave 1."""
    import threading

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.report import record

    torch.set_num_threads(2)  # this thread (the writer) has 2
    seq = iter([Sample(0.0, 0, 0), Sample(1.0, 100, 0)])
    monkeypatch.setattr(cpu_share, "sample", lambda: next(seq))
    monkeypatch.setattr(cpu_share.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(cpu_share, "_share", CpuShare(base=2, cores=2))
    got = []
    engine = threading.Thread(target=lambda: got.append((run(tiny, tiny_image, ExplainOptions(max_steps=3)),
                                                          torch.get_num_threads())))
    engine.start()
    engine.join()
    result, had = got[0]
    assert had == 1 and torch.get_num_threads() == 2
    assert record(result)["versions"]["torch_threads"] == "1"


def test_a_malformed_proc_file_reads_as_no_sample(monkeypatch):
    import builtins
    import io

    real = builtins.open

    def fake(path, *a, **k):
        if path == "/proc/stat":
            return io.StringIO("cpu 1 2 x 4 5 6 7 8\n")
        return real(path, *a, **k)

    monkeypatch.setattr(builtins, "open", fake)
    assert cpu_share.sample() is None


def test_a_sample_adds_the_machines_busy_fields_and_this_process_user_and_system_time(monkeypatch):
    import builtins
    import io

    real = builtins.open
    files = {"/proc/stat": "cpu  1 2 3 400 500 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n",
             "/proc/self/stat": "123 (a) b) S 1 2 3 4 5 6 7 8 9 10 20 30 40 50 60\n"}  # a ")" in the name

    def fake(path, *a, **k):
        return io.StringIO(files[path]) if path in files else real(path, *a, **k)

    monkeypatch.setattr(builtins, "open", fake)
    s = cpu_share.sample()
    assert s is not None
    assert s.busy == 1 + 2 + 3 + 6 + 7 + 8  # user, nice, system, irq, softirq, steal: not idle, not iowait
    assert s.own == 20 + 30  # utime + stime
    files["/proc/stat"] = "cpu  1 2 3 400 500 6 7\n"  # an old kernel without the steal column: steal 0
    assert cpu_share.sample().busy == 1 + 2 + 3 + 6 + 7
    files["/proc/stat"] = "cpu  1 2 3 400 500 6\n"  # too short: no sample
    assert cpu_share.sample() is None
