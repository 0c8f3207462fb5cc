# %% [markdown] lang="en"
# The course's first convolutional network on Fashion-MNIST: two 3×3 convolutions, each
# followed by a 2×2 max-pool, then a dense head. An MLP 784-128-64-10 is trained beside it on
# the same images with the same optimizer and epochs, so the comparison is fair. We work out
# the sizes of the layers by hand, count parameters, look at what the first convolution
# responds to, and score both models once on the test set.

# %% [markdown] lang="es"
# La primera red convolucional del curso con Fashion-MNIST: dos convoluciones de 3×3, cada una
# seguida de un max-pool de 2×2, y luego una cabeza densa. A su lado se entrena un MLP
# 784-128-64-10 con las mismas imágenes, el mismo optimizador y las mismas épocas, para que la
# comparación sea justa. Calculamos a mano los tamaños de las capas, contamos parámetros,
# miramos a qué responde la primera convolución y evaluamos ambos modelos una sola vez en test.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    epochs: int = 10         # the same budget for the CNN and the MLP
    batch_size: int = 128
    lr: float = 1e-3
    train_subset: int = 0    # 0 = all 50k training images
    val_subset: int = 0      # 0 = all 10k validation images
    test_subset: int = 0     # 0 = the official 10k test images

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr)


LAB = Lab(
    id="fashion-cnn",
    title_en="A small CNN for Fashion-MNIST against an MLP",
    title_es="Una CNN pequeña para Fashion-MNIST frente a un MLP",
    source="Part 2 · class 128 (homework)",
    block="part2-vision",
    dataset="fashion_mnist (50k train / 10k val / 10k test, 1×28×28)",
    criteria=(
        Criterion("test_accuracy", ">=", 0.91, "CNN test accuracy ≥ 0.91",
                  "Exactitud de la CNN en test ≥ 0.91"),
        Criterion("gain_over_mlp", ">", 0.0,
                  "The CNN beats the MLP 784-128-64-10 trained on the same data and budget "
                  "(test accuracy difference > 0)",
                  "La CNN supera al MLP 784-128-64-10 entrenado con los mismos datos y "
                  "presupuesto (diferencia de exactitud en test > 0)"),
    ),
    config=Config,
    quick={"epochs": 1, "train_subset": 600, "val_subset": 500, "test_subset": 500},
    timed=("seconds_per_epoch", "mlp_seconds_per_epoch"),
)

# %% [markdown] lang="en"
# ## 1. The data
# A convolution needs images, not vectors: each garment stays a 1×28×28 tensor (one grey
# channel). Forgetting the channel axis, (N, 28, 28) instead of (N, 1, 28, 28), is the classic
# first error with CNNs. 10,000 training images are held out for validation.

# %% [markdown] lang="es"
# Una convolución necesita imágenes, no vectores: cada prenda queda como un tensor de 1×28×28
# (un canal de gris). Olvidar el eje del canal, (N, 28, 28) en lugar de (N, 1, 28, 28), es el
# error clásico al empezar con CNN. 10,000 imágenes de entrenamiento se apartan para validación.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import Trainer, metrics
from dlab.models import MLP
from dlab.viz.compare import curves
from dlab.viz.images import feature_maps
from dlab.vision.training import FASHION_CNN, fashion_cnn_settings, fit_classifier

data = load("fashion_mnist", seed=ctx.seed, flatten=False)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
test = subset(data.test, cfg.test_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes"), ctx.t("shape", "forma")],
          [["train", len(train[1]), tuple(train[0].shape[1:])], ["val", len(val[1]), ""],
           ["test", len(test[1]), ""]])

# %% [markdown] lang="en"
# ## 2. How big is each layer's output?
# A K×K filter slid with stride S over an H-pixel side padded with P zeros on each border fits
# ⌊(H − K + 2P) / S⌋ + 1 times. Padding 1 with a 3×3 filter keeps the size ('same'); no
# padding ('valid') loses K − 1 pixels; a 2×2 max-pool with stride 2 is the same formula with
# K = S = 2 and halves the side.

# %% [markdown] lang="es"
# ## 2. ¿Qué tamaño tiene la salida de cada capa?
# Un filtro de K×K que se desliza con paso S sobre un lado de H píxeles, con P ceros de relleno
# en cada borde, cabe ⌊(H − K + 2P) / S⌋ + 1 veces. Con relleno 1 y un filtro de 3×3 el tamaño
# se conserva ('same'); sin relleno ('valid') se pierden K − 1 píxeles; un max-pool de 2×2 con
# paso 2 es la misma fórmula con K = S = 2 y divide el lado por dos.

# %% exercise="conv_output_size"
def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """[en] Return the output side of a convolution (or pooling) window of side `kernel`
    moved with step `stride` over an input of side `size` padded with `padding` zeros on each
    border: floor((size - kernel + 2 * padding) / stride) + 1, as a Python int (use `//`).
    E.g. (28, 3, 1, 1) -> 28, (28, 3) -> 26, (28, 2, 2) -> 14.

    [es] Devuelve el lado de la salida de una ventana de convolución (o de pooling) de lado
    `kernel` movida con paso `stride` sobre una entrada de lado `size` con `padding` ceros de
    relleno en cada borde: floor((size - kernel + 2 * padding) / stride) + 1, como int de
    Python (usa `//`). P. ej. (28, 3, 1, 1) -> 28, (28, 3) -> 26, (28, 2, 2) -> 14.
    """
    return (size - kernel + 2 * padding) // stride + 1


# %% check
import torch
from torch import nn

from dlab.exercises import expect


@ctx.check("conv_output_size")
def gives_the_course_examples():
    expect.type(conv_output_size(28, 3, 1, 1), int, "conv_output_size(28, 3, 1, 1)")
    expect.equal(conv_output_size(28, 3, 1, 1), 28, "conv_output_size(28, 3, 1, 1) ('same')")
    expect.equal(conv_output_size(28, 3), 26, "conv_output_size(28, 3) ('valid')")
    expect.equal(conv_output_size(28, 2, 2), 14, "conv_output_size(28, 2, 2) (max-pool 2×2)")
    expect.equal(conv_output_size(7, 2, 2), 3, "conv_output_size(7, 2, 2) (odd side, rounds down)")


@ctx.check("conv_output_size")
def agrees_with_torch_conv2d():
    for size, kernel, stride, padding in [(28, 5, 1, 0), (28, 3, 2, 1), (13, 3, 2, 0),
                                          (32, 7, 3, 2), (9, 4, 2, 1)]:
        conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
        expected = conv(torch.zeros(1, 1, size, size)).shape[-1]
        expect.equal(conv_output_size(size, kernel, stride, padding), expected,
                     f"conv_output_size({size}, {kernel}, {stride}, {padding}) (what "
                     f"nn.Conv2d gives)")


# %% [markdown] lang="en"
# Following one image through the network: two 'same' convolutions and two pools take the
# side from 28 to 7, so the flatten layer hands 64 · 7 · 7 numbers to the dense head.

# %% [markdown] lang="es"
# Siguiendo una imagen por la red: dos convoluciones 'same' y dos pools llevan el lado de 28 a
# 7, así que la capa flatten entrega 64 · 7 · 7 números a la cabeza densa.

# %%
side, trace = 28, []
for layer, kernel, stride, padding, channels in [("Conv(32, 3×3, padding 1)", 3, 1, 1, 32),
                                                 ("MaxPool(2)", 2, 2, 0, 32),
                                                 ("Conv(64, 3×3, padding 1)", 3, 1, 1, 64),
                                                 ("MaxPool(2)", 2, 2, 0, 64)]:
    side = conv_output_size(side, kernel, stride, padding)
    trace.append([layer, f"{channels} × {side} × {side}"])
flat_features = 64 * side * side
trace.append(["Flatten", flat_features])
ctx.table([ctx.t("layer", "capa"), ctx.t("output", "salida")], trace)

# %% [markdown] lang="en"
# ## 3. The network
# Conv(32, 3×3) → ReLU → MaxPool(2) → Conv(64, 3×3) → ReLU → MaxPool(2) → Flatten →
# Dense(128) → ReLU → Dense(10). The convolutions look at 3×3 neighbourhoods with the same
# weights everywhere in the image; the pools halve the side and keep the strongest response
# of each 2×2 block.

# %% [markdown] lang="es"
# Conv(32, 3×3) → ReLU → MaxPool(2) → Conv(64, 3×3) → ReLU → MaxPool(2) → Flatten →
# Dense(128) → ReLU → Dense(10). Las convoluciones miran vecindarios de 3×3 con los mismos
# pesos en toda la imagen; los pools dividen el lado por dos y conservan la respuesta más
# fuerte de cada bloque de 2×2.

# %% exercise="build_cnn"
def build_cnn(num_classes: int = 10) -> nn.Module:
    """[en] Return an `nn.Sequential` with these layers, in this order:
    `nn.Conv2d(1, 32, 3, padding=1)`, `nn.ReLU()`, `nn.MaxPool2d(2)`,
    `nn.Conv2d(32, 64, 3, padding=1)`, `nn.ReLU()`, `nn.MaxPool2d(2)`, `nn.Flatten()`,
    `nn.Linear(64 * 7 * 7, 128)`, `nn.ReLU()`, `nn.Linear(128, num_classes)`.
    It takes images (N, 1, 28, 28) and returns logits (N, num_classes), with no softmax.

    [es] Devuelve un `nn.Sequential` con estas capas, en este orden:
    `nn.Conv2d(1, 32, 3, padding=1)`, `nn.ReLU()`, `nn.MaxPool2d(2)`,
    `nn.Conv2d(32, 64, 3, padding=1)`, `nn.ReLU()`, `nn.MaxPool2d(2)`, `nn.Flatten()`,
    `nn.Linear(64 * 7 * 7, 128)`, `nn.ReLU()`, `nn.Linear(128, num_classes)`.
    Recibe imágenes (N, 1, 28, 28) y devuelve logits (N, num_classes), sin softmax.
    """
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, num_classes))


# %% check
import torch
from torch import nn

from dlab.exercises import expect
from dlab.models.cnn import small_cnn


@ctx.check("build_cnn")
def maps_images_to_logits():
    model = build_cnn()
    expect.type(model, nn.Module, "build_cnn()")
    expect.shape(model(torch.zeros(4, 1, 28, 28)), (4, 10),
                 "build_cnn()(torch.zeros(4, 1, 28, 28))")
    expect.shape(build_cnn(5)(torch.zeros(2, 1, 28, 28)), (2, 5),
                 "build_cnn(5)(torch.zeros(2, 1, 28, 28))")
    expect.last_layer_linear(model, "build_cnn()")


@ctx.check("build_cnn")
def has_the_course_layers_in_order():
    model = build_cnn()
    leaves = [type(m).__name__ for m in model.modules() if not list(m.children())]
    expected = [type(m).__name__ for m in small_cnn()]
    expect.equal(leaves, expected, "the layer types of build_cnn(), in order")
    shapes = [tuple(p.shape) for p in model.parameters()]
    expect.equal(shapes, [tuple(p.shape) for p in small_cnn().parameters()],
                 "the parameter shapes of build_cnn(), in order")


@ctx.check("build_cnn")
def computes_what_the_course_network_computes():
    torch.manual_seed(0)
    reference = small_cnn()
    model = build_cnn()
    with torch.no_grad():
        for mine, theirs in zip(model.parameters(), reference.parameters()):
            mine.copy_(theirs)
    x = torch.rand(3, 1, 28, 28)
    expect.close(model(x), reference(x), "build_cnn()(x) with the reference network's weights",
                 atol=1e-5)


# %% [markdown] lang="en"
# ## 4. Counting parameters
# A convolution with C_in input channels and C_out filters of K×K has K·K·C_in·C_out weights
# plus C_out biases, whatever the image size: the same filter is used at every position. A
# dense layer has one weight per input–output pair. Only the tensors that training updates
# count: running statistics (of a BatchNorm, say) are buffers, not parameters.

# %% [markdown] lang="es"
# Una convolución con C_in canales de entrada y C_out filtros de K×K tiene K·K·C_in·C_out
# pesos más C_out sesgos, sea cual sea el tamaño de la imagen: el mismo filtro se usa en todas
# las posiciones. Una capa densa tiene un peso por cada par entrada–salida. Solo cuentan los
# tensores que el entrenamiento actualiza: las estadísticas acumuladas (de una BatchNorm, por
# ejemplo) son buffers, no parámetros.

# %% exercise="count_parameters"
def count_parameters(model: nn.Module) -> int:
    """[en] Return the number of trainable parameters of `model` (the sum of `p.numel()`
    over `model.parameters()` with `p.requires_grad`), as a Python int. Buffers such as a
    BatchNorm's running mean are not parameters. E.g. `nn.Conv2d(1, 32, 5)` has
    5·5·1·32 + 32 = 832.

    [es] Devuelve el número de parámetros entrenables de `model` (la suma de `p.numel()`
    sobre `model.parameters()` con `p.requires_grad`), como int de Python. Los buffers, como
    la media acumulada de una BatchNorm, no son parámetros. P. ej. `nn.Conv2d(1, 32, 5)` tiene
    5·5·1·32 + 32 = 832.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# %% check
from torch import nn

from dlab.exercises import expect


@ctx.check("count_parameters")
def counts_weights_and_biases():
    expect.type(count_parameters(nn.Conv2d(1, 32, 5)), int, "count_parameters(nn.Conv2d(1, 32, 5))")
    expect.equal(count_parameters(nn.Conv2d(1, 32, 5)), 832,
                 "count_parameters(nn.Conv2d(1, 32, 5))")
    expect.equal(count_parameters(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(),
                                                nn.Linear(8, 4))), 3 * 3 * 3 * 8 + 8 + 8 * 4 + 4,
                 "count_parameters(Conv2d(3, 8, 3) → ReLU → Flatten → Linear(8, 4))")


@ctx.check("count_parameters")
def skips_buffers_and_frozen_tensors():
    expect.equal(count_parameters(nn.BatchNorm2d(32)), 64,
                 "count_parameters(nn.BatchNorm2d(32)) (weight and bias; the running "
                 "statistics are buffers)")
    frozen = nn.Sequential(nn.Linear(10, 5), nn.Linear(5, 2))
    frozen[0].requires_grad_(False)
    expect.equal(count_parameters(frozen), 12,
                 "count_parameters of Linear(10, 5) (frozen) → Linear(5, 2)")


# %% [markdown] lang="en"
# Side by side with the MLP 784-128-64-10, layer by layer. The two convolutions hold under
# 19,000 parameters; almost all of the CNN's weight sits in the dense layer after the flatten,
# 3,136 inputs × 128 units. The CNN is not the smaller model here: its advantage is what its
# parameters are used for (local patterns, shared across the image), not how many there are.
# The pooling lab replaces that flatten with a global average and removes most of them.

# %% [markdown] lang="es"
# Junto al MLP 784-128-64-10, capa por capa. Las dos convoluciones tienen menos de 19,000
# parámetros; casi todo el peso de la CNN está en la capa densa después del flatten, 3,136
# entradas × 128 neuronas. Aquí la CNN no es el modelo más pequeño: su ventaja está en para qué
# usa sus parámetros (patrones locales compartidos en toda la imagen), no en cuántos tiene. El
# lab de pooling sustituye ese flatten por un promedio global y elimina la mayoría.

# %%
cnn = build_cnn()
mlp = nn.Sequential(nn.Flatten(), MLP(784, [128, 64], 10))
rows = []
for name, model in (("CNN", cnn), ("MLP 784-128-64-10", mlp)):
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            rows.append([name, f"{type(layer).__name__} {tuple(layer.weight.shape)}",
                         count_parameters(layer)])
    rows.append([name, ctx.t("total", "total"), count_parameters(model)])
ctx.table([ctx.t("model", "modelo"), ctx.t("layer (weight shape)", "capa (forma del peso)"),
           ctx.t("parameters", "parámetros")], rows)
cnn_params, mlp_params = count_parameters(cnn), count_parameters(mlp)

# %% [markdown] lang="en"
# ## 5. Training both under the same budget
# Adam (learning rate 1e-3, decayed to zero along a cosine over the epochs), batches of 128,
# the same number of epochs and the same batch order for both models, each starting from
# weights drawn with the run's seed; after each epoch the validation accuracy is measured and
# the weights of the best epoch are kept. The CNN's trained weights are saved for the
# transfer-learning and pooling labs, which load them instead of training them again.

# %% [markdown] lang="es"
# ## 5. Entrenar los dos con el mismo presupuesto
# Adam (tasa de aprendizaje 1e-3, que baja hasta cero siguiendo un coseno a lo largo de las
# épocas), lotes de 128, el mismo número de épocas y el mismo orden de lotes para ambos
# modelos, cada uno partiendo de pesos generados con la semilla de la ejecución; después de
# cada época se mide la exactitud de validación y se conservan los pesos de la mejor época. Los
# pesos entrenados de la CNN se guardan para los labs de transfer learning y de pooling, que
# los cargan en lugar de volver a entrenarlos.

# %%
def train_model(model):
    return fit_classifier(model, train, val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                          lr=cfg.lr, seed=ctx.seed, trainer_options=ctx.trainer_options())


shared = ctx.shared_model(cnn, FASHION_CNN, fashion_cnn_settings(
    cfg.epochs, cfg.batch_size, cfg.lr, cfg.train_subset, cfg.val_subset, ctx.precision),
    train_model)
cnn_run = shared["metrics"]
mlp_run = train_model(mlp)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
curves(axes[0], {"CNN": cnn_run["loss"], "MLP": mlp_run["loss"]},
       title=ctx.t("training loss", "pérdida de entrenamiento"),
       xlabel=ctx.t("epoch", "época"))
curves(axes[1], {"CNN": cnn_run["val_accuracy"], "MLP": mlp_run["val_accuracy"]},
       title=ctx.t("validation accuracy", "exactitud de validación"),
       xlabel=ctx.t("epoch", "época"))
ctx.figure("curves", fig)
ctx.table([ctx.t("model", "modelo"), ctx.t("parameters", "parámetros"),
           ctx.t("best validation accuracy", "mejor exactitud de validación"),
           ctx.t("s/epoch (train + val)", "s/época (entren. + val.)"),
           ctx.t("weights", "pesos")],
          [["CNN", cnn_params, max(cnn_run["val_accuracy"]), cnn_run["seconds_per_epoch"],
            ctx.t("loaded", "cargados") if shared["reused"] else ctx.t("trained", "entrenados")],
           ["MLP", mlp_params, max(mlp_run["val_accuracy"]), mlp_run["seconds_per_epoch"],
            ctx.t("trained", "entrenados")]])

# %% [markdown] lang="en"
# ## 6. One look at the test set
# Each model's kept weights are scored once on the test images.

# %% [markdown] lang="es"
# ## 6. Una sola mirada al conjunto de test
# Los pesos conservados de cada modelo se evalúan una sola vez con las imágenes de test.

# %%
scores = {}
for name, model in (("CNN", cnn), ("MLP", mlp)):
    scorer = Trainer(model, progress=False, doctor=False, **ctx.trainer_options())
    scores[name] = metrics.accuracy(scorer.predict(test[0]), test[1])
ctx.table([ctx.t("model", "modelo"), ctx.t("test accuracy", "exactitud en test")],
          [[name, acc] for name, acc in scores.items()])

# %% [markdown] lang="en"
# ## 7. What the first convolution sees
# The 32 outputs of the first convolution (after its ReLU) for three test images, eight of
# them shown. Each map is one filter slid over the whole image: some light up on edges of a
# given direction, some on flat bright areas, some on the background. The later layers build
# on these maps, not on raw pixels.

# %% [markdown] lang="es"
# ## 7. Lo que ve la primera convolución
# Las 32 salidas de la primera convolución (después de su ReLU) para tres imágenes de test; se
# muestran ocho. Cada mapa es un filtro deslizado por toda la imagen: algunos se encienden en
# bordes de una dirección, otros en zonas claras y uniformes, otros en el fondo. Las capas
# siguientes trabajan sobre estos mapas, no sobre los píxeles.

# %%
cnn.eval()
images = test[0][:3]
with torch.no_grad():
    maps = cnn[:2](images)
ctx.figure("feature_maps", feature_maps(
    images, maps, n_maps=8, row_titles=[data.classes[int(c)] for c in test[1][:3]],
    title=ctx.t("First convolution: feature maps after ReLU",
                "Primera convolución: mapas de activación tras la ReLU")))

# %%
ctx.finish({
    "test_accuracy": scores["CNN"],
    "mlp_test_accuracy": scores["MLP"],
    "gain_over_mlp": scores["CNN"] - scores["MLP"],
    "cnn_parameters": cnn_params,
    "mlp_parameters": mlp_params,
    "best_val_accuracy": max(cnn_run["val_accuracy"]),
    "seconds_per_epoch": cnn_run["seconds_per_epoch"],
    "mlp_seconds_per_epoch": mlp_run["seconds_per_epoch"],
})
