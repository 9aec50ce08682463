"""Headless command line over the same core as the desktop app.

    gradflip classify IMAGE...                 top-k classes with probabilities
    gradflip explain IMAGE|DIR... --out OUT    explain, write the result sets, progress on stderr;
                                               folders also get OUT/summary.csv and OUT/index.html
                                               (the run itself: core/dataset/job.py; --ray: core/dataset/ray_engine.py)
    gradflip check OUT...                      deletion/insertion of the sets' maps vs Grad-CAM, saliency (cli_check.py)

Exit codes: 0 done (every explanation flipped), 1 ran but at least one did not flip,
2 bad input or usage (unreadable image, bad model, bad option, files exist), 3 internal error,
130 interrupted (Ctrl+C), 143 terminated (SIGTERM). With many inputs the run goes on past a failed one; the worst code is returned.
The core's errors carry no command-line wording: the remedies ("use --force ...") are added here.
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import sys
import time
from pathlib import Path

from . import __version__, cli_check, cli_process
from .cli_process import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_TERMINATED, _Terminated, _stop_on_signals, cwd_gone, json_out, json_stdout, quiet_broken_pipe  # noqa: F401
from .cli_interrupt import late_sets, say_interrupted
from .cli_messages import error_text, flag_remedy, model_error_text, status_words  # noqa: F401 - model_error_text: tests
from .cli_progress import _Progress
from .cli_values import (check_target_and_group, dash_values, floats, group_hint, ignored_options, late_positionals, option_hint,
                         nonempty, out_folder, outcome_notes, positive_int, size, tiny_input_note, working_side)

EXIT_OK, EXIT_NOT_FLIPPED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
# --batch-size: one image at a time on every device. Batch 8 was 1.03x as fast on 2 CPU cores and 0.49x on an H200
# GPU (benchmarks/throughput.py); its float rounding sent identical photos' key-region searches to different answers
DEFAULT_BATCH_SIZE = 1


class _Parser(argparse.ArgumentParser):
    def parse_known_args(self, args=None, namespace=None):  # "--std -1,1,1" is a value, not an option (cli_values)
        self._given = dash_values(self, sys.argv[1:] if args is None else list(args))
        namespace, extras = super().parse_known_args(self._given, namespace)
        return namespace, late_positionals(self, namespace, extras)

    def error(self, message: str):  # one clear line, exit 2
        message, prog = option_hint(message, getattr(self, "_given", []), self)  # a subcommand's option: its help
        self.exit(EXIT_BAD_INPUT, f"gradflip: error: {message} (see {prog} --help)\n")


# --------------------------------------------------------------------------------------------------
# Model options: a model file's settings (--arch, --labels ...), the model list, the remedies added to ModelSettingError
# --------------------------------------------------------------------------------------------------


def add_model_arguments(parser) -> None:
    """Options for models loaded from files (``--model FILE``); see :func:`model_options_from_args`."""
    g = parser.add_argument_group("model file options (for --model FILE; saved settings in FILE's .gradflip.json are used too)")
    g.add_argument("--arch", type=nonempty, default=None,
                   help="architecture of a state dict (.pth/.bin/.safetensors): torchvision, e.g. resnet18 (detected from "
                        "torchvision file names), or timm:NAME, e.g. timm:vit_small_patch16_224")
    g.add_argument("--labels", type=nonempty, default=None, metavar="FILE", help="class labels: text file (one per line), CSV/TSV or JSON; see README")
    g.add_argument("--input-size", type=size, default=None, metavar="HxW", help="network input size, e.g. 224 or 28x28")
    g.add_argument("--resize", choices=("squash", "center-crop", "squash-crop"), default=None,  # prep_fields.RESIZES (torch-free here)
                   help="how the image reaches the input size (squash-crop: squashed to the resize size, then cropped)")
    g.add_argument("--mean", type=floats, default=None, metavar="M", help="normalisation mean, e.g. 0.485,0.456,0.406")
    g.add_argument("--std", type=floats, default=None, metavar="S", help="normalisation std, e.g. 0.229,0.224,0.225")
    g.add_argument("--channels", type=int, choices=(1, 3), default=None, help="1 for grayscale models (MNIST-style), 3 for RGB")


def model_options_from_args(args) -> dict:
    """Keyword arguments for ``load_classifier``/``load_model_file`` from the options above (only those set)."""
    out: dict = {}
    if getattr(args, "arch", None):
        out["arch"] = args.arch
    if getattr(args, "labels", None):
        out["labels"] = args.labels
    pre = {}
    for key in ("input_size", "resize", "mean", "std", "channels"):
        val = getattr(args, key, None)
        if val is not None:
            pre[key] = val
    if pre:
        out["preprocessing"] = pre
    return out


def format_model_list() -> str:
    """Text for ``gradflip models``."""
    from .core.models.registry import hub_checkpoint_dir, model_choices  # noqa: PLC0415 - imports torch

    lines = ["Models (pass the first column to --model):"]
    choices = model_choices()
    width = max(len(c.key) for c in choices)
    for c in choices:
        lines.append(f"  {c.key.ljust(width)}  {c.title} – {c.description}")
    if len(choices) == 1:
        lines.append(f"  (no torchvision weights in {hub_checkpoint_dir()}; GradFlip never downloads)")
    lines.append("Any .pth/.pt/.bin/.safetensors state dict (with --arch NAME or --arch timm:NAME), TorchScript or "
                 ".onnx file, or Hugging Face model folder works too.")
    return "\n".join(lines)


def _add_common(p: argparse.ArgumentParser) -> None:
    from .core.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE  # noqa: PLC0415 - numpy/Pillow only
    from .core.options import WORKING_SIZE_MAX  # noqa: PLC0415 - torch-free

    p.add_argument("images", nargs="+", type=nonempty, metavar="IMAGE", help="image files (anything Pillow reads) or folders of them")
    p.add_argument("--model", type=nonempty, default=None, help="model: 'efficientnet-lite0' (default), a model file or a Hugging Face model folder")
    p.add_argument("--device", type=nonempty, default="cpu", help="cpu (default), cuda, cuda:N, mps or auto")
    p.add_argument("--max-side", type=working_side, default=DEFAULT_MAX_SIDE,
                   help=f"long side of the working image in px, at most {WORKING_SIZE_MAX} (default {DEFAULT_MAX_SIDE})")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse images with more pixels (default {DEFAULT_MAX_PIXELS / 1e6:g}e6)")
    add_model_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    from .core.options import STYLE_NAMES, STYLES, ExplainOptions  # noqa: PLC0415 - torch-free (tests/test_boundaries.py checks it)
    parser = _Parser(prog="gradflip", description="Explain an image classifier's decision: the region and the pixel change that flip it.",
                     epilog="exit status: 0 done (every explanation flipped), 1 ran but one did not flip, 2 bad input or "
                            "usage, 3 internal error, 130 interrupted (Ctrl+C), 143 terminated (SIGTERM), 141 the reader "
                            "of the output went away")
    parser.add_argument("--version", action="version", version=f"gradflip {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="offscreen check: load the default model and sample photo, explain, export, verify; exit 0/1",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("classify", help="print the top classes of images")
    _add_common(c)
    c.add_argument("-k", "--top", type=positive_int, default=None, help="how many classes (default 5)")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.add_argument("--recursive", "-r", action="store_true", help="include the subfolders of folders given as IMAGE")

    e = sub.add_parser("explain", help="explain the decision on images and write the result sets")
    _add_common(e)
    e.add_argument("--out", "-o", type=out_folder, default="gradflip-results", help="output folder (default ./gradflip-results)")
    e.add_argument("--force", action="store_true", help="overwrite existing result files")
    e.add_argument("--json", action="store_true", help="print the JSON record(s) on stdout")
    e.add_argument("--target", default=None, help="targeted: the class (label, index, or #INDEX when labels are numbers) to reach")
    e.add_argument("--group", default=None, help="explain a class group: a name (cat, dog, ...) or index ranges 281-285")
    d = ExplainOptions()  # the defaults live in the core, once
    e.add_argument("--mode", choices=("adaptive", "fixed"), default=d.mode, help=f"step mode (default {d.mode})")
    e.add_argument("--epsilon", type=float, default=d.epsilon, help=f"step length in RMS pixel units; --style region scales it to a mask step (default {d.epsilon:g})")
    e.add_argument("--max-steps", type=positive_int, default=d.max_steps, help=f"step budget (default {d.max_steps})")
    e.add_argument("--smoothing", type=float, default=d.smoothing, help="Gaussian sigma (px) applied to the gradient")
    e.add_argument("--coarse", type=positive_int, default=d.coarse, help="coarse-to-fine factor: each step averaged over FxF pixels, or FxF mask cells in --style region (default 1 = off)")
    e.add_argument("--style", choices=STYLES, default=d.style,
                   help=f"{', '.join(f'{k}: {v}' for k, v in STYLE_NAMES.items())} (default {d.style}); see README")
    e.add_argument("--blur-sigma", type=float, default=None, help="sigma (px) of the blurred copy for --style blur (default: long side / 24)")
    e.add_argument("--no-minimise", action="store_true", help="skip the minimise pass")
    e.add_argument("--no-key-pixels", action="store_true", help="skip the key-set search (the key region of --style region, the key pixels of the others)")
    e.add_argument("--no-refine", action="store_true",
                   help="--style free: skip the boundary refinement (keep the straight-line minimum)")
    e.add_argument("--no-lattice", action="store_true",
                   help="--style free: round the change to 8 bits instead of the lattice pass")
    e.add_argument("--quiet", "-q", action="store_true", help="no progress, result or skipped lines on stderr (notes and errors still show)")
    r = e.add_argument_group("many images (folders, resume, batches, a Ray cluster)")
    r.add_argument("--recursive", "-r", action="store_true", help="include the subfolders of folders given as IMAGE")
    r.add_argument("--resume", action="store_true", help="keep complete result sets in --out; recompute missing or partial ones")
    r.add_argument("--batch-size", type=positive_int, default=None, metavar="N",
                   help=f"explain N images in one batched model pass per step (default {DEFAULT_BATCH_SIZE}: "
                        "the answers of single runs and the app; batches were not faster on a CPU or a GPU here)")
    r.add_argument("--summary", action="store_true", help="write summary.csv and index.html also when no folder is given")
    r.add_argument("--ray", type=nonempty, default=None, metavar="ADDRESS",
                   help="run on a Ray cluster (ADDRESS of its head, or 'local' to start one here); needs the extra 'ray'")

    what = "list ready-to-use models: the default and torchvision weights in the torch hub cache"
    sub.add_parser("models", help=what, description=what[:1].upper() + what[1:] + " (nothing is downloaded).")
    cli_check.add_parser(sub, add_model_arguments)
    return parser


def _err(message: str) -> None:
    from .core.errors import one_line  # a model file's name, "m\x1b[31m.pt", drove the terminal as it stood

    print(f"gradflip: error: {one_line(message)}", file=sys.stderr)


def _load_model(args):
    from .core.models import load_classifier  # noqa: PLC0415 - imports torch
    return _said(load_classifier(args.model, device=args.device, **model_options_from_args(args)))


def _said(clf):
    """``clf``, its loading notes and warnings printed."""
    from .core.errors import one_line  # noqa: PLC0415

    for w in getattr(clf, "warnings", []):  # what was read or recognised is a note; an assumption or a risk a warning
        print(f"gradflip: {'note' if _read_from_the_file(w) else 'warning'}: {one_line(w)}", file=sys.stderr)
    if note := tiny_input_note(clf.preprocessing):  # --input-size 1: the model sees one pixel of any photo
        print(f"gradflip: note: {note}", file=sys.stderr)
    return clf


def _read_from_the_file(w: str) -> bool:
    """A loading line that says what was read from the file or recognised in it (a note), not an assumption or a risk
    (a warning): "weights taken from the checkpoint entry 'state_dict'" and "… ends in a sigmoid" were warnings."""
    return (w.startswith(("settings read from ", "weights taken from the checkpoint entry ", "labels read from "))
            or (w.startswith("architecture ") and ("recognised" in w or "named by the checkpoint" in w))
            or " ends in a sigmoid: " in w or " outputs probabilities (they sum to 1)" in w)


def _inputs(args, verb: str) -> list | None:
    """The inputs IMAGE|DIR... name (folders expanded), the skipped ones noted on stderr; None (after one
    error line) when there is nothing to ``verb``."""
    from .core.dataset import collect_inputs

    inputs, skipped = collect_inputs(args.images, recursive=args.recursive, out=getattr(args, "out", None))
    if not getattr(args, "quiet", False):
        for where, why in skipped:
            print(f"gradflip: skipped: {where}: {why}", file=sys.stderr)
    if inputs:
        return inputs
    hint = "" if args.recursive or not any(why.startswith("a folder") for _, why in skipped) else \
        "; --recursive includes subfolders"
    _err(f"no images to {verb} in {', '.join(map(str, args.images))}{hint}")
    return None


def _repeated(inputs, done: str) -> set[int]:
    """Say which inputs name a file given before (``done``: "explained"/"classified" once); their positions."""
    from .core.dataset.inputs import _resolved  # noqa: PLC0415 - a link loop: its own path, not a RuntimeError

    seen: dict[Path, str] = {}  # the file -> the path it came first by
    again = set()
    for i, inp in enumerate(inputs):
        key = _resolved(inp.path)
        if key in seen:  # a link in a folder was not "listed twice" by the user: name the file it leads to
            same = ("listed twice" if str(inp.path) == seen[key] else f"a link to {seen[key]}"
                    if Path(inp.path).is_symlink() else f"the same file as {seen[key]}")
            print(f"gradflip: note: {inp.path} is {same}; {done} once", file=sys.stderr)
            again.add(i)
        else:
            seen[key] = str(inp.path)
    return again


def _classify(args) -> int:
    from .core.errors import ModelError, one_line
    from .core.images import ImageError, load_image
    from .core.images.pixels import said_notes
    from .core.models.input_notes import with_input_notes

    inputs = _inputs(args, "classify")
    if inputs is None:
        return EXIT_BAD_INPUT
    again = _repeated(inputs, "classified")
    clf = _load_model(args)
    top = 5 if args.top is None else args.top
    if args.top is not None and top > clf.num_classes:  # -k 1001 printed 1,000 classes without a word
        print(f"gradflip: note: the model has {clf.num_classes:,} classes: all of them are listed (-k {top:,})",
              file=sys.stderr)
    code, out = EXIT_OK, []
    for i, inp in enumerate(inputs):
        if i in again:
            continue
        path = inp.path
        try:
            img = load_image(path, max_side=args.max_side, max_pixels=args.max_pixels)
        except ImageError as exc:  # a folder's a/x.png and b/x.png: named by their paths in it, as explain does
            _err(str(exc) if len(inputs) < 2 or inp.display in str(exc) else f"{inp.display}: {exc}")
            code = EXIT_BAD_INPUT
            continue
        for w in said_notes(with_input_notes(clf.preprocessing, img)):  # the loading notes, a tiny photo's enlargement
            print(f"gradflip: note: {inp.display}: {w}", file=sys.stderr)
        try:
            preds = clf.classify(img.pixels, k=top)
        except ModelError as exc:  # e.g. NaN for this image only: say which, go on with the others
            _err(f"{one_line(path)}: {exc}")
            code = EXIT_BAD_INPUT
            continue
        if args.json:
            out.append({"image": str(path), "top": [p.to_dict() for p in preds], "notes": list(img.warnings)})
        else:
            print(f"{one_line(path)}:")
            for p in preds:
                print(f"  {100 * p.probability:6.2f} %  {p.label}  ({p.index})")
    if args.json:
        # one image: an object, or nothing when it failed (as explain: the error is on stderr, the exit status says
        # it; a lone "[]" read as a list where an object was promised); several: a list of the images that were read
        from .core.dataset.inputs import names_folder

        single = len(args.images) == 1 and not names_folder(args.images[0])
        if out or not single:
            print(json.dumps(out[0] if single else out, indent=2, ensure_ascii=False), file=json_out())
    return code


def _outcome_text(o) -> str:
    from .core.report import safe_name  # noqa: PLC0415
    from .core.summary import any_of, apart, pct1, region_share, share, steps_text  # noqa: PLC0415 - torch-free; the numbers as the sentence's
    rec = o.record or {}
    inp = getattr(o, "input", None)  # the set's name, said when it is not the file's own (cat.png → cat_png.*)
    named, stem = getattr(inp, "name", ""), Path(str(getattr(inp, "path", ""))).stem
    named = safe_name(named) if named else ""  # as the files are named: "   .png" → _png.*, "   " → image.*
    own = f"{named}.*" if named and named != stem else ""
    where = f"wrote {len(o.written)} files{f' ({own})' if own else ''} to {o.written[0].parent}" if o.written \
        else f"result set {own + ' ' if own else ''}already complete (--resume)"
    if rec.get("flipped"):
        orig, final, kp, kr = rec["original"], rec["final"], rec.get("key_pixels") or {}, rec.get("key_region") or {}
        key = f", key pixels {kp['count']:,} ({share(kp['fraction'])})" if kp.get("count") else ""  # 1 px: not "0.00 %"
        def told(p: dict) -> str:  # a labels file's repeat ("apple → apple" said nothing): the class's index too
            return p["label"] + (f" (class {p.get('index')})" if p["label"] == orig["label"] and p.get("index") != orig.get("index") else "")
        if kr.get("flips"):  # worded as the sentence: the share, the blobs or "most of it" (hatched in the figure)
            key = f", key region {region_share(kr['fraction'], kr.get('components', 1), kr.get('window') is True, kr.get('off_map') is True)} alone → {told(kr['prediction'])}"
        flip, n = rec.get("flip_step"), rec["steps"]  # as the app's progress bar: where it flipped, then all steps
        # "flipped at step 4", apart from the saved image's class: "→ eggnog 9.5 % at step 4" read as eggnog at step 4,
        # where the top class was consomme (the plot's "top at the flip"); worded as the window's Adjusted caption
        steps = f", flipped at step {flip} ({n} steps in all)" if flip is not None and flip < n else f" in {steps_text(n)}"
        group = rec.get("explained") or {}
        was, now = apart(orig["probability"], final["probability"])  # a near tie: "17.06 % → tripod 17.10 %"
        after = told(final)
        before = orig["label"] + (f" (class {orig.get('index')})" if after != final["label"] else "") + f" {was}"
        if len(group.get("indices") or ()) > 1:  # a group run flipped "any cat": its sum first, as the figure's title
            total = group.get("probability")
            before = f"{any_of(str(group['name']))} ({'' if total is None else pct1(total) + '; '}{before})"
        return (f"{before} → {after} {now}"
                f"{steps}, L2 {rec.get('l2_saved', rec['l2']):.3f}{key}; {where}")  # saved, as the figure
    head = "model error" if rec.get("status") == "model_error" else f"not flipped ({status_words(rec.get('status'))})"
    return f"{head}: {flag_remedy(rec.get('message'))}; {where}"  # "(budget exhausted): … raise --max-steps or --epsilon"


def _ray_engine(args):
    from .core.dataset.ray_engine import RayEngine  # noqa: PLC0415 - needs the optional extra `ray`

    return RayEngine(args.ray, model=args.model, device=args.device, model_options=model_options_from_args(args),
                     max_side=args.max_side, max_pixels=args.max_pixels)


def _explain(args) -> int:
    from .core.dataset.job import DONE, ERROR, JobSettings, explain_inputs, rate_text
    from .core.dataset.summary import complete_record, has_summary
    from .core.errors import DiskFullError, GradFlipError
    from .core.images.pixels import said_notes
    from .core.options import ExplainOptions

    opts = ExplainOptions(
        target=args.target, group=args.group, mode=args.mode, epsilon=args.epsilon, max_steps=args.max_steps,
        smoothing=args.smoothing, coarse=args.coarse, style=args.style, blur_sigma=args.blur_sigma,
        minimise=not args.no_minimise, key_pixels=not args.no_key_pixels, refine=not args.no_refine,
        lattice=not args.no_lattice)  # validated as it is made: a ValueError is one line and exit 2 (main)
    for note in ignored_options(args, opts.textbook):
        print(f"gradflip: note: {note}", file=sys.stderr)
    if args.force and args.resume:
        _err("choose --force (recompute everything) or --resume (keep complete result sets), not both")
        return EXIT_BAD_INPUT
    inputs = _inputs(args, "explain")
    if inputs is None:  # no model load, no empty summary
        return EXIT_BAD_INPUT
    from .core.dataset.inputs import names_folder

    folders = any(names_folder(p) for p in args.images)
    again = _repeated(inputs, "explained")  # the positions of files given before: explained (and counted) once
    once = len(inputs) - len(again)  # distinct files: the interrupt line counts them
    engine = _ray_engine(args) if args.ray else None
    # --ray: the actors' model loaded here first, so its notes are said and a bad file is one line before Ray starts
    clf = _load_model(args) if engine is None else _said(engine.load_here())
    check_target_and_group(clf, args.target, args.group)  # a typo: one line, exit 2, now, not one line per photo
    batch = args.batch_size or DEFAULT_BATCH_SIZE
    settings = JobSettings(out=args.out, force=args.force, resume=args.resume, batch_size=batch,
                           max_side=args.max_side, max_pixels=args.max_pixels,
                           summary=folders or args.summary or has_summary(args.out))  # one it had: rebuilt
    many = len(inputs) > 1
    started, began = time.perf_counter(), time.time()
    single = _Progress(inputs[0].display if inputs else "", opts.max_steps, args.quiet or many, clf.label,
                       None if args.target is None else clf.find_class(args.target))
    codes, records = [], []
    kept = [0]  # inputs whose result set --resume kept, or that failed (a corrupt file: no time): not in the rate
    order = {str(inp.path): i for i, inp in reversed(list(enumerate(inputs)))}  # --json: input order (its first place)

    reported: set[str] = set()  # the inputs on_outcome said (the interrupt lists the sets finished after it came)

    def on_outcome(o, done: int, total: int) -> None:
        for w in said_notes(o.notes):
            print(f"gradflip: note: {o.input.display}: {w}", file=sys.stderr)
        if o.status == ERROR:
            exc = o.error
            internal = not isinstance(exc, (GradFlipError, ValueError, OSError))
            text = f"internal error: {type(exc).__name__}: {exc} (please report this)" if internal else error_text(exc)
            if many and o.input.display not in text and o.input.name not in text:
                text = f"{o.input.display}: {text}"  # say which input, unless the message does
            _err(f"[{done}/{total}] {text}" if many else text)  # where in the run, as the progress lines say
            codes.append(EXIT_INTERNAL if internal else EXIT_BAD_INPUT)
            kept[0] += 1  # "3/9 · 648.67 images/s" after two unreadable files and a kept set counted them as explained
            return
        codes.append(EXIT_OK if o.flipped else EXIT_NOT_FLIPPED)
        reported.add(str(o.input.path))  # after its code: a Ctrl+C in between counts it as late, not lost
        if args.json and o.record is not None:
            records.append((order.get(str(o.input.path), len(order)), len(records), o.record))
        if not args.quiet:
            if many:
                tag = "" if o.status != DONE else " (kept)"
                kept[0] += o.status == DONE
                print(f"[{rate_text(done, total, started, kept[0], batch)}] {o.input.display}{tag}: {_outcome_text(o)}",
                      file=sys.stderr, flush=True)
            else:
                single.done(_outcome_text(o))
                if hint := group_hint(clf, o.record):  # the app's "Explain 'any cat'" link
                    print(hint, file=sys.stderr)
        for note in outcome_notes(o.record):  # a flat model (the app's sentence says it), a --coarse of one block
            print(f"gradflip: note: {o.input.display}: {note}", file=sys.stderr)

    def emit_json() -> None:  # one JSON document: the records in input order (a list for several images)
        if args.json and (records or len(args.images) > 1 or folders):
            done = [r for _, _, r in sorted(records, key=lambda t: t[:2])]
            print(json.dumps(done[0] if len(args.images) == 1 and not folders else done, indent=2, ensure_ascii=False), file=json_out())

    if engine is not None and not args.quiet:  # ray.init: ~18 s without a word on a 2-core machine
        print(f"gradflip: starting Ray ({'a local instance' if args.ray == 'local' else args.ray}) …", file=sys.stderr)
    try:
        explain_inputs(clf, inputs, opts, settings, on_outcome=on_outcome,
                       on_step=(lambda key, step: single(step)) if not many else None, engine=engine)
    except DiskFullError as exc:
        raise DiskFullError(f"{exc} (free some space, then run the same command with --resume)") from None
    except KeyboardInterrupt as exc:  # the sets written before it are on disk: --json lists them (it printed nothing)
        # and the sets being written when it came, which are finished first: listed, counted, their records printed
        late = late_sets(args.out, [i for n, i in enumerate(inputs) if n not in again], reported, began)
        records.extend((order.get(str(i.path), len(order)), len(records), complete_record(args.out, i.name)) for i in late if args.json)
        emit_json()
        written = sum(c != EXIT_BAD_INPUT and c != EXIT_INTERNAL for c in codes)
        if inputs:  # what is kept, and how to go on (it said only "interrupted", also for one photo; also with --quiet)
            say_interrupted(args.out, late, written, once, settings.summary, not many, isinstance(exc, _Terminated))
        raise
    if settings.summary and not args.quiet:
        print(f"gradflip: summary: {Path(args.out) / 'summary.csv'}, gallery: {Path(args.out) / 'index.html'}", file=sys.stderr)
    emit_json()
    return next((code for code in (EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_NOT_FLIPPED) if code in codes), EXIT_OK)  # the worst


def _models(args) -> int:
    print(format_model_list())
    return EXIT_OK


@quiet_broken_pipe
def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in == ["--version"]:  # answer at once, without building the parser (numpy, Pillow)
        print(f"gradflip {__version__}")
        return EXIT_OK
    parser = build_parser()
    args = parser.parse_args(args_in)
    if args.self_test:
        from .selftest import run_self_test  # noqa: PLC0415

        return run_self_test()
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    gone = cwd_gone()
    if gone:
        _err(gone)
        return EXIT_BAD_INPUT
    previous, stop = _stop_on_signals()
    try:
        from .core import cpu_share
        from .core.errors import GradFlipError
        cpu_share.enable()  # each run's threads: the cores other programs leave free now (core/cpu_share.py)

        handlers = {"classify": _classify, "explain": _explain, "models": _models,
                    "check": lambda a: cli_check.run(a, _load_model, _err)}
        with json_stdout(getattr(args, "json", False)):  # a model's own prints go to stderr, not into the document
            code = handlers[args.command](args)
        stop.done = True  # the work is written: a later Ctrl+C no longer interrupts it
        return code
    except KeyboardInterrupt as exc:
        if not cli_process.take_interrupt_said():  # explain said it with what it kept, in one line
            print(f"\ngradflip: interrupted{' (SIGTERM)' if isinstance(exc, _Terminated) else ''}", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, _Terminated) else EXIT_INTERRUPTED  # 128 + the signal, as a shell says
    except BrokenPipeError:
        raise  # the reader went away (`| head`): quiet_broken_pipe ends the program, not an internal error
    except (GradFlipError, ValueError) as exc:
        _err(error_text(exc))
        return EXIT_BAD_INPUT
    except OSError as exc:  # the output cannot be written (`> /dev/full`, a full disk, a closed pipe's EIO): not a bug
        _err(f"cannot write the output: {exc.strerror or exc}" if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT)
             else f"internal error: OSError: {exc} (please report this)")
        return EXIT_BAD_INPUT if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT) else EXIT_INTERNAL
    except Exception as exc:  # noqa: BLE001 - never a traceback for users
        _err(f"internal error: {type(exc).__name__}: {exc} (please report this)")
        return EXIT_INTERNAL
    finally:
        stop.done = True  # a Ctrl+C while the handlers are put back: no KeyboardInterrupt out of main
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    raise SystemExit(main())
