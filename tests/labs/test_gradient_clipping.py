"""gradient-clipping: quick mode runs end to end with every reference check passing; the
reference clipping functions equal torch's own."""
import pytest
import torch

from dlab.lab import catalog

METRICS = ["val_accuracy", "test_accuracy", "max_norm_after_clip", "max_norm_before_clip",
           "median_norm_before_clip", "clipped_share", "steps", "seconds_per_epoch",
           "clipnorm_cosine", "clipvalue_cosine", "unstable_diverged_without_clip",
           "unstable_diverged_at_step", "unstable_clipped_diverged",
           "unstable_clipped_val_accuracy", "adam_lr10_loss_no_clip", "adam_lr10_loss_clipnorm"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("gradient-clipping")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    assert lab_figures("gradient-clipping") == {"gradient_norms.png", "exploding.png"}
    assert m["max_norm_after_clip"] <= 1.0  # the cap holds even in quick mode
    assert m["clipnorm_cosine"] == pytest.approx(1.0, abs=1e-5)  # clipping by norm keeps
    assert m["clipvalue_cosine"] < 0.999                         # the direction, by value not


def grads(seed, scale):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(7, 5, generator=g) * scale, torch.randn(3, generator=g) * scale]


def torch_clipped(tensors, clip):
    params = [torch.zeros_like(t, requires_grad=True) for t in tensors]
    for p, t in zip(params, tensors):
        p.grad = t.clone()
    norm = clip(params)
    return [p.grad for p in params], norm


@pytest.mark.parametrize("scale", [0.01, 0.3, 5.0])
def test_reference_clip_by_global_norm_is_torchs(scale):
    clip = catalog.get("gradient-clipping").reference_functions()["clip_by_global_norm"]
    tensors = grads(0, scale)
    expected, norm = torch_clipped(tensors, lambda p: torch.nn.utils.clip_grad_norm_(p, 1.0))
    clipped, got_norm = clip(tensors, 1.0)
    assert got_norm == pytest.approx(float(norm), rel=1e-5)
    for a, b in zip(clipped, expected):
        assert torch.allclose(a, b, atol=1e-7)


def test_reference_clip_by_value_is_torchs():
    clip = catalog.get("gradient-clipping").reference_functions()["clip_by_value"]
    tensors = grads(1, 2.0)
    expected, _ = torch_clipped(tensors, lambda p: torch.nn.utils.clip_grad_value_(p, 0.5))
    for a, b in zip(clip(tensors, 0.5), expected):
        assert torch.equal(a, b)
