"""Training pieces driven by a plain function: the optimizer, the early stopping and the
dropout layer do their bookkeeping right around whatever function they are given."""
import types

import torch
from torch import nn

from dlab.engine import EarlyStopping
from dlab.engine.rules import FunctionDropout, RuleEarlyStopping, RuleOptimizer, replace_dropout
from dlab.models import MLP


def test_rule_optimizer_calls_the_rule_with_a_state_per_parameter():
    calls = []

    def rule(w, g, state, lr):
        state["n"] = state.get("n", 0) + 1
        calls.append(state["n"])
        return w - lr * g

    model = nn.Linear(3, 2)
    before = model.weight.detach().clone()
    opt = RuleOptimizer(model.parameters(), rule, lr=0.5)
    for _ in range(2):
        opt.zero_grad()
        model(torch.ones(1, 3)).sum().backward()
        opt.step()
    assert calls == [1, 1, 2, 2]  # weight and bias, two steps each
    assert torch.allclose(model.weight, before - 2 * 0.5 * torch.ones(2, 3))
    assert opt.param_groups[0]["lr"] == 0.5


def _first_min_rule(values, patience):
    best = min(range(len(values)), key=values.__getitem__) + 1
    return best, len(values) - best >= patience


def test_rule_early_stopping_stops_and_restores_like_early_stopping():
    losses = [0.9, 0.7, 0.75, 0.7, 0.8, 0.6, 0.9]
    model = nn.Linear(1, 1)
    trainer = types.SimpleNamespace(stop_training=False, model=model)
    ours = RuleEarlyStopping(_first_min_rule, patience=2)
    theirs = EarlyStopping(patience=2, restore_best_weights=False)
    twin = types.SimpleNamespace(stop_training=False)
    for epoch, value in enumerate(losses, start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)
        ours.on_epoch_end(trainer, epoch, {"val_loss": value})
        theirs.on_epoch_end(twin, epoch, {"val_loss": value})
        assert (ours.best_epoch, trainer.stop_training) == (theirs.best_epoch,
                                                            twin.stop_training)
        if trainer.stop_training:
            break
    ours.on_fit_end(trainer)
    assert epoch == 4 and float(model.weight.detach()) == 2.0  # the weights of the best epoch


def test_replace_dropout_swaps_every_dropout_and_follows_the_mode():
    seen = []

    def fn(x, p, training):
        seen.append((p, training))
        return x

    model = replace_dropout(MLP(4, [8, 8], 2, dropout=0.3), fn)
    assert sum(isinstance(m, FunctionDropout) for m in model.modules()) == 2
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())
    model.train()(torch.zeros(1, 4))
    model.eval()(torch.zeros(1, 4))
    assert seen == [(0.3, True), (0.3, True), (0.3, False), (0.3, False)]
