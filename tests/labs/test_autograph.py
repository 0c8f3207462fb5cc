"""autograph: quick mode runs end to end with every reference check passing and the untimed
criteria met; a step that takes a changing Python number retraces and fails its check when
graded."""
from dlab.lab import catalog
from tests.helpers.grading import grade_with_replacements


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("autograph")
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    timed = catalog.get("autograph").lab.timed
    assert all(c["passed"] for c in record["criteria"] if c["metric"] not in timed)
    metrics = record["metrics"]
    assert (metrics["python_traces"], metrics["tensor_traces"], metrics["signature_traces"]) \
        == (3, 1, 1)
    assert (metrics["print_lines"], metrics["tf_print_lines"]) == (1, 3)
    assert metrics["graph_traces"] == 1 and metrics["positive_sum"] == 4.0
    assert lab_figures("autograph") == {"graph_speed_and_traces.png"}


def test_a_step_fed_python_numbers_retraces_when_graded(tmp_path, shared_data):
    retracing = (
        "def fit_linear(X, y, steps, lr, compiled):\n"
        "    X, y = tf.constant(X, tf.float32), tf.constant(y, tf.float32)\n"
        "    w, b = tf.Variable(tf.zeros((X.shape[1], 1))), tf.Variable(0.0)\n"
        "    def step(X, y, i):  # the step number as a Python int: a new trace each call\n"
        "        with tf.GradientTape() as tape:\n"
        "            loss = tf.reduce_mean((tf.matmul(X, w) + b - y) ** 2)\n"
        "        dw, db = tape.gradient(loss, [w, b])\n"
        "        w.assign_sub(lr * dw)\n"
        "        b.assign_sub(lr * db)\n"
        "    if compiled:\n"
        "        step = tf.function(step)\n"
        "    for i in range(steps):\n"
        "        step(X, y, i)\n"
        "    return w, b, step.experimental_get_tracing_count() if compiled else 0\n")
    rows = grade_with_replacements("autograph", tmp_path, "import tensorflow as tf",
                                   fit_linear=retracing)["checks"]
    assert rows["descends_the_same_way_eager_and_compiled"]["passed"]
    assert not rows["traces_the_step_once"]["passed"]
    assert "5 times" in rows["traces_the_step_once"]["message"]
