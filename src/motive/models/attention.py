"""GATv2 attention (Brody et al. 2022) as one autograd function over destination-sorted edges,
equal to PyG's ``GATv2Conv`` (bipartite, no self-loops, heads averaged) at a fraction of its
time and memory. On a CPU it runs as two fused loops (``attention_kernels``, numba) unless
``motive.backend`` says otherwise; elsewhere (a GPU, the reference backend) as the chunked torch
code below.

PyG materialises several (edges x heads x channels) tensors per layer and keeps them for the
backward pass; at MOTIVE scale (~600k directed message edges) that is gigabytes and most of the
time. Here the per-edge work runs in chunks of whole destination segments (``AttentionIndex``)
in cache-sized buffers, only the (edges x heads) attention weights are kept, and the backward
pass recomputes the per-edge terms chunk by chunk. Must not change numbers: the equality tests
against PyG (values and gradients, float64) guard every change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from motive import backend
from motive.models.sparse import csr_rows

CHUNK_ELEMENTS = 1 << 19  # edges x heads x channels per chunk: 2 MB of float32 buffers (measured fastest on 2 cores)
NEGATIVE_SLOPE = 0.2  # GATv2's leaky ReLU inside the attention (PyG default)


@dataclass
class AttentionIndex:
    """Message edges src -> dst sorted by destination (then source), so each destination's
    incoming edges form one contiguous segment."""

    src: torch.Tensor  # (E,) int64
    dst: torch.Tensor  # (E,) int64, non-decreasing
    num_src: int
    num_dst: int
    _chunks: dict = field(default_factory=dict, repr=False)  # chunk layout per edges-per-chunk
    _pointer: np.ndarray | None = field(default=None, repr=False)
    _compact: tuple | None = field(default=None, repr=False)

    @classmethod
    def from_edges(cls, src: np.ndarray, dst: np.ndarray, num_src: int, num_dst: int) -> AttentionIndex:
        src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
        order = np.lexsort((src, dst))
        return cls(torch.as_tensor(src[order]), torch.as_tensor(dst[order]), num_src, num_dst)

    def to(self, device: torch.device) -> AttentionIndex:
        return AttentionIndex(self.src.to(device), self.dst.to(device), self.num_src, self.num_dst)

    def rows(self, destinations: torch.Tensor) -> AttentionIndex:
        """Only the edges into ``destinations`` (sorted unique ids), renumbered 0.. in that order:
        each kept destination's segment is unchanged, so its output is the same. Their segments
        are read off the row pointers (``sparse.csr_rows``: work in the kept edges alone)."""
        pointer, taken, local = csr_rows(self.pointer(), destinations.cpu().numpy())
        device = self.dst.device
        index = AttentionIndex(
            self.src[torch.from_numpy(taken).to(device)],
            torch.from_numpy(local).to(device),
            self.num_src,
            len(pointer) - 1,
        )
        index._pointer = pointer
        return index

    def compact(self) -> tuple[torch.Tensor | None, torch.Tensor | None, AttentionIndex]:
        """(sources with an edge, destinations with an edge, this index renumbered to them): only
        those nodes' rows enter the attention. None where every node has an edge (nothing to
        renumber)."""
        if self._compact is None:
            src_rows, src = _renumber(self.src, self.num_src)
            dst_rows, dst = _renumber(self.dst, self.num_dst)
            num_src = self.num_src if src_rows is None else len(src_rows)
            num_dst = self.num_dst if dst_rows is None else len(dst_rows)
            self._compact = (src_rows, dst_rows, AttentionIndex(src, dst, num_src, num_dst))
        return self._compact

    def pointer(self) -> np.ndarray:
        """Destination i's edges are ``pointer[i]:pointer[i + 1]`` (CSR row pointers)."""
        if self._pointer is None:
            self._pointer = np.zeros(self.num_dst + 1, np.int64)
            np.cumsum(np.bincount(self.dst.cpu().numpy(), minlength=self.num_dst), out=self._pointer[1:])
        return self._pointer

    def chunks(self, heads: int, channels: int) -> list[tuple[slice, int, int, torch.Tensor]]:
        """Runs of whole destination segments of about CHUNK_ELEMENTS (edges x heads x channels):
        (edge slice, first destination, number of destinations, destinations relative to the
        first). Whole segments let the softmax and its backward pass finish inside one chunk."""
        step = max(1, CHUNK_ELEMENTS // (heads * channels))
        if step not in self._chunks:
            dst = self.dst.cpu().numpy()
            starts = np.unique(np.searchsorted(dst, dst[np.arange(0, len(dst), step)], side="left"))
            stops = np.r_[starts[1:], len(dst)][: len(starts)]  # no edges: no chunks
            self._chunks[step] = [
                (
                    slice(int(a), int(b)),
                    int(dst[a]),
                    int(dst[b - 1] - dst[a] + 1),
                    self.dst[int(a) : int(b)] - int(dst[a]),
                )
                for a, b in zip(starts, stops, strict=True)
            ]
        return self._chunks[step]


def _renumber(ids: torch.Tensor, count: int) -> tuple[torch.Tensor | None, torch.Tensor]:
    """(the sorted distinct ``ids``, each id's position among them), or (None, ``ids``) when
    every id below ``count`` occurs (a mask and a cumulative sum: no sort)."""
    present = torch.zeros(count, dtype=torch.bool, device=ids.device)
    present[ids] = True
    if bool(present.all()):
        return None, ids
    return present.nonzero().flatten(), (present.cumsum(0) - 1)[ids]


def _head_dots(z: torch.Tensor, att: torch.Tensor) -> torch.Tensor:
    """(edges, heads * channels) x (heads, channels) -> (edges, heads): each head's dot products,
    one matrix-vector product per head (a GEMM with a few output columns is slow on a CPU;
    ``benchmarks/epoch_speed.py`` measures gat_cp)."""
    heads, channels = att.shape
    rows = z.view(len(z), heads, channels)
    return torch.stack([torch.mv(rows[:, head], att[head]) for head in range(heads)], dim=1)


class _GATv2Attention(torch.autograd.Function):
    """out[i, h] = sum_j alpha_ij^h x_src[j, h]; alpha^h = segment softmax of att^h . LeakyReLU(x_src[j, h] + x_dst[i,
    h]).

    Each chunk works in a few preallocated (edges x heads*channels) buffers that stay in cache
    (fresh tensors per operation cost several times more on a CPU than the arithmetic); gathers
    use ``index_select`` (several times faster than advanced indexing) and results are summed
    straight into the output rows with ``index_add_``.
    """

    @staticmethod
    def forward(
        ctx, x_src: torch.Tensor, x_dst: torch.Tensor, att: torch.Tensor, index: AttentionIndex
    ) -> torch.Tensor:
        heads, channels = att.shape
        width = heads * channels
        flat_src, flat_dst = x_src.reshape(-1, width), x_dst.reshape(-1, width)
        out = x_dst.new_zeros(index.num_dst, width)
        alpha = x_src.new_empty(len(index.src), heads)
        chunks = index.chunks(heads, channels)
        longest = max((part.stop - part.start for part, *_ in chunks), default=0)
        gathered_buffer, z_buffer = x_src.new_empty(2, longest, width)
        for part, first, count, local in chunks:
            size = part.stop - part.start
            gathered = torch.index_select(flat_src, 0, index.src[part], out=gathered_buffer[:size])
            z = torch.index_select(flat_dst, 0, index.dst[part], out=z_buffer[:size]).add_(gathered)
            logits = _head_dots(F.leaky_relu_(z, NEGATIVE_SLOPE), att)
            # Softmax within each destination (PyG's rule: shift by the maximum, +1e-16 in the sum).
            maximum = logits.new_full((count, heads), -math.inf).scatter_reduce_(
                0, local[:, None].expand_as(logits), logits, "amax"
            )
            weights = (logits - torch.index_select(maximum, 0, local)).exp_()
            sums = logits.new_zeros(count, heads).index_add_(0, local, weights)
            weights /= torch.index_select(sums, 0, local).add_(1e-16)
            alpha[part] = weights
            out[first : first + count].index_add_(
                0, local, gathered.view(size, heads, channels).mul_(weights[:, :, None]).view(size, width)
            )
        ctx.save_for_backward(x_src, x_dst, att, alpha)
        ctx.index = index
        return out.view(-1, heads, channels)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x_src, x_dst, att, alpha = ctx.saved_tensors
        index: AttentionIndex = ctx.index
        heads, channels = att.shape
        width = heads * channels
        flat_src, flat_dst, flat_grad = (
            x_src.reshape(-1, width),
            x_dst.reshape(-1, width),
            grad_out.reshape(-1, width).contiguous(),
        )
        grad_src, grad_dst = torch.zeros_like(flat_src), torch.zeros_like(flat_dst)
        grad_att = torch.zeros_like(att)
        chunks = index.chunks(heads, channels)
        longest = max((part.stop - part.start for part, *_ in chunks), default=0)
        gathered_buffer, upstream_buffer, z_buffer, work_buffer = x_src.new_empty(4, longest, width)
        for part, first, count, local in chunks:
            size = part.stop - part.start
            src, dst, weights = index.src[part], index.dst[part], alpha[part]
            gathered = torch.index_select(flat_src, 0, src, out=gathered_buffer[:size])
            upstream = torch.index_select(flat_grad, 0, dst, out=upstream_buffer[:size])
            work = work_buffer[:size]
            # Through the weighted sum, then the softmax (all of a destination's edges are here).
            weighted = weights * torch.mul(upstream, gathered, out=work).view(size, heads, channels).sum(-1)
            grad_logits = weighted - weights * weighted.new_zeros(count, heads).index_add_(0, local, weighted)[local]
            # Through the logits, recomputed.
            z = torch.index_select(flat_dst, 0, dst, out=z_buffer[:size]).add_(gathered)
            through_att = torch.mul(grad_logits[:, :, None], att, out=work.view(size, heads, channels)).view(
                size, width
            )
            grad_z = torch.ops.aten.leaky_relu_backward.grad_input(
                through_att, z, NEGATIVE_SLOPE, False, grad_input=work
            )
            activated = F.leaky_relu_(z, NEGATIVE_SLOPE).view(size, heads, channels)
            for head in range(heads):
                grad_att[head].addmv_(activated[:, head].T, grad_logits[:, head])
            grad_dst[first : first + count].index_add_(0, local, grad_z)
            grad_src.index_add_(
                0, src, grad_z.add_(upstream.view(size, heads, channels).mul_(weights[:, :, None]).view(size, width))
            )
        return grad_src.view_as(x_src), grad_dst.view_as(x_dst), grad_att, None


class _GATv2AttentionFused(torch.autograd.Function):
    """``_GATv2Attention`` averaged over the heads, on CPU tensors, through the fused loops of
    ``attention_kernels``: one pass over the edges each way instead of about twenty over (edges
    x heads x channels) buffers, and the same numbers up to the order of the channel sums (the
    average has the bits of torch's ``mean``)."""

    @staticmethod
    def forward(
        ctx, x_src: torch.Tensor, x_dst: torch.Tensor, att: torch.Tensor, index: AttentionIndex
    ) -> torch.Tensor:
        from motive.models import attention_kernels

        heads, channels = att.shape
        x_src, x_dst, att = (t.detach().contiguous() for t in (x_src, x_dst, att))
        out = x_dst.new_empty(index.num_dst, channels)  # the loops write every row
        alpha = x_src.new_empty(len(index.src), heads)
        dtype = x_src.numpy().dtype.type
        attention_kernels.forward(
            x_src.numpy(),
            x_dst.numpy(),
            att.numpy(),
            index.src.numpy(),
            index.pointer(),
            dtype(NEGATIVE_SLOPE),
            dtype(1e-16),
            out.numpy(),
            alpha.numpy(),
        )
        ctx.save_for_backward(x_src, x_dst, att, alpha)
        ctx.index = index
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        from motive.models import attention_kernels

        x_src, x_dst, att, alpha = ctx.saved_tensors
        index: AttentionIndex = ctx.index
        grad_src, grad_dst, grad_att = torch.zeros_like(x_src), torch.empty_like(x_dst), torch.zeros_like(att)
        attention_kernels.backward(
            grad_out.contiguous().numpy(),
            x_src.numpy(),
            x_dst.numpy(),
            att.numpy(),
            alpha.numpy(),
            index.src.numpy(),
            index.pointer(),
            x_src.numpy().dtype.type(NEGATIVE_SLOPE),
            grad_src.numpy(),
            grad_dst.numpy(),
            grad_att.numpy(),
        )
        return grad_src, grad_dst, grad_att, None


class GATv2(nn.Module):
    """out_i = mean_h( sum_j alpha_ij^h W_l^h x_j ) + b, alpha^h = softmax_j( a^h . LeakyReLU(W_l^h x_j + W_r^h x_i) ).

    Parameter names and initialisation follow PyG's ``GATv2Conv(..., concat=False,
    add_self_loops=False)`` so its weights load unchanged.
    """

    def __init__(self, in_src: int, in_dst: int, channels: int, heads: int):
        super().__init__()
        self.heads, self.channels = heads, channels
        self.lin_l = nn.Linear(in_src, heads * channels)
        self.lin_r = nn.Linear(in_dst, heads * channels)
        self.att = nn.Parameter(torch.empty(1, heads, channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        for linear in (self.lin_l, self.lin_r):
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
        bound = math.sqrt(6.0 / (heads + channels))  # PyG's glorot on the last two dimensions
        nn.init.uniform_(self.att, -bound, bound)

    def forward(self, x_src: torch.Tensor, x_dst: torch.Tensor, index: AttentionIndex) -> torch.Tensor:
        """Only nodes with an edge of ``index`` go through ``lin_l`` and ``lin_r`` (the others'
        rows are never read; a destination without edges gets the bias alone)."""
        src_rows, dst_rows, index = index.compact()
        x_l = self.lin_l(x_src if src_rows is None else torch.index_select(x_src, 0, src_rows)).view(
            -1, self.heads, self.channels
        )
        x_r = self.lin_r(x_dst if dst_rows is None else torch.index_select(x_dst, 0, dst_rows)).view(
            -1, self.heads, self.channels
        )
        if x_l.device.type == "cpu" and backend.fused_attention():
            out = _GATv2AttentionFused.apply(x_l, x_r, self.att[0], index)  # averaged over the heads
        else:
            out = _GATv2Attention.apply(x_l, x_r, self.att[0], index).mean(dim=1)
        if dst_rows is not None:
            out = out.new_zeros(len(x_dst), self.channels).index_copy(0, dst_rows, out)
        return out + self.bias
