"""record_match: whether a result set on disk is an input's as made now (``--resume``'s changed photo, other
settings, other image)."""

from __future__ import annotations

import os

from gradflip_desktop.core.dataset.inputs import Input, file_fingerprint
from gradflip_desktop.core.dataset.record_match import changed_file, made_otherwise, other_image


def test_a_photo_rewritten_to_the_same_size_is_changed_and_one_only_touched_is_not(tmp_path):
    photo = tmp_path / "cat.png"
    photo.write_bytes(b"A" * 64)
    rec = {"image": {"file": file_fingerprint(photo)}}
    inp = Input(photo, "cat")
    assert not changed_file(rec, inp)
    st = os.stat(photo)
    photo.write_bytes(b"B" * 64)  # the same size, other bytes, a later time: the digest decides
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert changed_file(rec, inp)
    photo.write_bytes(b"A" * 64)  # the bytes back, another time: unchanged
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns + 9_000_000_000))
    assert not changed_file(rec, inp)
    # same size and time: unchanged without reading it (a record's digest is not checked then)
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not changed_file({"image": {"file": {**rec["image"]["file"], "sha256": "0" * 64}}}, inp)


def test_a_working_size_off_by_a_pixel_of_rounding_is_the_same_and_two_is_not():
    rec = {"image": {"original_size": [1000, 750], "working_size": [512, 384]}}
    assert made_otherwise(rec, None, None, 512) == ""
    assert made_otherwise({"image": {"original_size": [1000, 750], "working_size": [513, 383]}}, None, None, 512) == ""
    assert made_otherwise({"image": {"original_size": [1000, 750], "working_size": [512, 386]}}, None, None, 512) == (
        "working size 512×386 px, not 512×384 px")
    assert made_otherwise(rec, None, None, None) == "working size 512×384 px, not 1000×750 px"  # no limit now


def test_a_record_of_another_file_name_is_another_image_even_when_that_file_is_gone(tmp_path):
    photo = tmp_path / "cat.png"
    photo.write_bytes(b"x")
    inp = Input(photo, "cat")
    gone = str(tmp_path / "elsewhere" / "dog.png")
    assert other_image({"image": {"source": gone}}, inp) == gone
    assert other_image({"image": {"source": str(tmp_path / "elsewhere" / "cat.png")}}, inp) == ""  # moved: kept
    assert other_image({"image": {"source": str(photo)}}, inp) == ""
    assert other_image({"image": {}}, inp) == ""
