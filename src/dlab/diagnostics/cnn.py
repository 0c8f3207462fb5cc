"""Doctor check for a mistake class 128 lists as common: the dense layer after the
convolutions built for the wrong number of features (e.g. ``nn.Linear(64 * 7 * 7, 128)`` when
convolutions without padding leave 5×5 maps). Torch stops with 'mat1 and mat2 shapes cannot
be multiplied (128x1600 and 3136x128)', which names neither the layer nor the reason.

Runs only when the doctor's probe forward pass failed: one more forward pass of the first
batch (side-effect free) with hooks that find the first ``nn.Linear`` that received the wrong
width, and the shape of the feature maps the last ``nn.Flatten`` before it received.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from dlab.diagnostics.checks import Diagnosis, Probe


def _wrong_linear(model: nn.Module, x: torch.Tensor, device):
    """(name, layer, width it received, shape the last Flatten before it received) for the
    first Linear whose input width differs from its in_features; None if there is none."""
    from dlab.diagnostics.doctor import side_effect_free  # the doctor imports this module

    seen: dict = {"maps": None, "found": None}

    class Stop(Exception):
        pass

    def on_flatten(module, args):
        seen["maps"] = tuple(args[0].shape)

    def on_linear(name):
        def hook(module, args):
            width = args[0].shape[-1]
            if width != module.in_features and seen["found"] is None:
                seen["found"] = (name, module, width, seen["maps"])
                raise Stop
        return hook

    handles = [m.register_forward_pre_hook(on_flatten) for m in model.modules()
               if isinstance(m, nn.Flatten)]
    handles += [m.register_forward_pre_hook(on_linear(name))
                for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    try:
        with side_effect_free(model, device):
            model(x)
    except Exception:  # Stop, or the original failure
        pass
    finally:
        for h in handles:
            h.remove()
    return seen["found"]


def check_flatten_width(p: Probe) -> Diagnosis | None:
    """A Linear after convolutions does not match the flattened feature maps."""
    if p.forward_error is None or not isinstance(p.x, torch.Tensor) or p.x.ndim < 3:
        return None
    if not any(isinstance(m, nn.modules.conv._ConvNd) for m in p.model.modules()):
        return None
    found = _wrong_linear(p.model, p.x, p.trainer.device)
    if found is None or found[3] is None or len(found[3]) < 3:
        return None
    name, layer, width, maps = found
    per_sample = maps[1:]
    if math.prod(per_sample) != width:
        return None
    sizes = " × ".join(str(s) for s in per_sample)
    code = f"nn.Linear({layer.in_features}, {layer.out_features})"
    return Diagnosis(
        f"Layer {name!r}, {code}, expects {layer.in_features} features per image, but the "
        f"convolutions hand the Flatten feature maps of {sizes} = {width} values per image, so "
        f"torch stops with '{p.forward_error}'. Every convolution without padding shrinks the "
        "side by kernel − 1 and every 2×2 pool halves it: work the size out with "
        "(H − K + 2P) / S + 1 per layer, or print the shape before the Flatten. Fix: build it "
        f"as nn.Linear({width}, {layer.out_features}), or use padding=1 in the 3×3 "
        "convolutions if the model was designed for 'same' padding, or replace Flatten by "
        "global average pooling (nn.AdaptiveAvgPool2d(1) + nn.Flatten()), which does not "
        "depend on the image size.",
        f"La capa {name!r}, {code}, espera {layer.in_features} características por imagen, "
        f"pero las convoluciones entregan al Flatten mapas de {sizes} = {width} valores por "
        f"imagen, así que torch se detiene con '{p.forward_error}'. Cada convolución sin "
        "relleno reduce el lado en kernel − 1 y cada pool de 2×2 lo divide por dos: calcula el "
        "tamaño con (H − K + 2P) / S + 1 capa por capa, o imprime la forma antes del Flatten. "
        f"Solución: constrúyela como nn.Linear({width}, {layer.out_features}), o usa padding=1 "
        "en las convoluciones de 3×3 si el modelo se diseñó con relleno 'same', o sustituye el "
        "Flatten por un promedio global (nn.AdaptiveAvgPool2d(1) + nn.Flatten()), que no "
        "depende del tamaño de la imagen.", fatal=True)


CNN_CHECKS = [check_flatten_width]
