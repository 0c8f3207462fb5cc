"""modern-gpt: quick mode runs end to end with every reference check passing; the reference
RoPE agrees with the library's and the KV-cache size formula with a real cache."""
import torch

from dlab.lab import catalog
from dlab.models.gpt import GPT, GPTConfig, KVCache, apply_rope, rope_angles

METRICS = {"classic_val_loss", "modern_val_loss", "val_loss_modern_minus_classic",
           "classic_test_loss", "modern_test_loss", "classic_spikes", "modern_spikes",
           "spikes_modern_minus_classic", "classic_parameters", "modern_parameters",
           "classic_kv_cache_bytes", "modern_kv_cache_bytes", "kv_cache_ratio",
           "classic_activation_bytes", "modern_activation_bytes", "cached_equals_uncached",
           "sample", "classic_tokens_per_second", "modern_tokens_per_second", "cached_seconds",
           "uncached_seconds"}


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("modern-gpt")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("modern-gpt") == {"training_loss.png"}
    assert metrics["cached_equals_uncached"] is True
    assert metrics["kv_cache_ratio"] == 0.5  # 4 KV heads of 4 against 4 heads of 8
    assert metrics["modern_parameters"] < metrics["classic_parameters"]


def test_apply_rope_reference_matches_the_library():
    fn = catalog.get("modern-gpt").reference_functions()["apply_rope"]
    x = torch.randn(2, 4, 6, 16, generator=torch.Generator().manual_seed(0))
    angles = rope_angles(torch.arange(3, 9), 16)
    torch.testing.assert_close(fn(x, angles), apply_rope(x, angles))
    torch.testing.assert_close(fn(x, torch.zeros(6, 8)), x)  # angle 0: no rotation


def test_kv_cache_bytes_reference_matches_a_real_cache():
    fn = catalog.get("modern-gpt").reference_functions()["kv_cache_bytes"]
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab=10, block_size=32, d_model=64, n_layer=2, n_head=8,
                          n_kv_head=2, modern=True))
    cache = KVCache(2)
    with torch.no_grad():
        model.logits(torch.zeros(1, 20, dtype=torch.long), cache)
    assert fn(2, 2, 8, 20) == cache.nbytes()
