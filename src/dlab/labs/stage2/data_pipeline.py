# %% [markdown] lang="en"
# A custom Dataset, a seeded train/validation split, a normalization fitted on training rows
# only and a shuffling DataLoader. The same MLP is then trained with batch sizes 1, 32, 256 and
# full batch for the same wall-clock time: small batches give many noisy, slow-per-sample
# updates, the full batch few exact ones; the middle wins. Last, dlab's in-memory `Batches`
# against the DataLoader.

# %% [markdown] lang="es"
# Un Dataset propio, una partición entrenamiento/validación con semilla, una normalización
# ajustada solo con filas de entrenamiento y un DataLoader que baraja. Después, el mismo MLP se
# entrena con batches de 1, 32, 256 y el conjunto completo durante el mismo tiempo de reloj:
# los batches pequeños dan muchas actualizaciones ruidosas y lentas por muestra, el batch
# completo pocas y exactas; gana el término medio. Al final, `Batches` de dlab (en memoria)
# frente al DataLoader.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    val_fraction: float = 0.2
    hidden: list = field(default_factory=lambda: [64])
    lr: float = 1e-3
    batch_sizes: list = field(default_factory=lambda: [1, 32, 256, 0])  # 0 = full batch
    seconds: float = 3.0  # wall-clock training budget per batch size
    timing_repeats: int = 8

    def check(self):
        positive(val_fraction=self.val_fraction, lr=self.lr, seconds=self.seconds,
                 timing_repeats=self.timing_repeats)


LAB = Lab(
    id="data-pipeline",
    title_en="Data pipelines: Dataset, DataLoader and the batch size",
    title_es="Pipelines de datos: Dataset, DataLoader y el tamaño de batch",
    source="Stage 2 · session 6",
    block="stage2",
    dataset="digits (sklearn, 1797 8×8 images, pixel values 0-16)",
    criteria=(
        Criterion("updates_per_epoch_exact", "is", True,
                  "Updates per epoch = ceil(N / batch size) for every batch size (DataLoader "
                  "length and every completed epoch)",
                  "Actualizaciones por época = ceil(N / tamaño de batch) para todos los tamaños "
                  "(longitud del DataLoader y cada época completada)"),
        Criterion("epoch_time_ratio_b1_b256", ">=", 5.0,
                  "An epoch with batch 1 takes ≥ 5× as long as with batch 256",
                  "Una época con batch 1 tarda ≥ 5× lo que tarda con batch 256"),
        Criterion("middle_batch_wins", "is", True,
                  "Same seconds for all: batch 32 or 256 has the lowest validation loss on "
                  "average over the budget (it gets low first)",
                  "Mismos segundos para todos: batch 32 o 256 tiene la menor pérdida de "
                  "validación en promedio sobre el presupuesto (es el primero en bajar)"),
        Criterion("batches_vs_dataloader_loading", ">=", 5.0,
                  "Loading an epoch (batch 32): Batches ≥ 5× faster than the DataLoader over "
                  "the custom Dataset",
                  "Cargar una época (batch 32): Batches ≥ 5× más rápido que el DataLoader sobre "
                  "el Dataset propio"),
        Criterion("batches_vs_dataloader_training", ">=", 1.2,
                  "A whole training epoch (batch 32) is ≥ 1.2× faster with Batches than with "
                  "the DataLoader over the custom Dataset",
                  "Una época de entrenamiento completa (batch 32) es ≥ 1.2× más rápida con "
                  "Batches que con el DataLoader sobre el Dataset propio"),
    ),
    config=Config,
    quick={"seconds": 0.3, "timing_repeats": 2},
    # Everything measured against the clock: how far each run gets in its seconds, and so which
    # batch size wins and the model that is tested, differs from one run to the next.
    timed=("epoch_time_ratio_b1_b256", "middle_batch_wins", "best_batch_size",
           "batches_vs_dataloader_loading", "batches_vs_dataloader_training",
           "test_accuracy_best",
           "val_loss_batch_1", "val_loss_batch_32", "val_loss_batch_256", "val_loss_batch_full",
           "val_loss_avg_batch_1", "val_loss_avg_batch_32", "val_loss_avg_batch_256",
           "val_loss_avg_batch_full",
           "epoch_seconds_batch_1", "epoch_seconds_batch_32", "epoch_seconds_batch_256",
           "epoch_seconds_batch_full",
           "updates_batch_1", "updates_batch_32", "updates_batch_256", "updates_batch_full"),
)

# %% [markdown] lang="en"
# ## 1. A Dataset of our own
# A `torch.utils.data.Dataset` is two methods: `__len__` (how many samples) and
# `__getitem__(i)` (sample `i`), plus, here, an optional transform applied to each sample as
# it is read. A `DataLoader` asks it for one index at a time and stacks the answers into a
# batch. That per-sample protocol is what lets a dataset live on disk or decode images lazily.
# `load()` would already split and scale the digits; here we take the raw pixels
# (`standardize=False`) and redo the split and the scaling by hand. Its test split stays
# untouched until the end.

# %% [markdown] lang="es"
# ## 1. Un Dataset propio
# Un `torch.utils.data.Dataset` son dos métodos: `__len__` (cuántas muestras hay) y
# `__getitem__(i)` (la muestra `i`), más, aquí, una transformación opcional que se aplica a
# cada muestra al leerla. Un `DataLoader` le pide un índice cada vez y apila las respuestas en
# un batch. Ese protocolo por muestra es lo que permite que un dataset viva en disco o
# decodifique imágenes bajo demanda. `load()` ya dividiría y escalaría los dígitos; aquí
# tomamos los píxeles crudos (`standardize=False`) y rehacemos a mano la partición y el
# escalado. Su partición de test queda intacta hasta el final.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split

from dlab.data import Batches, load
from dlab.engine import Trainer, metrics
from dlab.engine.timing import EpochTimer, TimeBudget, time_pass, torch_threads
from dlab.models import MLP
from dlab.viz.compare import curves, grouped_bars

digits = load("digits", standardize=False, seed=ctx.seed)
X = torch.cat([digits.train[0], digits.val[0]])
y = torch.cat([digits.train[1], digits.val[1]])


# %% exercise="build_dataset"
def build_dataset(X, y, transform=None) -> Dataset:
    """[en] Define a subclass of `torch.utils.data.Dataset` and return an instance of it that
    serves the rows of `X` (N, d) with their labels `y` (N,). In `__init__`, keep
    `torch.as_tensor(X, dtype=torch.float32)`, `torch.as_tensor(y)` and `transform` as
    attributes (`self.transform`), and raise a `ValueError` if `X` and `y` have different
    numbers of rows. `__len__` returns N. `__getitem__(i)` returns the pair `(x, y[i])`, where
    `x` is row `i` of `X` passed through `self.transform` when it is not None. Read
    `self.transform` inside `__getitem__`, at every call, so that setting
    `dataset.transform = f` later changes what is served; never modify the stored `X`.

    [es] Define una subclase de `torch.utils.data.Dataset` y devuelve una instancia que sirva
    las filas de `X` (N, d) con sus etiquetas `y` (N,). En `__init__`, guarda
    `torch.as_tensor(X, dtype=torch.float32)`, `torch.as_tensor(y)` y `transform` como
    atributos (`self.transform`), y lanza un `ValueError` si `X` e `y` tienen distinto número
    de filas. `__len__` devuelve N. `__getitem__(i)` devuelve el par `(x, y[i])`, donde `x` es
    la fila `i` de `X` pasada por `self.transform` cuando no es None. Lee `self.transform`
    dentro de `__getitem__`, en cada llamada, para que asignar `dataset.transform = f` más
    tarde cambie lo que se sirve; nunca modifiques el `X` guardado.
    """
    class TabularDataset(Dataset):
        def __init__(self):
            self.X = torch.as_tensor(X, dtype=torch.float32)
            self.y = torch.as_tensor(y)
            if len(self.X) != len(self.y):
                raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")
            self.transform = transform

        def __len__(self):
            return len(self.y)

        def __getitem__(self, index):
            x = self.X[index]
            if self.transform is not None:
                x = self.transform(x)
            return x, self.y[index]

    return TabularDataset()


# %% check
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from dlab.exercises import expect


def _rows(n=10, d=3):
    return torch.arange(n * d, dtype=torch.float32).reshape(n, d), torch.arange(n) % 2


@ctx.check("build_dataset")
def is_a_dataset_with_len_and_getitem():
    X, y = _rows()
    ds = build_dataset(X.numpy().astype(np.float64), y.numpy())
    expect.type(ds, Dataset, "build_dataset(X, y)")
    expect.equal(len(ds), 10, "len(build_dataset(X of 10 rows, y))")
    x3, y3 = ds[3]
    expect.type(x3, torch.Tensor, "build_dataset(X, y)[3][0]")
    expect.equal(x3.dtype, torch.float32, "build_dataset(X, y)[3][0].dtype (X given as float64)")
    expect.close(x3, X[3], "build_dataset(X, y)[3][0]")
    expect.equal(int(y3), 1, "build_dataset(X, y)[3][1]")
    try:
        build_dataset(X, y[:-1])
    except ValueError:
        pass
    else:
        expect.true(False, "build_dataset(X of 10 rows, y of 9) should raise a ValueError.",
                    "build_dataset(X de 10 filas, y de 9) debería lanzar un ValueError.")


@ctx.check("build_dataset")
def applies_the_transform_when_a_sample_is_read():
    X, y = _rows()
    expect.close(build_dataset(X, y, transform=lambda x: x + 1)[3][0], X[3] + 1,
                 "build_dataset(X, y, transform=lambda x: x + 1)[3][0]")
    ds = build_dataset(X, y)
    ds.transform = lambda x: x * 2
    expect.close(ds[3][0], X[3] * 2, "ds[3][0] after ds.transform = lambda x: x * 2 (the "
                 "transform must be read from self.transform at every __getitem__)")
    ds.transform = None
    expect.close(ds[3][0], X[3], "ds[3][0] after ds.transform = None (the stored rows must "
                 "stay as they were given)")


@ctx.check("build_dataset")
def a_dataloader_stacks_its_samples_into_batches():
    X, y = _rows(n=10)
    batches = list(DataLoader(build_dataset(X, y), batch_size=4))
    expect.equal([tuple(xb.shape) for xb, _ in batches], [(4, 3), (4, 3), (2, 3)],
                 "shapes of the batches of DataLoader(build_dataset(X, y), batch_size=4)")
    expect.equal(torch.cat([yb for _, yb in batches]).tolist(), y.tolist(),
                 "labels of DataLoader(build_dataset(X, y), batch_size=4), in order")


# %%
dataset = build_dataset(X, y)
x0, y0 = dataset[0]
ctx.table(["len(dataset)", "dataset[0][0].shape", "dataset[0][1]"],
          [[len(dataset), tuple(x0.shape), int(y0)]])

# %% [markdown] lang="en"
# ## 2. Train/validation split, then a normalization fitted on train only
# `random_split` with a seeded generator picks the validation rows. The normalization,
# x → (x − mean) / std with one mean and one std per pixel, is then fitted on the *training
# rows only*: validation (and later test) rows are scaled with statistics they did not
# contribute to, as new data will be in production. Set as the dataset's transform, it applies
# to both subsets, which read through the same dataset.

# %% [markdown] lang="es"
# ## 2. Partición entrenamiento/validación y una normalización ajustada solo con entrenamiento
# `random_split` con un generador con semilla elige las filas de validación. La
# normalización, x → (x − media) / desviación, con una media y una desviación por píxel, se
# ajusta después *solo con las filas de entrenamiento*: las filas de validación (y luego las de
# test) se escalan con estadísticas a las que no contribuyeron, como ocurrirá con los datos
# nuevos en producción. Puesta como transformación del dataset, se aplica a ambos
# subconjuntos, que leen a través del mismo dataset.

# %% exercise="fit_standardize"
def fit_standardize(X_train: torch.Tensor) -> tuple:
    """[en] Fit a standardization on the rows of `X_train` (N, d): return `(mean, std)`, two
    float tensors of shape (d,), the mean of each column and its standard deviation with the
    population formula (divide by N: `unbiased=False`). A constant column has std 0: set its
    std to 1, so that (x − mean) / std is 0 there instead of NaN. Use only the rows you are
    given (the training rows).

    [es] Ajusta una estandarización con las filas de `X_train` (N, d): devuelve
    `(mean, std)`, dos tensores float de forma (d,), la media de cada columna y su desviación
    típica con la fórmula poblacional (dividir por N: `unbiased=False`). Una columna constante
    tiene desviación 0: pon su desviación a 1, para que (x − media) / desviación valga 0 allí
    en vez de NaN. Usa solo las filas que recibes (las de entrenamiento).
    """
    X_train = torch.as_tensor(X_train, dtype=torch.float32)
    std = X_train.std(dim=0, unbiased=False)
    std[std == 0] = 1.0
    return X_train.mean(dim=0), std


# %% check
import math

import torch

from dlab.exercises import expect


@ctx.check("fit_standardize")
def mean_and_population_std_per_column():
    X = torch.tensor([[1.0, 2.0, 5.0], [3.0, 6.0, 5.0], [5.0, 10.0, 5.0]])
    mean, std = fit_standardize(X)
    expect.shape(mean, (3,), "fit_standardize(X of shape (3, 3))[0]")
    expect.shape(std, (3,), "fit_standardize(X of shape (3, 3))[1]")
    expect.close(mean, [3.0, 6.0, 5.0], "mean from fit_standardize([[1, 2, 5], [3, 6, 5], "
                 "[5, 10, 5]])")
    expect.true(not math.isclose(float(std[0]), 2.0, rel_tol=1e-4),
                "std of the column [1, 3, 5] is 2.0: that is the sample formula (N − 1). Use "
                "the population formula, dividing by N (unbiased=False).",
                "La desviación de la columna [1, 3, 5] da 2.0: es la fórmula muestral (N − 1). "
                "Usa la poblacional, dividiendo por N (unbiased=False).")
    expect.close(std[:2], [math.sqrt(8 / 3), math.sqrt(32 / 3)],
                 "std of the columns [1, 3, 5] and [2, 6, 10] (divide by N)", atol=1e-5)


@ctx.check("fit_standardize")
def a_constant_column_gets_std_one():
    X = torch.tensor([[0.0, 1.0], [0.0, 3.0]])
    mean, std = fit_standardize(X)
    expect.close(std, [1.0, 1.0], "std from fit_standardize([[0, 1], [0, 3]]) (the constant "
                 "column must get 1, not 0)")
    expect.close((X - mean) / std, [[0.0, -1.0], [0.0, 1.0]],
                 "(X − mean) / std for X = [[0, 1], [0, 3]]")


@ctx.check("fit_standardize")
def standardized_rows_have_mean_zero_and_std_one():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(50, 4, generator=g) * torch.tensor([1.0, 5.0, 0.1, 16.0]) + 7.0
    mean, std = fit_standardize(X)
    Z = (X - mean) / std
    expect.close(Z.mean(dim=0), torch.zeros(4), "column means of (X − mean) / std", atol=1e-5)
    expect.close(Z.std(dim=0, unbiased=False), torch.ones(4),
                 "column stds (divide by N) of (X − mean) / std", atol=1e-5)


# %%
n_val = int(round(cfg.val_fraction * len(dataset)))
train_set, val_set = random_split(dataset, [len(dataset) - n_val, n_val],
                                  generator=torch.Generator().manual_seed(ctx.seed))
train_rows, val_rows = list(train_set.indices), list(val_set.indices)
mean, std = fit_standardize(X[train_rows])  # statistics from training rows only


def norm(x):
    return (x - mean) / std


dataset.transform = norm  # both subsets read through the dataset: both get it
X_train, y_train = norm(X[train_rows]), y[train_rows]
X_val, y_val = norm(X[val_rows]), y[val_rows]
n_train = len(train_set)
shown = [0, 10, 20, 27, 36, 45]  # a corner pixel (always 0) and a few ink pixels
ctx.table(ctx.t("pixel|train mean|train std|val mean after|val std after",
                "píxel|media entr.|desv. entr.|media val. después|desv. val. después")
          .split("|"),
          [[p, float(mean[p]), float(X[train_rows, p].std(unbiased=False)),
            float(X_val[:, p].mean()), float(X_val[:, p].std(unbiased=False))]
           for p in shown],
          ctx.t(f"Fitted on the {n_train} training rows", f"Ajustada con las {n_train} filas "
                "de entrenamiento"))

# %% [markdown] lang="en"
# After the transform the training pixels have mean 0 and std 1 exactly; the validation pixels
# only approximately, because their statistics never entered the fit. That small mismatch is
# the honest one: fitting on all rows would leak the validation data into the preprocessing
# and make validation scores optimistic. Pixel 0 is always 0: its std is 0, so it is divided by
# 1 instead of producing NaN.

# %% [markdown] lang="es"
# Tras la transformación los píxeles de entrenamiento tienen media 0 y desviación 1 exactas;
# los de validación solo aproximadas, porque sus estadísticas no entraron en el ajuste. Esa
# pequeña diferencia es la honesta: ajustar con todas las filas filtraría la validación al
# preprocesado y daría puntuaciones optimistas. El píxel 0 vale siempre 0: su desviación es 0,
# así que se divide por 1 en vez de dar NaN.

# %%
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
for ax, values, title in ((axes[0], mean, ctx.t("mean per pixel", "media por píxel")),
                          (axes[1], X[train_rows].std(dim=0, unbiased=False),
                           ctx.t("std per pixel", "desviación por píxel"))):
    im = ax.imshow(values.reshape(8, 8).numpy(), cmap="magma")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, fraction=0.046)
fig.tight_layout()
ctx.figure("normalization_statistics", fig)

# %% [markdown] lang="en"
# What the normalization learned from the training rows, as 8×8 images: the ink sits in the
# middle columns; the border pixels are almost always 0.

# %% [markdown] lang="es"
# Lo que la normalización aprendió de las filas de entrenamiento, como imágenes 8×8: la tinta
# está en las columnas centrales; los píxeles del borde valen casi siempre 0.

# %% [markdown] lang="en"
# ## 3. DataLoader: shuffling mini-batches
# A `DataLoader` with `batch_size=32` asks the dataset for 32 indices and stacks the answers
# into one batch. With `shuffle=True` the order changes every epoch; without it, consecutive
# batches could hold one class only. A seeded generator makes the shuffles reproducible.

# %% [markdown] lang="es"
# ## 3. DataLoader: mini-batches barajados
# Un `DataLoader` con `batch_size=32` pide 32 índices al dataset y apila las respuestas en un
# batch. Con `shuffle=True` el orden cambia en cada época; sin barajar, batches consecutivos
# podrían contener una sola clase. Un generador con semilla hace que las barajadas sean
# reproducibles.

# %% exercise="make_loader"
def make_loader(dataset: Dataset, batch_size: int, seed: int) -> DataLoader:
    """[en] Return a `torch.utils.data.DataLoader` over `dataset` that serves mini-batches of
    `batch_size` samples (the last one may be smaller: do not drop it), in a new random order
    at every epoch, reproducible from `seed`: pass `shuffle=True` and
    `generator=torch.Generator().manual_seed(seed)`.

    [es] Devuelve un `torch.utils.data.DataLoader` sobre `dataset` que sirva mini-batches de
    `batch_size` muestras (el último puede ser más pequeño: no lo descartes), en un orden
    aleatorio nuevo en cada época, reproducible a partir de `seed`: pasa `shuffle=True` y
    `generator=torch.Generator().manual_seed(seed)`.
    """
    return DataLoader(dataset, batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


# %% check
import torch
from torch.utils.data import DataLoader, TensorDataset

from dlab.exercises import expect


def _epoch(loader):
    return torch.cat([xb for xb, _ in loader]).tolist()


@ctx.check("make_loader")
def serves_ceil_n_over_b_batches():
    data = TensorDataset(torch.arange(23.0), torch.arange(23) % 2)
    loader = make_loader(data, 5, seed=0)
    expect.type(loader, DataLoader, "make_loader(dataset, 5, seed=0)")
    expect.equal(len(loader), 5, "len(make_loader(dataset of 23 samples, 5, seed=0))")
    expect.equal([len(xb) for xb, _ in loader], [5, 5, 5, 5, 3],
                 "batch sizes of make_loader(dataset of 23 samples, 5, seed=0)")


@ctx.check("make_loader")
def shuffles_every_epoch_and_serves_each_sample_once():
    data = TensorDataset(torch.arange(23.0), torch.arange(23) % 2)
    loader = make_loader(data, 5, seed=0)
    first, second = _epoch(loader), _epoch(loader)
    expect.equal(sorted(first), list(range(23)), "sorted samples of one epoch")
    expect.true(first != list(range(23)),
                "make_loader serves the samples in their original order: pass shuffle=True.",
                "make_loader sirve las muestras en su orden original: pasa shuffle=True.")
    expect.true(first != second,
                "Two epochs of make_loader came in the same order: the order must change "
                "every epoch (shuffle=True with one generator, created once).",
                "Dos épocas de make_loader salieron en el mismo orden: el orden debe cambiar en "
                "cada época (shuffle=True con un generador, creado una sola vez).")


@ctx.check("make_loader")
def the_same_seed_gives_the_same_order():
    data = TensorDataset(torch.arange(23.0), torch.arange(23) % 2)
    a, b = _epoch(make_loader(data, 5, seed=0)), _epoch(make_loader(data, 5, seed=0))
    expect.equal(a, b, "first epoch of a second make_loader(dataset, 5, seed=0)")
    expect.true(a != _epoch(make_loader(data, 5, seed=1)),
                "make_loader(..., seed=0) and make_loader(..., seed=1) give the same order: "
                "seed the generator with `seed`.",
                "make_loader(..., seed=0) y make_loader(..., seed=1) dan el mismo orden: usa "
                "`seed` como semilla del generador.")


# %%
loader = make_loader(train_set, 32, ctx.seed)
first = [next(iter(loader))[1][:8].tolist() for _ in range(2)]
xb, _ = next(iter(loader))
ctx.table([ctx.t("batch shape", "forma de un batch"),
           ctx.t("first labels, epoch 1", "primeras etiquetas, época 1"),
           ctx.t("first labels, epoch 2", "primeras etiquetas, época 2")],
          [[tuple(xb.shape), first[0], first[1]]])

# %% [markdown] lang="en"
# ## 4. Same model, same seconds, four batch sizes
# A fresh MLP, with the same initial weights each time, is trained for `cfg.seconds` seconds
# with batch sizes 1, 32, 256 and the whole training set. A `TimeBudget` stops each run when
# its seconds are spent, even in the middle of an epoch, and measures the validation loss
# along the way without charging that time. Runs are compared by their mean validation loss
# over the budget (the area under loss-vs-seconds divided by the seconds): it rewards getting
# low early, which the final value alone cannot show when every run ends near the same floor.
# Every timing in this lab runs on one thread: for a model this small, splitting each matrix
# product across threads costs more than it saves, and on a busy machine a thread waiting for a
# free core turns the comparison into noise.

# %% [markdown] lang="es"
# ## 4. Mismo modelo, mismos segundos, cuatro tamaños de batch
# Un MLP nuevo, con los mismos pesos iniciales cada vez, se entrena `cfg.seconds` segundos con
# batches de 1, 32, 256 y el conjunto de entrenamiento entero. Un `TimeBudget` detiene cada
# ejecución cuando se gastan sus segundos, incluso a mitad de una época, y mide la pérdida de
# validación por el camino sin cobrar ese tiempo. Las ejecuciones se comparan por su pérdida de
# validación media durante el presupuesto (el área bajo la pérdida frente a los segundos,
# dividida por los segundos): premia bajar pronto, algo que el valor final no muestra cuando
# todas terminan cerca del mismo suelo. Todas las mediciones de tiempo de este laboratorio usan
# un solo hilo: para un modelo tan pequeño, repartir cada producto de matrices entre hilos
# cuesta más de lo que ahorra, y en una máquina ocupada un hilo que espera un núcleo libre
# convierte la comparación en ruido.

# %%
def time_average(trace):
    """Mean validation loss over the budget: area under loss-vs-seconds (trapezoids) divided
    by the seconds."""
    seconds, _, losses = zip(*trace)
    area = sum((t1 - t0) * (l0 + l1) / 2 for t0, t1, l0, l1 in
               zip(seconds, seconds[1:], losses, losses[1:]))
    return area / seconds[-1]


def budget_run(size):
    """A fresh model trained for cfg.seconds with one batch size; what it achieved."""
    batch = size or n_train  # 0 means "the whole training set"
    torch.manual_seed(ctx.seed)  # the same initial weights for every batch size
    model = MLP(X.shape[1], cfg.hidden, digits.num_classes)
    budget = TimeBudget(cfg.seconds, probe=lambda t: t.evaluate((X_val, y_val))["loss"],
                        every=cfg.seconds / 40)
    # No progress bar and no per-epoch doctor scan: both would be charged to the budget,
    # and more often for large batches, which finish more epochs per second.
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr),
                      callbacks=[budget], progress=False, doctor=False,
                      **ctx.trainer_options())
    loader = make_loader(train_set, batch, ctx.seed)
    trainer.fit(budget.wrap(loader), epochs=10**9)  # the budget stops it
    epochs = budget.updates / len(loader)
    return {"batch": batch, "trainer": trainer,
            "label": str(size) if size else ctx.t(f"full ({batch})", f"completo ({batch})"),
            "per_epoch": len(loader), "expected": math.ceil(n_train / batch),
            "passes": budget.full_passes, "updates": budget.updates, "epochs": epochs,
            "epoch_seconds": budget.spent / epochs if epochs else math.inf,
            "val_loss": budget.trace[-1][2], "trace": budget.trace,
            "val_loss_avg": time_average(budget.trace)}


with torch_threads(1):
    results = [budget_run(size) for size in cfg.batch_sizes]
best = min(results, key=lambda r: r["val_loss_avg"])
ctx.table(ctx.t("batch|updates/epoch|s/epoch|epochs|updates|val loss (end)|"
                "val loss (average)",
                "batch|actualiz./época|s/época|épocas|actualizaciones|pérdida val. (final)|"
                "pérdida val. (promedio)").split("|"),
          [[r["label"], r["per_epoch"], r["epoch_seconds"], r["epochs"], r["updates"],
            r["val_loss"], r["val_loss_avg"]] for r in results],
          ctx.t(f"{cfg.seconds:g} s per batch size (one thread); lowest average: batch "
                f"{best['label']}",
                f"{cfg.seconds:g} s por tamaño de batch (un hilo); menor promedio: batch "
                f"{best['label']}"))

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
panels = (("updates", ctx.t("updates (optimizer steps)",
                            "actualizaciones (pasos del optimizador)"),
           ctx.t("per update: large batches win", "por actualización: ganan los grandes")),
          ("epochs", ctx.t("epochs (samples seen / N)", "épocas (muestras vistas / N)"),
           ctx.t("per epoch: small batches win", "por época: ganan los pequeños")),
          ("seconds", ctx.t("training seconds", "segundos de entrenamiento"),
           ctx.t("per second: what you actually pay", "por segundo: lo que de verdad pagas")))
for ax, (clock, xlabel, title) in zip(axes, panels):
    series = {}
    for r in results:
        seconds, updates, losses = zip(*r["trace"])
        x = {"updates": updates, "epochs": [u / r["per_epoch"] for u in updates],
             "seconds": seconds}[clock]
        series[f"batch {r['label']}"] = (list(x), list(losses))
    curves(ax, series, title=title, xlabel=xlabel,
           ylabel=ctx.t("validation loss", "pérdida de validación"))
    if clock != "seconds":  # updates and epochs span three orders of magnitude
        ax.set_xscale("symlog", linthresh=1)
fig.tight_layout()
ctx.figure("batch_size_tradeoff", fig)

# %% [markdown] lang="en"
# The validation loss of the four runs against three clocks: updates, epochs and seconds. An
# update costs a fixed overhead (Python, kernel launches, the optimizer step) plus work
# proportional to the batch. With batch 1 the overhead dominates: an epoch is over a thousand
# updates and the slowest by far, and each gradient, from one sample, is noisy. With the full
# batch each gradient is exact but an epoch is a single update, so progress per second is slow
# too. In between, a batch of tens to hundreds of samples amortizes the overhead while still
# taking many steps per epoch, and gets low first (the winner is in the table's title). Given
# more time the others catch up (compare the final losses in the table): the batch size mostly
# decides how fast you get there. The exact winner depends on the machine and on the learning
# rate (the same for all four here); the shape of the trade-off does not.

# %% [markdown] lang="es"
# La pérdida de validación de las cuatro ejecuciones frente a tres relojes: actualizaciones,
# épocas y segundos. Cada actualización cuesta un gasto fijo (Python, lanzar operaciones, el
# paso del optimizador) más un trabajo proporcional al batch. Con batch 1 domina el gasto fijo:
# una época son más de mil actualizaciones, la más lenta con diferencia, y cada gradiente, de
# una sola muestra, es ruidoso. Con el batch completo cada gradiente es exacto pero una época es
# una sola actualización, así que el avance por segundo también es lento. En medio, un batch de
# decenas a cientos de muestras reparte el gasto fijo, aún da muchos pasos por época y es el
# primero en bajar (el ganador está en el título de la tabla). Con más tiempo los demás lo
# alcanzan (compara las pérdidas finales en la tabla): el tamaño de batch decide sobre todo lo
# rápido que se llega. El ganador exacto depende de la máquina y de la tasa de aprendizaje (la
# misma para los cuatro); la forma del compromiso no.

# %% [markdown] lang="en"
# ## 5. DataLoader vs dlab's in-memory `Batches`, batch 32
# Three ways to serve the same normalized rows: per sample through our Dataset (the transform
# runs on every read), per sample from tensors normalized once (`TensorDataset`), and
# whole-batch slicing (`Batches`). Each is timed loading an epoch alone and training an epoch,
# round robin, best of several epochs: a moment when the machine is busy slows whichever
# pipeline is running, so each one gets many chances at a quiet moment.

# %% [markdown] lang="es"
# ## 5. DataLoader frente a `Batches` de dlab (en memoria), batch 32
# Tres maneras de servir las mismas filas normalizadas: por muestra a través de nuestro
# Dataset (la transformación corre en cada lectura), por muestra desde tensores normalizados
# una sola vez (`TensorDataset`) y cortando batches enteros (`Batches`). Cada una se cronometra
# cargando una época sola y entrenando una época, por turnos, y se queda con la mejor de varias
# épocas: un momento en que la máquina está ocupada ralentiza al pipeline que esté corriendo,
# así que cada uno tiene muchas oportunidades de dar con un momento tranquilo.

# %%
pipelines = {
    ctx.t("DataLoader(our Dataset)", "DataLoader(nuestro Dataset)"):
        DataLoader(train_set, batch_size=32, shuffle=True),
    "DataLoader(TensorDataset)": DataLoader(TensorDataset(X_train, y_train), batch_size=32,
                                            shuffle=True),
    "Batches": Batches(X_train, y_train, batch_size=32, seed=ctx.seed),
}
trainers, timers = {}, {}
for name in pipelines:
    torch.manual_seed(ctx.seed)
    model = MLP(X.shape[1], cfg.hidden, digits.num_classes)
    timers[name] = EpochTimer()
    trainers[name] = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr),
                             callbacks=[timers[name]], progress=False, doctor=False,
                             **ctx.trainer_options())
loading = dict.fromkeys(pipelines, math.inf)
training = dict.fromkeys(pipelines, math.inf)
with torch_threads(1):
    for _ in range(cfg.timing_repeats):
        for name, batches in pipelines.items():
            loading[name] = min(loading[name], time_pass(batches, repeats=1))
            trainers[name].fit(batches, epochs=1, seed=ctx.seed)
            training[name] = min(training[name], timers[name].seconds[-1])
names = list(pipelines)
loader_ratio = loading[names[0]] / loading["Batches"]
train_ratio = training[names[0]] / training["Batches"]
ctx.table(ctx.t("pipeline|load an epoch (ms)|train an epoch (ms)",
                "pipeline|cargar una época (ms)|entrenar una época (ms)").split("|"),
          [[n, 1000 * loading[n], 1000 * training[n]] for n in names]
          + [[ctx.t("Batches speed-up over our Dataset", "ventaja de Batches sobre nuestro "
                    "Dataset"), f"{loader_ratio:.1f}×", f"{train_ratio:.2f}×"]],
          ctx.t("Batch 32, best of several epochs (one thread)",
                "Batch 32, mejor de varias épocas (un hilo)"))
fig, ax = plt.subplots(figsize=(8, 3.8))
grouped_bars(ax, names, {ctx.t("load only", "solo cargar"): [1000 * loading[n] for n in names],
                         ctx.t("load + train", "cargar + entrenar"):
                         [1000 * training[n] for n in names]},
             ylabel=ctx.t("ms per epoch", "ms por época"), fmt="{:.1f}",
             title=ctx.t("One epoch at batch 32", "Una época con batch 32"))
ctx.figure("loader_timing", fig)

# %% [markdown] lang="en"
# Loading alone, `Batches` is many times faster than the DataLoader over our Dataset: the
# DataLoader calls `__getitem__` once per sample (here with the normalization inside) and then
# stacks the samples, while `Batches` slices a whole batch out of tensors that were normalized
# once. Over a whole training epoch the gain is smaller, because the model's own compute is the
# same in all three. Per-sample Datasets are the right tool when data does not fit in memory or
# needs per-sample work (reading files, augmentation, with `num_workers` to do it in parallel);
# for a table already in memory, slicing tensors is simpler and faster.

# %% [markdown] lang="es"
# Solo cargando, `Batches` es muchas veces más rápido que el DataLoader sobre nuestro Dataset:
# el DataLoader llama a `__getitem__` una vez por muestra (aquí con la normalización dentro) y
# luego apila las muestras, mientras que `Batches` corta un batch entero de tensores
# normalizados una sola vez. En una época de entrenamiento completa la ganancia es menor,
# porque el cálculo del modelo es el mismo en los tres. Los Dataset por muestra son la
# herramienta adecuada cuando los datos no caben en memoria o requieren trabajo por muestra
# (leer archivos, aumentación de datos, con `num_workers` para hacerlo en paralelo); para una
# tabla que ya está en memoria, cortar tensores es más simple y más rápido.

# %% [markdown] lang="en"
# ## 6. The test split, once
# The model of the winning batch size, on the test images normalized with the training
# statistics.

# %% [markdown] lang="es"
# ## 6. La partición de test, una sola vez
# El modelo del tamaño de batch ganador, sobre las imágenes de test normalizadas con las
# estadísticas de entrenamiento.

# %%
X_test, y_test = norm(digits.test[0]), digits.test[1]
test_acc = metrics.accuracy(best["trainer"].predict(X_test), y_test)
ctx.table([ctx.t("model", "modelo"), ctx.t("test accuracy", "exactitud en test")],
          [[f"batch {best['label']}", test_acc]])

# %%
exact = all(r["per_epoch"] == r["expected"] and all(p == r["expected"] for p in r["passes"])
            for r in results)
by_batch = {r["batch"]: r for r in results}
per_batch = {}
if 1 in by_batch and 256 in by_batch:
    per_batch["epoch_time_ratio_b1_b256"] = (by_batch[1]["epoch_seconds"]
                                             / by_batch[256]["epoch_seconds"])
for r in results:
    key = "full" if r["batch"] == n_train else str(r["batch"])
    per_batch[f"val_loss_batch_{key}"] = r["val_loss"]
    per_batch[f"val_loss_avg_batch_{key}"] = r["val_loss_avg"]
    per_batch[f"epoch_seconds_batch_{key}"] = r["epoch_seconds"]
    per_batch[f"updates_batch_{key}"] = r["updates"]

# %%
ctx.finish({
    "train_size": n_train,
    "val_size": n_val,
    "updates_per_epoch_exact": exact,
    "best_batch_size": best["batch"],
    "middle_batch_wins": best["batch"] in (32, 256),
    "batches_vs_dataloader_loading": loader_ratio,
    "batches_vs_dataloader_training": train_ratio,
    "test_accuracy_best": test_acc,
    **per_batch,
})
