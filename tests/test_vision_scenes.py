import pytest
import torch

from dlab.vision.scenes import make_scenes


def _objects(m=20):
    """Solid squares of class 0 and hollow squares of class 1, 28×28 in [0, 1]."""
    images = torch.zeros(m, 1, 28, 28)
    images[:, :, 6:22, 6:22] = 1.0
    images[1::2, :, 10:18, 10:18] = 0.0
    return images, torch.arange(m) % 2


def test_boxes_masks_and_labels_describe_the_pasted_objects():
    images, labels = _objects()
    scenes = make_scenes(images, labels, 30, seed=0, noise=0.0)
    assert scenes.images.shape == (30, 1, 96, 96)
    for img, boxes, labs, masks in zip(scenes.images, scenes.boxes, scenes.labels, scenes.masks):
        assert 1 <= len(boxes) <= 4 and len(boxes) == len(labs) == len(masks)
        for (x1, y1, x2, y2), mask in zip(boxes.long().tolist(), masks):
            rows, cols = torch.nonzero(mask, as_tuple=True)
            assert (x1, y1, x2, y2) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
            assert (img[0][mask] > 0.25).all()  # without noise, the mask is the bright pixels
        assert masks.sum(0).max() <= 1  # objects never overlap
        bright = img[0] > 0.25
        assert torch.equal(bright, masks.any(0))


def test_hollow_objects_have_holes_in_their_masks_and_classes_follow_the_source():
    images, labels = _objects()
    scenes = make_scenes(images, labels, 20, seed=1, noise=0.0)
    for boxes, labs, masks in zip(scenes.boxes, scenes.labels, scenes.masks):
        for (x1, y1, x2, y2), lab, mask in zip(boxes.long().tolist(), labs, masks):
            fill = mask[y1:y2, x1:x2].float().mean()
            assert (fill > 0.95) if lab == 0 else (fill < 0.85)


def test_semantic_masks_label_pixels_with_class_plus_one():
    images, labels = _objects()
    scenes = make_scenes(images, labels, 10, seed=2)
    sem = scenes.semantic_masks()
    for i in range(10):
        for mask, lab in zip(scenes.masks[i], scenes.labels[i]):
            assert (sem[i][mask] == lab + 1).all()
        assert (sem[i][~scenes.masks[i].any(0)] == 0).all()


def test_same_seed_same_scenes_and_noise_stays_in_range():
    images, labels = _objects()
    a = make_scenes(images, labels, 8, seed=3)
    b = make_scenes(images, labels, 8, seed=3)
    c = make_scenes(images, labels, 8, seed=4)
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)
    assert a.images.min() >= 0 and a.images.max() <= 1
    assert len(a.subset([1, 3])) == 2 and torch.equal(a.subset([1, 3]).boxes[1], a.boxes[3])


def test_bad_inputs_are_named():
    images, labels = _objects()
    with pytest.raises(ValueError, match="flatten=False"):
        make_scenes(images.reshape(20, 784), labels, 2, seed=0)
    with pytest.raises(ValueError, match="canvas"):
        make_scenes(images, labels, 2, seed=0, scale=(24, 200))


def test_scene_splits_take_each_split_s_own_objects_relabelled():
    from types import SimpleNamespace

    from dlab.vision.scenes import objects_of, scene_splits

    def split(value):  # 30 images of classes 0..5 whose pixels tell their split apart
        y = torch.arange(30) % 6
        images = torch.zeros(30, 1, 28, 28)
        images[:, :, 4:24, 4:24] = value
        return images, y

    X, y = objects_of(split(1.0), (4, 1))
    assert len(X) == 10 and sorted(set(y.tolist())) == [0, 1]
    original = torch.tensor([c for c in range(30) if c % 6 in (1, 4)]) % 6
    assert torch.equal(y, (original == 1).long())  # class 4 → 0, class 1 → 1
    data = SimpleNamespace(train=split(0.5), val=split(0.7), test=split(0.9))
    train, val, test = scene_splits(data, (4, 1), (5, 3, 2), seed=0, noise=0.0)
    assert (len(train), len(val), len(test)) == (5, 3, 2)
    for scenes, value in ((train, 0.5), (val, 0.7), (test, 0.9)):
        assert all(set(lab.tolist()) <= {0, 1} for lab in scenes.labels)
        assert scenes.images.amax() == pytest.approx(value)
