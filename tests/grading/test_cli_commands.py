"""`dlab notebook` and `dlab grade` from the command line: files written, exit codes 0/1/2."""
import json

import nbformat
import pytest

from dlab.cli import main
from dlab.lab import catalog


def test_notebook_student_and_solution(tmp_path, capsys):
    assert main(["notebook", "moons-mlp", "--out", str(tmp_path)]) == 0
    assert main(["notebook", "moons-mlp", "--solution", "--lang", "es",
                 "--out", str(tmp_path)]) == 0
    student = nbformat.read(tmp_path / "moons-mlp.ipynb", as_version=4)
    solution = nbformat.read(tmp_path / "moons-mlp-solution.es.ipynb", as_version=4)
    assert student.metadata["dlab"] == {"lab": "moons-mlp", "lang": "en", "solution": False,
                                        "quick": False, "seed": 0}
    assert "raise NotImplementedError" in "".join(c.source for c in student.cells)
    assert "Devuelve un MLP" in "".join(c.source for c in solution.cells)
    assert solution.cells[1].source.startswith("from dlab.notebook import open_lab")


def test_notebook_all(tmp_path, capsys):
    assert main(["notebook", "--all", "--out", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.ipynb")) == sorted(catalog.labs())


def test_notebook_keeps_a_students_work_unless_forced(tmp_path, capsys):
    path = tmp_path / "moons-mlp.ipynb"
    assert main(["notebook", "moons-mlp", "--out", str(tmp_path)]) == 0
    path.write_text("student work")
    assert main(["notebook", "moons-mlp", "--out", str(tmp_path)]) == 0
    assert path.read_text() == "student work" and "kept" in capsys.readouterr().out
    assert main(["notebook", "moons-mlp", "--out", str(tmp_path), "--force"]) == 0
    assert path.read_text() != "student work"


@pytest.mark.parametrize("args, says", [
    (["notebook"], "--all"),
    (["notebook", "moons-mpl"], "Did you mean: moons-mlp"),
    (["notebook", "moons-mlp", "autograd", "--out", "x.ipynb"], "pass a folder"),
    (["grade", "moons-mlp", "no-such-file.py"], "does not exist"),
    (["grade", "nope", "x.py"], "Unknown lab"),
    (["grade", "moons-mlp", ".", "--time-limit", "0"], "--time-limit"),
])
def test_bad_input_exits_2(args, says, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert says in capsys.readouterr().err


def test_grade_exit_code_follows_the_score(tmp_path, capsys):
    cells = {c.exercise: c.source for c in catalog.get("moons-mlp").cells if c.exercise}
    good = tmp_path / "good.py"
    good.write_text("import numpy as np\nfrom torch import nn\n\n" + "\n\n".join(cells.values()))
    bad = tmp_path / "bad.py"
    bad.write_text("def build_mlp(hidden):\n    return None\n")
    out = tmp_path / "grades"
    assert main(["grade", "moons-mlp", str(good), "--quick", "--out", str(out)]) == 0
    assert main(["grade", "moons-mlp", str(bad), "--quick", "--out", str(out)]) == 1
    result = json.loads((out / "bad_py" / "grade.json").read_text())
    assert result["problem"] == "missing_function"  # plot_boundary was not written
    assert "bad.py" in capsys.readouterr().out
