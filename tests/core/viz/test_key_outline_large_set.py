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
