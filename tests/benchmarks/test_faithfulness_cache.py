"""benchmarks/faithfulness.py's --cache: a peer's map cached under one protocol is reused under another with
its time, and its metrics are measured again (they depend on the protocol)."""

from __future__ import annotations

import numpy as np

from benchmarks import faithfulness


def test_a_map_cached_under_another_protocol_keeps_its_time_and_is_measured_again(tmp_path):
    imp = np.random.default_rng(0).random((8, 8)).astype(np.float32)
    faithfulness.Cache(str(tmp_path), "p33-road10-90").save("chelsea", "rise", imp, 41.5, {"blur del": 0.3})
    again, seconds, metrics = faithfulness.Cache(str(tmp_path), "p33-road20-50-80").load("chelsea", "rise")
    np.testing.assert_array_equal(again, imp)
    assert seconds == 41.5
    assert metrics == {}
    same = faithfulness.Cache(str(tmp_path), "p33-road10-90").load("chelsea", "rise")
    assert same[1] == 41.5 and same[2] == {"blur del": 0.3}


def test_gradflip_maps_are_never_cached(tmp_path):
    cache = faithfulness.Cache(str(tmp_path), "p33")
    cache.save("chelsea", "gradflip", np.ones((4, 4), np.float32), 1.0, {})
    assert cache.load("chelsea", "gradflip") == (None, None, {})
    assert not any(tmp_path.iterdir())
