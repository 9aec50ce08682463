"""End-to-end fixtures: the real default model (loaded once per session) and the bundled cat photo."""

import pytest

from gradflip_desktop.core.images import load_image
from gradflip_desktop.core.models import load_default_model
from gradflip_desktop.core.resources import sample_image_path


@pytest.fixture(scope="session")
def default_model():
    return load_default_model()


@pytest.fixture(scope="session")
def chelsea():
    return load_image(sample_image_path())
