"""How torch's CPU threads wait, side by side: OpenMP's spinning default against OMP_WAIT_POLICY=PASSIVE and shorter spins.

    python benchmarks/thread_wait.py [--photos 2] [--repeats 1] [--rounds 3] [--busy 1] [--busy-after 0.5] [--only 1,4]

torch's CPU kernels run on an OpenMP pool (libgomp on Linux). By default a pool thread that reaches a barrier
*spins* (GOMP_SPINCOUNT, ~300,000 iterations) before it sleeps. That is fastest on an idle machine. When
another program occupies one of the cores, the spinning thread burns its time slice while the thread it
waits for is descheduled, and every one of the thousands of barriers of an explanation pays for it. With
``OMP_WAIT_POLICY=PASSIVE`` a waiting thread sleeps at once; ``GOMP_SPINCOUNT`` (``KMP_BLOCKTIME`` for
LLVM's OpenMP) spins less before sleeping. GradFlip keeps OpenMP's default (docs/benchmarks.md: PASSIVE is
1.4-2x slower on an idle machine) and instead gives each run of the app and the command line the cores other
programs leave free (core/cpu_share.py; the last configuration here).

The policy is read once, when torch loads libgomp, so each configuration runs in its own child process
(this script with ``--child``), the configurations alternate round by round, and each child explains the
same photos (benchmarks/photos.py, 224 x 224, the default explanation, the model loaded and warmed up
first). ``--busy K`` starts K busy-loop processes for the whole run: "another program uses a core"; with
``--busy-after S`` they start S seconds into each explanation instead and stop as it ends: "another program starts
mid-run", which a thread count chosen once per run (GradFlip before 2026-12-06, the last configuration) does not
see. Wall times per configuration: median and worst over every run, and the ratio of medians to the first row's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OMP_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OMP_NUM_THREADS", "GRADFLIP_CPU_SHARE")
CONFIGS = {  # name -> (environment for OpenMP, or {}: OpenMP's defaults; torch threads, None: --threads)
    "spinning (OpenMP's default)": ({}, None),
    "spin 30,000 then sleep": ({"GOMP_SPINCOUNT": "30000", "KMP_BLOCKTIME": "1"}, None),
    "spin 3,000 then sleep": ({"GOMP_SPINCOUNT": "3000", "KMP_BLOCKTIME": "0"}, None),
    "passive (sleep at once)": ({"OMP_WAIT_POLICY": "PASSIVE"}, None),
    "one thread (OpenMP's default)": ({}, 1),
    # what the app and the command line do (core/cpu_share.py): each run gets the cores other programs left free
    "GradFlip's CPU share (the default)": ({"GRADFLIP_CPU_SHARE": "1"}, None),
    # the same, chosen only as each run starts (before 2026-12-06: not again before every model pass)
    "CPU share chosen once per run": ({"GRADFLIP_CPU_SHARE": "once"}, None),
}


def warmed_child(photos: int, threads: int):
    """A child process's set-up: ``threads`` torch threads, the default model, the first ``photos`` benchmark photos
    at 224 x 224, one warm-up explanation. Returns ``explain(x)`` (the default explanation) and [(name, x)]."""
    import torch

    sys.path.insert(0, str(ROOT))
    from benchmarks.photos import benchmark_photos, to_input
    from gradflip_desktop.core.explain import run as explain_run
    from gradflip_desktop.core.models import load_default_model
    from gradflip_desktop.core.options import ExplainOptions

    torch.set_num_threads(threads)
    if os.environ.get("GRADFLIP_CPU_SHARE") in ("1", "once"):  # as the app and the command line run (core/cpu_share.py)
        from gradflip_desktop.core import cpu_share

        cpu_share.enable()
    if os.environ.get("GRADFLIP_CPU_SHARE") == "once":  # no choice before each pass: only the one as the run starts
        from gradflip_desktop.core.explain.objective import Objective

        Objective._before_pass = lambda self: self.threads.add(torch.get_num_threads())
    clf = load_default_model()
    chosen = [(name, to_input(arr, 224)) for name, arr in benchmark_photos(photos)]
    explain_run(clf, chosen[0][1], ExplainOptions())  # warm-up
    return (lambda x: explain_run(clf, x, ExplainOptions())), chosen


def child(photos: int, repeats: int, threads: int, busy: int = 0, after: float | None = None) -> None:
    explain, chosen = warmed_child(photos, threads)
    walls = []
    for _ in range(repeats):
        for _name, x in chosen:
            started: list[subprocess.Popen] = []
            timer = None
            if after is not None and busy:  # another program starts mid-run, and stops with the explanation
                loop = [sys.executable, "-c", "while True: pass"]
                timer = threading.Timer(after, lambda: started.extend(subprocess.Popen(loop) for _ in range(busy)))
                timer.start()
            t = time.perf_counter()
            explain(x)
            walls.append(time.perf_counter() - t)
            if timer is not None:
                timer.cancel()
                timer.join()  # one that fired as the explanation ended has started its loops: they are killed too
                for p in started:
                    p.kill()
                    p.wait()
    print(json.dumps(walls))


def _busy() -> None:  # another program on one core
    while True:
        pass


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=2, help="the first N photos of benchmarks/photos.py")
    ap.add_argument("--repeats", type=int, default=2, help="runs of each photo per child process")
    ap.add_argument("--only", default="", help="comma-separated configuration numbers (1-based) to run")
    ap.add_argument("--rounds", type=int, default=3, help="child processes per configuration, alternating")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2: this machine's cores)")
    ap.add_argument("--busy", type=int, default=0, help="busy-loop processes running meanwhile")
    ap.add_argument("--busy-after", type=float, default=None, metavar="S",
                    help="start the busy-loop processes S seconds into each explanation (stopped as it ends)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.photos, args.repeats, args.threads, args.busy, args.busy_after)
    busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(0 if args.busy_after is not None else args.busy)]
    for p in busy:
        p.start()
    walls: dict[str, list[float]] = {}
    try:
        when = "" if args.busy_after is None else f" from {args.busy_after:g} s into each explanation"
        print(f"{os.cpu_count()} CPUs, {args.busy} busy-loop process(es){when}, load average {os.getloadavg()[0]:.1f}",
              flush=True)
        for rnd in range(args.rounds):
            chosen = [int(i) - 1 for i in args.only.split(",") if i] or range(len(CONFIGS))
            for name, (omp, threads) in [list(CONFIGS.items())[i] for i in chosen]:
                env = {k: v for k, v in os.environ.items() if k not in OMP_VARIABLES} | omp
                cmd = [sys.executable, __file__, "--child", "--photos", str(args.photos), "--repeats",
                       str(args.repeats), "--threads", str(threads or args.threads), "--busy", str(args.busy)]
                cmd += [] if args.busy_after is None else ["--busy-after", str(args.busy_after)]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
                runs = json.loads(out.strip().splitlines()[-1])
                walls.setdefault(name, []).extend(runs)
                print(f"round {rnd + 1}  {name:30} " + " ".join(f"{w:5.2f}" for w in runs)
                      + f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        for p in busy:
            p.terminate()
    base = statistics.median(next(iter(walls.values())))
    print("\n| configuration | median wall (s) | worst (s) | median / first row |\n|---|---|---|---|")
    for name, w in walls.items():
        print(f"| {name} | {statistics.median(w):.2f} | {max(w):.2f} | {statistics.median(w) / base:.2f} |")


if __name__ == "__main__":
    main()
