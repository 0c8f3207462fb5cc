"""dlab.viz.images: image grids, feature maps and filters as matplotlib figures."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from dlab.viz.images import conv_filters, feature_maps, image_grid  # noqa: E402


def _visible(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison]


def test_image_grid_titles_and_colours():
    fig = image_grid(torch.rand(5, 1, 28, 28), titles=list("abcde"), ncols=3,
                     colors=["red"] + ["black"] * 4)
    axes = _visible(fig)
    assert len(axes) == 5 and len(fig.axes) == 6  # the sixth cell is switched off
    assert [ax.get_title() for ax in axes] == list("abcde")
    assert axes[0].title.get_color() == "red"
    assert axes[1].get_images()[0].get_clim() != (0.0, 1.0)  # each image on its own scale
    plt.close(fig)
    fig = image_grid(torch.rand(4, 1, 28, 28) * 0.5, ncols=2, cmap="gray_r", value_range=(0, 1))
    image = fig.axes[0].get_images()[0]
    assert image.get_clim() == (0, 1) and image.get_cmap().name == "gray_r"
    plt.close(fig)


def test_feature_maps_one_row_per_image():
    fig = feature_maps(torch.rand(3, 1, 28, 28), torch.rand(3, 32, 28, 28), n_maps=4)
    assert len(fig.axes) == 3 * 5
    plt.close(fig)


def test_conv_filters_share_a_symmetric_scale():
    weight = torch.randn(6, 1, 3, 3)
    fig = conv_filters(weight, ncols=4)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 6
    low, high = images[0].get_clim()
    assert low == -high == -float(weight.abs().max())
    plt.close(fig)
