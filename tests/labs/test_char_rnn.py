"""char-rnn: quick mode runs end to end with every reference check passing and its weights
are saved for later labs; the reference exercise solutions are checked against torch."""
import torch

from dlab.lab import catalog

METRICS = {"val_loss", "test_loss", "uniform_loss", "parameters", "epochs",
           "known_word_share_t07", "speaker_lines_t07", "samples", "train_seconds",
           "tokens_per_second"}


def test_quick(run_lab_in, shared_data, lab_figures, quick_runs):
    record = run_lab_in("char-rnn")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("char-rnn") == {"loss_curves.png"}
    assert set(metrics["samples"]) == {"0.3", "0.7", "1.2"}
    assert all(s.startswith("ROMEO:") and len(s) == 6 + 200 for s in metrics["samples"].values())
    assert metrics["val_loss"] < metrics["uniform_loss"]  # one small epoch already learns
    assert list((quick_runs.out / "_shared").glob("char-gru-*.safetensors"))


def test_make_sequences_reference():
    fn = catalog.get("char-rnn").reference_functions()["make_sequences"]
    ids = torch.randint(0, 65, (1001,))
    X, Y = fn(ids, 100)
    assert X.shape == Y.shape == (10, 100)
    assert torch.equal(X.flatten()[1:], Y.flatten()[:-1])
    assert torch.equal(Y.flatten(), ids[1:])


def test_temperature_probs_reference():
    fn = catalog.get("char-rnn").reference_functions()["temperature_probs"]
    logits = torch.randn(3, 65)
    torch.testing.assert_close(fn(logits, 0.7), torch.softmax(logits / 0.7, dim=-1))
    torch.testing.assert_close(fn(logits, 0.7).sum(-1), torch.ones(3))
