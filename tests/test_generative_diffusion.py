"""The diffusion library: the schedule's ᾱ, q_sample against the one-step chain, the loss,
DDIM with a perfect noise predictor, classifier-free guidance, and Sobel edges against scipy."""
import numpy as np
import scipy.ndimage
import torch

from dlab.generative import diffusion
from dlab.generative.diffusion import Schedule


def test_alpha_bar_is_the_cumulative_product_and_ends_near_noise():
    schedule = Schedule.linear(100)
    expected = np.cumprod(1 - schedule.betas.double().numpy())
    np.testing.assert_allclose(schedule.alpha_bars.numpy(), expected, rtol=1e-6)
    assert float(schedule.alpha_bars[-1]) < 1e-3
    assert len(Schedule.linear(1000).betas) == 1000
    assert abs(float(Schedule.linear(1000).betas[-1]) - 0.02) < 1e-7


def test_q_sample_matches_iterating_the_one_step_process():
    torch.manual_seed(0)
    schedule = Schedule(torch.tensor([0.1, 0.2, 0.3, 0.05]))
    x0 = torch.full((200_000, 1, 1, 1), 0.7)
    x = x0.clone()
    for beta in schedule.betas:  # q(x_t | x_{t-1}) = N(√(1−β) x_{t−1}, β)
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn_like(x)
    jump = diffusion.q_sample(x0, torch.full((len(x0),), 3), torch.randn_like(x0),
                              schedule.alpha_bars)
    assert abs(float(x.mean() - jump.mean())) < 0.01
    assert abs(float(x.var() - jump.var())) < 0.01
    assert abs(float(jump.mean()) - 0.7 * float(schedule.alpha_bars[3].sqrt())) < 0.01


class _TrueNoise(torch.nn.Module):
    """A perfect noise predictor for a known clean image x0: ε = (x_t − √ᾱ x0) / √(1 − ᾱ)."""
    num_classes = 10

    def __init__(self, x0, alpha_bars):
        super().__init__()
        self.x0, self.alpha_bars = x0, alpha_bars

    def forward(self, x, t, labels, cond=None):
        a = self.alpha_bars[t].reshape(-1, 1, 1, 1)
        return (x - a.sqrt() * self.x0[:len(x)]) / (1 - a).sqrt()


def test_one_ddim_step_with_the_true_noise_recovers_x0():
    schedule = Schedule.linear(50)
    x0 = torch.rand(3, 1, 4, 4) * 2 - 1
    noise = torch.randn(3, 1, 4, 4)
    t = 37
    x_t = diffusion.q_sample(x0, torch.full((3,), t), noise, schedule.alpha_bars)
    eps = _TrueNoise(x0, schedule.alpha_bars)(x_t, torch.full((3,), t), None)
    torch.testing.assert_close(eps, noise, atol=1e-4, rtol=1e-4)
    out = diffusion.ddim_step(x_t, schedule.alpha_bars[t], torch.tensor(1.0), eps)
    torch.testing.assert_close(out, x0, atol=1e-4, rtol=1e-4)


def test_ddim_is_deterministic_and_exact_with_a_perfect_predictor():
    schedule = Schedule.linear(30)
    x0 = torch.rand(2, 1, 4, 4) * 2 - 1
    model = _TrueNoise(x0, schedule.alpha_bars)
    labels = torch.tensor([1, 2])
    a = diffusion.sample_ddim(model, schedule, labels, torch.Generator().manual_seed(5),
                              steps=30, shape=(1, 4, 4))
    b = diffusion.sample_ddim(model, schedule, labels, torch.Generator().manual_seed(5),
                              steps=30, shape=(1, 4, 4))
    assert torch.equal(a, b)
    torch.testing.assert_close(a, x0, atol=1e-4, rtol=1e-4)
    assert diffusion.ddim_timesteps(100, 10)[0] == 99 and diffusion.ddim_timesteps(100, 10)[-1] == 0
    assert len(diffusion.ddim_timesteps(100, 10)) == 10


def test_ancestral_sampling_with_a_perfect_predictor_lands_near_x0():
    schedule = Schedule.linear(100)
    x0 = torch.rand(4, 1, 4, 4) * 2 - 1
    out = diffusion.sample_ancestral(_TrueNoise(x0, schedule.alpha_bars), schedule,
                                     torch.zeros(4, dtype=torch.long),
                                     torch.Generator().manual_seed(0), shape=(1, 4, 4))
    assert float((out - x0).abs().max()) < 0.05


def test_ancestral_step_at_zero_adds_no_noise():
    schedule = Schedule(torch.tensor([0.1, 0.2]))
    x, eps = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    out = diffusion.ancestral_step(x, 0, eps, schedule, torch.full((1, 1, 2, 2), 9.0))
    torch.testing.assert_close(out, x / 0.9 ** 0.5)


def test_guidance_zero_is_unconditional_and_one_is_conditional():
    cond, uncond = torch.randn(5), torch.randn(5)
    torch.testing.assert_close(diffusion.guided_noise(cond, uncond, 0.0), uncond)
    torch.testing.assert_close(diffusion.guided_noise(cond, uncond, 1.0), cond)


def test_predict_noise_batches_conditional_and_null_class():
    seen = []

    class Model(torch.nn.Module):
        num_classes = 10

        def forward(self, x, t, labels, cond=None):
            seen.append(labels.clone())
            return x * 0 + labels.float().reshape(-1, 1, 1, 1)

    eps = diffusion.predict_noise(Model(), torch.zeros(2, 1, 2, 2), 5, torch.tensor([3, 4]),
                                  guidance=2.0)
    assert seen[-1].tolist() == [3, 4, 10, 10]
    torch.testing.assert_close(eps[:, 0, 0, 0], torch.tensor([10 + 2 * (3 - 10.0),
                                                              10 + 2 * (4 - 10.0)]))


def test_predict_noise_runs_only_the_network_under_the_asked_precision():
    seen = []

    class Conv(torch.nn.Module):
        num_classes = 10

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x, t, labels, cond=None):
            out = self.conv(x)
            seen.append(out.dtype)
            return out

    model, x, labels = Conv(), torch.randn(4, 1, 6, 6), torch.tensor([0, 1, 2, 3])
    exact = diffusion.predict_noise(model, x, 3, labels, guidance=2.0)
    rounded = diffusion.predict_noise(model, x, 3, labels, guidance=2.0, precision="bf16")
    assert seen == [torch.float32, torch.bfloat16]
    assert rounded.dtype == torch.float32 and not torch.equal(rounded, exact)
    torch.testing.assert_close(rounded, exact, atol=0.05, rtol=0.05)
    out = diffusion.sample_ddim(model, Schedule.linear(10), labels,
                                torch.Generator().manual_seed(0), steps=3, precision="bf16")
    assert out.dtype == torch.float32 and seen[-1] == torch.bfloat16


def test_ddpm_loss_is_the_noise_mse():
    class Zero(torch.nn.Module):
        def forward(self, x, t, labels, cond=None):
            return torch.zeros_like(x)

    gen = torch.Generator().manual_seed(0)
    x0 = torch.zeros(64, 1, 8, 8)
    loss = diffusion.ddpm_loss(Zero(), x0, None, None, Schedule.linear(10).alpha_bars, gen)
    gen = torch.Generator().manual_seed(0)
    torch.randint(0, 10, (64,), generator=gen)
    torch.testing.assert_close(loss, (torch.randn(x0.shape, generator=gen) ** 2).mean())


def test_sobel_edges_match_scipy():
    images = torch.rand(3, 1, 9, 11)
    ours = diffusion.sobel_edges(images).numpy()[:, 0]
    for image, edges in zip(images.numpy()[:, 0], ours):
        gx = scipy.ndimage.sobel(image, axis=1)
        gy = scipy.ndimage.sobel(image, axis=0)
        np.testing.assert_allclose(edges, np.hypot(gx, gy), rtol=1e-5, atol=1e-5)


def test_edge_agreement_is_one_for_the_same_map_and_low_for_unrelated():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.rand(50, 1, 28, 28, generator=gen), torch.rand(50, 1, 28, 28, generator=gen)
    torch.testing.assert_close(diffusion.edge_agreement(a, 2 * a), torch.ones(50))
    assert float(diffusion.edge_agreement(a, b).abs().mean()) < 0.1
