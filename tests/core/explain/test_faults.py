"""Models that misbehave inside a run: each ends with a specific status and finite pixels, never a crash.

Tiny custom ``nn.Module``s are wrapped in the real ``PixelSpaceModel``/``Classifier`` and run through
``explain.run`` (what the GUI engine and the CLI iterate), then through ``write_result_set``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from helpers import TinyNet
from gradflip_desktop import cli
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core.results import ExplainResult
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.core.report import write_result_set


class Faulty(nn.Module):
    """TinyNet that behaves for ``good`` calls, then fails in the chosen way."""

    def __init__(self, fault: str, good: int = 0, classes: int = 4):
        super().__init__()
        self.net = TinyNet(classes, seed=0)
        self.fault, self.good, self.calls, self.classes = fault, good, 0, classes

    def forward(self, x):
        self.calls += 1
        z = self.net(x)
        if self.calls <= self.good:
            return z
        if self.fault == "nan":
            return z + float("nan")
        if self.fault == "inf":
            return z.clone().index_fill_(1, torch.tensor([0]), float("inf"))
        if self.fault == "shape":
            return torch.cat([z, z], 1)
        if self.fault == "batch":
            return z.repeat(2, 1)
        if self.fault == "raise":
            raise RuntimeError("CUDA error: device-side assert triggered (simulated)")
        if self.fault == "not_tensor":
            return "logits"
        if self.fault == "zero_grad":
            return z.detach() + 0.0 * x.mean()  # the output no longer depends on the pixels
        if self.fault == "detached":  # e.g. torch.no_grad() or .detach() inside the model
            return z.detach()
        if self.fault == "integer":  # class scores as integers
            return (z * 100).round().long()
        if self.fault == "nan_grad":
            # finite value, NaN gradient: sqrt'(0) = inf, times 0
            return z + torch.sqrt(x.mean() * 0.0)
        raise AssertionError(self.fault)


def wrap(net: nn.Module, classes: int = 4) -> Classifier:
    pre = Preprocessing(input_size=(16, 16), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    module = PixelSpaceModel(net, pre).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return Classifier(module=module, labels=[f"class{i}" for i in range(classes)], name="faulty", preprocessing=pre)


def finite_result(res: ExplainResult) -> None:
    assert np.isfinite(res.adjusted_pixels).all()
    assert np.isfinite(res.delta).all()
    assert res.adjusted_uint8.dtype == np.uint8
    assert np.array_equal(res.original_pixels + res.delta, res.adjusted_pixels) or np.allclose(
        res.original_pixels + res.delta, res.adjusted_pixels, atol=1e-6
    )


def exported(res: ExplainResult, tmp_path) -> dict:
    """The result set can be written and its JSON record is strict JSON (no NaN)."""
    paths = write_result_set(res, tmp_path / "out", "faulty")
    text = paths[-1].read_text(encoding="utf-8")

    def no_constants(c):
        raise AssertionError(f"non-standard JSON constant {c} in the record")

    return json.loads(text, parse_constant=no_constants)


OPTS = ExplainOptions(style="free", mode="fixed", epsilon=0.002, max_steps=30)


@pytest.mark.parametrize(
    "fault, good, status, fragment",
    [
        ("nan", 3, Status.NONFINITE_OUTPUT, "the model produced non-finite outputs (NaN or infinity)"),
        ("inf", 3, Status.NONFINITE_OUTPUT, "the model produced non-finite outputs (NaN or infinity)"),
        ("shape", 3, Status.MODEL_ERROR, "the model returned logits of shape (1, 8), expected (1, 4)"),
        ("batch", 3, Status.MODEL_ERROR, "the model returned logits of shape (2, 4), expected (1, 4)"),
        ("raise", 3, Status.MODEL_ERROR, "the model failed during the run: RuntimeError: CUDA error: device-side assert"),
        ("not_tensor", 3, Status.MODEL_ERROR, "the model returned str, not a tensor of logits"),
        ("zero_grad", 1, Status.ZERO_GRADIENT, "the gradient is zero"),
        ("nan_grad", 1, Status.NONFINITE_GRADIENT, "the gradient is not finite (NaN or infinity)"),
    ],
)
def test_fault_midway_ends_with_its_status(tmp_path, tiny_image, fault, good, status, fragment):
    net = Faulty(fault, good=good)
    res = run(wrap(net), tiny_image, OPTS)
    assert res.status == status
    assert fragment in res.message
    assert not res.flipped
    finite_result(res)
    rec = exported(res, tmp_path)
    assert rec["status"] == status and rec["flipped"] is False


def test_nan_midway_result_is_consistent_and_finite(tiny_image):
    """A NaN after two steps ends the run; the result keeps the last good image and is finite. (Three good
    passes: the first classification, whose pass the first gradient reuses, and two steps.)"""
    res = run(wrap(Faulty("nan", good=3)), tiny_image, OPTS)
    assert res.status == Status.NONFINITE_OUTPUT
    assert len(res.steps) == 2 and res.steps[-1].l2 > 0
    assert res.l2 == pytest.approx(res.steps[-1].l2, rel=1e-5)  # progress before the fault is kept
    finite_result(res)
    assert np.isfinite(res.final_probabilities).all()


def test_nan_from_the_first_evaluation_is_a_model_error(tmp_path, tiny_image, capsys, monkeypatch):
    """No class exists to explain, as ``classify`` says: a ModelError, and on the command line one line, exit 2 and
    no result set (it wrote 8 files whose figure named "class 0 (n/a) -> class 0 (n/a)")."""
    from gradflip_desktop.core.images import save_png

    with pytest.raises(ModelError, match=r"^the model produced non-finite outputs \(NaN or infinity\) for this image$"):
        run(wrap(Faulty("nan", good=0)), tiny_image, OPTS)
    img = save_png(tmp_path / "in.png", tiny_image)
    monkeypatch.setattr(cli, "_load_model", lambda args: wrap(Faulty("nan", good=0)))
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "-q"])
    assert code == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == (
        "gradflip: error: the model produced non-finite outputs (NaN or infinity) for this image")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    "fault, fragment",
    [
        ("raise", "the model failed on this image: RuntimeError: CUDA error: device-side assert triggered (simulated)"),
        ("shape", "the model returned logits of shape (1, 8), expected (1, 4)"),
        ("not_tensor", "the model failed on this image: ModelError: the model returned str, not a tensor of logits"),
    ],
)
def test_fault_on_the_first_classification_is_a_model_error(tiny_image, fault, fragment):
    """No prediction exists yet, so there is no result to show: a ModelError with a user message."""
    with pytest.raises(ModelError) as info:
        run(wrap(Faulty(fault, good=0)), tiny_image, OPTS)
    assert str(info.value) == fragment


def test_healthy_model_after_a_faulty_run_still_works(tiny_image):
    """A failed run leaves nothing behind: the next run on a good model flips as usual."""
    run(wrap(Faulty("raise", good=3)), tiny_image, OPTS)
    res = run(wrap(Faulty("nan", good=10**9)), tiny_image, ExplainOptions(style="free", max_steps=200))
    assert res.status == Status.FLIPPED


def test_cli_explain_with_faulty_models(tmp_path, tiny_image, capsys, monkeypatch):
    from gradflip_desktop.core.images import save_png

    img = save_png(tmp_path / "in.png", tiny_image)
    # a fault midway: the run ends with its status, files are written, exit 1 (not flipped)
    monkeypatch.setattr(cli, "_load_model", lambda args: wrap(Faulty("raise", good=3)))
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "a"), "--mode", "fixed", "--epsilon", "0.002", "-q"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_NOT_FLIPPED
    assert "Traceback" not in err
    assert (tmp_path / "a" / "in.gradflip.json").exists()
    # a fault on the first classification: one clear line, exit 2
    monkeypatch.setattr(cli, "_load_model", lambda args: wrap(Faulty("raise", good=0)))
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "b"), "-q"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT
    assert err.strip() == (
        "gradflip: error: the model failed on this image: RuntimeError: CUDA error: device-side assert triggered (simulated)"
    )


@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize("fault, dtype", [("detached", "float32"), ("integer", "int64")])
def test_a_model_without_gradients_is_named_so_single_and_batched(tiny_image, fault, dtype, batch_size):
    """Not torch's "element 0 of tensors does not require grad" or an int64 overflow, but what is wrong."""
    from gradflip_desktop.core.explain.batch import BatchJob, explain_batched

    jobs = [BatchJob(i, lambda: tiny_image) for i in range(batch_size)]
    results = [r for _, r in explain_batched(wrap(Faulty(fault, good=1)), jobs, OPTS, batch_size=batch_size)]
    assert len(results) == batch_size
    for res in results:
        assert res.status == Status.MODEL_ERROR
        assert res.message.startswith(f"the model's class scores ({dtype}) carry no gradient with respect to the image")
        finite_result(res)
