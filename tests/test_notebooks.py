"""Every lab's faces agree: its solution notebook, executed top to bottom with nbclient in quick
mode, gives the same metrics as `dlab run ID --quick` with the same seed, and graded as a
submission it gets full marks."""
import json
import math

import pytest

from dlab.grading.grade import Limits, grade_submission
from dlab.lab import catalog
from dlab.notebook.build import build, write

LABS = sorted(catalog.labs())


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("lab_id", LABS)
def test_notebook_run_and_grade_agree(lab_id, tmp_path, run_lab_in, execute_notebook):
    path = write(lab_id, tmp_path / "nb", lang="en", solution=True, quick=True, seed=0)
    execute_notebook(path)
    [metrics_file] = (tmp_path / "nb" / "runs" / lab_id).glob("*/metrics.json")
    from_notebook = json.loads(metrics_file.read_text())
    assert from_notebook["face"] == "notebook"
    from_cli = run_lab_in(lab_id)  # quick mode, seed 0
    timed = set(catalog.get(lab_id).lab.timed)
    assert set(from_notebook["metrics"]) == set(from_cli["metrics"])
    differ = {k: (v, from_cli["metrics"][k]) for k, v in from_notebook["metrics"].items()
              if k not in timed and not _same(v, from_cli["metrics"][k])}
    assert not differ, differ
    assert [c["passed"] for c in from_notebook["checks"]] == [True] * len(from_notebook["checks"])
    # Graded like a student's submission, the solution gets full marks in quick mode (on the
    # criteria the quick run meets, which is what quick-mode grading scores).
    met = {c["metric"] for c in from_cli["criteria"] if c["passed"]}
    result = grade_submission(lab_id, path, tmp_path / "grade", quick=True, scored=met,
                              limits=Limits(seconds=600, memory_mb=6144))
    assert result["problem"] == "ok", result["message"]
    assert result["score"] == result["max_score"] > 0


@pytest.mark.parametrize("lab_id", LABS)
def test_student_notebook_has_a_stub_per_exercise(lab_id):
    labfile = catalog.get(lab_id)
    assert 1 <= len(labfile.exercises) <= 4
    for lang in ("en", "es"):
        notebook = build(lab_id, lang=lang)
        stubs = [c for c in notebook.cells if c.metadata.get("dlab", {}).get("exercise")]
        assert [c.metadata["dlab"]["exercise"] for c in stubs] == labfile.exercises
        for cell in stubs:
            assert cell.source.rstrip().endswith("raise NotImplementedError")
            assert "[en]" not in cell.source and "[es]" not in cell.source
        solution = build(lab_id, lang=lang, solution=True)
        assert "raise NotImplementedError" not in "".join(c.source for c in solution.cells)


def test_spanish_notebook_executes(tmp_path, execute_notebook):
    path = write("moons-mlp", tmp_path, lang="es", solution=True, quick=True)
    notebook = execute_notebook(path)
    assert notebook.metadata["dlab"]["lang"] == "es"
    assert any("Una sola mirada" in c.source for c in notebook.cells if c.cell_type == "markdown")
    [record] = [json.loads(p.read_text()) for p in tmp_path.glob("runs/moons-mlp/*/metrics.json")]
    assert record["lang"] == "es" and record["status"] in ("passed", "failed")
    html = "".join(o.get("data", {}).get("text/html", "") for c in notebook.cells
                   if c.cell_type == "code" for o in c.outputs)
    assert "Criterios de aceptación" in html


def test_unfilled_student_notebook_stops_at_the_first_exercise(tmp_path, execute_notebook):
    nbclient = pytest.importorskip("nbclient")
    path = write("moons-mlp", tmp_path, lang="en", quick=True)
    with pytest.raises(nbclient.exceptions.CellExecutionError) as err:
        execute_notebook(path)
    assert "build_mlp` is not written yet" in str(err.value)
