"""Doctor checks for sequence models, mistakes the course's classes 135-141 list as common:

* a recurrent layer (``nn.RNN``/``nn.LSTM``/``nn.GRU``) left with ``batch_first=False`` but fed
  ``(batch, time, features)``: it reads the batch as time and each time step as a sample, and
  trains on nonsense without any error (class 135, "RNN expects (batch, timesteps, features)");
* per-position logits ``(B, T, V)``, as a ``nn.Linear`` leaves them, passed to
  ``CrossEntropyLoss``, which wants the classes in dimension 1, ``(B, V, T)``: torch stops with
  'Expected target size (B, V), got [B, T]', which names neither the cause nor the fix;
* padding counted in the loss: targets padded with an embedding's ``padding_idx`` and a
  cross-entropy without ``ignore_index`` (classes 137 and 140, "padding / masking ignored");
* a loss that turns NaN/inf in a recurrent model trained without gradient clipping: exploding
  gradients through time (classes 135 and 137, "the loss explodes with long sequences"). This
  one runs only when the loss is already non-finite; the others before the first step (one
  extra forward pass of the first batch, side-effect free, only for models with a recurrent
  layer).
"""
from __future__ import annotations

import torch
from torch import nn

from dlab.diagnostics.checks import Diagnosis, Probe, dataset_tensors, shape

RECURRENT = nn.RNNBase  # nn.RNN, nn.LSTM and nn.GRU


def recurrent_layers(model: nn.Module) -> list[tuple[str, nn.RNNBase]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, RECURRENT)]


def recurrent_input_shapes(model: nn.Module, x: torch.Tensor,
                           device) -> list[tuple[str, nn.RNNBase, tuple[int, ...]]]:
    """``(name, layer, input shape)`` of every call of a recurrent layer in one forward pass of
    ``x`` (packed sequences skipped). Recorded before each call, so a pass that fails inside
    a recurrent layer still shows what it received."""
    from dlab.diagnostics.doctor import side_effect_free  # the doctor imports this module

    calls = []

    def recorder(name):
        def hook(module, args):
            if args and isinstance(args[0], torch.Tensor):
                calls.append((name, module, tuple(args[0].shape)))
        return hook

    handles = [m.register_forward_pre_hook(recorder(name))
               for name, m in recurrent_layers(model)]
    try:
        with side_effect_free(model, device):
            model(x)
    except Exception:  # torch's own error comes on the first step; the shapes are recorded
        pass
    finally:
        for h in handles:
            h.remove()
    return calls


def check_batch_first(p: Probe) -> Diagnosis | None:
    """A recurrent layer with ``batch_first=False`` receives ``(B, T, F)``: dimension 0 is the
    batch size of the first batch and dimension 1 is not. (A time-major input ``(T, B, F)``
    has the batch size in dimension 1, so it never matches; T == B is left alone.)"""
    if not isinstance(p.x, torch.Tensor) or p.x.ndim == 0:
        return None
    if not any(not m.batch_first for _, m in recurrent_layers(p.model)):
        return None
    b = p.x.shape[0]
    for name, m, got in recurrent_input_shapes(p.model, p.x, p.trainer.device):
        if m.batch_first or len(got) != 3 or got[0] != b or got[1] == b:
            continue
        kind, t = type(m).__name__, got[1]
        code = f"nn.{kind}({m.input_size}, {m.hidden_size}, batch_first=True)"
        return Diagnosis(
            f"Recurrent layer {name!r} (nn.{kind}) was built with batch_first=False, so it "
            f"reads its input as (time, batch, features), but it receives {got}: a batch of "
            f"{b} sequences of {t} steps, batch first. It will run {b} time steps over {t} "
            "'samples', carrying its state from one sequence of the batch to the next and "
            "never along the sequence itself; the shapes still fit, so it trains on nonsense "
            f"without any error. Fix: build it as {code} (its outputs are then (batch, time, "
            "hidden) too), or pass it x.transpose(0, 1).",
            f"La capa recurrente {name!r} (nn.{kind}) se construyó con batch_first=False, así "
            f"que lee su entrada como (tiempo, lote, características), pero recibe {got}: un "
            f"lote de {b} secuencias de {t} pasos, con el lote primero. Recorrerá {b} pasos de "
            f"tiempo sobre {t} 'muestras', llevando su estado de una secuencia del lote a la "
            "siguiente y nunca a lo largo de la propia secuencia; las formas encajan igual, así "
            "que entrena con datos sin sentido sin ningún error. Solución: constrúyela como "
            f"{code} (sus salidas también serán entonces (lote, tiempo, oculto)), o pásale "
            "x.transpose(0, 1).", fatal=True)
    return None


def check_classes_last(p: Probe) -> Diagnosis | None:
    """Cross-entropy on per-position logits ``(B, T, V)`` with targets ``(B, T)``: torch wants
    the classes in dimension 1. (With T == V the shapes cannot tell the layouts apart.)"""
    if p.loss is None or p.loss.kind not in ("cross_entropy", "nll"):
        return None
    out, y = p.out, p.y
    if out is None or not isinstance(y, torch.Tensor) or out.ndim != 3:
        return None
    if y.is_floating_point() or y.shape != out.shape[:2] or out.shape[1] == out.shape[2]:
        return None
    b, t, v = out.shape
    flat = f"{p.loss.name}(logits.reshape(-1, {v}), y.reshape(-1))"
    return Diagnosis(
        f"{p.loss.name} wants the classes in dimension 1, logits of shape (batch, classes, "
        f"time) = ({b}, {v}, {t}), but the model returns {shape(out)}: one row of {v} scores "
        f"per position, the layout nn.Linear leaves, classes last. torch reads the {t} time "
        f"steps as the classes and stops with 'Expected target size ({b}, {v}), got "
        f"[{b}, {t}]'. Fix: return logits.transpose(1, 2) from forward, or flatten positions "
        f"into samples in the loss, {flat}.",
        f"{p.loss.name} quiere las clases en la dimensión 1, logits de forma (lote, clases, "
        f"tiempo) = ({b}, {v}, {t}), pero el modelo devuelve {shape(out)}: una fila de {v} "
        f"puntuaciones por posición, la disposición que deja nn.Linear, con las clases al "
        f"final. torch toma los {t} pasos de tiempo como clases y se detiene con 'Expected "
        f"target size ({b}, {v}), got [{b}, {t}]'. Solución: devuelve logits.transpose(1, 2) "
        f"desde forward, o aplana las posiciones como muestras en la pérdida, {flat}.",
        fatal=True)


def _padding_at_the_ends(y: torch.Tensor, pad: int) -> bool:
    """Every row's ``pad`` entries form one run that touches the start or the end of the row,
    the way padding looks (a real class scattered inside the rows does not)."""
    is_pad = (y == pad).reshape(y.shape[0], -1).int()
    count = is_pad.sum(1, keepdim=True)
    idx = torch.arange(is_pad.shape[1], device=y.device)
    suffix = (idx >= is_pad.shape[1] - count).int()
    prefix = (idx < count).int()
    return bool(((is_pad == suffix).all(1) | (is_pad == prefix).all(1)).all())


def check_padding_in_loss(p: Probe) -> Diagnosis | None:
    """Per-position targets padded with an embedding's ``padding_idx``, and a cross-entropy
    whose ``ignore_index`` is another value: every padded position is graded too."""
    if p.loss is None or p.loss.kind not in ("cross_entropy", "nll"):
        return None
    out, y = p.out, p.y
    if out is None or out.ndim < 3 or not isinstance(y, torch.Tensor) or y.ndim < 2 \
            or y.is_floating_point():
        return None
    pads = {(name, m.padding_idx) for name, m in p.model.named_modules()
            if isinstance(m, nn.Embedding) and m.padding_idx is not None}
    whole = dataset_tensors(p.data)
    targets = whole[1] if whole is not None and whole[1].shape[1:] == y.shape[1:] else y
    for name, pad in sorted(pads, key=lambda item: item[1]):
        if pad == p.loss.ignore_index or not 0 <= pad < out.shape[1]:
            continue
        share = float((targets == pad).float().mean())
        if share == 0 or not _padding_at_the_ends(targets, pad):
            continue
        fix = f"nn.CrossEntropyLoss(ignore_index={pad})" if p.loss.kind == "cross_entropy" \
            else f"nn.NLLLoss(ignore_index={pad})"
        return Diagnosis(
            f"{share:.0%} of the target positions are padding (id {pad}, the padding_idx of "
            f"embedding {name!r}), and {p.loss.name} counts them: its ignore_index is "
            f"{p.loss.ignore_index}. The model is also graded on predicting padding after "
            "every short sequence, an easy guess that lowers the loss and raises the "
            "accuracy without learning anything about the real tokens, and pulls the "
            f"gradient away from them. Fix: loss={fix}, and leave the padding out of any "
            "accuracy you compute by hand (mask = y != pad).",
            f"El {share:.0%} de las posiciones objetivo son relleno (id {pad}, el padding_idx "
            f"del embedding {name!r}), y {p.loss.name} las cuenta: su ignore_index es "
            f"{p.loss.ignore_index}. Al modelo también se le califica por predecir el relleno "
            "tras cada secuencia corta, una apuesta fácil que baja la pérdida y sube la "
            "exactitud sin aprender nada de los tokens reales, y aleja el gradiente de ellos. "
            f"Solución: loss={fix}, y deja el relleno fuera de cualquier exactitud que "
            "calcules a mano (mask = y != pad).")
    return None


def exploding_through_time(trainer, xb, lr: float) -> tuple[str, str] | None:
    """Cause of a NaN/inf loss in a recurrent model trained without gradient clipping, in
    English and Spanish; None when the model has no recurrent layer or clips."""
    layers = recurrent_layers(trainer.model)
    if not layers or getattr(trainer, "grad_clip", None) is not None:
        return None
    name, m = layers[0]
    steps = (f" over {xb.shape[1]} time steps", f" sobre {xb.shape[1]} pasos de tiempo") \
        if isinstance(xb, torch.Tensor) and xb.ndim >= 2 else ("", "")
    return (
        f"The model has recurrent layer {name!r} (nn.{type(m).__name__}) and trains without "
        "gradient clipping: backpropagation through time multiplies the gradient by the "
        f"recurrent weights once per step{steps[0]}, so one unlucky batch can make it explode "
        "and a single update throws the weights to inf/NaN. Fix: clip the gradient norm, "
        "Trainer(..., grad_clip=1.0) (the usual cap for recurrent networks is 1 to 5); if it "
        f"still happens, also lower the learning rate (e.g. lr={lr / 10:g}) or use shorter "
        "sequences.",
        f"El modelo tiene la capa recurrente {name!r} (nn.{type(m).__name__}) y entrena sin "
        "recorte de gradientes: la retropropagación a través del tiempo multiplica el "
        f"gradiente por los pesos recurrentes una vez por paso{steps[1]}, así que un lote "
        "desafortunado puede hacerlo explotar y una sola actualización lleva los pesos a "
        "inf/NaN. Solución: recorta la norma del gradiente, Trainer(..., grad_clip=1.0) (el "
        "tope habitual para redes recurrentes va de 1 a 5); si aun así ocurre, baja también "
        f"la tasa de aprendizaje (p. ej., lr={lr / 10:g}) o usa secuencias más cortas.")


# Before the generic checks: a recurrent layer reading the batch as time, or logits with the
# classes last, would otherwise surface as a misleading target-shape or label-range error.
SEQUENCE_CHECKS = [check_batch_first, check_classes_last, check_padding_in_loss]
