"""The command line's words for the core's errors: the remedy in flags (``--arch NAME``, ``--force``), and the
option a message names written as typed (``blur_sigma must be …`` is ``--blur-sigma must be …``)."""

from __future__ import annotations

import re

# the option fields whose validation messages start with their name, and the flags that set them
FLAGS = {"blur_sigma": "--blur-sigma", "max_steps": "--max-steps", "epsilon": "--epsilon",
         "smoothing": "--smoothing", "coarse factor": "--coarse", "step mode": "--mode", "style": "--style"}


def status_words(status) -> str:
    """``"budget exhausted"`` for the status ``budget_exhausted`` (as the window's progress bar says it)."""
    return str(status).replace("_", " ")


def flag_remedy(message) -> str:
    """A run's message with the remedy in flags: "raise the step budget or epsilon" (the window's Step budget and ε)
    reads "raise --max-steps or --epsilon"."""
    return str(message).replace("raise the step budget or epsilon", "raise --max-steps or --epsilon")


def flag(name: str) -> str:
    """``input_size`` → ``--input-size``."""
    return "--" + name.strip().replace("_", "-")


def flag_words(text: str) -> str:
    """``text`` with the option field it starts with written as its flag: "blur_sigma must be in (0, 500] px" reads
    "--blur-sigma must be in (0, 500] px" (the Python names are the API's; the command line's user typed a flag)."""
    for name, option in FLAGS.items():
        if text.startswith(name + " "):
            return option + text[len(name):]
    return text


def model_error_text(exc: BaseException) -> str:
    """``exc``'s message, plus the command-line remedy when it is a ``ModelSettingError``."""
    text = str(exc)
    setting = getattr(exc, "setting", None)
    suggestions = list(getattr(exc, "suggestions", None) or [])
    if setting == "architecture":
        end = text.endswith(("?", "."))
        if suggestions:
            return f"{text} Use --arch {suggestions[0]}." if end else f"{text}: use --arch {suggestions[0]}"
        return f"{text}{' Choose' if end else '; choose'} it with --arch NAME (a torchvision name, or timm:NAME){'.' * end}"
    if setting == "preprocessing":
        return f"{text} (--input-size, --channels)"
    if setting == "device":
        return f"{text}; use --device cpu"
    if setting == "model":  # "the model options (labels, mean) apply …": the flags as typed
        text = re.sub(r"\(([a-z_, ]+)\)", lambda m: "(" + ", ".join(flag(w) for w in m.group(1).split(", ")) + ")", text, count=1)
        return f"{text}; pass --model FILE"
    return text


def error_text(exc: BaseException) -> str:
    """The one-line message for a typed core error, with this CLI's remedy (core messages name no flags)."""
    from .core.errors import ResultExistsError  # noqa: PLC0415 - torch-free

    if isinstance(exc, ResultExistsError):  # files found (not a --resume refusal): keeping them is a choice too
        keep = "--resume to keep complete sets or " if exc.existing else ""
        return f"{exc}; use {keep}--force to overwrite"
    if isinstance(exc, FileExistsError):  # atomic_write_bytes without overwrite: the path is the message
        return f"{exc} already exists; use --force to overwrite"
    return flag_words(model_error_text(exc)) if isinstance(exc, ValueError) else model_error_text(exc)
