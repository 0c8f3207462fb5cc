import torch
import torch.nn.functional as F

from dlab.vision.prompts import (box_channel, crop_regions, instances, jitter_boxes,
                                 prompt_inputs, prompt_regions)
from dlab.vision.scenes import make_scenes


def _scenes():
    images = torch.zeros(6, 1, 28, 28)
    images[:, :, 6:22, 6:22] = 1.0
    return make_scenes(images, torch.arange(6) % 3, 5, seed=0)


def test_instances_list_every_object_with_its_scene_row():
    scenes = _scenes()
    rows, boxes, masks = instances(scenes)
    counts = [len(b) for b in scenes.boxes]
    assert rows.tolist() == [i for i, n in enumerate(counts) for _ in range(n)]
    assert boxes.shape == (sum(counts), 4) and masks.shape == (sum(counts), 96, 96)
    assert torch.equal(masks[0], scenes.masks[0][0])


def test_jitter_moves_each_side_by_at_most_the_given_pixels_and_stays_valid():
    boxes = torch.tensor([[0.0, 0.0, 3.0, 2.0], [40.0, 50.0, 70.0, 96.0]]).repeat(200, 1)
    moved = jitter_boxes(boxes, 3, torch.Generator().manual_seed(0), 96)
    assert (moved - boxes).abs().max() <= 3 and (moved != boxes).any()
    assert (moved[:, :2] >= 0).all() and (moved[:, 2:] <= 96).all()
    assert (moved[:, 2] > moved[:, 0]).all() and (moved[:, 3] > moved[:, 1]).all()
    assert torch.equal(jitter_boxes(boxes, 0, torch.Generator(), 96), boxes)


def test_regions_grow_by_the_margin_round_out_and_clip():
    regions = prompt_regions(torch.tensor([[10.5, 2.0, 20.2, 30.0]]), 4, 32)
    assert regions.tolist() == [[6, 0, 25, 32]]


def test_crop_of_a_region_of_the_crop_size_is_the_slice_itself():
    images = torch.rand(2, 1, 16, 16)
    regions = torch.tensor([[3, 5, 11, 13]])
    crop = crop_regions(images, torch.tensor([1]), regions, 8)
    assert torch.allclose(crop[0], images[1, :, 5:13, 3:11])
    half = crop_regions(images, torch.tensor([0]), torch.tensor([[0, 0, 16, 16]]), 8)
    assert torch.allclose(half[0], F.interpolate(images[:1], size=(8, 8), mode="bilinear",
                                                 align_corners=False)[0])


def test_box_channel_marks_the_prompt_box_inside_the_crop():
    boxes = torch.tensor([[4.0, 6.0, 12.0, 10.0]])
    regions = torch.tensor([[0, 0, 16, 16]])
    channel = box_channel(boxes, regions, 16)[0, 0]
    want = torch.zeros(16, 16)
    want[6:10, 4:12] = 1
    assert torch.equal(channel, want)
    inputs, got_regions = prompt_inputs(torch.rand(1, 1, 16, 16), torch.tensor([0]), boxes,
                                        margin=0, size=8)
    assert inputs.shape == (1, 2, 8, 8) and got_regions.tolist() == [[4, 6, 12, 10]]
    assert inputs[0, 1].min() == 1  # the region is the box: every crop pixel is inside
