"""mini-gpt: quick mode runs end to end with every reference check passing; the reference
causal attention agrees with torch's and trains inside the library's GPT."""
import torch
import torch.nn.functional as F

from dlab.lab import catalog
from dlab.models.gpt import GPT, GPTConfig

METRICS = {"val_loss", "test_loss", "gru_val_loss", "val_loss_minus_gru", "gru_test_loss",
           "parameters", "gru_parameters", "training_characters", "known_word_share",
           "speaker_lines", "gru_known_word_share", "gru_speaker_lines", "samples",
           "train_seconds", "tokens_per_second", "gru_train_seconds", "gru_tokens_per_second"}


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("mini-gpt")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("mini-gpt") == {"loss_curves.png"}
    assert metrics["val_loss"] < 4.17  # better than guessing among 65 characters
    assert set(metrics["samples"]) == {"mini-GPT", "GRU"}
    assert all(s.startswith("ROMEO:") and len(s) == 106 for s in metrics["samples"].values())


def test_causal_attention_reference_matches_torch():
    fn = catalog.get("mini-gpt").reference_functions()["causal_attention"]
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 6, 4, generator=g) for _ in range(3))
    full = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(fn(q, k, v), full)
    torch.testing.assert_close(fn(q[:, :, -1:], k, v), full[:, :, -1:])


def test_the_model_trains_with_the_reference_attention():
    fn = catalog.get("mini-gpt").reference_functions()["causal_attention"]
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab=5, block_size=8, d_model=16, n_layer=1, n_head=2), attend=fn)
    ids = torch.tensor([[0, 1, 2, 3, 4, 0, 1, 2, 3]] * 4)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = F.cross_entropy(model(ids[:, :-1]), ids[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1  # the cycle 0 1 2 3 4 is learned
