import pytest
import torch
from torch import nn

from dlab.vision.deploy import export_onnx, median_latency_ms, onnx_predict, onnx_session

pytest.importorskip("onnxruntime")


def test_exported_model_gives_the_same_outputs_under_onnxruntime(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(4, 2, 1))
    model.eval()
    x = torch.rand(1, 1, 16, 16)
    path = export_onnx(model, x, tmp_path / "m.onnx")
    assert path.exists() and not (tmp_path / "m.onnx.data").exists()  # one self-contained file
    session = onnx_session(path)
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(onnx_predict(session, x), expected, atol=1e-5)
    assert median_latency_ms(lambda im: onnx_predict(session, im), torch.rand(3, 1, 16, 16)) > 0
