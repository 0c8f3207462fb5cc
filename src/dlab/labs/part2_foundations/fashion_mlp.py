# %% [markdown] lang="en"
# Flattened 28×28 images into a two-hidden-layer MLP trained with Adam. Early stopping watches
# the validation loss and keeps the best weights on disk; the test set is scored once and its
# confusion matrix shows which garments get mixed up.

# %% [markdown] lang="es"
# Imágenes de 28×28 aplanadas en un MLP de dos capas ocultas entrenado con Adam. La parada
# temprana vigila la pérdida de validación y guarda en disco los mejores pesos; el test se
# evalúa una sola vez y su matriz de confusión muestra qué prendas se confunden.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: list = field(default_factory=lambda: [300, 100])
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    patience: int = 5
    train_subset: int = 0  # 0 = all 50k training images (quick mode uses fewer)

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 patience=self.patience)


LAB = Lab(
    id="fashion-mlp",
    title_en="Fashion-MNIST with an MLP [300, 100]",
    title_es="Fashion-MNIST con un MLP [300, 100]",
    source="Part 2 · class 101 (homework)",
    block="part2-foundations",
    dataset="fashion_mnist (50k train / 10k val / 10k test)",
    criteria=(
        Criterion("test_accuracy", ">=", 0.87, "Test accuracy ≥ 0.87",
                  "Exactitud en test ≥ 0.87"),
        Criterion("top_confusions_upper_body", "is", True,
                  "The 3 most confused class pairs are all among T-shirt/top, Pullover, Coat, "
                  "Shirt",
                  "Los 3 pares de clases más confundidos están todos entre T-shirt/top, "
                  "Pullover, Coat y Shirt"),
    ),
    config=Config,
    quick={"epochs": 2, "train_subset": 5000},
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST: 28×28 grey images of ten kinds of garment. The pixels are scaled to [0, 1]
# (÷255); 10,000 of the 60,000 official training images are held out for validation, and the
# official 10,000 test images are left alone until the end.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST: imágenes en gris de 28×28 de diez tipos de prenda. Los píxeles se escalan a
# [0, 1] (÷255); 10,000 de las 60,000 imágenes oficiales de entrenamiento se apartan para
# validación, y las 10,000 imágenes oficiales de test no se tocan hasta el final.

# %%
import numpy as np
import torch
from torch import nn

from dlab.data import load
from dlab.engine import ModelCheckpoint, Trainer, load_weights, metrics
from dlab.engine.rules import RuleEarlyStopping
from dlab.viz import confusion_matrix_figure, training_curves

data = load("fashion_mnist", seed=ctx.seed)
X_train, y_train = data.train
if cfg.train_subset:
    X_train, y_train = X_train[:cfg.train_subset], y_train[:cfg.train_subset]
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(y_train)], ["val", len(data.val[1])], ["test", len(data.test[1])]])

# %% [markdown] lang="en"
# ## 2. The model
# An MLP sees a vector, not an image: a `Flatten` layer turns each 1×28×28 image into 784
# numbers. Two hidden layers of 300 and 100 ReLU units follow, then 10 output logits, one per
# class; cross-entropy applies the softmax itself.

# %% [markdown] lang="es"
# ## 2. El modelo
# Un MLP ve un vector, no una imagen: una capa `Flatten` convierte cada imagen de 1×28×28 en
# 784 números. Siguen dos capas ocultas de 300 y 100 neuronas ReLU y luego 10 logits de salida,
# uno por clase; la entropía cruzada aplica la softmax por su cuenta.

# %% exercise="build_mlp"
def build_mlp(hidden: list) -> nn.Module:
    """[en] Return an MLP for 28×28 images with 10 classes: first an `nn.Flatten()` (so that
    both (N, 1, 28, 28) images and (N, 784) vectors become (N, 784)), then one `nn.Linear` +
    `nn.ReLU` per entry of `hidden` (e.g. [300, 100] gives Linear(784, 300), ReLU,
    Linear(300, 100), ReLU), then a last `nn.Linear` to 10 output logits, with no activation
    (no softmax) after it. Create the layers in this order.

    [es] Devuelve un MLP para imágenes de 28×28 con 10 clases: primero un `nn.Flatten()` (para
    que tanto imágenes (N, 1, 28, 28) como vectores (N, 784) queden en (N, 784)), luego un
    `nn.Linear` + `nn.ReLU` por cada elemento de `hidden` (p. ej. [300, 100] da
    Linear(784, 300), ReLU, Linear(300, 100), ReLU) y un último `nn.Linear` a 10 logits de
    salida, sin activación (sin softmax) después. Crea las capas en este orden.
    """
    layers, width = [nn.Flatten()], 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 10))


# %% check
import torch
from torch import nn

from dlab.exercises import expect


@ctx.check("build_mlp")
def flattens_images_into_ten_logits():
    model = build_mlp([300, 100])
    expect.type(model, nn.Module, "build_mlp([300, 100])")
    expect.shape(model(torch.zeros(4, 1, 28, 28)), (4, 10),
                 "build_mlp([300, 100])(torch.zeros(4, 1, 28, 28))")
    expect.shape(model(torch.zeros(4, 784)), (4, 10), "build_mlp([300, 100])(torch.zeros(4, 784))")


@ctx.check("build_mlp")
def has_the_right_layer_sizes():
    sizes = [tuple(m.weight.shape) for m in build_mlp([300, 100]).modules()
             if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(300, 784), (100, 300), (10, 100)],
                 "weight shapes of the nn.Linear layers of build_mlp([300, 100])")
    sizes = [tuple(m.weight.shape) for m in build_mlp([32]).modules() if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(32, 784), (10, 32)],
                 "weight shapes of the nn.Linear layers of build_mlp([32])")


@ctx.check("build_mlp")
def hidden_layers_use_relu_and_logits_are_raw():
    model = build_mlp([300, 100])
    leaves = [m for m in model.modules() if not list(m.children())]
    expect.true(isinstance(leaves[0], nn.Flatten),
                "The first layer of build_mlp must be nn.Flatten(), which turns each image "
                "into a vector of 784 pixels.",
                "La primera capa de build_mlp debe ser nn.Flatten(), que convierte cada imagen "
                "en un vector de 784 píxeles.")
    expect.equal(sum(isinstance(m, nn.ReLU) for m in leaves), 2,
                 "number of nn.ReLU in build_mlp([300, 100])")
    expect.last_layer_linear(model, "build_mlp([300, 100])")


# %% [markdown] lang="en"
# ## 3. Early stopping
# After every epoch the validation loss is measured. Training stops once `patience` epochs in
# a row have not beaten the best loss so far; the weights of that best epoch are the ones kept.
# A checkpoint callback writes them to disk each time the validation loss improves.

# %% [markdown] lang="es"
# ## 3. Parada temprana
# Después de cada época se mide la pérdida de validación. El entrenamiento se detiene cuando
# `patience` épocas seguidas no han superado la mejor pérdida hasta el momento; los pesos que
# se conservan son los de esa mejor época. Un callback de checkpoint los escribe en disco cada
# vez que la pérdida de validación mejora.

# %% exercise="early_stopping"
def early_stopping(val_losses: list, patience: int) -> tuple:
    """[en] Decide early stopping after an epoch. `val_losses` holds the validation loss of
    every epoch so far, in order (epoch 1 first). Return `(best_epoch, stop)`: `best_epoch` is
    the epoch number (1-based) of the lowest loss, the first one if several are equal (a later
    epoch improves only if it is strictly lower); `stop` is True when at least `patience`
    epochs have passed since `best_epoch` without improvement, i.e.
    `len(val_losses) - best_epoch >= patience`. Return a Python int and a Python bool.

    [es] Decide la parada temprana después de una época. `val_losses` tiene la pérdida de
    validación de cada época hasta ahora, en orden (primero la época 1). Devuelve
    `(best_epoch, stop)`: `best_epoch` es el número de época (empezando en 1) con la menor
    pérdida, la primera si hay varias iguales (una época posterior solo mejora si es
    estrictamente menor); `stop` es True cuando han pasado al menos `patience` épocas desde
    `best_epoch` sin mejorar, es decir `len(val_losses) - best_epoch >= patience`. Devuelve
    un int y un bool de Python.
    """
    best_epoch = 1
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < val_losses[best_epoch - 1]:
            best_epoch = epoch
    return best_epoch, len(val_losses) - best_epoch >= patience


# %% check
import random
from types import SimpleNamespace

from dlab.engine import EarlyStopping
from dlab.exercises import expect


@ctx.check("early_stopping")
def finds_the_first_best_epoch():
    result = early_stopping([0.9, 0.5, 0.7, 0.6], patience=5)
    expect.type(result, tuple, "early_stopping([0.9, 0.5, 0.7, 0.6], patience=5)")
    expect.equal(result, (2, False), "early_stopping([0.9, 0.5, 0.7, 0.6], patience=5)")
    expect.equal(early_stopping([0.9, 0.5, 0.5, 0.6], patience=5)[0], 2,
                 "best epoch of early_stopping([0.9, 0.5, 0.5, 0.6], patience=5) (a tie is no "
                 "improvement)")
    expect.equal(early_stopping([0.4], patience=1), (1, False),
                 "early_stopping([0.4], patience=1)")


@ctx.check("early_stopping")
def stops_after_exactly_patience_epochs():
    expect.equal(early_stopping([0.9, 0.5, 0.7, 0.6], patience=3)[1], False,
                 "stop of early_stopping([0.9, 0.5, 0.7, 0.6], patience=3) (2 epochs since "
                 "the best)")
    expect.equal(early_stopping([0.9, 0.5, 0.7, 0.6, 0.8], patience=3)[1], True,
                 "stop of early_stopping([0.9, 0.5, 0.7, 0.6, 0.8], patience=3) (3 epochs since "
                 "the best)")
    expect.equal(early_stopping([0.9, 0.5, 0.7, 0.6, 0.4], patience=3), (5, False),
                 "early_stopping([0.9, 0.5, 0.7, 0.6, 0.4], patience=3) (the last epoch improved)")


@ctx.check("early_stopping")
def agrees_with_the_early_stopping_callback():
    rng = random.Random(0)
    for trial in range(20):
        losses = [round(rng.uniform(0, 1), 1) for _ in range(12)]
        patience = rng.randint(1, 4)
        callback = EarlyStopping(patience=patience, restore_best_weights=False)
        trainer = SimpleNamespace(stop_training=False)
        for epoch, loss in enumerate(losses, start=1):
            callback.on_epoch_end(trainer, epoch, {"val_loss": loss})
            best, stop = early_stopping(losses[:epoch], patience)
            what = f"early_stopping({losses[:epoch]}, patience={patience})"
            expect.equal((best, bool(stop)), (callback.best_epoch, trainer.stop_training), what)
            if trainer.stop_training:
                break


# %% [markdown] lang="en"
# The trainer asks `early_stopping` after every epoch, stops when it says so and puts back the
# weights of the best epoch it names. Adam updates the weights; `fused=True` runs its update
# for all parameters in one kernel, about a third faster per epoch on a CPU.

# %% [markdown] lang="es"
# El entrenador le pregunta a `early_stopping` después de cada época, se detiene cuando lo indica
# y restaura los pesos de la mejor época que señala. Adam actualiza los pesos; `fused=True`
# hace su actualización de todos los parámetros en un solo kernel, alrededor de un tercio más
# rápido por época en CPU.

# %%
model = build_mlp(cfg.hidden)
optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)
trainer = Trainer(model, optimizer, metrics=["accuracy"], callbacks=[
    RuleEarlyStopping(early_stopping, patience=cfg.patience),
    ModelCheckpoint(ctx.checkpoint_path, monitor="val_loss"),
], **ctx.trainer_options())
history = trainer.fit((X_train, y_train), data.val, epochs=cfg.epochs,
                      batch_size=cfg.batch_size, seed=ctx.seed, **ctx.fit_options())

# %% [markdown] lang="en"
# Training and validation loss, and validation accuracy, per epoch; the dashed line marks the
# best epoch, the one whose weights are on disk. When training goes on past it, the training
# loss keeps falling while the validation loss turns up: the model starts to memorize the
# training images.

# %% [markdown] lang="es"
# Pérdida de entrenamiento y de validación, y exactitud de validación, por época; la línea
# discontinua marca la mejor época, la que tiene sus pesos en disco. Cuando el entrenamiento
# sigue más allá de ella, la pérdida de entrenamiento sigue bajando mientras la de validación
# sube: el modelo empieza a memorizar las imágenes de entrenamiento.

# %%
best_epoch, _ = early_stopping(history["val_loss"], cfg.patience)
best_val_loss = history["val_loss"][best_epoch - 1]
ctx.figure("curves", training_curves(history, pairs=(("loss", "val_loss"), ("val_accuracy",)),
                                     mark=best_epoch))
# Reload the checkpoint (not an in-memory copy): proves the file on disk is the best model.
saved = load_weights(model, ctx.checkpoint_path)
ctx.table([ctx.t("epochs trained", "épocas entrenadas"),
           ctx.t("best epoch (early_stopping)", "mejor época (early_stopping)"),
           ctx.t("epoch of the checkpoint", "época del checkpoint"),
           ctx.t("best validation loss", "mejor pérdida de validación")],
          [[len(history), best_epoch, saved.get("epoch"), best_val_loss]])

# %% [markdown] lang="en"
# ## 4. One look at the test set
# The checkpoint's weights are scored once on the test images. In the confusion matrix rows
# are true classes and columns predictions; the off-diagonal cells are mistakes.

# %% [markdown] lang="es"
# ## 4. Una sola mirada al conjunto de test
# Los pesos del checkpoint se evalúan una sola vez con las imágenes de test. En la matriz de
# confusión las filas son la clase real y las columnas la predicción; fuera de la diagonal
# están los errores.

# %%
outputs = trainer.predict(data.test[0])
y_test = data.test[1]
test_accuracy = metrics.accuracy(outputs, y_test)
cm = metrics.confusion_matrix(outputs, y_test, num_classes=10)
ctx.table([ctx.t("test accuracy", "exactitud en test")], [[test_accuracy]])
ctx.figure("confusion_matrix", confusion_matrix_figure(
    cm, data.classes, ctx.t("Test confusion matrix", "Matriz de confusión en test")))

# %% [markdown] lang="en"
# ## 5. Which garments get mixed up
# A pair of classes is confused in both directions: a shirt called a T-shirt and a T-shirt
# called a shirt are mistakes of the same pair, so the two cells on either side of the
# diagonal are added up.

# %% [markdown] lang="es"
# ## 5. Qué prendas se confunden
# Un par de clases se confunde en las dos direcciones: una camisa tomada por camiseta y una
# camiseta tomada por camisa son errores del mismo par, así que se suman las dos celdas a
# ambos lados de la diagonal.

# %% exercise="most_confused_pairs"
def most_confused_pairs(cm: np.ndarray, classes: list, k: int = 3) -> list:
    """[en] `cm` is a confusion matrix (C × C integers, `cm[i, j]` = test images of true class
    i predicted as class j) and `classes` the C class names. Return the `k` unordered pairs of
    classes with the most mistakes, most first, as a list of tuples
    `(mistakes, classes[i], classes[j])` with `i < j`, where
    `mistakes = int(cm[i, j] + cm[j, i])`: both directions count, each pair appears once, and
    the diagonal (correct predictions) is not a mistake.

    [es] `cm` es una matriz de confusión (C × C enteros, `cm[i, j]` = imágenes de test de la
    clase real i predichas como clase j) y `classes` los C nombres de clase. Devuelve los `k`
    pares de clases (sin orden) con más errores, el mayor primero, como una lista de tuplas
    `(errores, classes[i], classes[j])` con `i < j`, donde
    `errores = int(cm[i, j] + cm[j, i])`: cuentan las dos direcciones, cada par aparece una
    sola vez y la diagonal (aciertos) no es un error.
    """
    n = len(classes)
    pairs = [(int(cm[i, j] + cm[j, i]), classes[i], classes[j])
             for i in range(n) for j in range(i + 1, n)]
    return sorted(pairs, reverse=True)[:k]


# %% check
import numpy as np

from dlab.exercises import expect


@ctx.check("most_confused_pairs")
def adds_both_directions_and_skips_the_diagonal():
    cm = np.array([[50, 9, 1, 0],
                   [6, 40, 3, 4],
                   [2, 5, 60, 0],
                   [0, 1, 10, 30]])
    result = most_confused_pairs(cm, ["a", "b", "c", "d"], k=3)
    what = f"most_confused_pairs(cm, ['a', 'b', 'c', 'd'], k=3) for cm = {cm.tolist()}"
    expect.type(result, list, what)
    expect.equal([tuple(p) for p in result], [(15, "a", "b"), (10, "c", "d"), (8, "b", "c")],
                 what)


@ctx.check("most_confused_pairs")
def matches_a_brute_force_count():
    rng = np.random.default_rng(0)
    names = [f"class{i}" for i in range(6)]
    cm = rng.permutation(36).reshape(6, 6)  # all pair sums are distinct: no ties
    while len({int(cm[i, j] + cm[j, i]) for i in range(6) for j in range(i + 1, 6)}) < 15:
        cm = rng.permutation(36).reshape(6, 6)
    both = cm + cm.T
    i, j = np.triu_indices(6, k=1)
    order = np.argsort(-both[i, j])[:4]
    expected = [(int(both[i[n], j[n]]), names[i[n]], names[j[n]]) for n in order]
    result = most_confused_pairs(cm, names, k=4)
    expect.equal([tuple(p) for p in result], expected,
                 f"most_confused_pairs(cm, names, k=4) for cm = {cm.tolist()}")


# %%
UPPER_BODY = {"T-shirt/top", "Pullover", "Coat", "Shirt"}
top = most_confused_pairs(cm, data.classes)
ctx.table([ctx.t("pair", "par"), ctx.t("mistakes", "errores")],
          [[f"{a} ↔ {b}", int(n)] for n, a, b in top])

# %% [markdown] lang="en"
# Shirts, T-shirts, pullovers and coats share the same silhouette at 28×28 pixels; an MLP
# sees pixels, not collars or sleeves, so these pairs dominate the errors. Convolutional
# networks (later in the course) narrow that gap.

# %% [markdown] lang="es"
# Camisas, camisetas, jerséis y abrigos comparten silueta a 28×28 píxeles; un MLP ve píxeles,
# no cuellos ni mangas, así que estos pares dominan los errores. Las redes convolucionales (más
# adelante en el curso) reducen esa brecha.

# %%
ctx.finish({
    "test_accuracy": test_accuracy,
    "best_epoch": best_epoch,
    "best_val_loss": best_val_loss,
    "epochs_trained": len(history),
    "stopped_early": history.stopped_early,
    "top_confusions": [f"{a} <-> {b}: {int(n)}" for n, a, b in top],
    "top_confusions_upper_body": all({a, b} <= UPPER_BODY for _, a, b in top),
})
