"""imdb-sentiment: quick mode runs end to end with every reference check passing; the
tokenizer's vocabulary and encoding behave as documented."""
from dlab.lab import catalog

METRICS = {"test_accuracy", "best_deep_model", "best_deep_accuracy", "bilstm_accuracy",
           "bilstm_over_dense", "bilstm_over_bag", "parameters", "seconds_per_epoch"}


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("imdb-sentiment")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("imdb-sentiment") == {"test_accuracy.png"}
    assert set(metrics["test_accuracy"]) == {"tfidf", "bag", "dense", "cnn", "bilstm"}
    assert metrics["test_accuracy"]["tfidf"] > 0.7  # a balanced subset, not one class


def test_vocabulary_reference():
    build = catalog.get("imdb-sentiment").reference_functions()["build_vocabulary"]
    docs = [["the", "film", "the"], ["a", "film"], ["the"]]
    vocab = build(docs, 100)
    assert vocab == {"<pad>": 0, "<unk>": 1, "the": 2, "film": 3, "a": 4}
    assert len(build(docs, 3)) == 3
    assert sorted(vocab.values()) == list(range(len(vocab)))


def test_encode_reference():
    encode = catalog.get("imdb-sentiment").reference_functions()["encode"]
    vocab = {"<pad>": 0, "<unk>": 1, "x": 2}
    assert encode(["x", "y"], vocab, 4) == [0, 0, 2, 1]
    assert encode(["y"] * 5 + ["x"], vocab, 2) == [1, 2]
