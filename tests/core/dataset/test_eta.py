"""RunClock: the Folder panel's "about 6 min left", from the images explained since the run started."""

from __future__ import annotations

from gradflip_desktop.core.dataset.eta import RunClock


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_estimate_before_an_image_was_explained_and_none_when_done():
    t = FakeTime()
    clock = RunClock(t)
    t.now += 30
    assert clock.left_text(10) == ""  # nothing explained yet: no guess
    clock.tick(explained=False)  # an unreadable file: took no time, says nothing about the rate
    assert clock.left_seconds(10) is None
    clock.tick()
    assert clock.left_text(0) == "" and clock.left_seconds(0) == 0.0


def test_the_rate_is_this_runs_images_explained_over_its_time():
    t = FakeTime()
    clock = RunClock(t)
    t.now += 20
    clock.tick()
    clock.tick(explained=False)  # an error in between: not in the rate (20 s for one image, not 10 s)
    assert clock.left_seconds(18) == 18 * 20.0
    assert clock.left_text(18) == "about 6 min left"
    assert clock.left_text(2) == "under a minute left"  # 40 s
    assert clock.left_text(4) == "about 1 min left"  # 80 s
    t.now += 20
    clock.tick()  # 2 images in 40 s
    assert clock.left_text(1) == "under a minute left"  # 20 s
    assert clock.left_text(300) == "about 1 h 40 min left"  # 6,000 s
    assert clock.left_text(150) == "about 50 min left"


def test_start_forgets_the_earlier_run():
    """Continue after a Cancel: the time the run stood still is not in the rate."""
    t = FakeTime()
    clock = RunClock(t)
    t.now += 10
    clock.tick()
    t.now += 3600  # an hour between Cancel and Continue
    clock.start()
    assert clock.left_seconds(5) is None
    t.now += 5
    clock.tick()
    assert clock.left_seconds(4) == 20.0


def test_the_clock_and_the_dataset_package_import_without_torch():
    """The window imports the clock at start; through the package's summary (the report, the figure) it imported
    torch, which the window loads later in its engine thread (tests/ui: test_window_starts_without_importing_torch)."""
    import subprocess
    import sys

    code = ("import sys; import gradflip_desktop.core.dataset.eta, gradflip_desktop.core.dataset.inputs; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_words_round_to_minutes_and_switch_to_hours_from_90_min():
    t = FakeTime()
    clock = RunClock(t)
    t.now += 10
    clock.tick()  # 10 s an image
    assert clock.left_text(6) == "about 1 min left"  # exactly 60 s: a minute, not "under a minute"
    assert clock.left_text(11) == "about 2 min left"  # 110 s rounds to 2 min, not down to 1
    assert clock.left_text(450) == "about 75 min left"  # 75 min: still in minutes
    assert clock.left_text(534) == "about 89 min left"
    assert clock.left_text(540) == "about 1 h 30 min left"  # 90 min
    assert clock.left_text(1200) == "about 3 h 20 min left"  # 200 min


def test_nothing_left_is_no_time_even_before_an_image_and_a_clock_going_back_is_no_time():
    t = FakeTime()
    clock = RunClock(t)
    assert clock.left_seconds(0) == 0.0 and clock.left_seconds(-1) == 0.0  # done: known without a rate
    clock.tick()
    t.now -= 50  # a clock set back (the default, time.monotonic, never is): no negative guess
    assert clock.left_seconds(5) == 0.0
    assert clock.left_text(5) == ""
