"""Bring your own classifier: model files (torchvision/timm state dicts in .pth/.bin/.safetensors,
TorchScript, ONNX) and Hugging Face model folders, their settings
(:class:`ModelSpec`, saved in a sidecar ``MODEL.gradflip.json``) and safe reading of weights.

    spec.py        ModelSpec, FORMATS, settings parsing
    sidecar.py     read_sidecar, write_sidecar, sidecar_path
    safety.py      torch.load(weights_only=True) and the pickle scan that says why a file is refused
    fitting.py     fitting a state dict to an architecture (key prefixes, mismatch messages, building)
    heads.py       fine-tune heads replaced by nn.Sequential(Dropout, Linear) (fc.1.* for fc.*)
    torchvision.py architectures, weights metadata, the torch hub cache (torchvision imported lazily)
    timm.py        arch "timm:NAME" (optional extra timm)
    huggingface.py save_pretrained folders (optional extra hf)
    scripted.py    TorchScript
    onnx.py        ONNX via onnx2torch (optional extra), with weight-node folding
    load.py        load_model_file, load_model_spec, detect_format
    inspection.py  inspect_model_file: what the Load model dialog prefills
"""

from __future__ import annotations

from .inspection import ModelFileInfo, inspect_model_file
from .load import detect_format, load_model_file, load_model_spec
from .sidecar import read_sidecar, sidecar_path, write_sidecar
from .spec import FORMATS, SIDECAR_SUFFIX, ModelSpec
from .timm import TIMM_PREFIX, timm_architectures
from .torchvision import CachedWeights, cached_torchvision_weights, guess_architectures, hub_checkpoint_dir, torchvision_architectures

__all__ = [
    "FORMATS",
    "SIDECAR_SUFFIX",
    "TIMM_PREFIX",
    "CachedWeights",
    "ModelFileInfo",
    "ModelSpec",
    "cached_torchvision_weights",
    "detect_format",
    "guess_architectures",
    "hub_checkpoint_dir",
    "inspect_model_file",
    "load_model_file",
    "load_model_spec",
    "read_sidecar",
    "sidecar_path",
    "timm_architectures",
    "torchvision_architectures",
    "write_sidecar",
]
