# %% [markdown] lang="en"
# Keras's Sequential API builds a model as a plain stack of layers. This lab counts a Dense
# layer's parameters by hand and checks the count against Keras, builds the same model with the
# two Sequential syntaxes, trains a tiny, a medium and a wide MLP on Fashion-MNIST with
# `compile` / `fit`, picks the best balance of accuracy and training time on validation, and
# saves and reloads the choice in the `.keras` format. Keras runs on its PyTorch backend here.

# %% [markdown] lang="es"
# La API Sequential de Keras construye un modelo como una simple pila de capas. Este laboratorio
# cuenta a mano los parámetros de una capa Dense y compara la cuenta con Keras, construye el
# mismo modelo con las dos sintaxis de Sequential, entrena un MLP pequeño, uno mediano y uno
# ancho en Fashion-MNIST con `compile` / `fit`, elige en validación el mejor equilibrio entre
# exactitud y tiempo de entrenamiento, y guarda y recarga el elegido en formato `.keras`. Keras
# corre aquí sobre su backend de PyTorch.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    tiny: list = field(default_factory=lambda: [64])
    medium: list = field(default_factory=lambda: [256, 128])
    wide: list = field(default_factory=lambda: [1024])
    epochs: int = 10
    batch_size: int = 32  # Keras's default
    lr: float = 1e-3
    tolerance: float = 0.005  # validation accuracies closer than this count as a tie
    train_subset: int = 0  # 0 = all 50k training images (quick mode uses fewer)

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 tolerance=self.tolerance)


LAB = Lab(
    id="keras-sequential",
    title_en="Keras Sequential: tiny, medium and wide MLPs on Fashion-MNIST",
    title_es="Keras Sequential: MLP pequeño, mediano y ancho en Fashion-MNIST",
    source="Part 2 · class 102 (homework) · Stage 2 session 12",
    block="part2-frameworks",
    dataset="fashion_mnist (50k train / 10k val / 10k test)",
    criteria=(
        Criterion("hand_count_matches_keras", "is", True,
                  "Parameters counted by hand (n_in × n + n per Dense) equal Keras's count",
                  "Los parámetros contados a mano (n_in × n + n por Dense) coinciden con Keras"),
        Criterion("same_summary_both_syntaxes", "is", True,
                  "Sequential([...]) and .add() give the same summary",
                  "Sequential([...]) y .add() dan el mismo resumen"),
        Criterion("medium_is_the_balanced_choice", "is", True,
                  "Medium wins on accuracy and time: the fastest model within the tolerance of "
                  "the best validation accuracy",
                  "El mediano gana en exactitud y tiempo: el más rápido dentro de la tolerancia "
                  "de la mejor exactitud de validación"),
        Criterion("wide_has_more_params", "is", True,
                  "Wide has more parameters than medium",
                  "El ancho tiene más parámetros que el mediano"),
        Criterion("wide_gain_over_medium_pp", "<=", 0.5,
                  "Wide is not clearly better than medium on test (gain ≤ 0.5 pp)",
                  "El ancho no es claramente mejor que el mediano en test (ganancia ≤ 0.5 pp)"),
        Criterion("medium_test_accuracy", ">=", 0.87, "Medium test accuracy ≥ 0.87",
                  "Exactitud en test del mediano ≥ 0.87"),
        Criterion("reload_max_abs_diff", "<=", 0.0,
                  "A model reloaded from .keras predicts exactly the same",
                  "Un modelo recargado desde .keras predice exactamente lo mismo"),
    ),
    config=Config,
    quick={"epochs": 1, "train_subset": 5000},
    timed=("medium_is_the_balanced_choice", "choice", "seconds"),
    requires={"keras": "keras"},
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST as vectors of 784 pixels scaled to [0, 1]; 10,000 training images are held out
# for validation and the official test images wait until the end. Keras takes NumPy arrays.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST como vectores de 784 píxeles escalados a [0, 1]; 10,000 imágenes de
# entrenamiento se apartan para validación y las imágenes oficiales de test esperan hasta el
# final. Keras recibe arrays de NumPy.

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np

from dlab.data import load
from dlab.frameworks.keras_callbacks import KerasDoctor, KerasProgress

keras.utils.set_random_seed(ctx.seed)
data = load("fashion_mnist", seed=ctx.seed)
X_train, y_train = (t.numpy() for t in data.train)
if cfg.train_subset:
    X_train, y_train = X_train[:cfg.train_subset], y_train[:cfg.train_subset]
X_val, y_val = (t.numpy() for t in data.val)
X_test, y_test = (t.numpy() for t in data.test)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes"), ctx.t("shape", "forma")],
          [["train", len(y_train), str(X_train.shape)], ["val", len(y_val), str(X_val.shape)],
           ["test", len(y_test), str(X_test.shape)]])

# %% [markdown] lang="en"
# ## 2. Counting parameters by hand
# A `Dense(n)` layer fed `n_in` numbers holds a weight per input and unit and a bias per unit.
# The course's example, 784 → `Dense(128)` → `Dense(64)` → `Dense(10)`, is counted layer by
# layer here and compared with what Keras reports.

# %% [markdown] lang="es"
# ## 2. Contar parámetros a mano
# Una capa `Dense(n)` que recibe `n_in` números tiene un peso por entrada y neurona y un sesgo
# por neurona. El ejemplo del curso, 784 → `Dense(128)` → `Dense(64)` → `Dense(10)`, se cuenta
# aquí capa por capa y se compara con lo que informa Keras.

# %% exercise="dense_params"
def dense_params(n_in: int, units: int) -> int:
    """[en] Return the number of trainable parameters of a Keras `Dense(units)` layer (with
    its bias, the default) whose input has `n_in` features, as a Python int.

    [es] Devuelve el número de parámetros entrenables de una capa `Dense(units)` de Keras (con
    su sesgo, por defecto) cuya entrada tiene `n_in` características, como int de Python.
    """
    return n_in * units + units


# %% check
import keras

from dlab.exercises import expect


@ctx.check("dense_params")
def counts_weights_and_biases():
    expect.type(dense_params(784, 128), int, "dense_params(784, 128)")
    expect.equal(dense_params(784, 128), 100480, "dense_params(784, 128)")
    expect.equal(dense_params(1, 1), 2, "dense_params(1, 1)")


@ctx.check("dense_params")
def agrees_with_keras():
    for n_in, units in [(3, 5), (784, 10), (64, 1), (10, 300)]:
        layer = keras.layers.Dense(units)
        layer.build((None, n_in))
        expect.equal(dense_params(n_in, units), layer.count_params(),
                     f"dense_params({n_in}, {units}) (Keras counts Dense({units}) on {n_in} "
                     "inputs)")


# %%
widths = [784, 128, 64, 10]
by_hand = [dense_params(a, b) for a, b in zip(widths, widths[1:])]
example = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128),
                            keras.layers.Dense(64), keras.layers.Dense(10)])
by_keras = [layer.count_params() for layer in example.layers]
ctx.table(["layer", ctx.t("by hand", "a mano"), "Keras"],
          [[f"Dense({b}) ← {a}", h, k] for a, b, h, k in zip(widths, widths[1:], by_hand,
                                                              by_keras)]
          + [[ctx.t("total", "total"), sum(by_hand), example.count_params()]])
hand_count_matches_keras = by_hand == by_keras and sum(by_hand) == example.count_params()

# %% [markdown] lang="en"
# ## 3. The Sequential API
# `keras.Input((784,))` first fixes the input shape, so every layer's output shape and
# parameter count are known before any data is seen (without it `summary()` shows "?"). Then
# one `Dense` with ReLU per hidden width, and a last `Dense` with no activation: ten raw
# scores (logits), which the loss turns into probabilities itself (`from_logits=True`).

# %% [markdown] lang="es"
# ## 3. La API Sequential
# `keras.Input((784,))` fija primero la forma de entrada, así que la forma de salida y los
# parámetros de cada capa se conocen antes de ver datos (sin ella `summary()` muestra "?").
# Luego una `Dense` con ReLU por cada ancho oculto, y una última `Dense` sin activación: diez
# puntuaciones crudas (logits), que la pérdida convierte en probabilidades por su cuenta
# (`from_logits=True`).

# %% exercise="build_sequential"
def build_sequential(hidden: list, n_in: int = 784, n_classes: int = 10):
    """[en] Return a `keras.Sequential` model given as a list: `keras.Input((n_in,))`, then one
    `keras.layers.Dense(h, activation="relu")` per entry `h` of `hidden`, in order, then
    `keras.layers.Dense(n_classes)` with no activation (logits). Do not compile it.

    [es] Devuelve un modelo `keras.Sequential` dado como lista: `keras.Input((n_in,))`, luego
    una `keras.layers.Dense(h, activation="relu")` por cada elemento `h` de `hidden`, en
    orden, y después `keras.layers.Dense(n_classes)` sin activación (logits). No lo compiles.
    """
    return keras.Sequential([keras.Input((n_in,)),
                             *[keras.layers.Dense(h, activation="relu") for h in hidden],
                             keras.layers.Dense(n_classes)])


# %% check
import keras
import numpy as np

from dlab.exercises import expect


def _dense_layers(model):
    return [(layer.units, layer.activation.__name__) for layer in model.layers
            if isinstance(layer, keras.layers.Dense)]


@ctx.check("build_sequential")
def returns_a_sequential_with_a_known_input():
    model = build_sequential([256, 128])
    expect.type(model, keras.Sequential, "build_sequential([256, 128])")
    expect.true(model.built and model.input_shape == (None, 784),
                "build_sequential([256, 128]) must start with keras.Input((784,)), so its "
                f"input shape is (None, 784) before any data (got "
                f"{getattr(model, 'input_shape', None) if model.built else 'not built'}).",
                "build_sequential([256, 128]) debe empezar con keras.Input((784,)), para que "
                "su forma de entrada sea (None, 784) antes de ver datos (se obtuvo "
                f"{getattr(model, 'input_shape', None) if model.built else 'sin construir'}).")
    expect.shape(model.predict(np.zeros((3, 784), "float32"), verbose=0), (3, 10),
                 "build_sequential([256, 128]).predict(np.zeros((3, 784)))")


@ctx.check("build_sequential")
def stacks_relu_layers_and_ends_in_logits():
    expect.equal(_dense_layers(build_sequential([256, 128])),
                 [(256, "relu"), (128, "relu"), (10, "linear")],
                 "(units, activation) of the Dense layers of build_sequential([256, 128])")
    expect.equal(_dense_layers(build_sequential([5], n_in=3, n_classes=2)),
                 [(5, "relu"), (2, "linear")],
                 "(units, activation) of the Dense layers of build_sequential([5], n_in=3, "
                 "n_classes=2)")


@ctx.check("build_sequential")
def has_the_parameters_counted_by_hand():
    model = build_sequential([1024])
    expect.equal(model.count_params(), 784 * 1024 + 1024 + 1024 * 10 + 10,
                 "build_sequential([1024]).count_params()")


# %% [markdown] lang="en"
# The same model can be grown one layer at a time with `.add()`. Layer names differ (Keras
# numbers them as they are made), so the two summaries are compared on what matters: each
# layer's type, output shape and parameters.

# %% [markdown] lang="es"
# El mismo modelo puede crecer capa a capa con `.add()`. Los nombres de las capas difieren
# (Keras los numera según se crean), así que los dos resúmenes se comparan en lo que importa:
# el tipo, la forma de salida y los parámetros de cada capa.

# %%
def summary_rows(model) -> list:
    return [[type(layer).__name__, str(layer.output.shape), layer.count_params()]
            for layer in model.layers]


as_list = build_sequential(cfg.medium)
grown = keras.Sequential()
grown.add(keras.Input((784,)))
for width in cfg.medium:
    grown.add(keras.layers.Dense(width, activation="relu"))
grown.add(keras.layers.Dense(10))
same_summary_both_syntaxes = summary_rows(as_list) == summary_rows(grown)
ctx.table(["Sequential([...])", ctx.t("output shape", "forma de salida"), "params",
           ".add()", ctx.t("output shape", "forma de salida"), "params"],
          [a + b for a, b in zip(summary_rows(as_list), summary_rows(grown))])

# %% [markdown] lang="en"
# ## 4. Three architectures
# Tiny (`Dense(64)`), medium (`Dense(256)` → `Dense(128)`) and wide (`Dense(1024)`), each
# compiled with Adam and sparse categorical cross-entropy on logits and trained for the same
# epochs with Keras's default batch of 32. `verbose=0` silences Keras's own bar; dlab's progress
# callback shows one, and times every epoch; the doctor checks the loss against the last layer
# before the first step.

# %% [markdown] lang="es"
# ## 4. Tres arquitecturas
# Pequeño (`Dense(64)`), mediano (`Dense(256)` → `Dense(128)`) y ancho (`Dense(1024)`), cada
# uno compilado con Adam y entropía cruzada categórica dispersa sobre logits, y entrenado las
# mismas épocas con el lote por defecto de Keras, 32. `verbose=0` calla la barra propia de
# Keras; el callback de progreso de dlab muestra una y mide cada época; el doctor compara la
# pérdida con la última capa antes del primer paso.

# %%
models, histories, seconds = {}, {}, {}
for name in ("tiny", "medium", "wide"):
    keras.utils.set_random_seed(ctx.seed)
    model = build_sequential(getattr(cfg, name))
    model.compile(optimizer=keras.optimizers.Adam(cfg.lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    progress = KerasProgress(ctx.console, label=name)
    history = model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=cfg.epochs,
                        batch_size=cfg.batch_size, verbose=0,
                        callbacks=[progress, KerasDoctor(ctx.console, ctx.lang)])
    models[name], histories[name], seconds[name] = model, history.history, sum(progress.seconds)

results = {name: {"params": models[name].count_params(),
                  "val_accuracy": histories[name]["val_accuracy"][-1],
                  "seconds": seconds[name]} for name in models}
ctx.table([ctx.t("model", "modelo"), ctx.t("parameters", "parámetros"),
           ctx.t("val accuracy", "exactitud val"), ctx.t("training seconds", "segundos"),
           ctx.t("seconds per epoch", "segundos por época")],
          [[name, r["params"], r["val_accuracy"], r["seconds"], r["seconds"] / cfg.epochs]
           for name, r in results.items()])

# %% [markdown] lang="en"
# Left: validation accuracy per epoch. Right: each model's final validation accuracy against
# its training time; the area of a marker grows with its parameter count.

# %% [markdown] lang="es"
# Izquierda: exactitud de validación por época. Derecha: la exactitud de validación final de
# cada modelo frente a su tiempo de entrenamiento; el área de cada marcador crece con su número
# de parámetros.

# %%
fig, (curves, balance) = plt.subplots(1, 2, figsize=(11, 4))
for name, history in histories.items():
    curves.plot(range(1, len(history["val_accuracy"]) + 1), history["val_accuracy"],
                marker="o", label=name)
    r = results[name]
    balance.scatter(r["seconds"], r["val_accuracy"], s=r["params"] / 2000, alpha=0.6)
    balance.annotate(f"{name} ({r['params']:,})", (r["seconds"], r["val_accuracy"]))
curves.set(xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("val accuracy", "exactitud val"))
curves.legend()
balance.set(xlabel=ctx.t("training seconds", "segundos de entrenamiento"),
            ylabel=ctx.t("val accuracy", "exactitud val"))
ctx.figure("accuracy_and_time", fig)

# %% [markdown] lang="en"
# ## 5. The balanced choice, on validation
# "Best balance of accuracy and time" made precise: among the models whose validation accuracy
# is within `tolerance` of the best one, the fastest to train. With 10,000 validation images an
# accuracy near 0.89 has a standard error of about 0.3 pp, so two models 0.5 pp apart are not
# told apart reliably. The test set is used once, after the choice.

# %% [markdown] lang="es"
# ## 5. La elección equilibrada, en validación
# "El mejor equilibrio entre exactitud y tiempo", hecho preciso: entre los modelos cuya
# exactitud de validación está a menos de `tolerance` de la mejor, el más rápido de entrenar.
# Con 10,000 imágenes de validación una exactitud cercana a 0.89 tiene un error estándar de
# unos 0.3 pp, así que dos modelos a 0.5 pp no se distinguen con fiabilidad. El test se usa
# una vez, después de elegir.

# %% exercise="pick_balanced"
def pick_balanced(results: dict, tolerance: float) -> str:
    """[en] `results` maps a model name to a dict with its `"val_accuracy"` and `"seconds"`
    (training time). Return the name of the model with the smallest `"seconds"` among those
    whose `"val_accuracy"` is at least the best `"val_accuracy"` minus `tolerance`. If two
    such models took exactly the same time, return the one that comes first in `results`.

    [es] `results` asocia el nombre de cada modelo a un dict con su `"val_accuracy"` y sus
    `"seconds"` (tiempo de entrenamiento). Devuelve el nombre del modelo con menos
    `"seconds"` entre aquellos cuya `"val_accuracy"` es al menos la mejor `"val_accuracy"`
    menos `tolerance`. Si dos de esos modelos tardaron exactamente lo mismo, devuelve el que
    aparece primero en `results`.
    """
    best = max(r["val_accuracy"] for r in results.values())
    close = [name for name, r in results.items() if r["val_accuracy"] >= best - tolerance]
    return min(close, key=lambda name: results[name]["seconds"])


# %% check
from dlab.exercises import expect


@ctx.check("pick_balanced")
def takes_the_fastest_of_the_near_best():
    results = {"a": {"val_accuracy": 0.80, "seconds": 1.0},
               "b": {"val_accuracy": 0.889, "seconds": 5.0},
               "c": {"val_accuracy": 0.891, "seconds": 9.0}}
    expect.equal(pick_balanced(results, 0.005), "b", f"pick_balanced({results}, 0.005)")
    expect.equal(pick_balanced(results, 0.001), "c", f"pick_balanced({results}, 0.001)")
    expect.equal(pick_balanced(results, 0.2), "a", f"pick_balanced({results}, 0.2)")


@ctx.check("pick_balanced")
def keeps_the_order_on_equal_times():
    results = {"x": {"val_accuracy": 0.9, "seconds": 2.0},
               "y": {"val_accuracy": 0.9, "seconds": 2.0}}
    expect.equal(pick_balanced(results, 0.0), "x", f"pick_balanced({results}, 0.0)")
    results = {"p": {"val_accuracy": 0.5, "seconds": 3.0}}
    expect.equal(pick_balanced(results, 0.0), "p", f"pick_balanced({results}, 0.0)")


# %%
choice = pick_balanced(results, cfg.tolerance)
test_accuracy = {name: float(model.evaluate(X_test, y_test, batch_size=1024, verbose=0)[1])
                 for name, model in models.items()}
ctx.table([ctx.t("model", "modelo"), ctx.t("val accuracy", "exactitud val"),
           ctx.t("test accuracy", "exactitud test"), ctx.t("chosen", "elegido")],
          [[name, results[name]["val_accuracy"], test_accuracy[name],
            "✓" if name == choice else ""] for name in models])

# %% [markdown] lang="en"
# ## 6. Saving, loading and the batch dimension
# `model.save("m.keras")` writes one zip with the architecture, the weights and the optimizer
# state; `keras.models.load_model` brings it back. `predict` always takes a batch: one image is
# `X[:1]`, shape (1, 784), and gives (1, 10); `X[0]`, shape (784,), is not a batch.

# %% [markdown] lang="es"
# ## 6. Guardar, cargar y la dimensión del lote
# `model.save("m.keras")` escribe un único zip con la arquitectura, los pesos y el estado del
# optimizador; `keras.models.load_model` lo recupera. `predict` siempre recibe un lote: una
# imagen es `X[:1]`, forma (1, 784), y da (1, 10); `X[0]`, forma (784,), no es un lote.

# %%
path = ctx.out / f"{choice}.keras"
models[choice].save(path)
reloaded = keras.models.load_model(path)
reload_max_abs_diff = float(np.abs(reloaded.predict(X_test, batch_size=1024, verbose=0)
                                   - models[choice].predict(X_test, batch_size=1024,
                                                            verbose=0)).max())
try:
    without_batch = str(reloaded.predict(X_test[0], verbose=0).shape)
except Exception as exc:  # Keras refuses a single image without its batch axis
    without_batch = f"{type(exc).__name__}"
ctx.table([ctx.t("input", "entrada"), ctx.t("predict gives", "predict da")],
          [["X_test[:1] " + str(X_test[:1].shape),
            str(reloaded.predict(X_test[:1], verbose=0).shape)],
           ["X_test[:100] " + str(X_test[:100].shape),
            str(reloaded.predict(X_test[:100], verbose=0).shape)],
           ["X_test[0] " + str(X_test[0].shape), without_batch],
           [ctx.t("max |reloaded − original|", "máx |recargado − original|"),
            reload_max_abs_diff]])

# %%
ctx.finish({
    "hand_count_matches_keras": hand_count_matches_keras,
    "same_summary_both_syntaxes": same_summary_both_syntaxes,
    "params": {name: r["params"] for name, r in results.items()},
    "val_accuracy": {name: r["val_accuracy"] for name, r in results.items()},
    "test_accuracy": test_accuracy,
    "seconds": {name: r["seconds"] for name, r in results.items()},
    "choice": choice,
    "medium_is_the_balanced_choice": choice == "medium",
    "wide_has_more_params": results["wide"]["params"] > results["medium"]["params"],
    "wide_gain_over_medium_pp": 100 * (test_accuracy["wide"] - test_accuracy["medium"]),
    "medium_test_accuracy": test_accuracy["medium"],
    "reload_max_abs_diff": reload_max_abs_diff,
})
