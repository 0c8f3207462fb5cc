"""fit_run (one timed run of a comparison, a blow-up kept as a result) and seeded subsets."""
import pytest
import torch
from torch import nn

from dlab.data.subset import subset
from dlab.engine.variants import fit_run
from dlab.errors import ConfigError, TrainingError


def test_fit_run_times_and_keeps_the_history():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    X, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    run = fit_run(model, torch.optim.SGD(model.parameters(), lr=0.1), (X, y), (X, y), epochs=2,
                  batch_size=10, seed=0, device="cpu", doctor=False)
    assert not run.diverged and len(run.history) == 2 and run.seconds > 0
    assert "val_accuracy" in run.history.keys()


def test_a_loss_that_blows_up_ends_only_its_run():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    X, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    calls = []

    def loss(out, target):
        calls.append(1)
        value = nn.functional.cross_entropy(out, target)
        return value * float("inf") if len(calls) > 6 else value

    run = fit_run(model, torch.optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=3,
                  batch_size=10, seed=0, loss=loss, device="cpu")
    assert run.diverged and "step 3" in run.error
    assert len(run.history) == 1  # the first epoch finished, the second did not


def test_a_setup_broken_from_the_start_still_raises():
    model = nn.Linear(3, 2)
    X, y = torch.randn(40, 3), torch.full((40,), 7)  # labels beyond the 2 outputs
    with pytest.raises(TrainingError):
        fit_run(model, torch.optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
                batch_size=10, seed=0, device="cpu")


def test_subset_is_seeded_and_zero_keeps_everything():
    X, y = torch.arange(20.0)[:, None], torch.arange(20)
    a, b = subset((X, y), 5, seed=3), subset((X, y), 5, seed=3)
    assert torch.equal(a[1], b[1]) and len(a[1]) == 5 and torch.equal(a[0][:, 0].long(), a[1])
    assert subset((X, y), 0, seed=3)[1] is y
    with pytest.raises(ConfigError):
        subset((X, y), 21, seed=0)
