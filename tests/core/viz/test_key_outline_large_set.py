import numpy as np


def test_a_key_set_over_most_of_the_photo_is_not_tinted():
    from gradflip_desktop.core.viz.difference import key_outline

    rng = np.random.default_rng(0)
    mask = rng.random((300, 450)) < 0.85  # as a textbook change's key pixels: 85 % of the photo
    rgba = key_outline(mask, width=1, radius=0)
    assert (rgba[..., 3][mask & (rgba[..., 3] < 255)] == 0).all()  # no wash over the Original
    few = np.zeros((300, 450), bool)
    few[100:110, 100:110] = True
    assert (key_outline(few, width=1, radius=0)[few][:, 3] == 90).all()  # a few pixels are still tinted


def test_a_key_set_that_closes_over_nearly_the_whole_photo_is_not_outlined():
    """The sample cat's "any cat" textbook change: key pixels on 50 % of it, closed into a region of 99 %; the
    Original showed four small red boxes, each around a hole of pixels that are not key."""
    from gradflip_desktop.core.viz.difference import key_outline, key_region

    rng = np.random.default_rng(0)
    mask = rng.random((300, 450)) < 0.5
    mask[100:115, 200:215] = mask[240:250, 40:60] = False  # two holes the closing keeps
    assert key_region(mask).mean() > 0.9
    assert (key_outline(mask)[..., 3] == 0).all()  # no line around the holes, no tint over half the photo
    half = np.zeros((300, 450), bool)
    half[:, :200] = True  # a region over less of it is still outlined
    assert (key_outline(half)[..., 3] == 255).any()
