"""GradFlip's error types (core/errors.py)."""

from __future__ import annotations

import pickle

from gradflip_desktop.core.errors import DiskFullError, ModelSettingError, ResultExistsError, json_loads


def test_errors_with_attributes_survive_a_pickle():
    """A Ray actor's error reaches the driver pickled: ModelSettingError could not be unpickled (its setting is a
    required argument), so --ray lost "use --device cpu" / "use --arch …"."""
    setting = pickle.loads(pickle.dumps(ModelSettingError("no CUDA GPU", setting="device", suggestions=("cpu",))))
    assert type(setting) is ModelSettingError and str(setting) == "no CUDA GPU"
    assert (setting.setting, setting.suggestions) == ("device", ["cpu"])
    exists = pickle.loads(pickle.dumps(ResultExistsError("cat.png exists", existing=["cat.png"])))
    assert isinstance(exists, FileExistsError) and str(exists) == "cat.png exists" and exists.existing == ["cat.png"]
    assert str(pickle.loads(pickle.dumps(DiskFullError("disk full")))) == "disk full"


def test_json_nested_too_deeply_is_a_json_error_like_any_bad_json():
    import json

    import pytest

    assert json_loads('{"a": [1]}') == {"a": [1]}
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        json_loads("[" * 100_000 + "]" * 100_000)


def test_files_exist_counts_in_words():
    from gradflip_desktop.core.errors import files_exist

    assert files_exist(1) == "1 result file already exists"  # was "1 result file(s) already exist"
    assert files_exist(7, " for 'cat'") == "7 result files for 'cat' already exist"


def test_a_non_utf8_name_reads_alike_in_every_message():
    """``classify`` printed b"caf\\xe9.png" as "caf\\udce9.png" (one_line escaped the surrogate) while ``explain``'s
    lines and the result sets said "caf\ufffd.png"."""
    from pathlib import Path

    from gradflip_desktop.core.errors import one_line

    assert one_line(Path("d/caf\udce9.png")) == "d/caf\ufffd.png"
    assert one_line("a\ud800b") == "a\\ud800b"  # a lone surrogate that is no file name's byte stays escaped


def test_an_optional_package_s_hint_fits_where_it_is_read(monkeypatch):
    """The desktop bundle told its user to `pip install torchvision`, which cannot be added to a bundle."""
    import sys

    from gradflip_desktop.core.errors import install_hint

    assert install_hint("torchvision", "torchvision") == "pip install torchvision (GradFlip's extra 'torchvision')"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    hint = install_hint("torchvision", "torchvision")
    assert hint.startswith("the desktop bundle does not include torchvision") and "pip install" not in hint


def test_a_name_with_a_line_or_paragraph_separator_stays_on_one_line():
    from gradflip_desktop.core.errors import one_line

    assert one_line("a\u2028b\u2029c\nd") == "a\\u2028b\\u2029c\\nd"
    assert one_line("caf\u00e9\u3000x") == "caf\u00e9\u3000x"  # another script's space stays
