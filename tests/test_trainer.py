"""Trainer: fit / evaluate / predict, History, metrics, determinism, grad clipping, AMP."""
import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from torch import nn

from dlab.engine import Callback, History, Trainer
from dlab.engine import metrics as M
from dlab.errors import ConfigError
from dlab.runtime import seed_everything


def separable(n=80, seed=0):
    """Two well separated Gaussian blobs in 2-D: labels 0/1."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    centers = torch.tensor([[-2.0, -2.0], [2.0, 2.0]])
    X = centers[y] + 0.5 * torch.randn(n, 2, generator=g)
    return X, y


def mlp(seed=0, out=2, dropout=0.0):
    torch.manual_seed(seed)
    layers = [nn.Linear(2, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(16, out))


def trainer(model, lr=0.05, **kw):
    kw.setdefault("metrics", ["accuracy"])
    return Trainer(model, torch.optim.Adam(model.parameters(), lr=lr), device="cpu",
                   progress=False, doctor=False, **kw)


# ---------------------------------------------------------------- fit & History
def test_fit_reduces_loss_and_reaches_perfect_accuracy():
    X, y = separable()
    Xv, yv = separable(40, seed=1)
    t = trainer(mlp())
    before = t.evaluate((Xv, yv))
    history = t.fit((X, y), (Xv, yv), epochs=15, batch_size=16)
    after = t.evaluate((Xv, yv))
    assert after["loss"] < 0.2 * before["loss"]
    assert history["loss"][-1] < history["loss"][0]
    assert after["accuracy"] == 1.0
    assert history["val_accuracy"][-1] == 1.0


def test_history_contents():
    X, y = separable()
    t = trainer(mlp())
    history = t.fit((X, y), (X, y), epochs=4, batch_size=32)
    assert isinstance(history, History) and history is t.history
    assert len(history) == 4
    assert history.keys() == ["epoch", "loss", "val_loss", "val_accuracy", "lr"]
    assert history["epoch"] == [1, 2, 3, 4]
    assert history["lr"] == [0.05] * 4
    val_loss = history["val_loss"]
    assert len(val_loss) == 4 and all(isinstance(v, float) for v in val_loss)
    epoch, best = history.best("val_loss")
    assert best == min(val_loss) and val_loss[epoch - 1] == best
    epoch, best = history.best("val_accuracy", mode="max")
    assert best == max(history["val_accuracy"])
    # a key that was never logged: NaN per epoch, and best() names what was logged
    assert all(math.isnan(v) for v in history["grad_norm_mean"])
    with pytest.raises(KeyError, match="val_loss"):
        history.best("nope")
    assert history.stopped_early is False


def test_evaluate_and_predict_shapes():
    X, y = separable(50)
    t = trainer(mlp(out=3), metrics=["accuracy", "macro_f1"])
    y3 = y.clone()
    y3[:5] = 2
    t.fit((X, y3), epochs=1, batch_size=16)
    out = t.evaluate((X, y3), batch_size=7)  # batch size that does not divide N
    assert set(out) == {"loss", "accuracy", "macro_f1"}
    assert all(isinstance(v, float) for v in out.values())
    assert t.predict(X).shape == (50, 3)
    assert t.predict((X, y3), batch_size=7).shape == (50, 3)
    # evaluate's loss is the mean over the whole split, whatever the batch size
    assert out["loss"] == pytest.approx(t.evaluate((X, y3), batch_size=1000)["loss"], rel=1e-5)
    logits = t.predict(X)
    assert out["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, y3)), rel=1e-5)
    # predict does not train: eval mode, no grad
    assert not logits.requires_grad


def test_predict_is_in_eval_mode():
    X, _ = separable(30)
    t = trainer(mlp(dropout=0.5))
    assert torch.equal(t.predict(X), t.predict(X))


# ---------------------------------------------------------------- metrics vs sklearn
def _binary_case(seed=0, n=60):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, generator=g)
    y = (torch.rand(n, generator=g) < torch.sigmoid(2 * logits)).long()
    return logits, y


@pytest.mark.parametrize("shape", ["flat", "column"])
def test_binary_single_logit_metrics_match_sklearn(shape):
    logits, y = _binary_case()
    out = logits if shape == "flat" else logits[:, None]
    targets = y if shape == "flat" else y[:, None].float()  # BCE-style float column targets
    yt = y.numpy()
    pred = (logits.numpy() > 0).astype(int)
    prob = torch.sigmoid(logits).numpy()
    assert M.accuracy(out, targets) == pytest.approx(skm.accuracy_score(yt, pred))
    assert M.macro_f1(out, targets) == pytest.approx(skm.f1_score(yt, pred, average="macro"))
    assert M.roc_auc(out, targets) == pytest.approx(skm.roc_auc_score(yt, prob))
    np.testing.assert_array_equal(M.confusion_matrix(out, targets),
                                  skm.confusion_matrix(yt, pred))
    # sanity: the cases are not trivial
    assert 0.5 < M.accuracy(out, targets) < 1.0


def test_binary_two_logits_metrics_match_sklearn():
    logits, y = _binary_case(seed=1)
    two = torch.stack([torch.zeros_like(logits), logits], dim=1)  # softmax(two)[:, 1] = sigmoid
    yt = y.numpy()
    prob1 = torch.softmax(two, dim=1)[:, 1].numpy()
    pred = two.argmax(1).numpy()
    assert M.accuracy(two, y) == pytest.approx(skm.accuracy_score(yt, pred))
    assert M.roc_auc(two, y) == pytest.approx(skm.roc_auc_score(yt, prob1))
    assert M.roc_auc(two, y) == pytest.approx(M.roc_auc(logits, y))


def test_multiclass_metrics_match_sklearn():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(90, 4, generator=g)
    y = torch.arange(90) % 4
    logits[torch.arange(90), y] += 1.0  # better than chance, not perfect
    yt = y.numpy()
    pred = logits.argmax(1).numpy()
    prob = torch.softmax(logits, 1).numpy()
    assert M.accuracy(logits, y) == pytest.approx(skm.accuracy_score(yt, pred))
    assert M.macro_f1(logits, y) == pytest.approx(skm.f1_score(yt, pred, average="macro"))
    assert M.roc_auc(logits, y) == pytest.approx(
        skm.roc_auc_score(yt, prob, multi_class="ovr"))
    np.testing.assert_array_equal(M.confusion_matrix(logits, y), skm.confusion_matrix(yt, pred))
    cm = M.confusion_matrix(logits, y, num_classes=6)
    assert cm.shape == (6, 6) and cm.sum() == 90
    # one-hot targets give the same as class indices
    onehot = nn.functional.one_hot(y, 4).float()
    assert M.accuracy(logits, onehot) == M.accuracy(logits, y)
    assert 0.25 < M.accuracy(logits, y) < 1.0


def test_regression_metrics_match_sklearn():
    g = torch.Generator().manual_seed(3)
    target = torch.randn(40, generator=g)
    out = (target + 0.3 * torch.randn(40, generator=g))[:, None]
    assert M.mae(out, target) == pytest.approx(
        skm.mean_absolute_error(target.numpy(), out[:, 0].numpy()), rel=1e-6)
    assert M.mse(out, target) == pytest.approx(
        skm.mean_squared_error(target.numpy(), out[:, 0].numpy()), rel=1e-6)


def test_trainer_metrics_by_name_and_function():
    logits, y = _binary_case(seed=4)
    model = nn.Linear(1, 1)
    t = trainer(model, loss="bce_with_logits",
                metrics=["accuracy", "roc_auc", lambda o, t: np.float64(0.5)])
    X = torch.randn(60, 1)
    yf = y[:, None].float()
    out = t.evaluate((X, yf))
    logits = t.predict(X)
    assert out["accuracy"] == pytest.approx(
        skm.accuracy_score(y.numpy(), (logits[:, 0] > 0).long().numpy()))
    assert out["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y.numpy(), torch.sigmoid(logits[:, 0]).numpy()))
    assert out["<lambda>"] == 0.5 and type(out["<lambda>"]) is float


def test_unknown_metric_or_loss_is_a_config_error():
    with pytest.raises(ConfigError, match="Unknown metric 'acc'"):
        trainer(mlp(), metrics=["acc"])
    with pytest.raises(ConfigError, match="Unknown loss 'crossentropy'"):
        trainer(mlp(), loss="crossentropy")
    with pytest.raises(ConfigError, match="epochs"):
        trainer(mlp()).fit(separable(), epochs=0)
    with pytest.raises(ConfigError):
        trainer(mlp()).fit(42)


# ---------------------------------------------------------------- determinism
def _train_once(seed):
    seed_everything(seed)
    X, y = separable()
    model = mlp(seed=seed, dropout=0.3)
    t = trainer(model, lr=0.01)
    history = t.fit((X, y), (X, y), epochs=3, batch_size=16, seed=seed)
    return model.state_dict(), history


def test_same_seed_gives_identical_weights():
    w1, h1 = _train_once(0)
    w2, h2 = _train_once(0)
    w3, _ = _train_once(1)
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert h1.epochs == h2.epochs
    assert not all(torch.equal(w1[k], w3[k]) for k in w1)


# ---------------------------------------------------------------- grad clipping
class GradNorms(Callback):
    """Total gradient norm right after the optimizer step (= what the step used)."""

    def __init__(self):
        self.norms = []

    def on_batch_end(self, trainer, step, logs):
        grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(g) for g in grads]))))


def test_grad_clipping_logs_norms_and_respects_max_norm():
    X, y = separable()
    X = X * 50  # large inputs → large gradients, so clipping really happens
    clip = 0.5
    probe = GradNorms()
    t = trainer(mlp(), lr=0.01, grad_clip=clip, callbacks=[probe])
    history = t.fit((X, y), epochs=3, batch_size=16)
    assert "grad_norm_mean" in history.keys() and "grad_norm_max" in history.keys()
    means, maxes = history["grad_norm_mean"], history["grad_norm_max"]
    assert all(mx >= mn > 0 for mn, mx in zip(means, maxes))
    # the logged value is the norm before clipping: here it is above the limit...
    assert maxes[0] > clip
    # ...and every step used a gradient of norm <= clip
    assert len(probe.norms) == 3 * 5
    assert max(probe.norms) <= clip * (1 + 1e-4)
    assert max(probe.norms) > 0.9 * clip


def test_no_grad_norm_keys_without_clipping():
    t = trainer(mlp())
    history = t.fit(separable(), epochs=1)
    assert "grad_norm_mean" not in history.keys()


# ---------------------------------------------------------------- precision, memory format
def test_bf16_on_cpu_uses_bfloat16_autocast():
    X, y = separable()
    model = mlp()
    dtypes = []
    model[0].register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    t = trainer(model, precision="bf16")
    history = t.fit((X, y), (X, y), epochs=5, batch_size=16)
    assert torch.bfloat16 in dtypes
    assert all(math.isfinite(v) for v in history["loss"] + history["val_loss"])
    assert history["loss"][-1] < history["loss"][0]
    assert t.predict(X).dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_training_data_without_a_single_batch_is_refused():
    from dlab.data import Batches

    X, y = separable(10)
    with pytest.raises(ConfigError, match="no batch"):
        trainer(mlp()).fit(Batches(X, y, batch_size=16, drop_last=True), epochs=1)


def test_fp32_is_plain_float32():
    X, y = separable()
    model = mlp()
    dtypes = []
    model[0].register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    trainer(model, precision="fp32").fit((X, y), epochs=1, batch_size=16)
    assert set(dtypes) == {torch.float32}


def test_auto_precision_follows_the_hardware(monkeypatch):
    from dlab import runtime

    cpu = torch.device("cpu")
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: True)
    assert runtime.resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)
    assert runtime.resolve_precision("auto", cpu) == "fp32"
    assert runtime.resolve_precision("auto", torch.device("mps")) == "fp32"
    assert runtime.resolve_precision("fp32", cpu) == "fp32"
    with pytest.raises(ConfigError, match="Unknown precision 'half'"):
        runtime.resolve_precision("half", cpu)


def test_conv_models_go_channels_last_and_the_choice_is_logged():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    X, y = torch.randn(32, 3, 8, 8), torch.randint(0, 2, (32,))
    seen = []
    model[0].register_forward_pre_hook(lambda m, i: seen.append(
        i[0].is_contiguous(memory_format=torch.channels_last)))
    log = []
    t = trainer(model, precision="fp32", setup_log=log)
    t.fit((X, y), epochs=1, batch_size=8)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert seen and all(seen)
    assert len(log) == 1 and log[0]["model"] == "Sequential"
    assert (log[0]["precision"], log[0]["memory_format"]) == ("fp32", "channels_last")
    # an MLP keeps the default layout
    log.clear()
    trainer(mlp(), precision="fp32", setup_log=log)
    assert log[0]["memory_format"] == "contiguous"
    # so does a GroupNorm model on CPU, where channels_last GroupNorm is the slow path
    log.clear()
    trainer(nn.Sequential(nn.Conv2d(3, 8, 3), nn.GroupNorm(4, 8)), precision="bf16",
            setup_log=log)
    assert log[0]["memory_format"] == "contiguous"


def test_the_default_optimizer_is_fused_adam():
    t = Trainer(mlp(), device="cpu", progress=False)
    assert isinstance(t.optimizer, torch.optim.Adam) and t.optimizer.defaults["fused"]


def test_dlab_precision_sets_the_default(monkeypatch):
    monkeypatch.setenv("DLAB_PRECISION", "bf16")
    assert Trainer(mlp(), device="cpu", progress=False).precision == "bf16"
    monkeypatch.delenv("DLAB_PRECISION")
    from dlab.runtime import resolve_precision

    expected = resolve_precision("auto", torch.device("cpu"))
    assert Trainer(mlp(), device="cpu", progress=False).precision == expected
