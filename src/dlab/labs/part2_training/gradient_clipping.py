# %% [markdown] lang="en"
# Gradient clipping caps the size of the gradient before the optimizer uses it. This lab has
# you write the two classic forms, clipping by global norm and by value, trains the course's
# MLP [300, 100] with Adam and a norm cap of 1.0 while recording the gradient norm of every
# step, and then builds a deep network with a learning rate high enough to blow up: without
# clipping its loss turns into NaN within one epoch, with clipping it learns.

# %% [markdown] lang="es"
# El recorte de gradientes (gradient clipping) limita el tamaño del gradiente antes de que el
# optimizador lo use. En este laboratorio escribes sus dos formas clásicas, recorte por norma
# global y por valor, entrenas el MLP [300, 100] del curso con Adam y un tope de norma 1.0
# registrando la norma del gradiente en cada paso, y luego armas una red profunda con una tasa
# de aprendizaje tan alta que explota: sin recorte su pérdida se vuelve NaN antes de terminar
# una época; con recorte, aprende.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 0      # 0 = all 50k training images (quick mode uses fewer)
    val_subset: int = 0        # 0 = all 10k validation images (quick mode uses fewer)
    hidden: list = field(default_factory=lambda: [300, 100])
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    max_norm: float = 1.0      # clipnorm
    clip_value: float = 0.01   # clipvalue, for the direction comparison
    unstable_subset: int = 10_000
    deep_hidden: list = field(default_factory=lambda: [256] * 8)
    unstable_lr: float = 0.3   # SGD + momentum 0.9 on a deep He-initialized ReLU net
    unstable_epochs: int = 2
    adam_bad_lr: float = 10.0  # the course's exercise: Adam with a learning rate of 10

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 max_norm=self.max_norm, clip_value=self.clip_value,
                 unstable_subset=self.unstable_subset, unstable_lr=self.unstable_lr,
                 unstable_epochs=self.unstable_epochs, adam_bad_lr=self.adam_bad_lr)


LAB = Lab(
    id="gradient-clipping",
    title_en="Gradient clipping: by norm, by value, and against exploding gradients",
    title_es="Recorte de gradientes: por norma, por valor y contra gradientes que explotan",
    source="Part 2 · class 111 (homework)",
    block="part2-training",
    dataset="fashion_mnist (50k train / 10k val / 10k test; the unstable net trains on a "
            "seeded 10k subset)",
    criteria=(
        Criterion("val_accuracy", ">=", 0.87,
                  "MLP [300, 100], Adam(1e-3) with clipnorm 1.0 trains stably: validation "
                  "accuracy ≥ 0.87",
                  "MLP [300, 100], Adam(1e-3) con clipnorm 1.0 entrena estable: exactitud de "
                  "validación ≥ 0.87"),
        Criterion("max_norm_after_clip", "<=", 1.0,
                  "The gradient norm the optimizer applies is ≤ 1.0 at every step",
                  "La norma del gradiente que aplica el optimizador es ≤ 1.0 en cada paso"),
        Criterion("unstable_diverged_without_clip", "is", True,
                  "Deep net, SGD with a high learning rate, no clipping: the loss becomes NaN/inf",
                  "Red profunda, SGD con tasa de aprendizaje alta, sin recorte: la pérdida se "
                  "vuelve NaN/inf"),
        Criterion("unstable_clipped_val_accuracy", ">=", 0.6,
                  "The same deep net with clipnorm 1.0 trains: validation accuracy ≥ 0.60 "
                  "(chance is 0.10)",
                  "La misma red profunda con clipnorm 1.0 entrena: exactitud de validación "
                  "≥ 0.60 (el azar da 0.10)"),
    ),
    config=Config,
    quick={"train_subset": 1000, "val_subset": 1000, "epochs": 1, "unstable_subset": 1000,
           "unstable_epochs": 1, "deep_hidden": [64] * 8},
    timed=("seconds_per_epoch",),
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST, pixels scaled to [0, 1], 10,000 training images held out for validation. The
# official test images are scored once, at the end of the main run.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST, píxeles escalados a [0, 1], 10,000 imágenes de entrenamiento apartadas para
# validación. Las imágenes oficiales de test se evalúan una sola vez, al final del
# entrenamiento principal.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import metrics
from dlab.engine.clipping import GradientClipping
from dlab.engine.recorder import LossRecorder
from dlab.engine.variants import fit_run
from dlab.models import MLP
from dlab.models.init import init_weights
from dlab.viz.compare import curves, smooth

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(train[1])], ["val", len(val[1])], ["test", len(data.test[1])]])

# %% [markdown] lang="en"
# ## 2. Clipping by global norm
# Treat every gradient of the network, all layers together, as one long vector g. If its
# length ‖g‖ is above a cap c, multiply every gradient by c / ‖g‖: the vector keeps its
# direction and its length becomes c. Below the cap nothing changes. This is Keras'
# `clipnorm` / `global_clipnorm` and PyTorch's `clip_grad_norm_`. Measuring the norm layer by
# layer instead would shrink some layers more than others and turn the direction.

# %% [markdown] lang="es"
# ## 2. Recorte por norma global
# Se trata a todos los gradientes de la red, todas las capas juntas, como un único vector
# largo g. Si su longitud ‖g‖ supera un tope c, se multiplica cada gradiente por c / ‖g‖: el
# vector conserva su dirección y su longitud pasa a ser c. Por debajo del tope no cambia nada.
# Es el `clipnorm` / `global_clipnorm` de Keras y el `clip_grad_norm_` de PyTorch. Medir la
# norma capa por capa encogería unas capas más que otras y giraría la dirección.

# %% exercise="clip_by_global_norm"
def clip_by_global_norm(grads: list, max_norm: float) -> tuple:
    """[en] Clip a list of gradient tensors by their global norm. The global norm is the
    square root of the sum of the squares of every element of every tensor (all of them as
    one vector). If it is above `max_norm`, multiply every tensor by
    `max_norm / (global_norm + 1e-6)` (the small 1e-6 is what PyTorch's clip_grad_norm_ adds);
    otherwise return them unchanged. Return `(clipped, global_norm)`: a list of new tensors in
    the same order and shapes, and the norm measured before clipping as a Python float. Do
    not call torch.nn.utils.clip_grad_norm_.

    [es] Recorta una lista de tensores de gradiente por su norma global. La norma global es
    la raíz cuadrada de la suma de los cuadrados de todos los elementos de todos los tensores
    (todos juntos como un solo vector). Si supera `max_norm`, multiplica cada tensor por
    `max_norm / (norma_global + 1e-6)` (el pequeño 1e-6 es el que suma clip_grad_norm_ de
    PyTorch); si no, devuélvelos sin cambios. Devuelve `(recortados, norma_global)`: una lista
    de tensores nuevos en el mismo orden y con las mismas formas, y la norma medida antes de
    recortar como float de Python. No uses torch.nn.utils.clip_grad_norm_.
    """
    total = math.sqrt(sum(float((g.float() ** 2).sum()) for g in grads))
    scale = max_norm / (total + 1e-6) if total > max_norm else 1.0
    return [g * scale for g in grads], total


# %% check
import torch

from dlab.exercises import expect


def _grads(seed, scale):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(4, 3, generator=g) * scale, torch.randn(5, generator=g) * scale]


@ctx.check("clip_by_global_norm")
def small_gradients_pass_unchanged():
    grads = _grads(0, 0.05)
    result = clip_by_global_norm([g.clone() for g in grads], 1.0)
    expect.type(result, tuple, "clip_by_global_norm(grads, 1.0)")
    clipped, norm = result
    expect.equal(len(clipped), 2, "number of tensors returned by clip_by_global_norm")
    expected = float(torch.cat([g.flatten() for g in grads]).norm())
    expect.close(norm, expected, "global norm returned for two small gradients", atol=1e-5)
    for i, (c, g) in enumerate(zip(clipped, grads)):
        expect.close(c, g, f"clipped[{i}] when the global norm {expected:.3f} is below 1.0 "
                     "(nothing to clip)")


@ctx.check("clip_by_global_norm")
def large_gradients_match_torch_clip_grad_norm():
    grads = _grads(1, 3.0)
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch_norm = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
    clipped, norm = clip_by_global_norm([g.clone() for g in grads], 1.0)
    expect.close(norm, torch_norm, "global norm returned (before clipping), compared with "
                 "torch.nn.utils.clip_grad_norm_", atol=1e-4)
    for i, (c, p) in enumerate(zip(clipped, params)):
        expect.shape(c, tuple(p.shape), f"clipped[{i}]")
        expect.close(c, p.grad, f"clipped[{i}] for gradients of global norm {torch_norm:.2f} "
                     "and max_norm 1.0 (compared with torch.nn.utils.clip_grad_norm_)",
                     atol=1e-6)


@ctx.check("clip_by_global_norm")
def one_scale_for_all_tensors():
    # Each tensor alone has norm 0.8 < 1, but together 0.8·√2 ≈ 1.13 > 1: a per-tensor clip
    # would leave them alone; the global clip shrinks both by the same factor.
    grads = [torch.tensor([0.8, 0.0]), torch.tensor([0.0, 0.0, 0.8])]
    clipped, norm = clip_by_global_norm([g.clone() for g in grads], 1.0)
    expect.close(norm, 0.8 * 2 ** 0.5, "global norm of [0.8, 0] and [0, 0, 0.8]", atol=1e-5)
    total = float(torch.cat([c.flatten() for c in clipped]).norm())
    expect.close(total, 1.0, "global norm of the result for tensors [0.8, 0] and [0, 0, 0.8] "
                 "(each below 1, together above: the norm is global)", atol=1e-5)
    expect.close(clipped[0][0] / clipped[1][2], 1.0, "ratio between the two clipped tensors' "
                 "entries (clipping by norm keeps the direction)", atol=1e-6)


# %% [markdown] lang="en"
# ## 3. Clipping by value
# The other form caps each gradient element on its own: g_i ← min(max(g_i, −c), c). It is
# Keras' `clipvalue` and PyTorch's `clip_grad_value_`. The elements that were over the cap are
# cut and the others are not, so unlike clipping by norm the vector changes direction.

# %% [markdown] lang="es"
# ## 3. Recorte por valor
# La otra forma limita cada elemento del gradiente por separado: g_i ← min(max(g_i, −c), c).
# Es el `clipvalue` de Keras y el `clip_grad_value_` de PyTorch. Los elementos que pasaban el
# tope se cortan y los demás no, así que, a diferencia del recorte por norma, el vector cambia
# de dirección.

# %% exercise="clip_by_value"
def clip_by_value(grads: list, clip_value: float) -> list:
    """[en] Clip every element of every tensor in `grads` to the interval
    [-clip_value, clip_value]. Return a list of new tensors in the same order and shapes;
    elements already inside the interval keep their value. Do not call
    torch.nn.utils.clip_grad_value_.

    [es] Recorta cada elemento de cada tensor de `grads` al intervalo
    [-clip_value, clip_value]. Devuelve una lista de tensores nuevos en el mismo orden y con
    las mismas formas; los elementos que ya están dentro del intervalo conservan su valor. No
    uses torch.nn.utils.clip_grad_value_.
    """
    return [g.clamp(-clip_value, clip_value) for g in grads]


# %% check
import torch

from dlab.exercises import expect


@ctx.check("clip_by_value")
def caps_each_element_and_keeps_the_rest():
    grads = [torch.tensor([[0.2, -3.0], [0.7, -0.4]]), torch.tensor([5.0, -0.1, 0.5])]
    clipped = clip_by_value([g.clone() for g in grads], 0.5)
    expect.type(clipped, list, "clip_by_value(grads, 0.5)")
    expect.equal(len(clipped), 2, "number of tensors returned by clip_by_value")
    expect.close(clipped[0], torch.tensor([[0.2, -0.5], [0.5, -0.4]]),
                 "clip_by_value(...)[0] for [[0.2, -3.0], [0.7, -0.4]] and clip_value 0.5")
    expect.close(clipped[1], torch.tensor([0.5, -0.1, 0.5]),
                 "clip_by_value(...)[1] for [5.0, -0.1, 0.5] and clip_value 0.5")


@ctx.check("clip_by_value")
def matches_torch_clip_grad_value():
    g = torch.Generator().manual_seed(2)
    grads = [torch.randn(6, 4, generator=g), torch.randn(3, generator=g) * 0.1]
    params = [torch.zeros_like(t, requires_grad=True) for t in grads]
    for p, t in zip(params, grads):
        p.grad = t.clone()
    torch.nn.utils.clip_grad_value_(params, 0.3)
    clipped = clip_by_value([t.clone() for t in grads], 0.3)
    for i, (c, p) in enumerate(zip(clipped, params)):
        expect.close(c, p.grad, f"clip_by_value(grads, 0.3)[{i}] (compared with "
                     "torch.nn.utils.clip_grad_value_)")


# %% [markdown] lang="en"
# ## 4. The course's homework: MLP [300, 100], Adam(1e-3), clipnorm 1.0
# Your `clip_by_global_norm` runs right before every optimizer step (a hook on the
# optimizer), and the global norm is measured twice per step: as backward left it, and as the
# optimizer receives it.

# %% [markdown] lang="es"
# ## 4. La tarea del curso: MLP [300, 100], Adam(1e-3), clipnorm 1.0
# Tu `clip_by_global_norm` se ejecuta justo antes de cada paso del optimizador (un gancho en el
# optimizador), y la norma global se mide dos veces por paso: tal como la dejó backward y tal
# como la recibe el optimizador.

# %%
torch.manual_seed(ctx.seed)
model = MLP(784, cfg.hidden, 10)
optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
clipping = GradientClipping(optimizer, cfg.max_norm, clip_by_global_norm)
main = fit_run(model, optimizer, train, val, epochs=cfg.epochs, batch_size=cfg.batch_size,
               seed=ctx.seed, **ctx.trainer_options())
val_accuracy = main.history["val_accuracy"][-1]
before, after = np.array(clipping.before), np.array(clipping.after)
ctx.table([ctx.t("steps", "pasos"), ctx.t("val accuracy", "exactitud val."),
           ctx.t("norm before: median", "norma antes: mediana"),
           ctx.t("norm before: max", "norma antes: máx."),
           ctx.t("norm after: max", "norma después: máx."),
           ctx.t("steps clipped", "pasos recortados")],
          [[len(before), val_accuracy, float(np.median(before)), float(before.max()),
            float(after.max()), f"{clipping.clipped_share():.1%}"]])

# %% [markdown] lang="en"
# Every step's norm before clipping (grey) and after (blue), with the cap as a dashed line;
# the darker grey line is a moving average. Whatever backward produces, the optimizer never
# receives more than the cap.

# %% [markdown] lang="es"
# La norma de cada paso antes del recorte (gris) y después (azul), con el tope como línea
# discontinua; la línea gris más oscura es una media móvil. Produzca lo que produzca backward,
# el optimizador nunca recibe más que el tope.

# %%
steps = np.arange(1, len(before) + 1)
steps_per_epoch = main.trainer.steps_per_epoch
fig, ax = plt.subplots(figsize=(11, 4))
ax.plot(steps, before, color="0.75", linewidth=0.6, label=ctx.t("before clipping",
                                                                "antes del recorte"))
ax.plot(steps, smooth(before, max(steps_per_epoch // 10, 1)), color="0.35", linewidth=1.2,
        label=ctx.t("before clipping (moving average)", "antes del recorte (media móvil)"))
ax.plot(steps, after, color="tab:blue", linewidth=0.8, label=ctx.t("after clipping",
                                                                   "después del recorte"))
ax.axhline(cfg.max_norm, color="tab:red", linestyle="--", linewidth=1,
           label=f"clipnorm = {cfg.max_norm:g}")
for epoch in range(1, cfg.epochs):
    ax.axvline(epoch * steps_per_epoch, color="k", alpha=0.15, linewidth=0.8)
ax.set_yscale("log")
ax.set_xlabel(ctx.t("step (vertical lines: epochs)", "paso (líneas verticales: épocas)"))
ax.set_ylabel(ctx.t("global gradient norm", "norma global del gradiente"))
ax.set_title(ctx.t(f"MLP {cfg.hidden}, Adam({cfg.lr:g}): gradient norm per step",
                   f"MLP {cfg.hidden}, Adam({cfg.lr:g}): norma del gradiente por paso"))
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8, loc="lower right")
ctx.figure("gradient_norms", fig)

# %% [markdown] lang="en"
# The course hopes a cap of 1.0 rarely fires on a healthy network. The share of clipped
# steps above says how often it fired here: with Adam it costs little either way, because
# Adam divides each step by the recent size of the gradient, so shrinking every gradient by
# a similar factor barely changes the update. The test set is scored once, now.

# %% [markdown] lang="es"
# El curso espera que un tope de 1.0 casi nunca actúe en una red sana. La proporción de pasos
# recortados de arriba dice cuántas veces actuó aquí: con Adam cuesta poco en cualquier caso,
# porque Adam divide cada paso por el tamaño reciente del gradiente, así que encoger todos los
# gradientes por un factor parecido apenas cambia la actualización. El conjunto de test se
# evalúa una vez, ahora.

# %%
test_accuracy = main.trainer.evaluate(data.test)["accuracy"]
clipping.remove()
ctx.table([ctx.t("val accuracy", "exactitud val."), ctx.t("test accuracy", "exactitud test")],
          [[val_accuracy, test_accuracy]])

# %% [markdown] lang="en"
# ## 5. Norm or value: what happens to the direction
# Both clips are applied to the gradients of a few training batches of the trained model.
# The cosine between the clipped gradient and the original says whether the direction
# survived (1 = same direction).

# %% [markdown] lang="es"
# ## 5. Norma o valor: qué le pasa a la dirección
# Los dos recortes se aplican a los gradientes de algunos lotes de entrenamiento del modelo
# entrenado. El coseno entre el gradiente recortado y el original dice si la dirección
# sobrevivió (1 = misma dirección).

# %%
def flat(tensors):
    return torch.cat([t.flatten() for t in tensors])


loss_fn = nn.CrossEntropyLoss()
cosines = {"norm": [], "value": []}
shrink = {"norm": [], "value": []}
for xb, yb in zip(train[0][:1024].split(128), train[1][:1024].split(128)):
    model.zero_grad()
    loss_fn(model(xb), yb).backward()
    raw = [p.grad.detach().clone() for p in model.parameters()]
    by_norm, _ = clip_by_global_norm(raw, cfg.max_norm)
    by_value = clip_by_value(raw, cfg.clip_value)
    for kind, clipped in (("norm", by_norm), ("value", by_value)):
        cosines[kind].append(float(torch.cosine_similarity(flat(clipped), flat(raw), dim=0)))
        shrink[kind].append(float(flat(clipped).norm() / flat(raw).norm()))
model.zero_grad()
clipnorm_cosine = float(np.mean(cosines["norm"]))
clipvalue_cosine = float(np.mean(cosines["value"]))
ctx.table([ctx.t("clip", "recorte"), ctx.t("mean cosine with the raw gradient",
                                           "coseno medio con el gradiente original"),
           ctx.t("norm after / norm before", "norma después / norma antes")],
          [[f"clipnorm {cfg.max_norm:g}", clipnorm_cosine, float(np.mean(shrink["norm"]))],
           [f"clipvalue {cfg.clip_value:g}", clipvalue_cosine, float(np.mean(shrink["value"]))]])

# %% [markdown] lang="en"
# ## 6. A network that explodes
# Eight hidden ReLU layers of 256 units with He initialization, trained with SGD + momentum
# 0.9 at a learning rate far too high for it. Each SGD step moves the weights by the learning
# rate times the gradient, so one large gradient is one huge jump, the next gradients are
# larger still, and within a few dozen steps the numbers overflow. The same network, the same
# start, the same batches, once without clipping and once with your `clip_by_global_norm` at
# 1.0: with the cap, no step of SGD can be longer than the learning rate times 1.0. When the
# loss becomes NaN, the training doctor stops that run and explains what it saw.

# %% [markdown] lang="es"
# ## 6. Una red que explota
# Ocho capas ocultas ReLU de 256 unidades con inicialización de He, entrenadas con SGD +
# momentum 0.9 con una tasa de aprendizaje demasiado alta para ella. Cada paso de SGD mueve
# los pesos la tasa de aprendizaje por el gradiente, así que un gradiente grande es un salto
# enorme, los gradientes siguientes son aún mayores y en unas decenas de pasos los números se
# desbordan. La misma red, el mismo punto de partida, los mismos lotes, una vez sin recorte y
# otra con tu `clip_by_global_norm` a 1.0: con el tope, ningún paso de SGD puede ser más largo
# que la tasa de aprendizaje por 1.0. Cuando la pérdida se vuelve NaN, el doctor del
# entrenamiento detiene esa ejecución y explica lo que vio.

# %%
unstable_train = subset(data.train, cfg.unstable_subset, ctx.seed)
torch.manual_seed(ctx.seed)
start = init_weights(MLP(784, cfg.deep_hidden, 10), "kaiming").state_dict()
unstable = {}
for name, clip in (("no clip", None), ("clipnorm", clip_by_global_norm)):
    deep = MLP(784, cfg.deep_hidden, 10)
    deep.load_state_dict(start)
    sgd = torch.optim.SGD(deep.parameters(), lr=cfg.unstable_lr, momentum=0.9)
    norms = GradientClipping(sgd, cfg.max_norm if clip else None, clip)
    losses = LossRecorder()
    run = fit_run(deep, sgd, unstable_train, val, epochs=cfg.unstable_epochs,
                  batch_size=cfg.batch_size, seed=ctx.seed, callbacks=[losses],
                  **ctx.trainer_options())
    unstable[name] = {"run": run, "norms": norms.before, "losses": losses.losses,
                      "val_accuracy": (run.history["val_accuracy"][-1] if len(run.history)
                                       else math.nan)}
    if run.diverged:
        ctx.console.print(f"[yellow]{name}: {run.error}[/yellow]")

no_clip, clipped_run = unstable["no clip"], unstable["clipnorm"]
diverged_at = len(no_clip["losses"]) + 1 if no_clip["run"].diverged else None
ctx.table([ctx.t("run", "ejecución"), ctx.t("steps trained", "pasos entrenados"),
           ctx.t("loss became NaN/inf", "pérdida NaN/inf"),
           ctx.t("largest norm before clipping", "mayor norma antes del recorte"),
           ctx.t("val accuracy", "exactitud val.")],
          [[ctx.t("no clipping", "sin recorte"), len(no_clip["losses"]),
            ctx.t(f"yes, step {diverged_at}", f"sí, paso {diverged_at}") if diverged_at
            else ctx.t("no", "no"), float(np.nanmax(no_clip["norms"])), no_clip["val_accuracy"]],
           [f"clipnorm {cfg.max_norm:g}", len(clipped_run["losses"]),
            ctx.t("yes", "sí") if clipped_run["run"].diverged else ctx.t("no", "no"),
            float(np.nanmax(clipped_run["norms"])), clipped_run["val_accuracy"]]])

# %% [markdown] lang="en"
# Left, the gradient norm of every step before clipping; right, the training loss of every
# step. Without the cap the norm climbs by orders of magnitude in a few steps and the curve
# ends where the loss stopped being a number.

# %% [markdown] lang="es"
# A la izquierda, la norma del gradiente de cada paso antes del recorte; a la derecha, la
# pérdida de entrenamiento de cada paso. Sin el tope la norma sube varios órdenes de magnitud
# en pocos pasos y la curva termina donde la pérdida dejó de ser un número.

# %%
labels = {"no clip": ctx.t("no clipping", "sin recorte"), "clipnorm": f"clipnorm {cfg.max_norm:g}"}
finite = {name: [v if math.isfinite(v) else np.nan for v in r["norms"]]
          for name, r in unstable.items()}
fig, (ax_norm, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2))
curves(ax_norm, {labels[n]: finite[n] for n in unstable},
       title=ctx.t("Gradient norm before clipping", "Norma del gradiente antes del recorte"),
       xlabel=ctx.t("step", "paso"), ylabel=ctx.t("global norm", "norma global"), logy=True,
       hlines={f"clipnorm = {cfg.max_norm:g}": cfg.max_norm})
curves(ax_loss, {labels[n]: r["losses"] for n, r in unstable.items()},
       title=ctx.t("Training loss per step", "Pérdida de entrenamiento por paso"),
       xlabel=ctx.t("step", "paso"), ylabel="cross-entropy", logy=True)
fig.tight_layout()
ctx.figure("exploding", fig)

# %% [markdown] lang="en"
# ## 7. What clipping does not fix
# The course's first exercise: Adam with a learning rate of 10, with and without clipnorm 1.0.
# Clipping bounds the length of SGD's step, but Adam's step is about the learning rate in every
# coordinate whatever the size of the gradient, because Adam divides by that size. With a
# learning rate of 10 every weight jumps by about 10 per step, clipped or not: clipping is a
# guard against rare huge gradients, not a cure for a badly chosen learning rate.

# %% [markdown] lang="es"
# ## 7. Lo que el recorte no arregla
# El primer ejercicio del curso: Adam con una tasa de aprendizaje de 10, con y sin clipnorm
# 1.0. El recorte acota la longitud del paso de SGD, pero el paso de Adam es de
# aproximadamente la tasa de aprendizaje en cada coordenada sea cual sea el tamaño del
# gradiente, porque Adam divide por ese tamaño. Con una tasa de 10 cada peso salta unas 10
# unidades por paso, con recorte o sin él: el recorte protege de gradientes enormes y raros, no
# cura una tasa de aprendizaje mal elegida.

# %%
torch.manual_seed(ctx.seed)
adam_start = MLP(784, cfg.hidden, 10).state_dict()
adam_loss = {}
for name, clip in (("no clip", None), ("clipnorm", clip_by_global_norm)):
    net = MLP(784, cfg.hidden, 10)
    net.load_state_dict(adam_start)
    adam = torch.optim.Adam(net.parameters(), lr=cfg.adam_bad_lr)
    GradientClipping(adam, cfg.max_norm if clip else None, clip)
    run = fit_run(net, adam, unstable_train, val, epochs=1, batch_size=cfg.batch_size,
                  seed=ctx.seed, **ctx.trainer_options())
    adam_loss[name] = (run.history["loss"][-1] if len(run.history) else math.inf,
                       run.history["val_accuracy"][-1] if len(run.history) else math.nan)
ctx.table([ctx.t("Adam, lr = 10", "Adam, lr = 10"),
           ctx.t("mean training loss (1 epoch)", "pérdida media de entrenamiento (1 época)"),
           ctx.t("val accuracy", "exactitud val.")],
          [[labels[n], *adam_loss[n]] for n in adam_loss],
          ctx.t("chance: loss ln 10 ≈ 2.30, accuracy 0.10",
                "azar: pérdida ln 10 ≈ 2.30, exactitud 0.10"))

# %%
ctx.finish({
    "val_accuracy": val_accuracy,
    "test_accuracy": test_accuracy,
    "max_norm_after_clip": float(after.max()),
    "max_norm_before_clip": float(before.max()),
    "median_norm_before_clip": float(np.median(before)),
    "clipped_share": clipping.clipped_share(),
    "steps": len(before),
    "seconds_per_epoch": main.seconds / max(len(main.history), 1),
    "clipnorm_cosine": clipnorm_cosine,
    "clipvalue_cosine": clipvalue_cosine,
    "unstable_diverged_without_clip": no_clip["run"].diverged,
    "unstable_diverged_at_step": diverged_at,
    "unstable_clipped_diverged": clipped_run["run"].diverged,
    "unstable_clipped_val_accuracy": clipped_run["val_accuracy"],
    "adam_lr10_loss_no_clip": adam_loss["no clip"][0],
    "adam_lr10_loss_clipnorm": adam_loss["clipnorm"][0],
})
