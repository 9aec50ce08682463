"""The GradFlip explanation (see :mod:`.runner`): ``explain`` (a generator of Steps returning an
ExplainResult) and ``run`` (consumes it). Options and statuses live in :mod:`gradflip_desktop.core.options`,
the result types in :mod:`gradflip_desktop.core.results`."""

from .runner import explain, run

__all__ = ["explain", "run"]
