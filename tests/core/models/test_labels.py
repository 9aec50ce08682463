"""Labels and class groups: labels files, index ranges, the packaged ImageNet labels and groups."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import labels as mf  # read_labels, as the tests before the split called it


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("l.txt", "cat\ndog\n\n", ["cat", "dog"]),
        ("l.json", json.dumps(["cat", "dog"]), ["cat", "dog"]),
        ("l.json", json.dumps({"labels": ["cat", "dog"]}), ["cat", "dog"]),
        ("l.json", json.dumps({"1": "dog", "0": "cat"}), ["cat", "dog"]),
        ("l.json", json.dumps({"0": ["n02123045", "tabby"], "1": ["n02085620", "Chihuahua"]}), ["tabby", "Chihuahua"]),
    ],
)
def test_label_file_formats(tmp_path, name, content, expected):
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    assert mf.read_labels(p) == expected


def test_label_file_errors(tmp_path):
    gap = tmp_path / "gap.json"
    gap.write_text(json.dumps({"0": "a", "2": "c"}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"class indices must run 0…1 without gaps"):
        mf.read_labels(gap)
    hole = tmp_path / "hole.txt"
    hole.write_text("a\n\nb\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"empty line 2"):
        mf.read_labels(hole)
    with pytest.raises(ModelError, match=r"labels file .*missing\.txt not found"):
        mf.read_labels(tmp_path / "missing.txt")


def test_labels_file_that_is_a_folder_or_not_utf8_says_which(tmp_path):
    with pytest.raises(ModelError, match=r"labels file .* is a folder; give the labels file inside it"):
        mf.read_labels(tmp_path)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café\nthé\n".encode("latin-1"))
    with pytest.raises(ModelError) as err:
        mf.read_labels(latin)
    assert str(err.value) == "labels file latin1.txt is not UTF-8 text (byte 0xe9 at position 3); save it with UTF-8 encoding"



def test_parse_ranges_expands_sorts_and_bounds():
    from gradflip_desktop.core.models.labels import MAX_RANGE, parse_ranges

    assert parse_ranges("281-285, 290") == [281, 282, 283, 284, 285, 290]
    assert parse_ranges("5;3,3,1-2") == [1, 2, 3, 5]
    # with a class count, a range past the end keeps one out-of-range index for the caller's message
    assert parse_ranges("8-99999999999", limit=10) == [8, 9, 99999999999]
    for bad in ("", "a", "5-3", " , "):
        with pytest.raises(ValueError):
            parse_ranges(bad)
    with pytest.raises(ValueError, match="a range of more than"):
        parse_ranges(f"0-{MAX_RANGE}")


def test_format_ranges_is_the_inverse_of_parse_ranges():
    from gradflip_desktop.core.models.labels import format_ranges, parse_ranges

    assert format_ranges([285, 281, 282, 283, 284, 290, 7]) == "7,281-285,290"
    assert format_ranges([3]) == "3" and format_ranges([]) == ""
    for text in ("0-4,9", "151-268", "1,3,5-6"):
        assert format_ranges(parse_ranges(text)) == text


def test_packaged_imagenet_labels_and_groups():
    from gradflip_desktop.core.models.labels import IMAGENET_GROUPS, imagenet_labels

    labels = imagenet_labels()
    assert len(labels) == 1000 and labels[0] == "tench" and labels[281] == "tabby"
    assert IMAGENET_GROUPS["cat"] == [281, 282, 283, 284, 285]
    assert len(IMAGENET_GROUPS["dog"]) == 118 and IMAGENET_GROUPS["dog"][0] == 151
    assert all(0 <= i < 1000 for idx in IMAGENET_GROUPS.values() for i in idx)



@pytest.mark.parametrize(
    "name, content",
    [
        ("idx.txt", "{0: 'red',\n 1: 'green, light',\n 2: \"blue\"}\n"),  # imagenet1000_clsidx_to_labels.txt's form
        ("h.csv", "index,label\n0,red\n1,\"green, light\"\n2,blue\n"),
        ("nh.csv", "2,blue\n0,red\n1,\"green, light\"\n"),
        ("row.csv", "red,\"green, light\",blue\n"),
        ("t.tsv", "id\tname\n0\tred\n1\tgreen, light\n2\tblue\n"),
        ("keras.json", json.dumps({"blue": 2, "red": 0, "green, light": 1})),
        ("config.json", json.dumps({"id2label": {"0": "red", "1": "green, light", "2": "blue"}, "num_labels": 3})),
    ],
)
def test_label_files_with_indices_in_common_layouts(tmp_path, name, content):
    """These came out as labels "{0: 'red',", "0,red" (and "5 labels were given" for the header), or were refused
    as "keys must be class indices" (a label → index mapping, a config's id2label)."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert mf.read_labels(path) == ["red", "green, light", "blue"]


def test_a_labels_path_that_is_a_pipe_or_device_is_not_called_missing(tmp_path):
    """--labels /dev/zero or a named pipe said "not found" although the path exists."""
    import os

    pipe = tmp_path / "labels.txt"
    os.mkfifo(pipe)
    for path in (pipe, "/dev/zero"):
        with pytest.raises(ModelError, match=r"is not a regular file$"):
            mf.read_labels(path)
    with pytest.raises(ModelError, match=r"not found$"):
        mf.read_labels(tmp_path / "missing.txt")


def test_a_json_labels_file_nested_too_deeply_is_refused_as_bad_json(tmp_path):
    """``[[[…`` 100,000 deep: json.loads raised RecursionError past ``except JSONDecodeError`` (an internal error)."""
    p = tmp_path / "deep.json"
    p.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON: nested too deeply"):
        mf.read_labels(p)


def test_a_utf16_labels_file_with_its_byte_order_mark_is_read(tmp_path):
    """Windows PowerShell 5's `>` and Out-File, and Notepad's "Unicode", write UTF-16 with a BOM: it was refused as
    "not UTF-8 text (byte 0xff at position 0)"."""
    p = tmp_path / "l.txt"
    p.write_text("chat é\ndog\n", encoding="utf-16")
    assert mf.read_labels(p) == ["chat é", "dog"]
    j = tmp_path / "l.json"
    j.write_text(json.dumps(["a", "b"]), encoding="utf-16-be")
    j.write_bytes(b"\xfe\xff" + j.read_bytes())
    assert mf.read_labels(j) == ["a", "b"]


def test_utf16_without_a_byte_order_mark_is_refused_not_read_as_labels_full_of_nuls(tmp_path):
    """UTF-16-LE without a BOM is valid UTF-8 byte for byte: "c\\0a\\0t\\0" became the labels (shown as garbage in the
    figure, the CSV and the gallery), or the count came out one too many ("11 labels were given")."""
    p = tmp_path / "l.txt"
    p.write_bytes("cat\ndog".encode("utf-16-le"))
    with pytest.raises(ModelError, match="NUL characters .UTF-16 text without a byte-order mark"):
        mf.read_labels(p)


def test_a_huge_labels_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A 1 GB file given as labels (a wrong path: weights, a video) was read whole and decoded: 18 s and 2.8 GB of
    memory before "holds NUL characters". Its size refuses it first, without reading it."""
    big = tmp_path / "classes.txt"
    with open(big, "wb") as fh:
        fh.truncate((64 << 20) + 1)  # sparse: no disk used
    monkeypatch.setattr(type(big), "read_bytes", lambda self: pytest.fail("read the whole file"))
    with pytest.raises(ModelError, match=r"^labels file classes\.txt is 64 MB, too large for class names"):
        mf.read_labels(big)


def test_class_indices_refuse_booleans_fractions_and_non_lists():
    """A group given as a list in Python or a settings file: true was class 1 to Python, 2.5 class 2, and a lone
    ``group=5.5`` (or a dict) ended the run with "'float' object is not iterable" instead of a ModelError."""
    assert mf.class_indices([3, 1, 1.0, "2", np.int64(4)]) == [1, 2, 3, 4]
    assert mf.class_indices(np.int64(5)) == [5] and mf.class_indices(range(2)) == [0, 1]
    for bad in ([True], True, [2.5], 2.5, [None], {"a": 1}, "1", np.array([True]), [float("nan")]):
        with pytest.raises(ModelError, match="is not a list of class indices"):
            mf.class_indices(bad)



def test_a_range_of_one_class_is_that_class():
    """"5-5" is class 5, not a range "running backwards" (mutation audit: refusing equal ends survived)."""
    from gradflip_desktop.core.models.labels import parse_ranges

    assert parse_ranges("5-5") == [5]
    assert parse_ranges("9-9", limit=10) == [9]


def test_lines_that_look_like_dict_entries_without_the_dicts_brace_are_labels_as_written(tmp_path):
    """Only a Python dict ("{0: 'tench', …") is read as index: label entries; lines without its opening brace are
    one label each, as written (mutation audit: dropping the brace check survived)."""
    path = tmp_path / "l.txt"
    path.write_text("0: 'cat'\n1: 'dog'\n", encoding="utf-8")
    assert mf.read_labels(path) == ["0: 'cat'", "1: 'dog'"]
    path.write_text("{0: 'cat',\n1: 'dog'}\n", encoding="utf-8")
    assert mf.read_labels(path) == ["cat", "dog"]


def test_an_index_to_number_mapping_is_read_by_its_indices(tmp_path):
    """{"0": 7, "1": 3}: class indices as keys, labels that are numbers; read as index → label (class 0 is "7"), not as
    Keras' label → index (mutation audit: dropping the digit-keys check survived; it read the mapping backwards)."""
    path = tmp_path / "l.json"
    path.write_text(json.dumps({"0": 7, "1": 3}), encoding="utf-8")
    assert mf.read_labels(path) == ["7", "3"]
    path.write_text(json.dumps({"cat": 1, "dog": 0}), encoding="utf-8")  # Keras' class_indices stays label → index
    assert mf.read_labels(path) == ["dog", "cat"]


def test_a_negative_index_is_kept_for_the_callers_out_of_range_message():
    """"-3" is class -3 (then refused by the model's class count, naming it), not a malformed range (mutation audit:
    reading its minus sign as a range survived; it became "… is not a list of class indices")."""
    from gradflip_desktop.core.models.files.spec import checked_groups, parse_groups
    from gradflip_desktop.core.models.labels import parse_ranges

    assert parse_ranges("-3, 2") == [-3, 2]
    with pytest.raises(ModelError, match=r"^class group 'g' lists class -3, but m\.pt has only 5 classes \(0–4\)$"):
        checked_groups(parse_groups({"g": "-3"}), 5, "m.pt")
