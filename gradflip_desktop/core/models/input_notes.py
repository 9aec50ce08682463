"""Notes on how the network's input sees a photo, said with the photo's loading notes (the record, the figure, the
command line and the window): it enlarges the photo into blocks (a tiny photo, or one the working size shrank), or
squashes it out of its shape (a panorama into a square input). :class:`~.classifier.Preprocessing` words each note;
:func:`with_input_notes` keeps the loaded model's notes in ``image.warnings`` and drops another model's."""

from __future__ import annotations

from ..images.pixels import REDUCED_BY_WORKING

ENLARGED = 4.0  # an image the network's input enlarges this much along a side gets a note (enlarged_note)
SHRUNK = 1.5  # the note too where the working size reduced a side the input then enlarges this much (4000 x 300: 77 px)
SQUASHED = 2.0  # a photo whose shape the "squash" resize changes this much (2:1 into a square) gets a note
ENLARGED_START = "the model enlarges it "  # how every enlarged_note begins: another model's note is replaced
SQUASHED_START = "the model squashes its shapes "  # and every squashed_note


def with_input_notes(preprocessing, image) -> list[str]:
    """``image.warnings`` (an ImageData's loading notes) with :meth:`Preprocessing.enlarged_note` and
    :meth:`Preprocessing.squashed_note` added once each, when the network's input enlarges or squashes the image;
    the list itself, so that the record, the figure and the CLI say it. The notes of another preprocessing go (the
    app switches models over one photo; run() with two classifiers): the notes name this model's input only."""
    notes = image.warnings
    if hasattr(preprocessing, "enlarged_note"):
        h, w = image.pixels.shape[:2]
        note = preprocessing.enlarged_note(h, w)
        ow, oh = (int(v) for v in getattr(image, "original_size", (0, 0)) or (0, 0))
        if (oh > h or ow > w) and hasattr(preprocessing, "enlargement"):
            factor = preprocessing.enlargement(h, w)  # the working size shrank it below what the model sees
            if factor >= SHRUNK and preprocessing.enlargement(oh, ow) < factor:
                # also past 4x: "a larger photo is better" blamed the photo for what the working size did
                times = f"{factor:.1f}".removesuffix(".0")  # 1.5×, 224× (it said 224.0×)
                note = (f"{ENLARGED_START}{times}× along a side to see its {preprocessing.input_size[1]}×"
                        f"{preprocessing.input_size[0]} input {REDUCED_BY_WORKING}{ow}×{oh} to {w}×{h}: a "
                        "larger working size (the app's Working size, --max-side) keeps detail the model would see")
        squashed = preprocessing.squashed_note(h, w) if hasattr(preprocessing, "squashed_note") else None
        for start, new in ((ENLARGED_START, note), (SQUASHED_START, squashed)):
            notes[:] = [n for n in notes if not n.startswith(start) or n == new]
            if new and new not in notes:
                notes.append(new)
    return notes
