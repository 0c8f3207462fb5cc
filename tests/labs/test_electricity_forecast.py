"""electricity-forecast: quick mode runs end to end with every reference check passing; the
baseline and the causal convolution behave as the course describes."""
import numpy as np
import torch

from dlab.lab import catalog

METRICS = {"test_mae_gwh", "lstm_over_naive", "lstm_over_ma7", "wavenet_over_lstm",
           "mae_by_weekday_gwh", "holiday_mae_gwh", "lstm_seconds_per_epoch",
           "wavenet_seconds_per_epoch", "wavenet_over_lstm_epoch_time", "one_epoch_seconds",
           "step_seconds", "wavenet_over_lstm_step_time_longest"}


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("electricity-forecast")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("electricity-forecast") == {"mae_by_weekday.png", "forecasts.png"}
    assert set(metrics["test_mae_gwh"]) == {"naive", "ma7", "last_week", "lstm", "wavenet"}
    # the baselines need no training: their errors are the full-mode ones already
    assert 100 < metrics["test_mae_gwh"]["ma7"] < metrics["test_mae_gwh"]["naive"]


def test_moving_average_reference():
    fn = catalog.get("electricity-forecast").reference_functions()["moving_average_forecast"]
    X = np.arange(20, dtype=float).reshape(2, 10)
    np.testing.assert_allclose(fn(X, 7, 3), np.repeat(X[:, -7:].mean(1, keepdims=True), 3, 1))
    np.testing.assert_allclose(fn(X, 10, 1), X.mean(1, keepdims=True))


def test_causal_conv_reference_matches_left_padded_conv1d():
    fn = catalog.get("electricity-forecast").reference_functions()["causal_conv"]
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(3, 5, kernel_size=3, dilation=4)
    x = torch.randn(2, 3, 25)
    want = conv(torch.nn.functional.pad(x, (8, 0)))
    torch.testing.assert_close(fn(x, conv.weight, conv.bias, 4), want)
