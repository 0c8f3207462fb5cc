"""The doctor's checks for a Keras model's loss ("Errores comunes" of classes 102-103, 119).

A cross-entropy's ``from_logits`` that disagrees with the model's last activation:

Keras's cross-entropies take probabilities by default (``from_logits=False``). A model that
ends in a linear ``Dense`` gives them raw scores, which Keras divides by their sum and clips
into [1e-7, 1 - 1e-7] as if they were probabilities: the loss is wrong and training is poor.
The opposite (softmax output with ``from_logits=True``) squashes twice.
Both run without any error. And one loss for a model with several outputs, which Keras
applies to all of them. Each check names the mistake before the first step.
"""
from __future__ import annotations

from dlab.diagnostics.checks import Diagnosis

CROSS_ENTROPIES = {"SparseCategoricalCrossentropy": "softmax",
                   "CategoricalCrossentropy": "softmax", "BinaryCrossentropy": "sigmoid"}
STRING_LOSSES = {"sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
                 "categorical_crossentropy": "CategoricalCrossentropy",
                 "binary_crossentropy": "BinaryCrossentropy"}


def _loss(loss) -> tuple[str, bool] | None:
    """(class name, from_logits) of a Keras cross-entropy given as object or string."""
    if isinstance(loss, str):
        name = STRING_LOSSES.get(loss)
        return (name, False) if name else None
    name = type(loss).__name__
    if name in CROSS_ENTROPIES:
        return name, bool(getattr(loss, "from_logits", False))
    return None


def _last_activation(model) -> str | None:
    layers = [layer for layer in getattr(model, "layers", []) if layer.weights or
              type(layer).__name__ in ("Activation", "Softmax")]
    if not layers:
        return None
    last = layers[-1]
    if type(last).__name__ == "Softmax":
        return "softmax"
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", None)


def check_keras_logits(model, loss) -> Diagnosis | None:
    """A Diagnosis when ``loss`` is a Keras cross-entropy whose ``from_logits`` does not match
    the activation of ``model``'s last layer; None when they agree or are not known."""
    found = _loss(loss)
    activation = _last_activation(model)
    if found is None or activation is None:
        return None
    name, from_logits = found
    squash = CROSS_ENTROPIES[name]
    if from_logits and activation == squash:
        return Diagnosis(
            f"The model ends in {squash} but {name}(from_logits=True) applies {squash} "
            f"itself: the outputs are squashed twice, the loss flattens and training stalls "
            f"without an error. Fix: make the last Dense linear (no activation), or keep "
            f"the {squash} and use {name}() with from_logits=False.",
            f"El modelo termina en {squash} pero {name}(from_logits=True) aplica {squash} "
            f"por su cuenta: las salidas se aplastan dos veces, la pérdida se aplana y el "
            f"entrenamiento se estanca sin error. Solución: deja lineal la última Dense (sin "
            f"activación), o conserva la {squash} y usa {name}() con from_logits=False.")
    if not from_logits and activation == "linear":
        text = next(k for k, v in STRING_LOSSES.items() if v == name)
        return Diagnosis(
            f"The model's last layer is linear (raw scores, logits) but {name} expects "
            f"probabilities (from_logits=False, the default, also for the string "
            f"'{text}'): Keras divides the scores (negative ones too) by their sum and clips "
            f"them into [1e-7, 1 - 1e-7] as if they were probabilities, so the loss is wrong "
            f"and training is poor, without an error. Fix: "
            f"{name}(from_logits=True), or end the model with activation='{squash}'.",
            f"La última capa del modelo es lineal (puntuaciones crudas, logits) pero {name} "
            f"espera probabilidades (from_logits=False, el valor por defecto, también para "
            f"el texto '{text}'): Keras divide las puntuaciones (también las negativas) por su "
            f"suma y las recorta a [1e-7, 1 - 1e-7] como si fueran probabilidades, así que la "
            f"pérdida es incorrecta y el entrenamiento es pobre, sin error. "
            f"Solución: {name}(from_logits=True), o termina el modelo con "
            f"activation='{squash}'.")
    return None


def check_keras_one_loss_for_many_outputs(model, loss) -> Diagnosis | None:
    """A model with several outputs compiled with one loss (a string or a single Loss): Keras
    applies that loss to every output, e.g. MSE to a yes/no head (class 103)."""
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) < 2 or loss is None or isinstance(loss, (dict, list, tuple)):
        return None
    shown = loss if isinstance(loss, str) else type(loss).__name__
    names = ", ".join(f"'{name}'" for name in getattr(model, "output_names", []))
    return Diagnosis(
        f"The model has {len(outputs)} outputs ({names}) but one loss, {shown}: Keras applies "
        f"it to every output, so a regression loss also scores a classification head (or the "
        f"reverse). Fix: one loss per output, as a dict keyed by output name, e.g. "
        f"loss={{'price': 'mse', 'expensive': 'binary_crossentropy'}}, with loss_weights "
        f"the same way.",
        f"El modelo tiene {len(outputs)} salidas ({names}) pero una sola pérdida, {shown}: "
        f"Keras la aplica a todas las salidas, así que una pérdida de regresión también "
        f"evalúa una cabeza de clasificación (o al revés). Solución: una pérdida por salida, "
        f"como dict con el nombre de cada salida, p. ej. loss={{'price': 'mse', "
        f"'expensive': 'binary_crossentropy'}}, y loss_weights del mismo modo.")


KERAS_CHECKS = (check_keras_logits, check_keras_one_loss_for_many_outputs)
