"""dlab.vision.training: models re-initialized from a seed start identical, and the recipe
returns a JSON-able summary with the best validation epoch's weights kept."""
import json

import torch
from rich.console import Console

from dlab.models.cnn import small_cnn
from dlab.vision.training import fashion_cnn_settings, fit_classifier, reinitialize


def test_reinitialize_depends_on_the_seed_only():
    torch.manual_seed(1)
    a = reinitialize(small_cnn(channels=(4, 8), dense=16), seed=3)
    torch.rand(100)  # whatever was drawn before does not matter
    b = reinitialize(small_cnn(channels=(4, 8), dense=16), seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = reinitialize(small_cnn(channels=(4, 8), dense=16), seed=4)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_fit_classifier_summary_is_json_and_reproducible():
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(64, 1, 28, 28, generator=g), torch.randint(0, 3, (64,), generator=g)
    options = {"device": "cpu", "precision": "fp32",
               "console": Console(file=open("/dev/null", "w"))}
    runs = []
    for _ in range(2):
        model = small_cnn(channels=(4, 8), dense=16, num_classes=3)
        runs.append(fit_classifier(model, (X, y), (X, y), epochs=3, batch_size=16, lr=1e-2,
                                   seed=0, trainer_options=options))
    summary = runs[0]
    json.dumps(summary)
    assert set(summary) == {"val_accuracy", "loss", "best_epoch", "seconds_per_epoch"}
    assert len(summary["val_accuracy"]) == 3
    assert summary["val_accuracy"][summary["best_epoch"] - 1] == max(summary["val_accuracy"])
    assert runs[0]["val_accuracy"] == runs[1]["val_accuracy"]
    assert fashion_cnn_settings(1, 2, 0.1, 0, 0, "fp32")["architecture"] == "small_cnn()"
