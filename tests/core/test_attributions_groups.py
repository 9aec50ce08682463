"""Saliency and Grad-CAM of a class group (core/attributions.py): the log-sum-exp of the group's logits, checked
against captum on a forward function that returns that score (Compare Methods after "Explain 'any cat'")."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum import attr as captum_attr

from gradflip_desktop.core.attributions import feature_layer, gradcam_map, saliency_map
from gradflip_desktop.core.errors import ModelError

GROUP = [1, 2]


def _x(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None].clone().requires_grad_(True)


def _group_score(module):
    return lambda x: torch.logsumexp(module(x)[:, GROUP], 1, keepdim=True)


def test_saliency_of_a_group_is_the_gradient_of_its_log_sum_exp(tiny, tiny_image):
    ours = saliency_map(tiny, tiny_image, GROUP)
    ref = captum_attr.Saliency(_group_score(tiny.module)).attribute(_x(tiny_image), target=0, abs=True).sum(1)[0]
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-9)
    assert not np.allclose(ours, saliency_map(tiny, tiny_image, 1)) and not np.allclose(ours, saliency_map(tiny, tiny_image, 2))
    np.testing.assert_array_equal(saliency_map(tiny, tiny_image, [2]), saliency_map(tiny, tiny_image, 2))  # one: the class


def test_gradcam_of_a_group_is_its_log_sum_exp_s(tiny, tiny_image):
    _, layer = feature_layer(tiny.module)
    ours = gradcam_map(tiny, tiny_image, GROUP)
    gc = captum_attr.LayerGradCam(_group_score(tiny.module), layer)
    a = gc.attribute(_x(tiny_image), target=0, relu_attributions=True)
    ref = captum_attr.LayerAttribution.interpolate(a, tiny_image.shape[:2], "bilinear")[0, 0].detach().numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(gradcam_map(tiny, tiny_image, (1,)), gradcam_map(tiny, tiny_image, 1))


def test_an_empty_group_or_a_member_out_of_range_is_a_model_error(tiny, tiny_image):
    with pytest.raises(ModelError, match="the group is empty"):
        saliency_map(tiny, tiny_image, [])
    with pytest.raises(ModelError, match="out of range"):
        gradcam_map(tiny, tiny_image, [1, 9])
