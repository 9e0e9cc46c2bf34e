"""A decoder's score matrix as a module, so that training can swap its product
(``motive.backend.accelerate``) as it swaps those of ``torch.nn.Linear``."""

from __future__ import annotations

import torch
from torch import nn


class Products(nn.Module):
    """``left @ right.T``: every (left row, right row) dot product, a decoder's score matrix. A
    module rather than the operator so that ``motive.backend.accelerate`` can swap its product,
    as it swaps those of ``torch.nn.Linear``; it has no parameters, so state dicts are unchanged."""

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        return left @ right.T
