# %% [markdown] lang="en"
# A straight line cannot follow the curve of two interleaved half-moons; an MLP with two hidden
# ReLU layers can. This lab trains logistic regression and an MLP [16, 8] on the same split,
# scores both once on the test set and draws both decision boundaries side by side.

# %% [markdown] lang="es"
# Una recta no puede seguir la curva de dos medias lunas entrelazadas; un MLP con dos capas
# ocultas ReLU sí. Este laboratorio entrena una regresión logística y un MLP [16, 8] sobre la
# misma partición, evalúa ambos una sola vez en test y dibuja las dos fronteras de decisión
# lado a lado.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n_samples: int = 1000
    noise: float = 0.2
    hidden: list = field(default_factory=lambda: [16, 8])
    epochs: int = 60
    batch_size: int = 32
    lr: float = 0.01
    patience: int = 10

    def check(self):
        positive(n_samples=self.n_samples, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, patience=self.patience)


LAB = Lab(
    id="moons-mlp",
    title_en="Logistic regression vs MLP on make_moons",
    title_es="Regresión logística vs MLP en make_moons",
    source="Part 2 · class 100 (homework)",
    block="part2-foundations",
    dataset="moons (sklearn make_moons, noise=0.2, random_state=42)",
    criteria=(
        Criterion("mlp_test_accuracy", ">=", 0.95,
                  "MLP [16, 8] test accuracy ≥ 0.95",
                  "Exactitud en test del MLP [16, 8] ≥ 0.95"),
        Criterion("logistic_test_accuracy", "between", (0.80, 0.90),
                  "Logistic regression test accuracy ≈ 0.85 (within [0.80, 0.90])",
                  "Exactitud en test de la regresión logística ≈ 0.85 (entre 0.80 y 0.90)"),
    ),
    config=Config,
    quick={"n_samples": 300, "epochs": 5},
)

# %% [markdown] lang="en"
# ## 1. The data
# Two half-moons with Gaussian noise, split into training, validation and test sets. The
# features are standardized with statistics of the training set only.

# %% [markdown] lang="es"
# ## 1. Los datos
# Dos medias lunas con ruido gaussiano, divididas en entrenamiento, validación y test. Las
# variables se estandarizan solo con estadísticas del conjunto de entrenamiento.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from dlab.data import load
from dlab.engine import EarlyStopping, Trainer, metrics

data = load("moons", n_samples=cfg.n_samples, noise=cfg.noise, seed=ctx.seed)
(X_train, y_train), (X_val, y_val), (X_test, y_test) = data.train, data.val, data.test
ctx.table([ctx.t("split", "partición"), ctx.t("points", "puntos")],
          [["train", len(y_train)], ["val", len(y_val)], ["test", len(y_test)]])

# %% [markdown] lang="en"
# ## 2. The baseline: logistic regression
# One weighted sum passed through a sigmoid: its decision boundary is a straight line.

# %% [markdown] lang="es"
# ## 2. La referencia: regresión logística
# Una suma ponderada que pasa por una sigmoide: su frontera de decisión es una recta.

# %%
logistic = LogisticRegression().fit(X_train.numpy(), y_train.numpy())

# %% [markdown] lang="en"
# ## 3. The MLP
# Two hidden layers with ReLU between them and two output logits (one per moon); the loss,
# cross-entropy, applies the softmax itself.

# %% [markdown] lang="es"
# ## 3. El MLP
# Dos capas ocultas con ReLU entre ellas y dos logits de salida (uno por luna); la pérdida,
# entropía cruzada, aplica la softmax por su cuenta.

# %% exercise="build_mlp"
def build_mlp(hidden: list) -> nn.Module:
    """[en] Return an MLP for 2-D points: 2 inputs, one `nn.Linear` + `nn.ReLU` per entry of
    `hidden` (e.g. [16, 8] gives Linear(2, 16), ReLU, Linear(16, 8), ReLU), then a last
    `nn.Linear` to 2 output logits, with no activation after it.

    [es] Devuelve un MLP para puntos 2-D: 2 entradas, un `nn.Linear` + `nn.ReLU` por cada
    elemento de `hidden` (p. ej. [16, 8] da Linear(2, 16), ReLU, Linear(16, 8), ReLU) y un
    último `nn.Linear` a 2 logits de salida, sin activación después.
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


@ctx.check("build_mlp")
def returns_a_module_with_two_logits():
    model = build_mlp([16, 8])
    expect.type(model, nn.Module, "build_mlp([16, 8])")
    expect.shape(model(torch.zeros(5, 2)), (5, 2), "build_mlp([16, 8])(torch.zeros(5, 2))")


@ctx.check("build_mlp")
def has_the_right_layer_sizes():
    sizes = [tuple(m.weight.shape) for m in build_mlp([16, 8]).modules()
             if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(16, 2), (8, 16), (2, 8)],
                 "weight shapes of the nn.Linear layers of build_mlp([16, 8])")
    sizes = [tuple(m.weight.shape) for m in build_mlp([4]).modules() if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(4, 2), (2, 4)], "weight shapes of the nn.Linear layers of build_mlp([4])")


@ctx.check("build_mlp")
def hidden_layers_use_relu_and_logits_are_raw():
    model = build_mlp([16, 8])
    relus = sum(isinstance(m, nn.ReLU) for m in model.modules())
    expect.equal(relus, 2, "number of nn.ReLU in build_mlp([16, 8])")
    expect.last_layer_linear(model, "build_mlp([16, 8])")


# %%
model = build_mlp(cfg.hidden)
trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr),
                  metrics=["accuracy"], callbacks=[EarlyStopping(patience=cfg.patience)],
                  **ctx.trainer_options())
history = trainer.fit(data.train, data.val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                      seed=ctx.seed)

# %% [markdown] lang="en"
# ## 4. One look at the test set
# Every choice was made on validation; the test split is used once, here.

# %% [markdown] lang="es"
# ## 4. Una sola mirada al conjunto de test
# Todas las decisiones se tomaron en validación; la partición de test se usa una vez, aquí.

# %%
logistic_acc = float(logistic.score(X_test.numpy(), y_test.numpy()))
mlp_acc = trainer.evaluate(data.test)["accuracy"]
ctx.table([ctx.t("model", "modelo"), ctx.t("test accuracy", "exactitud en test")],
          [[ctx.t("logistic regression", "regresión logística"), logistic_acc],
           [f"MLP {cfg.hidden}", mlp_acc]])

# %% [markdown] lang="en"
# ## 5. The decision boundaries
# To draw a boundary, colour a fine grid of points by the class the model predicts for each.

# %% [markdown] lang="es"
# ## 5. Las fronteras de decisión
# Para dibujar una frontera, se colorea una grilla fina de puntos según la clase que el modelo
# predice para cada uno.

# %% exercise="plot_boundary"
def plot_boundary(ax, predict, X: np.ndarray, y: np.ndarray, title: str) -> None:
    """[en] Draw on the matplotlib axes `ax` the regions where `predict` says 0 and 1, then
    the points `X` coloured by their label `y`, with `title` on top. Build the grid with
    `np.meshgrid`: at least 100 × 100 points covering the range of `X` plus a margin of 0.5
    on every side. `predict` takes an (n, 2) array and returns n labels; call it once on the
    whole grid and draw the regions with `ax.contourf`.

    [es] Dibuja en los ejes de matplotlib `ax` las regiones donde `predict` dice 0 y 1, y
    luego los puntos `X` coloreados según su etiqueta `y`, con `title` arriba. Arma la grilla
    con `np.meshgrid`: al menos 100 × 100 puntos que cubran el rango de `X` más un margen de
    0.5 por lado. `predict` recibe un arreglo (n, 2) y devuelve n etiquetas; llámala una vez
    sobre toda la grilla y dibuja las regiones con `ax.contourf`.
    """
    x0 = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 200)
    x1 = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 200)
    g0, g1 = np.meshgrid(x0, x1)
    labels = np.asarray(predict(np.column_stack([g0.ravel(), g1.ravel()]))).reshape(g0.shape)
    ax.contourf(g0, g1, labels, levels=[-0.5, 0.5, 1.5], cmap="coolwarm", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(title)


# %% check
import matplotlib.pyplot as plt
import numpy as np

from dlab.exercises import expect


def _draw_with_a_spy():
    X = np.array([[-1.0, -2.0], [1.0, 0.0], [2.0, 3.0]])
    calls = []

    def predict(points):
        calls.append(np.asarray(points))
        return (np.asarray(points)[:, 0] > 0).astype(int)

    fig, ax = plt.subplots()
    plot_boundary(ax, predict, X, np.array([0, 1, 1]), "title")
    return X, calls, fig, ax


@ctx.check("plot_boundary")
def predicts_on_a_grid_that_covers_the_data():
    X, calls, fig, _ = _draw_with_a_spy()
    plt.close(fig)
    expect.true(calls, "plot_boundary never called `predict`.",
                "plot_boundary nunca llamó a `predict`.")
    grid = np.concatenate(calls)
    expect.equal(grid.ndim == 2 and grid.shape[1], 2, "number of columns of the points "
                 "passed to predict")
    expect.true(len(grid) >= 100 * 100,
                f"plot_boundary asked `predict` about {len(grid)} points; a grid of at least "
                "100 × 100 = 10000 is needed for a smooth boundary.",
                f"plot_boundary le pidió a `predict` {len(grid)} puntos; hace falta una grilla "
                "de al menos 100 × 100 = 10000 para una frontera suave.")
    low, high = grid.min(axis=0), grid.max(axis=0)
    expect.close(low, X.min(axis=0) - 0.5, "smallest grid point (x0, x1)", atol=0.05)
    expect.close(high, X.max(axis=0) + 0.5, "largest grid point (x0, x1)", atol=0.05)


@ctx.check("plot_boundary")
def draws_regions_points_and_title():
    _, _, fig, ax = _draw_with_a_spy()
    drawings = len(ax.collections)
    title = ax.get_title()
    plt.close(fig)
    expect.true(drawings >= 2,
                "plot_boundary should draw the regions (ax.contourf) and the points "
                "(ax.scatter); the axes hold fewer than two drawings.",
                "plot_boundary debe dibujar las regiones (ax.contourf) y los puntos "
                "(ax.scatter); los ejes tienen menos de dos dibujos.")
    expect.equal(title, "title", "ax.get_title() after plot_boundary(..., 'title')")


# %%
def mlp_predict(grid):
    return metrics.predictions(trainer.predict(torch.as_tensor(grid, dtype=torch.float32)))


fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
plot_boundary(axes[0], logistic.predict, X_test.numpy(), y_test.numpy(),
              ctx.t(f"Logistic regression — test acc {logistic_acc:.3f}",
                    f"Regresión logística — exactitud {logistic_acc:.3f}"))
plot_boundary(axes[1], mlp_predict, X_test.numpy(), y_test.numpy(),
              ctx.t(f"MLP {cfg.hidden} — test acc {mlp_acc:.3f}",
                    f"MLP {cfg.hidden} — exactitud {mlp_acc:.3f}"))
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
ctx.figure("decision_boundaries", fig)

# %% [markdown] lang="en"
# On the left, one straight line; on the right, a curve that follows the moons. Each hidden
# ReLU unit splits the plane along a line, and the next layer combines those half-planes into
# a bent region. Logistic regression has a single weighted sum, so the points inside each
# moon's curve end up on the wrong side of its line.

# %% [markdown] lang="es"
# A la izquierda, una sola recta; a la derecha, una curva que sigue a las lunas. Cada neurona
# ReLU oculta corta el plano con una recta y la capa siguiente combina esos semiplanos en una
# región curva. La regresión logística tiene una única suma ponderada, así que los puntos del
# interior de cada luna quedan del lado equivocado de su recta.

# %%
ctx.finish({
    "mlp_test_accuracy": mlp_acc,
    "logistic_test_accuracy": logistic_acc,
    "mlp_epochs_trained": len(history),
    "mlp_best_val_loss": history.best("val_loss")[1],
})
