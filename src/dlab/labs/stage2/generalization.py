# %% [markdown] lang="en"
# Training loss only ever improves with more capacity and more epochs; validation loss does
# not. A capacity sweep and a long run show both sides of that gap, and two data experiments
# show that scaling the inputs and weighting a rare class change what the same network learns.

# %% [markdown] lang="es"
# La pérdida de entrenamiento siempre mejora con más capacidad y más épocas; la de validación
# no. Un barrido de capacidad y un entrenamiento largo muestran los dos lados de esa brecha, y
# dos experimentos con los datos muestran que escalar las entradas y ponderar una clase rara
# cambian lo que aprende la misma red.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    # 1, 2: capacity sweep and the long run of its largest model
    moons_samples: int = 1000
    moons_noise: float = 0.3
    moons_train: int = 200  # training points kept: few enough to be memorized
    sweep: list = field(default_factory=lambda: [[], [4], [16], [64], [128, 128], [256, 256]])
    sweep_epochs: int = 300  # full-batch epochs, i.e. 300 gradient steps
    sweep_lr: float = 0.01
    # 3: standardization
    scale_dataset: str = "wine"
    scale_epochs: int = 150
    scale_lr: float = 1e-3
    scale_target_loss: float = 0.2
    # 4: class imbalance
    imbalance_hidden: list = field(default_factory=lambda: [32])
    imbalance_epochs: int = 30
    imbalance_lr: float = 1e-3

    def check(self):
        positive(moons_samples=self.moons_samples, moons_train=self.moons_train,
                 sweep_epochs=self.sweep_epochs, sweep_lr=self.sweep_lr,
                 scale_epochs=self.scale_epochs, scale_lr=self.scale_lr,
                 scale_target_loss=self.scale_target_loss,
                 imbalance_epochs=self.imbalance_epochs, imbalance_lr=self.imbalance_lr)


LAB = Lab(
    id="generalization",
    title_en="Generalization: under-fitting, over-fitting and the role of the data",
    title_es="Generalización: subajuste, sobreajuste y el papel de los datos",
    source="Stage 2 · session 1",
    block="stage2",
    dataset="moons (noise 0.3, 200 training points); wine (sklearn, raw and standardized); "
            "imbalanced (make_classification, 5% minority)",
    criteria=(
        Criterion("sweep_best_is_interior", "is", True,
                  "Capacity sweep: the lowest validation loss is neither the smallest nor the "
                  "largest model",
                  "Barrido de capacidad: la menor pérdida de validación no es ni del modelo más "
                  "pequeño ni del más grande"),
        Criterion("underfit_val_loss_ratio", ">=", 1.2,
                  "Under-fitting: the linear model's validation loss ≥ 1.2× the best",
                  "Subajuste: pérdida de validación del modelo lineal ≥ 1.2× la mejor"),
        Criterion("overfit_train_accuracy", ">=", 0.97,
                  "Over-fitting: the largest model (nearly) memorizes its 200 training points "
                  "(train accuracy ≥ 0.97)",
                  "Sobreajuste: el modelo más grande (casi) memoriza sus 200 puntos de "
                  "entrenamiento (exactitud ≥ 0.97)"),
        Criterion("overfit_val_loss_ratio", ">=", 2.0,
                  "Over-fitting: the largest model's validation loss ≥ 2× the best",
                  "Sobreajuste: pérdida de validación del modelo más grande ≥ 2× la mejor"),
        Criterion("val_loss_end_over_min", ">=", 1.5,
                  "Long run: validation loss at the last epoch ≥ 1.5× its minimum",
                  "Entrenamiento largo: pérdida de validación en la última época ≥ 1.5× su "
                  "mínimo"),
        Criterion("val_min_before_end", "is", True,
                  "Long run: the minimum of validation loss comes before the last epoch",
                  "Entrenamiento largo: el mínimo de la pérdida de validación llega antes de la "
                  "última época"),
        Criterion("standardization_epoch_ratio", "<=", 0.5,
                  "Standardized inputs reach the target validation loss in ≤ 0.5× the epochs "
                  "of raw inputs (raw counted as the whole budget if it never gets there)",
                  "Con entradas estandarizadas se llega a la pérdida de validación objetivo en "
                  "≤ 0.5× las épocas de las entradas sin escalar (contando todo el presupuesto "
                  "si estas no llegan)"),
        Criterion("plain_minority_recall", "<=", 0.5,
                  "Imbalance: plain training finds ≤ 50% of the minority class (while its "
                  "accuracy looks high)",
                  "Desbalance: el entrenamiento normal encuentra ≤ 50% de la clase minoritaria "
                  "(aunque su exactitud parece alta)"),
        Criterion("minority_recall_gain", ">=", 0.3,
                  "Imbalance: inverse-frequency class weights raise minority recall by ≥ 0.3",
                  "Desbalance: los pesos de frecuencia inversa suben el recall de la clase "
                  "minoritaria en ≥ 0.3"),
        Criterion("macro_f1_gain", ">=", 0.03,
                  "Imbalance: the class weighting chosen on validation raises test macro-F1 by "
                  "≥ 0.03",
                  "Desbalance: la ponderación elegida en validación sube el macro-F1 en test en "
                  "≥ 0.03"),
    ),
    config=Config,
    quick={"moons_samples": 400, "sweep": [[], [16], [128, 128]], "sweep_epochs": 20,
           "scale_epochs": 5, "imbalance_epochs": 2},
)

# %% [markdown] lang="en"
# ## 1. Capacity
# Two noisy half-moons (noise 0.3: some points sit on the wrong side of any sensible
# boundary). Only a small random part of the training split is kept, so that a large network
# can learn it by heart; validation keeps all its points, so the measurement of generalization
# stays reliable. Every model, from a straight line to tens of thousands of parameters, gets
# the same number of full-batch Adam steps, far more than the small ones need.

# %% [markdown] lang="es"
# ## 1. Capacidad
# Dos medias lunas con ruido (ruido 0.3: algunos puntos caen del lado equivocado de cualquier
# frontera sensata). Del conjunto de entrenamiento se conserva solo una pequeña parte
# aleatoria, para que una red grande pueda aprendérsela de memoria; validación conserva todos
# sus puntos, así la medida de la generalización sigue siendo fiable. Cada modelo, desde una
# recta hasta decenas de miles de parámetros, recibe el mismo número de pasos de Adam con el
# lote completo, muchos más de los que necesitan los pequeños.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.data import load
from dlab.engine import Trainer, metrics
from dlab.models import MLP
from dlab.viz import decision_boundary
from dlab.viz.compare import curves
from dlab.viz.panels import capacity_sweep, confusion_panel, mark_minimum


def trainer_for(model, lr, **kwargs):
    # Many short runs: the lab reports each result instead of a progress bar per epoch.
    return Trainer(model, torch.optim.Adam(model.parameters(), lr=lr), progress=False,
                   **kwargs, **ctx.trainer_options())


moons = load("moons", n_samples=cfg.moons_samples, noise=cfg.moons_noise, seed=ctx.seed)
# The split is already shuffled: its first moons_train rows are a random subset.
train = (moons.train[0][:cfg.moons_train], moons.train[1][:cfg.moons_train])
ctx.table([ctx.t("split", "partición"), ctx.t("points", "puntos")],
          [["train", len(train[1])], ["val", len(moons.val[1])]])

# %% [markdown] lang="en"
# Capacity is set by the hidden layers: none at all is logistic regression (one weighted sum,
# a straight boundary); each hidden ReLU layer lets the boundary bend more.

# %% [markdown] lang="es"
# La capacidad la fijan las capas ocultas: ninguna es una regresión logística (una sola suma
# ponderada, una frontera recta); cada capa oculta ReLU permite que la frontera se curve más.

# %% exercise="build_model"
def build_model(hidden: list) -> nn.Module:
    """[en] Return a network for 2-D points with 2 output logits: one `nn.Linear` + `nn.ReLU`
    per entry of `hidden` (e.g. [64] gives Linear(2, 64), ReLU, Linear(64, 2)), then a last
    `nn.Linear` to 2 logits with no activation. `hidden=[]` must give the linear model: a
    single Linear(2, 2). Build the layers in that order (first to last), in an
    `nn.Sequential`.

    [es] Devuelve una red para puntos 2-D con 2 logits de salida: un `nn.Linear` + `nn.ReLU`
    por cada elemento de `hidden` (p. ej. [64] da Linear(2, 64), ReLU, Linear(64, 2)) y un
    último `nn.Linear` a 2 logits sin activación. `hidden=[]` debe dar el modelo lineal: un
    único Linear(2, 2). Crea las capas en ese orden (de la primera a la última), dentro de un
    `nn.Sequential`.
    """
    layers, width = [], 2
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 2))


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _linear_shapes(model):
    return [tuple(m.weight.shape) for m in model.modules() if isinstance(m, nn.Linear)]


@ctx.check("build_model")
def no_hidden_layer_is_one_linear_layer():
    model = build_model([])
    expect.type(model, nn.Module, "build_model([])")
    expect.equal(_linear_shapes(model), [(2, 2)], "weight shapes of the nn.Linear layers of "
                 "build_model([])")
    expect.shape(model(torch.zeros(5, 2)), (5, 2), "build_model([])(torch.zeros(5, 2))")


@ctx.check("build_model")
def hidden_layers_have_the_right_sizes():
    expect.equal(_linear_shapes(build_model([128, 128])), [(128, 2), (128, 128), (2, 128)],
                 "weight shapes of the nn.Linear layers of build_model([128, 128])")
    params = sum(p.numel() for p in build_model([256, 256]).parameters())
    expect.equal(params, 67074, "number of parameters of build_model([256, 256])")


@ctx.check("build_model")
def relu_between_layers_and_raw_logits():
    model = build_model([16, 8])
    expect.equal(sum(isinstance(m, nn.ReLU) for m in model.modules()), 2,
                 "number of nn.ReLU in build_model([16, 8])")
    expect.last_layer_linear(model, "build_model([16, 8])")


# %%
sweep = []
for hidden in cfg.sweep:
    torch.manual_seed(ctx.seed)
    model = build_model(hidden)
    # doctor=False: its per-epoch check would double the cost of these tiny full-batch steps.
    trainer = trainer_for(model, cfg.sweep_lr, doctor=False)
    history = trainer.fit(train, moons.val, epochs=cfg.sweep_epochs,
                          batch_size=len(train[1]), seed=ctx.seed)
    on_train, on_val = trainer.evaluate(train), trainer.evaluate(moons.val)
    acc_train = metrics.accuracy(trainer.predict(train[0]), train[1])
    acc_val = metrics.accuracy(trainer.predict(moons.val[0]), moons.val[1])
    params = sum(p.numel() for p in model.parameters())
    sweep.append({"hidden": hidden, "params": params, "trainer": trainer,
                  "history": history, "train_loss": on_train["loss"],
                  "val_loss": on_val["loss"], "train_acc": acc_train, "val_acc": acc_val,
                  "label": f"{hidden or ctx.t('linear', 'lineal')}\n{params:,} p"})
val_losses = [s["val_loss"] for s in sweep]
best = int(np.argmin(val_losses))
smallest, largest = sweep[0], sweep[-1]
ctx.table(ctx.t("hidden|parameters|train loss|val loss|train acc|val acc",
                "ocultas|parámetros|pérdida entr.|pérdida val.|exactitud entr.|exactitud val."
                ).split("|"),
          [[str(s["hidden"]), s["params"], s["train_loss"], s["val_loss"], s["train_acc"],
            s["val_acc"]] for s in sweep])

# %% [markdown] lang="en"
# Train against validation as capacity grows (x: hidden layers and parameter count; the star
# marks the lowest validation loss).

# %% [markdown] lang="es"
# Entrenamiento frente a validación al crecer la capacidad (x: capas ocultas y número de
# parámetros; la estrella marca la menor pérdida de validación).

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
labels = [s["label"] for s in sweep]
capacity_sweep(axes[0], labels, [s["train_loss"] for s in sweep], val_losses,
               ylabel=ctx.t("cross-entropy", "entropía cruzada"), best=best, logy=True,
               title=ctx.t("Loss: train keeps falling, validation turns up",
                           "Pérdida: entrenamiento sigue bajando, validación sube"),
               train_label=ctx.t("train", "entrenamiento"),
               val_label=ctx.t("validation", "validación"))
capacity_sweep(axes[1], labels, [s["train_acc"] for s in sweep], [s["val_acc"] for s in sweep],
               ylabel=ctx.t("accuracy", "exactitud"),
               title=ctx.t("Accuracy: the gap opens", "Exactitud: la brecha se abre"),
               train_label=ctx.t("train", "entrenamiento"),
               val_label=ctx.t("validation", "validación"))
fig.tight_layout()
ctx.figure("capacity_sweep", fig)

# %% [markdown] lang="en"
# The three regimes drawn on the training points: a line that cannot bend, a smooth curve,
# and a boundary that detours around individual noisy points.

# %% [markdown] lang="es"
# Los tres regímenes dibujados sobre los puntos de entrenamiento: una recta que no puede
# curvarse, una curva suave y una frontera que se desvía para rodear puntos ruidosos concretos.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for ax, s, name in ((axes[0], smallest, ctx.t("under-fit", "subajuste")),
                    (axes[1], sweep[best], ctx.t("good fit", "buen ajuste")),
                    (axes[2], largest, ctx.t("over-fit", "sobreajuste"))):
    def predict(grid, trainer=s["trainer"]):
        return metrics.predictions(trainer.predict(torch.as_tensor(grid, dtype=torch.float32)))

    decision_boundary(ax, predict, train[0].numpy(), train[1].numpy(),
                      ctx.t(f"{name}: {s['hidden'] or 'linear'} — train {s['train_acc']:.2f}"
                            f", val {s['val_acc']:.2f}",
                            f"{name}: {s['hidden'] or 'lineal'} — entr. {s['train_acc']:.2f}"
                            f", val {s['val_acc']:.2f}"))
fig.tight_layout()
ctx.figure("three_fits", fig)

# %% [markdown] lang="en"
# Reading the sweep: the linear model is wrong on training and validation alike
# (**under-fitting**: not enough capacity, and more data will not help it). The largest model
# gets its training points right, noise included, and its validation loss is the worst of all
# (**over-fitting**: it has learned the noise, a detail of this sample that the next sample
# will not share). Accuracy moves less than loss: the over-fit model mostly keeps the right
# side of the boundary but becomes very confident, and a confident mistake costs a lot of
# cross-entropy.

# %% [markdown] lang="es"
# Cómo leer el barrido: el modelo lineal falla igual en entrenamiento que en validación
# (**subajuste**: le falta capacidad, y más datos no lo arreglan). El modelo más grande acierta
# sus puntos de entrenamiento, ruido incluido, y su pérdida de validación es la peor de todas
# (**sobreajuste**: ha aprendido el ruido, un detalle de esta muestra que la siguiente no
# compartirá). La exactitud se mueve menos que la pérdida: el modelo sobreajustado conserva
# casi siempre el lado correcto de la frontera pero se vuelve muy seguro, y un error seguro
# cuesta mucha entropía cruzada.

# %% [markdown] lang="en"
# ## 2. Time
# The same over-fitting, seen along training: the largest model of the sweep, epoch by epoch.
# The dashed line marks where validation loss is lowest, which is where early stopping would
# keep the weights.

# %% [markdown] lang="es"
# ## 2. Tiempo
# El mismo sobreajuste, visto a lo largo del entrenamiento: el modelo más grande del barrido,
# época a época. La línea discontinua marca la menor pérdida de validación, que es donde la
# parada temprana guardaría los pesos.

# %%
history = largest["history"]
epochs = history["epoch"]
min_epoch, min_loss = history.best("val_loss")
end_loss = history["val_loss"][-1]
fig, ax = plt.subplots(figsize=(8, 4))
curves(ax, {ctx.t("train loss", "pérdida de entrenamiento"): (epochs, history["loss"]),
            ctx.t("validation loss", "pérdida de validación"): (epochs, history["val_loss"])},
       title=ctx.t(f"{largest['hidden']}: validation loss turns up at epoch {min_epoch}",
                   f"{largest['hidden']}: la pérdida de validación sube desde la época "
                   f"{min_epoch}"),
       xlabel=ctx.t("epoch", "época"), logy=True)
mark_minimum(ax, epochs, history["val_loss"],
             ctx.t(f"min {min_loss:.3f} (epoch {min_epoch})",
                   f"mín. {min_loss:.3f} (época {min_epoch})"))
ctx.figure("overfitting_curve", fig)
ctx.table([ctx.t("epoch of the lowest val loss", "época de la menor pérdida val."),
           ctx.t("lowest val loss", "menor pérdida val."),
           ctx.t("final val loss", "pérdida val. final"), ctx.t("final / lowest", "final / menor"),
           ctx.t("final train loss", "pérdida entr. final")],
          [[min_epoch, min_loss, end_loss, end_loss / min_loss, history["loss"][-1]]])

# %% [markdown] lang="en"
# Training loss keeps falling to almost zero while validation loss climbs far above its
# minimum. Before the minimum, the model learns the shape shared by all moons; after it, the
# individual noisy points. This is why training is judged on validation, and why early
# stopping (`EarlyStopping`, restoring the best weights) is the cheapest regularizer.

# %% [markdown] lang="es"
# La pérdida de entrenamiento sigue bajando casi hasta cero mientras la de validación sube muy
# por encima de su mínimo. Antes del mínimo el modelo aprende la forma común a todas las
# lunas; después, los puntos ruidosos concretos. Por eso el entrenamiento se juzga en
# validación, y por eso la parada temprana (`EarlyStopping`, recuperando los mejores pesos) es
# el regularizador más barato.

# %% [markdown] lang="en"
# ## 3. Scale
# On wine, one feature (proline) is in the hundreds to thousands and another (hue) around 1.
# A step of the optimizer changes every weight by a similar amount (about the learning rate,
# with Adam), but a weight's effect on the first layer's sum is proportional to its input: the
# same step on the proline weight moves the sum a thousand times more than on the hue weight.
# One learning rate is then too large for the big features and too small for the small ones.
# The fix is to standardize every feature to mean 0 and standard deviation 1, with statistics
# taken from the training split only: validation and test play the part of data the model has
# never seen, so nothing may be learned from them, not even their mean.

# %% [markdown] lang="es"
# ## 3. Escala
# En wine, una variable (prolina) está entre cientos y miles y otra (tono) en torno a 1. Un
# paso del optimizador cambia cada peso en una cantidad parecida (del orden de la tasa de
# aprendizaje, con Adam), pero el efecto de un peso en la suma de la primera capa es
# proporcional a su entrada: el mismo paso en el peso de la prolina mueve la suma mil veces
# más que en el del tono. Una única tasa de aprendizaje resulta entonces demasiado grande para
# las variables grandes y demasiado pequeña para las pequeñas. La solución es estandarizar
# cada variable a media 0 y desviación típica 1, con estadísticas tomadas solo de la partición
# de entrenamiento: validación y test hacen el papel de datos que el modelo nunca vio, así que
# no se puede aprender nada de ellos, ni siquiera su media.

# %% exercise="standardize"
def standardize(X_train: torch.Tensor, X_val: torch.Tensor, X_test: torch.Tensor) -> tuple:
    """[en] Return `(X_train_s, X_val_s, X_test_s)`: the three (n, d) float tensors with every
    column standardized as `(X - mean) / std`, where `mean` and `std` are the per-column mean
    and population standard deviation (`unbiased=False`, like sklearn's StandardScaler) of
    `X_train` only. Validation and test are transformed with the training statistics, never
    their own. A column that is constant in `X_train` (std 0) is divided by 1 instead, so it
    does not become NaN. Do not modify the inputs in place.

    [es] Devuelve `(X_train_s, X_val_s, X_test_s)`: los tres tensores float (n, d) con cada
    columna estandarizada como `(X - media) / std`, donde `media` y `std` son la media y la
    desviación típica poblacional (`unbiased=False`, como StandardScaler de sklearn) de cada
    columna de `X_train` solamente. Validación y test se transforman con las estadísticas de
    entrenamiento, nunca con las suyas. Una columna constante en `X_train` (std 0) se divide
    por 1, para que no se convierta en NaN. No modifiques las entradas en el sitio.
    """
    mean = X_train.mean(dim=0)
    std = X_train.std(dim=0, unbiased=False)
    std = torch.where(std == 0, torch.ones_like(std), std)
    return tuple((X - mean) / std for X in (X_train, X_val, X_test))


# %% check
import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from dlab.exercises import expect

_TRAIN = torch.tensor([[1.0, 100.0], [2.0, 300.0], [3.0, 200.0], [4.0, 400.0], [5.0, 500.0]])
_VAL = torch.tensor([[10.0, 1000.0], [12.0, 1100.0], [11.0, 900.0]])
_TEST = torch.tensor([[0.0, 0.0]])


@ctx.check("standardize")
def training_columns_get_mean_0_and_std_1():
    out = standardize(_TRAIN.clone(), _VAL.clone(), _TEST.clone())
    expect.equal(len(out), 3, "number of tensors returned by standardize")
    expect.shape(out[0], (5, 2), "standardize(...)[0]")
    expect.close(out[0].mean(dim=0), [0.0, 0.0], "column means of standardize(...)[0]",
                 atol=1e-5)
    expect.close(out[0].std(dim=0, unbiased=False), [1.0, 1.0],
                 "column std (unbiased=False) of standardize(...)[0]", atol=1e-5)


@ctx.check("standardize")
def validation_and_test_use_the_training_statistics():
    scaler = StandardScaler().fit(_TRAIN.numpy())
    _, val, test = standardize(_TRAIN.clone(), _VAL.clone(), _TEST.clone())
    expect.shape(val, (3, 2), "standardize(...)[1]")
    expect.close(val, scaler.transform(_VAL.numpy()),
                 "standardize(...)[1] (validation, scaled with the training mean and std)",
                 atol=1e-4)
    expect.close(test, scaler.transform(_TEST.numpy()),
                 "standardize(...)[2] (test, scaled with the training mean and std)", atol=1e-4)


@ctx.check("standardize")
def constant_column_stays_finite_and_inputs_unchanged():
    train = torch.tensor([[1.0, 7.0], [3.0, 7.0]])
    val = torch.tensor([[2.0, 8.0]])
    before = train.clone()
    out_train, out_val, _ = standardize(train, val, val.clone())
    expect.true(bool(torch.isfinite(out_train).all() and torch.isfinite(out_val).all()),
                "A column that is constant in X_train became NaN or inf: divide it by 1 "
                "instead of by its std of 0.",
                "Una columna constante en X_train se convirtió en NaN o inf: divídela por 1 en "
                "vez de por su std de 0.")
    expect.close(out_val[:, 1], [1.0], "standardize(...)[1][:, 1] for a constant training "
                 "column of 7 and a validation value of 8")
    expect.close(train, before, "X_train after calling standardize (it must not change)")


# %% [markdown] lang="en"
# The same network and optimizer are trained twice: on the raw features, and on the features
# standardized by your function. The yardstick is the first epoch at which validation loss
# reaches a fixed target.

# %% [markdown] lang="es"
# La misma red con el mismo optimizador se entrena dos veces: con las variables sin escalar y
# con las variables estandarizadas por tu función. La vara de medir es la primera época en la
# que la pérdida de validación alcanza un objetivo fijo.

# %%
wine = load(cfg.scale_dataset, seed=ctx.seed, standardize=False)
scaled = standardize(wine.train[0], wine.val[0], wine.test[0])
inputs = {False: (wine.train, wine.val),
          True: ((scaled[0], wine.train[1]), (scaled[1], wine.val[1]))}
runs = {}
for standardized in (False, True):
    fit_on, check_on = inputs[standardized]
    torch.manual_seed(ctx.seed)
    model = MLP(fit_on[0].shape[1], [32], wine.num_classes)
    h = trainer_for(model, cfg.scale_lr).fit(fit_on, check_on, epochs=cfg.scale_epochs,
                                             batch_size=32, seed=ctx.seed)
    reached = next((e for e, v in zip(h["epoch"], h["val_loss"])
                    if v <= cfg.scale_target_loss), None)
    runs[standardized] = {"history": h, "reached": reached}
raw, std = runs[False], runs[True]
raw_X = wine.train[0]
names = wine.info.get("feature_names", [str(i) for i in range(raw_X.shape[1])])
# Honest ratio: a raw run that never reaches the target is charged the whole budget, so the
# ratio is an upper bound on the true one (which would need a longer run to measure).
raw_epochs = raw["reached"] or cfg.scale_epochs
ratio = std["reached"] / raw_epochs if std["reached"] else float("nan")

fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
axes[0].barh(range(len(names)), raw_X.std(dim=0).numpy(), color="tab:gray")
axes[0].set_yticks(range(len(names)), names, fontsize=7)
axes[0].set_xscale("log")
axes[0].set_xlabel(ctx.t("std of the raw feature (log scale)",
                         "desviación de la variable sin escalar (escala log)"))
axes[0].set_title(ctx.t("Raw wine features: over three orders of magnitude",
                        "Variables de wine sin escalar: más de tres órdenes de magnitud"))
curves(axes[1], {ctx.t("raw inputs", "entradas sin escalar"): raw["history"]["val_loss"],
                 ctx.t("standardized", "estandarizadas"): std["history"]["val_loss"]},
       title=ctx.t("Same network, same optimizer", "Misma red, mismo optimizador"),
       xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("validation loss", "pérdida de validación"),
       logy=True, hlines={ctx.t(f"target {cfg.scale_target_loss}",
                                f"objetivo {cfg.scale_target_loss}"): cfg.scale_target_loss})
for run_, color in ((raw, "tab:blue"), (std, "tab:orange")):
    if run_["reached"]:
        axes[1].axvline(run_["reached"], color=color, linestyle=":", linewidth=1.2)
fig.tight_layout()
ctx.figure("standardization", fig)
never = ctx.t(f"never within {cfg.scale_epochs} epochs", f"nunca en {cfg.scale_epochs} épocas")
ctx.table([ctx.t("inputs", "entradas"),
           ctx.t(f"epoch reaching val loss {cfg.scale_target_loss}",
                 f"época en que la pérdida val. llega a {cfg.scale_target_loss}"),
           ctx.t("final val loss", "pérdida val. final")],
          [[ctx.t("raw", "sin escalar"), raw["reached"] or never, raw["history"]["val_loss"][-1]],
           [ctx.t("standardized", "estandarizadas"), std["reached"] or never,
            std["history"]["val_loss"][-1]]])

# %% [markdown] lang="en"
# Left, the scale of each raw feature; right, validation loss with and without
# standardization (dotted: the epoch where the target is reached). The training doctor's
# warning above flagged the raw inputs before the first step.

# %% [markdown] lang="es"
# A la izquierda, la escala de cada variable sin escalar; a la derecha, la pérdida de
# validación con y sin estandarizar (punteado: la época en que se alcanza el objetivo). El
# aviso del doctor de entrenamiento, más arriba, señaló las entradas sin escalar antes del
# primer paso.

# %% [markdown] lang="en"
# ## 4. Class balance
# A binary problem where the minority class is 5% of the rows: predicting "majority" always
# would already score 95% accuracy. Plain cross-entropy is an average over rows, so the rare
# rows barely move it. Weighting the loss per class makes each minority error cost more. The
# usual weights are the *inverse frequency* ones: class c gets n / (k · n_c), with n rows, k
# classes and n_c rows of class c, so that every class weighs the same in total.

# %% [markdown] lang="es"
# ## 4. Equilibrio de clases
# Un problema binario en el que la clase minoritaria es el 5% de las filas: predecir siempre
# "mayoritaria" ya daría un 95% de exactitud. La entropía cruzada normal es una media sobre
# filas, así que las filas raras apenas la mueven. Ponderar la pérdida por clase hace que cada
# error en la minoría cueste más. Los pesos habituales son los de *frecuencia inversa*: la
# clase c recibe n / (k · n_c), con n filas, k clases y n_c filas de la clase c, de modo que
# todas las clases pesan lo mismo en total.

# %% exercise="class_weights"
def class_weights(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """[en] Return the inverse-frequency ("balanced") weight of each class as a float tensor
    of shape (num_classes,): weight[c] = n / (num_classes * n_c), where n = len(y) and n_c is
    the number of labels equal to c in `y` (a 1-D tensor of integer labels 0..num_classes-1,
    in any order). Every class then weighs the same in total: n_c * weight[c] = n / num_classes.
    Count with `torch.bincount(..., minlength=num_classes)`, not with a Python loop.

    [es] Devuelve el peso de frecuencia inversa ("balanced") de cada clase como un tensor
    float de forma (num_classes,): peso[c] = n / (num_classes * n_c), donde n = len(y) y n_c
    es el número de etiquetas iguales a c en `y` (un tensor 1-D de etiquetas enteras
    0..num_classes-1, en cualquier orden). Así todas las clases pesan lo mismo en total:
    n_c * peso[c] = n / num_classes. Cuenta con `torch.bincount(..., minlength=num_classes)`,
    no con un bucle de Python.
    """
    counts = torch.bincount(y, minlength=num_classes).float()
    return len(y) / (num_classes * counts)


# %% check
import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight

from dlab.exercises import expect


@ctx.check("class_weights")
def returns_one_float_weight_per_class():
    weights = class_weights(torch.tensor([0, 0, 0, 1]), 2)
    expect.type(weights, torch.Tensor, "class_weights(torch.tensor([0, 0, 0, 1]), 2)")
    expect.shape(weights, (2,), "class_weights(torch.tensor([0, 0, 0, 1]), 2)")
    expect.true(weights.is_floating_point(),
                "class_weights must return a float tensor (CrossEntropyLoss(weight=...) needs "
                "one); divide as floats, not integers.",
                "class_weights debe devolver un tensor float (CrossEntropyLoss(weight=...) lo "
                "necesita); divide en flotantes, no en enteros.")


@ctx.check("class_weights")
def matches_sklearn_balanced_weights():
    y = np.array([2, 0, 2, 2, 1, 2, 0, 2, 2, 2])
    expect.close(class_weights(torch.tensor(y), 3),
                 compute_class_weight("balanced", classes=np.arange(3), y=y),
                 "class_weights(torch.tensor([2, 0, 2, 2, 1, 2, 0, 2, 2, 2]), 3)", atol=1e-6)
    y = np.array([0] * 95 + [1] * 5)
    expect.close(class_weights(torch.tensor(y), 2),
                 compute_class_weight("balanced", classes=np.arange(2), y=y),
                 "class_weights for 95 rows of class 0 and 5 of class 1", atol=1e-6)


# %% [markdown] lang="en"
# Three versions of the same network: plain cross-entropy, the square root of the balanced
# weights (a milder correction), and the balanced weights themselves. The weighting is chosen
# on validation macro-F1 (the mean of the two classes' F1, which a model that ignores the rare
# class cannot score well on); the test split is read once per model.

# %% [markdown] lang="es"
# Tres versiones de la misma red: entropía cruzada normal, la raíz cuadrada de los pesos
# balanceados (una corrección más suave) y los pesos balanceados tal cual. La ponderación se
# elige por macro-F1 en validación (la media del F1 de las dos clases, que un modelo que
# ignora la clase rara no puede tener alto); la partición de test se lee una vez por modelo.

# %%
imb = load("imbalanced", seed=ctx.seed)
counts = torch.bincount(imb.train[1], minlength=2)
balanced = class_weights(imb.train[1], 2)
variants = {"plain": None, "sqrt": balanced.sqrt(), "balanced": balanced}
trained = {}
for name, weight in variants.items():
    torch.manual_seed(ctx.seed)
    model = MLP(imb.train[0].shape[1], cfg.imbalance_hidden, 2)
    trainer = trainer_for(model, cfg.imbalance_lr, loss=torch.nn.CrossEntropyLoss(weight=weight))
    trainer.fit(imb.train, imb.val, epochs=cfg.imbalance_epochs, batch_size=64, seed=ctx.seed)
    trained[name] = trainer
# Choose the weighting on validation; the test split is read once per model, below.
val_f1 = {name: metrics.macro_f1(t.predict(imb.val[0]), imb.val[1]) for name, t in trained.items()}
chosen = max(("sqrt", "balanced"), key=val_f1.get)
scores = {}
for name, trainer in trained.items():
    out = trainer.predict(imb.test[0])
    cm = metrics.confusion_matrix(out, imb.test[1], num_classes=2)
    scores[name] = {"accuracy": metrics.accuracy(out, imb.test[1]),
                    "macro_f1": metrics.macro_f1(out, imb.test[1]),
                    "recall": cm[1, 1] / cm[1].sum(), "cm": cm}
ratio_full = float(balanced[1] / balanced[0])  # how much more a minority row weighs
titles = {"plain": ctx.t("plain cross-entropy", "entropía cruzada normal"),
          "sqrt": ctx.t(f"weights √(inverse frequency): {ratio_full ** 0.5:.1f}:1",
                        f"pesos √(frecuencia inversa): {ratio_full ** 0.5:.1f}:1"),
          "balanced": ctx.t(f"weights inverse frequency: {ratio_full:.0f}:1",
                            f"pesos frecuencia inversa: {ratio_full:.0f}:1")}
ctx.table([ctx.t("class", "clase"), ctx.t("training rows", "filas de entrenamiento"),
           ctx.t("balanced weight", "peso balanceado")],
          [[imb.classes[c], int(counts[c]), float(balanced[c])] for c in range(2)])
ctx.table(ctx.t("loss|val macro-F1|test accuracy|test macro-F1|minority recall|"
                "majority rows flagged",
                "pérdida|macro-F1 val.|exactitud test|macro-F1 test|recall minoritaria|"
                "filas mayoritarias marcadas").split("|"),
          [[("★ " if n == chosen else "") + titles[n], val_f1[n], scores[n]["accuracy"],
            scores[n]["macro_f1"], float(scores[n]["recall"]), int(scores[n]["cm"][0, 1])]
           for n in variants],
          ctx.t("test split (★ = chosen on validation)",
                "partición de test (★ = elegida en validación)"))

# %% [markdown] lang="en"
# The test confusion matrices (the percentage at the end of each row is that class's recall).

# %% [markdown] lang="es"
# Las matrices de confusión en test (el porcentaje al final de cada fila es el recall de esa
# clase).

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, name in zip(axes, variants):
    s = scores[name]
    confusion_panel(ax, s["cm"], imb.classes,
                    f"{titles[name]}\n{ctx.t('acc', 'exactitud')} {s['accuracy']:.3f} · "
                    f"macro-F1 {s['macro_f1']:.3f}",
                    xlabel=ctx.t("predicted", "predicha"), ylabel=ctx.t("true", "real"))
fig.tight_layout()
ctx.figure("imbalance", fig)
plain, weighted = scores["plain"], scores[chosen]

# %% [markdown] lang="en"
# Plain training looks accurate but finds only a small part of the minority. The balanced
# weights find most of it, but now many more majority rows are flagged too: recall is bought
# with precision. The square root of those weights sits in between. The weights move the
# decision threshold; they do not add information. A larger network trained longer separates
# the rare class far better on its own (try
# `--set imbalance_hidden=[64,64] --set imbalance_epochs=60`); then weighting still raises
# minority recall but no longer improves macro-F1.

# %% [markdown] lang="es"
# El entrenamiento normal parece exacto pero solo encuentra una pequeña parte de la minoría.
# Los pesos balanceados encuentran la mayor parte, pero ahora también se marcan muchas más
# filas mayoritarias: el recall se paga con precisión. La raíz cuadrada de esos pesos queda en
# medio. Los pesos mueven el umbral de decisión; no añaden información. Una red más grande
# entrenada más tiempo separa mucho mejor la clase rara por sí sola (prueba
# `--set imbalance_hidden=[64,64] --set imbalance_epochs=60`); entonces la ponderación aún
# sube el recall de la minoría pero ya no mejora el macro-F1.

# %%
ctx.finish({
    "sweep_val_losses": val_losses,
    "sweep_best_hidden": str(sweep[best]["hidden"]),
    "sweep_best_is_interior": 0 < best < len(sweep) - 1,
    "underfit_train_accuracy": smallest["train_acc"],
    "underfit_val_loss_ratio": smallest["val_loss"] / val_losses[best],
    "overfit_train_accuracy": largest["train_acc"],
    "overfit_val_accuracy": largest["val_acc"],
    "overfit_val_loss_ratio": largest["val_loss"] / val_losses[best],
    "val_loss_min_epoch": min_epoch,
    "val_loss_min": min_loss,
    "val_loss_end": end_loss,
    "val_loss_end_over_min": end_loss / min_loss,
    "val_min_before_end": min_epoch < epochs[-1],
    "standardized_epochs_to_target": std["reached"],
    "raw_epochs_to_target": raw["reached"],
    "raw_reached_target": raw["reached"] is not None,
    "standardization_epoch_ratio": ratio,
    "plain_accuracy": plain["accuracy"],
    "plain_macro_f1": plain["macro_f1"],
    "plain_minority_recall": float(plain["recall"]),
    "weighting_chosen": chosen,
    "weighted_macro_f1": weighted["macro_f1"],
    "weighted_minority_recall": float(weighted["recall"]),
    "balanced_macro_f1": scores["balanced"]["macro_f1"],
    "sqrt_macro_f1": scores["sqrt"]["macro_f1"],
    "macro_f1_gain": weighted["macro_f1"] - plain["macro_f1"],
    "minority_recall_gain": float(scores["balanced"]["recall"] - plain["recall"]),
})
