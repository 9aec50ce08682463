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
pytestmark = pytest.mark.ray  # CI may deselect it with -m "not ray"; plain `pytest` runs it

from gradflip_desktop.core.dataset import collect_inputs, read_summary  # noqa: E402
from gradflip_desktop.core.dataset.job import JobSettings, explain_inputs  # noqa: E402
from gradflip_desktop.core.dataset.ray_engine import RayEngine  # noqa: E402
from gradflip_desktop.core.options import ExplainOptions  # noqa: E402

from helpers import make_tiny  # noqa: E402

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def local_ray():
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
