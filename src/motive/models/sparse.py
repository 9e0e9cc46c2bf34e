"""Sparse neighbourhood aggregation for full-graph message passing, exact and fast on a CPU.

A relation's adjacency is kept as CSR matrices for both directions, so the backward pass is a
product with the precomputed transpose instead of torch's per-step CSR transposition (a sort
of every edge in every step, which dominated training time). Sum and mean aggregation only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch


def _csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():  # torch marks sparse CSR as beta
        warnings.simplefilter("ignore")
        index = torch.stack([torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)])
        return (
            torch.sparse_coo_tensor(index, torch.as_tensor(values, dtype=torch.float32), shape)
            .coalesce()
            .to_sparse_csr()
        )


@dataclass
class Adjacency:
    """Messages from ``num_src`` nodes to ``num_dst`` nodes along edges (src[i] -> dst[i])."""

    sum: torch.Tensor  # (num_dst, num_src)
    sum_t: torch.Tensor
    mean: torch.Tensor  # rows scaled by 1 / in-degree (isolated rows stay zero)
    mean_t: torch.Tensor

    @classmethod
    def from_edges(cls, src: np.ndarray, dst: np.ndarray, num_src: int, num_dst: int) -> Adjacency:
        src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
        ones = np.ones(len(src), np.float32)
        inverse_degree = 1.0 / np.maximum(np.bincount(dst, minlength=num_dst), 1).astype(np.float32)
        return cls(
            _csr(dst, src, ones, (num_dst, num_src)),
            _csr(src, dst, ones, (num_src, num_dst)),
            _csr(dst, src, inverse_degree[dst], (num_dst, num_src)),
            _csr(src, dst, inverse_degree[dst], (num_src, num_dst)),
        )

    def to(self, device: torch.device) -> Adjacency:
        return Adjacency(self.sum.to(device), self.sum_t.to(device), self.mean.to(device), self.mean_t.to(device))

    def aggregate(self, x: torch.Tensor, reduce: str) -> torch.Tensor:
        matrix, transpose = (self.sum, self.sum_t) if reduce == "sum" else (self.mean, self.mean_t)
        return _SparseProduct.apply(matrix, transpose, x)


class _SparseProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, matrix, transpose, dense):
        ctx.transpose = transpose
        return torch.sparse.mm(matrix, dense)

    @staticmethod
    def backward(ctx, grad):
        return None, None, torch.sparse.mm(ctx.transpose, grad.contiguous())
