"""A whole run (core/explain/runner.py): edges of its end (a stop at the very end, a faint photo, the groups recorded)."""

from __future__ import annotations

import numpy as np

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status


def test_a_stop_after_the_last_pass_of_a_run_without_key_pixels_leaves_it_whole(tiny, tiny_image):
    """With key pixels off there is nothing left to cancel once the checks are done: a stop at that moment is no
    "cancelled ... before the key pixels were found" (none were asked for)."""
    opts = ExplainOptions(style="free", key_pixels=False)
    calls = []
    whole = run(tiny, tiny_image, opts, should_stop=lambda: calls.append(1) and False)
    assert whole.status == Status.FLIPPED
    n = len(calls)
    seen = []
    late = run(tiny, tiny_image, opts, should_stop=lambda: (seen.append(1), len(seen) >= n)[1])
    assert len(seen) == n  # the stop came at the run's last look
    assert (late.status, late.message, late.final.index) == (Status.FLIPPED, whole.message, whole.final.index)


def test_a_faint_photo_still_has_detail_to_remove(tiny):
    """Only a flat photo (no change above half an 8-bit level) has nothing for the blur style to remove: a faint one,
    a few levels of contrast, is searched."""
    rng = np.random.default_rng(3)
    pixels = (0.5 + np.kron(rng.choice([-3, 3], size=(6, 8, 1)), np.ones((4, 4, 3))) / 255).astype(np.float32)
    res = run(tiny, pixels, ExplainOptions(style="blur", max_steps=3))
    assert not res.message.startswith("the photo has no detail to remove") and len(res.steps) >= 1


def test_only_a_group_run_records_the_models_groups(tiny, tiny_image):
    assert run(tiny, tiny_image, ExplainOptions(style="free", max_steps=2)).groups == {}
    assert run(tiny, tiny_image, ExplainOptions(style="free", max_steps=2, group="low")).groups == {"low": [0, 1]}


def test_a_stop_during_the_8_bit_pass_says_cancelled_not_out_of_budget(tiny, tiny_image, monkeypatch):
    """A Cancel while the change was being made to survive 8-bit saving ended as "did not survive ... within the
    extra step budget": a failure the user did not meet, where the run was only stopped."""
    from gradflip_desktop.core.explain import runner

    stopped = []

    def eight_bit(ctx, s, c, delta):  # the pass, stopped at once: the saved image does not flip
        stopped.append(True)
        return s.x0
        yield  # a generator, as the pass is

    monkeypatch.setattr(runner, "eight_bit", eight_bit)
    res = run(tiny, tiny_image, ExplainOptions(style="free", lattice=False), should_stop=lambda: bool(stopped))
    assert stopped == [True]
    assert (res.status, res.message) == (Status.CANCELLED, "cancelled while making the change survive 8-bit saving")


def test_a_zero_gradient_ends_every_style_only_at_a_textbook_runs_first_step(tiny, tiny_image):
    """The pixels' own gradient is zero only when the free style's first gradient is: a region run's zero gradient (a
    model that does not go by detail) or one met after steps leaves the other styles to try."""
    from dataclasses import replace

    from gradflip_desktop.core.explain.runner import stops_every_style

    base = run(tiny, tiny_image, ExplainOptions(style="free", max_steps=2))
    assert base.steps
    first = replace(base, status=Status.ZERO_GRADIENT, message="the gradient is zero", steps=[])
    assert stops_every_style(first) is True
    assert stops_every_style(replace(first, options=ExplainOptions(style="region"))) is False
    assert stops_every_style(replace(first, steps=base.steps)) is False


def test_a_targeted_run_records_the_targets_own_probability_at_the_photo(tiny, tiny_image):
    top = int(np.argmax(tiny.probabilities(tiny_image)))
    target = (top + 1) % 4
    res = run(tiny, tiny_image, ExplainOptions(style="free", target=target, max_steps=3))
    assert res.target.index == target and res.target.label == tiny.label(target)
    assert res.target.probability == float(res.original_probabilities[target])
    assert res.target.probability != res.original.probability


def test_a_blur_too_small_to_remove_detail_is_named_not_the_photo(tiny, tiny_image):
    """A blur-style sigma so small that the blurred copy is the photo was reported as "the photo has no detail to
    remove (it is flat …)", and one a little larger as a local optimum: the blur the user chose is named instead, and
    a run at the default blur that ends without a flip carries no such hint."""
    res = run(tiny, tiny_image, ExplainOptions(style="blur", blur_sigma=0.05))
    assert res.status == Status.STALLED and not res.steps
    assert res.message.startswith("blurring with sigma 0.05 px changes no pixel by half an 8-bit level")
    assert "larger blur sigma" in res.message and "flat" not in res.message
    short = run(tiny, tiny_image, ExplainOptions(style="blur", blur_sigma=0.5, max_steps=1, mode="fixed", epsilon=1e-6))
    assert short.status != Status.FLIPPED
    assert short.message.endswith("blurring with sigma 0.5 px removes little detail: a larger blur sigma may flip it "
                                  "(the default is the long side / 24)")
    plain = run(tiny, tiny_image, ExplainOptions(style="blur", max_steps=1, mode="fixed", epsilon=1e-6))
    assert plain.status != Status.FLIPPED and "blur sigma" not in plain.message


def test_an_exception_of_the_callers_should_stop_reaches_the_caller_as_itself(tiny, tiny_image):
    """It was caught with the model's exceptions: status model_error, "the model failed during the run:
    ZeroDivisionError …", the caller's bug hidden and the model blamed. Raised at the first poll, or at a later one
    (inside the region style's optional passes, which let a failing pass go quietly), it reaches the caller; a
    callback that returns normally still cancels."""
    import pytest

    with pytest.raises(ZeroDivisionError):
        run(tiny, tiny_image, ExplainOptions(style="free"), should_stop=lambda: 1 / 0)
    for style in ("free", "region"):
        polls = []

        def late():
            polls.append(1)
            if len(polls) == 12:
                raise KeyError("my own bug")
            return False

        with pytest.raises(KeyError, match="my own bug"):
            run(tiny, tiny_image, ExplainOptions(style=style), should_stop=late)
    assert run(tiny, tiny_image, ExplainOptions(style="free"), should_stop=lambda: True).status == Status.CANCELLED


def test_a_value_one_float_step_outside_0_1_is_rounding_not_8bit_data(tiny, tiny_image):
    """One pixel one float32 step above 1 (a resize's or a colour conversion's rounding): classify() took it, run()
    refused it without a hint, and from_array asked "8-bit values? divide them by 255". It is clipped as rounding by
    all three; a value clearly outside [0, 1] is still refused, 8-bit-looking data with the hint."""
    import pytest

    from gradflip_desktop.core.errors import ImageError
    from gradflip_desktop.core.images import from_array

    img = np.array(tiny_image, dtype=np.float32)
    img[0, 0, 0] = np.nextafter(np.float32(1), np.float32(2))
    img[1, 1, 1] = -np.float32(1e-8)
    res = run(tiny, img, ExplainOptions(style="free", max_steps=2, key_pixels=False))
    assert res.status in (Status.FLIPPED, Status.BUDGET)
    assert float(from_array(img, max_side=None).pixels.max()) == 1.0 and float(from_array(img, max_side=None).pixels.min()) >= 0
    assert tiny.classify(img, 1) == tiny.classify(np.clip(img, 0, 1), 1)
    img[0, 0, 0], img[1, 1, 1] = 1.01, 0.5
    with pytest.raises(ValueError, match=r"must be finite and lie in \[0, 1\]$"):
        run(tiny, img, ExplainOptions(style="free"))
    with pytest.raises(ImageError, match=r"must lie in \[0, 1\], not \[0\.\d+, 1\.01\]$"):
        from_array(img)
    with pytest.raises(ImageError, match=r"8-bit values\? divide them by 255"):
        from_array(img * 200)
