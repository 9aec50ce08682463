"""A finished explanation read back from disk: its result set plus a small side file, so a gallery can show
it again (all views, the plot, the key region) without keeping every result in memory.

    save_extras(result, extras_path)                   # after write_result_set(result, out, name)
    result = load_result(out, name, pixels, extras_path)  # pixels: the photo, loaded as for the run

The result set holds the record, the saved 8-bit image, the change and the importance map; the side file
(``.npz``, read with ``allow_pickle=False``: no code is ever unpickled) holds what the set does not: every
step's probabilities, the probabilities before and after, the key region's ranking, the key pixels'
ranking, the blur amount and the labels. The original pixels are not stored: the caller loads the photo
again exactly as the run did (same working size); nor is the detail-removed copy when it is one of the
region style's fill-ins recomputed bit for bit from the photo (checked when saving; else it is stored).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import json_loads
from ..images import atomic_write_bytes, safe_formats
from ..images.loading import read_regular
from ..options import ExplainOptions, Status
from ..report import result_paths
from ..results import ExplainResult, KeyPixels, KeyRegion, Step

__all__ = ["load_result", "save_extras"]

_STEP_FLOATS = ("epsilon", "score", "l2", "linf")


def save_extras(result: ExplainResult, path: str | os.PathLike) -> Path:
    """Write the side file of ``result`` to ``path`` (atomically, overwriting)."""
    import io  # noqa: PLC0415

    steps = result.steps
    arrays: dict[str, np.ndarray] = {
        "step_index": np.asarray([s.index for s in steps], dtype=np.int64),
        "step_floats": np.asarray([[getattr(s, f) for f in _STEP_FLOATS] for s in steps], dtype=np.float64).reshape(-1, 4),
        "step_flags": np.asarray([[s.flipped, s.accepted] for s in steps], dtype=bool).reshape(-1, 2),
        "step_phase": np.asarray([s.phase for s in steps], dtype=str),
        "step_probabilities": (np.stack([s.probabilities for s in steps]).astype(np.float32) if steps
                               else np.zeros((0, len(result.original_probabilities)), np.float32)),
        "original_probabilities": np.asarray(result.original_probabilities, dtype=np.float32),
        "final_probabilities": np.asarray(result.final_probabilities, dtype=np.float32),
        "labels": np.asarray(result.labels, dtype=str),
        "has_region_map": np.asarray(result.region_map is not None),
    }
    if result.groups:  # a group run's: its sentence names the group the class it flips to is in
        import json  # noqa: PLC0415

        arrays["groups"] = np.asarray(json.dumps({str(k): [int(i) for i in v] for k, v in result.groups.items()}))
    if result.key_region is not None:
        arrays["region_ranking"] = np.asarray(result.key_region.ranking)
    if result.key_pixels is not None:
        arrays["key_pixels_ranking"] = np.asarray(result.key_pixels.ranking)
    if result.fill_pixels is not None:
        name = _fill_name(result.original_pixels, result.fill_pixels)
        if name is None:
            arrays["fill_pixels"] = np.asarray(result.fill_pixels, dtype=np.float32)
        else:
            arrays["fill_name"] = np.asarray(name, dtype=str)
    if result.blur_amount is not None:
        arrays["blur_amount"] = np.asarray(result.blur_amount, dtype=np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(p, buf.getvalue(), overwrite=True)


def _fills(pixels: np.ndarray):
    """(name, H x W x 3 float32) for each fill-in of the region style, computed from the photo as the run does."""
    import torch  # noqa: PLC0415

    from ..explain.mask import fill_ladder  # noqa: PLC0415

    x0 = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)).permute(2, 0, 1)[None]
    with torch.no_grad():
        for name, fill in fill_ladder(x0):
            yield name, fill[0].permute(1, 2, 0).numpy().astype(np.float32)


def _fill_name(pixels: np.ndarray, fill: np.ndarray) -> str | None:
    """The name of the fill-in that recomputes ``fill`` exactly from ``pixels``, or None."""
    for name, candidate in _fills(pixels):
        if candidate.shape == fill.shape and np.array_equal(candidate, fill):
            return name
    return None


def _prediction(d: dict | None):
    from ..models import Prediction  # noqa: PLC0415 - imports torch

    if not d:
        return None
    return Prediction(int(d["index"]), str(d["label"]), float(d["probability"]))


def _groups(stored) -> dict[str, list[int]]:
    """A side file's class groups (none in one written before they were stored, or a damaged one)."""
    try:
        d = json_loads(str(stored)) if stored is not None else {}
        return {str(k): [int(i) for i in v] for k, v in d.items()} if isinstance(d, dict) else {}
    except (ValueError, TypeError):
        return {}


def load_result(out_dir: str | os.PathLike, name: str, pixels: np.ndarray, extras: str | os.PathLike) -> ExplainResult:
    """The :class:`ExplainResult` of the complete result set ``name`` in ``out_dir`` with its side file
    ``extras``; ``pixels`` (H x W x 3 float32) is the photo as the run loaded it. Raises ``ValueError``
    when the files do not belong together (another size) and ``OSError`` when one is missing."""
    paths = result_paths(out_dir, name)
    rec = json_loads(read_regular(paths[".gradflip.json"]).decode("utf-8"))
    delta = np.load(paths[".delta.npy"], allow_pickle=False).astype(np.float32)
    importance = np.load(paths[".importance.npy"], allow_pickle=False).astype(np.float32)
    from PIL import Image  # noqa: PLC0415

    with Image.open(paths[".adjusted.png"], formats=safe_formats()) as im:
        adjusted_uint8 = np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    pixels = np.asarray(pixels, dtype=np.float32)
    for shape in (delta.shape, adjusted_uint8.shape):  # the one that differs is named ("for a 32×24 image, not 32×24")
        if shape != pixels.shape:
            raise ValueError(f"the results of {name!r} are for a {shape[1]}×{shape[0]} image, "
                             f"not {pixels.shape[1]}×{pixels.shape[0]}")
    with np.load(extras, allow_pickle=False) as z:
        x = {k: z[k] for k in z.files}
    steps = [
        Step(index=int(i), epsilon=float(f[0]), score=float(f[1]), probabilities=p, l2=float(f[2]), linf=float(f[3]),
             flipped=bool(flags[0]), accepted=bool(flags[1]), phase=str(phase))
        for i, f, flags, phase, p in zip(x["step_index"], x["step_floats"], x["step_flags"], x["step_phase"],
                                         x["step_probabilities"])
    ]
    kp, kr = rec.get("key_pixels") or {}, rec.get("key_region")
    key_pixels = None
    if "key_pixels_ranking" in x and kp.get("prediction"):
        ranking = x["key_pixels_ranking"]
        key_pixels = KeyPixels(int(kp["count"]), float(kp["fraction"]), (ranking >= 0) & (ranking < int(kp["count"])),
                               ranking, _prediction(kp["prediction"]), bool(kp["flips"]),
                               None if kp.get("explained_probability") is None else float(kp["explained_probability"]))
    key_region = None
    if kr and "region_ranking" in x:
        ranking = x["region_ranking"]
        key_region = KeyRegion(int(kr["pixels"]), float(kr["fraction"]), int(kr["components"]), bool(kr["flips"]),
                               _prediction(kr["prediction"]), ranking < int(kr["pixels"]), ranking,
                               str(kr.get("fill", "blur")),
                               None if kr.get("explained_probability") is None else float(kr["explained_probability"]),
                               kr.get("window") is True, kr.get("off_map") is True)
    fill = x.get("fill_pixels")
    if "fill_name" in x:
        fill = next((f for n, f in _fills(pixels) if n == str(x["fill_name"])), None)
        if fill is None:
            raise ValueError(f"the fill-in {str(x['fill_name'])!r} of {name!r} is not known to this version")
    options = ExplainOptions(**(rec.get("options") or {}))
    explained = rec.get("explained") or {}
    return ExplainResult(
        status=Status(rec["status"]),
        message=str(rec.get("message", "")),
        original=_prediction(rec["original"]),
        final=_prediction(rec["final"]),
        explained=[int(i) for i in explained.get("indices", [])],
        explained_name=str(explained.get("name", "")),
        target=_prediction(rec.get("target")),
        steps=steps,
        gradient_evaluations=int(rec.get("gradient_evaluations", 0)),
        forward_evaluations=int(rec.get("forward_evaluations", 0)),
        original_pixels=pixels,
        adjusted_pixels=np.clip(pixels + delta, 0.0, 1.0).astype(np.float32),
        adjusted_uint8=adjusted_uint8,
        delta=delta,
        original_probabilities=x["original_probabilities"],
        final_probabilities=x["final_probabilities"],
        alpha=float(rec.get("alpha") or 1.0),
        key_pixels=key_pixels,
        timings={k: float(v or 0.0) for k, v in (rec.get("timings") or {}).items()},
        seconds=float(rec.get("seconds") or 0.0),
        options=options,
        model_name=str((rec.get("model") or {}).get("name", "")),
        model_settings={k: v for k, v in (rec.get("model") or {}).items() if k != "name"},
        labels=[str(v) for v in x["labels"]],
        groups=_groups(x.get("groups")),
        blur_amount=x.get("blur_amount"),
        region_map=importance if bool(x.get("has_region_map", False)) else None,
        key_region=key_region,
        fill_pixels=fill,
        l2_minimal_float=rec.get("l2_minimal_float"),
        run_on={k: v for k, v in (rec.get("versions") or {}).items()
                if k in ("device", "batch_size", "torch_threads")},  # as it ran
    )
