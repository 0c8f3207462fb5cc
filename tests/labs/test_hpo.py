"""hpo: quick mode runs end to end with every reference check passing; the reference search
space and pruning step work with real Optuna studies."""
import pytest

from dlab.lab import catalog

optuna = pytest.importorskip("optuna")

METRICS = ["final_val_accuracy", "test_accuracy", "best_trial_val_accuracy", "best_params",
           "n_trials", "pruned_share", "epochs_saved_share", "most_important_params",
           "param_importances", "lr_or_units_most_important", "lr_or_units_in_top_two",
           "final_model_has_best_params", "final_epochs_run",
           "search_seconds", "final_fit_seconds"]


def reference(name):
    return catalog.get("hpo").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("hpo")
    assert record["status"] in ("passed", "failed")
    metrics = record["metrics"]
    assert set(METRICS) <= set(metrics)
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("hpo") == {"optimization_history.png", "param_importances.png",
                                  "parallel_coordinate.png"}
    assert metrics["n_trials"] == 6
    assert metrics["final_model_has_best_params"] is True
    assert set(metrics["param_importances"]) == {"n_layers", "units", "dropout", "lr",
                                                 "optimizer"}


def test_suggest_params_draws_the_learning_rate_log_uniformly():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    suggest_params = reference("suggest_params")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    rates = []
    for _ in range(300):
        trial = study.ask()
        params = suggest_params(trial)
        assert params["n_layers"] in (1, 2, 3, 4) and params["units"] in (32, 64, 128, 256)
        assert 0.0 <= params["dropout"] <= 0.5 and params["optimizer"] in ("Adam", "SGD")
        rates.append(params["lr"])
    below_1e4 = sum(r < 1e-4 for r in rates) / len(rates)
    assert min(rates) >= 1e-5 and max(rates) <= 1e-2
    assert 0.25 < below_1e4 < 0.42  # one decade of three: about a third of the draws


def test_report_and_prune_feeds_a_hyperband_pruner():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    report_and_prune = reference("report_and_prune")
    study = optuna.create_study(study_name="t", direction="maximize",
                                pruner=optuna.pruners.HyperbandPruner(1, 9, 3))

    def objective(trial):
        quality = 1 - trial.number / 20  # later trials are worse: they get pruned
        for epoch in range(1, 10):
            report_and_prune(trial, epoch, quality + epoch / 100)
        return quality + 0.09

    study.optimize(objective, n_trials=20)
    states = [t.state for t in study.trials]
    assert optuna.trial.TrialState.PRUNED in states
    assert optuna.trial.TrialState.COMPLETE in states
