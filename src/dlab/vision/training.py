"""One training recipe for the vision labs' image classifiers, so that models compared across
labs (and the shared Fashion-MNIST CNN) are trained the same way: weights drawn afresh from
``seed``, Adam with a cosine-decayed learning rate, the weights of the best validation epoch
kept, seconds per epoch measured."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlab.engine import EarlyStopping, LRScheduler
from dlab.engine.timing import EpochTimer
from dlab.engine.variants import fit_run

FASHION_CNN = "fashion-cnn"  # the name the course's Fashion-MNIST CNN is shared under


def reinitialize(model: nn.Module, seed: int) -> nn.Module:
    """Draw every layer's initial weights again from ``seed`` (in module order): the starting
    point then depends on the seed only, not on what the program drew before."""
    torch.manual_seed(seed)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model


def fit_classifier(model: nn.Module, train, val, *, epochs: int, batch_size: int, lr: float,
                   seed: int, trainer_options: dict) -> dict:
    """Train ``model`` (re-initialized from ``seed``) and return a JSON-able summary:
    ``val_accuracy`` and ``loss`` per epoch, ``best_epoch`` and ``seconds_per_epoch``
    (training plus validation). ``train`` may be a ``(X, y)`` pair or any batch iterable."""
    reinitialize(model, seed)
    timer = EpochTimer()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    keep_best = EarlyStopping("val_accuracy", patience=epochs, mode="max")
    run = fit_run(model, optimizer, train, val, epochs=epochs, batch_size=batch_size, seed=seed,
                  callbacks=[timer, LRScheduler(cosine), keep_best], **trainer_options)
    return {"val_accuracy": run.history["val_accuracy"], "loss": run.history["loss"],
            "best_epoch": keep_best.best_epoch,
            "seconds_per_epoch": float(np.mean(timer.seconds))}


def fashion_cnn_settings(epochs: int, batch_size: int, lr: float, train_subset: int,
                         val_subset: int, precision: str) -> dict:
    """What shapes the shared Fashion-MNIST CNN's weights (the key of ``ctx.shared_model``):
    ``dlab.models.cnn.small_cnn()`` trained by :func:`fit_classifier` on the seeded
    ``fashion_mnist`` split, ``train_subset``/``val_subset`` rows (0 = all)."""
    return {"architecture": "small_cnn()", "recipe": "fit_classifier", "epochs": epochs,
            "batch_size": batch_size, "lr": lr, "train_subset": train_subset,
            "val_subset": val_subset, "precision": precision}
