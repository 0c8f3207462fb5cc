# %% [markdown] lang="en"
# A training run that looks after itself. An MLP [300, 100] is given up to 100 epochs on
# Fashion-MNIST and four callbacks: early stopping, a checkpoint of the best weights, a learning
# rate that halves when the validation loss stalls, and TensorBoard logs. Everything is then
# verified from the outside: the curves are read back from the TensorBoard event files, the
# reloaded checkpoint must be the epoch with the lowest logged validation loss, every logged
# learning rate must follow the plateau rule, and a run saved half-way and resumed must end
# exactly where an uninterrupted run ends.

# %% [markdown] lang="es"
# Un entrenamiento que se cuida solo. Un MLP [300, 100] recibe hasta 100 épocas en
# Fashion-MNIST y cuatro callbacks: parada temprana, un checkpoint de los mejores pesos, una
# tasa de aprendizaje que se reduce a la mitad cuando la pérdida de validación se estanca y
# registros de TensorBoard. Después todo se verifica desde fuera: las curvas se leen de los
# archivos de eventos de TensorBoard, el checkpoint recargado tiene que ser la época con la
# menor pérdida de validación registrada, cada tasa de aprendizaje registrada tiene que seguir
# la regla de la meseta, y un entrenamiento guardado a mitad de camino y reanudado tiene que
# terminar exactamente donde termina uno sin interrupciones.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: list = field(default_factory=lambda: [300, 100])
    epochs: int = 100            # an upper bound: early stopping ends the run long before
    batch_size: int = 128
    lr: float = 1e-3
    patience: int = 10           # EarlyStopping
    plateau_patience: int = 3    # ReduceLROnPlateau
    plateau_factor: float = 0.5
    min_lr: float = 1e-6
    train_subset: int = 0        # 0 = all 50k training images (quick mode uses fewer)
    resume_subset: int = 5000    # images of the save-and-resume experiment
    resume_after: int = 2        # epochs before its interruption; one more epoch after it

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 patience=self.patience, plateau_patience=self.plateau_patience,
                 plateau_factor=self.plateau_factor, min_lr=self.min_lr,
                 resume_subset=self.resume_subset, resume_after=self.resume_after)


LAB = Lab(
    id="callbacks",
    title_en="Callbacks: early stopping, best checkpoint, LR on plateau, TensorBoard",
    title_es="Callbacks: parada temprana, mejor checkpoint, LR en meseta, TensorBoard",
    source="Part 2 · class 104 (homework) + PyTorch module · practice 4",
    block="part2-training",
    dataset="fashion_mnist (50k train / 10k val / 10k test)",
    criteria=(
        Criterion("restored_is_best", "is", True,
                  "The reloaded checkpoint is the epoch with the lowest validation loss in the "
                  "TensorBoard logs (same epoch, and it scores that loss again)",
                  "El checkpoint recargado es la época con la menor pérdida de validación en "
                  "los registros de TensorBoard (misma época, y vuelve a dar esa pérdida)"),
        Criterion("test_accuracy", ">=", 0.87, "Test accuracy of the reloaded model ≥ 0.87",
                  "Exactitud en test del modelo recargado ≥ 0.87"),
        Criterion("lr_log_follows_plateau_rule", "is", True,
                  "Every learning rate logged in TensorBoard is the one the plateau rule gives "
                  "for the logged validation losses",
                  "Cada tasa de aprendizaje registrada en TensorBoard es la que da la regla de "
                  "la meseta para las pérdidas de validación registradas"),
        Criterion("resume_max_difference", "<=", 0.0,
                  "A run saved and resumed (weights + Adam's moments) ends with exactly the "
                  "weights of an uninterrupted run",
                  "Un entrenamiento guardado y reanudado (pesos + momentos de Adam) termina con "
                  "exactamente los pesos de uno sin interrupciones"),
    ),
    config=Config,
    quick={"epochs": 4, "train_subset": 2000, "patience": 2, "plateau_patience": 1,
           "resume_subset": 1000, "resume_after": 1},
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST as flat vectors of 784 pixels in [0, 1]: 50,000 training images, 10,000 held
# out for validation (every callback watches them) and the official 10,000 test images, used
# once at the end.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST como vectores planos de 784 píxeles en [0, 1]: 50,000 imágenes de
# entrenamiento, 10,000 apartadas para validación (todos los callbacks las vigilan) y las
# 10,000 imágenes oficiales de test, que se usan una vez al final.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from dlab.data import load
from dlab.engine import (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TensorBoardLogger,
                         Trainer, load_weights)
from dlab.engine.checkpoint import load_state, save_state
from dlab.models import MLP

data = load("fashion_mnist", seed=ctx.seed)
X_train, y_train = data.train
if cfg.train_subset:
    X_train, y_train = X_train[:cfg.train_subset], y_train[:cfg.train_subset]
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(y_train)], ["val", len(data.val[1])], ["test", len(data.test[1])]])

# %% [markdown] lang="en"
# ## 2. Four callbacks
# A callback is an object the trainer calls at fixed moments (start and end of training, of
# every epoch, of every batch) with what was just measured. The training loop stays the same;
# the callbacks decide around it:
#
# * **EarlyStopping(patience=10)** stops after 10 epochs in a row without a new lowest
#   validation loss and puts back the weights of the best epoch;
# * **ModelCheckpoint** writes the weights to `best.safetensors` each time the validation loss
#   improves, so the best model survives even a crash;
# * **ReduceLROnPlateau(factor=0.5, patience=3)** halves the learning rate when the validation
#   loss stops improving (never below `min_lr`);
# * **TensorBoardLogger** writes every value of every epoch to event files, the format the
#   `tensorboard --logdir` dashboard reads.
#
# The epoch limit is 100 on purpose: early stopping, not the limit, decides where training ends.

# %% [markdown] lang="es"
# ## 2. Cuatro callbacks
# Un callback es un objeto al que el entrenador llama en momentos fijos (inicio y fin del
# entrenamiento, de cada época, de cada lote) con lo que se acaba de medir. El bucle de
# entrenamiento no cambia; los callbacks deciden alrededor de él:
#
# * **EarlyStopping(patience=10)** se detiene tras 10 épocas seguidas sin una nueva pérdida de
#   validación mínima y restaura los pesos de la mejor época;
# * **ModelCheckpoint** escribe los pesos en `best.safetensors` cada vez que la pérdida de
#   validación mejora, así el mejor modelo sobrevive incluso a una caída;
# * **ReduceLROnPlateau(factor=0.5, patience=3)** reduce a la mitad la tasa de aprendizaje
#   cuando la pérdida de validación deja de mejorar (nunca por debajo de `min_lr`);
# * **TensorBoardLogger** escribe cada valor de cada época en archivos de eventos, el formato
#   que lee el panel `tensorboard --logdir`.
#
# El límite de 100 épocas es a propósito: quien decide dónde termina el entrenamiento es la
# parada temprana, no el límite.

# %%
log_dir = ctx.out / "tensorboard"
torch.manual_seed(ctx.seed)
model = MLP(784, cfg.hidden, 10)
optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)
early_stopping = EarlyStopping(monitor="val_loss", patience=cfg.patience,
                               restore_best_weights=True)
trainer = Trainer(model, optimizer, metrics=["accuracy"], callbacks=[
    early_stopping,
    ModelCheckpoint(ctx.checkpoint_path, monitor="val_loss", save_best_only=True),
    ReduceLROnPlateau(optimizer, monitor="val_loss", factor=cfg.plateau_factor,
                      patience=cfg.plateau_patience, min_lr=cfg.min_lr),
    TensorBoardLogger(log_dir),
], **ctx.trainer_options())
history = trainer.fit((X_train, y_train), data.val, epochs=cfg.epochs,
                      batch_size=cfg.batch_size, seed=ctx.seed, **ctx.fit_options())
ctx.table([ctx.t("epochs run", "épocas ejecutadas"),
           ctx.t("stopped early", "parada temprana"),
           ctx.t("best epoch (EarlyStopping)", "mejor época (EarlyStopping)")],
          [[len(history), history.stopped_early, early_stopping.best_epoch]])

# %% [markdown] lang="en"
# ## 3. Reading TensorBoard's event files
# The dashboard is one way to look at the logs; the event files themselves are data that a
# program can read. TensorBoard's own `EventAccumulator` parses them: after `Reload()` it knows
# every scalar tag and, for each tag, the list of events with their `step` (here, the epoch)
# and `value`. Reading the logs back, rather than trusting the trainer's memory, is how the
# next steps check what really happened.

# %% [markdown] lang="es"
# ## 3. Leer los archivos de eventos de TensorBoard
# El panel es una forma de mirar los registros; los archivos de eventos en sí son datos que un
# programa puede leer. El propio `EventAccumulator` de TensorBoard los interpreta: después de
# `Reload()` conoce cada etiqueta escalar y, para cada una, la lista de eventos con su `step`
# (aquí, la época) y su `value`. Leer los registros, en lugar de fiarse de la memoria del
# entrenador, es como los pasos siguientes comprueban lo que pasó de verdad.

# %% exercise="read_scalars"
def read_scalars(log_dir) -> dict:
    """[en] Read every scalar stored in the TensorBoard event files of the folder `log_dir`.
    Return a dict `{tag: [(step, value), ...]}` with one entry per scalar tag (e.g. "loss",
    "val_loss", "lr"), each a list of `(int, float)` pairs in the order they were written.
    Use `EventAccumulator(str(log_dir))` from
    `tensorboard.backend.event_processing.event_accumulator`; it reads nothing until you call
    its `Reload()` method. Then `acc.Tags()["scalars"]` lists the tags and `acc.Scalars(tag)`
    gives events with `.step` and `.value` (and `.wall_time`, which is not wanted here).

    [es] Lee todos los escalares guardados en los archivos de eventos de TensorBoard de la
    carpeta `log_dir`. Devuelve un dict `{etiqueta: [(step, value), ...]}` con una entrada por
    etiqueta escalar (p. ej. "loss", "val_loss", "lr"), cada una una lista de pares
    `(int, float)` en el orden en que se escribieron. Usa `EventAccumulator(str(log_dir))` de
    `tensorboard.backend.event_processing.event_accumulator`; no lee nada hasta que llamas a
    su método `Reload()`. Después `acc.Tags()["scalars"]` da las etiquetas y
    `acc.Scalars(tag)` da eventos con `.step` y `.value` (y `.wall_time`, que aquí no se
    quiere).
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir))
    accumulator.Reload()
    return {tag: [(int(e.step), float(e.value)) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


# %% check
import tempfile

from torch.utils.tensorboard import SummaryWriter

from dlab.exercises import expect


def _written_logs(folder):
    writer = SummaryWriter(log_dir=str(folder))
    for step, (loss, lr) in enumerate([(0.9, 0.1), (0.7, 0.1), (0.8, 0.05)], start=1):
        writer.add_scalar("loss", loss, step)
        writer.add_scalar("lr", lr, step)
    writer.add_scalar("val_loss", 1.5, 7)
    writer.close()


@ctx.check("read_scalars")
def reads_every_tag_with_steps_and_values():
    with tempfile.TemporaryDirectory() as folder:
        _written_logs(folder)
        scalars = read_scalars(folder)
    expect.type(scalars, dict, "read_scalars(folder)")
    expect.equal(sorted(scalars), ["loss", "lr", "val_loss"],
                 "sorted(read_scalars(folder)) (the tags written)")
    expect.equal([step for step, _ in scalars["loss"]], [1, 2, 3],
                 "steps of read_scalars(folder)['loss']")
    expect.close([value for _, value in scalars["loss"]], [0.9, 0.7, 0.8],
                 "values of read_scalars(folder)['loss']", atol=1e-6)
    expect.close([value for _, value in scalars["lr"]], [0.1, 0.1, 0.05],
                 "values of read_scalars(folder)['lr']", atol=1e-7)
    expect.equal(scalars["val_loss"][0][0], 7, "step of read_scalars(folder)['val_loss'][0]")


@ctx.check("read_scalars")
def returns_plain_int_steps_and_float_values():
    with tempfile.TemporaryDirectory() as folder:
        _written_logs(folder)
        step, value = read_scalars(folder)["loss"][0]
    expect.true(type(step) is int and type(value) is float,
                f"read_scalars(folder)['loss'][0] is ({type(step).__name__}, "
                f"{type(value).__name__}); return (int, float) pairs: (int(e.step), "
                "float(e.value)).",
                f"read_scalars(folder)['loss'][0] es ({type(step).__name__}, "
                f"{type(value).__name__}); devuelve pares (int, float): (int(e.step), "
                "float(e.value)).")


# %% [markdown] lang="en"
# Training and validation loss, and the learning rate, exactly as TensorBoard would show them
# (its SCALARS tab), drawn from the event files. The dashed line marks the epoch with the
# lowest validation loss.

# %% [markdown] lang="es"
# La pérdida de entrenamiento y de validación, y la tasa de aprendizaje, tal como las mostraría
# TensorBoard (su pestaña SCALARS), dibujadas a partir de los archivos de eventos. La línea
# discontinua marca la época con la menor pérdida de validación.

# %%
scalars = read_scalars(log_dir)
logged_epochs = [step for step, _ in scalars["val_loss"]]
logged_val_loss = [value for _, value in scalars["val_loss"]]
logged_lr = [value for _, value in scalars["lr"]]
# The first epoch with the lowest logged validation loss (EarlyStopping keeps the first too).
best_logged_epoch = logged_epochs[int(np.argmin(logged_val_loss))]

fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(11, 4))
for tag, label in (("loss", ctx.t("training loss", "pérdida de entrenamiento")),
                   ("val_loss", ctx.t("validation loss", "pérdida de validación"))):
    ax_loss.plot(*zip(*scalars[tag]), label=label)
ax_lr.step(logged_epochs, logged_lr, where="mid", color="tab:green")
ax_lr.set_yscale("log")
for ax, title in ((ax_loss, ctx.t("Loss (from TensorBoard)", "Pérdida (desde TensorBoard)")),
                  (ax_lr, ctx.t("Learning rate (from TensorBoard)",
                                "Tasa de aprendizaje (desde TensorBoard)"))):
    ax.axvline(best_logged_epoch, color="k", linestyle="--", linewidth=1,
               label=ctx.t(f"lowest val loss (epoch {best_logged_epoch})",
                           f"menor pérdida de val. (época {best_logged_epoch})"))
    ax.set_xlabel(ctx.t("epoch", "época"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
ctx.figure("tensorboard_curves", fig)

# %% [markdown] lang="en"
# ## 4. Is the checkpoint the best epoch?
# The file on disk is loaded into a brand-new model (a saved set of weights needs the same
# architecture to land in). Two things must hold: the epoch stored with the checkpoint is the
# one with the lowest validation loss in the logs, and the reloaded model, evaluated again on
# the validation images, scores that same loss.

# %% [markdown] lang="es"
# ## 4. ¿El checkpoint es la mejor época?
# El archivo en disco se carga en un modelo nuevo (unos pesos guardados necesitan la misma
# arquitectura para encajar). Deben cumplirse dos cosas: la época guardada con el checkpoint
# es la de menor pérdida de validación en los registros, y el modelo recargado, evaluado de
# nuevo en las imágenes de validación, da esa misma pérdida.

# %%
reloaded = MLP(784, cfg.hidden, 10)
saved = load_weights(reloaded, ctx.checkpoint_path)
evaluator = Trainer(reloaded, metrics=["accuracy"], progress=False, **ctx.trainer_options())
reloaded_val_loss = evaluator.evaluate(data.val)["loss"]
lowest_logged = min(logged_val_loss)
restored_is_best = bool(saved["epoch"] == best_logged_epoch == early_stopping.best_epoch
                        and abs(reloaded_val_loss - lowest_logged) <= 1e-6 * lowest_logged)
ctx.table([ctx.t("source", "fuente"), ctx.t("epoch", "época"),
           ctx.t("validation loss", "pérdida de validación")],
          [[ctx.t("TensorBoard logs (lowest)", "registros de TensorBoard (mínimo)"),
            best_logged_epoch, lowest_logged],
           [ctx.t("checkpoint metadata", "metadatos del checkpoint"), saved["epoch"],
            saved["value"]],
           [ctx.t("reloaded model, evaluated now", "modelo recargado, evaluado ahora"), "—",
            reloaded_val_loss]])

# %% [markdown] lang="en"
# ## 5. The learning rate on a plateau
# `ReduceLROnPlateau` keeps the lowest validation loss seen so far and counts the epochs in a
# row that fail to beat it. PyTorch's version counts an epoch as an improvement only if it
# beats the best by a relative margin (`threshold=1e-4`), and cuts the rate once the count
# *exceeds* `patience`: with `patience=3` the cut comes after the fourth bad epoch (Keras cuts
# after the third). After a cut the count starts again from zero.

# %% [markdown] lang="es"
# ## 5. La tasa de aprendizaje en una meseta
# `ReduceLROnPlateau` guarda la menor pérdida de validación vista hasta el momento y cuenta las
# épocas seguidas que no la superan. La versión de PyTorch cuenta una época como mejora solo si
# supera a la mejor por un margen relativo (`threshold=1e-4`), y recorta la tasa cuando la
# cuenta *supera* `patience`: con `patience=3` el recorte llega tras la cuarta época mala (Keras
# recorta tras la tercera). Después de un recorte la cuenta vuelve a empezar en cero.

# %% exercise="plateau_lr"
def plateau_lr(val_losses: list, lr: float, factor: float, patience: int,
               min_lr: float) -> list:
    """[en] Replay PyTorch's `ReduceLROnPlateau(mode="min", factor, patience, threshold=1e-4,
    min_lr)`. `val_losses[i]` is the validation loss measured at the end of epoch i + 1, and
    `lr` the learning rate of epoch 1. Return the list of learning rates used in each epoch
    (same length as `val_losses`). After each epoch's loss: it is an improvement if it is
    below `best * (1 - 1e-4)` (`best` starts at infinity), and then `best` takes its value and
    the count of bad epochs goes back to 0; otherwise the count grows by 1. When the count is
    greater than `patience`, the rate of the following epochs becomes
    `max(lr * factor, min_lr)` and the count goes back to 0.

    [es] Reproduce `ReduceLROnPlateau(mode="min", factor, patience, threshold=1e-4, min_lr)`
    de PyTorch. `val_losses[i]` es la pérdida de validación medida al final de la época i + 1,
    y `lr` la tasa de aprendizaje de la época 1. Devuelve la lista de tasas usadas en cada
    época (del mismo largo que `val_losses`). Tras la pérdida de cada época: es una mejora si
    está por debajo de `best * (1 - 1e-4)` (`best` empieza en infinito), y entonces `best`
    toma su valor y la cuenta de épocas malas vuelve a 0; si no, la cuenta crece en 1. Cuando
    la cuenta es mayor que `patience`, la tasa de las épocas siguientes pasa a ser
    `max(lr * factor, min_lr)` y la cuenta vuelve a 0.
    """
    rates, best, bad = [], float("inf"), 0
    for loss in val_losses:
        rates.append(lr)
        if loss < best * (1 - 1e-4):
            best, bad = loss, 0
        else:
            bad += 1
        if bad > patience:
            lr, bad = max(lr * factor, min_lr), 0
    return rates


# %% check
import random

import torch

from dlab.exercises import expect


def _torch_rates(losses, lr, factor, patience, min_lr):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=factor, patience=patience, min_lr=min_lr)
    rates = []
    for loss in losses:
        rates.append(optimizer.param_groups[0]["lr"])
        scheduler.step(loss)
    return rates


@ctx.check("plateau_lr")
def cuts_after_more_than_patience_bad_epochs():
    losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85]
    rates = plateau_lr(losses, 0.1, 0.5, 3, 1e-6)
    what = f"plateau_lr({losses}, lr=0.1, factor=0.5, patience=3, min_lr=1e-6)"
    expect.type(rates, list, what)
    expect.close(rates, [0.1] * 6 + [0.05] * 2, what + " (the 4th bad epoch triggers the cut, "
                 "which applies from the next epoch)", atol=1e-12)


@ctx.check("plateau_lr")
def tiny_gains_do_not_count_and_min_lr_is_a_floor():
    losses = [1.0, 0.99995, 0.9999, 0.99985, 0.9998, 0.99975, 0.9997, 0.99965]
    what = f"plateau_lr({losses}, lr=1e-3, factor=0.1, patience=1, min_lr=2e-5)"
    expect.close(plateau_lr(losses, 1e-3, 0.1, 1, 2e-5), _torch_rates(losses, 1e-3, 0.1, 1, 2e-5),
                 what + " (gains under 1e-4 relative are not improvements; the rate never "
                 "goes below min_lr)", atol=1e-12)


@ctx.check("plateau_lr")
def agrees_with_torch_reduce_lr_on_plateau():
    rng = random.Random(0)
    for _ in range(30):
        losses, loss = [], 1.0
        for _ in range(25):
            loss *= 1 - rng.choice([0.05, 0.00003, 0.0, -0.03])
            losses.append(round(loss, 6))
        patience, factor = rng.randint(0, 3), rng.choice([0.5, 0.1])
        expect.close(plateau_lr(losses, 0.01, factor, patience, 1e-4),
                     _torch_rates(losses, 0.01, factor, patience, 1e-4),
                     f"plateau_lr({losses}, lr=0.01, factor={factor}, patience={patience}, "
                     "min_lr=1e-4) vs torch's ReduceLROnPlateau", atol=1e-12)


# %% [markdown] lang="en"
# Replaying the rule on the validation losses read from the logs must give back, epoch by
# epoch, the learning rates the logs hold (stored as 32-bit floats, hence the tolerance).

# %% [markdown] lang="es"
# Aplicar la regla a las pérdidas de validación leídas de los registros debe devolver, época
# por época, las tasas de aprendizaje que guardan los registros (almacenadas como floats de 32
# bits, de ahí la tolerancia).

# %%
replayed_lr = plateau_lr(logged_val_loss, cfg.lr, cfg.plateau_factor, cfg.plateau_patience,
                         cfg.min_lr)
lr_log_follows_plateau_rule = bool(np.allclose(replayed_lr, logged_lr, rtol=1e-6, atol=0))
cuts = [epoch for epoch, before, after in zip(logged_epochs[1:], logged_lr, logged_lr[1:])
        if after < before]
ctx.table([ctx.t("learning-rate cuts (first epoch at the new rate)",
                 "recortes de la tasa (primera época con la nueva tasa)"),
           ctx.t("final learning rate", "tasa final"),
           ctx.t("plateau rule matches the logs", "la regla coincide con los registros")],
          [[", ".join(map(str, cuts)) or "—", logged_lr[-1], lr_log_follows_plateau_rule]])

# %% [markdown] lang="en"
# ## 6. Saving everything, or only the weights
# The checkpoint above holds weights only: enough to predict, not to continue training. Adam
# also keeps two running averages per weight (its moments) and a step count; training resumed
# without them restarts Adam from zero. Here a short run on a few thousand images is trained
# for a few epochs without a break; a second run is stopped one epoch earlier with its full
# training state saved (weights, Adam's moments, random-generator state), then resumed in a
# new model and optimizer; a third resumes from the same state with Adam's moments thrown away.

# %% [markdown] lang="es"
# ## 6. Guardar todo, o solo los pesos
# El checkpoint anterior guarda solo los pesos: basta para predecir, no para seguir entrenando.
# Adam también lleva dos promedios móviles por peso (sus momentos) y un contador de pasos; si
# se reanuda sin ellos, Adam vuelve a empezar desde cero. Aquí un entrenamiento corto con unos
# miles de imágenes se entrena unas épocas sin pausa; un segundo se detiene una época antes
# guardando su estado completo (pesos, momentos de Adam, estado del generador aleatorio) y se
# reanuda en un modelo y un optimizador nuevos; un tercero se reanuda del mismo estado pero
# sin los momentos de Adam.

# %%
resume_data = (X_train[:cfg.resume_subset], y_train[:cfg.resume_subset])


def resume_run(epochs, state_path=None, resume=None):
    """A fresh MLP and Adam trained on resume_data; returns the trained weights as a vector."""
    torch.manual_seed(ctx.seed)
    net = MLP(784, cfg.hidden, 10)
    run = Trainer(net, torch.optim.Adam(net.parameters(), lr=cfg.lr), progress=False,
                  **ctx.trainer_options())
    run.fit(resume_data, epochs=epochs, batch_size=cfg.batch_size, seed=ctx.seed,
            state_path=state_path, resume=resume)
    return torch.nn.utils.parameters_to_vector(net.parameters()).detach()


with tempfile.TemporaryDirectory() as folder:
    full_state, weights_only_state = Path(folder) / "full.pt", Path(folder) / "weights_only.pt"
    uninterrupted = resume_run(cfg.resume_after + 1)
    resume_run(cfg.resume_after, state_path=full_state)
    state = load_state(full_state)
    adam_steps = int(state["optimizer"]["state"][0]["step"])
    resumed = resume_run(cfg.resume_after + 1, resume=full_state)
    # Same weights and batches, but Adam's moments and step count dropped: "weights only".
    state["optimizer"]["state"] = {}
    save_state(weights_only_state, state)
    weights_only = resume_run(cfg.resume_after + 1, resume=weights_only_state)
resume_max_difference = float((resumed - uninterrupted).abs().max())
weights_only_max_difference = float((weights_only - uninterrupted).abs().max())
ctx.table([ctx.t("resumed from", "reanudado desde"),
           ctx.t("largest weight difference vs uninterrupted",
                 "mayor diferencia de pesos vs sin interrupción")],
          [[ctx.t(f"full state (Adam at step {adam_steps})",
                  f"estado completo (Adam en el paso {adam_steps})"), resume_max_difference],
           [ctx.t("weights only (Adam restarted)", "solo pesos (Adam reiniciado)"),
            weights_only_max_difference]])

# %% [markdown] lang="en"
# With the full state the resumed run is the uninterrupted one, to the last bit. Without
# Adam's moments the first steps after the restart take full-size, uncorrected steps and the
# weights drift away from the uninterrupted run.

# %% [markdown] lang="es"
# Con el estado completo, el entrenamiento reanudado es el mismo que el ininterrumpido, hasta
# el último bit. Sin los momentos de Adam, los primeros pasos tras reanudar son pasos grandes
# sin corregir y los pesos se alejan de los del entrenamiento sin interrupciones.

# %% [markdown] lang="en"
# ## 7. One look at the test set
# The reloaded checkpoint is scored once on the test images.

# %% [markdown] lang="es"
# ## 7. Una sola mirada al conjunto de test
# El checkpoint recargado se evalúa una sola vez con las imágenes de test.

# %%
test_accuracy = evaluator.evaluate(data.test)["accuracy"]
ctx.table([ctx.t("test accuracy", "exactitud en test")], [[test_accuracy]])

# %%
ctx.finish({
    "test_accuracy": test_accuracy,
    "restored_is_best": restored_is_best,
    "best_epoch": best_logged_epoch,
    "checkpoint_epoch": saved["epoch"],
    "best_val_loss": lowest_logged,
    "reloaded_val_loss": reloaded_val_loss,
    "epochs_run": len(history),
    "stopped_early": history.stopped_early,
    "lr_cuts": len(cuts),
    "final_lr": logged_lr[-1],
    "lr_log_follows_plateau_rule": lr_log_follows_plateau_rule,
    "resume_max_difference": resume_max_difference,
    "weights_only_max_difference": weights_only_max_difference,
})
