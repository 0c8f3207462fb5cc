"""dlab.engine.tuning: TrialReport hands every epoch's score to the search, and an Optuna
pruner's TrialPruned stops fit() and reaches the study."""
import pytest
import torch

from dlab.engine import Trainer
from dlab.engine.tuning import TrialReport
from dlab.errors import ConfigError


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, 4, generator=g), torch.randint(0, 3, (64,), generator=g)


def _trainer(callback):
    model = torch.nn.Linear(4, 3)
    return Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), metrics=["accuracy"],
                   callbacks=[callback], progress=False)


def test_reports_each_epoch_value():
    seen = []
    history = _trainer(TrialReport(lambda epoch, value: seen.append((epoch, value)))).fit(
        _data(), _data(), epochs=3)
    assert seen == list(zip([1, 2, 3], history["val_accuracy"]))


def test_missing_monitor_is_explained():
    with pytest.raises(ConfigError, match="val_accuracy"):
        _trainer(TrialReport(lambda epoch, value: None)).fit(_data(), epochs=1)


def test_an_optuna_pruner_stops_the_trial():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def report(trial, epoch, value):
        trial.report(value, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    def objective(trial):
        trainer = _trainer(TrialReport(lambda epoch, value: report(trial, epoch, value)))
        return trainer.fit(_data(), _data(), epochs=5)["val_accuracy"][-1]

    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.ThresholdPruner(lower=2.0))
    study.optimize(objective, n_trials=1)
    [trial] = study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]
