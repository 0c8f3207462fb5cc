"""sine-rnn: quick mode runs end to end with every reference check passing; the reference
exercise solutions agree with numpy/torch."""
import numpy as np
import torch
from torch import nn

from dlab.lab import catalog
from dlab.sequences import make_windows

METRICS = {"test_mae", "naive_test_mae", "mae_vs_naive", "recursive_mae",
           "gradient_first_over_last", "epochs_trained", "best_val_loss", "seconds_per_epoch"}


def test_quick(run_lab_in, lab_figures):
    record = run_lab_in("sine-rnn")
    assert set(record["metrics"]) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("sine-rnn") == {"prediction_vs_truth.png", "gradient_through_time.png"}
    assert record["metrics"]["gradient_first_over_last"] < 1


def test_make_windows_reference_matches_the_library():
    fn = catalog.get("sine-rnn").reference_functions()["make_windows"]
    series = np.random.default_rng(0).normal(size=40).astype(np.float32)
    for lookback, horizon in [(5, 1), (10, 7), (39, 1)]:
        for got, want in zip(fn(series, lookback, horizon),
                             make_windows(series, lookback, horizon)):
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, want)


def test_rnn_step_reference_unrolls_like_nn_rnn():
    step = catalog.get("sine-rnn").reference_functions()["rnn_step"]
    torch.manual_seed(0)
    rnn = nn.RNN(2, 6, batch_first=True)
    x = torch.randn(3, 9, 2)
    h = torch.zeros(3, 6)
    for t in range(9):
        h = step(x[:, t], h, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
                 rnn.bias_hh_l0)
    torch.testing.assert_close(h, rnn(x)[0][:, -1])
