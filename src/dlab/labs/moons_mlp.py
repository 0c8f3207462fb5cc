"""moons-mlp — logistic regression vs a small MLP on two interleaved half-moons.

Course: Part 2, class 100 homework. A straight line cannot follow the moons' curve; two
hidden ReLU layers can. The lab trains both, compares test accuracy and draws both decision
boundaries side by side.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n_samples: int = 1000
    noise: float = 0.2
    hidden: list = field(default_factory=lambda: [16, 8])
    epochs: int = 60
    batch_size: int = 32
    lr: float = 0.01
    patience: int = 10

    def check(self):
        positive(n_samples=self.n_samples, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, patience=self.patience)


LAB = Lab(
    id="moons-mlp",
    title_en="Logistic regression vs MLP on make_moons",
    title_es="Regresión logística vs MLP en make_moons",
    source="Part 2 · class 100 (homework)",
    dataset="moons (sklearn make_moons, noise=0.2, random_state=42)",
    summary_en="A linear model draws one straight boundary; an MLP with two hidden ReLU layers "
               "bends it around the moons. Same data, same split, both scored on the test set.",
    summary_es="Un modelo lineal traza una sola frontera recta; un MLP con dos capas ocultas "
               "ReLU la curva alrededor de las lunas. Mismos datos, misma partición, ambos "
               "evaluados en test.",
    criteria=(
        Criterion("mlp_test_accuracy", ">=", 0.95,
                  "MLP [16, 8] test accuracy ≥ 0.95",
                  "Exactitud en test del MLP [16, 8] ≥ 0.95"),
        Criterion("logistic_test_accuracy", "between", (0.80, 0.90),
                  "Logistic regression test accuracy ≈ 0.85 (within [0.80, 0.90])",
                  "Exactitud en test de la regresión logística ≈ 0.85 (entre 0.80 y 0.90)"),
    ),
    config=Config,
    quick={"n_samples": 300, "epochs": 5},
)


def run(ctx, cfg: Config) -> dict:
    import matplotlib.pyplot as plt
    import torch
    from sklearn.linear_model import LogisticRegression

    from dlab.data import load
    from dlab.engine import EarlyStopping, Trainer, metrics
    from dlab.models import MLP
    from dlab.viz import decision_boundary

    data = load("moons", n_samples=cfg.n_samples, noise=cfg.noise, seed=ctx.seed)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = data.train, data.val, data.test
    ctx.say(f"{len(y_train)} training, {len(y_val)} validation and {len(y_test)} test points; "
            "features standardized with training statistics.",
            f"{len(y_train)} puntos de entrenamiento, {len(y_val)} de validación y {len(y_test)} "
            "de test; variables estandarizadas con estadísticas de entrenamiento.")

    # Baseline: logistic regression, i.e. one neuron with a sigmoid (a straight boundary).
    logistic = LogisticRegression().fit(X_train.numpy(), y_train.numpy())

    # The MLP: two hidden ReLU layers, two output logits, cross-entropy.
    model = MLP(2, cfg.hidden, 2)
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr),
                      metrics=["accuracy"], callbacks=[EarlyStopping(patience=cfg.patience)],
                      **ctx.trainer_options())
    history = trainer.fit(data.train, data.val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                          seed=ctx.seed)

    # The test split is used once, here, after every choice was made on validation.
    logistic_acc = float(logistic.score(X_test.numpy(), y_test.numpy()))
    mlp_acc = trainer.evaluate(data.test)["accuracy"]

    def mlp_predict(grid):
        return metrics.predictions(trainer.predict(torch.as_tensor(grid, dtype=torch.float32)))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    decision_boundary(axes[0], logistic.predict, X_test.numpy(), y_test.numpy(),
                      ctx.t(f"Logistic regression — test acc {logistic_acc:.3f}",
                            f"Regresión logística — exactitud {logistic_acc:.3f}"))
    decision_boundary(axes[1], mlp_predict, X_test.numpy(), y_test.numpy(),
                      ctx.t(f"MLP {cfg.hidden} — test acc {mlp_acc:.3f}",
                            f"MLP {cfg.hidden} — exactitud {mlp_acc:.3f}"))
    ctx.figure("decision_boundaries", fig,
               "Decision boundaries on the test points: a line vs a curve.",
               "Fronteras de decisión sobre los puntos de test: una recta frente a una curva.")
    ctx.say("Why the MLP wins: each hidden ReLU unit splits the plane along a line, and the next "
            "layer combines those half-planes into a bent region that follows the moons. "
            "Logistic regression has a single weighted sum, so its boundary can only be a "
            "straight line, and the points inside each moon's curve end up on the wrong side.",
            "Por qué gana el MLP: cada neurona ReLU oculta corta el plano con una recta y la capa "
            "siguiente combina esos semiplanos en una región curva que sigue a las lunas. La "
            "regresión logística tiene una única suma ponderada, así que su frontera solo puede "
            "ser una recta y los puntos del interior de cada luna quedan del lado equivocado.")
    return {
        "mlp_test_accuracy": mlp_acc,
        "logistic_test_accuracy": logistic_acc,
        "mlp_epochs_trained": len(history),
        "mlp_best_val_loss": history.best("val_loss")[1],
    }
