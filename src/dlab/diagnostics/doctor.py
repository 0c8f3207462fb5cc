"""The training doctor: recognises classic training mistakes and explains the fix.

The Trainer calls it at three points, never per batch (the hot loop stays plain PyTorch):

* ``before_fit(trainer, (xb, yb))`` once, with the first batch on the device. One forward pass
  (eval mode, no grad, RNG forked, training flags restored) feeds the checks of
  ``dlab.diagnostics.checks``, ``.optimizers`` and ``.normalization`` (``.vanishing`` adds one
  backward pass of that batch). Fatal findings raise ``TrainingError``; the others warn.
* ``non_finite_loss(trainer, value, xb)`` only when a batch loss is NaN/inf: always raises,
  naming the epoch and step and the most likely cause given the evidence.
* ``after_epoch(trainer, logs)``: the dead-ReLU scan, one forward pass over <= 512 samples
  with hooks that exist only during that pass.

Before all of these, ``check_fit_data(trainer, train, val)`` (not gated by ``doctor=``: it only
replaces an error) rejects ``(X, y)`` tuples whose X and y have different numbers of rows.

Every message exists in English and Spanish (``Diagnosis.en`` / ``.es``); the doctor shows the
one of ``trainer.lang``.

Every check is defensive: an unknown loss, a non-tensor batch or a model that fails the probe
forward pass is skipped, never turned into a crash of its own.
"""
from __future__ import annotations

import contextlib
import math
import re
from collections import Counter

import torch
from torch import nn

from dlab.diagnostics.clipping import CLIPPING_CHECKS
from dlab.diagnostics.cnn import CNN_CHECKS
from dlab.diagnostics.checks import (CHECKS_BEFORE_FIT, Diagnosis, LayerCall, Probe,
                                     check_data_rows, dataset_tensors, describe_loss)
from dlab.diagnostics.normalization import NORMALIZATION_CHECKS
from dlab.diagnostics.optimizers import OPTIMIZER_CHECKS
from dlab.diagnostics.sequences import SEQUENCE_CHECKS, exploding_through_time
from dlab.diagnostics.vanishing import GRADIENT_CHECKS
from dlab.errors import TrainingError

SCAN_SAMPLES = 512  # training samples used by the dead-ReLU scan
SCAN_CHUNK = 256  # samples per forward pass of the scan (bounds its memory)
DEAD_SHARE = 0.5  # warn when more than this share of a layer's units is dead
MIN_SCAN_SAMPLES = 16  # fewer samples could call a unit dead by chance


@contextlib.contextmanager
def side_effect_free(model: nn.Module, device: torch.device, graph: bool = False):
    """Run a forward pass that leaves no trace: eval mode (no dropout; BatchNorm uses its
    running statistics and does not update them), a forked RNG (a model that samples noise
    must not shift the random stream), and afterwards every module's own training flag put
    back (not just ``model.train(mode)``: some submodules may be frozen). No autograd graph
    unless ``graph=True`` (the caller only reads the graph; nothing calls backward)."""
    flags = [(m, m.training) for m in model.modules()]
    devices = [device.index or 0] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), torch.set_grad_enabled(graph):
            model.eval()
            yield
    finally:
        for module, flag in flags:
            module.training = flag


def lang_of(trainer) -> str:
    """The language of the run's messages: ``trainer.lang`` ("en" or "es")."""
    return "es" if getattr(trainer, "lang", "en") == "es" else "en"


def check_fit_data(trainer, train, val=None) -> None:
    """Before any batch is built: an ``(X, y)`` tuple whose X and y have different numbers of
    rows would stop with a bare ValueError from ``Batches`` (or, for validation data, only
    after a whole epoch of training). Raise the explanation instead."""
    for data, role in ((train, "train"), (val, "val")):
        diagnosis = check_data_rows(data, role)
        if diagnosis is not None:
            raise TrainingError(diagnosis.text(lang_of(trainer)))


def _run(check, probe: Probe) -> Diagnosis | None:
    try:
        return check(probe)
    except Exception:  # a check that cannot cope with an unusual setup stays silent
        return None


class Doctor:
    def __init__(self):
        self._scan_x: torch.Tensor | None = None  # inputs of the dead-ReLU scan
        self._dead_reported: set[str] = set()  # warn once per layer, not every epoch

    # ------------------------------------------------------------------ before the first step
    def before_fit(self, trainer, batch) -> None:
        batch = list(batch) if isinstance(batch, (tuple, list)) else []
        x, y = (batch + [None, None])[:2]
        x = x if isinstance(x, torch.Tensor) else None
        y = y if isinstance(y, torch.Tensor) else None
        data = getattr(trainer, "train_batches", None)
        out, final_op, bn_values, error, first_layer = self._probe_forward(trainer, x)
        probe = Probe(trainer, x, y, out, describe_loss(trainer.loss_fn), data, final_op,
                      bn_values, error, first_layer)
        checks = CHECKS_BEFORE_FIT + OPTIMIZER_CHECKS + GRADIENT_CHECKS + NORMALIZATION_CHECKS
        checks = SEQUENCE_CHECKS + checks + CLIPPING_CHECKS + CNN_CHECKS
        findings = [d for d in (_run(check, probe) for check in checks) if d]
        lang = lang_of(trainer)
        for d in findings:
            if not d.fatal:
                trainer.warn(d.text(lang))
        fatal = next((d for d in findings if d.fatal), None)
        if fatal is not None:
            raise TrainingError(fatal.text(lang))
        try:
            self._scan_x = self._scan_inputs(trainer, x, data)
        except Exception:
            self._scan_x = None

    @staticmethod
    def _probe_forward(trainer, x):
        """``model(x)`` as a detached float tensor (None if it fails or is not a tensor), the
        op that produced it (from the autograd graph of this one batch, then dropped), for
        each BatchNorm layer how many values one sample gives it per channel, and, when the
        pass fails, the first line of the error and the first layer with parameters that the
        pass entered (what it received, and whether it got through)."""
        if x is None:
            return None, None, {}, None, None
        bn_values: dict[str, int] = {}
        first: list[LayerCall] = []

        def recorder(name):
            def hook(module, args):
                bn_values[name] = math.prod(args[0].shape[2:])  # 1 for (N, C) inputs
            return hook

        def enter(name):
            def hook(module, args):
                if not first:
                    arg = args[0] if args else None
                    first.append(LayerCall(name, module, tuple(arg.shape) if isinstance(
                        arg, torch.Tensor) else None))
            return hook

        def leave(module, args, output):
            if first and first[0].module is module:
                first[0].finished = True

        model = trainer.model
        handles = [m.register_forward_pre_hook(recorder(name))
                   for name, m in model.named_modules()
                   if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        for name, m in model.named_modules():
            if any(True for _ in m.parameters(recurse=False)):
                handles += [m.register_forward_pre_hook(enter(name)),
                            m.register_forward_hook(leave)]
        error = None
        try:
            with side_effect_free(model, trainer.device, graph=True):
                out = model(x)
        except Exception as exc:  # training itself will raise torch's error on the first step
            out = None
            lines = str(exc).strip().splitlines()
            error = (lines[0].strip() if lines else type(exc).__name__)[:200]
        finally:
            for h in handles:
                h.remove()
        layer = first[0] if first else None
        if not isinstance(out, torch.Tensor):
            return None, None, bn_values, error, layer
        return out.detach().float(), final_op(out), bn_values, error, layer

    @staticmethod
    def _scan_inputs(trainer, x, data) -> torch.Tensor | None:
        """Samples for the dead-ReLU scan: up to 512 rows spread evenly over the training set
        (no RNG involved) when it is in memory, else the first batch."""
        if x is None or x.ndim == 0 or not any(isinstance(m, nn.ReLU)
                                               for m in trainer.model.modules()):
            return None
        whole = dataset_tensors(data)
        if whole is not None:
            X = whole[0]
            idx = torch.linspace(0, X.shape[0] - 1, min(X.shape[0], SCAN_SAMPLES)).round().long()
            x = X.index_select(0, idx.to(X.device))
        return x.to(trainer.device) if x.shape[0] >= MIN_SCAN_SAMPLES else None

    # ------------------------------------------------------------------ during training
    def non_finite_loss(self, trainer, value: float, xb) -> None:
        lr = trainer.optimizer.param_groups[0].get("lr", math.nan)
        try:
            cause = _non_finite_cause(trainer, xb, lr)
        except Exception:
            cause = _generic_non_finite(lr, None, broken=False)
        epoch, step = trainer.epoch, trainer.batch_in_epoch + 1
        diagnosis = Diagnosis(
            f"The loss became {value} at epoch {epoch}, step {step} (learning rate {lr:g}). "
            f"{cause[0]}",
            f"La pérdida se volvió {value} en la época {epoch}, paso {step} (tasa de "
            f"aprendizaje {lr:g}). {cause[1]}", fatal=True)
        raise TrainingError(diagnosis.text(lang_of(trainer)))

    def after_epoch(self, trainer, logs: dict) -> None:
        if self._scan_x is None:
            return
        try:
            layers = dead_relus(trainer.model, self._scan_x, trainer.device)
        except Exception:
            return
        n = self._scan_x.shape[0]
        epoch = logs.get("epoch", trainer.epoch)
        for label, dead, total in layers:
            if dead / total <= DEAD_SHARE or label in self._dead_reported:
                continue
            self._dead_reported.add(label)
            etiqueta = re.sub(r" \(call (\d+)\)$", r" (llamada \1)", label)
            share = f"{dead / total:.0%}"
            trainer.warn(Diagnosis(
                f"Dead ReLUs: after epoch {epoch}, layer '{label}' "
                f"outputs 0 for all {n} training samples checked in {dead} of {total} units "
                f"({share}). A dead unit has zero gradient, so it never recovers: "
                "that part of the layer is lost capacity. Likely causes: a learning rate that "
                "is too high (one big update pushes the pre-activations below 0 for good), a "
                "poor initialization, or a large negative bias. Fix: lower the learning rate, "
                "use He initialization (nn.init.kaiming_normal_(layer.weight, "
                "nonlinearity='relu') with a zero bias), or use nn.LeakyReLU(0.01), which "
                "keeps a small gradient below 0.",
                f"ReLU muertas: después de la época {epoch}, la capa '{etiqueta}' produce 0 "
                f"para las {n} muestras de entrenamiento revisadas en {dead} de {total} "
                f"unidades ({share}). Una unidad muerta tiene gradiente cero, así que nunca se "
                "recupera: esa parte de la capa es capacidad perdida. Causas probables: una "
                "tasa de aprendizaje demasiado alta (una actualización grande empuja las "
                "preactivaciones por debajo de 0 para siempre), una mala inicialización o un "
                "sesgo negativo grande. Solución: baja la tasa de aprendizaje, usa la "
                "inicialización de He (nn.init.kaiming_normal_(layer.weight, "
                "nonlinearity='relu') con sesgo cero), o usa nn.LeakyReLU(0.01), que conserva "
                "un gradiente pequeño por debajo de 0.").text(lang_of(trainer)))


# Autograd nodes that only move or cast values: look through them for the real last op.
_PASS_THROUGH = ("View", "Reshape", "Unsafe", "Squeeze", "Unsqueeze", "Clone", "ToCopy",
                 "Permute", "Transpose", "Expand", "Alias", "Contiguous")


def final_op(out: torch.Tensor) -> str | None:
    """Name of the op that produced ``out`` ("Softmax", "Sigmoid", "Addmm"...), seen through
    reshapes and casts; None without a graph."""
    node = out.grad_fn
    while node is not None and node.name().startswith(_PASS_THROUGH):
        node = next((n for n, _ in node.next_functions if n is not None), None)
    return node.name().split("Backward")[0] if node is not None else None


# ---------------------------------------------------------------------- non-finite loss

def _generic_non_finite(lr: float, grad_clip: float | None, broken: bool) -> tuple[str, str]:
    """The usual causes when the evidence points nowhere in particular, (English, Spanish)."""
    if grad_clip is None:
        clip = ("clip gradients with Trainer(..., grad_clip=1.0)",
                "recorta los gradientes con Trainer(..., grad_clip=1.0)")
    else:
        clip = (f"clip gradients harder (grad_clip is {grad_clip:g})",
                f"recorta los gradientes con más fuerza (grad_clip vale {grad_clip:g})")
    weights = ((", which already happened: the weights now contain NaN/inf",
                ", lo que ya ocurrió: los pesos ahora contienen NaN/inf") if broken else ("", ""))
    return (
        "Likely causes: a learning rate that is too high (each update overshoots and the "
        f"weights grow until they overflow{weights[0]}), inputs that are not scaled, or "
        "exploding gradients in a deep or recurrent network. Fix: lower the learning rate "
        f"about 10x (e.g. lr={lr / 10:g}), standardize the inputs, and {clip[0]}.",
        "Causas probables: una tasa de aprendizaje demasiado alta (cada actualización se pasa "
        f"de largo y los pesos crecen hasta desbordarse{weights[1]}), entradas sin escalar, o "
        "gradientes que explotan en una red profunda o recurrente. Solución: baja la tasa de "
        f"aprendizaje unas 10 veces (p. ej., lr={lr / 10:g}), estandariza las entradas y "
        f"{clip[1]}.")


def _non_finite_cause(trainer, xb, lr: float) -> tuple[str, str]:
    """The most likely cause given the evidence at hand (the batch, the step, the weights),
    in English and Spanish."""
    if isinstance(xb, torch.Tensor) and xb.is_floating_point():
        bad = int((~torch.isfinite(xb)).sum())
        if bad:
            find = "torch.isnan(X).flatten(1).any(1).nonzero()"
            return (f"The batch itself contains {bad} NaN/inf input values (of {xb.numel()}): "
                    "the data is broken (e.g. missing values read as NaN, or a division by "
                    "zero in preprocessing) and no learning rate fixes that. Fix: find the "
                    f"rows with {find}, then drop or impute them before training.",
                    f"El propio lote contiene {bad} valores de entrada NaN/inf (de "
                    f"{xb.numel()}): los datos están rotos (p. ej., valores faltantes leídos "
                    "como NaN, o una división por cero en el preprocesamiento) y ninguna tasa de "
                    f"aprendizaje arregla eso. Solución: encuentra las filas con {find} y luego "
                    "elimínalas o imputa sus valores antes de entrenar.")
        largest = float(xb.abs().max()) if xb.numel() else 0.0
        if largest > 100:
            standardize = "X = (X - X_train.mean(0)) / X_train.std(0)"
            return (f"The inputs are far from unit scale (largest |x| = {largest:.3g}), so "
                    "activations, loss and gradients overflow. Likely cause: unscaled inputs. "
                    f"Fix: standardize the features with the training statistics, "
                    f"{standardize}, or divide raw pixels by 255; "
                    "then, if it persists, lower the learning rate.",
                    "Las entradas están lejos de la escala unitaria (mayor |x| = "
                    f"{largest:.3g}), así que las activaciones, la pérdida y los gradientes se "
                    "desbordan. Causa probable: entradas sin escalar. Solución: estandariza las "
                    f"características con las estadísticas de entrenamiento, {standardize}, o "
                    "divide los píxeles crudos por 255; luego, si persiste, baja la tasa de "
                    "aprendizaje.")
    if trainer.global_step == 0:
        return ("It happened on the very first step, before any weight update, so the "
                "learning rate is not the cause. Check the targets for NaN/inf "
                "(torch.isfinite(y).all()) and any log, sqrt or division in the model or a "
                "custom loss (add a small eps, e.g. torch.log(p + 1e-8)).",
                "Ocurrió en el primer paso, antes de cualquier actualización de los pesos, así "
                "que la tasa de aprendizaje no es la causa. Revisa si los objetivos tienen "
                "NaN/inf (torch.isfinite(y).all()) y cualquier log, sqrt o división en el "
                "modelo o en una pérdida personalizada (agrega un eps pequeño, p. ej. "
                "torch.log(p + 1e-8)).")
    broken = any(not bool(torch.isfinite(p).all()) for p in trainer.model.parameters())
    return (exploding_through_time(trainer, xb, lr)
            or _generic_non_finite(lr, trainer.grad_clip, broken))


# ---------------------------------------------------------------------- dead ReLUs


def dead_relus(model: nn.Module, x: torch.Tensor,
               device: torch.device) -> list[tuple[str, int, int]]:
    """``(layer, dead units, units)`` for every ``nn.ReLU`` call in a forward pass over ``x``.

    A unit is dead when it outputs 0 for every sample (and, for feature maps, every position).
    Units are dimension 1: the features of ``(N, F)``, the channels of ``(N, C, H, W)``. A ReLU
    module used several times in ``forward`` counts as one layer per call. Hooks exist only
    during this pass; only a per-unit flag is kept, never the activations.
    """
    relus = [(name or type(model).__name__, m) for name, m in model.named_modules()
             if isinstance(m, nn.ReLU)]
    fired: dict[tuple[str, int], torch.Tensor] = {}
    calls: Counter = Counter()

    def recorder(name):
        def hook(module, inputs, output):
            key = (name, calls[name])
            calls[name] += 1
            if isinstance(output, torch.Tensor) and output.ndim >= 2 and output.shape[1]:
                dims = [d for d in range(output.ndim) if d != 1]
                now = output.detach().amax(dim=dims) > 0
                fired[key] = now if key not in fired else fired[key] | now
        return hook

    handles = [m.register_forward_hook(recorder(name)) for name, m in relus]
    try:
        with side_effect_free(model, device):
            for chunk in x.split(SCAN_CHUNK):
                calls.clear()
                model(chunk)
    finally:
        for h in handles:
            h.remove()
    report = []
    for (name, call), alive in fired.items():
        label = f"{name} (call {call + 1})" if calls[name] > 1 else name
        report.append((label, int((~alive).sum()), alive.numel()))
    return report
