"""A whole run (core/explain/runner.py) on a tiny deterministic model: flips, targets, groups, statuses,
cancel, budget, edge cases. The passes have their own test files next to this one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core.explain import explain, run
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing

from helpers import make_tiny


def argmax_of(clf, pixels):
    return int(np.argmax(clf.probabilities(pixels)))


def test_untargeted_run_flips_and_result_is_consistent(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=0.01))
    assert res.status == Status.FLIPPED and res.flipped
    assert res.final.index != res.original.index
    # the final class is that of the saved 8-bit image
    assert argmax_of(tiny, res.adjusted_uint8.astype(np.float32) / 255) == res.final.index
    np.testing.assert_allclose(res.adjusted_pixels, tiny_image + res.delta, atol=1e-6)
    assert res.adjusted_pixels.min() >= 0 and res.adjusted_pixels.max() <= 1
    assert res.l2 == pytest.approx(float(np.linalg.norm(res.delta)), rel=1e-6)
    assert res.rms == pytest.approx(res.l2 / math.sqrt(res.delta.size))
    assert res.gradient_evaluations >= len(res.steps) >= 1
    assert res.forward_evaluations > 1
    assert set(res.timings) == {"flip", "minimise", "eight_bit", "key_pixels"}
    assert 0 < res.alpha <= 1


def test_targeted_run_reaches_the_target(tiny, tiny_image):
    top = argmax_of(tiny, tiny_image)
    target = (top + 2) % 4
    res = run(tiny, tiny_image, ExplainOptions(style="free", target=f"class{target}", epsilon=0.01, max_steps=500))
    assert res.status == Status.FLIPPED
    assert res.final.index == target
    assert res.target.index == target


def test_group_run_leaves_the_group(tiny_image):
    clf = make_tiny()
    top = argmax_of(clf, tiny_image)
    group = [top, (top + 1) % 4]
    res = run(clf, tiny_image, ExplainOptions(style="free", group=group, epsilon=0.01, max_steps=500))
    assert res.status == Status.FLIPPED
    assert res.final.index not in group
    assert res.explained == sorted(group)


def test_group_by_name_and_ranges(tiny):
    assert tiny.find_group("low") == ("low", [0, 1])
    assert tiny.find_group("1-2") == ("classes 1-2", [1, 2])
    with pytest.raises(ModelError, match="unknown class group"):
        tiny.find_group("felines")
    with pytest.raises(ModelError, match="outside"):
        tiny.find_group("2-9")


def test_nothing_to_flip_when_target_already_wins(tiny, tiny_image):
    top = argmax_of(tiny, tiny_image)
    res = run(tiny, tiny_image, ExplainOptions(style="free", target=top))
    assert res.status == Status.ALREADY and not res.flipped
    assert "already predicts" in res.message
    assert np.array_equal(res.delta, np.zeros_like(res.delta))


def test_cancel_ends_with_state_so_far(tiny, tiny_image):
    calls = {"n": 0}
    steps_seen = []

    def stop():
        return len(steps_seen) >= 2

    res = run(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=1e-5, max_steps=50), on_step=steps_seen.append, should_stop=stop)
    assert res.status == Status.CANCELLED
    assert len(res.steps) == 2
    assert np.isfinite(res.adjusted_pixels).all()
    assert res.l2 == pytest.approx(res.steps[-1].l2, rel=1e-4)
    del calls


class _Counting(nn.Module):
    """Counts forward passes (with and without gradient) of the wrapped network."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, []

    def forward(self, x):
        self.calls.append(torch.is_grad_enabled())
        return self.inner(x)


@pytest.mark.parametrize("style", ["region", "blur", "free"])
def test_cancel_during_the_start_costs_no_gradient(tiny, tiny_image, style):
    """A slow model: Cancel pressed while the run starts (the first classification, the region style's
    choice of fill-in) ends the run before its first gradient, with the photo unchanged."""
    counting = _Counting(tiny.module)
    backwards = []
    counting.register_full_backward_hook(lambda *a: backwards.append(1))
    clf = Classifier(module=counting, labels=tiny.labels, name="tiny", preprocessing=tiny.preprocessing)
    res = run(clf, tiny_image, ExplainOptions(style=style), should_stop=lambda: len(counting.calls) >= 1)
    assert res.status == Status.CANCELLED and res.message == "cancelled by the user"
    assert res.steps == [] and backwards == [] and res.gradient_evaluations == 0  # no gradient computed
    # the region style classifies without a graph; the others keep it for their first gradient (at the
    # photo), which costs no more time than a pass without one
    assert counting.calls == [style != "region"]
    assert len(counting.calls) == 1  # the first classification only: no fill-in tried, no final re-check
    assert np.array_equal(res.delta, np.zeros_like(res.delta))


def test_cancel_during_the_key_region_search_cancels(tiny, tiny_image):
    """Cancel while the key set is searched: the search stops early, so its set is not the smallest that
    flips; the run says it was cancelled and names no key set (it used to end "flipped" with that set)."""
    from gradflip_desktop.core.results import Progress

    done = run(tiny, tiny_image, ExplainOptions())
    assert done.status == Status.FLIPPED and done.key_region is not None
    searched = []
    res = run(tiny, tiny_image, ExplainOptions(), should_stop=lambda: bool(searched),
              on_progress=lambda p: searched.append(p) if isinstance(p, Progress) and p.phase == "key_region" else None)
    assert len(searched) == 1  # stopped at the first pass of the key-region search
    assert res.status == Status.CANCELLED
    assert res.message == "cancelled after the decision flipped, before the key region was found"
    assert res.key_region is None and res.key_pixels is None


@pytest.mark.parametrize("shrunk_too_far", [False, True])
def test_cancel_after_the_flip_keeps_a_saved_image_that_flips(tiny, tiny_image, monkeypatch, shrunk_too_far):
    """Cancel right after the change was shrunk: the saved (8-bit) image keeps the flip. When the smallest change
    rounds back to the explained class, the search's flipping image is kept instead: the window said "before the
    decision flipped" under a plot that marked the flip."""
    from gradflip_desktop.core.explain import runner

    done = run(tiny, tiny_image, ExplainOptions(style="free"))
    assert done.status == Status.FLIPPED
    stopping = []
    real = runner.ray_boundary

    def crossing(*args, **kwargs):
        alpha = real(*args, **kwargs)
        stopping.append(1)  # Cancel pressed while the change was shrunk
        return 0.0 if shrunk_too_far else alpha  # 0: the "smallest change" is no change, which cannot flip

    monkeypatch.setattr(runner, "ray_boundary", crossing)
    res = run(tiny, tiny_image, ExplainOptions(style="free", refine=False), should_stop=lambda: bool(stopping))
    assert stopping and res.status == Status.CANCELLED
    assert res.message == "cancelled after the decision flipped, before the final checks"
    assert res.final.index != res.original.index  # the saved image's class: flipped
    assert int(np.argmax(tiny.probabilities(res.adjusted_uint8.astype(np.float32) / 255.0))) == res.final.index
    assert np.linalg.norm(res.delta) > 0
    if shrunk_too_far:  # the search's image is kept whole: the record's alpha says so (the plot read "change × 0.00")
        assert res.alpha == 1.0


@pytest.mark.parametrize("style", ["free", "region"])
def test_the_step_that_flips_skips_its_backward_unless_a_later_pass_uses_it(tiny, tiny_image, style):
    """The flip test needs only the logits: the search's step that flips runs its backward pass only in the
    region style (whose flip-back search goes on from that gradient). Every backward is counted as a
    gradient evaluation and every gradient evaluation had one."""
    counting = _Counting(tiny.module)
    backwards = []
    counting.register_full_backward_hook(lambda *a: backwards.append(1))
    clf = Classifier(module=counting, labels=tiny.labels, name="tiny", preprocessing=tiny.preprocessing)
    res = run(clf, tiny_image, ExplainOptions(style=style))
    assert res.flipped
    with_grad = sum(counting.calls)
    assert len(backwards) == res.gradient_evaluations
    assert res.forward_evaluations + res.gradient_evaluations == len(counting.calls)
    if style == "free":  # its boundary searches keep their flipping passes' graphs too (test_minimality.py)
        assert with_grad - len(backwards) >= 1
    else:
        assert with_grad - len(backwards) == (0 if style == "region" else 1)


@pytest.mark.parametrize("shape", [(1, 1), (24, 32)])
def test_a_flat_photo_in_the_blur_style_says_it_has_no_detail_to_blur(tiny, shape):
    photo = np.full((*shape, 3), (0.3, 0.6, 0.2), dtype=np.float32)
    res = run(tiny, photo, ExplainOptions(style="blur", max_steps=5))
    assert res.status == Status.STALLED
    assert res.message.startswith("the photo has no detail to remove (it is flat: blurring it gives the same image)")
    assert "the blur style cannot change it" in res.message and "--style free" in res.message
    assert res.steps == []


def test_budget_exhausted(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=1e-6, max_steps=3))
    assert res.status == Status.BUDGET
    assert len(res.steps) == 3 and res.key_pixels is None
    assert "3 steps" in res.message
    one = run(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=1e-6, max_steps=1))
    assert one.status == Status.BUDGET and "within 1 step;" in one.message


class _Const(nn.Module):
    def forward(self, x):
        return torch.tensor([[1.0, 0.0, -1.0]]).expand(x.shape[0], 3) + 0 * x.mean()


class _NaN(nn.Module):
    def forward(self, x):
        return torch.full((x.shape[0], 3), float("nan")) + x.mean()


class _Huge(nn.Module):
    """Logit margin of thousands: softmax(z)[t] is exactly 1.0 in float32, its gradient exactly 0."""

    def forward(self, x):
        m = x.mean((2, 3))
        return torch.stack([5000 * m[:, 0], 5000 * m[:, 1] - 2000, 5000 * m[:, 2] - 2000], 1)


def _wrap(net, classes=3):
    pre = Preprocessing(input_size=(8, 8), mean=(0.0,), std=(1.0,))
    return Classifier(module=PixelSpaceModel(net, pre).eval(), labels=[f"c{i}" for i in range(classes)], name="t")


def test_zero_gradient_has_its_own_status(tiny_image):
    res = run(_wrap(_Const()), tiny_image)
    assert res.status == Status.ZERO_GRADIENT
    assert "gradient is zero" in res.message
    assert np.isfinite(res.adjusted_pixels).all()


def test_nonfinite_output_on_the_photo_is_a_model_error(tiny_image):
    """NaN on the photo itself: no class to explain, so no result (its figure said "class 0 (n/a) -> class 0")."""
    with pytest.raises(ModelError, match="non-finite outputs"):
        run(_wrap(_NaN()), tiny_image)


def test_log_odds_gradient_survives_saturated_probability(tiny_image):
    clf = _wrap(_Huge())
    img = np.full_like(tiny_image, 0.5)
    img[..., 0] = 0.9
    p = clf.probabilities(img)
    assert p[0] == 1.0  # saturated: gradient of C_t itself would vanish
    gen = explain(clf, img, ExplainOptions(style="free", mode="fixed", epsilon=0.01, max_steps=5))
    step = next(gen)
    assert step.l2 > 0 and np.isfinite(step.score)
    gen.close()


class _NearTie(nn.Module):
    """Logits [0, 1e-8, -3, -3]: class 1 wins, but the float32 probabilities of classes 0 and 1 are equal."""

    def forward(self, x):
        z = torch.tensor([[0.0, 1e-8, -3.0, -3.0]])
        return z.expand(x.shape[0], 4) + 0 * x.mean()


def test_the_explained_class_is_the_top_class_the_window_shows_even_at_a_near_tie(tiny_image):
    clf = _wrap(_NearTie(), classes=4)
    p = clf.probabilities(tiny_image)
    assert np.float32(p[0]) == np.float32(p[1])  # rounded to float32 they tie; argmax would say class 0
    shown = clf.top(p, 1)[0].index
    assert shown == 1
    res = run(clf, tiny_image, ExplainOptions(style="free", max_steps=2))
    assert res.original.index == shown and res.explained == [shown]


def test_nothing_to_flip_names_the_saved_8bit_image_as_final(tiny, tiny_image):
    """``final`` is the class of the saved 8-bit image (README). With nothing to flip it was the float
    photo's output: a resized (or 16-bit, float) photo's saved PNG re-classified to another probability
    (bobsled 38.1 % in the record, 37.8 % loading adjusted.png back). An 8-bit photo costs no extra pass."""
    top = argmax_of(tiny, tiny_image)
    res = run(tiny, tiny_image, ExplainOptions(style="free", target=top))
    assert res.status == Status.ALREADY
    saved = tiny.probabilities(res.adjusted_uint8.astype(np.float32) / 255.0)
    assert not np.array_equal(res.adjusted_uint8 / 255.0, tiny_image)  # the photo is not 8-bit exact
    assert res.final.index == int(np.argmax(saved))
    assert res.final.probability == pytest.approx(float(saved.max()), abs=1e-6)
    assert res.final.probability != pytest.approx(res.original.probability, abs=1e-7)
    assert res.forward_evaluations == 2
    eight_bit = np.round(tiny_image * 255).astype(np.float32) / 255.0
    again = run(tiny, eight_bit, ExplainOptions(style="free", target=argmax_of(tiny, eight_bit)))
    assert again.status == Status.ALREADY and again.forward_evaluations == 1
    assert again.final.probability == pytest.approx(again.original.probability, abs=1e-12)


def test_a_targeted_run_out_of_steps_says_its_class_was_not_reached(tiny, tiny_image):
    """It said "the decision did not flip within 1 step" (a targeted run may flip to another class on the way);
    it names the class it did not reach."""
    target = (argmax_of(tiny, tiny_image) + 2) % 4
    res = run(tiny, tiny_image, ExplainOptions(style="free", target=f"class{target}", epsilon=1e-5, max_steps=1))
    assert res.status == Status.BUDGET
    assert res.message.startswith(f"“class{target}” was not reached within 1 step")
    untargeted = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=1e-5, max_steps=1))
    assert untargeted.status == Status.BUDGET and untargeted.message.startswith("the decision did not flip within 1 step")


def test_a_path_given_to_run_is_loaded_as_load_image_loads_it(tiny, tmp_path):
    """``run(model, "photo.png")`` was refused ("load it first"): a path (str or Path) is the photo, loaded as
    load_image loads it (its name and file in the record); a missing one is load_image's ImageError; a file's bytes
    are still refused by name, not numpy's "could not convert string to float"."""
    from PIL import Image

    from gradflip_desktop.core import ImageError, load_image

    rng = np.random.default_rng(3)
    path = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(path)
    opts = ExplainOptions(style="free", max_steps=3, key_pixels=False)
    by_path, by_str = run(tiny, path, opts), run(tiny, str(path), opts)
    loaded = run(tiny, load_image(path), opts)
    assert by_path.image_info["name"] == by_str.image_info["name"] == loaded.image_info["name"] == "noise"
    assert np.array_equal(by_path.original_pixels, loaded.original_pixels)
    assert np.array_equal(by_str.adjusted_uint8, loaded.adjusted_uint8)
    with pytest.raises(ImageError, match="missing.png"):
        run(tiny, tmp_path / "missing.png")
    with pytest.raises(ValueError, match=r"or a path, not 12 bytes: a file's bytes are read by .*load_image\(data\)"):
        run(tiny, b"\x89PNG\r\n\x1a\n0000")


def test_8bit_pixels_given_to_run_are_told_what_to_do(tiny):
    """A uint8 photo said "pixels must be finite and lie in [0, 1]" without the reason: it now says what to do."""
    eight = np.full((8, 8, 3), 200, np.uint8)
    with pytest.raises(ValueError, match=r"these are uint8 values up to 200: divide by 255"):
        run(tiny, eight)
    with pytest.raises(ValueError, match=r"these are float64 values up to 255: divide by 255"):
        run(tiny, np.full((8, 8, 3), 255.0))
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]$"):  # a slightly-out float range: no guess
        run(tiny, np.full((8, 8, 3), 1.5))
    normalised = np.linspace(-1, 1, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)  # a model's input, -1 .. 1
    with pytest.raises(ValueError, match=r"lie in \[0, 1\] \(values down to -1: give the photo before normalisation"):
        run(tiny, normalised)
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]$"):  # NaN: nothing to say of its range
        run(tiny, np.full((8, 8, 3), np.nan))


def test_pixels_at_0_and_1_are_taken_and_empty_or_four_channel_images_are_refused_by_name(tiny):
    """The image check (core/explain/arguments.py) at its edges: black and white are in [0, 1]; an empty array and an
    RGBA array each get their own words (numpy's "zero-size array to reduction operation" for an empty one)."""
    from gradflip_desktop.core.explain.arguments import pixels_of

    edges = np.zeros((4, 4, 3), np.float64)
    edges[:2] = 1.0
    got = pixels_of(edges)
    assert got.dtype == np.float32 and np.array_equal(got, edges)
    assert run(tiny, np.zeros((8, 8, 3), np.float32), ExplainOptions(style="free", max_steps=1)).original is not None
    with pytest.raises(ValueError, match=r"^image is empty \(shape \(0, 4, 3\)\)$"):
        run(tiny, np.zeros((0, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"^image must be H x W x 3, got \(8, 8, 4\) \(grayscale, or 1 or 4 channels: "):
        run(tiny, np.zeros((8, 8, 4), np.float32))


def test_a_photo_outside_the_group_is_named_with_the_groups_own_words(tiny, tiny_image):
    # the window's Group box says "any cat"; the message said the group "cat"
    top = argmax_of(tiny, tiny_image)
    outside = "low" if top not in (0, 1) else "2-3"
    res = run(tiny, tiny_image, ExplainOptions(style="free", group=outside))
    name = tiny.find_group(outside)[0]
    assert res.status == Status.ALREADY
    assert f"is not in the group “any {'of ' if name.startswith('classes') else ''}{name}”; nothing to flip" in res.message


def test_a_group_of_one_class_is_named_as_that_class(tiny, tiny_image):
    """`--group 281` said "the top class “Egyptian cat” is not in the group “any of classes 281”": one class is
    named as the class, and a group of one class is "class 281" wherever a group is named (any_of)."""
    from gradflip_desktop.core.summary import any_of

    top = argmax_of(tiny, tiny_image)
    other = (top + 1) % tiny.num_classes
    res = run(tiny, tiny_image, ExplainOptions(style="free", group=str(other)))
    assert res.status == Status.ALREADY and not res.flipped
    assert res.message == (f"the top class “{tiny.label(top)}” is not the group's one class, “{tiny.label(other)}” "
                           f"({other}); nothing to flip"), res.message
    assert any_of("classes 281") == "class 281" and any_of("classes 281,283") == "any of classes 281,283"
    assert any_of("classes 7") == "class 7" and any_of("classes") == "any classes"


def test_run_records_no_digest_of_a_photo_replaced_after_it_was_loaded(tmp_path, monkeypatch):
    """``img = load_image(p)``, ``p`` replaced, ``run(model, img)``: the record got the new file's size, date and
    SHA-256 beside the old photo's answer, so ``--resume`` kept it and ``check`` scored it on the new photo. And a
    folder job hashed every photo twice (its own fingerprint at loading, then run()'s, thrown away)."""
    import os

    from PIL import Image

    from gradflip_desktop.core.dataset import collect_inputs
    from gradflip_desktop.core.dataset import inputs as inputs_module
    from gradflip_desktop.core.dataset import job as job_module
    from gradflip_desktop.core.dataset.job import JobSettings, explain_inputs
    from gradflip_desktop.core.images import load_image

    photo = tmp_path / "p.png"
    Image.fromarray(np.full((24, 32, 3), 30, np.uint8)).save(photo)
    img = load_image(photo)
    unchanged = run(make_tiny(), img, ExplainOptions(max_steps=2))
    assert unchanged.image_info["file"]["bytes"] == photo.stat().st_size  # the file loaded: fingerprinted
    Image.fromarray(np.full((24, 32, 3), 220, np.uint8)).save(photo)
    os.utime(photo, ns=(10**18, 10**18))
    assert run(make_tiny(), img, ExplainOptions(max_steps=2)).image_info.get("file") is None
    calls = []
    real = inputs_module.file_fingerprint
    counting = lambda path: (calls.append(str(path)), real(path))[1]  # noqa: E731
    monkeypatch.setattr(inputs_module, "file_fingerprint", counting)
    monkeypatch.setattr(job_module, "file_fingerprint", counting)
    listed, _ = collect_inputs([photo])
    explain_inputs(make_tiny(), listed, ExplainOptions(max_steps=2), JobSettings(out=tmp_path / "out"))
    assert calls == [str(photo)], calls


def test_run_takes_a_pillow_image_and_any_tensor(tiny, tiny_image):
    """A Pillow image was np.asarray'ed: "pixels must lie in [0, 1] (these are uint8 values ...)" (and a palette
    image would have been its indices); a tensor that requires grad or is channels-first was torch's RuntimeError
    or a bare shape. A Pillow image is read as from_array reads it (its notes in the record); a tensor is detached."""
    from PIL import Image

    from gradflip_desktop.core.images import from_array

    u8 = (tiny_image * 255).round().astype(np.uint8)
    opts = ExplainOptions(style="free", max_steps=5)
    res = run(tiny, Image.fromarray(u8).convert("P"), opts)
    ref = run(tiny, from_array(Image.fromarray(u8).convert("P")), opts)
    assert res.original == ref.original and res.image_info["working_size"] == [32, 24]
    t = torch.from_numpy(tiny_image.astype(np.float32)).requires_grad_(True)
    assert run(tiny, t, opts).original == run(tiny, tiny_image, opts).original
    with pytest.raises(ValueError, match=r"got \(3, 24, 32\) \(channels first: the channels go last"):
        run(tiny, t.detach().permute(2, 0, 1), opts)


def test_one_image_as_a_model_takes_it_runs_and_other_batches_are_refused_with_how(tiny, tiny_image):
    """A Captum user's input, 1 x 3 x H x W, was "image must be H x W x 3, got (1, 3, 24, 32)" and no more; then a hint,
    while classify() took it: a tensor of one image in a model's layout runs, as classify() takes it."""
    t = torch.from_numpy(tiny_image.astype(np.float32))
    opts = ExplainOptions(style="free", max_steps=3)
    assert run(tiny, t.permute(2, 0, 1)[None], opts).original == run(tiny, tiny_image, opts).original
    with pytest.raises(ValueError, match=r"got \(2, 3, 24, 32\) \(a batch: one image at a time, e\.g\. x\[0\]\.permute\(1, 2, 0\)\)$"):
        run(tiny, t.permute(2, 0, 1)[None].repeat(2, 1, 1, 1), ExplainOptions(style="free", max_steps=3))
    with pytest.raises(ValueError, match=r"got \(1, 24, 32, 3\) \(a batch: one image at a time, e\.g\. x\[0\]\)$"):
        run(tiny, tiny_image[None], ExplainOptions(style="free", max_steps=3))


def test_run_takes_a_bfloat16_or_half_tensor(tiny, tiny_image):
    """A bfloat16 tensor (a mixed-precision pipeline's image) was torch's "TypeError: Got unsupported ScalarType
    BFloat16" (numpy has no bfloat16), where a float16 one ran: both run, as their float32 values."""
    opts = ExplainOptions(style="free", max_steps=3)
    for dtype in (torch.bfloat16, torch.float16):
        t = torch.from_numpy(tiny_image.astype(np.float32)).to(dtype)
        assert run(tiny, t, opts).original == run(tiny, t.float().numpy(), opts).original


def test_a_result_keeps_the_options_it_ran_with_when_the_caller_changes_them(tiny, tiny_image, tmp_path):
    import json

    from gradflip_desktop.core.report import write_result_set
    from gradflip_desktop.core.summary import summary_sentence

    opts = ExplainOptions(style="free", epsilon=0.01, max_steps=300.0)  # a whole number given as a float
    first = run(tiny, tiny_image, opts)
    assert first.status == Status.FLIPPED
    opts.style, opts.max_steps, opts.epsilon = "blur", 7, 0.02  # the next run's settings, on the same object
    assert (first.options.style, first.options.max_steps, first.options.epsilon) == ("free", 300, 0.01)
    assert type(first.options.max_steps) is int and first.options is not opts
    assert "blurring" not in summary_sentence(first).lower()  # the free run's sentence, not the blur style's
    write_result_set(first, tmp_path, "first")
    record = json.loads((tmp_path / "first.gradflip.json").read_text())
    assert record["options"]["style"] == "free" and record["options"]["max_steps"] == 300
    assert opts.max_steps == 7  # the caller's object is the caller's: run() changed nothing on it


def test_a_budget_given_as_a_float_is_worded_in_whole_steps(tiny, tiny_image):
    from gradflip_desktop.core.summary import summary_sentence

    res = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=1e-5, mode="fixed", max_steps=2.0))
    assert res.status == Status.BUDGET
    sentence = summary_sentence(res)
    assert "budget of 2 steps" in sentence and "2.0" not in sentence


def test_the_record_of_a_tiny_photo_says_the_model_enlarges_it(tmp_path):
    import json

    from PIL import Image

    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.report import write_result_set

    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(60, 200, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "icon.png")
    image = load_image(tmp_path / "icon.png")
    assert not any("enlarges it" in w for w in image.warnings)  # the model's input size is not known yet
    res = run(make_tiny(size=64), image, ExplainOptions(style="free", epsilon=0.01))  # 8 px -> 64 px: 8×
    notes = [w for w in res.image_info["warnings"] if "enlarges it 8×" in w]
    assert len(notes) == 1
    write_result_set(res, tmp_path / "out", "icon")
    record = json.loads((tmp_path / "out" / "icon.gradflip.json").read_text())
    assert sum("enlarges it 8×" in w for w in record["image"]["warnings"]) == 1
