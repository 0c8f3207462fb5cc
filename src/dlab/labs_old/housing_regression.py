"""housing-regression — an MLP [64, 32] vs linear regression on California housing prices.

Course: PyTorch module exercise 1 (a network for regression) and Part 2, class 101
exercise 1 (California housing, MLP [64, 32], standardized inputs, linear output, MSE loss,
report test MAE). The MLP is trained on prices in units of $100,000 and scored in dollars
against scikit-learn's LinearRegression on the same split.
"""
from __future__ import annotations

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
    dataset="california_housing (1990 census, 20,640 districts; seeded 60/20/20 split, "
            "standardized features)",
    summary_en="Predict the median house value of a California district from 13 features. "
               "A linear output and MSE loss turn the MLP into a regressor; trained on prices "
               "in $100k units, it is scored in dollars (MAE) against a linear regression on "
               "the same split, and cuts its error by about a quarter.",
    summary_es="Predecir el valor mediano de la vivienda de un distrito de California a partir "
               "de 13 variables. Una salida lineal y la pérdida MSE convierten al MLP en un "
               "regresor; entrenado con precios en unidades de 100,000 $, se evalúa en dólares "
               "(MAE) frente a una regresión lineal con la misma partición, y reduce su error "
               "en torno a una cuarta parte.",
    criteria=(
        Criterion("mae_ratio", "<=", 0.80,
                  "MLP test MAE ≤ 0.80 × linear regression's (at least 20% lower)",
                  "MAE en test del MLP ≤ 0.80 × el de la regresión lineal (al menos un 20% "
                  "menor)"),
    ),
    config=Config,
    quick={"epochs": 3},
)


def run(ctx, cfg: Config) -> dict:
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from sklearn.linear_model import LinearRegression

    from dlab.data import load
    from dlab.engine import EarlyStopping, Trainer
    from dlab.models import MLP
    from dlab.viz import training_curves
    from dlab.viz.compare import predicted_vs_true

    data = load("california_housing", seed=ctx.seed)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = data.train, data.val, data.test
    ctx.say(f"{len(y_train):,} training, {len(y_val):,} validation and {len(y_test):,} test "
            f"districts; {X_train.shape[1]} features (8 numeric, standardized with training "
            "statistics, and ocean proximity one-hot). Target: median house value in dollars "
            f"(training median ${float(y_train.median()):,.0f}).",
            f"{len(y_train):,} distritos de entrenamiento, {len(y_val):,} de validación y "
            f"{len(y_test):,} de test; {X_train.shape[1]} variables (8 numéricas, "
            "estandarizadas con estadísticas de entrenamiento, y la cercanía al océano en "
            "one-hot). Objetivo: valor mediano de la vivienda en dólares (mediana de "
            f"entrenamiento ${float(y_train.median()):,.0f}).")

    # Baseline: ordinary least squares on the same standardized features, in dollars.
    linear = LinearRegression().fit(X_train.numpy(), y_train.numpy())

    # Why scale the target: prices run to 500,000 while a fresh network outputs values near 0.
    # In dollars the first MSE would be ~1e10 and its gradients just as extreme; in $100k
    # units targets are ~0.15-5, the scale the default initialization and lr=1e-3 expect.
    # The targets become (N, 1) columns, the shape of the model's output, so MSELoss compares
    # element by element instead of broadcasting (N, 1) against (N,).
    scale = cfg.target_scale

    def scaled(y):
        return (y / scale).unsqueeze(1)

    model = MLP(X_train.shape[1], cfg.hidden, 1)  # linear output: any real number
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr), loss="mse",
                      metrics=["mae"], callbacks=[EarlyStopping(patience=cfg.patience)],
                      **ctx.trainer_options())
    history = trainer.fit((X_train, scaled(y_train)), (X_val, scaled(y_val)), epochs=cfg.epochs,
                          batch_size=cfg.batch_size, seed=ctx.seed, **ctx.fit_options())
    best_epoch, best_val_loss = history.best("val_loss")
    ctx.figure("curves", training_curves(history, pairs=(("loss", "val_loss"), ("val_mae",)),
                                         mark=best_epoch,
                                         titles=[ctx.t("MSE, ($100k)²", "MSE, (100k $)²"),
                                                 ctx.t("validation MAE, $100k",
                                                       "MAE de validación, 100k $")]),
               f"Training and validation loss in ($100k)²; early stopping kept epoch {best_epoch}.",
               f"Pérdida de entrenamiento y validación en (100k $)²; la parada temprana se quedó "
               f"con la época {best_epoch}.")

    # The test split, once, for both models; everything back in dollars.
    y_true = y_test.numpy()
    mlp_pred = trainer.predict(X_test).reshape(-1).numpy() * scale
    linear_pred = linear.predict(X_test.numpy())
    mlp_mae = float(np.abs(mlp_pred - y_true).mean())
    linear_mae = float(np.abs(linear_pred - y_true).mean())
    mlp_rmse = float(np.sqrt(((mlp_pred - y_true) ** 2).mean()))
    linear_rmse = float(np.sqrt(((linear_pred - y_true) ** 2).mean()))
    ratio = mlp_mae / linear_mae

    ctx.table(ctx.t("model|test MAE ($)|test RMSE ($)",
                    "modelo|MAE en test ($)|RMSE en test ($)").split("|"),
              [["LinearRegression", f"{linear_mae:,.0f}", f"{linear_rmse:,.0f}"],
               [f"MLP {cfg.hidden}", f"{mlp_mae:,.0f}", f"{mlp_rmse:,.0f}"]],
              "Test error in dollars", "Error en test en dólares")

    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, pred, name, mae in ((axes[0], linear_pred, "LinearRegression", linear_mae),
                                (axes[1], mlp_pred, f"MLP {cfg.hidden}", mlp_mae)):
        predicted_vs_true(ax, y_true / 1000, pred / 1000, seed=ctx.seed,
                          title=f"{name} — MAE ${mae:,.0f}",
                          xlabel=ctx.t("true value ($k)", "valor real (k$)"),
                          ylabel=ctx.t("predicted ($k)", "predicción (k$)"))
    fig.tight_layout()
    ctx.figure("predicted_vs_true", fig,
               "Test districts: each dot is one district, the dashed line a perfect prediction. "
               "The column at the right edge is the census cap at $500,001.",
               "Distritos de test: cada punto es un distrito y la línea discontinua la "
               "predicción perfecta. La columna del borde derecho es el tope del censo en "
               "500,001 $.")

    negatives = int((linear_pred < 0).sum())
    negative_en = (f" Linear regression even predicts a negative price for {negatives} test "
                   "districts: a straight line keeps going past zero where the data never "
                   "does." if negatives else "")
    negative_es = (f" La regresión lineal llega a predecir un precio negativo para {negatives} "
                   "distritos de test: una recta sigue más allá de cero aunque los datos nunca "
                   "lleguen ahí." if negatives else "")
    ctx.say(f"The MLP's test MAE is ${mlp_mae:,.0f} against ${linear_mae:,.0f} for linear "
            f"regression: {100 * (1 - ratio):.0f}% lower. Why: a linear model adds up one "
            "fixed contribution per feature, so latitude and longitude can only describe a "
            "price that rises steadily in one compass direction. The real map has expensive "
            "coastal pockets (the Bay Area, Los Angeles) and cheap inland areas, and income "
            "matters differently in each; the hidden ReLU layers can carve the map into such "
            "regions and combine features." + negative_en,
            f"El MAE en test del MLP es de ${mlp_mae:,.0f} frente a ${linear_mae:,.0f} de la "
            f"regresión lineal: un {100 * (1 - ratio):.0f}% menor. Por qué: un modelo lineal "
            "suma una contribución fija por variable, así que latitud y longitud solo pueden "
            "describir un precio que sube sin más en una dirección. El mapa real tiene zonas "
            "costeras caras (la bahía de San Francisco, Los Ángeles) y zonas de interior "
            "baratas, y el ingreso pesa distinto en cada una; las capas ocultas ReLU pueden "
            "dividir el mapa en esas regiones y combinar variables." + negative_es)
    return {
        "mlp_test_mae_usd": mlp_mae,
        "linear_test_mae_usd": linear_mae,
        "mae_ratio": ratio,
        "mlp_test_rmse_usd": mlp_rmse,
        "linear_test_rmse_usd": linear_rmse,
        "best_epoch": best_epoch,
        "best_val_loss": best_val_loss,
        "epochs_trained": len(history),
        "linear_negative_predictions": negatives,
    }
