"""The graph of a Keras Functional model, read from its serialized config (Keras's public
format, the same one `.keras` files hold): which layers feed each layer."""
from __future__ import annotations


def _histories(node) -> list[str]:
    """Names of the layers whose outputs appear anywhere in a serialized call."""
    if isinstance(node, dict):
        history = node.get("config", {}).get("keras_history") if isinstance(
            node.get("config"), dict) else None
        if node.get("class_name") == "__keras_tensor__" and history:
            return [history[0]]
        return [name for value in node.values() for name in _histories(value)]
    if isinstance(node, (list, tuple)):
        return [name for value in node for name in _histories(value)]
    return []


def inbound_layers(model) -> dict[str, list[str]]:
    """``{layer name: [names of the layers it is called on, in order]}``; an input layer maps
    to ``[]``. For a Sequential model each layer is fed by the one before it."""
    config = model.get_config()
    layers = config.get("layers", [])
    if "input_layers" not in config:  # Sequential: a plain stack
        names = [layer["config"]["name"] for layer in layers]
        return {name: names[i - 1:i] for i, name in enumerate(names)}
    return {layer["config"]["name"]: _histories(layer.get("inbound_nodes", []))
            for layer in layers}


def output_layers(model) -> dict[str, str]:
    """``{output name: layer name}`` of a Functional model (outputs given as a dict or list)."""
    outputs = model.get_config().get("output_layers", [])
    if isinstance(outputs, dict):
        return {key: value[0] for key, value in outputs.items()}
    if outputs and isinstance(outputs[0], str):  # a single output: [name, 0, 0]
        outputs = [outputs]
    return {item[0]: item[0] for item in outputs}
