"""dlab.vision.augment: batched augmentation — shapes, identity at zero strength, flips,
shifts against a per-image reference, erasing areas, reproducibility."""
import torch

from dlab.vision.augment import (Augment, AugmentedBatches, erasing_masks, random_erasing,
                                 random_flip, random_rotation, random_shift)
from dlab.data import Batches


def _images(n=16, c=1, h=28, w=28):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(1))


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_zero_strength_is_the_identity():
    x = _images()
    assert torch.equal(random_flip(x, 0.0, _gen()), x)
    assert torch.equal(random_shift(x, 0, _gen()), x)
    assert torch.equal(random_rotation(x, 0.0, _gen()), x)
    assert torch.equal(random_erasing(x, 0.0, generator=_gen()), x)
    assert torch.equal(Augment()(x, _gen()), x)


def test_rotation_by_a_tiny_angle_barely_moves_pixels():
    x = _images()
    assert (random_rotation(x, 1e-4, _gen()) - x).abs().max() < 1e-3


def test_flip_everything_twice_is_the_identity():
    x = _images(c=3)
    once = random_flip(x, 1.0, _gen())
    assert torch.equal(once, x.flip(-1))
    assert torch.equal(random_flip(once, 1.0, _gen()), x)
    half = random_flip(x, 0.5, _gen(3))
    flipped = [torch.equal(h, i.flip(-1)) for h, i in zip(half, x)]
    assert 0 < sum(flipped) < len(x)


def test_shift_matches_a_per_image_pad_and_crop():
    x = _images(n=8, c=2, h=10, w=12)
    out = random_shift(x, 3, _gen(5))
    g = _gen(5)
    dy = torch.randint(-3, 4, (8,), generator=g)
    dx = torch.randint(-3, 4, (8,), generator=g)
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    for i in range(8):
        top, left = 3 - int(dy[i]), 3 - int(dx[i])
        assert torch.equal(out[i], padded[i, :, top:top + 10, left:left + 12])
    assert out.shape == x.shape


def test_rotation_keeps_shape_and_moves_pixels():
    x = _images(c=3)
    out = random_rotation(x, 15.0, _gen())
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert not torch.allclose(out, x)
    # a centred disc looks the same at every angle: rotation keeps it (up to interpolation)
    r = torch.arange(28) - 13.5
    disc = ((r[:, None] ** 2 + r[None, :] ** 2) < 64).float().expand(6, 1, 28, 28)
    assert (random_rotation(disc, 30.0, _gen()) - disc).abs().mean() < 0.02


def test_erasing_area_stays_within_bounds():
    masks = erasing_masks(500, 28, 28, p=1.0, area=(0.05, 0.2), generator=_gen())
    share = masks.float().mean(dim=(1, 2))
    assert (share > 0).all()
    # rounding the sides to whole pixels moves the area a little around the asked range
    assert share.min() >= 0.05 * 0.6 and share.max() <= 0.2 * 1.4
    rows_hit = masks.any(dim=2).sum(dim=1)
    cols_hit = masks.any(dim=1).sum(dim=1)
    assert torch.equal(masks.sum(dim=(1, 2)), rows_hit * cols_hit)  # one rectangle each
    none = erasing_masks(100, 28, 28, p=0.0, generator=_gen())
    assert not none.any()


def test_erasing_blanks_the_mask_only():
    x = _images(n=4) + 1
    out = random_erasing(x, 1.0, value=0.0, generator=_gen(2))
    mask = erasing_masks(4, 28, 28, 1.0, generator=_gen(2))
    assert torch.equal(out[:, 0] == 0, mask)


def test_augmented_batches_are_reproducible_per_epoch():
    X, y = _images(n=20), torch.arange(20)
    aug = Augment(flip=0.5, shift=2, degrees=10, erase=0.5)
    first = AugmentedBatches(Batches(X, y, batch_size=8, seed=0), aug, seed=7)
    second = AugmentedBatches(Batches(X, y, batch_size=8, seed=0), aug, seed=7)
    for batches in (first, second):
        batches.set_epoch(2)
    a, b = list(first), list(second)
    assert len(a) == len(first) == 3
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(a, b))
    first.set_epoch(3)
    assert not torch.equal(list(first)[0][0], a[0][0])
