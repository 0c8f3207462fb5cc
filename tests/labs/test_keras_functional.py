"""keras-functional: quick mode runs end to end with every reference check passing; the graph
helpers read Keras's config right; a wrong wiring fails the check that names it."""
import shutil

import numpy as np

import dlab  # noqa: F401  (Keras on the torch backend)
from dlab.frameworks.keras_graph import inbound_layers, output_layers
from dlab.lab import catalog
from tests.helpers.grading import grade_with_replacements

METRICS = ["median_price", "val_mae_deep", "val_mae_wide_and_deep", "test_mae_dollars",
           "test_expensive_accuracy", "epochs_trained", "heads_share_the_trunk",
           "subclass_max_abs_diff", "subclass_matches_functional"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("keras-functional")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert record["metrics"]["heads_share_the_trunk"] is True
    assert record["metrics"]["subclass_max_abs_diff"] <= 1e-6
    expected = {"two_headed_training.png"}
    if shutil.which("dot"):
        expected.add("two_headed_graph.png")
    assert lab_figures("keras-functional") == expected


def test_the_graph_of_the_reference_two_headed_model():
    build = catalog.get("keras-functional").reference_functions()["build_two_headed"]
    model = build(13, [8, 4])
    feeds, heads = inbound_layers(model), output_layers(model)
    assert set(heads) == {"price", "expensive"}
    trunk_end = feeds[heads["price"]]
    assert trunk_end == feeds[heads["expensive"]] and len(trunk_end) == 1
    out = model.predict(np.zeros((2, 13), "float32"), verbose=0)
    assert out["price"].shape == out["expensive"].shape == (2, 1)


def test_wide_and_deep_reference_concatenates_input_and_deep_path():
    build = catalog.get("keras-functional").reference_functions()["build_wide_and_deep"]
    model = build(5, [3])
    kinds = {layer.name: type(layer).__name__ for layer in model.layers}
    [join] = [name for name, kind in kinds.items() if kind == "Concatenate"]
    assert [kinds[n] for n in inbound_layers(model)[join]] == ["InputLayer", "Dense"]
    assert model.count_params() == 5 * 3 + 3 + 8 + 1


def test_heads_on_different_layers_fail_the_shared_trunk_check(tmp_path, shared_data):
    wrong = (  # the 'expensive' head forks off after the first trunk layer, not the last
        "def build_two_headed(n_features, trunk):\n"
        "    inputs = keras.Input((n_features,))\n"
        "    first = keras.layers.Dense(trunk[0], activation='relu')(inputs)\n"
        "    hidden = keras.layers.Dense(trunk[1], activation='relu')(first)\n"
        "    price = keras.layers.Dense(1, name='price')(hidden)\n"
        "    expensive = keras.layers.Dense(1, activation='sigmoid', name='expensive')(first)\n"
        "    return keras.Model(inputs, {'price': price, 'expensive': expensive})\n")
    result = grade_with_replacements("keras-functional", tmp_path, "import keras",
                                     build_two_headed=wrong)
    failed = {name for name, row in result["checks"].items() if not row["passed"]}
    assert failed == {"both_heads_branch_from_one_trunk"}
