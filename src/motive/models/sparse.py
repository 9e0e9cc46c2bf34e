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


@dataclass(frozen=True)
class _Layout:
    """Where the entries (rows[i], cols[i]) go in a CSR matrix: row pointers, column of each
    stored entry, the entries' order (None: already row-major) and each stored entry's first
    entry (None: no duplicates)."""

    crow: torch.Tensor
    col: torch.Tensor
    order: np.ndarray | None
    starts: np.ndarray | None
    shape: tuple[int, int]

    @classmethod
    def of(cls, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> _Layout:
        key = np.asarray(rows, np.int64) * shape[1] + np.asarray(cols, np.int64)
        order = starts = None
        if len(key) > 1 and not bool(np.all(key[1:] > key[:-1])):  # else already sorted and unique
            order = np.argsort(key, kind="stable")
            key = key[order]
            first = np.concatenate([[True], key[1:] != key[:-1]])
            if not first.all():
                starts = np.flatnonzero(first)
                key = key[first]
        rows, cols = np.divmod(key, max(shape[1], 1))
        crow = np.zeros(shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=shape[0]), out=crow[1:])
        return cls(torch.from_numpy(crow), torch.from_numpy(cols), order, starts, shape)

    def matrix(self, values: np.ndarray) -> torch.Tensor:
        """The CSR matrix of the entries' ``values``, duplicates summed in their original order:
        the bytes of torch's ``sparse_coo_tensor(...).coalesce().to_sparse_csr()`` without its
        COO sort (a graph's edges are usually sorted and unique already)."""
        values = np.asarray(values, np.float32)
        if self.order is not None:
            values = values[self.order]
        if self.starts is not None:
            values = np.add.reduceat(values, self.starts)
        with warnings.catch_warnings():  # torch marks sparse CSR as beta
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(
                self.crow, self.col, torch.from_numpy(np.ascontiguousarray(values)), self.shape
            )


def _csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    return _Layout.of(rows, cols, shape).matrix(values)


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
        incoming, outgoing = _Layout.of(dst, src, (num_dst, num_src)), _Layout.of(src, dst, (num_src, num_dst))
        return cls(
            incoming.matrix(ones),
            outgoing.matrix(ones),
            incoming.matrix(inverse_degree[dst]),
            outgoing.matrix(inverse_degree[dst]),
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
