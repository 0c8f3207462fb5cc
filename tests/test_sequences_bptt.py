import numpy as np
import torch
from torch import nn

from dlab.sequences import gradient_through_time


def test_matches_the_gradient_of_nn_rnn_outputs():
    """Against torch: a loss on the last output of nn.RNN, differentiated w.r.t. the hidden
    state fed in at step t, must equal what the step-by-step unroll reports."""
    torch.manual_seed(0)
    rnn, head = nn.RNN(1, 5, batch_first=True), nn.Linear(5, 1)
    x, y = torch.randn(1, 6, 1), torch.randn(1, 1)
    norms = gradient_through_time(lambda x_t, h: rnn(x_t[:, None], h)[1], x, None,
                                  lambda h: head(h[-1]), y, nn.MSELoss())
    assert norms.shape == (6,)
    for t in range(6):  # run steps 1..t, then the rest from a leaf hidden state
        _, h_t = rnn(x[:, :t + 1])
        h_t = h_t.detach().requires_grad_()
        rest = rnn(x[:, t + 1:], h_t)[1] if t < 5 else h_t
        nn.MSELoss()(head(rest[-1]), y).backward()
        np.testing.assert_allclose(norms[t], float(h_t.grad.norm()), rtol=1e-5)


def test_lstm_state_tuples():
    torch.manual_seed(0)
    cell, head = nn.LSTMCell(2, 4), nn.Linear(4, 1)
    state = (torch.zeros(3, 4), torch.zeros(3, 4))
    norms = gradient_through_time(cell, torch.randn(3, 7, 2), state, head, torch.randn(3, 1),
                                  nn.MSELoss())
    assert norms.shape == (7,) and np.all(norms > 0)
