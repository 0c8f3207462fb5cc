"""The generative labs' yardstick: Fréchet distance against closed forms and a direct numpy
formula, confidence and class shares on known probabilities, and a trained classifier that
tells real images from noise."""
import numpy as np
import pytest
import scipy.linalg
import torch

from dlab.generative import yardstick
from dlab.lab.shared_models import load_or_train, shared_path


def _scipy_frechet(mu1, cov1, mu2, cov2):
    """The usual formula, with scipy's general matrix square root of cov1 @ cov2."""
    root = np.real(scipy.linalg.sqrtm(cov1 @ cov2))
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2) - 2 * np.trace(root))


def test_diagonal_gaussians_match_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    got = yardstick.frechet_from_stats(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_full_covariances_match_scipy_sqrtm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    cov1, cov2 = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    got = yardstick.frechet_from_stats(mu1, cov1, mu2, cov2)
    assert got == pytest.approx(_scipy_frechet(mu1, cov1, mu2, cov2), rel=1e-8)
    assert not np.allclose(cov1 @ cov2, cov2 @ cov1)  # a case where the shortcut would fail


def test_identical_sets_are_at_zero_and_a_shift_is_seen():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(2000, 8))
    assert yardstick.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    # A shift of 3 in every one of 8 dimensions: ||Δμ||² = 72, covariances equal.
    assert yardstick.frechet_distance(features, features + 3.0) == pytest.approx(72.0, rel=1e-6)
    other = rng.normal(size=(2000, 8))  # same distribution, other sample: small
    assert yardstick.frechet_distance(features, other) < 0.1


def test_confidence_and_class_shares():
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    assert yardstick.top_class_confidence(probs) == pytest.approx((0.9 + 0.7 + 0.6 + 0.8) / 4)
    np.testing.assert_allclose(yardstick.class_shares(probs), [0.5, 0.25, 0.25])


class _Ctx:
    """What ``train_yardstick`` needs of a lab's ``ctx``."""
    seed, quick, precision = 0, True, "fp32"

    def __init__(self, root):
        self.root = root

    def trainer_options(self):
        return {"device": "cpu", "precision": "fp32"}

    def shared_model(self, model, name, settings, train):
        return load_or_train(model, shared_path(self.root, name, settings), train)


def test_trained_yardstick_scores_real_images_far_above_noise(tmp_path, shared_data):
    from dlab.data import load

    data = load("fashion_mnist", data_dir=shared_data, flatten=False)
    torch.manual_seed(0)
    model, meta = yardstick.train_yardstick(_Ctx(tmp_path), data, epochs=1, train_subset=3000)
    assert not meta["reused"] and meta["metrics"]["val_accuracy"] > 0.6
    again, meta = yardstick.train_yardstick(_Ctx(tmp_path), data, epochs=1, train_subset=3000)
    assert meta["reused"]
    torch.testing.assert_close(again.head.weight, model.head.weight)

    singular = np.zeros((500, 4))  # a feature that never fires: singular covariance
    singular[:, :3] = np.random.default_rng(0).normal(size=(500, 3))
    assert yardstick.frechet_distance(singular, singular) == pytest.approx(0.0, abs=1e-6)

    real_a, real_b = data.test[0][:1000], data.val[0][:1000]
    noise = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    reference = yardstick.penultimate_features(model, real_a)
    assert reference.shape == (1000, yardstick.FEATURES) and reference.dtype == np.float64
    real, fake = yardstick.score(model, real_b, reference), yardstick.score(model, noise, reference)
    assert real["frechet"] * 10 < fake["frechet"]
    assert real["classes_seen"] >= 8 and real["max_share"] < 0.3
    assert real["confidence"] > 0.6
    one_class = data.test[0][data.test[1] == 1][:300]  # trousers only: a collapsed "generator"
    collapsed = yardstick.score(model, one_class, reference)
    assert collapsed["max_share"] > 0.8 and collapsed["frechet"] > 5 * real["frechet"]


def test_mnist_yardstick_is_its_own_shared_model(tmp_path, shared_data):
    from dlab.data import load

    digits = load("mnist", data_dir=shared_data, flatten=False)
    torch.manual_seed(0)
    model, meta = yardstick.train_yardstick(_Ctx(tmp_path), digits, name="mnist", epochs=1,
                                            train_subset=3000)
    assert meta["metrics"]["val_accuracy"] > 0.6
    assert [p.name.split("-")[1] for p in (tmp_path / "_shared").glob("*.safetensors")] == ["mnist"]
    reference = yardstick.penultimate_features(model, digits.test[0][:500])
    real = yardstick.score(model, digits.val[0][:500], reference)
    blank = yardstick.score(model, torch.zeros(500, 1, 28, 28), reference)
    assert real["classes_seen"] == 10 and blank["max_share"] == 1.0
    assert real["frechet"] * 10 < blank["frechet"]
