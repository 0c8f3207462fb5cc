"""The generative labs' yardstick: a small CNN classifier of 28×28 images (Fashion-MNIST or
MNIST), trained once and shared between labs, that scores a set of generated images.

- ``top_class_confidence``: the mean probability of the predicted class (recognizable samples
  get a confident verdict);
- ``class_shares``: the share of each predicted class (mode coverage: a collapsed generator
  puts most samples in one or two classes);
- ``frechet_distance`` between the classifier's penultimate-layer features of two image sets:
  an FID computed in this domain with this classifier, *not* the Inception-FID of the
  literature (the numbers are not comparable with published FIDs).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

FEATURES = 64  # width of the penultimate layer (the Fréchet distance's feature space)


class YardstickCNN(nn.Module):
    """Two 3×3 conv blocks (16 and 32 channels, each halving the image), a dense layer of
    ``FEATURES`` ReLU units (the features), and a linear head with one logit per class."""

    def __init__(self, num_classes: int = 10, width: int = 16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(as_images(x)))


def as_images(x: torch.Tensor) -> torch.Tensor:
    """(N, 784) or (N, 1, 28, 28) → (N, 1, 28, 28)."""
    return x.reshape(-1, 1, 28, 28)


def train_yardstick(ctx, data, name: str = "fashion_mnist", epochs: int = 3,
                    train_subset: int = 0, batch_size: int = 128) -> tuple[nn.Module, dict]:
    """The shared classifier for ``data`` (a ``dlab.data`` Dataset of 28×28 images): loaded
    from the runs' shared folder, or trained there with the lab's trainer options (on the
    first ``train_subset`` training images if > 0, validated on as many validation images,
    at most 5,000) and saved for the next lab. Returns the model in eval mode and its
    metadata (``metrics``: the validation accuracy; ``reused``)."""
    from dlab.engine import Trainer

    X, y = data.train
    if train_subset:
        X, y = X[:train_subset], y[:train_subset]
    n_val = min(train_subset or len(data.val[1]), 5000)
    X_val, y_val = as_images(data.val[0][:n_val]), data.val[1][:n_val]
    model = YardstickCNN(num_classes=data.num_classes)

    def train(model):
        trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=2e-3),
                          metrics=["accuracy"], progress=False, **ctx.trainer_options())
        history = trainer.fit((as_images(X), y), (X_val, y_val),
                              epochs=epochs, batch_size=batch_size, seed=ctx.seed)
        return {"val_accuracy": history["val_accuracy"][-1]}

    settings = {"dataset": name, "epochs": epochs, "train_subset": train_subset,
                "batch_size": batch_size, "precision": ctx.precision}
    meta = ctx.shared_model(model, f"yardstick-{name}", settings, train)
    model = model.to("cpu", memory_format=torch.contiguous_format).eval()
    return model, meta


@torch.no_grad()
def _batched(fn, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    images = as_images(torch.as_tensor(images, dtype=torch.float32))
    return torch.cat([fn(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


def probabilities(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(N, C) softmax probabilities of the yardstick for images in [0, 1]."""
    model.eval()
    return _batched(lambda x: torch.softmax(model(x).float(), dim=1), images)


def penultimate_features(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """(N, FEATURES) float64 activations of the layer before the classifier's head."""
    model.eval()
    return _batched(lambda x: model.features(x).float(), images).double().numpy()


def top_class_confidence(probs: torch.Tensor) -> float:
    """Mean over images of the probability of the predicted (top) class."""
    return float(probs.max(dim=1).values.mean())


def class_shares(probs: torch.Tensor) -> np.ndarray:
    """Share of the images predicted as each class (sums to 1)."""
    counts = np.bincount(probs.argmax(dim=1).numpy(), minlength=probs.shape[1])
    return counts / counts.sum()


def frechet_from_stats(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray,
                       cov2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians N(mu1, cov1) and N(mu2, cov2):
    ||mu1 - mu2||² + Tr(cov1 + cov2 - 2 (cov1 cov2)^½), in float64.

    Tr (cov1 cov2)^½ is computed as Tr (cov1^½ cov2 cov1^½)^½, the same number, from two
    symmetric eigendecompositions: stable when a covariance is singular (a feature unit that
    is always 0), where ``scipy.linalg.sqrtm(cov1 @ cov2)`` warns and loses accuracy."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    root1 = _sqrt_psd(cov1)
    cross = np.trace(_sqrt_psd(root1 @ cov2 @ root1))
    value = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * cross
    return float(max(value, 0.0))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (round-off negatives → 0)."""
    matrix = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) feature sets."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    return frechet_from_stats(a.mean(0), np.cov(a, rowvar=False),
                              b.mean(0), np.cov(b, rowvar=False))


def score(model: nn.Module, images: torch.Tensor, real_features: np.ndarray) -> dict:
    """Everything the labs report about a set of generated images: top-class confidence,
    class shares (and the largest one, and how many classes hold at least 2 % — a class
    seen once or twice by accident does not count), and the Fréchet distance to
    ``real_features`` (``penultimate_features`` of real test images)."""
    probs = probabilities(model, images)
    shares = class_shares(probs)
    return {"confidence": top_class_confidence(probs), "shares": shares,
            "max_share": float(shares.max()), "classes_seen": int((shares >= 0.02).sum()),
            "frechet": frechet_distance(penultimate_features(model, images), real_features)}
