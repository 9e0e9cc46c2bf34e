"""Milliseconds of the dense products of a MOTIVE-scale GNN epoch, torch's own (MKL on a CPU)
against ``motive.backend`` (oneDNN), one thread. Run on demand:

    .venv/bin/python benchmarks/dense_speed.py

Shapes (rows x in -> out): the target and compound profile projections (11,509 x 722 and
3,632 x 737 -> 64), a 64 -> 64 map over every gene, GATv2's 64 -> 128 (2 heads) and a batch's
1,230 genes. For each: the forward product, the input gradient and the weight gradient.
Prints a Markdown table.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from motive.backend import ONEDNN_AVAILABLE as ONEDNN
from motive.backend import _product

SHAPES = [(11509, 722, 64), (3632, 737, 64), (11509, 64, 64), (11509, 64, 128), (1230, 64, 64)]


def milliseconds(function, repeats: int = 20) -> float:
    function()
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats * 1e3


def cells(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, grad: torch.Tensor) -> list[str]:
    """MKL / oneDNN milliseconds of the forward product, the input and the weight gradient."""
    pairs = [
        (lambda: F.linear(x, weight, bias), lambda: _product(x, weight, bias)),
        (lambda: grad @ weight, lambda: _product(grad, weight.T, None)),
        (lambda: grad.T @ x, lambda: _product(grad.T, x.T, None)),
    ]
    return [f"{milliseconds(mkl):.2f} / {milliseconds(onednn):.2f} ms" for mkl, onednn in pairs]


def main() -> None:
    if not ONEDNN:
        raise SystemExit("this torch has no oneDNN (mkldnn) CPU kernels: nothing to compare")
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    print("| rows x in -> out | forward, MKL / oneDNN | input gradient | weight gradient |")
    print("|---|---|---|---|")
    for rows, width_in, width_out in SHAPES:
        tensors = [torch.randn(shape, generator=generator) for shape in ((rows, width_in), (width_out, width_in))]
        bias, grad = torch.randn(width_out, generator=generator), torch.randn(rows, width_out, generator=generator)
        print(f"| {rows:,} x {width_in} -> {width_out} | " + " | ".join(cells(*tensors, bias, grad)) + " |")


if __name__ == "__main__":
    main()
