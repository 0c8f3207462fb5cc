"""A trained model out of PyTorch (extra ``deploy``): ONNX export through ``torch.export``
(``dynamo=True``; the TorchScript path is deprecated), an onnxruntime session on the CPU, and the
per-image latency of any callable."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from dlab.engine.timing import median_call_ms


def export_onnx(model: nn.Module, example: torch.Tensor, path: str | Path) -> Path:
    """Write ``model`` as ONNX for inputs shaped like ``example``, without the exporter's
    progress output. The model is put in eval mode, fp32 and contiguous memory (in place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.float().to(memory_format=torch.contiguous_format).eval()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(model, (example.float().contiguous(),), str(path), dynamo=True,
                          external_data=False, verbose=False)
    return path


def onnx_session(path: str | Path, threads: int | None = None):
    """An onnxruntime session on the CPU with ``threads`` intra-op threads (default: as many
    as torch uses, so latencies compare like with like)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_predict(session, x: torch.Tensor) -> torch.Tensor:
    """Run ``session`` (one input, one output) on ``x`` and return the output as a tensor."""
    name = session.get_inputs()[0].name
    return torch.from_numpy(session.run(None, {name: np.ascontiguousarray(x.float().numpy())})[0])


def median_latency_ms(run: Callable[[torch.Tensor], object], images: torch.Tensor) -> float:
    """Median milliseconds of ``run`` on each (1, C, H, W) image of ``images``, after one
    warm-up call."""
    return median_call_ms(lambda i: run(images[i:i + 1]), len(images))
