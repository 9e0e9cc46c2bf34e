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
        return self.tensor(torch.from_numpy(np.ascontiguousarray(values)))

    def tensor(self, values: torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
        """The CSR matrix with ``values`` already in stored order."""
        with warnings.catch_warnings():  # torch marks sparse CSR as beta
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(
                self.crow.to(device or values.device), self.col.to(device or values.device), values, self.shape
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

    def aggregate(self, x: torch.Tensor, reduce: str, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Sum or mean of each destination's in-neighbours' rows of ``x``; with ``rows`` (sorted
        unique destination ids) only those destinations, in that order: the same numbers as those
        rows of the whole product, at the cost of their edges alone."""
        matrix, transpose = (self.sum, self.sum_t) if reduce == "sum" else (self.mean, self.mean_t)
        if rows is not None:
            matrix, transpose = _rows_of(matrix, rows)
        return _SparseProduct.apply(matrix, transpose, x)


def csr_rows(pointer: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``rows`` of a CSR layout with row pointers ``pointer``: (their row pointers, the
    positions of their entries in the whole layout, each entry's row among ``rows``), in the
    order of ``rows``; the work is in their entries alone."""
    starts, lengths = pointer[rows], pointer[rows + 1] - pointer[rows]
    sub_pointer = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=sub_pointer[1:])
    taken = np.arange(sub_pointer[-1]) + np.repeat(starts - sub_pointer[:-1], lengths)
    return sub_pointer, taken, np.repeat(np.arange(len(rows)), lengths)


def _rows_of(matrix: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The CSR matrix of ``rows`` of ``matrix`` (each row's entries as stored) and its transpose
    (each column's entries in row order, as a transpose of the whole matrix stores them)."""
    crow, col = matrix.crow_indices().cpu().numpy(), matrix.col_indices().cpu().numpy()
    values = matrix.values()
    sub_crow, taken, sub_row = csr_rows(crow, rows.cpu().numpy())
    sub_col = col[taken]
    shape = (len(sub_crow) - 1, matrix.shape[1])
    taken_t = torch.from_numpy(taken).to(values.device)
    sub = _Layout(torch.from_numpy(sub_crow), torch.from_numpy(sub_col), None, None, shape)
    # Stable by column: each column's entries keep their (increasing) row order.
    order = np.argsort(sub_col, kind="stable")
    t_crow = np.zeros(matrix.shape[1] + 1, np.int64)
    np.cumsum(np.bincount(sub_col, minlength=matrix.shape[1]), out=t_crow[1:])
    sub_t = _Layout(torch.from_numpy(t_crow), torch.from_numpy(sub_row[order]), None, None, shape[::-1])
    picked = values.index_select(0, taken_t)
    return (
        sub.tensor(picked, matrix.device),
        sub_t.tensor(picked.index_select(0, torch.from_numpy(order).to(values.device)), matrix.device),
    )


class _SparseProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, matrix, transpose, dense):
        ctx.transpose = transpose
        return torch.sparse.mm(matrix, dense)

    @staticmethod
    def backward(ctx, grad):
        return None, None, torch.sparse.mm(ctx.transpose, grad.contiguous())
