"""dlab.viz.animation: boundary snapshots during training, frames and GIF."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from rich.console import Console  # noqa: E402

from dlab.engine import Trainer  # noqa: E402
from dlab.models import MLP  # noqa: E402
from dlab.viz.animation import (BoundarySnapshots, class_colors, plane_grid,  # noqa: E402
                                save_gif, snapshot_grid)


def _blobs(n=40, classes=3):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % classes
    X = torch.randn(n, 2, generator=g) * 0.3 + torch.stack([y.float(), (y % 2).float()], 1)
    return X, y


def _fit(model, X, y, snaps, loss="cross_entropy", epochs=3, batch_size=10):
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=0.05), loss=loss,
                      metrics=["accuracy"], callbacks=[snaps], progress=False, doctor=False,
                      device="cpu", console=Console(quiet=True))
    trainer.fit((X, y), (X, y), epochs=epochs, batch_size=batch_size)
    return trainer


def test_plane_grid_covers_the_points_with_a_margin():
    X = np.array([[0.0, 0.0], [1.0, 2.0]])
    g0, g1, points = plane_grid(X, resolution=5, margin=0.5)
    assert g0.shape == g1.shape == (5, 5) and points.shape == (25, 2)
    assert points[:, 0].min() == -0.5 and points[:, 1].max() == 2.5


def test_snapshots_at_whole_and_fractional_epochs():
    X, y = _blobs()
    torch.manual_seed(0)
    snaps = BoundarySnapshots(X.numpy(), at=[0, 0.5, 1, 3, 99], resolution=20)
    trainer = _fit(MLP(2, [8], 3), X, y, snaps)  # 4 steps per epoch
    assert [s["epoch"] for s in snaps.snapshots] == [0, 0.5, 1, 3]  # 99 never comes
    assert [s["step"] for s in snaps.snapshots] == [0, 2, 4, 12]
    probs = snaps.snapshots[-1]["probs"]
    assert probs.shape == (20, 20, 3) and np.allclose(probs.sum(-1), 1, atol=1e-5)
    assert "val_accuracy" in snaps.snapshots[2]["logs"]  # whole epochs carry the epoch's logs
    assert snaps.snapshots[1]["logs"] == {}
    assert not np.allclose(snaps.snapshots[0]["probs"], probs)  # the model learned
    # A snapshot taken mid-epoch must leave the model in the mode training needs.
    trainer.model.train()
    extra = snaps.photograph(trainer, 3.5)
    assert trainer.model.training and extra["epoch"] == 3.5
    assert len(snaps.snapshots) == 4  # photograph() alone does not store


def test_single_logit_is_stored_as_two_class_probabilities():
    X, y = _blobs(classes=2)
    snaps = BoundarySnapshots(X.numpy(), at=[1], resolution=10)

    def bce(logits, target):
        return torch.nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1),
                                                                    target.float())
    trainer = _fit(MLP(2, [8], 1), X, y, snaps, loss=bce, epochs=1)
    probs = snaps.snapshots[0]["probs"]
    assert probs.shape == (10, 10, 2) and np.allclose(probs.sum(-1), 1, atol=1e-6)
    p = torch.sigmoid(trainer.predict(snaps.points)).reshape(10, 10).numpy()
    assert np.allclose(probs[..., 1], p, atol=1e-6)


def test_a_probabilities_function_replaces_the_default():
    X, y = _blobs(classes=2)
    calls = []

    def two_columns(logits):  # a lab's own logits -> probabilities (here: a torch tensor)
        calls.append(tuple(logits.shape))
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1)

    snaps = BoundarySnapshots(X.numpy(), at=[0, 1], resolution=10, probabilities=two_columns)

    def bce(logits, target):
        return torch.nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1),
                                                                    target.float())
    trainer = _fit(MLP(2, [8], 1), X, y, snaps, loss=bce, epochs=1)
    assert calls == [(100, 1), (100, 1)]
    probs = snaps.snapshots[-1]["probs"]
    assert isinstance(probs, np.ndarray) and probs.shape == (10, 10, 2)
    p = torch.sigmoid(trainer.predict(snaps.points)).reshape(10, 10).numpy()
    assert np.allclose(probs[..., 1], p, atol=1e-6)


def test_frames_grid_and_gif(tmp_path):
    X, y = _blobs()
    torch.manual_seed(0)
    snaps = BoundarySnapshots(X.numpy(), at=[0, 1, 2], resolution=15)
    _fit(MLP(2, [8], 3), X, y, snaps, epochs=2)
    fig = snapshot_grid(snaps, X.numpy(), y.numpy(), columns=2)
    visible = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in visible] == ["epoch 0", "epoch 1", "epoch 2"]
    plt.close(fig)
    path = save_gif(tmp_path / "sub" / "train.gif", snaps, X.numpy(), y.numpy(),
                    title=lambda s: f"e{s['epoch']}")
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 3
        im.seek(2)
        assert im.info["duration"] == 2500  # the last frame is held


def test_class_colors_match_the_decision_boundary_colormaps():
    assert class_colors(2).shape == (2, 3) and class_colors(5).shape == (5, 3)
    assert np.allclose(class_colors(2)[0], plt.get_cmap("coolwarm", 2)(0)[:3])


@pytest.mark.parametrize("at", [[0], [2]])
def test_snapshot_list_is_per_fit(at):
    X, y = _blobs()
    snaps = BoundarySnapshots(X.numpy(), at=at, resolution=5)
    _fit(MLP(2, [4], 3), X, y, snaps, epochs=2)
    assert len(snaps.snapshots) == 1
