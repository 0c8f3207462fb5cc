"""Models shared between labs: trained once, reused, keyed by their settings, and invisible to
the random numbers of the lab that asks for them."""
import torch
from torch import nn

from dlab.lab.shared_models import load_or_train, shared_path


def _train(calls):
    def train(model):
        calls.append(1)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))  # consumes random numbers, like real training
        return {"accuracy": 0.5}
    return train


def test_trained_once_then_reused(tmp_path):
    calls = []
    path = shared_path(tmp_path, "net", {"epochs": 3})
    first = nn.Linear(4, 2)
    meta = load_or_train(first, path, _train(calls))
    assert meta == {"metrics": {"accuracy": 0.5}, "reused": False}
    second = nn.Linear(4, 2)
    meta = load_or_train(second, path, _train(calls))
    assert calls == [1] and meta["reused"] and meta["metrics"] == {"accuracy": 0.5}
    assert torch.equal(first.weight, second.weight)


def test_settings_quick_mode_and_seed_change_the_file(tmp_path):
    a = shared_path(tmp_path, "net", {"epochs": 3, "quick": False, "seed": 0})
    assert a == shared_path(tmp_path, "net", {"seed": 0, "quick": False, "epochs": 3})
    assert a != shared_path(tmp_path, "net", {"epochs": 3, "quick": True, "seed": 0})
    assert a != shared_path(tmp_path, "net", {"epochs": 3, "quick": False, "seed": 1})
    assert a.parent.name == "_shared" and a.name.startswith("net-")


def test_random_numbers_after_are_the_same_whether_trained_or_loaded(tmp_path):
    path = shared_path(tmp_path, "net", {})
    torch.manual_seed(0)
    load_or_train(nn.Linear(4, 2), path, _train([]))  # trains
    after_training = torch.rand(3)
    torch.manual_seed(0)
    load_or_train(nn.Linear(4, 2), path, _train([]))  # loads
    assert torch.equal(after_training, torch.rand(3))


def test_corrupt_or_foreign_file_is_retrained_with_a_warning(tmp_path):
    path = shared_path(tmp_path, "net", {})
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a safetensors file")
    warnings, calls = [], []
    meta = load_or_train(nn.Linear(4, 2), path, _train(calls), warn=warnings.append)
    assert calls == [1] and not meta["reused"] and "corrupt" in warnings[0]
    meta = load_or_train(nn.Linear(5, 2), path, _train(calls), warn=warnings.append)
    assert calls == [1, 1] and "does not fit" in warnings[1]
