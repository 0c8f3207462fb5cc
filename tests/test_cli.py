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


def run_dir_of(out: Path, lab: str = "moons-mlp") -> Path:
    dirs = [p for p in (out / lab).iterdir() if p.is_dir()]
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
    res = dlab("run", "--seed", "one")
    assert res.returncode == 2 and "usage:" in res.stderr
    assert "Name a lab" in _usage_error(dlab("run"))


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
    from dlab.lab.catalog import get

    LAB = get("moons-mlp").lab

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


# ---------------------------------------------------------------- fake labs: errors, resume
FAKE_SPEC = """# %% [markdown] lang="en"
# A lab for the tests.

# %% [markdown] lang="es"
# Un laboratorio de prueba.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab


@dataclass
class Config:
{config}


LAB = Lab(id="fake-lab", title_en="Fake", title_es="Falso", source="tests", block="stage2",
          dataset="none",
          criteria=({criteria},), config=Config)

# %% [markdown] lang="en"
# started

# %% [markdown] lang="es"
# empezó

"""


def _fake_lab(monkeypatch, tmp_path, code: str, config: str = "    epochs: int = 3",
              criteria: str = 'Criterion("acc", ">=", 0.5, "acc ≥ 0.5", "exactitud ≥ 0.5")'):
    """A lab file made of the spec above and one code cell, put in place of the catalog."""
    import textwrap

    from dlab.lab import catalog

    path = tmp_path / "fake_lab.py"
    path.write_text(FAKE_SPEC.format(config=config, criteria=criteria) + "# %%\n"
                    + textwrap.dedent(code))
    labfile = catalog.load_file(path)
    monkeypatch.setattr(catalog, "labs", lambda: {"fake-lab": labfile})


@pytest.mark.parametrize("exc, code, status", [("data", 2, "error"),
                                               ("interrupt", 130, "interrupted")])
def test_a_run_that_stops_leaves_a_record(tmp_path, monkeypatch, capsys, exc, code, status):
    raise_it = ("from dlab.errors import DataError\n"
                "raise DataError(\"dataset 'x' is missing; download it first\")\n"
                if exc == "data" else "raise KeyboardInterrupt\n")
    _fake_lab(monkeypatch, tmp_path, raise_it)
    out = tmp_path / "runs"
    assert main(["run", "fake-lab", "--device", "cpu", "--out", str(out)]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (run_dir,) = (out / "fake-lab").iterdir()
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == status
    assert record["story"] == [{"kind": "text", "text": "A lab for the tests."},
                               {"kind": "text", "text": "started"}]
    if exc == "data":
        assert "dataset 'x' is missing" in err
        assert record["error"] == "DataError: dataset 'x' is missing; download it first"
    else:
        assert "interrupted" in err and record["error"] == "KeyboardInterrupt"
    assert record["error"] in (run_dir / "report.md").read_text()
    assert main(["report", str(run_dir)]) == 1


def test_criteria_decide_the_exit_code(tmp_path, monkeypatch, capsys):
    for name, metrics, code in (("a", '{"acc": 0.4}', 1), ("b", '{"acc": 0.6}', 0),
                                ("c", "{}", 1)):  # c: a criterion's metric is not reported
        _fake_lab(monkeypatch, tmp_path, f"ctx.finish({metrics})\n")
        assert main(["run", "fake-lab", "--device", "cpu", "--out", str(tmp_path / name)]) == code


def test_a_lab_that_never_finishes_is_an_error(tmp_path, monkeypatch, capsys):
    _fake_lab(monkeypatch, tmp_path, "x = 1\n")
    assert main(["run", "fake-lab", "--device", "cpu", "--out", str(tmp_path / "r")]) == 2
    assert "ctx.finish" in capsys.readouterr().err


TRAINING_LAB = """
import torch
from torch import nn

from dlab.engine import Callback, Trainer


class Interrupt(Callback):
    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == cfg.interrupt_after and not ctx.resuming:
            raise KeyboardInterrupt  # Ctrl-C during the epoch's bookkeeping


g = torch.Generator().manual_seed(ctx.seed)
X = torch.randn(64, 2, generator=g)
y = (X[:, 0] > 0).long()
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))
trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=0.01),
                  metrics=["accuracy"], callbacks=[Interrupt()], progress=False,
                  **ctx.trainer_options())
history = trainer.fit((X, y), (X, y), epochs=cfg.epochs, batch_size=16, seed=ctx.seed,
                      **ctx.fit_options())
ctx.finish({"epochs": len(history), "losses": history["loss"],
            "weight_sum": float(sum(p.detach().double().sum() for p in model.parameters()))})
"""


def _training_lab(monkeypatch, tmp_path):
    """A lab that trains with ``ctx.fit_options()`` and can be interrupted after an epoch."""
    _fake_lab(monkeypatch, tmp_path, TRAINING_LAB,
              config="    epochs: int = 6\n    interrupt_after: int = 0  # 0: never",
              criteria='Criterion("epochs", ">=", 6, "six epochs", "seis épocas")')


def test_resume_an_interrupted_run(tmp_path, monkeypatch, capsys):
    _training_lab(monkeypatch, tmp_path)
    args = ["run", "fake-lab", "--device", "cpu", "--seed", "3"]
    assert main(args + ["--out", str(tmp_path / "ref")]) == 0
    want = json.loads((run_dir_of(tmp_path / "ref", "fake-lab") / "metrics.json").read_text())

    assert main(args + ["--out", str(tmp_path / "cut"), "--set", "interrupt_after=4"]) == 130
    run = run_dir_of(tmp_path / "cut", "fake-lab")
    assert json.loads((run / "metrics.json").read_text())["status"] == "interrupted"
    assert "--resume" in capsys.readouterr().err

    # --set cannot change a resumed run's settings
    assert main(["run", "fake-lab", "--resume", str(run), "--set", "epochs=9"]) == 2
    assert main(["run", "fake-lab", "--device", "cpu", "--resume", str(run)]) == 0
    got = json.loads((run / "metrics.json").read_text())
    assert [p.name for p in (tmp_path / "cut" / "fake-lab").iterdir()] == [run.name]
    assert got["status"] == "passed" and got["seed"] == 3
    assert got["config"]["interrupt_after"] == 4
    assert got["metrics"] == want["metrics"]


def test_resume_errors(tmp_path, monkeypatch, capsys):
    _fake_lab(monkeypatch, tmp_path, 'ctx.finish({"acc": 1.0})\n')
    assert main(["run", "fake-lab", "--device", "cpu", "--out", str(tmp_path / "r")]) == 0
    run = run_dir_of(tmp_path / "r", "fake-lab")
    capsys.readouterr()
    assert main(["run", "fake-lab", "--resume", str(run)]) == 2
    assert "saved no training state" in capsys.readouterr().err
    assert main(["run", "fake-lab", "--resume", str(tmp_path / "nope")]) == 2
    assert "not a dlab run directory" in capsys.readouterr().err


# ---------------------------------------------------------------- signals
def test_main_leaves_the_callers_sigterm_handler_alone(tmp_path, capsys):
    import signal
    import threading

    before = signal.getsignal(signal.SIGTERM)
    assert main(["list", "--out", str(tmp_path)]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
    # and it can run outside the main thread (where signal handlers cannot be set)
    result = []
    thread = threading.Thread(target=lambda: result.append(main(["list", "--out",
                                                                str(tmp_path)])))
    thread.start()
    thread.join(60)
    assert result == [0]


@pytest.mark.parametrize("when", ["at_start", "in_training"])
def test_sigterm_records_the_run_as_interrupted(tmp_path, when):
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "dlab.cli", "run", "moons-mlp", "--device",
                             "cpu", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**ENV, "PYTHONUNBUFFERED": "1"})
    if when == "at_start":  # as soon as the run folder has its first record
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if list(tmp_path.glob("moons-mlp/*/metrics.json")):
                break
            time.sleep(0.02)
    else:  # after the first epoch's progress line
        for line in proc.stdout:
            if line.startswith("epoch 1/"):
                break
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "Traceback" not in err
    record = json.loads((run_dir_of(tmp_path) / "metrics.json").read_text())
    assert record["status"] == "interrupted" and record["error"].startswith("SystemExit")
    assert (run_dir_of(tmp_path) / "report.md").exists()


# ---------------------------------------------------------------- hardening
@pytest.mark.parametrize("where", ["file", "under_a_file", "proc"])
def test_out_that_cannot_be_written_is_a_clear_error(tmp_path, capsys, where):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = {"file": a_file, "under_a_file": a_file / "runs", "proc": Path("/proc/dlab-runs")}
    assert main(["run", "moons-mlp", "--quick", "--out", str(out[where])]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Cannot write a run folder under --out" in err


@pytest.mark.parametrize("typed", ["MOONS-MLP", "Moons_Mlp"])
def test_unknown_id_in_another_case_gets_a_suggestion(typed, capsys):
    assert main(["run", typed, "--quick"]) == 2
    assert "Did you mean: moons-mlp" in capsys.readouterr().err


def test_no_profiler_dumps_in_the_repository():
    import subprocess as sp

    root = Path(__file__).resolve().parents[1]
    tracked = sp.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout
    if not tracked:
        pytest.skip("not a git checkout")
    dumps = [f for f in tracked.splitlines() if f.endswith((".out", ".prof", ".pstats"))]
    assert not dumps, dumps


def test_lab_folder_matches_its_block(tmp_path, monkeypatch):
    from dlab.lab import catalog
    from dlab.lab.source import LabSourceError

    moons = catalog.get("moons-mlp").path
    assert moons.parent.name == "part2_foundations"
    (tmp_path / "stage2").mkdir()
    misplaced = tmp_path / "stage2" / "moons_mlp.py"
    misplaced.write_text(moons.read_text())
    monkeypatch.setattr(catalog, "LABS_DIR", tmp_path)
    with pytest.raises(LabSourceError, match="part2_foundations"):
        catalog.load_file(misplaced)
