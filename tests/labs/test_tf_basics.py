"""tf-basics: the whole homework runs in seconds (quick mode is the full budget) and meets the
course's criteria; the reference fit follows gradient descent; a submission that mutates instead
of using tf.where, or forgets the cast, fails the right checks when graded."""
import numpy as np

from dlab.lab import catalog
from tests.helpers.grading import grade_with_replacements


def test_runs_and_meets_the_course_criteria(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("tf-basics")
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert {c["metric"]: c["passed"] for c in record["criteria"]} == {
        "w_max_abs_error": True, "b_abs_error": True, "tf_vs_torch_max_diff": True,
        "broadcast_shape_ok": True}
    assert record["metrics"]["tf_vs_torch_max_diff"] <= 1e-5
    assert lab_figures("tf-basics") == {"linear_regression.png"}


def test_reference_fit_recovers_a_known_line():
    train = catalog.get("tf-basics").reference_functions()["train_linear"]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype("float32")
    y = (X @ np.array([[-2.0], [0.5]]) + 1.0).astype("float32")
    w, b, losses = train(X, y, np.zeros((2, 1), "float32"), 800, 0.05)
    np.testing.assert_allclose(np.asarray(w).ravel(), [-2.0, 0.5], atol=1e-3)
    assert abs(float(np.asarray(b)) - 1.0) < 1e-3
    assert len(losses) == 800 and losses[-1] < 1e-5 < losses[0]


def test_wrong_answers_fail_their_checks_when_graded(tmp_path, shared_data):
    no_cast = (  # TF refuses int32 + float32
        "def cast_and_add(ints, floats):\n"
        "    return tf.constant(ints) + tf.constant(floats)\n")
    writes_into_x = (  # a NumPy habit: writes into its argument, returns the array
        "def zero_below(x, threshold):\n"
        "    x = np.asarray(x, dtype='float32')\n"
        "    x[x < threshold] = 0\n"
        "    return x\n")
    header = "import numpy as np\nimport tensorflow as tf"
    rows = grade_with_replacements("tf-basics", tmp_path, header, cast_and_add=no_cast,
                                   zero_below=writes_into_x)["checks"]
    assert not rows["adds_ints_and_floats_as_float32"]["passed"]
    assert "InvalidArgumentError" in rows["adds_ints_and_floats_as_float32"]["message"]
    assert not rows["zeroes_what_is_below_the_threshold"]["passed"]
    assert "x after zero_below" in rows["zeroes_what_is_below_the_threshold"]["message"]
    assert rows["follows_gradient_descent_step_by_step"]["passed"]
