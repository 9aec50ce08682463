"""The fixed list of real photos the benchmarks use: photos that ship inside installed packages.

    from benchmarks.photos import benchmark_photos, to_input
    for name, arr in benchmark_photos():   # uint8 H x W x 3 (greyscale photos as three equal channels)
        x = to_input(arr)                  # float32 224 x 224 x 3 in [0, 1]

The list is fixed (no "whatever happens to be installed"): a photo that cannot be loaded raises
``PhotoMissing`` naming it and the package to install, so a benchmark never silently runs on fewer
photos. Sources: scikit-image ``skimage.data`` (bundled, no download) and scikit-learn
``load_sample_images`` (bundled).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHOTOS", "PhotoMissing", "benchmark_photos", "load_photo", "to_input"]

# (name, source): every entry must load, in this order
PHOTOS: tuple[tuple[str, str], ...] = (
    ("chelsea", "skimage"),  # a cat
    ("coffee", "skimage"),  # a cup of coffee
    ("astronaut", "skimage"),  # Eileen Collins
    ("rocket", "skimage"),  # a rocket on its launch pad
    ("immunohistochemistry", "skimage"),  # stained tissue
    ("retina", "skimage"),  # a fundus photo
    ("hubble_deep_field", "skimage"),  # galaxies
    ("camera", "skimage"),  # a photographer (greyscale)
    ("china", "sklearn"),  # a temple
    ("flower", "sklearn"),  # a flower
)


class PhotoMissing(RuntimeError):
    """A benchmark photo could not be loaded (package missing or too old)."""


def load_photo(name: str, source: str) -> np.ndarray:
    """One photo as uint8 H x W x 3."""
    try:
        if source == "skimage":
            import skimage.data

            arr = getattr(skimage.data, name)()
        elif source == "sklearn":
            from sklearn.datasets import load_sample_image

            arr = load_sample_image(f"{name}.jpg")
        else:
            raise PhotoMissing(f"unknown photo source {source!r}")
    except PhotoMissing:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure means the fixed list is incomplete
        pkg = {"skimage": "scikit-image", "sklearn": "scikit-learn"}.get(source, source)
        raise PhotoMissing(f"benchmark photo {name!r} could not be loaded from {pkg} ({type(exc).__name__}: {exc}); "
                           f"install it with: pip install {pkg}") from exc
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] < 3 or arr.dtype != np.uint8:
        raise PhotoMissing(f"benchmark photo {name!r} has an unexpected shape/type {arr.shape} {arr.dtype}")
    return np.ascontiguousarray(arr[..., :3])


def benchmark_photos(limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """The fixed photo list as (name, uint8 H x W x 3); raises :class:`PhotoMissing` if any is missing."""
    chosen = PHOTOS if limit is None else PHOTOS[:limit]
    return [(name, load_photo(name, source)) for name, source in chosen]


def to_input(arr: np.ndarray, size: int = 224) -> np.ndarray:
    """Resize (bilinear, whole photo, aspect not kept: the default model's own preprocessing) to
    ``size`` x ``size``; float32 H x W x 3 in [0, 1]."""
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(arr[..., :3])).convert("RGB")
    im = im.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 255.0
