"""dlab.rl.reinforce: the reference returns-to-go and loss, and a training loop that repeats
itself exactly with the same seed."""
import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("gymnasium")

from dlab.rl import make_env
from dlab.rl.reinforce import ReinforceConfig, reinforce_loss, returns_to_go, train


def net(outputs):
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, outputs))


def test_returns_to_go_matches_the_definition():
    rewards = [1.0, -2.0, 0.5, 3.0]
    expected = [sum(0.9 ** k * r for k, r in enumerate(rewards[t:])) for t in range(4)]
    assert torch.allclose(returns_to_go(rewards, 0.9), torch.tensor(expected))


def test_loss_gradient_is_the_policy_gradient_estimate():
    logits = torch.tensor([[0.2, -0.1], [1.0, 0.3]], requires_grad=True)
    actions, returns = torch.tensor([1, 0]), torch.tensor([2.0, 1.0])
    log_probs = torch.log_softmax(logits, dim=-1)[torch.arange(2), actions]
    reinforce_loss(log_probs, returns).backward()
    # d(-mean G log pi(a))/d logits = -G (onehot(a) - softmax) / T
    probs = torch.softmax(logits.detach(), dim=-1)
    expected = -(returns[:, None] * (nn.functional.one_hot(actions, 2) - probs)) / 2
    assert torch.allclose(logits.grad, expected)


def test_baseline_gets_no_gradient_from_the_policy_loss():
    values = torch.tensor([1.0, 2.0], requires_grad=True)
    log_probs = torch.tensor([-0.5, -1.0], requires_grad=True)
    reinforce_loss(log_probs, torch.tensor([3.0, 3.0]), values).backward()
    assert values.grad is None
    assert torch.allclose(log_probs.grad, -torch.tensor([2.0, 1.0]) / 2)


@pytest.mark.parametrize("baseline", [False, True])
def test_same_seed_same_returns(baseline):
    def run(seed):
        torch.manual_seed(seed)
        policy, value = net(2), (net(1) if baseline else None)
        result = train(make_env("CartPole-v1", seed), policy, ReinforceConfig(episodes=15),
                       value=value, seed=seed)
        return result.returns, result.value_losses

    first, again, other = run(0), run(0), run(1)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    assert (first[1] > 0).all() == baseline


def test_threads_are_restored_after_training():
    before = torch.get_num_threads()
    train(make_env("CartPole-v1", 0), net(2), ReinforceConfig(episodes=2, threads=1))
    assert torch.get_num_threads() == before
