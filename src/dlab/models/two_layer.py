"""The network of ``dlab.models.scratch_mlp`` written the idiomatic way, as an ``nn.Module``.

``nn.Linear`` registers its weight and bias as parameters (so ``model.parameters()`` finds
them for the optimizer) and computes ``x @ weight.T + bias``: it stores the weight as
(out_features, in_features), the transpose of the scratch ``W``. That transpose is the one
thing to mind when copying weights between the two versions.
"""
from __future__ import annotations

import torch
from torch import nn


class TwoLayerNet(nn.Module):
    """``Linear(n_in, n_hidden) → ReLU → Linear(n_hidden, n_out)``, returning logits."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int):
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.out = nn.Linear(n_hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))

    @torch.no_grad()
    def load_scratch(self, params: dict[str, torch.Tensor]) -> "TwoLayerNet":
        """Copy W1, b1, W2, b2 (scratch layout, ``W`` is (in, out)) into the Linear layers."""
        self.hidden.weight.copy_(params["W1"].T)
        self.hidden.bias.copy_(params["b1"])
        self.out.weight.copy_(params["W2"].T)
        self.out.bias.copy_(params["b2"])
        return self

    @torch.no_grad()
    def scratch_params(self) -> dict[str, torch.Tensor]:
        """The weights back in scratch layout (detached copies), e.g. to compare the two."""
        return {"W1": self.hidden.weight.T.clone(), "b1": self.hidden.bias.clone(),
                "W2": self.out.weight.T.clone(), "b2": self.out.bias.clone()}
