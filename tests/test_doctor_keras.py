"""The doctor on a Keras fit: a cross-entropy whose from_logits disagrees with the model's last
activation is named before the first step (and matching pairs are left alone)."""
import io

import numpy as np
import pytest
from rich.console import Console

import dlab  # noqa: F401  (Keras on the torch backend)
from dlab.diagnostics.keras_losses import check_keras_logits, check_keras_one_loss_for_many_outputs

keras = pytest.importorskip("keras")
from dlab.frameworks.keras_callbacks import KerasDoctor, KerasProgress  # noqa: E402


def _model(activation=None, units=3):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(units, activation=activation)])


@pytest.mark.parametrize("activation,loss,says", [
    ("softmax", keras.losses.SparseCategoricalCrossentropy(from_logits=True), "twice"),
    (None, "sparse_categorical_crossentropy", "divides the scores"),
    (None, keras.losses.CategoricalCrossentropy(), "from_logits=True"),
])
def test_a_mismatch_is_named(activation, loss, says):
    diagnosis = check_keras_logits(_model(activation), loss)
    assert diagnosis is not None and says in diagnosis.en
    assert diagnosis.es and diagnosis.es != diagnosis.en


@pytest.mark.parametrize("activation,loss", [
    ("softmax", "sparse_categorical_crossentropy"),
    (None, keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    (None, "mse"),
])
def test_matching_pairs_and_other_losses_pass(activation, loss):
    assert check_keras_logits(_model(activation), loss) is None


def test_the_callback_warns_once_during_a_real_fit_and_times_each_epoch():
    keras.utils.set_random_seed(0)
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    out = io.StringIO()
    console = Console(file=out, width=200)
    doctor, progress = KerasDoctor(console, lang="es"), KerasProgress(console, label="m")
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = np.arange(64) % 3
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[doctor, progress])
    assert len(doctor.warnings) == 1 and "from_logits=True" in doctor.warnings[0]
    assert "divide las puntuaciones" in out.getvalue()
    assert len(progress.seconds) == 2 and all(s > 0 for s in progress.seconds)
    assert "m epoch 2/2" in out.getvalue()  # one plain line per epoch outside a terminal


def _two_heads():
    inputs = keras.Input((4,))
    trunk = keras.layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, {"price": keras.layers.Dense(1)(trunk),
                                "expensive": keras.layers.Dense(1, activation="sigmoid")(trunk)})


@pytest.mark.parametrize("loss,named", [("mse", True), (keras.losses.MeanSquaredError(), True),
                                        ({"price": "mse", "expensive": "bce"}, False),
                                        (["mse", "bce"], False)])
def test_one_loss_for_two_outputs_is_named(loss, named):
    diagnosis = check_keras_one_loss_for_many_outputs(_two_heads(), loss)
    assert (diagnosis is not None) == named
    if named:
        assert "2 outputs" in diagnosis.en and "2 salidas" in diagnosis.es


def test_one_output_with_one_loss_is_fine():
    assert check_keras_one_loss_for_many_outputs(_model(), "mse") is None
