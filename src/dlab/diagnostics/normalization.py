"""Doctor checks about normalization layers: mistakes class 110 (BatchNorm, LayerNorm) lists as
common. (BatchNorm on a batch of one sample is ``checks.check_batchnorm_batch_of_one``.)"""
from __future__ import annotations

from torch import nn

from dlab.diagnostics.checks import Diagnosis, Probe, _last_leaf


def _normalized_width(layer: nn.Module) -> int | None:
    """How many features ``layer`` normalizes, if it is a BatchNorm or a LayerNorm."""
    if isinstance(layer, nn.modules.batchnorm._BatchNorm):
        return layer.num_features
    if isinstance(layer, nn.LayerNorm):
        return layer.normalized_shape[-1]
    return None


def check_normalized_outputs(p: Probe) -> Diagnosis | None:
    """A BatchNorm or LayerNorm as the model's last layer normalizes the outputs themselves
    (logits or predictions): their mean and spread are pinned to what β and γ allow, and a
    BatchNorm there makes the outputs of training and of evaluation come from different
    statistics. The last Linear already gives outputs of any scale."""
    last = _last_leaf(p.model)
    width = _normalized_width(last)
    if width is None or p.out is None or p.out.ndim < 2 or p.out.shape[1] != width:
        return None
    name = next(n for n, m in p.model.named_modules() if m is last)
    kind = type(last).__name__
    return Diagnosis(
        f"The model ends with {kind} '{name}', so its {width} outputs (the values the loss "
        "reads) are normalized: they are standardized and only the layer's γ and β can move "
        "their scale and offset"
        + (", and BatchNorm standardizes them with the batch's statistics in training but with "
           "running averages in evaluation" if kind.startswith("BatchNorm") else "")
        + ". This is at best unnecessary and often hurts. Fix: end the model with the last "
        "nn.Linear and keep normalization between hidden layers (Linear → Norm → activation).",
        f"El modelo termina con {kind} '{name}', así que sus {width} salidas (los valores que "
        "lee la pérdida) quedan normalizadas: se estandarizan y solo γ y β de la capa pueden "
        "mover su escala y su desplazamiento"
        + (", y BatchNorm las estandariza con las estadísticas del lote al entrenar pero con "
           "medias móviles al evaluar" if kind.startswith("BatchNorm") else "")
        + ". En el mejor caso es innecesario y a menudo perjudica. Solución: termina el modelo "
        "con el último nn.Linear y deja la normalización entre capas ocultas (Linear → Norm → "
        "activación).")


NORMALIZATION_CHECKS = [check_normalized_outputs]
