import pytest
import torch
from torch import nn

from dlab.sequences import RecurrentNet, remember_gate_bias


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_reads_the_last_hidden_state(cell):
    torch.manual_seed(0)
    net = RecurrentNet(cell, 1, 8, 3)
    x = torch.randn(4, 12)
    out, _ = net.rnn(x.unsqueeze(-1))
    torch.testing.assert_close(net(x), net.head(out[:, -1]))
    assert net(x.unsqueeze(-1)).shape == (4, 3)


def test_gru_has_three_quarters_of_the_lstm_recurrent_weights():
    lstm = sum(p.numel() for p in RecurrentNet("lstm", 4, 16, 1).rnn.parameters())
    gru = sum(p.numel() for p in RecurrentNet("gru", 4, 16, 1).rnn.parameters())
    assert gru == lstm * 3 // 4


def test_unknown_cell():
    with pytest.raises(ValueError, match="cell must be"):
        RecurrentNet("transformer", 1, 4, 1)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_remember_gate_bias_makes_the_gate_keep_the_state(cell):
    torch.manual_seed(0)
    net = RecurrentNet(cell, 2, 5, 1, layers=2)
    remember_gate_bias(net.rnn, 3.0)
    for layer in range(2):
        total = getattr(net.rnn, f"bias_ih_l{layer}") + getattr(net.rnn, f"bias_hh_l{layer}")
        assert torch.all(total[5:10] == 3.0)
    # the GRU's state after one step with zero weights is z·h: with z≈0.95, most of h is kept
    if cell == "gru":
        with torch.no_grad():
            for name, p in net.rnn.named_parameters():
                if name.startswith("weight"):
                    p.zero_()
        h0 = torch.ones(2, 1, 5)
        _, h1 = net.rnn(torch.zeros(1, 1, 2), h0)
        z = torch.sigmoid(torch.tensor(3.0))
        torch.testing.assert_close(h1[0], (z + (1 - z) * torch.tanh(
            net.rnn.bias_ih_l0[10:] + net.rnn.bias_hh_l0[10:] * torch.sigmoid(
                net.rnn.bias_ih_l0[:5] + net.rnn.bias_hh_l0[:5]))).expand(1, 5).detach())


def test_remember_gate_bias_refuses_a_plain_rnn():
    with pytest.raises(ValueError, match="no gate"):
        remember_gate_bias(nn.RNN(1, 3), 3.0)
