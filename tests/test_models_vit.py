"""dlab.models.vit: 7×7 patches of a 28×28 image become 16 tokens (+ CLS), and the ViT maps
images, or flattened images, to one logit per class."""
import pytest
import torch

from dlab.errors import ConfigError
from dlab.models.vit import PatchEmbedding, ViT


def test_patches_are_taken_row_by_row():
    x = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    patches = PatchEmbedding(28, 7, 1, 64).patches(x)
    assert patches.shape == (2, 16, 49)
    for k in (0, 3, 5, 15):
        row, col = divmod(k, 4)
        expected = x[1, 0, 7 * row:7 * row + 7, 7 * col:7 * col + 7].reshape(-1)
        torch.testing.assert_close(patches[1, k], expected)


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_images_and_flat_vectors_give_logits(pool):
    torch.manual_seed(0)
    model = ViT(depth=2, dim=64, heads=4, pool=pool)
    images = torch.rand(5, 1, 28, 28)
    out = model(images)
    assert out.shape == (5, 10)
    torch.testing.assert_close(model(images.reshape(5, 784)), out)
    assert model.pos_embedding.shape == (1, 17, 64)  # 16 patches + the CLS token


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    model = ViT(depth=3)
    model(torch.rand(4, 1, 28, 28)).logsumexp(dim=1).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    assert len(model.encoder.layers) == 3


def test_rejects_bad_shapes():
    with pytest.raises(ConfigError):
        ViT(patch_size=5)
    with pytest.raises(ConfigError):
        ViT(dim=64, heads=5)
    with pytest.raises(ConfigError):
        ViT(pool="max")
