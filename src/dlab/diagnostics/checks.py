"""The doctor's checks that run once, before the first step.

Each check is a plain function ``check(probe) -> Diagnosis | None``. It reads only the
``Probe``: the first batch, the model's output on it, what kind of loss is used and, when the
data lives in memory, the whole training set. A check that does not apply (unknown loss,
non-tensor batch, forward pass that failed) returns ``None``: the doctor never blocks a setup it
does not understand.
"""
from __future__ import annotations

import functools
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
    message: str  # one paragraph: what is wrong (with numbers), why, and the fix in code
    fatal: bool = False  # True: TrainingError before training; False: trainer.warn


@dataclass
class LossInfo:
    kind: str  # "cross_entropy", "nll", "bce_logits", "bce" or "regression"
    name: str  # as the student wrote it: "CrossEntropyLoss", "F.cross_entropy"...
    ignore_index: int = -100


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
                "LRScheduler(that_one).", fatal=True)
    for cb in schedulers:
        if cb.optimizer is not p.trainer.optimizer:
            return Diagnosis(
                f"The {type(cb.scheduler).__name__} scheduler steps an optimizer that this "
                "Trainer does not use, so it has no effect on training (usually the optimizer "
                "was re-created after the scheduler). Fix: create the scheduler from the same "
                "optimizer you pass to Trainer(model, optimizer=opt).")
    return None


def check_non_finite_data(p: Probe) -> Diagnosis | None:
    """A single NaN in the data makes its batch's loss NaN, and the next update spreads it
    into every weight. With the data in memory, a rare bad row is found before training."""
    whole = dataset_tensors(p.data)
    tensors, where = (whole, "training set") if whole is not None else ((p.x, p.y), "first batch")
    counts = []
    for role, t in zip(("input", "target"), tensors):
        if isinstance(t, torch.Tensor) and t.is_floating_point() and t.ndim and t.shape[0]:
            # One reduction answers "any NaN/inf?" at memory speed; rows are counted only then.
            if bool(torch.isfinite(t.sum())):
                continue
            bad_rows = int((~torch.isfinite(t)).reshape(t.shape[0], -1).any(1).sum())
            if bad_rows:
                counts.append(f"{bad_rows} of {t.shape[0]} {role} rows")
    if not counts:
        return None
    return Diagnosis(
        f"The {where} contains NaN/inf values: {' and '.join(counts)}. Every batch that "
        "includes one has a NaN loss, and the next update turns every weight into NaN. Likely "
        "cause: missing values read as NaN, or a division by zero or log(0) in preprocessing. "
        "Fix: drop or impute those rows before training, e.g. "
        "keep = torch.isfinite(X).flatten(1).all(1) & "
        "torch.isfinite(y).reshape(len(y), -1).all(1); "
        "X, y = X[keep], y[keep].", fatal=True)


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
        "model(x).shape[0] == x.shape[0].", fatal=True)


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
            "dataset.", fatal=True)
    n = out.shape[0]
    if out.shape == (n, 1) and y.shape == (n,):
        fix = ("make the targets a column, y = y.unsqueeze(1) (or y.view(-1, 1)), or return "
               "out.squeeze(-1) from forward")
    elif out.shape == (n,) and y.shape == (n, 1):
        fix = "flatten the targets, y = y.squeeze(1), or return out.unsqueeze(1) from forward"
    else:
        fix = "give the model as many outputs per sample as the targets have values"
    try:
        result = (f"the difference silently broadcasts to "
                  f"{tuple(torch.broadcast_shapes(out.shape, y.shape))}, so every prediction is "
                  "compared with the targets of other samples and the model can only learn "
                  "the mean (torch at most prints a UserWarning)")
    except RuntimeError:
        result = "they cannot be compared element by element and torch stops with a size error"
    return Diagnosis(
        f"{name} gets outputs of shape {shape(out)} but targets of shape {shape(y)}: {result}. "
        f"Fix: {fix}, so that both shapes are equal.", fatal=True)


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
    wants = f"{name} needs one class index per sample: an int64 tensor of shape {index_shape}"
    looks_one_hot = y.ndim == out.ndim and y.shape[0] == n and y.shape[2:] == out.shape[2:]

    if y.is_floating_point():
        if y.shape == out.shape and p.loss.kind == "cross_entropy":
            return None  # class probabilities (soft labels): valid for CrossEntropyLoss
        if looks_one_hot:
            if y.shape[1] != c:
                return _one_hot_width(name, y, out)
            fix = "convert the one-hot rows to indices, y = y.argmax(1)"
        else:
            fix = "y = y.long()" + (".squeeze(1)" if y.shape == (n, 1) + index_shape[1:] else "")
            if not bool((y == y.round()).all()):
                fix += (" (but your targets are not whole numbers: if they are quantities to "
                        "predict, this is regression: use loss='mse' and one output)")
        return Diagnosis(f"{wants}, but {found}. torch would stop with 'expected target dtype "
                         f"to be Long'. Fix: {fix}.", fatal=True)
    if y.shape == index_shape:
        if y.dtype in _CE_DTYPES:
            return None
        return Diagnosis(f"{wants}, but {found}. Fix: y = y.long().", fatal=True)
    if y.shape == (n, 1) + index_shape[1:]:
        return Diagnosis(f"{wants}, but {found}: one column too many, and torch would stop "
                         "with 'multi-target not supported'. Fix: y = y.squeeze(1).long().",
                         fatal=True)
    if looks_one_hot:
        if y.shape[1] != c:
            return _one_hot_width(name, y, out)
        return Diagnosis(f"{wants}, but {found}: these look like one-hot rows. Fix: "
                         "y = y.argmax(1) (class indices).", fatal=True)
    return Diagnosis(f"{wants}, but {found}. Fix: build the targets as one class index per "
                     "sample.", fatal=True)


def _one_hot_width(name: str, y: torch.Tensor, out: torch.Tensor) -> Diagnosis:
    k, c = y.shape[1], out.shape[1]
    return Diagnosis(
        f"The targets look one-hot with {k} columns (shape {shape(y)}) but the model has {c} "
        f"outputs (shape {shape(out)}): {name} needs one score per class, and the numbers "
        f"disagree. Fix: give the last layer {k} outputs (nn.Linear(..., {k})) if there are "
        f"{k} classes, and pass class indices, y = y.argmax(1), rather than one-hot rows.",
        fatal=True)


def check_binary_targets(p: Probe) -> Diagnosis | None:
    """BCE losses want float targets of exactly the output's shape."""
    if p.loss is None or p.loss.kind not in ("bce_logits", "bce") or not _has_tensors(p):
        return None
    out, y, name = p.out, p.y, p.loss.name
    if out is None or out.ndim == 0:
        return None
    fixes = []
    if not y.is_floating_point():
        fixes.append("y = y.float() (0.0 / 1.0 targets)")
    if y.shape != out.shape:
        n = out.shape[0]
        if out.shape == (n, 1) and y.shape == (n,):
            fixes.append("y = y.unsqueeze(1) (or return out.squeeze(1) from forward)")
        elif out.shape == (n,) and y.shape == (n, 1):
            fixes.append("y = y.squeeze(1)")
        elif out.ndim == 2 and out.shape[1] >= 2 and y.shape == (n,):
            fixes.append(f"the model has {out.shape[1]} outputs but there is one label per "
                         "sample: for several classes use loss='cross_entropy' with int64 "
                         "labels; for a yes/no problem give the model a single output")
        else:
            fixes.append("make the targets the same shape as the outputs")
    if not fixes:
        return None
    return Diagnosis(
        f"{name} compares every output with a float target of the same shape, but the model "
        f"outputs {shape(out)} while the targets are {y.dtype} of shape {shape(y)} (torch "
        "would stop with a cryptic cast or size error). Fix: " + "; ".join(fixes) + ".",
        fatal=True)


def check_label_range(p: Probe) -> Diagnosis | None:
    """Class indices outside 0..C-1 crash deep inside torch ('Target 10 is out of bounds',
    or a device-side assert on GPU); BCE targets outside [0, 1] train silently on nonsense.
    A rare bad label may be missing from the first batch: scan the whole set when we can."""
    if p.loss is None or not _has_tensors(p) or p.out is None or p.out.ndim == 0:
        return None
    whole = dataset_tensors(p.data)
    y, where = (whole[1], "training set") if whole is not None else (p.y, "first batch")
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
                   f"{p.loss.name}(ignore_index={lo})")
        elif lo >= 1 and hi == c:
            fix = f"the labels look numbered from 1 to {c}: use y = y - 1"
        else:
            fix = (f"if there really are {hi + 1} classes, give the last layer {hi + 1} outputs "
                   f"(nn.Linear(..., {hi + 1})); otherwise check how the labels were built")
        return Diagnosis(
            f"Class labels must be integers in 0..{c - 1} because the model has {c} outputs "
            f"(output shape {shape(p.out)}), but the {where} has labels from {lo} to {hi} "
            f"({bad} of {labels.numel()} out of range). torch would stop with a cryptic "
            f"'Target {hi if hi >= c else lo} is out of bounds' (or a device-side assert on "
            f"GPU). Fix: {fix}.", fatal=True)
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
            "y = (y == positive_class).float().", fatal=True)
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
        when = "the first training batch has a single sample"
    elif plan is not None and plan[0] % plan[1] == 1 and not plan[2]:
        n, b, _ = plan
        when = (f"the last batch of every epoch has a single sample ({n} samples with "
                f"batch_size={b} leave {n} % {b} = 1)")
    else:
        return None
    layer = type(bns[single[0]]).__name__
    return Diagnosis(
        f"The model has {layer} layer '{single[0]}' and {when}. In training, BatchNorm "
        "normalizes each channel with the mean and variance of the current batch; one sample "
        "has no variance, so torch stops with 'Expected more than 1 value per channel when "
        "training'. Fix: use a batch_size > 1 that does not leave one sample over, or drop "
        "the short batch with Batches(X, y, batch_size=..., drop_last=True), or replace "
        "BatchNorm with nn.LayerNorm, which normalizes each sample on its own.", fatal=True)


_ACTIVATIONS = {nn.Softmax: "Softmax", nn.Sigmoid: "Sigmoid", nn.LogSoftmax: "LogSoftmax"}


def _final_activation(p: Probe) -> tuple[str | None, str]:
    """Which of Softmax / Sigmoid / LogSoftmax the model's output comes out of, and how we
    know. Best evidence: the last op of the autograd graph (finds nn.Softmax layers and
    torch.softmax calls alike, and ignores a Softmax module that forward does not return)."""
    if p.final_op is not None:
        act = p.final_op if p.final_op in _ACTIVATIONS.values() else None
        how = f"its forward ends with {act}"
    else:  # no graph (e.g. frozen parameters): trust the last registered layer
        last = _last_leaf(p.model)
        act = next((n for t, n in _ACTIVATIONS.items() if isinstance(last, t)), None)
        how = f"its last layer is nn.{act}"
    out = p.out
    if act is None and out is not None and out.ndim >= 2 and out.shape[1] >= 2:
        # softmax hidden behind some other op: rows of probabilities are not chance
        if bool(((out >= 0) & (out <= 1)).all()) and bool(((out.sum(1) - 1).abs() < 1e-3).all()):
            act = "Softmax"
            how = "its outputs on the first batch are all in [0, 1] and each row sums to 1"
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
                f"{name} expects log-probabilities, but the model outputs probabilities ({how}), "
                "so the loss is -p instead of -log p and learns badly. Fix: replace the final "
                f"{act} with nn.LogSoftmax(dim=1), or remove it and use CrossEntropyLoss on the "
                "raw logits.")
        if act is None and out is not None and out.ndim >= 2 and out.shape[1] >= 2:
            row_mass = out.exp().sum(1)
            if bool(((row_mass - 1).abs() > 1e-2).any()):
                return Diagnosis(
                    f"{name} expects log-probabilities, but the model outputs raw scores: "
                    f"exp(outputs) sums to {float(row_mass.min()):.3g}.."
                    f"{float(row_mass.max()):.3g} per row instead of 1. The loss then has no "
                    "lower bound and falls towards -inf by inflating one score. Fix: end the "
                    "model with nn.LogSoftmax(dim=1), or keep the raw logits and use "
                    "CrossEntropyLoss.")
        return None
    if act not in ("Softmax", "Sigmoid"):
        return None
    binary = p.loss.kind == "bce_logits"
    keep = ("; or keep the Sigmoid and use nn.BCELoss (less stable numerically)"
            if binary and act == "Sigmoid" else "")
    to_probs = "torch.sigmoid(logits)" if binary else "torch.softmax(logits, dim=1)"
    return Diagnosis(
        f"The model outputs probabilities ({how}), but {name} expects raw scores (logits) and "
        f"applies {'sigmoid' if binary else 'softmax'} itself. Squashing twice flattens the "
        "loss: gradients shrink, training crawls and stalls below the accuracy the model could "
        f"reach, without any error. Fix: remove the final {act} from the model (nn.{act} layer "
        f"or torch.{act.lower()} call in forward) and feed the logits to the loss; apply "
        f"{to_probs} only when you need probabilities{keep}.")


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
               "optionally standardize with the training mean and std")
    else:
        fix = ("standardize each feature with the training split's statistics: "
               "mean, std = X_train.mean(0), X_train.std(0); X = (X - mean) / std "
               "(the same mean and std for validation and test)")
    return Diagnosis(
        f"The inputs are not scaled: the first batch has mean {mean:.3g}, std {std:.3g}, "
        f"values from {lo:.3g} to {hi:.3g}. Weights are initialized for inputs around mean 0 "
        "and std 1; large inputs give huge activations and gradients, so training is unstable "
        f"(the loss jumps or becomes NaN) or needs a tiny learning rate. Fix: {fix}.")


# Order matters only for which fatal problem is reported when there are several: the most
# basic one (the one that would hide the others) comes first.
CHECKS_BEFORE_FIT = [
    check_schedulers,
    check_non_finite_data,
    check_batch_size,
    check_regression_targets,
    check_class_targets,
    check_binary_targets,
    check_label_range,
    check_batchnorm_batch_of_one,
    check_probabilities_into_logits_loss,
    check_input_scale,
]

__all__ = ["CHECKS_BEFORE_FIT", "Diagnosis", "LossInfo", "Probe", "batch_plan",
           "dataset_tensors", "describe_loss"]
