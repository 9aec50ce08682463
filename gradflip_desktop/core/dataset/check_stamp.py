"""What a set's ``NAME.faithfulness.json`` was measured from (its stamp), so ``gradflip check --resume`` keeps it
only where a new check would measure the same thing, and reads its checks back exactly.

The stamp (the JSON's ``resume.made_from``): GradFlip's check :data:`PROTOCOL`; the SHA-256 of the record, of
the map (``NAME.importance.npy``) and of the photo that were measured; the check's options (fill-ins in order,
points, RISE masks); the checking model (the record's ``model`` entry for it: name, settings, weights digest),
its device and the torch version. ``resume.checks`` keeps every curve at full precision (the JSON's ``maps`` are
rounded to 6 decimals), so a kept set gives the same CSV rows, table and medians as measuring it again.
Anything that does not match, cannot be read, or disagrees with the JSON's own rounded numbers: measured again.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

# bump when what a check measures changes (fill-ins, curves, peers' maps, RISE's masks or seed); 2: RISE of a cropping
# model covers its crop, and a photo smaller than the network's input draws its masks in smaller batches (other masks
# for one seed)
PROTOCOL = 2
FORMAT = "gradflip-faithfulness/1"


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a regular file, read in blocks (a named pipe in its place: ``OSError``, never a wait)."""
    from ..images.loading import open_regular  # noqa: PLC0415

    h = hashlib.sha256()
    with open_regular(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_stamp(classifier, record_sha256: str, map_sha256: str, photo_sha256: str, fills: list[str], points: int,
               rise: int, group: bool = False) -> dict:
    """The stamp of a check of these files with these options and this model (as stored: plain JSON types).
    ``group``: a group run's record, whose Grad-CAM and saliency are of the group (``"peers_of": "group"``; checks
    made before, of its top class, lack it and are measured again; a one-class record's stamp is as it was)."""
    import torch  # noqa: PLC0415 - loaded already: the model is

    from .job import model_description  # noqa: PLC0415

    return json.loads(json.dumps({
        "protocol": PROTOCOL, "record_sha256": record_sha256, "map_sha256": map_sha256, "photo_sha256": photo_sha256,
        "fills": list(fills), "points": int(points), "rise": int(rise), "model": model_description(classifier) or {},
        "device": str(getattr(classifier, "device", "cpu")), "torch": str(torch.__version__),
        **({"peers_of": "group"} if group else {})}))


def _same_model(then, now: dict) -> bool:
    """Every key of both entries equal, but those of the same weights under another file name (a copy)."""
    from .inputs import same_weights  # noqa: PLC0415

    if not isinstance(then, dict):
        return False
    alike = same_weights(then, now)
    return all(then.get(k) == now.get(k) for k in {*then, *now} - alike)


def resume_entry(stamp: dict, checks) -> dict:
    """The JSON's ``resume``: the stamp and each fill-in's curves at full precision."""
    return {"made_from": stamp, "checks": [
        {"fill": k.fill, "explained": k.explained,
         "curves": [{"name": c.name, "fractions": [float(v) for v in c.fractions], "deletion": [float(v) for v in c.deletion],
                     "insertion": [float(v) for v in c.insertion]} for c in k.curves]} for k in checks]}


def _numbers(values, n: int) -> tuple[float, ...]:
    if not isinstance(values, list) or len(values) != n or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise ValueError("not the curve's numbers")
    return tuple(float(v) for v in values)


def kept_checks(path: Path, record_name: str, stamp: dict) -> tuple[tuple, tuple[str, ...]] | None:
    """The checks (one per fill-in) and notes stored in the JSON ``path`` when it was measured as ``stamp`` says a
    new check would be; None when it cannot be read, is not whole, was made otherwise, or was edited."""
    from ..errors import json_loads  # noqa: PLC0415
    from ..faithfulness import Curve, FaithfulnessCheck  # noqa: PLC0415
    from ..images.loading import read_regular  # noqa: PLC0415

    try:
        doc = json_loads(read_regular(path).decode("utf-8"))  # a pipe of that name: OSError, not a wait
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("record") != record_name:
            return None
        entry = doc.get("resume")
        then = entry.get("made_from") if isinstance(entry, dict) else None
        if not isinstance(then, dict) or set(then) != set(stamp) or not _same_model(then.get("model"), stamp["model"]):
            return None
        if any(then[k] != v for k, v in stamp.items() if k != "model"):
            return None
        points = stamp["points"]
        checks = tuple(FaithfulnessCheck(str(k["fill"]), str(k["explained"]), tuple(
            Curve(str(c["name"]), _numbers(c["fractions"], points), _numbers(c["deletion"], points),
                  _numbers(c["insertion"], points)) for c in k["curves"])) for k in entry["checks"])
        notes = doc.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(t, str) for t in notes):
            return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError, OverflowError):  # gone, cut short, edited (10**400): measured again
        return None
    if [k.fill for k in checks] != stamp["fills"] or not all(k.curves for k in checks):
        return None
    # the JSON's own (rounded) numbers must be these curves': a hand-edited or mixed file is measured again
    if {k: doc.get(k) for k in ("fill", "explained", "maps")} != checks[0].to_dict():
        return None
    if doc.get("checks", None) != ([k.to_dict() for k in checks] if len(checks) > 1 else None):
        return None
    if doc.get("rise_masks", 0) != stamp["rise"]:
        return None
    return checks, tuple(notes)


__all__ = ["FORMAT", "PROTOCOL", "file_sha256", "kept_checks", "make_stamp", "resume_entry"]
