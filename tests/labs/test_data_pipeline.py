"""data-pipeline: quick mode runs end to end; full mode meets every criterion."""
import math

METRICS = ["updates_per_epoch_exact", "epoch_time_ratio_b1_b256", "middle_batch_wins",
           "best_batch_size", "batches_vs_dataloader_loading", "batches_vs_dataloader_training",
           "val_loss_batch_1", "val_loss_batch_32", "val_loss_batch_256", "val_loss_batch_full",
           "val_loss_avg_batch_1", "val_loss_avg_batch_32", "test_accuracy_best"]
FIGURES = {"normalization_statistics.png", "batch_size_tradeoff.png", "loader_timing.png"}


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("data-pipeline")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("data-pipeline") == FIGURES
    # Whatever the budget, the loader serves ceil(N / batch) batches per epoch.
    assert m["updates_per_epoch_exact"] is True
    assert m["updates_batch_full"] >= 1 and math.isfinite(m["val_loss_batch_full"])


def test_full_passes(run_lab_in):
    record = run_lab_in("data-pipeline", quick=False)
    assert record["status"] == "passed", record["criteria"]
