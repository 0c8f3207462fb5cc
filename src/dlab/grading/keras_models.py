"""A Keras model as data, and back: its serialized config (JSON) and its weights (arrays).

A student's function that returns a Keras model hands the grader this description; the
grader rebuilds a real Keras model from it with ``safe_mode`` and only if every object the
config names is a Keras built-in (no custom classes, no ``Lambda``, no module outside
``keras``). The rebuilt model's code is Keras's, so checks and training on it are trusted.
"""
from __future__ import annotations

import json
import sys

from dlab.grading.wire import WireError

TAG = "$keras"
MODULES = {"keras", "keras.layers", "keras.models", "keras.initializers", "keras.regularizers",
           "keras.constraints", "keras.activations", "keras.src.models.functional",
           "keras.src.models.sequential"}
REFUSED = {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}
MAX_CONFIG = 1_000_000  # characters


def is_keras_model(value) -> bool:
    """True for a Keras model; never imports Keras (a lab that uses it has imported it)."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


def describe(model, encode) -> dict:
    """The sandbox side: the model's config without its compile settings, and its weights."""
    import keras

    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    return {TAG: json.dumps(config), "weights": encode(list(model.get_weights()))}


def _check(node, path: str = "model") -> None:
    if isinstance(node, dict):
        if "class_name" in node and "module" in node:
            name = f"{node['module']}.{node['class_name']}"
            if node.get("registered_name") not in (None, node["class_name"]):
                name += f" (registered as {node['registered_name']})"
            if node["module"] not in MODULES or name != f"{node['module']}.{node['class_name']}":
                raise WireError(f"{path}: {name} is not a Keras built-in")
            if node["class_name"] in REFUSED:
                raise WireError(f"{path}: a {node['class_name']} layer runs arbitrary code")
        for key, value in node.items():
            _check(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check(value, f"{path}[{i}]")


def rebuild(desc: dict, decode):
    """The grader side: a real Keras model, or WireError if the description names anything
    but Keras built-ins or its weights do not fit."""
    import keras

    text = desc.get(TAG)
    if not isinstance(text, str) or len(text) > MAX_CONFIG:
        raise WireError("a malformed Keras model")
    try:
        config = json.loads(text)
    except ValueError:
        raise WireError("a Keras model whose config is not JSON") from None
    _check(config)
    weights = decode(desc.get("weights"))
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as exc:  # Keras's own errors for a config it cannot build
        raise WireError(f"a Keras model that Keras cannot rebuild ({type(exc).__name__})") from None
    if not isinstance(model, keras.Model) or not isinstance(weights, list):
        raise WireError("a Keras description that is not a model")
    try:
        model.set_weights(weights)
    except Exception:  # count or shapes differ from the config
        raise WireError("a Keras model whose weights do not fit its layers") from None
    return model
