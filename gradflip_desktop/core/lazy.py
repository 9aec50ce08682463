"""A package's public names imported when first used (PEP 562), so that importing the package stays light: importing
:mod:`gradflip_desktop.core` does not import torch, and neither does the app's window importing one light module of
:mod:`gradflip_desktop.core.dataset`."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_names(package: str, exports: dict[str, str], namespace: dict) -> tuple[Callable[[str], object], Callable[[], list]]:
    """The package's ``__getattr__`` and ``__dir__``: ``exports`` maps a public name to the submodule that defines
    it (one place for each fact); a name is imported on first use and then kept in ``namespace`` (its globals)."""

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__


__all__ = ["lazy_names"]
