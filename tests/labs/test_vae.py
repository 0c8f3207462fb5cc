"""vae: quick mode runs end to end with every reference check passing; the reference
reparameterization and KL term agree with torch.distributions."""
import math

import torch
from torch.distributions import Normal, kl_divergence

from dlab.lab import catalog

METRICS = ["vae_confidence", "vae_frechet", "vae_classes_seen", "vae_max_share",
           "plain_noise_confidence", "plain_noise_frechet", "vae_beats_ae_noise",
           "real_confidence", "interpolation_step_ratio", "active_latent_dims",
           "vae_reconstruction", "vae_kl", "plain_reconstruction", "seconds_per_epoch"]
FIGURES = {"losses.png", "samples.png", "plain_ae_samples.png", "interpolation.png"}


def _reference(name):
    return catalog.get("vae").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("vae")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("vae") == FIGURES
    assert 0 < record["metrics"]["vae_confidence"] <= 1


def test_reparameterize_samples_the_gaussian():
    reparameterize = _reference("reparameterize")
    torch.manual_seed(0)
    z = reparameterize(torch.full((50000, 1), -1.0), torch.full((50000, 1), math.log(0.25)))
    assert abs(float(z.mean()) + 1) < 0.02 and abs(float(z.std()) - 0.5) < 0.02


def test_kl_matches_torch_distributions():
    kl = _reference("kl_divergence")
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1).mean()
    torch.testing.assert_close(kl(mu, logvar), expected)
