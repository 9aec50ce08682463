"""The notes on how the network's input sees a photo (core/models/input_notes.py): enlarged into blocks, squashed
out of its shape; said once, and replaced when another model's input sees the photo otherwise."""


def test_an_image_the_input_enlarges_4x_or_more_gets_a_note(tmp_path):
    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.input_notes import with_input_notes

    pre = Preprocessing()  # 224 x 224, squash
    assert pre.enlarged_note(56, 56) is not None and "4×" in pre.enlarged_note(56, 56)
    assert pre.enlarged_note(57, 300) is None  # 3.9×: no note
    assert "224×" in pre.enlarged_note(300, 1)  # a one-pixel line: stretched 224× across
    crop = Preprocessing(resize="center-crop", resize_size=256)
    assert crop.enlarged_note(64, 640) is not None  # the short side goes 64 -> 256
    assert crop.enlarged_note(100, 100) is None  # 2.6×
    import numpy as np
    from PIL import Image

    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "icon.png")
    img = load_image(tmp_path / "icon.png")
    notes = with_input_notes(pre, img)
    assert notes is img.warnings and sum("enlarges it 22×" in n for n in notes) == 1
    assert sum("enlarges" in n for n in with_input_notes(pre, img)) == 1  # once
    assert with_input_notes(None, img) is img.warnings  # no preprocessing known: nothing added


def test_another_models_enlarged_note_is_replaced_not_kept(tmp_path):
    """The app re-notes one ImageData when another model loads, and run() may see one image with two classifiers:
    the notes named both inputs ("… its 224×224 input", "… its 32×32 input"), or kept one no longer true."""
    import numpy as np

    from gradflip_desktop.core.images import from_array
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.input_notes import with_input_notes

    img = from_array(np.zeros((10, 10, 3), np.float32))
    with_input_notes(Preprocessing(), img)
    notes = with_input_notes(Preprocessing(input_size=(384, 384)), img)
    assert [n for n in notes if "enlarges" in n] == [Preprocessing(input_size=(384, 384)).enlarged_note(10, 10)]
    assert not any("enlarges" in n for n in with_input_notes(Preprocessing(input_size=(32, 32)), img))  # 3.2×: none
    assert with_input_notes(None, img) is img.warnings  # no preprocessing known: the notes stay as they are


def test_a_panorama_the_working_size_made_thinner_than_the_input_gets_a_note(tmp_path):
    """A 4000 x 300 panorama at the 1,024 px working size is 1024 x 77: the 224 px input enlarges that 2.9x, a
    blurred copy of what the full photo shows (the model's answer dropped from 37.7 % to 13.9 %), and the only
    note was "scaled from 4000×300"; below the 4x of a tiny photo, nothing said that a larger working size helps."""
    import numpy as np
    from PIL import Image

    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.input_notes import with_input_notes

    Image.fromarray(np.zeros((300, 4000, 3), np.uint8)).save(tmp_path / "pano.png")
    pre = Preprocessing()
    small = load_image(tmp_path / "pano.png", max_side=1024)
    notes = [n for n in with_input_notes(pre, small) if "enlarges" in n]
    assert len(notes) == 1 and "2.9×" in notes[0] and "reduced it from 4000×300" in notes[0] and "--max-side" in notes[0]
    full = load_image(tmp_path / "pano.png", max_side=4096)  # kept its size: the input reduces it, no note
    assert not any("enlarges" in n for n in with_input_notes(pre, full))
    Image.fromarray(np.zeros((4000, 6000, 3), np.uint8)).save(tmp_path / "big.png")  # an ordinary photo: none
    assert not any("enlarges" in n for n in with_input_notes(pre, load_image(tmp_path / "big.png", max_side=1024)))


def test_a_photo_the_working_size_shrank_past_4x_blames_the_working_size_not_the_photo(tmp_path):
    """A 451 x 300 photo at --max-side 8 (or a 6000 x 300 panorama at the default 1,024 px: 1024 x 51) is enlarged
    4x or more by the 224 px input; the note said "a larger photo is better" although the photo is large enough:
    the working size made it small."""
    import numpy as np
    from PIL import Image

    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.input_notes import with_input_notes

    Image.fromarray(np.zeros((300, 6000, 3), np.uint8)).save(tmp_path / "pano.png")
    pre = Preprocessing()
    notes = [n for n in with_input_notes(pre, load_image(tmp_path / "pano.png", max_side=1024)) if "enlarges" in n]
    assert len(notes) == 1 and "reduced it from 6000×300" in notes[0] and "--max-side" in notes[0]
    assert "a larger photo is better" not in notes[0]
    assert notes[0].startswith("the model enlarges it 4.4× along a side")  # one decimal ...
    Image.fromarray(np.zeros((10, 10000, 3), np.uint8)).save(tmp_path / "strip.png")
    notes = [n for n in with_input_notes(pre, load_image(tmp_path / "strip.png", max_side=224)) if "enlarges" in n]
    assert notes[0].startswith("the model enlarges it 224× along a side")  # ... but none on a whole number (224.0×)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "icon.png")  # a tiny photo keeps its note
    notes = [n for n in with_input_notes(pre, load_image(tmp_path / "icon.png")) if "enlarges" in n]
    assert len(notes) == 1 and "a larger photo is better" in notes[0]


def test_the_working_size_note_says_the_scaling_once(tmp_path):
    """At `--max-side 224` the sample cat (451 x 300 -> 224 x 149) got two notes, "scaled from 451×300 to 224×149
    (working size 224 px)" and "the model enlarges it 1.5× … after the working size reduced it from 451×300": the
    second now names both sizes, and what a person reads (said_notes: the command line, the figure, the window's
    status) drops the first; the record keeps both."""
    import numpy as np
    from PIL import Image

    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.images.pixels import said_notes
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.input_notes import with_input_notes

    Image.fromarray(np.zeros((300, 451, 3), np.uint8)).save(tmp_path / "cat.png")
    img = load_image(tmp_path / "cat.png", max_side=224)
    notes = with_input_notes(Preprocessing(), img)
    assert [n[:30] for n in notes] == ["scaled from 451×300 to 224×149", "the model enlarges it 1.5× alo"], notes
    assert "reduced it from 451×300 to 224×149: a larger working size" in notes[1]
    assert said_notes(notes) == [notes[1]] and notes == img.warnings and len(img.warnings) == 2
    other = ["scaled from 451×300 to 224×149 (working size 224 px)", "transparent areas were composited on white"]
    assert said_notes(other) == other  # no working-size note: the scaling is said
    assert said_notes(None) == [] and said_notes(iter(["x"])) == ["x"]


def test_a_photo_the_working_size_made_thin_keeps_its_crop_advice(tmp_path):
    """A 4000 x 40 strip at the 1,024 px working size is 1024 x 10: the enlargement note names the reduction, so the
    scaling note is not said again, but its advice (the short side is 10 px: crop it) was dropped with it."""
    import numpy as np
    from PIL import Image

    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.images.pixels import said_notes
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.input_notes import with_input_notes

    Image.fromarray(np.zeros((40, 4000, 3), np.uint8)).save(tmp_path / "strip.png")
    notes = with_input_notes(Preprocessing(), load_image(tmp_path / "strip.png", max_side=1024))
    assert notes[0].startswith("scaled from 4000×40 to 1024×10") and "reduced it from 4000×40 to 1024×10" in notes[1]
    assert said_notes(notes) == [
        "its short side is only 10 px at the working size, so a classifier sees little of it (crop it, or raise the "
        "working size)", notes[1], "the model squashes its shapes 102× narrower to fit its 224×224 input: crop the "
        "photo to the part that matters"]
    # a photo of usual proportions made thin by a tiny working size is not told to crop: the enlargement note says
    # what helps ("a larger working size"), and the scaling note goes
    from gradflip_desktop.core.images.pixels import scaled_note

    squat = scaled_note((32, 24), (1, 1, 3), 1)
    assert squat == ("scaled from 32×24 to 1×1 (working size 1 px); its short side is only 1 px there, so a classifier "
                     "sees little of it (raise the working size)")
    assert said_notes([squat, notes[1]]) == [notes[1]]


def test_a_photo_squashed_out_of_its_shape_gets_a_note():
    """A 3000 x 300 panorama reaches the default model's square input squashed 10:1 with no word of it (a helper's
    walk-through of the app): the note says how much and which way; 3:2 photos, crops and fitting inputs say nothing."""
    from gradflip_desktop.core.models.classifier import Preprocessing

    pre = Preprocessing()  # 224 x 224, squash
    assert pre.squashed_note(300, 3000) == ("the model squashes its shapes 10× narrower to fit its 224×224 input: "
                                            "crop the photo to the part that matters")
    assert pre.squashed_note(1000, 300).startswith("the model squashes its shapes 3.3× flatter")  # a tall photo
    assert "2× narrower" in pre.squashed_note(500, 1000) and pre.squashed_note(501, 1000) is None  # from 2:1 on
    assert pre.squashed_note(300, 451) is None and pre.squashed_note(512, 512) is None  # the sample cat, a square
    wide = Preprocessing(input_size=(160, 320))  # a model whose input is 2:1 itself
    assert wide.squashed_note(100, 200) is None and "2× flatter" in wide.squashed_note(200, 200)
    assert Preprocessing(resize="center-crop", resize_size=256).squashed_note(100, 1000) is None  # crops, keeps shape
    assert "10× narrower" in Preprocessing(resize="squash-crop", resize_size=256).squashed_note(100, 1000)


def test_the_squash_note_is_said_once_and_replaced_by_another_models(tmp_path):
    import numpy as np
    from PIL import Image

    from gradflip_desktop.core.images import load_image
    from gradflip_desktop.core.models.classifier import Preprocessing
    from gradflip_desktop.core.models.input_notes import with_input_notes

    Image.fromarray(np.full((300, 900, 3), 128, np.uint8)).save(tmp_path / "pano.png")
    img = load_image(tmp_path / "pano.png")
    notes = with_input_notes(Preprocessing(), img)
    assert notes is img.warnings and [n for n in notes if "squashes" in n] == [
        "the model squashes its shapes 3× narrower to fit its 224×224 input: crop the photo to the part that matters"]
    assert sum("squashes" in n for n in with_input_notes(Preprocessing(), img)) == 1  # once
    notes = with_input_notes(Preprocessing(input_size=(100, 300)), img)  # a model whose input has the photo's shape
    assert not any("squashes" in n for n in notes)  # the first model's note is gone, not kept
    notes = with_input_notes(Preprocessing(input_size=(300, 100)), img)
    assert [n for n in notes if "squashes" in n] == [
        "the model squashes its shapes 9× narrower to fit its 100×300 input: crop the photo to the part that matters"]
