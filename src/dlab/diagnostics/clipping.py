"""Doctor check for gradient clipping, a mistake the course's class 111 lists as common: a cap
(``Trainer(grad_clip=...)``) far below the size of the network's gradients, e.g. 0.01. Every
step is then rescaled by a large factor: with SGD the model crawls as if the learning rate
were that many times smaller, and with any optimizer the clip stops being a guard against
rare spikes and becomes a permanent rewrite of the gradient.

The check runs once, before the first step, on the gradient of the first batch (one forward
and backward pass in evaluation mode, as for the vanishing-gradient check; ``.grad`` is left
untouched).
"""
from __future__ import annotations

import math

import torch

from dlab.diagnostics.checks import Diagnosis, Probe
from dlab.diagnostics.vanishing import weight_gradient_norms

# Warn when the first batch's gradient norm is this many times the cap.
AGGRESSIVE_RATIO = 20.0


def check_aggressive_clipping(p: Probe) -> Diagnosis | None:
    """The gradient of the first batch is at least 20 times the clipping cap."""
    cap = getattr(p.trainer, "grad_clip", None)
    if cap is None or p.out is None or p.loss is None or not isinstance(p.x, torch.Tensor) \
            or not isinstance(p.y, torch.Tensor):
        return None
    from dlab.diagnostics.doctor import side_effect_free  # the doctor imports this module

    with side_effect_free(p.model, p.trainer.device, graph=True):
        norms = [g for _, g in weight_gradient_norms(p.model, p.x, p.y, p.trainer.loss_fn)
                 if g is not None]
    norm = math.sqrt(sum(g * g for g in norms))
    if not math.isfinite(norm) or norm < AGGRESSIVE_RATIO * cap:
        return None
    ratio = norm / cap
    return Diagnosis(
        f"grad_clip={cap:g} is far below the size of this network's gradients: the first "
        f"batch's gradient has norm {norm:.3g}, so clipping will shrink it about {ratio:.0f}× "
        "at every step. Clipping that always acts no longer guards against rare spikes; it "
        f"rewrites every update (with SGD the model learns as if the learning rate were "
        f"{ratio:.0f}× smaller). Fix: use a cap near the usual gradient norm or above it "
        "(grad_clip=1.0 is the common default, 5.0 for recurrent networks) and watch how "
        "often it acts.",
        f"grad_clip={cap:g} está muy por debajo del tamaño de los gradientes de esta red: el "
        f"gradiente del primer lote tiene norma {norm:.3g}, así que el recorte lo encogerá "
        f"unas {ratio:.0f} veces en cada paso. Un recorte que actúa siempre ya no protege de "
        "picos raros; reescribe cada actualización (con SGD el modelo aprende como si la tasa "
        f"de aprendizaje fuera {ratio:.0f} veces menor). Solución: usa un tope cercano a la "
        "norma habitual del gradiente o por encima (grad_clip=1.0 es el valor habitual, 5.0 "
        "para redes recurrentes) y observa cuántas veces actúa.")


CLIPPING_CHECKS = [check_aggressive_clipping]
