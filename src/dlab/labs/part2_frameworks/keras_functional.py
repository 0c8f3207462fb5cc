# %% [markdown] lang="en"
# When a model is not a plain stack, Keras's Functional API wires layers as a graph: calling
# a layer on a tensor gives a tensor, and `keras.Model(inputs, outputs)` closes the graph. This
# lab builds a Wide & Deep regressor and a two-headed model with a shared trunk on California
# housing (the price in dollars, and whether a district is above the median price), draws its
# graph, compiles it with one loss per output, and writes the same Wide & Deep as a subclass of
# `keras.Model`.

# %% [markdown] lang="es"
# Cuando un modelo no es una simple pila, la API Functional de Keras conecta las capas como un
# grafo: llamar a una capa sobre un tensor da un tensor, y `keras.Model(inputs, outputs)`
# cierra el grafo. Este laboratorio construye un regresor Wide & Deep y un modelo de dos
# cabezas con un tronco compartido sobre California housing (el precio en dólares, y si un
# distrito está por encima del precio mediano), dibuja su grafo, lo compila con una pérdida
# por salida y escribe el mismo Wide & Deep como subclase de `keras.Model`.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    deep: list = field(default_factory=lambda: [30, 30])
    trunk: list = field(default_factory=lambda: [64, 32])
    price_weight: float = 0.7  # the expensive head gets 1 - price_weight
    epochs: int = 200
    patience: int = 15
    batch_size: int = 32
    lr: float = 1e-3

    def check(self):
        positive(epochs=self.epochs, patience=self.patience, batch_size=self.batch_size,
                 lr=self.lr)
        if not 0 < self.price_weight < 1:
            raise ValueError("price_weight must be between 0 and 1 / price_weight debe estar "
                             "entre 0 y 1")


LAB = Lab(
    id="keras-functional",
    title_en="Keras Functional API: Wide & Deep and a two-headed model on California housing",
    title_es="API Functional de Keras: Wide & Deep y un modelo de dos cabezas en California "
             "housing",
    source="Part 2 · class 103 (homework)",
    block="part2-frameworks",
    dataset="california_housing (12,384 train / 4,128 val / 4,128 test districts)",
    criteria=(
        Criterion("test_mae_dollars", "<", 50_000,
                  "Two-headed model: test MAE of the price < $50k",
                  "Modelo de dos cabezas: MAE del precio en test < 50 mil dólares"),
        Criterion("test_expensive_accuracy", ">=", 0.85,
                  "Two-headed model: test accuracy of 'expensive' ≥ 0.85",
                  "Modelo de dos cabezas: exactitud de 'expensive' en test ≥ 0.85"),
        Criterion("heads_share_the_trunk", "is", True,
                  "The graph shows one shared trunk feeding two heads",
                  "El grafo muestra un tronco compartido que alimenta dos cabezas"),
        Criterion("subclass_matches_functional", "is", True,
                  "The subclassed Wide & Deep, given the same weights, predicts the same",
                  "El Wide & Deep por subclase, con los mismos pesos, predice lo mismo"),
    ),
    config=Config,
    quick={"epochs": 2},
    requires={"keras": "keras"},
)

# %% [markdown] lang="en"
# ## 1. The data
# The 13 standardized features of each district (8 numeric, 5 one-hot for the ocean
# proximity). The networks learn the price in units of $100k, a scale near 1; errors are
# reported back in dollars. "Expensive" means above the median price of the training set.

# %% [markdown] lang="es"
# ## 1. Los datos
# Las 13 variables estandarizadas de cada distrito (8 numéricas, 5 one-hot de la cercanía al
# océano). Las redes aprenden el precio en unidades de 100 mil dólares, una escala cercana a
# 1; los errores se informan de nuevo en dólares. "Expensive" (caro) significa por encima del
# precio mediano del conjunto de entrenamiento.

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np

from dlab.data import load
from dlab.frameworks.keras_callbacks import KerasDoctor, KerasProgress
from dlab.frameworks.keras_graph import inbound_layers, output_layers

SCALE = 100_000  # dollars per unit of the price the networks see
keras.utils.set_random_seed(ctx.seed)
data = load("california_housing", seed=ctx.seed)
(X_train, y_train), (X_val, y_val), (X_test, y_test) = (
    (X.numpy(), y.numpy()) for X, y in (data.train, data.val, data.test))
median_price = float(np.median(y_train))
targets = {split: {"price": y / SCALE, "expensive": (y > median_price).astype("float32")}
           for split, y in (("train", y_train), ("val", y_val), ("test", y_test))}
ctx.table([ctx.t("split", "partición"), ctx.t("districts", "distritos"),
           ctx.t("share expensive", "proporción caros")],
          [[split, len(t["price"]), float(t["expensive"].mean())] for split, t in
           targets.items()])

# %% [markdown] lang="en"
# ## 2. Wide & Deep
# Cheng et al. (2016): a deep path learns combinations of the features, a wide path hands the
# raw features straight to the output layer, so simple linear patterns need not be relearned
# through the deep layers. The two meet in a `Concatenate`, which takes a list of tensors.

# %% [markdown] lang="es"
# ## 2. Wide & Deep
# Cheng et al. (2016): un camino profundo aprende combinaciones de las variables y un camino
# ancho lleva las variables crudas directamente a la capa de salida, así que los patrones
# lineales simples no tienen que reaprenderse a través de las capas profundas. Los dos se unen
# en un `Concatenate`, que recibe una lista de tensores.

# %% exercise="build_wide_and_deep"
def build_wide_and_deep(n_features: int, deep: list):
    """[en] Return a Functional `keras.Model` with one input `keras.Input((n_features,))`; a
    deep path of one `keras.layers.Dense(h, activation="relu")` per entry `h` of `deep`, each
    applied to the previous one's output; a `keras.layers.Concatenate()` applied to the list
    `[input, output of the last deep layer]`; and a last `keras.layers.Dense(1)` (no
    activation) on the concatenation, which is the model's output.

    [es] Devuelve un `keras.Model` Functional con una entrada `keras.Input((n_features,))`; un
    camino profundo de una `keras.layers.Dense(h, activation="relu")` por cada elemento `h` de
    `deep`, cada una aplicada a la salida de la anterior; un `keras.layers.Concatenate()`
    aplicado a la lista `[entrada, salida de la última capa profunda]`; y una última
    `keras.layers.Dense(1)` (sin activación) sobre la concatenación, que es la salida.
    """
    inputs = keras.Input((n_features,))
    hidden = inputs
    for width in deep:
        hidden = keras.layers.Dense(width, activation="relu")(hidden)
    joined = keras.layers.Concatenate()([inputs, hidden])
    return keras.Model(inputs, keras.layers.Dense(1)(joined))


# %% check
import keras
import numpy as np

from dlab.exercises import expect
from dlab.frameworks.keras_graph import inbound_layers


def _layer_kinds(model) -> dict:
    return {layer.name: type(layer).__name__ for layer in model.layers}


@ctx.check("build_wide_and_deep")
def is_a_functional_model_with_one_output():
    model = build_wide_and_deep(13, [30, 30])
    expect.type(model, keras.Model, "build_wide_and_deep(13, [30, 30])")
    expect.true(not isinstance(model, keras.Sequential),
                "build_wide_and_deep must use the Functional API (keras.Model(inputs, "
                "outputs)): a Sequential model cannot have a wide path.",
                "build_wide_and_deep debe usar la API Functional (keras.Model(inputs, "
                "outputs)): un modelo Sequential no puede tener un camino ancho.")
    expect.shape(model.predict(np.zeros((4, 13), "float32"), verbose=0), (4, 1),
                 "build_wide_and_deep(13, [30, 30]).predict(np.zeros((4, 13)))")


@ctx.check("build_wide_and_deep")
def joins_the_raw_input_and_the_deep_path():
    model = build_wide_and_deep(13, [30, 30])
    kinds, feeds = _layer_kinds(model), inbound_layers(model)
    joins = [name for name, kind in kinds.items() if kind == "Concatenate"]
    expect.equal(len(joins), 1, "number of Concatenate layers in build_wide_and_deep(13, "
                 "[30, 30])")
    expect.equal([kinds[name] for name in feeds[joins[0]]], ["InputLayer", "Dense"],
                 "kinds of the layers the Concatenate joins, in order")
    dense = [(layer.units, layer.activation.__name__) for layer in model.layers
             if isinstance(layer, keras.layers.Dense)]
    expect.equal(dense, [(30, "relu"), (30, "relu"), (1, "linear")],
                 "(units, activation) of the Dense layers of build_wide_and_deep(13, [30, 30])")
    expect.equal(model.count_params(), 13 * 30 + 30 + 30 * 30 + 30 + 43 * 1 + 1,
                 "build_wide_and_deep(13, [30, 30]).count_params()")


# %% [markdown] lang="en"
# The Wide & Deep model against a plain deep MLP of the same hidden layers, both trained on
# the price alone with MSE and early stopping on the validation loss.

# %% [markdown] lang="es"
# El modelo Wide & Deep frente a un MLP profundo simple con las mismas capas ocultas, ambos
# entrenados solo sobre el precio con MSE y parada temprana sobre la pérdida de validación.

# %%
def fit(model, y_train, y_val, loss, label: str, **compile_args):
    keras.utils.set_random_seed(ctx.seed)
    model.compile(optimizer=keras.optimizers.Adam(cfg.lr), loss=loss, **compile_args)
    stop = keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True)
    history = model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=cfg.epochs,
                        batch_size=cfg.batch_size, verbose=0,
                        callbacks=[stop, KerasProgress(ctx.console, label=label),
                                   KerasDoctor(ctx.console, ctx.lang)])
    return history.history


def mae_dollars(model, X, y) -> float:
    price = model.predict(X, batch_size=1024, verbose=0)
    price = price["price"] if isinstance(price, dict) else price
    return float(np.abs(price.ravel() - y / SCALE).mean() * SCALE)


keras.utils.set_random_seed(ctx.seed)
wide_and_deep = build_wide_and_deep(X_train.shape[1], cfg.deep)
deep_only = keras.Sequential([keras.Input((X_train.shape[1],)),
                              *[keras.layers.Dense(w, activation="relu") for w in cfg.deep],
                              keras.layers.Dense(1)])
for model, label in ((deep_only, "deep"), (wide_and_deep, "wide & deep")):
    fit(model, targets["train"]["price"], targets["val"]["price"], "mse", label)
ctx.table([ctx.t("model", "modelo"), ctx.t("parameters", "parámetros"),
           ctx.t("val MAE ($)", "MAE val ($)")],
          [[label, model.count_params(), round(mae_dollars(model, X_val, y_val))]
           for model, label in ((deep_only, "deep"), (wide_and_deep, "wide & deep"))])

# %% [markdown] lang="en"
# ## 3. Two heads on a shared trunk
# One representation of a district serves two questions. Two `Dense` layers form a trunk
# every example goes through; from its output two heads branch off: `price` (one linear unit,
# a regression) and `expensive` (one sigmoid unit, a probability). Naming the outputs lets
# losses, weights and metrics be given per head.

# %% [markdown] lang="es"
# ## 3. Dos cabezas sobre un tronco compartido
# Una sola representación del distrito sirve a dos preguntas. Dos capas `Dense` forman un
# tronco por el que pasa cada ejemplo; de su salida salen dos cabezas: `price` (una neurona
# lineal, una regresión) y `expensive` (una neurona sigmoide, una probabilidad). Nombrar las
# salidas permite dar pérdidas, pesos y métricas por cabeza.

# %% exercise="build_two_headed"
def build_two_headed(n_features: int, trunk: list):
    """[en] Return a Functional `keras.Model` with one input `keras.Input((n_features,))`, a
    shared trunk of one `keras.layers.Dense(h, activation="relu")` per entry `h` of `trunk`
    (each on the previous one's output), and two heads both applied to the trunk's last
    output: `keras.layers.Dense(1, name="price")` (no activation) and
    `keras.layers.Dense(1, activation="sigmoid", name="expensive")`. Give the outputs as a
    dict: `keras.Model(inputs, {"price": ..., "expensive": ...})`.

    [es] Devuelve un `keras.Model` Functional con una entrada `keras.Input((n_features,))`,
    un tronco compartido de una `keras.layers.Dense(h, activation="relu")` por cada elemento
    `h` de `trunk` (cada una sobre la salida de la anterior) y dos cabezas aplicadas ambas a
    la última salida del tronco: `keras.layers.Dense(1, name="price")` (sin activación) y
    `keras.layers.Dense(1, activation="sigmoid", name="expensive")`. Da las salidas como
    dict: `keras.Model(inputs, {"price": ..., "expensive": ...})`.
    """
    inputs = keras.Input((n_features,))
    hidden = inputs
    for width in trunk:
        hidden = keras.layers.Dense(width, activation="relu")(hidden)
    price = keras.layers.Dense(1, name="price")(hidden)
    expensive = keras.layers.Dense(1, activation="sigmoid", name="expensive")(hidden)
    return keras.Model(inputs, {"price": price, "expensive": expensive})


# %% check
import keras
import numpy as np

from dlab.exercises import expect
from dlab.frameworks.keras_graph import inbound_layers, output_layers


@ctx.check("build_two_headed")
def returns_a_price_and_a_probability():
    model = build_two_headed(13, [64, 32])
    expect.type(model, keras.Model, "build_two_headed(13, [64, 32])")
    out = model.predict(np.random.default_rng(0).normal(size=(5, 13)).astype("float32"),
                        verbose=0)
    expect.type(out, dict, "build_two_headed(13, [64, 32]).predict(x) (outputs given as a dict)")
    expect.equal(sorted(out), ["expensive", "price"], "output names of build_two_headed")
    expect.shape(out["price"], (5, 1), "predict(x)['price']")
    expect.shape(out["expensive"], (5, 1), "predict(x)['expensive']")
    expect.true(bool(((out["expensive"] > 0) & (out["expensive"] < 1)).all()),
                "The 'expensive' head must end in a sigmoid: its outputs are probabilities "
                "in (0, 1).",
                "La cabeza 'expensive' debe terminar en una sigmoide: sus salidas son "
                "probabilidades en (0, 1).")


@ctx.check("build_two_headed")
def both_heads_branch_from_one_trunk():
    model = build_two_headed(13, [64, 32])
    feeds, heads = inbound_layers(model), output_layers(model)
    layers = {layer.name: layer for layer in model.layers}
    parents = {name: feeds[heads[name]] for name in ("price", "expensive")}
    expect.true(parents["price"] == parents["expensive"] and len(parents["price"]) == 1,
                f"Both heads must be applied to the same trunk output; they are fed by "
                f"{parents}.",
                f"Las dos cabezas deben aplicarse a la misma salida del tronco; las alimentan "
                f"{parents}.")
    trunk, name = [], parents["price"][0]
    while feeds.get(name):
        trunk.append((layers[name].units, layers[name].activation.__name__))
        name = feeds[name][0]
    expect.equal(trunk[::-1], [(64, "relu"), (32, "relu")],
                 "(units, activation) of the trunk of build_two_headed(13, [64, 32])")
    expect.equal([layers[heads[n]].activation.__name__ for n in ("price", "expensive")],
                 ["linear", "sigmoid"], "activations of the heads 'price' and 'expensive'")


# %% [markdown] lang="en"
# The graph as `keras.utils.plot_model` draws it (pydot + Graphviz): the trunk, then the fork
# into the two heads. Where Graphviz is missing, the same graph is listed as text.

# %% [markdown] lang="es"
# El grafo como lo dibuja `keras.utils.plot_model` (pydot + Graphviz): el tronco y luego la
# bifurcación en las dos cabezas. Donde falta Graphviz, el mismo grafo se lista como texto.

# %%
keras.utils.set_random_seed(ctx.seed)
two_headed = build_two_headed(X_train.shape[1], cfg.trunk)
feeds, heads = inbound_layers(two_headed), output_layers(two_headed)
heads_share_the_trunk = (feeds[heads["price"]] == feeds[heads["expensive"]]
                         and len(feeds[heads["price"]]) == 1)
try:
    drawn = ctx.out / "plot_model.png"
    keras.utils.plot_model(two_headed, to_file=str(drawn), show_shapes=True,
                           show_layer_names=True, show_layer_activations=True)
    fig, ax = plt.subplots(figsize=(9, 6))
    ax.imshow(plt.imread(drawn))
    ax.axis("off")
    ctx.figure("two_headed_graph", fig)
except (ImportError, OSError):  # pydot or Graphviz's `dot` is not installed
    ctx.table([ctx.t("layer", "capa"), ctx.t("fed by", "alimentada por")],
              [[name, ", ".join(parents) or "—"] for name, parents in feeds.items()])

# %% [markdown] lang="en"
# ## 4. One loss per head
# With two outputs Keras needs to be told how to score each: MSE for the price, binary
# cross-entropy for the probability. A single string would apply the same loss to both. The
# total loss is their weighted sum; the weights set how much each head pulls on the trunk.

# %% [markdown] lang="es"
# ## 4. Una pérdida por cabeza
# Con dos salidas hay que decirle a Keras cómo evaluar cada una: MSE para el precio, entropía
# cruzada binaria para la probabilidad. Un único texto aplicaría la misma pérdida a las dos.
# La pérdida total es su suma ponderada; los pesos fijan cuánto tira cada cabeza del tronco.

# %% exercise="two_head_compile_args"
def two_head_compile_args(price_weight: float) -> dict:
    """[en] Return the keyword arguments for `model.compile` of the two-headed model, as a dict
    with three entries, each a dict keyed by output name: `"loss"` (`"mse"` for `"price"`,
    `"binary_crossentropy"` for `"expensive"`), `"loss_weights"` (`price_weight` for
    `"price"`, `1 - price_weight` for `"expensive"`) and `"metrics"` (`["mae"]` for `"price"`,
    `["accuracy"]` for `"expensive"`).

    [es] Devuelve los argumentos con nombre de `model.compile` para el modelo de dos cabezas,
    como un dict con tres entradas, cada una un dict por nombre de salida: `"loss"` (`"mse"`
    para `"price"`, `"binary_crossentropy"` para `"expensive"`), `"loss_weights"`
    (`price_weight` para `"price"`, `1 - price_weight` para `"expensive"`) y `"metrics"`
    (`["mae"]` para `"price"`, `["accuracy"]` para `"expensive"`).
    """
    return {"loss": {"price": "mse", "expensive": "binary_crossentropy"},
            "loss_weights": {"price": price_weight, "expensive": 1 - price_weight},
            "metrics": {"price": ["mae"], "expensive": ["accuracy"]}}


# %% check
import math

from dlab.exercises import expect


@ctx.check("two_head_compile_args")
def gives_each_head_its_loss_and_metric():
    args = two_head_compile_args(0.7)
    expect.type(args, dict, "two_head_compile_args(0.7)")
    expect.equal(sorted(args), ["loss", "loss_weights", "metrics"],
                 "keys of two_head_compile_args(0.7)")
    expect.equal(args["loss"], {"price": "mse", "expensive": "binary_crossentropy"},
                 "two_head_compile_args(0.7)['loss']")
    expect.equal(args["metrics"], {"price": ["mae"], "expensive": ["accuracy"]},
                 "two_head_compile_args(0.7)['metrics']")


@ctx.check("two_head_compile_args")
def weights_add_up_to_one():
    for weight in (0.7, 0.25):
        args = two_head_compile_args(weight)
        expect.type(args.get("loss_weights"), dict, f"two_head_compile_args({weight})"
                    "['loss_weights']")
        expect.close(args["loss_weights"].get("price", math.nan), weight,
                     f"two_head_compile_args({weight})['loss_weights']['price']")
        expect.close(args["loss_weights"].get("expensive", math.nan), 1 - weight,
                     f"two_head_compile_args({weight})['loss_weights']['expensive']")


# %%
args = two_head_compile_args(cfg.price_weight)
history = fit(two_headed, targets["train"], targets["val"], label="two heads", **args)
probabilities = two_headed.predict(X_test, batch_size=1024, verbose=0)["expensive"].ravel()
test_mae_dollars = mae_dollars(two_headed, X_test, y_test)
test_expensive_accuracy = float(((probabilities > 0.5) == (targets["test"]["expensive"] > 0.5))
                                .mean())
epochs_trained = len(history["loss"])
ctx.table([ctx.t("epochs", "épocas"), ctx.t("test MAE ($)", "MAE test ($)"),
           ctx.t("test accuracy (expensive)", "exactitud test (expensive)")],
          [[epochs_trained, round(test_mae_dollars), test_expensive_accuracy]])

# %% [markdown] lang="en"
# Both heads' validation losses per epoch, and the test districts' predicted against true
# prices.

# %% [markdown] lang="es"
# Las pérdidas de validación de las dos cabezas por época, y los precios predichos frente a
# los reales de los distritos de test.

# %%
fig, (curves, scatter) = plt.subplots(1, 2, figsize=(11, 4))
for key, label in (("val_price_loss", "price (MSE)"), ("val_expensive_loss", "expensive (BCE)")):
    curves.plot(range(1, epochs_trained + 1), history[key], label=label)
curves.set(xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("val loss", "pérdida val"))
curves.legend()
predicted = two_headed.predict(X_test, batch_size=1024, verbose=0)["price"].ravel() * SCALE
scatter.scatter(y_test, predicted, s=3, alpha=0.3)
scatter.plot([0, y_test.max()], [0, y_test.max()], color="black", lw=1)
scatter.set(xlabel=ctx.t("true price ($)", "precio real ($)"),
            ylabel=ctx.t("predicted price ($)", "precio predicho ($)"))
ctx.figure("two_headed_training", fig)

# %% [markdown] lang="en"
# ## 5. The same model by subclassing
# Subclassing `keras.Model` creates the layers in `__init__` and writes the forward pass in
# `call`, in plain Python. It is the most flexible of the three APIs and the least
# transparent: Keras cannot draw or serialize its graph without running it. Given the trained
# Wide & Deep's weights, layer for layer, it must predict exactly what the Functional model
# does.

# %% [markdown] lang="es"
# ## 5. El mismo modelo por subclase
# Subclasificar `keras.Model` crea las capas en `__init__` y escribe el paso hacia adelante en
# `call`, en Python puro. Es la más flexible de las tres API y la menos transparente: Keras no
# puede dibujar ni serializar su grafo sin ejecutarlo. Con los pesos del Wide & Deep
# entrenado, capa por capa, debe predecir exactamente lo mismo que el modelo Functional.

# %%
class WideAndDeep(keras.Model):
    def __init__(self, deep: list):
        super().__init__()
        self.deep = [keras.layers.Dense(width, activation="relu") for width in deep]
        self.join = keras.layers.Concatenate()
        self.out = keras.layers.Dense(1)

    def call(self, inputs):
        hidden = inputs
        for layer in self.deep:
            hidden = layer(hidden)
        return self.out(self.join([inputs, hidden]))


subclassed = WideAndDeep(cfg.deep)
subclassed(X_val[:1])  # the first call creates the weights
subclassed.set_weights(wide_and_deep.get_weights())
gap = float(np.abs(subclassed.predict(X_test, batch_size=1024, verbose=0)
                   - wide_and_deep.predict(X_test, batch_size=1024, verbose=0)).max())
subclass_matches_functional = gap <= 1e-6
ctx.table([ctx.t("model", "modelo"), ctx.t("parameters", "parámetros"),
           ctx.t("max |difference| on test", "máx |diferencia| en test")],
          [["Functional", wide_and_deep.count_params(), 0.0],
           [ctx.t("subclass", "subclase"), subclassed.count_params(), gap]])

# %%
ctx.finish({
    "median_price": median_price,
    "val_mae_deep": mae_dollars(deep_only, X_val, y_val),
    "val_mae_wide_and_deep": mae_dollars(wide_and_deep, X_val, y_val),
    "test_mae_dollars": test_mae_dollars,
    "test_expensive_accuracy": test_expensive_accuracy,
    "epochs_trained": epochs_trained,
    "heads_share_the_trunk": heads_share_the_trunk,
    "subclass_max_abs_diff": gap,
    "subclass_matches_functional": subclass_matches_functional,
})
