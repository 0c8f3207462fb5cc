"""The ``dlab`` command: list / run / report, exit codes and error messages."""
import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dlab.cli import main

ENV = {**os.environ, "DLAB_OFFLINE": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
       "COLUMNS": "200"}
ENV.pop("DLAB_RUNS", None)
ENV.pop("DLAB_LANG", None)


def dlab(*args: str, timeout: float = 300, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlab.cli", *args], capture_output=True,
                          text=True, env=ENV, timeout=timeout, cwd=cwd)


def run_dir_of(out: Path) -> Path:
    dirs = [p for p in (out / "moons-mlp").iterdir() if p.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


# ---------------------------------------------------------------- list
def test_list_shows_the_labs(tmp_path):
    res = dlab("list", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "moons-mlp" in res.stdout
    assert "Traceback" not in res.stderr


def test_list_does_not_import_torch(tmp_path):
    code = ("import sys\n"
            "from dlab.cli import main\n"
            f"assert main(['list', '--out', {str(tmp_path)!r}]) == 0\n"
            "heavy = [m for m in ('torch', 'sklearn', 'matplotlib', 'dlab.engine') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "print('LIGHT')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "LIGHT" in res.stdout


# ---------------------------------------------------------------- usage errors: exit 2
def _usage_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    assert res.stderr.startswith("dlab: error:")
    return res.stderr


def test_unknown_lab_suggests_the_closest(tmp_path):
    err = _usage_error(dlab("run", "moon-mlp", "--out", str(tmp_path)))
    assert "Unknown lab 'moon-mlp'" in err and "Did you mean: moons-mlp" in err
    assert not (tmp_path / "moon-mlp").exists()


@pytest.mark.parametrize("setting, expected", [
    ("epochs=abc", "Setting 'epochs' expects a value like 60 (int), got 'abc'"),
    ("epoch=5", "Unknown setting 'epoch'. Did you mean 'epochs'?"),
    ("epochs=0", "Setting 'epochs' must be > 0"),
    ("hidden=16", "Setting 'hidden' expects a value like [16, 8] (list)"),
    ("epochs", "--set expects key=value, got 'epochs'"),
])
def test_bad_settings_are_refused_before_running(tmp_path, setting, expected):
    err = _usage_error(dlab("run", "moons-mlp", "--quick", "--set", setting,
                            "--out", str(tmp_path)))
    assert expected in err
    assert not (tmp_path / "moons-mlp").exists()  # nothing ran


def test_missing_data_dir(tmp_path):
    err = _usage_error(dlab("run", "moons-mlp", "--quick", "--data-dir", "/nonexistent",
                            "--out", str(tmp_path)))
    assert "--data-dir '/nonexistent' is not a directory" in err


def test_report_on_a_folder_that_is_not_a_run(tmp_path):
    err = _usage_error(dlab("report", str(tmp_path)))
    assert "is not a dlab run directory" in err
    (tmp_path / "metrics.json").write_text("{not json")
    err = _usage_error(dlab("report", str(tmp_path)))
    assert "not valid JSON" in err


def test_argparse_usage_errors_exit_2():
    res = dlab("run")
    assert res.returncode == 2 and "usage:" in res.stderr


# ---------------------------------------------------------------- run & report (in process)
def _embedded_png(html: str) -> bytes:
    match = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert match, "report.html must embed the figure"
    return base64.b64decode(match.group(1))


def test_quick_run_writes_a_complete_run_folder(tmp_path, capsys):
    code = main(["run", "moons-mlp", "--quick", "--device", "cpu", "--out", str(tmp_path)])
    assert code in (0, 1)
    run = run_dir_of(tmp_path)
    assert run.name.endswith("-quick")
    record = json.loads((run / "metrics.json").read_text())
    assert record["status"] == ("passed" if code == 0 else "failed")
    assert record["quick"] is True and record["lab"] == "moons-mlp" and record["lang"] == "en"
    assert record["config"]["epochs"] == 5 and record["config"]["n_samples"] == 300
    assert set(record["metrics"]) >= {"mlp_test_accuracy", "logistic_test_accuracy"}
    assert [c["metric"] for c in record["criteria"]] == ["mlp_test_accuracy",
                                                          "logistic_test_accuracy"]
    for c in record["criteria"]:
        assert c["value"] == record["metrics"][c["metric"]]
    assert "MLP [16, 8] test accuracy" in record["criteria"][0]["text"]

    png = run / "figures" / "decision_boundaries.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (run / "report.md").read_text()
    assert md.startswith("# moons-mlp") and "figures/decision_boundaries.png" in md
    html = (run / "report.html").read_text()
    assert _embedded_png(html) == png.read_bytes()
    assert "PASS" in html or "FAIL" in html
    out = capsys.readouterr().out
    assert "MLP [16, 8] test accuracy" in out  # the PASS/FAIL table

    # `dlab report` re-renders both reports from metrics.json
    (run / "report.md").unlink()
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == code
    assert (run / "report.md").read_text() == md
    assert _embedded_png((run / "report.html").read_text()) == png.read_bytes()
    assert "report.html" in capsys.readouterr().out

    # `dlab list` shows the last result
    assert main(["list", "--out", str(tmp_path)]) == 0
    assert record["status"] in capsys.readouterr().out


def test_spanish_run(tmp_path, capsys):
    from dlab.labs.moons_mlp import LAB

    code = main(["run", "moons-mlp", "--quick", "--device", "cpu", "--lang", "es",
                 "--set", "epochs=2", "--out", str(tmp_path)])
    assert code in (0, 1)
    record = json.loads((run_dir_of(tmp_path) / "metrics.json").read_text())
    assert record["lang"] == "es" and record["title"] == LAB.title_es
    assert record["config"]["epochs"] == 2  # --set wins over the quick budget
    assert [c["text"] for c in record["criteria"]] == [c.es for c in LAB.criteria]
    assert "Exactitud en test del MLP" in record["criteria"][0]["text"]
    html = (run_dir_of(tmp_path) / "report.html").read_text()
    assert "<html lang='es'>" in html and "Criterios de aceptación" in html


# ---------------------------------------------------------------- full run: passes, repeatable
def test_full_run_passes_and_is_repeatable(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-m", "dlab.cli", "run", "moons-mlp",
                               "--device", "cpu", "--seed", "0", "--out", str(tmp_path / name)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
             for name in ("a", "b")]
    records = []
    for proc, name in zip(procs, ("a", "b")):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out[-3000:] + err[-3000:]
        records.append(json.loads((run_dir_of(tmp_path / name) / "metrics.json").read_text()))
    a, b = records
    assert a["status"] == b["status"] == "passed"
    assert a["quick"] is False and a["config"]["epochs"] == 60
    assert a["metrics"] == b["metrics"]
    assert a["metrics"]["mlp_test_accuracy"] >= 0.95


def test_unavailable_device_is_a_usage_error(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    assert main(["run", "moons-mlp", "--quick", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
    assert not (tmp_path / "moons-mlp").exists()


# ---------------------------------------------------------------- a lab that fails mid-run
def _fake_lab(monkeypatch, run):
    import dataclasses
    import types

    from dlab.lab import Criterion, Lab, catalog

    @dataclasses.dataclass
    class Config:
        epochs: int = 3

    lab = Lab(id="broken-lab", title_en="Broken", title_es="Roto", source="tests",
              dataset="none", summary_en="fails", summary_es="falla",
              criteria=(Criterion("acc", ">=", 0.5, "acc ≥ 0.5", "exactitud ≥ 0.5"),),
              config=Config)
    module = types.SimpleNamespace(LAB=lab, run=run)
    monkeypatch.setattr(catalog, "lab_modules", lambda: {"broken-lab": module})


@pytest.mark.parametrize("exc, code", [("data", 2), ("interrupt", 130)])
def test_a_run_that_stops_leaves_a_record(tmp_path, monkeypatch, capsys, exc, code):
    from dlab.errors import DataError

    def run(ctx, cfg):
        ctx.say("started", "empezó")
        if exc == "data":
            raise DataError("dataset 'x' is missing; download it first")
        raise KeyboardInterrupt

    _fake_lab(monkeypatch, run)
    assert main(["run", "broken-lab", "--device", "cpu", "--out", str(tmp_path)]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (run_dir,) = (tmp_path / "broken-lab").iterdir()
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "error"
    assert record["story"] == [{"kind": "text", "text": "started"}]
    if exc == "data":
        assert "dataset 'x' is missing" in err
        assert record["error"] == "DataError: dataset 'x' is missing; download it first"
    else:
        assert "interrupted" in err and record["error"] == "KeyboardInterrupt"
    assert record["error"] in (run_dir / "report.md").read_text()
    assert main(["report", str(run_dir)]) == 1


def test_criteria_decide_the_exit_code(tmp_path, monkeypatch, capsys):
    _fake_lab(monkeypatch, lambda ctx, cfg: {"acc": 0.4})
    assert main(["run", "broken-lab", "--device", "cpu", "--out", str(tmp_path / "a")]) == 1
    _fake_lab(monkeypatch, lambda ctx, cfg: {"acc": 0.6})
    assert main(["run", "broken-lab", "--device", "cpu", "--out", str(tmp_path / "b")]) == 0
    _fake_lab(monkeypatch, lambda ctx, cfg: {})  # a criterion's metric that was not reported
    assert main(["run", "broken-lab", "--device", "cpu", "--out", str(tmp_path / "c")]) == 1
