"""The CSR adjacency: the same matrices as torch's COO coalesce, and the same products."""

import numpy as np
import pytest
import torch

from motive.models.sparse import Adjacency, _Layout


def coalesced(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    index = torch.stack([torch.as_tensor(rows), torch.as_tensor(cols)])
    return torch.sparse_coo_tensor(index, torch.as_tensor(values), shape).coalesce().to_sparse_csr()


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (
        torch.equal(a.crow_indices(), b.crow_indices())
        and torch.equal(a.col_indices(), b.col_indices())
        and torch.equal(a.values(), b.values())
        and a.shape == b.shape
    )


@pytest.mark.parametrize("order", ["sorted", "shuffled", "duplicated", "empty"])
def test_layout_matrix_is_torchs_coalesced_csr(order):
    rng = np.random.default_rng(3)
    shape = (40, 30)
    key = np.unique(rng.integers(0, shape[0] * shape[1], 300))
    if order == "shuffled":
        key = rng.permutation(key)
    if order == "duplicated":  # every third entry twice, in no order
        key = rng.permutation(np.concatenate([key, key[::3]]))
    if order == "empty":
        key = key[:0]
    rows, cols = np.divmod(key, shape[1])
    values = rng.random(len(key)).astype(np.float32)
    layout = _Layout.of(rows, cols, shape)
    assert (layout.order is None) == (order in ("sorted", "empty"))
    assert (layout.starts is not None) == (order == "duplicated")
    assert same(layout.matrix(values), coalesced(rows, cols, values, shape))


def test_adjacency_aggregates_sum_and_mean_of_in_neighbours():
    src, dst = np.array([0, 1, 2, 2]), np.array([1, 1, 0, 1])
    x = torch.tensor([[1.0], [2.0], [4.0]], requires_grad=True)
    adjacency = Adjacency.from_edges(src, dst, 3, 2)
    assert adjacency.aggregate(x, "sum").tolist() == [[4.0], [7.0]]
    mean = adjacency.aggregate(x, "mean")
    assert mean.flatten().tolist() == pytest.approx([4.0, 7.0 / 3])
    mean.sum().backward()  # through the precomputed transpose: d/dx_j = sum over j's edges of 1/in-degree
    assert x.grad.flatten().tolist() == pytest.approx([1 / 3, 1 / 3, 1 + 1 / 3])


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_aggregating_some_rows_gives_those_rows_of_the_whole_product(reduce):
    """The same bytes as the whole product's rows, and the same gradient (zero rows add nothing)."""
    rng = np.random.default_rng(2)
    src, dst = rng.integers(0, 40, 300), rng.integers(0, 30, 300)
    dst[dst == 4] = 5  # destination 4 has no in-neighbours
    rows = torch.tensor([0, 3, 4, 17, 29])
    adjacency = Adjacency.from_edges(src, dst, 40, 30)
    x = torch.randn(40, 8, requires_grad=True)
    some = adjacency.aggregate(x, reduce, rows)
    weights = torch.randn(len(rows), 8)
    (some * weights).sum().backward()
    grad_some, x.grad = x.grad.clone(), None
    whole = adjacency.aggregate(x, reduce)
    assert torch.equal(some, whole[rows])
    assert some[2].abs().sum() == 0  # row 4: no in-neighbours
    (whole[rows] * weights).sum().backward()
    assert torch.equal(grad_some, x.grad)
