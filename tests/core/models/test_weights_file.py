"""The record's weights file: ``{file, file_bytes, file_sha256}``, a Hugging Face folder's over its config and weights."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from gradflip_desktop.core.models.weights_file import weights_file


def _folder(path, weights: bytes = b"w" * 10, config: bytes = b'{"a": 1}'):
    path.mkdir()
    (path / "config.json").write_bytes(config)
    (path / "model.safetensors").write_bytes(weights)
    return path


def test_a_file_is_named_by_its_name_size_and_digest(tmp_path):
    f = tmp_path / "m.pth"
    f.write_bytes(b"abc")
    assert weights_file(str(f)) == {"file": "m.pth", "file_bytes": 3, "file_sha256": "ba7816bf8f01cfea"}
    assert weights_file("") == {} and weights_file(str(tmp_path / "gone.pth")) == {"file": "gone.pth"}


def test_a_hf_folder_is_digested_over_its_config_and_weights_files(tmp_path):
    """A folder was named by its name alone: weights trained again in place were the same model to --resume and check."""
    a = weights_file(str(_folder(tmp_path / "vit")))
    assert a["file"] == "vit" and a["file_bytes"] == 18 and len(a["file_sha256"]) == 16
    assert weights_file(str(_folder(tmp_path / "retrained", weights=b"v" * 10)))["file_sha256"] != a["file_sha256"]
    assert weights_file(str(_folder(tmp_path / "deeper", config=b'{"a": 2}')))["file_sha256"] != a["file_sha256"]
    shutil.copytree(tmp_path / "vit", tmp_path / "copy")  # a copy under another name: the same weights
    (tmp_path / "copy" / "trainer_state.json").write_text("{}")  # files from_pretrained does not read do not count
    (tmp_path / "copy" / "README.md").write_text("# my model")
    b = weights_file(str(tmp_path / "copy"))
    assert (b["file"], b["file_bytes"], b["file_sha256"]) == ("copy", a["file_bytes"], a["file_sha256"])


def test_a_sharded_hf_folder_counts_every_shard_and_a_folder_without_weights_only_its_name(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors.index.json").write_text('{"weight_map": {}}')
    for i in (1, 2):
        (folder / f"model-0000{i}-of-00002.safetensors").write_bytes(bytes([i]) * 4)
    before = weights_file(str(folder))
    (folder / "model-00002-of-00002.safetensors").write_bytes(b"\x09" * 4)
    assert weights_file(str(folder))["file_sha256"] != before["file_sha256"] and before["file_bytes"] == 2 + 18 + 8
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text("{}")
    assert weights_file(str(bare)) == {"file": "bare"}


def test_an_onnx_file_with_external_data_is_digested_with_it(tmp_path):
    """torch.onnx.export writes a large model as NAME.onnx (the graph) and NAME.onnx.data (the weights): the digest
    covered the graph file alone, so weights trained again beside it kept the old sets under --resume and check."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    def save(folder, weights):
        folder.mkdir()
        w = numpy_helper.from_array(np.asarray(weights, dtype=np.float32).reshape(2, 2), "w")
        graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], [w])
        onnx.save_model(helper.make_model(graph), str(folder / "m.onnx"), save_as_external_data=True,
                        location="m.onnx.data", size_threshold=0)
        return folder / "m.onnx"

    a = save(tmp_path / "a", [1, 2, 3, 4])
    b = save(tmp_path / "b", [1, 2, 3, 5])  # trained again: the same graph file, other weights beside it
    assert a.read_bytes() == b.read_bytes()
    wa, wb = weights_file(str(a)), weights_file(str(b))
    assert wa["file_sha256"] != wb["file_sha256"]
    assert wa["file_bytes"] == a.stat().st_size + (a.parent / "m.onnx.data").stat().st_size
    assert weights_file(str(save(tmp_path / "c", [1, 2, 3, 4])))["file_sha256"] == wa["file_sha256"]  # the same weights
    (a.parent / "m.onnx.data").unlink()  # gone: the graph file alone (loading it says what is missing)
    digest = hashlib.sha256(a.read_bytes()).hexdigest()[:16]
    assert weights_file(str(a)) == {"file": "m.onnx", "file_bytes": a.stat().st_size, "file_sha256": digest}


def test_bytes_moved_from_one_file_of_a_folder_to_the_next_are_other_weights(tmp_path):
    """config.json "ab" + weights "cd" and config.json "abc" + weights "d" are the same bytes in a row: each file's name
    and size go into the digest so they differ (mutation audit: digesting the bytes alone survived)."""
    a = weights_file(str(_folder(tmp_path / "a", config=b"ab", weights=b"cd")))
    b = weights_file(str(_folder(tmp_path / "b", config=b"abc", weights=b"d")))
    assert a["file_bytes"] == b["file_bytes"] == 4 and a["file_sha256"] != b["file_sha256"]
    expected = hashlib.sha256(b"config.json:2;ab" b"model.safetensors:2;cd").hexdigest()[:16]
    assert a["file_sha256"] == expected


def test_a_folder_given_with_a_trailing_slash_is_named_by_the_folder(tmp_path):
    """"vit/" (a shell's completion) names the folder "vit", not "" (mutation audit: basename without normpath survived)."""
    folder = _folder(tmp_path / "vit")
    assert weights_file(str(folder) + "/") == weights_file(str(folder)) and weights_file(str(folder) + "/")["file"] == "vit"
