"""Run the explanations of a job on a Ray cluster, through Ray Data (optional extra ``ray``).

The driver lists the inputs; Ray Data streams them in batches to actors that each load the model once
(on a GPU when Ray gives the actor one) and explain their batch with the batched engine; the results come
back to the driver, which writes the result sets, the summary and the gallery exactly as a local run does
(:func:`gradflip_desktop.core.dataset.job.explain_inputs` with ``engine=RayEngine(...)``).

    gradflip explain photos/ --out results --ray local            # a Ray instance on this machine
    gradflip explain photos/ --out results --ray 10.0.0.5:6379    # an existing cluster (`ray start --head`)

Results travel as pickles made by GradFlip's own actors inside the cluster (Ray's transport); no file
from outside is unpickled.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import pickle
import re
import sys
import threading
from typing import Any, Callable

import numpy as np

from ..errors import GradFlipError
from ..images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE


def load_model(model: str | None, device: str, model_options: dict):
    from ..models import load_classifier  # noqa: PLC0415 - in the actor

    return load_classifier(model, device=device, **model_options)


class _Explainer:
    """A Ray Data actor: one model, loaded once; explains a batch of image paths per call."""

    def __init__(self, loader: Callable[[], Any], options: dict, max_side, max_pixels, batch_size: int):
        from ..options import ExplainOptions  # noqa: PLC0415

        try:
            self.classifier, self.failed = loader(), None
        except Exception as exc:  # noqa: BLE001 - said by the driver, once, in GradFlip's words (see __call__)
            # an actor that raised here died with ~100 lines of Ray's tracebacks, read as an internal error
            self.classifier, self.failed = None, _portable(exc)
        self.options = ExplainOptions(**options)
        self.max_side, self.max_pixels, self.batch_size = max_side, max_pixels, batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from ..explain.batch import BatchJob, explain_batched  # noqa: PLC0415
        from ..images import load_image  # noqa: PLC0415
        from ..models.input_notes import with_input_notes  # noqa: PLC0415

        if self.failed is not None:  # the model did not load: every row says so, the driver raises it
            fatal = pickle.dumps({"fatal": self.failed}, protocol=pickle.HIGHEST_PROTOCOL)
            idx = np.asarray(batch["idx"], dtype=np.int64)
            return {"idx": idx, "payload": np.asarray([fatal] * len(idx), dtype=object)}
        infos: dict[int, dict] = {}

        def loader(idx: int, path: str):
            def load():
                img = load_image(path, max_side=self.max_side, max_pixels=self.max_pixels)
                with_input_notes(self.classifier.preprocessing, img)  # before its info is taken, as a local run says it
                infos[idx] = img.to_dict()
                return img
            return load

        jobs = [BatchJob(int(i), loader(int(i), str(p))) for i, p in zip(batch["idx"], batch["path"])]
        out_idx, out_payload = [], []
        for job, result in explain_batched(self.classifier, jobs, self.options, batch_size=self.batch_size):
            if isinstance(result, BaseException):
                payload = {"error": type(result).__name__, "message": str(result)}
            else:
                payload = {"result": result, "info": infos.get(job.key)}
            out_idx.append(job.key)
            out_payload.append(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        return {"idx": np.asarray(out_idx, dtype=np.int64), "payload": np.asarray(out_payload, dtype=object)}


def _portable(exc: BaseException) -> BaseException:
    """``exc`` when it survives a pickle (GradFlip's errors, with their attributes; Python's own), else an error of
    the same name and message (a class the driver may not have, or one that does not pickle)."""
    try:
        if type(exc).__module__ in ("builtins", _errors_module()):
            pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
            return exc
    except Exception:  # noqa: BLE001, S110 - then by its name and message
        pass
    return _error(type(exc).__name__, str(exc))


def _errors_module() -> str:
    from .. import errors  # noqa: PLC0415

    return errors.__name__


# the last line of an actor's traceback that Ray puts in the message of the error it raises in the driver
_RAISED = re.compile(r"^gradflip_desktop\.core\.errors\.(\w+): (.*)$", re.MULTILINE)


def own_error(exc: BaseException) -> BaseException | None:
    """The GradFlip error behind an error of Ray's, or None: an actor's exception travels as ``RayTaskError.cause``
    (Ray's dual class is also the cause's class, its message the whole traceback), and an actor that died in its
    constructor is an ``ActorDiedError`` that keeps only the traceback's text (its last line names the error)."""
    seen: set[int] = set()
    err: BaseException | None = exc
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        cause = getattr(err, "cause", None)
        if isinstance(cause, BaseException):
            err = cause
        elif isinstance(err, GradFlipError):
            return err
        else:
            err = err.__cause__ or err.__context__
    found = _RAISED.findall(str(exc))
    return _error(*found[-1]) if found else None


def _error(name: str, message: str) -> BaseException:
    from .. import errors  # noqa: PLC0415

    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        for kind in cls.__mro__:  # ModelSettingError needs its setting: by name alone, a ModelError
            try:
                return kind(message)
            except TypeError:
                continue
    if name == "ValueError":
        return ValueError(message)
    return RuntimeError(f"{name}: {message}")


def _reachable(address: str, timeout: float = 10.0) -> None:
    """Refuse a head address that does not answer: ray.init(address="10.0.0.9:6379") with nothing there retries
    for ever, printing Ray's "Failed to connect to GCS" lines every few seconds (a typo hung the run). Only a
    plain HOST:PORT is tried; "auto", "ray://…" and other forms go to Ray as they are."""
    import socket  # noqa: PLC0415

    host, sep, port = address.rpartition(":")
    if not sep or not host or "/" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
        raise GradFlipError(f"cannot connect to the Ray cluster at {address}: {why} (is `ray start --head` "
                            "running there, and the port open?)") from None


# Ray's noise on the terminal, each line matched whole (real errors and warnings still show):
# - starting a local instance: "Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to
#   opt out. …" (a warning of Ray's Python logger; GradFlip started that instance itself, with Ray's default);
# - every run: "[… E …] core_worker.cc:2465: Actor with class name: 'MapWorker(MapBatches(_Explainer))' … has
#   constructor arguments in the object store and max_restarts > 0. …": Ray Data passes its own object reference to
#   the actors it starts (ray-project/ray#57733), and Ray's C++ logger writes that to the process's stderr (fd 2)
_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"
_AUTH_ENABLED = "Token authentication is enabled for this Ray cluster."
_ACTOR_ARGS = re.compile(rb"\[[^\]]*\] core_worker\.cc:\d+: Actor with class name: '[^']*\(_Explainer\)+' and ID: '[0-9a-f]+' "
                         rb"has constructor arguments in the object store and max_restarts > 0\.")


def _not_auth_enabled(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(_AUTH_ENABLED)


def _flush_stderr() -> None:
    if sys.stderr is not None:  # None under pythonw, or a GUI launcher without a console
        sys.stderr.flush()


class _StderrWithout:
    """While open, the process's stderr (fd 2, C++ code's too) goes through a pipe that a thread copies to the real
    stderr, line by line, less the lines ``pattern`` matches (a part line that cannot be one of them goes on at once)."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern

    def __enter__(self):
        self.thread = None
        try:
            _flush_stderr()
            self.saved = os.dup(2)
        except (OSError, ValueError):  # no stderr to filter (closed): nothing to do
            return self
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self.thread = threading.Thread(target=self._copy, args=(read, os.dup(self.saved)), daemon=True)
        self.thread.start()
        return self

    def _copy(self, read: int, out: int) -> None:
        rest = b""
        try:
            while chunk := os.read(read, 65536):
                *lines, rest = (rest + chunk).split(b"\n")
                text = b"".join(line + b"\n" for line in lines if not self.pattern.match(line))
                if rest and not rest.startswith(b"["):  # not Ray's log line ("\r" progress): now, not at its end
                    text, rest = text + rest, b""
                while text:
                    text = text[os.write(out, text):]
            if rest:
                os.write(out, rest)
        except OSError:
            pass
        finally:
            os.close(read)
            os.close(out)

    def __exit__(self, *exc) -> None:
        if self.thread is None:
            return
        try:
            _flush_stderr()
        except (OSError, ValueError):
            pass
        os.dup2(self.saved, 2)  # closes the pipe's end: the thread copies what is left, then ends
        os.close(self.saved)
        self.thread.join(timeout=5)


class RayEngine:
    """An engine for :func:`~.job.explain_inputs` that runs on Ray (``address``: "local" or a head's)."""

    def __init__(
        self,
        address: str,
        model: str | None = None,
        device: str = "cpu",
        model_options: dict | None = None,
        max_side: int | None = DEFAULT_MAX_SIDE,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        actors: int | None = None,
        loader: Callable[[], Any] | None = None,
        init_kwargs: dict | None = None,
    ):
        self.address = address
        self.device = device
        self.loader = loader or functools.partial(load_model, model, device, dict(model_options or {}))
        self.here = loader or functools.partial(load_model, model, "cpu", dict(model_options or {}))
        self.max_side, self.max_pixels = max_side, max_pixels
        self.actors = actors
        self.init_kwargs = dict(init_kwargs or {})

    def load_here(self):
        """The model the actors load, loaded once in this process before Ray starts, on the CPU (the actors'
        GPU may be theirs only): a model file or setting that does not load fails here, before any actor starts;
        with a local instance, whose actors are this machine's, a device it lacks too."""
        if self.address == "local":
            from ..models.devices import resolve_device  # noqa: PLC0415 - torch

            resolve_device(self.device)
        return self.here()

    def _init(self):
        # Ray Data sets its loggers to INFO when a dataset runs ("execution finished in 5.9 seconds" on stderr
        # between the CLI's own lines); its level follows this variable (a user's own setting wins)
        os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")
        try:
            import ray  # noqa: PLC0415
        except ImportError:
            raise GradFlipError("running on a Ray cluster needs Ray: pip install 'ray[data]' (GradFlip's extra 'ray')") from None
        auth = logging.getLogger(_AUTH_LOGGER)
        if _not_auth_enabled not in auth.filters:
            auth.addFilter(_not_auth_enabled)
        if not ray.is_initialized():
            kw = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False, **self.init_kwargs}
            if self.address != "local":
                kw["address"] = self.address
                _reachable(self.address)
            try:
                ray.init(**kw)
            except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:  # a wrong or unreachable address
                where = "a local Ray instance" if self.address == "local" else f"the Ray cluster at {self.address}"
                raise GradFlipError(f"cannot connect to {where}: {exc}") from None
        for name in ("ray", "ray.data"):  # the CLI prints its own progress; Ray's INFO lines are noise here
            logging.getLogger(name).setLevel(logging.WARNING)
        ctx = ray.data.DataContext.get_current()
        for attr in ("enable_progress_bars", "print_on_execution_start"):
            if hasattr(ctx, attr):
                setattr(ctx, attr, False)
        try:  # and it warns once that they are off ("Progress bars disabled. To enable, …"): that once is now
            from ray.util.debug import log_once  # noqa: PLC0415

            log_once("ray_data_progress_manager_disabled")
        except ImportError:
            pass
        return ray

    def __call__(self, classifier, jobs, options, batch_size, on_step=None, should_stop=None):
        ray = self._init()
        jobs = list(jobs)
        if not jobs:
            return
        by_idx = dict(enumerate(jobs))
        cpus = int(ray.available_resources().get("CPU", 1)) or 1
        gpus = int(ray.available_resources().get("GPU", 0))
        use_gpu = gpus > 0 and self.device != "cpu"
        actors = self.actors or max(1, min(gpus if use_gpu else cpus, len(jobs)))
        per_call = max(1, int(batch_size))
        ds = ray.data.from_items([{"idx": i, "path": str(j.key.path)} for i, j in by_idx.items()])
        ds = ds.map_batches(
            _Explainer,
            fn_constructor_kwargs={
                "loader": self.loader, "options": options.to_dict(), "max_side": self.max_side,
                "max_pixels": self.max_pixels, "batch_size": per_call,
            },
            batch_size=per_call,
            **_actor_pool(ray, actors),
            num_cpus=0 if use_gpu else 1,
            num_gpus=1 if use_gpu else 0,
        )
        try:
            yield from self._results(ds, by_idx, should_stop)
        except Exception as exc:  # an actor's GradFlip error: its one line, not Ray's wrapper ("internal error")
            if (own := own_error(exc)) is None:
                raise
            raise own from None

    def _results(self, ds, by_idx: dict, should_stop):
        rows = iter(ds.iter_rows())
        try:
            with _StderrWithout(_ACTOR_ARGS):  # the actors are started before the first row comes
                first = next(rows, None)
            for row in itertools.chain([] if first is None else [first], rows):
                if should_stop is not None and should_stop():
                    return
                job = by_idx[int(row["idx"])]
                payload = pickle.loads(row["payload"])  # made by _Explainer above, inside this job
                if "fatal" in payload:  # no actor could load the model: the whole run stops, as a local one would
                    raise payload["fatal"]
                if "error" in payload:
                    yield job, _error(payload["error"], payload["message"])
                else:
                    job.info = payload["info"]
                    yield job, payload["result"]
        finally:
            # a stop, a fatal row or an error: Ray Data's executor thread stops now. Left to the garbage collector it
            # ran on while the error's traceback held these rows (a later ray.shutdown() ended it with a SystemExit
            # raised in its thread)
            close = getattr(rows, "close", None)
            if close is not None:
                close()


def _actor_pool(ray, actors: int) -> dict:
    """``map_batches``' pool of ``actors`` actors in the words of the installed Ray: ``compute=ActorPoolStrategy``
    from 2.51 (where ``concurrency`` prints a deprecation warning on every run), ``concurrency`` before."""
    try:
        version = tuple(int(p) for p in str(ray.__version__).split(".")[:2])
    except ValueError:
        version = (0, 0)
    if version >= (2, 51) and hasattr(ray.data, "ActorPoolStrategy"):
        return {"compute": ray.data.ActorPoolStrategy(size=actors)}
    return {"concurrency": actors}
