# %% [markdown] lang="en"
# Handwritten digits with a small convolutional network: two 3×3 convolutions with max-pooling
# and a dense head reach 99 % on MNIST's test set in a few epochs on a laptop. We then open
# the network up: the 32 filters its first layer learned, what they do to a digit (computed
# by hand and compared with the network's own output), and the test digits it still gets
# wrong.

# %% [markdown] lang="es"
# Dígitos manuscritos con una red convolucional pequeña: dos convoluciones de 3×3 con
# max-pooling y una cabeza densa llegan al 99 % en el test de MNIST en pocas épocas en un
# portátil. Después abrimos la red: los 32 filtros que aprendió su primera capa, lo que le
# hacen a un dígito (calculado a mano y comparado con la salida de la propia red) y los
# dígitos de test en los que todavía se equivoca.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    epochs: int = 8
    batch_size: int = 128
    lr: float = 1e-3
    train_subset: int = 0    # 0 = all 50k training images
    val_subset: int = 0      # 0 = all 10k validation images
    test_subset: int = 0     # 0 = the official 10k test images
    mistakes_shown: int = 24

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 mistakes_shown=self.mistakes_shown)


LAB = Lab(
    id="mnist-cnn",
    title_en="A CNN for handwritten digits: filters and mistakes",
    title_es="Una CNN para dígitos manuscritos: filtros y errores",
    source="Stage 2 · session 9",
    block="stage2",
    dataset="mnist (50k train / 10k val / 10k test, 1×28×28)",
    criteria=(
        Criterion("test_accuracy", ">=", 0.99, "Test accuracy ≥ 0.99",
                  "Exactitud en test ≥ 0.99"),
        Criterion("hand_conv_max_error", "<=", 1e-4,
                  "The first layer's feature maps computed by hand with conv2d match the "
                  "network's (largest difference ≤ 1e-4)",
                  "Los mapas de la primera capa calculados a mano con conv2d coinciden con los "
                  "de la red (mayor diferencia ≤ 1e-4)"),
    ),
    config=Config,
    quick={"epochs": 1, "train_subset": 600, "val_subset": 500, "test_subset": 500,
           "mistakes_shown": 8},
    timed=("seconds_per_epoch",),
)

# %% [markdown] lang="en"
# ## 1. The data
# MNIST: 28×28 grey digits, kept as images of one channel, (N, 1, 28, 28), with pixels in
# [0, 1]. 10,000 training images are held out for validation; the official test set is used
# once at the end.

# %% [markdown] lang="es"
# ## 1. Los datos
# MNIST: dígitos de 28×28 en gris, guardados como imágenes de un canal, (N, 1, 28, 28), con
# píxeles en [0, 1]. 10,000 imágenes de entrenamiento se apartan para validación; el test
# oficial se usa una vez al final.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import Trainer, metrics
from dlab.models.cnn import count_parameters, small_cnn
from dlab.viz.compare import curves
from dlab.viz.images import conv_filters, feature_maps, image_grid
from dlab.vision.training import fit_classifier

data = load("mnist", seed=ctx.seed, flatten=False)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
test = subset(data.test, cfg.test_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(train[1])], ["val", len(val[1])], ["test", len(test[1])]])

# %% [markdown] lang="en"
# ## 2. The network and its training
# Conv(32, 3×3) → ReLU → MaxPool(2) → Conv(64, 3×3) → ReLU → MaxPool(2) → Flatten →
# Dense(128) → ReLU → Dense(10), with padding 1 so each convolution keeps the size. Adam with
# learning rate 1e-3, decayed to zero along a cosine over the epochs, and batches of 128; the
# weights of the epoch with the best validation accuracy are kept.

# %% [markdown] lang="es"
# ## 2. La red y su entrenamiento
# Conv(32, 3×3) → ReLU → MaxPool(2) → Conv(64, 3×3) → ReLU → MaxPool(2) → Flatten →
# Dense(128) → ReLU → Dense(10), con relleno 1 para que cada convolución conserve el tamaño.
# Adam con tasa de aprendizaje 1e-3, que baja hasta cero siguiendo un coseno a lo largo de las
# épocas, y lotes de 128; se conservan los pesos de la época con la mejor exactitud de
# validación.

# %%
model = small_cnn()
run = fit_classifier(model, train, val, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                     seed=ctx.seed, trainer_options=ctx.trainer_options())
trainer = Trainer(model, progress=False, doctor=False, **ctx.trainer_options())
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
curves(axes[0], {ctx.t("training loss", "pérdida de entrenamiento"): run["loss"]},
       xlabel=ctx.t("epoch", "época"))
curves(axes[1], {ctx.t("validation accuracy", "exactitud de validación"): run["val_accuracy"]},
       xlabel=ctx.t("epoch", "época"))
ctx.figure("curves", fig)
ctx.table([ctx.t("parameters", "parámetros"),
           ctx.t("best validation accuracy", "mejor exactitud de validación"),
           ctx.t("s/epoch (train + val)", "s/época (entren. + val.)")],
          [[count_parameters(model), max(run["val_accuracy"]), run["seconds_per_epoch"]]])

# %% [markdown] lang="en"
# ## 3. The filters of the first layer
# Each of the 32 first-layer filters is a 3×3 grid of weights (red positive, blue negative, one
# colour scale for all). A filter with a row of red above a row of blue responds where the
# image gets darker going down: a horizontal edge. Small as they are, they are the network's
# vocabulary for strokes.

# %% [markdown] lang="es"
# ## 3. Los filtros de la primera capa
# Cada uno de los 32 filtros de la primera capa es una rejilla de 3×3 pesos (rojo positivo,
# azul negativo, una sola escala de color para todos). Un filtro con una fila roja sobre una
# fila azul responde donde la imagen se oscurece hacia abajo: un borde horizontal. Pequeños
# como son, forman el vocabulario de trazos de la red.

# %%
first = model[0]
ctx.figure("filters", conv_filters(first.weight, ncols=8, title=ctx.t(
    "First-layer filters (3×3)", "Filtros de la primera capa (3×3)")))

# %% [markdown] lang="en"
# ## 4. A convolution by hand
# What does a filter do to a digit? It slides over the image and, at each position, adds up
# the pixels under it weighted by its 3×3 weights, then the bias. Written out by hand, that
# must give exactly the numbers the network's first layer gives.

# %% [markdown] lang="es"
# ## 4. Una convolución a mano
# ¿Qué le hace un filtro a un dígito? Se desliza por la imagen y, en cada posición, suma los
# píxeles que tiene debajo ponderados por sus 3×3 pesos, más el sesgo. Escrito a mano, debe dar
# exactamente los mismos números que la primera capa de la red.

# %% exercise="conv2d"
def conv2d(image: torch.Tensor, kernel: torch.Tensor, bias: float = 0.0,
           padding: int = 0) -> torch.Tensor:
    """[en] Convolve one grey image `image` (H, W) with one filter `kernel` (K, K), stride 1,
    as deep-learning layers do (no kernel flip: a cross-correlation). First pad the image with
    `padding` zeros on every border (`F.pad(image, (padding,) * 4)`); then output[i, j] =
    sum(padded[i:i+K, j:j+K] * kernel) + bias, for every position where the window fits, so
    the result is (H + 2·padding − K + 1) × (W + 2·padding − K + 1). Do not call `F.conv2d`
    or `nn.Conv2d`; loops over i and j, or `Tensor.unfold`, are fine.

    [es] Convoluciona una imagen en gris `image` (H, W) con un filtro `kernel` (K, K), paso 1,
    como hacen las capas de deep learning (sin voltear el filtro: una correlación cruzada).
    Primero rellena la imagen con `padding` ceros en cada borde
    (`F.pad(image, (padding,) * 4)`); luego salida[i, j] =
    sum(rellena[i:i+K, j:j+K] * kernel) + bias, para cada posición en la que cabe la ventana,
    así que el resultado es (H + 2·padding − K + 1) × (W + 2·padding − K + 1). No uses
    `F.conv2d` ni `nn.Conv2d`; valen bucles sobre i y j, o `Tensor.unfold`.
    """
    padded = F.pad(image, (padding,) * 4)
    k = kernel.shape[0]
    windows = padded.unfold(0, k, 1).unfold(1, k, 1)  # (H', W', K, K)
    return (windows * kernel).sum(dim=(-2, -1)) + bias


# %% check
import torch
import torch.nn.functional as F

from dlab.exercises import expect


@ctx.check("conv2d")
def computes_a_small_example_by_hand():
    image = torch.arange(16.0).reshape(4, 4)
    kernel = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
    out = conv2d(image, kernel)
    expect.shape(out, (3, 3), "conv2d(arange(16).reshape(4, 4), 2×2 kernel)")
    expect.close(out, torch.full((3, 3), -5.0),
                 "conv2d(arange(16).reshape(4, 4), [[1, 0], [0, -1]]) (each output is "
                 "x[i, j] − x[i+1, j+1])")


@ctx.check("conv2d")
def matches_torch_with_padding_and_bias():
    g = torch.Generator().manual_seed(0)
    image, kernel = torch.rand(9, 7, generator=g), torch.randn(3, 3, generator=g)
    for padding in (0, 1):
        expected = F.conv2d(image[None, None], kernel[None, None], torch.tensor([0.5]),
                            padding=padding)[0, 0]
        expect.close(conv2d(image, kernel, 0.5, padding), expected,
                     f"conv2d(rand(9, 7), randn(3, 3), bias=0.5, padding={padding}) against "
                     f"F.conv2d", atol=1e-5)


# %% [markdown] lang="en"
# The first eight filters applied by hand to three test digits, each followed by the ReLU the
# network applies: strokes of one direction light up, the others stay dark. The largest
# difference from the network's own first-layer output is reported below.

# %% [markdown] lang="es"
# Los ocho primeros filtros aplicados a mano a tres dígitos de test, cada uno seguido de la
# ReLU que aplica la red: se encienden los trazos de una dirección y los demás quedan oscuros.
# Abajo se muestra la mayor diferencia con la salida de la primera capa de la propia red.

# %%
model.eval()
images = test[0][:3]
weights, biases = first.weight.detach().float(), first.bias.detach().float()
by_hand = torch.stack([torch.stack([torch.relu(conv2d(img[0], weights[k, 0], float(biases[k]), 1))
                                    for k in range(8)]) for img in images])
with torch.no_grad():
    by_network = torch.relu(F.conv2d(images, weights[:8], biases[:8], padding=1))
hand_conv_max_error = float((by_hand - by_network).abs().max())
ctx.figure("filter_responses", feature_maps(
    images, by_hand, n_maps=8, row_titles=[str(int(c)) for c in test[1][:3]],
    title=ctx.t("First eight filters applied by hand (after ReLU)",
                "Los ocho primeros filtros aplicados a mano (tras la ReLU)")))
ctx.table([ctx.t("largest |by hand − network|", "mayor |a mano − red|")],
          [[hand_conv_max_error]])

# %% [markdown] lang="en"
# ## 5. One look at the test set, and the mistakes
# The kept weights are scored once on the test images. The mistakes are most instructive when
# sorted by how sure the network was: the confidently wrong ones are often digits a person
# would also hesitate over, or labels that look wrong.

# %% [markdown] lang="es"
# ## 5. Una sola mirada al conjunto de test, y los errores
# Los pesos conservados se evalúan una sola vez con las imágenes de test. Los errores enseñan
# más ordenados por la seguridad de la red: los que falla con mucha confianza suelen ser
# dígitos que también harían dudar a una persona, o etiquetas que parecen erróneas.

# %% exercise="confident_mistakes"
def confident_mistakes(logits: torch.Tensor, labels: torch.Tensor, k: int) -> list:
    """[en] `logits` (N, C) are a classifier's outputs for N images and `labels` (N,) their
    true classes. Return up to `k` mistakes (images whose predicted class, the argmax of the
    logits, differs from the label) as a list of tuples `(index, predicted, true,
    confidence)` with Python ints and a float, where `confidence` is the softmax probability
    of the predicted class; sort them from most to least confident. Fewer than `k` mistakes:
    return them all.

    [es] `logits` (N, C) son las salidas de un clasificador para N imágenes y `labels` (N,) sus
    clases reales. Devuelve hasta `k` errores (imágenes cuya clase predicha, el argmax de los
    logits, difiere de la etiqueta) como una lista de tuplas `(índice, predicha, real,
    confianza)` con ints de Python y un float, donde `confianza` es la probabilidad softmax de
    la clase predicha; ordénalos de mayor a menor confianza. Si hay menos de `k` errores,
    devuélvelos todos.
    """
    probs = torch.softmax(logits.float(), dim=1)
    confidence, predicted = probs.max(dim=1)
    wrong = (predicted != labels).nonzero().flatten()
    order = wrong[confidence[wrong].argsort(descending=True)][:k]
    return [(int(i), int(predicted[i]), int(labels[i]), float(confidence[i])) for i in order]


# %% check
import torch

from dlab.exercises import expect


@ctx.check("confident_mistakes")
def finds_and_sorts_the_mistakes():
    logits = torch.tensor([[4.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [2.0, 0.0, 0.0],
                           [0.0, 5.0, 0.0]])
    labels = torch.tensor([0, 2, 1, 1, 1])
    result = confident_mistakes(logits, labels, k=5)
    what = "confident_mistakes(logits, labels, k=5) for the example of 5 images"
    expect.type(result, list, what)
    expect.equal([tuple(r[:3]) for r in result], [(2, 2, 1), (3, 0, 1), (1, 1, 2)], what)
    expect.close(result[0][3], float(torch.softmax(logits[2], 0)[2]),
                 "confidence of the first mistake (softmax probability of its predicted class)",
                 atol=1e-6)
    expect.equal(len(confident_mistakes(logits, labels, k=2)), 2,
                 "len(confident_mistakes(logits, labels, k=2))")


@ctx.check("confident_mistakes")
def no_mistakes_gives_an_empty_list():
    logits = torch.eye(4) * 3
    expect.equal(confident_mistakes(logits, torch.arange(4), k=3), [],
                 "confident_mistakes(3 * eye(4), arange(4), k=3) (every prediction right)")


# %%
outputs = trainer.predict(test[0])
test_accuracy = metrics.accuracy(outputs, test[1])
mistakes = confident_mistakes(outputs, test[1], cfg.mistakes_shown)
n_wrong = int((outputs.argmax(1) != test[1]).sum())
ctx.table([ctx.t("test accuracy", "exactitud en test"), ctx.t("mistakes", "errores"),
           ctx.t("test images", "imágenes de test")], [[test_accuracy, n_wrong, len(test[1])]])
ctx.figure("mistakes", image_grid(
    test[0][[m[0] for m in mistakes]],
    titles=[ctx.t(f"pred {p} · true {t}\n{c:.0%}", f"pred {p} · real {t}\n{c:.0%}")
            for _, p, t, c in mistakes],
    ncols=8, colors=["firebrick"] * len(mistakes),
    title=ctx.t("Test mistakes, most confident first",
                "Errores en test, los más seguros primero")))

# %%
ctx.finish({
    "test_accuracy": test_accuracy,
    "test_mistakes": n_wrong,
    "best_val_accuracy": max(run["val_accuracy"]),
    "hand_conv_max_error": hand_conv_max_error,
    "parameters": count_parameters(model),
    "seconds_per_epoch": run["seconds_per_epoch"],
})
