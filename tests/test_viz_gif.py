"""The one GIF writer: frames from figures, per-frame durations, the last frame held."""
import matplotlib.pyplot as plt
from PIL import Image

from dlab.viz.gif import figure_frame, write_gif


def test_figures_become_frames_and_the_last_is_held(tmp_path):
    frames = []
    for value in (0, 1, 2):
        fig, ax = plt.subplots(figsize=(1, 1), dpi=40)
        ax.plot([0, value])
        frames.append(figure_frame(fig))
        plt.close(fig)
    assert frames[0].mode == "RGB" and frames[0].size == (40, 40)
    path = write_gif(frames, tmp_path / "sub" / "a.gif", seconds_per_frame=0.1, hold_last=1.5)
    with Image.open(path) as gif:
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
        assert gif.n_frames == 3 and gif.info["loop"] == 0
    assert durations == [100, 100, 1500]


def test_very_short_frames_are_clamped_to_what_viewers_play(tmp_path):
    frames = [Image.new("RGB", (4, 4), (c, 0, 0)) for c in (0, 255)]
    path = write_gif(frames, tmp_path / "b.gif", seconds_per_frame=0.001)
    with Image.open(path) as gif:
        assert gif.info["duration"] == 20
