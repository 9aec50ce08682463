"""The command line's option values: one clear ``argparse`` error for a value that cannot be meant, and the class
and group options checked against the model before any photo."""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex


def positive_int(text: str) -> int:
    v = _whole(text)
    if v is None or v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}") from None
    if v > MAX_WHOLE:  # 1e308 was taken (-k, --batch-size) or refused with its 309 digits (--max-steps)
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 10^15, not {text!r}") from None
    return v


def whole_int(text: str) -> int:
    """Any whole number (0 and negatives too): for an option whose own check says what it needs in its words
    (``check --points 0`` and ``--points 1`` both: "a curve needs at least 2 points")."""
    v = _whole(text)
    if v is None:  # any size: the option's own check refuses it in its words ("at most 10,001 points per curve")
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    return v


def _whole(text: str) -> int | None:
    try:  # "200e6" (as --help writes the default) is a whole number too
        return int(text) if re.fullmatch(r"\s*[+-]?\d+\s*", text) else int(float(text)) if float(text).is_integer() else None
    except (ValueError, OverflowError):
        return None


MAX_WHOLE = 10**15  # no count, size or limit of the command line comes near it


def nonempty(text: str) -> str:
    """A path or name option: an empty value (``--out "$DIR"`` with DIR unset) is refused, never read as the
    current folder (IMAGE '' explained every image in it) or as "not given" (``--model ''`` ran the default model)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"empty value {text!r} (an unset shell variable?)")
    return text


def out_folder(text: str) -> str:
    """``--out``: a folder, never "-" (standard output; a folder named "-" was made, before any photo loaded)."""
    if text.strip() == "-":
        raise argparse.ArgumentTypeError("'-' (standard output): a result set is several files (record, arrays, "
                                         "images), so --out names a folder")
    return nonempty(text)


def floats(text: str) -> list[float]:
    try:
        vals = [float(v) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        vals = []
    if not vals or not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"expected finite numbers separated by commas, not {text!r}") from None
    return vals


def dash_values(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """``--std -1,1,1``: argparse reads a value that starts with '-' as an option unless it is a plain number ("-1",
    "-.5"), and said "expected one argument". An option that takes a value, followed by what can only be a number
    ("-1,1,1", "-1e-3"; no option of GradFlip starts with '-' and a digit), is joined to it: ``--std=-1,1,1``."""
    takes = {o for a in parser._actions if a.option_strings and a.nargs is None for o in a.option_strings}
    out = []
    for i, tok in enumerate(args):
        if out and out[-1] in takes and re.match(r"-\.?\d", tok) and "--" not in args[:i]:
            out[-1] = f"{out[-1]}={tok}"
        else:
            out.append(tok)
    return out


def late_positionals(parser: argparse.ArgumentParser, namespace, extras: list[str]) -> list[str]:
    """``explain a.png -o out b.png`` and ``explain a.png -o out -- -1.png``: argparse fills a list positional once, at
    its first place, and called the later names "unrecognized arguments". Names left over after the options (none
    starting with '-' before a '--'; anything after it) join the list; any other leftover stays an error."""
    lists = [a for a in parser._actions if not a.option_strings and a.nargs in ("+", "*")]
    cut = extras.index("--") if "--" in extras else len(extras)
    if len(lists) != 1 or not extras:
        return extras
    unknown = [tok for tok in extras[:cut] if tok.startswith("-")]
    if unknown:  # "unrecognized arguments: --bogus", not also the names beside it (they were fine)
        return unknown
    late = [parser._get_value(lists[0], tok) for tok in extras[:cut] + extras[cut + 1:]]  # its type check too
    setattr(namespace, lists[0].dest, list(getattr(namespace, lists[0].dest, None) or []) + late)
    return []


def choice_hint(message: str) -> str:
    """For argparse's "invalid choice: 'explian' (choose from 'classify', 'explain', ...)": "; did you mean
    'explain'?" when one choice is close (``gradflip explian`` said so already, ``gradflip-cli explian`` did not);
    "" otherwise."""
    import difflib  # noqa: PLC0415

    m = re.search(r"invalid choice: '(.*)' \(choose from (.*)\)$", message)
    choices = re.findall(r"'([^']*)'", m.group(2)) if m else []
    if m and ("explain" in choices) and (os.path.exists(m.group(1)) or os.path.splitext(m.group(1))[1]):
        # `gradflip photo.jpg`, as a newcomer types it, said only "invalid choice"
        return f"; to explain an image: gradflip explain {shlex.quote(m.group(1))}"
    close = difflib.get_close_matches(m.group(1).lower(), choices, n=1, cutoff=0.75) if m else []
    return f"; did you mean '{close[0]}'?" if close else ""


def option_hint(message: str, given: list[str], parser: argparse.ArgumentParser) -> tuple[str, str]:
    """(``message`` with its hint, the program whose --help to see). A subcommand's unknown option is reported by the
    top-level parser ("unrecognized arguments: --stlye (see gradflip --help)", whose help lists none of them): the
    subcommand's help is named, with a close option of it ("did you mean --style?") or the subcommands that have the
    option ("--fill is an option of gradflip check"). Else :func:`dash_hint`'s or :func:`choice_hint`'s."""
    import difflib  # noqa: PLC0415

    hint = dash_hint(message, given, parser._option_string_actions) or choice_hint(message)
    m = re.match(r"unrecognized arguments: (.*)$", message)
    subs = next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    cmd = next((t for t in given if t in (subs or {})), None) if m else None
    if cmd is None:
        return message + hint, parser.prog
    sub = subs[cmd]
    unknown = [t.split("=")[0] for t in m.group(1).split() if t.startswith("--") and t != "--"]
    if unknown and not hint:
        own = [o for o in sub._option_string_actions if o.startswith("--")]
        close = difflib.get_close_matches(unknown[0], own, n=1, cutoff=0.7)
        owners = sorted({p.prog.split()[-1] for p in subs.values() if p is not sub and unknown[0] in p._option_string_actions})
        names = ", ".join(owners[:-1]) + " and " + owners[-1] if len(owners) > 1 else "".join(owners)
        hint = (f"; did you mean {close[0]}?" if close else
                f"; {unknown[0]} is an option of {parser.prog} {names}" if owners else "")
    return message + hint, sub.prog


def dash_hint(message: str, args: list[str], options) -> str:
    """For argparse's "argument --out/-o: expected one argument" when the value given starts with '-' ("--out -x")
    and is none of the parser's ``options``: the way to write it, ``--out=-x``; for a missing IMAGE or an
    unrecognised argument when a given token that starts with '-' (before any ``--``) is an existing file
    (``-dash.png``), or for any error when that file's name begins with a short option (``-kdash.png``, read as ``-k
    dash.png``): ``./-dash.png``; "" for any other message."""
    # a file named like an option (-dash.png) was read as one: said how to name it (not one after "--": named so)
    given = args[: args.index("--")] if "--" in args else args
    named = next((t for t in given if t.startswith("-") and t.split("=")[0] not in options and os.path.exists(t)), "")
    glued = named[:2] in options  # "-kdash.png": read as "-k dash.png", whatever argparse then says of "dash.png"
    missing = message.startswith(("the following arguments are required", "unrecognized arguments"))
    if named and (glued or missing):
        return f"; a file whose name starts with '-' is written ./{named} (or after --)"
    if missing:
        return ""
    m = re.fullmatch(r"argument (\S+): expected one argument", message)
    names = m.group(1).split("/") if m else []
    after = next((args[i + 1] for i, tok in enumerate(args[:-1]) if tok in names), "")
    if not after.startswith("-") or len(after) < 2 or after == "--" or after.split("=")[0] in options:
        return ""
    return f"; a value that starts with '-' is written {names[0]}={after}"


def size(text: str) -> list[int]:
    m = re.fullmatch(r"\s*(\d+)(?:\s*[x×,\s]\s*(\d+))?\s*", text.lower())  # "224", "224x224" (not "10x")
    vals = [int(m.group(1)), int(m.group(2) or m.group(1))] if m else []
    if len(vals) != 2 or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"expected a size like 224 or 224x224 (height x width), not {text!r}")
    return vals


def ignored_options(args: argparse.Namespace, textbook: bool) -> list[str]:
    """Notes for options given that the chosen style does not use (they used to be dropped in silence).
    ``textbook``: the run is the smallest change (free style, no smoothing, coarse 1), where the refinement
    and the 8-bit lattice pass run."""
    notes = []
    if getattr(args, "blur_sigma", None) is not None and args.style != "blur":
        notes.append(f"--blur-sigma applies to --style blur only; ignored with --style {args.style}")
    passes = [o for o, given in (("--no-refine", getattr(args, "no_refine", False)),
                                 ("--no-lattice", getattr(args, "no_lattice", False))) if given]
    if passes and not textbook:
        why = f"--style {args.style}" if args.style != "free" else "--smoothing or --coarse"
        notes.append(f"{' and '.join(passes)} appl{'ies' if len(passes) == 1 else 'y'} to the smallest change only "
                     f"(--style free, no smoothing, coarse 1); ignored with {why}")
    return notes


def working_side(text: str) -> int:
    """``--max-side``: a whole number of pixels up to the app's working-size limit (a run holds about 30 copies
    of the working image: at 100,000 px that is terabytes, and the run died of memory instead of being refused)."""
    from .core.options import WORKING_SIZE_MAX  # noqa: PLC0415 - torch-free

    v = positive_int(text)
    if v > WORKING_SIZE_MAX:
        raise argparse.ArgumentTypeError(f"at most {WORKING_SIZE_MAX} px (the working-size limit), not {text!r}")
    return v


def check_target_and_group(clf, target, group) -> None:
    """``--target`` and ``--group`` checked against the model's classes before any photo: a name that matches none
    raises its one-line error ("--target fish": no class, but a group, which the error names); a unique prefix of
    a label gets a note naming the class it means."""
    import sys

    from .core.errors import ModelError

    text = None if target is None else str(target).strip()
    if text is not None and text.lstrip("#").strip().isdigit():  # an index: in range, unambiguous
        index = clf.find_class(target)  # ("--target 1000" into a folder of earlier sets said "8 result files … exist")
        if text.startswith("#"):  # "#5": the index whatever the labels are; the class it is, said
            print(f"gradflip: note: --target {target!r} means {clf.labels[index]!r}", file=sys.stderr)
    elif text is not None:
        named = next((g for g in clf.groups if g.lower() == text.lower()), None)
        also = f" (for the class group, any {named}: --group {named})" if named else ""
        try:
            label = clf.labels[clf.find_class(target)]
        except ModelError as exc:
            raise ModelError(f"{exc}{also}") from None
        if label.lower() != text.lower():
            print(f"gradflip: note: --target {target!r} means {label!r}{also}", file=sys.stderr)
    if group is not None:
        clf.find_group(group)


def group_hint(clf, record: dict | None) -> str:
    """The app's "Explain 'any cat'" link as a line: a plain run whose flip stayed inside one of the model's class
    groups (dalmatian → Great Dane, both dogs) explained the breed, not the dog; "" otherwise."""
    rec = record or {}
    if clf is None or not rec.get("flipped") or rec.get("target") or len((rec.get("explained") or {}).get("indices") or [0]) > 1:
        return ""
    from .core.summary import any_of, hardly_apart  # noqa: PLC0415 - torch-free; "any of classes 281-285", as the app

    if hardly_apart(rec.get("original_range")):  # a random-weights model: its flip says little, the group's no more
        return ""
    orig, final = (rec.get("original") or {}).get("index"), (rec.get("final") or {}).get("index")
    for name, members in (getattr(clf, "groups", None) or {}).items():
        if orig in members and final in members:
            # a name a shell reads as typed: plain, in double quotes (spaces; cmd and PowerShell too), else shlex's
            arg = name if re.fullmatch(r"[\w.+-]+", name) else (
                f'"{name}"' if re.fullmatch(r"[\w .+-]+", name) else shlex.quote(name))
            option = f"--group={arg}" if name.startswith("-") else f"--group {arg}"  # not read as another option
            return (f"gradflip: hint: {rec['original']['label']} and {rec['final']['label']} are both in the group "
                    f"{name!r}: {option} explains \"{any_of(name)}\" instead")
    return ""


def outcome_notes(record: dict | None) -> list[str]:
    """Notes on a result the line alone does not tell: a model that hardly tells its classes apart on the photo
    (every class within a point of the others, the record's ``original_range``; a random-weights model), in the
    app's words, and a ``--coarse`` factor that left the change a single block (the photo's or the key region
    mask's), so that a stalled run is not read as the photo's answer."""
    from .core.summary import hardly_apart  # noqa: PLC0415 - torch-free; the sentence's own words

    rec = record or {}
    notes = [flat] if (flat := hardly_apart(rec.get("original_range"))) else []
    options, size = rec.get("options") or {}, (rec.get("image") or {}).get("working_size") or []
    f = int(options.get("coarse") or 1)
    if f > 1 and len(size) == 2 and min(size) > 0:
        w, h = (int(v) for v in size)
        if options.get("style") == "region":  # the factor averages the mask's cells, not pixels
            from .core.explain.mask import grid_shape  # noqa: PLC0415 - torch; the explanation loaded it already

            gh, gw = grid_shape(h, w)
            if f >= max(gh, gw):
                notes.append(f"--coarse {f} averages the key region's mask ({gw}×{gh} cells) into one cell: the search "
                             "removes detail evenly over the whole photo and tells no region apart; the map shows the "
                             "model's feature regions alone, where it has them, and the key region comes from those or "
                             "from windows tried alone (a factor "
                             f"under {max(gh, gw)} keeps more than one)")
        elif f >= max(h, w):
            notes.append(f"--coarse {f} is at least the {w}×{h} px working image: the change is one block, the same "
                         f"over the whole photo (a factor under {max(h, w)} keeps more than one)")
    return notes


TINY_INPUT = 8  # a network input under this many pixels along a side sees any photo as a few pixels


def tiny_input_note(preprocessing) -> str:
    """A note for a network input under :data:`TINY_INPUT` px along a side (``--input-size 1``): every photo
    reaches the model as that few pixels, so its answers (and their explanations) say little about the photo."""
    h, w = (int(v) for v in getattr(preprocessing, "input_size", (TINY_INPUT, TINY_INPUT)))
    if min(h, w) >= TINY_INPUT:
        return ""
    seen = "one pixel (about its mean colour)" if h * w == 1 else f"{w}×{h} pixels"
    return (f"the model's input is {w}×{h} px: every photo reaches it as {seen}, so its answers say little about "
            "what a photo shows")
