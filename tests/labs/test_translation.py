"""translation: quick mode runs end to end with every reference check passing; the reference
exercise solutions are checked against direct torch computations."""
import torch

from dlab.lab import catalog

METRICS = {"bleu_plain", "bleu_attention", "attention_gain", "val_bleu_plain",
           "val_bleu_beam_plain", "val_bleu_beam_attention",
           "val_bleu_attention", "val_loss_plain", "val_loss_attention", "train_pairs",
           "samples", "seconds_per_epoch_plain", "seconds_per_epoch_attention"}


def _reference(name):
    return catalog.get("translation").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("translation")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("translation") == {"loss_curves.png", "attention_maps.png"}
    assert len(metrics["samples"]) == 8
    assert metrics["attention_gain"] == metrics["bleu_attention"] - metrics["bleu_plain"]


def test_decoder_inputs_reference():
    targets = torch.randint(4, 50, (6, 9))
    got = _reference("decoder_inputs")(targets, 2)
    assert torch.equal(got[:, 0], torch.full((6,), 2))
    assert torch.equal(got[:, 1:], targets[:, :-1])


def test_dot_attention_reference_matches_sdpa():
    q, k = torch.randn(3, 4, 8), torch.randn(3, 6, 8)
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[0, :2] = False
    context, weights = _reference("dot_attention")(q, k, mask)
    expected = torch.nn.functional.scaled_dot_product_attention(
        q, k, k, attn_mask=mask[:, None, :], scale=1.0)
    torch.testing.assert_close(context, expected)
    assert torch.all(weights[0, :, :2] == 0)


def test_greedy_decode_reference_follows_argmax_and_stops_at_end():
    calls = []

    def step(tokens, state):
        calls.append(tokens.clone())
        return torch.nn.functional.one_hot(torch.full_like(tokens, 3), 5).float(), state

    got = _reference("greedy_decode")(step, (torch.zeros(1, 2, 4),), 2, 3, 7)
    assert torch.equal(got, torch.full((2, 1), 3))  # every row wrote the end id at once
    assert torch.equal(calls[0], torch.full((2, 1), 2))
