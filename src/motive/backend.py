"""The accelerations motive keeps, each behind one switch, each with a plain reference path.

Every switch is ``None`` (decide: on where it is available), ``True`` or ``False``; the
environment variable ``MOTIVE_BACKEND=reference`` turns them all off, and so does ``use("reference")``.
The reference path is plain PyTorch, PyG-equal and numpy code; the test suite runs every model on
it and on the accelerated path (``tests/test_backend.py``). The two differ only in rounding.

- ``onednn``: CPU float32 products of a model's ``torch.nn.Linear`` layers through oneDNN (torch's
  private ``torch.ops.mkldnn._linear_pointwise``) instead of MKL, whose generic code path is slow
  on AMD processors (``benchmarks/dense_speed.py``). Model code declares ``torch.nn.Linear``;
  training swaps the layers (``accelerate``). oneDNN keeps a compiled kernel for every shape it
  meets, so it gets only inputs whose row count is fixed for the run (every node of a node type);
  a batch's own rows, whose count changes every batch, stay on torch's path. The weight gradient
  takes oneDNN only where the CPU has AVX-512 (without it MKL wins that product). A decoder's score
  matrix (``motive.models.products.Products``, swapped the same way) goes through oneDNN at every
  shape: it is made only to score, in blocks of a fixed size. Fallback: ``torch.nn.functional.linear``
  and ``@``.
- ``fused_attention``: GATv2 attention on CPU tensors as two numba loops
  (``motive/models/attention_kernels.py``). Fallback: the chunked torch autograd function in
  ``motive/models/attention.py``, which a GPU always takes.

No other module of motive calls a private torch API.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

ENVIRONMENT = "MOTIVE_BACKEND"  # "reference": every switch off; unset or "auto": decide


@dataclass
class Settings:
    """The switches (``None``: decide automatically)."""

    onednn: bool | None = None
    fused_attention: bool | None = None


settings = Settings()


def use(name: str) -> None:
    """``"reference"``: every switch off; ``"auto"``: every switch back to ``None``."""
    if name not in ("reference", "auto"):
        raise ValueError(f"backend must be reference or auto, got {name!r}")
    value = False if name == "reference" else None
    settings.onednn = settings.fused_attention = value


def _decided(value: bool | None, available: bool) -> bool:
    if os.environ.get(ENVIRONMENT, "auto") == "reference":
        return False
    return available if value is None else value and available


def onednn() -> bool:
    """Whether dense float32 CPU products go through oneDNN."""
    return _decided(settings.onednn, ONEDNN_AVAILABLE)


def fused_attention() -> bool:
    """Whether GATv2 attention on CPU tensors runs as the fused numba loops."""
    return _decided(settings.fused_attention, True)


ONEDNN_AVAILABLE = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
# oneDNN's linear wants its input in rows, so a weight gradient first copies a transposed operand;
# MKL reads it in place. With AVX-512, which MKL does not use on AMD processors, oneDNN still wins;
# with AVX2, MKL does (benchmarks/dense_speed.py on each machine).
ONEDNN_WEIGHT_GRADIENT = torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def accelerate(model: nn.Module, fixed_rows: Iterable[int]) -> nn.Module:
    """``model`` with its ``torch.nn.Linear`` layers swapped for ``OneDNNLinear`` (the same
    parameters, so the state dict, the initialisation and an optimizer built on them are
    unchanged) and its score matrices (``Products``) for ``OneDNNProducts``. ``fixed_rows``: the
    row counts that stay the same for the whole run (the node counts of the stages); an already
    swapped layer adds them to its own. Whether a product goes through oneDNN is decided at each
    call, so ``use("reference")`` after the swap still holds."""
    from motive.models.products import Products  # here: importing motive.models imports this module

    rows = frozenset(int(n) for n in fixed_rows)
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if isinstance(child, OneDNNLinear):
                child.fixed_rows = child.fixed_rows | rows
            elif type(child) is nn.Linear:
                setattr(parent, name, OneDNNLinear.sharing(child, rows))
            elif type(child) is Products:
                setattr(parent, name, OneDNNProducts())
    return model


class OneDNNLinear(nn.Linear):
    """``nn.Linear`` whose product goes through oneDNN for float32 CPU inputs of a fixed row count
    (``fixed_rows``) while ``onednn()`` is on, and through ``F.linear`` otherwise."""

    fixed_rows: frozenset = frozenset()

    @classmethod
    def sharing(cls, layer: nn.Linear, fixed_rows: frozenset) -> OneDNNLinear:
        swapped = cls(layer.in_features, layer.out_features, bias=layer.bias is not None, device="meta")
        swapped.weight, swapped.bias = layer.weight, layer.bias
        swapped.fixed_rows = fixed_rows
        return swapped.train(layer.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 and len(x) in self.fixed_rows and _onednn_takes(x, self.weight):
            return _Linear.apply(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)


class OneDNNProducts(nn.Module):
    """``left @ right.T`` of two matrices (``motive.models.products.Products``), through oneDNN for
    float32 CPU inputs while ``onednn()`` is on."""

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        if left.dim() == right.dim() == 2 and len(left) and len(right) and _onednn_takes(left, right):
            return _Linear.apply(left, right, None)
        return left @ right.T


def _onednn_takes(*tensors: torch.Tensor) -> bool:
    return (
        onednn()
        and torch.backends.mkldnn.enabled
        and all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)
    )


def _product(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x @ weight.T (+ bias) in oneDNN; x and weight may be strided views (no copies)."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


def _weight_gradient(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad^T @ x. In oneDNN a transposed left operand is copied into rows, so the narrower of
    the two goes on the left: x^T @ grad, transposed, when x has fewer columns, to the same numbers.
    Without AVX-512 (``ONEDNN_WEIGHT_GRADIENT``): torch's own."""
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
