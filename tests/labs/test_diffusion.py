"""diffusion: quick mode runs end to end with every reference check passing; the reference
exercise functions agree with the library's diffusion module."""
import torch

from dlab.generative import diffusion
from dlab.generative.diffusion import Schedule
from dlab.lab import catalog

METRICS = ["class_accuracy", "class_confidence", "ancestral_class_accuracy",
           "ancestral_frechet", "ddim_frechet", "ddim_frechet_ratio", "ddim_class_accuracy",
           "ddim_accuracy_ratio", "ddim_steps",
           "ancestral_seconds", "ddim_seconds", "ddim_speedup", "edge_agreement",
           "unconditioned_edge_agreement", "edge_agreement_gain", "final_loss",
           "seconds_per_step"]
FIGURES = {"forward_process.png", "training_loss.png", "ancestral_by_class.png",
           "ddim_by_class.png", "edge_conditioning.png"}


def _reference(name):
    return catalog.get("diffusion").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("diffusion")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("diffusion") == FIGURES
    assert 0 <= record["metrics"]["class_accuracy"] <= 1
    assert record["metrics"]["ddim_steps"] == 10


def test_reference_exercises_match_the_library():
    schedule = Schedule.linear(40)
    gen = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(6, 1, 5, 5, generator=gen), torch.randn(6, 1, 5, 5, generator=gen)
    t = torch.tensor([0, 3, 10, 20, 30, 39])
    torch.testing.assert_close(_reference("q_sample")(x0, t, noise, schedule.alpha_bars),
                               diffusion.q_sample(x0, t, noise, schedule.alpha_bars))
    for step in (0, 1, 39):
        torch.testing.assert_close(
            _reference("ancestral_step")(x0, step, noise, schedule, noise * 2),
            diffusion.ancestral_step(x0, step, noise, schedule, noise * 2))
    torch.testing.assert_close(_reference("guided_noise")(x0, noise, 2.5),
                               diffusion.guided_noise(x0, noise, 2.5))

    class Half(torch.nn.Module):
        def forward(self, x, t, labels, cond):
            return x / 2

    losses = [loss(Half(), x0, None, None, schedule.alpha_bars,
                   torch.Generator().manual_seed(4))
              for loss in (_reference("ddpm_loss"), diffusion.ddpm_loss)]
    torch.testing.assert_close(losses[0], losses[1])
