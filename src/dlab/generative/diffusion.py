"""Denoising diffusion (DDPM, Ho et al. 2020) for images scaled to [-1, 1], and the pieces the
diffusion lab builds on: the noise schedule, the forward process q(x_t | x_0), the
noise-prediction loss, ancestral sampling with the full schedule, deterministic DDIM sampling
with few steps (Song et al. 2021), classifier-free guidance (Ho & Salimans 2022), and the
Sobel edge maps of ControlNet's idea in miniature.

Timesteps are 0-based: ``t = 0`` is the first noising step, ``t = T - 1`` the last.
The lab has students write ``q_sample``, ``ddpm_loss``, ``ancestral_step`` and
``guided_noise`` themselves and passes their versions to the samplers here (``step=``,
``guide=``); the functions below are the references they are tested against.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dlab.generative.precision import autocast


@dataclass
class Schedule:
    """β_t linear from ``beta_start`` to ``beta_end`` over T steps; α_t = 1 − β_t and
    ᾱ_t = α_0 · … · α_t (the cumulative product)."""
    betas: torch.Tensor

    @classmethod
    def linear(cls, steps: int, beta_start: float | None = None,
               beta_end: float | None = None) -> "Schedule":
        """The DDPM schedule (1e-4 → 0.02 for T = 1000), rescaled by 1000 / T for shorter
        schedules so that the last step still leaves almost pure noise."""
        scale = 1000 / steps
        beta_start = 1e-4 * scale if beta_start is None else beta_start
        beta_end = min(0.02 * scale, 0.999) if beta_end is None else beta_end
        return cls(torch.linspace(beta_start, beta_end, steps, dtype=torch.float64).float())

    @property
    def steps(self) -> int:
        return len(self.betas)

    @property
    def alphas(self) -> torch.Tensor:
        return 1 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        return torch.cumprod(self.alphas.double(), dim=0).float()


def _per_image(values: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """values[t] shaped (N, 1, 1, 1) to broadcast over images."""
    return values[t].reshape(-1, 1, 1, 1)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
             alpha_bars: torch.Tensor) -> torch.Tensor:
    """x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, in one step from the clean image."""
    a = _per_image(alpha_bars, t)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def ddpm_loss(model, x0: torch.Tensor, labels: torch.Tensor, cond: torch.Tensor | None,
              alpha_bars: torch.Tensor, generator: torch.Generator | None = None
              ) -> torch.Tensor:
    """Mean squared error between the noise ε added at a uniformly random timestep (drawn
    first from ``generator``, then the noise) and the model's prediction of it from x_t."""
    t = torch.randint(0, len(alpha_bars), (len(x0),), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    predicted = model(q_sample(x0, t, noise, alpha_bars), t, labels, cond)
    return F.mse_loss(predicted.float(), noise)


def ancestral_step(x_t: torch.Tensor, t: int, predicted_noise: torch.Tensor,
                   schedule: Schedule, noise: torch.Tensor) -> torch.Tensor:
    """One step of DDPM's reverse process: the mean
    (x_t − β_t / √(1 − ᾱ_t) · ε̂) / √α_t plus σ_t · z with σ_t = √β_t, and no noise added
    at the last step (t = 0)."""
    beta, alpha, alpha_bar = schedule.betas[t], schedule.alphas[t], schedule.alpha_bars[t]
    mean = (x_t - beta / (1 - alpha_bar).sqrt() * predicted_noise) / alpha.sqrt()
    return mean if t == 0 else mean + beta.sqrt() * noise


def guided_noise(noise_cond: torch.Tensor, noise_uncond: torch.Tensor,
                 guidance: float) -> torch.Tensor:
    """Classifier-free guidance: ε̂ = ε̂_uncond + w · (ε̂_cond − ε̂_uncond). w = 0 is the
    unconditional model, w = 1 the conditional one, w > 1 pushes further towards the class."""
    return noise_uncond + guidance * (noise_cond - noise_uncond)


def predict_noise(model, x: torch.Tensor, t: int, labels: torch.Tensor,
                  cond: torch.Tensor | None = None, guidance: float = 1.0,
                  guide=guided_noise, precision: str = "fp32") -> torch.Tensor:
    """The model's ε̂ (float32) for a batch at timestep ``t``, the network run under
    ``precision`` (``bf16``: autocast; ``auto``: as the engine resolves it). With
    ``guidance != 1`` the conditional and unconditional ("null" class, ``model.num_classes``)
    predictions come from one forward pass over the doubled batch and are combined by
    ``guide``."""
    steps = torch.full((len(x),), t, dtype=torch.long)
    if guidance == 1.0:
        with autocast(precision, x.device):
            return model(x, steps, labels, cond).float()
    null = torch.full_like(labels, model.num_classes)
    with autocast(precision, x.device):
        both = model(torch.cat([x, x]), torch.cat([steps, steps]), torch.cat([labels, null]),
                     None if cond is None else torch.cat([cond, cond])).float()
    noise_cond, noise_uncond = both.chunk(2)
    return guide(noise_cond, noise_uncond, guidance)


@torch.no_grad()
def sample_ancestral(model, schedule: Schedule, labels: torch.Tensor,
                     generator: torch.Generator, cond: torch.Tensor | None = None,
                     guidance: float = 1.0, step=ancestral_step, guide=guided_noise,
                     shape=(1, 28, 28), precision: str = "fp32") -> torch.Tensor:
    """DDPM sampling with the full schedule: start from pure noise x_{T-1} ~ N(0, I) and apply
    ``step`` for t = T − 1 … 0 (T network evaluations, run under ``precision``; the updates of
    x_t stay in float32). Returns x_0 in [-1, 1] (clamped)."""
    model.eval()
    x = torch.randn(len(labels), *shape, generator=generator)
    for t in reversed(range(schedule.steps)):
        eps = predict_noise(model, x, t, labels, cond, guidance, guide, precision)
        x = step(x, t, eps, schedule, torch.randn(x.shape, generator=generator))
    return x.clamp(-1, 1)


def ddim_timesteps(total: int, steps: int) -> list[int]:
    """``steps`` evenly spaced timesteps from T − 1 down to 0."""
    return sorted({round(i * (total - 1) / max(steps - 1, 1)) for i in range(steps)},
                  reverse=True)


def ddim_step(x_t: torch.Tensor, alpha_bar: torch.Tensor, alpha_bar_prev: torch.Tensor,
              predicted_noise: torch.Tensor) -> torch.Tensor:
    """Deterministic DDIM update (η = 0): estimate x̂_0 from x_t and ε̂, clamp it to [-1, 1],
    and move it to the earlier noise level with the same ε̂."""
    x0 = ((x_t - (1 - alpha_bar).sqrt() * predicted_noise) / alpha_bar.sqrt()).clamp(-1, 1)
    return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev).sqrt() * predicted_noise


@torch.no_grad()
def sample_ddim(model, schedule: Schedule, labels: torch.Tensor, generator: torch.Generator,
                steps: int = 50, cond: torch.Tensor | None = None, guidance: float = 1.0,
                guide=guided_noise, shape=(1, 28, 28), precision: str = "fp32") -> torch.Tensor:
    """DDIM sampling visiting only ``steps`` timesteps (``steps`` network evaluations, run
    under ``precision``; the updates of x_t stay in float32), from the same trained model.
    Deterministic given the starting noise."""
    model.eval()
    x = torch.randn(len(labels), *shape, generator=generator)
    times = ddim_timesteps(schedule.steps, steps)
    alpha_bars = schedule.alpha_bars
    for i, t in enumerate(times):
        prev = alpha_bars[times[i + 1]] if i + 1 < len(times) else torch.tensor(1.0)
        eps = predict_noise(model, x, t, labels, cond, guidance, guide, precision)
        x = ddim_step(x, alpha_bars[t], prev, eps)
    return x.clamp(-1, 1)


SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel_edges(images: torch.Tensor) -> torch.Tensor:
    """Gradient magnitude √(g_x² + g_y²) of (N, 1, H, W) images with the 3×3 Sobel kernels,
    borders extended by repeating the edge pixel (``scipy.ndimage.sobel``'s default)."""
    kernels = torch.stack([SOBEL_X, SOBEL_X.T]).unsqueeze(1).to(images.dtype)
    padded = F.pad(images, (1, 1, 1, 1), mode="replicate")
    g = F.conv2d(padded, kernels)
    return (g ** 2).sum(dim=1, keepdim=True).sqrt()


def edge_agreement(edges_a: torch.Tensor, edges_b: torch.Tensor) -> torch.Tensor:
    """Per-image Pearson correlation between two (N, 1, H, W) edge maps: 1 when the edges sit
    in the same places with proportional strength, about 0 when unrelated."""
    a = edges_a.flatten(1) - edges_a.flatten(1).mean(dim=1, keepdim=True)
    b = edges_b.flatten(1) - edges_b.flatten(1).mean(dim=1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-8)
