import matplotlib

matplotlib.use("Agg")
import numpy as np
import torch

from dlab.viz.boxes import draw_boxes, overlay_masks, scene_row


def test_boxes_and_masks_are_drawn_where_asked():
    images = torch.zeros(2, 1, 32, 32)
    fig, axes = scene_row(images, titles=["a", "b"])
    assert len(axes) == 2 and axes[1].get_title() == "b"
    draw_boxes(axes[0], torch.tensor([[2.0, 3.0, 12.0, 8.0]]), color="red", names=["cat"],
               scores=torch.tensor([0.875]))
    (rect,) = axes[0].patches
    assert rect.get_xy() == (1.5, 2.5) and (rect.get_width(), rect.get_height()) == (10, 5)
    assert axes[0].texts[0].get_text() == "cat 0.88"
    mask = torch.zeros(1, 32, 32, dtype=torch.bool)
    mask[0, 5:9, 5:9] = True
    overlay_masks(axes[1], mask)
    layer = axes[1].get_images()[-1].get_array()
    assert layer[6, 6, 3] > 0 and layer[0, 0, 3] == 0
    assert np.isclose(layer[mask[0].numpy()][:, 3], 0.45).all()
    matplotlib.pyplot.close(fig)
