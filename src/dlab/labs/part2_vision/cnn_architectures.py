# %% [markdown] lang="en"
# Twenty-five years of CNN design, in miniature: LeNet-5, a VGG-style stack, a ResNet with
# residual blocks, the same ResNet with squeeze-and-excitation, a ConvNeXt-style net and a
# MobileNet-style depthwise-separable net, each scaled down to Fashion-MNIST's 28×28 images.
# All six get the same training budget; we compare parameters, test accuracy, training time
# and the time to classify one image, and name the winners from the measurements.

# %% [markdown] lang="es"
# Veinticinco años de diseño de CNN, en miniatura: LeNet-5, una pila al estilo VGG, una ResNet
# con bloques residuales, la misma ResNet con squeeze-and-excitation, una red al estilo
# ConvNeXt y una al estilo MobileNet con convoluciones separables en profundidad, todas
# reducidas a las imágenes de 28×28 de Fashion-MNIST. Las seis reciben el mismo presupuesto de
# entrenamiento; comparamos parámetros, exactitud en test, tiempo de entrenamiento y tiempo
# para clasificar una imagen, y nombramos a las ganadoras a partir de las mediciones.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 10000   # the fixed budget: the same images and epochs for every model
    val_subset: int = 2000
    test_subset: int = 0        # 0 = the official 10k test images
    epochs: int = 4
    batch_size: int = 128
    lr: float = 2e-3
    latency_repeats: int = 50

    def check(self):
        positive(train_subset=self.train_subset, val_subset=self.val_subset, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, latency_repeats=self.latency_repeats)


LAB = Lab(
    id="cnn-architectures",
    title_en="CNN architectures from LeNet to ConvNeXt under one budget",
    title_es="Arquitecturas CNN de LeNet a ConvNeXt con un mismo presupuesto",
    source="Part 2 · class 130",
    block="part2-vision",
    dataset="fashion_mnist (seeded 10,000-image training subset, 2,000 validation images, "
            "official 10k test)",
    criteria=(
        Criterion("residual_beat_lenet", "is", True,
                  "Both residual models (ResNet, ResNet + SE) beat LeNet-5 on the test set",
                  "Los dos modelos residuales (ResNet, ResNet + SE) superan a LeNet-5 en test"),
        Criterion("fastest_is_mobilenet", "is", True,
                  "The MobileNet-style net is the fastest at classifying one image",
                  "La red de estilo MobileNet es la más rápida clasificando una imagen",
                  evidence="two full runs, 1 thread, fp32, batch of one, median of 50 "
                           "calls (ms): LeNet-5 0.22 / 0.20, VGG 0.48 / 0.45, ConvNeXt 0.52 / "
                           "0.49, MobileNet 0.60 / 1.15, ResNet 0.71 / 0.73, ResNet + SE 0.90 "
                           "/ 0.87. The MobileNet-style net has the fewest parameters (18,826) "
                           "but not the fewest layers; LeNet-5 was fastest both times."),
    ),
    config=Config,
    quick={"train_subset": 256, "val_subset": 128, "test_subset": 128, "epochs": 1,
           "latency_repeats": 3},
    timed=("fastest_inference", "fastest_is_mobilenet", "latency_ms", "train_seconds"),
)

# %% [markdown] lang="en"
# ## 1. The budget
# 10,000 training images drawn with the run's seed, the same for every model, and the same
# number of epochs, optimizer (Adam with a cosine-decayed learning rate) and batch order.
# 2,000 validation images choose each model's best epoch; the official test set is scored once
# per model.

# %% [markdown] lang="es"
# ## 1. El presupuesto
# 10,000 imágenes de entrenamiento elegidas con la semilla de la ejecución, las mismas para
# todos los modelos, y el mismo número de épocas, optimizador (Adam con tasa de aprendizaje
# que decae en coseno) y orden de lotes. 2,000 imágenes de validación eligen la mejor época de
# cada modelo; el test oficial se evalúa una vez por modelo.

# %%
import time

import matplotlib.pyplot as plt
import torch
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import Trainer, metrics
from dlab.models.architectures import (lenet5, convnext_style, mobilenet_style, resnet_style,
                                       single_image_latency, vgg_style)
from dlab.models.cnn import count_parameters
from dlab.vision.training import fit_classifier

data = load("fashion_mnist", seed=ctx.seed, flatten=False)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
test = subset(data.test, cfg.test_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(train[1])], ["val", len(val[1])], ["test", len(test[1])]])

# %% [markdown] lang="en"
# ## 2. MobileNet's idea: split the convolution in two
# A standard 3×3 convolution from C_in to C_out channels mixes space and channels at once:
# 9·C_in·C_out weights. A depthwise-separable block does it in two steps: a 3×3 *depthwise*
# convolution (`groups=C_in`, one filter per channel, 9·C_in weights) for space, then a 1×1
# *pointwise* convolution (C_in·C_out weights) for the channels. For 64 → 128 channels that
# is about 8 times fewer weights and multiplications.

# %% [markdown] lang="es"
# ## 2. La idea de MobileNet: partir la convolución en dos
# Una convolución estándar de 3×3 de C_in a C_out canales mezcla espacio y canales a la vez:
# 9·C_in·C_out pesos. Un bloque separable en profundidad lo hace en dos pasos: una convolución
# *depthwise* de 3×3 (`groups=C_in`, un filtro por canal, 9·C_in pesos) para el espacio y
# después una *pointwise* de 1×1 (C_in·C_out pesos) para los canales. Para 64 → 128 canales son
# unas 8 veces menos pesos y multiplicaciones.

# %% exercise="depthwise_separable"
def depthwise_separable(c_in: int, c_out: int, stride: int = 1) -> nn.Module:
    """[en] Return an `nn.Sequential` with, in this order:
    `nn.Conv2d(c_in, c_in, 3, stride, padding=1, groups=c_in, bias=False)` (depthwise),
    `nn.BatchNorm2d(c_in)`, `nn.ReLU()`, `nn.Conv2d(c_in, c_out, 1, bias=False)` (pointwise),
    `nn.BatchNorm2d(c_out)`, `nn.ReLU()`. It maps (N, c_in, H, W) to
    (N, c_out, H / stride, W / stride).

    [es] Devuelve un `nn.Sequential` con, en este orden:
    `nn.Conv2d(c_in, c_in, 3, stride, padding=1, groups=c_in, bias=False)` (depthwise),
    `nn.BatchNorm2d(c_in)`, `nn.ReLU()`, `nn.Conv2d(c_in, c_out, 1, bias=False)` (pointwise),
    `nn.BatchNorm2d(c_out)`, `nn.ReLU()`. Convierte (N, c_in, H, W) en
    (N, c_out, H / stride, W / stride).
    """
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, 3, stride, padding=1, groups=c_in, bias=False),
        nn.BatchNorm2d(c_in), nn.ReLU(),
        nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


# %% check
import torch
from torch import nn

from dlab.exercises import expect


@ctx.check("depthwise_separable")
def changes_channels_and_size():
    block = depthwise_separable(16, 32, 1)
    expect.type(block, nn.Module, "depthwise_separable(16, 32, 1)")
    expect.shape(block(torch.rand(2, 16, 28, 28)), (2, 32, 28, 28),
                 "depthwise_separable(16, 32, 1)(torch.rand(2, 16, 28, 28))")
    expect.shape(depthwise_separable(32, 64, 2)(torch.rand(2, 32, 14, 14)), (2, 64, 7, 7),
                 "depthwise_separable(32, 64, 2)(torch.rand(2, 32, 14, 14))")


@ctx.check("depthwise_separable")
def is_depthwise_then_pointwise():
    block = depthwise_separable(64, 128)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    expect.equal([(tuple(c.weight.shape), c.groups) for c in convs],
                 [((64, 1, 3, 3), 64), ((128, 64, 1, 1), 1)],
                 "(weight shape, groups) of the convolutions of depthwise_separable(64, 128)")
    leaves = [type(m).__name__ for m in block.modules() if not list(m.children())]
    expect.equal(leaves, ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"],
                 "the layer types of depthwise_separable(64, 128), in order")
    params = sum(p.numel() for p in block.parameters())
    expect.equal(params, 64 * 9 + 2 * 64 + 64 * 128 + 2 * 128,
                 "parameters of depthwise_separable(64, 128) (no conv biases: BatchNorm has them)")


# %% [markdown] lang="en"
# ## 3. Six models, one budget
# Each family keeps its defining idea: LeNet-5's 5×5 convolutions with tanh and average
# pooling; VGG's stacks of two 3×3 convolutions per stage; ResNet's x + F(x) blocks with
# BatchNorm; SENet's per-channel gates; ConvNeXt's 7×7 depthwise convolution, LayerNorm and
# inverted bottleneck; MobileNet's depthwise-separable blocks (yours). Every model is trained
# from weights drawn with the same seed, and timed.

# %% [markdown] lang="es"
# ## 3. Seis modelos, un presupuesto
# Cada familia conserva su idea definitoria: las convoluciones de 5×5 con tanh y average
# pooling de LeNet-5; las pilas de dos convoluciones de 3×3 por etapa de VGG; los bloques
# x + F(x) con BatchNorm de ResNet; las compuertas por canal de SENet; la convolución depthwise
# de 7×7, LayerNorm y cuello de botella invertido de ConvNeXt; los bloques separables de
# MobileNet (los tuyos). Cada modelo se entrena desde pesos generados con la misma semilla, y
# se cronometra.

# %%
builders = {"LeNet-5": lenet5, "VGG": vgg_style, "ResNet": resnet_style,
            "ResNet + SE": lambda: resnet_style(se=True), "ConvNeXt": convnext_style,
            "MobileNet": lambda: mobilenet_style(block=depthwise_separable)}
models, runs, train_seconds = {}, {}, {}
for name, build in builders.items():
    models[name] = build()
    start = time.perf_counter()
    runs[name] = fit_classifier(models[name], train, val, epochs=cfg.epochs,
                                batch_size=cfg.batch_size, lr=cfg.lr, seed=ctx.seed,
                                trainer_options=ctx.trainer_options())
    train_seconds[name] = time.perf_counter() - start

# %% [markdown] lang="en"
# ## 4. Accuracy, size and speed
# Test accuracy of each model's best epoch, parameters, training time for the whole budget
# and the median time to classify a single image (batch of one, evaluation mode, full
# precision, one call at a time) — what a phone or a web service pays per request.

# %% [markdown] lang="es"
# ## 4. Exactitud, tamaño y velocidad
# Exactitud en test de la mejor época de cada modelo, parámetros, tiempo de entrenamiento para
# todo el presupuesto y la mediana del tiempo para clasificar una sola imagen (lote de uno,
# modo evaluación, precisión completa, una llamada cada vez): lo que paga un móvil o un
# servicio web por petición.

# %%
accuracy, params, latency_ms = {}, {}, {}
for name, model in models.items():
    scorer = Trainer(model, progress=False, doctor=False, **ctx.trainer_options())
    accuracy[name] = metrics.accuracy(scorer.predict(test[0]), test[1])
    params[name] = count_parameters(model)
    plain = model.float().to(memory_format=torch.contiguous_format)
    latency_ms[name] = 1000 * single_image_latency(plain, test[0][0], cfg.latency_repeats)
ctx.table([ctx.t("model", "modelo"), ctx.t("parameters", "parámetros"),
           ctx.t("test accuracy", "exactitud en test"),
           ctx.t("training (s)", "entrenamiento (s)"),
           ctx.t("one image (ms)", "una imagen (ms)")],
          [[n, params[n], accuracy[n], train_seconds[n], latency_ms[n]] for n in models])

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, xs, label in ((axes[0], params, ctx.t("parameters", "parámetros")),
                      (axes[1], latency_ms, ctx.t("ms per image", "ms por imagen"))):
    for name in models:
        ax.scatter(xs[name], accuracy[name], s=40)
        ax.annotate(name, (xs[name], accuracy[name]), fontsize=8, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xlabel(label)
    ax.set_ylabel(ctx.t("test accuracy", "exactitud en test"))
    ax.grid(alpha=0.3)
axes[0].set_xscale("log")
ctx.figure("accuracy_vs_cost", fig)

most_accurate = max(accuracy, key=accuracy.get)
fastest = min(latency_ms, key=latency_ms.get)
ctx.table([ctx.t("most accurate", "más exacto"), ctx.t("fastest on one image",
                                                         "más rápido con una imagen"),
           ctx.t("is it the MobileNet-style one?", "¿es el de estilo MobileNet?")],
          [[most_accurate, fastest, ctx.t("yes", "sí") if fastest == "MobileNet" else "no"]])

# %% [markdown] lang="en"
# The course expects the MobileNet-style net to be the fastest at inference. Its
# multiplications are few, but on a CPU with a batch of one the time of a tiny network is
# dominated by the fixed cost of each layer call rather than by arithmetic, so the model with
# the fewest layers (LeNet-5) can win: the table above says which one did on this machine.

# %% [markdown] lang="es"
# El curso espera que la red de estilo MobileNet sea la más rápida en inferencia. Hace pocas
# multiplicaciones, pero en una CPU con lotes de uno el tiempo de una red diminuta lo domina
# el coste fijo de cada llamada a una capa y no la aritmética, así que el modelo con menos
# capas (LeNet-5) puede ganar: la tabla de arriba dice cuál ganó en esta máquina.

# %%
ctx.finish({
    "test_accuracy": accuracy,
    "parameters": params,
    "most_accurate": most_accurate,
    "residual_beat_lenet": min(accuracy["ResNet"], accuracy["ResNet + SE"]) > accuracy["LeNet-5"],
    "fastest_inference": fastest,
    "fastest_is_mobilenet": fastest == "MobileNet",
    "latency_ms": latency_ms,
    "train_seconds": train_seconds,
})
