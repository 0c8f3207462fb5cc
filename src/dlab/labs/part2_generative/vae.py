# %% [markdown] lang="en"
# A variational autoencoder (VAE) encodes each image into a Gaussian over a 10-number code
# instead of a single point, and is trained to keep those Gaussians close to the standard
# normal N(0, I). Then any code drawn from N(0, I) decodes into a garment: the VAE is a
# generator. This lab trains a convolutional VAE on Fashion-MNIST, draws new samples, walks
# in a straight line between the codes of two different garments, and compares the samples
# with what a plain autoencoder of the same size gives when it is fed random codes.

# %% [markdown] lang="es"
# Un autoencoder variacional (VAE) codifica cada imagen en una gaussiana sobre un código de 10
# números en lugar de un solo punto, y se entrena para mantener esas gaussianas cerca de la
# normal estándar N(0, I). Así, cualquier código sacado de N(0, I) se decodifica en una prenda:
# el VAE es un generador. Este laboratorio entrena un VAE convolucional sobre Fashion-MNIST,
# genera muestras nuevas, recorre en línea recta el camino entre los códigos de dos prendas
# distintas y compara las muestras con lo que da un autoencoder común del mismo tamaño cuando
# se le dan códigos al azar.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 0      # 0 = all 50k training images
    test_subset: int = 0       # 0 = all 10k test images
    latent: int = 10
    width: int = 32            # channels of the first convolution (the second has twice)
    epochs: int = 10           # the course trains 30; 10 fit the CPU budget (see the text)
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0          # weight of the KL term
    samples: int = 1000        # generated images scored by the yardstick
    frames: int = 10           # interpolation frames, both ends included
    yardstick_epochs: int = 3
    yardstick_subset: int = 0  # 0 = all training images

    def check(self):
        positive(latent=self.latent, width=self.width, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, beta=self.beta, samples=self.samples,
                 frames=self.frames, yardstick_epochs=self.yardstick_epochs)


LAB = Lab(
    id="vae",
    title_en="A convolutional VAE on Fashion-MNIST: sampling and interpolation",
    title_es="Un VAE convolucional sobre Fashion-MNIST: muestreo e interpolación",
    source="Part 2 · class 157 (homework)",
    block="part2-generative",
    dataset="fashion_mnist (50k train / 10k val / 10k official test)",
    criteria=(
        Criterion("vae_confidence", ">=", 0.6,
                  "Samples are recognizable: the yardstick's mean top-class confidence on "
                  "1,000 samples is ≥ 0.6 (threshold fixed after measuring 0.67 in full mode; "
                  "real test images: 0.89)",
                  "Las muestras son reconocibles: la confianza media de la clase principal "
                  "de la vara de medir sobre 1000 muestras es ≥ 0.6 (umbral fijado tras medir "
                  "0.67 en modo completo; imágenes reales de test: 0.89)"),
        Criterion("vae_beats_ae_noise", "is", True,
                  "The VAE's samples have a lower Fréchet distance to real test images than "
                  "Gaussian codes decoded by a plain autoencoder of the same size",
                  "Las muestras del VAE tienen menor distancia de Fréchet a las imágenes "
                  "reales de test que códigos gaussianos decodificados por un autoencoder "
                  "común del mismo tamaño"),
        Criterion("interpolation_step_ratio", "<=", 2.5,
                  "Smooth interpolation: no step between consecutive frames is larger than "
                  "2.5× the mean step (pixel L2 distance; measured 1.86 in full mode)",
                  "Interpolación suave: ningún paso entre cuadros consecutivos es mayor que "
                  "2.5× el paso medio (distancia L2 en píxeles; 1.86 medido en modo completo)"),
        Criterion("active_latent_dims", ">=", 5,
                  "No posterior collapse: at least 5 of the 10 code dimensions vary across "
                  "test images (std of μ > 0.1)",
                  "Sin colapso del posterior: al menos 5 de las 10 dimensiones del código "
                  "varían entre imágenes de test (desviación de μ > 0.1)"),
    ),
    config=Config,
    quick={"train_subset": 600, "test_subset": 300, "epochs": 1, "samples": 200,
           "yardstick_epochs": 1, "yardstick_subset": 300},
    timed=("seconds_per_epoch",),
)

# %% [markdown] lang="en"
# ## 1. The data and the yardstick
# Fashion-MNIST, pixels in [0, 1]. "Recognizable" is judged by the generative labs' shared
# yardstick: a small CNN classifier of Fashion-MNIST, trained once (or loaded if an earlier
# lab trained it). It reports how confident it is about each sample's class, which classes
# the samples fall into, and a Fréchet distance between its penultimate-layer features of
# generated and real images. That distance is an FID computed in this small domain with this
# classifier; it is not the Inception-FID of papers, and its numbers are not comparable with
# theirs.

# %% [markdown] lang="es"
# ## 1. Los datos y la vara de medir
# Fashion-MNIST, píxeles en [0, 1]. "Reconocible" lo juzga la vara de medir que comparten los
# laboratorios generativos: un pequeño clasificador CNN de Fashion-MNIST, entrenado una vez (o
# cargado si un laboratorio anterior lo entrenó). Informa qué tan seguro está de la clase de
# cada muestra, en qué clases caen las muestras y una distancia de Fréchet entre las
# características de su penúltima capa para imágenes generadas y reales. Esa distancia es un
# FID calculado en este dominio pequeño con este clasificador; no es el FID con Inception de
# los artículos y sus números no son comparables con los de ellos.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from dlab.data import load
from dlab.data.batches import Batches
from dlab.generative import yardstick
from dlab.generative.grids import image_grid, image_rows
from dlab.generative.precision import autocast
from dlab.generative.vae import ConvVAE

data = load("fashion_mnist", seed=ctx.seed, flatten=False)
X_train, X_test, y_test = data.train[0], data.test[0], data.test[1]
if cfg.train_subset:
    X_train = X_train[:cfg.train_subset]
if cfg.test_subset:
    X_test, y_test = X_test[:cfg.test_subset], y_test[:cfg.test_subset]
judge, judge_info = yardstick.train_yardstick(ctx, data, epochs=cfg.yardstick_epochs,
                                              train_subset=cfg.yardstick_subset)
real_features = yardstick.penultimate_features(judge, X_test)
real_confidence = yardstick.top_class_confidence(yardstick.probabilities(judge, X_test))
ctx.table([ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("yardstick validation accuracy", "exactitud de validación de la vara"),
           ctx.t("yardstick confidence on real test images",
                 "confianza de la vara en imágenes reales de test")],
          [[len(X_train), judge_info["metrics"]["val_accuracy"], real_confidence]])

# %% [markdown] lang="en"
# ## 2. The model
# The encoder (two stride-2 convolutions, then a linear layer) gives, for each image, the
# mean μ and the log-variance log σ² of a Gaussian over the code. The decoder mirrors it
# (a linear layer, two transposed convolutions) and gives one logit per pixel.
#
# Training needs a code *sampled* from N(μ, σ²), yet a random draw has no gradient with
# respect to μ and σ. The reparameterization trick moves the randomness outside: draw
# ε ~ N(0, I), then z = μ + σ·ε, with σ = exp(½ log σ²). Now z is a plain function of μ and
# σ, and the gradient flows through it.

# %% [markdown] lang="es"
# ## 2. El modelo
# El codificador (dos convoluciones con paso 2 y una capa lineal) da, para cada imagen, la
# media μ y el logaritmo de la varianza log σ² de una gaussiana sobre el código. El
# decodificador es su espejo (una capa lineal y dos convoluciones transpuestas) y da un logit
# por píxel.
#
# El entrenamiento necesita un código *muestreado* de N(μ, σ²), pero un sorteo al azar no
# tiene gradiente respecto de μ y σ. El truco de reparametrización saca el azar afuera: se
# sortea ε ~ N(0, I) y luego z = μ + σ·ε, con σ = exp(½ log σ²). Ahora z es una función común
# de μ y σ, y el gradiente pasa a través de ella.

# %% exercise="reparameterize"
def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """[en] Sample codes z ~ N(mu, sigma²) with the reparameterization trick: draw
    `eps = torch.randn_like(mu)` (one standard-normal number per entry), compute the standard
    deviation from the log-variance, `sigma = exp(0.5 * logvar)`, and return
    `mu + sigma * eps`, same shape as `mu`. Gradients must flow to both `mu` and `logvar`.

    [es] Muestrea códigos z ~ N(mu, sigma²) con el truco de reparametrización: sortea
    `eps = torch.randn_like(mu)` (un número normal estándar por entrada), calcula la desviación
    estándar a partir del logaritmo de la varianza, `sigma = exp(0.5 * logvar)`, y devuelve
    `mu + sigma * eps`, con la forma de `mu`. Los gradientes deben llegar a `mu` y a `logvar`.
    """
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


# %% check
import math

import torch

from dlab.exercises import expect


@ctx.check("reparameterize")
def uses_randn_like_and_the_standard_deviation():
    mu = torch.tensor([[0.0, 1.0, -2.0]])
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]])
    torch.manual_seed(7)
    z = reparameterize(mu, logvar)
    torch.manual_seed(7)
    eps = torch.randn_like(mu)
    expect.type(z, torch.Tensor, "reparameterize(mu, logvar)")
    expect.shape(z, (1, 3), "reparameterize(mu, logvar) for mu of shape (1, 3)")
    expect.close(z, mu + torch.tensor([[1.0, 2.0, 0.5]]) * eps,
                 "reparameterize(mu, logvar) with sigma = [1, 2, 0.5] after torch.manual_seed(7)",
                 atol=1e-5)


@ctx.check("reparameterize")
def has_the_right_spread():
    mu = torch.full((20000, 2), 3.0)
    logvar = torch.full((20000, 2), math.log(9.0))  # sigma = 3
    z = reparameterize(mu, logvar)
    expect.close(z.mean(dim=0), [3.0, 3.0], "mean of 20000 samples with mu = 3", atol=0.1)
    expect.close(z.std(dim=0), [3.0, 3.0], "std of 20000 samples with log σ² = log 9 (σ = 3)",
                 atol=0.1)


@ctx.check("reparameterize")
def gradient_reaches_mu_and_logvar():
    mu = torch.zeros(4, 3, requires_grad=True)
    logvar = torch.zeros(4, 3, requires_grad=True)
    z = reparameterize(mu, logvar)
    expect.true(z.requires_grad,
                "reparameterize's result carries no gradient: the sample must be built from "
                "mu and logvar (mu + sigma * eps), not drawn with torch.normal.",
                "El resultado de reparameterize no lleva gradiente: la muestra debe armarse "
                "con mu y logvar (mu + sigma * eps), no sortearse con torch.normal.")
    z.sum().backward()
    expect.true(mu.grad is not None and logvar.grad is not None
                and float(logvar.grad.abs().sum()) > 0,
                "The gradient of reparameterize does not reach both mu and logvar.",
                "El gradiente de reparameterize no llega a mu y a logvar a la vez.")
    expect.close(mu.grad, torch.ones(4, 3), "d(sum z)/d mu")


# %% [markdown] lang="en"
# ## 3. The loss
# Two terms per image. The reconstruction term is the binary cross-entropy between the pixels
# and the decoder's logits, summed over the 784 pixels. The KL term measures how far the
# encoder's Gaussian N(μ, σ²) is from N(0, I); for Gaussians it has a closed form,
# KL = −½ Σ (1 + log σ² − μ² − σ²), summed over the code dimensions. Both are averaged over
# the images of a batch, and the loss is reconstruction + β·KL (β = 1 here).

# %% [markdown] lang="es"
# ## 3. La pérdida
# Dos términos por imagen. El de reconstrucción es la entropía cruzada binaria entre los
# píxeles y los logits del decodificador, sumada sobre los 784 píxeles. El término KL mide qué
# tan lejos está la gaussiana del codificador N(μ, σ²) de N(0, I); entre gaussianas tiene
# forma cerrada, KL = −½ Σ (1 + log σ² − μ² − σ²), sumada sobre las dimensiones del código.
# Ambos se promedian sobre las imágenes del lote y la pérdida es reconstrucción + β·KL
# (aquí β = 1).

# %% exercise="kl_divergence"
def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """[en] KL divergence between N(mu, exp(logvar)) and the standard normal N(0, I), for a
    batch of shape (batch, latent): `-0.5 * sum(1 + logvar - mu**2 - exp(logvar))` summed over
    the latent dimensions of each image, then averaged over the images. Return a scalar
    tensor (it is part of the loss: keep it differentiable).

    [es] Divergencia KL entre N(mu, exp(logvar)) y la normal estándar N(0, I), para un lote de
    forma (lote, latente): `-0.5 * suma(1 + logvar - mu**2 - exp(logvar))` sumada sobre las
    dimensiones latentes de cada imagen y luego promediada sobre las imágenes. Devuelve un
    tensor escalar (es parte de la pérdida: debe seguir siendo derivable).
    """
    return (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)).mean()


# %% check
import torch

from dlab.exercises import expect


@ctx.check("kl_divergence")
def is_zero_for_the_standard_normal():
    value = kl_divergence(torch.zeros(3, 10), torch.zeros(3, 10))
    expect.type(value, torch.Tensor, "kl_divergence(zeros(3, 10), zeros(3, 10))")
    expect.shape(value, (), "kl_divergence(zeros(3, 10), zeros(3, 10))")
    expect.close(value, 0.0, "kl_divergence(mu=0, logvar=0): N(0, I) against itself")


@ctx.check("kl_divergence")
def matches_torch_distributions():
    from torch.distributions import Normal, kl_divergence as torch_kl

    gen = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(6, 4, generator=gen), torch.randn(6, 4, generator=gen)
    expected = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(dim=1).mean()
    expect.close(kl_divergence(mu, logvar), expected,
                 "kl_divergence(mu, logvar) for random (6, 4) inputs (torch.distributions "
                 "gives the expected value)", atol=1e-5)
    expect.close(kl_divergence(torch.tensor([[2.0, 0.0]]), torch.zeros(1, 2)), 2.0,
                 "kl_divergence(mu=[[2, 0]], logvar=[[0, 0]]) (= ½·2²)", atol=1e-6)


@ctx.check("kl_divergence")
def averages_over_images_and_keeps_the_gradient():
    mu = torch.ones(8, 3, requires_grad=True)
    value = kl_divergence(mu, torch.zeros(8, 3))
    expect.close(value, 1.5, "kl_divergence(ones(8, 3), zeros(8, 3)) (= ½·3, whatever the "
                 "batch size)", atol=1e-6)
    expect.true(value.requires_grad,
                "kl_divergence's result carries no gradient; build it with torch operations.",
                "El resultado de kl_divergence no lleva gradiente; constrúyelo con operaciones "
                "de torch.")


# %% [markdown] lang="en"
# ## 4. Training
# The loop is written out because the loss needs μ and log σ², not just the output. It runs
# under the run's precision (bf16 autocast on CPUs that compute it natively, like the
# engine's trainer) with the images in channels-last layout. The same loop trains the
# comparison: a plain autoencoder with exactly the same layers, whose code is μ itself (no
# sampling) and whose loss has no KL term.
#
# The course trains for 30 epochs; at about 12 s per epoch on one CPU core, 10 epochs (for
# each of the two models) keep the lab within its budget, and the samples are already
# recognizable.

# %% [markdown] lang="es"
# ## 4. Entrenamiento
# El bucle se escribe entero porque la pérdida necesita μ y log σ², no solo la salida. Corre
# con la precisión de la ejecución (autocast bf16 en CPU que lo calculan de forma nativa, como
# el entrenador del motor) con las imágenes en formato channels-last. El mismo bucle entrena la
# comparación: un autoencoder común con exactamente las mismas capas, cuyo código es μ mismo
# (sin muestreo) y cuya pérdida no tiene término KL.
#
# El curso entrena 30 épocas; a unos 12 s por época en un núcleo de CPU, 10 épocas (para cada
# uno de los dos modelos) mantienen el laboratorio dentro de su presupuesto, y las muestras ya
# son reconocibles.

# %%
def train(variational: bool):
    model = ConvVAE(cfg.latent, cfg.width).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    batches = Batches(X_train, batch_size=cfg.batch_size, seed=ctx.seed)
    log = {"reconstruction": [], "kl": [], "seconds": []}
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        batches.set_epoch(epoch)
        start, totals = time.perf_counter(), np.zeros(2)
        for (xb,) in batches:
            xb = xb.contiguous(memory_format=torch.channels_last)
            with autocast(ctx.precision, ctx.device):
                mu, logvar = model.encode(xb)
                z = reparameterize(mu, logvar) if variational else mu
                logits = model.decode(z)
            reconstruction = F.binary_cross_entropy_with_logits(
                logits.float(), xb, reduction="sum") / len(xb)
            kl = kl_divergence(mu.float(), logvar.float()) if variational else torch.zeros(())
            loss = reconstruction + cfg.beta * kl
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            totals += [reconstruction.item() * len(xb), kl.item() * len(xb)]
        log["seconds"].append(time.perf_counter() - start)
        log["reconstruction"].append(totals[0] / len(X_train))
        log["kl"].append(totals[1] / len(X_train))
    return model.eval(), log


vae, vae_log = train(variational=True)
plain, plain_log = train(variational=False)
seconds_per_epoch = float(np.mean(vae_log["seconds"]))

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
epochs = range(1, cfg.epochs + 1)
axes[0].plot(epochs, vae_log["reconstruction"], marker="o", label="VAE")
axes[0].plot(epochs, plain_log["reconstruction"], marker="o", label="AE")
axes[0].set_title(ctx.t("reconstruction (BCE per image)", "reconstrucción (BCE por imagen)"))
axes[1].plot(epochs, vae_log["kl"], marker="o", color="C0")
axes[1].set_title(ctx.t("VAE: KL per image", "VAE: KL por imagen"))
for ax in axes:
    ax.set_xlabel(ctx.t("epoch", "época"))
axes[0].legend()
ctx.figure("losses", fig)

# %% [markdown] lang="en"
# The plain autoencoder reconstructs better (nothing forces its codes to be Gaussian); the
# VAE pays for a usable code space with some reconstruction error. A common failure, posterior
# collapse, shows as μ hardly changing from image to image: the decoder then ignores the code.
# We count the code dimensions whose μ varies across test images.

# %% [markdown] lang="es"
# El autoencoder común reconstruye mejor (nada obliga a sus códigos a ser gaussianos); el VAE
# paga un espacio de códigos utilizable con algo de error de reconstrucción. Una falla común,
# el colapso del posterior, se ve como un μ que casi no cambia de imagen a imagen: el
# decodificador ignora entonces el código. Contamos las dimensiones del código cuya μ varía
# entre imágenes de test.

# %%
with torch.no_grad():
    mu_test, logvar_test = (torch.cat(parts) for parts in zip(
        *(vae.encode(X_test[i:i + 1000]) for i in range(0, len(X_test), 1000))))
mu_spread = mu_test.float().std(dim=0)
active_latent_dims = int((mu_spread > 0.1).sum())
ctx.table([ctx.t("code dimension", "dimensión del código"), ctx.t("std of μ", "desv. de μ"),
           ctx.t("mean σ", "σ medio")],
          [[d, float(mu_spread[d]), float((0.5 * logvar_test[:, d].float()).exp().mean())]
           for d in range(cfg.latent)])

# %% [markdown] lang="en"
# ## 5. New garments
# Codes drawn from N(0, I) go through the VAE's decoder. The same Gaussian codes go through the
# plain autoencoder's decoder: its codes were never asked to look like N(0, I), so random
# ones land in places its decoder has never seen.

# %% [markdown] lang="es"
# ## 5. Prendas nuevas
# Códigos sacados de N(0, I) pasan por el decodificador del VAE. Los mismos códigos gaussianos
# pasan por el decodificador del autoencoder común: a sus códigos nunca se les pidió parecerse
# a N(0, I), así que unos al azar caen en lugares que su decodificador nunca vio.

# %%
codes = torch.randn(cfg.samples, cfg.latent, generator=torch.Generator().manual_seed(ctx.seed))
vae_samples, plain_samples = vae.generate(codes), plain.generate(codes)
vae_score = yardstick.score(judge, vae_samples, real_features)
plain_score = yardstick.score(judge, plain_samples, real_features)
ctx.figure("samples", image_grid(vae_samples, 8, 8, ctx.t("VAE: 64 new samples",
                                                          "VAE: 64 muestras nuevas")))
ctx.figure("plain_ae_samples", image_grid(plain_samples, 8, 8, ctx.t(
    "Plain AE fed N(0, I) codes", "AE común con códigos N(0, I)")))
ctx.table([ctx.t("images", "imágenes"), ctx.t("top-class confidence", "confianza de la clase"),
           ctx.t("classes seen (≥ 2 %)", "clases vistas (≥ 2 %)"),
           ctx.t("largest class share", "mayor proporción de una clase"),
           ctx.t("Fréchet distance to real", "distancia de Fréchet a las reales")],
          [[ctx.t("real test images", "imágenes reales de test"), real_confidence, 10, 0.1,
            0.0],
           [ctx.t("VAE samples", "muestras del VAE"), vae_score["confidence"],
            vae_score["classes_seen"], vae_score["max_share"], vae_score["frechet"]],
           [ctx.t("plain AE, N(0, I) codes", "AE común, códigos N(0, I)"),
            plain_score["confidence"], plain_score["classes_seen"], plain_score["max_share"],
            plain_score["frechet"]]])

# %% [markdown] lang="en"
# The threshold of the "recognizable" criterion (mean top-class confidence ≥ 0.6) was fixed
# after measuring, in full mode: 0.67 for the VAE's samples, 0.89 for real test images. VAE
# samples are blurry (the per-pixel loss averages over plausible details), and blur costs
# confidence. Confidence alone is a weak witness, though: the plain autoencoder's decoded
# noise scored 0.65, because a classifier can be sure about a blob that is no garment. The
# Fréchet distance, which compares the whole spread of features with the real images', is
# what separates them: 91 for the VAE against 389 for the plain autoencoder.

# %% [markdown] lang="es"
# El umbral del criterio "reconocible" (confianza media de la clase principal ≥ 0.6) se fijó
# después de medir, en modo completo: 0.67 para las muestras del VAE, 0.89 para imágenes
# reales de test. Las muestras del VAE son borrosas (la pérdida por píxel promedia los
# detalles plausibles) y el desenfoque cuesta confianza. Aun así, la confianza sola es un
# testigo débil: el ruido decodificado por el autoencoder común obtuvo 0.65, porque un
# clasificador puede estar seguro de una mancha que no es ninguna prenda. La distancia de
# Fréchet, que compara toda la dispersión de las características con la de las imágenes
# reales, es la que las separa: 91 para el VAE contra 389 para el autoencoder común.

# %% [markdown] lang="en"
# ## 6. A walk between two garments
# Encode two test images of different classes (the first T-shirt and the first ankle boot),
# take their means μ_A and μ_B, and decode evenly spaced points on the segment between them.
# The walk is smooth if no step between consecutive frames is much larger than the average
# step: a jump would mean a hole in the code space.

# %% [markdown] lang="es"
# ## 6. Un paseo entre dos prendas
# Se codifican dos imágenes de test de clases distintas (la primera camiseta y el primer
# botín), se toman sus medias μ_A y μ_B y se decodifican puntos equiespaciados del segmento que
# las une. El paseo es suave si ningún paso entre cuadros consecutivos es mucho mayor que el
# paso medio: un salto indicaría un hueco en el espacio de códigos.

# %%
first_a = int((y_test == 0).nonzero()[0])
first_b = int((y_test == 9).nonzero()[0])
weights = torch.linspace(0, 1, cfg.frames).unsqueeze(1)
path = (1 - weights) * mu_test[first_a].float() + weights * mu_test[first_b].float()
frames = vae.generate(path)
steps = (frames[1:] - frames[:-1]).reshape(cfg.frames - 1, -1).norm(dim=1)
interpolation_step_ratio = float(steps.max() / steps.mean())
ctx.figure("interpolation", image_rows({
    ctx.t("walk", "paseo"): frames,
    ctx.t("ends", "extremos"): torch.cat([X_test[first_a:first_a + 1],
                                          torch.zeros(cfg.frames - 2, 1, 28, 28),
                                          X_test[first_b:first_b + 1]])}))
ctx.table([ctx.t("step", "paso"), ctx.t("pixel L2 distance", "distancia L2 en píxeles")],
          [[f"{i + 1} → {i + 2}", float(s)] for i, s in enumerate(steps)])

# %%
ctx.finish({
    "vae_confidence": vae_score["confidence"],
    "vae_frechet": vae_score["frechet"],
    "vae_classes_seen": vae_score["classes_seen"],
    "vae_max_share": vae_score["max_share"],
    "plain_noise_confidence": plain_score["confidence"],
    "plain_noise_frechet": plain_score["frechet"],
    "vae_beats_ae_noise": vae_score["frechet"] < plain_score["frechet"],
    "real_confidence": real_confidence,
    "interpolation_step_ratio": interpolation_step_ratio,
    "active_latent_dims": active_latent_dims,
    "vae_reconstruction": vae_log["reconstruction"][-1],
    "vae_kl": vae_log["kl"][-1],
    "plain_reconstruction": plain_log["reconstruction"][-1],
    "yardstick_val_accuracy": judge_info["metrics"]["val_accuracy"],
    "seconds_per_epoch": seconds_per_epoch,
})
