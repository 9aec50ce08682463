"""GradFlip's error types. Torch-free and Qt-free: anything may import this module.

Every error carries a message meant for the user. Messages describe the problem, never a remedy phrased
in one front end's terms (no command-line flags, no menu names): the CLI and the GUI add their own remedy
(the CLI says "use --force", the GUI offers to overwrite).

    GradFlipError
      ImageError          an image could not be loaded or saved
      ModelError          a model could not be loaded or used
        ModelSettingError   ... unless a setting is given or changed (``setting``, ``suggestions``)
      ExportError         a result set could not be written
        ResultExistsError   result files already exist (also a FileExistsError)
"""

from __future__ import annotations

import unicodedata

# characters a message never prints raw: controls (a newline in a file name broke the message in two), format
# characters, line and paragraph separators; spaces of other scripts (U+3000, a no-break space) stay as they are
_ESCAPED = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def one_line(text) -> str:
    """``text`` (a file name, a path) as a message names it, on one line: a newline in it is written "\\n"; a
    byte of a non-UTF-8 name (``os.fsdecode``'s surrogate) is U+FFFD, as the result sets' names have it (``classify``
    printed "caf\\udce9.png" where ``explain`` said "caf" U+FFFD ".png")."""
    text = str(text)
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that is no file name's byte ("\ud800"): escaped below
        pass
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) in _ESCAPED else ch for ch in text)


def install_hint(packages: str, extra: str) -> str:
    """How to get an optional package: "pip install PACKAGES (GradFlip's extra 'EXTRA')"; in the desktop bundle,
    where nothing can be added, that it does not include them (it told the bundle's user to pip install)."""
    import sys  # noqa: PLC0415

    if getattr(sys, "frozen", False):
        return (f"the desktop bundle does not include {packages}: use GradFlip installed with pip "
                f"(its extra '{extra}'), or a TorchScript file of the model")
    return f"pip install {packages} (GradFlip's extra '{extra}')"


def files_exist(n: int, what: str = "") -> str:
    """"1 result file already exists", "7 result files … already exist" (``what``: " for 'cat'"): it said "file(s)"."""
    return f"{n} result file{what} already exists" if n == 1 else f"{n} result files{what} already exist"


def json_loads(text: str):
    """``json.loads``; a document nested deeper than Python's parser follows (``[[[…`` 100,000 deep: a broken or
    hostile record, labels file, model sidecar or config) is a ``json.JSONDecodeError`` like any other bad JSON,
    not a ``RecursionError`` that the readers' ``except ValueError`` let through as an internal error."""
    import json  # noqa: PLC0415

    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", text, 0) from None


class GradFlipError(Exception):
    """Base of GradFlip's own errors; the message is meant for the user."""


class ImageError(GradFlipError):
    """An image could not be loaded or saved; the message is meant for the user."""


class PixelsError(ImageError, ValueError):
    """Pixels given in Python are not an image GradFlip reads (shape, type, range, NaN): an :class:`ImageError`, so
    ``except GradFlipError`` catches it (a library user's did not), and a ``ValueError`` as it always was."""


class ModelError(GradFlipError):
    """A model could not be loaded or used; the message is meant for the user."""


class ModelSettingError(ModelError):
    """A model needs a setting it was not given, or a different one (added by the models helper).

    ``setting`` names it: ``"architecture"`` (of a state dict), ``"preprocessing"`` (input size /
    channels), ``"device"``, or ``"model"`` (model-file options given for the built-in model).
    ``suggestions``: values that would work, best first (may be empty). The message states the problem;
    the front end phrases the remedy (the CLI names its flag, the GUI its field).
    """

    def __init__(self, message: str, setting: str, suggestions: list | tuple = ()):
        super().__init__(message)
        self.setting = setting
        self.suggestions = list(suggestions)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):  # pickled whole (a Ray actor's error reaches the driver with its setting and remedy)
        return type(self), (str(self), self.setting, self.suggestions)


class ExportError(GradFlipError):
    """The result set could not be written; the message is meant for the user."""


class DiskFullError(ExportError):
    """The disk (or the user's quota) is full: every further result set would fail the same way, so a run
    stops at the first one instead of explaining the rest for nothing."""


class ResultExistsError(ExportError, FileExistsError):
    """Result files already exist and overwriting was not asked for.

    Also a :class:`FileExistsError`, so callers catching that keep working. ``existing`` lists the paths.
    """

    def __init__(self, message: str, existing: list | tuple = ()):
        super().__init__(message)
        self.existing = list(existing)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        return type(self), (str(self), self.existing)


__all__ = ["GradFlipError", "ImageError", "PixelsError", "ModelError", "ModelSettingError", "ExportError", "ResultExistsError", "one_line"]
