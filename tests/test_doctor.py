"""The training doctor: each classic mistake is triggered through a real Trainer.fit."""
import ast
import functools
import inspect
import io
import re
import sys

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlab.data import Batches
from dlab.diagnostics import checks, doctor
from dlab.diagnostics.checks import CHECKS_BEFORE_FIT, Diagnosis
from dlab.diagnostics.doctor import Doctor, dead_relus
from dlab.engine import LRScheduler, Trainer
from dlab.errors import ConfigError, TrainingError
from dlab.models.mlp import MLP


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(before)


def make_trainer(model, optimizer=None, loss="cross_entropy", **kwargs):
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=0.1)
    return Trainer(model, optimizer=optimizer, loss=loss, device="cpu", progress=False,
                   console=Console(file=io.StringIO()), **kwargs)


def classification(n=64, features=4, classes=3):
    X = torch.randn(n, features)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()  # labels 0..2
    return X, y % classes


def mlp(features=4, out=3, **kwargs):
    return MLP(features, [16], out, **kwargs)


def fit_error(trainer, data, **kwargs) -> str:
    with pytest.raises(TrainingError) as info:
        trainer.fit(data, epochs=kwargs.pop("epochs", 2), batch_size=kwargs.pop("batch_size", 16),
                    **kwargs)
    return str(info.value)


def fit_warnings(trainer, data, epochs=2, batch_size=16) -> list[str]:
    return trainer.fit(data, epochs=epochs, batch_size=batch_size).warnings


# ------------------------------------------------------------------ correct setups: silence


def test_correct_setups_give_no_warning_and_no_error():
    X, y = classification()
    assert fit_warnings(make_trainer(mlp()), (X, y)) == []
    # binary: one logit per sample, float (N, 1) targets
    yb = (X[:, :1] > 0).float()
    assert fit_warnings(make_trainer(mlp(out=1), loss="bce_with_logits"), (X, yb)) == []
    # regression: (N, 1) outputs, (N, 1) targets
    yr = X.sum(1, keepdim=True)
    assert fit_warnings(make_trainer(mlp(out=1), loss="mse"), (X, yr)) == []
    # functional losses, soft labels, LogSoftmax + NLLLoss, BatchNorm with drop_last
    soft = torch.softmax(torch.randn(64, 3), dim=1)
    assert fit_warnings(make_trainer(mlp(), loss=F.cross_entropy), (X, soft)) == []
    logsm = nn.Sequential(mlp(), nn.LogSoftmax(dim=1))
    assert fit_warnings(make_trainer(logsm, loss=nn.NLLLoss()), (X, y)) == []
    bn = Batches(X[:33], y[:33], batch_size=16, drop_last=True)
    assert fit_warnings(make_trainer(mlp(batchnorm=True)), bn) == []


def test_unknown_losses_and_odd_models_are_skipped_not_crashed():
    X, y = classification()

    class TwoHeads(nn.Module):  # returns a tuple: the doctor cannot inspect it
        def __init__(self):
            super().__init__()
            self.body = mlp()

        def forward(self, x):
            out = self.body(x)
            return out, out.detach()

    def custom_loss(outputs, y):
        return F.cross_entropy(outputs[0], y)

    assert fit_warnings(make_trainer(TwoHeads(), loss=custom_loss), (X, y)) == []
    # a lambda loss the doctor does not know, on a correct regression problem
    yr = X.sum(1, keepdim=True)
    loss = lambda out, t: ((out - t) ** 2).mean()  # noqa: E731
    assert fit_warnings(make_trainer(mlp(out=1), loss=loss), (X, yr)) == []
    # a plain list of batches (no Batches, no DataLoader)
    batches = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    assert fit_warnings(make_trainer(mlp()), batches) == []


def test_doctor_leaves_no_trace_training_is_identical():
    X, y = classification()

    def run(doctor):
        torch.manual_seed(1)
        model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                              nn.Linear(16, 3))
        trainer = make_trainer(model, doctor=doctor)
        trainer.fit((X, y), epochs=3, batch_size=16)
        return [p.detach().clone() for p in model.state_dict().values()], torch.rand(1)

    with_doctor, rng_a = run(True)
    without, rng_b = run(False)
    assert all(torch.equal(a, b) for a, b in zip(with_doctor, without))
    assert torch.equal(rng_a, rng_b)  # the global random stream was not consumed


def test_before_fit_restores_training_flags_and_rng():
    class Noisy(nn.Module):  # samples noise in forward, like a VAE
        def __init__(self):
            super().__init__()
            self.net, self.frozen = mlp(), nn.BatchNorm1d(4)

        def forward(self, x):
            return self.net(self.frozen(x) + torch.randn_like(x))

    model = Noisy().train()
    model.frozen.eval()
    trainer = make_trainer(model)
    X, y = classification()
    state = torch.get_rng_state()
    Doctor().before_fit(trainer, (X[:16], y[:16]))
    assert torch.equal(torch.get_rng_state(), state)
    assert model.training and model.net.training and not model.frozen.training


# ------------------------------------------------------------------ 1. non-finite loss


def test_non_finite_loss_from_huge_learning_rate_names_epoch_and_step():
    X = torch.randn(64, 4)
    y = X.sum(1, keepdim=True)
    model = nn.Linear(4, 1)
    trainer = make_trainer(model, torch.optim.SGD(model.parameters(), lr=1e6), loss="mse")
    msg = fit_error(trainer, (X, y))
    assert "The loss became inf at epoch 1, step 4 (learning rate 1e+06)" in msg
    assert "learning rate that is too high" in msg and "lr=100000" in msg
    assert "grad_clip=1.0" in msg


def test_non_finite_loss_from_unscaled_inputs_blames_the_inputs():
    X = torch.randn(64, 4)
    y = X.sum(1, keepdim=True)
    trainer = make_trainer(nn.Linear(4, 1), loss="mse")
    msg = fit_error(trainer, (X * 1e30, y))
    assert "epoch 1, step 1" in msg and "largest |x| = " in msg and "standardize" in msg
    assert any("The inputs are not scaled" in w for w in trainer.history.warnings)


def test_nan_rows_in_the_training_set_are_found_before_training():
    X, y = classification(n=200)
    X[150, 2] = float("nan")  # one missing value, probably not in the first batch
    msg = fit_error(make_trainer(mlp()), (X, y))
    assert "The training set contains NaN/inf values: 1 of 200 input rows" in msg
    assert "torch.isfinite(X)" in msg


def test_non_finite_loss_from_nan_data_in_a_later_batch():
    X, y = classification()
    X[20:24, 2] = float("nan")  # missing values in the second batch only
    batches = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]  # no whole-set scan
    msg = fit_error(make_trainer(mlp()), batches)
    assert "The loss became nan at epoch 1, step 2" in msg
    assert "contains 4 NaN/inf input values (of 64)" in msg


def test_non_finite_loss_on_the_first_step_with_clean_inputs_blames_targets_or_model():
    class LogOfZero(nn.Module):  # a forward that takes log(0) for every sample
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)

        def forward(self, x):
            return self.fc(x) + torch.log(torch.zeros(len(x), 1))

    X = torch.randn(64, 4)
    msg = fit_error(make_trainer(LogOfZero(), loss="mse"), (X, X.sum(1, keepdim=True)))
    assert "The loss became inf at epoch 1, step 1" in msg
    assert "the learning rate is not the cause" in msg and "torch.log(p + 1e-8)" in msg


# ------------------------------------------------------------- 2. probabilities into logits losses


def test_softmax_layer_before_cross_entropy_warns():
    X, y = classification()
    model = nn.Sequential(mlp(), nn.Softmax(dim=1))
    (warning,) = fit_warnings(make_trainer(model), (X, y))
    assert "its forward ends with Softmax" in warning and "CrossEntropyLoss" in warning
    assert "remove the final Softmax" in warning


class ProbsOut(nn.Module):
    """Applies softmax in forward (no Softmax module); ``then`` runs on the probabilities."""

    def __init__(self, then=lambda p: p):
        super().__init__()
        self.net, self.then = mlp(), then
        self.probs = nn.Softmax(dim=1)  # registered last, but only used by predict_proba

    def forward(self, x):
        return self.then(torch.softmax(self.net(x), dim=1))

    def predict_proba(self, x):
        return self.probs(self.net(x))


def test_functional_softmax_in_forward_is_found_in_the_graph():
    X, y = classification()
    (warning,) = fit_warnings(make_trainer(ProbsOut(), loss=F.cross_entropy), (X, y))
    assert "its forward ends with Softmax" in warning
    assert "F.cross_entropy" in warning and "remove the final Softmax" in warning


def test_softmax_hidden_behind_another_op_is_found_from_the_outputs():
    X, y = classification()
    model = ProbsOut(then=lambda p: p[:, [0, 1, 2]])  # indexing hides the softmax node
    (warning,) = fit_warnings(make_trainer(model), (X, y))
    assert "its outputs on the first batch are all in [0, 1] and each row sums to 1" in warning


def test_a_softmax_module_that_forward_does_not_return_is_fine():
    class LogitsOut(ProbsOut):
        def forward(self, x):
            return self.net(x)

    X, y = classification()
    assert fit_warnings(make_trainer(LogitsOut()), (X, y)) == []


def test_sigmoid_before_bce_with_logits_warns():
    X = torch.randn(64, 4)
    y = (X[:, :1] > 0).float()
    model = nn.Sequential(mlp(out=1), nn.Sigmoid())
    (warning,) = fit_warnings(make_trainer(model, loss="bce_with_logits"), (X, y))
    assert "remove the final Sigmoid" in warning and "BCEWithLogitsLoss" in warning


def test_nll_loss_needs_log_probabilities():
    X, y = classification()
    softmax = nn.Sequential(mlp(), nn.Softmax(dim=1))
    (warning,) = fit_warnings(make_trainer(softmax, loss=nn.NLLLoss()), (X, y))
    assert "NLLLoss expects log-probabilities" in warning and "nn.LogSoftmax(dim=1)" in warning
    (warning,) = fit_warnings(make_trainer(mlp(), loss=nn.NLLLoss()), (X, y))
    assert "raw scores" in warning and "no lower bound" in warning


# ------------------------------------------------------------------ 3. label format


def test_float_class_labels_for_cross_entropy():
    X, y = classification()
    msg = fit_error(make_trainer(mlp()), (X, y.float()))
    assert "int64 tensor of shape (16,)" in msg and "float32 of shape (16,)" in msg
    assert "Fix: y = y.long()." in msg


def test_column_of_labels_for_cross_entropy():
    X, y = classification()
    msg = fit_error(make_trainer(mlp()), (X, y.unsqueeze(1)))
    assert "torch.int64 of shape (16, 1)" in msg and "y = y.squeeze(1).long()" in msg


def test_one_hot_targets_with_wrong_width():
    X, y = classification()
    one_hot = F.one_hot(y, 4).float()  # 4 columns, but the model has 3 outputs
    msg = fit_error(make_trainer(mlp()), (X, one_hot))
    assert "one-hot with 4 columns (shape (16, 4))" in msg and "the model has 3 outputs" in msg
    assert "y = y.argmax(1)" in msg


def test_integer_one_hot_targets():
    X, y = classification()
    msg = fit_error(make_trainer(mlp()), (X, F.one_hot(y, 3)))
    assert "look like one-hot rows" in msg and "y = y.argmax(1)" in msg


def test_bce_with_logits_needs_float_targets_of_the_output_shape():
    X = torch.randn(64, 4)
    y = (X[:, 0] > 0).long()
    trainer = make_trainer(mlp(out=1), loss="bce_with_logits")
    msg = fit_error(trainer, (X, y))
    assert "outputs (16, 1) while the targets are torch.int64 of shape (16,)" in msg
    assert "y = y.float()" in msg and "y = y.unsqueeze(1)" in msg


def test_bce_with_two_outputs_suggests_cross_entropy():
    X = torch.randn(64, 4)
    y = (X[:, 0] > 0).float()
    msg = fit_error(make_trainer(mlp(out=2), loss=nn.BCEWithLogitsLoss()), (X, y))
    assert "the model has 2 outputs" in msg and "loss='cross_entropy'" in msg


# ------------------------------------------------------------------ 4. labels out of range


def test_labels_numbered_from_one():
    X, y = classification()
    msg = fit_error(make_trainer(mlp()), (X, y + 1))
    assert "integers in 0..2 because the model has 3 outputs" in msg
    assert "labels from 1 to 3" in msg and "y = y - 1" in msg


def test_a_rare_bad_label_is_found_in_the_whole_training_set():
    X, y = classification(n=200)
    y[137] = 7
    msg = fit_error(make_trainer(mlp()), (X, y))
    assert "the training set has labels from 0 to 7 (1 of 200 out of range)" in msg
    assert "nn.Linear(..., 8)" in msg
    # the same through a DataLoader over a TensorDataset
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    msg = fit_error(make_trainer(mlp()), loader)
    assert "(1 of 200 out of range)" in msg


def test_bad_labels_in_the_first_batch_of_an_unknown_iterable():
    X, y = classification()
    batches = [(X[:16], y[:16] - 1)]
    msg = fit_error(make_trainer(mlp()), batches)
    assert "the first batch has labels from -1 to 1" in msg and "ignore_index=-1" in msg


def test_ignore_index_labels_are_allowed():
    X, y = classification()
    y[::5] = -100  # CrossEntropyLoss's default ignore_index
    assert fit_warnings(make_trainer(mlp()), (X, y)) == []


def test_multiclass_labels_fed_to_bce():
    X, y = classification()
    msg = fit_error(make_trainer(mlp(out=1), loss="bce_with_logits"), (X, y.float()[:, None]))
    assert "targets from 0 to 2" in msg and "loss='cross_entropy'" in msg


# ------------------------------------------------------------------ 5. regression shapes


def test_regression_column_output_against_flat_targets():
    X = torch.randn(64, 4)
    y = X.sum(1)  # (N,) while the model returns (N, 1)
    msg = fit_error(make_trainer(mlp(out=1), loss="mse"), (X, y))
    assert "outputs of shape (16, 1) but targets of shape (16,)" in msg
    assert "silently broadcasts to (16, 16)" in msg and "y = y.unsqueeze(1)" in msg


def test_regression_flat_output_against_column_targets():
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp(out=1)

        def forward(self, x):
            return self.net(x).squeeze(-1)

    X = torch.randn(64, 4)
    msg = fit_error(make_trainer(Flat(), loss=nn.L1Loss()), (X, X.sum(1, keepdim=True)))
    assert "L1Loss gets outputs of shape (16,)" in msg and "y = y.squeeze(1)" in msg


def test_regression_with_integer_targets():
    X = torch.randn(64, 4)
    y = X.sum(1, keepdim=True).round().long()
    msg = fit_error(make_trainer(mlp(out=1), loss="mse"), (X, y))
    assert "MSELoss needs float targets" in msg and "y = y.float()" in msg


def test_model_that_mixes_samples_changes_the_batch_size():
    class BadReshape(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            return self.fc(x.view(-1, 8))  # (16, 4) becomes (8, 8): samples glued in pairs

    X, y = classification()
    msg = fit_error(make_trainer(BadReshape()), (X, y))
    assert "returned 8 rows for a batch of 16 samples" in msg and "x.flatten(1)" in msg


# ------------------------------------------------------------------ 6. input scale


def test_unscaled_inputs_warn():
    X, y = classification()
    model = mlp()
    trainer = make_trainer(model, torch.optim.SGD(model.parameters(), lr=1e-6))
    (warning,) = fit_warnings(trainer, (X * 50 + 300, y))
    assert "The inputs are not scaled" in warning and "standardize each feature" in warning


def test_raw_pixels_warn_divide_by_255():
    X = torch.randint(0, 256, (64, 16)).float()
    y = torch.randint(0, 3, (64,))
    model = MLP(16, [8], 3)
    warnings = fit_warnings(make_trainer(model, torch.optim.SGD(model.parameters(), lr=1e-6)),
                            (X, y), epochs=1)
    assert any("raw 0-255 pixel values: divide by 255" in w for w in warnings)


# ------------------------------------------------------------- 7. BatchNorm with a batch of one


def test_batchnorm_with_a_last_batch_of_one_sample():
    X, y = classification(n=33)
    msg = fit_error(make_trainer(mlp(batchnorm=True)), (X, y))
    assert "BatchNorm1d layer '1'" in msg
    assert "33 samples with batch_size=16 leave 33 % 16 = 1" in msg
    assert "drop_last=True" in msg and "nn.LayerNorm" in msg
    # without the doctor, torch fails with its own, cryptic message
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        make_trainer(mlp(batchnorm=True), doctor=False).fit((X, y), epochs=1, batch_size=16)


def test_batchnorm_with_batch_size_one():
    X, y = classification(n=8)
    msg = fit_error(make_trainer(mlp(batchnorm=True)), (X, y), batch_size=1)
    assert "the first training batch has a single sample" in msg


def test_batchnorm2d_on_feature_maps_trains_with_a_last_batch_of_one():
    # one image still gives H*W values per channel: torch trains, so the doctor stays quiet
    X = torch.randn(17, 1, 4, 4)
    y = torch.randint(0, 2, (17,))
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
                          nn.Linear(16, 2))
    assert fit_warnings(make_trainer(model), (X, y), epochs=1) == []


# ------------------------------------------------------------------ 8. two schedulers


def test_two_schedulers_on_one_optimizer():
    X, y = classification()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    callbacks = [LRScheduler(torch.optim.lr_scheduler.StepLR(opt, step_size=1)),
                 LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5))]
    msg = fit_error(make_trainer(model, opt, callbacks=callbacks), (X, y))
    assert ("2 learning-rate schedulers drive the same optimizer: "
            "StepLR and CosineAnnealingLR") in msg
    assert "SequentialLR" in msg


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_one_scheduler_is_fine_and_a_stale_one_warns():
    X, y = classification()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    one = [LRScheduler(torch.optim.lr_scheduler.StepLR(opt, step_size=1))]
    assert fit_warnings(make_trainer(model, opt, callbacks=one), (X, y)) == []
    old = torch.optim.SGD(model.parameters(), lr=0.1)  # re-created after the scheduler
    stale = [LRScheduler(torch.optim.lr_scheduler.StepLR(old, step_size=1))]
    (warning,) = fit_warnings(make_trainer(model, opt, callbacks=stale), (X, y))
    assert "StepLR scheduler steps an optimizer that this Trainer does not use" in warning


# ------------------------------------------------------------------ 9. dead ReLUs


def test_dead_relus_warn_once_naming_the_layer():
    X, y = classification(n=200)
    model = mlp()
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every pre-activation is negative: all 16 units dead
    warnings = fit_warnings(make_trainer(model), (X, y), epochs=3)
    assert len(warnings) == 1  # reported once, not every epoch
    assert "after epoch 1, layer '1'" in warnings[0]
    assert "all 200 training samples checked in 16 of 16 units (100%)" in warnings[0]
    assert "LeakyReLU" in warnings[0] and "kaiming_normal_" in warnings[0]


def test_dead_relus_counts_each_call_of_a_shared_relu():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.act = nn.Linear(4, 8), nn.Linear(8, 6), nn.ReLU()

        def forward(self, x):
            return self.act(self.b(self.act(self.a(x))))

    model = Shared()
    with torch.no_grad():
        model.b.bias.fill_(-100.0)
    report = dict((name, (dead, total)) for name, dead, total in
                  dead_relus(model, torch.randn(64, 4), torch.device("cpu")))
    assert report["act (call 2)"] == (6, 6)
    assert report["act (call 1)"][1] == 8 and report["act (call 1)"][0] < 8
    assert model.training  # flag restored


def test_a_partial_of_a_torch_loss_is_recognised():
    # functools.partial(F.cross_entropy, ...) is recognised: labels are still range-checked
    X, y = classification()
    loss = functools.partial(F.cross_entropy, label_smoothing=0.1)
    msg = fit_error(make_trainer(mlp(), loss=loss), (X, y + 5))
    assert "labels from 5 to 7" in msg


# ------------------------------------------------------------------ 10. X and y row counts


def test_x_and_y_with_different_row_counts():
    X, y = classification(n=100)
    msg = fit_error(make_trainer(mlp()), (X, y[:90]))
    assert ("The training data has 100 rows in X but 90 in y (X shape (100, 4), "
            "y shape (90,))") in msg
    assert "applied to X but not to y" in msg and "X, y = X[keep], y[keep]" in msg
    msg = fit_error(make_trainer(mlp(), lang="es"), (X, y[:90]))
    assert ("Los datos de entrenamiento tienen 100 filas en X pero 90 en y (forma de X "
            "(100, 4), forma de y (90,))") in msg
    assert "se aplicó una partición, un filtro o una mezcla a X pero no a y" in msg
    assert "X, y = X[keep], y[keep]" in msg


def test_validation_rows_are_checked_before_training():
    X, y = classification(n=100)
    trainer = make_trainer(mlp())
    msg = fit_error(trainer, (X, y), val=(X[:50], y[:40]))
    assert "The validation data has 50 rows in X but 40 in y" in msg
    assert trainer.global_step == 0  # not after a whole epoch of training
    msg = fit_error(make_trainer(mlp(), lang="es"), (X, y), val=(X[:50], y[:40]))
    assert "Los datos de validación tienen 50 filas en X pero 40 en y" in msg


def test_matching_rows_train_and_validate_normally():
    X, y = classification(n=100)
    history = make_trainer(mlp()).fit((X[:80], y[:80]), val=(X[80:], y[80:]), epochs=2,
                                      batch_size=16)
    assert history.warnings == [] and len(history.epochs) == 2
    assert "val_loss" in history.epochs[-1]


# ------------------------------------------------------------------ 11. inputs vs first layer


def test_inputs_narrower_than_the_first_layer():
    X, y = classification(features=3)
    msg = fit_error(make_trainer(mlp(features=4)), (X, y))
    assert ("The model's first layer ('0', nn.Linear(4, 16)) expects 4 features per sample, "
            "but the data has 3 (X shape (64, 3))") in msg
    assert "'mat1 and mat2 shapes cannot be multiplied (16x3 and 4x16)'" in msg
    assert "in_features = X.shape[1] (here nn.Linear(3, 16))" in msg and "one-hot" in msg
    msg = fit_error(make_trainer(mlp(features=4), lang="es"), (X, y))
    assert ("La primera capa del modelo ('0', nn.Linear(4, 16)) espera 4 características por "
            "muestra, pero los datos tienen 3 (forma de X (64, 3))") in msg
    assert "in_features = X.shape[1] (aquí nn.Linear(3, 16))" in msg
    # without the doctor, torch's own message
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        make_trainer(mlp(features=4), doctor=False).fit((X, y), epochs=1, batch_size=16)


def test_flat_vector_inputs_and_flattened_images():
    X = torch.randn(64)
    msg = fit_error(make_trainer(nn.Linear(1, 1), loss="mse"), (X, X[:, None] * 2))
    assert "expects 1 feature per sample" in msg and "X = X.unsqueeze(1)" in msg
    images, y = torch.rand(64, 1, 28, 28), torch.randint(0, 3, (64,))
    model = nn.Sequential(nn.Flatten(), nn.Linear(700, 3))
    msg = fit_error(make_trainer(model, lang="es"), (images, y))
    assert ("espera 700 características por muestra, pero los datos tienen 784 valores por "
            "muestra una vez aplanados (forma de X (64, 1, 28, 28): 1 x 28 x 28 = 784)") in msg
    assert "in_features = X[0].numel() (aquí nn.Linear(784, 3))" in msg


def conv_net(in_channels):
    return nn.Sequential(nn.Conv2d(in_channels, 4, 3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 6 * 6, 2))


@pytest.mark.parametrize("model_channels, images, expected", [
    (3, (64, 1, 8, 8), "expects 3 channels per sample, (N, C, H, W), but the data has 1 "
                       "(X shape (64, 1, 8, 8))"),
    (3, (64, 8, 8, 3), "channels-last, (N, H, W, C)"),
    (1, (64, 8, 8), "no channel dimension (X shape (64, 8, 8))"),
], ids=["channels", "channels_last", "no_channel_dim"])
def test_images_that_do_not_fit_the_first_convolution(model_channels, images, expected):
    X, y = torch.rand(*images), torch.randint(0, 2, (64,))
    msg = fit_error(make_trainer(conv_net(model_channels)), (X, y), epochs=1)
    assert "The model's first layer ('0', nn.Conv2d(" in msg and expected in msg
    fix = {(64, 1, 8, 8): "X = X.repeat(1, 3, 1, 1)", (64, 8, 8, 3): "X = X.permute(0, 3, 1, 2)",
           (64, 8, 8): "X = X.unsqueeze(1)"}[images]
    assert fix in msg


def test_inputs_that_fit_the_first_layer_train_normally():
    X, y = classification(features=3)
    assert fit_warnings(make_trainer(mlp(features=3)), (X, y)) == []
    images = torch.rand(32, 3, 8, 8) - 0.5
    assert fit_warnings(make_trainer(conv_net(3)), (images, torch.randint(0, 2, (32,)))) == []


def test_a_mismatch_deeper_in_the_model_is_left_to_torch():
    # the data fits the first layer; the model itself is inconsistent: not a data problem
    X, y = classification()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(15, 3))
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        make_trainer(model).fit((X, y), epochs=1, batch_size=16)

    class Scaled(nn.Module):  # parameters of its own used before the first layer: unsure
        def __init__(self):
            super().__init__()
            self.scale, self.fc = nn.Parameter(torch.ones(3)), nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x * self.scale)

    with pytest.raises(RuntimeError):
        make_trainer(Scaled()).fit((X[:, :3], y), epochs=1, batch_size=16)


# ------------------------------------------------------------------ 12. the run's language


def test_lang_must_be_en_or_es():
    with pytest.raises(ConfigError, match="'en'.*'es'"):
        make_trainer(mlp(), lang="fr")
    assert make_trainer(mlp()).lang == "en" and make_trainer(mlp(), lang="es").lang == "es"


def test_non_finite_loss_in_spanish():
    X = torch.randn(64, 4)
    model = nn.Linear(4, 1)
    trainer = make_trainer(model, torch.optim.SGD(model.parameters(), lr=1e6), loss="mse",
                           lang="es")
    msg = fit_error(trainer, (X, X.sum(1, keepdim=True)))
    assert ("La pérdida se volvió inf en la época 1, paso 4 (tasa de aprendizaje 1e+06)"
            in msg)
    assert "una tasa de aprendizaje demasiado alta" in msg and "lr=100000" in msg
    assert "recorta los gradientes con Trainer(..., grad_clip=1.0)" in msg


def test_softmax_before_cross_entropy_warns_in_spanish():
    X, y = classification()
    model = nn.Sequential(mlp(), nn.Softmax(dim=1))
    (warning,) = fit_warnings(make_trainer(model, lang="es"), (X, y))
    assert "El modelo produce probabilidades (su forward termina con Softmax)" in warning
    assert "quita la Softmax final del modelo" in warning and "CrossEntropyLoss" in warning


def test_labels_out_of_range_in_spanish():
    X, y = classification()
    msg = fit_error(make_trainer(mlp(), lang="es"), (X, y + 1))
    assert "Las etiquetas de clase deben ser enteros en 0..2 porque el modelo tiene 3" in msg
    assert "las etiquetas parecen numeradas de 1 a 3: usa y = y - 1" in msg


def test_column_and_flat_targets_in_spanish():
    X = torch.randn(64, 4)
    msg = fit_error(make_trainer(mlp(out=1), loss="mse", lang="es"), (X, X.sum(1)))
    assert "MSELoss recibe salidas de forma (16, 1) pero objetivos de forma (16,)" in msg
    assert "se expande en silencio (broadcasting) a (16, 16)" in msg
    assert "y = y.unsqueeze(1)" in msg
    X, y = classification()
    msg = fit_error(make_trainer(mlp(), lang="es"), (X, y.unsqueeze(1)))
    assert "sobra una columna" in msg and "Solución: y = y.squeeze(1).long()." in msg


def test_warnings_in_spanish():
    X, y = classification(n=200)
    model = mlp()
    with torch.no_grad():
        model[0].bias.fill_(-1e4)  # dead even for inputs in the hundreds
    trainer = make_trainer(model, torch.optim.SGD(model.parameters(), lr=1e-6), lang="es")
    warnings = fit_warnings(trainer, (X * 50 + 300, y))
    assert any(w.startswith("Las entradas no están escaladas: el primer lote tiene media")
               for w in warnings)
    assert any("ReLU muertas: después de la época 1, la capa '1' produce 0" in w
               for w in warnings)


# Every place that builds a Diagnosis, with the existing tests that trigger it.
TRIGGERS = [
    (test_two_schedulers_on_one_optimizer, "check_schedulers"),
    (test_one_scheduler_is_fine_and_a_stale_one_warns, "check_schedulers"),
    (test_nan_rows_in_the_training_set_are_found_before_training, "check_non_finite_data"),
    (test_inputs_narrower_than_the_first_layer, "check_input_width"),
    (test_flat_vector_inputs_and_flattened_images, "check_input_width"),
    (lambda: [test_images_that_do_not_fit_the_first_convolution(c, i, e) for c, i, e in [
        (3, (64, 1, 8, 8), "3 channels"), (3, (64, 8, 8, 3), "channels-last"),
        (1, (64, 8, 8), "no channel")]], "check_input_width"),
    (test_model_that_mixes_samples_changes_the_batch_size, "check_batch_size"),
    (test_regression_column_output_against_flat_targets, "check_regression_targets"),
    (test_regression_flat_output_against_column_targets, "check_regression_targets"),
    (test_regression_with_integer_targets, "check_regression_targets"),
    (test_float_class_labels_for_cross_entropy, "check_class_targets"),
    (test_column_of_labels_for_cross_entropy, "check_class_targets"),
    (test_integer_one_hot_targets, "check_class_targets"),
    (test_one_hot_targets_with_wrong_width, "_one_hot_width"),
    (test_bce_with_logits_needs_float_targets_of_the_output_shape, "check_binary_targets"),
    (test_bce_with_two_outputs_suggests_cross_entropy, "check_binary_targets"),
    (test_labels_numbered_from_one, "check_label_range"),
    (test_a_rare_bad_label_is_found_in_the_whole_training_set, "check_label_range"),
    (test_bad_labels_in_the_first_batch_of_an_unknown_iterable, "check_label_range"),
    (test_multiclass_labels_fed_to_bce, "check_label_range"),
    (test_batchnorm_with_a_last_batch_of_one_sample, "check_batchnorm_batch_of_one"),
    (test_batchnorm_with_batch_size_one, "check_batchnorm_batch_of_one"),
    (test_softmax_layer_before_cross_entropy_warns, "check_probabilities_into_logits_loss"),
    (test_functional_softmax_in_forward_is_found_in_the_graph,
     "check_probabilities_into_logits_loss"),
    (test_softmax_hidden_behind_another_op_is_found_from_the_outputs,
     "check_probabilities_into_logits_loss"),
    (test_sigmoid_before_bce_with_logits_warns, "check_probabilities_into_logits_loss"),
    (test_nll_loss_needs_log_probabilities, "check_probabilities_into_logits_loss"),
    (test_unscaled_inputs_warn, "check_input_scale"),
    (test_raw_pixels_warn_divide_by_255, "check_input_scale"),
    (test_non_finite_loss_from_huge_learning_rate_names_epoch_and_step, "non_finite_loss"),
    (test_non_finite_loss_from_unscaled_inputs_blames_the_inputs, "non_finite_loss"),
    (test_non_finite_loss_from_nan_data_in_a_later_batch, "non_finite_loss"),
    (test_non_finite_loss_on_the_first_step_with_clean_inputs_blames_targets_or_model,
     "non_finite_loss"),
    (test_dead_relus_warn_once_naming_the_layer, "after_epoch"),
    (test_x_and_y_with_different_row_counts, "check_data_rows"),
    (test_validation_rows_are_checked_before_training, "check_data_rows"),
]


@pytest.fixture
def diagnoses(monkeypatch):
    """Every Diagnosis built while the test runs, with the name of the function that built
    it (checks run inside a try/except, so they are recorded here and asserted on after)."""
    seen = []
    init = Diagnosis.__init__

    def record(self, *args, **kwargs):
        init(self, *args, **kwargs)
        seen.append((sys._getframe(1).f_code.co_name, self))

    monkeypatch.setattr(Diagnosis, "__init__", record)
    return seen


def numbers(text: str) -> list[str]:
    return sorted(re.findall(r"\d+(?:\.\d+)?", text))


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("trigger, producer", TRIGGERS,
                         ids=[f"{producer}-{getattr(t, '__name__', 'conv')[5:]}"
                              for t, producer in TRIGGERS])
def test_every_diagnosis_exists_in_english_and_spanish(trigger, producer, diagnoses):
    trigger()
    assert producer in {name for name, _ in diagnoses}
    for name, d in diagnoses:
        assert d.en.strip() and d.es.strip() and d.es != d.en, name
        assert d.text("en") == d.en and d.text("es") == d.es
        # the same numbers and shapes in both languages
        assert numbers(d.en) == numbers(d.es), (name, d.en, d.es)


def test_every_place_that_builds_a_diagnosis_has_a_trigger():
    builders = set()
    for module in (checks, doctor):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Diagnosis"
                    for n in ast.walk(node)):
                builders.add(node.name)
    assert {check.__name__ for check in CHECKS_BEFORE_FIT} <= builders
    assert builders == {producer for _, producer in TRIGGERS}
