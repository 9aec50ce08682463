"""ExplainOptions, its validation and limits, and the Status enum (core/options.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from gradflip_desktop.core import options as o
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status


def test_invalid_options_are_refused(tiny, tiny_image):
    for bad in (dict(epsilon=0), dict(epsilon=float("nan")), dict(mode="wild"), dict(max_steps=0), dict(smoothing=-1)):
        with pytest.raises(ValueError):
            run(tiny, tiny_image, ExplainOptions(**bad))
    with pytest.raises(ModelError, match="no class named"):
        run(tiny, tiny_image, ExplainOptions(target="zebra"))


def test_options_are_refused_where_they_are_written_and_again_by_run(tiny, tiny_image):
    """``ExplainOptions(max_steps=-5)`` or a mistyped style was accepted and refused only by run(), far from the
    line that wrote it; a field set wrong afterwards is still refused by run()."""
    with pytest.raises(ValueError, match=r"max_steps must be between 1 and \d+, not -5"):
        ExplainOptions(max_steps=-5)
    with pytest.raises(ValueError, match=r"style must be 'region', 'free' or 'blur', not 'regoin'"):
        ExplainOptions(style="regoin")
    opts = ExplainOptions()
    opts.epsilon = -1.0
    with pytest.raises(ValueError, match="epsilon must be in"):
        run(tiny, tiny_image, opts)


def test_status_values_are_the_record_strings():
    """Records written before the enum existed stay readable: the values are the old strings."""
    assert {s.name: s.value for s in Status} == {
        "FLIPPED": "flipped",
        "ALREADY": "nothing_to_flip",
        "BUDGET": "budget_exhausted",
        "CANCELLED": "cancelled",
        "ZERO_GRADIENT": "zero_gradient",
        "NONFINITE_GRADIENT": "nonfinite_gradient",
        "NONFINITE_OUTPUT": "nonfinite_output",
        "STALLED": "stalled",
        "MODEL_ERROR": "model_error",
    }
    assert Status.FLIPPED == "flipped" and Status("budget_exhausted") is Status.BUDGET
    # what the report, the CLI and the GUI print or write: the plain value, never "Status.FLIPPED"
    assert f"{Status.STALLED}" == str(Status.STALLED) == "stalled"
    assert json.dumps({"status": Status.CANCELLED}) == '{"status": "cancelled"}'
    assert Status.ZERO_GRADIENT.replace("_", " ") == "zero gradient"
    assert o.STATUSES == tuple(Status) and o.FLIPPED is Status.FLIPPED


@pytest.mark.parametrize(
    "field, low, high, message",
    [
        ("epsilon", o.EPS_MIN, o.EPS_MAX, "epsilon must be in [1e-07, 0.25]"),
        ("max_steps", o.MAX_STEPS_MIN, o.MAX_STEPS_MAX, "max_steps must be between 1 and 100000"),
        ("smoothing", o.SMOOTHING_MIN, o.SMOOTHING_MAX, "smoothing must be between 0 and 100 px"),
        ("coarse", o.COARSE_MIN, o.COARSE_MAX, "coarse factor must be between 1 and 64"),
    ],
)
def test_each_limit_is_inclusive_and_its_message_names_the_range(field, low, high, message):
    ExplainOptions(**{field: low}).validate()
    ExplainOptions(**{field: high}).validate()
    step = 1 if isinstance(low, int) else max(abs(high) * 1e-6, 1e-9)
    for bad in (low - step, high + step):
        with pytest.raises(ValueError) as info:
            ExplainOptions(**{field: bad}).validate()
        assert str(info.value).startswith(message), str(info.value)


def test_blur_sigma_style_mode_and_target_with_group():
    ExplainOptions(style="blur", blur_sigma=o.BLUR_SIGMA_MAX).validate()
    for bad in (0.0, -1.0, o.BLUR_SIGMA_MAX + 1, float("inf")):
        with pytest.raises(ValueError, match=r"blur_sigma must be in \(0, 500\] px"):
            ExplainOptions(blur_sigma=bad).validate()
    with pytest.raises(ValueError, match="style must be 'region', 'free' or 'blur', not 'wavy'"):
        ExplainOptions(style="wavy").validate()
    with pytest.raises(ValueError, match="step mode must be 'adaptive' or 'fixed', not 'wild'"):
        ExplainOptions(mode="wild").validate()
    with pytest.raises(ValueError, match="either a target class or a class group"):
        ExplainOptions(target=3, group="cat").validate()
    for mode in o.MODES:
        for style in o.STYLES:
            ExplainOptions(mode=mode, style=style).validate()


def test_defaults_and_to_dict():
    d = ExplainOptions().to_dict()
    assert d["mode"] == "adaptive" and d["epsilon"] == 0.0002 and d["max_steps"] == 200
    assert d["minimise"] and d["eight_bit"] and d["key_pixels"] and d["extra_steps"] == 50
    assert json.loads(json.dumps(d)) == d


def test_options_and_errors_import_without_torch():
    """The CLI's parser and the GUI's controls read options and errors before torch is loaded."""
    code = (
        "import sys\n"
        "import gradflip_desktop.core.options, gradflip_desktop.core.errors, gradflip_desktop.core.results\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("field, value, words", [
    ("epsilon", "0.01", "epsilon must be a number, not '0.01'"),
    ("max_steps", "10", "max_steps must be a whole number, not '10'"),
    ("max_steps", 10.5, "max_steps must be a whole number, not 10.5"),
    ("smoothing", None, "smoothing must be a number, not None"),
    ("coarse", True, "coarse must be a whole number, not True"),
    ("blur_sigma", "3", "blur_sigma must be a number, not '3'"),
    ("extra_steps", "5", "extra_steps must be a whole number, not '5'"),
    ("extra_steps", -1, "extra_steps must be 0 or more, not -1"),
    ("minimise", "no", "minimise must be True or False, not 'no'"),  # ran as True
    ("key_pixels", None, "key_pixels must be True or False, not None"),  # dropped the key region silently
    ("lattice", 1, "lattice must be True or False, not 1"),
])
def test_a_setting_of_the_wrong_kind_is_one_value_error_naming_it(field, value, words):
    """A Python caller's ExplainOptions(epsilon="0.01") raised Python's own "must be real number, not str"."""
    with pytest.raises(ValueError, match=re.escape(words)):
        ExplainOptions(**{field: value}).validate()
    import numpy as np  # numpy's numbers are numbers: accepted as before

    ExplainOptions(epsilon=np.float32(0.001), max_steps=np.int64(20), coarse=np.int64(2), refine=np.bool_(False)).validate()


def test_no_extra_steps_is_a_valid_setting():
    """extra_steps "must be 0 or more": 0 (no steps to survive 8-bit rounding) is allowed, -1 is not."""
    ExplainOptions(extra_steps=0).validate()
    with pytest.raises(ValueError, match="extra_steps must be 0 or more, not -1"):
        ExplainOptions(extra_steps=-1).validate()


def test_a_region_is_large_or_broad_only_above_its_share():
    """"Above" LARGE_REGION / BROAD_REGION: a key region of exactly half (a quarter) of the image is neither."""
    assert not o.is_large_region(o.LARGE_REGION) and o.is_large_region(o.LARGE_REGION + 1e-6)
    assert not o.is_broad_region(o.BROAD_REGION) and o.is_broad_region(o.BROAD_REGION + 1e-6)
    assert o.is_large_region(1.0) and not o.is_large_region(0.3) and o.is_broad_region(0.3)


def test_unused_names_the_options_each_style_ignores():
    """What the CLI notes as ignored and --resume does not compare: blur_sigma outside the blur style, refine and
    lattice outside the textbook change (free, unsmoothed, at full resolution)."""
    assert ExplainOptions(style="region").unused() == {"blur_sigma", "refine", "lattice"}
    assert ExplainOptions(style="blur").unused() == {"refine", "lattice"}
    assert ExplainOptions(style="free").unused() == {"blur_sigma"}
    assert ExplainOptions(style="free", coarse=2).unused() == {"blur_sigma", "refine", "lattice"}
    assert ExplainOptions(style="free", smoothing=1.0).unused() == {"blur_sigma", "refine", "lattice"}
