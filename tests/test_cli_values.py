"""The command line's option values and notes (cli_values.py), value by value: tests/test_cli.py runs them through
whole commands. Each test here was written for a mutant of cli_values.py that those let through (hand-made mutation
audit "mutF", 2026-12-06)."""

from __future__ import annotations

from types import SimpleNamespace

from gradflip_desktop import cli_values as v


# VAL-05 (a group named "-dogs" written "--group -dogs", read as another option)
def test_the_group_hint_writes_a_name_that_starts_with_a_dash_after_an_equals_sign():
    rec = {"flipped": True, "original": {"index": 1, "label": "dalmatian"}, "final": {"index": 2, "label": "Great Dane"},
           "explained": {"indices": [1]}}
    assert v.group_hint(SimpleNamespace(groups={"-dogs": [1, 2]}), rec) == (
        "gradflip: hint: dalmatian and Great Dane are both in the group '-dogs': --group=-dogs explains \"any -dogs\" instead")
    assert v.group_hint(SimpleNamespace(groups={"dogs": [1, 2]}), rec).endswith(": --group dogs explains \"any dogs\" instead")


# VAL-07 (a 1-pixel-high input called one pixel): the tiny-input note names what the model sees
def test_the_tiny_input_note_names_what_the_model_sees():
    assert v.tiny_input_note(SimpleNamespace(input_size=(1, 4))) == (
        "the model's input is 4×1 px: every photo reaches it as 4×1 pixels, so its answers say little about what a photo shows")
    assert "reaches it as one pixel (about its mean colour)," in v.tiny_input_note(SimpleNamespace(input_size=(1, 1)))


# VAL-08 (a factor equal to the image's side not noted): --coarse as large as the working image is one block
def test_a_coarse_factor_as_large_as_the_image_is_noted():
    def notes(f):
        return v.outcome_notes({"options": {"coarse": f, "style": "free"}, "image": {"working_size": [32, 24]}})

    assert notes(32) == ["--coarse 32 is at least the 32×24 px working image: the change is one block, the same over the "
                         "whole photo (a factor under 32 keeps more than one)"]
    assert notes(31) == []
