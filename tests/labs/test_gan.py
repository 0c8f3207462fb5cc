"""gan: quick mode runs end to end with every reference check passing; the reference losses
agree with the formulas written with log-sigmoids."""
import torch
import torch.nn.functional as F

from dlab.lab import catalog

METRICS = ["gan_confidence", "gan_classes_seen", "gan_max_share", "gan_frechet", "final_d_loss",
           "final_g_loss", "final_d_real", "final_d_fake", "gif_written", "seconds_per_epoch"]
FIGURES = {"losses.png", "fixed_noise_epochs.png", "samples.png", "class_shares.png"}


def _reference(name):
    return catalog.get("gan").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("gan")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("gan") == FIGURES
    assert lab_figures("gan", "gif") == {"fixed_noise.gif"}
    assert record["metrics"]["gif_written"] is True


def test_losses_match_log_sigmoid_formulas():
    d_loss, g_loss = _reference("discriminator_loss"), _reference("generator_loss")
    real, fake = torch.randn(7, 1), torch.randn(5, 1)
    expected = -F.logsigmoid(real).mean() - F.logsigmoid(-fake).mean()
    torch.testing.assert_close(d_loss(real, fake), expected)
    torch.testing.assert_close(g_loss(fake), -F.logsigmoid(fake).mean())
