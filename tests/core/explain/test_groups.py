"""Group runs ("any cat") and the stuck adaptive search (core/explain/objective.py, search.py).

A group's log-odds can keep falling while one of its classes stays on top (the probability spreads over the
many other classes): the search then switches to the decision margin, and only when the adaptive rule has
got stuck; runs that progress are unchanged.
"""

from __future__ import annotations

import pytest
import torch

from gradflip_desktop.core.explain import run, search
from gradflip_desktop.core.explain.objective import Objective
from gradflip_desktop.core.options import ExplainOptions, Status
from helpers import make_tiny, tiny_image_array

CLASSES = 20


def logits(group: tuple[float, float], others: float) -> torch.Tensor:
    z = torch.full((1, CLASSES), float(others))
    z[0, 0], z[0, 1] = group
    return z


def objective(explained, target=None) -> Objective:
    clf = make_tiny(classes=CLASSES)
    return Objective(clf, explained, target, torch.zeros(1, 3, 16, 16))


def test_a_group_below_half_the_probability_but_on_top_switches_to_the_margin():
    z = logits((2.0, 1.9), 1.5)  # 18 others at 1.5: the group's log-odds is < 0, class 0 is still on top
    obj = objective([0, 1])
    assert float(obj.score(z)[0]) < 0 and not obj.flipped(z)
    assert float(obj.loss(z)[0]) == pytest.approx(float(obj.score(z)[0]))
    assert obj.switch_to_margin(z) is True
    assert float(obj.loss(z)[0]) == pytest.approx(0.5)  # best group logit 2.0 - best other 1.5
    assert obj.switch_to_margin(z) is False  # once


@pytest.mark.parametrize(
    "explained, target, z",
    [
        ([0], None, logits((2.0, 1.9), 1.5)),  # a single class keeps the log-odds
        ([0, 1], 5, logits((2.0, 1.9), 1.5)),  # targeted runs keep theirs
        ([0, 1], None, logits((4.0, 3.9), 1.5)),  # the group still holds most of the probability
        ([0, 1], None, logits((1.0, 0.9), 1.5)),  # already flipped
    ],
)
def test_no_switch_otherwise(explained, target, z):
    obj = objective(explained, target)
    before = float(obj.loss(z)[0])
    assert obj.switch_to_margin(z) is False and not obj.by_margin
    assert float(obj.loss(z)[0]) == before


def test_a_stuck_adaptive_region_search_continues_in_whole_steps(monkeypatch):
    """Every adaptive step rejected (a rough score): the region style's search is rescued and flips with
    whole steps of ε once ε has shrunk STUCK-fold; so is the free style's (any pixel can change), with whole
    steps of the longest ε an adaptive step was accepted at: none was, so the run's ε."""
    clf = make_tiny()
    img = tiny_image_array()
    monkeypatch.setattr(search, "adapt", lambda eps, predicted, actual: (eps * search.REJECT, False))
    res = run(clf, img, ExplainOptions(key_pixels=False))
    assert res.status == Status.FLIPPED
    steps = [s for s in res.steps if s.phase == "search"]
    rejected = [s for s in steps if not s.accepted]
    # 0.5^3 = STUCK: the 4th rejection's ε is below it, then whole steps of the run's ε, all accepted
    assert len(rejected) == 4 and all(not s.accepted for s in steps[:4])
    assert all(s.accepted and s.epsilon == pytest.approx(res.options.epsilon) for s in steps[4:])
    assert len(steps) > 4
    free = run(clf, img, ExplainOptions(style="free", key_pixels=False))
    assert free.status == Status.FLIPPED
    steps = [s for s in free.steps if s.phase == "search"]
    assert [s.accepted for s in steps[:4]] == [False] * 4
    assert all(s.accepted and s.epsilon == pytest.approx(free.options.epsilon) for s in steps[4:]) and len(steps) > 4


def test_progressing_group_runs_are_unchanged(monkeypatch):
    clf = make_tiny()
    img = tiny_image_array()
    base = run(clf, img, ExplainOptions(group="low", key_pixels=False))
    monkeypatch.setattr(Objective, "switch_to_margin", lambda self, z: False)
    plain = run(clf, img, ExplainOptions(group="low", key_pixels=False))
    assert base.status == plain.status == Status.FLIPPED
    assert [s.score for s in base.steps] == [s.score for s in plain.steps]


def test_no_rescue_when_even_the_fully_detail_removed_image_does_not_flip(monkeypatch):
    """No fill-in flips the photo: a flip is out of reach, so a stuck search stalls quickly as before
    instead of spending the whole budget in whole steps."""
    from gradflip_desktop.core.explain.mask import MaskCoordinates

    clf = make_tiny()
    img = tiny_image_array()
    monkeypatch.setattr(search, "adapt", lambda eps, predicted, actual: (eps * search.REJECT, False))
    real = MaskCoordinates.choose_fill
    monkeypatch.setattr(MaskCoordinates, "choose_fill", lambda self, obj, stop=None: real(self, obj, stop) and False)
    res = run(clf, img, ExplainOptions(key_pixels=False))
    assert res.status == Status.STALLED
    assert all(not s.accepted for s in res.steps if s.phase == "search")


def test_a_flipped_group_run_names_the_group_in_its_message():
    """The record's and the status bar's message of a group run says the group flipped ("any low"), not only
    its top class, as the sentence and the plot do; a single-class run names the class."""
    clf = make_tiny()
    img = tiny_image_array()
    group = run(clf, img, ExplainOptions(group="low", key_pixels=False))
    assert group.status == Status.FLIPPED and len(group.explained) > 1
    assert group.message == f"“any {group.explained_name}” flipped to “{group.final.label}”"
    single = run(clf, img, ExplainOptions(key_pixels=False))
    assert single.message == f"“{single.original.label}” flipped to “{single.final.label}”"


def test_a_stalled_region_search_removes_the_rest_of_the_detail_evenly_and_flips(monkeypatch):
    """Whole steps that never find a lower loss (here: every step goes uphill) ended the region style "stalled"
    although removing all the detail flips the decision (the bundled cat over the cats and big cats,
    --group 281-287). The search now goes from its lowest point to the fully detail-removed image in FADE
    even steps and flips there (or before)."""
    clf = make_tiny()
    img = tiny_image_array()
    real = search.direction
    monkeypatch.setattr(search, "adapt", lambda eps, predicted, actual: (eps * search.REJECT, False))
    monkeypatch.setattr(search, "direction", lambda grad, opts: -real(grad, opts))  # uphill: no lower loss
    res = run(clf, img, ExplainOptions(key_pixels=False, max_steps=200))
    assert res.status == Status.FLIPPED
    steps = [s for s in res.steps if s.phase == "search"]
    fade = [s for s in steps if s.accepted and s.epsilon == 0.0]
    assert 1 <= len(fade) <= search.FADE and steps[-1] is fade[-1] and fade[-1].flipped
    assert not any(s.flipped for s in steps[:-1])
    assert len(steps) - len(fade) >= search.PATIENCE  # the whole steps came first
    l2 = [s.l2 for s in fade]
    assert l2 == sorted(l2)  # ever more detail removed
    free = run(clf, img, ExplainOptions(style="free", key_pixels=False, max_steps=200))  # no image to fade to
    assert free.status == Status.STALLED
