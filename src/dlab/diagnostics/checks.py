"""The doctor's checks that run once, before the first step.

Each check is a plain function ``check(probe) -> Diagnosis | None``. It reads only the
``Probe``: the first batch, the model's output on it, what kind of loss is used and, when the
data lives in memory, the whole training set. A check that does not apply (unknown loss,
non-tensor batch, forward pass that failed) returns ``None``: the doctor never blocks a setup it
does not understand. The one exception is ``check_input_width``, which reads why the forward
pass failed, and only speaks when the first layer's input size is the whole story.

Every diagnosis is written in English and Spanish, with the same numbers, shapes and code in
both; the doctor shows the one of the trainer's ``lang``.
"""
from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlab.data.batches import Batches
from dlab.engine.callbacks import LRScheduler


@dataclass
class Diagnosis:
    """One paragraph: what is wrong (with numbers), why, and the fix in code, in both languages
    (same numbers, shapes and code snippets)."""
    en: str
    es: str
    fatal: bool = False  # True: TrainingError before training; False: trainer.warn

    def text(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


@dataclass
class LossInfo:
    kind: str  # "cross_entropy", "nll", "bce_logits", "bce" or "regression"
    name: str  # as the student wrote it: "CrossEntropyLoss", "F.cross_entropy"...
    ignore_index: int = -100


@dataclass
class LayerCall:
    """The first layer with its own parameters that the probe forward pass entered, and the
    shape of what it received. ``finished`` stays False if the forward pass failed inside it."""
    name: str
    module: nn.Module
    input_shape: tuple[int, ...] | None  # None: its first argument was not a tensor
    finished: bool = False


@dataclass
class Probe:
    """What the doctor learned before the first step; the checks read only this."""
    trainer: Any
    x: torch.Tensor | None  # inputs of the first batch
    y: torch.Tensor | None  # targets of the first batch
    out: torch.Tensor | None  # model(x) in eval mode, float; None if the forward pass failed
    loss: LossInfo | None  # None: a loss function the doctor does not know
    data: Any = None  # the trainer's training batches (Batches, DataLoader...) if known
    # last op that produced the output, from its autograd node: "Softmax", "Sigmoid", "Addmm"...
    final_op: str | None = None
    # per BatchNorm layer: how many values one sample gives per channel (1 for (N, C) inputs)
    bn_values: dict[str, int] = field(default_factory=dict)
    # when the forward pass failed: the first line of its error, and the first layer it entered
    forward_error: str | None = None
    first_layer: LayerCall | None = None

    @property
    def model(self) -> nn.Module:
        return self.trainer.model


# ---------------------------------------------------------------- helpers

_LOSS_KINDS = [
    ("cross_entropy", (nn.CrossEntropyLoss,), (F.cross_entropy,)),
    ("nll", (nn.NLLLoss,), (F.nll_loss,)),
    ("bce_logits", (nn.BCEWithLogitsLoss,), (F.binary_cross_entropy_with_logits,)),
    ("bce", (nn.BCELoss,), (F.binary_cross_entropy,)),
    ("regression", (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss),
     (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss)),
]


def describe_loss(loss_fn: Callable) -> LossInfo | None:
    """Recognise torch's standard losses (module, function or functools.partial of one)."""
    fn, kwargs = loss_fn, {}
    if isinstance(fn, functools.partial):
        fn, kwargs = fn.func, fn.keywords
    for kind, modules, functions in _LOSS_KINDS:
        if isinstance(fn, modules):
            return LossInfo(kind, type(fn).__name__, getattr(fn, "ignore_index", -100))
        if any(fn is f for f in functions):
            return LossInfo(kind, f"F.{fn.__name__}", kwargs.get("ignore_index", -100))
    return None


def dataset_tensors(data) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(X, y)`` of the whole training set when it is in memory; else None."""
    if isinstance(data, Batches) and len(data.tensors) >= 2:
        return data.tensors[0], data.tensors[1]
    dataset = getattr(data, "dataset", None) if isinstance(data, DataLoader) else None
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) >= 2:
        return dataset.tensors[0], dataset.tensors[1]
    return None


def batch_plan(data) -> tuple[int, int, bool] | None:
    """``(num_samples, batch_size, drop_last)`` of the training batches, when known."""
    if isinstance(data, Batches):
        return data.num_samples, data.batch_size, data.drop_last
    if isinstance(data, DataLoader) and data.batch_size is not None:
        try:
            return len(data.dataset), data.batch_size, data.drop_last
        except TypeError:  # an iterable dataset has no length
            return None
    return None


def shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _last_leaf(model: nn.Module) -> nn.Module | None:
    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    return leaves[-1] if leaves else None


def _has_tensors(p: Probe) -> bool:
    return isinstance(p.x, torch.Tensor) and isinstance(p.y, torch.Tensor)


# ---------------------------------------------------------------- checks


_WHERE = {"training set": "el conjunto de entrenamiento", "first batch": "el primer lote"}


def check_schedulers(p: Probe) -> Diagnosis | None:
    """Two schedulers on one optimizer each overwrite the LR from their own state: the
    schedule actually followed is neither, and changes with the order of the callbacks."""
    schedulers = [cb for cb in p.trainer.callbacks if isinstance(cb, LRScheduler)]
    by_optimizer = defaultdict(list)
    for cb in schedulers:
        by_optimizer[id(cb.optimizer)].append(type(cb.scheduler).__name__)
    for names in by_optimizer.values():
        if len(names) > 1:
            return Diagnosis(
                f"{len(names)} learning-rate schedulers drive the same optimizer: "
                f"{' and '.join(names)}. Each one rewrites the learning rate from its own "
                "counters, so the LR actually used is an unpredictable mix of both that "
                "depends on the order of the callbacks. Fix: keep a single LRScheduler "
                "callback; to combine schedules, build one scheduler with "
                "torch.optim.lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[k]) "
                "(one after the other) or ChainedScheduler([...]) (multiplied) and pass "
                "LRScheduler(that_one).",
                f"{len(names)} planificadores de la tasa de aprendizaje controlan el mismo "
                f"optimizador: {' y '.join(names)}. Cada uno reescribe la tasa de aprendizaje a "
                "partir de sus propios contadores, así que la tasa que realmente se usa es una "
                "mezcla impredecible de ambos que depende del orden de los callbacks. Solución: "
                "deja un solo callback LRScheduler; para combinar planes, construye un único "
                "planificador con "
                "torch.optim.lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[k]) "
                "(uno después del otro) o ChainedScheduler([...]) (multiplicados) y pasa "
                "LRScheduler(that_one).", fatal=True)
    for cb in schedulers:
        if cb.optimizer is not p.trainer.optimizer:
            name = type(cb.scheduler).__name__
            return Diagnosis(
                f"The {name} scheduler steps an optimizer that this "
                "Trainer does not use, so it has no effect on training (usually the optimizer "
                "was re-created after the scheduler). Fix: create the scheduler from the same "
                "optimizer you pass to Trainer(model, optimizer=opt).",
                f"El planificador {name} actualiza un optimizador que este Trainer no usa, así "
                "que no tiene ningún efecto en el entrenamiento (normalmente el optimizador se "
                "volvió a crear después del planificador). Solución: crea el planificador a "
                "partir del mismo optimizador que pasas a Trainer(model, optimizer=opt).")
    return None


def check_non_finite_data(p: Probe) -> Diagnosis | None:
    """A single NaN in the data makes its batch's loss NaN, and the next update spreads it
    into every weight. With the data in memory, a rare bad row is found before training."""
    whole = dataset_tensors(p.data)
    tensors, where = (whole, "training set") if whole is not None else ((p.x, p.y), "first batch")
    counts, cuentas = [], []
    for role, rol, t in zip(("input", "target"), ("de entrada", "de objetivos"), tensors):
        if isinstance(t, torch.Tensor) and t.is_floating_point() and t.ndim and t.shape[0]:
            # One reduction answers "any NaN/inf?" at memory speed; rows are counted only then.
            if bool(torch.isfinite(t.sum())):
                continue
            bad_rows = int((~torch.isfinite(t)).reshape(t.shape[0], -1).any(1).sum())
            if bad_rows:
                counts.append(f"{bad_rows} of {t.shape[0]} {role} rows")
                cuentas.append(f"{bad_rows} de {t.shape[0]} filas {rol}")
    if not counts:
        return None
    fix = ("keep = torch.isfinite(X).flatten(1).all(1) & "
           "torch.isfinite(y).reshape(len(y), -1).all(1); X, y = X[keep], y[keep]")
    return Diagnosis(
        f"The {where} contains NaN/inf values: {' and '.join(counts)}. Every batch that "
        "includes one has a NaN loss, and the next update turns every weight into NaN. Likely "
        "cause: missing values read as NaN, or a division by zero or log(0) in preprocessing. "
        f"Fix: drop or impute those rows before training, e.g. {fix}.",
        f"{_WHERE[where][0].upper()}{_WHERE[where][1:]} contiene valores NaN/inf: "
        f"{' y '.join(cuentas)}. Cada lote que incluye alguno tiene una pérdida NaN, y la "
        "siguiente actualización convierte todos los pesos en NaN. Causa probable: valores "
        "faltantes leídos como NaN, o una división por cero o un log(0) en el "
        "preprocesamiento. Solución: elimina o imputa esas filas antes de entrenar, p. ej. "
        f"{fix}.", fatal=True)


# How a convolution wants its inputs, and the same with the channels last (NumPy, PIL).
_CONV_LAYOUT = {1: ("(N, C, L)", "(N, L, C)"), 2: ("(N, C, H, W)", "(N, H, W, C)"),
                3: ("(N, C, D, H, W)", "(N, D, H, W, C)")}


def _layer_code(m: nn.Module) -> str:
    if isinstance(m, nn.Linear):
        return f"nn.Linear({m.in_features}, {m.out_features})"
    return f"nn.{type(m).__name__}({m.in_channels}, {m.out_channels}, ...)"


def check_input_width(p: Probe) -> Diagnosis | None:
    """The data does not have the size the first layer was built for (a Linear's in_features,
    a Conv's in_channels): the probe forward pass fails inside that very layer, and torch says
    'mat1 and mat2 shapes cannot be multiplied (16x3 and 4x16)'. Speaks only when the failing
    layer is the first one with parameters, it received the inputs (same shape, or flattened)
    and its size disagrees with them; anything else is left to torch's own error."""
    layer, x, error = p.first_layer, p.x, p.forward_error
    if (error is None or layer is None or layer.finished or layer.input_shape is None
            or not isinstance(x, torch.Tensor) or x.ndim == 0):
        return None
    m, got, xs = layer.module, layer.input_shape, tuple(x.shape)
    which = f"{layer.name!r}, {_layer_code(m)}" if layer.name else _layer_code(m)
    first, primera = f"The model's first layer ({which})", f"La primera capa del modelo ({which})"
    whole = dataset_tensors(p.data)
    if whole is not None and tuple(whole[0].shape[1:]) == xs[1:]:
        data, datos = f"X shape {shape(whole[0])}", f"forma de X {shape(whole[0])}"
    else:
        data, datos = f"first batch shape {shape(x)}", f"forma del primer lote {shape(x)}"
    torch_says, torch_dice = f"torch stops with '{error}'", f"torch se detiene con '{error}'"
    if isinstance(m, nn.Linear) and m.in_features > 0:
        k, out = m.in_features, m.out_features
        if got == xs and x.ndim == 1 and k == 1:
            n = xs[0]
            return Diagnosis(
                f"{first} expects 1 feature per sample, as a column of shape (N, 1), but the "
                f"inputs are a flat vector ({data}): nn.Linear then reads the whole batch of {n} "
                f"numbers as one sample with {n} features, and {torch_says}. Fix: add the "
                "feature dimension, X = X.unsqueeze(1) (or X.view(-1, 1)), when you build the "
                "dataset.",
                f"{primera} espera 1 característica por muestra, como una columna de forma "
                f"(N, 1), pero las entradas son un vector plano ({datos}): nn.Linear lee entonces "
                f"el lote completo de {n} números como una sola muestra con {n} características, "
                f"y {torch_dice}. Solución: agrega la dimensión de las características, "
                "X = X.unsqueeze(1) (o X.view(-1, 1)), al construir el conjunto de datos.",
                fatal=True)
        if got == xs and x.ndim >= 2 and xs[-1] != k:
            d, expr = xs[-1], "X.shape[1]" if x.ndim == 2 else "X.shape[-1]"
            return Diagnosis(
                f"{first} expects {k} features per sample, but the data has {d} ({data}), so "
                f"{torch_says}. Fix: build the first layer with in_features = {expr} (here "
                f"nn.Linear({d}, {out})); or, if the model is right, check the preprocessing: a "
                "column dropped or added by mistake, or a one-hot encoding that produced a "
                "different number of columns (e.g. a category missing from this split).",
                f"{primera} espera {k} características por muestra, pero los datos tienen {d} "
                f"({datos}), así que {torch_dice}. Solución: construye la primera capa con "
                f"in_features = {expr} (aquí nn.Linear({d}, {out})); o, si el modelo está bien, "
                "revisa el preprocesamiento: una columna eliminada o agregada por error, o una "
                "codificación one-hot que produjo otro número de columnas (p. ej., una "
                "categoría que falta en esta partición).", fatal=True)
        flat = math.prod(xs[1:])
        if x.ndim > 2 and got == (xs[0], flat) and flat != k:
            sizes = " x ".join(str(s) for s in xs[1:])
            return Diagnosis(
                f"{first} expects {k} features per sample, but the data has {flat} values per "
                f"sample once flattened ({data}: {sizes} = {flat}), so {torch_says}. Fix: build "
                f"the first layer with in_features = X[0].numel() (here nn.Linear({flat}, "
                f"{out})); or, if the model is right, check the input size (e.g. images resized "
                "or cropped differently from what the model assumes).",
                f"{primera} espera {k} características por muestra, pero los datos tienen {flat} "
                f"valores por muestra una vez aplanados ({datos}: {sizes} = {flat}), así que "
                f"{torch_dice}. Solución: construye la primera capa con in_features = "
                f"X[0].numel() (aquí nn.Linear({flat}, {out})); o, si el modelo está bien, "
                "revisa el tamaño de las entradas (p. ej., imágenes redimensionadas o recortadas "
                "de otra forma que la que el modelo supone).", fatal=True)
        return None
    if isinstance(m, nn.modules.conv._ConvNd) and len(m.kernel_size) in _CONV_LAYOUT:
        nd, c_in, kind = len(m.kernel_size), m.in_channels, type(m).__name__
        layout, last = _CONV_LAYOUT[nd]
        if got != xs:
            return None
        if x.ndim == nd + 2 and xs[1] != c_in and xs[-1] == c_in:
            perm = ", ".join(str(i) for i in (0, nd + 1, *range(1, nd + 1)))
            return Diagnosis(
                f"{first} expects {c_in} channels in dimension 1 of its inputs, {layout}, but "
                f"the data has {xs[1]} there ({data}); its last dimension has {c_in}, so the "
                f"data is channels-last, {last}, the way NumPy, PIL and matplotlib store "
                f"images, and {torch_says}. Fix: move the channels to dimension 1, "
                f"X = X.permute({perm}), when you build the dataset.",
                f"{primera} espera {c_in} canales en la dimensión 1 de sus entradas, {layout}, "
                f"pero los datos tienen {xs[1]} ahí ({datos}); su última dimensión tiene "
                f"{c_in}, así que los datos tienen los canales al final, {last}, como NumPy, PIL "
                f"y matplotlib guardan las imágenes, y {torch_dice}. Solución: mueve los canales "
                f"a la dimensión 1, X = X.permute({perm}), al construir el conjunto de datos.",
                fatal=True)
        if x.ndim == nd + 2 and xs[1] != c_in:
            c = xs[1]
            gray = nd == 2 and c == 1 and c_in == 3
            return Diagnosis(
                f"{first} expects {c_in} channels per sample, {layout}, but the data has {c} "
                f"({data}), so {torch_says}. Fix: build the first layer with in_channels = "
                f"X.shape[1] (here nn.{kind}({c}, {m.out_channels}, ...)); or, if the model is "
                f"right, convert the data to {c_in} channels"
                + (" (grayscale to RGB: X = X.repeat(1, 3, 1, 1))" if gray else "") + ".",
                f"{primera} espera {c_in} canales por muestra, {layout}, pero los datos tienen "
                f"{c} ({datos}), así que {torch_dice}. Solución: construye la primera capa con "
                f"in_channels = X.shape[1] (aquí nn.{kind}({c}, {m.out_channels}, ...)); o, si "
                f"el modelo está bien, convierte los datos a {c_in} canales"
                + (" (de escala de grises a RGB: X = X.repeat(1, 3, 1, 1))" if gray else "")
                + ".", fatal=True)
        if x.ndim == nd + 1 and c_in == 1 and xs[0] != 1:
            one = layout.replace("C", "1")
            return Diagnosis(
                f"{first} expects inputs of shape {one}, but the data has no channel "
                f"dimension ({data}): torch then reads the whole batch as a single sample with "
                f"{xs[0]} channels, and stops with '{error}'. Fix: add the channel dimension, "
                f"X = X.unsqueeze(1) (shape {one}), when you build the dataset.",
                f"{primera} espera entradas de forma {one}, pero los datos no tienen dimensión "
                f"de canales ({datos}): torch lee entonces el lote completo como una sola "
                f"muestra con {xs[0]} canales, y se detiene con '{error}'. Solución: agrega la "
                f"dimensión de canales, X = X.unsqueeze(1) (forma {one}), al construir el "
                "conjunto de datos.",
                fatal=True)
    return None


def check_batch_size(p: Probe) -> Diagnosis | None:
    """A model that returns a different number of rows than it received mixes samples."""
    if not _has_tensors(p) or p.out is None or p.out.ndim == 0 or p.y.ndim == 0:
        return None
    if p.out.shape[0] == p.y.shape[0]:
        return None
    return Diagnosis(
        f"The model returned {p.out.shape[0]} rows for a batch of {p.y.shape[0]} samples "
        f"(inputs {shape(p.x)}, outputs {shape(p.out)}, targets {shape(p.y)}). The forward "
        "pass mixes samples together: usually a .view(-1, k) / .reshape(-1, k) with the wrong "
        "k, or a reduction over dimension 0 (e.g. x.mean(0)) meant for another dimension. "
        "Fix: flatten per sample with x.flatten(1) or nn.Flatten(), and make sure "
        "model(x).shape[0] == x.shape[0].",
        f"El modelo devolvió {p.out.shape[0]} filas para un lote de {p.y.shape[0]} muestras "
        f"(entradas {shape(p.x)}, salidas {shape(p.out)}, objetivos {shape(p.y)}). La pasada "
        "hacia adelante (forward) mezcla muestras entre sí: normalmente un .view(-1, k) / "
        ".reshape(-1, k) con el k equivocado, o una reducción sobre la dimensión 0 (p. ej., "
        "x.mean(0)) pensada para otra dimensión. Solución: aplana cada muestra con "
        "x.flatten(1) o nn.Flatten(), y asegúrate de que model(x).shape[0] == x.shape[0].",
        fatal=True)


def check_regression_targets(p: Probe) -> Diagnosis | None:
    """MSE/L1 compare element by element and *broadcast* silently: outputs (N, 1) against
    targets (N,) become an (N, N) table of every prediction against every target."""
    if p.loss is None or p.loss.kind != "regression" or not _has_tensors(p) or p.out is None:
        return None
    out, y, name = p.out, p.y, p.loss.name
    if out.shape == y.shape:
        if y.is_floating_point():
            return None
        return Diagnosis(
            f"{name} needs float targets, but the targets are {y.dtype} (shape {shape(y)}); "
            "backward() would stop with a dtype error. Fix: y = y.float() when you build the "
            "dataset.",
            f"{name} necesita objetivos de tipo float, pero los objetivos son {y.dtype} (forma "
            f"{shape(y)}); backward() se detendría con un error de dtype. Solución: "
            "y = y.float() al construir el conjunto de datos.", fatal=True)
    n = out.shape[0]
    if out.shape == (n, 1) and y.shape == (n,):
        fix = ("make the targets a column, y = y.unsqueeze(1) (or y.view(-1, 1)), or return "
               "out.squeeze(-1) from forward",
               "convierte los objetivos en una columna, y = y.unsqueeze(1) (o y.view(-1, 1)), "
               "o devuelve out.squeeze(-1) desde forward")
    elif out.shape == (n,) and y.shape == (n, 1):
        fix = ("flatten the targets, y = y.squeeze(1), or return out.unsqueeze(1) from forward",
               "aplana los objetivos, y = y.squeeze(1), o devuelve out.unsqueeze(1) desde "
               "forward")
    else:
        fix = ("give the model as many outputs per sample as the targets have values",
               "da al modelo tantas salidas por muestra como valores tienen los objetivos")
    try:
        to = tuple(torch.broadcast_shapes(out.shape, y.shape))
        result = (f"the difference silently broadcasts to {to}, so every prediction is "
                  "compared with the targets of other samples and the model can only learn "
                  "the mean (torch at most prints a UserWarning)",
                  f"la diferencia se expande en silencio (broadcasting) a {to}, así que cada "
                  "predicción se compara con los objetivos de otras muestras y el modelo solo "
                  "puede aprender la media (torch, como mucho, muestra un UserWarning)")
    except RuntimeError:
        result = ("they cannot be compared element by element and torch stops with a size "
                  "error",
                  "no se pueden comparar elemento a elemento y torch se detiene con un error "
                  "de tamaño")
    return Diagnosis(
        f"{name} gets outputs of shape {shape(out)} but targets of shape {shape(y)}: "
        f"{result[0]}. Fix: {fix[0]}, so that both shapes are equal.",
        f"{name} recibe salidas de forma {shape(out)} pero objetivos de forma {shape(y)}: "
        f"{result[1]}. Solución: {fix[1]}, para que ambas formas sean iguales.", fatal=True)


_CE_DTYPES = (torch.int64, torch.uint8)  # what cross_entropy / nll_loss accept as indices


def check_class_targets(p: Probe) -> Diagnosis | None:
    """CrossEntropyLoss/NLLLoss want one int64 class index per sample, shape (N,): float
    labels, (N, 1) columns and one-hot rows each give a cryptic torch error."""
    if p.loss is None or p.loss.kind not in ("cross_entropy", "nll") or not _has_tensors(p):
        return None
    out, y, name = p.out, p.y, p.loss.name
    if out is None or out.ndim < 2:
        return None
    n, c = out.shape[0], out.shape[1]
    index_shape = (n, *out.shape[2:])  # one class index per sample (per position)
    found = f"the targets are {y.dtype} of shape {shape(y)} (model outputs {shape(out)})"
    hallado = f"los objetivos son {y.dtype} de forma {shape(y)} (salidas del modelo {shape(out)})"
    wants = f"{name} needs one class index per sample: an int64 tensor of shape {index_shape}"
    pide = (f"{name} necesita un índice de clase por muestra: un tensor int64 de forma "
            f"{index_shape}")
    looks_one_hot = y.ndim == out.ndim and y.shape[0] == n and y.shape[2:] == out.shape[2:]

    if y.is_floating_point():
        if y.shape == out.shape and p.loss.kind == "cross_entropy":
            return None  # class probabilities (soft labels): valid for CrossEntropyLoss
        if looks_one_hot:
            if y.shape[1] != c:
                return _one_hot_width(name, y, out)
            fix = ("convert the one-hot rows to indices, y = y.argmax(1)",
                   "convierte las filas one-hot en índices, y = y.argmax(1)")
        else:
            code = "y = y.long()" + (".squeeze(1)" if y.shape == (n, 1) + index_shape[1:] else "")
            fix = (code, code)
            if not bool((y == y.round()).all()):
                fix = (fix[0] + " (but your targets are not whole numbers: if they are "
                       "quantities to predict, this is regression: use loss='mse' and one "
                       "output)",
                       fix[1] + " (pero tus objetivos no son números enteros: si son "
                       "cantidades a predecir, esto es regresión: usa loss='mse' y una sola "
                       "salida)")
        return Diagnosis(f"{wants}, but {found}. torch would stop with 'expected target dtype "
                         f"to be Long'. Fix: {fix[0]}.",
                         f"{pide}, pero {hallado}. torch se detendría con 'expected target "
                         f"dtype to be Long'. Solución: {fix[1]}.", fatal=True)
    if y.shape == index_shape:
        if y.dtype in _CE_DTYPES:
            return None
        return Diagnosis(f"{wants}, but {found}. Fix: y = y.long().",
                         f"{pide}, pero {hallado}. Solución: y = y.long().", fatal=True)
    if y.shape == (n, 1) + index_shape[1:]:
        return Diagnosis(f"{wants}, but {found}: one column too many, and torch would stop "
                         "with 'multi-target not supported'. Fix: y = y.squeeze(1).long().",
                         f"{pide}, pero {hallado}: sobra una columna, y torch se detendría con "
                         "'multi-target not supported'. Solución: y = y.squeeze(1).long().",
                         fatal=True)
    if looks_one_hot:
        if y.shape[1] != c:
            return _one_hot_width(name, y, out)
        return Diagnosis(f"{wants}, but {found}: these look like one-hot rows. Fix: "
                         "y = y.argmax(1) (class indices).",
                         f"{pide}, pero {hallado}: parecen filas one-hot. Solución: "
                         "y = y.argmax(1) (índices de clase).", fatal=True)
    return Diagnosis(f"{wants}, but {found}. Fix: build the targets as one class index per "
                     "sample.",
                     f"{pide}, pero {hallado}. Solución: construye los objetivos como un índice "
                     "de clase por muestra.", fatal=True)


def _one_hot_width(name: str, y: torch.Tensor, out: torch.Tensor) -> Diagnosis:
    k, c = y.shape[1], out.shape[1]
    return Diagnosis(
        f"The targets look one-hot with {k} columns (shape {shape(y)}) but the model has {c} "
        f"outputs (shape {shape(out)}): {name} needs one score per class, and the numbers "
        f"disagree. Fix: give the last layer {k} outputs (nn.Linear(..., {k})) if there are "
        f"{k} classes, and pass class indices, y = y.argmax(1), rather than one-hot rows.",
        f"Los objetivos parecen one-hot con {k} columnas (forma {shape(y)}), pero el modelo "
        f"tiene {c} salidas (forma {shape(out)}): {name} necesita una puntuación por clase, y "
        f"los números no coinciden. Solución: da a la última capa {k} salidas "
        f"(nn.Linear(..., {k})) si hay {k} clases, y pasa índices de clase, y = y.argmax(1), en "
        "lugar de filas one-hot.", fatal=True)


def check_binary_targets(p: Probe) -> Diagnosis | None:
    """BCE losses want float targets of exactly the output's shape."""
    if p.loss is None or p.loss.kind not in ("bce_logits", "bce") or not _has_tensors(p):
        return None
    out, y, name = p.out, p.y, p.loss.name
    if out is None or out.ndim == 0:
        return None
    fixes = []
    if not y.is_floating_point():
        fixes.append(("y = y.float() (0.0 / 1.0 targets)", "y = y.float() (objetivos 0.0 / 1.0)"))
    if y.shape != out.shape:
        n = out.shape[0]
        if out.shape == (n, 1) and y.shape == (n,):
            fixes.append(("y = y.unsqueeze(1) (or return out.squeeze(1) from forward)",
                          "y = y.unsqueeze(1) (o devuelve out.squeeze(1) desde forward)"))
        elif out.shape == (n,) and y.shape == (n, 1):
            fixes.append(("y = y.squeeze(1)", "y = y.squeeze(1)"))
        elif out.ndim == 2 and out.shape[1] >= 2 and y.shape == (n,):
            k = out.shape[1]
            fixes.append((f"the model has {k} outputs but there is one label per "
                          "sample: for several classes use loss='cross_entropy' with int64 "
                          "labels; for a yes/no problem give the model a single output",
                          f"el modelo tiene {k} salidas pero hay una etiqueta por muestra: "
                          "para varias clases usa loss='cross_entropy' con etiquetas int64; "
                          "para un problema de sí/no da al modelo una sola salida"))
        else:
            fixes.append(("make the targets the same shape as the outputs",
                          "da a los objetivos la misma forma que las salidas"))
    if not fixes:
        return None
    return Diagnosis(
        f"{name} compares every output with a float target of the same shape, but the model "
        f"outputs {shape(out)} while the targets are {y.dtype} of shape {shape(y)} (torch "
        "would stop with a cryptic cast or size error). Fix: "
        + "; ".join(en for en, _ in fixes) + ".",
        f"{name} compara cada salida con un objetivo float de la misma forma, pero el modelo "
        f"produce {shape(out)} mientras que los objetivos son {y.dtype} de forma {shape(y)} "
        "(torch se detendría con un error críptico de conversión o de tamaño). Solución: "
        + "; ".join(es for _, es in fixes) + ".",
        fatal=True)


def check_label_range(p: Probe) -> Diagnosis | None:
    """Class indices outside 0..C-1 crash deep inside torch ('Target 10 is out of bounds',
    or a device-side assert on GPU); BCE targets outside [0, 1] train silently on nonsense.
    A rare bad label may be missing from the first batch: scan the whole set when we can."""
    if p.loss is None or not _has_tensors(p) or p.out is None or p.out.ndim == 0:
        return None
    whole = dataset_tensors(p.data)
    y, where = (whole[1], "training set") if whole is not None else (p.y, "first batch")
    donde = _WHERE[where]
    if p.loss.kind in ("cross_entropy", "nll"):
        if p.out.ndim < 2 or y.is_floating_point() or y.dtype == torch.bool:
            return None
        c = p.out.shape[1]
        labels = y[y != p.loss.ignore_index]
        if labels.numel() == 0:
            return None
        lo, hi = int(labels.min()), int(labels.max())
        if lo >= 0 and hi < c:
            return None
        bad = int(((labels < 0) | (labels >= c)).sum())
        if lo < 0:
            fix = ("negative labels usually mark 'unknown': drop those rows, or skip them with "
                   f"{p.loss.name}(ignore_index={lo})",
                   "las etiquetas negativas suelen marcar 'desconocido': elimina esas filas, u "
                   f"omítelas con {p.loss.name}(ignore_index={lo})")
        elif lo >= 1 and hi == c:
            fix = (f"the labels look numbered from 1 to {c}: use y = y - 1",
                   f"las etiquetas parecen numeradas de 1 a {c}: usa y = y - 1")
        else:
            fix = (f"if there really are {hi + 1} classes, give the last layer {hi + 1} outputs "
                   f"(nn.Linear(..., {hi + 1})); otherwise check how the labels were built",
                   f"si de verdad hay {hi + 1} clases, da a la última capa {hi + 1} salidas "
                   f"(nn.Linear(..., {hi + 1})); si no, revisa cómo se construyeron las "
                   "etiquetas")
        target = hi if hi >= c else lo
        return Diagnosis(
            f"Class labels must be integers in 0..{c - 1} because the model has {c} outputs "
            f"(output shape {shape(p.out)}), but the {where} has labels from {lo} to {hi} "
            f"({bad} of {labels.numel()} out of range). torch would stop with a cryptic "
            f"'Target {target} is out of bounds' (or a device-side assert on "
            f"GPU). Fix: {fix[0]}.",
            f"Las etiquetas de clase deben ser enteros en 0..{c - 1} porque el modelo tiene {c} "
            f"salidas (forma de salida {shape(p.out)}), pero {donde} tiene etiquetas de {lo} a "
            f"{hi} ({bad} de {labels.numel()} fuera de rango). torch se detendría con un "
            f"críptico 'Target {target} is out of bounds' (o un device-side assert en la GPU). "
            f"Solución: {fix[1]}.", fatal=True)
    if p.loss.kind in ("bce_logits", "bce") and y.is_floating_point() and y.numel():
        lo, hi = float(y.min()), float(y.max())
        if lo >= 0.0 and hi <= 1.0:
            return None
        return Diagnosis(
            f"{p.loss.name} targets are probabilities in [0, 1], but the {where} has targets "
            f"from {lo:g} to {hi:g}. With labels such as 0, 1, 2... the loss pushes the "
            "model towards impossible probabilities and trains on nonsense without any error. "
            "Fix: for several classes use loss='cross_entropy' with one output per class and "
            "int64 labels; for a yes/no problem map the labels to 0/1, e.g. "
            "y = (y == positive_class).float().",
            f"Los objetivos de {p.loss.name} son probabilidades en [0, 1], pero {donde} tiene "
            f"objetivos de {lo:g} a {hi:g}. Con etiquetas como 0, 1, 2... la pérdida empuja al "
            "modelo hacia probabilidades imposibles y entrena con datos sin sentido, sin ningún "
            "error. Solución: para varias clases usa loss='cross_entropy' con una salida por "
            "clase y etiquetas int64; para un problema de sí/no convierte las etiquetas a 0/1, "
            "p. ej. y = (y == positive_class).float().", fatal=True)
    return None


def check_batchnorm_batch_of_one(p: Probe) -> Diagnosis | None:
    """In training, BatchNorm normalizes with the batch's own mean and variance per channel.
    One sample with one value per channel has no variance: torch stops with 'Expected more
    than 1 value per channel when training' (often only at the last, short batch)."""
    bns = {name: m for name, m in p.model.named_modules()
           if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    if not bns:
        return None
    # Layers that see one value per channel per sample; without a probe, assume BatchNorm1d.
    single = [name for name, m in bns.items()
              if p.bn_values.get(name, 1 if isinstance(m, nn.BatchNorm1d) else 2) == 1]
    if not single:
        return None
    plan = batch_plan(p.data)
    if isinstance(p.x, torch.Tensor) and p.x.ndim and p.x.shape[0] == 1:
        when = ("the first training batch has a single sample",
                "el primer lote de entrenamiento tiene una sola muestra")
    elif plan is not None and plan[0] % plan[1] == 1 and not plan[2]:
        n, b, _ = plan
        when = (f"the last batch of every epoch has a single sample ({n} samples with "
                f"batch_size={b} leave {n} % {b} = 1)",
                f"el último lote de cada época tiene una sola muestra ({n} muestras con "
                f"batch_size={b} dejan {n} % {b} = 1)")
    else:
        return None
    layer = type(bns[single[0]]).__name__
    return Diagnosis(
        f"The model has {layer} layer '{single[0]}' and {when[0]}. In training, BatchNorm "
        "normalizes each channel with the mean and variance of the current batch; one sample "
        "has no variance, so torch stops with 'Expected more than 1 value per channel when "
        "training'. Fix: use a batch_size > 1 that does not leave one sample over, or drop "
        "the short batch with Batches(X, y, batch_size=..., drop_last=True), or replace "
        "BatchNorm with nn.LayerNorm, which normalizes each sample on its own.",
        f"El modelo tiene la capa {layer} '{single[0]}' y {when[1]}. En entrenamiento, "
        "BatchNorm normaliza cada canal con la media y la varianza del lote actual; una sola "
        "muestra no tiene varianza, así que torch se detiene con 'Expected more than 1 value "
        "per channel when training'. Solución: usa un batch_size > 1 que no deje una muestra "
        "suelta, o descarta el lote corto con Batches(X, y, batch_size=..., drop_last=True), o "
        "reemplaza BatchNorm por nn.LayerNorm, que normaliza cada muestra por separado.",
        fatal=True)


_ACTIVATIONS = {nn.Softmax: "Softmax", nn.Sigmoid: "Sigmoid", nn.LogSoftmax: "LogSoftmax"}


def _final_activation(p: Probe) -> tuple[str | None, tuple[str, str]]:
    """Which of Softmax / Sigmoid / LogSoftmax the model's output comes out of, and how we
    know (in English and Spanish). Best evidence: the last op of the autograd graph (finds
    nn.Softmax layers and torch.softmax calls alike, and ignores a Softmax module that
    forward does not return)."""
    if p.final_op is not None:
        act = p.final_op if p.final_op in _ACTIVATIONS.values() else None
        how = (f"its forward ends with {act}", f"su forward termina con {act}")
    else:  # no graph (e.g. frozen parameters): trust the last registered layer
        last = _last_leaf(p.model)
        act = next((n for t, n in _ACTIVATIONS.items() if isinstance(last, t)), None)
        how = (f"its last layer is nn.{act}", f"su última capa es nn.{act}")
    out = p.out
    if act is None and out is not None and out.ndim >= 2 and out.shape[1] >= 2:
        # softmax hidden behind some other op: rows of probabilities are not chance
        if bool(((out >= 0) & (out <= 1)).all()) and bool(((out.sum(1) - 1).abs() < 1e-3).all()):
            act = "Softmax"
            how = ("its outputs on the first batch are all in [0, 1] and each row sums to 1",
                   "sus salidas en el primer lote están todas en [0, 1] y cada fila suma 1")
    return act, how


def check_probabilities_into_logits_loss(p: Probe) -> Diagnosis | None:
    """CrossEntropyLoss / BCEWithLogitsLoss apply softmax / sigmoid themselves. A model that
    already outputs probabilities is squashed twice: the loss flattens, gradients shrink and
    training stalls well below what the model can reach, with no error at all.
    NLLLoss is the opposite: it needs log-probabilities (LogSoftmax), not probabilities."""
    if p.loss is None or p.loss.kind not in ("cross_entropy", "nll", "bce_logits"):
        return None
    act, how = _final_activation(p)
    name, out = p.loss.name, p.out
    if p.loss.kind == "nll":
        if act in ("Softmax", "Sigmoid"):
            return Diagnosis(
                f"{name} expects log-probabilities, but the model outputs probabilities "
                f"({how[0]}), so the loss is -p instead of -log p and learns badly. Fix: "
                f"replace the final {act} with nn.LogSoftmax(dim=1), or remove it and use "
                "CrossEntropyLoss on the raw logits.",
                f"{name} espera log-probabilidades, pero el modelo produce probabilidades "
                f"({how[1]}), así que la pérdida es -p en lugar de -log p y aprende mal. "
                f"Solución: reemplaza la {act} final por nn.LogSoftmax(dim=1), o quítala y usa "
                "CrossEntropyLoss sobre los logits crudos.")
        if act is None and out is not None and out.ndim >= 2 and out.shape[1] >= 2:
            row_mass = out.exp().sum(1)
            if bool(((row_mass - 1).abs() > 1e-2).any()):
                lo, hi = f"{float(row_mass.min()):.3g}", f"{float(row_mass.max()):.3g}"
                return Diagnosis(
                    f"{name} expects log-probabilities, but the model outputs raw scores: "
                    f"exp(outputs) sums to {lo}..{hi} per row instead of 1. The loss then has "
                    "no lower bound and falls towards -inf by inflating one score. Fix: end "
                    "the model with nn.LogSoftmax(dim=1), or keep the raw logits and use "
                    "CrossEntropyLoss.",
                    f"{name} espera log-probabilidades, pero el modelo produce puntuaciones "
                    f"crudas: exp(outputs) suma {lo}..{hi} por fila en lugar de 1. Entonces la "
                    "pérdida no tiene cota inferior y cae hacia -inf inflando una sola "
                    "puntuación. Solución: termina el modelo con nn.LogSoftmax(dim=1), o "
                    "conserva los logits crudos y usa CrossEntropyLoss.")
        return None
    if act not in ("Softmax", "Sigmoid"):
        return None
    binary = p.loss.kind == "bce_logits"
    keep = (("; or keep the Sigmoid and use nn.BCELoss (less stable numerically)",
             "; o conserva la Sigmoid y usa nn.BCELoss (numéricamente menos estable)")
            if binary and act == "Sigmoid" else ("", ""))
    to_probs = "torch.sigmoid(logits)" if binary else "torch.softmax(logits, dim=1)"
    squash = "sigmoid" if binary else "softmax"
    return Diagnosis(
        f"The model outputs probabilities ({how[0]}), but {name} expects raw scores (logits) "
        f"and applies {squash} itself. Squashing twice flattens the "
        "loss: gradients shrink, training crawls and stalls below the accuracy the model could "
        f"reach, without any error. Fix: remove the final {act} from the model (nn.{act} layer "
        f"or torch.{act.lower()} call in forward) and feed the logits to the loss; apply "
        f"{to_probs} only when you need probabilities{keep[0]}.",
        f"El modelo produce probabilidades ({how[1]}), pero {name} espera puntuaciones crudas "
        f"(logits) y aplica {'la sigmoide' if binary else 'la softmax'} por su cuenta. "
        "Aplastar dos veces aplana la pérdida: los gradientes se encogen, el entrenamiento "
        "avanza muy lento y se estanca por debajo de la exactitud (accuracy) que el modelo "
        "podría alcanzar, sin ningún error. Solución: "
        f"quita la {act} final del modelo (capa nn.{act} o llamada a torch.{act.lower()} en "
        f"forward) y pasa los logits a la pérdida; aplica {to_probs} solo cuando necesites "
        f"probabilidades{keep[1]}.")


def check_input_scale(p: Probe) -> Diagnosis | None:
    """Default initializations assume inputs of mean ~0 and std ~1. Inputs in the hundreds
    give huge activations and gradients: unstable training, or a learning rate that must be
    tiny for the large features and is then far too small for the others."""
    x = p.x
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.numel() < 2:
        return None
    xf = x.detach().float()
    mean, std = float(xf.mean()), float(xf.std(unbiased=False))
    if not (abs(mean) > 10 or std > 10):  # also False for NaN: non_finite_loss reports it
        return None
    lo, hi = float(xf.min()), float(xf.max())
    if lo >= 0 and 1 < hi <= 255 and bool((xf == xf.round()).all()):
        fix = ("these look like raw 0-255 pixel values: divide by 255 (X = X / 255.0), and "
               "optionally standardize with the training mean and std",
               "parecen valores de píxel crudos de 0-255: divide por 255 (X = X / 255.0) y, "
               "opcionalmente, estandariza con la media y la desviación estándar de "
               "entrenamiento")
    else:
        code = "mean, std = X_train.mean(0), X_train.std(0); X = (X - mean) / std"
        fix = ("standardize each feature with the training split's statistics: "
               f"{code} (the same mean and std for validation and test)",
               "estandariza cada característica con las estadísticas de la partición de "
               f"entrenamiento: {code} (la misma media y desviación estándar para validación y "
               "prueba)")
    return Diagnosis(
        f"The inputs are not scaled: the first batch has mean {mean:.3g}, std {std:.3g}, "
        f"values from {lo:.3g} to {hi:.3g}. Weights are initialized for inputs around mean 0 "
        "and std 1; large inputs give huge activations and gradients, so training is unstable "
        f"(the loss jumps or becomes NaN) or needs a tiny learning rate. Fix: {fix[0]}.",
        f"Las entradas no están escaladas: el primer lote tiene media {mean:.3g}, desviación "
        f"estándar {std:.3g} y valores de {lo:.3g} a {hi:.3g}. Los pesos se inicializan para "
        "entradas con media cercana a 0 y desviación estándar 1; entradas grandes dan "
        "activaciones y gradientes enormes, así que el entrenamiento es inestable (la pérdida "
        "salta o se vuelve NaN) o necesita una tasa de aprendizaje diminuta. Solución: "
        f"{fix[1]}.")


# ---------------------------------------------------------------- before the doctor runs


def check_data_rows(data, role: str = "train") -> Diagnosis | None:
    """An ``(X, y)`` tuple whose tensors disagree on the number of rows (a split or a filter
    applied to X but not to y). Runs on what the student passed to ``fit``, before any batch
    is built: ``role`` is "train" or "val" (validation data would only fail after a whole
    epoch of training)."""
    if not (isinstance(data, tuple) and len(data) >= 2
            and all(isinstance(t, torch.Tensor) and t.ndim for t in data)):
        return None
    rows = [t.shape[0] for t in data]
    if len(set(rows)) == 1:
        return None
    names = ["X", "y"] + [f"tensors[{i}]" for i in range(2, len(data))]
    if len(data) == 2:
        counts, cuentas = (f"{rows[0]} rows in X but {rows[1]} in y",
                           f"{rows[0]} filas en X pero {rows[1]} en y")
    else:
        counts = "different numbers of rows: " + ", ".join(
            f"{r} in {n}" for r, n in zip(rows, names))
        cuentas = "distinto número de filas: " + ", ".join(
            f"{r} en {n}" for r, n in zip(rows, names))
    shapes = ", ".join(f"{n} shape {shape(t)}" for n, t in zip(names, data))
    formas = ", ".join(f"forma de {n} {shape(t)}" for n, t in zip(names, data))
    what, que = ("training", "entrenamiento") if role == "train" else ("validation", "validación")
    return Diagnosis(
        f"The {what} data has {counts} ({shapes}): there must be exactly one target per "
        "sample, in the same order. Usually a split, a filter or a shuffle was applied to X "
        "but not to y (or the other way round). Fix: select the same rows from both with one "
        "mask or index, e.g. X, y = X[keep], y[keep], and split X and y together (X[idx], "
        "y[idx] with the same idx).",
        f"Los datos de {que} tienen {cuentas} ({formas}): debe haber exactamente un objetivo "
        "por muestra, en el mismo orden. Normalmente se aplicó una partición, un filtro o una "
        "mezcla a X pero no a y (o al revés). Solución: selecciona las mismas filas de ambos "
        "con una sola máscara o índice, p. ej. X, y = X[keep], y[keep], y divide X e y juntos "
        "(X[idx], y[idx] con el mismo idx).", fatal=True)


# Order matters only for which fatal problem is reported when there are several: the most
# basic one (the one that would hide the others) comes first.
CHECKS_BEFORE_FIT = [
    check_schedulers,
    check_non_finite_data,
    check_input_width,
    check_batch_size,
    check_regression_targets,
    check_class_targets,
    check_binary_targets,
    check_label_range,
    check_batchnorm_batch_of_one,
    check_probabilities_into_logits_loss,
    check_input_scale,
]

__all__ = ["CHECKS_BEFORE_FIT", "Diagnosis", "LayerCall", "LossInfo", "Probe", "batch_plan",
           "check_data_rows", "dataset_tensors", "describe_loss"]
