# %% [markdown] lang="en"
# Instead of guessing the depth, width, dropout, learning rate and optimizer of an MLP, let a
# search choose them. Optuna proposes settings with a Bayesian sampler (TPE), each trial
# trains briefly on Fashion-MNIST and reports its validation accuracy after every epoch, and a
# Hyperband pruner stops the trials that are falling behind. The winning settings are then
# trained again on all the training images, checked on validation and tested once.

# %% [markdown] lang="es"
# En lugar de adivinar la profundidad, el ancho, el dropout, la tasa de aprendizaje y el
# optimizador de un MLP, se deja que una búsqueda los elija. Optuna propone configuraciones con
# un muestreador bayesiano (TPE), cada prueba entrena un rato en Fashion-MNIST e informa su
# exactitud de validación tras cada época, y un podador Hyperband detiene las pruebas que se
# van quedando atrás. La configuración ganadora se vuelve a entrenar con todas las imágenes de
# entrenamiento, se comprueba en validación y se evalúa una vez en test.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n_trials: int = 60           # the course asks for 100; see section 3 for why fewer
    max_epochs: int = 9          # the most epochs Hyperband gives a trial
    min_epochs: int = 1          # the fewest epochs before a trial can be pruned
    reduction_factor: int = 3    # Hyperband keeps about 1 trial in 3 at each rung
    search_train: int = 10000    # training images each trial learns from
    search_val: int = 5000       # validation images each trial is scored on
    batch_size: int = 128
    final_epochs: int = 30       # the retrained winner (early stopping ends it sooner)
    final_patience: int = 4
    final_train_subset: int = 0  # 0 = all 50k training images

    def check(self):
        positive(n_trials=self.n_trials, max_epochs=self.max_epochs,
                 min_epochs=self.min_epochs, search_train=self.search_train,
                 search_val=self.search_val, batch_size=self.batch_size,
                 final_epochs=self.final_epochs, final_patience=self.final_patience,
                 reduction_factor=self.reduction_factor)


LAB = Lab(
    id="hpo",
    title_en="Hyperparameter search with Optuna: TPE and Hyperband pruning",
    title_es="Búsqueda de hiperparámetros con Optuna: TPE y poda Hyperband",
    source="Part 2 · class 105 (homework)",
    block="part2-training",
    dataset="fashion_mnist (search: seeded 10k train / 5k val subsets; final model: 50k "
            "train / 10k val / 10k test)",
    criteria=(
        Criterion("final_val_accuracy", ">=", 0.89,
                  "Validation accuracy of the model retrained with the best settings ≥ 0.89",
                  "Exactitud de validación del modelo reentrenado con la mejor configuración "
                  "≥ 0.89"),
        Criterion("pruned_share", ">=", 0.3,
                  "The Hyperband pruner stops at least 30 % of the trials early",
                  "El podador Hyperband detiene antes de tiempo al menos el 30 % de las "
                  "pruebas"),
        Criterion("final_model_has_best_params", "is", True,
                  "The final model is built from the best trial's settings (layers, units, "
                  "dropout, optimizer, learning rate)",
                  "El modelo final se construye con la configuración de la mejor prueba "
                  "(capas, neuronas, dropout, optimizador, tasa de aprendizaje)"),
        Criterion("lr_or_units_most_important", "is", True,
                  "The most important parameter (fANOVA importance) is the learning rate or "
                  "the number of units",
                  "El parámetro más importante (importancia fANOVA) es la tasa de aprendizaje "
                  "o el número de neuronas",
                  evidence="Full run, seed 0, 60 trials (41 pruned): fANOVA importances "
                           "optimizer 0.544, lr 0.275, units 0.129, dropout 0.053, n_layers "
                           "0.000. With plain SGD capped at lr 1e-2, the SGD trials barely "
                           "learn in 9 epochs, so the optimizer choice explains the most "
                           "variance; lr is second (see the criterion below)."),
        Criterion("lr_or_units_in_top_two", "is", True,
                  "The learning rate or the number of units is among the two most important "
                  "parameters",
                  "La tasa de aprendizaje o el número de neuronas está entre los dos "
                  "parámetros más importantes"),
    ),
    config=Config,
    quick={"n_trials": 6, "max_epochs": 3, "search_train": 1000, "search_val": 500,
           "final_epochs": 1, "final_train_subset": 2000},
    timed=("search_seconds", "final_fit_seconds"),
)

# %% [markdown] lang="en"
# ## 1. The data
# A trial is a complete training run, and a search runs dozens of them, so each trial learns
# from a seeded subset of the training images and is scored on a seeded part of the
# validation split. The winner is retrained on everything afterwards; the test images wait
# until the very end.

# %% [markdown] lang="es"
# ## 1. Los datos
# Una prueba es un entrenamiento completo, y una búsqueda ejecuta decenas, así que cada prueba
# aprende de un subconjunto de las imágenes de entrenamiento elegido con la semilla y se evalúa
# en una parte de la partición de validación. La ganadora se reentrena después con todo; las
# imágenes de test esperan hasta el final.

# %%
import time
import warnings

import optuna
import optuna.visualization.matplotlib as optuna_plots
import torch
from optuna.importance import FanovaImportanceEvaluator, get_param_importances

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import EarlyStopping, save_weights
from dlab.engine.tuning import TrialReport
from dlab.engine.variants import fit_run
from dlab.models import MLP

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

data = load("fashion_mnist", seed=ctx.seed)
search_train = subset(data.train, cfg.search_train, ctx.seed)
search_val = subset(data.val, cfg.search_val, ctx.seed)
final_train = subset(data.train, cfg.final_train_subset, ctx.seed)
ctx.table([ctx.t("used for", "uso"), ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("validation images", "imágenes de validación")],
          [[ctx.t("each trial", "cada prueba"), len(search_train[1]), len(search_val[1])],
           [ctx.t("final model", "modelo final"), len(final_train[1]), len(data.val[1])]])

# %% [markdown] lang="en"
# ## 2. The search space
# Five hyperparameters: the number of hidden layers (1 to 4), the units of each layer (32, 64,
# 128 or 256, the same for every layer), the dropout after each layer (0 to 0.5), the
# learning rate and the optimizer (Adam or plain SGD). The learning rate spans three orders of
# magnitude, from 1e-5 to 1e-2: drawn uniformly, nine draws in ten would land above 1e-3 and
# the small rates would hardly be tried. Drawn log-uniformly, each factor of ten gets the same
# share of trials.

# %% [markdown] lang="es"
# ## 2. El espacio de búsqueda
# Cinco hiperparámetros: el número de capas ocultas (1 a 4), las neuronas de cada capa (32,
# 64, 128 o 256, las mismas en todas), el dropout después de cada capa (0 a 0.5), la tasa de
# aprendizaje y el optimizador (Adam o SGD simple). La tasa de aprendizaje abarca tres órdenes
# de magnitud, de 1e-5 a 1e-2: con un muestreo uniforme, nueve de cada diez valores caerían
# por encima de 1e-3 y las tasas pequeñas casi no se probarían. Con un muestreo log-uniforme,
# cada factor de diez recibe la misma proporción de pruebas.

# %% exercise="suggest_params"
def suggest_params(trial) -> dict:
    """[en] Ask the Optuna `trial` for one setting of the search space and return it as a
    dict with exactly these keys, each suggested under the same name:
    "n_layers": an int from 1 to 4 (`trial.suggest_int`);
    "units": one of 32, 64, 128, 256 (`trial.suggest_categorical`);
    "dropout": a float from 0.0 to 0.5 (`trial.suggest_float`);
    "lr": a float from 1e-5 to 1e-2 drawn log-uniformly (`trial.suggest_float` with
    `log=True`);
    "optimizer": "Adam" or "SGD" (`trial.suggest_categorical`).

    [es] Pide a la prueba de Optuna `trial` una configuración del espacio de búsqueda y
    devuélvela como un dict con exactamente estas claves, cada una sugerida con ese mismo
    nombre:
    "n_layers": un int de 1 a 4 (`trial.suggest_int`);
    "units": uno de 32, 64, 128, 256 (`trial.suggest_categorical`);
    "dropout": un float de 0.0 a 0.5 (`trial.suggest_float`);
    "lr": un float de 1e-5 a 1e-2 con muestreo log-uniforme (`trial.suggest_float` con
    `log=True`);
    "optimizer": "Adam" o "SGD" (`trial.suggest_categorical`).
    """
    return {
        "n_layers": trial.suggest_int("n_layers", 1, 4),
        "units": trial.suggest_categorical("units", [32, 64, 128, 256]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "lr": trial.suggest_float("lr", 1e-5, 1e-2, log=True),
        "optimizer": trial.suggest_categorical("optimizer", ["Adam", "SGD"]),
    }


# %% check
import optuna
from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                  IntDistribution)

from dlab.exercises import expect

EXPECTED_SPACE = {
    "n_layers": IntDistribution(1, 4),
    "units": CategoricalDistribution([32, 64, 128, 256]),
    "dropout": FloatDistribution(0.0, 0.5),
    "lr": FloatDistribution(1e-5, 1e-2, log=True),
    "optimizer": CategoricalDistribution(["Adam", "SGD"]),
}


def _asked(n):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    answers = []
    for _ in range(n):
        trial = study.ask()
        answers.append((trial, suggest_params(trial)))
    return answers


@ctx.check("suggest_params")
def returns_what_the_trial_suggested():
    for trial, params in _asked(5):
        expect.type(params, dict, "suggest_params(trial)")
        expect.equal(sorted(params), sorted(EXPECTED_SPACE), "sorted(suggest_params(trial))")
        expect.equal(params, trial.params, "suggest_params(trial) vs trial.params (return the "
                     "values the trial suggested, under the same names)")


@ctx.check("suggest_params")
def declares_the_course_search_space():
    trial, _ = _asked(1)[0]
    for name, expected in EXPECTED_SPACE.items():
        got = trial.distributions.get(name)
        hint = (" (the learning rate must be drawn with log=True)" if name == "lr" else "")
        expect.equal(got, expected, f"the distribution suggested for '{name}'{hint}")


# %% [markdown] lang="en"
# ## 3. Trials that report, and a pruner that stops them
# A trial builds the MLP its settings describe, trains it for up to 9 epochs and, after every
# epoch, reports its validation accuracy to the study. Hyperband uses those reports: it runs
# trials in brackets that start with different budgets (1, 3 or 9 epochs before the first
# cut) and, at each rung, lets only about the best third of the trials that reached it go
# on. Stopping a trial is the trial's own job: it asks the study whether to go on and, if
# not, raises `optuna.TrialPruned`.
#
# The course asks for 100 trials with `n_jobs=2`. Here the search runs 60 trials, one at a
# time: PyTorch already spreads each trial over both cores, so two trials at once would only
# share them, and the order in which parallel trials finish (which changes what TPE learns
# from) would make every run different. TPE draws its first 10 trials at random and models
# the good region of the space after that.

# %% [markdown] lang="es"
# ## 3. Pruebas que informan y un podador que las detiene
# Una prueba construye el MLP que describe su configuración, lo entrena hasta 9 épocas y,
# tras cada época, informa su exactitud de validación al estudio. Hyperband usa esos informes:
# ejecuta las pruebas en grupos (brackets) que empiezan con presupuestos distintos (1, 3 o 9
# épocas antes del primer corte) y, en cada escalón, solo deja seguir a más o menos el mejor
# tercio de las pruebas que llegaron a él. Detener una prueba es tarea de la propia prueba:
# pregunta al estudio si debe seguir y, si no, lanza `optuna.TrialPruned`.
#
# El curso pide 100 pruebas con `n_jobs=2`. Aquí la búsqueda ejecuta 60 pruebas, de a una:
# PyTorch ya reparte cada prueba entre los dos núcleos, así que dos pruebas a la vez solo se
# los repartirían, y el orden en que terminan las pruebas en paralelo (que cambia lo que
# aprende TPE) haría que cada ejecución fuera distinta. TPE elige sus primeras 10 pruebas al
# azar y a partir de ahí modela la región buena del espacio.

# %% exercise="report_and_prune"
def report_and_prune(trial, epoch: int, value: float) -> None:
    """[en] Report `value` (the validation accuracy after epoch number `epoch`) to the Optuna
    `trial` with `trial.report(value, epoch)`, then ask `trial.should_prune()`; if it says
    True, stop the trial by raising `optuna.TrialPruned()`. Report first: the pruner decides
    from the values reported so far. Return nothing otherwise.

    [es] Informa `value` (la exactitud de validación tras la época número `epoch`) a la
    prueba de Optuna `trial` con `trial.report(value, epoch)` y después pregunta
    `trial.should_prune()`; si responde True, detén la prueba lanzando `optuna.TrialPruned()`.
    Informa primero: el podador decide a partir de los valores informados hasta el momento.
    En otro caso no devuelvas nada.
    """
    trial.report(value, epoch)
    if trial.should_prune():
        raise optuna.TrialPruned()


# %% check
import optuna

from dlab.exercises import expect


class _FakeTrial:
    """Records reports; prunes (when told to) only once something was reported."""

    def __init__(self, prune):
        self.prune, self.reports = prune, []

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune and bool(self.reports)


@ctx.check("report_and_prune")
def reports_the_epoch_value_and_goes_on():
    trial = _FakeTrial(prune=False)
    result = report_and_prune(trial, 3, 0.8)
    expect.equal(trial.reports, [(3, 0.8)], "(step, value) reported by "
                 "report_and_prune(trial, epoch=3, value=0.8)")
    expect.equal(result, None, "report_and_prune(trial, 3, 0.8) when the trial goes on")


@ctx.check("report_and_prune")
def raises_trial_pruned_when_the_pruner_says_so():
    trial = _FakeTrial(prune=True)
    try:
        report_and_prune(trial, 1, 0.2)
    except optuna.TrialPruned:
        pruned = True
    else:
        pruned = False
    expect.true(pruned,
                "report_and_prune did not raise optuna.TrialPruned although should_prune() "
                "was True after the report: returning is not enough, the trial must be "
                "stopped with `raise optuna.TrialPruned()`.",
                "report_and_prune no lanzó optuna.TrialPruned aunque should_prune() daba True "
                "tras el informe: devolver no alcanza, la prueba debe detenerse con "
                "`raise optuna.TrialPruned()`.")
    expect.equal(trial.reports, [(1, 0.2)], "(step, value) reported before pruning")


@ctx.check("report_and_prune")
def works_with_a_real_study_and_pruner():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    trial = study.ask()
    report_and_prune(trial, 1, 0.7)
    try:
        report_and_prune(trial, 2, 0.3)
        pruned = False
    except optuna.TrialPruned:
        pruned = True
    expect.true(pruned,
                "With ThresholdPruner(lower=0.5), report_and_prune(trial, 2, 0.3) should raise "
                "optuna.TrialPruned.",
                "Con ThresholdPruner(lower=0.5), report_and_prune(trial, 2, 0.3) debería lanzar "
                "optuna.TrialPruned.")
    expect.equal(dict(study.trials[0].intermediate_values), {1: 0.7, 2: 0.3},
                 "intermediate values the study received")


# %% [markdown] lang="en"
# Every trial starts from the same seeded batches; its weights are seeded by its trial number.
# A trial whose loss blows up (possible with Adam at the largest rates) is recorded as failed.

# %% [markdown] lang="es"
# Todas las pruebas usan los mismos lotes sembrados; sus pesos se siembran con su número de
# prueba. Una prueba cuya pérdida explota (posible con Adam a las tasas más altas) queda
# registrada como fallida.

# %%
OPTIMIZERS = {"Adam": torch.optim.Adam, "SGD": torch.optim.SGD}


def build_model(params):
    return MLP(784, [params["units"]] * params["n_layers"], 10, dropout=params["dropout"])


def objective(trial):
    params = suggest_params(trial)
    torch.manual_seed(ctx.seed + trial.number)
    model = build_model(params)
    optimizer = OPTIMIZERS[params["optimizer"]](model.parameters(), lr=params["lr"])
    run = fit_run(model, optimizer, search_train, search_val, epochs=cfg.max_epochs,
                  batch_size=cfg.batch_size, seed=ctx.seed,
                  callbacks=[TrialReport(lambda epoch, value: report_and_prune(trial, epoch,
                                                                               value))],
                  **ctx.trainer_options())
    return float("nan") if run.diverged else run.history["val_accuracy"][-1]


study = optuna.create_study(
    study_name="fashion-mlp-hpo",  # Hyperband assigns brackets from the name: keep it fixed
    direction="maximize", sampler=optuna.samplers.TPESampler(seed=ctx.seed),
    pruner=optuna.pruners.HyperbandPruner(min_resource=cfg.min_epochs,
                                          max_resource=cfg.max_epochs,
                                          reduction_factor=cfg.reduction_factor))
started = time.perf_counter()
study.optimize(objective, n_trials=cfg.n_trials)
search_seconds = time.perf_counter() - started

states = [t.state for t in study.trials]
n_pruned = states.count(optuna.trial.TrialState.PRUNED)
n_complete = states.count(optuna.trial.TrialState.COMPLETE)
epochs_run = sum(len(t.intermediate_values) for t in study.trials)
pruned_share = n_pruned / len(study.trials)
epochs_saved_share = 1 - epochs_run / (len(study.trials) * cfg.max_epochs)
best = study.best_trial
ctx.table([ctx.t("trials", "pruebas"), ctx.t("completed", "completas"),
           ctx.t("pruned", "podadas"), ctx.t("failed", "fallidas"),
           ctx.t("epochs run", "épocas ejecutadas"),
           ctx.t("epochs saved by pruning", "épocas ahorradas por la poda"),
           ctx.t("search time (s)", "tiempo de búsqueda (s)")],
          [[len(study.trials), n_complete, n_pruned, len(study.trials) - n_complete - n_pruned,
            epochs_run, f"{epochs_saved_share:.0%}", search_seconds]])
top = sorted((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE),
             key=lambda t: t.value, reverse=True)[:5]
ctx.table(ctx.t("trial|val accuracy|layers|units|dropout|lr|optimizer",
                "prueba|exactitud val.|capas|neuronas|dropout|lr|optimizador").split("|"),
          [[t.number, t.value, t.params["n_layers"], t.params["units"], t.params["dropout"],
            t.params["lr"], t.params["optimizer"]] for t in top],
          ctx.t("The five best completed trials", "Las cinco mejores pruebas completas"))

# %% [markdown] lang="en"
# ## 4. What the search learned
# Optuna's own plots: the accuracy of every trial in order with the best so far (pruned
# trials have no final value and are left out), the importance of each hyperparameter, and
# one line per trial across all hyperparameters, coloured by its accuracy. Importance is
# measured with fANOVA: a random forest learns accuracy from the settings of the completed
# trials, and the share of its variance that each hyperparameter explains is its importance.

# %% [markdown] lang="es"
# ## 4. Lo que aprendió la búsqueda
# Los gráficos del propio Optuna: la exactitud de cada prueba en orden junto con la mejor hasta
# el momento (las pruebas podadas no tienen valor final y quedan fuera), la importancia de
# cada hiperparámetro, y una línea por prueba a través de todos los hiperparámetros, coloreada
# según su exactitud. La importancia se mide con fANOVA: un bosque aleatorio aprende la
# exactitud a partir de la configuración de las pruebas completas, y la parte de su varianza
# que explica cada hiperparámetro es su importancia.

# %%
importance = FanovaImportanceEvaluator(seed=ctx.seed)
importances = get_param_importances(study, evaluator=importance)
ranking = list(importances)
for name, axes in (
        ("optimization_history", optuna_plots.plot_optimization_history(study)),
        ("param_importances", optuna_plots.plot_param_importances(study, evaluator=importance)),
        ("parallel_coordinate", optuna_plots.plot_parallel_coordinate(study))):
    figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
    figure.set_size_inches(10, 4.5)
    ctx.figure(name, figure)
ctx.table([ctx.t("hyperparameter", "hiperparámetro"), ctx.t("importance", "importancia")],
          [[name, value] for name, value in importances.items()])

# %% [markdown] lang="en"
# The course expects the learning rate and/or the number of units to come out on top. Watch
# the optimizer too: plain SGD with a learning rate of at most 1e-2 learns little in 9 epochs,
# so the choice between SGD and Adam can split good trials from bad ones more sharply than
# any other setting.

# %% [markdown] lang="es"
# El curso espera que la tasa de aprendizaje y/o el número de neuronas queden arriba. Conviene
# mirar también el optimizador: SGD simple con una tasa de aprendizaje de 1e-2 como mucho
# aprende poco en 9 épocas, así que elegir entre SGD y Adam puede separar las pruebas buenas de
# las malas con más nitidez que cualquier otro ajuste.

# %% [markdown] lang="en"
# ## 5. The winner, retrained and tested once
# The best trial's settings are trained again from scratch, now on all the training images,
# with early stopping on the full validation split; the best epoch's weights are saved to
# disk. The search's best score measured the settings on a small budget; the retrained model
# is the one the project would keep, and it is the one scored on the test images, once.

# %% [markdown] lang="es"
# ## 5. La ganadora, reentrenada y evaluada una vez en test
# La configuración de la mejor prueba se entrena de nuevo desde cero, ahora con todas las
# imágenes de entrenamiento y con parada temprana sobre toda la partición de validación; los
# pesos de la mejor época se guardan en disco. La mejor puntuación de la búsqueda midió la
# configuración con un presupuesto chico; el modelo reentrenado es el que el proyecto se
# quedaría, y es el que se evalúa en test, una sola vez.

# %%
torch.manual_seed(ctx.seed)
final_model = build_model(best.params)
final_optimizer = OPTIMIZERS[best.params["optimizer"]](final_model.parameters(),
                                                       lr=best.params["lr"])
final = fit_run(final_model, final_optimizer, final_train, data.val, epochs=cfg.final_epochs,
                batch_size=cfg.batch_size, seed=ctx.seed,
                callbacks=[EarlyStopping(patience=cfg.final_patience)], **ctx.trainer_options())
save_weights(final_model, ctx.checkpoint_path, {"params": best.params})
final_val_accuracy = final.trainer.evaluate(data.val)["accuracy"]
linear = [m for m in final_model.modules() if isinstance(m, torch.nn.Linear)]
dropouts = {m.p for m in final_model.modules() if isinstance(m, torch.nn.Dropout)}
final_model_has_best_params = bool(
    len(linear) == best.params["n_layers"] + 1
    and all(m.out_features == best.params["units"] for m in linear[:-1])
    and dropouts <= {best.params["dropout"]}
    and type(final_optimizer).__name__ == best.params["optimizer"]
    and final_optimizer.defaults["lr"] == best.params["lr"])
test_accuracy = final.trainer.evaluate(data.test)["accuracy"]
ctx.table([ctx.t("model", "modelo"), ctx.t("epochs", "épocas"),
           ctx.t("val accuracy", "exactitud val."), ctx.t("test accuracy", "exactitud test")],
          [[ctx.t(f"best trial #{best.number} (search budget)",
                  f"mejor prueba #{best.number} (presupuesto de búsqueda)"),
            len(best.intermediate_values), best.value, "—"],
           [ctx.t("retrained on all training images", "reentrenado con todas las imágenes"),
            len(final.history), final_val_accuracy, test_accuracy]])

# %%
ctx.finish({
    "final_val_accuracy": final_val_accuracy,
    "test_accuracy": test_accuracy,
    "best_trial_val_accuracy": best.value,
    "final_epochs_run": len(final.history),
    "best_params": best.params,
    "n_trials": len(study.trials),
    "pruned_share": pruned_share,
    "epochs_saved_share": epochs_saved_share,
    "most_important_params": ranking[:2],
    "param_importances": {name: float(value) for name, value in importances.items()},
    "lr_or_units_most_important": ranking[0] in ("lr", "units"),
    "lr_or_units_in_top_two": bool({"lr", "units"} & set(ranking[:2])),
    "final_model_has_best_params": final_model_has_best_params,
    "search_seconds": search_seconds,
    "final_fit_seconds": final.seconds,
})
