"""A Keras model crosses the grading channel as its config and weights: the grader rebuilds an
identical real Keras model, and refuses any config naming code outside Keras's built-ins."""
import json

import numpy as np
import pytest

import dlab  # noqa: F401  (Keras on the torch backend)
from dlab.grading import keras_models, wire

keras = pytest.importorskip("keras")


def _through_the_wire(model):
    enc = wire.Encoder()
    desc = keras_models.describe(model, enc)
    body = enc(desc)
    dec = wire.Decoder(enc.blobs)
    return keras_models.rebuild(dec(body), dec)


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"),
                             keras.layers.Dropout(0.1), keras.layers.Dense(3)])


def test_a_sequential_model_is_rebuilt_with_the_same_weights_and_outputs():
    model = _model()
    back = _through_the_wire(model)
    assert type(back) is keras.Sequential and back is not model
    assert [type(layer).__name__ for layer in back.layers] == ["Dense", "Dropout", "Dense"]
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.count_params() == model.count_params() == 6 * 4 + 4 + 4 * 3 + 3


def _edited(edit):
    enc = wire.Encoder()
    desc = keras_models.describe(_model(), enc)
    config = json.loads(desc[keras_models.TAG])
    edit(config)
    desc[keras_models.TAG] = json.dumps(config)
    return desc, wire.Decoder(enc.blobs)


def _swap_layer(config, node):
    config["config"]["layers"][1] = node


@pytest.mark.parametrize("edit", [
    lambda c: _swap_layer(c, {"module": "keras.layers", "class_name": "Lambda",
                              "config": {"function": "print"}, "registered_name": None}),
    lambda c: _swap_layer(c, {"module": "os", "class_name": "system", "config": {},
                              "registered_name": None}),
    lambda c: _swap_layer(c, {"module": "keras.layers", "class_name": "Dense",
                              "config": {"units": 4}, "registered_name": "evil>Dense"}),
    lambda c: c["config"]["layers"][1]["config"].update(
        activation={"module": "builtins", "class_name": "function", "config": "exec",
                    "registered_name": "function"}),
], ids=["lambda-layer", "module-outside-keras", "registered-custom-class", "activation-exec"])
def test_configs_naming_code_outside_keras_are_refused(edit):
    desc, dec = _edited(edit)
    with pytest.raises(wire.WireError):
        keras_models.rebuild(desc, dec)


def test_weights_that_do_not_fit_are_refused():
    enc = wire.Encoder()
    desc = keras_models.describe(_model(), enc)
    desc["weights"] = enc([np.zeros((2, 2), "float32")])
    with pytest.raises(wire.WireError, match="weights"):
        keras_models.rebuild(desc, wire.Decoder(enc.blobs))
