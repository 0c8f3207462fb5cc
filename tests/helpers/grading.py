"""Grade a submission made of a lab's reference exercises with some of them replaced."""
from dlab.grading.grade import Limits, grade_submission
from dlab.lab import catalog


def grade_with_replacements(lab_id: str, tmp_path, header: str, **replaced: str) -> dict:
    """Write the reference solution of every exercise of ``lab_id``, with the sources in
    ``replaced`` (exercise name → its new source) instead, under ``header`` (the imports), grade
    it in quick mode, and return the grading result with its check rows by name in ``checks``."""
    sources = {c.exercise: c.source for c in catalog.get(lab_id).cells if c.role == "exercise"}
    assert set(replaced) <= set(sources), f"{lab_id} has no exercise {set(replaced) - set(sources)}"
    sources.update(replaced)
    script = tmp_path / "submission.py"
    script.write_text(header + "\n\n" + "\n\n\n".join(sources.values()))
    result = grade_submission(lab_id, script, tmp_path / "grade", quick=True, scored=set(),
                              limits=Limits(seconds=600, memory_mb=6144))
    result["checks"] = {r["name"]: r for r in result["rows"] if r["kind"] == "check"}
    return result
