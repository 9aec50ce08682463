"""The public API of ``gradflip_desktop.core``: the docstring's example runs, the names resolve lazily."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import gradflip_desktop.core as core
from gradflip_desktop.core.resources import sample_image_path


def _example_code() -> str:
    doc = core.__doc__
    block = doc.split("::", 1)[1].split("\n\n", 2)[1]
    lines = [line[4:] for line in block.splitlines()]
    assert len(lines) == 5, lines
    return "\n".join(lines)


def test_every_public_name_resolves():
    for name in core.__all__:
        assert getattr(core, name) is not None, name
    # an array given to run() is refused with a message that names from_array: it is public, beside load_image
    assert core.from_array.__module__ == "gradflip_desktop.core.images.pixels"
    with pytest.raises(AttributeError):
        core.no_such_name  # noqa: B018


def test_importing_core_and_options_imports_no_torch_nor_qt():
    code = (
        "import sys, gradflip_desktop.core, gradflip_desktop.core.options as o; o.ExplainOptions();"
        "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.e2e
def test_docstring_example_runs_on_the_sample(capsys):
    code = _example_code().replace('"cat.jpg"', repr(str(sample_image_path())))
    exec(compile(code, "<core docstring>", "exec"), {})
    out = capsys.readouterr().out.strip()
    status, rest = out.split(" ", 1)
    assert status == "flipped"
    original, final = rest.split(" -> ")
    assert original != final and re.search(r"cat", original)


def test_docstring_calls_name_every_required_argument():
    """A call written in the docstring's prose gives every argument the function requires."""
    import inspect

    for name in ("write_result_set", "load_image", "run"):
        for call in re.findall(rf"\b{name}\(([^)]*)\)", core.__doc__):
            given = [a for a in call.split(",") if a.strip()]
            required = [p for p in inspect.signature(getattr(core, name)).parameters.values()
                        if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
            assert len(given) >= len(required), (name, call, [p.name for p in required])


def test_the_readmes_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    """README's "From Python" block, run as written from the repository root (its photo path is relative to it),
    writing into a temporary folder: the result set appears and the check's sentence names the maps."""
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    text = (repo / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### From Python\n.*?```python\n(.*?)```", text, re.S).group(1)
    (tmp_path / "resources" / "samples").mkdir(parents=True)
    shutil.copy(repo / "resources" / "samples" / "chelsea.png", tmp_path / "resources" / "samples" / "chelsea.png")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("flipped Egyptian cat -> ") and out[1].startswith("key region ") and " alone -> " in out[1]
    assert "GradFlip" in out[2] and "Grad-CAM" in out[2]
    assert (tmp_path / "out" / "chelsea.gradflip.json").is_file() and (tmp_path / "out" / "chelsea.figure.png").is_file()
    # the set names its photo, as the CLI's does: `gradflip check out` and --resume need it
    import json

    rec = json.loads((tmp_path / "out" / "chelsea.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["source"].endswith("chelsea.png") and rec["image"]["original_size"] == [451, 300]


def test_wrong_arguments_are_one_readable_line(tiny, tiny_image):
    """Before: run(image, model) said "float() argument must be ... not 'Classifier'", a dict of options
    "'dict' object has no attribute 'validate'", gradcam_map(model, image, ...) float()'s words again and
    check_maps(..., "class0") "invalid literal for int() with base 10: 'c'"."""
    import numpy as np

    from gradflip_desktop.core import ExplainOptions, run
    from gradflip_desktop.core.attributions import gradcam_map, saliency_map
    from gradflip_desktop.core.faithfulness import check_maps
    from gradflip_desktop.core.images import from_array

    image = from_array(tiny_image)
    with pytest.raises(TypeError, match=r"^classifier must be a Classifier .*not ImageData \(the order is run\(classifier, image, options\)\)$"):
        run(image, tiny)
    with pytest.raises(TypeError, match=r"^options must be an ExplainOptions, not dict: write ExplainOptions\(\*\*options\)$"):
        run(tiny, image, {"max_steps": 3})
    with pytest.raises(TypeError, match=r"^target must be a class index or label, not float$"):
        saliency_map(tiny, tiny_image, 1.5)
    by_label, by_index = saliency_map(tiny, image, "class1"), saliency_map(tiny, tiny_image, 1)  # an ImageData, a label
    np.testing.assert_array_equal(by_label, by_index)
    with pytest.raises(TypeError, match=r"^pixels must be an H x W x 3 array in \[0, 1\] or an ImageData, not str$"):
        gradcam_map(tiny, "photo.png", 1)
    result = run(tiny, image, ExplainOptions(max_steps=20, key_pixels=False))
    label = tiny.label(result.original.index)
    check = check_maps(tiny, image, {"GradFlip": result.importance_map()}, label, points=3)
    assert check.explained == label and len(check.curves) == 1
    with pytest.raises(ValueError, match=r"^no map to check"):
        check_maps(tiny, image, {}, result.explained)
    # photo and model swapped; a list of maps (session 22: "'numpy.ndarray' object has no attribute 'num_classes'",
    # "'list' object has no attribute 'items'")
    for attribution in (gradcam_map, saliency_map):
        with pytest.raises(TypeError, match=r"^the first argument must be the model .*not ndarray; then the photo"):
            attribution(tiny_image, tiny, 1)
    with pytest.raises(TypeError, match=r"^maps must be a dict of name -> H x W map, .*not list$"):
        check_maps(tiny, image, [result.importance_map()], label, points=3)


def test_a_tensor_class_index_is_still_a_target(tiny, tiny_image):
    """saliency_map(clf, pixels, logits.argmax()) worked (int() of a 0-d tensor) before the argument checks."""
    import numpy as np
    import torch

    from gradflip_desktop.core.attributions import saliency_map

    np.testing.assert_array_equal(saliency_map(tiny, tiny_image, torch.tensor(1)), saliency_map(tiny, tiny_image, 1))
    np.testing.assert_array_equal(saliency_map(tiny, tiny_image, np.int64(1)), saliency_map(tiny, tiny_image, 1))
    with pytest.raises(TypeError, match=r"^target must be a class index or label, not Tensor$"):
        saliency_map(tiny, tiny_image, torch.tensor(1.0))


def test_classify_refuses_8_bit_and_grayscale_arrays_with_a_hint(tiny, tiny_image):
    """model.classify(uint8 photo) answered silently for a photo 255x too bright (another class), and a grayscale
    H x W array failed in torch's permute; run() already refused both."""
    import numpy as np

    from gradflip_desktop.core.images import from_array

    pixels = tiny_image.pixels if hasattr(tiny_image, "pixels") else np.asarray(tiny_image)
    tiny.classify(pixels, 1)  # floats in [0, 1]: fine
    u8 = (pixels * 255).round().astype(np.uint8)
    for bad, words in ((u8, "floats in [0, 1]"), (u8.astype(np.float32), "divide by 255"),
                       (pixels[..., 0], "H x W x 3")):
        with pytest.raises(ValueError, match=re.escape(words)):
            tiny.classify(bad, 1)
    assert tiny.classify(from_array(u8).pixels, 1)[0].index == tiny.classify(pixels, 1)[0].index


def test_classify_refuses_empty_negative_complex_and_non_finite_arrays(tiny, tiny_image):
    """model.classify(-1..1 array) answered as if it were a photo; an empty array failed in torch's interpolate
    ("Input and output sizes should be greater than 0"); NaN pixels were blamed on the model ("the model produced
    non-finite outputs"); a complex array lost its imaginary part with only a numpy warning."""
    import numpy as np

    pixels = tiny_image.pixels if hasattr(tiny_image, "pixels") else np.asarray(tiny_image)
    nan = pixels.copy()
    nan[0, 0, 0] = np.nan
    for bad, words in ((pixels * 2 - 1, "values down to -"), (pixels[:0], "at least one pixel"),
                       (nan, "NaN or infinity"), (pixels.astype(np.complex64), "complex64")):
        with pytest.raises(ValueError, match=re.escape(words)):
            tiny.classify(bad, 1)


def test_pixels_that_are_no_image_raise_an_error_of_gradflip_that_is_a_value_error_too():
    """``except GradFlipError`` missed a grayscale array, channels first, 0-255 floats or NaN given to run() (plain
    ValueErrors, a library user's check, 2026-12-07); a ValueError they stay."""
    import numpy as np

    from helpers import make_tiny

    clf = make_tiny()
    bad = {"grayscale": np.zeros((8, 8), np.float32), "channels first": np.zeros((3, 8, 8), np.float32),
           "levels": np.full((8, 8, 3), 200.0, np.float32), "NaN": np.full((8, 8, 3), np.nan, np.float32),
           "a file's bytes": b"\x89PNG\r\n\x1a\n"}  # (a path is loaded: test_run.py)
    for what, pixels in bad.items():
        with pytest.raises(core.GradFlipError) as raised:
            core.run(clf, pixels)
        assert isinstance(raised.value, (core.ImageError, ValueError)) and isinstance(raised.value, core.PixelsError), what
        with pytest.raises(ValueError):
            clf.probabilities(pixels if what != "a file's bytes" else np.zeros((8, 8), np.float32))
        with pytest.raises(core.PixelsError):
            clf.probabilities(pixels if what != "a file's bytes" else np.zeros((8, 8), np.float32))
