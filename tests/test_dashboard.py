"""`dlab run` over several labs and `dlab dashboard`, checked in a real headless browser."""
import re
import shutil
import subprocess

import pytest

from dlab.cli import main
from dlab.lab import catalog


def test_run_several_labs_then_the_dashboard(tmp_path, capsys):
    out = tmp_path / "runs"
    # a block name and an id; perceptron-xor twice (once from the block) runs once
    code = main(["run", "part2-foundations", "autograd", "--quick", "--device", "cpu",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code in (0, 1)  # quick budgets do not promise the criteria
    ran = sorted(p.name for p in out.iterdir())
    expected = sorted([i for i, f in catalog.labs().items()
                       if f.lab.block == "part2-foundations"] + ["autograd"])
    assert ran == expected
    assert "labs pass" in text
    assert all(list((out / lab).glob("*/console.txt")) for lab in ran)
    assert main(["run", "perceptron-xor", "--device", "cpu", "--out", str(out)]) == 0  # full

    assert main(["dashboard", "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    for lab_id in catalog.labs():
        assert lab_id in page
    links = re.findall(r"href='([^']+)'", page)
    assert len(links) == len(ran) + 1  # a quick run of each, a full run of perceptron-xor
    for link in links:
        assert (out / link).is_file(), link
    assert f"1 of {len(catalog.labs())} labs pass in full mode" in page

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium: `make test` installs it (apt-get install chromium)")
    shot = tmp_path / "dashboard.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--screenshot={shot}", "--window-size=1280,900", (out / "index.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1280)
    dark = (pixels.mean(axis=2) < 0.5).mean()  # text, table lines
    assert 0.005 < dark < 0.5, dark  # not blank, not a black page


def test_bad_batch_input_exits_2_before_running(tmp_path, capsys):
    assert main(["run", "moons-mlp", "no-such-lab", "--out", str(tmp_path)]) == 2
    assert "Unknown lab 'no-such-lab'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    assert main(["run", "stage2", "--set", "epochs=1", "--out", str(tmp_path)]) == 2
    assert main(["run", "--out", str(tmp_path)]) == 2


def test_list_shows_labs_in_course_order(tmp_path):
    import sys

    res = subprocess.run([sys.executable, "-m", "dlab.cli", "list", "--out", str(tmp_path)],
                         capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""})
    assert res.returncode == 0, res.stderr
    # Each lab's row starts with its id in the first column (an id may also appear in
    # another lab's text, e.g. "activations" in a criterion).
    positions = [res.stdout.find(f"\n│ {i} ") for i in catalog.labs()]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
