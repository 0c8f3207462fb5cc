"""Doctor check for vanishing gradients, a mistake the course's classes 107-109 list as common:
a deep stack of sigmoid (or tanh) layers, or initial weights far too small, leaves the first
layers with almost no gradient, and the loss stays flat near its starting value.

The check runs once, before the first step: one forward and backward pass of the first batch
(evaluation mode, RNG forked, training flags restored; ``torch.autograd.grad`` leaves every
``.grad`` as it was) gives the gradient norm of each layer's weights.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from dlab.diagnostics.checks import Diagnosis, Probe

# Warn when the first layer's weight gradient is below this share of the last layer's: three
# orders of magnitude. Healthy networks stay within about one.
VANISHING_RATIO = 1e-3
WEIGHTED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
SATURATING = {nn.Sigmoid: ("Sigmoid", "0.25"), nn.Tanh: ("Tanh", "1, and much less once it "
                                                         "saturates")}


def weight_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                          loss_fn) -> list[tuple[str, float | None]]:
    """``(layer name, ‖∂loss/∂W‖)`` for the weights of every Linear or Conv layer that trains,
    in the order the model registers them (for a Sequential, input to output), from one
    forward and backward pass of ``loss_fn(model(x), y)``. Uses ``torch.autograd.grad``: the
    parameters' ``.grad`` are left untouched. A layer the loss does not reach gets None."""
    layers = [(name, m) for name, m in model.named_modules()
              if isinstance(m, WEIGHTED_LAYERS) and m.weight.requires_grad]
    if not layers:
        return []
    loss = loss_fn(model(x), y)
    grads = torch.autograd.grad(loss, [m.weight for _, m in layers], allow_unused=True)
    return [(name, None if g is None else float(g.norm())) for (name, _), g in zip(layers, grads)]


def check_vanishing_gradients(p: Probe) -> Diagnosis | None:
    """The first layer's weights get a gradient at least a thousand times smaller than the
    last layer's: the early layers will hardly learn."""
    if p.out is None or p.loss is None or not isinstance(p.x, torch.Tensor) \
            or not isinstance(p.y, torch.Tensor):
        return None
    from dlab.diagnostics.doctor import side_effect_free  # the doctor imports this module

    with side_effect_free(p.model, p.trainer.device, graph=True):
        norms = [(n, g) for n, g in weight_gradient_norms(p.model, p.x, p.y, p.trainer.loss_fn)
                 if g is not None]
    if len(norms) < 3:
        return None
    (first, g_first), (last, g_last) = norms[0], norms[-1]
    if not (math.isfinite(g_first) and math.isfinite(g_last)) or g_last <= 0:
        return None
    ratio = g_first / g_last
    if ratio >= VANISHING_RATIO:
        return None
    kinds = [SATURATING[type(m)] for m in p.model.modules() if type(m) in SATURATING]
    if kinds:
        name, slope = kinds[0]
        cause = (f"the model has {len(kinds)} {name} layers, and {name}'s slope is at most "
                 f"{slope}: the product of one such factor per layer shrinks toward 0",
                 f"el modelo tiene {len(kinds)} capas {name}, y la pendiente de {name} vale "
                 f"como mucho {slope}: el producto de un factor así por capa se achica hacia 0")
    else:
        cause = ("the initial weights are too small for this depth, so every layer shrinks the "
                 "signal and its gradient",
                 "los pesos iniciales son demasiado pequeños para esta profundidad, así que cada "
                 "capa achica la señal y su gradiente")
    return Diagnosis(
        f"Vanishing gradients: on the first batch, the gradient of the first layer's weights "
        f"('{first}', norm {g_first:.1e}) is {ratio:.0e} times that of the last layer "
        f"('{last}', norm {g_last:.1e}), across {len(norms)} layers with weights. On its way "
        "back, the gradient is multiplied at every layer by the weights and by the slope of "
        f"the activation; here {cause[0]}. The first layers will barely move and the loss "
        "will stay near its starting value. Fix: use ReLU-like activations (nn.ReLU, nn.GELU, "
        "nn.ELU) with He initialization (nn.init.kaiming_normal_(layer.weight, "
        "nonlinearity='relu') and zero biases), add nn.BatchNorm1d after each Linear, or use "
        "fewer layers.",
        f"Gradientes que se desvanecen: en el primer lote, el gradiente de los pesos de la "
        f"primera capa ('{first}', norma {g_first:.1e}) es {ratio:.0e} veces el de la última "
        f"('{last}', norma {g_last:.1e}), a lo largo de {len(norms)} capas con pesos. En su "
        "camino hacia atrás, el gradiente se multiplica en cada capa por los pesos y por la "
        f"pendiente de la activación; aquí {cause[1]}. Las primeras capas apenas se moverán y "
        "la pérdida se quedará cerca de su valor inicial. Solución: usa activaciones del tipo "
        "ReLU (nn.ReLU, nn.GELU, nn.ELU) con la inicialización de He "
        "(nn.init.kaiming_normal_(layer.weight, nonlinearity='relu') y sesgos en cero), agrega "
        "nn.BatchNorm1d después de cada Linear, o usa menos capas.")


GRADIENT_CHECKS = [check_vanishing_gradients]
