# %% [markdown] lang="en"
# A generative adversarial network is two networks trained against each other: a generator
# that turns random noise into images, and a discriminator that tells real images from
# generated ones. This lab trains the DCGAN of the course on Fashion-MNIST, follows both
# losses epoch by epoch, watches a fixed set of noise vectors turn into garments, and lets the
# generative labs' yardstick judge the samples: are they recognizable, do they cover the ten
# classes (no mode collapse), and how close is their spread to that of real images?

# %% [markdown] lang="es"
# Una red generativa adversaria son dos redes entrenadas una contra la otra: un generador que
# convierte ruido aleatorio en imágenes y un discriminador que distingue imágenes reales de
# generadas. Este laboratorio entrena la DCGAN del curso sobre Fashion-MNIST, sigue las dos
# pérdidas época a época, mira cómo un conjunto fijo de vectores de ruido se convierte en
# prendas y deja que la vara de medir de los laboratorios generativos juzgue las muestras:
# ¿son reconocibles, cubren las diez clases (sin colapso de modos) y qué tan cerca está su
# dispersión de la de las imágenes reales?

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 0      # 0 = all 50k training images
    test_subset: int = 0       # 0 = all 10k test images (the real side of the Fréchet distance)
    noise: int = 64
    channels: int = 128        # the course's Dense(7·7·128)
    width: int = 32            # channels after the first transposed convolution
    d_width: int = 16          # channels of the discriminator's first convolution
    epochs: int = 4            # the course trains 50; see the text for the CPU budget
    batch_size: int = 128
    lr: float = 2e-4           # Adam(2e-4, beta1=0.5), the DCGAN recipe
    beta1: float = 0.5
    samples: int = 1000
    yardstick_epochs: int = 3
    yardstick_subset: int = 0

    def check(self):
        positive(noise=self.noise, channels=self.channels, width=self.width,
                 d_width=self.d_width, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, beta1=self.beta1, samples=self.samples,
                 yardstick_epochs=self.yardstick_epochs)


LAB = Lab(
    id="gan",
    title_en="A DCGAN on Fashion-MNIST: adversarial training and mode coverage",
    title_es="Una DCGAN sobre Fashion-MNIST: entrenamiento adversario y cobertura de modos",
    source="Part 2 · class 158 (homework)",
    block="part2-generative",
    dataset="fashion_mnist (50k train / 10k val / 10k official test)",
    criteria=(
        Criterion("gan_confidence", ">=", 0.6,
                  "Samples are recognizable: the yardstick's mean top-class confidence on "
                  "1,000 samples is ≥ 0.6 (the VAE lab's threshold)",
                  "Las muestras son reconocibles: la confianza media de la clase principal de "
                  "la vara de medir sobre 1000 muestras es ≥ 0.6 (el umbral del laboratorio "
                  "del VAE)"),
        Criterion("gan_classes_seen", ">=", 8,
                  "No mode collapse (1): among 1,000 samples the yardstick sees ≥ 8 of the 10 "
                  "classes (a class counts when it holds ≥ 2 % of the samples)",
                  "Sin colapso de modos (1): entre 1000 muestras la vara de medir ve ≥ 8 de las "
                  "10 clases (una clase cuenta si tiene ≥ 2 % de las muestras)"),
        Criterion("gan_max_share", "<=", 0.30,
                  "No mode collapse (2): no class holds more than 30 % of the samples",
                  "Sin colapso de modos (2): ninguna clase tiene más del 30 % de las muestras"),
        Criterion("gan_frechet", "<=", 91.0,
                  "Fréchet distance to real test images at most the VAE lab's (91, measured in "
                  "its full mode with the same yardstick)",
                  "Distancia de Fréchet a las imágenes reales de test como mucho la del "
                  "laboratorio del VAE (91, medida en su modo completo con la misma vara)"),
    ),
    config=Config,
    quick={"train_subset": 640, "test_subset": 300, "epochs": 1, "samples": 200,
           "yardstick_epochs": 1, "yardstick_subset": 300},
    timed=("seconds_per_epoch",),
)

# %% [markdown] lang="en"
# ## 1. The data and the yardstick
# The generator ends in a tanh, so the real images are rescaled from [0, 1] to [-1, 1] to
# live in the same range. The yardstick (the small CNN classifier the generative labs share)
# is trained once or loaded; its penultimate-layer features of the real test images are the
# reference of the Fréchet distance (an FID computed in this domain, not Inception-FID).

# %% [markdown] lang="es"
# ## 1. Los datos y la vara de medir
# El generador termina en una tanh, así que las imágenes reales se llevan de [0, 1] a
# [-1, 1] para vivir en el mismo rango. La vara de medir (el pequeño clasificador CNN que
# comparten los laboratorios generativos) se entrena una vez o se carga; las características
# de su penúltima capa para las imágenes reales de test son la referencia de la distancia de
# Fréchet (un FID calculado en este dominio, no el FID con Inception).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from dlab.data import load
from dlab.data.batches import Batches
from dlab.generative import yardstick
from dlab.generative.dcgan import Discriminator, Generator
from dlab.generative.grids import image_grid, image_rows, save_gif
from dlab.generative.precision import autocast

data = load("fashion_mnist", seed=ctx.seed, flatten=False)
X_train, X_test = data.train[0], data.test[0]
if cfg.train_subset:
    X_train = X_train[:cfg.train_subset]
if cfg.test_subset:
    X_test = X_test[:cfg.test_subset]
real_train = X_train * 2 - 1
judge, judge_info = yardstick.train_yardstick(ctx, data, epochs=cfg.yardstick_epochs,
                                              train_subset=cfg.yardstick_subset)
real_features = yardstick.penultimate_features(judge, X_test)
ctx.table([ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("yardstick validation accuracy", "exactitud de validación de la vara")],
          [[len(X_train), judge_info["metrics"]["val_accuracy"]]])

# %% [markdown] lang="en"
# ## 2. The two losses
# The discriminator D outputs one logit per image: "how real". Its loss is the binary
# cross-entropy of calling real images real (label 1) plus that of calling generated images
# fake (label 0). The generator G wins when D is fooled; in the form used in practice (the
# "non-saturating" loss), G minimizes the binary cross-entropy of D calling its images real.
# The textbook alternative, maximizing D's error on fakes, gives G almost no gradient early on,
# when D rejects its images easily.

# %% [markdown] lang="es"
# ## 2. Las dos pérdidas
# El discriminador D da un logit por imagen: "qué tan real". Su pérdida es la entropía cruzada
# binaria de llamar reales a las imágenes reales (etiqueta 1) más la de llamar falsas a las
# generadas (etiqueta 0). El generador G gana cuando engaña a D; en la forma que se usa en la
# práctica (la pérdida "no saturante"), G minimiza la entropía cruzada binaria de que D llame
# reales a sus imágenes. La alternativa de los libros, maximizar el error de D sobre las
# falsas, casi no le da gradiente a G al principio, cuando D rechaza sus imágenes con
# facilidad.

# %% exercise="discriminator_loss"
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """[en] The discriminator's loss from its logits on a batch of real images and a batch of
    generated ones (shapes (n, 1), possibly of different n): the mean binary cross-entropy of
    the real logits against label 1, plus the mean binary cross-entropy of the fake logits
    against label 0. Use `F.binary_cross_entropy_with_logits` (numerically safe; no sigmoid
    first). Return a scalar tensor.

    [es] La pérdida del discriminador a partir de sus logits sobre un lote de imágenes reales y
    uno de generadas (formas (n, 1), con n que puede diferir): la entropía cruzada binaria
    media de los logits reales contra la etiqueta 1, más la entropía cruzada binaria media de
    los logits falsos contra la etiqueta 0. Usa `F.binary_cross_entropy_with_logits`
    (numéricamente estable; sin sigmoide antes). Devuelve un tensor escalar.
    """
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


# %% check
import math

import torch

from dlab.exercises import expect


@ctx.check("discriminator_loss")
def labels_real_one_and_fake_zero():
    real, fake = torch.tensor([[2.0], [0.0]]), torch.tensor([[-1.0], [3.0], [0.5]])
    value = discriminator_loss(real, fake)
    expect.type(value, torch.Tensor, "discriminator_loss(real_logits, fake_logits)")
    expect.shape(value, (), "discriminator_loss(real_logits, fake_logits)")

    def softplus(x):
        return math.log1p(math.exp(x))

    expected = ((softplus(-2.0) + softplus(0.0)) / 2
                + (softplus(-1.0) + softplus(3.0) + softplus(0.5)) / 3)
    expect.close(value, expected, "discriminator_loss([[2], [0]], [[-1], [3], [0.5]])",
                 atol=1e-5)


@ctx.check("discriminator_loss")
def is_small_when_d_is_right_and_stable():
    confident = discriminator_loss(torch.full((4, 1), 200.0), torch.full((4, 1), -200.0))
    expect.finite(confident, "discriminator_loss with logits ±200 (a sigmoid then a log "
                  "would give inf or nan here)")
    expect.close(confident, 0.0, "discriminator_loss when D is sure and right", atol=1e-6)
    wrong = discriminator_loss(torch.full((4, 1), -200.0), torch.full((4, 1), 200.0))
    expect.close(wrong, 400.0, "discriminator_loss when D is sure and wrong (logits ∓200: "
                 "each term is 200; a sigmoid then a log gives inf, or 100 once clipped)",
                 rtol=1e-4)


# %% exercise="generator_loss"
def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """[en] The generator's non-saturating loss from the discriminator's logits on generated
    images (shape (n, 1)): the mean binary cross-entropy of those logits against label 1
    ("real"), with `F.binary_cross_entropy_with_logits`. Return a scalar tensor.

    [es] La pérdida no saturante del generador a partir de los logits del discriminador sobre
    imágenes generadas (forma (n, 1)): la entropía cruzada binaria media de esos logits contra
    la etiqueta 1 ("real"), con `F.binary_cross_entropy_with_logits`. Devuelve un tensor
    escalar.
    """
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


# %% check
import math

import torch

from dlab.exercises import expect


@ctx.check("generator_loss")
def wants_fakes_called_real():
    value = generator_loss(torch.tensor([[1.0], [-2.0]]))
    expect.type(value, torch.Tensor, "generator_loss(fake_logits)")
    expect.shape(value, (), "generator_loss(fake_logits)")
    expected = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(2.0))) / 2
    expect.close(value, expected, "generator_loss([[1], [-2]])", atol=1e-5)


@ctx.check("generator_loss")
def keeps_a_strong_gradient_when_d_rejects_the_fakes():
    logits = torch.full((3, 1), -6.0, requires_grad=True)  # D is sure these are fake
    generator_loss(logits).backward()
    expect.true(logits.grad is not None and float(logits.grad.abs().mean()) > 0.3,
                "When D rejects the fakes (logits −6), generator_loss must still push them "
                "hard: the gradient per logit should be about −1/3 here. The saturating "
                "form (minus D's loss on fakes) gives almost 0.",
                "Cuando D rechaza las falsas (logits −6), generator_loss todavía debe "
                "empujarlas con fuerza: aquí el gradiente por logit debería rondar −1/3. La "
                "forma saturante (menos la pérdida de D sobre las falsas) da casi 0.")


# %% [markdown] lang="en"
# ## 3. Adversarial training
# Each step first updates D on a batch of real images and a batch of fresh fakes (detached,
# so that this step does not move G), then updates G through D on the same fakes. Each network
# has its own Adam optimizer with the DCGAN settings (learning rate 2·10⁻⁴, β₁ = 0.5). The loop
# runs in the run's precision (bf16 autocast where the CPU computes it natively) with
# channels-last images.
#
# After each epoch, the same 16 noise vectors go through G: the frames of the animation.
#
# The course trains for 50 epochs. One epoch over the 50,000 training images costs this CPU
# about 30 s, so the lab trains 4: recognizable, imperfect garments, as the measured numbers
# below show.

# %% [markdown] lang="es"
# ## 3. Entrenamiento adversario
# Cada paso primero actualiza D con un lote de imágenes reales y uno de falsas recién generadas
# (desconectadas con detach, para que este paso no mueva a G) y luego actualiza G a través de D
# con las mismas falsas. Cada red tiene su propio optimizador Adam con los valores de DCGAN
# (tasa de aprendizaje 2·10⁻⁴, β₁ = 0.5). El bucle corre con la precisión de la ejecución
# (autocast bf16 donde la CPU lo calcula de forma nativa) con imágenes channels-last.
#
# Después de cada época, los mismos 16 vectores de ruido pasan por G: los cuadros de la
# animación.
#
# El curso entrena 50 épocas. Una época sobre las 50 000 imágenes de entrenamiento le cuesta a
# esta CPU unos 30 s, así que el laboratorio entrena 4: prendas reconocibles e imperfectas,
# como muestran los números medidos más abajo.

# %%
G = Generator(cfg.noise, cfg.channels, cfg.width).to(memory_format=torch.channels_last)
D = Discriminator(cfg.d_width).to(memory_format=torch.channels_last)
opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
noise_rng = torch.Generator().manual_seed(ctx.seed)
fixed_noise = torch.randn(16, cfg.noise, generator=noise_rng)
batches = Batches(real_train, batch_size=cfg.batch_size, seed=ctx.seed, drop_last=True)
log = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": [], "seconds": []}
snapshots = []
for epoch in range(1, cfg.epochs + 1):
    G.train()
    batches.set_epoch(epoch)
    start, totals = time.perf_counter(), np.zeros(4)
    for (real,) in batches:
        real = real.contiguous(memory_format=torch.channels_last)
        z = torch.randn(len(real), cfg.noise, generator=noise_rng)
        with autocast(ctx.precision, ctx.device):
            fake = G(z)
            real_logits, fake_logits = D(real).float(), D(fake.detach()).float()
        d_loss = discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        with autocast(ctx.precision, ctx.device):
            g_loss = generator_loss(D(fake).float())
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        totals += [d_loss.item(), g_loss.item(), torch.sigmoid(real_logits).mean().item(),
                   torch.sigmoid(fake_logits).mean().item()]
    log["seconds"].append(time.perf_counter() - start)
    for key, value in zip(("d_loss", "g_loss", "d_real", "d_fake"), totals / len(batches)):
        log[key].append(float(value))
    snapshots.append(G.generate(fixed_noise))

# %% [markdown] lang="en"
# Both losses per epoch, and D's mean verdict (probability "real") on real and generated
# images. If D's loss fell to 0 and its verdict on fakes to 0, D would have won and G would
# stop learning; in a healthy run both stay in a middle range and keep trading blows.

# %% [markdown] lang="es"
# Las dos pérdidas por época y el veredicto medio de D (probabilidad "real") sobre imágenes
# reales y generadas. Si la pérdida de D cayera a 0 y su veredicto sobre las falsas a 0, D
# habría ganado y G dejaría de aprender; en una ejecución sana ambas se mantienen en un rango
# intermedio y siguen disputándose.

# %%
epochs = range(1, cfg.epochs + 1)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
axes[0].plot(epochs, log["d_loss"], marker="o", label=ctx.t("D loss", "pérdida de D"))
axes[0].plot(epochs, log["g_loss"], marker="o", label=ctx.t("G loss", "pérdida de G"))
axes[1].plot(epochs, log["d_real"], marker="o", label=ctx.t("D(real)", "D(real)"))
axes[1].plot(epochs, log["d_fake"], marker="o", label=ctx.t("D(fake)", "D(falsa)"))
axes[1].set_ylim(0, 1)
for ax in axes:
    ax.set_xlabel(ctx.t("epoch", "época"))
    ax.legend()
ctx.figure("losses", fig)
gif = save_gif([image_grid(frame, 4, 4, ctx.t(f"epoch {e}", f"época {e}"))
                for e, frame in enumerate(snapshots, start=1)],
               ctx.out / "figures" / "fixed_noise.gif")
ctx.figure("fixed_noise_epochs", image_rows(
    {ctx.t(f"epoch {e}", f"época {e}"): frame[:10] for e, frame in enumerate(snapshots, 1)}))

# %% [markdown] lang="en"
# ## 4. Judging the samples
# 1,000 new noise vectors go through G. The yardstick reports its mean confidence, the share
# of samples in each class (a collapsed generator piles them into one or two classes) and the
# Fréchet distance of their features to the real test images'. The VAE lab measured 91 with
# the same yardstick. In full mode (4 epochs) we measured 32 here, confidence 0.72, all ten
# classes present and none above 18 %: GAN samples are sharper than a VAE's blurry ones, but
# look at the grid too, they are still rough, with the checkerboard texture transposed
# convolutions leave early in training.

# %% [markdown] lang="es"
# ## 4. Juzgar las muestras
# 1000 vectores de ruido nuevos pasan por G. La vara de medir informa su confianza media, la
# proporción de muestras en cada clase (un generador colapsado las amontona en una o dos
# clases) y la distancia de Fréchet de sus características a las de las imágenes reales de
# test. El laboratorio del VAE midió 91 con la misma vara. En modo completo (4 épocas) aquí
# medimos 32, confianza 0.72, las diez clases presentes y ninguna por encima del 18 %: las
# muestras de una GAN son más nítidas que las borrosas de un VAE, pero mira también la grilla:
# todavía son toscas, con la textura de tablero de ajedrez que dejan las convoluciones
# transpuestas al comienzo del entrenamiento.

# %%
samples = G.generate(torch.randn(cfg.samples, cfg.noise, generator=noise_rng))
score = yardstick.score(judge, samples, real_features)
ctx.figure("samples", image_grid(samples, 8, 8, ctx.t("DCGAN: 64 samples",
                                                      "DCGAN: 64 muestras")))
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(range(10), score["shares"])
ax.axhline(0.3, color="C3", linestyle="--", label=ctx.t("30 % limit", "límite del 30 %"))
ax.set_xticks(range(10), data.classes, rotation=45, ha="right")
ax.set_ylabel(ctx.t("share of samples", "proporción de muestras"))
ax.legend()
ctx.figure("class_shares", fig)
ctx.table([ctx.t("top-class confidence", "confianza de la clase"),
           ctx.t("classes seen (≥ 2 %)", "clases vistas (≥ 2 %)"),
           ctx.t("largest class share", "mayor proporción de una clase"),
           ctx.t("Fréchet distance to real", "distancia de Fréchet a las reales")],
          [[score["confidence"], score["classes_seen"], score["max_share"], score["frechet"]]])

# %%
ctx.finish({
    "gan_confidence": score["confidence"],
    "gan_classes_seen": score["classes_seen"],
    "gan_max_share": score["max_share"],
    "gan_frechet": score["frechet"],
    "final_d_loss": log["d_loss"][-1],
    "final_g_loss": log["g_loss"][-1],
    "final_d_real": log["d_real"][-1],
    "final_d_fake": log["d_fake"][-1],
    "gif_written": gif.exists(),
    "yardstick_val_accuracy": judge_info["metrics"]["val_accuracy"],
    "seconds_per_epoch": float(np.mean(log["seconds"])),
})
