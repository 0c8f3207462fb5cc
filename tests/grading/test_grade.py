"""`dlab grade`: every way a submission can go wrong gets a row that says which, scores 0 for
what could not run, and never takes the grader down."""
import csv
import json

from dlab.grading.grade import Limits, grade_submission
from dlab.lab import catalog

LAB = "moons-mlp"
FAST = Limits(seconds=60, memory_mb=3072)


def reference(name: str) -> str:
    cell = next(c for c in catalog.get(LAB).cells if c.exercise == name)
    return cell.source


HEADER = "import numpy as np\nfrom torch import nn\n\n"


def grade(tmp_path, code: str, name: str = "alumno.py", limits: Limits = FAST, **options):
    path = tmp_path / name
    path.write_text(code)
    options.setdefault("scored", set())  # criteria off: these tests are about the checks
    return grade_submission(LAB, path, tmp_path / "out", quick=True, limits=limits, **options)


def failed(result) -> set[str]:
    return {r["name"] for r in result["rows"] if not r["passed"]}


def test_correct_py_gets_every_check(tmp_path):
    result = grade(tmp_path, HEADER + reference("build_mlp") + "\n\n" + reference("plot_boundary"))
    assert failed(result) == set()
    assert result["problem"] == "ok" and result["score"] == result["max_score"] == 5
    assert (tmp_path / "out" / "grade.json").exists()
    assert "PASS" in (tmp_path / "out" / "grade.html").read_text()
    assert result["lab_status"] in ("passed", "failed")  # the lab itself ran


def test_wrong_solution_loses_exactly_the_points_of_its_failed_checks(tmp_path):
    wrong = reference("build_mlp").replace("nn.Linear(width, 2))", "nn.Linear(width, 2), nn.ReLU())")
    result = grade(tmp_path, HEADER + wrong + "\n\n" + reference("plot_boundary"))
    assert failed(result) == {"hidden_layers_use_relu_and_logits_are_raw"}
    assert result["score"] == result["max_score"] - 1
    assert result["problem"] == "wrong_value"
    assert "is 3; expected 2" in result["message"]


def test_syntax_error(tmp_path):
    result = grade(tmp_path, "def build_mlp(hidden)\n    return 1\n")
    assert result["problem"] == "syntax_error" and result["score"] == 0
    assert "line 1" in result["message"]


def test_missing_and_misnamed_functions(tmp_path):
    code = HEADER + reference("build_mlp").replace("def build_mlp", "def buildmlp")
    result = grade(tmp_path, code)
    assert result["problem"] == "missing_function"
    assert "buildmlp" in result["message"]
    assert result["score"] == 0  # plot_boundary is missing too; nothing could run


def test_wrong_return_type(tmp_path):
    code = HEADER + "def build_mlp(hidden):\n    return [nn.Linear(2, 2)]\n\n" + reference(
        "plot_boundary")
    result = grade(tmp_path, code)
    assert result["problem"] == "wrong_type"
    assert "should return a Module, but it returned a list" in result["message"]
    assert failed(result) >= {"returns_a_module_with_two_logits"}
    assert not failed(result) & {"predicts_on_a_grid_that_covers_the_data",
                                 "draws_regions_points_and_title"}


def test_exception_names_the_line(tmp_path):
    code = HEADER + "def build_mlp(hidden):\n    return 1 / 0\n\n" + reference("plot_boundary")
    result = grade(tmp_path, code)
    assert result["problem"] == "exception"
    assert "ZeroDivisionError" in result["message"] and "(line 5)" in result["message"]


def test_endless_loop_hits_the_time_limit_and_keeps_earlier_points(tmp_path):
    code = HEADER + reference("build_mlp") + (
        "\n\ndef plot_boundary(ax, predict, X, y, title):\n    while True:\n        pass\n")
    result = grade(tmp_path, code, limits=Limits(seconds=20, memory_mb=3072))
    assert result["problem"] == "timeout" and result["ended"] == "timeout"
    assert result["score"] == 3  # the three build_mlp checks ran before the loop
    assert result["seconds"] < 40


def test_runaway_memory_hits_the_memory_limit(tmp_path):
    code = HEADER + ("def build_mlp(hidden):\n    hog = []\n    while True:\n"
                     "        hog.append(bytearray(10**8))\n\n") + reference("plot_boundary")
    result = grade(tmp_path, code, limits=Limits(seconds=60, memory_mb=1536))
    assert result["problem"] == "memory"
    assert result["score"] == 2  # plot_boundary's checks still pass


def test_notebook_submission(tmp_path):
    from dlab.notebook.build import write

    path = write(LAB, tmp_path / "nb.ipynb", solution=True, quick=True)
    result = grade_submission(LAB, path, tmp_path / "out", quick=True, limits=FAST,
                              scored=set())
    assert result["problem"] == "ok" and result["score"] == result["max_score"]
    assert "def build_mlp" in (tmp_path / "out" / "submission.py").read_text()


def test_unfilled_student_notebook_scores_zero_for_its_checks(tmp_path):
    from dlab.notebook.build import write

    path = write(LAB, tmp_path / "nb.ipynb", quick=True)
    result = grade_submission(LAB, path, tmp_path / "out", quick=True, limits=FAST,
                              scored=set())
    assert result["score"] == 0 and result["problem"] == "not_written"


def test_unreadable_notebook(tmp_path):
    result = grade(tmp_path, "{not json", name="broken.ipynb")
    assert result["problem"] == "unreadable" and result["score"] == 0


def test_spanish_messages(tmp_path):
    code = HEADER + "def build_mlp(hidden):\n    return 1 / 0\n\n" + reference("plot_boundary")
    result = grade(tmp_path, code, lang="es")
    assert "lanzó una excepción (línea 5)" in result["message"]
    assert result["problem_text"] == "excepción"


def test_quick_mode_scores_the_criteria_the_reference_meets(tmp_path):
    code = HEADER + reference("build_mlp") + "\n\n" + reference("plot_boundary")
    result = grade(tmp_path, code, scored=None)
    criteria = {r["name"]: r for r in result["rows"] if r["kind"] == "criterion"}
    # 5 quick epochs do not reach 0.95 for the reference either: shown, worth 0 points.
    assert criteria["mlp_test_accuracy"]["max"] == 0
    assert criteria["logistic_test_accuracy"]["max"] == 1
    assert result["score"] == result["max_score"] == 6


def test_folder_gradebook(tmp_path):
    from dlab.grading.gradebook import grade_folder

    folder = tmp_path / "entregas"
    folder.mkdir()
    (folder / "ana.py").write_text(HEADER + reference("build_mlp") + "\n\n"
                                   + reference("plot_boundary"))
    (folder / "beto.py").write_text("def build_mlp(:\n")
    (folder / "notes.txt").write_text("not a submission")
    results = grade_folder(LAB, folder, tmp_path / "grades", quick=True, limits=FAST,
                           scored=set())
    assert [r["submission"] for r in results] == ["ana.py", "beto.py"]
    rows = list(csv.DictReader((tmp_path / "grades" / "gradebook.csv").open()))
    assert [(r["submission"], r["problem"]) for r in rows] == [("ana.py", "ok"),
                                                               ("beto.py", "syntax_error")]
    html = (tmp_path / "grades" / "gradebook.html").read_text()
    assert "ana_py/grade.html" in html
    grade_json = json.loads((tmp_path / "grades" / "ana_py" / "grade.json").read_text())
    assert grade_json["score"] == 5


def test_a_wrong_perceptron_rule_loses_exactly_its_checks_points(tmp_path):
    """Second lab: the update rule with `>` instead of `>=` (a score of exactly 0 must count as
    a 1) fails one check of perceptron_update; the other exercises keep every point."""
    labfile = catalog.get("perceptron-xor")
    sources = {c.exercise: c.source for c in labfile.cells if c.role == "exercise"}
    sources["perceptron_update"] = sources["perceptron_update"].replace("+ b >= 0", "+ b > 0")
    path = tmp_path / "alumno.py"
    path.write_text("\n\n".join(sources.values()))
    result = grade_submission("perceptron-xor", path, tmp_path / "out", quick=True,
                              limits=FAST, scored=set())
    lost = {r["name"] for r in result["rows"] if not r["passed"]}
    assert lost == {"a_false_one_subtracts_and_zero_counts_as_one"}
    weights = {r["name"]: r["max"] for r in result["rows"]}
    assert result["score"] == result["max_score"] - weights[lost.pop()]
    assert result["problem"] == "wrong_value"


def test_without_namespaces_grading_still_scores_and_says_what_was_not_isolated(
        tmp_path, monkeypatch):
    monkeypatch.setenv("DLAB_SANDBOX", "none")
    result = grade(tmp_path, HEADER + reference("build_mlp") + "\n\n"
                   + reference("plot_boundary"))
    assert result["score"] == result["max_score"] == 5
    assert result["sandbox"]["sandbox"] == "none"
    assert any("network" in item for item in result["sandbox"]["not_isolated"])


def test_the_gradebook_says_how_each_submission_was_isolated(tmp_path):
    from dlab.grading.gradebook import grade_folder

    folder = tmp_path / "entregas"
    folder.mkdir()
    (folder / "ana.py").write_text(HEADER + reference("build_mlp") + "\n\n"
                                   + reference("plot_boundary"))
    grade_folder(LAB, folder, tmp_path / "grades", quick=True, limits=FAST, scored=set())
    rows = list(csv.DictReader((tmp_path / "grades" / "gradebook.csv").open()))
    assert rows[0]["sandbox"].split(" ")[0] in ("bubblewrap", "none")


def test_timed_criteria_are_shown_but_not_scored_when_grading():
    """Timing through the sandbox's channel measures the channel as much as the student."""
    from dlab.grading.grade import score

    labfile = catalog.get("data-pipeline")
    timed = set(labfile.lab.timed)
    criteria = [{"metric": c.metric, "value": 0.1, "expected": "", "passed": False}
                for c in labfile.lab.criteria]
    result = score(labfile, [{"event": "finished", "record": {"criteria": criteria}}], None,
                   "en")
    rows = {r["name"]: r for r in result["rows"] if r["kind"] == "criterion"}
    assert timed and all(rows[m]["max"] == 0 and not rows[m]["met"] for m in timed if m in rows)
    assert all(not r["passed"] and r["max"] > 0 for m, r in rows.items() if m not in timed)
