"""--ray: the same job on a local Ray instance (2 CPUs) gives the local run's answers.

Needs the optional extra `ray` (pip install -e ".[ray]"); without it this module is skipped. It starts a
Ray instance (about 10-30 s), so it is slower than the other CLI tests.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ray = pytest.importorskip("ray")
# CI may deselect it with -m "not ray"; plain `pytest` runs it, in one worker (two local Ray instances at once on a
# 2-core machine, each waiting for the other's CPUs)
pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]

from gradflip_desktop.core.dataset import collect_inputs, read_summary  # noqa: E402
from gradflip_desktop.core.dataset.job import JobSettings, explain_inputs  # noqa: E402
from gradflip_desktop.core.dataset.ray_engine import RayEngine  # noqa: E402
from gradflip_desktop.core.options import ExplainOptions  # noqa: E402

from helpers import make_tiny  # noqa: E402

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def local_ray():
    """A local Ray instance for one test, shut down after it (module-scoped, it stayed up while later tests patched
    ``ray.is_initialized`` to say False: Ray's own threads, which ask it too, then ended with SystemExit, and in two
    full runs a test worker process went down, once in such a test)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}})
    yield
    ray.shutdown()


def test_ray_run_writes_the_local_runs_answers(local_ray, tmp_path):
    rng = np.random.default_rng(5)
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        base = rng.uniform(60, 200, size=(6, 8, 3))
        Image.fromarray(np.kron(base, np.ones((4, 4, 1))).astype(np.uint8)).save(folder / f"p{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff-cut-")
    inputs, _ = collect_inputs([folder])
    opts = ExplainOptions(key_pixels=False)
    local = explain_inputs(make_tiny(), inputs, opts, JobSettings(out=tmp_path / "local"))
    engine = RayEngine("local", loader=functools.partial(make_tiny), actors=2)
    remote = explain_inputs(None, inputs, opts, JobSettings(out=tmp_path / "ray", batch_size=2), engine=engine)
    assert [o.input.name for o in remote] == [o.input.name for o in local]  # the summary keeps input order
    rows_l = {r["name"]: r for r in read_summary(tmp_path / "local" / "summary.csv")}
    rows_r = {r["name"]: r for r in read_summary(tmp_path / "ray" / "summary.csv")}
    assert rows_l.keys() == rows_r.keys() and len(rows_l) == 7
    assert rows_r["broken"]["status"] == "error" and rows_r["broken"]["message"] == rows_l["broken"]["message"]
    for name, lr in rows_l.items():
        rr = rows_r[name]
        assert rr["status"] == lr["status"] and rr["final_index"] == lr["final_index"], name
        if lr["l2_saved"]:
            assert float(rr["l2_saved"]) == pytest.approx(float(lr["l2_saved"]), rel=0.03), name
    rec = (tmp_path / "ray" / "p0.gradflip.json").read_text(encoding="utf-8")
    assert str(folder / "p0.png") in rec  # the image entry came back from the actor
    assert (tmp_path / "ray" / "index.html").is_file()


def test_a_model_that_does_not_load_in_the_actors_stops_the_run_with_its_own_error(local_ray, tmp_path):
    """The actors' model did not load (a device or file the driver's check could not see): ActorDiedError, its
    text ~100 lines of traceback; now the run stops with the actors' own GradFlip error, attributes and all."""
    from gradflip_desktop.core.errors import ModelSettingError

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((24, 32, 3), 40 * i, np.uint8)).save(folder / f"p{i}.png")
    inputs, _ = collect_inputs([folder])
    engine = RayEngine("local", model_options={"arch": "resnet18"}, actors=1)  # options for the built-in model
    with pytest.raises(ModelSettingError, match="apply to model files only") as err:
        explain_inputs(make_tiny(), inputs, ExplainOptions(), JobSettings(out=tmp_path / "out"), engine=engine)
    assert err.value.setting == "model"


def test_an_unreachable_cluster_is_one_line_and_exit_2_not_an_internal_error(tmp_path, capsys, monkeypatch):
    """--ray 10.255.255.1:6379 (a wrong or unreachable head): "cannot connect to the Ray cluster at …", exit 2
    (it was "internal error: ConnectionError: … (please report this)", exit 3)."""
    from gradflip_desktop import cli

    def refuse(**kw):
        raise ConnectionError(f"Failed to connect to Ray cluster at {kw.get('address')}")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    img = tmp_path / "p.png"
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(img)
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "--quiet", "--ray", "10.255.255.1:6379"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT
    assert "Traceback" not in err and "internal error" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to the Ray cluster at 10.255.255.1:6379" in lines[0], lines
    # without --quiet it says that Ray starts first (a local instance took ~18 s without a word)
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "--ray", "10.255.255.1:6379"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "gradflip: starting Ray (10.255.255.1:6379) …" and "cannot connect" in lines[-1], lines


def test_the_actor_pool_is_asked_for_in_the_installed_rays_words():
    # Ray 2.51 deprecated map_batches(concurrency=...): every --ray run printed the warning on stderr
    from types import SimpleNamespace

    from gradflip_desktop.core.dataset.ray_engine import _actor_pool

    pool = lambda size: ("pool", size)  # noqa: E731
    new = SimpleNamespace(__version__="2.60.0", data=SimpleNamespace(ActorPoolStrategy=pool))
    assert _actor_pool(new, 3) == {"compute": ("pool", 3)}
    for old in ("2.50.1", "2.9.0", "nightly"):
        assert _actor_pool(SimpleNamespace(__version__=old, data=new.data), 3) == {"concurrency": 3}
    assert set(_actor_pool(ray, 2)) == ({"compute"} if hasattr(ray.data, "ActorPoolStrategy") and
                                       tuple(map(int, ray.__version__.split(".")[:2])) >= (2, 51) else {"concurrency"})


def test_a_head_address_where_nothing_listens_is_refused_at_once_not_retried_for_ever(tmp_path, capsys, monkeypatch):
    """--ray 127.0.0.1:1 (or a typo'd host): ray.init retried for good (15 minutes seen, Ray's "Failed to connect
    to GCS" lines every few seconds on stderr); now one line, exit 2, before Ray is asked."""
    import socket
    import time

    from gradflip_desktop import cli

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: pytest.fail("ray.init was called"))
    img = tmp_path / "p.png"
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(img)
    t = time.monotonic()
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "--quiet", "--ray", f"127.0.0.1:{port}"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_BAD_INPUT and time.monotonic() - t < 30
    assert len(lines) == 1 and f"cannot connect to the Ray cluster at 127.0.0.1:{port}" in lines[0], lines


def test_rays_noise_is_dropped_from_stderr_and_its_errors_are_not(capfd):
    """Every --ray run printed Ray Data's "Actor with class name: 'MapWorker(MapBatches(_Explainer))' … has
    constructor arguments in the object store and max_restarts > 0" (C++, straight to fd 2; ray-project/ray#57733)
    and a local instance Ray's "Token authentication is enabled for this Ray cluster …". Exactly those two go;
    another error line of Ray's, other actors' line and a part line (a "\\r" progress) still show, in order."""
    import logging

    from gradflip_desktop.core.dataset.ray_engine import _ACTOR_ARGS, _AUTH_LOGGER, _StderrWithout, _not_auth_enabled

    noise = (b"[2026-12-04 18:15:39,019 E 10927 10927] core_worker.cc:2465: Actor with class name: 'MapWorker(MapBatches"
             b"(_Explainer))' and ID: '59bc937c164aab50442be66701000000' has constructor arguments in the object store and "
             b"max_restarts > 0. If the arguments in the object store go out of scope or are lost, the actor restart will "
             b"fail. See https://github.com/ray-project/ray/issues/53727 for more details.\n")
    real = b"[2026-12-04 18:15:40,001 E 10927 10927] core_worker.cc:901: Failed to register actor: the GCS is gone.\n"
    other = noise.replace(b"_Explainer", b"SomeoneElses")  # not GradFlip's actors: not ours to hide
    with _StderrWithout(_ACTOR_ARGS):
        os.write(2, b"gradflip: note: before\n")
        os.write(2, noise[:60])  # C++ writes come in pieces
        os.write(2, noise[60:] + real)
        os.write(2, other + b"\rp.png: step 3/200")
    err = capfd.readouterr().err
    assert err == "gradflip: note: before\n" + real.decode() + other.decode() + "\rp.png: step 3/200", err
    record = logging.LogRecord(_AUTH_LOGGER, logging.WARNING, __file__, 1, "Token authentication is enabled for this Ray "
                               "cluster. Set RAY_AUTH_MODE=disabled to opt out.", None, None)
    assert not _not_auth_enabled(record)
    record.msg = "Token authentication is disabled for this Ray cluster. Anyone with network access …"
    assert _not_auth_enabled(record)


def test_a_local_ray_run_prints_only_gradflips_lines(tmp_path):
    """`gradflip explain DIR --ray local` on a terminal: Ray's two lines (token authentication, the actors'
    constructor arguments) came before GradFlip's own; now stderr has GradFlip's lines only."""
    import subprocess
    import sys

    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(2):
        Image.fromarray(np.kron(rng.uniform(60, 200, (6, 8, 3)), np.ones((4, 4, 1))).astype(np.uint8)).save(folder / f"p{i}.png")
    code = (
        "import functools, os, sys\n"
        f"sys.path.insert(0, {str(TESTS)!r})\n"
        "from helpers import make_tiny\n"
        "from gradflip_desktop import cli\n"
        "from gradflip_desktop.core.dataset.ray_engine import RayEngine\n"
        f"env = {{'PYTHONPATH': os.pathsep.join([{str(TESTS)!r}, {str(TESTS.parent)!r}])}}\n"
        "cli._ray_engine = lambda args: RayEngine('local', loader=functools.partial(make_tiny), actors=1,\n"
        "    init_kwargs={'num_cpus': 1, 'runtime_env': {'env_vars': env}})\n"
        "raise SystemExit(cli.main(sys.argv[1:]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}  # Ray's default: token auth, said on start
    done = subprocess.run([sys.executable, "-c", code, "explain", str(folder), "--out", str(tmp_path / "out"),
                           "--ray", "local"], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode in (0, 1), done.stderr
    assert len(lines) == 4 and lines[0] == "gradflip: starting Ray (a local instance) …", done.stderr  # (its ~18 s)
    assert lines[1].startswith("[1/2 ") and lines[3].startswith("gradflip: summary: "), done.stderr


def _main_err(capsys, argv):
    from gradflip_desktop import cli

    code = cli.main(argv)
    return code, capsys.readouterr().err.strip().splitlines()


def test_a_model_that_does_not_load_is_the_local_runs_one_line_before_ray_starts(tmp_path, capsys, monkeypatch):
    """--ray local --model broken.pth (or a wrong --arch): ~100 lines of Ray's tracebacks, then "internal error:
    ActorDiedError: … ModelError: … (please report this)", exit 3. The model is loaded here first (on the CPU):
    the local run's line, exit 2, and Ray is never started."""
    from gradflip_desktop import cli

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: pytest.fail("ray.init was called"))
    img = tmp_path / "p.png"
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(img)
    (tmp_path / "broken.pth").write_bytes(b"\x80\x02not a state dict" * 40)
    for model in (["--model", str(tmp_path / "broken.pth")], ["--arch", "resnet18"]):  # a file; options for the built-in
        args = ["explain", str(img), "--out", str(tmp_path / "out"), "--quiet", *model]
        code, local = _main_err(capsys, args)
        code_ray, lines = _main_err(capsys, [*args, "--ray", "local"])
        assert code == code_ray == cli.EXIT_BAD_INPUT
        assert len(lines) == 1 and lines == local and "internal error" not in lines[0], lines
    code, lines = _main_err(capsys, ["explain", str(img), "--out", str(tmp_path / "out"), "--ray", "local", "--device", "cdua"])
    assert code == cli.EXIT_BAD_INPUT and len(lines) == 1 and "unknown device 'cdua'" in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_the_models_notes_are_said_with_ray_too(tmp_path, capsys, monkeypatch):
    """--input-size 1 (a model input under 8 px) said so in a local run, not with --ray: the model is now loaded
    here too, with the same notes."""
    from gradflip_desktop import cli

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: (_ for _ in ()).throw(ConnectionError("no instance here")))
    monkeypatch.setattr(cli, "_ray_engine", lambda args: RayEngine("local", loader=functools.partial(make_tiny, size=1)))
    img = tmp_path / "p.png"
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(img)
    code, lines = _main_err(capsys, ["explain", str(img), "--out", str(tmp_path / "out"), "--quiet", "--ray", "local"])
    assert code == cli.EXIT_BAD_INPUT and len(lines) == 2, lines
    assert lines[0].startswith("gradflip: note: the model's input is 1×1 px") and "cannot connect to a local Ray" in lines[1]


def test_an_actor_whose_model_does_not_load_says_the_error_once_and_does_not_die():
    """Its error came back as Ray's ActorDiedError (its text the whole traceback): now the actor keeps it and
    answers every row with it, whole (a ModelSettingError keeps its setting, for the CLI's remedy)."""
    import pickle

    from gradflip_desktop.core.dataset.ray_engine import _Explainer
    from gradflip_desktop.core.errors import ModelSettingError
    from gradflip_desktop.core.models import load_classifier

    actor = _Explainer(functools.partial(load_classifier, None, arch="resnet18"), ExplainOptions().to_dict(), None, 10**6, 2)
    out = actor({"idx": np.array([3, 5]), "path": np.array(["a.png", "b.png"], dtype=object)})
    assert out["idx"].tolist() == [3, 5]
    fatal = [pickle.loads(p)["fatal"] for p in out["payload"]]
    assert all(isinstance(e, ModelSettingError) and e.setting == "model" for e in fatal)
    assert "apply to model files only" in str(fatal[0])

    class Odd(Exception):  # a class the driver may not have: its name and message
        pass

    def odd():
        raise Odd("no")

    fatal = pickle.loads(_Explainer(odd, ExplainOptions().to_dict(), None, 10**6, 1)({"idx": np.array([0]), "path": np.array(["a"])})["payload"][0])
    assert type(fatal["fatal"]) is RuntimeError and str(fatal["fatal"]) == "Odd: no"


def test_rays_wrapped_errors_are_unwrapped_to_gradflips_own():
    from ray.exceptions import ActorDiedError, RayTaskError

    from gradflip_desktop.core.dataset.ray_engine import own_error
    from gradflip_desktop.core.errors import ImageError, ModelError, ModelSettingError

    cause = ModelSettingError("needs an architecture", setting="architecture", suggestions=["resnet18"])
    tb = ('Traceback (most recent call last):\n  File "ray_engine.py", line 45, in __init__\n    self.classifier = '
          "loader()\ngradflip_desktop.core.errors.ModelSettingError: needs an architecture")
    task = RayTaskError("MapWorker.__init__", tb, cause)
    assert own_error(task) is cause and own_error(task.as_instanceof_cause()) is cause  # Ray's dual class too
    died = own_error(ActorDiedError(task))  # only the text is left: the error of that name, its message
    assert type(died) is ModelError and str(died) == "needs an architecture"
    wrapped = RuntimeError("Ray Data failed")
    wrapped.__cause__ = ImageError("cannot read a.png")
    assert str(own_error(wrapped)) == "cannot read a.png"
    assert own_error(RuntimeError("a Ray bug")) is None and own_error(ActorDiedError()) is None


def test_the_stderr_filter_works_without_a_python_stderr(capfd, monkeypatch):
    """``sys.stderr`` is None under pythonw or a launcher without a console: entering the filter raised
    AttributeError ('NoneType' object has no attribute 'flush') before Ray's first row, the run an internal error."""
    import sys

    from gradflip_desktop.core.dataset.ray_engine import _ACTOR_ARGS, _StderrWithout

    monkeypatch.setattr(sys, "stderr", None)
    with _StderrWithout(_ACTOR_ARGS):
        os.write(2, b"still said\n")
    assert capfd.readouterr().err == "still said\n"


def test_an_actors_answers_each_go_back_with_their_own_row_and_image(tmp_path):
    """The batched engine hands results back as they finish, not in row order: each answer keeps its row's index
    and its own image's notes (never another row's photo and answer)."""
    import pickle

    from gradflip_desktop.core.dataset.ray_engine import _Explainer

    paths = []
    for i, (h, w) in enumerate([(24, 32), (16, 40), (40, 16)]):
        rng = np.random.default_rng(i)
        paths.append(tmp_path / f"p{i}.png")
        Image.fromarray(np.kron(rng.uniform(60, 200, (h // 4, w // 4, 3)), np.ones((4, 4, 1))).astype(np.uint8)).save(paths[-1])
    actor = _Explainer(make_tiny, ExplainOptions(style="free", max_steps=3).to_dict(), None, 10**6, 3)
    out = actor({"idx": np.array([7, 3, 5]), "path": np.array([str(p) for p in paths], dtype=object)})
    assert sorted(out["idx"].tolist()) == [3, 5, 7]
    by_idx = {int(i): pickle.loads(p) for i, p in zip(out["idx"], out["payload"])}
    for idx, path, (h, w) in zip((7, 3, 5), paths, [(24, 32), (16, 40), (40, 16)]):
        got = by_idx[idx]
        assert got["info"]["source"] == str(path) and got["info"]["working_size"] == [w, h]
        assert got["result"].original_pixels.shape == (h, w, 3)


def test_a_stop_asked_for_ends_the_rows_coming_back():
    """The driver stops taking rows once ``should_stop`` says so (the app's Stop, the CLI's Ctrl+C)."""
    import pickle
    from types import SimpleNamespace

    from gradflip_desktop.core.dataset.ray_engine import RayEngine

    rows = [{"idx": i, "payload": pickle.dumps({"result": f"r{i}", "info": {}})} for i in range(3)]
    ds = SimpleNamespace(iter_rows=lambda: iter(rows))
    jobs = {i: SimpleNamespace(key=f"k{i}", info=None) for i in range(3)}
    seen = []
    for job, result in RayEngine("local")._results(ds, jobs, lambda: len(seen) >= 1):
        seen.append((job.key, result))
    assert seen == [("k0", "r0")]
    # the rows are closed when the driver stops (Ray Data's executor thread stops with them), and when a row is fatal
    closed = []

    def closing(items):
        try:
            yield from items
        finally:
            closed.append(True)

    taken = []
    for job, _ in RayEngine("local")._results(SimpleNamespace(iter_rows=lambda: closing(rows)), jobs, lambda: len(taken) >= 2):
        taken.append(job.key)
    assert taken == ["k0", "k1"] and closed == [True]
    fatal = [{"idx": 0, "payload": pickle.dumps({"fatal": ValueError("no model")})}] + rows
    gen = RayEngine("local")._results(SimpleNamespace(iter_rows=lambda: closing(fatal)), jobs, None)
    with pytest.raises(ValueError, match="no model") as raised:
        next(gen)
    assert closed == [True, True] and raised.traceback  # closed while the traceback still holds the frame


def test_a_ray_client_address_goes_to_ray_as_it_is(monkeypatch):
    """Only a plain HOST:PORT is tried before Ray starts: "ray://head:10001" is Ray's own form (a client), not a
    host named "ray://head"."""
    import socket

    from gradflip_desktop.core.dataset.ray_engine import _reachable

    tried = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: tried.append(a) or (_ for _ in ()).throw(OSError("no")))
    _reachable("ray://head:10001")
    assert tried == []


def test_an_actors_chained_traceback_gives_the_error_it_ended_with():
    """A traceback of one error raised while handling another names both: the last line is the one raised."""
    from gradflip_desktop.core.dataset.ray_engine import own_error
    from gradflip_desktop.core.errors import ImageError

    text = ("Traceback (most recent call last):\ngradflip_desktop.core.errors.ModelError: the first one\n\nDuring "
            "handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n"
            "gradflip_desktop.core.errors.ImageError: cannot read a.png")
    got = own_error(RuntimeError(text))
    assert type(got) is ImageError and str(got) == "cannot read a.png"


def test_ray_2_51_itself_gets_the_actor_pool_strategy():
    from types import SimpleNamespace

    from gradflip_desktop.core.dataset.ray_engine import _actor_pool

    data = SimpleNamespace(ActorPoolStrategy=lambda size: ("pool", size))
    assert _actor_pool(SimpleNamespace(__version__="2.51.0", data=data), 2) == {"compute": ("pool", 2)}


def test_an_actors_value_error_stays_a_value_error_and_a_fatal_row_stops_the_run():
    """A bad target name in an actor is the ValueError a local run raises (a user's mistake, not "RuntimeError: ...");
    a row that says the model did not load raises that error in the driver."""
    import pickle
    from types import SimpleNamespace

    from gradflip_desktop.core.dataset.ray_engine import RayEngine, _error
    from gradflip_desktop.core.errors import ModelError

    got = _error("ValueError", "no class named 'zebra'")
    assert type(got) is ValueError and str(got) == "no class named 'zebra'"
    rows = [{"idx": 0, "payload": pickle.dumps({"fatal": ModelError("cannot load m.pt")})}]
    ds = SimpleNamespace(iter_rows=lambda: iter(rows))
    with pytest.raises(ModelError, match="^cannot load m.pt$"):
        list(RayEngine("local")._results(ds, {0: SimpleNamespace(key="k0", info=None)}, None))
