"""A recurrent layer (RNN, LSTM or GRU) read at its last time step by a linear head: the
forecaster of a series and the classifier of a sequence are both this network."""
from __future__ import annotations

import torch
from torch import nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentNet(nn.Module):
    """``(batch, time)`` or ``(batch, time, features)`` → ``(batch, outputs)``: the hidden
    state after the last step goes through ``nn.Linear(hidden, outputs)``."""

    def __init__(self, cell: str, input_size: int, hidden: int, outputs: int,
                 layers: int = 1):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {list(CELLS)}, got {cell!r}")
        self.cell = cell
        self.rnn = CELLS[cell](input_size, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(-1)
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def remember_gate_bias(rnn: nn.Module, value: float) -> None:
    """Start a gated layer remembering: set the bias of the LSTM's forget gate (or of the
    GRU's update gate) to ``value`` in every layer, so that at initialization the cell keeps
    about sigmoid(value) of its state per step (0.95 for 3.0) instead of half of it. The
    gradient then reaches far-back steps from the first update (Jozefowicz et al., 2015).
    Gate order is PyTorch's: LSTM (input, forget, cell, output), GRU (reset, update, new)."""
    if not isinstance(rnn, (nn.LSTM, nn.GRU)):
        raise ValueError(f"remember_gate_bias needs an nn.LSTM or nn.GRU, got "
                         f"{type(rnn).__name__}: a plain RNN has no gate to open")
    h = rnn.hidden_size
    with torch.no_grad():
        for layer in range(rnn.num_layers):
            getattr(rnn, f"bias_ih_l{layer}")[h:2 * h].fill_(value)
            getattr(rnn, f"bias_hh_l{layer}")[h:2 * h].zero_()


class CharLanguageModel(nn.Module):
    """Embedding → recurrent layers → linear layer to one logit per vocabulary entry, at
    every position: ``(batch, time)`` ids → ``(batch, vocab, time)`` logits, the layout
    ``nn.CrossEntropyLoss`` takes with ``(batch, time)`` targets. ``step`` also carries the
    hidden state, for generation one character at a time."""

    def __init__(self, vocab: int, embed: int, hidden: int, layers: int = 1,
                 cell: str = "gru"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {list(CELLS)}, got {cell!r}")
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = CELLS[cell](embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def step(self, ids: torch.Tensor, state=None):
        """``(batch, time)`` ids and the state after the previous chunk → ``(batch, time,
        vocab)`` logits and the new state."""
        out, state = self.rnn(self.embed(ids), state)
        return self.head(out), state

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.step(ids)[0].transpose(1, 2)
