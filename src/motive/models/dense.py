"""Dense layers of the models: ``nn.Linear`` whose product goes through ``motive.backend``
(oneDNN for float32 CPU tensors where the backend says so, torch's ``F.linear`` on the reference
path), and two index helpers with the bits of torch's own but faster gradients or no sort.
"""

from __future__ import annotations

import torch
from torch import nn

from motive.backend import linear, varying_shapes

__all__ = ["Linear", "distinct", "linear", "matmul", "select_rows", "varying_shapes"]


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` of two matrices, through ``motive.backend.linear``."""
    return linear(a, b.T)


def select_rows(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``x[rows]`` for distinct ``rows``, with the same bits, as ``index_select``: its gradient is
    an ``index_add_``, where indexing's is an ``index_put_`` that deterministic mode sorts first
    (1.5-2x slower)."""
    return torch.index_select(x, 0, rows)


def distinct(ids: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.unique(ids, return_inverse=True)`` of node ids in [0, size), the same tensors, from
    a mask of the ids present and its running count instead of a sort: 3-5x faster for a batch."""
    present = torch.zeros(size, dtype=torch.bool, device=ids.device).index_fill_(0, ids, True)
    return present.nonzero().squeeze(1), (torch.cumsum(present, 0) - 1)[ids]


class Linear(nn.Linear):
    """``nn.Linear`` computed by ``linear``: loads and saves the same state dict."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)
