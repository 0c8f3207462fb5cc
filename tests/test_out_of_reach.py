"""A course criterion declared out of reach (``Criterion(..., evidence=...)``) stays visible
and checked, but only the lab's other criteria decide whether the run passes."""
from dataclasses import replace

from rich.console import Console

from dlab.lab import Criterion
from dlab.lab.runner import start


def _finish(tmp_path, criteria, metrics, lang="en"):
    ctx, _ = start("moons-mlp", quick=True, out=tmp_path, lang=lang,
                   console=Console(file=open("/dev/null", "w")))
    ctx.lab = replace(ctx.lab, lab=replace(ctx.lab.lab, criteria=criteria))
    return ctx.finish(metrics), ctx.out


def test_failing_criterion_with_evidence_does_not_fail_the_run(tmp_path):
    criteria = (Criterion("ours", ">=", 0.9, "ours", "nuestro"),
                Criterion("course", "<", 1.3, "course", "curso",
                          evidence="best public result on this data is 1.47"))
    record, out = _finish(tmp_path, criteria, {"ours": 0.95, "course": 1.6})
    assert record["status"] == "passed" and record["out_of_reach"] == 1
    assert [c["passed"] for c in record["criteria"]] == [True, False]
    html = (out / "report.html").read_text()
    assert "1 course criteria out of reach here" in html and "1.47" in html


def test_failing_criterion_without_evidence_still_fails(tmp_path):
    criteria = (Criterion("ours", ">=", 0.9, "ours", "nuestro"),
                Criterion("course", "<", 1.3, "course", "curso", evidence="measured 1.6"))
    record, _ = _finish(tmp_path, criteria, {"ours": 0.5, "course": 1.6}, lang="es")
    assert record["status"] == "failed" and record["out_of_reach"] == 1
    record, out = _finish(tmp_path, criteria, {"ours": 0.95, "course": 1.2}, lang="es")
    assert record["status"] == "passed" and record["out_of_reach"] == 0
    assert "fuera de alcance" not in (out / "report.html").read_text()
