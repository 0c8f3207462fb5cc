"""transfer-learning: quick mode runs end to end with every reference check passing; the
freezing, BatchNorm and parameter-group solutions do what fine-tuning needs."""
import torch
from torch import nn

from dlab.lab import catalog

METRICS = ["stage1_test_accuracy", "stage2_test_accuracy", "scratch_test_accuracy",
           "autoencoder_test_accuracy", "finetune_gain", "transfer_gain", "autoencoder_gain",
           "source_seconds_per_epoch"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("transfer-learning")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("transfer-learning") == {"comparison.png", "reconstructions.png"}
    m = record["metrics"]
    assert abs(m["finetune_gain"] - (m["stage2_test_accuracy"] - m["stage1_test_accuracy"])) < 1e-9


def _net():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def test_frozen_trunk_with_eval_batchnorm_does_not_change():
    fns = catalog.get("transfer-learning").reference_functions()
    net = fns["set_trainable"](_net(), False)
    head = nn.Linear(3, 2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    x = torch.randn(16, 1, 6, 6, generator=torch.Generator().manual_seed(0)) * 3 + 2
    for _ in range(3):
        fns["batchnorm_to_eval"](net.train())
        loss = head(net(x)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_param_groups_scale_only_the_trunk():
    fns = catalog.get("transfer-learning").reference_functions()
    model = nn.Module()
    model.trunk, model.head = _net(), nn.Linear(3, 2)
    groups = fns["finetune_param_groups"](model, 2e-3, 0.1)
    opt = torch.optim.Adam(groups)
    assert [g["lr"] for g in opt.param_groups] == [2e-3 * 0.1, 2e-3]
    trunk_ids = {id(p) for p in model.trunk.parameters()}
    assert {id(p) for p in opt.param_groups[0]["params"]} == trunk_ids
