"""data-pipeline — Dataset, DataLoader, normalization, and what the batch size really costs.

Course: Stage 2, session 6. A hand-written ``torch.utils.data.Dataset`` serves the 8×8 digits
one sample at a time; ``random_split`` makes train/validation; a normalization is fitted on
the training rows only; a shuffling ``DataLoader`` makes the mini-batches. Then the same model
is trained with batch sizes 1, 32, 256 and the full training set, each for the same number of
seconds, and the in-memory ``dlab.data.Batches`` is timed against the ``DataLoader``.
"""
from __future__ import annotations

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
    dataset="digits (sklearn, 1797 8×8 images, pixel values 0-16)",
    summary_en="A custom Dataset, a seeded train/validation split, a normalization fitted on "
               "training rows only and a shuffling DataLoader. The same MLP is then trained with "
               "batch sizes 1, 32, 256 and full batch for the same wall-clock time: small "
               "batches give many noisy, slow-per-sample updates, the full batch few exact "
               "ones; the middle wins. Last, dlab's in-memory Batches against the DataLoader.",
    summary_es="Un Dataset propio, una partición entrenamiento/validación con semilla, una "
               "normalización ajustada solo con filas de entrenamiento y un DataLoader que "
               "baraja. Después, el mismo MLP se entrena con batches de 1, 32, 256 y el conjunto "
               "completo durante el mismo tiempo de reloj: los batches pequeños dan muchas "
               "actualizaciones ruidosas y lentas por muestra, el batch completo pocas y "
               "exactas; gana el término medio. Al final, Batches de dlab (en memoria) frente "
               "al DataLoader.",
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
)


def run(ctx, cfg: Config) -> dict:
    import math

    import matplotlib.pyplot as plt
    import torch
    from torch.utils.data import DataLoader, TensorDataset, random_split

    from dlab.data import Batches, load
    from dlab.data.custom import Standardize, TabularDataset
    from dlab.engine import Trainer, metrics
    from dlab.engine.timing import EpochTimer, TimeBudget, time_pass, torch_threads
    from dlab.models import MLP
    from dlab.viz.compare import curves, grouped_bars

    # --- 1. A Dataset of our own -----------------------------------------------------------
    # load() already splits and scales; here we take the raw pixels (standardize=False) and
    # redo the split and the scaling by hand. Its test split stays untouched until the end.
    digits = load("digits", standardize=False, seed=ctx.seed)
    X = torch.cat([digits.train[0], digits.val[0]])
    y = torch.cat([digits.train[1], digits.val[1]])
    dataset = TabularDataset(X, y)
    x0, y0 = dataset[0]
    ctx.say(f"`TabularDataset` is a `torch.utils.data.Dataset`: `len(dataset)` = {len(dataset)} "
            f"and `dataset[0]` = (a tensor of shape {tuple(x0.shape)}, label {int(y0)}). That "
            "is the whole protocol: `__len__` and `__getitem__`, plus an optional transform "
            "applied to each sample as it is read.",
            f"`TabularDataset` es un `torch.utils.data.Dataset`: `len(dataset)` = {len(dataset)} "
            f"y `dataset[0]` = (un tensor de forma {tuple(x0.shape)}, etiqueta {int(y0)}). Ese "
            "es todo el protocolo: `__len__` y `__getitem__`, más una transformación opcional "
            "que se aplica a cada muestra al leerla.")

    # --- 2. Train/validation split, then a normalization fitted on train only -----------------
    n_val = int(round(cfg.val_fraction * len(dataset)))
    train_set, val_set = random_split(dataset, [len(dataset) - n_val, n_val],
                                      generator=torch.Generator().manual_seed(ctx.seed))
    train_rows, val_rows = list(train_set.indices), list(val_set.indices)
    norm = Standardize.fit(X[train_rows])  # statistics from training rows only
    dataset.transform = norm  # both subsets read through the dataset: both get it
    X_train, y_train = norm(X[train_rows]), y[train_rows]
    X_val, y_val = norm(X[val_rows]), y[val_rows]
    n_train = len(train_set)
    shown = [0, 10, 20, 27, 36, 45]  # a corner pixel (always 0) and a few ink pixels
    ctx.table(ctx.t("pixel|train mean|train std|val mean after|val std after",
                    "píxel|media entr.|desv. entr.|media val. después|desv. val. después")
              .split("|"),
              [[p, float(norm.mean[p]), float(X[train_rows, p].std(unbiased=False)),
                float(X_val[:, p].mean()), float(X_val[:, p].std(unbiased=False))]
               for p in shown],
              f"Normalization statistics, fitted on the {n_train} training rows only",
              f"Estadísticas de normalización, ajustadas solo con las {n_train} filas de "
              "entrenamiento")
    ctx.say("After the transform the training pixels have mean 0 and std 1 exactly; the "
            "validation pixels only approximately, because their statistics never entered the "
            "fit. That small mismatch is the honest one: fitting on all rows would leak the "
            "validation data into the preprocessing and make validation scores optimistic. "
            "Pixel 0 is always 0: its std is 0, so it is divided by 1 instead of producing NaN.",
            "Tras la transformación los píxeles de entrenamiento tienen media 0 y desviación 1 "
            "exactas; los de validación solo aproximadas, porque sus estadísticas no entraron "
            "en el ajuste. Esa pequeña diferencia es la honesta: ajustar con todas las filas "
            "filtraría la validación al preprocesado y daría puntuaciones optimistas. El píxel 0 "
            "vale siempre 0: su desviación es 0, así que se divide por 1 en vez de dar NaN.")
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
    for ax, values, title in ((axes[0], norm.mean, ctx.t("mean per pixel", "media por píxel")),
                              (axes[1], X[train_rows].std(dim=0, unbiased=False),
                               ctx.t("std per pixel", "desviación por píxel"))):
        im = ax.imshow(values.reshape(8, 8).numpy(), cmap="magma")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    ctx.figure("normalization_statistics", fig,
               "What the normalization learned from the training rows, as 8×8 images.",
               "Lo que la normalización aprendió de las filas de entrenamiento, como imágenes "
               "8×8.")

    # --- 3. DataLoader: shuffling mini-batches -------------------------------------------------
    loader = DataLoader(train_set, batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(ctx.seed))
    first = [next(iter(loader))[1][:8].tolist() for _ in range(2)]
    xb, _ = next(iter(loader))
    ctx.say(f"A `DataLoader` with `batch_size=32` asks the dataset for 32 indices and stacks the "
            f"answers: a batch is a tensor of shape {tuple(xb.shape)}. With `shuffle=True` the "
            f"order changes every epoch: the first labels of two epochs were {first[0]} and "
            f"{first[1]}. Without shuffling, consecutive batches could hold one class only.",
            f"Un `DataLoader` con `batch_size=32` pide 32 índices al dataset y apila las "
            f"respuestas: un batch es un tensor de forma {tuple(xb.shape)}. Con `shuffle=True` "
            f"el orden cambia en cada época: las primeras etiquetas de dos épocas fueron "
            f"{first[0]} y {first[1]}. Sin barajar, batches consecutivos podrían contener una "
            "sola clase.")

    # --- 4. Same model, same seconds, four batch sizes -----------------------------------------
    def time_average(trace):
        """Mean validation loss over the budget (area under loss-vs-seconds, by trapezoids,
        divided by the seconds): it rewards getting low early, which the final value alone
        cannot show when every run ends near the same floor."""
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
        loader = DataLoader(train_set, batch_size=batch, shuffle=True,
                            generator=torch.Generator().manual_seed(ctx.seed))
        trainer.fit(budget.wrap(loader), epochs=10**9)  # the budget stops it
        epochs = budget.updates / len(loader)
        return {"batch": batch, "trainer": trainer,
                "label": str(size) if size else ctx.t(f"full ({batch})", f"completo ({batch})"),
                "per_epoch": len(loader), "expected": math.ceil(n_train / batch),
                "passes": budget.full_passes, "updates": budget.updates, "epochs": epochs,
                "epoch_seconds": budget.spent / epochs if epochs else math.inf,
                "val_loss": budget.trace[-1][2], "trace": budget.trace,
                "val_loss_avg": time_average(budget.trace)}

    # Every timing in this lab runs on one thread: for a model this small, splitting each
    # matrix product across threads costs more than it saves, and on a busy machine a thread
    # waiting for a free core turns the comparison into noise.
    with torch_threads(1):
        results = [budget_run(size) for size in cfg.batch_sizes]
    ctx.table(ctx.t("batch|updates/epoch|s/epoch|epochs|updates|val loss (end)|"
                    "val loss (average)",
                    "batch|actualiz./época|s/época|épocas|actualizaciones|pérdida val. (final)|"
                    "pérdida val. (promedio)").split("|"),
              [[r["label"], r["per_epoch"], r["epoch_seconds"], r["epochs"], r["updates"],
                r["val_loss"], r["val_loss_avg"]] for r in results],
              f"The same MLP trained for {cfg.seconds:g} s with each batch size (one thread)",
              f"El mismo MLP entrenado {cfg.seconds:g} s con cada tamaño de batch (un hilo)")
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
    ctx.figure("batch_size_tradeoff", fig,
               "Validation loss of the four runs against three clocks: updates, epochs and "
               "seconds.",
               "Pérdida de validación de las cuatro ejecuciones frente a tres relojes: "
               "actualizaciones, épocas y segundos.")
    best = min(results, key=lambda r: r["val_loss_avg"])
    ctx.say("The trade-off. An update costs a fixed overhead (Python, kernel launches, the "
            "optimizer step) plus work proportional to the batch. With batch 1 the overhead "
            "dominates: an epoch is thousands of updates and the slowest by far, and each "
            "gradient, from one sample, is noisy. With the full batch each gradient is exact but "
            "an epoch is a single update, so progress per second is slow too. In between, a "
            "batch of tens to hundreds of samples amortizes the overhead while still taking many "
            f"steps per epoch. Here batch {best['label']} had the lowest validation loss on "
            f"average over the {cfg.seconds:g} s: it got low first. Given more time the others "
            "catch up (compare the final losses in the table): the batch size mostly decides "
            "how fast you get there. The exact winner depends on the machine and on the "
            "learning rate (the same for all four here); the shape of the trade-off does not.",
            "El compromiso. Cada actualización cuesta un gasto fijo (Python, lanzar operaciones, "
            "el paso del optimizador) más un trabajo proporcional al batch. Con batch 1 domina "
            "el gasto fijo: una época son miles de actualizaciones, la más lenta con diferencia, "
            "y cada gradiente, de una sola muestra, es ruidoso. Con el batch completo cada "
            "gradiente es exacto pero una época es una sola actualización, así que el avance "
            "por segundo también es lento. En medio, un batch de decenas a cientos de muestras "
            "reparte el gasto fijo y aún da muchos pasos por época. Aquí el batch "
            f"{best['label']} tuvo la menor pérdida de validación en promedio durante los "
            f"{cfg.seconds:g} s: fue el primero en bajar. Con más tiempo los demás lo alcanzan "
            "(compara las pérdidas finales en la tabla): el tamaño de batch decide sobre todo "
            "lo rápido que se llega. El ganador exacto depende de la máquina y de la tasa de "
            "aprendizaje (la misma para los cuatro); la forma del compromiso no.")

    # --- 5. DataLoader vs dlab's in-memory Batches, batch 32 ------------------------------------
    # Three ways to serve the same normalized rows: per sample through our Dataset (transform
    # on every read), per sample from tensors normalized once, and whole-batch slicing.
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
        # Round robin, best of several epochs: a moment when the machine is busy slows
        # whichever pipeline is running, so each one gets many chances at a quiet moment.
        for _ in range(cfg.timing_repeats):
            for name, batches in pipelines.items():
                loading[name] = min(loading[name], time_pass(batches, repeats=1))
                trainers[name].fit(batches, epochs=1, seed=ctx.seed)
                training[name] = min(training[name], timers[name].seconds[-1])
    names = list(pipelines)
    ctx.table(ctx.t("pipeline|load an epoch (ms)|train an epoch (ms)",
                    "pipeline|cargar una época (ms)|entrenar una época (ms)").split("|"),
              [[n, 1000 * loading[n], 1000 * training[n]] for n in names],
              "Batch 32, best of several epochs (one thread)",
              "Batch 32, mejor de varias épocas (un hilo)")
    fig, ax = plt.subplots(figsize=(8, 3.8))
    grouped_bars(ax, names, {ctx.t("load only", "solo cargar"): [1000 * loading[n] for n in names],
                             ctx.t("load + train", "cargar + entrenar"):
                             [1000 * training[n] for n in names]},
                 ylabel=ctx.t("ms per epoch", "ms por época"), fmt="{:.1f}",
                 title=ctx.t("One epoch at batch 32", "Una época con batch 32"))
    ctx.figure("loader_timing", fig,
               "Time per epoch of three pipelines that serve the same rows.",
               "Tiempo por época de tres pipelines que sirven las mismas filas.")
    loader_ratio = loading[names[0]] / loading["Batches"]
    train_ratio = training[names[0]] / training["Batches"]
    ctx.say(f"Loading alone, `Batches` is {loader_ratio:.0f}× faster than the DataLoader over our "
            "Dataset: the DataLoader calls `__getitem__` once per sample (here with the "
            "normalization inside) and then stacks the samples, while `Batches` slices a whole "
            "batch out of tensors that were normalized once. Over a whole training epoch the "
            f"gain is {train_ratio:.1f}×, smaller because the model's own compute is the same "
            "in all three. Per-sample Datasets are the right tool when data does not fit in "
            "memory or needs per-sample work (reading files, augmentation, with `num_workers` "
            "to do it in parallel); for a table already in memory, slicing tensors is simpler "
            "and faster.",
            f"Solo cargando, `Batches` es {loader_ratio:.0f}× más rápido que el DataLoader sobre "
            "nuestro Dataset: el DataLoader llama a `__getitem__` una vez por muestra (aquí con "
            "la normalización dentro) y luego apila las muestras, mientras que `Batches` corta "
            "un batch entero de tensores normalizados una sola vez. En una época de "
            f"entrenamiento completa la ganancia es {train_ratio:.1f}×, menor porque el cálculo "
            "del modelo es el mismo en los tres. Los Dataset por muestra son la herramienta "
            "adecuada cuando los datos no caben en memoria o requieren trabajo por muestra "
            "(leer archivos, aumentación de datos, con `num_workers` para hacerlo en paralelo); "
            "para una tabla que ya está en memoria, cortar tensores es más simple y más rápido.")

    # --- 6. The test split, once: the winning run --------------------------------------------
    X_test, y_test = norm(digits.test[0]), digits.test[1]
    test_acc = metrics.accuracy(best["trainer"].predict(X_test), y_test)
    ctx.say(f"Test accuracy of the batch-{best['label']} model, normalized with the training "
            f"statistics: {test_acc:.3f}.",
            f"Exactitud en test del modelo con batch {best['label']}, normalizado con las "
            f"estadísticas de entrenamiento: {test_acc:.3f}.")

    by_batch = {r["batch"]: r for r in results}
    exact = all(r["per_epoch"] == r["expected"] and all(p == r["expected"] for p in r["passes"])
                for r in results)
    out = {
        "train_size": n_train,
        "val_size": n_val,
        "updates_per_epoch_exact": exact,
        "best_batch_size": best["batch"],
        "middle_batch_wins": best["batch"] in (32, 256),
        "batches_vs_dataloader_loading": loader_ratio,
        "batches_vs_dataloader_training": train_ratio,
        "test_accuracy_best": test_acc,
    }
    if 1 in by_batch and 256 in by_batch:
        out["epoch_time_ratio_b1_b256"] = (by_batch[1]["epoch_seconds"]
                                           / by_batch[256]["epoch_seconds"])
    for r in results:
        key = "full" if r["batch"] == n_train else str(r["batch"])
        out[f"val_loss_batch_{key}"] = r["val_loss"]
        out[f"val_loss_avg_batch_{key}"] = r["val_loss_avg"]
        out[f"epoch_seconds_batch_{key}"] = r["epoch_seconds"]
        out[f"updates_batch_{key}"] = r["updates"]
    return out
