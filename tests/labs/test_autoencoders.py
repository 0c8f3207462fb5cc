"""autoencoders: quick mode runs end to end with every reference check passing; the exercise
solutions behave like the course asks (checked without loading Fashion-MNIST)."""
import torch
from torch import nn

from dlab.lab import catalog

METRICS = ["anomaly_roc_auc", "noisy_psnr", "denoised_psnr", "psnr_gain_db",
           "plain_active_fraction", "sparse_active_fraction", "sparse_active_ratio",
           "latent2d_knn_accuracy", "shallow_test_mse", "stacked_test_mse", "sparse_mse_ratio",
           "class_kept_ratio", "yardstick_val_accuracy", "seconds_per_epoch_stacked"]
FIGURES = {"reconstructions.png", "latent_2d.png", "denoising.png", "sparse_codes.png",
           "anomaly_histogram.png"}


def _reference(name):
    return catalog.get("autoencoders").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("autoencoders")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("autoencoders") == FIGURES


def test_corrupt_is_clipped_gaussian_noise():
    corrupt = _reference("corrupt")
    images = torch.full((4000,), 0.5)
    noisy = corrupt(images, 0.1, torch.Generator().manual_seed(0))
    assert abs(float((noisy - 0.5).std()) - 0.1) < 0.01 and float(images.max()) == 0.5
    assert corrupt(torch.ones(100), 5.0, torch.Generator().manual_seed(0)).max() <= 1.0


def test_sparse_penalty_is_mean_over_images_of_l1():
    penalty = _reference("sparse_penalty")
    codes = torch.randn(6, 5)
    assert torch.isclose(penalty(codes, 0.3), 0.3 * codes.abs().sum() / 6)


def test_anomaly_score_matches_per_image_mse():
    score = _reference("anomaly_score")
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.Unflatten(1, (1, 28, 28)))
    images = torch.rand(7, 1, 28, 28)
    with torch.no_grad():
        expected = ((model(images) - images) ** 2).mean(dim=(1, 2, 3))
    torch.testing.assert_close(score(model, images), expected)
