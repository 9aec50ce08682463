"""Load a model file as a pixel-space :class:`~gradflip_desktop.core.models.Classifier`.

Formats (see :func:`detect_format`):

``state_dict``  a ``.pth``/``.pt`` file with the weights of a torchvision classification architecture,
    read with ``torch.load(weights_only=True)``. The architecture comes from torchvision's own weight
    file names (``resnet18-f37072fd.pth`` → ResNet18_Weights.IMAGENET1K_V1: its labels and
    preprocessing), from ``arch=``, from the sidecar, or, when exactly one architecture fits the
    tensors, from the weights themselves. Fine-tuned heads (class count from the final layer),
    ``module.`` prefixes (DataParallel), ``_orig_mod.`` (torch.compile) and wrapping checkpoints (``state_dict``/
    ``model``/...) are handled. A whole pickled ``nn.Module`` or other pickled object is refused (nothing beyond tensors
    and containers is ever unpickled; :func:`inspect_model_file` already refuses it, from the pickle's opcodes).
``torchscript`` ``torch.jit.load``; runs code stored in the file: loaded with a warning (``trust_torchscript=False`` refuses it).
``onnx``        converted with onnx2torch (optional extra ``onnx``) so that gradients exist.
Labels, preprocessing and class groups come from (first wins): explicit arguments, the sidecar
``MODEL.gradflip.json`` next to the model file (see :class:`ModelSpec`), the torchvision weights'
metadata, then defaults (ImageNet mean/std, 224 × 224 squash, labels ``class 0``...).
Every loader raises :class:`ModelError` with a message meant for the user.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from ...errors import ModelError, ModelSettingError
from ...percent import count_text
from ..classifier import Classifier, PixelSpaceModel, Preprocessing
from ..devices import resolve_device
from ..labels import IMAGENET_GROUPS, imagenet_labels, labels_from
from ..prep_fields import RESIZE_NOTE
from .huggingface import hf_folder_of, is_hf_folder, load_hf_folder
from .onnx import input_preprocessing, load_onnx
from .outputs import (Recorded, check_batch_independent, choose_tuple_output, constant_note, grey_image, read_scores,
                      refuse_never_finite, refuse_non_scores)
from .safety import float32_note, holds_nothing, is_safetensors, short_reason
from .scripted import load_torchscript
from .sidecar import read_sidecar_raw, stale_format, stale_words
from .spec import FORMATS, ModelSpec, checked_groups, merge_preprocessing, parse_groups, whole_preprocessing_note
from .checkpoint_arch import named_architecture
from .timm import is_timm_arch, load_timm_state_dict, timm_folder, timm_preprocessing
from .torchvision import (cached_torchvision_weights, hub_checkpoint_dir, load_torchvision_state_dict, own_input_size,
                          pre_from_weights, torchvision_architectures, tv_models, tv_weights_for_file, weights_name)

__all__ = ["detect_format", "load_model_file", "load_model_spec"]  # inspect_model_file: inspection.py


def detect_format(path: str | os.PathLike) -> str:
    """``"state_dict"`` (also safetensors), ``"torchscript"``, ``"onnx"`` or ``"huggingface"`` (a folder
    with ``config.json``) from the file's name and first bytes."""
    p = Path(path)
    if p.is_dir():
        if is_hf_folder(p):
            return "huggingface"
        raise ModelError(f"{p.name} is a folder without config.json: not a Hugging Face model folder")
    if p.is_file() and p.stat().st_size == 0 and holds_nothing(p):  # whatever its name says (/proc: size 0, text)
        raise ModelError(f"{p.name} is empty (0 bytes)")
    onnx = p.suffix.lower() == ".onnx"
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        if onnx:  # the ONNX loader says what is wrong with it
            return "onnx"
        raise ModelError(f"cannot read model file {p}: {exc.strerror or exc}") from None
    # by name, unless the bytes say a PyTorch file (a TorchScript file renamed .onnx: "Wire format was corrupt")
    if onnx and not head.startswith((b"PK\x03\x04", b"\x80")) and not is_safetensors(p):
        return "onnx"
    if is_safetensors(p):
        return "state_dict"
    if not head:
        raise ModelError(f"{p.name} is empty (0 bytes)")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(p) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelError(f"{p.name} is truncated or damaged (an incomplete zip archive: {exc})") from None
        if any("/code/" in n or n.endswith("/constants.pkl") for n in names):
            return "torchscript"
        if any(n.endswith("/archive_format") for n in names) and any("/models/" in n for n in names):
            raise ModelError(f"{p.name} is a torch.export archive (.pt2), which GradFlip does not load: save the "
                             "model as TorchScript (torch.jit.save), ONNX, or its state dict")
        if any(n.endswith("data.pkl") for n in names):
            return "state_dict"
        raise ModelError(f"{p.name} is a zip archive but not a PyTorch file")
    if head[:1] == b"\x80":  # pickle protocol 2+ (the legacy torch.save format)
        return "state_dict"
    raise ModelError(
        f"cannot tell the format of {p.name}: expected a PyTorch state dict (.pth/.pt/.bin/.safetensors), "
        "a TorchScript file, an ONNX file (.onnx) or a Hugging Face model folder"
    )


def _resolve_model_path(spec: str | os.PathLike) -> Path:
    """An existing file, or a bare name looked up in the torch hub cache (file name, weights name, arch)."""
    p = Path(spec).expanduser()
    if hf_folder_of(p) is not None:  # its config.json or weights file chosen in a file dialog: the folder
        return p.parent
    if p.is_file() or is_hf_folder(p):
        return p
    if p.is_dir():
        raise ModelError(f"{p} is a folder without config.json: neither a model file nor a Hugging Face model folder")
    if p.exists():
        raise ModelError(f"{p} is not a model file")
    text = str(spec)
    if os.sep not in text and "/" not in text:
        cache = hub_checkpoint_dir()
        if (cache / text).is_file():
            return cache / text
        cached = cached_torchvision_weights()
        by_weights = [c for c in cached if c.weights.lower() == text.lower() or c.weights.split(".")[-1].lower() == text.lower()]
        by_arch = [c for c in cached if c.arch == text.lower()]
        if by_weights:
            return by_weights[0].path
        if by_arch:
            try:
                default = weights_name(tv_models().get_model_weights(text.lower()).DEFAULT)
            except Exception:  # noqa: BLE001
                default = ""
            best = next((c for c in by_arch if c.weights == default), by_arch[0])
            return best.path
        if text.lower() in torchvision_architectures():
            raise ModelError(
                f"no cached weights for {text} in {cache}; GradFlip never downloads. Fetch them once with "
                f"torchvision.models.get_model('{text.lower()}', weights='DEFAULT') or pass a weights file"
            )
    if text.lower().startswith("timm:"):  # an architecture, not weights: GradFlip never downloads them
        raise ModelError(f"{text} names a timm architecture, not weights; GradFlip never downloads. Give the "
                         f"checkpoint file and name the architecture: --model FILE --arch {text}")
    if re.match(r"(?i)^(https?|ftp)://", text):  # said whole, not "https:/x.org/m.pt not found"
        raise ModelError(f"{text} is a web address: GradFlip works offline and never downloads models; save the file and give its path")
    raise ModelError(f"model file {spec} not found (and it is not a known model name; see 'gradflip models')")




_SHAPE_WORDS = re.compile(r"size|shape|dimension|channel|mat\d|expected|stride|kernel|padding|index|out of range"
                          r"|elements|view|reshape|match|input", re.I)  # errors an input of another size can cure


def probe_network(net: nn.Module, pre: Preprocessing, name: str) -> torch.Tensor:
    """The output (1 x C) of ``net`` under ``pre`` for a grey image; ModelError when it cannot run such input."""
    module = PixelSpaceModel(net, pre).eval()
    h, w = pre.input_size
    try:
        with torch.no_grad():
            out = module(grey_image(pre))
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        reason = lines[-1] if lines else type(exc).__name__  # TorchScript puts the real error last
        text = f"{name} failed on a 1×{pre.channels}×{h}×{w} input ({short_reason(Exception(reason), 200)})"
        bare_assert = re.match(r"(\w+Error:\s*)*(\w+\.)*AssertionError\b", reason.strip()) is not None  # `assert x.shape[-1] == 96, "…"`
        if not _SHAPE_WORDS.search(reason) and not bare_assert:  # the model's own error (a missing key): no setting helps
            raise ModelError(f"{text}; the model's own code raised it on a plain grey image") from None
        raise ModelSettingError(f"{text}; check the input size and channel count", setting="preprocessing") from None
    return out


GUESSED_SIZES = (32, 28, 64, 96, 128, 160, 192, 256, 299, 384, 512)  # tried when 224 px input fails and no size is set
GUESS_SECONDS = 20.0  # the guessing stops after this long (a big model that fails at every size)


def _probe_channels(net, pre: Preprocessing, name: str, channels_given: bool, notes: list[str]):
    """(output, preprocessing) for ``pre``, or for its 1-channel variant when RGB input fails and the channel
    count was not given; ModelSettingError (the RGB one) when neither runs."""
    try:
        return probe_network(net, pre, name), pre
    except ModelError:
        if channels_given or pre.channels == 1:
            raise
        gray = merge_preprocessing(pre, {"channels": 1})
        try:
            out = probe_network(net, gray, name)
        except ModelError:
            probe_network(net, pre, name)  # raise the RGB error, the one the user expects
            raise
        note = "the model takes 1-channel input: using grayscale (luma) input"
        default = Preprocessing()
        if (len(set(pre.mean)) > 1 or len(set(pre.std)) > 1) and (pre.mean, pre.std) != (default.mean, default.std):
            # per-channel values of one's own (ImageNet's are averaged as documented): said, not averaged in silence
            note += (f", with the average of the mean and std given for 3 channels (mean {gray.mean[0]:.4g}, std "
                     f"{gray.std[0]:.4g}; give one value each for this model)")
        notes.append(note)
        return out, gray


def _guess_input_size(net, pre: Preprocessing, name: str, channels_given: bool, notes: list[str]):
    """A model that cannot take the assumed input size and was given none (a TorchScript/ONNX CIFAR or MNIST
    model without a sidecar): the first of :data:`GUESSED_SIZES` it runs on, with a note; None when none does."""
    import time  # noqa: PLC0415

    t0 = time.perf_counter()
    for side in GUESSED_SIZES:
        if time.perf_counter() - t0 > GUESS_SECONDS:
            break
        trial = merge_preprocessing(pre, {"input_size": [side, side]})
        tried: list[str] = []
        try:
            out, trial = _probe_channels(net, trial, name, channels_given, tried)
        except ModelError:
            continue
        notes.extend(tried)
        notes.append(f"{name} does not run on {pre.input_size[0]}×{pre.input_size[1]} input; it runs on {side}×{side}: "
                     "using that (set the input size in the model settings or the sidecar if it was trained at another)")
        return out, trial
    return None


ASSUMED_FIELDS = {"input_size": "input size", "resize": "resize", "mean": "mean", "std": "std"}


def given_preprocessing(side_pre, preprocessing) -> set[str]:
    """The preprocessing fields a sidecar's mapping and the caller's (a mapping, or a whole Preprocessing: all) give."""
    given = set(side_pre) if isinstance(side_pre, Mapping) else set()
    if isinstance(preprocessing, Preprocessing):
        return given | set(ASSUMED_FIELDS)
    return given | (set(preprocessing) if isinstance(preprocessing, Mapping) else set())


def imagenet_assumption(weights: str, labels: bool, given: set[str]) -> list[str]:
    """The note on a 1000-class state dict of a torchvision architecture read as ImageNet's: what is taken from the
    architecture's ImageNet weights ``weights``, of the labels (``labels``: none were given) and the preprocessing
    fields not ``given``; [] when everything was given."""
    missing = [word for key, word in ASSUMED_FIELDS.items() if key not in given]
    fields = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else "".join(missing)
    parts = (["ImageNet-1k labels"] if labels else []) + (
        [f"the preprocessing of {weights}"] if len(missing) == len(ASSUMED_FIELDS) else
        [f"the {fields} of {weights}"] if missing else [])
    joiner = " and " if len(missing) == len(ASSUMED_FIELDS) else ", and "  # ("… labels, and the mean and std of …")
    return [f"1000 classes: assuming {joiner.join(parts)}"] if parts else []


def load_model_file(
    path: str | os.PathLike,
    device: str | torch.device = "cpu",
    arch: str | None = None,
    labels: str | os.PathLike | Sequence[str] | None = None,
    preprocessing: Preprocessing | Mapping | None = None,
    groups: Mapping[str, Any] | None = None,
    trust_torchscript: bool = True,
    format: str | None = None,  # noqa: A002 - the user-facing word
    name: str | None = None,
    use_sidecar: bool = True,
) -> Classifier:
    """Load a model file as a pixel-space :class:`Classifier` on ``device``.

    ``path``: a file, or a bare name of torchvision weights in the torch hub cache
    (``resnet18-f37072fd.pth``, ``ResNet18_Weights.IMAGENET1K_V1`` or ``resnet18``).
    ``arch``: torchvision architecture of a state dict (detected from torchvision's file names or the
    weights when omitted). ``labels``: a labels file (text, one per line, or JSON) or a list of names.
    ``preprocessing``: a mapping of settings that override the file's and its sidecar's, as the command line's
    options do (``{"input_size": [28, 28], "channels": 1}``), or a whole :class:`Preprocessing`, which replaces
    every setting, its defaults included (a note in ``warnings`` names the file's settings it replaced so). ``groups``: name → class indices (or ``"3-5,9"``).
    ``trust_torchscript``: TorchScript runs code from the file; it loads with a warning, or is refused when False.
    ``format``: force ``"state_dict"``, ``"torchscript"`` or ``"onnx"``. ``use_sidecar``: read
    ``MODEL.gradflip.json`` next to the file (explicit arguments win over it).
    Raises :class:`ModelError` with a message naming the problem.
    """
    dev = resolve_device(device)  # fail early with a clear message
    p = _resolve_model_path(path)
    raw = read_sidecar_raw(p) if use_sidecar else None
    side: dict = raw[0] if raw else {}
    side_dir = raw[1].parent if raw else None
    if raw:  # validate the whole sidecar up front; its errors name it (the same value on the command line would not)
        try:
            ModelSpec.from_dict(side, p, side_dir)
        except ModelError as exc:
            raise type(exc)(f"{raw[1].name}: {exc}") from None
    if raw and not format:  # the file saved again in another form since: said, with the sidecar's name
        stale_format(side, raw[1], p, detect_format)
    fmt = format or side.get("format") or detect_format(p)
    if fmt not in FORMATS:
        raise ModelError(f"unknown model format {fmt!r} (use {', '.join(FORMATS)})")
    notes: list[str] = []
    if raw:
        notes.append(f"settings read from {raw[1].name}")
    timm_dir = timm_folder(p) if fmt == "huggingface" else None  # timm's own Hub layout, not transformers'
    if timm_dir is not None:
        notes.append(f"{p.name} is a timm model folder (its config.json names {timm_dir[1]}): loaded with timm")
        folder, (p, fmt, arch) = p, (timm_dir[0], "state_dict", arch or f"timm:{timm_dir[1]}")

    tv_weights = used_arch = fixed_classes = assumed_weights = read_size = None  # read_size: an ONNX file's fixed H, W
    base_pre = Preprocessing()
    pre_known = False
    own_labels = None  # labels the checkpoint or folder carries
    chosen_arch = arch or side.get("arch") or (named_architecture(p, notes) if fmt == "state_dict" and not timm_dir else None)
    if fmt == "state_dict" and is_timm_arch(chosen_arch):
        net, fixed_classes, base_pre, own_labels, used_arch = load_timm_state_dict(
            p, chosen_arch, notes, timm_dir[4] if timm_dir else None, (side.get("preprocessing"), preprocessing))
        pre_known = True
        if timm_dir is not None:
            own_labels = own_labels or timm_dir[2]
            if timm_dir[3].get("input_size") and base_pre.channels == 3:  # the folder's own settings
                base_pre = timm_preprocessing(timm_dir[3], notes)
    elif fmt == "huggingface":
        net, fixed_classes, base_pre, pre_known, own_labels = load_hf_folder(p, notes)
    elif fmt == "state_dict":
        net, fixed_classes, tv_weights, used_arch, own_labels = load_torchvision_state_dict(p, chosen_arch, notes)
        if tv_weights is None and fixed_classes == 1000:
            try:  # the same architecture's ImageNet weights tell the labels and preprocessing
                tv_weights = assumed_weights = tv_models().get_model_weights(used_arch).DEFAULT  # said with the labels
            except Exception:  # noqa: BLE001
                tv_weights = None
        if tv_weights is not None:
            base_pre, pre_known = pre_from_weights(tv_weights), True
        else:  # a ViT's fixed input size, else the size the architecture's own weights use (inception_v3: 299)
            base_pre = own_input_size(net, used_arch) or base_pre
        first_conv = next((m for m in net.modules() if isinstance(m, nn.Conv2d)), None)
        if first_conv is not None and first_conv.in_channels == 1:  # a grayscale fine-tune (its stem rebuilt so)
            base_pre = merge_preprocessing(base_pre, {"channels": 1})
    elif fmt == "torchscript":
        net = load_torchscript(p, trust_torchscript, notes)
    else:
        net, shape = load_onnx(p, notes)  # 8-bit input: 0-255, normalised inside; one channel: ImageNet's averaged
        base_pre = input_preprocessing(shape, net.eight_bit_input) or base_pre
        read_size = tuple(shape[2:]) if shape is not None and len(shape) == 4 and min(shape[2:]) > 0 else None
    net.eval()
    if arch and fmt != "state_dict":  # it names a state dict's network: said, not silently ignored
        notes.append(f"the architecture {arch} is not used: {p.name} is not a state dict, it brings its own network")
    note = float32_note(p.name, (*net.parameters(), *net.buffers()))
    if note:
        net.float()
        notes.append(note)
    for prm in net.parameters():
        prm.requires_grad_(False)

    explicit_pre = preprocessing is not None
    pre = merge_preprocessing(base_pre, side.get("preprocessing"))
    if use_sidecar:  # (the app's Load model dialog, load_model_spec, gives every setting on purpose)
        notes += whole_preprocessing_note(pre, preprocessing, p.name)
    pre = merge_preprocessing(pre, preprocessing)
    if pre.interpolation != "bilinear":  # bicubic given (sidecar, preprocessing=), as the note advises: it said bilinear
        notes[:] = [n for n in notes if not n.endswith(RESIZE_NOTE)]
    assumed = not (explicit_pre or "preprocessing" in side or pre_known)

    # how many outputs: known for torchvision, measured for TorchScript/ONNX
    probabilities = from_input = False
    if fixed_classes is None:
        side_pre = side.get("preprocessing") or {}
        given = (lambda key: isinstance(preprocessing, Preprocessing) or key in (preprocessing or {}) or key in side_pre)
        try:
            probe, pre = _probe_channels(net, pre, p.name, given("channels"), notes)
        except ModelSettingError:
            if given("input_size") or pre_known:
                raise
            found = _guess_input_size(net, pre, p.name, given("channels"), notes)  # e.g. a 32 px CIFAR model
            if found is None:
                raise
            probe, pre = found
        try:  # a label count picks the scores out of (features, logits)
            given_labels = labels_from(labels) or (labels_from(side.get("labels_file") or side.get("labels"), side_dir)
                                                     if side else None)
        except ModelError:
            given_labels = None  # said below, where the labels are read
        recorded = Recorded(net)  # the second pass (dropout left on?) keeps the raw output: a tuple's items
        again = probe_network(recorded, pre, p.name)
        picked = choose_tuple_output(net, recorded.raw, p.name, len(given_labels) if given_labels else None, notes)
        if picked is not net:
            net = picked
            probe, again = probe_network(net, pre, p.name), probe_network(net, pre, p.name)
        if probe.shape[0] != 1:  # e.g. [C, 1]: never read as C images of one logit
            raise ModelError(f"{p.name} returned shape {tuple(probe.shape)} for one image; GradFlip needs class scores "
                             "of shape [N, C], one row per image")
        refuse_non_scores(probe, p.name)
        refuse_never_finite(net, pre, p.name, probe)
        if again.shape != probe.shape or not torch.allclose(again, probe, rtol=1e-4, atol=1e-6, equal_nan=True):
            diff = float((again.double() - probe.double()).abs().max()) if again.shape == probe.shape else float("nan")
            raise ModelError(
                f"{p.name} gives different outputs for the same image (by up to {diff:.3g}): it was probably traced or "
                "exported in training mode, with its dropout active. Export it again after model.eval()"
            )
        check_batch_independent(net, pre, p.name, probe)  # folder runs batch images
        outputs = int(probe.shape[1])
        probabilities, from_input = read_scores(net, pre, p.name, probe, notes)
        if not probabilities:  # (probabilities read as they are can saturate alike on two images)
            constant_note(net, pre, p.name, probe_network(net, pre, p.name) if from_input else probe, notes)
    else:
        outputs = fixed_classes
        # an input size or channel count the network cannot take: said now, in words; NaN weights too
        probe = probe_network(net, pre, p.name)
        refuse_never_finite(net, pre, p.name, probe)
        constant_note(net, pre, p.name, probe, notes)
    if assumed:  # after the probe: the size and channels it settled on (a 1-channel or 32 px model), not the first guess
        size, read = f"{pre.input_size[0]}×{pre.input_size[1]}", read_size == tuple(pre.input_size)
        notes.append(
            f"no preprocessing settings for {p.name}: {f'its input is {size} (the file says so); assuming' if read else f'assuming {size} input,'} "
            f"{'grayscale' if pre.channels == 1 else 'RGB'}, mean {list(pre.mean)}, std {list(pre.std)} "
            "(give --input-size, --mean, --std, --channels, or set them in the app's Load model dialog, which saves them)"
        )
    elif not pre_known:  # some settings given (--input-size alone, a sidecar's few): the others were assumed silently
        got = given_preprocessing(side.get("preprocessing"), preprocessing)
        said = {"input_size": (f"{pre.input_size[0]}×{pre.input_size[1]} input", "--input-size"),
                "mean": (f"mean {list(pre.mean)}", "--mean"), "std": (f"std {list(pre.std)}", "--std")}
        missing = [v for k, v in said.items() if k not in got]
        if missing:
            notes.append(f"not every preprocessing setting was given for {p.name}: assuming "
                         f"{', '.join(w for w, _ in missing)} (give {', '.join(f for _, f in missing)}, or set them in "
                         "the app's Load model dialog, which saves them)")
    if outputs < 1:
        raise ModelError(f"{p.name} returns no outputs")
    single = outputs == 1
    num_classes = 2 if single else outputs
    if single and not probabilities and not from_input:  # (a sigmoid output has its own note: read as p(class 1))
        notes.append("single-logit binary classifier: shown as two classes, p(class 1) = sigmoid(logit)")

    # labels: explicit > sidecar > torchvision metadata > generic
    lab, side_labels = labels_from(labels), None
    if lab is None and side:
        lab = side_labels = labels_from(side.get("labels_file") or side.get("labels"), side_dir)
    imagenet = False
    if lab is None and own_labels is not None:
        if len(own_labels) == num_classes:
            lab = own_labels
        else:
            notes.append(f"the labels stored with {p.name} are {len(own_labels)}, not {num_classes}: not used")
    labels_given = lab is not None
    if lab is None and tv_weights is not None:
        cats = list(tv_weights.meta.get("categories") or [])
        if len(cats) == num_classes:
            lab = cats
            imagenet = num_classes == 1000
    if assumed_weights is not None:  # what was assumed, not what was given ("assuming ImageNet-1k labels" beside --labels)
        notes += imagenet_assumption(weights_name(assumed_weights), not labels_given,
                                     given_preprocessing(side.get("preprocessing"), preprocessing))
    if lab is None and num_classes == 1000 and (fmt != "state_dict" or is_timm_arch(used_arch)):
        notes.append("1000 outputs and no labels: assuming ImageNet-1k labels")
        lab, imagenet = imagenet_labels(), True
    if lab is None:
        lab = [f"class {i}" for i in range(num_classes)]
        named = "'class 0' and 'class 1'" if num_classes == 2 else f"'class 0' … 'class {num_classes - 1}'"
        notes.append(f"no labels for {(folder if timm_dir else p).name}: classes are named {named} (give a labels file)")
    if len(lab) != num_classes:
        extra = " (a single-logit binary classifier needs 2 labels: negative, then positive)" if single else ""
        side_ = side_labels is not None and side_labels is lab  # the sidecar's: it names itself
        given = f"{raw[1].name} lists {count_text(len(lab), 'label')}" if side_ else \
            f"{count_text(len(lab), 'label')} {'was' if len(lab) == 1 else 'were'} given"
        raise ModelError(f"{given} but {(folder if timm_dir else p).name} has {num_classes} classes{extra}"
                         + (f" ({stale_words(raw[1])})" if side_ else ""))

    # groups: built-in ImageNet groups, then sidecar, then explicit
    grp: dict[str, list[int]] = {}
    if imagenet:
        grp.update({k: list(v) for k, v in IMAGENET_GROUPS.items()})
    grp.update(parse_groups(side.get("groups") or {}))
    grp.update(parse_groups(groups or {}))
    checked_groups(grp, num_classes, p.name)

    module = PixelSpaceModel(net, pre, single_logit=single, probabilities=probabilities).eval()
    if name is None:
        name = side.get("name")
    if name is None:
        if timm_dir is not None:
            name = f"{used_arch} ({num_classes} classes, {folder.name})"
        elif fmt == "state_dict":
            what = weights_name(tv_weights) if tv_weights is not None and tv_weights_for_file(p.name) else f"{num_classes} classes"
            name = f"{used_arch} ({what}, {p.name})"
        else:
            kind = {"torchscript": "TorchScript", "onnx": "ONNX", "huggingface": "Hugging Face"}[fmt]
            name = f"{p.name} ({kind}, {num_classes} classes)"
    clf = Classifier(
        module=module,
        labels=lab,
        name=name,
        groups=grp,
        source=str(p),
        preprocessing=pre,
        warnings=notes,
    )
    clf.weights_file["arch"] = used_arch or fmt  # what built the network: with the digest it names the model, its name need not
    try:
        return clf.to(dev)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. an operator the device lacks
        raise ModelError(f"cannot move {p.name} to {dev}: {short_reason(exc)}") from None


def load_model_spec(spec: ModelSpec, device: str | torch.device = "cpu", trust_torchscript: bool = True) -> Classifier:
    """Load what a :class:`ModelSpec` describes (the GUI's dialog result); the sidecar is not read."""
    return load_model_file(
        spec.path,
        device=device,
        arch=spec.arch,
        labels=spec.labels if spec.labels is not None else spec.labels_path,
        preprocessing=spec.preprocessing,
        groups=spec.groups or None,
        trust_torchscript=trust_torchscript,
        format=spec.format,
        name=spec.name,
        use_sidecar=False,
    )
