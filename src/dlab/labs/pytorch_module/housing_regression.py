# %% [markdown] lang="en"
# Predict the median house value of a California district from 13 features. A linear output
# and MSE loss turn the MLP into a regressor; trained on prices in $100k units, it is scored in
# dollars (MAE) against a linear regression on the same split, and cuts its error by about a
# quarter.

# %% [markdown] lang="es"
# Predecir el valor mediano de la vivienda de un distrito de California a partir de 13
# variables. Una salida lineal y la pérdida MSE convierten al MLP en un regresor; entrenado con
# precios en unidades de 100,000 $, se evalúa en dólares (MAE) frente a una regresión lineal
# con la misma partición, y reduce su error en torno a una cuarta parte.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: list = field(default_factory=lambda: [64, 32])
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    patience: int = 10
    target_scale: float = 100_000.0  # train on prices in $100k: targets of order 1

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 patience=self.patience, target_scale=self.target_scale)


LAB = Lab(
    id="housing-regression",
    title_en="California housing: MLP [64, 32] vs linear regression",
    title_es="Viviendas de California: MLP [64, 32] vs regresión lineal",
    source="PyTorch module · exercise 1; Part 2 · class 101 · exercise 1",
    block="pytorch-module",
    dataset="california_housing (1990 census, 20,640 districts; seeded 60/20/20 split, "
            "standardized features)",
    criteria=(
        Criterion("mae_ratio", "<=", 0.80,
                  "MLP test MAE ≤ 0.80 × linear regression's (at least 20% lower)",
                  "MAE en test del MLP ≤ 0.80 × el de la regresión lineal (al menos un 20% "
                  "menor)"),
    ),
    config=Config,
    quick={"epochs": 3},
)

# %% [markdown] lang="en"
# ## 1. The data
# One row per census district of 1990. The 8 numeric features (location, age, rooms,
# population, income...) are standardized with training statistics only, and ocean proximity
# is one-hot encoded: 13 inputs. The target is the median house value, in dollars.

# %% [markdown] lang="es"
# ## 1. Los datos
# Una fila por distrito censal de 1990. Las 8 variables numéricas (ubicación, antigüedad,
# habitaciones, población, ingreso...) se estandarizan solo con estadísticas de
# entrenamiento, y la cercanía al océano se codifica en one-hot: 13 entradas. El objetivo es
# el valor mediano de la vivienda, en dólares.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.linear_model import LinearRegression
from torch import nn

from dlab.data import load
from dlab.engine import EarlyStopping, Trainer
from dlab.viz import training_curves
from dlab.viz.compare import predicted_vs_true

data = load("california_housing", seed=ctx.seed)
(X_train, y_train), (X_val, y_val), (X_test, y_test) = data.train, data.val, data.test
ctx.table([ctx.t("split", "partición"), ctx.t("districts", "distritos"),
           ctx.t("features", "variables"), ctx.t("median value ($)", "valor mediano ($)")],
          [[name, f"{len(y):,}", X.shape[1], f"{float(y.median()):,.0f}"]
           for name, (X, y) in (("train", data.train), ("val", data.val),
                                ("test", data.test))])

# %% [markdown] lang="en"
# ## 2. The baseline: linear regression
# Ordinary least squares on the same standardized features, fitted directly on prices in
# dollars: one weight per feature plus an intercept.

# %% [markdown] lang="es"
# ## 2. La referencia: regresión lineal
# Mínimos cuadrados ordinarios sobre las mismas variables estandarizadas, ajustados
# directamente sobre los precios en dólares: un peso por variable más un término
# independiente.

# %%
linear = LinearRegression().fit(X_train.numpy(), y_train.numpy())

# %% [markdown] lang="en"
# ## 3. A network for regression
# A classifier ends in one logit per class; a regressor ends in a single output with no
# activation, so it can return any real number. Hidden layers of 64 and 32 ReLU units do the
# rest, and the loss is the mean squared error (MSE).

# %% [markdown] lang="es"
# ## 3. Una red para regresión
# Un clasificador termina en un logit por clase; un regresor termina en una única salida sin
# activación, para poder devolver cualquier número real. Capas ocultas de 64 y 32 neuronas
# ReLU hacen el resto, y la pérdida es el error cuadrático medio (MSE).

# %% exercise="build_regressor"
def build_regressor(n_features: int, hidden: list) -> nn.Module:
    """[en] Return an MLP regressor with `n_features` inputs, one `nn.Linear` + `nn.ReLU` per
    entry of `hidden` (e.g. n_features=13, hidden=[64, 32] gives Linear(13, 64), ReLU,
    Linear(64, 32), ReLU), then a last `nn.Linear` to ONE output, with no activation after it
    (a linear output: a ReLU or a sigmoid there would limit the values it can predict).
    Create the layers in this order. For a batch (N, n_features) it returns (N, 1).

    [es] Devuelve un MLP regresor con `n_features` entradas, un `nn.Linear` + `nn.ReLU` por
    cada elemento de `hidden` (p. ej. n_features=13, hidden=[64, 32] da Linear(13, 64), ReLU,
    Linear(64, 32), ReLU) y un último `nn.Linear` a UNA salida, sin activación después (una
    salida lineal: una ReLU o una sigmoide ahí limitarían los valores que puede predecir).
    Crea las capas en este orden. Para un lote (N, n_features) devuelve (N, 1).
    """
    layers, width = [], n_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 1))


# %% check
import torch
from torch import nn

from dlab.exercises import expect


@ctx.check("build_regressor")
def returns_one_output_per_row():
    model = build_regressor(13, [64, 32])
    expect.type(model, nn.Module, "build_regressor(13, [64, 32])")
    expect.shape(model(torch.zeros(5, 13)), (5, 1),
                 "build_regressor(13, [64, 32])(torch.zeros(5, 13))")


@ctx.check("build_regressor")
def has_the_right_layer_sizes():
    sizes = [tuple(m.weight.shape) for m in build_regressor(13, [64, 32]).modules()
             if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(64, 13), (32, 64), (1, 32)],
                 "weight shapes of the nn.Linear layers of build_regressor(13, [64, 32])")
    sizes = [tuple(m.weight.shape) for m in build_regressor(3, [8]).modules()
             if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(8, 3), (1, 8)],
                 "weight shapes of the nn.Linear layers of build_regressor(3, [8])")


@ctx.check("build_regressor")
def the_output_is_linear():
    model = build_regressor(13, [64, 32])
    leaves = [m for m in model.modules() if not list(m.children())]
    expect.last_layer_linear(model, "build_regressor(13, [64, 32])", "regression")
    expect.equal(sum(isinstance(m, nn.ReLU) for m in leaves), 2,
                 "number of nn.ReLU in build_regressor(13, [64, 32])")


# %% [markdown] lang="en"
# ## 4. Targets the network can reach
# Prices run to 500,000 while a fresh network outputs values near 0. In dollars the first MSE
# would be around 10¹⁰ and its gradients just as extreme; in units of $100k the targets are
# about 0.15 to 5, the scale that the default initialization and a learning rate of 10⁻³
# expect. The targets also become a column (N, 1), the shape of the model's output, so that
# the MSE compares each prediction with its own target: an (N, 1) output minus (N,) targets
# would broadcast into an (N, N) matrix of every prediction against every price.

# %% [markdown] lang="es"
# ## 4. Objetivos al alcance de la red
# Los precios llegan a 500,000 mientras que una red recién creada devuelve valores cercanos a
# 0. En dólares el primer MSE rondaría 10¹⁰ y sus gradientes serían igual de extremos; en
# unidades de 100k $ los objetivos van de 0.15 a 5, más o menos, la escala que esperan la
# inicialización por defecto y una tasa de aprendizaje de 10⁻³. Además los objetivos pasan a
# ser una columna (N, 1), la forma de la salida del modelo, para que el MSE compare cada
# predicción con su propio objetivo: una salida (N, 1) menos objetivos (N,) se expandiría a una
# matriz (N, N) de cada predicción contra cada precio.

# %% exercise="scale_targets"
def scale_targets(y: torch.Tensor, scale: float) -> torch.Tensor:
    """[en] `y` holds N prices in dollars, shape (N,). Return them in units of `scale` dollars
    (divide by `scale`) as a column of shape (N, 1), the shape of the model's output. Do not
    modify `y`.

    [es] `y` tiene N precios en dólares, forma (N,). Devuélvelos en unidades de `scale`
    dólares (divide por `scale`) como una columna de forma (N, 1), la forma de la salida del
    modelo. No modifiques `y`.
    """
    return (y / scale).unsqueeze(1)


# %% check
import warnings

import torch

from dlab.exercises import expect


@ctx.check("scale_targets")
def returns_a_column_in_the_new_unit():
    y = torch.tensor([250_000.0, 50_000.0, 500_001.0])
    out = scale_targets(y, 100_000.0)
    expect.type(out, torch.Tensor, "scale_targets(y, 100_000.0)")
    expect.shape(out, (3, 1), "scale_targets(torch.tensor([250000., 50000., 500001.]), 100000.)")
    expect.close(out, [[2.5], [0.5], [5.00001]],
                 "scale_targets(torch.tensor([250000., 50000., 500001.]), 100000.)")


@ctx.check("scale_targets")
def fits_mse_loss_without_broadcasting():
    y = torch.tensor([100.0, 300.0, 200.0, 400.0])
    predictions = torch.tensor([[1.0], [3.0], [2.0], [4.0]])  # (N, 1): a model's output
    with warnings.catch_warnings():  # torch warns when the shapes differ; the value says it
        warnings.simplefilter("ignore")
        loss = torch.nn.functional.mse_loss(predictions, scale_targets(y, 100.0))
    expect.close(loss, 0.0, "MSE between a perfect (4, 1) prediction and scale_targets(y, 100.)")
    expect.close(y, [100.0, 300.0, 200.0, 400.0], "y after scale_targets(y, 100.) (it must "
                 "not change)")


# %% [markdown] lang="en"
# ## 5. Training
# Adam on the MSE, with early stopping on the validation loss (its best weights restored). The
# left panel shows the MSE in ($100k)², the right one the validation MAE in $100k; the dashed
# line marks the epoch that early stopping kept.

# %% [markdown] lang="es"
# ## 5. Entrenamiento
# Adam sobre el MSE, con parada temprana según la pérdida de validación (restaurando sus
# mejores pesos). El panel izquierdo muestra el MSE en (100k $)², el derecho el MAE de
# validación en 100k $; la línea discontinua marca la época con la que se quedó la parada
# temprana.

# %%
scale = cfg.target_scale
model = build_regressor(X_train.shape[1], cfg.hidden)
trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr), loss="mse",
                  metrics=["mae"], callbacks=[EarlyStopping(patience=cfg.patience)],
                  **ctx.trainer_options())
history = trainer.fit((X_train, scale_targets(y_train, scale)),
                      (X_val, scale_targets(y_val, scale)), epochs=cfg.epochs,
                      batch_size=cfg.batch_size, seed=ctx.seed, **ctx.fit_options())
best_epoch, best_val_loss = history.best("val_loss")
ctx.figure("curves", training_curves(history, pairs=(("loss", "val_loss"), ("val_mae",)),
                                     mark=best_epoch,
                                     titles=[ctx.t("MSE, ($100k)²", "MSE, (100k $)²"),
                                             ctx.t("validation MAE, $100k",
                                                   "MAE de validación, 100k $")]))
ctx.table([ctx.t("epochs trained", "épocas entrenadas"), ctx.t("best epoch", "mejor época"),
           ctx.t("best validation MSE", "mejor MSE de validación")],
          [[len(history), best_epoch, best_val_loss]])

# %% [markdown] lang="en"
# ## 6. The test set, in dollars
# Both models are scored once on the test districts. The network's predictions come out in
# units of $100k and go back to dollars before they are compared with the true prices; the
# mean absolute error (MAE) then reads directly as "off by this many dollars on average".

# %% [markdown] lang="es"
# ## 6. El conjunto de test, en dólares
# Los dos modelos se evalúan una sola vez en los distritos de test. Las predicciones de la red
# salen en unidades de 100k $ y vuelven a dólares antes de compararlas con los precios reales;
# así el error absoluto medio (MAE) se lee directamente como "se equivoca en tantos dólares de
# media".

# %% exercise="mae_dollars"
def mae_dollars(predictions: torch.Tensor, targets: torch.Tensor, scale: float) -> float:
    """[en] Mean absolute error in dollars. `predictions` are N predicted prices in units of
    `scale` dollars, shape (N, 1) (a model's output) or (N,); `targets` are the N true prices
    in dollars, shape (N,). Multiply the predictions by `scale`, flatten them to (N,) and
    return the mean of |prediction − target| as a Python float. Flattening matters: (N, 1)
    minus (N,) broadcasts to an (N, N) matrix and gives a wrong mean without any error.

    [es] Error absoluto medio en dólares. `predictions` son N precios predichos en unidades de
    `scale` dólares, forma (N, 1) (la salida de un modelo) o (N,); `targets` son los N precios
    reales en dólares, forma (N,). Multiplica las predicciones por `scale`, aplánalas a (N,) y
    devuelve la media de |predicción − objetivo| como un float de Python. Aplanar importa:
    (N, 1) menos (N,) se expande a una matriz (N, N) y da una media equivocada sin ningún
    error.
    """
    dollars = predictions.reshape(-1) * scale
    return float((dollars - targets).abs().mean())


# %% check
import torch

from dlab.exercises import expect


@ctx.check("mae_dollars")
def converts_a_column_of_predictions_to_dollars():
    predictions = torch.tensor([[2.0], [1.5], [4.0]])  # $100k units, as the model outputs
    targets = torch.tensor([210_000.0, 150_000.0, 350_000.0])
    value = mae_dollars(predictions, targets, 100_000.0)
    expect.type(value, float, "mae_dollars(predictions, targets, 100_000.0)")
    # |200k - 210k| = 10k, |150k - 150k| = 0, |400k - 350k| = 50k: mean 20k
    expect.close(value, 20_000.0, "mae_dollars([[2.0], [1.5], [4.0]], [210000, 150000, 350000], "
                 "100000)", atol=0.01)


@ctx.check("mae_dollars")
def agrees_with_scikit_learn():
    from sklearn.metrics import mean_absolute_error

    generator = torch.Generator().manual_seed(0)
    targets = torch.rand(50, generator=generator) * 500_000
    predictions = torch.rand(50, generator=generator) * 5
    expected = mean_absolute_error(targets.numpy(), (predictions * 100_000).numpy())
    expect.close(mae_dollars(predictions, targets, 100_000.0), expected,
                 "mae_dollars of 50 predictions of shape (50,)", atol=0.5)
    expect.close(mae_dollars(predictions.unsqueeze(1), targets, 100_000.0), expected,
                 "mae_dollars of the same 50 predictions as a (50, 1) column", atol=0.5)
    expect.close(mae_dollars(targets, targets, 1.0), 0.0,
                 "mae_dollars(targets, targets, 1.0)", atol=1e-6)


# %%
mlp_out = trainer.predict(X_test)  # (N, 1), in units of $100k
linear_pred = linear.predict(X_test.numpy())  # (N,), in dollars
mlp_mae = mae_dollars(mlp_out, y_test, scale)
linear_mae = mae_dollars(torch.from_numpy(linear_pred), y_test, 1.0)
y_true, mlp_pred = y_test.numpy(), mlp_out.reshape(-1).numpy() * scale
mlp_rmse = float(np.sqrt(((mlp_pred - y_true) ** 2).mean()))
linear_rmse = float(np.sqrt(((linear_pred - y_true) ** 2).mean()))
ratio = mlp_mae / linear_mae
negatives = int((linear_pred < 0).sum())
ctx.table([ctx.t("model", "modelo"), ctx.t("test MAE ($)", "MAE en test ($)"),
           ctx.t("test RMSE ($)", "RMSE en test ($)"),
           ctx.t("negative predictions", "predicciones negativas")],
          [["LinearRegression", f"{linear_mae:,.0f}", f"{linear_rmse:,.0f}", negatives],
           [f"MLP {cfg.hidden}", f"{mlp_mae:,.0f}", f"{mlp_rmse:,.0f}",
            int((mlp_pred < 0).sum())],
           [ctx.t("MLP / linear", "MLP / lineal"), f"{ratio:.3f}", f"{mlp_rmse / linear_rmse:.3f}",
            ""]])

# %% [markdown] lang="en"
# Each dot is one test district and the dashed line a perfect prediction. The column at the
# right edge is the census cap at $500,001.

# %% [markdown] lang="es"
# Cada punto es un distrito de test y la línea discontinua la predicción perfecta. La columna
# del borde derecho es el tope del censo en 500,001 $.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, pred, name, mae in ((axes[0], linear_pred, "LinearRegression", linear_mae),
                            (axes[1], mlp_pred, f"MLP {cfg.hidden}", mlp_mae)):
    predicted_vs_true(ax, y_true / 1000, pred / 1000, seed=ctx.seed,
                      title=f"{name} — MAE ${mae:,.0f}",
                      xlabel=ctx.t("true value ($k)", "valor real (k$)"),
                      ylabel=ctx.t("predicted ($k)", "predicción (k$)"))
fig.tight_layout()
ctx.figure("predicted_vs_true", fig)

# %% [markdown] lang="en"
# Why the MLP's error is lower: a linear model adds up one fixed contribution per feature, so
# latitude and longitude can only describe a price that rises steadily in one compass
# direction. The real map has expensive coastal pockets (the Bay Area, Los Angeles) and cheap
# inland areas, and income matters differently in each; the hidden ReLU layers can carve the
# map into such regions and combine features. Linear regression may even predict negative
# prices (last column of the table): a straight line keeps going past zero where the data
# never does.

# %% [markdown] lang="es"
# Por qué el error del MLP es menor: un modelo lineal suma una contribución fija por variable,
# así que latitud y longitud solo pueden describir un precio que sube sin más en una
# dirección. El mapa real tiene zonas costeras caras (la bahía de San Francisco, Los Ángeles) y
# zonas de interior baratas, y el ingreso pesa distinto en cada una; las capas ocultas ReLU
# pueden dividir el mapa en esas regiones y combinar variables. La regresión lineal puede
# incluso predecir precios negativos (última columna de la tabla): una recta sigue más allá de
# cero aunque los datos nunca lleguen ahí.

# %%
ctx.finish({
    "mlp_test_mae_usd": mlp_mae,
    "linear_test_mae_usd": linear_mae,
    "mae_ratio": ratio,
    "mlp_test_rmse_usd": mlp_rmse,
    "linear_test_rmse_usd": linear_rmse,
    "best_epoch": best_epoch,
    "best_val_loss": best_val_loss,
    "epochs_trained": len(history),
    "linear_negative_predictions": negatives,
})
