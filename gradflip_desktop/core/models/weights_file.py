"""The weights a model was loaded from, as the record names them: ``{file, file_bytes, file_sha256}``.

``--resume``, ``gradflip check`` and the app's folder runs compare these to know whether a result set was made
with the weights loaded now: weights trained again and saved over the same file keep its name and its size, so
only the digest tells. A Hugging Face folder (what ``save_pretrained`` writes) is digested over the files
``from_pretrained`` builds the network from: its ``config.json`` and its weights files (``model.safetensors``,
``pytorch_model.bin``, their shards and shard indexes). Recorded by its name alone, a folder trained again in
place kept its old sets under ``--resume`` and ``check`` measured their maps with the new weights. An ONNX file whose
weights lie in external data files (``torch.onnx.export`` writes ``NAME.onnx.data`` beside a large ``NAME.onnx``) is
digested with them: the graph file alone stayed the same when the weights beside it were trained again.
"""

from __future__ import annotations

import hashlib
import os
import re

__all__ = ["FOLDER_FILES", "weights_file"]

# an ONNX file with external data holds its graph (kilobytes); one larger holds its weights itself: not parsed twice
EXTERNAL_GRAPH_LIMIT = 64 << 20

# the files of a Hugging Face folder that decide its network and weights (not its trainer state, README, optimizer)
FOLDER_FILES = re.compile(r"config\.json|(model|pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)(\.index\.json)?")


def _folder_files(folder: str) -> list[str]:
    names = sorted(n for n in os.listdir(folder) if FOLDER_FILES.fullmatch(n) and os.path.isfile(os.path.join(folder, n)))
    return names if any(n != "config.json" for n in names) else []


def _external_data(path: str) -> list[str]:
    """The external data files an ONNX file's weights refer to that are there (their names, relative to its folder;
    none for another file, or where the ``onnx`` package cannot read it: then the model did not load either)."""
    if not path.lower().endswith(".onnx") or os.path.getsize(path) > EXTERNAL_GRAPH_LIMIT:
        return []
    try:
        import onnx  # noqa: PLC0415 - optional (the "onnx" extra), and only for an ONNX file

        model = onnx.load(path, load_external_data=False)
    except Exception:  # noqa: BLE001 - not readable here: the loader says why
        return []
    folder = os.path.dirname(path)
    names = {e.value for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
             for e in t.external_data if e.key == "location"}
    return sorted(n for n in names if os.path.isfile(os.path.join(folder, n)))


def weights_file(source: str) -> dict:
    """The weights file as the record names it: its name, size in bytes and the first 16 hex digits of its SHA-256
    (a Hugging Face folder: its name, the bytes and the digest of its config and weights files, each file's name
    and size digested with it; an ONNX file with external data: those files too, the same way; another folder: its
    name alone; no source: nothing). Taken when the model is loaded:
    weights saved over the file later, or the file deleted, must not be credited to the model in memory."""
    if not source:
        return {}
    name = os.path.basename(os.path.normpath(source))
    try:
        if os.path.isdir(source):
            files = [(n, os.path.join(source, n)) for n in _folder_files(source)]
            if not files:
                return {"file": name}
        elif os.path.isfile(source):
            files = [("", source)]
            files += [(n, os.path.join(os.path.dirname(source), n)) for n in _external_data(source)]
        else:
            return {"file": name}
        h, size = hashlib.sha256(), 0
        for label, path in files:
            if label:  # a folder's file: its name and size go in too (two files' bytes cannot trade places)
                h.update(f"{label}:{os.path.getsize(path)};".encode())
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
                    size += len(block)
        return {"file": name, "file_bytes": size, "file_sha256": h.hexdigest()[:16]}
    except OSError:
        return {"file": name}
