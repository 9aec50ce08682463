"""``gradflip check RESULTS...``: how faithful the maps of stored result sets are (the command line's part;
the work is :mod:`gradflip_desktop.core.dataset.check`).

Prints one line per result set on stderr and the medians over the sets on stdout (``--json``: the checks as
JSON); writes ``NAME.faithfulness.json`` per set and ``faithfulness.csv`` per folder (``--resume``: keeps each set's
JSON that still holds for its record, map, photo, model and these options). Exit 0 when at least one set was
checked and its files written, 2 when none could be (each reason printed) or a file could not be written (a
read-only folder, a full disk: one line; the numbers are still printed and what could be written stays).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

from .cli_process import json_out
from .cli_values import nonempty, positive_int, whole_int


def add_parser(sub, add_model_arguments: Callable) -> None:
    from .core.faithfulness import FILLS, MAX_POINTS, POINTS  # noqa: PLC0415 - numpy only

    k = sub.add_parser("check", help="measure how faithful the maps of result sets are, next to Grad-CAM and saliency (and RISE: --rise N)")
    k.add_argument("results", nargs="+", type=nonempty, metavar="RESULTS",
                   help="result folders (of gradflip explain --out) or NAME.gradflip.json records")
    k.add_argument("--recursive", "-r", action="store_true", help="include the result sets in subfolders of RESULTS")
    k.add_argument("--model", type=nonempty, default=None, help="the model the results were made with (default: efficientnet-lite0)")
    k.add_argument("--device", type=nonempty, default="cpu", help="cpu (default), cuda, cuda:N, mps or auto")
    # all three by default: the blurred photo alone removes detail as GradFlip's own search does, so a table of it
    # alone showed the fill-in that suits GradFlip (a reviewer's check, 2026-12-07: black insertion went to Grad-CAM)
    k.add_argument("--fill", type=_fills, default=list(FILLS), metavar="|".join([*FILLS, "all", "LIST"]),
                   help="what replaces deleted pixels: the blurred photo, its mean colour, black; one, several "
                        "comma-separated, or all (the default: each measured with the same maps, made once)")
    k.add_argument("--points", type=whole_int, default=POINTS, help=f"points per curve, 2 to {MAX_POINTS:,} (default {POINTS})")
    k.add_argument("--photos", type=nonempty, default=None, metavar="DIR",
                   help="where to find the photos when the paths in the records do not exist (moved, or relative)")
    k.add_argument("--rise", type=positive_int, default=None, metavar="N",
                   help="also RISE's map with N random masks (the published RISE: 1000): N forward passes per set, "
                        "about 25 s per 1,000 at 224 px with two CPU threads, 45–50 s with one")
    k.add_argument("--max-pixels", type=positive_int, default=None,
                   help="refuse photos with more pixels (default 200e6; give the explain run's value if it raised it)")
    k.add_argument("--resume", action="store_true",
                   help="keep each set's NAME.faithfulness.json made from the same record, map, photo, model and check "
                        "options (an interrupted or earlier check); measure the rest")
    k.add_argument("--json", action="store_true", help="print the checks as JSON instead of the table")
    k.add_argument("--quiet", "-q", action="store_true", help="no line per result set on stderr (notes and errors still show)")
    add_model_arguments(k)


def _fills(text: str) -> list[str]:
    """``--fill``: one fill-in, several comma-separated, or ``all``."""
    import argparse

    from .core.faithfulness import FILLS  # noqa: PLC0415 - numpy only

    names = list(FILLS) if text.strip() == "all" else [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in FILLS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(FILLS)} or all (comma-separated), not {text!r}")
    return list(dict.fromkeys(names))


RISE_PUBLISHED = 1000  # masks in Petsiuk et al. 2018's RISE


def run(args, load_model: Callable, err: Callable[[str], None]) -> int:
    from .core.dataset.check import format_table, stored_records  # noqa: PLC0415

    if args.points < 2:
        err(f"--points: a curve needs at least 2 points, not {args.points}")
        return 2
    from .core.faithfulness import MAX_POINTS  # noqa: PLC0415 - numpy only

    if args.points > MAX_POINTS:  # --points 1e9 grew to 10 GB before the first set was measured
        err(f"--points: at most {MAX_POINTS:,} points per curve, not {args.points}")
        return 2
    if args.rise:  # --rise 1e9 ran for weeks per set, a progress line at a time
        from .core.attributions import MAX_RISE_MASKS  # noqa: PLC0415 - imports torch, as the check does anyway

        if args.rise > MAX_RISE_MASKS:
            err(f"--rise: at most {MAX_RISE_MASKS:,} masks per set (the published RISE takes 1,000), not {args.rise:,}")
            return 2
    if args.rise and args.rise < RISE_PUBLISHED:  # fewer masks: a noisier RISE map, which favours GradFlip (also with -q,
        # as explain's notes: the table's RISE row would read as the published one)
        print(f"gradflip: note: RISE with {args.rise:,} masks is noisier than the published {RISE_PUBLISHED:,}: its "
              f"curves are worse than RISE's own (compare with --rise {RISE_PUBLISHED})", file=sys.stderr)
    if args.photos is not None and not Path(args.photos).is_dir():  # said once, not "X is missing" for every set
        err(f"--photos: {args.photos} " + ("is not a folder" if Path(args.photos).exists() else "does not exist"))
        return 2
    records, problems = stored_records(args.results, recursive=args.recursive)
    for line in problems:
        err(line)
    if not records:
        return 2
    clf = load_model(args)
    checks = []
    began = time.time()
    try:
        _check_all(clf, records, args, checks)
    except KeyboardInterrupt:  # the sets checked so far keep their rows: the folder's CSV is not left stale
        _late_check(clf, records, args, checks, began)
        _write_csvs(checks, args, err)
        if args.json:  # and --json lists them, as explain --json does (it printed nothing)
            _print_json(checks)
        done = sum(c.check is not None for c in checks)  # not an error, and no CSV to name when none was checked
        kept = sum(c.kept for c in checks)
        print(f"\ngradflip: {done} of {len(records)} result sets were checked before the interrupt"
              + (f" ({kept} kept)" if kept else "")
              + ("; their rows are in faithfulness.csv; the same command with --resume measures only the rest" if done else ""),
              file=sys.stderr)
        raise
    csv_failed = _write_csvs(checks, args, err)
    if args.resume and not args.quiet:  # how many of the sets --resume did not measure again
        kept = sum(c.kept for c in checks)
        print(f"gradflip: kept the checks of {kept} of {len(checks)} result sets (--resume: same record, map, photo, "
              f"model and options); measured {sum(c.check is not None and not c.kept for c in checks)}", file=sys.stderr)
    if args.json:
        _print_json(checks)
    elif any(c.check is not None for c in checks):  # else only the one line on stderr below, not also on stdout
        print(format_table(checks))
    if not any(c.check is not None for c in checks):  # -q (no line per set): the reasons are in this line (without
        # -q each set's line said it: the reason was printed twice, "coffee: skipped: …" and "error: …: the same")
        why = (checks[0].skipped if len(checks) == 1 else _reasons(checks)) if args.quiet else ""
        if all(c.nothing for c in checks):  # no flip, a targeted run: nothing to check is no failure (exit 0, as the
            print("gradflip: no result set had a map to check" + (f": {why}" if why else ""), file=sys.stderr)  # README
            return 0  # says; it was "error: no result set could be checked", exit 2, for a folder of such sets)
        err("no result set could be checked" + (f": {why}" if why else ""))
        return 2
    skipped = [c for c in checks if c.check is None]
    if args.quiet and skipped:  # -q dropped the lines that named them: the table then read as if every set was there
        print(f"gradflip: skipped {len(skipped)} of {len(checks)} result sets: {_reasons(skipped)}", file=sys.stderr)
    # a set that could not be checked (a record that cannot be read, a map or photo gone, another model) is a
    # failure as an image that cannot be explained is explain's (exit 0 said nothing was lost); one with nothing to
    # check (no flip, a targeted run) is not
    problems = any(c.check is None and not c.nothing for c in checks)
    return 2 if csv_failed or problems else 0  # measured and printed but not saved: not a success either


def _late_check(clf, records, args, checks: list, began: float) -> None:
    """After a Ctrl+C: the set being checked when it came, when its ``NAME.faithfulness.json`` was written whole in
    this run (the interrupt fell between the file's rename and its count), is read back and counted, so its rows
    go into the folder's CSV with it (the JSON said "black" and the CSV kept the set's old "blur" rows)."""
    from .core.dataset.check import CHECK_SUFFIX, RECORD_SUFFIX, check_set  # noqa: PLC0415

    if len(checks) >= len(records):
        return
    rec = records[len(checks)]
    try:
        fresh = rec.with_name(rec.name[:-len(RECORD_SUFFIX)] + CHECK_SUFFIX).stat().st_mtime >= began
    except OSError:
        return
    if fresh:  # the same options and stamp as the file just written: read back, nothing measured
        c = check_set(clf, rec, fill=args.fill, points=args.points, photos=args.photos, rise=args.rise or 0,
                      max_pixels=args.max_pixels, reuse=True, write=False)
        if c.kept:
            c.kept = False  # measured by this run, not kept from an earlier one (--resume's "kept")
            checks.append(c)
            print(f"\ngradflip: {c.name}: its check was being written when the interrupt came and is complete",
                  file=sys.stderr, end="")


def _reasons(skipped: list) -> str:
    """"p0: the photo is missing; p1: …; and 4 more": why sets were skipped, the first three named."""
    return "; ".join(f"{c.name}: {c.skipped}" for c in skipped[:3]) + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else "")


def _print_json(checks: list) -> None:
    print(json.dumps([{"name": c.name, "record": str(c.record), "skipped": c.skipped or None,
                       **(c.check.to_dict() if c.check is not None else {}),
                       **({"rise_masks": c.rise_masks} if c.rise_masks else {}),
                       **({"checks": [k.to_dict() for k in c.checks]} if len(c.checks) > 1 else {}),
                       **({"kept": True} if c.kept else {})}
                      for c in checks], indent=2, ensure_ascii=False), file=json_out())


def _check_all(clf, records, args, checks: list) -> None:
    """Check each record, appending to ``checks`` as it goes (a Ctrl+C keeps what was done); a line per set."""
    from .core.dataset.check import check_set  # noqa: PLC0415

    live = not args.quiet and sys.stderr.isatty()
    folders = {rec.parent for rec in records}
    # sets of several folders (check -r) by their path below the folder they share: "[1/2] res/chelsea" twice named
    # all2/a/res and all2/b/res alike
    root = Path(os.path.commonpath([str(f) for f in folders])) if len(folders) > 1 else None
    for i, rec in enumerate(records, 1):
        shown = rec.relative_to(root).as_posix() if root is not None else f"{rec.parent.name}/{rec.name}"
        where = f"[{i}/{len(records)}] {shown[:-len('.gradflip.json')]}" if len(records) > 1 else \
            rec.name[:-len(".gradflip.json")]
        tell = (lambda text, where=where: print(f"\rgradflip: {where}: {text}\033[K", end="", file=sys.stderr, flush=True)) \
            if live else None
        c = check_set(clf, rec, fill=args.fill, points=args.points, photos=args.photos, rise=args.rise or 0, progress=tell,
                      max_pixels=args.max_pixels, reuse=args.resume)
        if tell is not None:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
        checks.append(c)
        if args.quiet:
            continue
        if c.check is None:
            print(f"gradflip: {where}: skipped: {c.skipped}", file=sys.stderr, flush=True)
        else:
            for k in c.checks or (c.check,):
                verdict = k.verdict()
                fill = f" ({k.fill}{', kept' if c.kept else ''})" if len(c.checks) > 1 else " (kept)" if c.kept else ""
                print(f"gradflip: {where}{fill}: deletion ↓ / insertion ↑: {k.numbers()}" + (f" ({verdict})" if verdict else ""),
                      file=sys.stderr, flush=True)  # the table's header names the columns; a line alone did not
            notes = list(c.notes)
            if c.check.explained.startswith("any "):  # a group run: every map is of the group, as the curves are
                notes.append(f"scored on the probability of {c.check.explained}; every map explains the group (Grad-CAM's "
                             "and saliency's: the log-sum-exp of its logits)")
            for note in notes:
                print(f"gradflip: note: {where}: {note}", file=sys.stderr)


def _write_csvs(checks: list, args, err: Callable[[str], None]) -> int:
    """Each folder's faithfulness.csv; the number of folders where it or a set's JSON could not be written (read-only,
    full, faithfulness.csv a folder), each said in one line: the command then exits 2 (it exited 0)."""
    from .core.dataset.check import CHECK_SUFFIX, CSV_NAME, write_csv  # noqa: PLC0415

    failed = 0
    for folder in sorted({c.record.parent for c in checks}):
        sets = [c for c in checks if c.record.parent == folder]
        lost = [c for c in sets if c.unwritten]
        jsons = f"{lost[0].name}{CHECK_SUFFIX}" + (f" and {len(lost) - 1} more" if len(lost) > 1 else "") if lost else ""
        try:
            written = write_csv(folder, sets)
        except OSError as exc:
            err(f"{folder}: could not write faithfulness.csv" + (f" nor {jsons}" if lost else "")
                + f" ({exc.strerror or exc}); " + ("the numbers printed are not saved" if lost else
                                                    f"each set's numbers are in its NAME{CHECK_SUFFIX}"))
            failed += 1
            continue
        if lost:
            err(f"{folder}: could not write {jsons} ({lost[0].unwritten}); their numbers are "  # the CSV holds their rows
                + (f"in {CSV_NAME} only" if written is not None else "only printed"))
            failed += 1
        if written is not None and not args.quiet:
            print(f"gradflip: wrote {written}", file=sys.stderr)
    return failed


__all__ = ["add_parser", "run"]
