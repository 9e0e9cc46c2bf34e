"""Dense layers whose float32 matrix products run in oneDNN on a CPU instead of MKL.

torch sends a CPU float32 ``linear``/``mm`` to MKL, which on AMD processors takes a generic
code path: on the project's 2-core AMD EPYC (AVX-512) oneDNN computes the products of a GNN
epoch in 0.4-0.85x MKL's time (``benchmarks/dense_speed.py``). ``Linear`` is ``nn.Linear``
(same parameters, initialisation and checkpoints) with that product in the forward pass and
the input gradient, and in the weight gradient where the CPU has AVX-512 (without it MKL wins
that one: ``ONEDNN_WEIGHT_GRADIENT``); float64, GPUs, a torch without oneDNN and products whose
shapes change per batch (``varying_shapes``) take torch's own path. The two differ only in
rounding.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

_LOCAL = threading.local()


@contextmanager
def varying_shapes() -> Iterator[None]:
    """Products inside take torch's own kernels. oneDNN compiles a kernel for every matrix shape
    it meets and keeps it for the process's life (about 0.3 MB each, whatever its primitive cache
    holds), so it gets only the products whose shapes are fixed for a run (every node of a stage);
    those whose row count changes from batch to batch run in here. The choice is made in the
    forward pass; the backward pass follows it."""
    previous = getattr(_LOCAL, "varying", False)
    _LOCAL.varying = True
    try:
        yield
    finally:
        _LOCAL.varying = previous


def _onednn_available() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


ONEDNN = _onednn_available()  # False: every product goes through torch's own (MKL on a CPU)


def _fast(*tensors: torch.Tensor) -> bool:
    return (
        ONEDNN
        and torch.backends.mkldnn.enabled
        and not getattr(_LOCAL, "varying", False)
        and all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)
    )


def _product(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x @ weight.T (+ bias) in oneDNN; x and weight may be strided views (no copies)."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


# oneDNN's linear wants its input in rows, so a weight gradient (a sum over the batch's rows)
# first copies a transposed operand; MKL reads it in place. With AVX-512, which MKL does not use
# on AMD processors, oneDNN still wins (11,509 x 64 -> 64: 0.80 against 1.13 ms); with AVX2, MKL
# does (2.41 against 5.08 ms; benchmarks/dense_speed.py on each machine).
ONEDNN_WEIGHT_GRADIENT = torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def _weight_gradient(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad^T @ x. In oneDNN a transposed left operand is copied into rows, so the narrower of
    the two goes on the left: x^T @ grad, transposed, when x has fewer columns (GATv2's 64 -> 128
    maps), to the same numbers. Without AVX-512 (``ONEDNN_WEIGHT_GRADIENT``): torch's own."""
    if not ONEDNN_WEIGHT_GRADIENT:
        return torch.mm(grad.T, x)
    if x.shape[1] < grad.shape[1]:
        return _product(x.T, grad.T, None).T.contiguous()
    return _product(grad.T, x.T, None)


class _Linear(torch.autograd.Function):
    """y = x W^T + b with oneDNN in the forward pass and the input gradient; the weight gradient
    as ``_weight_gradient`` decides."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return _product(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = _product(grad, weight.T, None)  # grad @ W
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            grad_2d, x_2d = grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
            if ctx.needs_input_grad[1]:
                grad_weight = _weight_gradient(grad_2d, x_2d)
            if ctx.needs_input_grad[2]:
                grad_bias = grad_2d.sum(0)
        return grad_x, grad_weight, grad_bias


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear``, through oneDNN for float32 CPU tensors."""
    if not _fast(x, weight) or len(x) == 0:
        return F.linear(x, weight, bias)
    return _Linear.apply(x, weight, bias)


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` of two matrices, through oneDNN for float32 CPU tensors."""
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
