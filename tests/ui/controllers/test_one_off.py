"""A link of the answer chooses for this photo only (ui/controllers/one_off.py): the panel shows what ran, the
user's own choice is what is saved, and the next photo starts from it again."""

from __future__ import annotations

from dataclasses import replace

from gradflip_desktop.ui.controllers.one_off import OneOffChoice
from gradflip_desktop.ui.settings import RunSettings


def test_a_link_choice_is_not_saved_and_ends_with_the_photo():
    mine = RunSettings(style="region", target_mode="top", group="dog", epsilon=0.001)
    one = OneOffChoice()
    shown = one.apply(mine, target_mode="group", group="cat")
    assert (shown.target_mode, shown.group, shown.epsilon) == ("group", "cat", 0.001)
    assert one.to_save(shown) == mine  # the panel shows the link's choice; the user's is what is saved
    shown = one.apply(shown, style="free")  # a second link: the first one's "before" is kept
    assert one.to_save(shown) == mine
    assert one.next_photo(shown) == mine
    assert one.next_photo(mine) is None and one.to_save(shown) == shown  # forgotten once used


def test_a_field_the_user_changed_since_is_theirs():
    mine = RunSettings(style="region")
    one = OneOffChoice()
    shown = one.apply(mine, style="free")
    edited = replace(shown, style="blur", epsilon=0.002)  # the user picked a style in the panel after the link
    assert one.to_save(edited) == edited
    assert one.next_photo(edited) is None


def test_no_link_changes_nothing():
    s = RunSettings(style="free", target_mode="group", group="cat")
    one = OneOffChoice()
    assert one.to_save(s) == s and one.next_photo(s) is None


def test_a_link_after_the_user_took_the_panel_over_gives_back_their_latest_choice():
    """Key region, "Textbook change", then Blur per pixel picked in the panel, then "Textbook change" again: the next
    photo started in the key-region style (the first link's "before"), not in the user's latest choice."""
    one = OneOffChoice()
    shown = one.apply(RunSettings(style="region"), style="free")
    shown = one.apply(replace(shown, style="blur"), style="free")
    assert one.to_save(shown).style == "blur" and one.next_photo(shown).style == "blur"


def test_a_group_the_user_picks_after_the_link_stays_theirs():
    """"Explain any cat", then "any bird" chosen in the group box: the next photo went back to the top class."""
    one = OneOffChoice()
    shown = one.apply(RunSettings(target_mode="top", group="dog"), target_mode="group", group="cat")
    mine = replace(shown, group="bird")
    assert one.next_photo(mine) is None and one.to_save(mine) == mine


def test_forget_drops_the_choice():
    one = OneOffChoice()
    shown = one.apply(RunSettings(style="free"), style="region")
    one.forget()  # Reset: the panel's values (the defaults) are the user's
    assert one.to_save(shown) == shown and one.next_photo(shown) is None
