"""dlab.models.gpt: the causal mask, RoPE, RMSNorm, grouped-query attention and the KV cache,
each against a direct formula or torch's own implementation."""
import pytest
import torch
import torch.nn.functional as F

from dlab.errors import ConfigError
from dlab.models.gpt import (GPT, GPTConfig, KVCache, RMSNorm, apply_rope, attention_by_hand,
                             attention_fused, rope_angles)
from dlab.sequences import generate


def tiny(modern: bool, **overrides) -> GPT:
    torch.manual_seed(0)
    settings = dict(vocab=20, block_size=16, d_model=32, n_layer=2, n_head=8 if modern else 4,
                    n_kv_head=4, modern=modern)
    return GPT(GPTConfig(**{**settings, **overrides})).eval()


@pytest.mark.parametrize("modern", [False, True])
def test_changing_a_future_token_never_changes_earlier_logits(modern):
    model = tiny(modern)
    ids = torch.randint(0, 20, (2, 12), generator=torch.Generator().manual_seed(1))
    changed = ids.clone()
    changed[:, 7:] = (changed[:, 7:] + 3) % 20
    with torch.no_grad():
        a, b = model.logits(ids), model.logits(changed)
    torch.testing.assert_close(a[:, :7], b[:, :7])
    assert not torch.allclose(a[:, 7:], b[:, 7:])


def test_forward_gives_the_cross_entropy_layout():
    model = tiny(False)
    assert model(torch.zeros(3, 10, dtype=torch.long)).shape == (3, 20, 10)


@pytest.mark.parametrize("t_query", [1, 3, 9])
def test_attention_by_hand_matches_torch_with_cached_keys(t_query):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, t, 8, generator=g) for t in (9, 9, 9))
    full = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    for attend in (attention_by_hand, attention_fused):
        torch.testing.assert_close(attend(q[:, :, -t_query:], k, v), full[:, :, -t_query:])


def test_rope_matches_the_complex_number_formula():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 8, generator=g)
    angles = rope_angles(torch.arange(5), 8)
    pairs = torch.view_as_complex(x.reshape(2, 3, 5, 4, 2).contiguous())
    expected = torch.view_as_real(pairs * torch.polar(torch.ones_like(angles), angles))
    torch.testing.assert_close(apply_rope(x, angles), expected.flatten(-2))
    torch.testing.assert_close(angles[3, 1], torch.tensor(3 * 10000 ** (-2 / 8)))


def test_rope_scores_depend_only_on_the_distance():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(8, generator=g), torch.randn(8, generator=g)

    def score(i, j):
        a = rope_angles(torch.tensor([i, j]), 8)
        return apply_rope(q, a[0]) @ apply_rope(k, a[1])
    torch.testing.assert_close(score(5, 2), score(13, 10))
    assert not torch.allclose(score(5, 2), score(5, 3))


def test_rmsnorm_matches_its_formula():
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    norm = RMSNorm(6)
    with torch.no_grad():
        norm.weight.copy_(torch.arange(1.0, 7.0))
    expected = x / torch.sqrt((x ** 2).mean(-1, keepdim=True) + 1e-6) * torch.arange(1.0, 7.0)
    torch.testing.assert_close(norm(x), expected)


def test_gqa_with_as_many_kv_heads_as_query_heads_is_multi_head_attention():
    """With n_kv_head = n_head the model's attention equals torch's MultiheadAttention with
    the same projection weights."""
    model = tiny(True, n_head=4, n_kv_head=4)
    attention = model.blocks[0].attn
    x = torch.randn(2, 6, 32, generator=torch.Generator().manual_seed(0))
    mha = torch.nn.MultiheadAttention(32, 4, bias=False, batch_first=True)
    with torch.no_grad():
        k_weight, v_weight = attention.kv.weight.chunk(2)
        mha.in_proj_weight.copy_(torch.cat((attention.q.weight, k_weight, v_weight)))
        mha.out_proj.weight.copy_(attention.proj.weight)
        expected, _ = mha(x, x, x, attn_mask=torch.ones(6, 6, dtype=torch.bool).triu(1),
                          need_weights=False)
        torch.testing.assert_close(attention(x), expected)


def test_grouped_query_attention_shares_each_kv_head_between_query_heads():
    gqa = tiny(True)  # 8 query heads, 4 key/value heads
    mha = tiny(True, n_kv_head=8)
    kv_params = lambda m: m.blocks[0].attn.kv.weight.numel()  # noqa: E731
    assert kv_params(gqa) * 2 == kv_params(mha)
    cache = KVCache(2)
    with torch.no_grad():
        gqa.logits(torch.zeros(1, 5, dtype=torch.long), cache)
    assert cache.keys[0].shape == (1, 4, 5, 4)


@pytest.mark.parametrize("modern", [False, True])
def test_cached_and_uncached_generation_give_identical_tokens(modern):
    """40 new tokens with a 16-token context: the context fills up and restarts twice."""
    model = tiny(modern)
    cached = generate(model.step, [1, 2, 3], 40, 1.0, torch.Generator().manual_seed(1))
    uncached = generate(model.step_uncached, [1, 2, 3], 40, 1.0,
                        torch.Generator().manual_seed(1))
    assert cached == uncached


@pytest.mark.parametrize("modern", [False, True])
def test_cached_logits_equal_the_full_forward(modern):
    model = tiny(modern)
    ids = torch.randint(0, 20, (1, 10), generator=torch.Generator().manual_seed(2))
    cache = KVCache(2)
    with torch.no_grad():
        parts = [model.logits(ids[:, :6], cache), model.logits(ids[:, 6:8], cache),
                 model.logits(ids[:, 8:], cache)]
        torch.testing.assert_close(torch.cat(parts, dim=1), model.logits(ids))
    assert cache.length == 10
    c = model.cfg  # layers · (k, v) · T · kv heads · head size · 4 bytes (fp32)
    assert cache.nbytes() == c.n_layer * 2 * 10 * c.n_kv_head * c.head_size * 4


def test_configuration_errors_are_explained():
    with pytest.raises(ConfigError):
        GPTConfig(vocab=10, d_model=30, n_head=4)
    with pytest.raises(ConfigError):
        GPTConfig(vocab=10, n_head=8, n_kv_head=3)
    with pytest.raises(ConfigError):
        tiny(False).logits(torch.zeros(1, 17, dtype=torch.long))


def test_fused_attention_on_bf16_cpu_tensors_is_the_fp32_result_rounded():
    """On a CPU, half-precision attention runs in fp32 (its bf16 backward kernel is slow):
    under autocast the result is the fp32 attention of the same inputs, rounded to bf16, and
    gradients reach the bf16 inputs."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 9, 8, generator=g).bfloat16().requires_grad_()
               for _ in range(3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = attention_fused(q, k, v)
        cached = attention_fused(q[:, :, -3:], k, v)
    expected = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, expected.bfloat16(), atol=0, rtol=0)
    torch.testing.assert_close(cached, expected[:, :, -3:].bfloat16(), atol=0, rtol=0)
    out.float().sum().backward()
    assert q.grad.dtype == torch.bfloat16 and q.grad.abs().sum() > 0
