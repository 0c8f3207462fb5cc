"""rnn-vs-lstm: quick mode runs end to end with every reference check passing; the hand-written
LSTM and GRU steps unroll exactly like torch's layers."""
import torch
from torch import nn

from dlab.lab import catalog

METRICS = {"rnn_accuracy", "lstm_accuracy", "gru_accuracy", "rnn_parameters",
           "lstm_parameters", "gru_parameters", "rnn_shortest_accuracy",
           "lengths_only_gated_solve", "gru_parameter_saving", "gru_lstm_gap_longest",
           "gradient_first_over_last", "seconds_total"}


def test_quick(run_lab_in, lab_figures):
    record = run_lab_in("rnn-vs-lstm")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("rnn-vs-lstm") == {"accuracy_vs_length.png", "gradient_through_time.png"}
    assert set(metrics["lstm_accuracy"]) == {"5", "15"}
    assert 0.2 < metrics["gru_parameter_saving"] < 0.3


def test_lstm_step_reference_unrolls_like_nn_lstm():
    step = catalog.get("rnn-vs-lstm").reference_functions()["lstm_step"]
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, batch_first=True)
    x = torch.randn(2, 7, 3)
    h = c = torch.zeros(2, 5)
    for t in range(7):
        h, c = step(x[:, t], h, c, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0,
                    lstm.bias_hh_l0)
    out, (h_n, c_n) = lstm(x)
    torch.testing.assert_close(h, h_n[0])
    torch.testing.assert_close(c, c_n[0])


def test_gru_step_reference_unrolls_like_nn_gru():
    step = catalog.get("rnn-vs-lstm").reference_functions()["gru_step"]
    torch.manual_seed(0)
    gru = nn.GRU(3, 5, batch_first=True)
    x = torch.randn(2, 7, 3)
    h = torch.randn(2, 5)
    h0 = h.clone()
    for t in range(7):
        h = step(x[:, t], h, gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)
    torch.testing.assert_close(h, gru(x, h0[None])[1][0])
